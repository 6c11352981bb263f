//! Protobuf (`schemaType: "PROTOBUF"`): owns parsing `.proto` text (proto2 and proto3) or a
//! base64 `FileDescriptorProto` (what Confluent's serializers send) with `protox`, imports
//! resolved from the references (import path → registered text) and Google's well-known
//! files; the deterministic re-print used as normalized text; the serialized descriptor for
//! `format=serialized`; and Confluent's Protobuf compatibility: the differences its
//! `protobuf.diff` package reports (messages and enums by name, fields by tag, oneof
//! membership, scalar kinds grouped by wire compatibility) and which of them are compatible.
//! It never does I/O, never resolves an import from anywhere but the given references and
//! the well-known files, and knows nothing about message indexes on the wire.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;

use base64::Engine as _;
use prost_reflect::prost::Message as _;
use prost_reflect::prost_types::FileDescriptorProto;
use prost_reflect::{
    Cardinality, DynamicMessage, EnumDescriptor, FieldDescriptor, FileDescriptor, Kind,
    MessageDescriptor, OneofDescriptor, Syntax, Value,
};
use protox::file::{File, FileResolver, GoogleFileResolver};

use crate::error::{RegistryError, Result};

/// A `.proto` file that compiled, with its imports.
#[derive(Debug, Clone)]
pub struct ProtobufSchema {
    file: FileDescriptor,
    canonical: String,
    normalized: String,
}

/// The name the schema being parsed gets among its imports.
const MAIN_FILE: &str = "schema.proto";

impl ProtobufSchema {
    /// Parses `text` (`.proto` source, or a base64 `FileDescriptorProto`); `references` are
    /// (import path, registered text) pairs. `google/protobuf/*.proto` resolve without one.
    pub fn parse(text: &str, references: &[(String, String)]) -> Result<ProtobufSchema> {
        Self::parse_located(text, references).map_err(|e| e.error)
    }

    /// Parses, failing with where in `text` the compiler stopped when it says (an error in
    /// an imported file has no place in `text`).
    pub fn parse_located(
        text: &str,
        references: &[(String, String)],
    ) -> std::result::Result<ProtobufSchema, ProtoFailure> {
        let mut files: HashMap<String, String> = HashMap::new();
        for (name, t) in references {
            files.entry(name.clone()).or_insert_with(|| t.clone());
        }
        let mut main = MAIN_FILE.to_string();
        while files.contains_key(&main) {
            main.insert(0, '_');
        }
        files.insert(main.clone(), text.to_string());
        let file = compile(&files, &main)?;
        Ok(Self::from_file(file, text, files, main))
    }

    fn from_file(
        file: FileDescriptor,
        text: &str,
        mut files: HashMap<String, String>,
        main: String,
    ) -> ProtobufSchema {
        let normalized = print_file(&file, true);
        // Stored like Confluent's canonicalString(): re-printed from the descriptor, so
        // formatting, comments and text-vs-base64 make no new id. Kept as given (trimmed)
        // when the re-print would not compile back to the same descriptor.
        let reprint = print_file(&file, false);
        let from_base64 =
            descriptor_from_base64(text).is_some() && File::from_source(&main, text).is_err();
        files.insert(main.clone(), reprint.clone());
        let canonical = match compile(&files, &main) {
            Ok(again) if from_base64 || same_descriptor(&again, &file) => reprint,
            _ => text.trim().to_string(),
        };
        ProtobufSchema {
            file,
            canonical,
            normalized,
        }
    }

    /// The compiled file (its imports reachable through it).
    pub fn file(&self) -> &FileDescriptor {
        &self.file
    }

    /// The schema text as stored: re-printed from the descriptor in declaration order (the
    /// text as given, trimmed, when a re-print would lose something).
    pub fn canonical(&self) -> String {
        self.canonical.clone()
    }

    /// A deterministic re-print from the descriptor: sorted imports and options, fully
    /// qualified type names, no comments or formatting of the original.
    pub fn normalized(&self) -> String {
        self.normalized.clone()
    }

    /// The compiled `FileDescriptorProto`, base64 (Confluent's `format=serialized`).
    pub fn serialized(&self) -> String {
        let mut proto = self.file.file_descriptor_proto().clone();
        proto.source_code_info = None;
        base64::engine::general_purpose::STANDARD.encode(proto.encode_to_vec())
    }

    /// Why a reader with this schema cannot read data written with `writer`: Confluent's
    /// differences from `writer` (original) to `self` (update) outside its compatible set.
    pub fn read_problems(&self, writer: &ProtobufSchema) -> Vec<String> {
        let mut seen = HashSet::new();
        differences(&writer.file, &self.file)
            .into_iter()
            .filter(|(c, _)| !c.compatible())
            .filter(|d| seen.insert(d.clone()))
            .map(|(c, location)| {
                format!(
                    "{{errorType:'{}', description:'{}', location:'{location}'}}",
                    c.name(),
                    c.description(&location)
                )
            })
            .collect()
    }

