//! The chain of join operators of one query (left-deep: the first input and each join's
//! result are the left side of the next join). A record of input 0 enters the first join on
//! the left; a record of input `i > 0` enters join `i - 1` on the right; what a join emits
//! goes on to the next one's left side, and the last join's rows go to the query's filter
//! and projection or aggregation. Stream records with a NULL value are ignored; a table's
//! tombstone deletes its key.
//!
//! Each join's state lives in the stores ksqlDB 0.29 (Kafka Streams 7.x) gives it, whose
//! changelog topics are `_confluent-ksql-<service>query_<ID>-<store>-changelog`: a
//! stream-stream join has two window stores named after its `Join` node
//! (`Join-this-join-store` and `Join-other-join-store`; an outer side's store is
//! `Join-outer-this-join-store` / `Join-outer-other-join-store`) and, with a grace period,
//! the outer records waiting for their window in `Join-left-shared-join-store` (LEFT, RIGHT)
//! or `Join-outer-shared-join-store` (FULL); a table side is materialized in
//! `KafkaTopic_Right-Reduce` (`KafkaTopic_Left-Reduce` for the left table of a table-table
//! join). In a chain of joins the inner ones are prefixed `L_` once per level, as ksqlDB
//! names the left child of a join node (`L_Join-this-join-store`, `KafkaTopic_L_Right-Reduce`);
//! the left table of a later table-table join (the earlier join's result) is kept in
//! `<L_…>Join-Reduce`. [`Joins::store_of`] maps a changelog key to its store.

use serde_json::{json, Value as Json};

use crate::ast::{JoinKind, SourceKind};
use crate::error::SqlError;
use crate::expr::{eval, Row, RowMeta};
use crate::operators::join_row::{JoinRow, Side};
use crate::operators::state::StateKey;
use crate::operators::stream_stream_join::StreamStreamJoin;
use crate::operators::stream_table_join::StreamTableJoin;
use crate::operators::table_table_join::TableTableJoin;
use crate::plan_join::{JoinOp, JoinPlan};
use crate::value::Value;

enum Op {
    StreamStream(StreamStreamJoin),
    StreamTable(StreamTableJoin),
    TableTable(TableTableJoin),
}

/// Which of a join's stores: a side's (0 left, 1 right) or the outer records' shared one.
enum Store {
    Side(u8),
    Shared,
}

pub struct Joins {
    pub plan: JoinPlan,
    ops: Vec<Op>,
}

impl Joins {
    pub fn new(plan: JoinPlan) -> Self {
        let ops = plan
            .steps
            .iter()
            .map(|s| match s.op {
                JoinOp::StreamStream {
                    before,
                    after,
                    grace,
                } => Op::StreamStream(StreamStreamJoin::new(s.kind, before, after, grace)),
                JoinOp::StreamTable => Op::StreamTable(StreamTableJoin::new(s.kind)),
                JoinOp::TableTable => Op::TableTable(TableTableJoin::new(s.kind)),
            })
            .collect();
        Joins { plan, ops }
    }

    /// ksqlDB's context prefix of join step `step`: `L_` once per join above it.
    fn context(&self, step: usize) -> String {
        "L_".repeat(self.ops.len().saturating_sub(step + 1))
    }

    /// The name of the store holding `key`, or None when the key is no join state.
    pub fn store_of(&self, key: &StateKey) -> Option<String> {
        let (step, store) = match key {
            StateKey::JoinWindow(step, side, ..) => (*step, Store::Side(*side)),
            StateKey::JoinPending(step, ..) => (*step, Store::Shared),
            StateKey::JoinTable(step, side, _) => (*step, Store::Side(*side)),
            _ => return None,
        };
        let p = self.context(step);
        Some(match (self.ops.get(step)?, store) {
            (Op::StreamStream(j), store) => {
                let (this, other, shared) = match j.kind() {
                    JoinKind::Inner => ("this-join-store", "other-join-store", ""),
                    JoinKind::Left => (
                        "this-join-store",
                        "outer-other-join-store",
                        "left-shared-join-store",
                    ),
                    // ksqlDB runs a RIGHT join as the right input's LEFT join.
                    JoinKind::Right => (
                        "outer-other-join-store",
                        "this-join-store",
                        "left-shared-join-store",
                    ),
                    JoinKind::Full => (
                        "outer-this-join-store",
                        "outer-other-join-store",
                        "outer-shared-join-store",
                    ),
                };
                let name = match store {
                    Store::Side(0) => this,
                    Store::Side(_) => other,
                    Store::Shared => shared,
                };
                if name.is_empty() {
                    return None;
                }
                format!("{p}Join-{name}")
            }
            (Op::StreamTable(_), Store::Side(1)) => format!("KafkaTopic_{p}Right-Reduce"),
            (Op::TableTable(_), Store::Side(1)) => format!("KafkaTopic_{p}Right-Reduce"),
            (Op::TableTable(_), Store::Side(0)) if step == 0 => {
                format!("KafkaTopic_{p}Left-Reduce")
            }
            (Op::TableTable(_), Store::Side(0)) => format!("{}Join-Reduce", self.context(step - 1)),
            _ => return None,
        })
    }

