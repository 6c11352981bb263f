//! The streaming operators, one per file, and [`Pipeline`], which chains them for one plan:
//! source decode → filter → project, or → window assign → aggregate; the sink encoder turns
//! output rows into records. Operators are synchronous and pure over their own state; the
//! engine feeds them records and writes what they return.

pub mod aggregate;
pub mod delimited;
pub mod filter;
pub mod join;
pub mod join_row;
pub mod project;
pub mod sink;
pub mod source;
pub mod state;
pub mod stream_stream_join;
pub mod stream_table_join;
pub mod table_table_join;
pub mod window;

use crate::error::SqlError;
use crate::expr::RowMeta;
use crate::io::InRecord;
use crate::plan::{Body, Plan};
use crate::value::Value;
use serde_json::{json, Value as Json};

/// One output row: values aligned with the plan's output schema, or a tombstone for `keys`.
#[derive(Debug, Clone, PartialEq)]
pub struct OutRow {
    pub values: Vec<Value>,
    pub meta: RowMeta,
    /// A deleted table row (HAVING no longer holds): only its key columns are set.
    pub tombstone: bool,
}

/// ksqlDB's name for an aggregation's store.
pub const AGGREGATE_STORE: &str = "Aggregate-Aggregate-Materialize";

/// A table's current rows by key bytes.
type TableRows = std::collections::HashMap<Option<bytes::Bytes>, (Vec<Value>, RowMeta)>;

