//! Converters between Connect data and the bytes in Kafka, by their upstream class names and
//! keys: JsonConverter (`schemas.enable`), StringConverter, ByteArrayConverter, and
//! AvroConverter through the embedded schema registry in Confluent's wire format (subjects
//! `<topic>-key` / `<topic>-value`). It never touches topics.

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;
use parking_lot::Mutex;
use serde_json::{json, Value as Json};
use sluice_registry::codec::{split_wire, WireSchema};
use sluice_registry::model::SchemaType;
use sluice_registry::registry::SchemaInput;
use sluice_registry::SchemaRegistry;

use crate::config::{boolean, Config};
use crate::data::{primitive_schema, schema_type, Data};
use crate::error::{ConnectError, Result};

pub const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
pub const STRING_CONVERTER: &str = "org.apache.kafka.connect.storage.StringConverter";
pub const BYTE_ARRAY_CONVERTER: &str = "org.apache.kafka.connect.converters.ByteArrayConverter";
pub const AVRO_CONVERTER: &str = "io.confluent.connect.avro.AvroConverter";

/// Turns Connect data into bytes for a topic (Connect's `fromConnectData`), and back
/// (`toConnectData`).
pub trait Converter: Send + Sync {
    fn encode(&self, topic: &str, schema: Option<&Json>, value: &Data) -> Result<Option<Vec<u8>>>;
    fn decode(&self, topic: &str, bytes: Option<&[u8]>) -> Result<(Option<Json>, Data)>;
}

