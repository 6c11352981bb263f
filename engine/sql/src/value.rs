//! The row value model: ksqlDB's SQL values (BOOLEAN, INT, BIGINT, DOUBLE, DECIMAL exact,
//! STRING, BYTES, TIMESTAMP, DATE, TIME, ARRAY, MAP, STRUCT) with NULL; their JSON forms per
//! format ([`Flavor`]: ksqlDB's JSON writes TIMESTAMP/DATE/TIME as epoch millis/days/millis of
//! day, DECIMAL as a number, BYTES as base64; Avro through the registry codec's JSON takes
//! DECIMAL as exact text and BYTES as one character per byte; Protobuf's JSON has RFC 3339
//! Timestamps), their REST form ([`Value::to_rest_json`]: ISO strings for the temporal types,
//! as ksqlDB's API renders them), coercion of decoded JSON to a declared column type, and
//! ksqlDB's type names. No I/O, no evaluation.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value as Json;
use sluice_registry::codec::twos_complement;

use crate::ast::SqlType;
use crate::decimal::Decimal;
use crate::temporal;

/// How a format's JSON form writes the types JSON lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// ksqlDB's JSON and JSON_SR: BYTES as base64, DECIMAL as a number, temporal types as
    /// numbers.
    #[default]
    Json,
    /// The registry codec's Avro JSON: BYTES as one character per byte, DECIMAL as text.
    Avro,
    /// Protobuf's JSON mapping: BYTES as base64, TIMESTAMP as an RFC 3339 string.
    Protobuf,
}

pub fn base64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

pub fn unbase64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
}

