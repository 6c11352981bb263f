//! The grouped (optionally windowed) aggregation: per group key and window, the accumulators
//! of COUNT, SUM, AVG, MIN, MAX, COLLECT_LIST, COLLECT_SET, EARLIEST_BY_OFFSET,
//! LATEST_BY_OFFSET and COUNT_DISTINCT, updated per input row; every update emits the
//! group's new row (as ksqlDB does with `cache.max.bytes.buffering=0`; with EMIT FINAL, a
//! window's last row once it closes), stamped with the
//! largest input ROWTIME of the group. Rows with a NULL grouping key are skipped, records
//! later than window end + grace are dropped, HAVING turning false emits a tombstone. The
//! state is in memory and doubles as the materialization pull queries read; the groups changed
//! since the last [`Aggregate::take_changes`] are what the engine writes to the changelog.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value as Json};

use crate::ast::Expr;
use crate::catalog::Column;
use crate::error::SqlError;
use crate::expr::{eval, Row, RowMeta};
use crate::operators::{state, window, OutRow};
use crate::plan::{AggCall, AggregatePlan};
use crate::value::Value;

/// `ksql.functions.collect_list.limit` / `collect_set.limit` default.
const COLLECT_LIMIT: usize = 1000;

#[derive(Debug, Clone)]
enum Acc {
    Count(i64),
    Sum(Value),
    Avg(f64, i64),
    MinMax(Value),
    List(Vec<Value>),
    Distinct(Vec<Value>),
    ByOffset(Value),
}

impl Acc {
    fn to_json(&self) -> Json {
        let vs = |l: &[Value]| state::values_to_json(l);
        match self {
            Acc::Count(n) => json!({ "count": n }),
            Acc::Sum(v) => json!({ "sum": state::value_to_json(v) }),
            Acc::Avg(s, n) => json!({ "avg": [state::value_to_json(&Value::Double(*s)), n] }),
            Acc::MinMax(v) => json!({ "minmax": state::value_to_json(v) }),
            Acc::List(l) => json!({ "list": vs(l) }),
            Acc::Distinct(l) => json!({ "distinct": vs(l) }),
            Acc::ByOffset(v) => json!({ "byoffset": state::value_to_json(v) }),
        }
    }

    fn from_json(j: &Json) -> Option<Acc> {
        let (tag, x) = j.as_object()?.iter().next()?;
        Some(match tag.as_str() {
            "count" => Acc::Count(x.as_i64()?),
            "sum" => Acc::Sum(state::value_from_json(x)?),
            "avg" => {
                let Value::Double(s) = state::value_from_json(x.get(0)?)? else {
                    return None;
                };
                Acc::Avg(s, x.get(1)?.as_i64()?)
            }
            "minmax" => Acc::MinMax(state::value_from_json(x)?),
            "list" => Acc::List(state::values_from_json(x)?),
            "distinct" => Acc::Distinct(state::values_from_json(x)?),
            "byoffset" => Acc::ByOffset(state::value_from_json(x)?),
            _ => return None,
        })
    }
}

fn init(call: &AggCall) -> Acc {
    match call.name.as_str() {
        "COUNT" => Acc::Count(0),
        "SUM" => Acc::Sum(match call.arg_type {
            Some(crate::ast::SqlType::Int) => Value::Int(0),
            Some(crate::ast::SqlType::Bigint) => Value::Bigint(0),
            Some(crate::ast::SqlType::Decimal { scale, .. }) => {
                Value::Decimal(crate::decimal::Decimal::new(0, scale))
            }
            _ => Value::Double(0.0),
        }),
        "AVG" => Acc::Avg(0.0, 0),
        "MIN" | "MAX" => Acc::MinMax(Value::Null),
        "COLLECT_LIST" | "COLLECT_SET" => Acc::List(Vec::new()),
        "COUNT_DISTINCT" => Acc::Distinct(Vec::new()),
        _ => Acc::ByOffset(Value::Null),
    }
}

