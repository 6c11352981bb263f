//! Registry-backed formats (AVRO, JSON_SR, PROTOBUF): the [`SchemaSource`] trait the engine
//! reaches a schema registry through (the server implements it in-process), ksqlDB's mapping
//! of registry schemas to columns (CREATE without columns), the schemas generated for sinks
//! (ksqlDB's `KsqlDataSourceSchema` / `ConnectDefault1`), and the Confluent wire format via
//! sluice-registry's codec. Never does network or file I/O itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value as Json};
use sluice_registry::codec::{split_wire, WireSchema};
use sluice_registry::formats::ParsedSchema;
use sluice_registry::model::SchemaType;

use crate::ast::{Ident, SqlType};
use crate::catalog::Format;
use crate::error::SqlError;

/// A schema as the registry holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredText {
    pub id: u32,
    pub schema_type: SchemaType,
    pub text: String,
    /// Referenced schemas: (import name, text).
    pub references: Vec<(String, String)>,
}

/// The schema registry, as the engine needs it.
pub trait SchemaSource: Send + Sync + 'static {
    /// The latest version registered under `subject`, None when the subject has none.
    fn latest(&self, subject: &str) -> Result<Option<RegisteredText>, SqlError>;
    /// The schema with this id.
    fn by_id(&self, id: u32) -> Result<RegisteredText, SqlError>;
    /// Registers a schema (no references) under `subject`; the id (an existing one when the
    /// same schema is registered already).
    fn register(&self, subject: &str, schema_type: SchemaType, text: &str)
        -> Result<u32, SqlError>;
}

/// The schema type a format's data is written with.
pub fn schema_type(format: Format) -> Option<SchemaType> {
    match format {
        Format::Avro => Some(SchemaType::Avro),
        Format::JsonSr => Some(SchemaType::Json),
        Format::Protobuf => Some(SchemaType::Protobuf),
        _ => None,
    }
}

/// The engine's view of the registry: parsed schemas cached by id.
#[derive(Default)]
pub struct Schemas {
    source: Option<Arc<dyn SchemaSource>>,
    by_id: Mutex<HashMap<u32, Arc<WireSchema>>>,
}

impl Schemas {
    pub fn new(source: Option<Arc<dyn SchemaSource>>) -> Self {
        Schemas {
            source,
            by_id: Mutex::default(),
        }
    }

    fn source(&self) -> Result<&Arc<dyn SchemaSource>, SqlError> {
        self.source.as_ref().ok_or_else(|| {
            SqlError::statement(
                "Schema registry url is not configured: formats AVRO, PROTOBUF and JSON_SR need one.",
            )
        })
    }

    fn parse(r: &RegisteredText) -> Result<Arc<WireSchema>, SqlError> {
        WireSchema::new(r.id, r.schema_type, &r.text, &r.references, Vec::new())
            .map(Arc::new)
            .map_err(|e| SqlError::statement(format!("Schema {} does not parse: {e}", r.id)))
    }

    /// The parsed schema with this id.
    pub fn wire(&self, id: u32) -> Result<Arc<WireSchema>, SqlError> {
        if let Some(w) = self
            .by_id
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
        {
            return Ok(Arc::clone(w));
        }
        let w = Self::parse(&self.source()?.by_id(id)?)?;
        self.by_id
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, Arc::clone(&w));
        Ok(w)
    }

    /// Wire-format bytes as JSON (the schema id read from the header).
    pub fn decode(&self, bytes: &[u8]) -> Result<Json, String> {
        let (id, body) = split_wire(bytes)
            .ok_or("Unknown magic byte!: the data is not in the schema registry's wire format")?;
        let schema = self.wire(id).map_err(|e| e.to_string())?;
        let text = schema.decode(body)?;
        serde_json::from_str(&text).map_err(|e| e.to_string())
    }

    /// The columns of the latest schema under `subject` (or of `id`) in ksqlDB's types,
    /// with the schema id; None when the subject has no schema.
    pub fn infer(
        &self,
        subject: &str,
        id: Option<u32>,
        format: Format,
    ) -> Result<Option<(u32, Inferred)>, SqlError> {
        let registered = match id {
            Some(id) => self.source()?.by_id(id)?,
            None => match self.source()?.latest(subject)? {
                Some(r) => r,
                None => return Ok(None),
            },
        };
        if Some(registered.schema_type) != schema_type(format) {
            return Err(SqlError::statement(format!(
                "Format {} does not match the {:?} schema registered for {subject} (id {})",
                format.name(),
                registered.schema_type,
                registered.id
            )));
        }
        let wire = Self::parse(&registered)?;
        let inferred = match &wire.parsed {
            ParsedSchema::Avro(_) => {
                let j: Json = serde_json::from_str(&registered.text)
                    .map_err(|e| SqlError::statement(e.to_string()))?;
                avro_columns(&j)
            }
            ParsedSchema::Json(_) => {
                let j: Json = serde_json::from_str(&registered.text)
                    .map_err(|e| SqlError::statement(e.to_string()))?;
                json_schema_columns(&j)
            }
            ParsedSchema::Protobuf(p) => match p.file().messages().next() {
                Some(m) => proto_fields(&m, 0).map(Inferred::Fields),
                None => Err("the schema declares no message".to_string()),
            },
        }
        .map_err(|e| {
            SqlError::statement(format!(
                "Unable to verify if the schema for topic subject {subject} is compatible with ksqlDB: {e}"
            ))
        })?;
        Ok(Some((registered.id, inferred)))
    }

    /// The schema a sink writes with: `id` when given (VALUE_SCHEMA_ID), else one generated
    /// from the columns and registered under `subject`.
    pub fn sink_schema(
        &self,
        subject: &str,
        format: Format,
        id: Option<u32>,
        columns: &[(String, SqlType)],
        unwrapped: bool,
        key: bool,
    ) -> Result<Arc<WireSchema>, SqlError> {
        if let Some(id) = id {
            return self.wire(id);
        }
        let ty = schema_type(format)
            .ok_or_else(|| SqlError::statement(format!("{} has no schema", format.name())))?;
        let text = generate(format, columns, unwrapped, key)?;
        let id = self.source()?.register(subject, ty, &text)?;
        let w = Self::parse(&RegisteredText {
            id,
            schema_type: ty,
            text,
            references: Vec::new(),
        })?;
        self.by_id
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, Arc::clone(&w));
        Ok(w)
    }
}

