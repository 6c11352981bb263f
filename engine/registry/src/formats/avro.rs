//! Avro through the `apache-avro` crate for parsing (with named-type references) and the
//! canonical text; compatibility is Avro's schema resolution as its reference
//! implementation's `SchemaCompatibility` decides it (what Confluent's registry uses): every
//! writer union branch must be readable, enums need the writer's symbols or a reader default,
//! records need a default for each reader field the writer lacks, and the numeric and
//! string/bytes promotions. No I/O.

use std::collections::{HashMap, HashSet};

use apache_avro::schema::{Name, RecordSchema};
use apache_avro::Schema;

use crate::error::{RegistryError, Result};

#[derive(Debug, Clone)]
pub struct AvroSchema {
    schema: Schema,
    /// The referenced schemas, parsed (what `Ref`s in `schema` resolve to).
    referenced: Vec<Schema>,
    /// Named types by full name (the schema's own and its references'), to follow `Ref`s.
    names: HashMap<String, Schema>,
    canonical: String,
}

impl AvroSchema {
    pub fn parse(text: &str, references: &[String]) -> Result<AvroSchema> {
        Self::parse_detailed(text, references)
            .map_err(|e| RegistryError::InvalidSchema(format!("{text}, details: {e}")))
    }

    /// Parses, failing with the parser's own message.
    pub fn parse_detailed(
        text: &str,
        references: &[String],
    ) -> std::result::Result<AvroSchema, String> {
        let (schema, referenced) = if references.is_empty() {
            (
                Schema::parse_str(text).map_err(|e| e.to_string())?,
                Vec::new(),
            )
        } else {
            Schema::parse_str_with_list(text, references.iter()).map_err(|e| e.to_string())?
        };
        let canonical = serde_json::to_string(&schema).map_err(|e| e.to_string())?;
        let mut names = HashMap::new();
        for s in referenced.iter().chain(std::iter::once(&schema)) {
            collect_names(s, &mut names);
        }
        Ok(AvroSchema {
            schema,
            referenced,
            names,
            canonical,
        })
    }

    /// The parsed schema (named types of references appear as `Schema::Ref`).
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The referenced schemas, which `Schema::Ref`s in [`AvroSchema::schema`] name.
    pub fn referenced(&self) -> &[Schema] {
        &self.referenced
    }

    /// A named type (record, enum, fixed) by full name, from the schema or its references.
    pub fn named(&self, full_name: &str) -> Option<&Schema> {
        self.names.get(full_name)
    }

    pub fn canonical(&self) -> String {
        self.canonical.clone()
    }

    /// Avro's Parsing Canonical Form: drops docs, aliases and defaults, orders attributes.
    pub fn normalized(&self) -> String {
        self.schema.canonical_form()
    }

    /// Why a reader with this schema cannot read data written with `writer`.
    pub fn read_problems(&self, writer: &AvroSchema) -> Vec<String> {
        let mut check = Resolution {
            reader_names: &self.names,
            writer_names: &writer.names,
            seen: HashSet::new(),
            problems: Vec::new(),
        };
        check.compare(&self.schema, &writer.schema, "/");
        check
            .problems
            .into_iter()
            .map(|(kind, path, what)| {
                format!(
                    "{{errorType:'{kind}', description:'{what}', location:'{path}', additionalInfo:'reader schema: {}, writer schema: {}'}}",
                    self.canonical, writer.canonical
                )
            })
            .collect()
    }
}

fn full_name(n: &Name) -> String {
    n.fullname(None)
}

