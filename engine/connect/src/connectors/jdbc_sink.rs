//! `io.confluent.connect.jdbc.JdbcSinkConnector`: records of topics into PostgreSQL or SQLite
//! tables (`table.name.format`, `${topic}` by default) with Confluent's keys: `insert.mode`
//! insert / upsert (`INSERT .. ON CONFLICT (pk) DO UPDATE` on both databases) / update,
//! `pk.mode` none / kafka / record_key / record_value with `pk.fields`, `auto.create` (CREATE
//! TABLE from the record schema, with Confluent's type mapping), `auto.evolve` (ALTER TABLE ADD
//! COLUMN for new optional fields), `delete.enabled` (tombstones delete by the record key),
//! `batch.size`, `max.retries` / `retry.backoff.ms`. Each `put` is one transaction, committed
//! before `put` returns, so the worker commits the consumer offsets only after the rows are
//! durable. It only writes the database; it never touches topics.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;

use super::jdbc::{
    blocking, connect, connection_config, decimal_text, pg_err, pg_params, quote, quote_table,
    sqlite_err, target_of, Db, Param, Target, DATE, DECIMAL, TIME, TIMESTAMP,
};
use crate::config::{boolean, int, list, Config, ConfigDef, ConfigType, Importance, Validator};
use crate::data::{same_schema, schema_type, Data, Schema, SinkRecord};
use crate::error::{ConnectError, Result};
use crate::plugin::{BoxFuture, Connector, SinkConnector, SinkTask};

pub const CLASS: &str = "io.confluent.connect.jdbc.JdbcSinkConnector";

pub struct JdbcSink;

fn lower(config: &Config, key: &str, default: &str) -> String {
    config
        .get(key)
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

impl Connector for JdbcSink {
    fn class(&self) -> &'static str {
        CLASS
    }

    fn config_def(&self) -> ConfigDef {
        connection_config(ConfigDef::new())
            .group("Connection")
            .define("insert.mode", ConfigType::String, Some("insert"), Validator::OneOf(vec!["insert", "upsert", "update"]), Importance::High,
                "The insertion mode to use. Supported modes are: insert (standard SQL INSERT statements), upsert (use the appropriate upsert semantics for the target database), update (use the appropriate update semantics for the target database).")
            .define("batch.size", ConfigType::Int, Some("3000"), Validator::AtLeast(0), Importance::Medium,
                "Specifies how many records to attempt to batch together for insertion into the destination table, when possible.")
            .define("delete.enabled", ConfigType::Boolean, Some("false"), Validator::None, Importance::Medium,
                "Whether to treat null record values as deletes. Requires pk.mode to be record_key.")
            .define("table.name.format", ConfigType::String, Some("${topic}"), Validator::None, Importance::Medium,
                "A format string for the destination table name, which may contain '${topic}' as a placeholder for the originating topic name.")
            .define("pk.mode", ConfigType::String, Some("none"), Validator::OneOf(vec!["none", "kafka", "record_key", "record_value"]), Importance::High,
                "The primary key mode: none, kafka, record_key, record_value.")
            .define("pk.fields", ConfigType::List, Some(""), Validator::None, Importance::Medium,
                "List of comma-separated primary key field names. The runtime interpretation of this config depends on the pk.mode.")
            .define("fields.whitelist", ConfigType::List, Some(""), Validator::None, Importance::Medium,
                "List of comma-separated record value field names. If empty, all fields from the record value are utilized, otherwise used to filter to the desired fields.")
            .group("Writes")
            .define("auto.create", ConfigType::Boolean, Some("false"), Validator::None, Importance::Medium,
                "Whether to automatically create the destination table based on record schema if it is found to be missing by issuing CREATE.")
            .define("auto.evolve", ConfigType::Boolean, Some("false"), Validator::None, Importance::Medium,
                "Whether to automatically add columns in the table schema when found to be missing relative to the record schema by issuing ALTER.")
            .group("DDL Support")
            .define("max.retries", ConfigType::Int, Some("10"), Validator::AtLeast(0), Importance::Medium,
                "The maximum number of times to retry on errors before failing the task.")
            .define("retry.backoff.ms", ConfigType::Int, Some("3000"), Validator::AtLeast(0), Importance::Medium,
                "The time in milliseconds to wait following an error before a retry attempt is made.")
            .group("Retries")
    }

    fn validate(&self, config: &Config) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        if config.contains_key("connection.url") {
            if let Err(e) = target_of(config) {
                errors.push(("connection.url".into(), e));
            }
        }
        let pk_mode = lower(config, "pk.mode", "none");
        if boolean(config, "delete.enabled", false) && pk_mode != "record_key" {
            errors.push((
                "delete.enabled".into(),
                "Deletes are only supported for pk.mode record_key".into(),
            ));
        }
        let mode = lower(config, "insert.mode", "insert");
        if mode != "insert" && pk_mode == "none" {
            errors.push((
                "pk.mode".into(),
                format!("insert.mode {mode} needs a primary key: set pk.mode"),
            ));
        }
        if pk_mode == "kafka" {
            let n = list(config, "pk.fields").len();
            if n != 0 && n != 3 {
                errors.push(("pk.fields".into(), "PK mode for table is KAFKA so there should either be no field names defined for defaults __connect_topic, __connect_partition and __connect_offset to be used, or exactly three".into()));
            }
        }
        errors
    }

    fn task_configs(&self, config: &Config, max_tasks: usize) -> Result<Vec<Config>> {
        Ok(vec![config.clone(); max_tasks.max(1)])
    }
}

impl SinkConnector for JdbcSink {
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(JdbcSinkTask::default())
    }
}

/// How a column's values are bound, from its Connect schema.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Int,
    Float,
    Bool,
    Text,
    Bytes,
    Decimal(u32),
    Date,
    Time,
    Timestamp,
}