/// One SQL value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i32),
    Bigint(i64),
    Double(f64),
    /// DECIMAL(p, s): exact; the value carries its scale, the column type its precision.
    Decimal(Decimal),
    String(String),
    Bytes(Vec<u8>),
    /// TIMESTAMP: epoch milliseconds (UTC).
    Timestamp(i64),
    /// DATE: days since 1970-01-01.
    Date(i32),
    /// TIME: milliseconds after midnight.
    Time(i32),
    Array(Vec<Value>),
    /// MAP<STRING, V> (ksqlDB's JSON maps have string keys).
    Map(BTreeMap<String, Value>),
    /// STRUCT fields in declaration order.
    Struct(Vec<(String, Value)>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as ksqlDB's JSON format writes it.
    pub fn to_json(&self) -> Json {
        self.to_json_as(Flavor::Json)
    }

    /// The value as `flavor`'s JSON form (what a sink hands the format's encoder).
    pub fn to_json_as(&self, flavor: Flavor) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Bigint(i) => Json::from(*i),
            Value::Double(d) => serde_json::Number::from_f64(*d)
                .map(Json::Number)
                .unwrap_or(Json::Null),
            Value::Decimal(d) => match flavor {
                Flavor::Avro => Json::String(d.to_plain_string()),
                // confluent.type.Decimal (the precision is the type's, which a value lacks:
                // readers take the scale and the unscaled bytes).
                Flavor::Protobuf => serde_json::json!({
                    "value": base64(&twos_complement(d.unscaled)),
                    "scale": d.scale,
                }),
                Flavor::Json => decimal_number(d),
            },
            Value::String(s) => Json::String(s.clone()),
            Value::Bytes(b) => match flavor {
                Flavor::Avro => Json::String(b.iter().map(|x| char::from(*x)).collect()),
                _ => Json::String(base64(b)),
            },
            Value::Timestamp(t) => match flavor {
                Flavor::Protobuf => Json::String(format!("{}Z", temporal::format_timestamp(*t))),
                _ => Json::from(*t),
            },
            Value::Date(d) if flavor == Flavor::Protobuf => {
                let (y, m, d) = temporal::civil_from_days(i64::from(*d));
                serde_json::json!({"year": y, "month": m, "day": d})
            }
            Value::Time(t) if flavor == Flavor::Protobuf => serde_json::json!({
                "hours": t / 3_600_000,
                "minutes": t / 60_000 % 60,
                "seconds": t / 1000 % 60,
                "nanos": t % 1000 * 1_000_000,
            }),
            Value::Date(d) => Json::from(*d),
            Value::Time(t) => Json::from(*t),
            Value::Array(a) => Json::Array(a.iter().map(|v| v.to_json_as(flavor)).collect()),
            Value::Map(m) => Json::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.to_json_as(flavor)))
                    .collect(),
            ),
            Value::Struct(f) => Json::Object(
                f.iter()
                    .map(|(k, v)| (k.clone(), v.to_json_as(flavor)))
                    .collect(),
            ),
        }
    }

    /// The value as ksqlDB's REST API renders a row's column: TIMESTAMP
    /// `2021-01-01T00:00:00.000`, DATE `2021-01-01`, TIME `12:30:00`, BYTES base64, DECIMAL a
    /// number.
    pub fn to_rest_json(&self) -> Json {
        match self {
            Value::Timestamp(t) => Json::String(temporal::format_timestamp(*t)),
            Value::Date(d) => Json::String(temporal::format_date(i64::from(*d))),
            Value::Time(t) => Json::String(temporal::format_time(i64::from(*t))),
            Value::Array(a) => Json::Array(a.iter().map(Value::to_rest_json).collect()),
            Value::Map(m) => Json::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.to_rest_json()))
                    .collect(),
            ),
            Value::Struct(f) => Json::Object(
                f.iter()
                    .map(|(k, v)| (k.clone(), v.to_rest_json()))
                    .collect(),
            ),
            other => other.to_json(),
        }
    }

    /// A numeric view (for arithmetic and comparison across INT/BIGINT/DOUBLE).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Bigint(i) => Some(*i as f64),
            Value::Double(d) => Some(*d),
            Value::Decimal(d) => Some(d.to_f64()),
            _ => None,
        }
    }

    /// An exact decimal view of INT, BIGINT and DECIMAL.
    pub fn as_decimal(&self) -> Option<Decimal> {
        match self {
            Value::Int(i) => Some(Decimal::new(i128::from(*i), 0)),
            Value::Bigint(i) => Some(Decimal::new(i128::from(*i), 0)),
            Value::Decimal(d) => Some(*d),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i as i64),
            Value::Bigint(i) => Some(*i),
            _ => None,
        }
    }

    /// SQL comparison: None when either side is NULL or the types do not compare.
    pub fn sql_cmp(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Null, _) | (_, Value::Null) => None,
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
            (Value::Bytes(a), Value::Bytes(b)) => Some(a.cmp(b)),
            (Value::Timestamp(a), Value::Timestamp(b)) => Some(a.cmp(b)),
            (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
            (Value::Time(a), Value::Time(b)) => Some(a.cmp(b)),
            // A DATE compares with a TIMESTAMP as its midnight.
            (Value::Date(a), Value::Timestamp(b)) => {
                Some((i64::from(*a) * temporal::MS_PER_DAY).cmp(b))
            }
            (Value::Timestamp(a), Value::Date(b)) => {
                Some(a.cmp(&(i64::from(*b) * temporal::MS_PER_DAY)))
            }
            (Value::Decimal(_), Value::Double(_)) | (Value::Double(_), Value::Decimal(_)) => {
                self.as_f64()?.partial_cmp(&other.as_f64()?)
            }
            (Value::Decimal(_), _) | (_, Value::Decimal(_)) => {
                match (self.as_decimal(), other.as_decimal()) {
                    (Some(a), Some(b)) => Some(a.cmp_exact(&b)),
                    _ => None,
                }
            }
            (a, b) => match (a.as_i64(), b.as_i64()) {
                (Some(x), Some(y)) => Some(x.cmp(&y)),
                _ => match (a.as_f64(), b.as_f64()) {
                    (Some(x), Some(y)) => x.partial_cmp(&y),
                    _ => {
                        if a == b {
                            Some(Ordering::Equal)
                        } else {
                            None
                        }
                    }
                },
            },
        }
    }

    /// How the value prints as a STRING (CAST, CONCAT): Java's rendering for numbers.
    pub fn render(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Bigint(i) => i.to_string(),
            Value::Double(d) => java_double(*d),
            Value::Decimal(d) => d.to_plain_string(),
            Value::String(s) => s.clone(),
            Value::Bytes(b) => base64(b),
            Value::Timestamp(t) => temporal::format_timestamp(*t),
            Value::Date(d) => temporal::format_date(i64::from(*d)),
            Value::Time(t) => temporal::format_time(i64::from(*t)),
            other => other.to_rest_json().to_string(),
        }
    }
}

/// A value written as JSON text with its DECIMALs exact (`1.50` keeps its scale, as ksqlDB's
/// Jackson writes a BigDecimal) and STRUCT fields in their order: `rest` for the REST API's
/// rendering ([`Value::to_rest_json`]), else ksqlDB's JSON format ([`Value::to_json`]).
pub struct JsonText<'a> {
    pub value: &'a Value,
    pub rest: bool,
}

impl JsonText<'_> {
    pub fn rest(value: &Value) -> JsonText<'_> {
        JsonText { value, rest: true }
    }
    pub fn format(value: &Value) -> JsonText<'_> {
        JsonText { value, rest: false }
    }
}

