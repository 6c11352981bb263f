//! The registry's state and every operation on it. Each change is appended to the compacted
//! `_schemas` topic first, in Confluent's record format, and applied to memory after; on
//! start the topic is replayed, so ids, versions, configs and modes survive restarts and the
//! log stays the one source of truth. Writes are serialised; reads share a lock. It knows
//! nothing about HTTP.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use sluice_log::keyed::{self, KeyedRecord};
use sluice_log::{LogStore, SharedPartition};

use crate::error::{RegistryError, Result};
use crate::formats::ParsedSchema;
use crate::model::*;

/// The topic holding every schema, config and mode record.
pub const SCHEMAS_TOPIC: &str = "_schemas";
/// Compatibility when none is configured (Confluent's default).
pub const DEFAULT_COMPATIBILITY: Compatibility = Compatibility::Backward;

/// A version selector: a number or `latest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSpec {
    Latest,
    Number(i32),
}

impl VersionSpec {
    pub fn parse(s: &str) -> Result<VersionSpec> {
        if s == "latest" || s == "-1" {
            return Ok(VersionSpec::Latest);
        }
        match s.parse::<i32>() {
            Ok(n) if n >= 1 => Ok(VersionSpec::Number(n)),
            _ => Err(RegistryError::InvalidVersion(s.to_string())),
        }
    }
}

/// What a client sends to register or look up a schema.
#[derive(Debug, Clone, Default)]
pub struct SchemaInput {
    pub schema_type: SchemaType,
    pub schema: String,
    pub references: Vec<SchemaReference>,
    /// Only in IMPORT mode: keep this id (and version).
    pub id: Option<u32>,
    pub version: Option<i32>,
}

/// One registered version, as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredSchema {
    pub subject: String,
    pub version: i32,
    pub id: u32,
    pub schema_type: SchemaType,
    pub schema: String,
    pub references: Vec<SchemaReference>,
    pub deleted: bool,
}

#[derive(Debug, Clone)]
struct SchemaById {
    schema_type: SchemaType,
    schema: String,
    references: Vec<SchemaReference>,
}

#[derive(Debug, Clone, Copy)]
struct VersionEntry {
    id: u32,
    deleted: bool,
}

#[derive(Debug, Clone, Default)]
struct Subject {
    versions: BTreeMap<i32, VersionEntry>,
    compatibility: Option<Compatibility>,
    mode: Option<Mode>,
}

impl Subject {
    fn live(&self) -> impl DoubleEndedIterator<Item = (i32, VersionEntry)> + '_ {
        self.versions
            .iter()
            .filter(|(_, e)| !e.deleted)
            .map(|(v, e)| (*v, *e))
    }
    fn has_live(&self) -> bool {
        self.live().next().is_some()
    }
}

#[derive(Debug, Default)]
struct State {
    schemas: BTreeMap<u32, SchemaById>,
    /// (type, canonical text, references) → id: identical schemas share an id.
    ids: HashMap<(SchemaType, String, Vec<SchemaReference>), u32>,
    subjects: BTreeMap<String, Subject>,
    compatibility: Option<Compatibility>,
    mode: Option<Mode>,
}