fn collect_names(s: &Schema, out: &mut HashMap<String, Schema>) {
    match s {
        Schema::Record(r) if out.insert(full_name(&r.name), s.clone()).is_none() => {
            for f in &r.fields {
                collect_names(&f.schema, out);
            }
        }
        Schema::Enum(e) => {
            out.insert(full_name(&e.name), s.clone());
        }
        Schema::Fixed(f) | Schema::Duration(f) => {
            out.insert(full_name(&f.name), s.clone());
        }
        Schema::Decimal(d) => {
            if let apache_avro::schema::InnerDecimalSchema::Fixed(f) = &d.inner {
                out.insert(full_name(&f.name), Schema::Fixed(f.clone()));
            }
        }
        Schema::Uuid(apache_avro::schema::UuidSchema::Fixed(f)) => {
            out.insert(full_name(&f.name), Schema::Fixed(f.clone()));
        }
        Schema::Array(a) => collect_names(&a.items, out),
        Schema::Map(m) => collect_names(&m.types, out),
        Schema::Union(u) => {
            for v in u.variants() {
                collect_names(v, out);
            }
        }
        _ => {}
    }
}

/// Avro's types as resolution sees them: logical types are their underlying type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Array,
    Map,
    Union,
    Record,
    Enum,
    Fixed,
}

fn kind(s: &Schema) -> Kind {
    use apache_avro::schema::{InnerDecimalSchema, UuidSchema};
    match s {
        Schema::Null => Kind::Null,
        Schema::Boolean => Kind::Boolean,
        Schema::Int | Schema::Date | Schema::TimeMillis => Kind::Int,
        Schema::Long
        | Schema::TimeMicros
        | Schema::TimestampMillis
        | Schema::TimestampMicros
        | Schema::TimestampNanos
        | Schema::LocalTimestampMillis
        | Schema::LocalTimestampMicros
        | Schema::LocalTimestampNanos => Kind::Long,
        Schema::Float => Kind::Float,
        Schema::Double => Kind::Double,
        Schema::Bytes | Schema::BigDecimal => Kind::Bytes,
        Schema::Decimal(d) => match d.inner {
            InnerDecimalSchema::Bytes => Kind::Bytes,
            InnerDecimalSchema::Fixed(_) => Kind::Fixed,
        },
        Schema::Uuid(u) => match u {
            UuidSchema::String => Kind::String,
            UuidSchema::Bytes => Kind::Bytes,
            UuidSchema::Fixed(_) => Kind::Fixed,
        },
        Schema::String => Kind::String,
        Schema::Array(_) => Kind::Array,
        Schema::Map(_) => Kind::Map,
        Schema::Union(_) => Kind::Union,
        Schema::Record(_) => Kind::Record,
        Schema::Enum(_) => Kind::Enum,
        Schema::Fixed(_) | Schema::Duration(_) => Kind::Fixed,
        // Refs are resolved before kind() is asked.
        Schema::Ref { .. } => Kind::Record,
    }
}

/// The fixed schema behind a fixed-kind schema (fixed, duration, decimal/uuid on fixed).
fn fixed_of(s: &Schema) -> Option<&apache_avro::schema::FixedSchema> {
    use apache_avro::schema::{InnerDecimalSchema, UuidSchema};
    match s {
        Schema::Fixed(f) | Schema::Duration(f) => Some(f),
        Schema::Decimal(d) => match &d.inner {
            InnerDecimalSchema::Fixed(f) => Some(f),
            InnerDecimalSchema::Bytes => None,
        },
        Schema::Uuid(UuidSchema::Fixed(f)) => Some(f),
        _ => None,
    }
}

struct Resolution<'a> {
    reader_names: &'a HashMap<String, Schema>,
    writer_names: &'a HashMap<String, Schema>,
    /// (reader, writer) named pairs under comparison: recursion assumes them compatible.
    seen: HashSet<(String, String)>,
    /// (error type, location, description)
    problems: Vec<(&'static str, String, String)>,
}

impl<'a> Resolution<'a> {
    fn resolve<'s>(names: &'s HashMap<String, Schema>, s: &'s Schema) -> &'s Schema {
        match s {
            Schema::Ref { name } => names.get(&full_name(name)).unwrap_or(s),
            _ => s,
        }
    }

    fn problem(&mut self, kind: &'static str, path: &str, what: String) {
        self.problems.push((kind, path.to_string(), what));
    }