/// Avro's name rules for the columns (and struct fields) of an AVRO key or value, with
/// ksqlDB's message.
pub fn check_avro_names<'a>(
    columns: impl IntoIterator<Item = (&'a str, &'a SqlType)>,
) -> Result<(), SqlError> {
    fn check(name: &str, ty: &SqlType) -> Result<(), String> {
        let mut chars = name.chars();
        match chars.next() {
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
            _ => return Err(format!("Illegal initial character: {name}")),
        }
        if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("Illegal character in: {name}"));
        }
        inner(ty)
    }
    fn inner(ty: &SqlType) -> Result<(), String> {
        match ty {
            SqlType::Array(t) | SqlType::Map(_, t) => inner(t),
            SqlType::Struct(fields) => fields.iter().try_for_each(|(n, t)| check(&n.0, t)),
            _ => Ok(()),
        }
    }
    columns
        .into_iter()
        .try_for_each(|(n, t)| check(n, t))
        .map_err(|e| SqlError::statement(format!("Schema is not compatible with Avro: {e}")))
}

/// What a schema gives: a record's fields as columns, or one unnamed (unwrapped) type.
#[derive(Debug, Clone, PartialEq)]
pub enum Inferred {
    Fields(Vec<(String, SqlType)>),
    Single(SqlType),
}

const MAX_DEPTH: usize = 32;

fn avro_columns(j: &Json) -> Result<Inferred, String> {
    let mut named = HashMap::new();
    match avro_type(j, &mut named, "", 0)? {
        SqlType::Struct(fields) => Ok(Inferred::Fields(
            fields.into_iter().map(|(n, t)| (n.0, t)).collect(),
        )),
        other => Ok(Inferred::Single(other)),
    }
}

fn full_name(name: &str, namespace: &str) -> String {
    if name.contains('.') || namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}.{name}")
    }
}

/// ksqlDB's type of an Avro schema (field names upper-cased, nullable unions unwrapped).
fn avro_type(
    j: &Json,
    named: &mut HashMap<String, SqlType>,
    ns: &str,
    depth: usize,
) -> Result<SqlType, String> {
    if depth > MAX_DEPTH {
        return Err("schema nested too deeply (or recursive)".into());
    }
    Ok(match j {
        Json::String(s) => match s.as_str() {
            "boolean" => SqlType::Boolean,
            "int" => SqlType::Int,
            "long" => SqlType::Bigint,
            "float" | "double" => SqlType::Double,
            "string" => SqlType::String,
            "bytes" => SqlType::Bytes,
            "null" => return Err("a null type has no ksqlDB type".into()),
            name => named
                .get(&full_name(name, ns))
                .or_else(|| named.get(name))
                .cloned()
                .ok_or_else(|| format!("unknown or recursive type {name}"))?,
        },
        Json::Array(branches) => {
            let not_null: Vec<&Json> = branches.iter().filter(|b| *b != "null").collect();
            match not_null.as_slice() {
                [one] => avro_type(one, named, ns, depth + 1)?,
                _ => return Err("unions of several non-null types are not supported".into()),
            }
        }
        Json::Object(o) => {
            let ty = o.get("type").ok_or("a schema object without a type")?;
            let logical = o.get("logicalType").and_then(Json::as_str);
            match (ty.as_str(), logical) {
                (Some("long"), Some("timestamp-millis")) => SqlType::Timestamp,
                (Some("int"), Some("date")) => SqlType::Date,
                (Some("int"), Some("time-millis")) => SqlType::Time,
                (Some("bytes" | "fixed"), Some("decimal")) => SqlType::Decimal {
                    precision: o.get("precision").and_then(Json::as_u64).unwrap_or(0) as u32,
                    scale: o.get("scale").and_then(Json::as_u64).unwrap_or(0) as u32,
                },
                (Some("record"), _) => {
                    let name = o.get("name").and_then(Json::as_str).unwrap_or_default();
                    let ns = o.get("namespace").and_then(Json::as_str).unwrap_or(ns);
                    let full = full_name(name, ns);
                    let inner_ns = full.rsplit_once('.').map_or("", |(n, _)| n).to_string();
                    let mut fields = Vec::new();
                    for f in o
                        .get("fields")
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let fname = f.get("name").and_then(Json::as_str).unwrap_or_default();
                        let fty = f.get("type").ok_or("a field without a type")?;
                        fields.push((
                            Ident::new(fname.to_uppercase()),
                            avro_type(fty, named, &inner_ns, depth + 1)?,
                        ));
                    }
                    let t = SqlType::Struct(fields);
                    named.insert(full, t.clone());
                    t
                }
                (Some("enum"), _) | (Some("fixed"), _) => {
                    let name = o.get("name").and_then(Json::as_str).unwrap_or_default();
                    let t = if ty == "enum" {
                        SqlType::String
                    } else {
                        SqlType::Bytes
                    };
                    named.insert(full_name(name, ns), t.clone());
                    t
                }
                (Some("array"), _) => SqlType::Array(Box::new(avro_type(
                    o.get("items").ok_or("an array without items")?,
                    named,
                    ns,
                    depth + 1,
                )?)),
                (Some("map"), _) => SqlType::Map(
                    Box::new(SqlType::String),
                    Box::new(avro_type(
                        o.get("values").ok_or("a map without values")?,
                        named,
                        ns,
                        depth + 1,
                    )?),
                ),
                _ => avro_type(ty, named, ns, depth + 1)?,
            }
        }
        _ => return Err("not an Avro schema".into()),
    })
}

