//! The chain of join operators of one query (left-deep: the first input and each join's
//! result are the left side of the next join). A record of input 0 enters the first join on
//! the left; a record of input `i > 0` enters join `i - 1` on the right; what a join emits
//! goes on to the next one's left side, and the last join's rows go to the query's filter
//! and projection or aggregation. Stream records with a NULL value are ignored; a table's
//! tombstone deletes its key.

use crate::ast::SourceKind;
use crate::error::SqlError;
use crate::expr::{eval, Row, RowMeta};
use crate::operators::join_row::{JoinRow, Side};
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
