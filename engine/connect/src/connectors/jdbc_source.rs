//! `io.confluent.connect.jdbc.JdbcSourceConnector`: rows of PostgreSQL or SQLite tables (or of
//! a custom `query`) into topics `<topic.prefix><table>`, in Confluent's modes `bulk`,
//! `incrementing`, `timestamp` and `timestamp+incrementing`, with Confluent's source partitions
//! (`{"protocol":"1","table":"db.schema.table"}`, `{"query":"query"}`) and offsets
//! (`{"incrementing":N}`, `{"timestamp":ms,"timestamp_nanos":ns}`), so a restarted task goes
//! on from the committed offsets. Values are structs whose Connect schema comes from the
//! column types (nullable columns optional). It only reads the database; it never touches
//! topics.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde_json::{json, Value as Json};

use super::jdbc::{
    blocking, connect, connection_config, decode_pg, pg_err, pg_params, pg_timestamp_us, quote,
    quote_table, sqlite_err, target_of, ColType, Db, Param, Raw, Target,
};
use crate::config::{int, list, Config, ConfigDef, ConfigType, Importance, Validator};
use crate::data::{Data, Record, Schema, SourceRecord};
use crate::error::{ConnectError, Result};
use crate::plugin::{BoxFuture, Connector, OffsetReader, SourceConnector, SourceTask};

pub const CLASS: &str = "io.confluent.connect.jdbc.JdbcSourceConnector";

const MODES: [&str; 4] = [
    "bulk",
    "timestamp",
    "incrementing",
    "timestamp+incrementing",
];

pub struct JdbcSource;

/// The tables a config names (`table.whitelist`, or its newer name `table.include.list`).
fn tables_of(config: &Config) -> Vec<String> {
    let t = list(config, "table.whitelist");
    if t.is_empty() {
        list(config, "table.include.list")
    } else {
        t
    }
}

