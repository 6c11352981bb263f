//! Converters between Connect data and the bytes in Kafka, by their upstream class names and
//! keys: JsonConverter (`schemas.enable`), StringConverter, ByteArrayConverter, and
//! AvroConverter, ProtobufConverter and JsonSchemaConverter in Confluent's wire format
//! (subjects `<topic>-key` / `<topic>-value`, `auto.register.schemas`, `use.latest.version`)
//! through a [`RegistryClient`]: the embedded registry in-process, or the registry
//! `schema.registry.url` names. Connect's logical types Decimal, Date, Time and Timestamp are
//! Avro's logical types, as Confluent's AvroData writes and reads them. It never touches topics.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use indexmap::IndexMap;
use parking_lot::Mutex;
use serde_json::{json, Value as Json};
use sluice_registry::codec::{split_wire, WireSchema};
use sluice_registry::model::SchemaType;

use crate::config::{boolean, Config};
use crate::data::{
    decimal_from_text, decimal_scale, decimal_text, primitive_schema, schema_type, Data, Schema,
    DATE, DECIMAL, TIME, TIMESTAMP,
};
use crate::error::{ConnectError, Result};
use crate::registry_client::{registry_client, Embedded, RegistryClient};

pub const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
pub const STRING_CONVERTER: &str = "org.apache.kafka.connect.storage.StringConverter";
pub const BYTE_ARRAY_CONVERTER: &str = "org.apache.kafka.connect.converters.ByteArrayConverter";
pub const AVRO_CONVERTER: &str = "io.confluent.connect.avro.AvroConverter";
pub const PROTOBUF_CONVERTER: &str = "io.confluent.connect.protobuf.ProtobufConverter";
pub const JSON_SCHEMA_CONVERTER: &str = "io.confluent.connect.json.JsonSchemaConverter";

/// Turns Connect data into bytes for a topic (Connect's `fromConnectData`), and back
/// (`toConnectData`).
pub trait Converter: Send + Sync {
    fn encode(&self, topic: &str, schema: Option<&Json>, value: &Data) -> Result<Option<Vec<u8>>>;
    fn decode(&self, topic: &str, bytes: Option<&[u8]>) -> Result<(Option<Schema>, Data)>;
}

/// The converter a `key.converter` / `value.converter` class names, configured with its
/// `key.converter.*` / `value.converter.*` keys (`props`, prefix taken off).
pub fn converter(
    class: &str,
    props: &Config,
    is_key: bool,
    registry: Option<&Embedded>,
) -> Result<Arc<dyn Converter>> {
    let simple = class.rsplit('.').next().unwrap_or(class);
    Ok(match simple {
        "JsonConverter" => Arc::new(JsonConverter::new(boolean(props, "schemas.enable", true))),
        "StringConverter" => Arc::new(StringConverter),
        "ByteArrayConverter" => Arc::new(ByteArrayConverter),
        "AvroConverter" | "ProtobufConverter" | "JsonSchemaConverter" => {
            let client = registry_client(props, registry)?;
            let format = match simple {
                "AvroConverter" => SchemaType::Avro,
                "ProtobufConverter" => SchemaType::Protobuf,
                _ => SchemaType::Json,
            };
            Arc::new(RegistryConverter {
                client,
                format,
                is_key,
                auto_register: boolean(props, "auto.register.schemas", true),
                use_latest: boolean(props, "use.latest.version", false),
                writers: Mutex::new(HashMap::new()),
                latest: Mutex::new(HashMap::new()),
                readers: Mutex::new(HashMap::new()),
            })
        }
        _ => {
            return Err(ConnectError::BadRequest(format!(
                "Class {class} could not be found."
            )))
        }
    })
}

/// `org.apache.kafka.connect.json.JsonConverter`: with `schemas.enable` (default true) the
/// `{"schema": ..., "payload": ...}` envelope, else the plain JSON value.
pub struct JsonConverter {
    pub schemas_enable: bool,
    /// Envelope schemas parsed so far, by their JSON text: records of a topic repeat one
    /// schema, parsed once and shared by every record that has it.
    schemas: Mutex<HashMap<Box<str>, Schema>>,
}

/// Schemas a JsonConverter keeps parsed (the cache starts over when full).
const JSON_SCHEMA_CACHE: usize = 256;

/// The envelope as its two JSON texts, unparsed.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvelope<'a> {
    #[serde(borrow)]
    schema: &'a serde_json::value::RawValue,
    #[serde(borrow)]
    payload: &'a serde_json::value::RawValue,
}

impl JsonConverter {
    pub fn new(schemas_enable: bool) -> JsonConverter {
        JsonConverter {
            schemas_enable,
            schemas: Mutex::new(HashMap::new()),
        }
    }

    /// The parsed envelope schema of this text (None: `null`).
    fn schema(&self, text: &str) -> Result<Option<Schema>> {
        if let Some(s) = self.schemas.lock().get(text) {
            return Ok(Some(Arc::clone(s)));
        }
        let schema: Json = serde_json::from_str(text).map_err(serialization_error)?;
        if schema.is_null() {
            return Ok(None);
        }
        let schema = Arc::new(schema);
        let mut cache = self.schemas.lock();
        if cache.len() >= JSON_SCHEMA_CACHE {
            cache.clear();
        }
        cache.insert(text.into(), Arc::clone(&schema));
        Ok(Some(schema))
    }
}

fn serialization_error(e: serde_json::Error) -> ConnectError {
    ConnectError::Data(format!(
        "Converting byte[] to Kafka Connect data failed due to serialization error: {e}"
    ))
}