fn kind_of(field: &str, schema: &Json) -> Result<Kind> {
    match schema["name"].as_str() {
        Some(DECIMAL) => {
            let scale = schema["parameters"]["scale"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            return Ok(Kind::Decimal(scale));
        }
        Some(DATE) => return Ok(Kind::Date),
        Some(TIME) => return Ok(Kind::Time),
        Some(TIMESTAMP) => return Ok(Kind::Timestamp),
        _ => {}
    }
    Ok(match schema_type(schema) {
        "int8" | "int16" | "int32" | "int64" => Kind::Int,
        "float32" | "float64" => Kind::Float,
        "boolean" => Kind::Bool,
        "string" => Kind::Text,
        "bytes" => Kind::Bytes,
        other => {
            return Err(ConnectError::Data(format!(
                "Unsupported source data type: {} for field {field}",
                other.to_ascii_uppercase()
            )))
        }
    })
}

fn param(kind: Kind, field: &str, v: &Data) -> Result<Param> {
    let wrong = || {
        ConnectError::Data(format!(
            "Value {} of field {field} does not match its schema",
            v.to_text()
        ))
    };
    Ok(match (kind, v) {
        (_, Data::Null) => Param::Null,
        (Kind::Int | Kind::Time | Kind::Timestamp, Data::Int(i)) => Param::I64(*i),
        (Kind::Date, Data::Int(i)) => Param::I32(*i as i32),
        (Kind::Int, Data::Float(f)) => Param::I64(*f as i64),
        (Kind::Float, Data::Float(f)) => Param::F64(*f),
        (Kind::Float, Data::Int(i)) => Param::F64(*i as f64),
        (Kind::Bool, Data::Bool(b)) => Param::Bool(*b),
        (Kind::Text, Data::Str(s)) => Param::Text(s.clone()),
        (Kind::Text, other) => Param::Text(other.to_text()),
        (Kind::Bytes, Data::Bytes(b)) => Param::Bytes(b.clone()),
        (Kind::Bytes, Data::Str(s)) => Param::Bytes(s.as_bytes().to_vec()),
        (Kind::Decimal(scale), Data::Bytes(b)) => Param::Text(decimal_text(b, scale)?),
        (Kind::Decimal(_), Data::Int(i)) => Param::Text(i.to_string()),
        (Kind::Decimal(_), Data::Float(f)) => Param::Text(f.to_string()),
        _ => return Err(wrong()),
    })
}

/// The placeholder of parameter `n` (1-based) of a kind: PostgreSQL casts it so the parameter
/// has exactly the type [`param`] binds, then PostgreSQL's assignment casts fit the column.
fn placeholder(sqlite: bool, kind: Kind, n: usize) -> String {
    if sqlite {
        return "?".into();
    }
    match kind {
        Kind::Int => format!("${n}::int8"),
        Kind::Float => format!("${n}::float8"),
        Kind::Bool => format!("${n}::bool"),
        Kind::Text => format!("${n}::text"),
        Kind::Bytes => format!("${n}::bytea"),
        Kind::Decimal(_) => format!("${n}::text::numeric"),
        Kind::Date => format!("(DATE '1970-01-01' + ${n}::int4)"),
        Kind::Time => format!("(TIME '00:00' + ${n}::int8 * INTERVAL '1 millisecond')"),
        Kind::Timestamp => {
            format!("(TIMESTAMP '1970-01-01' + ${n}::int8 * INTERVAL '1 millisecond')")
        }
    }
}

/// The column type CREATE TABLE / ALTER TABLE use (Confluent's dialect mappings).
fn ddl_type(sqlite: bool, schema: &Json, kind: Kind) -> String {
    if sqlite {
        return match kind {
            Kind::Int | Kind::Bool => "INTEGER",
            Kind::Float => "REAL",
            Kind::Text => "TEXT",
            Kind::Bytes => "BLOB",
            Kind::Decimal(_) | Kind::Date | Kind::Time | Kind::Timestamp => "NUMERIC",
        }
        .into();
    }
    match kind {
        Kind::Int => match schema_type(schema) {
            "int8" | "int16" => "SMALLINT",
            "int32" => "INT",
            _ => "BIGINT",
        },
        Kind::Float if schema_type(schema) == "float32" => "REAL",
        Kind::Float => "DOUBLE PRECISION",
        Kind::Bool => "BOOLEAN",
        Kind::Text => "TEXT",
        Kind::Bytes => "BYTEA",
        Kind::Decimal(_) => "DECIMAL",
        Kind::Date => "DATE",
        Kind::Time => "TIME",
        Kind::Timestamp => "TIMESTAMP",
    }
    .into()
}

/// A date (days from the Unix epoch) as PostgreSQL reads it: `2024-01-31`, `0044-03-15 BC`.
fn date_text(out: &mut String, days: i64) {
    use std::fmt::Write;
    let (y, m, d) = crate::transforms::civil(days);
    if y > 0 {
        let _ = write!(out, "{y:04}-{m:02}-{d:02}");
    } else {
        let _ = write!(out, "{:04}-{m:02}-{d:02} BC", 1 - y);
    }
}

/// Milliseconds of a day as PostgreSQL reads a time: `13:45:10.250`.
fn time_text(out: &mut String, ms: i64) {
    use std::fmt::Write;
    let ms = ms.rem_euclid(86_400_000);
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    );
}

