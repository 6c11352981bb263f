//! The engine: runs statements against the catalog, keeps the command topic (every statement
//! that changed the metastore, replayed in order on start so streams, tables and persistent
//! queries come back), runs persistent queries (CSAS/CTAS) as tokio tasks and transient push
//! and pull queries. Query progress is committed to a compacted offsets topic after each
//! batch written to the sink. A query's changed state (an aggregation's groups, a join's window
//! buffers and table sides) and the input offsets it reflects go to the changelog topics of its
//! stores, each write ending with a commit marker numbered by batch; on start the state comes
//! back from the changelogs up to the last batch all of them completed and the query continues
//! from that marker's offsets, so nothing is lost or counted twice, even across kill -9. A
//! query whose changelogs are missing or disagree rebuilds its state by re-reading its inputs
//! from the query's first offsets up to the committed ones (deterministic, no output). A join
//! takes its inputs' records in timestamp order. It also answers the introspection statements
//! (SHOW/DESCRIBE [EXTENDED] with each query's throughput from [`crate::metrics`], EXPLAIN,
//! functions), runs PRINT, and writes rows for INSERT VALUES and `/inserts-stream` (one
//! [`Inserter`]). All topic access goes through [`StreamIo`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{json, Value as Json};
use tokio::sync::mpsc;

use crate::ast::{
    CreateAsSelect, ExplainTarget, ListKind, Query, QueryTarget, SourceKind, SqlType, Statement,
};
use crate::catalog::{self, Catalog, Column, ColumnKind, Format, Source};
use crate::connectors;
use crate::entities::{self, QueryInfo};
use crate::error::SqlError;
use crate::expr::RowMeta;
use crate::io::{InRecord, OutRecord, StreamIo};
use crate::metrics::{QueryMetrics, QueryStats};
use crate::operators::sink::SinkCodec;
use crate::operators::state::StateKey;
use crate::operators::{sink, OutRow, Pipeline};
use crate::plan;
use crate::schemas::{Inferred, SchemaSource, Schemas};
use crate::value::Value;
use crate::ParsedStatement;

pub const COMMAND_TOPIC: &str = "_confluent-ksql-default__command_topic";
pub const OFFSETS_TOPIC: &str = "_confluent-ksql-default__query_offsets";
const READ_BYTES: usize = 1 << 20;
const IDLE: Duration = Duration::from_millis(50);
/// The changelog topic of one of a persistent query's stores (named as ksqlDB names them:
/// [`crate::operators::AGGREGATE_STORE`] for an aggregation, the join stores of
/// [`crate::operators::join`]): one partition, compacted; see [`crate::operators::state`] for
/// its records.
pub fn changelog_topic(query_id: &str, store: &str) -> String {
    format!("_confluent-ksql-default_query_{query_id}-{store}-changelog")
}

/// Query offsets of input `i`'s partition `p` are kept under `i * INPUT_STRIDE + p`.
const INPUT_STRIDE: i32 = 1_000_000;

/// Request properties (`streamsProperties`) that matter here.
pub type Props = serde_json::Map<String, Json>;

fn earliest(props: &Props) -> bool {
    ["ksql.streams.auto.offset.reset", "auto.offset.reset"]
        .iter()
        .filter_map(|k| props.get(*k))
        .any(|v| {
            v.as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("earliest"))
        })
}