impl serde::Serialize for JsonText<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeMap, SerializeSeq};
        let child = |value| JsonText {
            value,
            rest: self.rest,
        };
        match self.value {
            Value::Decimal(d) => serde_json::value::RawValue::from_string(d.to_plain_string())
                .map_err(S::Error::custom)?
                .serialize(s),
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(&child(v))?;
                }
                seq.end()
            }
            Value::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, &child(v))?;
                }
                map.end()
            }
            Value::Struct(f) => {
                let mut map = s.serialize_map(Some(f.len()))?;
                for (k, v) in f {
                    map.serialize_entry(k, &child(v))?;
                }
                map.end()
            }
            v if self.rest => v.to_rest_json().serialize(s),
            v => v.to_json().serialize(s),
        }
    }
}

/// A row as the REST API writes it: a JSON array of [`JsonText::rest`] values.
pub fn rest_row_text(row: &[Value]) -> String {
    let items: Vec<JsonText<'_>> = row.iter().map(JsonText::rest).collect();
    serde_json::to_string(&items).unwrap_or_else(|_| "[]".into())
}

/// `(name, value)` pairs written as a JSON object in their order, values as [`JsonText`].
pub struct JsonObject<'a>(pub Vec<(&'a str, &'a Value)>);

impl serde::Serialize for JsonObject<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, &JsonText::format(v))?;
        }
        map.end()
    }
}

/// A decimal as a JSON number (through `f64`: serde_json's numbers are doubles here, so
/// digits beyond a double's 17 are not kept in JSON text; Avro and the changelog keep them).
fn decimal_number(d: &Decimal) -> Json {
    if d.scale == 0 {
        if let Ok(i) = i64::try_from(d.unscaled) {
            return Json::from(i);
        }
    }
    serde_json::Number::from_f64(d.to_f64())
        .map(Json::Number)
        .unwrap_or(Json::Null)
}

/// Java's `Double.toString` for the common cases: `1.0`, `0.5`, `1.0E10`.
pub fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let abs = d.abs();
    if abs == 0.0 || (1e-3..1e7).contains(&abs) {
        let s = format!("{d}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let s = format!("{d:E}");
        match s.split_once('E') {
            Some((m, e)) if !m.contains('.') => format!("{m}.0E{e}"),
            _ => s,
        }
    }
}

/// Converts a decoded JSON value to `ty`, as ksqlDB's JSON deserializer does (numbers from
/// strings, strings from anything scalar). Err carries why it cannot.
pub fn from_json(json: &Json, ty: &SqlType) -> Result<Value, String> {
    from_json_as(json, ty, Flavor::Json)
}

