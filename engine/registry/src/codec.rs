//! The Confluent wire format: magic byte 0, a 4-byte big-endian schema id, then the data in
//! the schema's format — Avro binary (as Confluent's AvroSerializer writes it), Protobuf
//! (the message-index path, then the message, as ProtobufSerializer writes it) or UTF-8 JSON
//! (JsonSchemaSerializer). Owns turning such bytes into JSON text for display, and JSON text
//! into such bytes for producing, given a resolved [`WireSchema`]. No I/O: schemas are
//! fetched and cached by `schemas`.

use std::collections::HashMap;
use std::sync::Once;

use crate::formats::avro::AvroSchema;
use crate::formats::json::Ordered;
use crate::formats::ParsedSchema;
use crate::model::SchemaType;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema::{InnerDecimalSchema, RecordSchema, UuidSchema};
use apache_avro::types::Value as Avro;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;
use prost_reflect::prost::Message as _;
use prost_reflect::{DeserializeOptions, DynamicMessage, MessageDescriptor, SerializeOptions};
use serde_json::Value as Json;

/// The magic byte that starts wire-format data.
pub const MAGIC: u8 = 0;
/// Deepest nesting of JSON converted to Avro (a schema may be recursive; data may not be).
const MAX_DEPTH: usize = 64;
/// Largest allocation one Avro datum may ask for (a corrupt length must not take the heap).
const AVRO_MAX_ALLOCATION: usize = 64 * 1024 * 1024;

/// The schema id of bytes in the wire format and the bytes after it.
pub fn split_wire(bytes: &[u8]) -> Option<(u32, &[u8])> {
    match bytes {
        [MAGIC, a, b, c, d, rest @ ..] => Some((u32::from_be_bytes([*a, *b, *c, *d]), rest)),
        _ => None,
    }
}

fn limit_avro_allocations() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        apache_avro::util::max_allocation_bytes(AVRO_MAX_ALLOCATION);
    });
}

/// A registered schema, parsed and ready to read and write data.
pub struct WireSchema {
    pub id: u32,
    pub parsed: ParsedSchema,
    /// JSON Schema only: the compiled validator, references resolved.
    validator: Option<jsonschema::Validator>,
    /// The (subject, version) pairs the schema is registered under.
    pub subjects: Vec<(String, i32)>,
}

impl std::fmt::Debug for WireSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireSchema")
            .field("id", &self.id)
            .field("type", &self.parsed.schema_type())
            .field("subjects", &self.subjects)
            .finish()
    }
}

impl WireSchema {
    /// `text` and `references` (name, text) are what the registry holds for `id`.
    pub fn new(
        id: u32,
        schema_type: SchemaType,
        text: &str,
        references: &[(String, String)],
        subjects: Vec<(String, i32)>,
    ) -> Result<WireSchema, String> {
        let parsed =
            ParsedSchema::parse(schema_type, text, references).map_err(|e| e.to_string())?;
        let validator = match schema_type {
            SchemaType::Json => Some(json_validator(text, references)?),
            _ => None,
        };
        Ok(WireSchema {
            id,
            parsed,
            validator,
            subjects,
        })
    }

    pub fn schema_type(&self) -> SchemaType {
        self.parsed.schema_type()
    }

    /// The subject to show for data of `topic`: its `-key`/`-value` subject first.
    pub fn subject_for(&self, topic: &str, key: bool) -> Option<(String, i32)> {
        let wanted = format!("{topic}-{}", if key { "key" } else { "value" });
        self.subjects
            .iter()
            .filter(|(s, _)| *s == wanted)
            .max_by_key(|(_, v)| *v)
            .or_else(|| self.subjects.first())
            .cloned()
    }

    /// Reads the data after the 5-byte header as JSON text.
    pub fn decode(&self, data: &[u8]) -> Result<String, String> {
        match &self.parsed {
            ParsedSchema::Avro(a) => {
                limit_avro_allocations();
                let schemata = avro_schemata(a);
                let reader = if a.referenced().is_empty() {
                    GenericDatumReader::builder(a.schema()).build()
                } else {
                    GenericDatumReader::builder(a.schema())
                        .writer_schemata(schemata)
                        .and_then(|b| b.build())
                }
                .map_err(|e| format!("Avro schema: {e}"))?;
                let mut rest = data;
                let value = reader
                    .read_value(&mut rest)
                    .map_err(|e| format!("not Avro data of schema {}: {e}", self.id))?;
                let json = avro_to_json(&value, a.schema(), a, 0);
                serde_json::to_string(&json).map_err(|e| e.to_string())
            }
            ParsedSchema::Protobuf(p) => {
                let mut rest = data;
                let path = read_message_indexes(&mut rest)?;
                let desc = message_at(p.file(), &path)?;
                let message = DynamicMessage::decode(desc.clone(), rest)
                    .map_err(|e| format!("not a {} message: {e}", desc.full_name()))?;
                let mut out = Vec::new();
                let mut ser = serde_json::Serializer::new(&mut out);
                message
                    .serialize_with_options(&mut ser, &proto_json_options())
                    .map_err(|e| e.to_string())?;
                String::from_utf8(out).map_err(|e| e.to_string())
            }
            ParsedSchema::Json(_) => {
                let text = std::str::from_utf8(data).map_err(|e| format!("not UTF-8: {e}"))?;
                serde_json::from_str::<serde::de::IgnoredAny>(text)
                    .map_err(|e| format!("not JSON: {e}"))?;
                Ok(text.to_string())
            }
        }
    }