struct QueryHandle {
    id: String,
    statement: String,
    sink: String,
    sink_topic: String,
    sources: Vec<String>,
    /// The sink as the query writes it (columns, formats, window).
    sink_source: Source,
    /// The request properties the query was created with.
    props: Props,
    pipeline: Arc<Mutex<Pipeline>>,
    metrics: Arc<Mutex<QueryMetrics>>,
    stop: Arc<AtomicBool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl QueryHandle {
    fn info(&self) -> QueryInfo {
        QueryInfo {
            id: self.id.clone(),
            statement: self.statement.clone(),
            sink: self.sink.clone(),
            sink_topic: self.sink_topic.clone(),
            state: "RUNNING",
        }
    }

    fn stats(&self, now: i64) -> QueryStats {
        lock(&self.metrics).snapshot(now)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
struct QueryOffsets {
    start: BTreeMap<i32, i64>,
    committed: BTreeMap<i32, i64>,
}

struct Inner {
    catalog: Catalog,
    queries: BTreeMap<String, QueryHandle>,
    offsets: BTreeMap<String, QueryOffsets>,
}

/// The running engine.
pub struct Engine {
    io: Arc<dyn StreamIo>,
    /// The schema registry (AVRO, JSON_SR, PROTOBUF), when there is one.
    schemas: Arc<Schemas>,
    inner: Mutex<Inner>,
    /// Serializes statements (command topic order = execution order).
    statements: Mutex<()>,
    transient: std::sync::atomic::AtomicU64,
    /// Running push queries' stop flags, by query id (`/close-query`).
    push_queries: Arc<Mutex<BTreeMap<String, Arc<AtomicBool>>>>,
    /// The Kafka Connect cluster of the connector statements, once the server set it.
    connect: std::sync::OnceLock<Arc<dyn crate::connectors::ConnectClient>>,
    /// `host:port` for `ksqlHostQueryStatus`.
    host: Mutex<String>,
}

/// A running push query: its columns and a channel of rows.
pub struct PushQuery {
    pub id: String,
    pub columns: Vec<Column>,
    pub rows: mpsc::Receiver<Vec<Value>>,
}

/// A pull query's result.
pub struct PullResult {
    pub id: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
}

/// Writes rows into one stream or table, encoded as its formats say (see [`Engine::inserter`]).
pub struct Inserter {
    io: Arc<dyn StreamIo>,
    pub source: Source,
    codec: SinkCodec,
    partitions: i32,
}

impl Inserter {
    /// Appends one row given as (column name, value) pairs: values are cast to the columns'
    /// types, missing columns are NULL, `ROWTIME` (if given) is the record's timestamp.
    pub fn insert(&self, named: Vec<(String, Value)>) -> Result<(), SqlError> {
        let source = &self.source;
        let mut row = vec![Value::Null; source.columns.len()];
        let mut rowtime = now_ms();
        for (n, v) in named {
            if n == "ROWTIME" {
                rowtime = v.as_i64().unwrap_or(rowtime);
                continue;
            }
            let i = source
                .columns
                .iter()
                .position(|c| c.name == n)
                .ok_or_else(|| SqlError::statement(format!("Column name {n} does not exist.")))?;
            let col = &source.columns[i];
            if col.kind == ColumnKind::Header {
                return Err(SqlError::statement(format!(
                    "Cannot insert into HEADER columns: {n}"
                )));
            }
            let was_null = v.is_null();
            let shown = v.render();
            row[i] = crate::expr::cast(v, &col.ty);
            // A value the new types cannot take is ksqlDB's coercion error, not a silent NULL.
            if !was_null
                && row[i].is_null()
                && matches!(
                    col.ty,
                    SqlType::Timestamp
                        | SqlType::Date
                        | SqlType::Time
                        | SqlType::Decimal { .. }
                        | SqlType::Bytes
                )
            {
                return Err(SqlError::statement(format!(
                    "Expected type {} for field `{n}` but got {shown}",
                    crate::value::type_name(&col.ty)
                )));
            }
        }
        let out = OutRow {
            values: row,
            meta: RowMeta {
                rowtime,
                ..RowMeta::default()
            },
            tombstone: false,
        };
        let rec = sink::encode(
            &source.columns,
            source.key_format,
            Some(source.value_format),
            &out,
            &self.codec,
        )?;
        let p = sink::partition_for(rec.key.as_deref(), self.partitions, 0);
        self.io.append(&source.topic, p, &[rec])
    }

    /// Appends one row given as a JSON object (`/inserts-stream`): fields are matched to
    /// columns by name (exact, then ignoring case) and converted as ksqlDB's JSON format does.
    pub fn insert_json(&self, row: &Json) -> Result<(), SqlError> {
        let Json::Object(o) = row else {
            return Err(SqlError::statement("Each row must be a JSON object"));
        };
        let mut named = Vec::with_capacity(o.len());
        for (k, v) in o {
            if k.eq_ignore_ascii_case("ROWTIME") {
                named.push((
                    "ROWTIME".to_string(),
                    crate::value::from_json(v, &crate::ast::SqlType::Bigint)
                        .map_err(SqlError::statement)?,
                ));
                continue;
            }
            let col = self
                .source
                .columns
                .iter()
                .find(|c| c.name == *k)
                .or_else(|| {
                    self.source
                        .columns
                        .iter()
                        .find(|c| c.name.eq_ignore_ascii_case(k))
                })
                .ok_or_else(|| SqlError::statement(format!("Column name {k} does not exist.")))?;
            let value = crate::value::from_json(v, &col.ty).map_err(|e| {
                SqlError::statement(format!(
                    "Failed to convert the value of column {}: {e}",
                    col.name
                ))
            })?;
            named.push((col.name.clone(), value));
        }
        self.insert(named)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Engine {
    /// Opens the engine: replays the command topic and restarts the persistent queries.
    /// Must run inside a tokio runtime.
    pub fn open(io: Arc<dyn StreamIo>) -> Result<Arc<Engine>, SqlError> {
        Self::open_with_schemas(io, None)
    }

    /// Opens the engine with a schema registry for the registry-backed formats.
    pub fn open_with_schemas(
        io: Arc<dyn StreamIo>,
        schemas: Option<Arc<dyn SchemaSource>>,
    ) -> Result<Arc<Engine>, SqlError> {
        io.create_topic(COMMAND_TOPIC, 1, false)?;
        io.create_topic(OFFSETS_TOPIC, 1, true)?;
        let engine = Arc::new(Engine {
            io,
            schemas: Arc::new(Schemas::new(schemas)),
            inner: Mutex::new(Inner {
                catalog: Catalog::default(),
                queries: BTreeMap::new(),
                offsets: BTreeMap::new(),
            }),
            statements: Mutex::new(()),
            transient: Default::default(),
            push_queries: Default::default(),
            connect: std::sync::OnceLock::new(),
            host: Mutex::new("localhost:8088".into()),
        });
        let mut offsets = BTreeMap::new();
        for rec in engine.read_all(OFFSETS_TOPIC)? {
            let Some(key) = rec.key.and_then(|k| String::from_utf8(k.to_vec()).ok()) else {
                continue;
            };
            match rec
                .value
                .and_then(|v| serde_json::from_slice::<Json>(&v).ok())
            {
                Some(v) => {
                    let map = |k: &str| -> BTreeMap<i32, i64> {
                        v[k].as_object()
                            .map(|o| {
                                o.iter()
                                    .filter_map(|(p, o)| Some((p.parse().ok()?, o.as_i64()?)))
                                    .collect()
                            })
                            .unwrap_or_default()
                    };
                    offsets.insert(
                        key,
                        QueryOffsets {
                            start: map("start"),
                            committed: map("committed"),
                        },
                    );
                }
                None => {
                    offsets.remove(&key);
                }
            }
        }
        lock(&engine.inner).offsets = offsets;
        for rec in engine.read_all(COMMAND_TOPIC)? {
            let Some(v) = rec
                .value
                .and_then(|v| serde_json::from_slice::<Json>(&v).ok())
            else {
                continue;
            };
            let text = v["statement"].as_str().unwrap_or_default().to_string();
            let props = v["streamsProperties"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            let parsed = match crate::parse(&text) {
                Ok(mut p) if p.len() == 1 => p.remove(0),
                _ => {
                    tracing::warn!(offset = rec.offset, "skipping an unparsable command");
                    continue;
                }
            };
            if let Err(e) = engine.apply(&parsed, &props, rec.offset) {
                tracing::warn!(offset = rec.offset, error = %e, "a command failed on replay");
            }
        }
        Ok(engine)
    }

    fn read_all(&self, topic: &str) -> Result<Vec<InRecord>, SqlError> {
        let (mut next, end) = self.io.offsets(topic, 0)?;
        let mut out = Vec::new();
        while next < end {
            let batch = self.io.read(topic, 0, next, READ_BYTES)?;
            let Some(last) = batch.last().map(|r| r.offset) else {
                break;
            };
            next = last + 1;
            out.extend(batch);
        }
        Ok(out)
    }

    /// Runs one statement of `POST /ksql` and returns its entity.
    pub fn execute(&self, stmt: &ParsedStatement, props: &Props) -> Result<Json, SqlError> {
        self.execute_inner(stmt, props)
            .map_err(|e| with_position(e, stmt))
    }

    fn execute_inner(&self, stmt: &ParsedStatement, props: &Props) -> Result<Json, SqlError> {
        let inferred = self
            .infer_columns(stmt)
            .map_err(|e| e.in_statement(&stmt.text))?;
        let stmt = inferred.as_ref().unwrap_or(stmt);
        let text = stmt.text.as_str();
        let err = |e: SqlError| e.in_statement(text);
        match &stmt.statement {
            Statement::CreateSource(_)
            | Statement::CreateAsSelect(_)
            | Statement::InsertInto { .. }
            | Statement::DropSource { .. }
            | Statement::Terminate(_) => {
                let _serial = lock(&self.statements);
                // Check first (nothing is written for a statement that fails), then log, then apply.
                self.check(stmt, props).map_err(err)?;
                let seq = self.io.offsets(COMMAND_TOPIC, 0)?.1;
                let command = json!({"statement": text, "streamsProperties": props, "originalProperties": {}});
                self.io.append(
                    COMMAND_TOPIC,
                    0,
                    &[OutRecord {
                        timestamp: now_ms(),
                        key: Some(command_id(&stmt.statement).into_bytes()),
                        value: Some(command.to_string().into_bytes()),
                    }],
                )?;
                self.apply(stmt, props, seq).map_err(err)
            }
            Statement::CreateConnector { kind, if_not_exists, name, properties } => {
                connectors::create(self.connect()?.as_ref(), text, *kind, *if_not_exists, &name.0, properties).map_err(err)
            }
            Statement::DropConnector { if_exists, name } => {
                connectors::drop(self.connect()?.as_ref(), text, *if_exists, &name.0).map_err(err)
            }
            Statement::DescribeConnector { name } => {
                connectors::describe(self.connect()?.as_ref(), text, &name.0).map_err(err)
            }
            Statement::List(ListKind::Connectors { kind }) => {
                connectors::list(self.connect()?.as_ref(), text, *kind).map_err(err)
            }
            Statement::List(ListKind::ConnectorPlugins) => {
                connectors::plugins(self.connect()?.as_ref(), text).map_err(err)
            }
            Statement::List(ListKind::Queries { extended: true }) => Ok(self.query_descriptions(text)),
            Statement::List(ListKind::Functions) => Ok(entities::function_names(text)),
            Statement::List(kind) => self.list(text, kind).map_err(err),
            Statement::DescribeFunction { name } => match crate::functions::find(&name.0) {
                Some(f) => Ok(entities::describe_function(text, f)),
                None => Err(err(SqlError::statement(format!(
                    "Can't find any functions with the name '{}'",
                    name.0
                )))),
            },
            Statement::Explain(target) => self.explain(text, target, props).map_err(err),
            Statement::DescribeSource { name, extended } => {
                self.describe(text, &name.0, *extended).map_err(err)
            }
            Statement::DescribeSources { kind, extended } => {
                let names: Vec<String> = lock(&self.inner)
                    .catalog
                    .sources
                    .values()
                    .filter(|s| s.kind == *kind)
                    .map(|s| s.name.clone())
                    .collect();
                let descriptions = names
                    .iter()
                    .map(|n| Ok(self.describe(text, n, *extended)?["sourceDescription"].take()))
                    .collect::<Result<Vec<_>, SqlError>>()
                    .map_err(err)?;
                Ok(entities::source_descriptions(text, descriptions))
            }
            Statement::InsertValues { target, columns, values } => {
                self.insert_values(&target.0, columns, values).map_err(err)?;
                Ok(json!(null))
            }
            Statement::SetProperty { .. } | Statement::UnsetProperty { .. } | Statement::DefineVariable { .. } | Statement::UndefineVariable { .. } => Ok(json!(null)),
            Statement::Query(_) | Statement::Print(_) => Err(err(SqlError::statement(
                "The following statement types should be issued to the websocket endpoint '/query':\n\t* PRINT\n\t* SELECT",
            ))),
            other => Err(err(SqlError::statement(format!(
                "Statement not supported yet: {}",
                other.to_string().split_whitespace().take(2).collect::<Vec<_>>().join(" ")
            )))),
        }
    }

    /// Sets the Kafka Connect cluster the connector statements talk to (once).
    pub fn set_connect_client(&self, client: Arc<dyn connectors::ConnectClient>) {
        let _ = self.connect.set(client);
    }

    fn connect(&self) -> Result<Arc<dyn connectors::ConnectClient>, SqlError> {
        self.connect.get().cloned().ok_or_else(|| {
            SqlError::statement(
                "Kafka Connect is not configured: this server has no ksql.connect.url",
            )
        })
    }

    /// Validates a metastore statement without changing anything.
    fn check(&self, stmt: &ParsedStatement, props: &Props) -> Result<(), SqlError> {
        let _ = props;
        let inner = lock(&self.inner);
        match &stmt.statement {
            Statement::CreateSource(c) => {
                let (source, partitions) = catalog::declared_source(c, &stmt.text)?;
                if inner.catalog.sources.contains_key(&source.name)
                    && !c.if_not_exists
                    && !c.or_replace
                {
                    return Err(SqlError::statement(format!(
                        "Cannot add {} '{}': A {} with the same name already exists",
                        c.kind.to_string().to_lowercase(),
                        source.name,
                        existing_kind(&inner.catalog, &source.name)
                    )));
                }
                if self.io.partitions(&source.topic)?.is_none() && partitions.is_none() {
                    return Err(SqlError::statement(format!(
                        "Topic '{}' does not exist. If you want to create a new topic for the {} please re-run the statement providing the required 'PARTITIONS' configuration in the WITH clause (and optionally 'REPLICAS'). For example: CREATE {} {} (...) WITH (KAFKA_TOPIC='{}', PARTITIONS=2, REPLICAS=1, FORMAT='JSON');",
                        source.topic, c.kind.to_string().to_lowercase(), c.kind, source.name, source.topic
                    )));
                }
                Ok(())
            }
            Statement::CreateAsSelect(c) => {
                if inner.catalog.sources.contains_key(&c.name.0) && !c.if_not_exists {
                    return Err(SqlError::statement(format!(
                        "Cannot add {} '{}': A {} with the same name already exists",
                        c.kind.to_string().to_lowercase(),
                        c.name.0,
                        existing_kind(&inner.catalog, &c.name.0)
                    )));
                }
                let (plan, _, _) = sink_for(c, &inner.catalog)?;
                self.check_copartitioned(&plan)
            }
            Statement::DropSource {
                kind,
                if_exists,
                name,
                ..
            } => match inner.catalog.sources.get(&name.0) {
                None if *if_exists => Ok(()),
                None => Err(SqlError::statement(format!(
                    "{} {} does not exist.",
                    title(*kind),
                    name.0
                ))),
                Some(s) if s.kind != *kind => Err(SqlError::statement(format!(
                    "Incompatible data source type is {}, but statement was DROP {}",
                    s.kind, kind
                ))),
                Some(s) => {
                    let readers: Vec<_> = inner
                        .queries
                        .values()
                        .filter(|q| q.sources.contains(&s.name))
                        .map(|q| q.id.clone())
                        .collect();
                    let writers: Vec<_> = inner
                        .queries
                        .values()
                        .filter(|q| q.sink == s.name)
                        .map(|q| q.id.clone())
                        .collect();
                    if readers.is_empty() && writers.is_empty() {
                        Ok(())
                    } else {
                        Err(SqlError::statement(format!(
                                "Cannot drop {0}.\nThe following queries read from this source: [{1}].\nThe following queries write into this source: [{2}].\nYou need to terminate them before dropping {0}.",
                                s.name, readers.join(", "), writers.join(", ")
                            )))
                    }
                }
            },
            Statement::InsertInto { target, query, .. } => {
                let sink = inner.catalog.get(&target.0)?;
                if sink.kind != SourceKind::Stream {
                    return Err(SqlError::statement(format!(
                        "INSERT INTO can only be used to insert into a stream. {} is a table.",
                        sink.name
                    )));
                }
                let plan = plan::plan(query, &inner.catalog)?;
                check_insert(&plan, sink)?;
                self.check_copartitioned(&plan)
            }
            Statement::Terminate(QueryTarget::Id(id)) => {
                if inner.queries.contains_key(id) || inner.queries.contains_key(&id.to_uppercase())
                {
                    Ok(())
                } else {
                    Err(SqlError::statement(format!("Unknown queryId: {id}")))
                }
            }
            _ => Ok(()),
        }
    }

    /// Applies a metastore statement (a new one, or one replayed from the command topic).
    fn apply(&self, stmt: &ParsedStatement, props: &Props, seq: i64) -> Result<Json, SqlError> {
        let text = stmt.text.as_str();
        let cid = command_id(&stmt.statement);
        match &stmt.statement {
            Statement::CreateSource(c) => {
                let (source, partitions) = catalog::declared_source(c, text)?;
                if self.io.partitions(&source.topic)?.is_none() {
                    if let Some(p) = partitions {
                        self.io.create_topic(&source.topic, p, false)?;
                    }
                }
                let mut inner = lock(&self.inner);
                if inner.catalog.sources.contains_key(&source.name) && c.if_not_exists {
                    return Ok(entities::current_status(
                        text,
                        &cid,
                        &format!(
                            "Cannot add {} '{}': A {} with the same name already exists",
                            c.kind.to_string().to_lowercase(),
                            source.name,
                            c.kind.to_string().to_lowercase()
                        ),
                        None,
                        seq,
                    ));
                }
                inner.catalog.sources.insert(source.name.clone(), source);
                let msg = match c.kind {
                    SourceKind::Stream => "Stream created",
                    SourceKind::Table => "Table created",
                };
                Ok(entities::current_status(text, &cid, msg, None, seq))
            }
            Statement::CreateAsSelect(c) => self.create_as_select(c, text, props, seq),
            Statement::InsertInto { target, query, .. } => {
                self.insert_into(&target.0, query, text, props, seq)
            }
            Statement::DropSource {
                name,
                delete_topic,
                kind,
                ..
            } => {
                let removed = lock(&self.inner).catalog.sources.remove(&name.0);
                let Some(s) = removed else {
                    return Ok(entities::current_status(
                        text,
                        &cid,
                        &format!("Source `{}` does not exist.", name.0),
                        None,
                        seq,
                    ));
                };
                if *delete_topic {
                    self.io.delete_topic(&s.topic)?;
                }
                let _ = kind;
                Ok(entities::current_status(
                    text,
                    &cid,
                    &format!("Source `{}` (topic: {}) was dropped.", s.name, s.topic),
                    None,
                    seq,
                ))
            }
            Statement::Terminate(target) => {
                let mut inner = lock(&self.inner);
                let ids: Vec<String> = match target {
                    QueryTarget::All => inner.queries.keys().cloned().collect(),
                    QueryTarget::Id(id) => vec![if inner.queries.contains_key(id) {
                        id.clone()
                    } else {
                        id.to_uppercase()
                    }],
                };
                for id in ids {
                    if let Some(mut q) = inner.queries.remove(&id) {
                        q.stop.store(true, Ordering::SeqCst);
                        if let Some(t) = q.task.take() {
                            t.abort();
                        }
                        // ksqlDB deletes a terminated query's internal topics.
                        let stores = lock(&q.pipeline).stores();
                        for store in stores {
                            let topic = changelog_topic(&id, &store);
                            if self.io.partitions(&topic).ok().flatten().is_some() {
                                if let Err(e) = self.io.delete_topic(&topic) {
                                    tracing::warn!(query = %id, error = %e, "could not delete a changelog topic");
                                }
                            }
                        }
                    }
                }
                Ok(entities::current_status(
                    text,
                    &cid,
                    "Query terminated.",
                    None,
                    seq,
                ))
            }
            _ => Ok(json!(null)),
        }
    }

    fn create_as_select(
        &self,
        c: &CreateAsSelect,
        text: &str,
        props: &Props,
        seq: i64,
    ) -> Result<Json, SqlError> {
        let (plan, sink, partitions) = {
            let inner = lock(&self.inner);
            if inner.catalog.sources.contains_key(&c.name.0) && c.if_not_exists {
                return Ok(entities::current_status(
                    text,
                    &command_id(&Statement::CreateAsSelect(c.clone())),
                    "already exists",
                    None,
                    seq,
                ));
            }
            sink_for(c, &inner.catalog)?
        };
        let (sink, mut plan) = (sink, plan);
        plan.source.statement.clear();
        let inputs = self.input_topics(&plan)?;
        let source_partitions = inputs[0].1;
        let partitions = partitions.unwrap_or(source_partitions);
        self.io
            .create_topic(&sink.topic, partitions, c.kind == SourceKind::Table)?;
        let prefix = match c.kind {
            SourceKind::Stream => "CSAS",
            SourceKind::Table => "CTAS",
        };
        let id = format!("{prefix}_{}_{seq}", sink.name);
        let cid = command_id(&Statement::CreateAsSelect(c.clone()));
        let codec = self.sink_codec(&sink)?;
        self.start_query(
            &id, plan, sink, codec, partitions, inputs, text, props, true,
        );
        Ok(entities::current_status(
            text,
            &cid,
            &format!("Created query with ID {id}"),
            Some(&id),
            seq,
        ))
    }

    /// `INSERT INTO target SELECT ...`: a persistent query writing into an existing stream.
    fn insert_into(
        &self,
        target: &str,
        query: &Query,
        text: &str,
        props: &Props,
        seq: i64,
    ) -> Result<Json, SqlError> {
        let (mut plan, sink) = {
            let inner = lock(&self.inner);
            let sink = inner.catalog.get(target)?.clone();
            (plan::plan(query, &inner.catalog)?, sink)
        };
        check_insert(&plan, &sink)?;
        plan.source.statement.clear();
        let inputs = self.input_topics(&plan)?;
        let partitions = self.io.partitions(&sink.topic)?.unwrap_or(inputs[0].1);
        let id = format!("INSERTQUERY_{seq}");
        let codec = self.sink_codec(&sink)?;
        self.start_query(
            &id, plan, sink, codec, partitions, inputs, text, props, false,
        );
        Ok(entities::current_status(
            text,
            &format!("stream/`{target}`/create"),
            &format!("Created query with ID {id}"),
            Some(&id),
            seq,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn start_query(
        &self,
        id: &str,
        plan: plan::Plan,
        sink: Source,
        codec: SinkCodec,
        sink_partitions: i32,
        inputs: Vec<(String, i32)>,
        text: &str,
        props: &Props,
        register_sink: bool,
    ) {
        let pipeline = Arc::new(Mutex::new(
            Pipeline::new(plan.clone()).with_schemas(Arc::clone(&self.schemas)),
        ));
        let stop = Arc::new(AtomicBool::new(false));
        let metrics = Arc::new(Mutex::new(QueryMetrics::new(now_ms())));
        let mut handle = QueryHandle {
            id: id.to_string(),
            statement: text.to_string(),
            sink: sink.name.clone(),
            sink_topic: sink.topic.clone(),
            sources: plan.inputs().iter().map(|s| s.name.clone()).collect(),
            sink_source: sink.clone(),
            props: props.clone(),
            pipeline: Arc::clone(&pipeline),
            metrics: Arc::clone(&metrics),
            stop: Arc::clone(&stop),
            task: None,
        };
        let mut inner = lock(&self.inner);
        let offsets = inner.offsets.get(id).cloned();
        if register_sink {
            inner
                .catalog
                .sources
                .insert(sink.name.clone(), sink.clone());
        }
        let runner = QueryRunner {
            io: Arc::clone(&self.io),
            id: id.to_string(),
            inputs,
            sink,
            codec,
            sink_partitions,
            pipeline,
            metrics,
            stop,
            earliest: earliest(props),
            offsets,
        };
        handle.task = Some(tokio::spawn(runner.run()));
        inner.queries.insert(id.to_string(), handle);
    }

    /// `DESCRIBE <source> [EXTENDED]`: the `sourceDescription` entity.
    fn describe(&self, text: &str, name: &str, extended: bool) -> Result<Json, SqlError> {
        let inner = lock(&self.inner);
        let s = inner.catalog.get(name)?.clone();
        let read: Vec<QueryInfo> = inner
            .queries
            .values()
            .filter(|q| q.sources.contains(&s.name))
            .map(QueryHandle::info)
            .collect();
        let write: Vec<QueryInfo> = inner
            .queries
            .values()
            .filter(|q| q.sink == s.name)
            .map(QueryHandle::info)
            .collect();
        let stats = source_stats(&inner, &s.name);
        drop(inner);
        let partitions = self.io.partitions(&s.topic)?.unwrap_or(0);
        Ok(entities::source_description(
            text,
            &s,
            partitions,
            &read,
            &write,
            extended,
            (&stats.0, &stats.1),
        ))
    }

    /// `SHOW QUERIES EXTENDED`: every persistent query's description with its throughput.
    fn query_descriptions(&self, text: &str) -> Json {
        let inner = lock(&self.inner);
        let now = now_ms();
        let host = self.host();
        let details: Vec<OwnedDetail> = inner
            .queries
            .values()
            .map(|q| OwnedDetail::running(q, now, &host))
            .collect();
        drop(inner);
        let views: Vec<entities::QueryDetail> = details.iter().map(OwnedDetail::view).collect();
        entities::query_descriptions(text, &views)
    }

    /// `EXPLAIN <query id>` (a running query) or `EXPLAIN <statement>` (what it would run).
    fn explain(&self, text: &str, target: &ExplainTarget, props: &Props) -> Result<Json, SqlError> {
        let detail = match target {
            ExplainTarget::QueryId(id) => {
                let inner = lock(&self.inner);
                let q = inner
                    .queries
                    .get(id)
                    .or_else(|| inner.queries.get(&id.to_uppercase()))
                    .ok_or_else(|| {
                        SqlError::statement(format!(
                            "Query with id:{id} does not exist, use SHOW QUERIES to view the full set of queries."
                        ))
                    })?;
                OwnedDetail::running(q, now_ms(), &self.host())
            }
            ExplainTarget::Statement(stmt) => {
                let statement = text
                    .trim_start()
                    .get("EXPLAIN".len()..)
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                let seq = self.io.offsets(COMMAND_TOPIC, 0)?.1;
                let (id, plan, sink, query_type) = match stmt.as_ref() {
                    Statement::Query(q) => {
                        let plan = self.plan_select(q)?;
                        if !q.is_push() {
                            return Err(SqlError::statement(
                                "EXPLAIN is only supported for push queries (EMIT CHANGES) and persistent queries.",
                            ));
                        }
                        (self.next_transient(), plan, None, "PUSH")
                    }
                    Statement::CreateAsSelect(c) => {
                        let (plan, sink, _) = sink_for(c, &lock(&self.inner).catalog)?;
                        let prefix = match c.kind {
                            SourceKind::Stream => "CSAS",
                            SourceKind::Table => "CTAS",
                        };
                        (
                            format!("{prefix}_{}_{seq}", sink.name),
                            plan,
                            Some(sink),
                            "PERSISTENT",
                        )
                    }
                    Statement::InsertInto { target, query, .. } => {
                        let inner = lock(&self.inner);
                        let sink = inner.catalog.get(&target.0)?.clone();
                        let plan = plan::plan(query, &inner.catalog)?;
                        check_insert(&plan, &sink)?;
                        (format!("INSERTQUERY_{seq}"), plan, Some(sink), "PERSISTENT")
                    }
                    _ => {
                        return Err(SqlError::statement(
                            "The provided statement does not run a ksql query",
                        ))
                    }
                };
                OwnedDetail {
                    execution_plan: crate::explain::execution_plan(&id, &plan, sink.as_ref()),
                    topology: crate::explain::topology(
                        &plan,
                        sink.as_ref().map(|s| s.topic.as_str()),
                    ),
                    window: sink
                        .as_ref()
                        .map_or(plan.window().map(|w| w.kind), |s| s.window),
                    fields: sink
                        .as_ref()
                        .map_or(plan.output.clone(), |s| s.columns.clone()),
                    sources: plan.inputs().iter().map(|s| s.name.clone()).collect(),
                    sinks: sink.iter().map(|s| s.name.clone()).collect(),
                    id,
                    statement,
                    overridden: props.clone(),
                    host_state: None,
                    query_type,
                    stats: None,
                }
            }
        };
        Ok(entities::query_description_entity(text, &detail.view()))
    }

    /// `host:port` of this server, as `ksqlHostQueryStatus` names it.
    fn host(&self) -> String {
        lock(&self.host).clone()
    }

    /// Sets the `host:port` this server is reached at (the SQL listener's address).
    pub fn set_host(&self, host: impl Into<String>) {
        *lock(&self.host) = host.into();
    }

    fn list(&self, text: &str, kind: &ListKind) -> Result<Json, SqlError> {
        let inner = lock(&self.inner);
        Ok(match kind {
            ListKind::Streams { .. } | ListKind::Tables { .. } => {
                let k = if matches!(kind, ListKind::Streams { .. }) {
                    SourceKind::Stream
                } else {
                    SourceKind::Table
                };
                let list: Vec<&Source> = inner
                    .catalog
                    .sources
                    .values()
                    .filter(|s| s.kind == k)
                    .collect();
                entities::sources_list(text, k, &list)
            }
            ListKind::Queries { .. } => {
                let list: Vec<QueryInfo> = inner.queries.values().map(QueryHandle::info).collect();
                entities::queries_list(text, &list)
            }
            ListKind::Topics { all, .. } => {
                drop(inner);
                let mut topics = self.io.topics()?;
                if !all {
                    topics.retain(|(n, _)| !n.starts_with('_'));
                }
                entities::topics_list(text, &topics)
            }
            ListKind::Properties => {
                json!({"@type": "properties", "statementText": text, "properties": [], "overwrittenProperties": [], "defaultProperties": [], "warnings": []})
            }
            _ => return Err(SqlError::statement("This listing is not supported yet")),
        })
    }

    fn insert_values(
        &self,
        target: &str,
        columns: &[crate::ast::Ident],
        values: &[crate::ast::Expr],
    ) -> Result<(), SqlError> {
        let inserter = self.inserter(target)?;
        let names: Vec<String> = if columns.is_empty() {
            inserter
                .source
                .columns
                .iter()
                .map(|c| c.name.clone())
                .collect()
        } else {
            columns.iter().map(|c| c.0.clone()).collect()
        };
        if names.len() != values.len() {
            return Err(SqlError::statement(format!(
                "Expected a value for each column. Expected Columns: {names:?}. Got {values:?}"
            )));
        }
        let empty = crate::expr::Row {
            schema: &[],
            values: &[],
            meta: RowMeta::default(),
        };
        let named = names
            .into_iter()
            .zip(values)
            .map(|(n, e)| Ok((n, crate::expr::eval(e, &empty)?)))
            .collect::<Result<Vec<_>, SqlError>>()?;
        inserter.insert(named)
    }

    /// The writer of rows into `target` (`INSERT INTO ... VALUES` and `/inserts-stream`):
    /// its columns, the codec of its formats and its partition count, resolved once.
    pub fn inserter(&self, target: &str) -> Result<Inserter, SqlError> {
        let source = lock(&self.inner).catalog.get(target)?.clone();
        let codec = self.sink_codec(&source)?;
        let partitions = self.io.partitions(&source.topic)?.unwrap_or(1);
        Ok(Inserter {
            io: Arc::clone(&self.io),
            source,
            codec,
            partitions,
        })
    }

    /// The registry schemas a sink writes with: VALUE_SCHEMA_ID's, or ksqlDB's schema of its
    /// columns registered under `<topic>-value` (`-key`).
    fn sink_codec(&self, sink: &Source) -> Result<SinkCodec, SqlError> {
        let cols = |kind: ColumnKind| -> Vec<(String, crate::ast::SqlType)> {
            sink.columns
                .iter()
                .filter(|c| c.kind == kind)
                .map(|c| (c.name.clone(), c.ty.clone()))
                .collect()
        };
        let values = cols(ColumnKind::Value);
        let unwrap_value = sink.wrap_single_value == Some(false) && values.len() == 1;
        let value = if sink.value_format.uses_registry() {
            Some(self.schemas.sink_schema(
                &format!("{}-value", sink.topic),
                sink.value_format,
                sink.value_schema_id,
                &values,
                unwrap_value,
                false,
            )?)
        } else {
            None
        };
        let keys = cols(ColumnKind::Key);
        let key = if sink.key_format.uses_registry() && !keys.is_empty() {
            let single = keys.len() == 1;
            Some(self.schemas.sink_schema(
                &format!("{}-key", sink.topic),
                sink.key_format,
                sink.key_schema_id,
                &keys,
                single,
                true,
            )?)
        } else {
            None
        };
        Ok(SinkCodec {
            key,
            value,
            unwrap_value,
            delimiter: sink.delimiter.unwrap_or(','),
            session_window: matches!(sink.window, Some(crate::ast::WindowKind::Session { .. })),
        })
    }

    /// A CREATE STREAM|TABLE over a registry format without value (key) columns gets them
    /// from the latest schema of `<topic>-value` (`-key`), or VALUE_SCHEMA_ID's, as ksqlDB
    /// does; the statement is rewritten with the columns (so a replay needs no registry).
    fn infer_columns(&self, stmt: &ParsedStatement) -> Result<Option<ParsedStatement>, SqlError> {
        use crate::ast::{ColumnConstraint, ColumnDef, Ident};
        let Statement::CreateSource(c) = &stmt.statement else {
            return Ok(None);
        };
        let props = catalog::source_props(&c.properties)?;
        let Some(topic) = props.topic.clone() else {
            return Ok(None);
        };
        let is_key = |d: &ColumnDef| {
            matches!(
                d.constraint,
                Some(ColumnConstraint::Key | ColumnConstraint::PrimaryKey)
            )
        };
        let key_constraint = match c.kind {
            SourceKind::Stream => ColumnConstraint::Key,
            SourceKind::Table => ColumnConstraint::PrimaryKey,
        };
        let mut c = c.clone();
        let mut changed = false;
        if props.key_format.uses_registry() && !c.columns.iter().any(is_key) {
            let subject = format!("{topic}-key");
            if let Some((_, inferred)) =
                self.schemas
                    .infer(&subject, props.key_schema_id, props.key_format)?
            {
                let keys: Vec<ColumnDef> = match inferred {
                    Inferred::Fields(f) => f,
                    Inferred::Single(t) => vec![("ROWKEY".to_string(), t)],
                }
                .into_iter()
                .map(|(n, ty)| ColumnDef {
                    name: Ident::new(n),
                    ty,
                    constraint: Some(key_constraint.clone()),
                })
                .collect();
                c.columns.splice(0..0, keys);
                changed = true;
            }
        }
        let value_format = props.value_format.unwrap_or(Format::None);
        if value_format.uses_registry() && c.columns.iter().all(is_key) {
            let subject = format!("{topic}-value");
            match self
                .schemas
                .infer(&subject, props.value_schema_id, value_format)?
            {
                Some((_, Inferred::Fields(f))) => {
                    c.columns.extend(f.into_iter().map(|(n, ty)| ColumnDef {
                        name: Ident::new(n),
                        ty,
                        constraint: None,
                    }));
                    changed = true;
                }
                Some((_, Inferred::Single(ty))) => {
                    c.columns.push(ColumnDef {
                        name: Ident::new("ROWVAL"),
                        ty,
                        constraint: None,
                    });
                    changed = true;
                }
                None => {
                    return Err(SqlError::statement(format!(
                        "Schema for message values on topic '{topic}' does not exist in the Schema Registry.\nSubject: {subject}"
                    )))
                }
            }
        }
        if !changed {
            return Ok(None);
        }
        let statement = Statement::CreateSource(c);
        let mut text = statement.to_string();
        if stmt.text.trim_end().ends_with(';') {
            text.push(';');
        }
        Ok(Some(ParsedStatement {
            text,
            statement,
            line: stmt.line,
            column: stmt.column,
        }))
    }

    /// ksqlDB's co-partitioning rule: the inputs of a join have equal partition counts.
    fn check_copartitioned(&self, plan: &plan::Plan) -> Result<(), SqlError> {
        let Some(j) = &plan.join else {
            return Ok(());
        };
        let count = |s: &Source| -> Result<i32, SqlError> {
            Ok(self.io.partitions(&s.topic)?.unwrap_or(0))
        };
        let left = &j.inputs[0].source;
        let ln = count(left)?;
        for step in &j.steps {
            let right = &j.inputs[step.right].source;
            let rn = count(right)?;
            if ln != rn {
                return Err(SqlError::statement(format!(
                    "Can't join `{0}` with `{1}` since the number of partitions don't match. `{0}` partitions = {ln}; `{1}` partitions = {rn}. Please repartition either one so that the number of partitions match.",
                    left.name, right.name
                )));
            }
        }
        Ok(())
    }

    /// Each input topic of a persistent query with its partition count (they must exist).
    fn input_topics(&self, plan: &plan::Plan) -> Result<Vec<(String, i32)>, SqlError> {
        plan.inputs()
            .iter()
            .map(|s| {
                let n = self.io.partitions(&s.topic)?.ok_or_else(|| {
                    SqlError::statement(format!("Topic '{}' does not exist.", s.topic))
                })?;
                Ok((s.topic.clone(), n))
            })
            .collect()
    }

    fn next_transient(&self) -> String {
        let n = self.transient.fetch_add(1, Ordering::Relaxed);
        format!("transient_{}_{n}", now_ms())
    }

    /// Plans a SELECT (for the query endpoints) and says whether it is a push query.
    pub fn plan_select(&self, query: &Query) -> Result<plan::Plan, SqlError> {
        plan::plan(query, &lock(&self.inner).catalog)
    }

    /// Starts a push query (`EMIT CHANGES`): rows stream until the receiver is dropped or LIMIT.
    pub fn push_query(&self, query: &Query, props: &Props) -> Result<PushQuery, SqlError> {
        let plan = self.plan_select(query)?;
        let inputs: Vec<(String, i32)> = plan
            .inputs()
            .iter()
            .map(|s| {
                let n = self.io.partitions(&s.topic)?.unwrap_or(0);
                Ok((s.topic.clone(), n))
            })
            .collect::<Result<_, SqlError>>()?;
        let (tx, rx) = mpsc::channel(1024);
        let id = self.next_transient();
        let columns = plan.output.clone();
        let io = Arc::clone(&self.io);
        let from_start = earliest(props);
        let limit = plan.limit;
        let mut pipeline = Pipeline::new(plan).with_schemas(Arc::clone(&self.schemas));
        let stop = Arc::new(AtomicBool::new(false));
        lock(&self.push_queries).insert(id.clone(), Arc::clone(&stop));
        let registry = Arc::clone(&self.push_queries);
        let task_id = id.clone();
        tokio::spawn(async move {
            push_loop(&io, &mut pipeline, inputs, from_start, limit, &tx, &stop).await;
            lock(&registry).remove(&task_id);
        });
        Ok(PushQuery {
            id,
            columns,
            rows: rx,
        })
    }

    /// Starts a `PRINT <topic>`: its text lines (see [`crate::print`]) stream until LIMIT or
    /// the receiver is dropped; an empty line is sent each second nothing arrives (ksqlDB's
    /// keep-alive). The topic is found as written, or ignoring case when it was unquoted.
    pub fn print_topic(&self, p: &crate::ast::Print) -> Result<mpsc::Receiver<String>, SqlError> {
        if let Some(0) = p.interval {
            return Err(SqlError::statement(
                "INTERVAL must be greater than one, but was: 0",
            ));
        }
        let topics = self.io.topics()?;
        let (topic, partitions) = topics
            .iter()
            .find(|(n, _)| *n == p.topic)
            .or_else(|| {
                p.case_insensitive
                    .then(|| topics.iter().find(|(n, _)| n.eq_ignore_ascii_case(&p.topic)))
                    .flatten()
            })
            .cloned()
            .ok_or_else(|| {
                SqlError::statement(format!(
                    "Could not find topic '{}', or the KSQL user does not have permissions to list the topic. Topic names are case-sensitive.",
                    p.topic
                ))
            })?;
        let (tx, rx) = mpsc::channel(256);
        let io = Arc::clone(&self.io);
        let schemas = Arc::clone(&self.schemas);
        let mut printer = crate::print::Printer::new(p.interval.unwrap_or(1), p.limit);
        let from_beginning = p.from_beginning;
        tokio::spawn(async move {
            let mut next: Vec<i64> = (0..partitions)
                .map(|part| {
                    io.offsets(&topic, part)
                        .map(|(s, e)| if from_beginning { s } else { e })
                        .unwrap_or(0)
                })
                .collect();
            let mut idle_since = std::time::Instant::now();
            while !printer.done() {
                let mut polled: Vec<(i32, InRecord)> = Vec::new();
                for (part, at) in next.iter_mut().enumerate() {
                    match io.read(&topic, part as i32, *at, READ_BYTES) {
                        Ok(recs) => {
                            if let Some(last) = recs.last() {
                                *at = last.offset + 1;
                            }
                            polled.extend(recs.into_iter().map(|r| (part as i32, r)));
                        }
                        Err(e) => {
                            let _ = tx.send(e.message().to_string()).await;
                            return;
                        }
                    }
                }
                if polled.is_empty() {
                    if idle_since.elapsed() >= Duration::from_secs(1) {
                        idle_since = std::time::Instant::now();
                        if tx.send(String::new()).await.is_err() {
                            return;
                        }
                    }
                    if tx.is_closed() {
                        return;
                    }
                    tokio::time::sleep(IDLE).await;
                    continue;
                }
                idle_since = std::time::Instant::now();
                let refs: Vec<(i32, &InRecord)> = polled.iter().map(|(p, r)| (*p, r)).collect();
                for line in printer.lines(&refs, &schemas) {
                    if tx.send(line).await.is_err() {
                        return;
                    }
                }
                tokio::task::yield_now().await;
            }
        });
        Ok(rx)
    }

    /// Stops a push query (`POST /close-query`); false when no such query runs.
    pub fn close_query(&self, id: &str) -> bool {
        match lock(&self.push_queries).remove(id) {
            Some(stop) => {
                stop.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// Runs a pull query: a materialized table's current rows, or a stream's retained records.
    pub fn pull_query(&self, query: &Query) -> Result<PullResult, SqlError> {
        let plan = self.plan_select(query)?;
        if plan.join.is_some() {
            return Err(SqlError::statement(
                "Pull queries don't support JOIN clauses.",
            ));
        }
        let id = self.next_transient();
        let columns = plan.output.clone();
        let limit = plan.limit.map_or(usize::MAX, |l| l as usize);
        if plan.source.kind == SourceKind::Table {
            let materialized = {
                let inner = lock(&self.inner);
                inner
                    .queries
                    .values()
                    .find(|q| q.sink == plan.source.name)
                    .and_then(|q| lock(&q.pipeline).materialized())
            };
            let Some(rows) = materialized else {
                return Err(SqlError::statement(format!(
                    "The `{0}` table isn't queryable. To derive a queryable table, you can do 'CREATE TABLE QUERYABLE_{0} AS SELECT * FROM {0}'.",
                    plan.source.name
                )));
            };
            let mut pipeline = Pipeline::new(plan).with_schemas(Arc::clone(&self.schemas));
            let mut out = Vec::new();
            for row in rows {
                for r in pipeline.process_row(row.values, row.meta)? {
                    if out.len() < limit {
                        out.push(r.values);
                    }
                }
            }
            return Ok(PullResult {
                id,
                columns,
                rows: out,
            });
        }
        // A stream: a scan of what its topic holds now.
        let topic = plan.source.topic.clone();
        let partitions = self.io.partitions(&topic)?.unwrap_or(0);
        let mut pipeline = Pipeline::new(plan).with_schemas(Arc::clone(&self.schemas));
        let mut out = Vec::new();
        for p in 0..partitions {
            let (mut next, end) = self.io.offsets(&topic, p)?;
            while next < end && out.len() < limit {
                let recs = self.io.read(&topic, p, next, READ_BYTES)?;
                let Some(last) = recs.last().map(|r| r.offset) else {
                    break;
                };
                next = last + 1;
                for r in recs.iter().filter(|r| r.offset < end) {
                    for row in pipeline.process(p, r)?.into_iter().filter(|r| !r.tombstone) {
                        if out.len() < limit {
                            out.push(row.values);
                        }
                    }
                }
            }
        }
        Ok(PullResult {
            id,
            columns,
            rows: out,
        })
    }

    /// Stops every query task (the server is shutting down).
    pub fn shutdown(&self) {
        let mut inner = lock(&self.inner);
        for q in inner.queries.values_mut() {
            q.stop.store(true, Ordering::SeqCst);
            if let Some(t) = q.task.take() {
                t.abort();
            }
        }
    }

    /// Rows processed and skipped by a query (for tests and SHOW QUERIES EXTENDED).
    pub fn query_counts(&self, id: &str) -> Option<(u64, u64)> {
        let inner = lock(&self.inner);
        let q = inner.queries.get(id)?;
        let p = lock(&q.pipeline);
        Some((p.processed, p.skipped))
    }
}

/// A query description's data, owned (taken under the engine lock, rendered after).
struct OwnedDetail {
    id: String,
    statement: String,
    window: Option<crate::ast::WindowKind>,
    fields: Vec<Column>,
    sources: Vec<String>,
    sinks: Vec<String>,
    topology: String,
    execution_plan: String,
    overridden: Props,
    host_state: Option<(String, &'static str)>,
    query_type: &'static str,
    stats: Option<(String, String)>,
}

impl OwnedDetail {
    fn running(q: &QueryHandle, now: i64, host: &str) -> OwnedDetail {
        let plan = lock(&q.pipeline).plan.clone();
        let s = q.stats(now);
        let mut list = crate::metrics::consumer_stats(&s);
        list.extend(crate::metrics::producer_stats(&s));
        OwnedDetail {
            id: q.id.clone(),
            statement: q.statement.clone(),
            window: q.sink_source.window,
            fields: q.sink_source.columns.clone(),
            sources: q.sources.clone(),
            sinks: vec![q.sink.clone()],
            topology: crate::explain::topology(&plan, Some(&q.sink_topic)),
            execution_plan: crate::explain::execution_plan(&q.id, &plan, Some(&q.sink_source)),
            overridden: q.props.clone(),
            host_state: Some((host.to_string(), "RUNNING")),
            query_type: "PERSISTENT",
            stats: Some((
                crate::metrics::format_stats(&list, "last-message", s.last_message),
                crate::metrics::error_stats(&s),
            )),
        }
    }

    fn view(&self) -> entities::QueryDetail<'_> {
        entities::QueryDetail {
            id: &self.id,
            statement: &self.statement,
            window: self.window,
            fields: &self.fields,
            sources: &self.sources,
            sinks: &self.sinks,
            topology: self.topology.clone(),
            execution_plan: self.execution_plan.clone(),
            overridden: &self.overridden,
            host_state: self.host_state.as_ref().map(|(h, s)| (h.as_str(), *s)),
            query_type: self.query_type,
            stats: self.stats.clone(),
        }
    }
}

/// `DESCRIBE EXTENDED`'s `statistics` and `errorStats` of a source: what the queries reading
/// it consumed (and failed on) and what the queries writing it produced.
fn source_stats(inner: &Inner, name: &str) -> (String, String) {
    let now = now_ms();
    let (mut read, mut written) = (None::<QueryStats>, None::<QueryStats>);
    for q in inner.queries.values() {
        let reads = q.sources.iter().any(|s| s == name);
        let writes = q.sink == name;
        if !reads && !writes {
            continue;
        }
        let s = q.stats(now);
        if reads {
            read.get_or_insert_with(QueryStats::default).add(&s);
        }
        if writes {
            written.get_or_insert_with(QueryStats::default).add(&s);
        }
    }
    let mut list = Vec::new();
    let mut last = 0;
    if let Some(r) = &read {
        list.extend(crate::metrics::consumer_stats(r));
        last = last.max(r.consumed_last());
    }
    if let Some(w) = &written {
        list.extend(crate::metrics::producer_stats(w));
        last = last.max(w.produced_last());
    }
    let errors = read
        .map(|r| crate::metrics::error_stats(&r))
        .unwrap_or_default();
    (
        crate::metrics::format_stats(&list, "last-message", last),
        errors,
    )
}

fn title(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Stream => "Stream",
        SourceKind::Table => "Table",
    }
}

fn existing_kind(catalog: &Catalog, name: &str) -> String {
    catalog
        .sources
        .get(name)
        .map_or("source".into(), |s| s.kind.to_string().to_lowercase())
}

/// ksqlDB's command id: `stream/`NAME`/create`, `terminate/ID/execute`, ...
fn command_id(s: &Statement) -> String {
    match s {
        Statement::CreateSource(c) => format!(
            "{}/`{}`/create",
            c.kind.to_string().to_lowercase(),
            c.name.0
        ),
        Statement::CreateAsSelect(c) => format!(
            "{}/`{}`/create",
            c.kind.to_string().to_lowercase(),
            c.name.0
        ),
        Statement::DropSource { kind, name, .. } => {
            format!("{}/`{}`/drop", kind.to_string().to_lowercase(), name.0)
        }
        Statement::InsertInto { target, .. } => format!("stream/`{}`/create", target.0),
        Statement::Terminate(QueryTarget::Id(id)) => format!("terminate/{id}/execute"),
        Statement::Terminate(QueryTarget::All) => "terminate/ALL/execute".into(),
        _ => "unknown".into(),
    }
}

/// The plan, the sink source and its partition count of a CSAS/CTAS.
fn sink_for(
    c: &CreateAsSelect,
    catalog: &Catalog,
) -> Result<(plan::Plan, Source, Option<i32>), SqlError> {
    let plan = plan::plan(&c.query, catalog)?;
    plan.check_persistent(&c.name.0)?;
    let props = catalog::source_props(&c.properties)?;
    for k in ["WINDOW_TYPE", "WINDOW_SIZE"] {
        if c.properties.get(k).is_some() {
            return Err(SqlError::statement(format!(
                "Invalid config variable(s) in the WITH clause: {k}"
            )));
        }
    }
    let aggregate = plan.is_aggregate();
    match (c.kind, aggregate) {
        (SourceKind::Stream, true) => {
            return Err(SqlError::statement(
                "Invalid result type. Your SELECT query produces a TABLE. Please use CREATE TABLE AS SELECT statement instead.",
            ))
        }
        (SourceKind::Table, false) if plan.source.kind == SourceKind::Stream => {
            return Err(SqlError::statement(
                "Invalid result type. Your SELECT query produces a STREAM. Please use CREATE STREAM AS SELECT statement instead.",
            ))
        }
        _ => {}
    }
    if plan.limit.is_some() {
        return Err(SqlError::statement(
            "CREATE AS SELECT statements don't support LIMIT clause.",
        ));
    }
    let key_format =
        if c.properties.get("KEY_FORMAT").is_some() || c.properties.get("FORMAT").is_some() {
            props.key_format
        } else {
            plan.source.key_format
        };
    let keys = plan
        .output
        .iter()
        .filter(|c| c.kind == ColumnKind::Key)
        .count();
    if keys > 1 && key_format == Format::Kafka {
        return Err(SqlError::statement(
            "The 'KAFKA' format only supports a single field. Got: multiple key columns. Use KEY_FORMAT='JSON'.",
        ));
    }
    let sink = Source {
        name: c.name.0.clone(),
        kind: c.kind,
        topic: props.topic.unwrap_or_else(|| c.name.0.clone()),
        key_format,
        value_format: props.value_format.unwrap_or(plan.source.value_format),
        columns: plan.output.clone(),
        window: plan.window().map(|w| w.kind),
        timestamp_column: None,
        timestamp_format: None,
        headers: Vec::new(),
        statement: String::new(),
        value_schema_id: props.value_schema_id,
        key_schema_id: props.key_schema_id,
        wrap_single_value: props.wrap_single_value,
        delimiter: props.delimiter,
    };
    let (keys, values): (Vec<Column>, Vec<Column>) = sink
        .columns
        .iter()
        .cloned()
        .partition(|c| c.kind == ColumnKind::Key);
    catalog::check_formats(&keys, &values, sink.key_format, sink.value_format)?;
    Ok((plan, sink, props.partitions))
}

/// Prefixes ksqlDB's `Line: L, Col: C: ` to an error naming an unknown column or source, at
/// the name's first occurrence in the statement (as a whole word, outside string literals),
/// in the request's own lines and columns.
pub fn with_position(e: SqlError, stmt: &ParsedStatement) -> SqlError {
    let SqlError::Statement { message, statement } = e else {
        return e;
    };
    let name = if let Some(rest) = message.split_once("column '").map(|(_, r)| r) {
        rest.split('\'').next().map(str::to_string)
    } else {
        message
            .strip_suffix(" does not exist.")
            .filter(|n| !n.contains(' '))
            .map(str::to_string)
    };
    let position = name
        .and_then(|n| locate(&stmt.text, &n))
        .map(|(line, col)| {
            if line == 1 {
                (stmt.line, stmt.column + col - 1)
            } else {
                (stmt.line + line - 1, col)
            }
        });
    match position {
        Some((line, col)) if !message.starts_with("Line: ") => SqlError::Statement {
            message: format!("Line: {line}, Col: {col}: {message}"),
            statement,
        },
        _ => SqlError::Statement { message, statement },
    }
}

/// 1-based (line, column) of `name` as a whole identifier in `text`, ignoring case and quoted
/// strings.
fn locate(text: &str, name: &str) -> Option<(u64, u64)> {
    let chars: Vec<char> = text.chars().collect();
    let target: Vec<char> = name.chars().collect();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let (mut line, mut col) = (1u64, 1u64);
    let mut in_string = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            in_string = !in_string;
        } else if !in_string
            && (i == 0 || !ident(chars[i - 1]))
            && chars.len() - i >= target.len()
            && chars[i..i + target.len()]
                .iter()
                .zip(&target)
                .all(|(a, b)| a.to_uppercase().eq(b.to_uppercase()))
            && chars.get(i + target.len()).is_none_or(|n| !ident(*n))
        {
            return Some((line, col));
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
        i += 1;
    }
    None
}

/// INSERT INTO needs the query's result schema to be the target's.
fn check_insert(plan: &plan::Plan, sink: &Source) -> Result<(), SqlError> {
    plan.check_persistent(&sink.name)?;
    if plan.is_aggregate() {
        return Err(SqlError::statement(
            "INSERT INTO can only be used with a query that produces a stream.",
        ));
    }
    if plan.output != sink.columns {
        let show = |cols: &[Column]| {
            cols.iter()
                .map(|c| {
                    format!(
                        "`{}` {}{}",
                        c.name,
                        crate::value::type_name(&c.ty),
                        if c.kind == ColumnKind::Key {
                            " KEY"
                        } else {
                            ""
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(SqlError::statement(format!(
            "Incompatible schema between results and sink.\nResult schema is {}\nSink schema is {}",
            show(&plan.output),
            show(&sink.columns)
        )));
    }
    Ok(())
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// One changelog topic as read at start.
#[derive(Default)]
struct StoreRead {
    /// The number of the last batch whose changes were applied.
    applied: Option<u64>,
    /// The last complete batch read: its changes (not applied yet), marker and number.
    last: Option<(Vec<ChangelogRecord>, Json, u64)>,
    /// Keys written after the last marker (a write cut short).
    tail: Vec<Vec<u8>>,
}

type ChangelogRecord = (bytes::Bytes, Option<bytes::Bytes>);

/// What the changelogs gave back.
enum Restored {
    /// No commit marker anywhere: nothing was restored.
    Nothing,
    /// The state as of batch `batch`: the input offsets it reflects, and the keys whose
    /// changelog records are past that batch (to be written again from the restored state).
    At {
        committed: BTreeMap<i32, i64>,
        batch: u64,
        rewrite: Vec<Vec<u8>>,
        ahead: bool,
    },
    /// The changelogs do not hold one common batch (some lost, or compacted past it).
    Inconsistent,
}

/// The batch number of a commit marker (markers written before batches were numbered: 0).
fn batch_of(marker: &Json) -> u64 {
    marker["batch"].as_u64().unwrap_or(0)
}

fn committed_of(marker: &Json) -> BTreeMap<i32, i64> {
    marker["committed"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(p, o)| Some((p.parse().ok()?, o.as_i64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// One persistent query's loop.
struct QueryRunner {
    io: Arc<dyn StreamIo>,
    id: String,
    /// Each input's topic and partition count (offsets are kept under
    /// `input * INPUT_STRIDE + partition`).
    inputs: Vec<(String, i32)>,
    sink: Source,
    codec: SinkCodec,
    sink_partitions: i32,
    pipeline: Arc<Mutex<Pipeline>>,
    metrics: Arc<Mutex<QueryMetrics>>,
    stop: Arc<AtomicBool>,
    earliest: bool,
    offsets: Option<QueryOffsets>,
}

impl QueryRunner {
    async fn run(self) {
        if let Err(e) = self.run_inner().await {
            tracing::error!(query = %self.id, error = %e, "persistent query stopped");
        }
    }

    fn commit(&self, o: &QueryOffsets) -> Result<(), SqlError> {
        let m = |x: &BTreeMap<i32, i64>| -> Json {
            x.iter()
                .map(|(p, o)| (p.to_string(), json!(o)))
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        let v = json!({"start": m(&o.start), "committed": m(&o.committed)});
        self.io.append(
            OFFSETS_TOPIC,
            0,
            &[OutRecord {
                timestamp: now_ms(),
                key: Some(self.id.clone().into_bytes()),
                value: Some(v.to_string().into_bytes()),
            }],
        )
    }

    /// Every (input, topic, partition, offsets key) the query reads.
    fn slots(&self) -> Vec<(usize, &str, i32, i32)> {
        let mut out = Vec::new();
        for (i, (topic, parts)) in self.inputs.iter().enumerate() {
            for p in 0..*parts {
                out.push((i, topic.as_str(), p, i as i32 * INPUT_STRIDE + p));
            }
        }
        out
    }

    /// Appends the state changed since the last call to each store's changelog topic
    /// (`topics`, in [`Pipeline::stores`] order), each write ending with the same commit marker:
    /// the next batch number, `offsets` and the counters. A restore applies changes only up
    /// to the last batch every topic completed, so the state and the input offsets it reflects
    /// always agree.
    fn write_changelog(
        &self,
        topics: &[String],
        offsets: &QueryOffsets,
        batch: &mut u64,
    ) -> Result<(), SqlError> {
        let (changes, counters) = {
            let mut pl = lock(&self.pipeline);
            (pl.take_changes(), pl.counters())
        };
        *batch += 1;
        let ts = now_ms();
        let committed: serde_json::Map<String, Json> = offsets
            .committed
            .iter()
            .map(|(p, o)| (p.to_string(), json!(o)))
            .collect();
        let mut per_topic: Vec<Vec<OutRecord>> = vec![Vec::new(); topics.len()];
        for (store, key, value) in changes {
            if let Some(recs) = per_topic.get_mut(store) {
                recs.push(OutRecord {
                    timestamp: ts,
                    key: Some(key),
                    value,
                });
            }
        }
        let marker = json!({"committed": committed, "counters": counters, "batch": *batch})
            .to_string()
            .into_bytes();
        for (topic, mut recs) in topics.iter().zip(per_topic) {
            recs.push(OutRecord {
                timestamp: ts,
                key: Some(StateKey::Commit.encode()),
                value: Some(marker.clone()),
            });
            self.io.append(topic, 0, &recs)?;
        }
        Ok(())
    }

    /// Reads one changelog topic, applying every batch but the last (which waits until all
    /// the topics are read: it is applied only when they all completed it).
    fn read_changelog(&self, topic: &str) -> Result<StoreRead, SqlError> {
        let (mut next, end) = self.io.offsets(topic, 0)?;
        let mut read = StoreRead::default();
        let mut pending: Vec<ChangelogRecord> = Vec::new();
        let mut undecodable = 0u64;
        while next < end {
            let recs = self.io.read(topic, 0, next, READ_BYTES)?;
            let Some(last) = recs.last().map(|r| r.offset) else {
                break;
            };
            next = last + 1;
            for r in recs {
                let Some(key) = r.key else { continue };
                if StateKey::decode(&key) != Some(StateKey::Commit) {
                    pending.push((key, r.value));
                    continue;
                }
                let marker: Json = r
                    .value
                    .and_then(|v| serde_json::from_slice(&v).ok())
                    .unwrap_or(Json::Null);
                if let Some((changes, _, n)) = read.last.take() {
                    undecodable += self.apply_changes(&changes);
                    read.applied = Some(n);
                }
                let n = batch_of(&marker);
                read.last = Some((std::mem::take(&mut pending), marker, n));
            }
        }
        if undecodable > 0 {
            tracing::warn!(query = %self.id, topic, undecodable, "changelog records that do not decode were skipped");
        }
        read.tail = pending.into_iter().map(|(k, _)| k.to_vec()).collect();
        Ok(read)
    }

    /// Puts changelog records into the pipeline; returns how many did not decode.
    fn apply_changes(&self, changes: &[ChangelogRecord]) -> u64 {
        let mut pl = lock(&self.pipeline);
        changes
            .iter()
            .filter(|(k, v)| !pl.restore(k, v.as_deref()))
            .count() as u64
    }

    /// Reads the changelogs into the pipeline up to the last batch all of them completed
    /// (writes go topic after topic, so a crash leaves some topics one batch ahead: their
    /// last batch is left out and its keys written again from the restored state).
    fn restore_changelogs(&self, topics: &[String]) -> Result<Restored, SqlError> {
        let mut reads = Vec::with_capacity(topics.len());
        for t in topics {
            reads.push(self.read_changelog(t)?);
        }
        let lasts: Vec<Option<u64>> = reads.iter().map(|r| r.last.as_ref().map(|l| l.2)).collect();
        if lasts.iter().all(Option::is_none) {
            return Ok(Restored::Nothing);
        }
        let Some(at) = lasts.iter().copied().collect::<Option<Vec<u64>>>() else {
            return Ok(Restored::Inconsistent);
        };
        let batch = at.iter().copied().min().unwrap_or(0);
        let mut marker = Json::Null;
        let mut rewrite = Vec::new();
        let mut ahead = false;
        let mut undecodable = 0u64;
        for read in reads {
            let Some((changes, m, n)) = read.last else {
                return Ok(Restored::Inconsistent);
            };
            if n == batch {
                undecodable += self.apply_changes(&changes);
                marker = m;
            } else if n == batch + 1 && read.applied == Some(batch) {
                ahead = true;
                rewrite.extend(changes.into_iter().map(|(k, _)| k.to_vec()));
            } else {
                return Ok(Restored::Inconsistent);
            }
            rewrite.extend(read.tail);
        }
        if undecodable > 0 {
            tracing::warn!(query = %self.id, undecodable, "changelog records that do not decode were skipped");
        }
        lock(&self.pipeline).restore_counters(&marker["counters"]);
        Ok(Restored::At {
            committed: committed_of(&marker),
            batch,
            rewrite,
            ahead,
        })
    }

    async fn run_inner(&self) -> Result<(), SqlError> {
        let fresh = self.offsets.is_none();
        let mut offsets = match &self.offsets {
            Some(o) => o.clone(),
            None => {
                let mut o = QueryOffsets::default();
                for (_, topic, p, slot) in self.slots() {
                    let (s, e) = self.io.offsets(topic, p)?;
                    let at = if self.earliest { s } else { e };
                    o.start.insert(slot, at);
                    o.committed.insert(slot, at);
                }
                self.commit(&o)?;
                o
            }
        };
        // The state comes back from the changelogs of its stores, up to the last batch they
        // all completed, and the query continues from the offsets that batch's marker holds.
        let changelogs: Vec<String> = lock(&self.pipeline)
            .stores()
            .iter()
            .map(|store| changelog_topic(&self.id, store))
            .collect();
        let mut batch = 0u64;
        let mut restored = false;
        if !changelogs.is_empty() {
            for topic in &changelogs {
                self.io.create_topic(topic, 1, true)?;
            }
            let mut rewrite_needed = fresh;
            if !fresh {
                match self.restore_changelogs(&changelogs)? {
                    Restored::At {
                        committed,
                        batch: b,
                        rewrite,
                        ahead,
                    } => {
                        offsets.committed = committed;
                        batch = b;
                        restored = true;
                        rewrite_needed = ahead || !rewrite.is_empty();
                        lock(&self.pipeline).mark_dirty(&rewrite);
                    }
                    Restored::Nothing => {}
                    Restored::Inconsistent => {
                        tracing::warn!(query = %self.id, "the changelogs do not agree: rebuilding the state from the inputs");
                        lock(&self.pipeline).reset();
                        // The rebuilt state is written afresh: keys of the old changelogs that
                        // it no longer holds (window entries numbered differently by the
                        // replay) must not come back at the next restart.
                        for topic in &changelogs {
                            self.io.delete_topic(topic)?;
                            self.io.create_topic(topic, 1, true)?;
                        }
                    }
                }
            }
            if fresh || restored {
                if rewrite_needed {
                    self.write_changelog(&changelogs, &offsets, &mut batch)?;
                }
                self.commit(&offsets)?;
            }
        }
        // Otherwise (no usable changelog: a data directory from before them) rebuild the
        // state: replay [start, committed) without output.
        let stateful = {
            let pl = lock(&self.pipeline);
            pl.plan.is_aggregate() || pl.plan.join.is_some()
        };
        if stateful && !fresh && !restored {
            for (input, topic, p, slot) in self.slots() {
                let mut next = offsets.start.get(&slot).copied().unwrap_or(0);
                let end = offsets.committed.get(&slot).copied().unwrap_or(next);
                let (log_start, _) = self.io.offsets(topic, p)?;
                next = next.max(log_start);
                while next < end {
                    let recs = self.io.read(topic, p, next, READ_BYTES)?;
                    let Some(last) = recs.last().map(|r| r.offset) else {
                        break;
                    };
                    next = last + 1;
                    {
                        let mut pl = lock(&self.pipeline);
                        for r in recs.iter().filter(|r| r.offset < end) {
                            pl.process_input(input, p, r)?;
                        }
                    }
                    tokio::task::yield_now().await;
                }
            }
            if !changelogs.is_empty() {
                // From now on the changelogs hold the whole state.
                lock(&self.pipeline).mark_all_dirty();
                self.write_changelog(&changelogs, &offsets, &mut batch)?;
            }
        }
        let joined = self.inputs.len() > 1;
        lock(&self.metrics).started = now_ms();
        while !self.stop.load(Ordering::SeqCst) {
            // One batch from every partition of every input.
            let mut fetched: Vec<(usize, i32, i32, Vec<InRecord>)> = Vec::new();
            // Whether a batch stopped short of its partition's end.
            let mut more: Vec<bool> = Vec::new();
            for (input, topic, p, slot) in self.slots() {
                let from = offsets.committed.get(&slot).copied().unwrap_or(0);
                let recs = match self.io.read(topic, p, from, READ_BYTES) {
                    Ok(r) => r,
                    Err(e) => {
                        // Retention may have removed what we wanted: continue from the log start.
                        let (s, _) = self.io.offsets(topic, p)?;
                        if s > from {
                            offsets.committed.insert(slot, s);
                            continue;
                        }
                        return Err(e);
                    }
                };
                if let Some(last) = recs.last() {
                    let (_, end) = self.io.offsets(topic, p)?;
                    more.push(last.offset + 1 < end);
                    fetched.push((input, p, slot, recs));
                }
            }
            if fetched.is_empty() {
                tokio::time::sleep(IDLE).await;
                continue;
            }
            // A join takes what its inputs hold in timestamp order (as a Kafka Streams task
            // picks the partition whose next record is oldest, waiting for a partition whose
            // buffer ran dry while it has more); one source, partition by partition.
            let order = if joined {
                merge_by_timestamp(&fetched, &more)
            } else {
                fetched
                    .iter()
                    .enumerate()
                    .flat_map(|(b, f)| (0..f.3.len()).map(move |i| (b, i)))
                    .collect()
            };
            let mut by_partition: BTreeMap<i32, Vec<OutRecord>> = BTreeMap::new();
            let skipped_before;
            let skipped_after;
            // How many records of each batch are taken this round (the rest is read again).
            let mut taken = vec![0usize; fetched.len()];
            {
                let mut pl = lock(&self.pipeline);
                skipped_before = pl.skipped;
                for (b, i) in order {
                    taken[b] = i + 1;
                    let (input, p, _, recs) = &fetched[b];
                    for row in pl.process_input(*input, *p, &recs[i])? {
                        let rec = sink::encode(
                            &self.sink.columns,
                            self.sink.key_format,
                            Some(self.sink.value_format),
                            &row,
                            &self.codec,
                        )?;
                        let sp = sink::partition_for(rec.key.as_deref(), self.sink_partitions, *p);
                        by_partition.entry(sp).or_default().push(rec);
                    }
                }
                skipped_after = pl.skipped;
            }
            let mut produced = 0u64;
            for (sp, recs) in by_partition {
                produced += recs.len() as u64;
                self.io.append(&self.sink.topic, sp, &recs)?;
            }
            {
                let (n, bytes) = fetched
                    .iter()
                    .zip(&taken)
                    .flat_map(|(f, t)| &f.3[..*t])
                    .fold((0u64, 0u64), |(n, b), r| {
                        let size = r.key.as_ref().map_or(0, |k| k.len())
                            + r.value.as_ref().map_or(0, |v| v.len());
                        (n + 1, b + size as u64)
                    });
                let now = now_ms();
                let mut m = lock(&self.metrics);
                m.consumed.record(now, n, bytes);
                m.failed
                    .record(now, skipped_after.saturating_sub(skipped_before), 0);
                m.produced.record(now, produced, 0);
            }
            for ((_, _, slot, recs), t) in fetched.iter().zip(&taken) {
                if let Some(last) = recs[..*t].last() {
                    offsets.committed.insert(*slot, last.offset + 1);
                }
            }
            if !changelogs.is_empty() {
                self.write_changelog(&changelogs, &offsets, &mut batch)?;
            }
            self.commit(&offsets)?;
            tokio::task::yield_now().await;
        }
        Ok(())
    }
}

/// (batch, record) indexes of `fetched` in timestamp order: each batch keeps its own order,
/// and the batch whose next record is oldest goes first (ties: the earlier batch). The merge
/// stops when a batch with `more` behind it runs out while others still hold records: its
/// next records may be older than theirs, which wait for the next round.
fn merge_by_timestamp(
    fetched: &[(usize, i32, i32, Vec<InRecord>)],
    more: &[bool],
) -> Vec<(usize, usize)> {
    let mut heads = vec![0usize; fetched.len()];
    let total: usize = fetched.iter().map(|f| f.3.len()).sum();
    let mut out = Vec::with_capacity(total);
    while out.len() < total {
        let dry = (0..fetched.len())
            .any(|b| more.get(b).copied().unwrap_or(false) && heads[b] == fetched[b].3.len());
        if dry {
            break;
        }
        let next = (0..fetched.len())
            .filter(|b| heads[*b] < fetched[*b].3.len())
            .min_by_key(|b| (fetched[*b].3[heads[*b]].timestamp, *b));
        let Some(b) = next else { break };
        out.push((b, heads[b]));
        heads[b] += 1;
    }
    out
}

/// A push query's loop: reads from the end (or the start) of every partition, sends rows
/// until LIMIT, the client going away, or `/close-query`.
async fn push_loop(
    io: &Arc<dyn StreamIo>,
    pipeline: &mut Pipeline,
    inputs: Vec<(String, i32)>,
    from_start: bool,
    limit: Option<u64>,
    tx: &mpsc::Sender<Vec<Value>>,
    stop: &AtomicBool,
) {
    let mut slots: Vec<(usize, String, i32, i64)> = Vec::new();
    for (i, (topic, parts)) in inputs.iter().enumerate() {
        for p in 0..*parts {
            let at = io
                .offsets(topic, p)
                .map(|(s, e)| if from_start { s } else { e })
                .unwrap_or(0);
            slots.push((i, topic.clone(), p, at));
        }
    }
    let mut sent = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let mut progressed = false;
        for (input, topic, p, next) in slots.iter_mut() {
            let recs = match io.read(topic, *p, *next, READ_BYTES) {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "push query read failed");
                    return;
                }
            };
            for r in &recs {
                *next = r.offset + 1;
                progressed = true;
                let Ok(rows) = pipeline.process_input(*input, *p, r) else {
                    continue;
                };
                for row in rows.into_iter().filter(|r| !r.tombstone) {
                    if tx.send(row.values).await.is_err() {
                        return;
                    }
                    sent += 1;
                    if limit.is_some_and(|l| sent >= l) {
                        return;
                    }
                }
            }
        }
        if tx.is_closed() {
            return;
        }
        if !progressed {
            tokio::time::sleep(IDLE).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(input: usize, stamps: &[i64]) -> (usize, i32, i32, Vec<InRecord>) {
        let recs = stamps
            .iter()
            .enumerate()
            .map(|(i, ts)| InRecord {
                offset: i as i64,
                timestamp: *ts,
                key: None,
                value: None,
                ..Default::default()
            })
            .collect();
        (input, 0, input as i32 * INPUT_STRIDE, recs)
    }

    #[test]
    fn join_inputs_are_taken_oldest_first_keeping_each_partitions_order() {
        // A table loaded before the stream's records (in time) is read first, whatever the
        // order of the inputs; a partition's own order is never changed.
        let fetched = vec![batch(0, &[10, 11, 5]), batch(1, &[1, 2, 20])];
        assert_eq!(
            merge_by_timestamp(&fetched, &[false, false]),
            vec![(1, 0), (1, 1), (0, 0), (0, 1), (0, 2), (1, 2)]
        );
        // A batch cut short (more of its partition behind it) that runs dry ends the round:
        // the other input's later records wait for its next records.
        assert_eq!(
            merge_by_timestamp(&fetched, &[false, true]),
            vec![(1, 0), (1, 1), (0, 0), (0, 1), (0, 2), (1, 2)]
        );
        assert_eq!(
            merge_by_timestamp(&fetched, &[true, false]),
            vec![(1, 0), (1, 1), (0, 0), (0, 1), (0, 2)]
        );
        let fetched = vec![batch(0, &[1, 2]), batch(1, &[3, 4])];
        assert_eq!(
            merge_by_timestamp(&fetched, &[true, false]),
            vec![(0, 0), (0, 1)]
        );
    }
}