fn json_schema_columns(j: &Json) -> Result<Inferred, String> {
    match json_schema_type(j, j, 0)? {
        SqlType::Struct(fields) => Ok(Inferred::Fields(
            fields.into_iter().map(|(n, t)| (n.0, t)).collect(),
        )),
        other => Ok(Inferred::Single(other)),
    }
}

/// ksqlDB's type of a JSON Schema (local `#/...` references resolved).
fn json_schema_type(j: &Json, root: &Json, depth: usize) -> Result<SqlType, String> {
    if depth > MAX_DEPTH {
        return Err("schema nested too deeply (or recursive)".into());
    }
    if let Some(r) = j.get("$ref").and_then(Json::as_str) {
        let target = r
            .strip_prefix('#')
            .and_then(|p| root.pointer(p))
            .ok_or_else(|| format!("unresolvable reference {r}"))?;
        return json_schema_type(target, root, depth + 1);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = j.get(key).and_then(Json::as_array) {
            let not_null: Vec<&Json> = branches
                .iter()
                .filter(|b| b.get("type").and_then(Json::as_str) != Some("null"))
                .collect();
            return match not_null.as_slice() {
                [one] => json_schema_type(one, root, depth + 1),
                _ => Err("oneOf several non-null types is not supported".into()),
            };
        }
    }
    let ty = match j.get("type") {
        Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).find(|t| *t != "null"),
        Some(Json::String(t)) => Some(t.as_str()),
        _ if j.get("properties").is_some() => Some("object"),
        _ => None,
    };
    let title = j.get("title").and_then(Json::as_str);
    let param = |k: &str| {
        j.pointer(&format!("/connect.parameters/{k}"))
            .and_then(Json::as_str)
            .and_then(|v| v.parse::<u32>().ok())
    };
    Ok(match ty {
        _ if title == Some("org.apache.kafka.connect.data.Timestamp") => SqlType::Timestamp,
        _ if title == Some("org.apache.kafka.connect.data.Date") => SqlType::Date,
        _ if title == Some("org.apache.kafka.connect.data.Time") => SqlType::Time,
        _ if title == Some("org.apache.kafka.connect.data.Decimal") => SqlType::Decimal {
            precision: param("connect.decimal.precision").unwrap_or(64),
            scale: param("scale").unwrap_or(0),
        },
        Some("string") if j.get("connect.type").and_then(Json::as_str) == Some("bytes") => {
            SqlType::Bytes
        }
        Some("boolean") => SqlType::Boolean,
        Some("integer") => match j.get("connect.type").and_then(Json::as_str) {
            Some("int8" | "int16" | "int32") => SqlType::Int,
            _ => SqlType::Bigint,
        },
        Some("number") => SqlType::Double,
        Some("string") => SqlType::String,
        Some("array") => SqlType::Array(Box::new(json_schema_type(
            j.get("items").ok_or("an array without items")?,
            root,
            depth + 1,
        )?)),
        Some("object") => match (j.get("properties"), j.get("additionalProperties")) {
            (Some(Json::Object(props)), _) => SqlType::Struct({
                // Properties in `connect.index` order (ksqlDB's and Connect's column order).
                let mut props: Vec<(&String, &Json)> = props.iter().collect();
                props.sort_by_key(|(_, v)| {
                    v.get("connect.index")
                        .and_then(Json::as_u64)
                        .unwrap_or(u64::MAX)
                });
                props
                    .into_iter()
                    .map(|(k, v)| {
                        Ok((
                            Ident::new(k.to_uppercase()),
                            json_schema_type(v, root, depth + 1)?,
                        ))
                    })
                    .collect::<Result<_, String>>()?
            }),
            (_, Some(v @ Json::Object(_))) => SqlType::Map(
                Box::new(SqlType::String),
                Box::new(json_schema_type(v, root, depth + 1)?),
            ),
            _ => return Err("an object without properties".into()),
        },
        _ => return Err(format!("unsupported JSON schema type in {j}")),
    })
}