    /// Serializes a JSON text with this schema, header included, as Confluent's serializers do.
    pub fn encode(&self, text: &str) -> Result<Vec<u8>, String> {
        let mut out = vec![MAGIC];
        out.extend_from_slice(&self.id.to_be_bytes());
        match &self.parsed {
            ParsedSchema::Avro(a) => {
                let json: Json = match serde_json::from_str(text) {
                    Ok(json) => json,
                    // A string schema takes the text itself, unquoted.
                    Err(_) if takes_text(a.schema(), a) => Json::String(text.to_string()),
                    Err(e) => return Err(format!("not JSON: {e}")),
                };
                let value = json_to_avro(&json, a.schema(), a, "$", 0)?;
                let writer = if a.referenced().is_empty() {
                    GenericDatumWriter::builder(a.schema()).build()
                } else {
                    GenericDatumWriter::builder(a.schema())
                        .schemata(avro_schemata(a))
                        .and_then(|b| b.build())
                }
                .map_err(|e| format!("Avro schema: {e}"))?;
                writer
                    .write_value(&mut out, value)
                    .map_err(|e| format!("does not fit the schema: {e}"))?;
            }
            ParsedSchema::Protobuf(p) => {
                let desc = p
                    .file()
                    .messages()
                    .next()
                    .ok_or_else(|| "the schema declares no message".to_string())?;
                let mut json: Json =
                    serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
                hoist_oneofs(&mut json, &desc, 0);
                let message = DynamicMessage::deserialize_with_options(
                    desc.clone(),
                    json,
                    &DeserializeOptions::new(),
                )
                .map_err(|e| format!("does not fit {}: {e}", desc.full_name()))?;
                // The first message's index path [0] is written as a single 0.
                out.push(0);
                message
                    .encode(&mut out)
                    .map_err(|e| format!("encoding {}: {e}", desc.full_name()))?;
            }
            ParsedSchema::Json(_) => {
                let value: Json =
                    serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
                if let Some(v) = &self.validator {
                    let problems: Vec<String> = v
                        .iter_errors(&value)
                        .take(5)
                        .map(|e| {
                            let at = e.instance_path().to_string();
                            if at.is_empty() {
                                e.to_string()
                            } else {
                                format!("{at}: {e}")
                            }
                        })
                        .collect();
                    if !problems.is_empty() {
                        return Err(format!("does not fit the schema: {}", problems.join("; ")));
                    }
                }
                // Compact, keys in the order written.
                let ordered: Ordered =
                    serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
                serde_json::to_writer(&mut out, &ordered).map_err(|e| e.to_string())?;
            }
        }
        Ok(out)
    }
}

/// Whether a schema is a string (maybe nullable), so a bare text is its value.
fn takes_text(s: &Schema, a: &AvroSchema) -> bool {
    match resolve(s, a) {
        Schema::String | Schema::Enum(_) | Schema::Uuid(UuidSchema::String) => true,
        Schema::Union(u) => {
            let others: Vec<&Schema> = u
                .variants()
                .iter()
                .filter(|v| !matches!(v, Schema::Null))
                .collect();
            matches!(others.as_slice(), [one] if takes_text(one, a))
        }
        _ => false,
    }
}