    /// Every store of the joins, in step order.
    pub fn stores(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (step, op) in self.ops.iter().enumerate() {
            let keys = match op {
                Op::StreamStream(j) => {
                    let mut k = vec![
                        StateKey::JoinWindow(step, 0, String::new(), 0, 0),
                        StateKey::JoinWindow(step, 1, String::new(), 0, 0),
                    ];
                    if j.waits() {
                        k.push(StateKey::JoinPending(step, 0, String::new(), 0));
                    }
                    k
                }
                Op::StreamTable(_) => vec![StateKey::JoinTable(step, 1, String::new())],
                Op::TableTable(_) => vec![
                    StateKey::JoinTable(step, 0, String::new()),
                    StateKey::JoinTable(step, 1, String::new()),
                ],
            };
            for k in keys {
                if let Some(name) = self.store_of(&k) {
                    if !out.contains(&name) {
                        out.push(name);
                    }
                }
            }
        }
        out
    }

    /// The state changed since the last call, as changelog keys and values (None: removed).
    pub fn take_changes(&mut self) -> Vec<(StateKey, Option<Json>)> {
        let mut out = Vec::new();
        for (step, op) in self.ops.iter_mut().enumerate() {
            out.extend(match op {
                Op::StreamStream(j) => j.take_changes(step),
                Op::StreamTable(j) => j.take_changes(step),
                Op::TableTable(j) => j.take_changes(step),
            });
        }
        out
    }

    pub fn mark_all_dirty(&mut self) {
        for op in &mut self.ops {
            match op {
                Op::StreamStream(j) => j.mark_all_dirty(),
                Op::StreamTable(j) => j.mark_all_dirty(),
                Op::TableTable(j) => j.mark_all_dirty(),
            }
        }
    }

    fn op_of(&mut self, key: &StateKey) -> Option<&mut Op> {
        let step = match key {
            StateKey::JoinWindow(step, ..)
            | StateKey::JoinPending(step, ..)
            | StateKey::JoinTable(step, ..) => *step,
            _ => return None,
        };
        self.ops.get_mut(step)
    }

    pub fn mark_dirty(&mut self, key: &StateKey) {
        match self.op_of(key) {
            Some(Op::StreamStream(j)) => j.mark_dirty(key),
            Some(Op::StreamTable(j)) => j.mark_dirty(key),
            Some(Op::TableTable(j)) => j.mark_dirty(key),
            None => {}
        }
    }

    /// Puts one changelog record back; false when it is no join state or does not decode.
    pub fn restore(&mut self, key: &StateKey, value: Option<&Json>) -> bool {
        match self.op_of(key) {
            Some(Op::StreamStream(j)) => j.restore(key, value),
            Some(Op::StreamTable(j)) => j.restore(key, value),
            Some(Op::TableTable(j)) => j.restore(key, value),
            None => false,
        }
    }

    /// The joins' clocks (the stream-stream joins' times and sequence numbers), by step.
    pub fn counters(&self) -> Json {
        Json::Array(
            self.ops
                .iter()
                .map(|op| match op {
                    Op::StreamStream(j) => j.counters(),
                    _ => json!(null),
                })
                .collect(),
        )
    }

    pub fn restore_counters(&mut self, j: &Json) {
        for (step, op) in self.ops.iter_mut().enumerate() {
            if let (Op::StreamStream(s), Some(c)) = (op, j.get(step)) {
                s.restore_counters(c);
            }
        }
    }

    fn key(&self, e: &crate::ast::Expr, r: &JoinRow) -> Value {
        eval(
            e,
            &Row {
                schema: &self.plan.schema,
                values: &r.values,
                meta: r.meta,
            },
        )
        .unwrap_or(Value::Null)
    }

    /// A decoded record of `input` (`values` in its source's column order); `null_value`:
    /// the record had no value. Returns the rows of the whole join.
    pub fn process(
        &mut self,
        input: usize,
        values: Vec<Value>,
        meta: RowMeta,
        null_value: bool,
    ) -> Result<Vec<JoinRow>, SqlError> {
        let inp = &self.plan.inputs[input];
        let table = inp.source.kind == SourceKind::Table;
        if null_value && !table {
            return Ok(vec![]);
        }
        let mut row = JoinRow {
            values: vec![Value::Null; self.plan.schema.len()],
            meta,
            tombstone: null_value,
        };
        let n = values.len();
        for (j, v) in values.into_iter().enumerate() {
            row.values[inp.offset + j] = v;
        }
        row.values[inp.offset + n] = Value::Bigint(meta.rowtime);
        row.values[inp.offset + n + 1] = Value::Int(meta.partition);
        row.values[inp.offset + n + 2] = Value::Bigint(meta.offset);
        let (mut rows, first) = if input == 0 {
            (vec![row], 0)
        } else {
            let step = input - 1;
            let key = self.key(&self.plan.steps[step].right_key, &row);
            let out = match &mut self.ops[step] {
                Op::StreamStream(j) => j.process(Side::Right, &key, row),
                Op::StreamTable(j) => {
                    j.table(&key, row);
                    vec![]
                }
                Op::TableTable(j) => j.process(Side::Right, &key, row),
            };
            (out, input)
        };
        for step in first..self.ops.len() {
            let mut next = Vec::new();
            for r in rows {
                let key = if r.tombstone && !r.values[0].is_null() {
                    r.values[0].clone()
                } else {
                    self.key(&self.plan.steps[step].left_key, &r)
                };
                next.extend(match &mut self.ops[step] {
                    Op::StreamStream(j) => j.process(Side::Left, &key, r),
                    Op::StreamTable(j) => j.stream(&key, r),
                    Op::TableTable(j) => j.process(Side::Left, &key, r),
                });
            }
            rows = next;
        }
        Ok(rows)
    }
}