fn mode_of(config: &Config) -> String {
    config
        .get("mode")
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

impl Connector for JdbcSource {
    fn class(&self) -> &'static str {
        CLASS
    }

    fn config_def(&self) -> ConfigDef {
        connection_config(ConfigDef::new())
            .group("Database")
            .define("table.whitelist", ConfigType::List, Some(""), Validator::None, Importance::Medium,
                "List of tables to include in copying. If specified, table.blacklist may not be set. Use a comma-separated list to specify multiple tables (for example, table.whitelist: \"User, Address, Email\").")
            .define("table.include.list", ConfigType::List, Some(""), Validator::None, Importance::Medium,
                "Alias of table.whitelist.")
            .define("query", ConfigType::String, Some(""), Validator::None, Importance::Medium,
                "If specified, the query to perform to select new or updated rows. Use this setting if you want to join tables, select subsets of columns in a table, or filter data. If used, this connector will only copy data using this query -- whole-table copying will be disabled.")
            .define("mode", ConfigType::String, None, Validator::OneOf(MODES.to_vec()), Importance::High,
                "The mode for updating a table each time it is polled. Options include: bulk, incrementing, timestamp, timestamp+incrementing.")
            .define("incrementing.column.name", ConfigType::String, Some(""), Validator::None, Importance::Medium,
                "The name of the strictly incrementing column to use to detect new rows.")
            .define("timestamp.column.name", ConfigType::List, Some(""), Validator::None, Importance::Medium,
                "Comma separated list of one or more timestamp columns to detect new or modified rows using the COALESCE SQL function.")
            .define("timestamp.delay.interval.ms", ConfigType::Long, Some("0"), Validator::AtLeast(0), Importance::High,
                "How long to wait after a row with certain timestamp appears before we include it in the result.")
            .group("Mode")
            .define("topic.prefix", ConfigType::String, None, Validator::None, Importance::High,
                "Prefix to prepend to table names to generate the name of the Kafka topic to publish data to, or in the case of a custom query, the full name of the topic to publish to.")
            .define("poll.interval.ms", ConfigType::Int, Some("5000"), Validator::AtLeast(1), Importance::High,
                "Frequency in ms to poll for new data in each table.")
            .define("batch.max.rows", ConfigType::Int, Some("100"), Validator::AtLeast(1), Importance::Low,
                "Maximum number of rows to include in a single batch when polling for new data.")
            .group("Connector")
    }

    fn validate(&self, config: &Config) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        let target = match target_of(config) {
            Ok(t) => Some(t),
            Err(e) => {
                if config.contains_key("connection.url") {
                    errors.push(("connection.url".into(), e));
                }
                None
            }
        };
        let mode = mode_of(config);
        let has = |k: &str| config.get(k).is_some_and(|v| !v.trim().is_empty());
        if mode.contains("incrementing") && !has("incrementing.column.name") {
            errors.push((
                "incrementing.column.name".into(),
                format!("Mode {mode} requires incrementing.column.name"),
            ));
        }
        if mode.starts_with("timestamp") {
            if !has("timestamp.column.name") {
                errors.push((
                    "timestamp.column.name".into(),
                    format!("Mode {mode} requires timestamp.column.name"),
                ));
            }
            if matches!(target, Some(Target::Sqlite { .. })) {
                errors.push((
                    "mode".into(),
                    "Timestamp modes need PostgreSQL here: SQLite has no timestamp type".into(),
                ));
            }
        }
        if has("query") && !tables_of(config).is_empty() {
            errors.push((
                "query".into(),
                "Do not specify table filtering (table.whitelist) when using a custom query".into(),
            ));
        }
        errors
    }

    fn task_configs(&self, config: &Config, max_tasks: usize) -> Result<Vec<Config>> {
        let tables = tables_of(config);
        if config.get("query").is_some_and(|q| !q.trim().is_empty()) || tables.is_empty() {
            // A query, or every table of the database (found when the task starts): one task.
            return Ok(vec![config.clone()]);
        }
        let n = max_tasks.max(1).min(tables.len());
        Ok((0..n)
            .map(|i| {
                let mine: Vec<&str> = tables
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| j % n == i)
                    .map(|(_, t)| t.as_str())
                    .collect();
                let mut c = config.clone();
                c.insert("tables".into(), mine.join(","));
                c
            })
            .collect())
    }
}

impl SourceConnector for JdbcSource {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(JdbcSourceTask::default())
    }
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    ty: ColType,
    optional: bool,
}

/// One table (or the query) a task copies.
#[derive(Debug, Clone)]
struct Querier {
    partition: Json,
    topic: String,
    schema_name: Option<String>,
    /// `SELECT <columns> FROM <table>` or the wrapped query.
    select: String,
    columns: Vec<Column>,
    /// The Connect schema of its records, shared by all of them.
    schema: Schema,
    incrementing: Option<usize>,
    /// The timestamp expression (one column, or COALESCE of several) and whether it is
    /// `timestamptz`.
    timestamp: Option<(String, bool)>,
    inc_offset: i64,
    ts_offset_us: Option<i64>,
    next_poll: Instant,
}

#[derive(Default)]
struct JdbcSourceTask {
    target: Option<Target>,
    db: Option<Db>,
    mode: String,
    queriers: Vec<Querier>,
    prefix: String,
    poll_interval: Duration,
    batch_max_rows: usize,
    delay_ms: i64,
    pending: VecDeque<SourceRecord>,
}

/// A column of a result as a value.
type Row = (Vec<Data>, Option<i64>);

impl JdbcSourceTask {
    async fn db(&mut self) -> Result<Db> {
        if let Some(Db::Postgres(c)) = &self.db {
            if c.is_closed() {
                self.db = None;
            }
        }
        if let Some(db) = &self.db {
            return Ok(db.clone());
        }
        let target = self
            .target
            .as_ref()
            .ok_or_else(|| ConnectError::Task("JdbcSourceTask is not started".into()))?;
        let db = connect(target).await?;
        self.db = Some(db.clone());
        Ok(db)
    }