impl Converter for JsonConverter {
    fn encode(&self, _topic: &str, schema: Option<&Json>, value: &Data) -> Result<Option<Vec<u8>>> {
        // Connect's JsonConverter: a null value without a schema (a tombstone) is null bytes,
        // envelope or not.
        if value.is_null() && (schema.is_none() || !self.schemas_enable) {
            return Ok(None);
        }
        #[derive(serde::Serialize)]
        struct Envelope<'a> {
            schema: &'a Json,
            payload: &'a Data,
        }
        let out = if self.schemas_enable {
            serde_json::to_vec(&Envelope {
                schema: schema.unwrap_or(&Json::Null),
                payload: value,
            })
        } else {
            serde_json::to_vec(value)
        };
        out.map(Some).map_err(|e| {
            ConnectError::Data(format!(
                "Converting Kafka Connect data to byte[] failed due to serialization error: {e}"
            ))
        })
    }

    fn decode(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<(Option<Schema>, Data)> {
        let Some(bytes) = bytes else {
            return Ok((None, Data::Null));
        };
        if !self.schemas_enable {
            return Ok((None, read_data(bytes, &Json::Null)?));
        }
        let envelope: RawEnvelope = match serde_json::from_slice(bytes) {
            Ok(e) => e,
            Err(e) if e.classify() == serde_json::error::Category::Data => {
                return Err(ConnectError::Data(
                    "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.".into(),
                ))
            }
            Err(e) => return Err(serialization_error(e)),
        };
        let payload = envelope.payload.get().as_bytes();
        match self.schema(envelope.schema.get())? {
            None => Ok((None, read_data(payload, &Json::Null)?)),
            Some(schema) => {
                let value = read_data(payload, &schema)?;
                Ok((Some(schema), value))
            }
        }
    }
}

/// JSON text as Connect data read with `schema` (JSON null: schemaless).
fn read_data(bytes: &[u8], schema: &Json) -> Result<Data> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = crate::data::DataSeed(schema)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(serialization_error)?;
    Ok(value)
}

/// `org.apache.kafka.connect.storage.StringConverter`: UTF-8 text.
pub struct StringConverter;

impl Converter for StringConverter {
    fn encode(
        &self,
        _topic: &str,
        _schema: Option<&Json>,
        value: &Data,
    ) -> Result<Option<Vec<u8>>> {
        Ok(match value {
            Data::Null => None,
            v => Some(v.to_text().into_bytes()),
        })
    }

    fn decode(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<(Option<Schema>, Data)> {
        static OPTIONAL_STRING: LazyLock<Schema> =
            LazyLock::new(|| Arc::new(primitive_schema("string", true)));
        let schema = Some(Arc::clone(&OPTIONAL_STRING));
        Ok(match bytes {
            None => (schema, Data::Null),
            Some(b) => (schema, Data::Str(String::from_utf8_lossy(b).into_owned())),
        })
    }
}

/// `org.apache.kafka.connect.converters.ByteArrayConverter`: bytes as they are.
pub struct ByteArrayConverter;

impl Converter for ByteArrayConverter {
    fn encode(
        &self,
        _topic: &str,
        _schema: Option<&Json>,
        value: &Data,
    ) -> Result<Option<Vec<u8>>> {
        match value {
            Data::Null => Ok(None),
            Data::Bytes(b) => Ok(Some(b.clone())),
            _ => Err(ConnectError::Data(
                "Invalid schema type for ByteArrayConverter: expected bytes".into(),
            )),
        }
    }

    fn decode(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<(Option<Schema>, Data)> {
        static OPTIONAL_BYTES: LazyLock<Schema> =
            LazyLock::new(|| Arc::new(primitive_schema("bytes", true)));
        Ok((
            Some(Arc::clone(&OPTIONAL_BYTES)),
            bytes.map_or(Data::Null, |b| Data::Bytes(b.to_vec())),
        ))
    }
}

/// Confluent's registry converters (`io.confluent.connect.avro.AvroConverter`,
/// `io.confluent.connect.protobuf.ProtobufConverter`, `io.confluent.connect.json.JsonSchemaConverter`):
/// the Connect schema becomes a schema of the format registered under `<topic>-value` (or
/// `-key`, TopicNameStrategy), the data the format's encoding after the 5-byte wire-format
/// header. Registry calls happen on cache misses only: ids are cached both ways.
pub struct RegistryConverter {
    client: Arc<dyn RegistryClient>,
    format: SchemaType,
    is_key: bool,
    /// `auto.register.schemas` (default true): register, else only look the schema up.
    auto_register: bool,
    /// `use.latest.version` (with auto.register.schemas=false): write with the subject's
    /// latest schema.
    use_latest: bool,
    /// (subject, schema text) → the registered schema.
    writers: Mutex<HashMap<(String, String), Arc<WireSchema>>>,
    /// subject → its latest schema (`use.latest.version`), fetched once.
    latest: Mutex<HashMap<String, Arc<WireSchema>>>,
    /// id → the schema and its Connect form.
    readers: Mutex<HashMap<u32, Reader>>,
}

/// A registered schema read from, with its Connect form (None: inferred from each value).
type Reader = (Arc<WireSchema>, Option<Schema>);

impl RegistryConverter {
    fn format_name(&self) -> &'static str {
        match self.format {
            SchemaType::Avro => "Avro",
            SchemaType::Protobuf => "Protobuf",
            SchemaType::Json => "JSON Schema",
        }
    }

    /// The schema text of the format for a Connect schema.
    fn schema_text(&self, schema: &Json) -> String {
        match self.format {
            SchemaType::Avro => connect_to_avro(schema, &mut 0).to_string(),
            SchemaType::Json => connect_to_json_schema(schema).to_string(),
            SchemaType::Protobuf => connect_to_proto(schema),
        }
    }

    /// A schema the registry holds under `id`, parsed, with its Connect form; cached for
    /// reads too.
    fn remember(&self, id: u32, kind: SchemaType, text: &str) -> Result<Reader> {
        let wire = Arc::new(
            WireSchema::new(id, kind, text, &[], Vec::new()).map_err(|e| {
                ConnectError::Data(format!(
                    "Failed to parse {} schema {id}: {e}",
                    self.format_name()
                ))
            })?,
        );
        let parsed: Json = serde_json::from_str(text).unwrap_or(Json::Null);
        let connect = match kind {
            SchemaType::Avro => Some(Arc::new(avro_to_connect(&parsed, ""))),
            SchemaType::Json => Some(Arc::new(json_schema_to_connect(&parsed))),
            SchemaType::Protobuf => None,
        };
        let entry = (wire, connect);
        self.readers.lock().insert(id, entry.clone());
        Ok(entry)
    }

