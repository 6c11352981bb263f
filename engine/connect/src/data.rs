//! Connect's data model as the runtime passes it between connectors, transforms and
//! converters: a [`Data`] value with an optional schema (kept in Connect's JSON schema form,
//! the one JsonConverter writes: `{"type":"struct","fields":[...],"optional":false}`), and the
//! records built from them. No I/O.

use base64::Engine as _;
use indexmap::IndexMap;
use serde_json::{json, Value as Json};

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
                let fields = schema["fields"].as_array().cloned().unwrap_or_default();
                let mut out = IndexMap::new();
                for f in &fields {
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

/// A Kafka record header: name and optional value.
pub type Header = (String, Option<bytes::Bytes>);

/// What every record carries through transforms: topic, key and value with schemas,
/// timestamp and headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub topic: String,
    pub partition: Option<i32>,
    pub key_schema: Option<Json>,
    pub key: Data,
    pub value_schema: Option<Json>,
    pub value: Data,
    pub timestamp: Option<i64>,
    pub headers: Vec<Header>,
}

impl Record {
    /// A record with a value only (no key, schema, timestamp or headers).
    pub fn new(topic: impl Into<String>, value_schema: Option<Json>, value: Data) -> Record {
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