    /// Every difference from `original` to `self`, compatible or not, as `TYPE #/path`.
    #[cfg(test)]
    fn changes_from(&self, original: &ProtobufSchema) -> Vec<String> {
        differences(&original.file, &self.file)
            .into_iter()
            .map(|(c, p)| format!("{} {p}", c.name()))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------

/// The files a compilation may open: the schema, its references, Google's well-known files.
struct Sources {
    files: HashMap<String, String>,
    google: GoogleFileResolver,
}

impl FileResolver for Sources {
    fn open_file(&self, name: &str) -> std::result::Result<File, protox::Error> {
        if let Some(text) = self.files.get(name) {
            return load(name, text);
        }
        match BUILTIN.iter().find(|(n, _)| *n == name) {
            Some((_, text)) => File::from_source(name, text),
            None => self.google.open_file(name),
        }
    }
}

/// Confluent's other built-in imports (`google/protobuf/*` come with protox); see
/// `protobuf_builtin/README.md`.
const BUILTIN: &[(&str, &str)] = &[
    (
        "confluent/meta.proto",
        include_str!("protobuf_builtin/confluent/meta.proto"),
    ),
    (
        "confluent/type/decimal.proto",
        include_str!("protobuf_builtin/confluent/type/decimal.proto"),
    ),
    (
        "google/type/calendar_period.proto",
        include_str!("protobuf_builtin/google/type/calendar_period.proto"),
    ),
    (
        "google/type/color.proto",
        include_str!("protobuf_builtin/google/type/color.proto"),
    ),
    (
        "google/type/date.proto",
        include_str!("protobuf_builtin/google/type/date.proto"),
    ),
    (
        "google/type/datetime.proto",
        include_str!("protobuf_builtin/google/type/datetime.proto"),
    ),
    (
        "google/type/dayofweek.proto",
        include_str!("protobuf_builtin/google/type/dayofweek.proto"),
    ),
    (
        "google/type/decimal.proto",
        include_str!("protobuf_builtin/google/type/decimal.proto"),
    ),
    (
        "google/type/expr.proto",
        include_str!("protobuf_builtin/google/type/expr.proto"),
    ),
    (
        "google/type/fraction.proto",
        include_str!("protobuf_builtin/google/type/fraction.proto"),
    ),
    (
        "google/type/interval.proto",
        include_str!("protobuf_builtin/google/type/interval.proto"),
    ),
    (
        "google/type/latlng.proto",
        include_str!("protobuf_builtin/google/type/latlng.proto"),
    ),
    (
        "google/type/localized_text.proto",
        include_str!("protobuf_builtin/google/type/localized_text.proto"),
    ),
    (
        "google/type/money.proto",
        include_str!("protobuf_builtin/google/type/money.proto"),
    ),
    (
        "google/type/month.proto",
        include_str!("protobuf_builtin/google/type/month.proto"),
    ),
    (
        "google/type/phone_number.proto",
        include_str!("protobuf_builtin/google/type/phone_number.proto"),
    ),
    (
        "google/type/postal_address.proto",
        include_str!("protobuf_builtin/google/type/postal_address.proto"),
    ),
    (
        "google/type/quaternion.proto",
        include_str!("protobuf_builtin/google/type/quaternion.proto"),
    ),
    (
        "google/type/timeofday.proto",
        include_str!("protobuf_builtin/google/type/timeofday.proto"),
    ),
];

/// `.proto` source, or failing that a base64 `FileDescriptorProto` (renamed to `name`).
fn load(name: &str, text: &str) -> std::result::Result<File, protox::Error> {
    match File::from_source(name, text) {
        Ok(f) => Ok(f),
        Err(e) => match descriptor_from_base64(text) {
            Some(mut proto) => {
                proto.name = Some(name.to_string());
                Ok(File::from_file_descriptor_proto(proto))
            }
            None => Err(e),
        },
    }
}

fn descriptor_from_base64(text: &str) -> Option<FileDescriptorProto> {
    let t = text.trim();
    if t.is_empty() || t.contains(char::is_whitespace) || t.contains(['{', ';']) {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(t).ok()?;
    FileDescriptorProto::decode(bytes.as_slice()).ok()
}

/// A `.proto` text that did not compile.
#[derive(Debug)]
pub struct ProtoFailure {
    /// The registry's error (the message prefixed with `file:line:column`).
    pub error: RegistryError,
    /// The compiler's own message.
    pub message: String,
    /// 1-based line and column in the schema's own text, when the error is there.
    pub location: Option<(u32, u32)>,
}

impl From<ProtoFailure> for RegistryError {
    fn from(f: ProtoFailure) -> Self {
        f.error
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(src: &str, offset: usize) -> (u32, u32) {
    let mut offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// The compiler's message, prefixed with `file:line:column` when it points into a source.
fn describe_error(
    err: &protox::Error,
    files: &HashMap<String, String>,
    main: &str,
) -> ProtoFailure {
    use miette::Diagnostic;
    let message = err.to_string();
    let file = err.file().unwrap_or(main).to_string();
    let offset = err
        .labels()
        .and_then(|mut labels| labels.next())
        .map(|l| l.offset());
    let (described, location) = match (files.get(&file), offset) {
        (Some(src), Some(offset)) => {
            let (line, column) = line_column(src, offset);
            (
                format!("{file}:{line}:{column}: {message}"),
                (file == main).then_some((line, column)),
            )
        }
        _ => (format!("{file}: {message}"), None),
    };
    ProtoFailure {
        error: RegistryError::InvalidSchema(described),
        message,
        location,
    }
}

fn compile(
    files: &HashMap<String, String>,
    main: &str,
) -> std::result::Result<FileDescriptor, ProtoFailure> {
    let resolver = Sources {
        files: files.clone(),
        google: GoogleFileResolver::new(),
    };
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true);
    compiler
        .open_file(main)
        .map_err(|e| describe_error(&e, files, main))?;
    compiler
        .descriptor_pool()
        .get_file_by_name(main)
        .ok_or_else(|| {
            let message = format!("{main} did not compile to a file descriptor");
            ProtoFailure {
                error: RegistryError::InvalidSchema(message.clone()),
                message,
                location: None,
            }
        })
}

/// Whether two compilations describe the same file (source positions aside).
fn same_descriptor(a: &FileDescriptor, b: &FileDescriptor) -> bool {
    let strip = |f: &FileDescriptor| {
        let mut p = f.file_descriptor_proto().clone();
        p.source_code_info = None;
        p
    };
    strip(a) == strip(b)
}

// ---------------------------------------------------------------------------------------
// Compatibility: Confluent's protobuf.diff
// ---------------------------------------------------------------------------------------

/// Confluent's `Difference.Type`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Change {
    PackageChanged,
    MessageAdded,
    MessageRemoved,
    MessageMoved,
    EnumAdded,
    EnumRemoved,
    EnumConstAdded,
    EnumConstChanged,
    EnumConstRemoved,
    FieldAdded,
    FieldRemoved,
    FieldNameChanged,
    FieldKindChanged,
    FieldScalarKindChanged,
    FieldNamedTypeChanged,
    FieldNumericLabelChanged,
    FieldStringOrBytesLabelChanged,
    RequiredFieldAdded,
    RequiredFieldRemoved,
    OneofAdded,
    OneofRemoved,
    OneofFieldAdded,
    OneofFieldRemoved,
    OneofFieldMovedToTopLevel,
    MultipleFieldsMovedToOneof,
    FieldMovedToExistingOneof,
}

impl Change {
    fn name(self) -> &'static str {
        use Change::*;
        match self {
            PackageChanged => "PACKAGE_CHANGED",
            MessageAdded => "MESSAGE_ADDED",
            MessageRemoved => "MESSAGE_REMOVED",
            MessageMoved => "MESSAGE_MOVED",
            EnumAdded => "ENUM_ADDED",
            EnumRemoved => "ENUM_REMOVED",
            EnumConstAdded => "ENUM_CONST_ADDED",
            EnumConstChanged => "ENUM_CONST_CHANGED",
            EnumConstRemoved => "ENUM_CONST_REMOVED",
            FieldAdded => "FIELD_ADDED",
            FieldRemoved => "FIELD_REMOVED",
            FieldNameChanged => "FIELD_NAME_CHANGED",
            FieldKindChanged => "FIELD_KIND_CHANGED",
            FieldScalarKindChanged => "FIELD_SCALAR_KIND_CHANGED",
            FieldNamedTypeChanged => "FIELD_NAMED_TYPE_CHANGED",
            FieldNumericLabelChanged => "FIELD_NUMERIC_LABEL_CHANGED",
            FieldStringOrBytesLabelChanged => "FIELD_STRING_OR_BYTES_LABEL_CHANGED",
            RequiredFieldAdded => "REQUIRED_FIELD_ADDED",
            RequiredFieldRemoved => "REQUIRED_FIELD_REMOVED",
            OneofAdded => "ONEOF_ADDED",
            OneofRemoved => "ONEOF_REMOVED",
            OneofFieldAdded => "ONEOF_FIELD_ADDED",
            OneofFieldRemoved => "ONEOF_FIELD_REMOVED",
            OneofFieldMovedToTopLevel => "ONEOF_FIELD_MOVED_TO_TOP_LEVEL",
            MultipleFieldsMovedToOneof => "MULTIPLE_FIELDS_MOVED_TO_ONEOF",
            FieldMovedToExistingOneof => "FIELD_MOVED_TO_EXISTING_ONEOF",
        }
    }

    /// Confluent's `COMPATIBLE_CHANGES`: old data still reads (or the change is invisible).
    fn compatible(self) -> bool {
        use Change::*;
        matches!(
            self,
            MessageAdded
                | MessageMoved
                | EnumAdded
                | EnumRemoved
                | EnumConstAdded
                | EnumConstChanged
                | EnumConstRemoved
                | FieldAdded
                | FieldRemoved
                | FieldNameChanged
                | FieldStringOrBytesLabelChanged
                | OneofAdded
                | OneofRemoved
                | OneofFieldAdded
                | OneofFieldMovedToTopLevel
        )
    }

    fn description(self, at: &str) -> String {
        use Change::*;
        match self {
            PackageChanged => "The package of the new schema differs from the old schema".into(),
            MessageRemoved => format!("The message at '{at}' in the old schema is missing in the new schema"),
            FieldKindChanged => format!("The kind of the field at '{at}' changed between scalar, message and map"),
            FieldScalarKindChanged => format!("The scalar type of the field at '{at}' changed to one with an incompatible wire encoding"),
            FieldNamedTypeChanged => format!("The message type of the field at '{at}' changed or became incompatible"),
            FieldNumericLabelChanged => format!("The label of the numeric field at '{at}' changed (optional, repeated or required)"),
            RequiredFieldAdded => format!("The required field at '{at}' is new: old data does not have it"),
            RequiredFieldRemoved => format!("The required field at '{at}' in the old schema is missing in the new schema"),
            OneofFieldRemoved => format!("The oneof field at '{at}' in the old schema is missing in the new schema"),
            MultipleFieldsMovedToOneof => format!("Several existing fields moved into the oneof at '{at}'"),
            FieldMovedToExistingOneof => format!("An existing field moved into the oneof at '{at}', which already held other old fields"),
            other => format!("{} at '{at}'", other.name()),
        }
    }
}

/// Where the comparison is and what it has found.
struct Diff {
    path: Vec<String>,
    /// Original messages whose fields are being compared (recursion stops there).
    in_scope: HashSet<String>,
    found: Vec<(Change, String)>,
}

impl Diff {
    fn add(&mut self, c: Change) {
        self.found.push((c, format!("#/{}", self.path.join("/"))));
    }

    fn at<R>(&mut self, segment: impl ToString, f: impl FnOnce(&mut Self) -> R) -> R {
        self.path.push(segment.to_string());
        let r = f(self);
        self.path.pop();
        r
    }
}

fn differences(original: &FileDescriptor, update: &FileDescriptor) -> Vec<(Change, String)> {
    let mut d = Diff {
        path: Vec::new(),
        in_scope: HashSet::new(),
        found: Vec::new(),
    };
    if original.package_name() != update.package_name() {
        d.add(Change::PackageChanged);
    }
    compare_types(
        &mut d,
        original.messages().collect(),
        original.enums().collect(),
        update.messages().collect(),
        update.enums().collect(),
    );
    d.found
}

/// Messages (without synthetic map entries) by name with their index, in order.
fn indexed(messages: Vec<MessageDescriptor>) -> Vec<(String, usize, MessageDescriptor)> {
    messages
        .into_iter()
        .filter(|m| !m.is_map_entry())
        .enumerate()
        .map(|(i, m)| (m.name().to_string(), i, m))
        .collect()
}

/// Names of both lists, the original's first, each once.
fn union_names<'a>(
    a: impl Iterator<Item = &'a str>,
    b: impl Iterator<Item = &'a str>,
) -> Vec<String> {
    let mut seen = HashSet::new();
    a.chain(b)
        .filter(|n| seen.insert(n.to_string()))
        .map(str::to_string)
        .collect()
}

fn compare_types(
    d: &mut Diff,
    original_messages: Vec<MessageDescriptor>,
    original_enums: Vec<EnumDescriptor>,
    update_messages: Vec<MessageDescriptor>,
    update_enums: Vec<EnumDescriptor>,
) {
    let om = indexed(original_messages);
    let um = indexed(update_messages);
    for name in union_names(
        om.iter().map(|m| m.0.as_str()),
        um.iter().map(|m| m.0.as_str()),
    ) {
        let o = om.iter().find(|m| m.0 == name);
        let u = um.iter().find(|m| m.0 == name);
        d.at(&name, |d| match (o, u) {
            (Some(_), None) => d.add(Change::MessageRemoved),
            (None, Some(_)) => d.add(Change::MessageAdded),
            (Some((_, oi, o)), Some((_, ui, u))) => {
                compare_message(d, o, u);
                if oi != ui {
                    // Message indexes on the wire refer to the writer's schema: a move is fine.
                    d.add(Change::MessageMoved);
                }
            }
            (None, None) => {}
        });
    }
    for name in union_names(
        original_enums.iter().map(EnumDescriptor::name),
        update_enums.iter().map(EnumDescriptor::name),
    ) {
        let o = original_enums.iter().find(|e| e.name() == name);
        let u = update_enums.iter().find(|e| e.name() == name);
        d.at(&name, |d| match (o, u) {
            (Some(_), None) => d.add(Change::EnumRemoved),
            (None, Some(_)) => d.add(Change::EnumAdded),
            (Some(o), Some(u)) => compare_enum(d, o, u),
            (None, None) => {}
        });
    }
}

fn compare_enum(d: &mut Diff, original: &EnumDescriptor, update: &EnumDescriptor) {
    let by_number = |e: &EnumDescriptor| -> BTreeMap<i32, String> {
        e.values()
            .map(|v| (v.number(), v.name().to_string()))
            .collect()
    };
    let (o, u) = (by_number(original), by_number(update));
    let numbers: BTreeSet<i32> = o.keys().chain(u.keys()).copied().collect();
    for n in numbers {
        d.at(n, |d| match (o.get(&n), u.get(&n)) {
            (Some(_), None) => d.add(Change::EnumConstRemoved),
            (None, Some(_)) => d.add(Change::EnumConstAdded),
            (Some(a), Some(b)) if a != b => d.add(Change::EnumConstChanged),
            _ => {}
        });
    }
}

/// A field's real (not proto3-`optional` synthetic) oneof.
fn real_oneof(f: &FieldDescriptor) -> Option<OneofDescriptor> {
    f.containing_oneof().filter(|o| !o.is_synthetic())
}

/// A message's fields by number, which oneof each belongs to, and its oneofs by name.
struct Members {
    by_tag: BTreeMap<u32, FieldDescriptor>,
    oneof_of: HashMap<u32, String>,
    oneofs: BTreeSet<String>,
}

fn members(m: &MessageDescriptor) -> Members {
    let mut out = Members {
        by_tag: BTreeMap::new(),
        oneof_of: HashMap::new(),
        oneofs: BTreeSet::new(),
    };
    for f in m.fields() {
        if let Some(o) = real_oneof(&f) {
            out.oneof_of.insert(f.number(), o.name().to_string());
            out.oneofs.insert(o.name().to_string());
        }
        out.by_tag.insert(f.number(), f);
    }
    out
}

fn compare_message(d: &mut Diff, original: &MessageDescriptor, update: &MessageDescriptor) {
    let entered = d.in_scope.insert(original.full_name().to_string());
    if entered {
        compare_fields(d, original, update);
    }
    compare_types(
        d,
        original.child_messages().collect(),
        original.child_enums().collect(),
        update.child_messages().collect(),
        update.child_enums().collect(),
    );
    if entered {
        d.in_scope.remove(original.full_name());
    }
}

fn compare_fields(d: &mut Diff, original: &MessageDescriptor, update: &MessageDescriptor) {
    let o = members(original);
    let u = members(update);

    // A oneof gone by name with none of its members left anywhere was deleted as a whole.
    let deleted_oneofs: HashSet<&String> = o
        .oneofs
        .iter()
        .filter(|name| !u.oneofs.contains(*name))
        .filter(|name| {
            !o.oneof_of
                .iter()
                .any(|(tag, of)| of == *name && u.by_tag.contains_key(tag))
        })
        .collect();

    // Newly mutually exclusive: an update oneof whose old members came from more than one
    // original group (a oneof, or each top-level field on its own).
    for oneof in update.oneofs().filter(|o| !o.is_synthetic()) {
        d.at(oneof.name(), |d| {
            let mut groups = HashSet::new();
            let mut top_level_moved_in = 0;
            for f in oneof.fields() {
                let tag = f.number();
                if let Some(of) = o.oneof_of.get(&tag) {
                    groups.insert(format!("oneof:{of}"));
                } else if o.by_tag.contains_key(&tag) {
                    groups.insert(format!("field:{tag}"));
                    top_level_moved_in += 1;
                }
            }
            if groups.len() > 1 {
                d.add(if top_level_moved_in > 1 {
                    Change::MultipleFieldsMovedToOneof
                } else {
                    Change::FieldMovedToExistingOneof
                });
            }
        });
    }

    for name in o.oneofs.union(&u.oneofs) {
        d.at(name, |d| {
            if !u.oneofs.contains(name) {
                d.add(Change::OneofRemoved);
            } else if !o.oneofs.contains(name) {
                d.add(Change::OneofAdded);
            }
        });
    }

    let tags: BTreeSet<u32> = o.by_tag.keys().chain(u.by_tag.keys()).copied().collect();
    for tag in tags {
        let of = o.oneof_of.get(&tag);
        let uf = u.oneof_of.get(&tag);
        match (o.by_tag.get(&tag), u.by_tag.get(&tag)) {
            (Some(old), None) => match of {
                Some(oneof) if !deleted_oneofs.contains(oneof) => {
                    d.at(oneof, |d| d.at(tag, |d| d.add(Change::OneofFieldRemoved)));
                }
                Some(_) => {}
                None => d.at(tag, |d| {
                    d.add(if old.is_required() {
                        Change::RequiredFieldRemoved
                    } else {
                        Change::FieldRemoved
                    })
                }),
            },
            (None, Some(new)) => match uf {
                Some(oneof) => d.at(oneof, |d| d.at(tag, |d| d.add(Change::OneofFieldAdded))),
                None => d.at(tag, |d| {
                    d.add(if new.is_required() {
                        Change::RequiredFieldAdded
                    } else {
                        Change::FieldAdded
                    })
                }),
            },
            (Some(old), Some(new)) => {
                if of.is_some() && uf.is_none() {
                    d.at(tag, |d| d.add(Change::OneofFieldMovedToTopLevel));
                }
                match uf {
                    Some(oneof) => d.at(oneof, |d| d.at(tag, |d| compare_field(d, old, new))),
                    None => d.at(tag, |d| compare_field(d, old, new)),
                }
            }
            (None, None) => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Optional,
    Required,
    Repeated,
}

/// The label as written: none for proto3 singular fields, oneof members and maps.
fn label(f: &FieldDescriptor) -> Option<Label> {
    if f.is_map() || real_oneof(f).is_some() {
        return None;
    }
    match f.cardinality() {
        Cardinality::Repeated => Some(Label::Repeated),
        Cardinality::Required => Some(Label::Required),
        Cardinality::Optional => match f.parent_file().syntax() {
            Syntax::Proto3 if !f.field_descriptor_proto().proto3_optional() => None,
            _ => Some(Label::Optional),
        },
    }
}

/// Scalars grouped by wire compatibility (enums read as general numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scalar {
    GeneralNumber,
    SignedNumber,
    StringOrBytes,
    Fixed32,
    Fixed64,
    Float,
    Double,
}

enum Ty {
    Scalar(Scalar),
    Message(MessageDescriptor),
    Map(Box<Ty>, Box<Ty>),
}

fn ty_of_kind(kind: Kind) -> Ty {
    Ty::Scalar(match kind {
        Kind::Message(m) => return Ty::Message(m),
        Kind::Enum(_) | Kind::Int32 | Kind::Int64 | Kind::Uint32 | Kind::Uint64 | Kind::Bool => {
            Scalar::GeneralNumber
        }
        Kind::Sint32 | Kind::Sint64 => Scalar::SignedNumber,
        Kind::String | Kind::Bytes => Scalar::StringOrBytes,
        Kind::Fixed32 | Kind::Sfixed32 => Scalar::Fixed32,
        Kind::Fixed64 | Kind::Sfixed64 => Scalar::Fixed64,
        Kind::Float => Scalar::Float,
        Kind::Double => Scalar::Double,
    })
}

fn ty(f: &FieldDescriptor) -> Ty {
    match f.kind() {
        Kind::Message(entry) if f.is_map() => Ty::Map(
            Box::new(ty(&entry.map_entry_key_field())),
            Box::new(ty(&entry.map_entry_value_field())),
        ),
        kind => ty_of_kind(kind),
    }
}

fn compare_field(d: &mut Diff, original: &FieldDescriptor, update: &FieldDescriptor) {
    if original.name() != update.name() {
        d.add(Change::FieldNameChanged);
    }
    compare_ty(d, label(original), label(update), ty(original), ty(update));
}

fn compare_ty(d: &mut Diff, ol: Option<Label>, ul: Option<Label>, o: Ty, u: Ty) {
    match (o, u) {
        (Ty::Scalar(a), Ty::Scalar(b)) => {
            if a != b {
                d.add(Change::FieldScalarKindChanged);
            } else if let (Some(x), Some(y)) = (ol, ul) {
                if x != y {
                    d.add(if a == Scalar::StringOrBytes {
                        Change::FieldStringOrBytesLabelChanged
                    } else {
                        Change::FieldNumericLabelChanged
                    });
                }
            }
        }
        (Ty::Message(a), Ty::Message(b)) => compare_named(d, &a, &b),
        (Ty::Map(ok, ov), Ty::Map(uk, uv)) => {
            compare_ty(d, None, None, *ok, *uk);
            compare_ty(d, None, None, *ov, *uv);
        }
        _ => d.add(Change::FieldKindChanged),
    }
}

/// The name inside its package.
fn local_name(m: &MessageDescriptor) -> &str {
    let package = m.package_name();
    if package.is_empty() {
        m.full_name()
    } else {
        m.full_name()
            .strip_prefix(package)
            .and_then(|s| s.strip_prefix('.'))
            .unwrap_or(m.full_name())
    }
}

fn compare_named(d: &mut Diff, original: &MessageDescriptor, update: &MessageDescriptor) {
    let name = local_name(original);
    if name != local_name(update) {
        d.add(Change::FieldNamedTypeChanged);
        return;
    }
    let (of, uf) = (original.parent_file(), update.parent_file());
    let both_local = of.name() == uf.name()
        && of.file_descriptor_proto() == uf.file_descriptor_proto()
        || is_main(&of) && is_main(&uf);
    // Types of the schemas themselves are compared by name above; only types from
    // different imports need a look inside.
    if both_local {
        return;
    }
    let mut sub = Diff {
        path: name.split('.').map(str::to_string).collect(),
        in_scope: d.in_scope.clone(),
        found: Vec::new(),
    };
    compare_message(&mut sub, original, update);
    let incompatible = sub.found.iter().any(|(c, _)| !c.compatible());
    d.found.extend(sub.found);
    if incompatible {
        d.add(Change::FieldNamedTypeChanged);
    }
}

fn is_main(f: &FileDescriptor) -> bool {
    f.name().trim_start_matches('_') == MAIN_FILE
}

// ---------------------------------------------------------------------------------------
// Printing: a deterministic `.proto` text from the descriptor
// ---------------------------------------------------------------------------------------

/// How type names are written: fully qualified with a leading dot (normalized form), or
/// without the file's own package (the stored form, closer to what people write).
#[derive(Clone, Copy)]
struct Names<'a> {
    package: Option<&'a str>,
}

impl Names<'_> {
    fn of(&self, full_name: &str) -> String {
        match self.package {
            None => format!(".{full_name}"),
            Some(package) => full_name
                .strip_prefix(package)
                .and_then(|rest| rest.strip_prefix('.'))
                .filter(|_| !package.is_empty())
                .unwrap_or(full_name)
                .to_string(),
        }
    }
}

/// The file as `.proto` text. `normalized`: imports sorted, names fully qualified; else
/// imports keep their order (which the descriptor records) and names drop the package.
fn print_file(file: &FileDescriptor, normalized: bool) -> String {
    let proto = file.file_descriptor_proto();
    let names = Names {
        package: (!normalized).then(|| file.package_name()),
    };
    let sorted = normalized;
    let mut out = String::new();
    let syntax = match file.syntax() {
        Syntax::Proto2 => "proto2",
        Syntax::Proto3 => "proto3",
    };
    let _ = writeln!(out, "syntax = \"{syntax}\";");
    if !file.package_name().is_empty() {
        let _ = writeln!(out, "package {};", file.package_name());
    }
    let mut imports: Vec<(String, &str)> = proto
        .dependency
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let i = i as i32;
            let kind = if proto.public_dependency.contains(&i) {
                "public "
            } else if proto.weak_dependency.contains(&i) {
                "weak "
            } else {
                ""
            };
            (name.clone(), kind)
        })
        .collect();
    if sorted {
        imports.sort();
    }
    if !imports.is_empty() {
        out.push('\n');
    }
    for (name, kind) in imports {
        let _ = writeln!(out, "import {kind}{};", quote(name.as_bytes()));
    }
    let options = option_entries(&file.options());
    if !options.is_empty() {
        out.push('\n');
    }
    for (k, v) in options {
        let _ = writeln!(out, "option {k} = {v};");
    }
    for m in file.messages() {
        out.push('\n');
        print_message(&mut out, &m, 0, names);
    }
    for e in file.enums() {
        out.push('\n');
        print_enum(&mut out, &e, 0);
    }
    print_extends(&mut out, file.extensions().collect(), 0, names);
    for s in file.services() {
        out.push('\n');
        let _ = writeln!(out, "service {} {{", s.name());
        for (k, v) in option_entries(&s.options()) {
            let _ = writeln!(out, "  option {k} = {v};");
        }
        for m in s.methods() {
            let stream = |b: bool| if b { "stream " } else { "" };
            let _ = write!(
                out,
                "  rpc {}({}{}) returns ({}{})",
                m.name(),
                stream(m.is_client_streaming()),
                names.of(m.input().full_name()),
                stream(m.is_server_streaming()),
                names.of(m.output().full_name())
            );
            let options = option_entries(&m.options());
            if options.is_empty() {
                out.push_str(";\n");
            } else {
                out.push_str(" {\n");
                for (k, v) in options {
                    let _ = writeln!(out, "    option {k} = {v};");
                }
                out.push_str("  }\n");
            }
        }
        out.push_str("}\n");
    }
    out.trim_end().to_string()
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn print_message(out: &mut String, m: &MessageDescriptor, depth: usize, names: Names) {
    indent(out, depth);
    let _ = writeln!(out, "message {} {{", m.name());
    print_message_body(out, m, depth + 1, names);
    indent(out, depth);
    out.push_str("}\n");
}

