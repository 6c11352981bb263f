//! Connect's data model as the runtime passes it between connectors, transforms and
//! converters: a [`Data`] value with an optional schema (kept in Connect's JSON schema form,
//! the one JsonConverter writes: `{"type":"struct","fields":[...],"optional":false}`, shared
//! as a [`Schema`] by every record that has it), and the records built from them. No I/O.

use std::sync::Arc;

use base64::Engine as _;
use indexmap::IndexMap;
use serde_json::{json, Value as Json};

use crate::error::{ConnectError, Result};
pub use sluice_registry::codec::twos_complement;

/// A Connect value. Structs keep their field order.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Array(Vec<Data>),
    Struct(IndexMap<String, Data>),
}

impl Data {
    pub fn is_null(&self) -> bool {
        matches!(self, Data::Null)
    }

    /// The value as JSON (bytes as base64, as JsonConverter writes them).
    pub fn to_json(&self) -> Json {
        match self {
            Data::Null => Json::Null,
            Data::Bool(b) => json!(b),
            Data::Int(i) => json!(i),
            Data::Float(f) => json!(f),
            Data::Str(s) => json!(s),
            Data::Bytes(b) => json!(base64::engine::general_purpose::STANDARD.encode(b)),
            Data::Array(a) => Json::Array(a.iter().map(Data::to_json).collect()),
            Data::Struct(m) => {
                Json::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// A schemaless value from JSON.
    pub fn from_json(j: &Json) -> Data {
        match j {
            Json::Null => Data::Null,
            Json::Bool(b) => Data::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Data::Int(i),
                None => Data::Float(n.as_f64().unwrap_or(0.0)),
            },
            Json::String(s) => Data::Str(s.clone()),
            Json::Array(a) => Data::Array(a.iter().map(Data::from_json).collect()),
            Json::Object(o) => Data::Struct(
                o.iter()
                    .map(|(k, v)| (k.clone(), Data::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// A value from JSON read with its Connect schema (bytes decoded from base64).
    pub fn from_json_with(j: &Json, schema: &Json) -> Data {
        match (schema_type(schema), j) {
            (_, Json::Null) => Data::Null,
            ("bytes", Json::String(s)) => base64::engine::general_purpose::STANDARD
                .decode(s)
                .map(Data::Bytes)
                .unwrap_or_else(|_| Data::Str(s.clone())),
            ("struct", Json::Object(o)) => {
                let fields = schema["fields"].as_array().map_or(&[][..], Vec::as_slice);
                let mut out = IndexMap::with_capacity(fields.len());
                for f in fields {
                    let name = f["field"].as_str().unwrap_or_default();
                    let v = o.get(name).unwrap_or(&Json::Null);
                    out.insert(name.to_string(), Data::from_json_with(v, f));
                }
                Data::Struct(out)
            }
            ("array", Json::Array(a)) => Data::Array(
                a.iter()
                    .map(|v| Data::from_json_with(v, &schema["items"]))
                    .collect(),
            ),
            (_, other) => Data::from_json(other),
        }
    }

    /// The field of a struct, if this is one.
    pub fn field(&self, name: &str) -> Option<&Data> {
        match self {
            Data::Struct(m) => m.get(name),
            _ => None,
        }
    }

    /// The value as text (strings as they are, others as JSON with struct fields in order).
    pub fn to_text(&self) -> String {
        match self {
            Data::Str(s) => s.clone(),
            Data::Null => "null".into(),
            Data::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            other => serde_json::to_string(other).unwrap_or_default(),
        }
    }
}

/// Reads JSON text straight into [`Data`] with a Connect schema: the same value as
/// [`Data::from_json_with`] of the parsed JSON (`Json::Null` as the schema reads it
/// schemaless, as [`Data::from_json`]), without building the JSON tree first.
pub struct DataSeed<'a>(pub &'a Json);

impl<'de> serde::de::DeserializeSeed<'de> for DataSeed<'_> {
    type Value = Data;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Data, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for DataSeed<'_> {
    type Value = Data;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> std::result::Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_none<E>(self) -> std::result::Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_bool<E>(self, b: bool) -> std::result::Result<Data, E> {
        Ok(Data::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> std::result::Result<Data, E> {
        Ok(Data::Int(i))
    }

    fn visit_u64<E>(self, u: u64) -> std::result::Result<Data, E> {
        Ok(i64::try_from(u).map_or(Data::Float(u as f64), Data::Int))
    }

    fn visit_f64<E>(self, f: f64) -> std::result::Result<Data, E> {
        Ok(Data::Float(f))
    }

    fn visit_str<E>(self, s: &str) -> std::result::Result<Data, E> {
        if schema_type(self.0) == "bytes" {
            if let Ok(b) = base64::engine::general_purpose::STANDARD.decode(s) {
                return Ok(Data::Bytes(b));
            }
        }
        Ok(Data::Str(s.to_string()))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Data, A::Error> {
        let items = if schema_type(self.0) == "array" {
            &self.0["items"]
        } else {
            &Json::Null
        };
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(DataSeed(items))? {
            out.push(v);
        }
        Ok(Data::Array(out))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Data, A::Error> {
        if schema_type(self.0) != "struct" {
            // Schemaless: the keys sorted, the last of a repeated key kept, as a parsed
            // JSON object holds them.
            let mut out = std::collections::BTreeMap::new();
            while let Some(k) = map.next_key::<String>()? {
                out.insert(k, map.next_value_seed(DataSeed(&Json::Null))?);
            }
            return Ok(Data::Struct(out.into_iter().collect()));
        }
        let fields = self.0["fields"].as_array().map_or(&[][..], Vec::as_slice);
        let mut values: Vec<Option<Data>> = vec![None; fields.len()];
        while let Some(field) = map.next_key_seed(FieldIndex(fields))? {
            match field {
                Some(i) => values[i] = Some(map.next_value_seed(DataSeed(&fields[i]))?),
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(Data::Struct(
            fields
                .iter()
                .zip(values)
                .map(|(f, v)| {
                    (
                        f["field"].as_str().unwrap_or_default().to_string(),
                        v.unwrap_or(Data::Null),
                    )
                })
                .collect(),
        ))
    }
}

/// A struct key read as the index of its field in the schema (None: not a field).
struct FieldIndex<'a>(&'a [Json]);

impl<'de> serde::de::DeserializeSeed<'de> for FieldIndex<'_> {
    type Value = Option<usize>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for FieldIndex<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E>(self, k: &str) -> std::result::Result<Option<usize>, E> {
        Ok(self.0.iter().position(|f| f["field"].as_str() == Some(k)))
    }
}

/// JSON with struct fields in their order (as Connect writes them), bytes as base64.
impl serde::Serialize for Data {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Data::Null => s.serialize_unit(),
            Data::Bool(b) => s.serialize_bool(*b),
            Data::Int(i) => s.serialize_i64(*i),
            Data::Float(f) => s.serialize_f64(*f),
            Data::Str(v) => s.serialize_str(v),
            Data::Bytes(b) => s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b)),
            Data::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Data::Struct(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Connect's logical types, by their schema names.
pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
pub const DATE: &str = "org.apache.kafka.connect.data.Date";
pub const TIME: &str = "org.apache.kafka.connect.data.Time";
pub const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";

/// The scale of a Decimal schema (its `scale` parameter; 0 when missing).
pub fn decimal_scale(schema: &Json) -> u32 {
    schema["parameters"]["scale"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Decimal bytes (unscaled, big-endian two's complement) as text at `scale`.
pub fn decimal_text(bytes: &[u8], scale: u32) -> Result<String> {
    if bytes.is_empty() || bytes.len() > 16 {
        return Err(ConnectError::Data(format!(
            "a Decimal of {} bytes is not supported",
            bytes.len()
        )));
    }
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
    let mut full = [fill; 16];
    full[16 - bytes.len()..].copy_from_slice(bytes);
    let v = i128::from_be_bytes(full);
    let digits = v.unsigned_abs().to_string();
    let scale = scale as usize;
    let text = if scale == 0 {
        digits
    } else if digits.len() > scale {
        format!(
            "{}.{}",
            &digits[..digits.len() - scale],
            &digits[digits.len() - scale..]
        )
    } else {
        format!("0.{}{}", "0".repeat(scale - digits.len()), digits)
    };
    Ok(if v < 0 { format!("-{text}") } else { text })
}

/// Decimal text (`-12.50`, `3`) as Decimal bytes at `scale` (more decimals than `scale`, other
/// than trailing zeros, are an error, as Connect's Decimal never rounds).
pub fn decimal_from_text(text: &str, scale: u32) -> Result<Vec<u8>> {
    sluice_registry::codec::decimal_unscaled(text, scale as usize)
        .map(twos_complement)
        .map_err(ConnectError::Data)
}

/// The `type` of a Connect schema (`int32`, `string`, `struct`, ...).
pub fn schema_type(schema: &Json) -> &str {
    schema["type"].as_str().unwrap_or("")
}

/// A primitive Connect schema.
pub fn primitive_schema(kind: &str, optional: bool) -> Json {
    json!({"type": kind, "optional": optional})
}

/// The schema of a struct field, if `schema` is a struct with it.
pub fn field_schema<'a>(schema: &'a Json, name: &str) -> Option<&'a Json> {
    schema["fields"]
        .as_array()?
        .iter()
        .find(|f| f["field"].as_str() == Some(name))
}

/// A Connect schema as records hold it: shared, so records of one schema point at one copy
/// (cloning a record clones a pointer) and whoever compares schemas can try
/// [`Arc::ptr_eq`] before comparing them field by field.
pub type Schema = Arc<Json>;

/// Whether two optional schemas are equal: the same shared copy, or equal field by field.
pub fn same_schema(a: Option<&Schema>, b: Option<&Schema>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
        (None, None) => true,
        _ => false,
    }
}

/// A Kafka record header: name and optional value.
pub type Header = (String, Option<bytes::Bytes>);

/// What every record carries through transforms: topic, key and value with schemas,
/// timestamp and headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub topic: String,
    pub partition: Option<i32>,
    pub key_schema: Option<Schema>,
    pub key: Data,
    pub value_schema: Option<Schema>,
    pub value: Data,
    pub timestamp: Option<i64>,
    pub headers: Vec<Header>,
}

impl Record {
    /// A record with a value only (no key, schema, timestamp or headers).
    pub fn new(topic: impl Into<String>, value_schema: Option<Schema>, value: Data) -> Record {
        Record {
            topic: topic.into(),
            partition: None,
            key_schema: None,
            key: Data::Null,
            value_schema,
            value,
            timestamp: None,
            headers: Vec::new(),
        }
    }
}

/// A record a source task produced, with where it came from in the source system: its
/// source partition and offset (JSON objects, as Connect keeps them in `connect-offsets`).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    pub source_partition: Json,
    pub source_offset: Json,
    pub record: Record,
}

/// A record read from Kafka for a sink task.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkRecord {
    pub record: Record,
    pub kafka_partition: i32,
    pub kafka_offset: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeSeed;

    #[test]
    fn data_seed_reads_what_from_json_with_reads() {
        let schema = json!({"type": "struct", "optional": false, "fields": [
            {"field": "z", "type": "int64", "optional": false},
            {"field": "blob", "type": "bytes", "optional": true},
            {"field": "tags", "type": "array", "items": {"type": "bytes", "optional": false}, "optional": true},
            {"field": "inner", "type": "struct", "optional": true, "fields": [
                {"field": "b", "type": "string", "optional": true},
                {"field": "a", "type": "float64", "optional": true}]},
            {"field": "loose", "type": "map", "optional": true},
            {"field": "missing", "type": "string", "optional": true}]});
        let texts = [
            r#"{"inner": {"a": 1.5, "b": "x\ty", "extra": [1, {"q": 2}]}, "z": 18446744073709551615,
                "blob": "AP8=", "tags": ["AQ==", "not base64!"], "loose": {"k2": 2, "k1": {"n": null}},
                "unknown": {"deep": [true]}, "z": -3}"#,
            r#"{"z": 1, "blob": null, "tags": [], "inner": null}"#,
            r#"[1, "two", {"b": 1, "a": 2}]"#,
            r#""plain""#,
            "null",
        ];
        for text in texts {
            let parsed: Json = serde_json::from_str(text).unwrap();
            for s in [&schema, &Json::Null] {
                let mut de = serde_json::Deserializer::from_str(text);
                let seeded = DataSeed(s).deserialize(&mut de).unwrap();
                assert_eq!(seeded, Data::from_json_with(&parsed, s), "{text}");
            }
        }
    }
}