impl State {
    fn apply(&mut self, key: &LogKey, value: Option<&[u8]>) {
        match key {
            LogKey::Schema {
                subject, version, ..
            } => match value.and_then(|v| serde_json::from_slice::<SchemaValue>(v).ok()) {
                Some(v) => {
                    self.schemas.entry(v.id).or_insert_with(|| SchemaById {
                        schema_type: v.schema_type,
                        schema: v.schema.clone(),
                        references: v.references.clone(),
                    });
                    self.ids
                        .entry((v.schema_type, v.schema.clone(), v.references.clone()))
                        .or_insert(v.id);
                    self.subjects
                        .entry(v.subject.clone())
                        .or_default()
                        .versions
                        .insert(
                            v.version,
                            VersionEntry {
                                id: v.id,
                                deleted: v.deleted,
                            },
                        );
                }
                None => {
                    if let Some(s) = self.subjects.get_mut(subject) {
                        s.versions.remove(version);
                    }
                    self.drop_empty(subject);
                }
            },
            LogKey::Config { subject, .. } => {
                let level = value
                    .and_then(|v| serde_json::from_slice::<ConfigValue>(v).ok())
                    .map(|c| c.compatibility_level);
                match subject {
                    None => self.compatibility = level,
                    Some(s) => {
                        self.subjects.entry(s.clone()).or_default().compatibility = level;
                        self.drop_empty(s);
                    }
                }
            }
            LogKey::Mode { subject, .. } => {
                let mode = value
                    .and_then(|v| serde_json::from_slice::<ModeValue>(v).ok())
                    .map(|m| m.mode);
                match subject {
                    None => self.mode = mode,
                    Some(s) => {
                        self.subjects.entry(s.clone()).or_default().mode = mode;
                        self.drop_empty(s);
                    }
                }
            }
            LogKey::DeleteSubject { subject, .. } => {
                if let Some(s) = self.subjects.get_mut(subject) {
                    for e in s.versions.values_mut() {
                        e.deleted = true;
                    }
                }
            }
            LogKey::ClearSubject { .. } | LogKey::Noop { .. } => {}
        }
    }

    fn drop_empty(&mut self, subject: &str) {
        if let Some(s) = self.subjects.get(subject) {
            if s.versions.is_empty() && s.compatibility.is_none() && s.mode.is_none() {
                self.subjects.remove(subject);
            }
        }
    }

    fn next_id(&self) -> u32 {
        self.schemas.keys().next_back().map_or(1, |id| id + 1)
    }

    fn subject(&self, name: &str, deleted: bool) -> Result<&Subject> {
        match self.subjects.get(name) {
            Some(s) if s.has_live() || (deleted && !s.versions.is_empty()) => Ok(s),
            _ => Err(RegistryError::SubjectNotFound(name.to_string())),
        }
    }

    fn version(
        &self,
        subject: &str,
        spec: VersionSpec,
        deleted: bool,
    ) -> Result<(i32, VersionEntry)> {
        let s = self.subject(subject, deleted)?;
        let found = match spec {
            VersionSpec::Latest => s.live().next_back(),
            VersionSpec::Number(n) => s
                .versions
                .get(&n)
                .filter(|e| deleted || !e.deleted)
                .map(|e| (n, *e)),
        };
        found.ok_or_else(|| {
            RegistryError::VersionNotFound(match spec {
                VersionSpec::Latest => "latest".into(),
                VersionSpec::Number(n) => n.to_string(),
            })
        })
    }

    fn registered(&self, subject: &str, version: i32, e: VersionEntry) -> RegisteredSchema {
        let s = &self.schemas[&e.id];
        RegisteredSchema {
            subject: subject.to_string(),
            version,
            id: e.id,
            schema_type: s.schema_type,
            schema: s.schema.clone(),
            references: s.references.clone(),
            deleted: e.deleted,
        }
    }

    fn compatibility_of(&self, subject: &str) -> Compatibility {
        self.subjects
            .get(subject)
            .and_then(|s| s.compatibility)
            .or(self.compatibility)
            .unwrap_or(DEFAULT_COMPATIBILITY)
    }

    fn mode_of(&self, subject: &str) -> Mode {
        self.subjects
            .get(subject)
            .and_then(|s| s.mode)
            .or(self.mode)
            .unwrap_or(Mode::Readwrite)
    }

    /// (reference name, text) of every schema `refs` reach, dependencies first.
    fn reference_texts(
        &self,
        refs: &[SchemaReference],
        out: &mut Vec<(String, String)>,
    ) -> Result<()> {
        for r in refs {
            let spec = if r.version == -1 {
                VersionSpec::Latest
            } else {
                VersionSpec::Number(r.version)
            };
            let (_, e) = self.version(&r.subject, spec, false).map_err(|_| {
                RegistryError::InvalidSchema(format!(
                    "reference {} to subject {} version {} is not registered",
                    r.name, r.subject, r.version
                ))
            })?;
            let s = &self.schemas[&e.id];
            self.reference_texts(&s.references.clone(), out)?;
            let named = (r.name.clone(), s.schema.clone());
            if !out.contains(&named) {
                out.push(named);
            }
        }
        Ok(())
    }

