//! Schema formats: parsing (with references), the canonical text that decides whether two
//! schemas are the same, and the pairwise "can a reader of this schema read data written
//! with that one" check that compatibility levels are built from. No I/O.

pub mod avro;
pub mod json;
pub mod protobuf;

use crate::error::{RegistryError, Result};
use crate::model::SchemaType;

/// A schema text that did not parse: the registry's error, the parser's own words, and where
/// in the text (1-based line and column) when the parser says or the offending name is found.
#[derive(Debug)]
pub struct ParseFailure {
    pub error: RegistryError,
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

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

    /// [`ParsedSchema::parse`], with the failure located in `text` where possible: JSON
    /// syntax errors (Avro, JSON Schema) and `.proto` errors carry their position; for other
    /// Avro and JSON Schema errors the first name the message quotes is looked up in the text.
    pub fn parse_located(
        schema_type: SchemaType,
        text: &str,
        references: &[(String, String)],
    ) -> std::result::Result<Self, ParseFailure> {
        let wrap = |message: String| {
            let (line, column, message) = match locate_json_syntax(text) {
                // The parser's own words say what is wrong there ("expected `,` or `]`").
                Some((at, what)) => (Some(at.0), Some(at.1), format!("{message}: {what}")),
                None => match locate_quoted_name(text, &message) {
                    Some(at) => (Some(at.0), Some(at.1), message),
                    None => (None, None, message),
                },
            };
            ParseFailure {
                error: RegistryError::InvalidSchema(format!("{text}, details: {message}")),
                message,
                line,
                column,
            }
        };
        match schema_type {
            SchemaType::Avro => {
                let mut texts: Vec<String> = Vec::new();
                for (_, t) in references {
                    if !texts.contains(t) {
                        texts.push(t.clone());
                    }
                }
                avro::AvroSchema::parse_detailed(text, &texts)
                    .map(ParsedSchema::Avro)
                    .map_err(wrap)
            }
            SchemaType::Json => json::JsonSchema::parse_detailed(text, references)
                .map(ParsedSchema::Json)
                .map_err(wrap),
            SchemaType::Protobuf => protobuf::ProtobufSchema::parse_located(text, references)
                .map(ParsedSchema::Protobuf)
                .map_err(|f| ParseFailure {
                    error: f.error,
                    message: f.message,
                    line: f.location.map(|l| l.0),
                    column: f.location.map(|l| l.1),
                }),
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

/// Where `text` stops being JSON, if it does (serde_json's 1-based line and column).
fn locate_json_syntax(text: &str) -> Option<((u32, u32), String)> {
    let err = serde_json::from_str::<serde::de::IgnoredAny>(text).err()?;
    let line = u32::try_from(err.line()).ok().filter(|l| *l > 0)?;
    // serde_json reports column 0 for errors at a line's start.
    let column = u32::try_from(err.column()).ok()?.max(1);
    // Its message without the " at line L column C" the location already gives.
    let what = err.to_string();
    let what = match what.rfind(" at line ") {
        Some(cut) => what[..cut].to_string(),
        None => what,
    };
    Some(((line, column), what))
}

/// The place of the first name an error message quotes (`'x'`, `"x"`, `` `x` ``, or the word
/// after the last `: `) that appears in `text` as a JSON string.
fn locate_quoted_name(text: &str, message: &str) -> Option<(u32, u32)> {
    let mut candidates: Vec<&str> = Vec::new();
    for quote in ['\'', '"', '`'] {
        let mut parts = message.split(quote);
        parts.next();
        while let Some(inside) = parts.next() {
            candidates.push(inside);
            parts.next();
        }
    }
    // Quoted names in the order they appear in the message.
    // (All are slices of `message`: their addresses order them.)
    candidates.sort_by_key(|c| c.as_ptr() as usize);
    if let Some((_, last)) = message.rsplit_once(": ") {
        candidates.push(last.split_whitespace().next().unwrap_or(""));
    }
    candidates
        .into_iter()
        .map(|c| c.trim_matches(|ch: char| ch == '"' || ch == '\'' || ch == '`'))
        .filter(|c| !c.is_empty() && c.len() <= 200 && !c.contains(['\n', '"', '\\']))
        .find_map(|c| text.find(&format!("\"{c}\"")))
        .map(|at| protobuf::line_column(text, at + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_located() {
        let typo = "{\n  \"type\": \"record\",\n  \"name\": \"A\",\n  \"fields\": [\n    {\"name\": \"a\", \"type\": \"strng\"}\n  ]\n}";
        let f = ParsedSchema::parse_located(SchemaType::Avro, typo, &[]).unwrap_err();
        assert_eq!((f.line, f.column), (Some(5), Some(28)), "{}", f.message);
        let syntax = "{\"type\": \"record\",\n \"name\" \"A\"}";
        let f = ParsedSchema::parse_located(SchemaType::Avro, syntax, &[]).unwrap_err();
        assert_eq!(f.line, Some(2), "{}", f.message);
        // The parser's own words, without the position the fields already give.
        assert!(f.message.ends_with("expected `:`"), "{}", f.message);
        let proto = "syntax = \"proto3\";\nmessage A {\n  int32 a = ;\n}";
        let f = ParsedSchema::parse_located(SchemaType::Protobuf, proto, &[]).unwrap_err();
        assert_eq!((f.line, f.column), (Some(3), Some(13)), "{}", f.message);
        assert!(!f.message.contains("schema.proto"), "{}", f.message);
        let json = "{\"type\": \"object\",\n \"properties\": {\"a\": {\"type\": 5}}}";
        let f = ParsedSchema::parse_located(SchemaType::Json, json, &[]).unwrap_err();
        assert!(
            f.message.contains("not a valid JSON schema"),
            "{}",
            f.message
        );
        assert!(
            ParsedSchema::parse_located(SchemaType::Json, "{\"type\": \"string\"}", &[]).is_ok()
        );
    }

    #[test]
    fn line_columns_count_characters() {
        assert_eq!(protobuf::line_column("ab\ncd", 4), (2, 2));
        assert_eq!(protobuf::line_column("é\nx", 99), (2, 2));
        assert_eq!(protobuf::line_column("éa", 1), (1, 1));
    }
}