    /// Whether `reader` can read `writer`, without recording anything.
    fn can_read(&mut self, reader: &Schema, writer: &Schema, path: &str) -> bool {
        let before = self.problems.len();
        self.compare(reader, writer, path);
        let ok = self.problems.len() == before;
        self.problems.truncate(before);
        ok
    }

    fn compare(&mut self, reader: &Schema, writer: &Schema, path: &str) {
        let reader = Self::resolve(self.reader_names, reader);
        let writer = Self::resolve(self.writer_names, writer);
        let (rk, wk) = (kind(reader), kind(writer));
        if rk == wk {
            match rk {
                Kind::Array => {
                    if let (Schema::Array(r), Schema::Array(w)) = (reader, writer) {
                        self.compare(&r.items, &w.items, &format!("{path}items/"));
                    }
                }
                Kind::Map => {
                    if let (Schema::Map(r), Schema::Map(w)) = (reader, writer) {
                        self.compare(&r.types, &w.types, &format!("{path}values/"));
                    }
                }
                Kind::Fixed => {
                    if let (Some(r), Some(w)) = (fixed_of(reader), fixed_of(writer)) {
                        self.check_names(&r.name, r.aliases.as_deref(), &w.name, path);
                        if r.size != w.size {
                            self.problem(
                                "FIXED_SIZE_MISMATCH",
                                &format!("{path}size"),
                                format!("expected: {}, found: {}", w.size, r.size),
                            );
                        }
                    }
                }
                Kind::Enum => {
                    if let (Schema::Enum(r), Schema::Enum(w)) = (reader, writer) {
                        self.check_names(&r.name, r.aliases.as_deref(), &w.name, path);
                        let missing: Vec<&String> = w
                            .symbols
                            .iter()
                            .filter(|s| !r.symbols.contains(s))
                            .collect();
                        let has_default = r.default.as_ref().is_some_and(|d| r.symbols.contains(d));
                        if !missing.is_empty() && !has_default {
                            self.problem(
                                "MISSING_ENUM_SYMBOLS",
                                &format!("{path}symbols"),
                                format!(
                                    "The new schema is missing enum symbols '{}' at path '{path}symbols' in the old schema",
                                    missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                                ),
                            );
                        }
                    }
                }
                Kind::Record => {
                    if let (Schema::Record(r), Schema::Record(w)) = (reader, writer) {
                        self.compare_records(r, w, path);
                    }
                }
                Kind::Union => {
                    if let (Schema::Union(_), Schema::Union(w)) = (reader, writer) {
                        for (i, branch) in w.variants().iter().enumerate() {
                            self.compare(reader, branch, &format!("{path}{i}/"));
                        }
                    }
                }
                _ => {}
            }
            return;
        }
        if let Schema::Union(w) = writer {
            for (i, branch) in w.variants().iter().enumerate() {
                self.compare(reader, branch, &format!("{path}{i}/"));
            }
            return;
        }
        let promotable = matches!(
            (rk, wk),
            (Kind::Long, Kind::Int)
                | (Kind::Float, Kind::Int | Kind::Long)
                | (Kind::Double, Kind::Int | Kind::Long | Kind::Float)
                | (Kind::Bytes, Kind::String)
                | (Kind::String, Kind::Bytes)
        );
        if promotable {
            return;
        }
        if let Schema::Union(r) = reader {
            let readable = r
                .variants()
                .iter()
                .any(|branch| self.can_read(branch, writer, path));
            if !readable {
                self.problem(
                    "MISSING_UNION_BRANCH",
                    path,
                    format!(
                        "The new schema is missing a type inside a union field at path '{path}' in the old schema: {wk:?}"
                    ),
                );
            }
            return;
        }
        self.problem(
            "TYPE_MISMATCH",
            path,
            format!(
                "The type (path '{path}') of a field in the new schema does not match with the old schema: reader type {rk:?} not compatible with writer type {wk:?}"
            ),
        );
    }

