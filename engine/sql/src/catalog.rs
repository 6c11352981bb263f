//! The metastore: streams and tables with their columns, topic, formats and window, and the
//! checks of a `CREATE STREAM|TABLE` (column constraints, WITH properties). It is rebuilt from
//! the command topic on start by replaying statements; it never reads topics itself.

use std::collections::BTreeMap;

use crate::ast::{ColumnConstraint, CreateSource, Literal, SourceKind, SqlType, WindowKind};
use crate::error::SqlError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Key,
    Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: SqlType,
    pub kind: ColumnKind,
}

impl Column {
    pub fn new(name: impl Into<String>, ty: SqlType, kind: ColumnKind) -> Self {
        Column {
            name: name.into(),
            ty,
            kind,
        }
    }
}

/// Key or value serialization format of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Kafka,
    Json,
    None,
    /// Registry-backed formats (Confluent wire format).
    Avro,
    JsonSr,
    Protobuf,
    /// ksqlDB's CSV.
    Delimited,
}

impl Format {
    pub fn parse(s: &str) -> Result<Self, SqlError> {
        match s.to_ascii_uppercase().as_str() {
            "KAFKA" => Ok(Format::Kafka),
            "JSON" => Ok(Format::Json),
            "NONE" => Ok(Format::None),
            "AVRO" => Ok(Format::Avro),
            "JSON_SR" => Ok(Format::JsonSr),
            "PROTOBUF" => Ok(Format::Protobuf),
            "DELIMITED" => Ok(Format::Delimited),
            other => Err(SqlError::statement(format!(
                "Unknown format: {other}. Supported formats so far: KAFKA, JSON, NONE, AVRO, JSON_SR, PROTOBUF, DELIMITED"
            ))),
        }
    }
    pub fn name(&self) -> &'static str {
        match self {
            Format::Kafka => "KAFKA",
            Format::Json => "JSON",
            Format::None => "NONE",
            Format::Avro => "AVRO",
            Format::JsonSr => "JSON_SR",
            Format::Protobuf => "PROTOBUF",
            Format::Delimited => "DELIMITED",
        }
    }
    /// Whether data is in the registry's wire format.
    pub fn uses_registry(&self) -> bool {
        matches!(self, Format::Avro | Format::JsonSr | Format::Protobuf)
    }
}

/// A stream or table.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub name: String,
    pub kind: SourceKind,
    pub topic: String,
    pub key_format: Format,
    pub value_format: Format,
    /// Key columns first, then value columns, as declared.
    pub columns: Vec<Column>,
    /// Windowed sources (a windowed aggregation's table) have windowed keys.
    pub window: Option<WindowKind>,
    /// `TIMESTAMP='col'`: the column that gives ROWTIME instead of the record timestamp.
    pub timestamp_column: Option<String>,
    /// The statement that created it (DESCRIBE's `statement`).
    pub statement: String,
    /// VALUE_SCHEMA_ID / KEY_SCHEMA_ID: the registry schemas to write with.
    pub value_schema_id: Option<u32>,
    pub key_schema_id: Option<u32>,
    /// WRAP_SINGLE_VALUE (None: the default, wrapped).
    pub wrap_single_value: Option<bool>,
    /// VALUE_DELIMITER (DELIMITED; None: `,`).
    pub delimiter: Option<char>,
}

impl Source {
    pub fn key_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| c.kind == ColumnKind::Key)
    }
    pub fn value_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| c.kind == ColumnKind::Value)
    }
}

/// Streams and tables by name.
#[derive(Debug, Default)]
pub struct Catalog {
    pub sources: BTreeMap<String, Source>,
}

impl Catalog {
    pub fn get(&self, name: &str) -> Result<&Source, SqlError> {
        self.sources
            .get(name)
            .ok_or_else(|| SqlError::statement(format!("{name} does not exist.")))
    }
}

/// A WITH property as a string (numbers and booleans as written).
pub fn prop_string(l: &Literal) -> String {
    match l {
        Literal::String(s) | Literal::Decimal(s) | Literal::Double(s) => s.clone(),
        Literal::Integer(i) => i.to_string(),
        Literal::Boolean(b) => b.to_string(),
        Literal::Null => "null".into(),
    }
}