    /// The database's tables, as `table` (PostgreSQL's `public`) or `schema.table`.
    async fn all_tables(db: &Db) -> Result<Vec<String>> {
        match db {
            Db::Postgres(c) => {
                let rows = c
                    .query(
                        "SELECT table_schema::text, table_name::text FROM information_schema.tables \
                         WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') \
                         ORDER BY 1, 2",
                        &[],
                    )
                    .await
                    .map_err(pg_err)?;
                Ok(rows
                    .iter()
                    .map(|r| {
                        let (s, t): (String, String) = (r.get(0), r.get(1));
                        if s == "public" {
                            t
                        } else {
                            format!("{s}.{t}")
                        }
                    })
                    .collect())
            }
            Db::Sqlite(c) => {
                let c = Arc::clone(c);
                blocking(move || {
                    let c = c.lock();
                    let mut st = c
                        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
                        .map_err(sqlite_err)?;
                    let names = st
                        .query_map([], |r| r.get::<_, String>(0))
                        .map_err(sqlite_err)?
                        .collect::<std::result::Result<Vec<_>, _>>()
                        .map_err(sqlite_err)?;
                    Ok(names)
                })
                .await
            }
        }
    }

    /// A table's columns (those of supported types; others are skipped, as Confluent does).
    async fn table_columns(db: &Db, table: &str) -> Result<Vec<Column>> {
        match db {
            Db::Postgres(c) => {
                let (schema, name) = table.split_once('.').unwrap_or(("public", table));
                let rows = c
                    .query(
                        "SELECT column_name::text, udt_name::text, is_nullable::text, numeric_scale::int4 \
                         FROM information_schema.columns WHERE table_schema = $1::text AND table_name = $2::text \
                         ORDER BY ordinal_position",
                        &pg_params(&[Param::Text(schema.into()), Param::Text(name.into())]),
                    )
                    .await
                    .map_err(pg_err)?;
                let mut out = Vec::new();
                for r in rows {
                    let (col, udt, nullable, scale): (String, String, String, Option<i32>) =
                        (r.get(0), r.get(1), r.get(2), r.get(3));
                    match ColType::from_pg(&udt, scale) {
                        Some(ty) => out.push(Column {
                            name: col,
                            ty,
                            optional: nullable == "YES",
                        }),
                        None => tracing::warn!(table, column = %col, r#type = %udt,
                            "column type not supported by the JDBC source: the column is skipped"),
                    }
                }
                Ok(out)
            }
            Db::Sqlite(c) => {
                let c = Arc::clone(c);
                let table = table.to_string();
                blocking(move || {
                    let c = c.lock();
                    let mut st = c
                        .prepare(&format!("PRAGMA table_info({})", quote(&table)))
                        .map_err(sqlite_err)?;
                    let cols = st
                        .query_map([], |r| {
                            Ok(Column {
                                name: r.get::<_, String>(1)?,
                                ty: ColType::from_sqlite(&r.get::<_, String>(2)?),
                                optional: r.get::<_, i64>(3)? == 0 && r.get::<_, i64>(5)? == 0,
                            })
                        })
                        .map_err(sqlite_err)?
                        .collect::<std::result::Result<Vec<_>, _>>()
                        .map_err(sqlite_err)?;
                    Ok(cols)
                })
                .await
            }
        }
    }

    /// The columns a custom query returns (all optional: nullability is unknown).
    async fn query_columns(db: &Db, query: &str) -> Result<Vec<Column>> {
        match db {
            Db::Postgres(c) => {
                let st = c.prepare(query).await.map_err(pg_err)?;
                Ok(st
                    .columns()
                    .iter()
                    .filter_map(|col| {
                        let ty = ColType::from_pg(col.type_().name(), None);
                        if ty.is_none() {
                            tracing::warn!(column = col.name(), r#type = col.type_().name(),
                                "column type not supported by the JDBC source: the column is skipped");
                        }
                        Some(Column {
                            name: col.name().to_string(),
                            ty: ty?,
                            optional: true,
                        })
                    })
                    .collect())
            }
            Db::Sqlite(c) => {
                let c = Arc::clone(c);
                let query = query.to_string();
                blocking(move || {
                    let c = c.lock();
                    let st = c.prepare(&query).map_err(sqlite_err)?;
                    Ok(st
                        .columns()
                        .map(|col| Column {
                            name: col.name().to_string(),
                            ty: ColType::from_sqlite(col.decl_type().unwrap_or("")),
                            optional: true,
                        })
                        .collect())
                })
                .await
            }
        }
    }

