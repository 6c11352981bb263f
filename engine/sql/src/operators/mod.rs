//! The streaming operators, one per file, and [`Pipeline`], which chains them for one plan:
//! source decode → filter → project, or → window assign → aggregate; the sink encoder turns
//! output rows into records. Operators are synchronous and pure over their own state; the
//! engine feeds them records and writes what they return.

pub mod aggregate;
pub mod filter;
pub mod project;
pub mod sink;
pub mod source;
pub mod window;

use crate::error::SqlError;
use crate::expr::RowMeta;
use crate::io::InRecord;
use crate::plan::{Body, Plan};
use crate::value::Value;

/// One output row: values aligned with the plan's output schema, or a tombstone for `keys`.
#[derive(Debug, Clone, PartialEq)]
pub struct OutRow {
    pub values: Vec<Value>,
    pub meta: RowMeta,
    /// A deleted table row (HAVING no longer holds): only its key columns are set.
    pub tombstone: bool,
}

/// A plan's operators with their state.
pub struct Pipeline {
    pub plan: Plan,
    filter: filter::Filter,
    stage: Stage,
    /// Records that did not decode (ksqlDB logs and skips them).
    pub skipped: u64,
    pub processed: u64,
}

enum Stage {
    Project(project::Project),
    Aggregate(Box<aggregate::Aggregate>),
}

impl Pipeline {
    pub fn new(plan: Plan) -> Self {
        let filter = filter::Filter::new(plan.filter.clone());
        let stage =
            match &plan.body {
                Body::Project(exprs) => Stage::Project(project::Project::new(exprs.clone())),
                Body::Aggregate(agg, select) => Stage::Aggregate(Box::new(
                    aggregate::Aggregate::new(agg.clone(), select.clone(), plan.output.clone()),
                )),
            };
        Pipeline {
            plan,
            filter,
            stage,
            skipped: 0,
            processed: 0,
        }
    }

    /// Feeds one record of `partition`; returns the rows it produces.
    pub fn process(&mut self, partition: i32, rec: &InRecord) -> Result<Vec<OutRow>, SqlError> {
        self.processed += 1;
        let (values, meta) = match source::decode(&self.plan.source, partition, rec) {
            Ok(Some(d)) => d,
            Ok(None) => return Ok(vec![]),
            Err(why) => {
                self.skipped += 1;
                tracing::warn!(topic = %self.plan.source.topic, partition, offset = rec.offset, error = %why, "skipping a record that does not deserialize");
                return Ok(vec![]);
            }
        };
        match self.process_row(values, meta) {
            Ok(rows) => Ok(rows),
            Err(e) => {
                // ksqlDB's default (`ksql.fail.on.processing.error=false`): log, count, skip.
                self.skipped += 1;
                tracing::warn!(topic = %self.plan.source.topic, partition, offset = rec.offset, error = %e, "skipping a record that failed processing");
                Ok(vec![])
            }
        }
    }

    /// Feeds one already-decoded row (a materialized table's row, for pull queries).
    pub fn process_row(
        &mut self,
        values: Vec<Value>,
        meta: RowMeta,
    ) -> Result<Vec<OutRow>, SqlError> {
        let schema = &self.plan.source.columns;
        if !self.filter.passes(schema, &values, meta)? {
            return Ok(vec![]);
        }
        match &mut self.stage {
            Stage::Project(p) => Ok(vec![OutRow {
                values: p.apply(schema, &values, meta)?,
                meta,
                tombstone: false,
            }]),
            Stage::Aggregate(a) => a.process(schema, &values, meta),
        }
    }

    /// The materialized rows of an aggregation (pull queries), keys and window first.
    pub fn materialized(&self) -> Option<Vec<OutRow>> {
        match &self.stage {
            Stage::Aggregate(a) => Some(a.rows()),
            Stage::Project(_) => None,
        }
    }
}
