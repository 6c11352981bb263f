//! What the JDBC source and sink share: `jdbc:` URLs (`jdbc:postgresql://host:port/db?..`,
//! `jdbc:sqlite:/path`) opened as a PostgreSQL client (tokio-postgres, TLS per the URL's
//! `sslmode` through `pg_connect`) or a SQLite
//! connection (rusqlite, used on blocking threads), column types as Connect schemas (with
//! Connect's logical types Decimal, Date, Time, Timestamp, as Confluent's connector maps them),
//! PostgreSQL's binary column values decoded, and bound parameters for both databases. It never
//! decides what to query or write: the connectors do.

use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{json, Value as Json};
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type};

use crate::config::{ConfigDef, ConfigType, Importance, Validator};
use crate::data::Data;
use crate::error::{ConnectError, Result};

pub use crate::data::{decimal_text, twos_complement, DATE, DECIMAL, TIME, TIMESTAMP};

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
pub const PG_EPOCH_US: i64 = 946_684_800_000_000;
/// Days from the Unix epoch to PostgreSQL's.
const PG_EPOCH_DAYS: i32 = 10_957;

/// Where a `connection.url` points.
#[derive(Debug, Clone)]
pub enum Target {
    Postgres {
        config: Box<tokio_postgres::Config>,
        database: String,
        tls: super::pg_connect::PgTls,
    },
    Sqlite {
        path: String,
    },
}

/// Parses a JDBC URL, with `connection.user` / `connection.password` over the URL's own.
pub fn parse_url(
    url: &str,
    user: Option<&str>,
    password: Option<&str>,
) -> std::result::Result<Target, String> {
    let url = url.trim();
    if let Some(path) = url.strip_prefix("jdbc:sqlite:") {
        if path.is_empty() {
            return Err("a jdbc:sqlite: URL needs a file path".into());
        }
        return Ok(Target::Sqlite {
            path: path.to_string(),
        });
    }
    let Some(rest) = url.strip_prefix("jdbc:postgresql:") else {
        return Err(format!(
            "Not a supported JDBC URL (jdbc:postgresql://host:port/db or jdbc:sqlite:/path): {url}"
        ));
    };
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, q),
        None => (rest, ""),
    };
    let (host, port, database) = match main.strip_prefix("//") {
        Some(hp) => {
            let (authority, db) = hp.split_once('/').unwrap_or((hp, ""));
            let (host, port) = match authority.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_string(),
                    p.parse::<u16>()
                        .map_err(|_| format!("invalid port in JDBC URL: {p}"))?,
                ),
                None => (authority.to_string(), 5432),
            };
            let host = if host.is_empty() {
                "localhost".to_string()
            } else {
                host
            };
            (host, port, db.to_string())
        }
        None => ("localhost".to_string(), 5432, main.to_string()),
    };
    let tls = super::pg_connect::PgTls::from_url_query(query)?;
    let mut config = tokio_postgres::Config::new();
    config.host(&host).port(port);
    let mut url_user = None;
    let mut url_password = None;
    for kv in query.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        match k {
            "user" => url_user = Some(v.to_string()),
            "password" => url_password = Some(v.to_string()),
            _ => {}
        }
    }
    let database = if database.is_empty() {
        "postgres".to_string()
    } else {
        database
    };
    config.dbname(&database);
    let user = user
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .or(url_user)
        .unwrap_or_else(|| "postgres".into());
    config.user(&user);
    if let Some(p) = password
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .or(url_password)
    {
        config.password(p);
    }
    config.connect_timeout(std::time::Duration::from_secs(10));
    Ok(Target::Postgres {
        config: Box::new(config),
        database,
        tls,
    })
}

/// The target of a connector config (`connection.url`, `connection.user`, `connection.password`).
pub fn target_of(config: &crate::config::Config) -> std::result::Result<Target, String> {
    parse_url(
        config
            .get("connection.url")
            .map(String::as_str)
            .unwrap_or(""),
        config.get("connection.user").map(String::as_str),
        config.get("connection.password").map(String::as_str),
    )
}

/// `connection.url`, `connection.user` and `connection.password`, as both JDBC connectors
/// define them (the caller puts them in its group).
pub fn connection_config(def: ConfigDef) -> ConfigDef {
    def.define(
        "connection.url",
        ConfigType::String,
        None,
        Validator::NonEmptyString,
        Importance::High,
        "JDBC connection URL: jdbc:postgresql://host:port/database or jdbc:sqlite:/path/to/file.",
    )
    .define(
        "connection.user",
        ConfigType::String,
        Some(""),
        Validator::None,
        Importance::High,
        "JDBC connection user.",
    )
    .define(
        "connection.password",
        ConfigType::Password,
        Some(""),
        Validator::None,
        Importance::High,
        "JDBC connection password.",
    )
}