/// A plan's operators with their state.
pub struct Pipeline {
    pub plan: Plan,
    filter: filter::Filter,
    stage: Stage,
    /// A table source's current rows by key bytes (aggregations over tables retract them).
    table_rows: Option<TableRows>,
    /// Records that did not decode (ksqlDB logs and skips them).
    pub skipped: u64,
    pub processed: u64,
    /// Registry schemas for AVRO / JSON_SR / PROTOBUF sources.
    schemas: std::sync::Arc<crate::schemas::Schemas>,
    /// The join operators of a query with joins.
    joins: Option<join::Joins>,
    /// Table-source keys whose row changed since the last [`Pipeline::take_changes`].
    table_dirty: std::collections::BTreeSet<Option<bytes::Bytes>>,
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
        let table_rows = (plan.source.kind == crate::ast::SourceKind::Table
            && matches!(stage, Stage::Aggregate(_)))
        .then(Default::default);
        let joins = plan.join.clone().map(join::Joins::new);
        Pipeline {
            plan,
            joins,
            filter,
            stage,
            table_rows,
            skipped: 0,
            processed: 0,
            schemas: Default::default(),
            table_dirty: Default::default(),
        }
    }

    /// The registry the source's schemas come from.
    pub fn with_schemas(mut self, schemas: std::sync::Arc<crate::schemas::Schemas>) -> Self {
        self.schemas = schemas;
        self
    }

    /// Feeds one record of input `input` (of [`Plan::inputs`]) and `partition`; returns the
    /// rows it produces.
    pub fn process_input(
        &mut self,
        input: usize,
        partition: i32,
        rec: &InRecord,
    ) -> Result<Vec<OutRow>, SqlError> {
        let Some(joins) = &mut self.joins else {
            return self.process(partition, rec);
        };
        self.processed += 1;
        let source = &joins.plan.inputs[input].source;
        if source.kind == crate::ast::SourceKind::Table
            && rec.key.is_none()
            && source.key_columns().next().is_some()
        {
            return Ok(vec![]);
        }
        let (values, meta, null_value) = match source::decode(source, partition, rec, &self.schemas)
        {
            Ok(d) => d,
            Err(why) => {
                self.skipped += 1;
                tracing::warn!(topic = %source.topic, partition, offset = rec.offset, error = %why, "skipping a record that does not deserialize");
                return Ok(vec![]);
            }
        };
        let rows = joins.process(input, values, meta, null_value)?;
        let mut out = Vec::new();
        for r in rows {
            if self.table_rows.is_some() {
                match self.joined_table_update(r) {
                    Ok(rows) => out.extend(rows),
                    Err(e) => {
                        self.skipped += 1;
                        tracing::warn!(partition, offset = rec.offset, error = %e, "skipping a joined row that failed processing");
                    }
                }
                continue;
            }
            if r.tombstone {
                out.extend(self.tombstone(&r.values, r.meta));
                continue;
            }
            match self.process_row(r.values, r.meta) {
                Ok(rows) => out.extend(rows),
                Err(e) => {
                    self.skipped += 1;
                    tracing::warn!(partition, offset = rec.offset, error = %e, "skipping a joined row that failed processing");
                }
            }
        }
        Ok(out)
    }

    /// A deleted row of the (joined) source as the projection's tombstone: key columns only.
    fn tombstone(&self, values: &[Value], meta: RowMeta) -> Option<OutRow> {
        let Stage::Project(p) = &self.stage else {
            return None;
        };
        let projected = p.apply(&self.plan.source.columns, values, meta).ok()?;
        let values = self
            .plan
            .output
            .iter()
            .zip(projected)
            .map(|(c, v)| {
                if c.kind == crate::catalog::ColumnKind::Key {
                    v
                } else {
                    Value::Null
                }
            })
            .collect();
        Some(OutRow {
            values,
            meta,
            tombstone: true,
        })
    }

    /// Feeds one record of `partition`; returns the rows it produces.
    pub fn process(&mut self, partition: i32, rec: &InRecord) -> Result<Vec<OutRow>, SqlError> {
        self.processed += 1;
        // A table row replaced or deleted: take the old one out of its group first.
        let mut retracted = self.retract_table_row(&rec.key, rec.timestamp);
        let table = self.plan.source.kind == crate::ast::SourceKind::Table;
        if table && rec.key.is_none() && self.plan.source.key_columns().next().is_some() {
            // ksqlDB drops table rows without a key.
            return Ok(retracted);
        }
        let (values, meta) = match source::decode(&self.plan.source, partition, rec, &self.schemas)
        {
            Ok((values, meta, true)) => {
                // A null value: a table's tombstone passes through a projection as a
                // tombstone; a stream's null passes through a projection without WHERE.
                let passes = match &self.stage {
                    Stage::Project(_) => table || self.plan.filter.is_none(),
                    Stage::Aggregate(_) => false,
                };
                if !passes {
                    return Ok(retracted);
                }
                retracted.extend(self.tombstone(&values, meta));
                return Ok(retracted);
            }
            Ok((values, meta, false)) => (values, meta),
            Err(why) => {
                self.skipped += 1;
                tracing::warn!(topic = %self.plan.source.topic, partition, offset = rec.offset, error = %why, "skipping a record that does not deserialize");
                return Ok(vec![]);
            }
        };
        if let Some(rows) = &mut self.table_rows {
            rows.insert(rec.key.clone(), (values.clone(), meta));
            self.table_dirty.insert(rec.key.clone());
        }
        match self.process_row(values, meta) {
            Ok(rows) => Ok(self.after_retraction(retracted, rows)),
            Err(e) => {
                // ksqlDB's default (`ksql.fail.on.processing.error=false`): log, count, skip.
                self.skipped += 1;
                tracing::warn!(topic = %self.plan.source.topic, partition, offset = rec.offset, error = %e, "skipping a record that failed processing");
                Ok(retracted)
            }
        }
    }

    /// Takes the table row under `key` out of the table and, when it passed the filter, out
    /// of its aggregation group; returns the group's updated row.
    fn retract_table_row(&mut self, key: &Option<bytes::Bytes>, rowtime: i64) -> Vec<OutRow> {
        let Some(rows) = &mut self.table_rows else {
            return vec![];
        };
        let Some((old, old_meta)) = rows.remove(key) else {
            return vec![];
        };
        self.table_dirty.insert(key.clone());
        let schema = &self.plan.source.columns;
        let meta = RowMeta {
            rowtime,
            ..old_meta
        };
        match &mut self.stage {
            Stage::Aggregate(a) if self.filter.passes(schema, &old, meta).unwrap_or(false) => {
                a.retract(schema, &old, meta).unwrap_or_default()
            }
            _ => vec![],
        }
    }

    /// The output of a table row's update: the retraction's rows, then the new row's. A row
    /// that stays in its group updates it once (Kafka Streams since KIP-904): the
    /// retraction's intermediate output is dropped for groups the new row also hits.
    fn after_retraction(&self, mut retracted: Vec<OutRow>, rows: Vec<OutRow>) -> Vec<OutRow> {
        let output = &self.plan.output;
        let group_of = |r: &OutRow| {
            let keys: Vec<&Value> = output
                .iter()
                .zip(&r.values)
                .filter(|(c, _)| c.kind == crate::catalog::ColumnKind::Key)
                .map(|(_, v)| v)
                .collect();
            (format!("{keys:?}"), r.meta.window)
        };
        retracted.retain(|old| !rows.iter().any(|new| group_of(new) == group_of(old)));
        retracted.extend(rows);
        retracted
    }

    /// A table-table join feeding an aggregation: the joined row replaces the previous row
    /// of its key (the joined schema's first column), which leaves its group first.
    fn joined_table_update(&mut self, row: join_row::JoinRow) -> Result<Vec<OutRow>, SqlError> {
        let key_value = row.values.first().cloned().unwrap_or(Value::Null);
        let key = Some(bytes::Bytes::from(
            state::value_to_json(&key_value).to_string().into_bytes(),
        ));
        let retracted = self.retract_table_row(&key, row.meta.rowtime);
        if row.tombstone {
            return Ok(retracted);
        }
        if let Some(rows) = &mut self.table_rows {
            rows.insert(key.clone(), (row.values.clone(), row.meta));
            self.table_dirty.insert(key);
        }
        let rows = self.process_row(row.values, row.meta)?;
        Ok(self.after_retraction(retracted, rows))
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

    /// The stores the state is kept in (each has a changelog topic, named after the store):
    /// an aggregation's (with a table source's rows) and the joins' (see
    /// [`join::Joins::store_of`]). Empty for a stateless query.
    pub fn stores(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(j) = &self.joins {
            out.extend(j.stores());
        }
        if matches!(self.stage, Stage::Aggregate(_)) {
            out.push(AGGREGATE_STORE.to_string());
        }
        out
    }

    /// The index in [`Pipeline::stores`] of the store a changelog key belongs to.
    fn store_index(&self, stores: &[String], key: &state::StateKey) -> usize {
        let name = self
            .joins
            .as_ref()
            .and_then(|j| j.store_of(key))
            .unwrap_or_else(|| AGGREGATE_STORE.to_string());
        stores.iter().position(|s| *s == name).unwrap_or(0)
    }

    /// The state changed since the last call, as changelog records of a store (its index in
    /// [`Pipeline::stores`]; value None: removed).
    pub fn take_changes(&mut self) -> Vec<(usize, Vec<u8>, Option<Vec<u8>>)> {
        let mut out = Vec::new();
        if let Some(j) = &mut self.joins {
            out.extend(j.take_changes());
        }
        if let Stage::Aggregate(a) = &mut self.stage {
            out.extend(a.take_changes());
        }
        let rows = self.table_rows.as_ref();
        for k in std::mem::take(&mut self.table_dirty) {
            let v = rows.and_then(|r| r.get(&k)).map(|(values, meta)| {
                json!([state::values_to_json(values), state::meta_to_json(meta)])
            });
            out.push((state::StateKey::TableRow(k.map(|b| b.to_vec())), v));
        }
        let stores = self.stores();
        out.into_iter()
            .map(|(k, v)| {
                (
                    self.store_index(&stores, &k),
                    k.encode(),
                    v.map(|v| v.to_string().into_bytes()),
                )
            })
            .collect()
    }

    /// The same plan's pipeline with no state (a restore that cannot be trusted starts over).
    pub fn reset(&mut self) {
        let schemas = std::sync::Arc::clone(&self.schemas);
        *self = Pipeline::new(self.plan.clone()).with_schemas(schemas);
    }

    /// Counts all of the state as changed (the next [`Pipeline::take_changes`] is a
    /// snapshot).
    pub fn mark_all_dirty(&mut self) {
        if let Some(j) = &mut self.joins {
            j.mark_all_dirty();
        }
        if let Stage::Aggregate(a) = &mut self.stage {
            a.mark_all_dirty();
        }
        if let Some(rows) = &self.table_rows {
            self.table_dirty.extend(rows.keys().cloned());
        }
    }

    /// Counts the state under these changelog keys as changed (written again, or removed
    /// when the state has nothing under them).
    pub fn mark_dirty(&mut self, keys: &[Vec<u8>]) {
        for k in keys {
            match (state::StateKey::decode(k), &mut self.stage) {
                (Some(state::StateKey::Group(g, w)), Stage::Aggregate(a)) => a.mark_dirty(g, w),
                (Some(state::StateKey::TableRow(r)), _) => {
                    self.table_dirty.insert(r.map(bytes::Bytes::from));
                }
                (Some(k), _) => {
                    if let Some(j) = &mut self.joins {
                        j.mark_dirty(&k);
                    }
                }
                _ => {}
            }
        }
    }

    /// Puts one changelog record back into the state; false when it does not decode.
    pub fn restore(&mut self, key: &[u8], value: Option<&[u8]>) -> bool {
        let value = match value.map(serde_json::from_slice::<Json>) {
            Some(Ok(v)) => Some(v),
            Some(Err(_)) => return false,
            None => None,
        };
        match (state::StateKey::decode(key), &mut self.stage) {
            (Some(state::StateKey::Group(k, w)), Stage::Aggregate(a)) => {
                a.restore_group(k, w, value.as_ref())
            }
            (Some(state::StateKey::TableRow(k)), _) => {
                let Some(rows) = &mut self.table_rows else {
                    return false;
                };
                let k = k.map(bytes::Bytes::from);
                match value {
                    None => {
                        rows.remove(&k);
                        true
                    }
                    Some(v) => {
                        match (state::values_from_json(&v[0]), state::meta_from_json(&v[1])) {
                            (Some(values), Some(meta)) => {
                                rows.insert(k, (values, meta));
                                true
                            }
                            _ => false,
                        }
                    }
                }
            }
            (Some(k), _) => match &mut self.joins {
                Some(j) => j.restore(&k, value.as_ref()),
                None => false,
            },
            _ => false,
        }
    }

    /// The counters the changelog's commit marker keeps (processed, skipped, stream time).
    pub fn counters(&self) -> Json {
        let agg = match &self.stage {
            Stage::Aggregate(a) => a.counters(),
            Stage::Project(_) => Json::Null,
        };
        let joins = self.joins.as_ref().map_or(Json::Null, |j| j.counters());
        json!({ "processed": self.processed, "skipped": self.skipped, "aggregate": agg, "joins": joins })
    }

    pub fn restore_counters(&mut self, j: &Json) {
        self.processed = j["processed"].as_u64().unwrap_or(self.processed);
        self.skipped = j["skipped"].as_u64().unwrap_or(self.skipped);
        if let Stage::Aggregate(a) = &mut self.stage {
            a.restore_counters(&j["aggregate"]);
        }
        if let Some(joins) = &mut self.joins {
            joins.restore_counters(&j["joins"]);
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

/// Pipelines over declared sources, for the operators' tests.
#[cfg(test)]
pub(crate) mod test_support {
    use super::Pipeline;
    use crate::catalog::{declared_source, Catalog};
    use crate::error::SqlError;

    /// A catalog holding the sources the `CREATE STREAM|TABLE` statements declare.
    pub fn catalog_of(ddls: &[&str]) -> Catalog {
        let mut catalog = Catalog::default();
        for ddl in ddls {
            let crate::Statement::CreateSource(c) = crate::parse_statement(ddl).unwrap() else {
                panic!("not a CREATE")
            };
            let (source, _) = declared_source(&c, ddl).unwrap();
            catalog.sources.insert(source.name.clone(), source);
        }
        catalog
    }

    /// The plan of `query` over the declared sources.
    pub fn plan_over(ddls: &[&str], query: &str) -> Result<crate::plan::Plan, SqlError> {
        let crate::Statement::Query(q) = crate::parse_statement(query).unwrap() else {
            panic!("not a query")
        };
        crate::plan::plan(&q, &catalog_of(ddls))
    }

    pub fn pipeline_over(ddls: &[&str], query: &str) -> Pipeline {
        Pipeline::new(plan_over(ddls, query).unwrap())
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::pipeline_over;
    use super::*;

    fn pipeline(ddl: &str, query: &str) -> Pipeline {
        pipeline_over(&[ddl], query)
    }

    fn rec(offset: i64, key: Option<&str>, value: Option<&str>) -> InRecord {
        InRecord {
            offset,
            timestamp: 1000 + offset,
            key: key.map(|k| k.as_bytes().to_vec().into()),
            value: value.map(|v| v.as_bytes().to_vec().into()),
            ..Default::default()
        }
    }

    fn values(rows: Vec<OutRow>) -> Vec<(Vec<Value>, bool)> {
        rows.into_iter().map(|r| (r.values, r.tombstone)).collect()
    }

    #[test]
    fn stream_table_join_enriches_with_the_latest_table_row() {
        let mut p = pipeline_over(
            &[
                "CREATE STREAM ORDERS (ID INT KEY, CUSTOMER STRING, AMOUNT INT) WITH (KAFKA_TOPIC='o', VALUE_FORMAT='JSON');",
                "CREATE TABLE CUSTOMERS (ID STRING PRIMARY KEY, NAME STRING) WITH (KAFKA_TOPIC='c', VALUE_FORMAT='JSON');",
            ],
            "SELECT O.CUSTOMER, O.ID AS ORDER_ID, NAME, AMOUNT FROM ORDERS O LEFT JOIN CUSTOMERS C ON O.CUSTOMER = C.ID WHERE AMOUNT > 1 EMIT CHANGES;",
        );
        let s = |x: &str| Value::String(x.into());
        let order = |offset: i64, id: i32, customer: &str, amount: i32| InRecord {
            offset,
            timestamp: 100 + offset,
            key: Some(id.to_be_bytes().to_vec().into()),
            value: Some(
                format!(r#"{{"CUSTOMER":"{customer}","AMOUNT":{amount}}}"#)
                    .into_bytes()
                    .into(),
            ),
            ..Default::default()
        };
        let names: Vec<&str> = p.plan.output.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["CUSTOMER", "ORDER_ID", "NAME", "AMOUNT"]);
        // No customer yet: NULL-padded.
        let out = p.process_input(0, 0, &order(0, 1, "c1", 5)).unwrap();
        assert_eq!(
            out[0].values,
            vec![s("c1"), Value::Int(1), Value::Null, Value::Int(5)]
        );
        assert!(p
            .process_input(1, 0, &rec(0, Some("c1"), Some(r#"{"NAME":"Ada"}"#)))
            .unwrap()
            .is_empty());
        let out = p.process_input(0, 0, &order(1, 2, "c1", 7)).unwrap();
        assert_eq!(
            out[0].values,
            vec![s("c1"), Value::Int(2), s("Ada"), Value::Int(7)]
        );
        assert_eq!(out[0].meta.rowtime, 101);
        // WHERE applies to the joined row.
        assert!(p
            .process_input(0, 0, &order(2, 3, "c1", 1))
            .unwrap()
            .is_empty());
        // A tombstone removes the customer.
        p.process_input(1, 0, &rec(1, Some("c1"), None)).unwrap();
        let out = p.process_input(0, 0, &order(3, 4, "c1", 9)).unwrap();
        assert_eq!(out[0].values[2], Value::Null);
    }

    #[test]
    fn table_table_join_emits_tombstones_for_deleted_results() {
        let mut p = pipeline_over(
            &[
                "CREATE TABLE A (ID STRING PRIMARY KEY, X INT) WITH (KAFKA_TOPIC='a', VALUE_FORMAT='JSON');",
                "CREATE TABLE B (ID STRING PRIMARY KEY, Y INT) WITH (KAFKA_TOPIC='b', VALUE_FORMAT='JSON');",
            ],
            "SELECT A.ID, X, Y FROM A JOIN B ON A.ID = B.ID EMIT CHANGES;",
        );
        assert!(p
            .process_input(0, 0, &rec(0, Some("k"), Some(r#"{"X":1}"#)))
            .unwrap()
            .is_empty());
        let out = p
            .process_input(1, 0, &rec(0, Some("k"), Some(r#"{"Y":2}"#)))
            .unwrap();
        assert_eq!(
            values(out),
            vec![(
                vec![Value::String("k".into()), Value::Int(1), Value::Int(2)],
                false
            )]
        );
        let out = p.process_input(0, 0, &rec(1, Some("k"), None)).unwrap();
        assert_eq!(
            values(out),
            vec![(
                vec![Value::String("k".into()), Value::Null, Value::Null],
                true
            )]
        );
    }

    #[test]
    fn table_aggregation_retracts_replaced_and_deleted_rows() {
        let mut p = pipeline(
            "CREATE TABLE T (ID STRING PRIMARY KEY, APP STRING, V INT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');",
            "SELECT APP, COUNT(*) AS C, SUM(V) AS S FROM T GROUP BY APP;",
        );
        let s = |x: &str| Value::String(x.into());
        let a = values(
            p.process(0, &rec(0, Some("1"), Some(r#"{"APP":"a","V":10}"#)))
                .unwrap(),
        );
        assert_eq!(
            a,
            vec![(vec![s("a"), Value::Bigint(1), Value::Int(10)], false)]
        );
        p.process(0, &rec(1, Some("2"), Some(r#"{"APP":"a","V":5}"#)))
            .unwrap();
        // Row 2 changes within group a: one update.
        let same = values(
            p.process(0, &rec(2, Some("2"), Some(r#"{"APP":"a","V":6}"#)))
                .unwrap(),
        );
        assert_eq!(
            same,
            vec![(vec![s("a"), Value::Bigint(2), Value::Int(16)], false)]
        );
        p.process(0, &rec(2, Some("2"), Some(r#"{"APP":"a","V":5}"#)))
            .unwrap();
        // Row 1 moves from group a to group b: a loses it, b gets it.
        let moved = values(
            p.process(0, &rec(2, Some("1"), Some(r#"{"APP":"b","V":3}"#)))
                .unwrap(),
        );
        assert_eq!(
            moved,
            vec![
                (vec![s("a"), Value::Bigint(1), Value::Int(5)], false),
                (vec![s("b"), Value::Bigint(1), Value::Int(3)], false),
            ]
        );
        // A tombstone deletes row 2.
        let deleted = values(p.process(0, &rec(3, Some("2"), None)).unwrap());
        assert_eq!(
            deleted,
            vec![(vec![s("a"), Value::Bigint(0), Value::Int(0)], false)]
        );
    }

    #[test]
    fn null_values_pass_through_projections_as_ksqldb_does() {
        let mut p = pipeline(
            "CREATE STREAM S (ID INT KEY, NAME STRING) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');",
            "SELECT ID, NAME FROM S EMIT CHANGES;",
        );
        let key = 3i32.to_be_bytes().to_vec();
        let rec = InRecord {
            offset: 0,
            timestamp: 5,
            key: Some(key.clone().into()),
            value: None,
            ..Default::default()
        };
        let out = p.process(0, &rec).unwrap();
        assert_eq!(values(out), vec![(vec![Value::Int(3), Value::Null], true)]);
        let mut filtered = pipeline(
            "CREATE STREAM S (ID INT KEY, NAME STRING) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');",
            "SELECT ID, NAME FROM S WHERE NAME = 'x' EMIT CHANGES;",
        );
        assert!(filtered.process(0, &rec).unwrap().is_empty());
        let mut table = pipeline(
            "CREATE TABLE T (ID INT PRIMARY KEY, NAME STRING) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');",
            "SELECT * FROM T WHERE NAME = 'x' EMIT CHANGES;",
        );
        let out = table.process(0, &rec).unwrap();
        assert_eq!(values(out), vec![(vec![Value::Int(3), Value::Null], true)]);
        // A table row without a key is dropped.
        let keyless = InRecord {
            key: None,
            value: Some(br#"{"NAME":"x"}"#.to_vec().into()),
            ..rec
        };
        assert!(table.process(0, &keyless).unwrap().is_empty());
    }

    #[test]
    fn in_over_boolean_accepts_only_boolean_values() {
        let ddl =
            "CREATE STREAM S (ID BOOLEAN KEY, V BOOLEAN) WITH (KAFKA_TOPIC='s', FORMAT='JSON');";
        let plan_of = |q: &str| super::test_support::plan_over(&[ddl], q).map(|_| ());
        assert!(plan_of("SELECT * FROM S WHERE ID IN (true, 'FALSE', V) EMIT CHANGES;").is_ok());
        let e = plan_of("SELECT * FROM S WHERE ID IN (true, 'Not a boolean') EMIT CHANGES;");
        assert_eq!(
            e.unwrap_err().to_string(),
            "Invalid Predicate: invalid input syntax for type BOOLEAN: \"Not a boolean\"."
        );
        let e = plan_of("SELECT * FROM S WHERE ID IN (true, 10) EMIT CHANGES;");
        assert_eq!(
            e.unwrap_err().to_string(),
            "Invalid Predicate: operator does not exist: BOOLEAN = INTEGER (10)\nHint: You might need to add explicit type casts."
        );
    }

    #[test]
    fn json_fields_match_columns_by_name_exact_first_then_ignoring_case() {
        let mut p = pipeline(
            "CREATE STREAM S (ID INT KEY, N INT, NAME STRING, `mixed` STRING) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');",
            "SELECT ID, N, NAME, `mixed`, N > 1 AND NAME = 'x' AS BOTH FROM S EMIT CHANGES;",
        );
        let key = Some(7i32.to_be_bytes().to_vec());
        let row = |p: &mut Pipeline, v: &str| {
            let r = InRecord {
                offset: 0,
                timestamp: 1,
                key: key.clone().map(Into::into),
                value: Some(v.as_bytes().to_vec().into()),
                ..Default::default()
            };
            values(p.process(0, &r).unwrap())
        };
        let s = |x: &str| Value::String(x.into());
        // Any case; unknown fields (of any shape) skipped; numbers from strings; a string
        // column takes the text of a non-string value.
        assert_eq!(
            row(
                &mut p,
                r#" {"n": "2", "extra": {"deep": [1, {"x": null}]}, "Name": 5, "MIXED": "m"} "#
            ),
            vec![(
                vec![
                    Value::Int(7),
                    Value::Int(2),
                    s("5"),
                    s("m"),
                    Value::Bool(false)
                ],
                false
            )]
        );
        // An exact match wins over a case-insensitive one, before or after it.
        assert_eq!(
            row(
                &mut p,
                r#"{"name": "lower", "NAME": "x", "N": 3, "mixed": "exact", "Mixed": "no"}"#
            ),
            vec![(
                vec![
                    Value::Int(7),
                    Value::Int(3),
                    s("x"),
                    s("exact"),
                    Value::Bool(true)
                ],
                false
            )]
        );
        // Missing fields are NULL; a comparison with NULL is NULL.
        assert_eq!(
            row(&mut p, "{}"),
            vec![(
                vec![
                    Value::Int(7),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null
                ],
                false
            )]
        );
        // A value that does not convert, or JSON that does not parse, skips the record.
        assert!(row(&mut p, r#"{"N": "two"}"#).is_empty());
        assert!(row(&mut p, r#"{"N": 1,"#).is_empty());
        assert!(row(&mut p, r#"{"N": 1} trailing"#).is_empty());
        assert_eq!(p.skipped, 3);
    }

    #[test]
    fn undecodable_and_failing_records_are_skipped_and_counted() {
        let mut p = pipeline(
            "CREATE STREAM S (APP STRING, N INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');",
            "SELECT APP, SUBSTRING(APP) FROM S EMIT CHANGES;",
        );
        assert!(p
            .process(0, &rec(0, None, Some("not json")))
            .unwrap()
            .is_empty());
        assert!(p
            .process(0, &rec(1, None, Some(r#"{"N":"x"}"#)))
            .unwrap()
            .is_empty());
        // SUBSTRING with one argument fails at run time: skipped, the query goes on.
        assert!(p
            .process(0, &rec(2, None, Some(r#"{"APP":"a"}"#)))
            .unwrap()
            .is_empty());
        assert_eq!((p.processed, p.skipped), (3, 3));
    }

    #[test]
    fn emit_final_emits_each_window_once_when_it_closes() {
        let mut p = pipeline(
            "CREATE STREAM S (APP STRING) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');",
            "SELECT APP, COUNT(*) AS N FROM S WINDOW TUMBLING (SIZE 1 SECOND, GRACE PERIOD 0 SECONDS) GROUP BY APP EMIT FINAL;",
        );
        let mk = |offset: i64, ts: i64| InRecord {
            offset,
            timestamp: ts,
            key: None,
            value: Some(br#"{"APP":"a"}"#.to_vec().into()),
            ..Default::default()
        };
        assert!(p.process(0, &mk(0, 1_100)).unwrap().is_empty());
        assert!(p.process(0, &mk(1, 1_900)).unwrap().is_empty());
        let closed = p.process(0, &mk(2, 2_000)).unwrap();
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].meta.window, Some((1_000, 2_000)));
        assert_eq!(closed[0].values[1], Value::Bigint(2));
        assert!(p.process(0, &mk(3, 2_500)).unwrap().is_empty());
    }

    #[test]
    fn session_windowed_sources_read_end_and_start_from_the_key() {
        let mut p = pipeline(
            "CREATE STREAM INPUT (K INT KEY, ID BIGINT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='DELIMITED', WINDOW_TYPE='Session');",
            "SELECT * FROM INPUT EMIT CHANGES;",
        );
        let mut key = 1i32.to_be_bytes().to_vec();
        key.extend_from_slice(&10_000i64.to_be_bytes());
        key.extend_from_slice(&0i64.to_be_bytes());
        let rec = InRecord {
            offset: 0,
            headers: Vec::new(),
            timestamp: 10_000,
            key: Some(key.into()),
            value: Some(b"2".to_vec().into()),
        };
        let out = p.process(0, &rec).unwrap();
        assert_eq!(out[0].meta.window, Some((0, 10_000)));
        assert!(out[0].values.contains(&Value::Bigint(10_000)));
        let error = |with: &str| {
            let ddl = format!("CREATE TABLE T (K STRING PRIMARY KEY, V BIGINT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON', {with});");
            let crate::Statement::CreateSource(c) = crate::parse_statement(&ddl).unwrap() else {
                panic!("not a CREATE")
            };
            crate::catalog::declared_source(&c, &ddl)
                .err()
                .map(|e| e.to_string())
        };
        assert_eq!(
            error("WINDOW_TYPE='Session', WINDOW_SIZE='30 seconds'").as_deref(),
            Some("'WINDOW_SIZE' should not be set for SESSION windows.")
        );
        assert_eq!(
            error("WINDOW_TYPE='tumbling'").as_deref(),
            Some("TUMBLING windows require 'WINDOW_SIZE' to be provided in the WITH clause. For example: 'WINDOW_SIZE'='10 SECONDS'")
        );
        assert_eq!(
            error("WINDOW_TYPE='HOPPING', WINDOW_SIZE='10 SECONDS'"),
            None
        );
    }

    #[test]
    fn windowed_counts_and_late_records() {
        let mut p = pipeline(
            "CREATE STREAM S (APP STRING, LEVEL STRING) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');",
            "SELECT APP, COUNT(*) AS N, COLLECT_LIST(LEVEL) AS L FROM S WINDOW TUMBLING (SIZE 1 SECOND, RETENTION 1 MINUTE, GRACE PERIOD 0 SECONDS) GROUP BY APP EMIT CHANGES;",
        );
        let mk = |offset: i64, ts: i64, level: &str| InRecord {
            offset,
            timestamp: ts,
            key: None,
            value: Some(
                format!(r#"{{"APP":"a","LEVEL":"{level}"}}"#)
                    .into_bytes()
                    .into(),
            ),
            ..Default::default()
        };
        let r = p.process(0, &mk(0, 1_500, "E")).unwrap();
        assert_eq!(r[0].meta.window, Some((1_000, 2_000)));
        assert_eq!(r[0].meta.rowtime, 1_500);
        let r = p.process(0, &mk(1, 1_200, "W")).unwrap();
        assert_eq!(r[0].values[1], Value::Bigint(2));
        assert_eq!(
            r[0].meta.rowtime, 1_500,
            "output time is the largest input time"
        );
        p.process(0, &mk(2, 2_100, "E")).unwrap();
        // Window [1000, 2000) closed at stream time 2100 with no grace: dropped.
        assert!(p.process(0, &mk(3, 1_900, "late")).unwrap().is_empty());
        let rows = p.materialized().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].values[2],
            Value::Array(vec![Value::String("E".into()), Value::String("W".into())])
        );
    }

    /// Feeds `records` to `p`, returning every row produced.
    fn feed(p: &mut Pipeline, records: &[InRecord]) -> Vec<(Vec<Value>, bool)> {
        records
            .iter()
            .flat_map(|r| values(p.process(0, r).unwrap()))
            .collect()
    }

    #[test]
    fn a_pipeline_restored_from_its_changes_continues_as_if_never_stopped() {
        let table = "CREATE TABLE T (ID STRING PRIMARY KEY, APP STRING, LEVEL STRING, X DOUBLE, N INT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');";
        restore_check(
            table,
            "SELECT APP, COUNT(*) AS C, SUM(N) AS S, AVG(X) AS A, COLLECT_LIST(LEVEL) AS L FROM T GROUP BY APP EMIT CHANGES;",
        );
        let stream = "CREATE STREAM T (ID STRING KEY, APP STRING, LEVEL STRING, X DOUBLE, N INT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');";
        restore_check(
            stream,
            "SELECT APP, MAX(X) AS MX, MIN(N) AS MN, COUNT_DISTINCT(LEVEL) AS D, TOPK(N, 2) AS TK, EARLIEST_BY_OFFSET(N) AS E, LATEST_BY_OFFSET(X) AS LA, COLLECT_SET(LEVEL) AS CS, WINDOWSTART AS WS FROM T WINDOW HOPPING (SIZE 10 MILLISECONDS, ADVANCE BY 5 MILLISECONDS, GRACE PERIOD 3 MILLISECONDS) GROUP BY APP EMIT CHANGES;",
        );
        restore_check(
            stream,
            "SELECT APP, COUNT(*) AS C FROM T WINDOW TUMBLING (SIZE 8 MILLISECONDS, GRACE PERIOD 0 MILLISECONDS) GROUP BY APP EMIT FINAL;",
        );
        restore_check(
            stream,
            "SELECT APP, COUNT(*) AS C, SUM(N) AS S, WINDOWSTART AS WS, WINDOWEND AS WE FROM T WINDOW SESSION (4 MILLISECONDS, RETENTION 20 MILLISECONDS, GRACE PERIOD 2 MILLISECONDS) GROUP BY APP EMIT CHANGES;",
        );
    }

    fn restore_check(ddl: &str, query: &str) {
        let rec = |offset: i64, id: &str, body: Option<String>| InRecord {
            offset,
            timestamp: 1000 + offset,
            key: Some(id.as_bytes().to_vec().into()),
            value: body.map(|b| b.into_bytes().into()),
            ..Default::default()
        };
        let row = |app: &str, level: &str, x: f64, n: i32| {
            Some(format!(
                r#"{{"APP":"{app}","LEVEL":"{level}","X":{x},"N":{n}}}"#
            ))
        };
        let records: Vec<InRecord> = (0..40i32)
            .map(|i| {
                let id = format!("k{}", i % 7);
                let body = if i % 11 == 10 {
                    None
                } else {
                    row(
                        ["a", "b", "c"][i as usize % 3],
                        ["E", "W", "I"][i as usize % 2],
                        i as f64 / 3.0,
                        i,
                    )
                };
                rec(i64::from(i), &id, body)
            })
            .collect();
        let (first, rest) = records.split_at(23);

        let mut uninterrupted = pipeline(ddl, query);
        feed(&mut uninterrupted, first);
        let want = feed(&mut uninterrupted, rest);
        assert!(!want.is_empty(), "{query}");

        // The first half, its changes taken in two batches (as the engine commits them).
        let mut before = pipeline(ddl, query);
        let mut log = Vec::new();
        feed(&mut before, &first[..10]);
        log.extend(before.take_changes().into_iter().map(|(_, k, v)| (k, v)));
        feed(&mut before, &first[10..]);
        log.extend(before.take_changes().into_iter().map(|(_, k, v)| (k, v)));
        assert!(before.take_changes().is_empty(), "changes are taken once");
        let counters = before.counters();

        let mut after = pipeline(ddl, query);
        for (k, v) in &log {
            assert!(
                after.restore(k, v.as_deref()),
                "{}",
                String::from_utf8_lossy(k)
            );
        }
        after.restore_counters(&counters);
        assert_eq!(after.processed, 23);
        assert_eq!(feed(&mut after, rest), want);
        assert_eq!(after.materialized(), uninterrupted.materialized());
        assert!(
            !after.restore(b"[\"group\",\"x\",0]", Some(b"{}")),
            "garbage is refused"
        );
    }

    /// A changelog record of a store: (store index, key, value).
    type StoreChange = (usize, Vec<u8>, Option<Vec<u8>>);

    /// (input, key, JSON value or None, timestamp) of a join's inputs, in processing order.
    type JoinInputs<'a> = Vec<(usize, &'a str, Option<String>, i64)>;

    fn join_records(inputs: &JoinInputs) -> Vec<(usize, InRecord)> {
        inputs
            .iter()
            .enumerate()
            .map(|(i, (input, key, value, ts))| {
                (
                    *input,
                    InRecord {
                        offset: i as i64,
                        timestamp: *ts,
                        key: Some(key.as_bytes().to_vec().into()),
                        value: value.clone().map(|v| v.into_bytes().into()),
                        ..Default::default()
                    },
                )
            })
            .collect()
    }

    fn feed_joined(p: &mut Pipeline, records: &[(usize, InRecord)]) -> Vec<(Vec<Value>, bool)> {
        records
            .iter()
            .flat_map(|(input, r)| values(p.process_input(*input, 0, r).unwrap()))
            .collect()
    }

    /// Feeds the first `cut` records taking the changes in batches, restores a new pipeline
    /// from those changes (as written, and as compaction leaves them: the latest per key)
    /// and checks it continues exactly as a pipeline that was never stopped. Returns the
    /// changes and the store names.
    fn join_restore_check(
        ddls: &[&str],
        query: &str,
        inputs: &JoinInputs,
        cut: usize,
    ) -> (Vec<StoreChange>, Vec<String>) {
        let records = join_records(inputs);
        let (first, rest) = records.split_at(cut);
        let mut uninterrupted = pipeline_over(ddls, query);
        feed_joined(&mut uninterrupted, first);
        let want = feed_joined(&mut uninterrupted, rest);
        assert!(!want.is_empty(), "{query}");

        let mut before = pipeline_over(ddls, query);
        let mut log = Vec::new();
        for chunk in first.chunks(cut.div_ceil(3)) {
            feed_joined(&mut before, chunk);
            log.extend(before.take_changes());
        }
        assert!(before.take_changes().is_empty(), "changes are taken once");
        let counters = before.counters();
        let stores = before.stores();
        assert!(log.iter().all(|(store, _, _)| *store < stores.len()));

        let mut compacted: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
        for (_, k, v) in &log {
            compacted.retain(|(ck, _)| ck != k);
            compacted.push((k.clone(), v.clone()));
        }
        let full: Vec<(Vec<u8>, Option<Vec<u8>>)> =
            log.iter().map(|(_, k, v)| (k.clone(), v.clone())).collect();
        for changes in [full, compacted] {
            let mut after = pipeline_over(ddls, query);
            for (k, v) in &changes {
                assert!(
                    after.restore(k, v.as_deref()),
                    "{}",
                    String::from_utf8_lossy(k)
                );
            }
            after.restore_counters(&counters);
            assert_eq!(feed_joined(&mut after, rest), want, "{query}");
        }
        // Without the state the continuation differs: the check can fail.
        let mut empty = pipeline_over(ddls, query);
        assert_ne!(feed_joined(&mut empty, rest), want, "{query}");
        (log, stores)
    }

    #[test]
    fn a_stream_stream_join_restored_from_its_changes_continues_as_if_never_stopped() {
        let ddls = [
            "CREATE STREAM L (ID STRING KEY, A INT) WITH (KAFKA_TOPIC='l', VALUE_FORMAT='JSON');",
            "CREATE STREAM R (ID STRING KEY, B STRING) WITH (KAFKA_TOPIC='r', VALUE_FORMAT='JSON');",
        ];
        let keys = ["k0", "k1", "k2", "k3"];
        let inputs: JoinInputs = (0..60i64)
            .map(|i| {
                let input = usize::from(i % 3 == 0);
                let value = if input == 0 {
                    format!(r#"{{"A":{i}}}"#)
                } else {
                    format!(r#"{{"B":"b{i}"}}"#)
                };
                (input, keys[(i % 4) as usize], Some(value), 1_000 + i * 7)
            })
            .collect();
        let (log, stores) = join_restore_check(
            &ddls,
            "SELECT L.ID, A, B FROM L JOIN R WITHIN 30 MILLISECONDS ON L.ID = R.ID EMIT CHANGES;",
            &inputs,
            31,
        );
        assert_eq!(stores, ["Join-this-join-store", "Join-other-join-store"]);
        // Without GRACE PERIOD records are kept 24 hours: nothing expired yet.
        assert!(log.iter().all(|(_, _, v)| v.is_some()));

        // With a grace period the buffers expire (tombstones in the changelog) and an outer
        // join's non-matched records wait in the shared store.
        let (log, stores) = join_restore_check(
            &ddls,
            "SELECT L.ID, A, B FROM L FULL OUTER JOIN R WITHIN 20 MILLISECONDS GRACE PERIOD 5 MILLISECONDS ON L.ID = R.ID EMIT CHANGES;",
            &inputs,
            31,
        );
        assert_eq!(
            stores,
            [
                "Join-outer-this-join-store",
                "Join-outer-other-join-store",
                "Join-outer-shared-join-store"
            ]
        );
        assert!(log.iter().any(|(store, _, v)| *store == 0 && v.is_none()));
        assert!(log.iter().any(|(store, _, _)| *store == 2));
        // Expired entries leave nothing behind: once compacted, only records within the
        // retention (20 + 20 + 5 ms behind each side's newest) are live.
        let mut live = std::collections::BTreeMap::new();
        for (store, k, v) in &log {
            live.insert((*store, k.clone()), v.is_some());
        }
        let buffered = live
            .iter()
            .filter(|((store, _), v)| *store < 2 && **v)
            .count();
        assert!(
            buffered <= 2 * 45 / 7 + 2,
            "{buffered} records still buffered"
        );
    }

    #[test]
    fn stream_table_and_table_table_joins_restored_from_their_changes_continue() {
        let ddls = [
            "CREATE STREAM S (ID STRING KEY, A INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');",
            "CREATE TABLE T (ID STRING PRIMARY KEY, N STRING) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');",
            "CREATE TABLE U (ID STRING PRIMARY KEY, M INT) WITH (KAFKA_TOPIC='u', VALUE_FORMAT='JSON');",
        ];
        let keys = ["a", "b", "c"];
        let table_then_stream: JoinInputs = (0..40i64)
            .map(|i| {
                let k = keys[(i % 3) as usize];
                match i % 4 {
                    0 if i % 12 == 8 => (1, k, None, i),
                    0 => (1, k, Some(format!(r#"{{"N":"n{i}"}}"#)), i),
                    _ => (0, k, Some(format!(r#"{{"A":{i}}}"#)), i),
                }
            })
            .collect();
        let (_, stores) = join_restore_check(
            &ddls,
            "SELECT S.ID, A, N FROM S LEFT JOIN T ON S.ID = T.ID EMIT CHANGES;",
            &table_then_stream,
            21,
        );
        assert_eq!(stores, ["KafkaTopic_Right-Reduce"]);

        let tables: JoinInputs = (0..40i64)
            .map(|i| {
                let k = keys[(i % 3) as usize];
                match i % 5 {
                    0 => (0, k, Some(format!(r#"{{"N":"n{i}"}}"#)), i),
                    1 => (1, k, Some(format!(r#"{{"M":{i}}}"#)), i),
                    2 => (1, k, None, i),
                    _ => (0, k, Some(format!(r#"{{"N":"m{i}"}}"#)), i),
                }
            })
            .collect();
        let (_, stores) = join_restore_check(
            &ddls[1..],
            "SELECT T.ID, N, M FROM T FULL OUTER JOIN U ON T.ID = U.ID EMIT CHANGES;",
            &tables,
            17,
        );
        assert_eq!(
            stores,
            ["KafkaTopic_Left-Reduce", "KafkaTopic_Right-Reduce"]
        );
        // An aggregation over a join keeps both the join's and the aggregation's state.
        let (_, stores) = join_restore_check(
            &ddls[1..],
            "SELECT N, COUNT(*) AS C, SUM(M) AS S FROM T JOIN U ON T.ID = U.ID GROUP BY N EMIT CHANGES;",
            &tables,
            17,
        );
        assert_eq!(
            stores,
            [
                "KafkaTopic_Left-Reduce",
                "KafkaTopic_Right-Reduce",
                AGGREGATE_STORE
            ]
        );
    }

    #[test]
    fn chained_joins_name_inner_stores_as_ksqldb_does() {
        let p = pipeline_over(
            &[
                "CREATE STREAM S (ID STRING KEY, A INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');",
                "CREATE STREAM R (ID STRING KEY, B INT) WITH (KAFKA_TOPIC='r', VALUE_FORMAT='JSON');",
                "CREATE TABLE T (ID STRING PRIMARY KEY, N STRING) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');",
            ],
            "SELECT S.ID, A, B, N FROM S LEFT JOIN R WITHIN 1 SECOND GRACE PERIOD 1 SECOND ON S.ID = R.ID JOIN T ON S.ID = T.ID EMIT CHANGES;",
        );
        assert_eq!(
            p.stores(),
            [
                "L_Join-this-join-store",
                "L_Join-outer-other-join-store",
                "L_Join-left-shared-join-store",
                "KafkaTopic_Right-Reduce"
            ]
        );
    }

    #[test]
    fn an_aggregation_over_a_table_table_join_retracts_replaced_and_deleted_rows() {
        let mut p = pipeline_over(
            &[
                "CREATE TABLE USERS (ID STRING PRIMARY KEY, REGION STRING) WITH (KAFKA_TOPIC='u', VALUE_FORMAT='JSON');",
                "CREATE TABLE SCORES (ID STRING PRIMARY KEY, SCORE INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');",
            ],
            "SELECT REGION, COUNT(*) AS N, SUM(SCORE) AS TOTAL FROM USERS U JOIN SCORES S ON U.ID = S.ID GROUP BY REGION EMIT CHANGES;",
        );
        let mut offset = 0;
        let mut send = |p: &mut Pipeline, input: usize, id: &str, body: Option<&str>| {
            offset += 1;
            let r = InRecord {
                offset,
                headers: Vec::new(),
                timestamp: 100 + offset,
                key: Some(id.as_bytes().to_vec().into()),
                value: body.map(|b| b.as_bytes().to_vec().into()),
            };
            values(p.process_input(input, 0, &r).unwrap())
        };
        let s = |x: &str| Value::String(x.into());
        let row = |region: &str, n: i64, total: i32| {
            (vec![s(region), Value::Bigint(n), Value::Int(total)], false)
        };
        send(&mut p, 0, "a", Some(r#"{"REGION":"eu"}"#));
        assert_eq!(
            send(&mut p, 1, "a", Some(r#"{"SCORE":5}"#)),
            vec![row("eu", 1, 5)]
        );
        send(&mut p, 0, "b", Some(r#"{"REGION":"eu"}"#));
        assert_eq!(
            send(&mut p, 1, "b", Some(r#"{"SCORE":7}"#)),
            vec![row("eu", 2, 12)]
        );
        // A changed score replaces the old one: the count stays, the sum follows.
        assert_eq!(
            send(&mut p, 1, "a", Some(r#"{"SCORE":1}"#)),
            vec![row("eu", 2, 8)]
        );
        // A user moving region leaves the old group and joins the new one.
        assert_eq!(
            send(&mut p, 0, "b", Some(r#"{"REGION":"us"}"#)),
            vec![row("eu", 1, 1), row("us", 1, 7)]
        );
        // A deleted score deletes the join result: the row leaves its group.
        assert_eq!(send(&mut p, 1, "a", None), vec![row("eu", 0, 0)]);
    }
}