const KNOWN_PROPERTIES: [&str; 15] = [
    "KAFKA_TOPIC",
    "KEY_FORMAT",
    "VALUE_FORMAT",
    "FORMAT",
    "PARTITIONS",
    "REPLICAS",
    "TIMESTAMP",
    "TIMESTAMP_FORMAT",
    "VALUE_SCHEMA_ID",
    "KEY_SCHEMA_ID",
    "WRAP_SINGLE_VALUE",
    "VALUE_DELIMITER",
    "RETENTION_MS",
    "WINDOW_TYPE",
    "WINDOW_SIZE",
];

/// Formats and options shared by CREATE and CREATE AS SELECT.
pub struct SourceProps {
    pub topic: Option<String>,
    pub key_format: Format,
    pub value_format: Option<Format>,
    pub partitions: Option<i32>,
    pub timestamp: Option<String>,
    pub value_schema_id: Option<u32>,
    pub key_schema_id: Option<u32>,
    pub wrap_single_value: Option<bool>,
    pub delimiter: Option<char>,
    /// WINDOW_TYPE (+ WINDOW_SIZE): the topic's keys are windowed (CREATE without AS only).
    pub window: Option<WindowKind>,
}

/// WINDOW_SIZE: `<n> <unit>`, e.g. `'30 seconds'`.
fn window_size(text: &str) -> Result<crate::ast::Duration, SqlError> {
    let bad = || SqlError::statement(format!("Invalid WINDOW_SIZE property : {text}"));
    let mut words = text.split_whitespace();
    let (Some(n), Some(unit), None) = (words.next(), words.next(), words.next()) else {
        return Err(bad());
    };
    Ok(crate::ast::Duration {
        value: n.parse().map_err(|_| bad())?,
        unit: crate::keywords::time_unit(unit).ok_or_else(bad)?,
    })
}

/// WINDOW_TYPE and WINDOW_SIZE, with ksqlDB's checks (its wording: a WINDOW_SIZE without a
/// type is refused as for SESSION windows).
fn window_props(
    window_type: Option<String>,
    size: Option<String>,
) -> Result<Option<WindowKind>, SqlError> {
    let kind = match window_type.as_deref().map(str::to_ascii_uppercase) {
        None => None,
        Some(t) if ["SESSION", "HOPPING", "TUMBLING"].contains(&t.as_str()) => Some(t),
        Some(t) => {
            return Err(SqlError::statement(format!(
                "Invalid value {t} for property WINDOW_TYPE: String must be one of: SESSION, HOPPING, TUMBLING, null"
            )))
        }
    };
    let size = size.map(|s| window_size(&s)).transpose()?;
    Ok(match (kind.as_deref(), size) {
        (None, None) => None,
        (None | Some("SESSION"), Some(_)) => {
            return Err(SqlError::statement(
                "'WINDOW_SIZE' should not be set for SESSION windows.",
            ))
        }
        (Some("SESSION"), None) => Some(WindowKind::Session {
            gap: crate::ast::Duration {
                value: 0,
                unit: crate::ast::TimeUnit::Milliseconds,
            },
        }),
        (Some(t), None) => {
            return Err(SqlError::statement(format!(
                "{t} windows require 'WINDOW_SIZE' to be provided in the WITH clause. For example: 'WINDOW_SIZE'='10 SECONDS'"
            )))
        }
        (Some("TUMBLING"), Some(size)) => Some(WindowKind::Tumbling { size }),
        (Some(_), Some(size)) => Some(WindowKind::Hopping {
            size,
            advance: size,
        }),
    })
}