/// [`from_json`] for a format's JSON form.
pub fn from_json_as(json: &Json, ty: &SqlType, flavor: Flavor) -> Result<Value, String> {
    if json.is_null() {
        return Ok(Value::Null);
    }
    let bad = || {
        format!(
            "Can't convert type. sourceType: {}, requiredType: {}",
            json_kind(json),
            type_name(ty)
        )
    };
    Ok(match ty {
        SqlType::Boolean => match json {
            Json::Bool(b) => Value::Bool(*b),
            Json::String(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
            Json::String(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => return Err(bad()),
        },
        SqlType::Int => match json {
            Json::Number(n) => Value::Int(
                n.as_i64()
                    .or_else(|| n.as_f64().map(|f| f as i64))
                    .and_then(|i| i32::try_from(i).ok())
                    .ok_or_else(bad)?,
            ),
            Json::String(s) => Value::Int(s.trim().parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        },
        SqlType::Bigint => match json {
            Json::Number(n) => Value::Bigint(
                n.as_i64()
                    .or_else(|| n.as_f64().map(|f| f as i64))
                    .ok_or_else(bad)?,
            ),
            Json::String(s) => Value::Bigint(s.trim().parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        },
        SqlType::Timestamp => match json {
            Json::Number(n) => Value::Timestamp(n.as_i64().ok_or_else(bad)?),
            Json::String(s) => Value::Timestamp(match s.trim().parse::<i64>() {
                Ok(ms) => ms,
                Err(_) => temporal::parse_timestamp(s).ok_or_else(bad)?,
            }),
            // google.protobuf.Timestamp as an object.
            Json::Object(o) => {
                let secs = o.get("seconds").and_then(json_i64).unwrap_or(0);
                let nanos = o.get("nanos").and_then(json_i64).unwrap_or(0);
                Value::Timestamp(
                    secs.checked_mul(1000)
                        .and_then(|ms| ms.checked_add(nanos.div_euclid(1_000_000)))
                        .ok_or_else(bad)?,
                )
            }
            _ => return Err(bad()),
        },
        SqlType::Date => match json {
            Json::Number(n) => Value::Date(
                n.as_i64()
                    .and_then(|d| i32::try_from(d).ok())
                    .ok_or_else(bad)?,
            ),
            Json::String(s) => Value::Date(
                match s.trim().parse::<i64>() {
                    Ok(d) => Some(d),
                    Err(_) => temporal::parse_date(s),
                }
                .and_then(|d| i32::try_from(d).ok())
                .ok_or_else(bad)?,
            ),
            // google.type.Date.
            Json::Object(o) => {
                let f = |k: &str| o.get(k).and_then(json_i64).unwrap_or(0);
                let (y, m, d) = (f("year"), f("month"), f("day"));
                if y.abs() > 10_000_000 || !(0..=12).contains(&m) || !(0..=31).contains(&d) {
                    return Err(bad());
                }
                let days = temporal::days_from_civil(y, m, d);
                Value::Date(i32::try_from(days).map_err(|_| bad())?)
            }
            _ => return Err(bad()),
        },
        SqlType::Time => match json {
            Json::Number(n) => Value::Time(
                n.as_i64()
                    .filter(|t| (0..temporal::MS_PER_DAY).contains(t))
                    .ok_or_else(bad)? as i32,
            ),
            Json::String(s) => Value::Time(
                match s.trim().parse::<i64>() {
                    Ok(t) => Some(t),
                    Err(_) => temporal::parse_time(s),
                }
                .filter(|t| (0..temporal::MS_PER_DAY).contains(t))
                .ok_or_else(bad)? as i32,
            ),
            // google.type.TimeOfDay.
            Json::Object(o) => {
                let f = |k: &str, max: i64| o.get(k).and_then(json_i64).unwrap_or(0).clamp(0, max);
                Value::Time(
                    (f("hours", 23) * 3_600_000
                        + f("minutes", 59) * 60_000
                        + f("seconds", 59) * 1000
                        + f("nanos", 999_999_999) / 1_000_000) as i32,
                )
            }
            _ => return Err(bad()),
        },
        SqlType::Double => match json {
            Json::Number(n) => Value::Double(n.as_f64().ok_or_else(bad)?),
            Json::String(s) => Value::Double(s.trim().parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        },
        SqlType::Decimal { precision, scale } => {
            let d = match json {
                Json::Number(n) => Decimal::parse(&n.to_string()),
                Json::String(s) => Decimal::parse(s),
                // confluent.type.Decimal: unscaled two's complement bytes (base64) + scale.
                Json::Object(o) => {
                    let bytes = o.get("value").and_then(Json::as_str).and_then(unbase64);
                    let s = o.get("scale").and_then(json_i64).unwrap_or(0);
                    bytes.and_then(|b| {
                        Some(Decimal::new(unscaled_of(&b)?, u32::try_from(s).ok()?))
                    })
                }
                _ => None,
            }
            .ok_or_else(bad)?;
            Value::Decimal(d.fit(*precision, *scale).ok_or_else(|| {
                format!(
                    "Cannot fit decimal '{}' into DECIMAL({precision}, {scale}) without rounding.",
                    d.to_plain_string()
                )
            })?)
        }
        SqlType::Bytes => match json {
            Json::String(s) => Value::Bytes(match flavor {
                Flavor::Avro => s
                    .chars()
                    .map(|c| u8::try_from(u32::from(c)).map_err(|_| bad()))
                    .collect::<Result<_, _>>()?,
                _ => unbase64(s).ok_or_else(|| {
                    format!("Can't convert type. sourceType: STRING, requiredType: BYTES: '{s}' is not base64")
                })?,
            }),
            _ => return Err(bad()),
        },
        SqlType::String => match json {
            Json::String(s) => Value::String(s.clone()),
            Json::Number(n) => Value::String(n.to_string()),
            Json::Bool(b) => Value::String(b.to_string()),
            other => Value::String(other.to_string()),
        },
        SqlType::Array(inner) => match json {
            Json::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| from_json_as(i, inner, flavor))
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(bad()),
        },
        SqlType::Map(_, v) => match json {
            Json::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, x)| Ok((k.clone(), from_json_as(x, v, flavor)?)))
                    .collect::<Result<_, String>>()?,
            ),
            _ => return Err(bad()),
        },
        SqlType::Struct(fields) => match json {
            Json::Object(o) => Value::Struct(
                fields
                    .iter()
                    .map(|(name, t)| {
                        let v = lookup_field(o, name.as_str()).unwrap_or(&Json::Null);
                        Ok((name.0.clone(), from_json_as(v, t, flavor)?))
                    })
                    .collect::<Result<_, String>>()?,
            ),
            _ => return Err(bad()),
        },
        SqlType::Custom(_) => return Err(format!("type {} is not supported yet", type_name(ty))),
    })
}

fn json_i64(j: &Json) -> Option<i64> {
    j.as_i64().or_else(|| j.as_str()?.parse().ok())
}

/// A big-endian two's complement integer (at most 16 bytes).
pub fn unscaled_of(bytes: &[u8]) -> Option<i128> {
    if bytes.is_empty() {
        return Some(0);
    }
    if bytes.len() > 16 {
        return None;
    }
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
    let mut buf = [fill; 16];
    buf[16 - bytes.len()..].copy_from_slice(bytes);
    Some(i128::from_be_bytes(buf))
}

/// A JSON object's field by column name: exact first, then ignoring case (ksqlDB matches
/// JSON field names case-insensitively).
pub fn lookup_field<'a>(o: &'a serde_json::Map<String, Json>, name: &str) -> Option<&'a Json> {
    o.get(name).or_else(|| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn json_kind(j: &Json) -> &'static str {
    match j {
        Json::Null => "NULL",
        Json::Bool(_) => "BOOLEAN",
        Json::Number(n) if n.is_f64() => "DOUBLE",
        Json::Number(_) => "BIGINT",
        Json::String(_) => "STRING",
        Json::Array(_) => "ARRAY",
        Json::Object(_) => "STRUCT",
    }
}