fn avro_schemata(a: &AvroSchema) -> Vec<&Schema> {
    a.referenced()
        .iter()
        .chain(std::iter::once(a.schema()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// JSON Schema
// ---------------------------------------------------------------------------------------

/// Resolves `$ref`s to registered references by their reference name.
struct References(HashMap<String, Json>);

impl jsonschema::Retrieve for References {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Json, Box<dyn std::error::Error + Send + Sync>> {
        let full = uri.as_str();
        let found = self.0.iter().find(|(name, _)| {
            full == name.as_str() || full.ends_with(&format!("/{}", name.trim_start_matches("./")))
        });
        match found {
            Some((_, v)) => Ok(v.clone()),
            None => Err(format!("{full} is not among the schema's references").into()),
        }
    }
}

fn json_validator(
    text: &str,
    references: &[(String, String)],
) -> Result<jsonschema::Validator, String> {
    let schema: Json = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let refs = references
        .iter()
        .filter_map(|(n, t)| serde_json::from_str(t).ok().map(|v| (n.clone(), v)))
        .collect();
    let mut options = jsonschema::options().with_retriever(References(refs));
    // Confluent reads a schema without `$schema` as draft 7.
    if schema.get("$schema").is_none() {
        options = options.with_draft(jsonschema::Draft::Draft7);
    }
    options
        .build(&schema)
        .map_err(|e| format!("JSON schema: {e}"))
}

// ---------------------------------------------------------------------------------------
// Protobuf
// ---------------------------------------------------------------------------------------

fn proto_json_options() -> SerializeOptions {
    SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(false)
        .stringify_64_bit_integers(false)
}

fn read_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn zigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

/// Confluent's message-index path: a zigzag count, then that many zigzag indexes; a count of
/// 0 means `[0]`, the file's first message.
pub fn read_message_indexes(bytes: &mut &[u8]) -> Result<Vec<usize>, String> {
    let bad = || "bad Protobuf message indexes".to_string();
    let count = zigzag(read_varint(bytes).ok_or_else(bad)?);
    if count == 0 {
        return Ok(vec![0]);
    }
    if !(1..=64).contains(&count) {
        return Err(bad());
    }
    (0..count)
        .map(|_| {
            let i = zigzag(read_varint(bytes).ok_or_else(bad)?);
            usize::try_from(i).map_err(|_| bad())
        })
        .collect()
}

fn message_at(
    file: &prost_reflect::FileDescriptor,
    path: &[usize],
) -> Result<MessageDescriptor, String> {
    let missing = || format!("the schema has no message at index path {path:?}");
    let (first, rest) = path.split_first().ok_or_else(missing)?;
    let mut desc = file.messages().nth(*first).ok_or_else(missing)?;
    for i in rest {
        let child = desc.child_messages().nth(*i);
        desc = child.ok_or_else(missing)?;
    }
    Ok(desc)
}

/// A generated form writes a oneof as `{"oneof_name": {"member": value}}`; protobuf's JSON
/// has the member itself. Moves such members up, in `desc` and the messages inside it.
fn hoist_oneofs(json: &mut Json, desc: &MessageDescriptor, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let Json::Object(obj) = json else {
        return;
    };
    for oneof in desc.oneofs().filter(|o| !o.is_synthetic()) {
        let name = oneof.name();
        if desc.get_field_by_name(name).is_some() {
            continue;
        }
        let member = match obj.get(name) {
            Some(Json::Object(inner)) if inner.len() == 1 => inner
                .iter()
                .next()
                .filter(|(k, _)| {
                    oneof
                        .fields()
                        .any(|f| f.name() == *k || f.json_name() == *k)
                })
                .map(|(k, v)| (k.clone(), v.clone())),
            _ => None,
        };
        if let Some((k, v)) = member {
            obj.remove(name);
            obj.insert(k, v);
        } else if matches!(obj.get(name), Some(Json::Null)) {
            obj.remove(name);
        }
    }
    for field in desc.fields() {
        let prost_reflect::Kind::Message(inner) = field.kind() else {
            continue;
        };
        let key = if obj.contains_key(field.name()) {
            field.name().to_string()
        } else {
            field.json_name().to_string()
        };
        let Some(v) = obj.get_mut(&key) else { continue };
        if field.is_map() {
            let value_desc = inner.map_entry_value_field();
            if let (Json::Object(m), prost_reflect::Kind::Message(vd)) = (v, value_desc.kind()) {
                for x in m.values_mut() {
                    hoist_oneofs(x, &vd, depth + 1);
                }
            }
        } else if let Json::Array(items) = v {
            for x in items {
                hoist_oneofs(x, &inner, depth + 1);
            }
        } else {
            hoist_oneofs(v, &inner, depth + 1);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Avro → JSON (records as objects in field order, unions as their value)
// ---------------------------------------------------------------------------------------

fn resolve<'a>(s: &'a Schema, a: &'a AvroSchema) -> &'a Schema {
    match s {
        Schema::Ref { name } => a.named(&name.fullname(None)).unwrap_or(s),
        _ => s,
    }
}

/// Bytes as Avro's JSON encoding writes them: one character per byte (U+0000..U+00FF).
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|b| char::from(*b)).collect()
}

fn number(n: f64) -> Ordered {
    match serde_json::Number::from_f64(n) {
        Some(n) => Ordered::Number(n),
        None => Ordered::String(n.to_string()),
    }
}

/// An unscaled big-endian two's complement integer with `scale` decimals, as text.
fn decimal_text(bytes: &[u8], scale: usize) -> String {
    if bytes.is_empty() {
        return "0".into();
    }
    if bytes.len() > 16 {
        return format!(
            "0x{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
    }
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
    let mut buf = [fill; 16];
    buf[16 - bytes.len()..].copy_from_slice(bytes);
    let n = i128::from_be_bytes(buf);
    let digits = n.unsigned_abs().to_string();
    let sign = if n < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

fn avro_to_json(v: &Avro, s: &Schema, a: &AvroSchema, depth: usize) -> Ordered {
    let s = resolve(s, a);
    if depth > MAX_DEPTH * 4 {
        return Ordered::Null;
    }
    match v {
        Avro::Null => Ordered::Null,
        Avro::Boolean(b) => Ordered::Bool(*b),
        Avro::Int(n) | Avro::Date(n) | Avro::TimeMillis(n) => Ordered::Number((*n).into()),
        Avro::Long(n)
        | Avro::TimeMicros(n)
        | Avro::TimestampMillis(n)
        | Avro::TimestampMicros(n)
        | Avro::TimestampNanos(n)
        | Avro::LocalTimestampMillis(n)
        | Avro::LocalTimestampMicros(n)
        | Avro::LocalTimestampNanos(n) => Ordered::Number((*n).into()),
        Avro::Float(x) => number(f64::from(*x)),
        Avro::Double(x) => number(*x),
        Avro::Bytes(b) | Avro::Fixed(_, b) => Ordered::String(latin1(b)),
        Avro::String(t) => Ordered::String(t.clone()),
        Avro::Enum(_, symbol) => Ordered::String(symbol.clone()),
        Avro::Uuid(u) => Ordered::String(u.to_string()),
        Avro::BigDecimal(d) => Ordered::String(d.to_string()),
        Avro::Decimal(d) => {
            let scale = match s {
                Schema::Decimal(ds) => ds.scale,
                _ => 0,
            };
            let bytes: Vec<u8> = d.try_into().unwrap_or_default();
            Ordered::String(decimal_text(&bytes, scale))
        }
        Avro::Duration(d) => Ordered::Object(vec![
            (
                "months".into(),
                Ordered::Number(u32::from(d.months()).into()),
            ),
            ("days".into(), Ordered::Number(u32::from(d.days()).into())),
            (
                "millis".into(),
                Ordered::Number(u32::from(d.millis()).into()),
            ),
        ]),
        Avro::Union(i, inner) => {
            let branch = match s {
                Schema::Union(u) => u.variants().get(*i as usize).unwrap_or(s),
                _ => s,
            };
            avro_to_json(inner, branch, a, depth + 1)
        }
        Avro::Array(items) => {
            let item_schema = match s {
                Schema::Array(arr) => arr.items.as_ref(),
                _ => s,
            };
            Ordered::Array(
                items
                    .iter()
                    .map(|x| avro_to_json(x, item_schema, a, depth + 1))
                    .collect(),
            )
        }
        Avro::Map(entries) => {
            let value_schema = match s {
                Schema::Map(m) => m.types.as_ref(),
                _ => s,
            };
            let mut keys: Vec<&String> = entries.keys().collect();
            keys.sort();
            Ordered::Object(
                keys.into_iter()
                    .map(|k| {
                        (
                            k.clone(),
                            avro_to_json(&entries[k], value_schema, a, depth + 1),
                        )
                    })
                    .collect(),
            )
        }
        Avro::Record(fields) => {
            let record = match s {
                Schema::Record(r) => Some(r),
                _ => None,
            };
            Ordered::Object(
                fields
                    .iter()
                    .map(|(name, x)| {
                        let fs = record
                            .and_then(|r| r.fields.iter().find(|f| f.name == *name))
                            .map(|f| &f.schema)
                            .unwrap_or(&Schema::Null);
                        (name.clone(), avro_to_json(x, fs, a, depth + 1))
                    })
                    .collect(),
            )
        }
    }
}

// ---------------------------------------------------------------------------------------
// JSON → Avro (plain JSON, and Avro's JSON encoding for unions: {"type": value})
// ---------------------------------------------------------------------------------------

fn type_of(j: &Json) -> &'static str {
    match j {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn int_of(j: &Json) -> Option<i64> {
    match j {
        Json::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        _ => None,
    }
}

fn bytes_of(j: &Json, path: &str) -> Result<Vec<u8>, String> {
    let Json::String(s) = j else {
        return Err(format!(
            "{path}: expected bytes as a string, got {}",
            type_of(j)
        ));
    };
    s.chars()
        .map(|c| {
            u8::try_from(u32::from(c)).map_err(|_| {
                format!("{path}: bytes are written one character per byte (U+0000 to U+00FF); {c:?} is not")
            })
        })
        .collect()
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn date_of(j: &Json) -> Option<i64> {
    if let Some(n) = int_of(j) {
        return Some(n);
    }
    let s = j.as_str()?;
    let mut parts = s.splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| days_from_civil(y, m, d))
}

/// Decimal text (`-12.50`) as its unscaled integer at `scale` (Connect's Decimal bytes are
/// this integer's two's complement).
pub fn decimal_unscaled(text: &str, scale: usize) -> Result<i128, String> {
    unscaled(&Json::String(text.to_string()), scale, "decimal")
}

/// A decimal number (JSON number or numeric string) as its unscaled integer at `scale`.
fn unscaled(j: &Json, scale: usize, path: &str) -> Result<i128, String> {
    let text = match j {
        Json::Number(n) => n.to_string(),
        Json::String(s) => s.trim().to_string(),
        other => {
            return Err(format!(
                "{path}: expected a decimal number, got {}",
                type_of(other)
            ))
        }
    };
    let bad = || format!("{path}: {text:?} is not a decimal number with at most {scale} decimals");
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(&text)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > scale {
        return Err(bad());
    }
    let all = format!("{int}{frac:0<scale$}");
    let n: i128 = if all.is_empty() {
        0
    } else {
        all.parse().map_err(|_| bad())?
    };
    Ok(if neg { -n } else { n })
}

/// Minimal big-endian two's complement bytes of `n`, as Java's `BigInteger.toByteArray`: the
/// unscaled value of Avro's and Connect's decimals.
pub fn twos_complement(n: i128) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let mut start = 0;
    while start < 15 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    bytes[start..].to_vec()
}

/// The names a union branch goes by in Avro's JSON encoding.
pub fn branch_name(s: &Schema) -> String {
    match s {
        Schema::Record(r) => r.name.fullname(None),
        Schema::Enum(e) => e.name.fullname(None),
        Schema::Fixed(f) => f.name.fullname(None),
        Schema::Ref { name } => name.fullname(None),
        Schema::Null => "null".into(),
        Schema::Boolean => "boolean".into(),
        Schema::Int | Schema::Date | Schema::TimeMillis => "int".into(),
        Schema::Long
        | Schema::TimeMicros
        | Schema::TimestampMillis
        | Schema::TimestampMicros
        | Schema::TimestampNanos
        | Schema::LocalTimestampMillis
        | Schema::LocalTimestampMicros
        | Schema::LocalTimestampNanos => "long".into(),
        Schema::Float => "float".into(),
        Schema::Double => "double".into(),
        Schema::Bytes | Schema::BigDecimal => "bytes".into(),
        Schema::String => "string".into(),
        Schema::Array(_) => "array".into(),
        Schema::Map(_) => "map".into(),
        Schema::Union(_) => "union".into(),
        Schema::Decimal(d) => match &d.inner {
            InnerDecimalSchema::Bytes => "bytes".into(),
            InnerDecimalSchema::Fixed(f) => f.name.fullname(None),
        },
        Schema::Uuid(u) => match u {
            UuidSchema::String => "string".into(),
            UuidSchema::Bytes => "bytes".into(),
            UuidSchema::Fixed(f) => f.name.fullname(None),
        },
        Schema::Duration(f) => f.name.fullname(None),
    }
}

fn json_to_avro(
    j: &Json,
    s: &Schema,
    a: &AvroSchema,
    path: &str,
    depth: usize,
) -> Result<Avro, String> {
    if depth > MAX_DEPTH {
        return Err(format!("{path}: nested too deeply"));
    }
    let s = resolve(s, a);
    let expected = |what: &str| format!("{path}: expected {what}, got {}", type_of(j));
    Ok(match s {
        Schema::Null => match j {
            Json::Null => Avro::Null,
            _ => return Err(expected("null")),
        },
        Schema::Boolean => Avro::Boolean(j.as_bool().ok_or_else(|| expected("a boolean"))?),
        Schema::Int => {
            let n = int_of(j).ok_or_else(|| expected("a whole number"))?;
            Avro::Int(i32::try_from(n).map_err(|_| format!("{path}: {n} does not fit an int"))?)
        }
        Schema::Long => Avro::Long(int_of(j).ok_or_else(|| expected("a whole number"))?),
        Schema::Float => Avro::Float(j.as_f64().ok_or_else(|| expected("a number"))? as f32),
        Schema::Double => Avro::Double(j.as_f64().ok_or_else(|| expected("a number"))?),
        Schema::String => Avro::String(j.as_str().ok_or_else(|| expected("a string"))?.into()),
        Schema::Bytes => Avro::Bytes(bytes_of(j, path)?),
        Schema::Fixed(f) => {
            let b = bytes_of(j, path)?;
            if b.len() != f.size {
                return Err(format!(
                    "{path}: fixed {} holds {} bytes, got {}",
                    f.name.fullname(None),
                    f.size,
                    b.len()
                ));
            }
            Avro::Fixed(f.size, b)
        }
        Schema::Enum(e) => {
            let sym = j.as_str().ok_or_else(|| expected("an enum symbol"))?;
            let i = e.symbols.iter().position(|x| x == sym).ok_or_else(|| {
                format!(
                    "{path}: {sym:?} is not a symbol of {} ({})",
                    e.name.fullname(None),
                    e.symbols.join(", ")
                )
            })?;
            Avro::Enum(i as u32, sym.to_string())
        }
        Schema::Array(arr) => {
            let items = j.as_array().ok_or_else(|| expected("an array"))?;
            Avro::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| {
                        json_to_avro(x, &arr.items, a, &format!("{path}[{i}]"), depth + 1)
                    })
                    .collect::<Result<_, _>>()?,
            )
        }
        Schema::Map(m) => {
            let obj = j.as_object().ok_or_else(|| expected("an object (a map)"))?;
            Avro::Map(
                obj.iter()
                    .map(|(k, x)| {
                        json_to_avro(x, &m.types, a, &format!("{path}.{k}"), depth + 1)
                            .map(|v| (k.clone(), v))
                    })
                    .collect::<Result<_, _>>()?,
            )
        }
        Schema::Record(r) => record_to_avro(j, r, a, path, depth)?,
        Schema::Union(u) => union_to_avro(j, u.variants(), a, path, depth)?,
        Schema::Date => Avro::Date(
            date_of(j)
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| expected("a date (days since 1970-01-01, or YYYY-MM-DD)"))?,
        ),
        Schema::TimeMillis => Avro::TimeMillis(
            int_of(j)
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| expected("milliseconds after midnight"))?,
        ),
        Schema::TimeMicros => {
            Avro::TimeMicros(int_of(j).ok_or_else(|| expected("a whole number"))?)
        }
        Schema::TimestampMillis => {
            Avro::TimestampMillis(int_of(j).ok_or_else(|| expected("epoch milliseconds"))?)
        }
        Schema::TimestampMicros => {
            Avro::TimestampMicros(int_of(j).ok_or_else(|| expected("epoch microseconds"))?)
        }
        Schema::TimestampNanos => {
            Avro::TimestampNanos(int_of(j).ok_or_else(|| expected("epoch nanoseconds"))?)
        }
        Schema::LocalTimestampMillis => {
            Avro::LocalTimestampMillis(int_of(j).ok_or_else(|| expected("a whole number"))?)
        }
        Schema::LocalTimestampMicros => {
            Avro::LocalTimestampMicros(int_of(j).ok_or_else(|| expected("a whole number"))?)
        }
        Schema::LocalTimestampNanos => {
            Avro::LocalTimestampNanos(int_of(j).ok_or_else(|| expected("a whole number"))?)
        }
        Schema::Decimal(d) => {
            let n = unscaled(j, d.scale, path)?;
            let bytes = twos_complement(n);
            if let InnerDecimalSchema::Fixed(f) = &d.inner {
                if bytes.len() > f.size {
                    return Err(format!("{path}: the number does not fit {} bytes", f.size));
                }
            }
            Avro::Decimal(apache_avro::Decimal::from(bytes))
        }
        Schema::BigDecimal => {
            let text = match j {
                Json::Number(n) => n.to_string(),
                Json::String(s) => s.clone(),
                _ => return Err(expected("a decimal number")),
            };
            Avro::BigDecimal(
                text.parse()
                    .map_err(|_| format!("{path}: {text:?} is not a decimal number"))?,
            )
        }
        Schema::Uuid(_) => {
            let t = j.as_str().ok_or_else(|| expected("a UUID string"))?;
            Avro::Uuid(
                apache_avro::Uuid::parse_str(t)
                    .map_err(|e| format!("{path}: {t:?} is not a UUID: {e}"))?,
            )
        }
        Schema::Duration(_) => {
            let obj = j
                .as_object()
                .ok_or_else(|| expected("{\"months\", \"days\", \"millis\"}"))?;
            let part = |k: &str| {
                obj.get(k)
                    .and_then(int_of)
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0)
            };
            Avro::Duration(apache_avro::Duration::new(
                apache_avro::Months::new(part("months")),
                apache_avro::Days::new(part("days")),
                apache_avro::Millis::new(part("millis")),
            ))
        }
        Schema::Ref { name } => {
            return Err(format!(
                "{path}: the type {} is not defined",
                name.fullname(None)
            ))
        }
    })
}

fn record_to_avro(
    j: &Json,
    r: &RecordSchema,
    a: &AvroSchema,
    path: &str,
    depth: usize,
) -> Result<Avro, String> {
    let name = r.name.fullname(None);
    let Json::Object(obj) = j else {
        return Err(format!(
            "{path}: expected a {name} record (an object), got {}",
            type_of(j)
        ));
    };
    if let Some(unknown) = obj.keys().find(|k| !r.fields.iter().any(|f| f.name == **k)) {
        return Err(format!("{path}: {name} has no field {unknown:?}"));
    }
    let mut out = Vec::with_capacity(r.fields.len());
    for f in &r.fields {
        let at = format!("{path}.{}", f.name);
        let value = match (obj.get(&f.name), &f.default) {
            (Some(v), _) => json_to_avro(v, &f.schema, a, &at, depth + 1)?,
            // A default is written in the schema's JSON encoding (a union's: its first branch).
            (None, Some(d)) => match resolve(&f.schema, a) {
                Schema::Union(u) => {
                    let first = u
                        .variants()
                        .first()
                        .ok_or_else(|| format!("{at}: empty union"))?;
                    Avro::Union(0, Box::new(json_to_avro(d, first, a, &at, depth + 1)?))
                }
                other => json_to_avro(d, other, a, &at, depth + 1)?,
            },
            (None, None) => match resolve(&f.schema, a) {
                Schema::Union(u) if u.is_nullable() => {
                    let i = u
                        .variants()
                        .iter()
                        .position(|v| matches!(v, Schema::Null))
                        .unwrap_or(0);
                    Avro::Union(i as u32, Box::new(Avro::Null))
                }
                _ => return Err(format!("{at}: missing (the field has no default)")),
            },
        };
        out.push((f.name.clone(), value));
    }
    Ok(Avro::Record(out))
}

fn union_to_avro(
    j: &Json,
    variants: &[Schema],
    a: &AvroSchema,
    path: &str,
    depth: usize,
) -> Result<Avro, String> {
    let wrap = |i: usize, v: Avro| Avro::Union(i as u32, Box::new(v));
    if j.is_null() {
        return variants
            .iter()
            .position(|v| matches!(v, Schema::Null))
            .map(|i| wrap(i, Avro::Null))
            .ok_or_else(|| format!("{path}: null is not allowed here"));
    }
    // Avro's JSON encoding: {"branch type": value}.
    if let Json::Object(obj) = j {
        if obj.len() == 1 {
            let (tag, inner) = obj
                .iter()
                .next()
                .map(|(k, v)| (k.as_str(), v))
                .unwrap_or_default();
            let tagged = variants.iter().position(|v| {
                let name = branch_name(v);
                name == tag || name.rsplit('.').next() == Some(tag)
            });
            if let Some(i) = tagged {
                if let Ok(v) = json_to_avro(inner, &variants[i], a, path, depth + 1) {
                    return Ok(wrap(i, v));
                }
            }
        }
    }
    // Plain JSON: the first branch it fits, exact kinds before promotions.
    let exact = |v: &Schema| {
        matches!(
            (resolve(v, a), j),
            (
                Schema::String | Schema::Enum(_) | Schema::Uuid(_),
                Json::String(_)
            ) | (Schema::Boolean, Json::Bool(_))
                | (Schema::Array(_), Json::Array(_))
                | (Schema::Record(_) | Schema::Map(_), Json::Object(_))
        ) || matches!((resolve(v, a), j), (Schema::Int | Schema::Long, Json::Number(n)) if n.is_i64() || n.is_u64())
            || matches!((resolve(v, a), j), (Schema::Float | Schema::Double, Json::Number(n)) if n.is_f64())
    };
    let order = variants
        .iter()
        .enumerate()
        .filter(|(_, v)| exact(v))
        .chain(variants.iter().enumerate().filter(|(_, v)| !exact(v)));
    let mut first_error = None;
    for (i, v) in order {
        if matches!(v, Schema::Null) {
            continue;
        }
        match json_to_avro(j, v, a, path, depth + 1) {
            Ok(value) => return Ok(wrap(i, value)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let names: Vec<String> = variants.iter().map(branch_name).collect();
    Err(format!(
        "{path}: fits no branch of the union [{}]{}",
        names.join(", "),
        first_error.map(|e| format!(" ({e})")).unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn avro(text: &str) -> WireSchema {
        WireSchema::new(7, SchemaType::Avro, text, &[], vec![]).unwrap()
    }

    const ORDER: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[
        {"name":"id","type":"long"},
        {"name":"product","type":"string"},
        {"name":"note","type":["null","string"],"default":null},
        {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
        {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID"]},"default":"NEW"},
        {"name":"tags","type":{"type":"array","items":"string"},"default":[]},
        {"name":"day","type":{"type":"int","logicalType":"date"}},
        {"name":"ref","type":["null","long","string"],"default":null}
    ]}"#;

    #[test]
    fn avro_round_trips_plain_and_tagged_json() {
        let s = avro(ORDER);
        let bytes = s
            .encode(r#"{"id": 5, "product": "pen", "note": {"string": "gift"}, "price": "12.30", "day": "1970-01-02", "ref": "x-1"}"#)
            .unwrap();
        let (id, data) = split_wire(&bytes).unwrap();
        assert_eq!(id, 7);
        let json: Json = serde_json::from_str(&s.decode(data).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": 5, "product": "pen", "note": "gift", "price": "12.30",
                "status": "NEW", "tags": [], "day": 1, "ref": "x-1"})
        );
        // What is shown can be produced again, unchanged.
        let again = s.encode(&json.to_string()).unwrap();
        assert_eq!(again, bytes);
        // Field order of the schema is kept in the text.
        assert!(s
            .decode(data)
            .unwrap()
            .starts_with(r#"{"id":5,"product":"pen""#));
    }

    #[test]
    fn avro_misfits_name_the_field() {
        let s = avro(ORDER);
        let err = s
            .encode(r#"{"id": "five", "product": "pen", "price": 1, "day": 0}"#)
            .unwrap_err();
        assert!(
            err.contains("$.id") && err.contains("whole number"),
            "{err}"
        );
        let err = s
            .encode(r#"{"id": 1, "product": "pen", "price": 1, "day": 0, "colour": "red"}"#)
            .unwrap_err();
        assert!(err.contains("colour"), "{err}");
        let err = s.encode(r#"{"id": 1, "price": 1, "day": 0}"#).unwrap_err();
        assert!(
            err.contains("$.product") && err.contains("missing"),
            "{err}"
        );
        let err = s
            .encode(r#"{"id": 1, "product": "p", "price": 1.234, "day": 0}"#)
            .unwrap_err();
        assert!(err.contains("$.price"), "{err}");
        let err = s
            .encode(r#"{"id": 1, "product": "p", "price": 1, "day": 0, "status": "LOST"}"#)
            .unwrap_err();
        assert!(err.contains("LOST"), "{err}");
        assert!(s.encode("not json").is_err());
        // A string schema takes a bare text, or JSON.
        let text = avro(r#""string""#);
        assert_eq!(text.encode("o-7").unwrap(), text.encode("\"o-7\"").unwrap());
    }

    #[test]
    fn corrupt_avro_data_is_an_error_not_a_panic() {
        let s = avro(ORDER);
        for bad in [
            &[][..],
            &[0xff; 3],
            &[2, 0xff, 0xff, 0xff, 0xff, 0x0f],
            &[0x80; 20],
        ] {
            assert!(s.decode(bad).is_err());
        }
    }

    #[test]
    fn decimals_render_with_their_scale() {
        assert_eq!(decimal_text(&twos_complement(1230), 2), "12.30");
        assert_eq!(decimal_text(&twos_complement(-5), 2), "-0.05");
        assert_eq!(decimal_text(&twos_complement(-128), 0), "-128");
        assert_eq!(decimal_text(&twos_complement(128), 0), "128");
        assert_eq!(unscaled(&Json::from(3), 2, "$").unwrap(), 300);
        assert_eq!(unscaled(&Json::from("-0.5"), 1, "$").unwrap(), -5);
        assert!(unscaled(&Json::from("1e5"), 2, "$").is_err());
    }

    #[test]
    fn dates_count_days_from_the_epoch() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }

    const PROTO: &str = r#"syntax = "proto3";
package shop;
message Order {
  int64 id = 1;
  string product = 2;
  repeated string tags = 3;
  oneof payment { string card = 4; string voucher = 5; }
  optional string note = 6;
  message Line { string sku = 1; int32 qty = 2; }
  repeated Line lines = 7;
}
message Other { string x = 1; }"#;

    #[test]
    fn protobuf_round_trips_and_takes_form_oneofs() {
        let s = WireSchema::new(3, SchemaType::Protobuf, PROTO, &[], vec![]).unwrap();
        let bytes = s
            .encode(r#"{"id": 9, "product": "pen", "tags": ["a"], "payment": {"voucher": "V1"}, "lines": [{"sku": "s", "qty": 2}]}"#)
            .unwrap();
        assert_eq!(&bytes[..6], &[0, 0, 0, 0, 3, 0]);
        let (_, data) = split_wire(&bytes).unwrap();
        let json: Json = serde_json::from_str(&s.decode(data).unwrap()).unwrap();
        assert_eq!(json["id"], 9);
        assert_eq!(json["voucher"], "V1");
        assert_eq!(json["lines"][0]["qty"], 2);
        assert!(s.encode(r#"{"nope": 1}"#).is_err());
        // A message index path pointing elsewhere: [1] is `Other`.
        let mut other = vec![2u8, 2];
        other.extend(
            DynamicMessage::decode(
                message_at(
                    match &s.parsed {
                        ParsedSchema::Protobuf(p) => p.file(),
                        _ => unreachable!(),
                    },
                    &[1],
                )
                .unwrap(),
                &[][..],
            )
            .unwrap()
            .encode_to_vec(),
        );
        assert_eq!(s.decode(&other).unwrap(), r#"{"x":""}"#);
        assert!(s.decode(&[2, 20]).is_err());
        assert!(s.decode(&[0x81]).is_err());
    }

    #[test]
    fn message_indexes_follow_confluent() {
        let mut b: &[u8] = &[0, 1];
        assert_eq!(read_message_indexes(&mut b).unwrap(), vec![0]);
        assert_eq!(b, &[1]);
        let mut b: &[u8] = &[4, 2, 6];
        assert_eq!(read_message_indexes(&mut b).unwrap(), vec![1, 3]);
        let mut b: &[u8] = &[3];
        assert!(read_message_indexes(&mut b).is_err());
    }

    #[test]
    fn json_schema_validates_before_sending() {
        let schema = r#"{"type":"object","properties":{"b":{"type":"integer"},"a":{"type":"string"}},"required":["b"]}"#;
        let s = WireSchema::new(4, SchemaType::Json, schema, &[], vec![]).unwrap();
        let bytes = s.encode(r#"{"b": 1, "a": "x"}"#).unwrap();
        assert_eq!(&bytes[5..], br#"{"b":1,"a":"x"}"#);
        assert_eq!(s.decode(&bytes[5..]).unwrap(), r#"{"b":1,"a":"x"}"#);
        let err = s.encode(r#"{"a": 1}"#).unwrap_err();
        assert!(err.contains("does not fit"), "{err}");
        assert!(s.decode(b"{oops").is_err());
    }

    #[test]
    fn subjects_prefer_the_topics_own() {
        let mut s = avro(r#""string""#);
        s.subjects = vec![
            ("other".into(), 1),
            ("t-value".into(), 2),
            ("t-key".into(), 1),
        ];
        assert_eq!(s.subject_for("t", false), Some(("t-value".into(), 2)));
        assert_eq!(s.subject_for("t", true), Some(("t-key".into(), 1)));
        assert_eq!(s.subject_for("u", true), Some(("other".into(), 1)));
    }
}