    fn build_querier(
        &self,
        config: &Config,
        columns: Vec<Column>,
        table: Option<&str>,
        database: &str,
        offsets: &dyn OffsetReader,
    ) -> Result<Querier> {
        let select_list: Vec<String> = columns
            .iter()
            .map(|c| match c.ty {
                ColType::TextCast => format!("{}::text AS {}", quote(&c.name), quote(&c.name)),
                _ => quote(&c.name),
            })
            .collect();
        let (partition, topic, schema_name, select) = match table {
            Some(t) => {
                let (schema, name) = match t.split_once('.') {
                    Some((s, n)) => (Some(s), n),
                    None if !database.is_empty() => (Some("public"), t),
                    None => (None, t),
                };
                let fqn = [Some(database).filter(|d| !d.is_empty()), schema, Some(name)]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(".");
                (
                    json!({"protocol": "1", "table": fqn}),
                    format!("{}{}", self.prefix, name),
                    Some(name.to_string()),
                    format!("SELECT {} FROM {}", select_list.join(", "), quote_table(t)),
                )
            }
            None => {
                let q = config.get("query").cloned().unwrap_or_default();
                (
                    json!({"query": "query"}),
                    self.prefix.clone(),
                    None,
                    format!(
                        "SELECT {} FROM ({}) AS sluice_query",
                        select_list.join(", "),
                        q.trim().trim_end_matches(';')
                    ),
                )
            }
        };
        let what = table.unwrap_or("the query");
        let incrementing = if self.mode.contains("incrementing") {
            let col = config
                .get("incrementing.column.name")
                .map(|s| s.trim())
                .unwrap_or("");
            let i = columns.iter().position(|c| c.name == col).ok_or_else(|| {
                ConnectError::Task(format!(
                    "Incrementing column {col} not found in {what} (columns: {})",
                    columns
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            if !matches!(columns[i].ty, ColType::I16 | ColType::I32 | ColType::I64) {
                return Err(ConnectError::Task(format!(
                    "Incrementing column {col} of {what} is not an integer column"
                )));
            }
            Some(i)
        } else {
            None
        };
        let timestamp = if self.mode.starts_with("timestamp") {
            let names = list(config, "timestamp.column.name");
            for n in &names {
                if !columns
                    .iter()
                    .any(|c| &c.name == n && c.ty == ColType::Timestamp)
                {
                    return Err(ConnectError::Task(format!(
                        "Timestamp column {n} not found in {what}, or not a timestamp column"
                    )));
                }
            }
            let quoted: Vec<String> = names.iter().map(|n| quote(n)).collect();
            let expr = if quoted.len() == 1 {
                quoted[0].clone()
            } else {
                format!("COALESCE({})", quoted.join(", "))
            };
            // Whether it is timestamptz is filled in by `start` from the catalog.
            Some((expr, false))
        } else {
            None
        };
        let fields: Vec<Json> = columns
            .iter()
            .map(|c| {
                let mut s = c.ty.schema(c.optional);
                s["field"] = json!(c.name);
                s
            })
            .collect();
        let mut schema = json!({"type": "struct", "fields": fields, "optional": false});
        if let Some(n) = &schema_name {
            schema["name"] = json!(n);
        }
        let committed = offsets.offset(&partition);
        let inc_offset = committed
            .as_ref()
            .and_then(|o| o["incrementing"].as_i64())
            .unwrap_or(-1);
        let ts_offset_us = committed.as_ref().and_then(|o| {
            let ms = o["timestamp"].as_i64()?;
            let nanos = o["timestamp_nanos"].as_i64().unwrap_or(0);
            Some(ms.div_euclid(1000) * 1_000_000 + nanos / 1000)
        });
        Ok(Querier {
            partition,
            topic,
            schema_name,
            select,
            columns,
            schema: Arc::new(schema),
            incrementing,
            timestamp,
            inc_offset,
            ts_offset_us,
            next_poll: Instant::now(),
        })
    }

    /// The statement and parameters of the next query of a querier.
    fn statement(&self, q: &Querier, sqlite: bool) -> (String, Vec<Param>) {
        let ph = |n: usize, cast: &str| {
            if sqlite {
                "?".to_string()
            } else {
                format!("${n}::{cast}")
            }
        };
        let mut sql = q.select.clone();
        let mut params = Vec::new();
        let inc = q.incrementing.map(|i| quote(&q.columns[i].name));
        match (&q.timestamp, &inc) {
            (None, None) => {}
            (None, Some(inc)) => {
                sql += &format!(" WHERE {inc} > {} ORDER BY {inc} ASC", ph(1, "int8"));
                params.push(Param::I64(q.inc_offset));
            }
            (Some((ts, tz)), inc) => {
                let (cast, now) = if *tz {
                    ("timestamptz", "CURRENT_TIMESTAMP")
                } else {
                    ("timestamp", "LOCALTIMESTAMP")
                };
                let upper = format!(
                    "{ts} < {now} - {} * INTERVAL '1 millisecond'",
                    ph(1, "int8")
                );
                params.push(Param::I64(self.delay_ms));
                // No offset yet: from 0001-01-01 (every row).
                let from = q.ts_offset_us.unwrap_or(-62_135_596_800_000_000);
                match inc {
                    Some(inc) => {
                        sql += &format!(
                            " WHERE {upper} AND (({ts} = {p2} AND {inc} > {p3}) OR {ts} > {p2}) ORDER BY {ts}, {inc} ASC",
                            p2 = ph(2, cast),
                            p3 = ph(3, "int8")
                        );
                        params.push(Param::TimestampUs(from));
                        params.push(Param::I64(q.inc_offset));
                    }
                    None => {
                        sql += &format!(
                            " WHERE {upper} AND {ts} > {} ORDER BY {ts} ASC",
                            ph(2, cast)
                        );
                        params.push(Param::TimestampUs(from));
                    }
                }
                // The offset's timestamp, as microseconds, after the columns.
                sql = sql.replacen(" FROM ", &format!(", {ts} AS sluice_ts FROM "), 1);
            }
        }
        // Strict orders can be read in pieces; timestamp alone reads all rows past the offset
        // at once (rows sharing the last timestamp must not be split across polls).
        if self.mode == "incrementing" || self.mode == "timestamp+incrementing" {
            sql += &format!(" LIMIT {}", self.batch_max_rows);
        }
        (sql, params)
    }

    async fn fetch(
        db: &Db,
        sql: String,
        params: Vec<Param>,
        types: Vec<ColType>,
        ts: bool,
    ) -> Result<Vec<Row>> {
        match db {
            Db::Postgres(c) => {
                let rows = c.query(&sql, &pg_params(&params)).await.map_err(pg_err)?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let mut values = Vec::with_capacity(types.len());
                    for (i, t) in types.iter().enumerate() {
                        let raw: Raw = r.try_get(i).map_err(pg_err)?;
                        values.push(decode_pg(*t, raw.0)?);
                    }
                    let ts_us = if ts {
                        let raw: Raw = r.try_get(types.len()).map_err(pg_err)?;
                        raw.0.map(pg_timestamp_us).transpose()?
                    } else {
                        None
                    };
                    out.push((values, ts_us));
                }
                Ok(out)
            }
            Db::Sqlite(c) => {
                let c = Arc::clone(c);
                blocking(move || {
                    let c = c.lock();
                    let mut st = c.prepare(&sql).map_err(sqlite_err)?;
                    let values: Vec<rusqlite::types::Value> =
                        params.iter().map(Param::to_sqlite).collect();
                    let mut rows = st
                        .query(rusqlite::params_from_iter(values))
                        .map_err(sqlite_err)?;
                    let mut out = Vec::new();
                    while let Some(r) = rows.next().map_err(sqlite_err)? {
                        let mut values = Vec::with_capacity(types.len());
                        for (i, t) in types.iter().enumerate() {
                            values.push(sqlite_value(*t, r.get_ref(i).map_err(sqlite_err)?));
                        }
                        out.push((values, None));
                    }
                    Ok(out)
                })
                .await
            }
        }
    }
}

/// A SQLite value as the column's Connect type wants it (SQLite stores any value in any
/// column: a value of another storage class is converted, so records match their schema).
fn sqlite_value(t: ColType, v: rusqlite::types::ValueRef<'_>) -> Data {
    use rusqlite::types::ValueRef as V;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match (t, v) {
        (_, V::Null) => Data::Null,
        (ColType::Bool, V::Integer(i)) => Data::Bool(i != 0),
        (ColType::Bool, V::Real(f)) => Data::Bool(f != 0.0),
        (ColType::Bool, V::Text(s)) => Data::Bool(matches!(s, b"1" | b"true" | b"TRUE" | b"t")),
        (ColType::I16 | ColType::I32 | ColType::I64, V::Integer(i)) => Data::Int(i),
        (ColType::I16 | ColType::I32 | ColType::I64, V::Real(f)) => Data::Int(f as i64),
        (ColType::I16 | ColType::I32 | ColType::I64, V::Text(s)) => {
            text(s).trim().parse().map(Data::Int).unwrap_or(Data::Null)
        }
        (ColType::F32 | ColType::F64, V::Integer(i)) => Data::Float(i as f64),
        (ColType::F32 | ColType::F64, V::Real(f)) => Data::Float(f),
        (ColType::F32 | ColType::F64, V::Text(s)) => text(s)
            .trim()
            .parse()
            .map(Data::Float)
            .unwrap_or(Data::Null),
        (ColType::Bytes, V::Blob(b) | V::Text(b)) => Data::Bytes(b.to_vec()),
        (ColType::Bytes, V::Integer(i)) => Data::Bytes(i.to_string().into_bytes()),
        (ColType::Bytes, V::Real(f)) => Data::Bytes(f.to_string().into_bytes()),
        (_, V::Integer(i)) => Data::Str(i.to_string()),
        (_, V::Real(f)) => Data::Str(f.to_string()),
        (_, V::Text(s) | V::Blob(s)) => Data::Str(text(s)),
    }
}

impl SourceTask for JdbcSourceTask {
    fn start<'a>(
        &'a mut self,
        config: &'a Config,
        offsets: Arc<dyn OffsetReader>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let target = target_of(config).map_err(ConnectError::Task)?;
            let database = match &target {
                Target::Postgres { database, .. } => database.clone(),
                Target::Sqlite { .. } => String::new(),
            };
            self.target = Some(target);
            self.mode = mode_of(config);
            self.prefix = config.get("topic.prefix").cloned().unwrap_or_default();
            self.poll_interval =
                Duration::from_millis(int(config, "poll.interval.ms", 5000).max(1) as u64);
            self.batch_max_rows = int(config, "batch.max.rows", 100).max(1) as usize;
            self.delay_ms = int(config, "timestamp.delay.interval.ms", 0).max(0);
            let db = self.db().await?;
            let query = config
                .get("query")
                .map(|q| q.trim().to_string())
                .filter(|q| !q.is_empty());
            let mut queriers = Vec::new();
            let tz = tz_columns(&db, config).await?;
            match query {
                Some(q) => {
                    let cols = Self::query_columns(&db, &q).await?;
                    queriers.push(self.build_querier(
                        config,
                        cols,
                        None,
                        &database,
                        offsets.as_ref(),
                    )?);
                }
                None => {
                    let mut tables = list(config, "tables");
                    if tables.is_empty() {
                        tables = tables_of(config);
                    }
                    if tables.is_empty() {
                        tables = Self::all_tables(&db).await?;
                    }
                    for t in tables {
                        let cols = Self::table_columns(&db, &t).await?;
                        if cols.is_empty() {
                            return Err(ConnectError::Task(format!(
                                "Table {t} does not exist or has no columns of supported types"
                            )));
                        }
                        queriers.push(self.build_querier(
                            config,
                            cols,
                            Some(&t),
                            &database,
                            offsets.as_ref(),
                        )?);
                    }
                }
            }
            for q in &mut queriers {
                if let Some((_, is_tz)) = &mut q.timestamp {
                    let first = list(config, "timestamp.column.name");
                    *is_tz = first.first().is_some_and(|c| {
                        tz.iter().any(|(t, col)| {
                            col == c && q.schema_name.as_deref().is_none_or(|n| n == t)
                        })
                    });
                }
            }
            self.queriers = queriers;
            Ok(())
        })
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Vec<SourceRecord>>> {
        Box::pin(async move {
            if !self.pending.is_empty() {
                let n = self.pending.len().min(self.batch_max_rows);
                return Ok(self.pending.drain(..n).collect());
            }
            let Some(i) = (0..self.queriers.len()).min_by_key(|&i| self.queriers[i].next_poll)
            else {
                tokio::time::sleep(self.poll_interval).await;
                return Ok(Vec::new());
            };
            let now = Instant::now();
            let due = self.queriers[i].next_poll;
            if due > now {
                tokio::time::sleep((due - now).min(Duration::from_millis(500))).await;
                return Ok(Vec::new());
            }
            let db = self.db().await?;
            let sqlite = matches!(db, Db::Sqlite(_));
            let (sql, params) = self.statement(&self.queriers[i], sqlite);
            let types: Vec<ColType> = self.queriers[i].columns.iter().map(|c| c.ty).collect();
            let ts = self.queriers[i].timestamp.is_some();
            let rows = Self::fetch(&db, sql, params, types, ts).await?;
            // No awaits past this point: state changes only once the rows are in hand.
            let full = rows.len() >= self.batch_max_rows
                && (self.mode == "incrementing" || self.mode == "timestamp+incrementing");
            let q = &mut self.queriers[i];
            q.next_poll = if full {
                Instant::now()
            } else {
                Instant::now() + self.poll_interval
            };
            for (values, ts_us) in rows {
                if let Some(c) = q.incrementing {
                    if let Data::Int(v) = values[c] {
                        q.inc_offset = v;
                    }
                }
                if let Some(us) = ts_us {
                    q.ts_offset_us = Some(us);
                }
                let offset = match (q.timestamp.is_some(), q.incrementing.is_some()) {
                    (false, false) => Json::Null,
                    (false, true) => json!({"incrementing": q.inc_offset}),
                    (true, inc) => {
                        let us = q.ts_offset_us.unwrap_or(0);
                        let mut o = json!({
                            "timestamp": us.div_euclid(1_000_000) * 1000 + us.rem_euclid(1_000_000) / 1000,
                            "timestamp_nanos": us.rem_euclid(1_000_000) * 1000,
                        });
                        if inc {
                            o["incrementing"] = json!(q.inc_offset);
                        }
                        o
                    }
                };
                let value: IndexMap<String, Data> = q
                    .columns
                    .iter()
                    .zip(values)
                    .map(|(c, v)| (c.name.clone(), v))
                    .collect();
                self.pending.push_back(SourceRecord {
                    source_partition: q.partition.clone(),
                    source_offset: offset,
                    record: Record::new(
                        q.topic.clone(),
                        Some(Arc::clone(&q.schema)),
                        Data::Struct(value),
                    ),
                });
            }
            let n = self.pending.len().min(self.batch_max_rows);
            Ok(self.pending.drain(..n).collect())
        })
    }

    fn stop(&mut self) {
        self.db = None;
    }
}

/// The `(table, column)` pairs of `timestamptz` columns among `timestamp.column.name`
/// (PostgreSQL only), so comparisons use the column's own type.
async fn tz_columns(db: &Db, config: &Config) -> Result<Vec<(String, String)>> {
    let names = list(config, "timestamp.column.name");
    let Db::Postgres(c) = db else {
        return Ok(Vec::new());
    };
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let rows = c
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE udt_name = 'timestamptz' AND column_name = ANY($1::text[])",
            &[&names],
        )
        .await
        .map_err(pg_err)?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoOffsets;
    impl OffsetReader for NoOffsets {
        fn offset(&self, _partition: &Json) -> Option<Json> {
            Some(
                json!({"timestamp": 1714608000000i64, "timestamp_nanos": 123000, "incrementing": 7}),
            )
        }
    }

