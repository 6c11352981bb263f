//! Schema formats: parsing (with references), the canonical text that decides whether two
//! schemas are the same, and the pairwise "can a reader of this schema read data written
//! with that one" check that compatibility levels are built from. No I/O.

pub mod avro;
pub mod json;
pub mod protobuf;

use crate::error::Result;
use crate::model::SchemaType;

/// A schema that parsed, of any format.
#[derive(Debug, Clone)]
pub enum ParsedSchema {
    Avro(avro::AvroSchema),
    Json(json::JsonSchema),
    Protobuf(protobuf::ProtobufSchema),
}

impl ParsedSchema {
    /// Parses `text` as `schema_type`; `references` are the (reference name, text) pairs of
    /// the schemas it refers to (transitively), already registered. Avro only needs the texts.
    pub fn parse(
        schema_type: SchemaType,
        text: &str,
        references: &[(String, String)],
    ) -> Result<Self> {
        match schema_type {
            SchemaType::Avro => {
                let mut texts: Vec<String> = Vec::new();
                for (_, t) in references {
                    if !texts.contains(t) {
                        texts.push(t.clone());
                    }
                }
                Ok(ParsedSchema::Avro(avro::AvroSchema::parse(text, &texts)?))
            }
            SchemaType::Protobuf => Ok(ParsedSchema::Protobuf(protobuf::ProtobufSchema::parse(
                text, references,
            )?)),
            SchemaType::Json => Ok(ParsedSchema::Json(json::JsonSchema::parse(
                text, references,
            )?)),
        }
    }

    pub fn schema_type(&self) -> SchemaType {
        match self {
            ParsedSchema::Avro(_) => SchemaType::Avro,
            ParsedSchema::Json(_) => SchemaType::Json,
            ParsedSchema::Protobuf(_) => SchemaType::Protobuf,
        }
    }

    /// The text stored and returned for this schema (Confluent stores a canonical string).
    pub fn canonical(&self) -> String {
        match self {
            ParsedSchema::Avro(a) => a.canonical(),
            ParsedSchema::Json(j) => j.canonical(),
            ParsedSchema::Protobuf(p) => p.canonical(),
        }
    }

    /// The text used for `normalize=true` lookups and registrations.
    pub fn normalized(&self) -> String {
        match self {
            ParsedSchema::Avro(a) => a.normalized(),
            ParsedSchema::Json(j) => j.normalized(),
            ParsedSchema::Protobuf(p) => p.normalized(),
        }
    }

    /// The text in a named `format` (Confluent's `?format=`): `serialized` is a Protobuf
    /// schema's base64 `FileDescriptorProto`. None: the format does not apply, use the text.
    pub fn formatted(&self, format: &str) -> Option<String> {
        match (self, format) {
            (ParsedSchema::Protobuf(p), "serialized") => Some(p.serialized()),
            _ => None,
        }
    }

    /// Why a reader using `self` cannot read data written with `writer` (empty: it can).
    pub fn read_problems(&self, writer: &ParsedSchema) -> Vec<String> {
        match (self, writer) {
            (ParsedSchema::Avro(r), ParsedSchema::Avro(w)) => r.read_problems(w),
            (ParsedSchema::Json(r), ParsedSchema::Json(w)) => r.read_problems(w),
            (ParsedSchema::Protobuf(r), ParsedSchema::Protobuf(w)) => r.read_problems(w),
            // The registry compares types first; a mismatch here reads nothing.
            (r, w) => vec![format!(
                "Incompatible because of different schema type: {} vs {}",
                w.schema_type().name(),
                r.schema_type().name()
            )],
        }
    }
}
