//! `io.debezium.connector.postgresql.PostgresConnector`: change data capture from PostgreSQL
//! in Debezium's shape. An initial snapshot of the included tables (op `r`), then the changes
//! of a logical replication slot (`pgoutput`, publication created for the included tables if
//! missing, as `publication.autocreate.mode=filtered`), read with
//! `pg_logical_slot_peek_binary_changes` (whole transactions) and decoded from pgoutput's
//! binary messages (Relation, Begin, Insert, Update, Delete, Commit). The slot is advanced
//! (`pg_replication_slot_advance`) only up to the transaction whose records the runtime has
//! committed (the source offset `{"lsn","lsn_commit","txId","ts_usec"}` of partition
//! `{"server": topic.prefix}`), so a restart re-reads nothing committed and loses nothing.
//! Topics `<topic.prefix>.<schema>.<table>`, key = primary key struct (`...Key`), value =
//! Debezium's envelope (`...Envelope`: before, after, source, op, ts_ms), a tombstone after
//! each delete. With `heartbeat.interval.ms`, a heartbeat record (Debezium's
//! `ServerNameKey` → `Heartbeat`) goes to `<topic.heartbeat.prefix>.<topic.prefix>` carrying
//! the WAL position the connector has read through, so committing it lets the slot release
//! WAL while the captured tables are idle and the rest of the database is not. Decimals follow
//! `decimal.handling.mode` (precise: Connect `Decimal` or Debezium's `VariableScaleDecimal`;
//! double; string). Connections go through `pg_connect` (`database.sslmode`,
//! `database.sslrootcert`). It only reads the database (and runs `heartbeat.action.query` if
//! set); it never touches topics.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde_json::{json, Value as Json};

use super::jdbc::{pg_err, PG_EPOCH_US};
use super::pg_connect::{PgTls, SSL_MODES};
use crate::config::{boolean, int, Config, ConfigDef, ConfigType, Importance, Validator};
use crate::data::{Data, Record, Schema, SourceRecord};
use crate::error::{ConnectError, Result};
use crate::plugin::{BoxFuture, Connector, OffsetReader, SourceConnector, SourceTask};

pub const CLASS: &str = "io.debezium.connector.postgresql.PostgresConnector";
/// The Debezium version this connector's events claim to come from (`source.version`).
const VERSION: &str = "2.7.0.Final";
const UNAVAILABLE: &str = "__debezium_unavailable_value";

pub struct PostgresCdc;

fn get<'a>(c: &'a Config, k: &str) -> &'a str {
    c.get(k).map(|s| s.trim()).unwrap_or("")
}

/// A name embedded in SQL as a literal (slot and publication names).
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl Connector for PostgresCdc {
    fn class(&self) -> &'static str {
        CLASS
    }

    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define("database.hostname", ConfigType::String, None, Validator::NonEmptyString, Importance::High, "Resolvable hostname or IP address of the database server.")
            .define("database.port", ConfigType::Int, Some("5432"), Validator::Between(1, 65535), Importance::High, "Port of the database server.")
            .define("database.user", ConfigType::String, None, Validator::NonEmptyString, Importance::High, "Name of the database user to be used when connecting to the database.")
            .define("database.password", ConfigType::Password, Some(""), Validator::None, Importance::High, "Password of the database user to be used when connecting to the database.")
            .define("database.dbname", ConfigType::String, None, Validator::NonEmptyString, Importance::High, "The name of the database from which the connector should capture changes")
            .define("database.sslmode", ConfigType::String, Some("prefer"), Validator::OneOf(SSL_MODES.to_vec()), Importance::Medium, "Whether to use an encrypted connection to Postgres. Options include: 'disable' to use an unencrypted connection; 'prefer' (the default) to use a secure (encrypted) connection if the server offers one, else an unencrypted one; 'require' to use a secure (encrypted) connection, and fail if one cannot be established; 'verify-ca' like 'require' but additionally verify the server TLS certificate against the configured Certificate Authority (CA) certificates, or fail if no valid matching CA certificates are found; or 'verify-full' like 'verify-ca' but additionally verify that the server certificate matches the host to which the connection is attempted.")
            .define("database.sslrootcert", ConfigType::String, Some(""), Validator::None, Importance::Low, "File containing the root certificate(s) against which the server is validated.")
            .define("topic.prefix", ConfigType::String, None, Validator::NonEmptyString, Importance::High, "Topic prefix that identifies and provides a namespace for the particular database server/cluster is capturing changes. The topic prefix should be unique across all other connectors, since it is used as a prefix for all Kafka topic names that receive events emitted by this connector. Only alphanumeric characters, hyphens, dots and underscores must be accepted.")
            .group("Connector")
            .define("plugin.name", ConfigType::String, Some("pgoutput"), Validator::OneOf(vec!["pgoutput"]), Importance::Medium, "The name of the Postgres logical decoding plugin installed on the server. Supported values are 'pgoutput'.")
            .define("slot.name", ConfigType::String, Some("debezium"), Validator::NonEmptyString, Importance::Medium, "The name of the Postgres logical decoding slot created for streaming changes from a plugin. Defaults to 'debezium'")
            .define("publication.name", ConfigType::String, Some("dbz_publication"), Validator::NonEmptyString, Importance::Low, "The name of the Postgres 10+ publication used for streaming changes from a plugin. Defaults to 'dbz_publication'")
            .define("publication.autocreate.mode", ConfigType::String, Some("filtered"), Validator::OneOf(vec!["filtered", "all_tables", "disabled"]), Importance::Low, "Applies only when streaming changes using pgoutput. Determine how creation of a publication should work, the default is filtered.")
            .define("table.include.list", ConfigType::List, Some(""), Validator::None, Importance::High, "The tables for which changes are to be captured (regular expressions matching schema.table)")
            .define("snapshot.mode", ConfigType::String, Some("initial"), Validator::OneOf(vec!["initial", "never", "no_data"]), Importance::Low, "The criteria for running a snapshot upon startup of the connector. 'initial' (default): snapshot when no offsets exist; 'never' / 'no_data': stream changes only.")
            .define("tombstones.on.delete", ConfigType::Boolean, Some("true"), Validator::None, Importance::Low, "Whether delete operations should be represented by a delete event and a subsequent tombstone event (true) or only by a delete event (false).")
            .define("poll.interval.ms", ConfigType::Long, Some("500"), Validator::AtLeast(1), Importance::Low, "Time to wait for new change events to appear after receiving no events, given in milliseconds.")
            .define("max.batch.size", ConfigType::Int, Some("2048"), Validator::AtLeast(1), Importance::Low, "Maximum size of each batch of source records.")
            .define("decimal.handling.mode", ConfigType::String, Some("precise"), Validator::OneOf(vec!["precise", "double", "string"]), Importance::Medium, "Specify how DECIMAL and NUMERIC columns should be represented in change events, including: 'precise' (the default) uses java.math.BigDecimal to represent values, which are encoded in the change events using a binary representation and Kafka Connect's 'org.apache.kafka.connect.data.Decimal' type; 'string' uses string to represent values; 'double' represents values using Java's 'double', which may not offer the precision but will be far easier to use in consumers.")
            .define("heartbeat.interval.ms", ConfigType::Int, Some("0"), Validator::AtLeast(0), Importance::Medium, "Length of an interval in milli-seconds in in which the connector periodically sends heartbeat messages to a heartbeat topic. Use 0 to disable heartbeat messages. Disabled by default.")
            .define("topic.heartbeat.prefix", ConfigType::String, Some("__debezium-heartbeat"), Validator::NonEmptyString, Importance::Low, "The prefix that is used to name heartbeat topics.Defaults to __debezium-heartbeat.")
            .define("heartbeat.action.query", ConfigType::String, Some(""), Validator::None, Importance::Low, "The query executed with every heartbeat.")
            .group("Connector")
    }

    fn validate(&self, config: &Config) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        let slot = get(config, "slot.name");
        if !slot.is_empty()
            && !slot
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            errors.push(("slot.name".into(), format!("Valid replication slot name must contain only digits, lowercase characters and underscores with length <= 63: {slot}")));
        }
        if config.get("tasks.max").is_some_and(|t| t.trim() != "1") {
            errors.push((
                "tasks.max".into(),
                "Only a single connector task may be started".into(),
            ));
        }
        for pattern in crate::config::list(config, "table.include.list") {
            if let Err(e) = regex::Regex::new(&pattern) {
                errors.push(("table.include.list".into(), format!("{pattern}: {e}")));
            }
        }
        errors
    }

    fn task_configs(&self, config: &Config, _max_tasks: usize) -> Result<Vec<Config>> {
        Ok(vec![config.clone()])
    }
}