fn update(call: &AggCall, acc: &mut Acc, arg: Value) {
    let null = arg.is_null();
    match (call.name.as_str(), acc) {
        ("COUNT", Acc::Count(n)) if call.star || !null => *n += 1,
        (_, Acc::Sum(s)) if !null => {
            *s = match (&*s, &arg) {
                (Value::Int(a), Value::Int(b)) => Value::Int(a.wrapping_add(*b)),
                (Value::Bigint(a), b) => Value::Bigint(a.wrapping_add(b.as_i64().unwrap_or(0))),
                (Value::Decimal(a), b) => b
                    .as_decimal()
                    .and_then(|b| a.add(&b))
                    .map_or(Value::Null, Value::Decimal),
                (a, b) => Value::Double(a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0)),
            }
        }
        (_, Acc::Avg(sum, n)) => {
            if let Some(x) = arg.as_f64() {
                *sum += x;
                *n += 1;
            }
        }
        (name, Acc::MinMax(m)) if !null => {
            let replace = match m.sql_cmp(&arg) {
                None => m.is_null(),
                Some(o) => {
                    (name == "MIN" && o == std::cmp::Ordering::Greater)
                        || (name == "MAX" && o == std::cmp::Ordering::Less)
                }
            };
            if replace {
                *m = arg;
            }
        }
        (name, Acc::List(l))
            if l.len() < COLLECT_LIMIT && (name == "COLLECT_LIST" || !l.contains(&arg)) =>
        {
            l.push(arg)
        }
        (_, Acc::Distinct(l)) if !null && !l.contains(&arg) => l.push(arg),
        (name, Acc::ByOffset(v)) if !null && (name == "LATEST_BY_OFFSET" || v.is_null()) => {
            *v = arg
        }
        _ => {}
    }
}

/// Removes one input value's contribution (a table row replaced or deleted). Only the
/// functions ksqlDB allows on table sources can be undone.
fn undo(call: &AggCall, acc: &mut Acc, arg: Value) {
    let null = arg.is_null();
    match (call.name.as_str(), acc) {
        ("COUNT", Acc::Count(n)) if call.star || !null => *n -= 1,
        (_, Acc::Sum(s)) if !null => {
            *s = match (&*s, &arg) {
                (Value::Int(a), Value::Int(b)) => Value::Int(a.wrapping_sub(*b)),
                (Value::Bigint(a), b) => Value::Bigint(a.wrapping_sub(b.as_i64().unwrap_or(0))),
                (Value::Decimal(a), b) => b
                    .as_decimal()
                    .and_then(|b| a.sub(&b))
                    .map_or(Value::Null, Value::Decimal),
                (a, b) => Value::Double(a.as_f64().unwrap_or(0.0) - b.as_f64().unwrap_or(0.0)),
            }
        }
        (_, Acc::Avg(sum, n)) => {
            if let Some(x) = arg.as_f64() {
                *sum -= x;
                *n -= 1;
            }
        }
        (_, Acc::List(l)) => {
            if let Some(i) = l.iter().position(|v| *v == arg) {
                l.remove(i);
            }
        }
        _ => {}
    }
}

fn result(acc: &Acc) -> Value {
    match acc {
        Acc::Count(n) => Value::Bigint(*n),
        Acc::Sum(v) | Acc::MinMax(v) | Acc::ByOffset(v) => v.clone(),
        Acc::Avg(s, n) => {
            if *n == 0 {
                Value::Null
            } else {
                Value::Double(s / *n as f64)
            }
        }
        Acc::List(l) => Value::Array(l.clone()),
        Acc::Distinct(l) => Value::Bigint(l.len() as i64),
    }
}

struct Entry {
    keys: Vec<Value>,
    window: Option<(i64, i64)>,
    accs: Vec<Acc>,
    rowtime: i64,
    last: Option<OutRow>,
    /// EMIT FINAL: the window's row went out already.
    closed: bool,
}

impl Entry {
    fn to_json(&self) -> Json {
        json!({
            "keys": state::values_to_json(&self.keys),
            "window": self.window.map(|(s, e)| [s, e]),
            "accs": self.accs.iter().map(Acc::to_json).collect::<Vec<_>>(),
            "rowtime": self.rowtime,
            "last": self.last.as_ref().map(state::row_to_json),
            "closed": self.closed,
        })
    }