fn print_message_body(out: &mut String, m: &MessageDescriptor, depth: usize, names: Names) {
    for (k, v) in option_entries(&m.options()) {
        indent(out, depth);
        let _ = writeln!(out, "option {k} = {v};");
    }
    let mut printed_oneofs = HashSet::new();
    let mut groups = HashSet::new();
    for f in m.fields() {
        if f.is_group() {
            if let Kind::Message(g) = f.kind() {
                groups.insert(g.full_name().to_string());
            }
        }
        match real_oneof(&f) {
            Some(o) => {
                if printed_oneofs.insert(o.name().to_string()) {
                    indent(out, depth);
                    let _ = writeln!(out, "oneof {} {{", o.name());
                    for (k, v) in option_entries(&o.options()) {
                        indent(out, depth + 1);
                        let _ = writeln!(out, "option {k} = {v};");
                    }
                    for member in o.fields() {
                        print_field(out, &member, depth + 1, names);
                    }
                    indent(out, depth);
                    out.push_str("}\n");
                }
            }
            None => print_field(out, &f, depth, names),
        }
    }
    let ranges: Vec<String> = m
        .reserved_ranges()
        .map(|r| range_text(r.start as i64, r.end as i64 - 1, 536_870_911))
        .collect();
    if !ranges.is_empty() {
        indent(out, depth);
        let _ = writeln!(out, "reserved {};", ranges.join(", "));
    }
    let reserved: Vec<String> = m.reserved_names().map(|n| quote(n.as_bytes())).collect();
    if !reserved.is_empty() {
        indent(out, depth);
        let _ = writeln!(out, "reserved {};", reserved.join(", "));
    }
    let ranges: Vec<String> = m
        .extension_ranges()
        .map(|r| range_text(r.start as i64, r.end as i64 - 1, 536_870_911))
        .collect();
    if !ranges.is_empty() {
        indent(out, depth);
        let _ = writeln!(out, "extensions {};", ranges.join(", "));
    }
    for nested in m.child_messages() {
        if nested.is_map_entry() || groups.contains(nested.full_name()) {
            continue;
        }
        print_message(out, &nested, depth, names);
    }
    for e in m.child_enums() {
        print_enum(out, &e, depth);
    }
    print_extends(out, m.child_extensions().collect(), depth, names);
}

