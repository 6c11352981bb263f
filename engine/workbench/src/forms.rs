//! Produce forms generated from registered schemas: an Avro schema, a JSON Schema or a
//! `.proto` file's first message as a tree of [`FormField`]s, whose filled-in value is the
//! JSON that the registry-aware produce (`codec`) serializes. Owns the mapping of each
//! schema language's types to form kinds; no I/O, and never validates data.

use apache_avro::schema::{InnerDecimalSchema, UuidSchema};
use apache_avro::Schema;
use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use sluice_api::{FormField, FormKind};
use sluice_registry::formats::avro::AvroSchema;
use sluice_registry::formats::json::Ordered;
use sluice_registry::formats::ParsedSchema;

/// Deepest nesting a form expands (recursive types become raw JSON where they repeat).
const MAX_DEPTH: usize = 32;

/// The form of a schema: its root field. `text` is the schema as registered (JSON Schema
/// forms keep the order properties were written in).
pub fn form_root(parsed: &ParsedSchema, text: &str) -> Result<FormField, String> {
    match parsed {
        ParsedSchema::Avro(a) => {
            let mut seen = Vec::new();
            let doc = match resolve(a.schema(), a) {
                Schema::Record(r) => r.doc.clone(),
                Schema::Enum(e) => e.doc.clone(),
                _ => None,
            };
            Ok(avro_field("", doc, a.schema(), None, a, &mut seen, 0))
        }
        ParsedSchema::Json(_) => {
            let root: Ordered =
                serde_json::from_str(text).map_err(|e| format!("schema text: {e}"))?;
            let mut refs = Vec::new();
            let mut field = json_field("", &root, &root, &mut refs, 0);
            field.optional = false;
            Ok(field)
        }
        ParsedSchema::Protobuf(p) => {
            let desc = p
                .file()
                .messages()
                .next()
                .ok_or_else(|| "the schema declares no message".to_string())?;
            let mut seen = Vec::new();
            Ok(field(
                "",
                None,
                proto_message(&desc, &mut seen, 0),
                false,
                None,
                false,
            ))
        }
    }
}

fn field(
    name: &str,
    doc: Option<String>,
    kind: FormKind,
    nullable: bool,
    default: Option<String>,
    optional: bool,
) -> FormField {
    FormField {
        name: name.to_string(),
        doc,
        kind,
        nullable,
        default,
        optional,
    }
}

fn logical(name: &str, base: FormKind) -> FormKind {
    FormKind::Logical {
        logical: name.to_string(),
        base: Box::new(base),
    }
}

// ---------------------------------------------------------------------------------------
// Avro
// ---------------------------------------------------------------------------------------

fn resolve<'a>(s: &'a Schema, a: &'a AvroSchema) -> &'a Schema {
    match s {
        Schema::Ref { name } => a.named(&name.fullname(None)).unwrap_or(s),
        _ => s,
    }
}

fn avro_field(
    name: &str,
    doc: Option<String>,
    s: &Schema,
    default: Option<&serde_json::Value>,
    a: &AvroSchema,
    seen: &mut Vec<String>,
    depth: usize,
) -> FormField {
    let (kind, nullable) = avro_kind(s, a, seen, depth);
    field(
        name,
        doc,
        kind,
        nullable,
        default.map(|d| d.to_string()),
        default.is_some(),
    )
}