    fn from_json(j: &Json) -> Option<Entry> {
        Some(Entry {
            keys: state::values_from_json(&j["keys"])?,
            window: match &j["window"] {
                Json::Null => None,
                w => Some((w.get(0)?.as_i64()?, w.get(1)?.as_i64()?)),
            },
            accs: j["accs"]
                .as_array()?
                .iter()
                .map(Acc::from_json)
                .collect::<Option<_>>()?,
            rowtime: j["rowtime"].as_i64()?,
            last: match &j["last"] {
                Json::Null => None,
                r => Some(state::row_from_json(r)?),
            },
            closed: j["closed"].as_bool()?,
        })
    }
}

pub struct Aggregate {
    plan: AggregatePlan,
    select: Vec<Expr>,
    output: Vec<Column>,
    groups: BTreeMap<(String, i64), Entry>,
    stream_time: i64,
    pub late_dropped: u64,
    /// Groups changed since the last [`Aggregate::take_changes`].
    dirty: BTreeSet<(String, i64)>,
}

impl Aggregate {
    pub fn new(plan: AggregatePlan, select: Vec<Expr>, output: Vec<Column>) -> Self {
        Aggregate {
            plan,
            select,
            output,
            groups: BTreeMap::new(),
            stream_time: i64::MIN,
            late_dropped: 0,
            dirty: BTreeSet::new(),
        }
    }

    pub fn process(
        &mut self,
        schema: &[Column],
        values: &[Value],
        meta: RowMeta,
    ) -> Result<Vec<OutRow>, SqlError> {
        self.apply(schema, values, meta, false)
    }

    /// Takes a previous table row out of its group (table sources), emitting the group's row.
    pub fn retract(
        &mut self,
        schema: &[Column],
        values: &[Value],
        meta: RowMeta,
    ) -> Result<Vec<OutRow>, SqlError> {
        self.apply(schema, values, meta, true)
    }