pub fn source_props(props: &crate::ast::Properties) -> Result<SourceProps, SqlError> {
    for p in &props.0 {
        if !KNOWN_PROPERTIES
            .iter()
            .any(|k| k.eq_ignore_ascii_case(&p.key))
        {
            return Err(SqlError::statement(format!(
                "Invalid config variable(s) in the WITH clause: {}",
                p.key.to_ascii_uppercase()
            )));
        }
    }
    let get = |k: &str| props.get(k).map(prop_string);
    let format = get("FORMAT").map(|f| Format::parse(&f)).transpose()?;
    let key_format = match get("KEY_FORMAT") {
        Some(f) => Format::parse(&f)?,
        None => format.unwrap_or(Format::Kafka),
    };
    let value_format = match get("VALUE_FORMAT") {
        Some(f) => Some(Format::parse(&f)?),
        None => format,
    };
    if value_format == Some(Format::Kafka) {
        return Err(SqlError::statement(
            "The 'KAFKA' format is only supported for keys so far; use JSON for values",
        ));
    }
    let partitions =
        match get("PARTITIONS") {
            Some(p) => Some(p.parse::<i32>().ok().filter(|p| *p > 0).ok_or_else(|| {
                SqlError::statement(format!("Invalid number of partitions: {p}"))
            })?),
            None => None,
        };
    let schema_id = |k: &str| -> Result<Option<u32>, SqlError> {
        get(k)
            .map(|v| {
                v.parse::<u32>()
                    .map_err(|_| SqlError::statement(format!("Invalid {k}: {v}")))
            })
            .transpose()
    };
    let wrap_single_value = match get("WRAP_SINGLE_VALUE") {
        Some(w) if w.eq_ignore_ascii_case("true") => Some(true),
        Some(w) if w.eq_ignore_ascii_case("false") => Some(false),
        Some(w) => {
            return Err(SqlError::statement(format!(
                "Invalid WRAP_SINGLE_VALUE: {w} (true or false)"
            )))
        }
        None => None,
    };
    let value_schema_id = schema_id("VALUE_SCHEMA_ID")?;
    if value_schema_id.is_some() && !value_format.is_some_and(|f| f.uses_registry()) {
        return Err(SqlError::statement(
            "VALUE_SCHEMA_ID is only supported for formats AVRO, PROTOBUF and JSON_SR",
        ));
    }
    let delimiter = match get("VALUE_DELIMITER") {
        Some(d) if value_format != Some(Format::Delimited) => {
            return Err(SqlError::statement(format!(
                "VALUE_DELIMITER ('{d}') is only supported with VALUE_FORMAT='DELIMITED'"
            )))
        }
        Some(d) => Some(crate::operators::delimited::delimiter(Some(&d))?),
        None => None,
    };
    Ok(SourceProps {
        window: window_props(get("WINDOW_TYPE"), get("WINDOW_SIZE"))?,
        delimiter,
        value_schema_id,
        key_schema_id: schema_id("KEY_SCHEMA_ID")?,
        wrap_single_value,
        topic: get("KAFKA_TOPIC"),
        key_format,
        value_format,
        partitions,
        timestamp: get("TIMESTAMP").map(|t| t.to_ascii_uppercase()),
    })
}

/// Checks that key and value columns fit their formats (Avro names, DELIMITED's primitive
/// types only).
pub fn check_formats(
    keys: &[Column],
    values: &[Column],
    key_format: Format,
    value_format: Format,
) -> Result<(), SqlError> {
    let named = |cols: &[Column]| -> Vec<(String, SqlType)> {
        cols.iter()
            .map(|c| (c.name.clone(), c.ty.clone()))
            .collect()
    };
    for (cols, format) in [(keys, key_format), (values, value_format)] {
        if format == Format::Avro {
            let cols = named(cols);
            crate::schemas::check_avro_names(cols.iter().map(|(n, t)| (n.as_str(), t)))?;
        }
        if format == Format::Delimited {
            if let Some(c) = cols.iter().find(|c| {
                matches!(
                    c.ty,
                    SqlType::Array(_) | SqlType::Map(..) | SqlType::Struct(_)
                )
            }) {
                return Err(SqlError::statement(format!(
                    "The 'DELIMITED' format does not support type '{}', column: `{}`",
                    crate::value::type_name(&c.ty)
                        .split('<')
                        .next()
                        .unwrap_or_default(),
                    c.name
                )));
            }
        }
    }
    Ok(())
}