/// The kind of an Avro type, and whether it admits null.
fn avro_kind(s: &Schema, a: &AvroSchema, seen: &mut Vec<String>, depth: usize) -> (FormKind, bool) {
    if depth > MAX_DEPTH {
        return (FormKind::Json, false);
    }
    let s = resolve(s, a);
    let kind = match s {
        Schema::Null => return (FormKind::Json, true),
        Schema::Boolean => FormKind::Boolean,
        Schema::Int => FormKind::Int,
        Schema::Long => FormKind::Long,
        Schema::Float => FormKind::Float,
        Schema::Double => FormKind::Double,
        Schema::Bytes | Schema::Fixed(_) => FormKind::Bytes,
        Schema::String => FormKind::String,
        Schema::Enum(e) => FormKind::Enum {
            type_name: Some(e.name.fullname(None)),
            symbols: e.symbols.clone(),
        },
        Schema::Array(arr) => FormKind::Array {
            items: Box::new(avro_field("", None, &arr.items, None, a, seen, depth + 1)),
        },
        Schema::Map(m) => FormKind::Map {
            values: Box::new(avro_field("", None, &m.types, None, a, seen, depth + 1)),
        },
        Schema::Union(u) => {
            let nullable = u.variants().iter().any(|v| matches!(v, Schema::Null));
            let others: Vec<&Schema> = u
                .variants()
                .iter()
                .filter(|v| !matches!(v, Schema::Null))
                .collect();
            let kind = match others.as_slice() {
                [] => FormKind::Json,
                [one] => avro_kind(one, a, seen, depth + 1).0,
                many => FormKind::Union {
                    branches: many
                        .iter()
                        .map(|v| {
                            let (kind, _) = avro_kind(v, a, seen, depth + 1);
                            let doc = match resolve(v, a) {
                                Schema::Record(r) => r.doc.clone(),
                                _ => None,
                            };
                            field(&crate::codec::branch_name(v), doc, kind, false, None, false)
                        })
                        .collect(),
                },
            };
            return (kind, nullable);
        }
        Schema::Record(r) => {
            let full = r.name.fullname(None);
            if seen.contains(&full) {
                // A recursive type: its inner occurrences are entered as JSON.
                return (FormKind::Json, false);
            }
            seen.push(full.clone());
            let fields = r
                .fields
                .iter()
                .map(|f| {
                    avro_field(
                        &f.name,
                        f.doc.clone(),
                        &f.schema,
                        f.default.as_ref(),
                        a,
                        seen,
                        depth + 1,
                    )
                })
                .collect();
            seen.pop();
            FormKind::Record {
                type_name: Some(full),
                fields,
            }
        }
        Schema::Decimal(d) => logical(
            "decimal",
            match d.inner {
                InnerDecimalSchema::Bytes | InnerDecimalSchema::Fixed(_) => FormKind::Bytes,
            },
        ),
        Schema::BigDecimal => logical("big-decimal", FormKind::Bytes),
        Schema::Uuid(u) => logical(
            "uuid",
            match u {
                UuidSchema::String => FormKind::String,
                UuidSchema::Bytes | UuidSchema::Fixed(_) => FormKind::Bytes,
            },
        ),
        Schema::Date => logical("date", FormKind::Int),
        Schema::TimeMillis => logical("time-millis", FormKind::Int),
        Schema::TimeMicros => logical("time-micros", FormKind::Long),
        Schema::TimestampMillis => logical("timestamp-millis", FormKind::Long),
        Schema::TimestampMicros => logical("timestamp-micros", FormKind::Long),
        Schema::TimestampNanos => logical("timestamp-nanos", FormKind::Long),
        Schema::LocalTimestampMillis => logical("local-timestamp-millis", FormKind::Long),
        Schema::LocalTimestampMicros => logical("local-timestamp-micros", FormKind::Long),
        Schema::LocalTimestampNanos => logical("local-timestamp-nanos", FormKind::Long),
        // {"months", "days", "millis"}
        Schema::Duration(_) => logical("duration", FormKind::Json),
        Schema::Ref { .. } => FormKind::Json,
    };
    (kind, false)
}

// ---------------------------------------------------------------------------------------
// JSON Schema
// ---------------------------------------------------------------------------------------