    /// The schema to write a Connect schema's data with under `subject`.
    fn writer(&self, subject: &str, schema: &Json) -> Result<Arc<WireSchema>> {
        let registry_err = |e: ConnectError| {
            ConnectError::Data(format!(
                "Failed to serialize {} data for subject {subject}: {e}",
                self.format_name()
            ))
        };
        if self.use_latest && !self.auto_register {
            if let Some(w) = self.latest.lock().get(subject) {
                return Ok(Arc::clone(w));
            }
            let (id, kind, text) = self.client.latest(subject).map_err(registry_err)?;
            let (wire, _) = self.remember(id, kind, &text)?;
            self.latest
                .lock()
                .insert(subject.to_string(), Arc::clone(&wire));
            return Ok(wire);
        }
        let text = self.schema_text(schema);
        let key = (subject.to_string(), text);
        if let Some(w) = self.writers.lock().get(&key) {
            return Ok(Arc::clone(w));
        }
        let id = if self.auto_register {
            self.client.register(subject, self.format, &key.1)
        } else {
            self.client.lookup(subject, self.format, &key.1)
        }
        .map_err(registry_err)?;
        let (wire, _) = self.remember(id, self.format, &key.1)?;
        self.writers.lock().insert(key, Arc::clone(&wire));
        Ok(wire)
    }
}

impl Converter for RegistryConverter {
    fn encode(&self, topic: &str, schema: Option<&Json>, value: &Data) -> Result<Option<Vec<u8>>> {
        if value.is_null() {
            return Ok(None);
        }
        let schema = schema.ok_or_else(|| {
            ConnectError::Data(format!(
                "The {} converter needs a schema: the record has none",
                self.format_name()
            ))
        })?;
        let subject = format!("{topic}-{}", if self.is_key { "key" } else { "value" });
        let wire = self.writer(&subject, schema)?;
        let json = match self.format {
            SchemaType::Avro => avro_json(value, schema)?,
            _ => value.to_json(),
        };
        wire.encode(&json.to_string()).map(Some).map_err(|e| {
            ConnectError::Data(format!(
                "Failed to serialize {} data: {e}",
                self.format_name()
            ))
        })
    }