/// ksqlDB's name of a type, as `columnTypes` and DESCRIBE show it.
pub fn type_name(ty: &SqlType) -> String {
    match ty {
        SqlType::Boolean => "BOOLEAN".into(),
        SqlType::Int => "INTEGER".into(),
        SqlType::Bigint => "BIGINT".into(),
        SqlType::Double => "DOUBLE".into(),
        SqlType::String => "STRING".into(),
        SqlType::Bytes => "BYTES".into(),
        SqlType::Date => "DATE".into(),
        SqlType::Time => "TIME".into(),
        SqlType::Timestamp => "TIMESTAMP".into(),
        SqlType::Decimal { precision, scale } => format!("DECIMAL({precision}, {scale})"),
        SqlType::Array(t) => format!("ARRAY<{}>", type_name(t)),
        SqlType::Map(k, v) => format!("MAP<{}, {}>", type_name(k), type_name(v)),
        SqlType::Struct(f) => format!(
            "STRUCT<{}>",
            f.iter()
                .map(|(n, t)| format!("`{}` {}", n.0, type_name(t)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        SqlType::Custom(n) => n.0.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_text_keeps_decimal_scale_and_field_order() {
        let d = |u, s| Value::Decimal(Decimal::new(u, s));
        let row = vec![
            d(150, 2),
            d(-5, 2),
            Value::Timestamp(0),
            Value::Struct(vec![
                ("B".into(), d(1, 0)),
                ("A".into(), Value::Bytes(vec![1])),
            ]),
        ];
        assert_eq!(
            rest_row_text(&row),
            r#"[1.50,-0.05,"1970-01-01T00:00:00.000",{"B":1,"A":"AQ=="}]"#
        );
        let obj = JsonObject(vec![("Z", &row[0]), ("T", &row[2])]);
        assert_eq!(serde_json::to_string(&obj).unwrap(), r#"{"Z":1.50,"T":0}"#);
    }

    #[test]
    fn json_coercion_follows_the_declared_type() {
        assert_eq!(
            from_json(&Json::from("12"), &SqlType::Int),
            Ok(Value::Int(12))
        );
        assert_eq!(
            from_json(&Json::from(7), &SqlType::String),
            Ok(Value::String("7".into()))
        );
        assert!(from_json(&Json::from("x"), &SqlType::Bigint).is_err());
        assert!(from_json(&Json::from(1i64 << 40), &SqlType::Int).is_err());
        assert_eq!(from_json(&Json::Null, &SqlType::Int), Ok(Value::Null));
    }

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(0.25), "0.25");
        assert_eq!(java_double(1e10), "1.0E10");
    }

    #[test]
    fn comparison_is_null_aware_and_crosses_numeric_types() {
        assert_eq!(
            Value::Int(2).sql_cmp(&Value::Double(2.5)),
            Some(Ordering::Less)
        );
        assert_eq!(Value::Null.sql_cmp(&Value::Int(1)), None);
        assert_eq!(Value::String("a".into()).sql_cmp(&Value::Int(1)), None);
    }
}