impl SourceConnector for PostgresCdc {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(CdcTask::default())
    }
}

/// How NUMERIC/DECIMAL columns are represented (`decimal.handling.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
enum DecimalMode {
    /// Connect `Decimal` (declared scale) or Debezium's `VariableScaleDecimal` (unconstrained).
    #[default]
    Precise,
    Double,
    Text,
}

impl DecimalMode {
    fn from_config(config: &Config) -> DecimalMode {
        match get(config, "decimal.handling.mode")
            .to_ascii_lowercase()
            .as_str()
        {
            "double" => DecimalMode::Double,
            "string" => DecimalMode::Text,
            _ => DecimalMode::Precise,
        }
    }
}

const VARIABLE_SCALE_DECIMAL: &str = "io.debezium.data.VariableScaleDecimal";

/// A column type as Debezium maps it (`decimal.handling.mode` as configured,
/// `time.precision.mode=adaptive`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum CdcType {
    Bool,
    I16,
    I32,
    I64,
    F32,
    F64,
    /// NUMERIC(p, s): Connect `Decimal` at scale s (precision p when declared).
    Decimal {
        precision: Option<u32>,
        scale: u32,
    },
    /// Unconstrained NUMERIC: Debezium's `VariableScaleDecimal` struct {scale, value}.
    VariableDecimal,
    Str,
    Bytes,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Uuid,
    Json,
}

impl CdcType {
    fn from_udt(
        udt: &str,
        precision: Option<i32>,
        scale: Option<i32>,
        decimals: DecimalMode,
    ) -> CdcType {
        match udt {
            "bool" => CdcType::Bool,
            "int2" => CdcType::I16,
            "int4" | "oid" => CdcType::I32,
            "int8" => CdcType::I64,
            "float4" => CdcType::F32,
            "float8" => CdcType::F64,
            "numeric" => match (decimals, scale) {
                (DecimalMode::Double, _) => CdcType::F64,
                (DecimalMode::Text, _) => CdcType::Str,
                (DecimalMode::Precise, Some(s)) if s >= 0 => CdcType::Decimal {
                    precision: precision.and_then(|p| u32::try_from(p).ok()),
                    scale: s as u32,
                },
                // No declared scale (or a negative one): the scale travels with each value.
                (DecimalMode::Precise, _) => CdcType::VariableDecimal,
            },
            "bytea" => CdcType::Bytes,
            "date" => CdcType::Date,
            "time" => CdcType::Time,
            "timestamp" => CdcType::Timestamp,
            "timestamptz" => CdcType::TimestampTz,
            "uuid" => CdcType::Uuid,
            "json" | "jsonb" => CdcType::Json,
            _ => CdcType::Str,
        }
    }

    fn schema(self, optional: bool) -> Json {
        let p = |t: &str| json!({"type": t, "optional": optional});
        let named =
            |t: &str, n: &str| json!({"type": t, "optional": optional, "name": n, "version": 1});
        match self {
            CdcType::Bool => p("boolean"),
            CdcType::I16 => p("int16"),
            CdcType::I32 => p("int32"),
            CdcType::I64 => p("int64"),
            CdcType::F32 => p("float32"),
            CdcType::F64 => p("float64"),
            CdcType::Decimal { precision, scale } => {
                let mut parameters = json!({"scale": scale.to_string()});
                if let Some(p) = precision {
                    parameters["connect.decimal.precision"] = json!(p.to_string());
                }
                json!({"type": "bytes", "optional": optional,
                    "name": "org.apache.kafka.connect.data.Decimal", "version": 1,
                    "parameters": parameters})
            }
            CdcType::VariableDecimal => json!({"type": "struct", "fields": [
                    {"type": "int32", "optional": false, "field": "scale"},
                    {"type": "bytes", "optional": false, "field": "value"}],
                "optional": optional, "name": VARIABLE_SCALE_DECIMAL, "version": 1,
                "doc": "Variable scaled decimal"}),
            CdcType::Str => p("string"),
            CdcType::Bytes => p("bytes"),
            CdcType::Date => named("int32", "io.debezium.time.Date"),
            CdcType::Time => named("int64", "io.debezium.time.MicroTime"),
            CdcType::Timestamp => named("int64", "io.debezium.time.MicroTimestamp"),
            CdcType::TimestampTz => named("string", "io.debezium.time.ZonedTimestamp"),
            CdcType::Uuid => named("string", "io.debezium.data.Uuid"),
            CdcType::Json => named("string", "io.debezium.data.Json"),
        }
    }

    /// A value from PostgreSQL's text output (the session's TimeZone is UTC).
    fn parse(self, text: &str) -> Result<Data> {
        let bad = || ConnectError::Data(format!("cannot read {text:?} as {self:?}"));
        Ok(match self {
            CdcType::Bool => Data::Bool(text == "t"),
            CdcType::I16 | CdcType::I32 | CdcType::I64 => {
                Data::Int(text.parse().map_err(|_| bad())?)
            }
            CdcType::F32 | CdcType::F64 => Data::Float(match text {
                "NaN" => f64::NAN,
                "Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                t => t.parse().map_err(|_| bad())?,
            }),
            // NaN and ±Infinity have no Decimal form: null, as Debezium's precise mode has them.
            CdcType::Decimal { .. } | CdcType::VariableDecimal
                if matches!(text, "NaN" | "Infinity" | "-Infinity") =>
            {
                Data::Null
            }
            CdcType::Decimal { scale, .. } => Data::Bytes(
                unscaled_twos_complement(text, Some(scale))
                    .ok_or_else(bad)?
                    .1,
            ),
            CdcType::VariableDecimal => {
                let (scale, value) = unscaled_twos_complement(text, None).ok_or_else(bad)?;
                let mut m = IndexMap::new();
                m.insert("scale".into(), Data::Int(scale.into()));
                m.insert("value".into(), Data::Bytes(value));
                Data::Struct(m)
            }
            CdcType::Str | CdcType::Uuid | CdcType::Json => Data::Str(text.to_string()),
            CdcType::Bytes => Data::Bytes(hex_bytes(text).ok_or_else(bad)?),
            CdcType::Date => Data::Int(parse_date(text).ok_or_else(bad)?),
            CdcType::Time => Data::Int(parse_time_us(text).ok_or_else(bad)?),
            CdcType::Timestamp => {
                let (d, t) = text.split_once(' ').ok_or_else(bad)?;
                Data::Int(
                    parse_date(d).ok_or_else(bad)? * 86_400_000_000
                        + parse_time_us(t).ok_or_else(bad)?,
                )
            }
            CdcType::TimestampTz => {
                // "2024-05-01 10:00:00.123+00" in UTC → "2024-05-01T10:00:00.123Z"
                let t = text.strip_suffix("+00").ok_or_else(bad)?;
                Data::Str(format!("{}Z", t.replacen(' ', "T", 1)))
            }
        })
    }
}