fn proto_fields(
    m: &prost_reflect::MessageDescriptor,
    depth: usize,
) -> Result<Vec<(String, SqlType)>, String> {
    if depth > MAX_DEPTH {
        return Err("message nested too deeply (or recursive)".into());
    }
    m.fields()
        .map(|f| {
            let ty = if f.is_map() {
                let prost_reflect::Kind::Message(entry) = f.kind() else {
                    return Err("a map without an entry message".into());
                };
                let value = entry.map_entry_value_field();
                SqlType::Map(
                    Box::new(SqlType::String),
                    Box::new(proto_kind(&value.kind(), depth)?),
                )
            } else if f.is_list() {
                SqlType::Array(Box::new(proto_kind(&f.kind(), depth)?))
            } else {
                proto_kind(&f.kind(), depth)?
            };
            Ok((f.name().to_uppercase(), ty))
        })
        .collect()
}

fn proto_kind(k: &prost_reflect::Kind, depth: usize) -> Result<SqlType, String> {
    use prost_reflect::Kind;
    Ok(match k {
        Kind::Bool => SqlType::Boolean,
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => SqlType::Int,
        Kind::Int64
        | Kind::Sint64
        | Kind::Sfixed64
        | Kind::Uint32
        | Kind::Fixed32
        | Kind::Uint64
        | Kind::Fixed64 => SqlType::Bigint,
        Kind::Float | Kind::Double => SqlType::Double,
        Kind::String => SqlType::String,
        Kind::Bytes => SqlType::Bytes,
        Kind::Enum(_) => SqlType::String,
        Kind::Message(m) if m.full_name() == "google.protobuf.Timestamp" => SqlType::Timestamp,
        Kind::Message(m) if m.full_name() == "google.type.Date" => SqlType::Date,
        Kind::Message(m) if m.full_name() == "google.type.TimeOfDay" => SqlType::Time,
        // confluent.type.Decimal's precision and scale are field options this mapping does
        // not read, and guessing them would change values.
        Kind::Message(m) if m.full_name() == "confluent.type.Decimal" => {
            return Err(
                "confluent.type.Decimal fields need declared columns (their precision and scale are not inferred)"
                    .into(),
            )
        }
        Kind::Message(m) => SqlType::Struct(
            proto_fields(m, depth + 1)?
                .into_iter()
                .map(|(n, t)| (Ident::new(n), t))
                .collect(),
        ),
    })
}

/// The schema ksqlDB registers for a sink's columns: a record of the columns (all optional),
/// or, unwrapped (a single column with WRAP_SINGLE_VALUE=false, or a single key), its type.
pub fn generate(
    format: Format,
    columns: &[(String, SqlType)],
    unwrapped: bool,
    key: bool,
) -> Result<String, SqlError> {
    let single = match columns {
        [(_, t)] if unwrapped => Some(t),
        _ => None,
    };
    Ok(match format {
        Format::Avro => {
            let root = if key {
                "KsqlDataSourceSchema_Key"
            } else {
                "KsqlDataSourceSchema"
            };
            let schema = match single {
                Some(t) => avro_of(t, root)?,
                None => avro_record(columns, root)?,
            };
            schema.to_string()
        }
        Format::JsonSr => {
            let schema = match single {
                Some(t) => json_schema_of(t)?,
                None => json_schema_record(columns)?,
            };
            schema.to_string()
        }
        Format::Protobuf => {
            let mut out = String::from("syntax = \"proto3\";\n\n");
            let mut counter = 1;
            let fields: Vec<(String, SqlType)> = match single {
                // Protobuf has no unwrapped values: one field.
                Some(t) => vec![(columns[0].0.clone(), t.clone())],
                None => columns.to_vec(),
            };
            let mut body = String::new();
            proto_message(&fields, &mut counter, 0, &mut body)?;
            for (used, import) in [
                (
                    "google.protobuf.Timestamp",
                    "google/protobuf/timestamp.proto",
                ),
                ("google.type.Date", "google/type/date.proto"),
                ("google.type.TimeOfDay", "google/type/timeofday.proto"),
                ("confluent.type.Decimal", "confluent/type/decimal.proto"),
            ] {
                if body.contains(used) {
                    out.push_str(&format!("import \"{import}\";\n"));
                }
            }
            if body.contains("confluent.type.Decimal") {
                out.push_str("import \"confluent/meta.proto\";\n");
            }
            if !out.ends_with("\n\n") {
                out.push('\n');
            }
            out.push_str(&body);
            out
        }
        other => {
            return Err(SqlError::statement(format!(
                "{} has no registry schema",
                other.name()
            )))
        }
    })
}

fn unsupported(ty: &SqlType) -> SqlError {
    SqlError::statement(format!(
        "Type {} is not supported by this format yet",
        crate::value::type_name(ty)
    ))
}