fn get<'a>(o: &'a Ordered, key: &str) -> Option<&'a Ordered> {
    match o {
        Ordered::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

fn text_of(o: &Ordered) -> Option<String> {
    match o {
        Ordered::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn json_text(o: &Ordered) -> Option<String> {
    serde_json::to_string(o).ok()
}

/// A `#/...` pointer within the document.
fn pointer<'a>(root: &'a Ordered, reference: &str) -> Option<&'a Ordered> {
    let path = reference.strip_prefix('#')?;
    let mut at = root;
    for raw in path.split('/').skip(1) {
        let key = raw
            .replace("%25", "%")
            .replace("~1", "/")
            .replace("~0", "~");
        at = match at {
            Ordered::Object(_) => get(at, &key)?,
            Ordered::Array(items) => items.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(at)
}

fn json_field(
    name: &str,
    node: &Ordered,
    root: &Ordered,
    refs: &mut Vec<String>,
    depth: usize,
) -> FormField {
    let doc = get(node, "description").and_then(text_of);
    let default = get(node, "default").and_then(json_text);
    if depth > MAX_DEPTH {
        return field(name, doc, FormKind::Json, false, default, false);
    }
    // A reference within the document: the target's form, this node's doc and default.
    if let Some(reference) = get(node, "$ref").and_then(text_of) {
        if refs.contains(&reference) {
            return field(name, doc, FormKind::Json, false, default, false);
        }
        let Some(target) = pointer(root, &reference) else {
            return field(name, doc, FormKind::Json, false, default, false);
        };
        refs.push(reference);
        let mut f = json_field(name, target, root, refs, depth + 1);
        refs.pop();
        f.doc = doc.or(f.doc);
        f.default = default.or(f.default);
        return f;
    }
    let (kind, nullable) = json_kind(node, root, refs, depth);
    field(name, doc, kind, nullable, default, false)
}

fn json_types(node: &Ordered) -> Vec<String> {
    match get(node, "type") {
        Some(Ordered::String(t)) => vec![t.clone()],
        Some(Ordered::Array(ts)) => ts.iter().filter_map(text_of).collect(),
        _ => Vec::new(),
    }
}

fn json_kind(
    node: &Ordered,
    root: &Ordered,
    refs: &mut Vec<String>,
    depth: usize,
) -> (FormKind, bool) {
    let title = get(node, "title").and_then(text_of);
    if let Some(Ordered::Array(values)) = get(node, "enum") {
        let nullable = values.iter().any(|v| matches!(v, Ordered::Null));
        let symbols: Option<Vec<String>> = values
            .iter()
            .filter(|v| !matches!(v, Ordered::Null))
            .map(text_of)
            .collect();
        return match symbols {
            Some(symbols) => (
                FormKind::Enum {
                    type_name: title,
                    symbols,
                },
                nullable,
            ),
            None => (FormKind::Json, nullable),
        };
    }
    for combinator in ["oneOf", "anyOf"] {
        if let Some(Ordered::Array(options)) = get(node, combinator) {
            let is_null = |o: &Ordered| json_types(o) == ["null"];
            let nullable = options.iter().any(is_null);
            let branches: Vec<FormField> = options
                .iter()
                .filter(|o| !is_null(o))
                .map(|o| {
                    let name = get(o, "title").and_then(text_of).unwrap_or_default();
                    json_field(&name, o, root, refs, depth + 1)
                })
                .collect();
            return match branches.len() {
                0 => (FormKind::Json, nullable),
                1 => {
                    let only = branches.into_iter().next().map(|b| b.kind);
                    (only.unwrap_or(FormKind::Json), nullable)
                }
                _ => (FormKind::Union { branches }, nullable),
            };
        }
    }
    if let Some(Ordered::Array(all)) = get(node, "allOf") {
        if let [one] = all.as_slice() {
            let f = json_field("", one, root, refs, depth + 1);
            return (f.kind, f.nullable);
        }
        return (FormKind::Json, false);
    }
    let mut types = json_types(node);
    let nullable = types.iter().any(|t| t == "null");
    types.retain(|t| t != "null");
    if types.is_empty() {
        if get(node, "properties").is_some() {
            types.push("object".into());
        } else if get(node, "items").is_some() {
            types.push("array".into());
        }
    }
    let kind = match types.as_slice() {
        [] => FormKind::Json,
        [one] => json_type_kind(one, node, title, root, refs, depth),
        many => FormKind::Union {
            branches: many
                .iter()
                .map(|t| {
                    let kind = json_type_kind(t, node, None, root, refs, depth);
                    field(t, None, kind, false, None, false)
                })
                .collect(),
        },
    };
    (kind, nullable)
}

fn json_type_kind(
    t: &str,
    node: &Ordered,
    title: Option<String>,
    root: &Ordered,
    refs: &mut Vec<String>,
    depth: usize,
) -> FormKind {
    match t {
        "string" => match get(node, "format").and_then(text_of) {
            Some(format) => logical(&format, FormKind::String),
            None => FormKind::String,
        },
        "integer" => FormKind::Long,
        "number" => FormKind::Double,
        "boolean" => FormKind::Boolean,
        "array" => match get(node, "items") {
            Some(items @ Ordered::Object(_)) => FormKind::Array {
                items: Box::new(json_field("", items, root, refs, depth + 1)),
            },
            _ => FormKind::Json,
        },
        "object" => match get(node, "properties") {
            Some(Ordered::Object(props)) => {
                let required: Vec<String> = match get(node, "required") {
                    Some(Ordered::Array(r)) => r.iter().filter_map(text_of).collect(),
                    _ => Vec::new(),
                };
                FormKind::Record {
                    type_name: title,
                    fields: props
                        .iter()
                        .map(|(name, p)| {
                            let mut f = json_field(name, p, root, refs, depth + 1);
                            f.optional = !required.contains(name);
                            f
                        })
                        .collect(),
                }
            }
            _ => match get(node, "additionalProperties") {
                Some(values @ Ordered::Object(_)) => FormKind::Map {
                    values: Box::new(json_field("", values, root, refs, depth + 1)),
                },
                _ => FormKind::Json,
            },
        },
        _ => FormKind::Json,
    }
}

// ---------------------------------------------------------------------------------------
// Protobuf
// ---------------------------------------------------------------------------------------

fn proto_message(desc: &MessageDescriptor, seen: &mut Vec<String>, depth: usize) -> FormKind {
    let full = desc.full_name().to_string();
    if depth > MAX_DEPTH || seen.contains(&full) {
        return FormKind::Json;
    }
    seen.push(full.clone());
    let mut fields = Vec::new();
    let mut oneofs_done: Vec<String> = Vec::new();
    for f in desc.fields() {
        match f.containing_oneof().filter(|o| !o.is_synthetic()) {
            Some(oneof) => {
                if oneofs_done.iter().any(|n| n == oneof.name()) {
                    continue;
                }
                oneofs_done.push(oneof.name().to_string());
                let branches = oneof
                    .fields()
                    .map(|member| {
                        let inner = proto_field(&member, seen, depth + 1);
                        field(
                            member.name(),
                            None,
                            FormKind::Record {
                                type_name: None,
                                fields: vec![inner],
                            },
                            false,
                            None,
                            false,
                        )
                    })
                    .collect();
                fields.push(field(
                    oneof.name(),
                    None,
                    FormKind::Union { branches },
                    true,
                    None,
                    true,
                ));
            }
            None => fields.push(proto_field(&f, seen, depth + 1)),
        }
    }
    seen.pop();
    FormKind::Record {
        type_name: Some(full),
        fields,
    }
}

fn proto_field(f: &FieldDescriptor, seen: &mut Vec<String>, depth: usize) -> FormField {
    let default = f
        .field_descriptor_proto()
        .default_value
        .as_ref()
        .map(|d| match f.kind() {
            Kind::String | Kind::Bytes | Kind::Enum(_) => {
                serde_json::Value::from(d.as_str()).to_string()
            }
            _ => d.clone(),
        });
    if f.is_map() {
        let values = match f.kind() {
            Kind::Message(entry) => {
                let v = entry.map_entry_value_field();
                let (kind, nullable) = proto_kind(&v.kind(), seen, depth);
                field("", None, kind, nullable, None, false)
            }
            _ => field("", None, FormKind::Json, false, None, false),
        };
        return field(
            f.name(),
            None,
            FormKind::Map {
                values: Box::new(values),
            },
            false,
            None,
            true,
        );
    }
    let (kind, wrapper_nullable) = proto_kind(&f.kind(), seen, depth);
    if f.is_list() {
        return field(
            f.name(),
            None,
            FormKind::Array {
                items: Box::new(field("", None, kind, false, None, false)),
            },
            false,
            None,
            true,
        );
    }
    // Presence: proto3 `optional`, proto2 optional, and any message field may be unset.
    let nullable = wrapper_nullable || f.supports_presence();
    field(f.name(), None, kind, nullable, default, !f.is_required())
}

/// A field type's kind, and whether it is a wrapper type (null allowed).
fn proto_kind(kind: &Kind, seen: &mut Vec<String>, depth: usize) -> (FormKind, bool) {
    let k = match kind {
        Kind::Double => FormKind::Double,
        Kind::Float => FormKind::Float,
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => FormKind::Int,
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 | Kind::Uint64 | Kind::Fixed64 => {
            FormKind::Long
        }
        Kind::Uint32 | Kind::Fixed32 => FormKind::Long,
        Kind::Bool => FormKind::Boolean,
        Kind::String => FormKind::String,
        // Protobuf's JSON writes bytes as base64.
        Kind::Bytes => logical("base64", FormKind::Bytes),
        Kind::Enum(e) => FormKind::Enum {
            type_name: Some(e.full_name().to_string()),
            symbols: e.values().map(|v| v.name().to_string()).collect(),
        },
        Kind::Message(m) => match m.full_name() {
            "google.protobuf.Timestamp" => logical("timestamp", FormKind::String),
            "google.protobuf.Duration" => logical("duration", FormKind::String),
            "google.protobuf.StringValue" => return (FormKind::String, true),
            "google.protobuf.BytesValue" => return (logical("base64", FormKind::Bytes), true),
            "google.protobuf.BoolValue" => return (FormKind::Boolean, true),
            "google.protobuf.Int32Value" => return (FormKind::Int, true),
            "google.protobuf.Int64Value"
            | "google.protobuf.UInt32Value"
            | "google.protobuf.UInt64Value" => return (FormKind::Long, true),
            "google.protobuf.FloatValue" => return (FormKind::Float, true),
            "google.protobuf.DoubleValue" => return (FormKind::Double, true),
            "google.protobuf.Struct"
            | "google.protobuf.Value"
            | "google.protobuf.ListValue"
            | "google.protobuf.Any"
            | "google.protobuf.FieldMask"
            | "google.protobuf.Empty" => FormKind::Json,
            _ => proto_message(m, seen, depth + 1),
        },
    };
    (k, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_registry::model::SchemaType;

    fn form(t: SchemaType, text: &str) -> FormField {
        let parsed = ParsedSchema::parse(t, text, &[]).unwrap();
        form_root(&parsed, text).unwrap()
    }

    fn fields(f: &FormField) -> &[FormField] {
        match &f.kind {
            FormKind::Record { fields, .. } => fields,
            other => panic!("not a record: {other:?}"),
        }
    }

    #[test]
    fn avro_records_unions_and_logical_types() {
        let f = form(
            SchemaType::Avro,
            r#"{"type":"record","name":"Order","namespace":"shop","doc":"An order","fields":[
                {"name":"id","type":"long","doc":"the id"},
                {"name":"note","type":["null","string"],"default":null},
                {"name":"pay","type":["string",{"type":"record","name":"Card","fields":[{"name":"n","type":"string"}]}]},
                {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
                {"name":"lines","type":{"type":"array","items":{"type":"record","name":"Line","fields":[{"name":"next","type":["null","Line"]}]}}},
                {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"]},"default":"A"}
            ]}"#,
        );
        assert_eq!(f.doc.as_deref(), Some("An order"));
        let fs = fields(&f);
        assert_eq!(fs[0].kind, FormKind::Long);
        assert_eq!(fs[0].doc.as_deref(), Some("the id"));
        assert!(fs[1].nullable && fs[1].optional && fs[1].default.as_deref() == Some("null"));
        assert_eq!(fs[1].kind, FormKind::String);
        let FormKind::Union { branches } = &fs[2].kind else {
            panic!("{:?}", fs[2])
        };
        assert_eq!(branches[0].name, "string");
        assert_eq!(branches[1].name, "shop.Card");
        assert!(
            matches!(&fs[3].kind, FormKind::Logical { logical, .. } if logical == "timestamp-millis")
        );
        // A recursive record stops expanding where it repeats.
        let FormKind::Array { items } = &fs[4].kind else {
            panic!()
        };
        assert_eq!(fields(items)[0].kind, FormKind::Json);
        assert!(matches!(&fs[5].kind, FormKind::Enum { symbols, .. } if symbols == &["A", "B"]));
        assert_eq!(fs[5].default.as_deref(), Some("\"A\""));
    }

    #[test]
    fn json_schema_properties_in_order_with_refs() {
        let f = form(
            SchemaType::Json,
            r##"{"title":"Order","type":"object","required":["z","a"],
                "properties":{
                    "z":{"type":"integer","description":"first"},
                    "a":{"$ref":"#/definitions/Item"},
                    "m":{"type":["string","null"],"format":"date"},
                    "tags":{"type":"array","items":{"type":"string","enum":["x","y"]}},
                    "attrs":{"type":"object","additionalProperties":{"type":"number"}}
                },
                "definitions":{"Item":{"type":"object","properties":{"sku":{"type":"string"}}}}}"##,
        );
        let fs = fields(&f);
        let names: Vec<&str> = fs.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["z", "a", "m", "tags", "attrs"]);
        assert!(
            !fs[0].optional
                && fs[0].kind == FormKind::Long
                && fs[0].doc.as_deref() == Some("first")
        );
        assert!(!fs[1].optional && fields(&fs[1])[0].name == "sku");
        assert!(fs[2].nullable && fs[2].optional);
        assert!(matches!(&fs[2].kind, FormKind::Logical { logical, .. } if logical == "date"));
        assert!(
            matches!(&fs[3].kind, FormKind::Array { items } if matches!(items.kind, FormKind::Enum { .. }))
        );
        assert!(matches!(&fs[4].kind, FormKind::Map { values } if values.kind == FormKind::Double));
    }

    #[test]
    fn protobuf_messages_oneofs_and_well_known_types() {
        let f = form(
            SchemaType::Protobuf,
            r#"syntax = "proto3";
import "google/protobuf/timestamp.proto";
message Order {
  int64 id = 1;
  optional string note = 2;
  repeated string tags = 3;
  map<string, int32> counts = 4;
  oneof pay { string card = 5; string voucher = 6; }
  google.protobuf.Timestamp at = 7;
  enum Kind { A = 0; B = 1; }
  Kind kind = 8;
  Order parent = 9;
}"#,
        );
        assert!(matches!(&f.kind, FormKind::Record { type_name: Some(t), .. } if t == "Order"));
        let fs = fields(&f);
        let names: Vec<&str> = fs.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["id", "note", "tags", "counts", "pay", "at", "kind", "parent"]
        );
        assert!(!fs[0].nullable && fs[1].nullable);
        assert!(matches!(&fs[2].kind, FormKind::Array { .. }));
        assert!(matches!(&fs[3].kind, FormKind::Map { values } if values.kind == FormKind::Int));
        let FormKind::Union { branches } = &fs[4].kind else {
            panic!()
        };
        assert_eq!(branches.len(), 2);
        assert_eq!(fields(&branches[1])[0].name, "voucher");
        assert!(matches!(&fs[5].kind, FormKind::Logical { logical, .. } if logical == "timestamp"));
        assert!(matches!(&fs[6].kind, FormKind::Enum { symbols, .. } if symbols == &["A", "B"]));
        assert_eq!(fs[7].kind, FormKind::Json);
    }
}