/// Decimal text (`-12.5`, any number of digits) as its scale (`scale`, else the text's own)
/// and its unscaled value in big-endian two's complement, shortest form (what Java's
/// `BigInteger.toByteArray` gives, so Connect's `Decimal` and Debezium read it). None when the
/// text is no decimal or has more fractional digits than `scale`.
fn unscaled_twos_complement(text: &str, scale: Option<u32>) -> Option<(u32, Vec<u8>)> {
    let (negative, t) = match text.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, text),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits_only(int) || !digits_only(frac) {
        return None;
    }
    let scale = match scale {
        Some(s) if frac.len() > s as usize => return None,
        Some(s) => s,
        None => u32::try_from(frac.len()).ok()?,
    };
    let padding = scale as usize - frac.len();
    // The magnitude in base 256, most significant byte first.
    let mut magnitude: Vec<u8> = Vec::new();
    let digits = int.bytes().chain(frac.bytes()).map(|b| b - b'0');
    for d in digits.chain(std::iter::repeat_n(0, padding)) {
        let mut carry = u32::from(d);
        for byte in magnitude.iter_mut().rev() {
            let v = u32::from(*byte) * 10 + carry;
            *byte = v as u8;
            carry = v >> 8;
        }
        if carry > 0 {
            magnitude.insert(0, carry as u8);
        }
    }
    if magnitude.is_empty() {
        return Some((scale, vec![0]));
    }
    if !negative {
        if magnitude[0] & 0x80 != 0 {
            magnitude.insert(0, 0);
        }
        return Some((scale, magnitude));
    }
    // Two's complement: invert, add one; a sign byte when the top bit does not say negative.
    let mut carry = true;
    for byte in magnitude.iter_mut().rev() {
        let (v, c) = (!*byte).overflowing_add(u8::from(carry));
        *byte = v;
        carry = c;
    }
    if magnitude[0] & 0x80 == 0 {
        magnitude.insert(0, 0xff);
    }
    Some((scale, magnitude))
}

fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    let h = text.strip_prefix("\\x")?;
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `YYYY-MM-DD` as days since 1970-01-01.
fn parse_date(text: &str) -> Option<i64> {
    let mut it = text.splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.get(..2)?.parse().ok()?;
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// `HH:MM:SS[.ffffff]` as microseconds.
fn parse_time_us(text: &str) -> Option<i64> {
    let mut it = text.splitn(3, ':');
    let h: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let s = it.next()?;
    let (sec, frac) = s.split_once('.').unwrap_or((s, ""));
    let sec: i64 = sec.parse().ok()?;
    let frac: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
    let us: i64 = frac.parse().ok()?;
    Some(((h * 60 + m) * 60 + sec) * 1_000_000 + us)
}

/// An LSN as PostgreSQL writes it (`16/B374D848`).
fn lsn_text(lsn: i64) -> String {
    format!("{:X}/{:X}", (lsn as u64) >> 32, (lsn as u64) & 0xffff_ffff)
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    ty: CdcType,
    optional: bool,
    key: bool,
}

/// A captured table: its columns (catalog order) and the schemas of its events.
#[derive(Debug, Clone)]
struct Table {
    schema: String,
    name: String,
    columns: Vec<Column>,
    topic: String,
    /// The schemas of its events' keys and values, shared by all of them.
    key_schema: Schema,
    envelope_schema: Schema,
}

impl Table {
    fn new(prefix: &str, schema: &str, name: &str, columns: Vec<Column>) -> Table {
        let base = format!("{prefix}.{schema}.{name}");
        let field = |c: &Column, optional: bool| {
            let mut s = c.ty.schema(optional);
            s["field"] = json!(c.name);
            s
        };
        let key_fields: Vec<Json> = columns
            .iter()
            .filter(|c| c.key)
            .map(|c| field(c, false))
            .collect();
        let value_fields: Vec<Json> = columns.iter().map(|c| field(c, c.optional)).collect();
        let value = json!({"type": "struct", "fields": value_fields, "optional": true, "name": format!("{base}.Value")});
        let mut before = value.clone();
        before["field"] = json!("before");
        let mut after = value.clone();
        after["field"] = json!("after");
        let mut source = source_schema();
        source["field"] = json!("source");
        let envelope = json!({"type": "struct", "optional": false, "name": format!("{base}.Envelope"), "version": 1,
            "fields": [before, after, source,
                {"type": "string", "optional": false, "field": "op"},
                {"type": "int64", "optional": true, "field": "ts_ms"}]});
        Table {
            schema: schema.into(),
            name: name.into(),
            topic: base.clone(),
            key_schema: Arc::new(
                json!({"type": "struct", "fields": key_fields, "optional": false, "name": format!("{base}.Key")}),
            ),
            envelope_schema: Arc::new(envelope),
            columns,
        }
    }

    fn has_key(&self) -> bool {
        self.columns.iter().any(|c| c.key)
    }
}

/// Debezium's `io.debezium.connector.postgresql.Source` schema.
fn source_schema() -> Json {
    let f = |name: &str, t: &str, optional: bool| json!({"type": t, "optional": optional, "field": name});
    json!({"type": "struct", "optional": false, "name": "io.debezium.connector.postgresql.Source", "fields": [
        f("version", "string", false), f("connector", "string", false), f("name", "string", false),
        f("ts_ms", "int64", false),
        {"type": "string", "optional": true, "name": "io.debezium.data.Enum", "version": 1,
         "parameters": {"allowed": "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},
         "default": "false", "field": "snapshot"},
        f("db", "string", false), f("sequence", "string", true), f("schema", "string", false),
        f("table", "string", false), f("txId", "int64", true), f("lsn", "int64", true),
        f("xmin", "int64", true)]})
}

/// One decoded row change.
#[derive(Debug, Clone, PartialEq)]
enum Change {
    Insert {
        rel: u32,
        new: Vec<Cell>,
    },
    Update {
        rel: u32,
        old: Option<Vec<Cell>>,
        new: Vec<Cell>,
    },
    Delete {
        rel: u32,
        old: Vec<Cell>,
    },
}

/// A TupleData column: null, an unchanged TOASTed value, or text.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Unchanged,
    Text(String),
}

/// A pgoutput message (only those the connector uses).
#[derive(Debug, Clone, PartialEq)]
enum Message {
    Begin {
        xid: u32,
        commit_ts_us: i64,
    },
    Commit {
        end_lsn: i64,
        commit_ts_us: i64,
    },
    Relation {
        id: u32,
        schema: String,
        name: String,
        columns: Vec<(String, bool)>,
    },
    Change(Change),
    Other,
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let s = self
            .b
            .get(self.at..self.at + n)
            .ok_or_else(|| ConnectError::Task("a pgoutput message ended early".into()))?;
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn i16(&mut self) -> Result<i16> {
        Ok(i16::from_be_bytes(
            self.take(2)?.try_into().unwrap_or_default(),
        ))
    }
    fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(
            self.take(4)?.try_into().unwrap_or_default(),
        ))
    }
    fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(
            self.take(8)?.try_into().unwrap_or_default(),
        ))
    }
    fn string(&mut self) -> Result<String> {
        let rest = &self.b[self.at.min(self.b.len())..];
        let end = rest
            .iter()
            .position(|&c| c == 0)
            .ok_or_else(|| ConnectError::Task("a pgoutput string has no end".into()))?;
        let s = String::from_utf8_lossy(&rest[..end]).into_owned();
        self.at += end + 1;
        Ok(s)
    }
    fn tuple(&mut self) -> Result<Vec<Cell>> {
        let n = self.i16()?.max(0) as usize;
        let mut cells = Vec::with_capacity(n);
        for _ in 0..n {
            cells.push(match self.u8()? {
                b'n' => Cell::Null,
                b'u' => Cell::Unchanged,
                b't' => {
                    let len = self.i32()?.max(0) as usize;
                    Cell::Text(String::from_utf8_lossy(self.take(len)?).into_owned())
                }
                other => {
                    return Err(ConnectError::Task(format!(
                        "unexpected pgoutput tuple column kind {:?}",
                        other as char
                    )))
                }
            });
        }
        Ok(cells)
    }
}

