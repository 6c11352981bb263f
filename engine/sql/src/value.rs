//! The row value model: ksqlDB's SQL values (BOOLEAN, INT, BIGINT, DOUBLE, STRING, ARRAY, MAP,
//! STRUCT; DECIMAL is carried as DOUBLE for now) with NULL, their JSON form, coercion of
//! decoded JSON to a declared column type, and ksqlDB's type names. No I/O, no evaluation.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::ast::SqlType;

/// One SQL value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i32),
    Bigint(i64),
    Double(f64),
    String(String),
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

    /// The value as a JSON value (what the JSON format writes and REST returns).
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Bigint(i) => Json::from(*i),
            Value::Double(d) => serde_json::Number::from_f64(*d)
                .map(Json::Number)
                .unwrap_or(Json::Null),
            Value::String(s) => Json::String(s.clone()),
            Value::Array(a) => Json::Array(a.iter().map(Value::to_json).collect()),
            Value::Map(m) => {
                Json::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
            Value::Struct(f) => {
                Json::Object(f.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// A numeric view (for arithmetic and comparison across INT/BIGINT/DOUBLE).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Bigint(i) => Some(*i as f64),
            Value::Double(d) => Some(*d),
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
            Value::String(s) => s.clone(),
            other => other.to_json().to_string(),
        }
    }
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
        SqlType::Bigint | SqlType::Timestamp => match json {
            Json::Number(n) => Value::Bigint(
                n.as_i64()
                    .or_else(|| n.as_f64().map(|f| f as i64))
                    .ok_or_else(bad)?,
            ),
            Json::String(s) => Value::Bigint(s.trim().parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        },
        SqlType::Double | SqlType::Decimal { .. } => match json {
            Json::Number(n) => Value::Double(n.as_f64().ok_or_else(bad)?),
            Json::String(s) => Value::Double(s.trim().parse().map_err(|_| bad())?),
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
                    .map(|i| from_json(i, inner))
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(bad()),
        },
        SqlType::Map(_, v) => match json {
            Json::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, x)| Ok((k.clone(), from_json(x, v)?)))
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
                        Ok((name.0.clone(), from_json(v, t)?))
                    })
                    .collect::<Result<_, String>>()?,
            ),
            _ => return Err(bad()),
        },
        SqlType::Bytes | SqlType::Date | SqlType::Time | SqlType::Custom(_) => {
            return Err(format!("type {} is not supported yet", type_name(ty)))
        }
    })
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