    fn decode(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<(Option<Schema>, Data)> {
        let Some(bytes) = bytes else {
            return Ok((None, Data::Null));
        };
        let (id, _) =
            split_wire(bytes).ok_or_else(|| ConnectError::Data("Unknown magic byte!".into()))?;
        let cached = self.readers.lock().get(&id).cloned();
        let (wire, connect_schema) = match cached {
            Some(c) => c,
            None => {
                let (kind, text) = self.client.by_id(id).map_err(|e| {
                    ConnectError::Data(format!(
                        "Failed to retrieve {} schema for id {id}: {e}",
                        self.format_name()
                    ))
                })?;
                self.remember(id, kind, &text)?
            }
        };
        let text = wire.decode(&bytes[5..]).map_err(|e| {
            ConnectError::Data(format!(
                "Failed to deserialize {} data: {e}",
                self.format_name()
            ))
        })?;
        let json: Json =
            serde_json::from_str(&text).map_err(|e| ConnectError::Data(e.to_string()))?;
        let schema = connect_schema.unwrap_or_else(|| Arc::new(infer_schema(&json)));
        let value = if wire.schema_type() == SchemaType::Avro {
            avro_data(&json, &schema)?
        } else {
            Data::from_json_with(&json, &schema)
        };
        Ok((Some(schema), value))
    }
}

/// A Connect schema for a JSON value (structs for objects, int64/float64 for numbers).
pub fn infer_schema(j: &Json) -> Json {
    match j {
        Json::Null => json!({"type": "string", "optional": true}),
        Json::Bool(_) => primitive_schema("boolean", true),
        Json::Number(n) if n.is_i64() || n.is_u64() => primitive_schema("int64", true),
        Json::Number(_) => primitive_schema("float64", true),
        Json::String(_) => primitive_schema("string", true),
        Json::Array(a) => {
            json!({"type": "array", "items": a.first().map_or_else(|| primitive_schema("string", true), infer_schema), "optional": true})
        }
        Json::Object(o) => {
            let fields: Vec<Json> = o
                .iter()
                .map(|(k, v)| {
                    let mut f = infer_schema(v);
                    f["field"] = json!(k);
                    f
                })
                .collect();
            json!({"type": "struct", "fields": fields, "optional": true})
        }
    }
}

/// A Connect schema as a JSON Schema, as Confluent's JsonSchemaData writes it
/// (`connect.type` for the Connect types JSON lacks, optional ones as `oneOf` with null).
pub fn connect_to_json_schema(schema: &Json) -> Json {
    let base = match schema_type(schema) {
        t @ ("int8" | "int16" | "int32" | "int64") => json!({"type": "integer", "connect.type": t}),
        t @ ("float32" | "float64") => json!({"type": "number", "connect.type": t}),
        "boolean" => json!({"type": "boolean"}),
        "bytes" => json!({"type": "string", "connect.type": "bytes"}),
        "array" => json!({"type": "array", "items": connect_to_json_schema(&schema["items"])}),
        "map" => {
            json!({"type": "object", "connect.type": "map", "additionalProperties": connect_to_json_schema(&schema["values"])})
        }
        "struct" => {
            let mut props = serde_json::Map::new();
            for (i, f) in schema["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let mut p = connect_to_json_schema(f);
                p["connect.index"] = json!(i);
                props.insert(f["field"].as_str().unwrap_or_default().to_string(), p);
            }
            let mut o = json!({"type": "object", "properties": props});
            if let Some(n) = schema["name"].as_str() {
                o["title"] = json!(n);
            }
            o
        }
        _ => json!({"type": "string"}),
    };
    if schema["optional"].as_bool() == Some(true) {
        json!({"oneOf": [{"type": "null"}, base]})
    } else {
        base
    }
}

/// A JSON Schema as a Connect schema (the inverse of [`connect_to_json_schema`], and a fair
/// reading of hand-written ones).
pub fn json_schema_to_connect(s: &Json) -> Json {
    if let Some(branches) = s["oneOf"].as_array().or_else(|| s["anyOf"].as_array()) {
        let non_null: Vec<&Json> = branches
            .iter()
            .filter(|b| b["type"] != json!("null"))
            .collect();
        let mut out = match non_null.as_slice() {
            [one] => json_schema_to_connect(one),
            _ => primitive_schema("string", false),
        };
        if non_null.len() < branches.len() {
            out["optional"] = json!(true);
        }
        return out;
    }
    let connect_type = s["connect.type"].as_str();
    match (s["type"].as_str(), connect_type) {
        (Some("integer"), t) => primitive_schema(t.unwrap_or("int64"), false),
        (Some("number"), t) => primitive_schema(t.unwrap_or("float64"), false),
        (Some("boolean"), _) => primitive_schema("boolean", false),
        (Some("string"), Some("bytes")) => primitive_schema("bytes", false),
        (Some("array"), _) => {
            json!({"type": "array", "items": json_schema_to_connect(&s["items"]), "optional": false})
        }
        (Some("object"), _) => {
            let mut props: Vec<(&String, &Json)> = s["properties"]
                .as_object()
                .map(|o| o.iter().collect())
                .unwrap_or_default();
            props.sort_by_key(|(_, p)| p["connect.index"].as_u64().unwrap_or(u64::MAX));
            let required: Vec<&str> = s["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default();
            let fields: Vec<Json> = props
                .into_iter()
                .map(|(k, p)| {
                    let mut f = json_schema_to_connect(p);
                    f["field"] = json!(k);
                    if s.get("required").is_some() && !required.contains(&k.as_str()) {
                        f["optional"] = json!(true);
                    }
                    f
                })
                .collect();
            let mut out = json!({"type": "struct", "fields": fields, "optional": false});
            if let Some(t) = s["title"].as_str() {
                out["name"] = json!(t);
            }
            out
        }
        _ => primitive_schema("string", false),
    }
}

/// A Connect struct schema as a proto3 file whose first message is the record (nested structs
/// as nested messages), as Confluent's ProtobufData does by default.
pub fn connect_to_proto(schema: &Json) -> String {
    let full = schema["name"].as_str().unwrap_or("ConnectDefault1");
    let (package, name) = match full.rsplit_once('.') {
        Some((p, n)) => (Some(p), n),
        None => (None, full),
    };
    let mut out = String::from("syntax = \"proto3\";\n");
    if let Some(p) = package {
        out.push_str(&format!("package {p};\n"));
    }
    proto_message(&mut out, &proto_ident(name), schema, 0);
    out
}

fn proto_ident(s: &str) -> String {
    let mut id: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit()) {
        id.insert(0, '_');
    }
    id
}

fn proto_scalar(t: &str) -> &'static str {
    match t {
        "int8" | "int16" | "int32" => "int32",
        "int64" => "int64",
        "float32" => "float",
        "float64" => "double",
        "boolean" => "bool",
        "bytes" => "bytes",
        _ => "string",
    }
}

fn proto_message(out: &mut String, name: &str, schema: &Json, depth: usize) {
    let pad = "  ".repeat(depth);
    out.push_str(&format!("{pad}message {name} {{\n"));
    for (i, f) in schema["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let field = proto_ident(f["field"].as_str().unwrap_or("field"));
        let (repeated, item) = match schema_type(f) {
            "array" => ("repeated ", &f["items"]),
            _ => ("", f),
        };
        let ty = match schema_type(item) {
            "struct" => {
                let nested = proto_ident(&format!("{}{}", field[..1].to_uppercase(), &field[1..]));
                proto_message(out, &nested, item, depth + 1);
                nested
            }
            "map" => format!(
                "map<string, {}>",
                proto_scalar(schema_type(&item["values"]))
            ),
            t => proto_scalar(t).to_string(),
        };
        out.push_str(&format!("{pad}  {repeated}{ty} {field} = {};\n", i + 1));
    }
    out.push_str(&format!("{pad}}}\n"));
}

/// The JSON the registry's Avro codec takes for a value: bytes as Latin-1 text, Decimals as
/// decimal text (Avro's logical decimal), map values and struct fields by their schemas.
fn avro_json(value: &Data, schema: &Json) -> Result<Json> {
    Ok(match value {
        Data::Bytes(b) if schema["name"].as_str() == Some(DECIMAL) => {
            Json::String(decimal_text(b, decimal_scale(schema))?)
        }
        Data::Bytes(b) => Json::String(b.iter().map(|&c| c as char).collect()),
        Data::Struct(m) => {
            let map_values = (schema_type(schema) == "map").then(|| &schema["values"]);
            let mut out = serde_json::Map::with_capacity(m.len());
            for (k, v) in m {
                let fs = match map_values {
                    Some(vs) => vs,
                    None => crate::data::field_schema(schema, k).unwrap_or(&Json::Null),
                };
                out.insert(k.clone(), avro_json(v, fs)?);
            }
            Json::Object(out)
        }
        Data::Array(a) => Json::Array(
            a.iter()
                .map(|v| avro_json(v, &schema["items"]))
                .collect::<Result<_>>()?,
        ),
        v => v.to_json(),
    })
}

/// A value from the registry's Avro codec JSON (the inverse of [`avro_json`]) read with its
/// Connect schema.
fn avro_data(json: &Json, schema: &Json) -> Result<Data> {
    Ok(match (json, schema_type(schema)) {
        (Json::Null, _) => Data::Null,
        (Json::String(s), _) if schema["name"].as_str() == Some(DECIMAL) => {
            Data::Bytes(decimal_from_text(s, decimal_scale(schema))?)
        }
        (Json::String(s), "bytes") => Data::Bytes(s.chars().map(|c| c as u8).collect()),
        (Json::Object(o), "struct") => {
            let mut out = IndexMap::new();
            for f in schema["fields"].as_array().into_iter().flatten() {
                let name = f["field"].as_str().unwrap_or_default();
                out.insert(
                    name.to_string(),
                    avro_data(o.get(name).unwrap_or(&Json::Null), f)?,
                );
            }
            Data::Struct(out)
        }
        (Json::Object(o), "map") => Data::Struct(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), avro_data(v, &schema["values"])?)))
                .collect::<Result<_>>()?,
        ),
        (Json::Array(a), "array") => Data::Array(
            a.iter()
                .map(|v| avro_data(v, &schema["items"]))
                .collect::<Result<_>>()?,
        ),
        (other, _) => Data::from_json(other),
    })
}