/// The converter a `key.converter` / `value.converter` class names, configured with its
/// `key.converter.*` / `value.converter.*` keys (`props`, prefix taken off).
pub fn converter(
    class: &str,
    props: &Config,
    is_key: bool,
    registry: Option<&Arc<SchemaRegistry>>,
) -> Result<Arc<dyn Converter>> {
    let simple = class.rsplit('.').next().unwrap_or(class);
    Ok(match simple {
        "JsonConverter" => Arc::new(JsonConverter {
            schemas_enable: boolean(props, "schemas.enable", true),
        }),
        "StringConverter" => Arc::new(StringConverter),
        "ByteArrayConverter" => Arc::new(ByteArrayConverter),
        "AvroConverter" => {
            let registry = registry.ok_or_else(|| {
                ConnectError::BadRequest("AvroConverter needs the schema registry".into())
            })?;
            Arc::new(AvroConverter {
                registry: Arc::clone(registry),
                is_key,
                writers: Mutex::new(HashMap::new()),
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
}

impl Converter for JsonConverter {
    fn encode(&self, _topic: &str, schema: Option<&Json>, value: &Data) -> Result<Option<Vec<u8>>> {
        if value.is_null() && !self.schemas_enable {
            return Ok(None);
        }
        let out = if self.schemas_enable {
            json!({"schema": schema.cloned().unwrap_or(Json::Null), "payload": value.to_json()})
        } else {
            value.to_json()
        };
        Ok(Some(out.to_string().into_bytes()))
    }

    fn decode(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<(Option<Json>, Data)> {
        let Some(bytes) = bytes else {
            return Ok((None, Data::Null));
        };
        let json: Json = serde_json::from_slice(bytes).map_err(|e| {
            ConnectError::Data(format!(
                "Converting byte[] to Kafka Connect data failed due to serialization error: {e}"
            ))
        })?;
        if !self.schemas_enable {
            return Ok((None, Data::from_json(&json)));
        }
        match json {
            Json::Object(ref o) if o.len() == 2 && o.contains_key("schema") && o.contains_key("payload") => {
                let schema = o["schema"].clone();
                if schema.is_null() {
                    return Ok((None, Data::from_json(&o["payload"])));
                }
                Ok((Some(schema.clone()), Data::from_json_with(&o["payload"], &schema)))
            }
            _ => Err(ConnectError::Data(
                "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.".into(),
            )),
        }
    }
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

    fn decode(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<(Option<Json>, Data)> {
        Ok(match bytes {
            None => (Some(primitive_schema("string", true)), Data::Null),
            Some(b) => (
                Some(primitive_schema("string", true)),
                Data::Str(String::from_utf8_lossy(b).into_owned()),
            ),
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

    fn decode(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<(Option<Json>, Data)> {
        Ok((
            Some(primitive_schema("bytes", true)),
            bytes.map_or(Data::Null, |b| Data::Bytes(b.to_vec())),
        ))
    }
}

/// `io.confluent.connect.avro.AvroConverter` over the embedded registry: the Connect schema
/// becomes an Avro schema registered under `<topic>-value` (or `-key`), the data Avro binary
/// after the 5-byte wire-format header.
pub struct AvroConverter {
    registry: Arc<SchemaRegistry>,
    is_key: bool,
    /// (subject, Avro schema text) → the registered schema.
    writers: Mutex<HashMap<(String, String), Arc<WireSchema>>>,
    readers: Mutex<HashMap<u32, (Arc<WireSchema>, Json)>>,
}

impl Converter for AvroConverter {
    fn encode(&self, topic: &str, schema: Option<&Json>, value: &Data) -> Result<Option<Vec<u8>>> {
        if value.is_null() {
            return Ok(None);
        }
        let schema = schema.ok_or_else(|| {
            ConnectError::Data("AvroConverter needs a schema: the record has none".into())
        })?;
        let avro = connect_to_avro(schema, &mut 0);
        let text = avro.to_string();
        let subject = format!("{topic}-{}", if self.is_key { "key" } else { "value" });
        let key = (subject.clone(), text.clone());
        let cached = self.writers.lock().get(&key).cloned();
        let wire = match cached {
            Some(w) => w,
            None => {
                let id = self
                    .registry
                    .register(
                        &subject,
                        SchemaInput {
                            schema_type: SchemaType::Avro,
                            schema: text.clone(),
                            references: Vec::new(),
                            id: None,
                            version: None,
                        },
                        false,
                    )
                    .map_err(|e| ConnectError::Registry(e.to_string()))?;
                let w = Arc::new(
                    WireSchema::new(id, SchemaType::Avro, &text, &[], Vec::new())
                        .map_err(ConnectError::Registry)?,
                );
                self.writers.lock().insert(key, Arc::clone(&w));
                w
            }
        };
        let json = avro_json(value, schema);
        wire.encode(&json.to_string())
            .map(Some)
            .map_err(|e| ConnectError::Data(format!("Failed to serialize Avro data: {e}")))
    }

    fn decode(&self, _topic: &str, bytes: Option<&[u8]>) -> Result<(Option<Json>, Data)> {
        let Some(bytes) = bytes else {
            return Ok((None, Data::Null));
        };
        let (id, _) =
            split_wire(bytes).ok_or_else(|| ConnectError::Data("Unknown magic byte!".into()))?;
        let cached = self.readers.lock().get(&id).cloned();
        let (wire, connect_schema) = match cached {
            Some(c) => c,
            None => {
                let (t, text, _) = self.registry.schema_by_id(id).map_err(|e| {
                    ConnectError::Data(format!("Failed to retrieve Avro schema for id {id}: {e}"))
                })?;
                let wire = Arc::new(
                    WireSchema::new(id, t, &text, &[], Vec::new()).map_err(ConnectError::Data)?,
                );
                let avro: Json = serde_json::from_str(&text).unwrap_or(Json::Null);
                let entry = (wire, avro_to_connect(&avro, ""));
                self.readers.lock().insert(id, entry.clone());
                entry
            }
        };
        let text = wire
            .decode(&bytes[5..])
            .map_err(|e| ConnectError::Data(format!("Failed to deserialize Avro data: {e}")))?;
        let json: Json =
            serde_json::from_str(&text).map_err(|e| ConnectError::Data(e.to_string()))?;
        Ok((
            Some(connect_schema.clone()),
            Data::from_json_with(&json, &connect_schema),
        ))
    }
}

/// The JSON the registry's Avro codec takes for a value (bytes as Latin-1 text, Avro's JSON).
fn avro_json(value: &Data, schema: &Json) -> Json {
    match (value, schema_type(schema)) {
        (Data::Bytes(b), _) => Json::String(b.iter().map(|&c| c as char).collect()),
        (Data::Struct(m), _) => Json::Object(
            m.iter()
                .map(|(k, v)| {
                    let fs = crate::data::field_schema(schema, k)
                        .cloned()
                        .unwrap_or(Json::Null);
                    (k.clone(), avro_json(v, &fs))
                })
                .collect(),
        ),
        (Data::Array(a), _) => {
            Json::Array(a.iter().map(|v| avro_json(v, &schema["items"])).collect())
        }
        (v, _) => v.to_json(),
    }
}

/// A Connect schema as an Avro schema (as Confluent's AvroData: structs become records named
/// by the schema name, or `ConnectDefault<N>`; optional schemas become unions with null).
pub fn connect_to_avro(schema: &Json, unnamed: &mut usize) -> Json {
    let base = match schema_type(schema) {
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
            Some(_) => avro_to_connect(&o["type"], namespace),
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

    #[test]
    fn json_converter_envelope_round_trip() {
        let c = JsonConverter {
            schemas_enable: true,
        };
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
        assert_eq!(s, Some(schema));
        assert_eq!(v, Data::Str("hi".into()));
        let err = c.decode("t", Some(b"{\"a\":1}")).unwrap_err();
        assert!(err.to_string().contains("schemas.enable=false"));
        let plain = JsonConverter {
            schemas_enable: false,
        };
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
    fn avro_converter_writes_the_wire_format_through_the_registry() {
        let dir = tempfile::tempdir().unwrap();
        let store = sluice_log::LogStore::open(dir.path()).unwrap();
        let registry = SchemaRegistry::open(store).unwrap();
        let c = converter(AVRO_CONVERTER, &Config::new(), false, Some(&registry)).unwrap();
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
}