/// One value in COPY's text format (`\N` for NULL; backslash, tab, newline and carriage
/// return escaped), as PostgreSQL parses it into the column's type.
fn copy_value(out: &mut String, kind: Kind, p: &Param) {
    use std::fmt::Write;
    match (kind, p) {
        (_, Param::Null) => out.push_str("\\N"),
        (Kind::Date, Param::I32(days)) => date_text(out, i64::from(*days)),
        (Kind::Time, Param::I64(ms)) => time_text(out, *ms),
        (Kind::Timestamp, Param::I64(ms)) => {
            date_text(out, ms.div_euclid(86_400_000));
            out.push(' ');
            time_text(out, *ms);
        }
        (_, Param::Bool(b)) => out.push(if *b { 't' } else { 'f' }),
        (_, Param::I32(v)) => {
            let _ = write!(out, "{v}");
        }
        (_, Param::I64(v)) => {
            let _ = write!(out, "{v}");
        }
        (_, Param::F64(v)) if v.is_nan() => out.push_str("NaN"),
        (_, Param::F64(v)) if v.is_infinite() => {
            out.push_str(if *v > 0.0 { "Infinity" } else { "-Infinity" })
        }
        (_, Param::F64(v)) => {
            let _ = write!(out, "{v}");
        }
        (_, Param::Text(t)) => {
            for c in t.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c => out.push(c),
                }
            }
        }
        (_, Param::Bytes(b)) => {
            // bytea's hex form, its backslash escaped for COPY.
            out.push_str("\\\\x");
            for byte in b {
                let _ = write!(out, "{byte:02x}");
            }
        }
        (_, Param::TimestampUs(us)) => {
            date_text(out, us.div_euclid(86_400_000_000));
            out.push(' ');
            time_text(out, us.div_euclid(1000));
        }
    }
}

/// A run of inserts as one `COPY ... FROM STDIN` (text format): the statement and its data.
fn copy_rows(rows: &[RowOp]) -> (String, String) {
    let layout = &rows[0].layout;
    let all: Vec<&Col> = layout.pk.iter().chain(&layout.cols).collect();
    let names: Vec<String> = all.iter().map(|c| quote(&c.name)).collect();
    let sql = format!(
        "COPY {} ({}) FROM STDIN",
        quote_table(&layout.table),
        names.join(",")
    );
    let mut data = String::with_capacity(rows.len() * 16 * all.len().max(1));
    for r in rows {
        for (i, (c, p)) in all
            .iter()
            .zip(r.pk_values.iter().chain(&r.values))
            .enumerate()
        {
            if i > 0 {
                data.push('\t');
            }
            copy_value(&mut data, c.kind, p);
        }
        data.push('\n');
    }
    (sql, data)
}