/// The Avro logical type of a Connect logical type (Confluent's AvroData): Decimal → bytes
/// `decimal` with `precision` from `connect.decimal.precision` (64 without it) and `scale`,
/// Date → int `date`, Time → int `time-millis`, Timestamp → long `timestamp-millis`.
fn avro_logical(schema: &Json) -> Option<Json> {
    Some(match schema["name"].as_str()? {
        DECIMAL => {
            let precision: u64 = schema["parameters"]["connect.decimal.precision"]
                .as_str()
                .and_then(|p| p.parse().ok())
                .unwrap_or(64);
            json!({"type": "bytes", "scale": decimal_scale(schema), "precision": precision,
                "logicalType": "decimal"})
        }
        DATE => json!({"type": "int", "logicalType": "date"}),
        TIME => json!({"type": "int", "logicalType": "time-millis"}),
        TIMESTAMP => json!({"type": "long", "logicalType": "timestamp-millis"}),
        _ => return None,
    })
}

/// A Connect schema as an Avro schema (as Confluent's AvroData: structs become records named
/// by the schema name, or `ConnectDefault<N>`; optional schemas become unions with null).
pub fn connect_to_avro(schema: &Json, unnamed: &mut usize) -> Json {
    let named = schema_type(schema) != "struct" && schema["name"].is_string();
    let base = match schema_type(schema) {
        _ if named => {
            // A named Connect type keeps its name, version and parameters as `connect.*`
            // properties, as Confluent's AvroData writes them.
            let mut out = avro_logical(schema).unwrap_or_else(|| {
                let mut plain = schema.clone();
                plain["name"] = Json::Null;
                plain["optional"] = json!(false);
                json!({"type": connect_to_avro(&plain, unnamed)})
            });
            if let Some(v) = schema.get("version").filter(|v| !v.is_null()) {
                out["connect.version"] = v.clone();
            }
            if let Some(p) = schema.get("parameters").filter(|p| p.is_object()) {
                out["connect.parameters"] = p.clone();
            }
            out["connect.name"] = schema["name"].clone();
            out
        }
        "int8" | "int16" | "int32" => json!("int"),
        "int64" => json!("long"),
        "float32" => json!("float"),
        "float64" => json!("double"),
        "boolean" => json!("boolean"),
        "bytes" => json!("bytes"),
        "array" => json!({"type": "array", "items": connect_to_avro(&schema["items"], unnamed)}),
        "map" => json!({"type": "map", "values": connect_to_avro(&schema["values"], unnamed)}),
        "struct" => {
            let (namespace, name) = match schema["name"].as_str() {
                Some(n) => match n.rsplit_once('.') {
                    Some((ns, n)) => (Some(ns.to_string()), n.to_string()),
                    None => (None, n.to_string()),
                },
                None => {
                    *unnamed += 1;
                    let n = if *unnamed == 1 {
                        "ConnectDefault".to_string()
                    } else {
                        format!("ConnectDefault{unnamed}")
                    };
                    (Some("io.confluent.connect.avro".to_string()), n)
                }
            };
            let fields: Vec<Json> = schema["fields"]
                .as_array()
                .map(|fs| {
                    fs.iter()
                        .map(|f| {
                            let mut out =
                                json!({"name": f["field"], "type": connect_to_avro(f, unnamed)});
                            if f["optional"].as_bool() == Some(true) {
                                out["default"] = Json::Null;
                            }
                            out
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut rec = json!({"type": "record", "name": name, "fields": fields});
            if let Some(ns) = namespace {
                rec["namespace"] = json!(ns);
            }
            rec
        }
        _ => json!("string"),
    };
    if schema["optional"].as_bool() == Some(true) {
        json!(["null", base])
    } else {
        base
    }
}

/// An Avro schema (JSON) as a Connect schema; `namespace` is the enclosing one.
pub fn avro_to_connect(avro: &Json, namespace: &str) -> Json {
    match avro {
        Json::String(t) => {
            let kind = match t.as_str() {
                "int" => "int32",
                "long" => "int64",
                "float" => "float32",
                "double" => "float64",
                "boolean" => "boolean",
                "bytes" | "fixed" => "bytes",
                _ => "string",
            };
            primitive_schema(kind, false)
        }
        Json::Array(branches) => {
            let non_null: Vec<&Json> = branches
                .iter()
                .filter(|b| b.as_str() != Some("null"))
                .collect();
            let mut s = match non_null.as_slice() {
                [one] => avro_to_connect(one, namespace),
                _ => primitive_schema("string", false),
            };
            if non_null.len() < branches.len() {
                s["optional"] = json!(true);
            }
            s
        }
        Json::Object(o) => match o.get("type").and_then(Json::as_str) {
            Some("record") => {
                let ns = o
                    .get("namespace")
                    .and_then(Json::as_str)
                    .unwrap_or(namespace);
                let name = o.get("name").and_then(Json::as_str).unwrap_or("record");
                let full = if ns.is_empty() || name.contains('.') {
                    name.to_string()
                } else {
                    format!("{ns}.{name}")
                };
                let fields: Vec<Json> = o
                    .get("fields")
                    .and_then(Json::as_array)
                    .map(|fs| {
                        fs.iter()
                            .map(|f| {
                                let mut s = avro_to_connect(&f["type"], ns);
                                s["field"] = f["name"].clone();
                                s
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                json!({"type": "struct", "fields": fields, "optional": false, "name": full})
            }
            Some("array") => {
                json!({"type": "array", "items": avro_to_connect(&o["items"], namespace), "optional": false})
            }
            Some("map") => {
                json!({"type": "map", "keys": primitive_schema("string", false), "values": avro_to_connect(&o["values"], namespace), "optional": false})
            }
            Some("enum") => primitive_schema("string", false),
            Some(_) => {
                let mut s = avro_to_connect(&o["type"], namespace);
                match o.get("logicalType").and_then(Json::as_str) {
                    Some("decimal") if s["type"] == "bytes" => {
                        let mut params = json!({"scale": o.get("scale").and_then(Json::as_u64).unwrap_or(0).to_string()});
                        if let Some(p) = o.get("precision").and_then(Json::as_u64) {
                            params["connect.decimal.precision"] = json!(p.to_string());
                        }
                        s["name"] = json!(DECIMAL);
                        s["version"] = json!(1);
                        s["parameters"] = params;
                    }
                    Some("date") if s["type"] == "int32" => {
                        s["name"] = json!(DATE);
                        s["version"] = json!(1);
                    }
                    Some("time-millis") if s["type"] == "int32" => {
                        s["name"] = json!(TIME);
                        s["version"] = json!(1);
                    }
                    Some("timestamp-millis") if s["type"] == "int64" => {
                        s["name"] = json!(TIMESTAMP);
                        s["version"] = json!(1);
                    }
                    _ => {}
                }
                // What Confluent's AvroData wrote of the Connect schema wins.
                if let Some(n) = o.get("connect.name").filter(|n| n.is_string()) {
                    s["name"] = n.clone();
                }
                if let Some(v) = o.get("connect.version").filter(|v| v.is_number()) {
                    s["version"] = v.clone();
                }
                if let Some(Json::Object(p)) = o.get("connect.parameters") {
                    if !s["parameters"].is_object() {
                        s["parameters"] = json!({});
                    }
                    for (k, v) in p {
                        s["parameters"][k] = v.clone();
                    }
                }
                s
            }
            None => primitive_schema("string", false),
        },
        _ => primitive_schema("string", false),
    }
}

/// A struct value for a Connect struct schema from JSON (fields in schema order).
pub fn struct_from_json(json: &Json, schema: &Json) -> Data {
    let mut out = IndexMap::new();
    for f in schema["fields"].as_array().into_iter().flatten() {
        let name = f["field"].as_str().unwrap_or_default();
        out.insert(
            name.to_string(),
            Data::from_json_with(json.get(name).unwrap_or(&Json::Null), f),
        );
    }
    Data::Struct(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_registry::SchemaRegistry;

    fn embedded(registry: &Arc<SchemaRegistry>) -> Embedded {
        Embedded {
            registry: Arc::clone(registry),
            url: None,
        }
    }

    fn open_registry(dir: &std::path::Path) -> Arc<SchemaRegistry> {
        SchemaRegistry::open(sluice_log::LogStore::open(dir).unwrap()).unwrap()
    }

    /// A struct with each of Connect's logical types, optional and not.
    fn logical_schema() -> Json {
        json!({"type": "struct", "name": "shop.payment", "optional": false, "fields": [
            {"field": "amount", "type": "bytes", "optional": false, "name": DECIMAL, "version": 1,
             "parameters": {"scale": "2", "connect.decimal.precision": "10"}},
            {"field": "fee", "type": "bytes", "optional": true, "name": DECIMAL, "version": 1,
             "parameters": {"scale": "3"}},
            {"field": "day", "type": "int32", "optional": false, "name": DATE, "version": 1},
            {"field": "at", "type": "int32", "optional": true, "name": TIME, "version": 1},
            {"field": "ts", "type": "int64", "optional": false, "name": TIMESTAMP, "version": 1},
            {"field": "raw", "type": "bytes", "optional": false}]})
    }

    fn logical_value() -> Data {
        let mut m = IndexMap::new();
        m.insert(
            "amount".into(),
            Data::Bytes(decimal_from_text("-1234.50", 2).unwrap()),
        );
        m.insert("fee".into(), Data::Null);
        m.insert("day".into(), Data::Int(19_000));
        m.insert("at".into(), Data::Int(3_600_000));
        m.insert("ts".into(), Data::Int(1_700_000_000_123));
        m.insert("raw".into(), Data::Bytes(vec![0, 0xff, 0x80]));
        Data::Struct(m)
    }

    #[test]
    fn json_converter_keeps_struct_field_order() {
        let schema = json!({"type": "struct", "optional": false, "fields": [
            {"field": "z", "type": "int32", "optional": false},
            {"field": "a", "type": "string", "optional": false}]});
        let value = struct_from_json(&json!({"a": "x", "z": 1}), &schema);
        let plain = JsonConverter::new(false);
        let bytes = plain.encode("t", Some(&schema), &value).unwrap().unwrap();
        assert_eq!(std::str::from_utf8(&bytes).unwrap(), r#"{"z":1,"a":"x"}"#);
        let enveloped = JsonConverter::new(true);
        let bytes = enveloped
            .encode("t", Some(&schema), &value)
            .unwrap()
            .unwrap();
        assert!(std::str::from_utf8(&bytes)
            .unwrap()
            .ends_with(r#""payload":{"z":1,"a":"x"}}"#));
        assert!(std::str::from_utf8(&bytes)
            .unwrap()
            .starts_with(r#"{"schema":"#));
    }

    #[test]
    fn json_converter_envelope_round_trip() {
        let c = JsonConverter::new(true);
        let schema = primitive_schema("string", false);
        let bytes = c
            .encode("t", Some(&schema), &Data::Str("hi".into()))
            .unwrap()
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<Json>(&bytes).unwrap(),
            json!({"schema": {"type": "string", "optional": false}, "payload": "hi"})
        );
        let (s, v) = c.decode("t", Some(&bytes)).unwrap();
        assert_eq!(s.as_deref(), Some(&schema));
        assert_eq!(v, Data::Str("hi".into()));
        // Records of one schema share the converter's one copy of it.
        let (again, _) = c.decode("t", Some(&bytes)).unwrap();
        assert!(Arc::ptr_eq(s.as_ref().unwrap(), again.as_ref().unwrap()));
        let err = c.decode("t", Some(b"{\"a\":1}")).unwrap_err();
        assert!(err.to_string().contains("schemas.enable=false"));
        let plain = JsonConverter::new(false);
        assert!(plain.decode("t", Some(b"not json")).is_err());
        assert_eq!(
            plain.decode("t", Some(b"{\"a\":1}")).unwrap().1.field("a"),
            Some(&Data::Int(1))
        );
    }

    #[test]
    fn avro_schema_round_trip_keeps_names_and_optionals() {
        let avro = json!({"type": "record", "name": "orders", "namespace": "ksql", "fields": [
            {"name": "ordertime", "type": "long"},
            {"name": "itemid", "type": ["null", "string"], "default": null}]});
        let connect = avro_to_connect(&avro, "");
        assert_eq!(connect["name"], "ksql.orders");
        assert_eq!(connect["fields"][1]["optional"], true);
        let back = connect_to_avro(&connect, &mut 0);
        assert_eq!(back["name"], "orders");
        assert_eq!(back["namespace"], "ksql");
        assert_eq!(back["fields"][0]["type"], "long");
        assert_eq!(back["fields"][1]["type"], json!(["null", "string"]));
    }

    #[test]
    fn protobuf_and_json_schema_converters_round_trip_through_the_registry() {
        let dir = tempfile::tempdir().unwrap();
        let store = sluice_log::LogStore::open(dir.path()).unwrap();
        let registry = SchemaRegistry::open(store).unwrap();
        let schema = json!({"type": "struct", "name": "ksql.orders", "optional": false, "fields": [
            {"field": "orderid", "type": "int32", "optional": false},
            {"field": "itemid", "type": "string", "optional": false},
            {"field": "address", "type": "struct", "optional": false, "fields": [
                {"field": "city", "type": "string", "optional": false}]}]});
        let value = struct_from_json(
            &json!({"orderid": 7, "itemid": "Item_1", "address": {"city": "City_1"}}),
            &schema,
        );
        for class in [PROTOBUF_CONVERTER, JSON_SCHEMA_CONVERTER] {
            let c = converter(class, &Config::new(), false, Some(&embedded(&registry))).unwrap();
            let topic = if class == PROTOBUF_CONVERTER {
                "pb"
            } else {
                "js"
            };
            let bytes = c.encode(topic, Some(&schema), &value).unwrap().unwrap();
            assert_eq!(bytes[0], 0);
            let (s, back) = c.decode(topic, Some(&bytes)).unwrap();
            assert_eq!(back.to_json(), value.to_json(), "{class}");
            assert_eq!(crate::data::schema_type(&s.unwrap()), "struct");
        }
        let (t, text, _) = registry
            .schema_by_id(
                registry
                    .version(
                        "pb-value",
                        sluice_registry::registry::VersionSpec::Latest,
                        false,
                    )
                    .unwrap()
                    .id,
            )
            .unwrap();
        assert_eq!(t, SchemaType::Protobuf);
        assert!(text.contains("message orders"), "{text}");
        assert!(text.contains("Address address = 3;"), "{text}");
        let (t, _, _) = registry
            .schema_by_id(
                registry
                    .version(
                        "js-value",
                        sluice_registry::registry::VersionSpec::Latest,
                        false,
                    )
                    .unwrap()
                    .id,
            )
            .unwrap();
        assert_eq!(t, SchemaType::Json);
    }

    #[test]
    fn avro_converter_writes_the_wire_format_through_the_registry() {
        let dir = tempfile::tempdir().unwrap();
        let store = sluice_log::LogStore::open(dir.path()).unwrap();
        let registry = SchemaRegistry::open(store).unwrap();
        let c = converter(
            AVRO_CONVERTER,
            &Config::new(),
            false,
            Some(&embedded(&registry)),
        )
        .unwrap();
        let schema = json!({"type": "struct", "name": "ksql.users", "optional": false, "fields": [
            {"field": "userid", "type": "string", "optional": false},
            {"field": "regionid", "type": "string", "optional": true}]});
        let value = struct_from_json(&json!({"userid": "User_1", "regionid": null}), &schema);
        let bytes = c.encode("users", Some(&schema), &value).unwrap().unwrap();
        assert_eq!(bytes[0], 0);
        let id = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
        assert_eq!(registry.versions("users-value", false).unwrap(), vec![1]);
        assert_eq!(registry.schema_by_id(id).unwrap().0, SchemaType::Avro);
        let (s, back) = c.decode("users", Some(&bytes)).unwrap();
        assert_eq!(back, value);
        assert_eq!(s.unwrap()["name"], "ksql.users");
    }

    #[test]
    fn avro_converter_writes_and_reads_connect_logical_types_as_avro_logical_types() {
        let avro = connect_to_avro(&logical_schema(), &mut 0);
        let fields = &avro["fields"];
        assert_eq!(
            fields[0]["type"],
            json!({"type": "bytes", "scale": 2, "precision": 10, "logicalType": "decimal",
                "connect.version": 1, "connect.name": DECIMAL,
                "connect.parameters": {"scale": "2", "connect.decimal.precision": "10"}})
        );
        // Without connect.decimal.precision, Confluent's default precision 64; optional as a
        // union with null.
        assert_eq!(fields[1]["type"][0], "null");
        assert_eq!(fields[1]["type"][1]["precision"], 64);
        assert_eq!(fields[1]["type"][1]["scale"], 3);
        assert_eq!(fields[2]["type"]["type"], "int");
        assert_eq!(fields[2]["type"]["logicalType"], "date");
        assert_eq!(fields[3]["type"][1]["logicalType"], "time-millis");
        assert_eq!(fields[4]["type"]["type"], "long");
        assert_eq!(fields[4]["type"]["logicalType"], "timestamp-millis");
        assert_eq!(fields[4]["type"]["connect.name"], TIMESTAMP);
        assert_eq!(fields[5]["type"], "bytes");

        let dir = tempfile::tempdir().unwrap();
        let registry = open_registry(dir.path());
        let c = converter(
            AVRO_CONVERTER,
            &Config::new(),
            false,
            Some(&embedded(&registry)),
        )
        .unwrap();
        let bytes = c
            .encode("payments", Some(&logical_schema()), &logical_value())
            .unwrap()
            .unwrap();
        // A converter that never wrote the schema reads it by id.
        let fresh = converter(
            AVRO_CONVERTER,
            &Config::new(),
            false,
            Some(&embedded(&registry)),
        )
        .unwrap();
        let (schema, back) = fresh.decode("payments", Some(&bytes)).unwrap();
        assert_eq!(back, logical_value());
        let schema = schema.unwrap();
        let amount = crate::data::field_schema(&schema, "amount").unwrap();
        assert_eq!(amount["name"], DECIMAL);
        assert_eq!(amount["parameters"]["scale"], "2");
        assert_eq!(amount["parameters"]["connect.decimal.precision"], "10");
        for (field, name, kind) in [
            ("day", DATE, "int32"),
            ("at", TIME, "int32"),
            ("ts", TIMESTAMP, "int64"),
        ] {
            let f = crate::data::field_schema(&schema, field).unwrap();
            assert_eq!((f["name"].as_str(), schema_type(f)), (Some(name), kind));
        }
        let Some(Data::Bytes(amount)) = back.field("amount") else {
            panic!("amount is not bytes: {back:?}")
        };
        assert_eq!(decimal_text(amount, 2).unwrap(), "-1234.50");
    }

    #[test]
    fn avro_logical_types_written_by_others_read_as_connect_logical_types() {
        let avro = json!({"type": "record", "name": "r", "fields": [
            {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
            {"name": "day", "type": ["null", {"type": "int", "logicalType": "date"}], "default": null},
            {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "micros", "type": {"type": "long", "logicalType": "timestamp-micros"}}]});
        let connect = avro_to_connect(&avro, "");
        let f = |n| crate::data::field_schema(&connect, n).unwrap().clone();
        assert_eq!(f("price")["name"], DECIMAL);
        assert_eq!(
            f("price")["parameters"],
            json!({"scale": "2", "connect.decimal.precision": "9"})
        );
        assert_eq!(f("day")["name"], DATE);
        assert_eq!(f("day")["optional"], true);
        assert_eq!(f("ts")["name"], TIMESTAMP);
        // A logical type Connect has no counterpart for stays its physical type.
        assert_eq!(f("micros")["name"], Json::Null);
        assert_eq!(schema_type(&f("micros")), "int64");
    }

    #[test]
    fn registry_converters_use_the_registry_schema_registry_url_names() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let own_dir = tempfile::tempdir().unwrap();
        let other_dir = tempfile::tempdir().unwrap();
        let own = open_registry(own_dir.path());
        let other = open_registry(other_dir.path());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = sluice_registry::http::router(Arc::clone(&other));
        runtime.spawn(async move { axum::serve(listener, router).await });
        let here = Embedded {
            registry: Arc::clone(&own),
            url: Some("http://127.0.0.1:1".into()),
        };
        let mut props = Config::new();
        props.insert("schema.registry.url".into(), url.clone());
        runtime.block_on(async {
            let c = converter(AVRO_CONVERTER, &props, false, Some(&here)).unwrap();
            let bytes = c
                .encode("payments", Some(&logical_schema()), &logical_value())
                .unwrap()
                .unwrap();
            let id = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
            assert_eq!(other.versions("payments-value", false).unwrap(), vec![1]);
            assert!(own.versions("payments-value", false).is_err());
            assert!(other
                .schema_by_id(id)
                .unwrap()
                .1
                .contains("timestamp-millis"));
            // Read back by a converter that only knows the id: GET /schemas/ids/{id}.
            let reader = converter(AVRO_CONVERTER, &props, false, Some(&here)).unwrap();
            assert_eq!(
                reader.decode("payments", Some(&bytes)).unwrap().1,
                logical_value()
            );
            // auto.register.schemas=false only looks schemas up: a new one is an error, a
            // registered one is found; use.latest.version writes with the latest.
            let mut lookup = props.clone();
            lookup.insert("auto.register.schemas".into(), "false".into());
            let c = converter(AVRO_CONVERTER, &lookup, false, Some(&here)).unwrap();
            let err = c
                .encode("unknown", Some(&logical_schema()), &logical_value())
                .unwrap_err();
            assert!(err.to_string().contains("unknown-value"), "{err}");
            assert_eq!(
                c.encode("payments", Some(&logical_schema()), &logical_value())
                    .unwrap()
                    .unwrap(),
                bytes
            );
            let mut latest = lookup.clone();
            latest.insert("use.latest.version".into(), "true".into());
            let c = converter(AVRO_CONVERTER, &latest, false, Some(&here)).unwrap();
            assert_eq!(
                c.encode("payments", Some(&logical_schema()), &logical_value())
                    .unwrap()
                    .unwrap(),
                bytes
            );
        });
        // The registry gone: a clear registry error, not a panic.
        runtime.shutdown_background();
        let c = converter(AVRO_CONVERTER, &props, false, Some(&here)).unwrap();
        let err = c
            .encode("gone", Some(&logical_schema()), &logical_value())
            .unwrap_err();
        assert!(err.to_string().contains("gone-value"), "{err}");
    }
}