/// Decodes one pgoutput (protocol 1) message.
fn decode(b: &[u8]) -> Result<Message> {
    let mut r = Reader { b, at: 1 };
    Ok(match b.first() {
        Some(b'B') => {
            let _final_lsn = r.i64()?;
            let ts = r.i64()?;
            Message::Begin {
                xid: r.i32()? as u32,
                commit_ts_us: ts + PG_EPOCH_US,
            }
        }
        Some(b'C') => {
            let _flags = r.u8()?;
            let _commit_lsn = r.i64()?;
            let end_lsn = r.i64()?;
            Message::Commit {
                end_lsn,
                commit_ts_us: r.i64()? + PG_EPOCH_US,
            }
        }
        Some(b'R') => {
            let id = r.i32()? as u32;
            let schema = r.string()?;
            let name = r.string()?;
            let _identity = r.u8()?;
            let n = r.i16()?.max(0) as usize;
            let mut columns = Vec::with_capacity(n);
            for _ in 0..n {
                let flags = r.u8()?;
                let col = r.string()?;
                let _type_oid = r.i32()?;
                let _typmod = r.i32()?;
                columns.push((col, flags & 1 == 1));
            }
            Message::Relation {
                id,
                schema,
                name,
                columns,
            }
        }
        Some(b'I') => {
            let rel = r.i32()? as u32;
            let _n = r.u8()?;
            Message::Change(Change::Insert {
                rel,
                new: r.tuple()?,
            })
        }
        Some(b'U') => {
            let rel = r.i32()? as u32;
            let mut old = None;
            let mut kind = r.u8()?;
            if kind == b'K' || kind == b'O' {
                old = Some(r.tuple()?);
                kind = r.u8()?;
            }
            if kind != b'N' {
                return Err(ConnectError::Task(
                    "a pgoutput Update without a new tuple".into(),
                ));
            }
            Message::Change(Change::Update {
                rel,
                old,
                new: r.tuple()?,
            })
        }
        Some(b'D') => {
            let rel = r.i32()? as u32;
            let _kind = r.u8()?;
            Message::Change(Change::Delete {
                rel,
                old: r.tuple()?,
            })
        }
        _ => Message::Other,
    })
}

#[derive(Default)]
struct CdcTask {
    client: Option<Arc<tokio_postgres::Client>>,
    prefix: String,
    database: String,
    slot: String,
    publication: String,
    tombstones: bool,
    poll_interval: Duration,
    max_batch: i32,
    /// Tables by `schema.table`.
    tables: HashMap<String, Table>,
    /// Relation id → (schema.table, the relation's columns in tuple order).
    relations: HashMap<u32, (String, Vec<String>)>,
    offsets: Option<Arc<dyn OffsetReader>>,
    pending: VecDeque<SourceRecord>,
    /// The end LSN of the last transaction emitted, and the LSN the slot was advanced to.
    emitted_upto: i64,
    advanced_to: i64,
    include: Vec<regex::Regex>,
    snapshot_mode: String,
    /// The initial snapshot's transaction snapshot (xmin, xmax, in-progress xids): the
    /// slot is created before it, so transactions it already saw are skipped when streaming
    /// (they form a prefix of the stream; the filter is dropped at the first one it did not
    /// see). Kept in the snapshot records' offsets for a restart before streaming.
    seen_by_snapshot: Option<TxSnapshot>,
    decimals: DecimalMode,
    heartbeat: Option<Heartbeat>,
    /// A WAL position every transaction committed before has been read (emitted or not
    /// captured): what a heartbeat's offset carries.
    read_through: i64,
    last_xid: Option<u32>,
}

/// Debezium's heartbeats: a record every `interval` on `topic` whose source offset is the
/// position read through, after running `action_query` (if any).
struct Heartbeat {
    interval: Duration,
    topic: String,
    action_query: Option<String>,
    last: Instant,
}

/// A transaction snapshot: xmin, xmax and the xids in progress (64-bit, as txid_* give them).
type TxSnapshot = (i64, i64, Vec<i64>);

/// Whether a 32-bit xid was committed before a snapshot `(xmin, xmax, xip)` (64-bit xids).
/// The xid is placed in the epoch that puts it nearest to xmax (within 2^31 either way, as
/// PostgreSQL compares xids), so one assigned after the snapshot counts as later, not as one
/// of the previous epoch.
fn visible_to(snapshot: &TxSnapshot, xid: u32) -> bool {
    let (xmin, xmax, xip) = snapshot;
    let mut x = (xmax & !0xffff_ffff) | xid as i64;
    if x > xmax + (1 << 31) {
        x -= 1 << 32;
    } else if x < xmax - (1 << 31) {
        x += 1 << 32;
    }
    x < *xmin || (x < *xmax && !xip.contains(&x))
}

impl CdcTask {
    fn partition(&self) -> Json {
        json!({"server": self.prefix})
    }

    fn client(&self) -> Result<&tokio_postgres::Client> {
        self.client
            .as_deref()
            .ok_or_else(|| ConnectError::Task("PostgresConnectorTask is not started".into()))
    }

    /// The included tables and their columns (with primary keys) from the catalog.
    async fn load_tables(&mut self) -> Result<()> {
        let c = self.client()?;
        let rows = c
            .query(
                "SELECT c.table_schema::text, c.table_name::text, c.column_name::text, c.udt_name::text, \
                 c.is_nullable::text, c.numeric_precision::int4, c.numeric_scale::int4, \
                 EXISTS (SELECT 1 FROM information_schema.table_constraints tc \
                   JOIN information_schema.key_column_usage k ON k.constraint_name = tc.constraint_name \
                    AND k.table_schema = tc.table_schema AND k.table_name = tc.table_name \
                   WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = c.table_schema \
                    AND tc.table_name = c.table_name AND k.column_name = c.column_name) \
                 FROM information_schema.columns c JOIN information_schema.tables t \
                   ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
                 WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema') \
                 ORDER BY 1, 2, c.ordinal_position",
                &[],
            )
            .await
            .map_err(pg_err)?;
        let mut cols: IndexMap<(String, String), Vec<Column>> = IndexMap::new();
        for r in rows {
            let (schema, table, col, udt, nullable, precision, scale, key): (
                String,
                String,
                String,
                String,
                String,
                Option<i32>,
                Option<i32>,
                bool,
            ) = (
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                r.get(4),
                r.get(5),
                r.get(6),
                r.get(7),
            );
            let full = format!("{schema}.{table}");
            if !self.include.is_empty() && !self.include.iter().any(|re| re.is_match(&full)) {
                continue;
            }
            cols.entry((schema, table)).or_default().push(Column {
                name: col,
                ty: CdcType::from_udt(&udt, precision, scale, self.decimals),
                optional: nullable == "YES",
                key,
            });
        }
        self.tables = cols
            .into_iter()
            .map(|((s, t), columns)| {
                (
                    format!("{s}.{t}"),
                    Table::new(&self.prefix, &s, &t, columns),
                )
            })
            .collect();
        Ok(())
    }