fn avro_record(columns: &[(String, SqlType)], name: &str) -> Result<Json, SqlError> {
    let fields = columns
        .iter()
        .map(|(n, t)| {
            Ok(json!({
                "name": n,
                "type": avro_of(t, &format!("{name}_{n}"))?,
                "default": null,
            }))
        })
        .collect::<Result<Vec<_>, SqlError>>()?;
    Ok(json!({
        "type": "record",
        "name": name,
        "namespace": "io.confluent.ksql.avro_schemas",
        "fields": fields,
    }))
}

/// The optional (`["null", T]`) Avro schema of a column type.
fn avro_of(ty: &SqlType, name: &str) -> Result<Json, SqlError> {
    let t = match ty {
        SqlType::Boolean => json!("boolean"),
        SqlType::Int => json!("int"),
        SqlType::Bigint => json!("long"),
        SqlType::Double => json!("double"),
        SqlType::String => json!("string"),
        SqlType::Bytes => json!("bytes"),
        SqlType::Timestamp => json!({"type": "long", "logicalType": "timestamp-millis"}),
        SqlType::Date => json!({"type": "int", "logicalType": "date"}),
        SqlType::Time => json!({"type": "int", "logicalType": "time-millis"}),
        // As Connect's AvroData writes a Decimal (ksqlDB's AVRO serializer).
        SqlType::Decimal { precision, scale } => json!({
            "type": "bytes",
            "scale": scale,
            "precision": precision,
            "connect.version": 1,
            "connect.parameters": {
                "scale": scale.to_string(),
                "connect.decimal.precision": precision.to_string(),
            },
            "connect.name": "org.apache.kafka.connect.data.Decimal",
            "logicalType": "decimal",
        }),
        SqlType::Array(inner) => json!({"type": "array", "items": avro_of(inner, name)?}),
        SqlType::Map(k, v) if **k == SqlType::String => {
            json!({"type": "map", "values": avro_of(v, &format!("{name}_MapValue"))?})
        }
        SqlType::Struct(fields) => {
            let cols: Vec<(String, SqlType)> = fields
                .iter()
                .map(|(n, t)| (n.0.clone(), t.clone()))
                .collect();
            let mut rec = avro_record(&cols, name)?;
            if let Some(o) = rec.as_object_mut() {
                o.remove("namespace");
            }
            rec
        }
        other => return Err(unsupported(other)),
    };
    Ok(json!(["null", t]))
}

fn json_schema_record(columns: &[(String, SqlType)]) -> Result<Json, SqlError> {
    let props = columns
        .iter()
        .enumerate()
        .map(|(i, (n, t))| {
            let mut s = json_schema_of(t)?;
            if let Some(o) = s.as_object_mut() {
                o.insert("connect.index".into(), json!(i));
            }
            Ok((n.clone(), s))
        })
        .collect::<Result<serde_json::Map<_, _>, SqlError>>()?;
    Ok(json!({"type": "object", "properties": props}))
}

/// The optional JSON Schema of a column type (as ksqlDB's JSON_SR writes: `oneOf` null).
fn json_schema_of(ty: &SqlType) -> Result<Json, SqlError> {
    let t = match ty {
        SqlType::Boolean => json!({"type": "boolean"}),
        SqlType::Int => json!({"type": "integer", "connect.type": "int32"}),
        SqlType::Bigint => json!({"type": "integer", "connect.type": "int64"}),
        SqlType::Double => json!({"type": "number", "connect.type": "float64"}),
        SqlType::String => json!({"type": "string"}),
        SqlType::Timestamp => {
            json!({"type": "integer", "connect.type": "int64", "title": "org.apache.kafka.connect.data.Timestamp"})
        }
        SqlType::Date => {
            json!({"type": "integer", "connect.type": "int32", "title": "org.apache.kafka.connect.data.Date"})
        }
        SqlType::Time => {
            json!({"type": "integer", "connect.type": "int32", "title": "org.apache.kafka.connect.data.Time"})
        }
        SqlType::Decimal { precision, scale } => json!({
            "type": "number",
            "connect.type": "bytes",
            "connect.version": 1,
            "connect.parameters": {
                "scale": scale.to_string(),
                "connect.decimal.precision": precision.to_string(),
            },
            "title": "org.apache.kafka.connect.data.Decimal",
        }),
        SqlType::Bytes => json!({"type": "string", "connect.type": "bytes"}),
        SqlType::Array(inner) => json!({"type": "array", "items": json_schema_of(inner)?}),
        SqlType::Map(k, v) if **k == SqlType::String => {
            json!({"type": "object", "additionalProperties": json_schema_of(v)?})
        }
        SqlType::Struct(fields) => {
            let cols: Vec<(String, SqlType)> = fields
                .iter()
                .map(|(n, t)| (n.0.clone(), t.clone()))
                .collect();
            json_schema_record(&cols)?
        }
        other => return Err(unsupported(other)),
    };
    Ok(json!({"oneOf": [{"type": "null"}, t]}))
}