fn range_text(start: i64, end: i64, max: i64) -> String {
    if start == end {
        start.to_string()
    } else if end == max {
        format!("{start} to max")
    } else {
        format!("{start} to {end}")
    }
}

fn print_enum(out: &mut String, e: &EnumDescriptor, depth: usize) {
    indent(out, depth);
    let _ = writeln!(out, "enum {} {{", e.name());
    for (k, v) in option_entries(&e.options()) {
        indent(out, depth + 1);
        let _ = writeln!(out, "option {k} = {v};");
    }
    // Declaration order (the descriptor's own iteration groups aliases).
    let values = e
        .enum_descriptor_proto()
        .value
        .iter()
        .filter_map(|v| e.get_value_by_name(v.name()));
    for v in values {
        indent(out, depth + 1);
        let _ = write!(out, "{} = {}", v.name(), v.number());
        let options: Vec<String> = option_entries(&v.options())
            .into_iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        if !options.is_empty() {
            let _ = write!(out, " [{}]", options.join(", "));
        }
        out.push_str(";\n");
    }
    let ranges: Vec<String> = e
        .reserved_ranges()
        .map(|r| range_text(*r.start() as i64, *r.end() as i64, i32::MAX as i64))
        .collect();
    if !ranges.is_empty() {
        indent(out, depth + 1);
        let _ = writeln!(out, "reserved {};", ranges.join(", "));
    }
    let names: Vec<String> = e.reserved_names().map(|n| quote(n.as_bytes())).collect();
    if !names.is_empty() {
        indent(out, depth + 1);
        let _ = writeln!(out, "reserved {};", names.join(", "));
    }
    indent(out, depth);
    out.push_str("}\n");
}