    /// The publication (created for the included tables when missing) and the slot.
    async fn ensure_publication_and_slot(&self, autocreate: &str) -> Result<()> {
        let c = self.client()?;
        let exists = !c
            .query(
                &format!(
                    "SELECT 1 FROM pg_publication WHERE pubname = {}",
                    literal(&self.publication)
                ),
                &[],
            )
            .await
            .map_err(pg_err)?
            .is_empty();
        if !exists {
            let what = match autocreate {
                "disabled" => {
                    return Err(ConnectError::Task(format!(
                    "Publication '{}' does not exist and publication.autocreate.mode is disabled",
                    self.publication
                )))
                }
                "all_tables" => "ALL TABLES".to_string(),
                _ => {
                    if self.tables.is_empty() {
                        return Err(ConnectError::Task(
                            "No table matches table.include.list: there is nothing to publish"
                                .into(),
                        ));
                    }
                    let mut names: Vec<String> = self
                        .tables
                        .values()
                        .map(|t| format!("{}.{}", quote(&t.schema), quote(&t.name)))
                        .collect();
                    names.sort();
                    format!("TABLE {}", names.join(", "))
                }
            };
            c.batch_execute(&format!(
                "CREATE PUBLICATION {} FOR {what}",
                quote(&self.publication)
            ))
            .await
            .map_err(pg_err)?;
        }
        let slot = c
            .query(
                &format!(
                    "SELECT plugin::text FROM pg_replication_slots WHERE slot_name = {}",
                    literal(&self.slot)
                ),
                &[],
            )
            .await
            .map_err(pg_err)?;
        if slot.is_empty() {
            c.query(
                &format!(
                    "SELECT pg_create_logical_replication_slot({}, 'pgoutput')",
                    literal(&self.slot)
                ),
                &[],
            )
            .await
            .map_err(pg_err)?;
        }
        Ok(())
    }

    fn source(
        &self,
        t: &Table,
        ts_ms: i64,
        snapshot: &str,
        tx: Option<u32>,
        lsn: Option<i64>,
    ) -> Data {
        let mut m = IndexMap::new();
        m.insert("version".into(), Data::Str(VERSION.into()));
        m.insert("connector".into(), Data::Str("postgresql".into()));
        m.insert("name".into(), Data::Str(self.prefix.clone()));
        m.insert("ts_ms".into(), Data::Int(ts_ms));
        m.insert("snapshot".into(), Data::Str(snapshot.into()));
        m.insert("db".into(), Data::Str(self.database.clone()));
        m.insert("sequence".into(), Data::Null);
        m.insert("schema".into(), Data::Str(t.schema.clone()));
        m.insert("table".into(), Data::Str(t.name.clone()));
        m.insert(
            "txId".into(),
            tx.map(|x| Data::Int(x as i64)).unwrap_or(Data::Null),
        );
        m.insert("lsn".into(), lsn.map(Data::Int).unwrap_or(Data::Null));
        m.insert("xmin".into(), Data::Null);
        Data::Struct(m)
    }

    /// A row as the value struct: `cells` by column name (missing columns null).
    fn row(t: &Table, cells: &HashMap<&str, &Cell>) -> Result<Data> {
        let mut m = IndexMap::new();
        for c in &t.columns {
            let v = match cells.get(c.name.as_str()) {
                None | Some(Cell::Null) => Data::Null,
                Some(Cell::Unchanged) => match c.ty {
                    CdcType::Str | CdcType::Json => Data::Str(UNAVAILABLE.into()),
                    _ => Data::Null,
                },
                Some(Cell::Text(s)) => c.ty.parse(s)?,
            };
            m.insert(c.name.clone(), v);
        }
        Ok(Data::Struct(m))
    }