    fn apply(
        &mut self,
        schema: &[Column],
        values: &[Value],
        meta: RowMeta,
        retract: bool,
    ) -> Result<Vec<OutRow>, SqlError> {
        let row = Row {
            schema,
            values,
            meta,
        };
        let keys = self
            .plan
            .group_by
            .iter()
            .map(|g| eval(g, &row))
            .collect::<Result<Vec<_>, _>>()?;
        if keys.iter().any(Value::is_null) {
            return Ok(vec![]);
        }
        let args = self
            .plan
            .calls
            .iter()
            .map(|c| match c.args.first() {
                Some(a) if !c.star => eval(a, &row),
                _ => Ok(Value::Null),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let windows: Vec<Option<(i64, i64)>> = match &self.plan.window {
            Some(w) => {
                self.stream_time = self.stream_time.max(meta.rowtime);
                let grace = window::grace_ms(w);
                let all = window::assign(w, meta.rowtime)?;
                let open: Vec<_> = all
                    .into_iter()
                    .filter(|(_, end)| end.saturating_add(grace) > self.stream_time)
                    .map(Some)
                    .collect();
                if open.is_empty() {
                    self.late_dropped += 1;
                }
                open
            }
            None => vec![None],
        };
        let key_text =
            serde_json::Value::Array(keys.iter().map(Value::to_json).collect()).to_string();
        let mut out = Vec::new();
        for w in windows {
            let slot = (key_text.clone(), w.map_or(0, |w| w.0));
            let calls = &self.plan.calls;
            if retract && !self.groups.contains_key(&slot) {
                continue;
            }
            let entry = self.groups.entry(slot.clone()).or_insert_with(|| Entry {
                keys: keys.clone(),
                window: w,
                accs: calls.iter().map(init).collect(),
                rowtime: i64::MIN,
                last: None,
                closed: false,
            });
            for ((call, acc), arg) in calls.iter().zip(entry.accs.iter_mut()).zip(&args) {
                if retract {
                    undo(call, acc, arg.clone());
                } else {
                    update(call, acc, arg.clone());
                }
            }
            entry.rowtime = entry.rowtime.max(meta.rowtime);
            let mut inter: Vec<Value> = entry.keys.clone();
            inter.extend(entry.accs.iter().map(result));
            let out_meta = RowMeta {
                rowtime: entry.rowtime,
                partition: meta.partition,
                offset: meta.offset,
                window: w,
            };
            let inter_row = Row {
                schema: &self.plan.inter_schema,
                values: &inter,
                meta: out_meta,
            };
            let keep = match &self.plan.having {
                Some(h) => eval(h, &inter_row)? == Value::Bool(true),
                None => true,
            };
            let values = if keep {
                self.select
                    .iter()
                    .map(|e| eval(e, &inter_row))
                    .collect::<Result<Vec<_>, _>>()?
            } else {
                self.output
                    .iter()
                    .zip(&self.select)
                    .map(|(c, e)| {
                        if c.kind == crate::catalog::ColumnKind::Key {
                            eval(e, &inter_row)
                        } else {
                            Ok(Value::Null)
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?
            };
            let row = OutRow {
                values,
                meta: out_meta,
                tombstone: !keep,
            };
            entry.last = if keep { Some(row.clone()) } else { None };
            self.dirty.insert(slot);
            if !self.plan.emit_final {
                out.push(row);
            }
        }
        if self.plan.emit_final {
            out.extend(self.close_windows());
        }
        Ok(out)
    }

    /// EMIT FINAL: the rows of windows that closed (end + grace ≤ stream time), once each,
    /// in window order.
    fn close_windows(&mut self) -> Vec<OutRow> {
        let Some(w) = &self.plan.window else {
            return vec![];
        };
        let grace = window::grace_ms(w);
        let now = self.stream_time;
        let mut closed: Vec<(&(String, i64), &mut Entry)> = self
            .groups
            .iter_mut()
            .filter(|(_, e)| {
                !e.closed
                    && e.window
                        .is_some_and(|(_, end)| end.saturating_add(grace) <= now)
            })
            .collect();
        closed.sort_by_key(|(_, e)| e.window.map(|w| w.0));
        let mut out = Vec::new();
        for (slot, e) in closed {
            e.closed = true;
            self.dirty.insert(slot.clone());
            out.extend(e.last.clone());
        }
        out
    }

    /// The groups changed since the last call, as changelog keys and values (None: removed).
    pub fn take_changes(&mut self) -> Vec<(state::StateKey, Option<Json>)> {
        std::mem::take(&mut self.dirty)
            .into_iter()
            .map(|slot| {
                let v = self.groups.get(&slot).map(Entry::to_json);
                (state::StateKey::Group(slot.0, slot.1), v)
            })
            .collect()
    }

    pub fn mark_dirty(&mut self, key: String, window: i64) {
        self.dirty.insert((key, window));
    }

    /// Counts every group as changed (the next [`Aggregate::take_changes`] is a snapshot).
    pub fn mark_all_dirty(&mut self) {
        self.dirty = self.groups.keys().cloned().collect();
    }

    /// Puts one group back from its changelog value (None: removes it). False when the value
    /// does not decode.
    pub fn restore_group(&mut self, key: String, window: i64, value: Option<&Json>) -> bool {
        let slot = (key, window);
        match value {
            None => {
                self.groups.remove(&slot);
                true
            }
            Some(v) => match Entry::from_json(v) {
                Some(e) => {
                    self.groups.insert(slot, e);
                    true
                }
                None => false,
            },
        }
    }

    /// Stream time and the late-record count (kept in the changelog's commit marker).
    pub fn counters(&self) -> Json {
        json!({ "stream_time": self.stream_time, "late_dropped": self.late_dropped })
    }

    pub fn restore_counters(&mut self, j: &Json) {
        if let Some(t) = j["stream_time"].as_i64() {
            self.stream_time = t;
        }
        if let Some(n) = j["late_dropped"].as_u64() {
            self.late_dropped = n;
        }
    }

    /// The current row of every group (and window) that has one, in key order.
    pub fn rows(&self) -> Vec<OutRow> {
        self.groups
            .values()
            .filter_map(|e| e.last.clone())
            .collect()
    }

    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Window bounds of a group (for tests and DESCRIBE).
    pub fn windows(&self) -> Vec<Option<(i64, i64)>> {
        self.groups.values().map(|e| e.window).collect()
    }
}