/// `message ConnectDefaultN { ... }` with nested messages for structs.
fn proto_message(
    fields: &[(String, SqlType)],
    counter: &mut usize,
    depth: usize,
    out: &mut String,
) -> Result<(), SqlError> {
    let indent = "  ".repeat(depth);
    out.push_str(&format!("{indent}message ConnectDefault{counter} {{\n"));
    *counter += 1;
    let mut nested = String::new();
    for (i, (name, ty)) in fields.iter().enumerate() {
        let t = proto_field_type(ty, counter, depth + 1, &mut nested)?;
        out.push_str(&format!("{indent}  {t} {name} = {};\n", i + 1));
    }
    out.push_str(&nested);
    out.push_str(&format!("{indent}}}\n"));
    Ok(())
}

fn proto_field_type(
    ty: &SqlType,
    counter: &mut usize,
    depth: usize,
    nested: &mut String,
) -> Result<String, SqlError> {
    Ok(match ty {
        SqlType::Boolean => "bool".into(),
        SqlType::Int => "int32".into(),
        SqlType::Bigint => "int64".into(),
        SqlType::Timestamp => "google.protobuf.Timestamp".into(),
        SqlType::Date => "google.type.Date".into(),
        SqlType::Time => "google.type.TimeOfDay".into(),
        SqlType::Decimal { .. } => "confluent.type.Decimal".into(),
        SqlType::Double => "double".into(),
        SqlType::String => "string".into(),
        SqlType::Bytes => "bytes".into(),
        SqlType::Array(inner) if !matches!(**inner, SqlType::Array(_) | SqlType::Map(..)) => {
            format!(
                "repeated {}",
                proto_field_type(inner, counter, depth, nested)?
            )
        }
        SqlType::Map(k, v)
            if **k == SqlType::String && !matches!(**v, SqlType::Array(_) | SqlType::Map(..)) =>
        {
            format!(
                "map<string, {}>",
                proto_field_type(v, counter, depth, nested)?
            )
        }
        SqlType::Struct(fields) => {
            let name = format!("ConnectDefault{counter}");
            let cols: Vec<(String, SqlType)> = fields
                .iter()
                .map(|(n, t)| (n.0.clone(), t.clone()))
                .collect();
            proto_message(&cols, counter, depth, nested)?;
            name
        }
        other => return Err(unsupported(other)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An in-memory registry: subjects' versions and schemas by id.
    #[derive(Default)]
    pub struct MemoryRegistry {
        schemas: Mutex<Vec<(Vec<String>, SchemaType, String)>>,
    }

    impl SchemaSource for MemoryRegistry {
        fn latest(&self, subject: &str) -> Result<Option<RegisteredText>, SqlError> {
            let s = self.schemas.lock().unwrap();
            Ok(s.iter()
                .enumerate()
                .rev()
                .find(|(_, (subjects, _, _))| subjects.iter().any(|x| x == subject))
                .map(|(i, (_, t, text))| RegisteredText {
                    id: i as u32 + 1,
                    schema_type: *t,
                    text: text.clone(),
                    references: vec![],
                }))
        }
        fn by_id(&self, id: u32) -> Result<RegisteredText, SqlError> {
            let s = self.schemas.lock().unwrap();
            let (_, t, text) = s
                .get(id as usize - 1)
                .ok_or_else(|| SqlError::statement("no such schema"))?;
            Ok(RegisteredText {
                id,
                schema_type: *t,
                text: text.clone(),
                references: vec![],
            })
        }
        fn register(&self, subject: &str, t: SchemaType, text: &str) -> Result<u32, SqlError> {
            let mut s = self.schemas.lock().unwrap();
            if let Some(i) = s.iter().position(|(_, tt, x)| *tt == t && x == text) {
                s[i].0.push(subject.to_string());
                return Ok(i as u32 + 1);
            }
            s.push((vec![subject.to_string()], t, text.to_string()));
            Ok(s.len() as u32)
        }
    }

    const ORDER: &str = r#"{"type":"record","name":"Order","namespace":"io.sluice","fields":[
        {"name":"orderId","type":"long"},
        {"name":"customer","type":"string"},
        {"name":"amount","type":"double"},
        {"name":"qty","type":["null","int"],"default":null},
        {"name":"tags","type":{"type":"array","items":"string"}},
        {"name":"attrs","type":{"type":"map","values":"float"}},
        {"name":"address","type":{"type":"record","name":"Address","fields":[{"name":"city","type":"string"}]}},
        {"name":"billing","type":["null","Address"]},
        {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","DONE"]}}
    ]}"#;

    #[test]
    fn avro_schema_maps_to_ksqldb_columns() {
        let reg = Arc::new(MemoryRegistry::default());
        reg.register("orders-value", SchemaType::Avro, ORDER)
            .unwrap();
        let schemas = Schemas::new(Some(reg));
        let (id, inferred) = schemas
            .infer("orders-value", None, Format::Avro)
            .unwrap()
            .unwrap();
        assert_eq!(id, 1);
        let city = SqlType::Struct(vec![(Ident::new("CITY"), SqlType::String)]);
        assert_eq!(
            inferred,
            Inferred::Fields(vec![
                ("ORDERID".into(), SqlType::Bigint),
                ("CUSTOMER".into(), SqlType::String),
                ("AMOUNT".into(), SqlType::Double),
                ("QTY".into(), SqlType::Int),
                ("TAGS".into(), SqlType::Array(Box::new(SqlType::String))),
                (
                    "ATTRS".into(),
                    SqlType::Map(Box::new(SqlType::String), Box::new(SqlType::Double))
                ),
                ("ADDRESS".into(), city.clone()),
                ("BILLING".into(), city),
                ("STATUS".into(), SqlType::String),
            ])
        );
        assert!(schemas
            .infer("missing-value", None, Format::Avro)
            .unwrap()
            .is_none());
        // A PROTOBUF source over an Avro subject is an error, not a panic.
        assert!(schemas
            .infer("orders-value", None, Format::Protobuf)
            .is_err());
    }

    #[test]
    fn generated_avro_is_ksqldbs_and_round_trips() {
        let reg = Arc::new(MemoryRegistry::default());
        let schemas = Schemas::new(Some(reg.clone()));
        let cols = vec![
            ("ID".to_string(), SqlType::Bigint),
            ("NAME".to_string(), SqlType::String),
            (
                "S".to_string(),
                SqlType::Struct(vec![(Ident::new("X"), SqlType::Int)]),
            ),
        ];
        let w = schemas
            .sink_schema("out-value", Format::Avro, None, &cols, false, false)
            .unwrap();
        let text = reg.latest("out-value").unwrap().unwrap().text;
        let j: Json = serde_json::from_str(&text).unwrap();
        assert_eq!(j["name"], "KsqlDataSourceSchema");
        assert_eq!(j["namespace"], "io.confluent.ksql.avro_schemas");
        assert_eq!(j["fields"][0]["type"], json!(["null", "long"]));
        assert_eq!(j["fields"][0]["default"], Json::Null);
        let bytes = w
            .encode(r#"{"ID": 7, "NAME": null, "S": {"X": 3}}"#)
            .unwrap();
        assert_eq!(&bytes[..5], &[0, 0, 0, 0, 1]);
        let back = schemas.decode(&bytes).unwrap();
        assert_eq!(back, json!({"ID": 7, "NAME": null, "S": {"X": 3}}));
        // Inferring from what a sink registered gives the sink's columns back.
        let (_, inferred) = schemas
            .infer("out-value", None, Format::Avro)
            .unwrap()
            .unwrap();
        assert_eq!(inferred, Inferred::Fields(cols));
    }

    #[test]
    fn generated_protobuf_and_json_sr_round_trip() {
        let reg = Arc::new(MemoryRegistry::default());
        let schemas = Schemas::new(Some(reg));
        let cols = vec![
            ("ID".to_string(), SqlType::Bigint),
            (
                "TAGS".to_string(),
                SqlType::Array(Box::new(SqlType::String)),
            ),
            (
                "S".to_string(),
                SqlType::Struct(vec![(Ident::new("X"), SqlType::Int)]),
            ),
        ];
        for format in [Format::Protobuf, Format::JsonSr] {
            let subject = format!("{}-value", format.name());
            let w = schemas
                .sink_schema(&subject, format, None, &cols, false, false)
                .unwrap();
            let bytes = w
                .encode(r#"{"ID": 7, "TAGS": ["a"], "S": {"X": 3}}"#)
                .unwrap();
            let back = schemas.decode(&bytes).unwrap();
            assert_eq!(back["S"]["X"], json!(3), "{format:?}");
            assert_eq!(back["TAGS"], json!(["a"]), "{format:?}");
            let (_, inferred) = schemas.infer(&subject, None, format).unwrap().unwrap();
            assert_eq!(inferred, Inferred::Fields(cols.clone()), "{format:?}");
        }
    }

    #[test]
    fn avro_names_follow_avros_rules() {
        let ok = SqlType::Struct(vec![(Ident::new("_A1"), SqlType::Int)]);
        assert!(check_avro_names([("ID", &SqlType::Int), ("S", &ok)]).is_ok());
        let e = check_avro_names([("1ABC", &SqlType::Double)]).unwrap_err();
        assert!(e
            .to_string()
            .contains("Schema is not compatible with Avro: Illegal initial character: 1ABC"));
        let nested = SqlType::Array(Box::new(SqlType::Struct(vec![(
            Ident::new("a-b"),
            SqlType::Int,
        )])));
        assert!(check_avro_names([("X", &nested)]).is_err());
    }

    /// A stream over `topic` with the given columns (key `ID` STRING, KAFKA unless `key_format`).
    fn typed_source(
        value_format: Format,
        columns: Vec<crate::catalog::Column>,
    ) -> crate::catalog::Source {
        crate::catalog::Source {
            name: "S".into(),
            kind: crate::ast::SourceKind::Stream,
            topic: "t".into(),
            key_format: Format::Kafka,
            value_format,
            columns,
            window: None,
            timestamp_column: None,
            timestamp_format: None,
            headers: Vec::new(),
            statement: String::new(),
            value_schema_id: None,
            key_schema_id: None,
            wrap_single_value: None,
            delimiter: None,
        }
    }

    fn typed_row() -> (Vec<crate::catalog::Column>, Vec<crate::value::Value>) {
        use crate::catalog::{Column, ColumnKind};
        use crate::decimal::Decimal;
        use crate::value::Value;
        let cols = vec![
            Column::new("ID", SqlType::String, ColumnKind::Key),
            Column::new("TS", SqlType::Timestamp, ColumnKind::Value),
            Column::new("D", SqlType::Date, ColumnKind::Value),
            Column::new("T", SqlType::Time, ColumnKind::Value),
            Column::new(
                "AMOUNT",
                SqlType::Decimal {
                    precision: 10,
                    scale: 2,
                },
                ColumnKind::Value,
            ),
            Column::new("RAW", SqlType::Bytes, ColumnKind::Value),
        ];
        let vals = vec![
            Value::String("k".into()),
            Value::Timestamp(1_609_459_200_123),
            Value::Date(18_628),
            Value::Time(45_000_000),
            Value::Decimal(Decimal::new(-123_456, 2)),
            Value::Bytes(vec![0, 1, 254, 255]),
        ];
        (cols, vals)
    }

    #[test]
    fn temporal_decimal_and_bytes_values_round_trip_through_every_format() {
        use crate::operators::{sink, source, OutRow};
        let reg = Arc::new(MemoryRegistry::default());
        let schemas = Schemas::new(Some(reg));
        let (cols, vals) = typed_row();
        let value_cols: Vec<(String, SqlType)> = cols[1..]
            .iter()
            .map(|c| (c.name.clone(), c.ty.clone()))
            .collect();
        for format in [
            Format::Json,
            Format::Delimited,
            Format::Avro,
            Format::Protobuf,
            Format::JsonSr,
        ] {
            let codec = sink::SinkCodec {
                value: format
                    .uses_registry()
                    .then(|| {
                        schemas.sink_schema(
                            &format!("{}-value", format.name()),
                            format,
                            None,
                            &value_cols,
                            false,
                            false,
                        )
                    })
                    .transpose()
                    .unwrap(),
                ..Default::default()
            };
            let row = OutRow {
                values: vals.clone(),
                meta: crate::expr::RowMeta::default(),
                tombstone: false,
            };
            let rec = sink::encode(&cols, Format::Kafka, Some(format), &row, &codec)
                .unwrap_or_else(|e| panic!("{format:?}: {e}"));
            let src = typed_source(format, cols.clone());
            let input = crate::io::InRecord {
                offset: 0,
                timestamp: 0,
                key: rec.key.map(bytes::Bytes::from),
                value: rec.value.map(bytes::Bytes::from),
                ..Default::default()
            };
            let (back, _, _) = source::decode(&src, 0, &input, &schemas)
                .unwrap_or_else(|e| panic!("{format:?}: {e}"));
            assert_eq!(back, vals, "{format:?}");
        }
    }

    #[test]
    fn a_producers_avro_logical_types_read_as_ksqldb_values() {
        use crate::decimal::Decimal;
        use crate::value::Value;
        // What confluent-kafka's AvroSerializer registers for decimal/timestamp/date fields.
        let payment = r#"{"type":"record","name":"Payment","fields":[
            {"name":"id","type":"string"},
            {"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
            {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
            {"name":"day","type":["null",{"type":"int","logicalType":"date"}],"default":null}
        ]}"#;
        let reg = Arc::new(MemoryRegistry::default());
        let id = reg
            .register("pay-value", SchemaType::Avro, payment)
            .unwrap();
        let schemas = Schemas::new(Some(reg));
        let (_, inferred) = schemas
            .infer("pay-value", None, Format::Avro)
            .unwrap()
            .unwrap();
        let Inferred::Fields(fields) = inferred else {
            panic!("not fields")
        };
        assert_eq!(
            fields.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>(),
            vec![
                SqlType::String,
                SqlType::Decimal {
                    precision: 10,
                    scale: 2
                },
                SqlType::Timestamp,
                SqlType::Date
            ]
        );
        let bytes = schemas
            .wire(id)
            .unwrap()
            .encode(r#"{"id":"p1","amount":"1234.50","ts":1609459200000,"day":18628}"#)
            .unwrap();
        let cols: Vec<crate::catalog::Column> = fields
            .into_iter()
            .map(|(n, t)| crate::catalog::Column::new(n, t, crate::catalog::ColumnKind::Value))
            .collect();
        let src = typed_source(Format::Avro, cols);
        let input = crate::io::InRecord {
            offset: 0,
            timestamp: 0,
            key: None,
            value: Some(bytes::Bytes::from(bytes)),
            ..Default::default()
        };
        let (row, _, _) = crate::operators::source::decode(&src, 0, &input, &schemas).unwrap();
        assert_eq!(
            row,
            vec![
                Value::String("p1".into()),
                Value::Decimal(Decimal::new(123_450, 2)),
                Value::Timestamp(1_609_459_200_000),
                Value::Date(18_628),
            ]
        );
        assert_eq!(
            Value::Timestamp(1_609_459_200_000).to_rest_json(),
            json!("2021-01-01T00:00:00.000")
        );
    }

    #[test]
    fn bad_wire_data_is_an_error() {
        let schemas = Schemas::new(Some(Arc::new(MemoryRegistry::default())));
        assert!(schemas.decode(b"{}").is_err());
        assert!(schemas.decode(&[0, 0, 0, 0, 9, 1]).is_err());
        assert!(Schemas::default().decode(&[0, 0, 0, 0, 1, 1]).is_err());
    }
}