    /// Avro compares unqualified names, or the reader's aliases against the writer's full name.
    fn check_names(
        &mut self,
        reader: &Name,
        reader_aliases: Option<&[apache_avro::schema::Alias]>,
        writer: &Name,
        path: &str,
    ) {
        if reader.name() == writer.name() {
            return;
        }
        let writer_full = full_name(writer);
        let aliased = reader_aliases
            .unwrap_or(&[])
            .iter()
            .any(|a| a.fullname(None) == writer_full || a.name() == writer.name());
        if !aliased {
            self.problem(
                "NAME_MISMATCH",
                &format!("{path}name"),
                format!(
                    "The name of the schema has changed (path '{path}name'): expected: {}, found: {}",
                    writer_full,
                    full_name(reader)
                ),
            );
        }
    }

    fn compare_records(&mut self, r: &RecordSchema, w: &RecordSchema, path: &str) {
        self.check_names(&r.name, r.aliases.as_deref(), &w.name, path);
        let pair = (full_name(&r.name), full_name(&w.name));
        if !self.seen.insert(pair.clone()) {
            return;
        }
        for (i, rf) in r.fields.iter().enumerate() {
            let wf = w
                .fields
                .iter()
                .find(|wf| wf.name == rf.name)
                .or_else(|| w.fields.iter().find(|wf| rf.aliases.contains(&wf.name)));
            match wf {
                Some(wf) => self.compare(&rf.schema, &wf.schema, &format!("{path}fields/{i}/type/")),
                None if rf.default.is_none() => self.problem(
                    "READER_FIELD_MISSING_DEFAULT_VALUE",
                    &format!("{path}fields/{i}"),
                    format!(
                        "The field '{}' at path '{path}fields/{i}' in the new schema has no default value and is missing in the old schema",
                        rf.name
                    ),
                ),
                None => {}
            }
        }
        self.seen.remove(&pair);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = r#"{"type":"record","name":"Order","fields":[{"name":"product","type":"string"},{"name":"quantity","type":"int"}]}"#;
    const V2_DEFAULT: &str = r#"{"type":"record","name":"Order","fields":[{"name":"product","type":"string"},{"name":"quantity","type":"int"},{"name":"note","type":"string","default":""}]}"#;
    const V2_NO_DEFAULT: &str = r#"{"type":"record","name":"Order","fields":[{"name":"product","type":"string"},{"name":"quantity","type":"int"},{"name":"note","type":"string"}]}"#;

    #[test]
    fn adding_a_field_needs_a_default_to_read_old_data() {
        let v1 = AvroSchema::parse(V1, &[]).unwrap();
        let with_default = AvroSchema::parse(V2_DEFAULT, &[]).unwrap();
        let without = AvroSchema::parse(V2_NO_DEFAULT, &[]).unwrap();
        assert!(with_default.read_problems(&v1).is_empty());
        assert!(!without.read_problems(&v1).is_empty());
        // Old readers ignore the new field either way.
        assert!(v1.read_problems(&without).is_empty());
    }

    #[test]
    fn whitespace_does_not_change_identity_and_garbage_is_invalid() {
        let a = AvroSchema::parse(V1, &[]).unwrap();
        let spaced = V1.replace(',', " , ");
        let b = AvroSchema::parse(&spaced, &[]).unwrap();
        assert_eq!(a.canonical(), b.canonical());
        assert!(matches!(
            AvroSchema::parse(
                r#"{"type":"record","name":"X","fields":[{"name":"a","type":"nope"}]}"#,
                &[]
            ),
            Err(RegistryError::InvalidSchema(_))
        ));
    }

    #[test]
    fn references_resolve_named_types() {
        let customer = r#"{"type":"record","name":"Customer","namespace":"shop","fields":[{"name":"id","type":"long"}]}"#;
        let order = r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"customer","type":"shop.Customer"}]}"#;
        assert!(AvroSchema::parse(order, &[]).is_err());
        AvroSchema::parse(order, &[customer.to_string()]).unwrap();
    }
}