    fn parse(&self, ty: SchemaType, text: &str, refs: &[SchemaReference]) -> Result<ParsedSchema> {
        let mut texts = Vec::new();
        self.reference_texts(refs, &mut texts)?;
        ParsedSchema::parse(ty, text, &texts)
    }

    fn parse_id(&self, id: u32) -> Result<ParsedSchema> {
        let s = &self.schemas[&id];
        self.parse(s.schema_type, &s.schema, &s.references)
    }

    /// Problems found checking `new` against the versions of `subject` that `level` covers
    /// (`against`: one version, or None for what the level says).
    fn compatibility_problems(
        &self,
        subject: &str,
        new: &ParsedSchema,
        level: Compatibility,
        against: Option<i32>,
    ) -> Result<Vec<String>> {
        if level == Compatibility::None {
            return Ok(Vec::new());
        }
        let Some(s) = self.subjects.get(subject) else {
            return Ok(Vec::new());
        };
        let live: Vec<(i32, VersionEntry)> = s.live().collect();
        let targets: Vec<(i32, VersionEntry)> = match against {
            Some(v) => live.into_iter().filter(|(n, _)| *n == v).collect(),
            None if level.transitive() => live,
            None => live.into_iter().next_back().into_iter().collect(),
        };
        let mut problems = Vec::new();
        // Newest first, as Confluent reports them.
        for (_, e) in targets.iter().rev() {
            let old = self.parse_id(e.id)?;
            if old.schema_type() != new.schema_type() {
                problems.push(format!(
                    "Incompatible because of different schema type: {} vs {}",
                    old.schema_type().name(),
                    new.schema_type().name()
                ));
                continue;
            }
            if level.backward() {
                problems.extend(new.read_problems(&old));
            }
            if level.forward() {
                problems.extend(old.read_problems(new));
            }
        }
        Ok(problems)
    }
}

/// The schema registry over one log store.
pub struct SchemaRegistry {
    store: Arc<LogStore>,
    state: RwLock<State>,
    /// Serialises writers: append to the log, then apply.
    writer: Mutex<()>,
}

fn encode<T: serde::Serialize>(v: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(v).expect("registry records always serialise"))
}

impl SchemaRegistry {
    /// Opens (creating if needed) `_schemas` and replays it.
    pub fn open(store: Arc<LogStore>) -> Result<Arc<SchemaRegistry>> {
        let partition = Self::partition_of(&store)?;
        let mut state = State::default();
        let records = keyed::replay_keyed(&partition)?;
        let mut applied = 0usize;
        for KeyedRecord { key, value, .. } in &records {
            let Some(key) = key
                .as_ref()
                .and_then(|k| serde_json::from_slice::<LogKey>(k).ok())
            else {
                continue;
            };
            state.apply(&key, value.as_deref());
            applied += 1;
        }
        tracing::info!(
            records = applied,
            schemas = state.schemas.len(),
            subjects = state.subjects.len(),
            "loaded schema registry"
        );
        Ok(Arc::new(SchemaRegistry {
            store,
            state: RwLock::new(state),
            writer: Mutex::new(()),
        }))
    }

    fn partition_of(store: &LogStore) -> Result<SharedPartition> {
        Ok(keyed::open_internal_topic(
            store,
            SCHEMAS_TOPIC,
            &[("cleanup.policy", "compact")],
        )?)
    }