/// The source a `CREATE STREAM|TABLE (...)` declares (the topic is checked by the engine).
pub fn declared_source(c: &CreateSource, text: &str) -> Result<(Source, Option<i32>), SqlError> {
    let props = source_props(&c.properties)?;
    let topic = props.topic.ok_or_else(|| {
        SqlError::statement("Missing required property \"KAFKA_TOPIC\" which has no default value.")
    })?;
    let value_format = props.value_format.ok_or_else(|| {
        SqlError::statement(
            "Statement is missing the 'VALUE_FORMAT' property from the WITH clause. Either provide one or set a default via the 'ksql.persistence.default.format.value' config.",
        )
    })?;
    if c.columns.is_empty() {
        return Err(SqlError::statement(
            "The statement does not define any columns (column inference from the schema registry is not supported yet).",
        ));
    }
    let mut keys = Vec::new();
    let mut values = Vec::new();
    for col in &c.columns {
        let name = col.name.0.clone();
        if crate::expr::PSEUDO_COLUMNS.contains(&name.as_str()) {
            return Err(SqlError::statement(format!(
                "'{name}' is a reserved column name. You cannot use it as a name for a column."
            )));
        }
        if keys
            .iter()
            .chain(values.iter())
            .any(|k: &Column| k.name == name)
        {
            return Err(SqlError::statement(format!(
                "Duplicate column names: {name}"
            )));
        }
        match (&col.constraint, c.kind) {
            (Some(ColumnConstraint::Key), SourceKind::Stream)
            | (Some(ColumnConstraint::PrimaryKey), SourceKind::Table) => {
                keys.push(Column::new(name, col.ty.clone(), ColumnKind::Key))
            }
            (Some(ColumnConstraint::Key), SourceKind::Table) => {
                return Err(SqlError::statement(format!(
                    "Column {name} is a 'KEY' column: please use 'PRIMARY KEY' for tables."
                )))
            }
            (Some(ColumnConstraint::PrimaryKey), SourceKind::Stream) => {
                return Err(SqlError::statement(format!(
                    "Column {name} is a 'PRIMARY KEY' column: please use 'KEY' for streams."
                )))
            }
            (Some(_), _) => {
                return Err(SqlError::statement("HEADER columns are not supported yet"))
            }
            (None, _) => values.push(Column::new(name, col.ty.clone(), ColumnKind::Value)),
        }
    }
    if c.kind == SourceKind::Table && keys.is_empty() {
        return Err(SqlError::statement(
            "Tables require a PRIMARY KEY. Please define the PRIMARY KEY.",
        ));
    }
    if props.key_format == Format::Kafka {
        for k in &keys {
            if !matches!(
                k.ty,
                // As ksqlDB's KAFKA format: no BOOLEAN.
                SqlType::String | SqlType::Int | SqlType::Bigint | SqlType::Double
            ) {
                return Err(SqlError::statement(format!(
                    "Key format does not support schema.\nformat: KAFKA\nschema: Persistence{{columns=[`{}` {}], features=[]}}\nreason: The 'KAFKA' format does not support type '{}'",
                    k.name,
                    crate::value::type_name(&k.ty),
                    crate::value::type_name(&k.ty).split('<').next().unwrap_or_default()
                )));
            }
        }
    }
    if keys.len() > 1 && props.key_format == Format::Kafka {
        return Err(SqlError::statement(
            "The 'KAFKA' format only supports a single field. Got: multiple key columns",
        ));
    }
    if let Some(ts) = &props.timestamp {
        match values.iter().chain(keys.iter()).find(|c| &c.name == ts) {
            Some(c) if c.ty == SqlType::Bigint || c.ty == SqlType::Timestamp => {}
            Some(_) => {
                return Err(SqlError::statement(format!(
                    "Timestamp column, `{ts}`, should be BIGINT or TIMESTAMP (string timestamps need TIMESTAMP_FORMAT, not supported yet)"
                )))
            }
            None => {
                return Err(SqlError::statement(format!(
                    "The TIMESTAMP column set in the WITH clause does not exist in the schema: '{ts}'"
                )))
            }
        }
    }
    check_formats(&keys, &values, props.key_format, value_format)?;
    keys.extend(values);
    Ok((
        Source {
            name: c.name.0.clone(),
            kind: c.kind,
            topic,
            key_format: props.key_format,
            value_format,
            columns: keys,
            window: props.window,
            timestamp_column: props.timestamp,
            statement: text.to_string(),
            value_schema_id: props.value_schema_id,
            key_schema_id: props.key_schema_id,
            wrap_single_value: props.wrap_single_value,
            delimiter: props.delimiter,
        },
        props.partitions,
    ))
}