fn print_extends(
    out: &mut String,
    extensions: Vec<prost_reflect::ExtensionDescriptor>,
    depth: usize,
    names: Names,
) {
    let mut by_extendee: BTreeMap<String, Vec<prost_reflect::ExtensionDescriptor>> =
        BTreeMap::new();
    for x in extensions {
        by_extendee
            .entry(x.containing_message().full_name().to_string())
            .or_default()
            .push(x);
    }
    for (extendee, fields) in by_extendee {
        if depth == 0 {
            out.push('\n');
        }
        indent(out, depth);
        let _ = writeln!(out, "extend {} {{", names.of(&extendee));
        for x in fields {
            let proto = x.field_descriptor_proto();
            let label = match x.cardinality() {
                Cardinality::Repeated => "repeated ",
                Cardinality::Required => "required ",
                Cardinality::Optional if x.parent_file().syntax() == Syntax::Proto2 => "optional ",
                Cardinality::Optional => "",
            };
            indent(out, depth + 1);
            let _ = writeln!(
                out,
                "{label}{} {} = {}{};",
                kind_name(&x.kind(), names),
                x.name(),
                x.number(),
                field_options(proto, &x.kind(), &x.options(), x.name())
            );
        }
        indent(out, depth);
        out.push_str("}\n");
    }
}