/// What a put runs in its transaction, in order.
enum Step {
    /// A statement and its parameters.
    Sql(String, Vec<Param>),
    /// `COPY ... FROM STDIN` and its text-format data (PostgreSQL inserts).
    Copy(String, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Insert,
    Upsert,
    Update,
    Delete,
}

/// One column of a write: name, Connect schema, kind.
#[derive(Debug, Clone)]
struct Col {
    name: String,
    schema: Json,
    kind: Kind,
}

/// The columns records of one topic and schema write: computed once per schema.
#[derive(Debug)]
struct Layout {
    table: String,
    pk: Vec<Col>,
    cols: Vec<Col>,
    /// record_key with a struct key: pk values are its fields (else the key itself).
    key_struct: bool,
}

/// One record as a row to write or delete.
#[derive(Debug, Clone)]
struct RowOp {
    op: Op,
    layout: Arc<Layout>,
    pk_values: Vec<Param>,
    values: Vec<Param>,
}

impl RowOp {
    /// Whether two rows can share a statement.
    fn same_shape(&self, other: &RowOp) -> bool {
        self.op == other.op
            && (Arc::ptr_eq(&self.layout, &other.layout)
                || (self.layout.table == other.layout.table
                    && names(&self.layout) == names(&other.layout)))
    }
}

fn names(l: &Layout) -> Vec<&str> {
    l.pk.iter()
        .chain(&l.cols)
        .map(|c| c.name.as_str())
        .collect()
}

/// The layouts computed so far: (topic, tombstone, key schema, value schema) → layout.
type LayoutCache = Vec<(String, bool, Option<Schema>, Option<Schema>, Arc<Layout>)>;

/// Whether two optional schemas are the same shared copy (both absent counts).
fn same_copy(a: Option<&Schema>, b: Option<&Schema>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

#[derive(Default)]
struct JdbcSinkTask {
    target: Option<Target>,
    db: Option<Db>,
    mode: String,
    pk_mode: String,
    pk_fields: Vec<String>,
    whitelist: Vec<String>,
    table_format: String,
    auto_create: bool,
    auto_evolve: bool,
    delete_enabled: bool,
    batch_size: usize,
    max_retries: i64,
    backoff: Duration,
    /// Known tables and their columns.
    tables: HashMap<String, HashSet<String>>,
    statements: HashMap<String, tokio_postgres::Statement>,
    layouts: LayoutCache,
    /// The rows of the last put: the buffer is reused.
    rows: Vec<RowOp>,
}

/// The fields of a struct schema.
fn fields(schema: &Json) -> Vec<(String, Json)> {
    schema["fields"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| {
                    (
                        f["field"].as_str().unwrap_or_default().to_string(),
                        f.clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

impl JdbcSinkTask {
    fn col(name: &str, schema: &Json) -> Result<Col> {
        Ok(Col {
            name: name.to_string(),
            schema: schema.clone(),
            kind: kind_of(name, schema)?,
        })
    }

    /// A record as a row operation.
    fn row(&mut self, rec: &SinkRecord) -> Result<RowOp> {
        let r = &rec.record;
        let tombstone = r.value.is_null();
        if tombstone && !self.delete_enabled {
            return Err(ConnectError::Data(format!(
                "Sink connector is configured with 'delete.enabled=false' and 'pk.mode={}' and therefore requires records with a non-null Struct value and non-null Struct schema, but found record at (topic='{}',partition={},offset={}) with a null value",
                self.pk_mode, r.topic, rec.kafka_partition, rec.kafka_offset
            )));
        }
        let is_struct = matches!(r.value, Data::Struct(_))
            && r.value_schema
                .as_ref()
                .is_some_and(|s| schema_type(s) == "struct");
        if !tombstone && !is_struct {
            return Err(ConnectError::Data(format!(
                "Sink connector requires records with a non-null Struct value and non-null Struct schema, but found record at (topic='{}',partition={},offset={}) with a {} value and {} value schema",
                r.topic, rec.kafka_partition, rec.kafka_offset,
                if matches!(r.value, Data::Struct(_)) { "Struct" } else { "non-Struct" },
                if r.value_schema.is_some() { "a" } else { "no" }
            )));
        }
        // Records of one schema share it: a pointer comparison finds their layout. Only a
        // schema seen in another copy is compared field by field, and its entry then keeps
        // the new copy, so that the records after it hit on the pointer again.
        let by_copy = self.layouts.iter().find(|(t, d, k, v, _)| {
            *d == tombstone
                && same_copy(k.as_ref(), r.key_schema.as_ref())
                && same_copy(v.as_ref(), r.value_schema.as_ref())
                && *t == r.topic
        });
        let cached = match by_copy {
            Some((.., l)) => Some(Arc::clone(l)),
            None => self
                .layouts
                .iter_mut()
                .find(|(t, d, k, v, _)| {
                    *d == tombstone
                        && *t == r.topic
                        && same_schema(k.as_ref(), r.key_schema.as_ref())
                        && same_schema(v.as_ref(), r.value_schema.as_ref())
                })
                .map(|(_, _, k, v, l)| {
                    k.clone_from(&r.key_schema);
                    v.clone_from(&r.value_schema);
                    Arc::clone(l)
                }),
        };
        let layout = match cached {
            Some(l) => l,
            None => {
                let l = Arc::new(self.layout(r, tombstone)?);
                if self.layouts.len() >= 64 {
                    self.layouts.clear();
                }
                self.layouts.push((
                    r.topic.clone(),
                    tombstone,
                    r.key_schema.clone(),
                    r.value_schema.clone(),
                    Arc::clone(&l),
                ));
                l
            }
        };
        let null = Data::Null;
        let mut pk_values = Vec::with_capacity(layout.pk.len());
        match self.pk_mode.as_str() {
            "kafka" => {
                pk_values = vec![
                    Param::Text(r.topic.clone()),
                    Param::I64(rec.kafka_partition as i64),
                    Param::I64(rec.kafka_offset),
                ];
            }
            "record_key" => {
                if r.key.is_null() {
                    return Err(ConnectError::Data(format!(
                        "PK mode for table '{}' is RECORD_KEY, but the record key is null",
                        layout.table
                    )));
                }
                for c in &layout.pk {
                    let v = if layout.key_struct {
                        r.key.field(&c.name).unwrap_or(&null)
                    } else {
                        &r.key
                    };
                    pk_values.push(param(c.kind, &c.name, v)?);
                }
            }
            "record_value" => {
                for c in &layout.pk {
                    pk_values.push(param(
                        c.kind,
                        &c.name,
                        r.value.field(&c.name).unwrap_or(&null),
                    )?);
                }
            }
            _ => {}
        }
        let mut values = Vec::with_capacity(layout.cols.len());
        for c in &layout.cols {
            values.push(param(
                c.kind,
                &c.name,
                r.value.field(&c.name).unwrap_or(&null),
            )?);
        }
        let op = match (tombstone, self.mode.as_str()) {
            (true, _) => Op::Delete,
            (false, "upsert") => Op::Upsert,
            (false, "update") => Op::Update,
            _ => Op::Insert,
        };
        Ok(RowOp {
            op,
            layout,
            pk_values,
            values,
        })
    }

    /// The table and columns of records with this topic and these schemas.
    fn layout(&self, r: &crate::data::Record, tombstone: bool) -> Result<Layout> {
        let table = self.table_format.replace("${topic}", &r.topic);
        let value_fields = match (&r.value_schema, tombstone) {
            (Some(s), false) => fields(s),
            _ => Vec::new(),
        };
        let mut pk = Vec::new();
        let mut key_struct = false;
        match self.pk_mode.as_str() {
            "kafka" => {
                let names = if self.pk_fields.len() == 3 {
                    self.pk_fields.clone()
                } else {
                    vec![
                        "__connect_topic".into(),
                        "__connect_partition".into(),
                        "__connect_offset".into(),
                    ]
                };
                let schemas = [
                    serde_json::json!({"type": "string", "optional": false}),
                    serde_json::json!({"type": "int32", "optional": false}),
                    serde_json::json!({"type": "int64", "optional": false}),
                ];
                for (n, s) in names.iter().zip(&schemas) {
                    pk.push(Self::col(n, s)?);
                }
            }
            "record_key" => {
                let Some(ks) = &r.key_schema else {
                    return Err(ConnectError::Data(format!(
                        "PK mode for table '{table}' is RECORD_KEY, but record key schema is missing"
                    )));
                };
                if schema_type(ks) == "struct" {
                    key_struct = true;
                    let kf = fields(ks);
                    if self.pk_fields.is_empty() {
                        for (n, s) in &kf {
                            pk.push(Self::col(n, s)?);
                        }
                    } else {
                        for n in &self.pk_fields {
                            let (_, s) = kf.iter().find(|(f, _)| f == n).ok_or_else(|| {
                                ConnectError::Data(format!(
                                    "PK mode for table '{table}' is RECORD_KEY with configured PK fields {:?}, but record key schema does not contain field: {n}",
                                    self.pk_fields
                                ))
                            })?;
                            pk.push(Self::col(n, s)?);
                        }
                    }
                } else {
                    let n = self
                        .pk_fields
                        .first()
                        .cloned()
                        .unwrap_or_else(|| "__connect_key".into());
                    pk.push(Self::col(&n, ks)?);
                }
            }
            "record_value" => {
                let names: Vec<String> = if self.pk_fields.is_empty() {
                    value_fields.iter().map(|(n, _)| n.clone()).collect()
                } else {
                    self.pk_fields.clone()
                };
                for n in names {
                    let (_, s) = value_fields.iter().find(|(f, _)| *f == n).ok_or_else(|| {
                        ConnectError::Data(format!(
                            "PK mode for table '{table}' is RECORD_VALUE with configured PK fields {:?}, but record value schema does not contain field: {n}",
                            self.pk_fields
                        ))
                    })?;
                    pk.push(Self::col(&n, s)?);
                }
            }
            _ => {}
        }
        let mut cols = Vec::new();
        for (n, s) in &value_fields {
            if pk.iter().any(|p| &p.name == n)
                || (!self.whitelist.is_empty() && !self.whitelist.contains(n))
            {
                continue;
            }
            cols.push(Self::col(n, s)?);
        }
        Ok(Layout {
            table,
            pk,
            cols,
            key_struct,
        })
    }

    async fn db(&mut self) -> Result<Db> {
        if let Some(Db::Postgres(c)) = &self.db {
            if c.is_closed() {
                self.db = None;
                self.statements.clear();
            }
        }
        if let Some(db) = &self.db {
            return Ok(db.clone());
        }
        let target = self
            .target
            .as_ref()
            .ok_or_else(|| ConnectError::Task("JdbcSinkTask is not started".into()))?;
        let db = connect(target).await?;
        self.db = Some(db.clone());
        Ok(db)
    }

    /// The columns of a table, or None when it does not exist.
    async fn table_columns(db: &Db, table: &str) -> Result<Option<HashSet<String>>> {
        match db {
            Db::Postgres(c) => {
                let (schema, name) = match table.split_once('.') {
                    Some((s, n)) => (Param::Text(s.into()), n),
                    None => (Param::Null, table),
                };
                let rows = c
                    .query(
                        "SELECT column_name::text FROM information_schema.columns \
                         WHERE table_schema = COALESCE($1::text, current_schema()) AND table_name = $2::text",
                        &pg_params(&[schema, Param::Text(name.into())]),
                    )
                    .await
                    .map_err(pg_err)?;
                Ok((!rows.is_empty()).then(|| rows.iter().map(|r| r.get(0)).collect()))
            }
            Db::Sqlite(c) => {
                let c = Arc::clone(c);
                let table = table.to_string();
                blocking(move || {
                    let c = c.lock();
                    let mut st = c
                        .prepare(&format!("PRAGMA table_info({})", quote(&table)))
                        .map_err(sqlite_err)?;
                    let cols: HashSet<String> = st
                        .query_map([], |r| r.get::<_, String>(1))
                        .map_err(sqlite_err)?
                        .collect::<std::result::Result<_, _>>()
                        .map_err(sqlite_err)?;
                    Ok((!cols.is_empty()).then_some(cols))
                })
                .await
            }
        }
    }

    async fn execute_ddl(db: &Db, sql: String) -> Result<()> {
        tracing::info!(sql = %sql, "JDBC sink DDL");
        match db {
            Db::Postgres(c) => c.batch_execute(&sql).await.map_err(pg_err),
            Db::Sqlite(c) => {
                let c = Arc::clone(c);
                blocking(move || c.lock().execute_batch(&sql).map_err(sqlite_err)).await
            }
        }
    }

    /// Makes the table of a row exist with its columns (auto.create / auto.evolve).
    async fn ensure_table(&mut self, db: &Db, row: &RowOp) -> Result<()> {
        let all: Vec<&Col> = row.layout.pk.iter().chain(&row.layout.cols).collect();
        if let Some(known) = self.tables.get(row.layout.table.as_str()) {
            if all.iter().all(|c| known.contains(&c.name)) {
                return Ok(());
            }
        }
        let sqlite = matches!(db, Db::Sqlite(_));
        let existing = Self::table_columns(db, &row.layout.table).await?;
        let existing = match existing {
            Some(cols) => cols,
            None if row.op == Op::Delete => return Ok(()),
            None if !self.auto_create => {
                return Err(ConnectError::Task(format!(
                    "Table \"{}\" is missing and auto-creation is disabled",
                    row.layout.table
                )))
            }
            None => {
                let mut defs: Vec<String> = all
                    .iter()
                    .map(|c| {
                        let nullable = c.schema["optional"].as_bool() == Some(true)
                            && !row.layout.pk.iter().any(|p| p.name == c.name);
                        format!(
                            "{} {} {}",
                            quote(&c.name),
                            ddl_type(sqlite, &c.schema, c.kind),
                            if nullable { "NULL" } else { "NOT NULL" }
                        )
                    })
                    .collect();
                if !row.layout.pk.is_empty() {
                    defs.push(format!(
                        "PRIMARY KEY({})",
                        row.layout
                            .pk
                            .iter()
                            .map(|c| quote(&c.name))
                            .collect::<Vec<_>>()
                            .join(",")
                    ));
                }
                Self::execute_ddl(
                    db,
                    format!(
                        "CREATE TABLE {} (\n{})",
                        quote_table(&row.layout.table),
                        defs.join(",\n")
                    ),
                )
                .await?;
                all.iter().map(|c| c.name.clone()).collect()
            }
        };
        let missing: Vec<&&Col> = all.iter().filter(|c| !existing.contains(&c.name)).collect();
        let mut now = existing.clone();
        if !missing.is_empty() {
            if !self.auto_evolve {
                return Err(ConnectError::Task(format!(
                    "Table \"{}\" is missing fields ({}) and auto-evolution is disabled",
                    row.layout.table,
                    missing
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            for c in missing {
                if c.schema["optional"].as_bool() != Some(true) && c.schema.get("default").is_none()
                {
                    return Err(ConnectError::Task(format!(
                        "Cannot ALTER TABLE \"{}\" to add missing field {}, as the field is not optional and does not have a default value",
                        row.layout.table, c.name
                    )));
                }
                Self::execute_ddl(
                    db,
                    format!(
                        "ALTER TABLE {} ADD COLUMN {} {} NULL",
                        quote_table(&row.layout.table),
                        quote(&c.name),
                        ddl_type(sqlite, &c.schema, c.kind)
                    ),
                )
                .await?;
                now.insert(c.name.clone());
            }
        }
        self.tables.insert(row.layout.table.clone(), now);
        Ok(())
    }

    /// The statements of a run of rows of one shape: (sql, params) in order.
    fn statements(&self, sqlite: bool, rows: &[RowOp]) -> Vec<(String, Vec<Param>)> {
        let first = &rows[0];
        let table = quote_table(&first.layout.table);
        let all: Vec<&Col> = first.layout.pk.iter().chain(&first.layout.cols).collect();
        let mut out = Vec::new();
        match first.op {
            Op::Delete | Op::Update => {
                for r in rows {
                    let mut n = 0;
                    let mut next = |k: Kind| {
                        n += 1;
                        placeholder(sqlite, k, n)
                    };
                    let (sql, params) = if r.op == Op::Delete {
                        let cond: Vec<String> = r
                            .layout
                            .pk
                            .iter()
                            .map(|c| format!("{} = {}", quote(&c.name), next(c.kind)))
                            .collect();
                        (
                            format!("DELETE FROM {table} WHERE {}", cond.join(" AND ")),
                            r.pk_values.clone(),
                        )
                    } else {
                        let set: Vec<String> = r
                            .layout
                            .cols
                            .iter()
                            .map(|c| format!("{} = {}", quote(&c.name), next(c.kind)))
                            .collect();
                        let cond: Vec<String> = r
                            .layout
                            .pk
                            .iter()
                            .map(|c| format!("{} = {}", quote(&c.name), next(c.kind)))
                            .collect();
                        if set.is_empty() {
                            continue;
                        }
                        (
                            format!(
                                "UPDATE {table} SET {} WHERE {}",
                                set.join(", "),
                                cond.join(" AND ")
                            ),
                            r.values.iter().chain(&r.pk_values).cloned().collect(),
                        )
                    };
                    out.push((sql, params));
                }
            }
            Op::Insert | Op::Upsert => {
                // Upserts of one key in one statement would conflict with themselves: the last
                // wins, as it would one by one.
                let rows: Vec<&RowOp> = if first.op == Op::Upsert {
                    let mut last: HashMap<String, usize> = HashMap::new();
                    for (i, r) in rows.iter().enumerate() {
                        last.insert(format!("{:?}", r.pk_values), i);
                    }
                    rows.iter()
                        .enumerate()
                        .filter(|(i, r)| last[&format!("{:?}", r.pk_values)] == *i)
                        .map(|(_, r)| r)
                        .collect()
                } else {
                    rows.iter().collect()
                };
                let ncols = all.len().max(1);
                let limit = if sqlite { 32_000 } else { 65_000 };
                let chunk = (limit / ncols).min(self.batch_size.max(1)).max(1);
                let names: Vec<String> = all.iter().map(|c| quote(&c.name)).collect();
                let conflict = if first.op == Op::Upsert && !first.layout.pk.is_empty() {
                    let pk: Vec<String> = first.layout.pk.iter().map(|c| quote(&c.name)).collect();
                    let set: Vec<String> = first
                        .layout
                        .cols
                        .iter()
                        .map(|c| format!("{q} = EXCLUDED.{q}", q = quote(&c.name)))
                        .collect();
                    if set.is_empty() {
                        format!(" ON CONFLICT ({}) DO NOTHING", pk.join(","))
                    } else {
                        format!(
                            " ON CONFLICT ({}) DO UPDATE SET {}",
                            pk.join(","),
                            set.join(", ")
                        )
                    }
                } else {
                    String::new()
                };
                for part in rows.chunks(chunk) {
                    let mut n = 0;
                    let mut tuples = Vec::with_capacity(part.len());
                    let mut params = Vec::with_capacity(part.len() * ncols);
                    for r in part {
                        let ph: Vec<String> = all
                            .iter()
                            .map(|c| {
                                n += 1;
                                placeholder(sqlite, c.kind, n)
                            })
                            .collect();
                        tuples.push(format!("({})", ph.join(",")));
                        params.extend(r.pk_values.iter().chain(&r.values).cloned());
                    }
                    out.push((
                        format!(
                            "INSERT INTO {table} ({}) VALUES {}{conflict}",
                            names.join(","),
                            tuples.join(",")
                        ),
                        params,
                    ));
                }
            }
        }
        out
    }

    /// Writes the rows in one transaction.
    async fn write(&mut self, rows: &[RowOp]) -> Result<()> {
        let db = self.db().await?;
        for (i, r) in rows.iter().enumerate() {
            if i == 0 || !rows[i - 1].same_shape(r) {
                self.ensure_table(&db, r).await?;
            }
        }
        let sqlite = matches!(db, Db::Sqlite(_));
        let mut steps = Vec::new();
        let mut start = 0;
        for i in 1..=rows.len() {
            if i == rows.len() || !rows[i].same_shape(&rows[start]) {
                let run = &rows[start..i];
                if !sqlite && run[0].op == Op::Insert {
                    // Plain inserts stream through COPY: no statement to parse or bind.
                    let (sql, data) = copy_rows(run);
                    steps.push(Step::Copy(sql, data));
                } else {
                    steps.extend(
                        self.statements(sqlite, run)
                            .into_iter()
                            .map(|(sql, params)| Step::Sql(sql, params)),
                    );
                }
                start = i;
            }
        }
        match &db {
            Db::Postgres(c) => {
                c.batch_execute("BEGIN").await.map_err(pg_err)?;
                let done: Result<()> = async {
                    for step in steps {
                        match step {
                            Step::Sql(sql, params) => {
                                let st = match self.statements.get(&sql) {
                                    Some(st) => st.clone(),
                                    None => {
                                        let st = c.prepare(&sql).await.map_err(pg_err)?;
                                        if self.statements.len() > 64 {
                                            self.statements.clear();
                                        }
                                        self.statements.insert(sql, st.clone());
                                        st
                                    }
                                };
                                c.execute(&st, &pg_params(&params)).await.map_err(pg_err)?;
                            }
                            Step::Copy(sql, data) => {
                                use futures_util::SinkExt;
                                let sink =
                                    c.copy_in::<_, bytes::Bytes>(&sql).await.map_err(pg_err)?;
                                let mut sink = std::pin::pin!(sink);
                                sink.send(bytes::Bytes::from(data)).await.map_err(pg_err)?;
                                sink.as_mut().finish().await.map_err(pg_err)?;
                            }
                        }
                    }
                    c.batch_execute("COMMIT").await.map_err(pg_err)
                }
                .await;
                if done.is_err() && !c.is_closed() {
                    let _ = c.batch_execute("ROLLBACK").await;
                }
                done
            }
            Db::Sqlite(c) => {
                let c = Arc::clone(c);
                blocking(move || {
                    let mut c = c.lock();
                    let tx = c.transaction().map_err(sqlite_err)?;
                    for step in &steps {
                        let Step::Sql(sql, params) = step else {
                            continue;
                        };
                        let values: Vec<rusqlite::types::Value> =
                            params.iter().map(Param::to_sqlite).collect();
                        let mut st = tx.prepare_cached(sql).map_err(sqlite_err)?;
                        st.execute(rusqlite::params_from_iter(values))
                            .map_err(sqlite_err)?;
                    }
                    tx.commit().map_err(sqlite_err)
                })
                .await
            }
        }
    }
}

impl SinkTask for JdbcSinkTask {
    fn start<'a>(
        &'a mut self,
        config: &'a Config,
        _position: Option<&'a str>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.target = Some(target_of(config).map_err(ConnectError::Task)?);
            self.mode = lower(config, "insert.mode", "insert");
            self.pk_mode = lower(config, "pk.mode", "none");
            self.pk_fields = list(config, "pk.fields");
            self.whitelist = list(config, "fields.whitelist");
            self.table_format = config
                .get("table.name.format")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "${topic}".into());
            self.auto_create = boolean(config, "auto.create", false);
            self.auto_evolve = boolean(config, "auto.evolve", false);
            self.delete_enabled = boolean(config, "delete.enabled", false);
            self.batch_size = int(config, "batch.size", 3000).max(1) as usize;
            self.max_retries = int(config, "max.retries", 10).max(0);
            self.backoff =
                Duration::from_millis(int(config, "retry.backoff.ms", 3000).max(0) as u64);
            self.db().await?;
            Ok(())
        })
    }

    fn put<'a>(&'a mut self, records: &'a [SinkRecord]) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            // The row buffer of the last put, its capacity kept.
            let mut rows = std::mem::take(&mut self.rows);
            rows.clear();
            for r in records {
                rows.push(self.row(r)?);
            }
            let written = self.write_retrying(&rows).await;
            self.rows = rows;
            written
        })
    }

    /// No position to report: the target cannot be cut back, so delivery is at least once
    /// (upserts make a redelivered batch harmless).
    fn flush(&mut self) -> BoxFuture<'_, Result<Option<String>>> {
        // Every put committed its transaction already.
        Box::pin(async { Ok(None) })
    }

    fn stop(&mut self) {
        self.db = None;
    }
}

impl JdbcSinkTask {
    /// Writes the rows, retried `max.retries` times after `retry.backoff.ms`.
    async fn write_retrying(&mut self, rows: &[RowOp]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut attempt = 0;
        loop {
            match self.write(rows).await {
                Ok(()) => return Ok(()),
                Err(e @ ConnectError::Data(_)) => return Err(e),
                Err(e) if attempt >= self.max_retries => {
                    return Err(ConnectError::Task(format!(
                        "Exception chain: {e} (after {attempt} retries)"
                    )))
                }
                Err(e) => {
                    attempt += 1;
                    tracing::warn!(error = %e, attempt, "JDBC sink write failed; retrying");
                    // The schema cache may be what is stale.
                    self.tables.clear();
                    tokio::time::sleep(self.backoff).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Record;
    use indexmap::IndexMap;
    use serde_json::json;

    fn rec(key: Data, value: Data, vs: Option<Json>) -> SinkRecord {
        SinkRecord {
            record: Record {
                topic: "orders".into(),
                partition: Some(0),
                key_schema: Some(Arc::new(json!({"type": "int64", "optional": false}))),
                key,
                value_schema: vs.map(Arc::new),
                value,
                timestamp: None,
                headers: Vec::new(),
            },
            kafka_partition: 0,
            kafka_offset: 7,
        }
    }

    fn value(id: i64, name: &str) -> Data {
        let mut m = IndexMap::new();
        m.insert("id".to_string(), Data::Int(id));
        m.insert("name".to_string(), Data::Str(name.into()));
        Data::Struct(m)
    }

    fn schema() -> Json {
        json!({"type": "struct", "optional": false, "fields": [
            {"field": "id", "type": "int64", "optional": false},
            {"field": "name", "type": "string", "optional": true}]})
    }

    fn task(pk_mode: &str, mode: &str) -> JdbcSinkTask {
        JdbcSinkTask {
            mode: mode.into(),
            pk_mode: pk_mode.into(),
            table_format: "${topic}".into(),
            batch_size: 3000,
            delete_enabled: true,
            ..Default::default()
        }
    }

    #[test]
    fn upserts_keep_the_last_row_of_a_key() {
        let t = task("record_value", "upsert");
        let mut t = JdbcSinkTask {
            pk_fields: vec!["id".into()],
            ..t
        };
        let rows: Vec<RowOp> = [value(1, "a"), value(2, "b"), value(1, "c")]
            .into_iter()
            .map(|v| t.row(&rec(Data::Null, v, Some(schema()))).unwrap())
            .collect();
        let stmts = t.statements(false, &rows);
        assert_eq!(stmts.len(), 1);
        assert_eq!(
            stmts[0].0,
            "INSERT INTO \"orders\" (\"id\",\"name\") VALUES ($1::int8,$2::text),($3::int8,$4::text) ON CONFLICT (\"id\") DO UPDATE SET \"name\" = EXCLUDED.\"name\""
        );
        assert_eq!(
            stmts[0].1,
            vec![
                Param::I64(2),
                Param::Text("b".into()),
                Param::I64(1),
                Param::Text("c".into())
            ]
        );
    }

    #[test]
    fn records_of_one_schema_share_a_layout_whichever_copy_of_it_they_hold() {
        let mut t = task("none", "insert");
        let shared = |v: Data, s: &Schema| {
            let mut r = rec(Data::Null, v, None);
            r.record.value_schema = Some(Arc::clone(s));
            r
        };
        let first_copy = Arc::new(schema());
        let a = t.row(&shared(value(1, "a"), &first_copy)).unwrap();
        let b = t.row(&shared(value(2, "b"), &first_copy)).unwrap();
        assert!(Arc::ptr_eq(&a.layout, &b.layout));
        // An equal schema in another copy finds the same layout, and its entry keeps the
        // new copy.
        let second_copy = Arc::new(schema());
        let c = t.row(&shared(value(3, "c"), &second_copy)).unwrap();
        assert!(Arc::ptr_eq(&a.layout, &c.layout));
        assert_eq!(t.layouts.len(), 1);
        assert!(Arc::ptr_eq(t.layouts[0].3.as_ref().unwrap(), &second_copy));
        // Another schema of the topic is another layout.
        let mut wider = schema();
        wider["fields"]
            .as_array_mut()
            .unwrap()
            .push(json!({"field": "qty", "type": "int32", "optional": true}));
        let mut v = value(4, "d");
        if let Data::Struct(m) = &mut v {
            m.insert("qty".into(), Data::Int(2));
        }
        let d = t.row(&shared(v, &Arc::new(wider))).unwrap();
        assert!(!Arc::ptr_eq(&a.layout, &d.layout));
        assert_eq!(names(&d.layout), ["id", "name", "qty"]);
        assert_eq!(t.layouts.len(), 2);
    }

    #[test]
    fn tombstones_delete_by_key() {
        let mut t = task("record_key", "upsert");
        let row = t.row(&rec(Data::Int(5), Data::Null, None)).unwrap();
        assert_eq!(row.op, Op::Delete);
        let stmts = t.statements(true, &[row]);
        assert_eq!(
            stmts[0].0,
            "DELETE FROM \"orders\" WHERE \"__connect_key\" = ?"
        );
        assert_eq!(stmts[0].1, vec![Param::I64(5)]);
        let mut no_delete = JdbcSinkTask {
            delete_enabled: false,
            ..task("record_key", "upsert")
        };
        assert!(no_delete.row(&rec(Data::Int(5), Data::Null, None)).is_err());
    }

    #[test]
    fn ddl_types_follow_confluents_dialects() {
        let ts = json!({"type": "int64", "name": TIMESTAMP, "optional": false});
        assert_eq!(
            ddl_type(false, &ts, kind_of("t", &ts).unwrap()),
            "TIMESTAMP"
        );
        assert_eq!(ddl_type(true, &ts, kind_of("t", &ts).unwrap()), "NUMERIC");
        let i = json!({"type": "int32", "optional": false});
        assert_eq!(ddl_type(false, &i, Kind::Int), "INT");
        assert!(kind_of("m", &json!({"type": "map"})).is_err());
    }

    #[test]
    fn copy_text_is_what_postgresql_parses_per_column_type() {
        let text = |kind, p: Param| {
            let mut out = String::new();
            copy_value(&mut out, kind, &p);
            out
        };
        assert_eq!(text(Kind::Text, Param::Null), "\\N");
        assert_eq!(
            text(Kind::Text, Param::Text("a\tb\nc\\d\re".into())),
            "a\\tb\\nc\\\\d\\re"
        );
        assert_eq!(text(Kind::Bytes, Param::Bytes(vec![0, 0xab])), "\\\\x00ab");
        assert_eq!(text(Kind::Date, Param::I32(19_724)), "2024-01-02");
        assert_eq!(text(Kind::Date, Param::I32(-1)), "1969-12-31");
        assert_eq!(text(Kind::Date, Param::I32(-719_163)), "0001-12-31 BC");
        assert_eq!(text(Kind::Time, Param::I64(11_045_678)), "03:04:05.678");
        assert_eq!(
            text(Kind::Timestamp, Param::I64(1_704_164_645_678)),
            "2024-01-02 03:04:05.678"
        );
        assert_eq!(
            text(Kind::Timestamp, Param::I64(-1)),
            "1969-12-31 23:59:59.999"
        );
        assert_eq!(text(Kind::Float, Param::F64(0.25)), "0.25");
        assert_eq!(text(Kind::Float, Param::F64(f64::NAN)), "NaN");
        assert_eq!(
            text(Kind::Float, Param::F64(f64::NEG_INFINITY)),
            "-Infinity"
        );
        assert_eq!(text(Kind::Bool, Param::Bool(true)), "t");
        assert_eq!(text(Kind::Decimal(2), Param::Text("-0.05".into())), "-0.05");
        let mut t = task("none", "insert");
        let rows: Vec<RowOp> = [value(1, "a"), value(2, "b\tc")]
            .into_iter()
            .map(|v| t.row(&rec(Data::Null, v, Some(schema()))).unwrap())
            .collect();
        assert_eq!(
            copy_rows(&rows),
            (
                "COPY \"orders\" (\"id\",\"name\") FROM STDIN".to_string(),
                "1\ta\n2\tb\\tc\n".to_string()
            )
        );
    }
}