    fn cols() -> Vec<Column> {
        vec![
            Column {
                name: "id".into(),
                ty: ColType::I32,
                optional: false,
            },
            Column {
                name: "doc".into(),
                ty: ColType::TextCast,
                optional: true,
            },
            Column {
                name: "updated".into(),
                ty: ColType::Timestamp,
                optional: false,
            },
        ]
    }

    fn task(mode: &str) -> (JdbcSourceTask, Config) {
        let t = JdbcSourceTask {
            mode: mode.into(),
            prefix: "pg-".into(),
            batch_max_rows: 50,
            ..Default::default()
        };
        let mut c = Config::new();
        c.insert("incrementing.column.name".into(), "id".into());
        c.insert("timestamp.column.name".into(), "updated".into());
        (t, c)
    }

    #[test]
    fn queries_per_mode_and_confluents_offsets() {
        let (t, c) = task("timestamp+incrementing");
        let q = t
            .build_querier(&c, cols(), Some("items"), "shop", &NoOffsets)
            .unwrap();
        assert_eq!(
            q.partition,
            json!({"protocol": "1", "table": "shop.public.items"})
        );
        assert_eq!(q.topic, "pg-items");
        assert_eq!(q.inc_offset, 7);
        assert_eq!(q.ts_offset_us, Some(1_714_608_000_000_123));
        let (sql, params) = t.statement(&q, false);
        assert_eq!(
            sql,
            "SELECT \"id\", \"doc\"::text AS \"doc\", \"updated\", \"updated\" AS sluice_ts FROM \"items\" \
             WHERE \"updated\" < LOCALTIMESTAMP - $1::int8 * INTERVAL '1 millisecond' AND \
             ((\"updated\" = $2::timestamp AND \"id\" > $3::int8) OR \"updated\" > $2::timestamp) \
             ORDER BY \"updated\", \"id\" ASC LIMIT 50"
        );
        assert_eq!(
            params,
            vec![
                Param::I64(0),
                Param::TimestampUs(1_714_608_000_000_123),
                Param::I64(7)
            ]
        );
        let (t, c) = task("incrementing");
        let q = t
            .build_querier(&c, cols(), Some("s.items"), "shop", &NoOffsets)
            .unwrap();
        assert_eq!(
            q.partition,
            json!({"protocol": "1", "table": "shop.s.items"})
        );
        let (sql, _) = t.statement(&q, true);
        assert!(sql.ends_with("FROM \"s\".\"items\" WHERE \"id\" > ? ORDER BY \"id\" ASC LIMIT 50"));
        let (t, c) = task("bulk");
        let q = t
            .build_querier(&c, cols(), None, "shop", &NoOffsets)
            .unwrap();
        assert_eq!(q.partition, json!({"query": "query"}));
        assert_eq!(q.topic, "pg-");
        let (t, mut c) = task("incrementing");
        c.insert("incrementing.column.name".into(), "doc".into());
        assert!(t
            .build_querier(&c, cols(), Some("items"), "shop", &NoOffsets)
            .is_err());
    }
}