fn kind_name(kind: &Kind, names: Names) -> String {
    match kind {
        Kind::Double => "double".into(),
        Kind::Float => "float".into(),
        Kind::Int32 => "int32".into(),
        Kind::Int64 => "int64".into(),
        Kind::Uint32 => "uint32".into(),
        Kind::Uint64 => "uint64".into(),
        Kind::Sint32 => "sint32".into(),
        Kind::Sint64 => "sint64".into(),
        Kind::Fixed32 => "fixed32".into(),
        Kind::Fixed64 => "fixed64".into(),
        Kind::Sfixed32 => "sfixed32".into(),
        Kind::Sfixed64 => "sfixed64".into(),
        Kind::Bool => "bool".into(),
        Kind::String => "string".into(),
        Kind::Bytes => "bytes".into(),
        Kind::Message(m) => names.of(m.full_name()),
        Kind::Enum(e) => names.of(e.full_name()),
    }
}

fn print_field(out: &mut String, f: &FieldDescriptor, depth: usize, names: Names) {
    indent(out, depth);
    let proto = f.field_descriptor_proto();
    let options = field_options(proto, &f.kind(), &f.options(), f.name());
    if f.is_map() {
        if let Kind::Message(entry) = f.kind() {
            let _ = writeln!(
                out,
                "map<{}, {}> {} = {}{options};",
                kind_name(&entry.map_entry_key_field().kind(), names),
                kind_name(&entry.map_entry_value_field().kind(), names),
                f.name(),
                f.number()
            );
            return;
        }
    }
    let label = match label(f) {
        Some(Label::Repeated) => "repeated ",
        Some(Label::Required) => "required ",
        Some(Label::Optional) => "optional ",
        None => "",
    };
    if f.is_group() {
        if let Kind::Message(g) = f.kind() {
            let _ = writeln!(
                out,
                "{label}group {} = {}{options} {{",
                g.name(),
                f.number()
            );
            print_message_body(out, &g, depth + 1, names);
            indent(out, depth);
            out.push_str("}\n");
            return;
        }
    }
    let _ = writeln!(
        out,
        "{label}{} {} = {}{options};",
        kind_name(&f.kind(), names),
        f.name(),
        f.number()
    );
}

/// ` [default = ..., json_name = ..., options...]`, or nothing.
fn field_options(
    proto: &prost_reflect::prost_types::FieldDescriptorProto,
    kind: &Kind,
    options: &DynamicMessage,
    name: &str,
) -> String {
    let mut entries = Vec::new();
    if let Some(default) = &proto.default_value {
        let text = match kind {
            Kind::String => quote(default.as_bytes()),
            Kind::Bytes => format!("\"{default}\""),
            _ => default.clone(),
        };
        entries.push(format!("default = {text}"));
    }
    if let Some(json) = &proto.json_name {
        if *json != default_json_name(name) {
            entries.push(format!("json_name = {}", quote(json.as_bytes())));
        }
    }
    entries.extend(
        option_entries(options)
            .into_iter()
            .map(|(k, v)| format!("{k} = {v}")),
    );
    if entries.is_empty() {
        String::new()
    } else {
        format!(" [{}]", entries.join(", "))
    }
}