/// An open database.
#[derive(Clone)]
pub enum Db {
    Postgres(Arc<tokio_postgres::Client>),
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
}

/// Opens the target (PostgreSQL's connection task runs on the current tokio runtime and ends
/// when the client is dropped).
pub async fn connect(target: &Target) -> Result<Db> {
    match target {
        Target::Postgres { config, tls, .. } => Ok(Db::Postgres(Arc::new(
            super::pg_connect::connect(config, tls).await?,
        ))),
        Target::Sqlite { path } => {
            let path = path.clone();
            let conn = blocking(move || {
                let c = rusqlite::Connection::open(&path).map_err(|e| {
                    ConnectError::Task(format!("Could not open SQLite database {path}: {e}"))
                })?;
                c.busy_timeout(std::time::Duration::from_secs(10))
                    .map_err(sqlite_err)?;
                Ok(c)
            })
            .await?;
            Ok(Db::Sqlite(Arc::new(Mutex::new(conn))))
        }
    }
}

/// Runs blocking work (SQLite) on tokio's blocking threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ConnectError::Task(format!("database thread: {e}")))?
}

pub fn pg_err(e: tokio_postgres::Error) -> ConnectError {
    // The server's message (with its detail) rather than tokio-postgres' "db error".
    match e.as_db_error() {
        Some(db) => ConnectError::Task(format!(
            "PostgreSQL: {}: {}{}",
            db.severity(),
            db.message(),
            db.detail().map(|d| format!(" ({d})")).unwrap_or_default()
        )),
        None => ConnectError::Task(format!("PostgreSQL: {e}")),
    }
}

pub fn sqlite_err(e: rusqlite::Error) -> ConnectError {
    ConnectError::Task(format!("SQLite: {e}"))
}

/// A column's type as the connectors map it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Bool,
    I16,
    I32,
    I64,
    F32,
    F64,
    Text,
    Bytes,
    /// NUMERIC with a declared scale: Connect's Decimal.
    Decimal(u32),
    Date,
    Time,
    Timestamp,
    /// Types read through a `::text` cast (uuid, json, jsonb, unconstrained... as strings).
    TextCast,
}

impl ColType {
    /// PostgreSQL's type (`udt_name`, or a result column's type name) → the mapping; None for
    /// types the connector skips (as Confluent's does, with a warning).
    pub fn from_pg(name: &str, scale: Option<i32>) -> Option<ColType> {
        Some(match name {
            "bool" => ColType::Bool,
            "int2" => ColType::I16,
            "int4" | "oid" => ColType::I32,
            "int8" => ColType::I64,
            "float4" => ColType::F32,
            "float8" => ColType::F64,
            "text" | "varchar" | "bpchar" | "name" | "char" => ColType::Text,
            "bytea" => ColType::Bytes,
            // NUMERIC without a declared scale has none Connect's Decimal can carry: float64.
            "numeric" => match scale {
                Some(s) if s >= 0 => ColType::Decimal(s as u32),
                _ => ColType::F64,
            },
            "date" => ColType::Date,
            "time" => ColType::Time,
            "timestamp" | "timestamptz" => ColType::Timestamp,
            "uuid" | "json" | "jsonb" | "xml" | "inet" | "cidr" | "macaddr" | "interval"
            | "money" | "timetz" => ColType::TextCast,
            _ => return None,
        })
    }

    /// SQLite's declared type, by its affinity rules.
    pub fn from_sqlite(declared: &str) -> ColType {
        let d = declared.to_ascii_uppercase();
        if d.contains("BOOL") {
            ColType::Bool
        } else if d.contains("INT") {
            ColType::I64
        } else if d.contains("CHAR") || d.contains("CLOB") || d.contains("TEXT") {
            ColType::Text
        } else if d.is_empty() {
            // No declared type (or a computed query column): values as strings.
            ColType::Text
        } else if d.contains("BLOB") {
            ColType::Bytes
        } else if d.contains("REAL") || d.contains("FLOA") || d.contains("DOUB") {
            ColType::F64
        } else {
            // NUMERIC affinity: numbers as float64.
            ColType::F64
        }
    }