    fn key(t: &Table, row: &Data) -> Data {
        if !t.has_key() {
            return Data::Null;
        }
        Data::Struct(
            t.columns
                .iter()
                .filter(|c| c.key)
                .map(|c| {
                    (
                        c.name.clone(),
                        row.field(&c.name).cloned().unwrap_or(Data::Null),
                    )
                })
                .collect(),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn event(
        &self,
        t: &Table,
        op: &str,
        before: Data,
        after: Data,
        source: Data,
        offset: Json,
        out: &mut Vec<SourceRecord>,
    ) {
        let key_row = if after.is_null() { &before } else { &after };
        let key = Self::key(t, key_row);
        let mut env = IndexMap::new();
        env.insert("before".into(), before);
        env.insert("after".into(), after);
        env.insert("source".into(), source);
        env.insert("op".into(), Data::Str(op.into()));
        env.insert("ts_ms".into(), Data::Int(sluice_log::now_ms()));
        let key_schema = t.has_key().then(|| t.key_schema.clone());
        out.push(SourceRecord {
            source_partition: self.partition(),
            source_offset: offset.clone(),
            record: Record {
                topic: t.topic.clone(),
                partition: None,
                key_schema: key_schema.clone(),
                key: key.clone(),
                value_schema: Some(t.envelope_schema.clone()),
                value: Data::Struct(env),
                timestamp: None,
                headers: Vec::new(),
            },
        });
        if op == "d" && self.tombstones {
            out.push(SourceRecord {
                source_partition: self.partition(),
                source_offset: offset,
                record: Record {
                    topic: t.topic.clone(),
                    partition: None,
                    key_schema,
                    key,
                    value_schema: None,
                    value: Data::Null,
                    timestamp: None,
                    headers: Vec::new(),
                },
            });
        }
    }

    /// Reads every included table in one REPEATABLE READ transaction: `r` events.
    async fn snapshot(&mut self) -> Result<Vec<SourceRecord>> {
        let c = self.client()?;
        c.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .map_err(pg_err)?;
        let result: Result<(Vec<SourceRecord>, TxSnapshot)> = async {
            // The transaction's snapshot is taken by its first statement: this one.
            let head = c
                .query(
                    "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::int8, txid_snapshot_xmin(s), \
                     txid_snapshot_xmax(s), ARRAY(SELECT txid_snapshot_xip(s)) FROM txid_current_snapshot() s",
                    &[],
                )
                .await
                .map_err(pg_err)?;
            let lsn: i64 = head[0].get(0);
            let seen: TxSnapshot = (head[0].get(1), head[0].get(2), head[0].get(3));
            let now = sluice_log::now_ms();
            let mut names: Vec<&String> = self.tables.keys().collect();
            names.sort();
            let mut out = Vec::new();
            for name in names {
                let t = &self.tables[name];
                let cols: Vec<String> = t.columns.iter().map(|c| format!("{}::text", quote(&c.name))).collect();
                let rows = c
                    .query(
                        &format!("SELECT {} FROM {}.{}", cols.join(", "), quote(&t.schema), quote(&t.name)),
                        &[],
                    )
                    .await
                    .map_err(pg_err)?;
                for r in rows {
                    let cells: Vec<Cell> = (0..t.columns.len())
                        .map(|i| match r.get::<_, Option<String>>(i) {
                            Some(s) => Cell::Text(s),
                            None => Cell::Null,
                        })
                        .collect();
                    let by_name: HashMap<&str, &Cell> =
                        t.columns.iter().map(|c| c.name.as_str()).zip(cells.iter()).collect();
                    let after = Self::row(t, &by_name)?;
                    let source = self.source(t, now, "true", None, Some(lsn));
                    let offset = json!({"snapshot": true, "last_snapshot_record": false, "lsn": lsn,
                        "ts_usec": now * 1000, "snapshot_xmin": seen.0, "snapshot_xmax": seen.1, "snapshot_xip": seen.2});
                    self.event(t, "r", Data::Null, after, source, offset, &mut out);
                }
            }
            if out.is_empty() {
                return Ok((out, seen));
            }
            let n = out.len();
            for (i, r) in out.iter_mut().enumerate() {
                let marker = if i == 0 { "first" } else if i == n - 1 { "last" } else { "true" };
                if let Data::Struct(env) = &mut r.record.value {
                    if let Some(Data::Struct(src)) = env.get_mut("source") {
                        src.insert("snapshot".into(), Data::Str(marker.into()));
                    }
                }
            }
            out[n - 1].source_offset["last_snapshot_record"] = json!(true);
            Ok((out, seen))
        }
        .await;
        let _ = c.batch_execute("COMMIT").await;
        let (out, seen) = result?;
        self.seen_by_snapshot = Some(seen);
        Ok(out)
    }

    /// Moves the slot up to the transaction the runtime has committed.
    async fn advance(&mut self) -> Result<()> {
        let committed = self
            .offsets
            .as_ref()
            .and_then(|o| o.offset(&self.partition()))
            .and_then(|o| o["lsn_commit"].as_i64());
        let Some(lsn) = committed else {
            return Ok(());
        };
        if lsn <= self.advanced_to {
            return Ok(());
        }
        let c = self.client()?;
        c.query(
            &format!(
                // Never backwards (PostgreSQL refuses that): only when the slot is behind.
                "SELECT pg_replication_slot_advance(slot_name, {lsn}::pg_lsn) FROM pg_replication_slots \
                 WHERE slot_name = {slot} AND confirmed_flush_lsn < {lsn}::pg_lsn",
                slot = literal(&self.slot),
                lsn = literal(&lsn_text(lsn))
            ),
            &[],
        )
        .await
        .map_err(pg_err)?;
        self.advanced_to = lsn;
        Ok(())
    }

    /// The changes of whole transactions past what was emitted, up to the WAL flushed when
    /// called (decoding reads no further than that).
    async fn stream(&mut self) -> Result<Vec<SourceRecord>> {
        self.advance().await?;
        let c = self.client()?;
        let flushed: i64 = c
            .query_one(
                "SELECT (pg_current_wal_flush_lsn() - '0/0'::pg_lsn)::int8",
                &[],
            )
            .await
            .map_err(pg_err)?
            .get(0);
        let rows = c
            .query(
                &format!(
                    "SELECT (lsn - '0/0'::pg_lsn)::int8, data FROM pg_logical_slot_peek_binary_changes({}, {}::pg_lsn, {}, \
                     'proto_version', '1', 'publication_names', {})",
                    literal(&self.slot),
                    literal(&lsn_text(flushed)),
                    self.max_batch,
                    literal(&self.publication)
                ),
                &[],
            )
            .await
            .map_err(pg_err)?;
        // Fewer rows than asked: decoding stopped at `flushed`, not at the row limit, so every
        // transaction committed before it is among these rows.
        let read_all = rows.len() < self.max_batch as usize;
        let mut messages = Vec::with_capacity(rows.len());
        for r in &rows {
            let lsn: i64 = r.get(0);
            let data: Vec<u8> = r.get(1);
            messages.push((lsn, decode(&data)?));
        }
        // Relations the catalog did not know yet (a table created or altered since).
        let stale = messages.iter().any(|(_, m)| match m {
            Message::Relation {
                schema,
                name,
                columns,
                ..
            } => {
                let full = format!("{schema}.{name}");
                let included =
                    self.include.is_empty() || self.include.iter().any(|re| re.is_match(&full));
                included
                    && self.tables.get(&full).is_none_or(|t| {
                        columns
                            .iter()
                            .any(|(c, _)| !t.columns.iter().any(|k| &k.name == c))
                    })
            }
            _ => false,
        });
        if stale {
            self.load_tables().await?;
        }
        // No awaits past this point.
        let mut out = Vec::new();
        let mut tx: Vec<(i64, Change)> = Vec::new();
        let mut xid = 0u32;
        for (lsn, m) in messages {
            match m {
                Message::Relation {
                    id,
                    schema,
                    name,
                    columns,
                } => {
                    self.relations.insert(
                        id,
                        (
                            format!("{schema}.{name}"),
                            columns.into_iter().map(|(c, _)| c).collect(),
                        ),
                    );
                }
                Message::Begin { xid: x, .. } => {
                    xid = x;
                    tx.clear();
                }
                Message::Change(ch) => tx.push((lsn, ch)),
                Message::Commit {
                    end_lsn,
                    commit_ts_us,
                } => {
                    let changes = std::mem::take(&mut tx);
                    if end_lsn <= self.emitted_upto {
                        continue; // emitted already, not yet committed by the runtime
                    }
                    if let Some(seen) = &self.seen_by_snapshot {
                        if visible_to(seen, xid) {
                            self.emitted_upto = end_lsn;
                            continue; // in the snapshot already
                        }
                        self.seen_by_snapshot = None;
                    }
                    for (lsn, ch) in changes {
                        self.change(ch, lsn, end_lsn, xid, commit_ts_us, &mut out)?;
                    }
                    self.emitted_upto = end_lsn;
                    self.last_xid = Some(xid);
                }
                Message::Other => {}
            }
        }
        self.read_through = self.read_through.max(self.emitted_upto);
        if read_all {
            self.read_through = self.read_through.max(flushed);
        }
        Ok(out)
    }

    /// Runs `heartbeat.action.query` when a heartbeat is due (before reading, so what it
    /// writes is read with this poll).
    async fn heartbeat_action(&self) -> Result<()> {
        let Some(hb) = &self.heartbeat else {
            return Ok(());
        };
        if let Some(q) = hb
            .action_query
            .as_deref()
            .filter(|_| hb.last.elapsed() >= hb.interval)
        {
            self.client()?.batch_execute(q).await.map_err(|e| {
                ConnectError::Task(format!("heartbeat.action.query failed: {}", pg_err(e)))
            })?;
        }
        Ok(())
    }

    /// A heartbeat record when one is due and a position has been read: key
    /// `{"serverName": topic.prefix}`, value `{"ts_ms"}`, offset at `read_through` (the slot
    /// is advanced there once the runtime commits it).
    fn heartbeat_record(&mut self) -> Option<SourceRecord> {
        let hb = self.heartbeat.as_mut()?;
        if hb.last.elapsed() < hb.interval || self.read_through == 0 {
            return None;
        }
        hb.last = Instant::now();
        let now = sluice_log::now_ms();
        let mut key = IndexMap::new();
        key.insert("serverName".to_string(), Data::Str(self.prefix.clone()));
        let mut value = IndexMap::new();
        value.insert("ts_ms".to_string(), Data::Int(now));
        let mut offset = json!({"lsn": self.read_through, "lsn_commit": self.read_through,
            "txId": self.last_xid, "ts_usec": now * 1000});
        if let Some((xmin, xmax, xip)) = &self.seen_by_snapshot {
            // Still skipping what the snapshot saw: a restart from this offset must too.
            offset["snapshot"] = json!(true);
            offset["last_snapshot_record"] = json!(true);
            offset["snapshot_xmin"] = json!(xmin);
            offset["snapshot_xmax"] = json!(xmax);
            offset["snapshot_xip"] = json!(xip);
        }
        Some(SourceRecord {
            source_partition: json!({"server": self.prefix}),
            source_offset: offset,
            record: Record {
                topic: hb.topic.clone(),
                partition: Some(0),
                key_schema: Some(Arc::new(json!({"type": "struct", "fields": [
                        {"type": "string", "optional": false, "field": "serverName"}],
                    "optional": false, "name": "io.debezium.connector.common.ServerNameKey",
                    "version": 1}))),
                key: Data::Struct(key),
                value_schema: Some(Arc::new(json!({"type": "struct", "fields": [
                        {"type": "int64", "optional": false, "field": "ts_ms"}],
                    "optional": false, "name": "io.debezium.connector.common.Heartbeat",
                    "version": 1}))),
                value: Data::Struct(value),
                timestamp: None,
                headers: Vec::new(),
            },
        })
    }

    fn change(
        &self,
        ch: Change,
        lsn: i64,
        end_lsn: i64,
        xid: u32,
        commit_ts_us: i64,
        out: &mut Vec<SourceRecord>,
    ) -> Result<()> {
        let rel = match &ch {
            Change::Insert { rel, .. }
            | Change::Update { rel, .. }
            | Change::Delete { rel, .. } => *rel,
        };
        let Some((full, cols)) = self.relations.get(&rel) else {
            return Err(ConnectError::Task(format!(
                "a change of relation {rel} came before its Relation message"
            )));
        };
        let Some(t) = self.tables.get(full) else {
            return Ok(()); // published, but not included
        };
        let cells = |tuple: &[Cell]| -> Result<Data> {
            let by_name: HashMap<&str, &Cell> =
                cols.iter().map(String::as_str).zip(tuple.iter()).collect();
            Self::row(t, &by_name)
        };
        let source = self.source(
            t,
            commit_ts_us.div_euclid(1000),
            "false",
            Some(xid),
            Some(lsn),
        );
        let offset =
            json!({"lsn": lsn, "lsn_commit": end_lsn, "txId": xid, "ts_usec": commit_ts_us});
        match ch {
            Change::Insert { new, .. } => {
                let after = cells(&new)?;
                self.event(t, "c", Data::Null, after, source, offset, out);
            }
            Change::Update { old, new, .. } => {
                // REPLICA IDENTITY DEFAULT: no old tuple unless the key changed (Debezium's
                // before is null then too).
                let before = match old {
                    Some(o) => cells(&o)?,
                    None => Data::Null,
                };
                let after = cells(&new)?;
                self.event(t, "u", before, after, source, offset, out);
            }
            Change::Delete { old, .. } => {
                let before = cells(&old)?;
                self.event(t, "d", before, Data::Null, source, offset, out);
            }
        }
        Ok(())
    }
}

fn quote(ident: &str) -> String {
    super::jdbc::quote(ident)
}

impl SourceTask for CdcTask {
    fn start<'a>(
        &'a mut self,
        config: &'a Config,
        offsets: Arc<dyn OffsetReader>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut pg = tokio_postgres::Config::new();
            self.database = get(config, "database.dbname").to_string();
            pg.host(get(config, "database.hostname"))
                .port(int(config, "database.port", 5432) as u16)
                .user(get(config, "database.user"))
                .dbname(&self.database)
                .options("-c TimeZone=UTC -c DateStyle=ISO -c extra_float_digits=3")
                .connect_timeout(Duration::from_secs(10));
            if !get(config, "database.password").is_empty() {
                pg.password(get(config, "database.password"));
            }
            let tls = PgTls::new(
                config.get("database.sslmode").map(String::as_str),
                config.get("database.sslrootcert").map(String::as_str),
            )
            .map_err(|e| ConnectError::Task(format!("database.sslmode: {e}")))?;
            let client = super::pg_connect::connect(&pg, &tls).await?;
            self.client = Some(Arc::new(client));
            self.prefix = get(config, "topic.prefix").to_string();
            self.slot = config
                .get("slot.name")
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .unwrap_or("debezium")
                .to_string();
            self.publication = config
                .get("publication.name")
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .unwrap_or("dbz_publication")
                .to_string();
            self.tombstones = boolean(config, "tombstones.on.delete", true);
            self.decimals = DecimalMode::from_config(config);
            let interval = int(config, "heartbeat.interval.ms", 0);
            self.heartbeat = (interval > 0).then(|| {
                let prefix = config
                    .get("topic.heartbeat.prefix")
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .unwrap_or("__debezium-heartbeat");
                Heartbeat {
                    interval: Duration::from_millis(interval as u64),
                    topic: format!("{prefix}.{}", self.prefix),
                    action_query: Some(get(config, "heartbeat.action.query"))
                        .filter(|q| !q.is_empty())
                        .map(str::to_string),
                    last: Instant::now(),
                }
            });
            self.poll_interval =
                Duration::from_millis(int(config, "poll.interval.ms", 500).max(1) as u64);
            self.max_batch = int(config, "max.batch.size", 2048).clamp(1, i32::MAX as i64) as i32;
            self.snapshot_mode = config
                .get("snapshot.mode")
                .map(|s| s.trim().to_ascii_lowercase())
                .unwrap_or_else(|| "initial".into());
            self.include = crate::config::list(config, "table.include.list")
                .iter()
                .map(|p| regex::Regex::new(&format!("^(?:{p})$")))
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| ConnectError::Task(format!("table.include.list: {e}")))?;
            self.load_tables().await?;
            let autocreate = config
                .get("publication.autocreate.mode")
                .map(|s| s.trim().to_ascii_lowercase())
                .unwrap_or_else(|| "filtered".into());
            self.ensure_publication_and_slot(&autocreate).await?;
            self.offsets = Some(Arc::clone(&offsets));
            let committed = offsets.offset(&self.partition());
            let snapshot_done = committed.as_ref().is_some_and(|o| {
                o["snapshot"].as_bool() != Some(true)
                    || o["last_snapshot_record"].as_bool() == Some(true)
            });
            if !snapshot_done && self.snapshot_mode == "initial" {
                let records = self.snapshot().await?;
                self.pending.extend(records);
            } else if let Some(o) = committed.filter(|o| o["snapshot"].as_bool() == Some(true)) {
                // Snapshot done, nothing streamed yet: what it saw is still to be skipped.
                if let (Some(xmin), Some(xmax)) =
                    (o["snapshot_xmin"].as_i64(), o["snapshot_xmax"].as_i64())
                {
                    let xip = o["snapshot_xip"]
                        .as_array()
                        .map(|a| a.iter().filter_map(Json::as_i64).collect())
                        .unwrap_or_default();
                    self.seen_by_snapshot = Some((xmin, xmax, xip));
                }
            }
            Ok(())
        })
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Vec<SourceRecord>>> {
        Box::pin(async move {
            if !self.pending.is_empty() {
                // Snapshot records: a batch at a time (a restart before the last one redoes
                // the snapshot, as Debezium does).
                let n = self.pending.len().min(self.max_batch as usize);
                return Ok(self.pending.drain(..n).collect());
            }
            self.heartbeat_action().await?;
            let mut records = self.stream().await?;
            records.extend(self.heartbeat_record());
            if records.is_empty() {
                tokio::time::sleep(self.poll_interval).await;
            }
            Ok(records)
        })
    }

    fn stop(&mut self) {
        self.client = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heartbeat_while_skipping_what_the_snapshot_saw_keeps_the_snapshot_in_its_offset() {
        let mut task = CdcTask {
            prefix: "pg".into(),
            heartbeat: Some(Heartbeat {
                interval: Duration::ZERO,
                topic: "__debezium-heartbeat.pg".into(),
                action_query: None,
                last: Instant::now(),
            }),
            read_through: 4096,
            seen_by_snapshot: Some((100, 105, vec![102])),
            ..CdcTask::default()
        };
        let o = task.heartbeat_record().unwrap().source_offset;
        // A restart from this offset restores the filter instead of streaming the
        // snapshot's transactions again (the start-up check in `start`).
        assert_eq!(o["lsn"], 4096);
        assert_eq!(o["snapshot"], true);
        assert_eq!(o["last_snapshot_record"], true);
        assert_eq!(
            (&o["snapshot_xmin"], &o["snapshot_xmax"], &o["snapshot_xip"]),
            (&json!(100), &json!(105), &json!([102]))
        );
        task.seen_by_snapshot = None;
        let o = task.heartbeat_record().unwrap().source_offset;
        assert!(o.get("snapshot").is_none(), "{o}");
    }

    #[test]
    fn decodes_pgoutput_messages() {
        let mut rel = vec![b'R', 0, 0, 0x40, 0x01];
        rel.extend(b"public\0items\0");
        rel.push(b'd');
        rel.extend([0, 2]);
        rel.extend([1]);
        rel.extend(b"id\0");
        rel.extend([0, 0, 0, 23, 0xff, 0xff, 0xff, 0xff]);
        rel.extend([0]);
        rel.extend(b"name\0");
        rel.extend([0, 0, 0, 25, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            decode(&rel).unwrap(),
            Message::Relation {
                id: 0x4001,
                schema: "public".into(),
                name: "items".into(),
                columns: vec![("id".into(), true), ("name".into(), false)]
            }
        );
        let mut ins = vec![
            b'I', 0, 0, 0x40, 0x01, b'N', 0, 2, b't', 0, 0, 0, 1, b'7', b'n',
        ];
        assert_eq!(
            decode(&ins).unwrap(),
            Message::Change(Change::Insert {
                rel: 0x4001,
                new: vec![Cell::Text("7".into()), Cell::Null]
            })
        );
        ins.truncate(10);
        assert!(decode(&ins).is_err());
        let del = [b'D', 0, 0, 0x40, 0x01, b'K', 0, 1, b't', 0, 0, 0, 1, b'7'];
        assert!(matches!(
            decode(&del).unwrap(),
            Message::Change(Change::Delete { .. })
        ));
    }

    #[test]
    fn decimals_are_javas_big_integer_bytes() {
        // BigInteger.toByteArray: the shortest two's complement, big-endian.
        let cases: &[(&str, &[u8])] = &[
            ("0", &[0]),
            ("-0", &[0]),
            ("1", &[1]),
            ("-1", &[0xff]),
            ("127", &[0x7f]),
            ("128", &[0, 0x80]),
            ("-128", &[0x80]),
            ("-129", &[0xff, 0x7f]),
            ("255", &[0, 0xff]),
            ("256", &[1, 0]),
            ("-256", &[0xff, 0]),
            ("-32768", &[0x80, 0]),
        ];
        for (text, bytes) in cases {
            assert_eq!(
                unscaled_twos_complement(text, None),
                Some((0, bytes.to_vec())),
                "{text}"
            );
        }
        for v in [
            i128::MAX,
            i128::MIN + 1,
            10i128.pow(30) + 7,
            -(10i128.pow(25)),
        ] {
            assert_eq!(
                unscaled_twos_complement(&v.to_string(), None).unwrap().1,
                super::super::jdbc::twos_complement(v)
            );
        }
        // Beyond 128 bits: 10^40 = 0x1d6329f1c35ca4bfabb9f5610000000000.
        let big = unscaled_twos_complement("10000000000000000000000000000000000000000", None);
        assert_eq!(big.unwrap().1[..3], [0x1d, 0x63, 0x29]);
        // The text's own scale, or padded to the declared one.
        assert_eq!(
            unscaled_twos_complement("1.50", None),
            Some((2, vec![0, 150]))
        );
        assert_eq!(
            unscaled_twos_complement("-0.5", Some(3)),
            Some((3, vec![0xfe, 0x0c]))
        );
        assert_eq!(unscaled_twos_complement("-0.00", None), Some((2, vec![0])));
        assert_eq!(unscaled_twos_complement("1.234", Some(2)), None);
        assert_eq!(unscaled_twos_complement("1e5", None), None);
        assert_eq!(unscaled_twos_complement("-", None), None);
        assert_eq!(CdcType::VariableDecimal.parse("NaN").unwrap(), Data::Null);
        let v = CdcType::VariableDecimal.parse("-3.14").unwrap();
        assert_eq!(v.field("scale"), Some(&Data::Int(2)));
        assert_eq!(v.field("value"), Some(&Data::Bytes(vec![0xfe, 0xc6])));
        let modes = [DecimalMode::Precise, DecimalMode::Double, DecimalMode::Text];
        let unconstrained: Vec<CdcType> = modes
            .iter()
            .map(|m| CdcType::from_udt("numeric", None, None, *m))
            .collect();
        assert_eq!(
            unconstrained,
            [CdcType::VariableDecimal, CdcType::F64, CdcType::Str]
        );
        let declared = CdcType::from_udt("numeric", Some(10), Some(2), DecimalMode::Precise);
        assert_eq!(
            declared.schema(true)["parameters"],
            json!({"scale": "2", "connect.decimal.precision": "10"})
        );
    }

    #[test]
    fn text_values_as_debezium_has_them() {
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(parse_date("2024-01-02"), Some(19724));
        assert_eq!(parse_time_us("01:00:00.5"), Some(3_600_500_000));
        assert_eq!(
            CdcType::Timestamp.parse("2024-01-02 03:04:05.678").unwrap(),
            Data::Int(1_704_164_645_678_000)
        );
        assert_eq!(
            CdcType::TimestampTz
                .parse("2024-01-02 03:04:05.5+00")
                .unwrap(),
            Data::Str("2024-01-02T03:04:05.5Z".into())
        );
        assert_eq!(
            unscaled_twos_complement("-12.5", Some(2)),
            Some((2, (-1250i16).to_be_bytes().to_vec()))
        );
        assert_eq!(
            CdcType::Bytes.parse("\\x01ff").unwrap(),
            Data::Bytes(vec![1, 255])
        );
        assert_eq!(lsn_text(0x16_B374_D848), "16/B374D848");
        // xmin 100, xmax 105, 102 in progress: 99 and 101 were seen, 102 and 105 not.
        let snap = (100, 105, vec![102]);
        assert!(visible_to(&snap, 99) && visible_to(&snap, 101));
        assert!(!visible_to(&snap, 102) && !visible_to(&snap, 105));
        // Transactions begun after the snapshot (xid past xmax) were not seen by it.
        assert!(!visible_to(&snap, 106) && !visible_to(&snap, 100_000));
        let near_wrap = ((1 << 32) - 10, (1 << 32) - 5, vec![]);
        assert!(visible_to(&near_wrap, u32::MAX - 10) && !visible_to(&near_wrap, 3));
        let wrapped = ((1 << 32) + 5, (1 << 32) + 10, vec![]);
        assert!(visible_to(&wrapped, 6) && !visible_to(&wrapped, 10));
        assert!(visible_to(&wrapped, u32::MAX)); // the previous epoch
    }
}
