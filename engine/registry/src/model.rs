//! The registry's vocabulary: schema types, references, compatibility levels, modes, and the
//! records of the `_schemas` topic in Confluent's own JSON key/value format, so the topic
//! reads the same as a Confluent registry's. No I/O.

use serde::{Deserialize, Serialize};

use crate::error::{RegistryError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum SchemaType {
    #[default]
    Avro,
    Protobuf,
    Json,
}

impl SchemaType {
    pub fn parse(s: &str) -> Result<SchemaType> {
        match s.to_ascii_uppercase().as_str() {
            "AVRO" => Ok(SchemaType::Avro),
            "PROTOBUF" => Ok(SchemaType::Protobuf),
            "JSON" => Ok(SchemaType::Json),
            other => Err(RegistryError::InvalidSchema(format!(
                "unknown schema type {other}"
            ))),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            SchemaType::Avro => "AVRO",
            SchemaType::Protobuf => "PROTOBUF",
            SchemaType::Json => "JSON",
        }
    }
    pub fn is_avro(&self) -> bool {
        *self == SchemaType::Avro
    }
}

/// A reference from one schema to another registered one (`import`, `$ref`, named type).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SchemaReference {
    pub name: String,
    pub subject: String,
    pub version: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compatibility {
    None,
    Backward,
    BackwardTransitive,
    Forward,
    ForwardTransitive,
    Full,
    FullTransitive,
}

impl Compatibility {
    pub fn parse(s: &str) -> Result<Compatibility> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "NONE" => Compatibility::None,
            "BACKWARD" => Compatibility::Backward,
            "BACKWARD_TRANSITIVE" => Compatibility::BackwardTransitive,
            "FORWARD" => Compatibility::Forward,
            "FORWARD_TRANSITIVE" => Compatibility::ForwardTransitive,
            "FULL" => Compatibility::Full,
            "FULL_TRANSITIVE" => Compatibility::FullTransitive,
            _ => return Err(RegistryError::InvalidCompatibilityLevel),
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Compatibility::None => "NONE",
            Compatibility::Backward => "BACKWARD",
            Compatibility::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Compatibility::Forward => "FORWARD",
            Compatibility::ForwardTransitive => "FORWARD_TRANSITIVE",
            Compatibility::Full => "FULL",
            Compatibility::FullTransitive => "FULL_TRANSITIVE",
        }
    }
    /// New schemas must read data written with the old ones.
    pub fn backward(self) -> bool {
        matches!(
            self,
            Compatibility::Backward
                | Compatibility::BackwardTransitive
                | Compatibility::Full
                | Compatibility::FullTransitive
        )
    }
    /// Old schemas must read data written with the new one.
    pub fn forward(self) -> bool {
        matches!(
            self,
            Compatibility::Forward
                | Compatibility::ForwardTransitive
                | Compatibility::Full
                | Compatibility::FullTransitive
        )
    }
    /// Checked against every earlier version, not only the latest.
    pub fn transitive(self) -> bool {
        matches!(
            self,
            Compatibility::BackwardTransitive
                | Compatibility::ForwardTransitive
                | Compatibility::FullTransitive
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mode {
    Readwrite,
    Readonly,
    Import,
}

impl Mode {
    pub fn parse(s: &str) -> Result<Mode> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "READWRITE" => Mode::Readwrite,
            "READONLY" => Mode::Readonly,
            "IMPORT" => Mode::Import,
            _ => return Err(RegistryError::InvalidMode),
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Mode::Readwrite => "READWRITE",
            Mode::Readonly => "READONLY",
            Mode::Import => "IMPORT",
        }
    }
}

// ---------------------------------------------------------------------------------------
// `_schemas` records (Confluent's format)
// ---------------------------------------------------------------------------------------

/// Key of a `_schemas` record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "keytype", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LogKey {
    Schema {
        subject: String,
        version: i32,
        magic: i32,
    },
    Config {
        subject: Option<String>,
        magic: i32,
    },
    Mode {
        subject: Option<String>,
        magic: i32,
    },
    DeleteSubject {
        subject: String,
        magic: i32,
    },
    ClearSubject {
        subject: String,
        magic: i32,
    },
    Noop {
        magic: i32,
    },
}

/// Value of a SCHEMA record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaValue {
    pub subject: String,
    pub version: i32,
    pub id: u32,
    #[serde(default, skip_serializing_if = "SchemaType::is_avro")]
    pub schema_type: SchemaType,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<SchemaReference>,
    pub schema: String,
    #[serde(default)]
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigValue {
    pub compatibility_level: Compatibility,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeValue {
    pub mode: Mode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteSubjectValue {
    pub subject: String,
    pub version: i32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_records_use_confluents_json() {
        let k = LogKey::Schema {
            subject: "orders-value".into(),
            version: 1,
            magic: 1,
        };
        assert_eq!(
            serde_json::to_string(&k).unwrap(),
            r#"{"keytype":"SCHEMA","subject":"orders-value","version":1,"magic":1}"#
        );
        let k: LogKey =
            serde_json::from_str(r#"{"keytype":"CONFIG","subject":null,"magic":0}"#).unwrap();
        assert_eq!(
            k,
            LogKey::Config {
                subject: None,
                magic: 0
            }
        );
        let v = SchemaValue {
            subject: "s".into(),
            version: 2,
            id: 7,
            schema_type: SchemaType::Avro,
            references: vec![],
            schema: "\"string\"".into(),
            deleted: false,
        };
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"subject":"s","version":2,"id":7,"schema":"\"string\"","deleted":false}"#
        );
        let c: ConfigValue =
            serde_json::from_str(r#"{"compatibilityLevel":"FULL_TRANSITIVE"}"#).unwrap();
        assert_eq!(c.compatibility_level, Compatibility::FullTransitive);
    }
}