    /// The Connect schema of a column.
    pub fn schema(self, optional: bool) -> Json {
        let prim = |t: &str| json!({"type": t, "optional": optional});
        let logical = |t: &str, name: &str| json!({"type": t, "optional": optional, "name": name, "version": 1});
        match self {
            ColType::Bool => prim("boolean"),
            ColType::I16 => prim("int16"),
            ColType::I32 => prim("int32"),
            ColType::I64 => prim("int64"),
            ColType::F32 => prim("float32"),
            ColType::F64 => prim("float64"),
            ColType::Text | ColType::TextCast => prim("string"),
            ColType::Bytes => prim("bytes"),
            ColType::Decimal(scale) => {
                json!({"type": "bytes", "optional": optional, "name": DECIMAL,
                "version": 1, "parameters": {"scale": scale.to_string()}})
            }
            ColType::Date => logical("int32", DATE),
            ColType::Time => logical("int32", TIME),
            ColType::Timestamp => logical("int64", TIMESTAMP),
        }
    }
}

/// A PostgreSQL value as the server sent it (binary format), decoded by [`decode_pg`].
pub struct Raw<'a>(pub Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(
        _ty: &Type,
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(None))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

fn be<const N: usize>(raw: &[u8]) -> Result<[u8; N]> {
    raw.get(..N)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| ConnectError::Data(format!("a {N}-byte PostgreSQL value was shorter")))
}

/// A column value from its binary form.
pub fn decode_pg(t: ColType, raw: Option<&[u8]>) -> Result<Data> {
    let Some(raw) = raw else {
        return Ok(Data::Null);
    };
    Ok(match t {
        ColType::Bool => Data::Bool(raw.first() == Some(&1)),
        ColType::I16 => Data::Int(i16::from_be_bytes(be(raw)?) as i64),
        ColType::I32 => Data::Int(i32::from_be_bytes(be(raw)?) as i64),
        ColType::I64 => Data::Int(i64::from_be_bytes(be(raw)?)),
        ColType::F32 => Data::Float(f32::from_be_bytes(be(raw)?) as f64),
        ColType::F64 => Data::Float(f64::from_be_bytes(be(raw)?)),
        ColType::Text | ColType::TextCast => Data::Str(String::from_utf8_lossy(raw).into_owned()),
        ColType::Bytes => Data::Bytes(raw.to_vec()),
        ColType::Decimal(scale) => Data::Bytes(twos_complement(numeric_unscaled(raw, scale)?)),
        ColType::Date => Data::Int((i32::from_be_bytes(be(raw)?) + PG_EPOCH_DAYS) as i64),
        ColType::Time => Data::Int(i64::from_be_bytes(be(raw)?).div_euclid(1000)),
        ColType::Timestamp => {
            Data::Int((i64::from_be_bytes(be(raw)?) + PG_EPOCH_US).div_euclid(1000))
        }
    })
}

/// A timestamp column's value in microseconds from the Unix epoch (for offsets).
pub fn pg_timestamp_us(raw: &[u8]) -> Result<i64> {
    Ok(i64::from_be_bytes(be(raw)?) + PG_EPOCH_US)
}

/// PostgreSQL's binary NUMERIC as an unscaled integer at `scale`.
pub fn numeric_unscaled(raw: &[u8], scale: u32) -> Result<i128> {
    let bad = || ConnectError::Data("a NUMERIC value Connect's Decimal cannot hold".into());
    let ndigits = i16::from_be_bytes(be(raw)?) as usize;
    let weight = i16::from_be_bytes(be(raw.get(2..).ok_or_else(bad)?)?) as i64;
    let sign = u16::from_be_bytes(be(raw.get(4..).ok_or_else(bad)?)?);
    if sign == 0xC000 || sign >= 0xD000 {
        return Err(ConnectError::Data(
            "NaN or infinite NUMERIC values have no Decimal form".into(),
        ));
    }
    let mut acc: i128 = 0;
    for i in 0..ndigits {
        let d = i16::from_be_bytes(be(raw.get(8 + 2 * i..).ok_or_else(bad)?)?) as i128;
        acc = acc
            .checked_mul(10_000)
            .and_then(|a| a.checked_add(d))
            .ok_or_else(bad)?;
    }
    // acc * 10000^(weight - ndigits + 1) * 10^scale
    let exp10 = 4 * (weight - ndigits as i64 + 1) + scale as i64;
    if exp10 >= 0 {
        for _ in 0..exp10 {
            acc = acc.checked_mul(10).ok_or_else(bad)?;
        }
    } else {
        for _ in 0..(-exp10) {
            acc /= 10;
        }
    }
    Ok(if sign == 0x4000 { -acc } else { acc })
}