fn default_json_name(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Set options as (name, value text), sorted by name; repeated options once per value.
fn option_entries(options: &DynamicMessage) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut push = |name: String, kind: Kind, value: &Value| match value {
        Value::List(items) => {
            for item in items {
                out.push((name.clone(), value_text(&kind, item)));
            }
        }
        v => out.push((name, value_text(&kind, v))),
    };
    for (f, v) in options.fields() {
        if f.name() == "uninterpreted_option" {
            continue;
        }
        push(f.name().to_string(), f.kind(), v);
    }
    for (x, v) in options.extensions() {
        push(format!("({})", x.full_name()), x.kind(), v);
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn value_text(kind: &Kind, value: &Value) -> String {
    match value {
        Value::Bool(b) => b.to_string(),
        Value::I32(n) => n.to_string(),
        Value::I64(n) => n.to_string(),
        Value::U32(n) => n.to_string(),
        Value::U64(n) => n.to_string(),
        Value::F32(n) => float_text(f64::from(*n)),
        Value::F64(n) => float_text(*n),
        Value::String(s) => quote(s.as_bytes()),
        Value::Bytes(b) => quote(b),
        Value::EnumNumber(n) => match kind {
            Kind::Enum(e) => e
                .get_value(*n)
                .map_or_else(|| n.to_string(), |v| v.name().to_string()),
            _ => n.to_string(),
        },
        Value::Message(m) => format!("{{ {} }}", m.to_text_format()),
        other => other.to_string(),
    }
}

fn float_text(n: f64) -> String {
    if n.is_nan() {
        "nan".into()
    } else if n.is_infinite() {
        if n > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        n.to_string()
    }
}

/// A double-quoted literal, escaping what is not printable ASCII.
fn quote(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ProtobufSchema {
        ProtobufSchema::parse(text, &[]).unwrap()
    }

    /// (compatible, every change) going from `old` to `new`, as Confluent reports them.
    fn diff(old: &str, new: &str) -> (bool, Vec<String>) {
        let (old, new) = (parse(old), parse(new));
        (new.read_problems(&old).is_empty(), new.changes_from(&old))
    }

    fn sorted(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v
    }

    const ORDER: &str = "syntax = \"proto3\";\n\nmessage Order {\n  int32 order_id = 1;\n  string product = 2;\n  int32 quantity = 3;\n}\n";

    #[test]
    fn parses_proto2_and_proto3_and_rejects_garbage_with_a_position() {
        parse(ORDER);
        parse("syntax = \"proto2\";\nmessage A { required int32 a = 1; optional string b = 2 [default = \"x\"]; }");
        match ProtobufSchema::parse("syntax = \"proto3\";\nmessage A {\n  int32 a = ;\n}", &[]) {
            Err(RegistryError::InvalidSchema(m)) => assert!(m.contains(":3:"), "{m}"),
            other => panic!("{other:?}"),
        }
        match ProtobufSchema::parse("syntax = \"proto3\";\nmessage A { Missing m = 1; }", &[]) {
            Err(RegistryError::InvalidSchema(m)) => assert!(m.contains("Missing"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn confluents_builtin_imports_resolve_without_references() {
        let main = "syntax = \"proto3\";\nimport \"google/type/date.proto\";\nimport \"confluent/meta.proto\";\nimport \"confluent/type/decimal.proto\";\nmessage A {\n  google.type.Date d = 1 [(confluent.field_meta) = { doc: \"day\" }];\n  confluent.type.Decimal amount = 2;\n}";
        let a = parse(main);
        assert_eq!(parse(&a.canonical()).normalized(), a.normalized());
        for (name, _) in BUILTIN {
            ProtobufSchema::parse(&format!("syntax = \"proto3\";\nimport \"{name}\";"), &[])
                .unwrap();
        }
    }

    #[test]
    fn imports_resolve_from_references_and_well_known_files() {
        let main = "syntax = \"proto3\";\nimport \"customer.proto\";\nimport \"google/protobuf/timestamp.proto\";\nmessage Order { shop.Customer customer = 1; google.protobuf.Timestamp at = 2; }";
        assert!(ProtobufSchema::parse(main, &[]).is_err());
        let customer = "syntax = \"proto3\";\npackage shop;\nmessage Customer { int64 id = 1; }";
        ProtobufSchema::parse(main, &[("customer.proto".into(), customer.into())]).unwrap();
    }

    #[test]
    fn canonical_and_normalized_are_stable_reprints() {
        let a = parse(&format!("\n{ORDER}\n\n"));
        assert_eq!(a.canonical(), ORDER.trim());
        let spaced = parse("syntax=\"proto3\";  message Order{int32 order_id=1;string product=2;\n int32 quantity=3;}");
        assert_eq!(a.normalized(), spaced.normalized());
        assert_eq!(a.canonical(), spaced.canonical());
        // Imports keep their order in the stored text, and sort in the normalized one.
        let imports = "syntax = \"proto3\";\nimport \"google/protobuf/timestamp.proto\";\nimport \"google/protobuf/any.proto\";\nmessage A { google.protobuf.Any a = 1; google.protobuf.Timestamp t = 2; }";
        let i = parse(imports);
        assert!(i.canonical().find("timestamp") < i.canonical().find("any.proto"));
        assert!(i.normalized().find("timestamp") > i.normalized().find("any.proto"));
        // The re-print compiles to the same thing.
        assert_eq!(parse(&a.normalized()).normalized(), a.normalized());
        let rich = "syntax = \"proto2\";\npackage p;\nimport \"google/protobuf/any.proto\";\noption java_package = \"x.y\";\nmessage M {\n  optional string s = 1 [default = \"a\\\"b\", deprecated = true];\n  map<string, M> m = 2;\n  oneof o { int32 a = 3; google.protobuf.Any any = 4; }\n  enum E { option allow_alias = true; X = 0; Y = 0; }\n  optional E e = 5 [default = Y];\n  reserved 10, 20 to 30;\n  reserved \"gone\";\n  extensions 100 to max;\n}\nextend M { optional int32 ext = 100; }\nservice S { rpc Call(M) returns (stream M); }\n";
        let r = parse(rich);
        assert_eq!(parse(&r.normalized()).normalized(), r.normalized());
        assert!(r.normalized().contains("option java_package = \"x.y\";"));
        // The stored text is the re-print too: it compiles back to the same descriptor.
        assert!(
            r.canonical().contains("map<string, M> m = 2;"),
            "{}",
            r.canonical()
        );
    }

    #[test]
    fn base64_descriptors_parse_and_round_trip() {
        let a = parse(ORDER);
        let b = parse(&a.serialized());
        assert_eq!(b.canonical(), a.canonical());
        assert!(b.read_problems(&a).is_empty());
    }

    #[test]
    fn fields_by_tag_and_scalar_groups() {
        let v1 = "syntax = \"proto3\";\nmessage T { string s = 1; int32 i = 2; }";
        // Renaming is free, wire-compatible scalars are free.
        assert_eq!(
            diff(
                v1,
                "syntax = \"proto3\";\nmessage T { bytes s = 1; uint64 j = 2; }"
            ),
            (true, vec!["FIELD_NAME_CHANGED #/T/2".into()])
        );
        assert_eq!(
            diff(
                v1,
                "syntax = \"proto3\";\nmessage T { string s = 1; sint32 i = 2; }"
            ),
            (false, vec!["FIELD_SCALAR_KIND_CHANGED #/T/2".into()])
        );
        assert_eq!(
            diff(v1, "syntax = \"proto3\";\nmessage T { string s = 1; }"),
            (true, vec!["FIELD_REMOVED #/T/2".into()])
        );
        assert_eq!(
            diff(
                v1,
                "syntax = \"proto3\";\nmessage T { string s = 1; U i = 2; }\nmessage U {}"
            ),
            (
                false,
                vec![
                    "FIELD_KIND_CHANGED #/T/2".into(),
                    "MESSAGE_ADDED #/U".into()
                ]
            )
        );
        // Maps compare key and value.
        assert!(
            !diff(
                "syntax = \"proto3\";\nmessage T { map<string, int32> m = 1; }",
                "syntax = \"proto3\";\nmessage T { map<string, string> m = 1; }"
            )
            .0
        );
    }

    #[test]
    fn required_fields_and_labels() {
        let v1 = "syntax = \"proto2\";\nmessage T { optional string s = 1; required int32 r = 2; }";
        assert_eq!(
            diff(
                v1,
                "syntax = \"proto2\";\nmessage T { optional string s = 1; }"
            ),
            (false, vec!["REQUIRED_FIELD_REMOVED #/T/2".into()])
        );
        assert_eq!(
            diff(v1, "syntax = \"proto2\";\nmessage T { repeated string s = 1; required int32 r = 2; required int32 x = 3; }"),
            (
                false,
                vec![
                    "FIELD_STRING_OR_BYTES_LABEL_CHANGED #/T/1".into(),
                    "REQUIRED_FIELD_ADDED #/T/3".into()
                ]
            )
        );
        assert_eq!(
            diff(
                v1,
                "syntax = \"proto2\";\nmessage T { optional string s = 1; repeated int32 r = 2; }"
            ),
            (false, vec!["FIELD_NUMERIC_LABEL_CHANGED #/T/2".into()])
        );
    }

    #[test]
    fn messages_and_enums_by_name() {
        let v1 =
            "syntax = \"proto3\";\nmessage A { E e = 1; }\nmessage B {}\nenum E { X = 0; Y = 1; }";
        assert_eq!(
            diff(v1, "syntax = \"proto3\";\nmessage B {}\nmessage A { E e = 1; }\nenum E { X = 0; Z = 1; W = 2; }"),
            (
                true,
                vec![
                    "MESSAGE_MOVED #/A".into(),
                    "MESSAGE_MOVED #/B".into(),
                    "ENUM_CONST_CHANGED #/E/1".into(),
                    "ENUM_CONST_ADDED #/E/2".into()
                ]
            )
        );
        assert_eq!(
            diff(
                v1,
                "syntax = \"proto3\";\nmessage A { E e = 1; }\nenum E { X = 0; }"
            ),
            (
                false,
                vec![
                    "MESSAGE_REMOVED #/B".into(),
                    "ENUM_CONST_REMOVED #/E/1".into()
                ]
            )
        );
        assert!(
            !diff(
                v1,
                &v1.replace("syntax = \"proto3\";", "syntax = \"proto3\";\npackage p;")
            )
            .0
        );
    }

    #[test]
    fn oneof_membership() {
        let two = "syntax = \"proto3\";\nmessage M { int32 a = 1; int32 b = 2; }";
        assert_eq!(
            sorted(
                diff(
                    two,
                    "syntax = \"proto3\";\nmessage M { oneof o { int32 a = 1; int32 b = 2; } }"
                )
                .1
            ),
            vec!["MULTIPLE_FIELDS_MOVED_TO_ONEOF #/M/o", "ONEOF_ADDED #/M/o"]
        );
        assert!(
            diff(
                two,
                "syntax = \"proto3\";\nmessage M { int32 a = 1; oneof o { int32 b = 2; } }"
            )
            .0
        );
        let one_of = "syntax = \"proto3\";\nmessage M { oneof x { int32 a = 1; int32 b = 2; } }";
        assert_eq!(
            diff(
                one_of,
                "syntax = \"proto3\";\nmessage M { oneof x { int32 a = 1; } int32 b = 2; }"
            ),
            (true, vec!["ONEOF_FIELD_MOVED_TO_TOP_LEVEL #/M/2".into()])
        );
        assert_eq!(
            diff(
                one_of,
                "syntax = \"proto3\";\nmessage M { oneof x { int32 a = 1; } }"
            ),
            (false, vec!["ONEOF_FIELD_REMOVED #/M/x/2".into()])
        );
        assert_eq!(
            diff(one_of, "syntax = \"proto3\";\nmessage M { oneof x { int32 a = 1; int32 b = 2; int32 c = 3; } }"),
            (true, vec!["ONEOF_FIELD_ADDED #/M/x/3".into()])
        );
        // A whole oneof deleted is compatible; proto3 `optional` is not a oneof.
        assert!(diff(one_of, "syntax = \"proto3\";\nmessage M {}").0);
        assert_eq!(
            diff(
                two,
                "syntax = \"proto3\";\nmessage M { optional int32 a = 1; int32 b = 2; }"
            )
            .1,
            Vec::<String>::new()
        );
    }

    #[test]
    fn message_types_by_local_name_and_through_imports() {
        let v1 = "syntax = \"proto3\";\nmessage T { U u = 1; }\nmessage U { string s = 1; }";
        // U removed at the top level.
        assert!(
            !diff(
                v1,
                "syntax = \"proto3\";\nmessage T { .T.U u = 1; message U { string s = 1; } }"
            )
            .0
        );
        assert!(
            diff(
                v1,
                "syntax = \"proto3\";\nmessage T { .U u = 1; }\nmessage U { string s = 1; }"
            )
            .0
        );
        let imp = |body: &str| -> ProtobufSchema {
            let dep = format!("syntax = \"proto3\";\npackage dep;\nmessage U {{ {body} }}");
            ProtobufSchema::parse(
                "syntax = \"proto3\";\nimport \"dep.proto\";\nmessage T { dep.U u = 1; }",
                &[("dep.proto".into(), dep)],
            )
            .unwrap()
        };
        let (old, new) = (imp("string s = 1;"), imp("int32 s = 1;"));
        assert_eq!(
            new.changes_from(&old),
            vec![
                "FIELD_SCALAR_KIND_CHANGED #/U/1",
                "FIELD_NAMED_TYPE_CHANGED #/T/1"
            ]
        );
        assert!(imp("string s = 1;").read_problems(&old).is_empty());
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let depth = 5000;
        let text = format!(
            "syntax = \"proto3\";\n{}{}",
            "message M { ".repeat(depth),
            "}".repeat(depth)
        );
        let parsed = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || ProtobufSchema::parse(&text, &[]).is_err())
            .unwrap()
            .join();
        assert!(parsed.unwrap());
    }

    #[test]
    fn recursive_types_terminate() {
        let v = "syntax = \"proto3\";\nmessage Node { Node next = 1; repeated Node kids = 2; }";
        assert_eq!(diff(v, v), (true, vec![]));
    }
}
