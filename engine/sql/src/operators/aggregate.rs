//! The grouped (optionally windowed) aggregation: per group key and window, the accumulators
//! of COUNT, SUM, AVG, MIN, MAX, COLLECT_LIST, COLLECT_SET, EARLIEST_BY_OFFSET,
//! LATEST_BY_OFFSET, COUNT_DISTINCT, TOPK and TOPKDISTINCT, updated per input row; every update emits the
//! group's new row (as ksqlDB does with `cache.max.bytes.buffering=0`; with EMIT FINAL, a
//! window's last row once it closes), stamped with the
//! largest input ROWTIME of the group. Rows with a NULL grouping key are skipped, records
//! later than window end + grace are dropped, HAVING turning false emits a tombstone. The
//! state is in memory and doubles as the materialization pull queries read; the groups changed
//! since the last [`Aggregate::take_changes`] are what the engine writes to the changelog.
//!
//! SESSION windows (Kafka Streams' `KStreamSessionWindowAggregate`): a record joins every
//! session of its group within the gap of its time (`end >= ts - gap`, `start <= ts + gap`);
//! they merge into one `[min start, max end]` session (accumulators merged, then the record
//! added), each replaced session going out as a tombstone of its windowed key (stamped with
//! its end) before the merged row (stamped with the merged end). A record whose merged session
//! ends before stream time - grace - gap is dropped. Windowed state whose window start (a
//! session's end) is RETENTION behind stream time is removed, so it no longer grows forever
//! and pull queries no longer see it.

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
    /// TOPK / TOPKDISTINCT: the largest values, largest first, at most k.
    Top(Vec<Value>),
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
            Acc::Top(l) => json!({ "top": vs(l) }),
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
            "top" => Acc::Top(state::values_from_json(x)?),
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
        "TOPK" | "TOPKDISTINCT" => Acc::Top(Vec::new()),
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
        (name, Acc::Top(l)) if !null => {
            if name == "TOPKDISTINCT" && l.contains(&arg) {
                return;
            }
            // Largest first; equal values keep their arrival order.
            let at = l
                .iter()
                .position(|v| v.sql_cmp(&arg) == Some(std::cmp::Ordering::Less))
                .unwrap_or(l.len());
            l.insert(at, arg);
            l.truncate(top_k(call));
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

/// Folds another session's accumulator into `acc` (ksqlDB's session merger): counts, sums
/// and averages add, lists append, MIN/MAX/*_BY_OFFSET take the other's value as an update.
fn merge(call: &AggCall, acc: &mut Acc, other: &Acc) {
    match (acc, other) {
        (Acc::Count(a), Acc::Count(b)) => *a += *b,
        (Acc::Avg(sum, n), Acc::Avg(s2, n2)) => {
            *sum += s2;
            *n += n2;
        }
        (acc, Acc::List(l) | Acc::Distinct(l) | Acc::Top(l)) => {
            for v in l {
                update(call, acc, v.clone());
            }
        }
        (acc, Acc::Sum(v) | Acc::MinMax(v) | Acc::ByOffset(v)) => update(call, acc, v.clone()),
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
        Acc::List(l) | Acc::Top(l) => Value::Array(l.clone()),
        Acc::Distinct(l) => Value::Bigint(l.len() as i64),
    }
}

/// TOPK's k: its second argument, an integer literal the planner checked.
fn top_k(call: &AggCall) -> usize {
    match call.args.get(1) {
        Some(Expr::Literal(crate::ast::Literal::Integer(k))) => (*k).max(0) as usize,
        _ => 0,
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

/// A group's state key: the group key's JSON text and the window start (0 unwindowed).
type Slot = (String, i64);

pub struct Aggregate {
    plan: AggregatePlan,
    select: Vec<Expr>,
    output: Vec<Column>,
    groups: BTreeMap<Slot, Entry>,
    /// Windowed groups by the stream time they expire at ([`window::expiry`]).
    expiry: BTreeSet<(i64, Slot)>,
    stream_time: i64,
    pub late_dropped: u64,
    /// Groups changed since the last [`Aggregate::take_changes`].
    dirty: BTreeSet<Slot>,
}

/// The output row of a group: SELECT over its keys and results, or (HAVING false, or
/// `delete`) a tombstone that sets only the key columns.
fn render(
    plan: &AggregatePlan,
    select: &[Expr],
    output: &[Column],
    keys: &[Value],
    accs: &[Acc],
    meta: RowMeta,
    delete: bool,
) -> Result<OutRow, SqlError> {
    let mut inter: Vec<Value> = keys.to_vec();
    inter.extend(accs.iter().map(result));
    let inter_row = Row {
        schema: &plan.inter_schema,
        values: &inter,
        meta,
    };
    let keep = !delete
        && match &plan.having {
            Some(h) => eval(h, &inter_row)? == Value::Bool(true),
            None => true,
        };
    let values = if keep {
        select
            .iter()
            .map(|e| eval(e, &inter_row))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        output
            .iter()
            .zip(select)
            .map(|(c, e)| {
                if c.kind == crate::catalog::ColumnKind::Key {
                    eval(e, &inter_row)
                } else {
                    Ok(Value::Null)
                }
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    Ok(OutRow {
        values,
        meta,
        tombstone: !keep,
    })
}

impl Aggregate {
    pub fn new(plan: AggregatePlan, select: Vec<Expr>, output: Vec<Column>) -> Self {
        Aggregate {
            plan,
            select,
            output,
            groups: BTreeMap::new(),
            expiry: BTreeSet::new(),
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
        let key_text =
            serde_json::Value::Array(keys.iter().map(Value::to_json).collect()).to_string();
        let mut out = Vec::new();
        let session_gap = self.plan.window.as_ref().and_then(window::session_gap_ms);
        if let Some(w) = &self.plan.window {
            self.stream_time = self.stream_time.max(meta.rowtime);
            if let Some(gap) = session_gap {
                // Windowed aggregations read streams only (the planner refuses tables).
                if !retract {
                    let grace = window::grace_ms(w);
                    out = self.session(keys, key_text, &args, meta, gap, grace)?;
                }
                return Ok(self.finish(out));
            }
        }
        let windows: Vec<Option<(i64, i64)>> = match &self.plan.window {
            Some(w) => {
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
        for w in windows {
            let slot = (key_text.clone(), w.map_or(0, |w| w.0));
            if !self.groups.contains_key(&slot) {
                if retract {
                    continue;
                }
                let entry = Entry {
                    keys: keys.clone(),
                    window: w,
                    accs: self.plan.calls.iter().map(init).collect(),
                    rowtime: i64::MIN,
                    last: None,
                    closed: false,
                };
                self.insert_group(slot.clone(), entry);
            }
            let Some(entry) = self.groups.get_mut(&slot) else {
                continue;
            };
            let calls = &self.plan.calls;
            for ((call, acc), arg) in calls.iter().zip(entry.accs.iter_mut()).zip(&args) {
                if retract {
                    undo(call, acc, arg.clone());
                } else {
                    update(call, acc, arg.clone());
                }
            }
            entry.rowtime = entry.rowtime.max(meta.rowtime);
            let out_meta = RowMeta {
                rowtime: entry.rowtime,
                partition: meta.partition,
                offset: meta.offset,
                window: w,
            };
            let row = render(
                &self.plan,
                &self.select,
                &self.output,
                &entry.keys,
                &entry.accs,
                out_meta,
                false,
            )?;
            entry.last = (!row.tombstone).then(|| row.clone());
            self.dirty.insert(slot);
            if !self.plan.emit_final {
                out.push(row);
            }
        }
        Ok(self.finish(out))
    }

    /// After a record: EMIT FINAL's closed windows join `out`, then state past retention goes.
    fn finish(&mut self, mut out: Vec<OutRow>) -> Vec<OutRow> {
        if self.plan.emit_final {
            out.extend(self.close_windows());
        }
        self.expire();
        out
    }

    /// A record of a SESSION-windowed aggregation (the stream time already includes it).
    fn session(
        &mut self,
        keys: Vec<Value>,
        key_text: String,
        args: &[Value],
        meta: RowMeta,
        gap: i64,
        grace: i64,
    ) -> Result<Vec<OutRow>, SqlError> {
        let ts = meta.rowtime;
        let close = self.stream_time.saturating_sub(grace).saturating_sub(gap);
        let earliest_end = ts.saturating_sub(gap);
        let found: Vec<Slot> = self
            .groups
            .range((key_text.clone(), i64::MIN)..=(key_text.clone(), ts.saturating_add(gap)))
            .filter(|(_, e)| e.window.is_some_and(|(_, end)| end >= earliest_end))
            .map(|(slot, _)| slot.clone())
            .collect();
        let merged = found
            .iter()
            .filter_map(|slot| self.groups.get(slot).and_then(|e| e.window))
            .fold((ts, ts), |(s, e), (s2, e2)| (s.min(s2), e.max(e2)));
        if merged.1 < close {
            self.late_dropped += 1;
            return Ok(vec![]);
        }
        let removed: Vec<Entry> = found
            .iter()
            .filter_map(|slot| self.remove_group(slot))
            .collect();
        let calls = &self.plan.calls;
        let mut accs: Vec<Acc> = calls.iter().map(init).collect();
        let mut out = Vec::new();
        for old in &removed {
            for ((call, acc), other) in calls.iter().zip(accs.iter_mut()).zip(&old.accs) {
                merge(call, acc, other);
            }
            // A session replaced by a different one: its windowed key is deleted.
            if merged != (ts, ts) && !self.plan.emit_final {
                let w = old.window.unwrap_or(merged);
                let old_meta = RowMeta {
                    rowtime: w.1,
                    window: Some(w),
                    ..meta
                };
                out.push(render(
                    &self.plan,
                    &self.select,
                    &self.output,
                    &old.keys,
                    &old.accs,
                    old_meta,
                    true,
                )?);
            }
        }
        for ((call, acc), arg) in calls.iter().zip(accs.iter_mut()).zip(args) {
            update(call, acc, arg.clone());
        }
        let out_meta = RowMeta {
            rowtime: merged.1,
            window: Some(merged),
            ..meta
        };
        let row = render(
            &self.plan,
            &self.select,
            &self.output,
            &keys,
            &accs,
            out_meta,
            false,
        )?;
        let entry = Entry {
            keys,
            window: Some(merged),
            accs,
            rowtime: merged.1,
            last: (!row.tombstone).then(|| row.clone()),
            closed: false,
        };
        self.insert_group((key_text, merged.0), entry);
        if !self.plan.emit_final {
            out.push(row);
        }
        Ok(out)
    }

    fn insert_group(&mut self, slot: Slot, entry: Entry) {
        if let (Some(w), Some(bounds)) = (&self.plan.window, entry.window) {
            self.expiry
                .insert((window::expiry(w, bounds), slot.clone()));
        }
        self.dirty.insert(slot.clone());
        self.groups.insert(slot, entry);
    }

    /// Takes a group (and window) out of the state: a session merged into another, or
    /// windowed state past retention. Every removal goes through here.
    fn remove_group(&mut self, slot: &Slot) -> Option<Entry> {
        let entry = self.groups.remove(slot)?;
        if let (Some(w), Some(bounds)) = (&self.plan.window, entry.window) {
            self.expiry
                .remove(&(window::expiry(w, bounds), slot.clone()));
        }
        self.dirty.insert(slot.clone());
        Some(entry)
    }

    /// Drops windowed state RETENTION behind stream time.
    fn expire(&mut self) {
        while let Some((at, slot)) = self.expiry.first().cloned() {
            if at > self.stream_time {
                break;
            }
            self.remove_group(&slot);
        }
    }

    /// EMIT FINAL: the rows of windows that closed (end + grace ≤ stream time; a session once
    /// end + gap + grace < stream time, or it leaves the store), once each, in window order.
    fn close_windows(&mut self) -> Vec<OutRow> {
        let Some(w) = &self.plan.window else {
            return vec![];
        };
        let grace = window::grace_ms(w);
        // A session stays open through end + gap + grace (its end is inclusive).
        let after_end = window::session_gap_ms(w)
            .map_or(grace, |gap| gap.saturating_add(grace).saturating_add(1));
        let now = self.stream_time;
        // A session with a retention of exactly gap + grace leaves the store as it closes:
        // it goes out then too.
        let mut closed: Vec<(&Slot, &mut Entry)> = self
            .groups
            .iter_mut()
            .filter(|(_, e)| {
                !e.closed
                    && e.window.is_some_and(|bounds| {
                        bounds.1.saturating_add(after_end) <= now
                            || window::expiry(w, bounds) <= now
                    })
            })
            .collect();
        closed.sort_by_key(|(_, e)| e.window.map(|w| (w.1, w.0)));
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
        let entry = match value.map(Entry::from_json) {
            Some(None) => return false,
            Some(Some(e)) => Some(e),
            None => None,
        };
        self.remove_group(&slot);
        if let Some(e) = entry {
            self.insert_group(slot.clone(), e);
        }
        // What came from the changelog needs no writing back.
        self.dirty.remove(&slot);
        true
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

#[cfg(test)]
mod tests {
    use crate::io::InRecord;
    use crate::operators::test_support::{pipeline_over, plan_over};
    use crate::operators::{OutRow, Pipeline};
    use crate::value::Value;

    const DDL: &str =
        "CREATE STREAM TEST (ID BIGINT KEY, V BIGINT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');";

    fn pipeline(query: &str) -> Pipeline {
        pipeline_over(&[DDL], query)
    }

    fn plan_error(query: &str) -> String {
        plan_error_over(DDL, query)
    }

    fn plan_error_over(ddl: &str, query: &str) -> String {
        plan_over(&[ddl], query)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    /// (key, window, rowtime, second column or None for a tombstone) of each output row.
    type Out = (i64, (i64, i64), i64, Option<Value>);

    fn feed(p: &mut Pipeline, key: i64, v: i64, ts: i64) -> Vec<Out> {
        let rec = InRecord {
            offset: 0,
            headers: Vec::new(),
            timestamp: ts,
            key: Some(key.to_be_bytes().to_vec().into()),
            value: Some(format!(r#"{{"V":{v}}}"#).into_bytes().into()),
        };
        p.process(0, &rec).unwrap().iter().map(out).collect()
    }

    fn out(r: &OutRow) -> Out {
        let Value::Bigint(k) = r.values[0] else {
            panic!("key {:?}", r.values[0])
        };
        (
            k,
            r.meta.window.unwrap(),
            r.meta.rowtime,
            (!r.tombstone).then(|| r.values[1].clone()),
        )
    }

    fn b(v: i64) -> Option<Value> {
        Some(Value::Bigint(v))
    }

    /// QTT session-windows "out of order - no grace period": merges delete the old session's
    /// windowed key (stamped with its end) before the merged row.
    #[test]
    fn session_merges_emit_tombstones_then_the_merged_row() {
        let mut p =
            pipeline("SELECT ID, MAX(V) AS M FROM TEST WINDOW SESSION (30 SECONDS) GROUP BY ID;");
        let mut all = Vec::new();
        for (k, v, ts) in [
            (0, 0, 0),
            (0, 1, 70_010),
            (0, 5, 10_009),
            (0, 6, 10_010),
            (1, 100, 10_009),
            (1, 101, 10_010),
            (1, 200, 86_412_022),
            (1, 200, 60_000),
        ] {
            all.extend(feed(&mut p, k, v, ts));
        }
        assert_eq!(
            all,
            vec![
                (0, (0, 0), 0, b(0)),
                (0, (70_010, 70_010), 70_010, b(1)),
                (0, (0, 0), 0, None),
                (0, (0, 10_009), 10_009, b(5)),
                (0, (0, 10_009), 10_009, None),
                (0, (0, 10_010), 10_010, b(6)),
                (1, (10_009, 10_009), 10_009, b(100)),
                (1, (10_009, 10_009), 10_009, None),
                (1, (10_009, 10_010), 10_010, b(101)),
                (1, (86_412_022, 86_412_022), 86_412_022, b(200)),
                (1, (60_000, 60_000), 60_000, b(200)),
            ]
        );
    }

    /// QTT session-windows "out of order - explicit grace period": a record is dropped when
    /// its merged session ends before stream time - grace - gap; sessions past retention
    /// (gap + grace) are gone, so a late record in time starts a new session.
    #[test]
    fn session_grace_drops_late_records_and_retention_forgets_old_sessions() {
        let mut p = pipeline(
            "SELECT ID, MAX(V) AS M FROM TEST WINDOW SESSION (30 SECONDS, GRACE PERIOD 1 MINUTE) GROUP BY ID;",
        );
        let mut all = Vec::new();
        for (k, v, ts) in [
            (0, 0, 0),
            (0, 1, 100_010),
            (0, 5, 10_009),
            (0, 6, 10_010),
            (1, 100, 10_009),
            (1, 101, 10_010),
            (1, 200, 86_412_022),
            (1, 200, 60_000),
        ] {
            all.extend(feed(&mut p, k, v, ts));
        }
        assert_eq!(
            all,
            vec![
                (0, (0, 0), 0, b(0)),
                (0, (100_010, 100_010), 100_010, b(1)),
                (0, (10_010, 10_010), 10_010, b(6)),
                (1, (10_010, 10_010), 10_010, b(101)),
                (1, (86_412_022, 86_412_022), 86_412_022, b(200)),
            ]
        );
        // Only the last session is within retention (90 s) of stream time.
        let rows = p.materialized().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].meta.window, Some((86_412_022, 86_412_022)));
    }

    #[test]
    fn a_record_bridging_two_sessions_merges_them() {
        let mut p = pipeline(
            "SELECT ID, COUNT(*) AS N, COLLECT_LIST(V) AS L, AVG(V) AS A FROM TEST WINDOW SESSION (30 SECONDS) GROUP BY ID;",
        );
        feed(&mut p, 7, 1, 0);
        feed(&mut p, 7, 2, 50_000);
        // Another key's session is untouched.
        feed(&mut p, 8, 9, 20_000);
        let out = feed(&mut p, 7, 3, 25_000);
        assert_eq!(
            out,
            vec![
                (7, (0, 0), 0, None),
                (7, (50_000, 50_000), 50_000, None),
                (7, (0, 50_000), 50_000, b(3)),
            ]
        );
        let rows = p.materialized().unwrap();
        assert_eq!(rows.len(), 2);
        let merged = rows
            .iter()
            .find(|r| r.values[0] == Value::Bigint(7))
            .unwrap();
        assert_eq!(
            merged.values[2],
            Value::Array(vec![Value::Bigint(1), Value::Bigint(2), Value::Bigint(3)])
        );
        assert_eq!(merged.values[3], Value::Double(2.0));
        // A record inside a session replaces its row (tombstone, then the same window).
        let out = feed(&mut p, 7, 4, 10_000);
        assert_eq!(
            out,
            vec![
                (7, (0, 50_000), 50_000, None),
                (7, (0, 50_000), 50_000, b(4))
            ]
        );
        // A record at the time of a one-record session updates it in place.
        feed(&mut p, 9, 1, 70_000);
        assert_eq!(
            feed(&mut p, 9, 1, 70_000),
            vec![(9, (70_000, 70_000), 70_000, b(2))]
        );
    }

    #[test]
    fn session_emit_final_emits_each_session_once_it_closes() {
        let mut p = pipeline(
            "SELECT ID, COUNT(*) AS N FROM TEST WINDOW SESSION (10 SECONDS, GRACE PERIOD 0 SECONDS) GROUP BY ID EMIT FINAL;",
        );
        assert!(feed(&mut p, 1, 0, 1_000).is_empty());
        assert!(feed(&mut p, 1, 0, 5_000).is_empty());
        // Open through end + gap + grace = 15 000 (inclusive)...
        assert!(feed(&mut p, 2, 0, 14_999).is_empty());
        // ...but its retention (gap + grace) ends there: it goes out as it leaves the store.
        assert_eq!(
            feed(&mut p, 2, 0, 15_000),
            vec![(1, (1_000, 5_000), 5_000, b(2))]
        );
        assert!(feed(&mut p, 2, 0, 20_000).is_empty());
        // With a longer retention it closes 1 ms after end + gap + grace.
        let mut p = pipeline(
            "SELECT ID, COUNT(*) AS N FROM TEST WINDOW SESSION (10 SECONDS, RETENTION 1 MINUTE, GRACE PERIOD 0 SECONDS) GROUP BY ID EMIT FINAL;",
        );
        assert!(feed(&mut p, 1, 0, 5_000).is_empty());
        assert!(feed(&mut p, 2, 0, 15_000).is_empty());
        assert_eq!(
            feed(&mut p, 2, 0, 15_001),
            vec![(1, (5_000, 5_000), 5_000, b(1))]
        );
    }

    #[test]
    fn retention_drops_old_windows_from_state_and_pull_queries() {
        let mut p = pipeline(
            "SELECT ID, COUNT(*) AS N FROM TEST WINDOW TUMBLING (SIZE 1 SECOND, RETENTION 3 SECONDS, GRACE PERIOD 0 SECONDS) GROUP BY ID;",
        );
        for ts in [0, 1_000, 2_000, 3_000] {
            feed(&mut p, 1, 0, ts);
        }
        // Stream time 3 000: the window starting at 0 is 3 s old, so gone.
        let starts: Vec<i64> = p
            .materialized()
            .unwrap()
            .iter()
            .map(|r| r.meta.window.unwrap().0)
            .collect();
        assert_eq!(starts, vec![1_000, 2_000, 3_000]);
        for ts in 4_000..1_004_000 {
            if ts % 1_000 == 0 {
                feed(&mut p, ts / 1_000 % 5, 0, ts);
            }
        }
        assert!(p.materialized().unwrap().len() <= 3 * 5);
        // The default retention is size + grace (24 h - size, as Kafka Streams' TimeWindows.of).
        let mut d = pipeline(
            "SELECT ID, COUNT(*) AS N FROM TEST WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY ID;",
        );
        feed(&mut d, 1, 0, 0);
        feed(&mut d, 1, 0, 24 * 3_600_000 - 1);
        assert_eq!(d.materialized().unwrap().len(), 2);
        feed(&mut d, 1, 0, 24 * 3_600_000);
        assert_eq!(d.materialized().unwrap().len(), 2);
    }

    #[test]
    fn retention_below_size_plus_grace_is_refused_as_kafka_streams_does() {
        assert_eq!(
            plan_error(
                "SELECT ID, COUNT(*) FROM TEST WINDOW TUMBLING (SIZE 1 MINUTE, RETENTION 1 HOUR) GROUP BY ID;"
            ),
            "The retention period of the window store Aggregate-Aggregate-Materialize must be no smaller than its window size plus the grace period. Got size=[60000], grace=[86340000], retention=[3600000]"
        );
        assert_eq!(
            plan_error(
                "SELECT ID, COUNT(*) FROM TEST WINDOW SESSION (1 MINUTE, RETENTION 1 MINUTE, GRACE PERIOD 1 SECOND) GROUP BY ID;"
            ),
            "The retention period of the session store Aggregate-Aggregate-Materialize must be no smaller than the session inactivity gap plus the grace period. Got gap=[60000], grace=[1000], retention=[60000]"
        );
        assert_eq!(
            plan_error(
                "SELECT ID, COUNT(*) FROM TEST WINDOW HOPPING (SIZE 1 MINUTE, ADVANCE BY 10 SECONDS, RETENTION 2 MINUTES, GRACE PERIOD 1 MINUTE) GROUP BY ID;"
            ),
            ""
        );
        assert_eq!(
            plan_error_over(
                "CREATE TABLE T (ID BIGINT PRIMARY KEY, V BIGINT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');",
                "SELECT V, COUNT(*) FROM T WINDOW SESSION (1 MINUTE) GROUP BY V;"
            ),
            "Windowing not supported for table aggregations."
        );
    }

    #[test]
    fn topk_keeps_the_largest_values_largest_first() {
        let mut p = pipeline(
            "SELECT ID, TOPK(V, 3) AS T, TOPKDISTINCT(V, 2) AS D FROM TEST GROUP BY ID EMIT CHANGES;",
        );
        let arr = |vs: &[i64]| Value::Array(vs.iter().map(|v| Value::Bigint(*v)).collect());
        let mut last = Vec::new();
        for v in [5, 1, 9, 9, 3, 7] {
            let rec = InRecord {
                offset: 0,
                headers: Vec::new(),
                timestamp: 1,
                key: Some(1i64.to_be_bytes().to_vec().into()),
                value: Some(format!(r#"{{"V":{v}}}"#).into_bytes().into()),
            };
            last = p.process(0, &rec).unwrap();
        }
        assert_eq!(last[0].values[1], arr(&[9, 9, 7]));
        assert_eq!(last[0].values[2], arr(&[9, 7]));
        assert!(
            plan_error("SELECT ID, TOPK(V) FROM TEST GROUP BY ID EMIT CHANGES;")
                .contains("takes a column and an INT literal")
        );
        assert!(
            plan_error("SELECT ID, TOPK(V, 0) FROM TEST GROUP BY ID EMIT CHANGES;")
                .contains("k must be a positive integer")
        );
        let table = "CREATE TABLE TT (ID BIGINT PRIMARY KEY, V BIGINT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');";
        assert_eq!(
            plan_error_over(table, "SELECT V, TOPK(ID, 2) FROM TT GROUP BY V EMIT CHANGES;"),
            "The aggregation functions TOPK cannot be applied to a table source, only to a stream source."
        );
    }
}