/// A bound parameter; the SQL casts each placeholder to the type of its variant, so PostgreSQL
/// sees exactly that type.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Null,
    Bool(bool),
    I32(i32),
    I64(i64),
    F64(f64),
    Text(String),
    Bytes(Vec<u8>),
    /// Microseconds from the Unix epoch, for `timestamp` / `timestamptz` placeholders.
    TimestampUs(i64),
}

impl ToSql for Param {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use bytes::BufMut;
        match self {
            Param::Null => return Ok(IsNull::Yes),
            Param::Bool(b) => out.put_u8(*b as u8),
            Param::I32(v) => out.put_i32(*v),
            Param::I64(v) => out.put_i64(*v),
            Param::F64(v) => out.put_f64(*v),
            Param::Text(s) => out.put_slice(s.as_bytes()),
            Param::Bytes(b) => out.put_slice(b),
            Param::TimestampUs(us) => out.put_i64(us - PG_EPOCH_US),
        }
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

impl Param {
    pub fn to_sqlite(&self) -> rusqlite::types::Value {
        use rusqlite::types::Value;
        match self {
            Param::Null => Value::Null,
            Param::Bool(b) => Value::Integer(*b as i64),
            Param::I32(v) => Value::Integer(*v as i64),
            Param::I64(v) | Param::TimestampUs(v) => Value::Integer(*v),
            Param::F64(v) => Value::Real(*v),
            Param::Text(s) => Value::Text(s.clone()),
            Param::Bytes(b) => Value::Blob(b.clone()),
        }
    }
}

/// The parameters as tokio-postgres takes them.
pub fn pg_params(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// An identifier quoted as both databases want it (`"a""b"`); `schema.table` quoted per part.
pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// A possibly schema-qualified table name, quoted.
pub fn quote_table(name: &str) -> String {
    match name.split_once('.') {
        Some((s, t)) => format!("{}.{}", quote(s), quote(t)),
        None => quote(name),
    }
}

/// Whether an error means the database went away (worth reconnecting), not a bad statement.
pub fn is_connection_error(db: &Db, e: &ConnectError) -> bool {
    match db {
        Db::Postgres(c) => c.is_closed() || e.to_string().contains("connection"),
        Db::Sqlite(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let Target::Postgres {
            config, database, ..
        } = parse_url("jdbc:postgresql://127.0.0.1:5433/shop?user=u", None, None).unwrap()
        else {
            panic!()
        };
        assert_eq!(database, "shop");
        assert_eq!(config.get_ports(), &[5433]);
        assert_eq!(config.get_user(), Some("u"));
        let Target::Postgres { config, .. } =
            parse_url("jdbc:postgresql://db/x", Some("me"), Some("pw")).unwrap()
        else {
            panic!()
        };
        assert_eq!(config.get_ports(), &[5432]);
        assert_eq!(config.get_user(), Some("me"));
        assert!(matches!(
            parse_url("jdbc:sqlite:/tmp/a.db", None, None).unwrap(),
            Target::Sqlite { path } if path == "/tmp/a.db"
        ));
        assert!(parse_url("jdbc:mysql://h/db", None, None).is_err());
        assert!(parse_url("jdbc:postgresql://h:x/db", None, None).is_err());
    }

    #[test]
    fn numerics_and_decimals() {
        // 1234.50 as NUMERIC(10,2): ndigits 2, weight 0, sign +, dscale 2, digits 1234, 5000
        let raw = [0, 2, 0, 0, 0, 0, 0, 2, 0x04, 0xd2, 0x13, 0x88];
        assert_eq!(numeric_unscaled(&raw, 2).unwrap(), 123_450);
        let neg = [0, 1, 0, 0, 0x40, 0, 0, 0, 0, 7];
        assert_eq!(numeric_unscaled(&neg, 2).unwrap(), -700);
        assert_eq!(twos_complement(123_450), vec![0x01, 0xe2, 0x3a]);
        assert_eq!(twos_complement(-1), vec![0xff]);
        assert_eq!(twos_complement(128), vec![0x00, 0x80]);
        assert_eq!(
            decimal_text(&twos_complement(123_450), 2).unwrap(),
            "1234.50"
        );
        assert_eq!(decimal_text(&twos_complement(-5), 3).unwrap(), "-0.005");
    }
}