    /// Appends the records, then applies them. Callers hold `writer`.
    fn write(&self, records: Vec<(LogKey, Option<Bytes>)>) -> Result<()> {
        let raw: Vec<(Bytes, Option<Bytes>)> = records
            .iter()
            .map(|(k, v)| (encode(k), v.clone()))
            .collect();
        keyed::append_keyed(&Self::partition_of(&self.store)?, &raw)?;
        let mut state = self.state.write();
        for (k, v) in &records {
            state.apply(k, v.as_deref());
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Schemas
    // -----------------------------------------------------------------------------------

    /// Registers `input` under `subject` and returns its id (an existing one when the same
    /// schema is already there, or registered under another subject).
    pub fn register(&self, subject: &str, input: SchemaInput, normalize: bool) -> Result<u32> {
        validate_subject(subject)?;
        let _w = self.writer.lock();
        let (record, id) = {
            let state = self.state.read();
            let mode = state.mode_of(subject);
            if mode == Mode::Readonly {
                return Err(RegistryError::ReadOnly(subject.to_string()));
            }
            if input.id.is_some() && mode != Mode::Import {
                return Err(RegistryError::BadRequest(format!(
                    "Subject {subject} is not in import mode; an id can only be given in IMPORT mode"
                )));
            }
            let parsed = state.parse(input.schema_type, &input.schema, &input.references)?;
            let text = if normalize {
                parsed.normalized()
            } else {
                parsed.canonical()
            };
            let identity = (input.schema_type, text.clone(), input.references.clone());
            let existing_id = state.ids.get(&identity).copied();
            if let (Some(id), Some(s)) = (existing_id, state.subjects.get(subject)) {
                if s.live().any(|(_, e)| e.id == id) {
                    return Ok(id);
                }
            }
            if mode != Mode::Import {
                let level = state.compatibility_of(subject);
                let problems = state.compatibility_problems(subject, &parsed, level, None)?;
                if !problems.is_empty() {
                    return Err(RegistryError::Incompatible {
                        subject: subject.to_string(),
                        details: problems.join(", "),
                    });
                }
            }
            let id = match (input.id, existing_id) {
                (Some(wanted), _) => {
                    if let Some(taken) = state.schemas.get(&wanted) {
                        if (
                            taken.schema_type,
                            taken.schema.clone(),
                            taken.references.clone(),
                        ) != identity
                        {
                            return Err(RegistryError::BadRequest(format!(
                                "Overwrite new schema with id {wanted} is not permitted."
                            )));
                        }
                    }
                    wanted
                }
                (None, Some(id)) => id,
                (None, None) => state.next_id(),
            };
            let version = match input.version {
                Some(v) if v >= 1 => v,
                _ => state
                    .subjects
                    .get(subject)
                    .and_then(|s| s.versions.keys().next_back().copied())
                    .unwrap_or(0)
                    .checked_add(1)
                    .ok_or_else(|| RegistryError::Store("version overflow".into()))?,
            };
            let value = SchemaValue {
                subject: subject.to_string(),
                version,
                id,
                schema_type: input.schema_type,
                references: input.references.clone(),
                schema: text,
                deleted: false,
            };
            (
                (
                    LogKey::Schema {
                        subject: subject.to_string(),
                        version,
                        magic: 1,
                    },
                    Some(encode(&value)),
                ),
                id,
            )
        };
        self.write(vec![record])?;
        Ok(id)
    }

    /// The version of `subject` holding `input`, if registered there.
    pub fn lookup(
        &self,
        subject: &str,
        input: &SchemaInput,
        normalize: bool,
        deleted: bool,
    ) -> Result<RegisteredSchema> {
        let state = self.state.read();
        let s = state.subject(subject, deleted)?;
        let parsed = state.parse(input.schema_type, &input.schema, &input.references)?;
        let text = if normalize {
            parsed.normalized()
        } else {
            parsed.canonical()
        };
        let id = state
            .ids
            .get(&(input.schema_type, text, input.references.clone()))
            .copied();
        let hit = s
            .versions
            .iter()
            .rev()
            .find(|(_, e)| Some(e.id) == id && (deleted || !e.deleted));
        match hit {
            Some((v, e)) => Ok(state.registered(subject, *v, *e)),
            None => Err(RegistryError::SchemaNotFound(String::new())),
        }
    }

    pub fn schema_by_id(&self, id: u32) -> Result<(SchemaType, String, Vec<SchemaReference>)> {
        let state = self.state.read();
        let s = state
            .schemas
            .get(&id)
            .ok_or_else(|| RegistryError::SchemaNotFound(id.to_string()))?;
        Ok((s.schema_type, s.schema.clone(), s.references.clone()))
    }

    /// Schema `id`'s text in `format` (Confluent's `?format=`), or as stored when the
    /// format does not apply to its type.
    pub fn schema_text(&self, id: u32, format: &str) -> Result<String> {
        let state = self.state.read();
        let s = state
            .schemas
            .get(&id)
            .ok_or_else(|| RegistryError::SchemaNotFound(id.to_string()))?;
        let stored = s.schema.clone();
        Ok(state.parse_id(id)?.formatted(format).unwrap_or(stored))
    }

    /// (subject, version) pairs using schema `id`.
    pub fn versions_of_id(&self, id: u32, deleted: bool) -> Result<Vec<(String, i32)>> {
        let state = self.state.read();
        if !state.schemas.contains_key(&id) {
            return Err(RegistryError::SchemaNotFound(id.to_string()));
        }
        Ok(state
            .subjects
            .iter()
            .flat_map(|(name, s)| {
                s.versions
                    .iter()
                    .filter(|(_, e)| e.id == id && (deleted || !e.deleted))
                    .map(|(v, _)| (name.clone(), *v))
                    .collect::<Vec<_>>()
            })
            .collect())
    }

    pub fn schema_types(&self) -> Vec<&'static str> {
        vec!["JSON", "PROTOBUF", "AVRO"]
    }

    /// Every registered version (the latest only with `latest_only`).
    pub fn all_schemas(
        &self,
        subject_prefix: &str,
        deleted: bool,
        latest_only: bool,
    ) -> Vec<RegisteredSchema> {
        let state = self.state.read();
        let mut out = Vec::new();
        for (name, s) in state.subjects.range(subject_prefix.to_string()..) {
            if !name.starts_with(subject_prefix) {
                break;
            }
            let versions: Vec<(i32, VersionEntry)> = s
                .versions
                .iter()
                .filter(|(_, e)| deleted || !e.deleted)
                .map(|(v, e)| (*v, *e))
                .collect();
            let chosen: Vec<(i32, VersionEntry)> = if latest_only {
                versions.into_iter().next_back().into_iter().collect()
            } else {
                versions
            };
            for (v, e) in chosen {
                out.push(state.registered(name, v, e));
            }
        }
        out
    }

    // -----------------------------------------------------------------------------------
    // Subjects and versions
    // -----------------------------------------------------------------------------------

    pub fn subjects(&self, prefix: &str, deleted: bool) -> Vec<String> {
        let state = self.state.read();
        state
            .subjects
            .iter()
            .filter(|(name, s)| {
                name.starts_with(prefix) && (s.has_live() || (deleted && !s.versions.is_empty()))
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    pub fn versions(&self, subject: &str, deleted: bool) -> Result<Vec<i32>> {
        let state = self.state.read();
        let s = state.subject(subject, deleted)?;
        Ok(s.versions
            .iter()
            .filter(|(_, e)| deleted || !e.deleted)
            .map(|(v, _)| *v)
            .collect())
    }

    pub fn version(
        &self,
        subject: &str,
        spec: VersionSpec,
        deleted: bool,
    ) -> Result<RegisteredSchema> {
        let state = self.state.read();
        let (v, e) = state.version(subject, spec, deleted)?;
        Ok(state.registered(subject, v, e))
    }

    /// Ids of schemas whose references point at this subject version.
    pub fn referenced_by(&self, subject: &str, spec: VersionSpec) -> Result<Vec<u32>> {
        let state = self.state.read();
        let (version, _) = state.version(subject, spec, false)?;
        let mut ids: Vec<u32> = state
            .schemas
            .iter()
            .filter(|(_, s)| {
                s.references
                    .iter()
                    .any(|r| r.subject == subject && r.version == version)
            })
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// Soft deletes a version, or removes a soft-deleted one for good (`permanent`).
    pub fn delete_version(&self, subject: &str, spec: VersionSpec, permanent: bool) -> Result<i32> {
        let _w = self.writer.lock();
        let record = {
            let state = self.state.read();
            if state.mode_of(subject) == Mode::Readonly {
                return Err(RegistryError::ReadOnly(subject.to_string()));
            }
            let (version, e) = state.version(subject, spec, permanent)?;
            let key = LogKey::Schema {
                subject: subject.to_string(),
                version,
                magic: 1,
            };
            if permanent {
                if !e.deleted {
                    return Err(RegistryError::VersionNotSoftDeleted {
                        subject: subject.to_string(),
                        version,
                    });
                }
                (key, None, version)
            } else {
                if state.referenced_by_version(subject, version) {
                    return Err(RegistryError::BadRequest(format!(
                        "One or more references exist to the schema {{subject={subject},version={version}}}"
                    )));
                }
                let s = &state.schemas[&e.id];
                let value = SchemaValue {
                    subject: subject.to_string(),
                    version,
                    id: e.id,
                    schema_type: s.schema_type,
                    references: s.references.clone(),
                    schema: s.schema.clone(),
                    deleted: true,
                };
                (key, Some(encode(&value)), version)
            }
        };
        let (key, value, version) = record;
        self.write(vec![(key, value)])?;
        Ok(version)
    }

    /// Soft deletes every version of a subject, or removes a soft-deleted subject for good.
    pub fn delete_subject(&self, subject: &str, permanent: bool) -> Result<Vec<i32>> {
        let _w = self.writer.lock();
        let (records, versions) = {
            let state = self.state.read();
            if state.mode_of(subject) == Mode::Readonly {
                return Err(RegistryError::ReadOnly(subject.to_string()));
            }
            let s = state.subject(subject, permanent)?;
            if permanent {
                if s.has_live() {
                    return Err(RegistryError::SubjectNotSoftDeleted(subject.to_string()));
                }
                let versions: Vec<i32> = s.versions.keys().copied().collect();
                let mut records: Vec<(LogKey, Option<Bytes>)> = versions
                    .iter()
                    .map(|v| {
                        (
                            LogKey::Schema {
                                subject: subject.to_string(),
                                version: *v,
                                magic: 1,
                            },
                            None,
                        )
                    })
                    .collect();
                if s.compatibility.is_some() {
                    records.push((
                        LogKey::Config {
                            subject: Some(subject.to_string()),
                            magic: 0,
                        },
                        None,
                    ));
                }
                if s.mode.is_some() {
                    records.push((
                        LogKey::Mode {
                            subject: Some(subject.to_string()),
                            magic: 0,
                        },
                        None,
                    ));
                }
                (records, versions)
            } else {
                let live: Vec<(i32, VersionEntry)> = s.live().collect();
                for (v, _) in &live {
                    if state.referenced_by_version(subject, *v) {
                        return Err(RegistryError::BadRequest(format!(
                            "One or more references exist to the schema {{subject={subject},version={v}}}"
                        )));
                    }
                }
                let latest = live.last().map(|(v, _)| *v).unwrap_or(0);
                let mut records: Vec<(LogKey, Option<Bytes>)> = live
                    .iter()
                    .map(|(v, e)| {
                        let s = &state.schemas[&e.id];
                        (
                            LogKey::Schema {
                                subject: subject.to_string(),
                                version: *v,
                                magic: 1,
                            },
                            Some(encode(&SchemaValue {
                                subject: subject.to_string(),
                                version: *v,
                                id: e.id,
                                schema_type: s.schema_type,
                                references: s.references.clone(),
                                schema: s.schema.clone(),
                                deleted: true,
                            })),
                        )
                    })
                    .collect();
                records.push((
                    LogKey::DeleteSubject {
                        subject: subject.to_string(),
                        magic: 0,
                    },
                    Some(encode(&DeleteSubjectValue {
                        subject: subject.to_string(),
                        version: latest,
                    })),
                ));
                (records, live.iter().map(|(v, _)| *v).collect())
            }
        };
        self.write(records)?;
        Ok(versions)
    }

    // -----------------------------------------------------------------------------------
    // Compatibility
    // -----------------------------------------------------------------------------------

    /// Checks `input` against one version of `subject` (`Some`) or against what its level
    /// covers (`None`). Returns the problems (empty: compatible).
    pub fn check_compatibility(
        &self,
        subject: &str,
        version: Option<VersionSpec>,
        input: &SchemaInput,
        normalize: bool,
    ) -> Result<Vec<String>> {
        let state = self.state.read();
        let against = match version {
            Some(spec) => Some(state.version(subject, spec, false)?.0),
            None => None,
        };
        let parsed = state.parse(input.schema_type, &input.schema, &input.references)?;
        let parsed = if normalize {
            ParsedSchema::parse(input.schema_type, &parsed.normalized(), &{
                let mut t = Vec::new();
                state.reference_texts(&input.references, &mut t)?;
                t
            })?
        } else {
            parsed
        };
        let level = state.compatibility_of(subject);
        state.compatibility_problems(subject, &parsed, level, against)
    }

    // -----------------------------------------------------------------------------------
    // Config and mode
    // -----------------------------------------------------------------------------------

    pub fn global_compatibility(&self) -> Compatibility {
        self.state
            .read()
            .compatibility
            .unwrap_or(DEFAULT_COMPATIBILITY)
    }

    /// A subject's own level; with `default_to_global` the global one when it has none.
    pub fn subject_compatibility(
        &self,
        subject: &str,
        default_to_global: bool,
    ) -> Result<Compatibility> {
        let state = self.state.read();
        match state.subjects.get(subject).and_then(|s| s.compatibility) {
            Some(c) => Ok(c),
            None if default_to_global => Ok(state.compatibility.unwrap_or(DEFAULT_COMPATIBILITY)),
            None => Err(RegistryError::SubjectLevelCompatibilityNotConfigured(
                subject.to_string(),
            )),
        }
    }

    /// Sets the global level (`subject` None) or a subject's; None as level removes it.
    pub fn set_compatibility(
        &self,
        subject: Option<&str>,
        level: Option<Compatibility>,
    ) -> Result<()> {
        if let Some(s) = subject {
            validate_subject(s)?;
        }
        let _w = self.writer.lock();
        self.write(vec![(
            LogKey::Config {
                subject: subject.map(str::to_string),
                magic: 0,
            },
            level.map(|l| {
                encode(&ConfigValue {
                    compatibility_level: l,
                })
            }),
        )])
    }

    pub fn global_mode(&self) -> Mode {
        self.state.read().mode.unwrap_or(Mode::Readwrite)
    }

    pub fn subject_mode(&self, subject: &str, default_to_global: bool) -> Result<Mode> {
        let state = self.state.read();
        match state.subjects.get(subject).and_then(|s| s.mode) {
            Some(m) => Ok(m),
            None if default_to_global => Ok(state.mode.unwrap_or(Mode::Readwrite)),
            None => Err(RegistryError::SubjectLevelModeNotConfigured(
                subject.to_string(),
            )),
        }
    }

    pub fn set_mode(&self, subject: Option<&str>, mode: Option<Mode>) -> Result<()> {
        if let Some(s) = subject {
            validate_subject(s)?;
        }
        let _w = self.writer.lock();
        self.write(vec![(
            LogKey::Mode {
                subject: subject.map(str::to_string),
                magic: 0,
            },
            mode.map(|m| encode(&ModeValue { mode: m })),
        )])
    }
}

impl State {
    fn referenced_by_version(&self, subject: &str, version: i32) -> bool {
        self.schemas.values().any(|s| {
            s.references
                .iter()
                .any(|r| r.subject == subject && r.version == version)
        }) && self.subjects.values().any(|sub| {
            sub.live().any(|(_, e)| {
                self.schemas[&e.id]
                    .references
                    .iter()
                    .any(|r| r.subject == subject && r.version == version)
            })
        })
    }
}

fn validate_subject(subject: &str) -> Result<()> {
    if subject.is_empty() || subject.chars().any(|c| c.is_control()) {
        return Err(RegistryError::BadRequest(format!(
            "Invalid subject {subject:?}"
        )));
    }
    Ok(())
}
