//! The workbench's schema features over a cluster's schema registry: subject summaries,
//! editor validation, version comparison, generated forms, decoding wire-format messages for
//! browse and tail, and serializing records for a registry-aware produce — plus the
//! per-cluster cache of registered schemas by id those use. Talks to the registry only with
//! Confluent's standard routes (through `registry`), so a real Confluent registry serves as
//! well as the embedded one. Parsing and compatibility are the registry crate's; encoding
//! is `codec`'s, forms are `forms`'.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use parking_lot::Mutex;
use serde::Deserialize;
use sluice_api::{
    CompatibilityVerdict, DecodedData, Message, ProduceRequest, SchemaChoice, SchemaComparison,
    SchemaForm, SchemaProblem, SchemaReference, SchemaValidation, SubjectSummary, ValidateSchema,
};
use sluice_registry::formats::json::Ordered;
use sluice_registry::formats::ParsedSchema;
use sluice_registry::model::SchemaType;
use tokio::task::JoinSet;

use crate::clusters::Cluster;
use crate::codec::{split_wire, WireSchema};
use crate::error::{Result, WorkbenchError};
use crate::registry::{segment, RegistryClient};

/// Most schemas kept per cluster.
const CACHE_SIZE: usize = 1024;
/// How long a failed lookup is remembered (so a browse of many records asks once).
const FAILURE_TTL: Duration = Duration::from_secs(10);
/// Most references followed for one schema (transitively).
const MAX_REFERENCES: usize = 256;
/// Registry calls in flight at once for one subjects listing.
const SUBJECT_CONCURRENCY: usize = 8;

// ---------------------------------------------------------------------------------------
// Confluent's answers
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionAnswer {
    pub subject: String,
    pub version: i32,
    pub id: u32,
    #[serde(default)]
    pub schema_type: Option<String>,
    pub schema: String,
    #[serde(default)]
    pub references: Vec<SchemaReference>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdAnswer {
    schema: String,
    #[serde(default)]
    schema_type: Option<String>,
    #[serde(default)]
    references: Vec<SchemaReference>,
}

#[derive(Debug, Deserialize)]
struct SubjectVersion {
    subject: String,
    version: i32,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigAnswer {
    #[serde(default)]
    compatibility_level: Option<String>,
    #[serde(default)]
    compatibility: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ModeAnswer {
    mode: String,
}

fn schema_type(name: Option<&str>) -> Result<SchemaType> {
    match name {
        None | Some("") => Ok(SchemaType::Avro),
        Some(t) => SchemaType::parse(t).map_err(|_| {
            WorkbenchError::BadRequest(format!(
                "unknown schema type {t:?} (AVRO, PROTOBUF or JSON)"
            ))
        }),
    }
}

// ---------------------------------------------------------------------------------------
// References and the cache of schemas by id
// ---------------------------------------------------------------------------------------

/// The (name, text) pairs of `refs` and everything they refer to, as the registry holds them.
pub async fn reference_texts(
    reg: &RegistryClient,
    refs: &[SchemaReference],
) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut seen: HashSet<(String, i32)> = HashSet::new();
    let mut queue: VecDeque<SchemaReference> = refs.iter().cloned().collect();
    while let Some(r) = queue.pop_front() {
        if !seen.insert((r.subject.clone(), r.version)) {
            continue;
        }
        if seen.len() > MAX_REFERENCES {
            return Err(WorkbenchError::BadRequest(format!(
                "more than {MAX_REFERENCES} schema references"
            )));
        }
        let v: VersionAnswer = reg
            .get(&format!(
                "subjects/{}/versions/{}",
                segment(&r.subject),
                r.version
            ))
            .await
            .map_err(|e| match e {
                WorkbenchError::NotFound(m) => WorkbenchError::NotFound(format!(
                    "reference {:?} (subject {:?} version {}): {m}",
                    r.name, r.subject, r.version
                )),
                other => other,
            })?;
        queue.extend(v.references.iter().cloned());
        out.push((r.name, v.schema));
    }
    Ok(out)
}

enum CacheEntry {
    Ready(Arc<WireSchema>),
    Failed { error: String, at: Instant },
}

/// A cluster's registered schemas by id, parsed, bounded.
#[derive(Default)]
pub struct SchemaCache {
    entries: Mutex<HashMap<u32, CacheEntry>>,
}

impl SchemaCache {
    fn get(&self, id: u32) -> Option<std::result::Result<Arc<WireSchema>, String>> {
        match self.entries.lock().get(&id)? {
            CacheEntry::Ready(s) => Some(Ok(Arc::clone(s))),
            CacheEntry::Failed { error, at } if at.elapsed() < FAILURE_TTL => {
                Some(Err(error.clone()))
            }
            CacheEntry::Failed { .. } => None,
        }
    }

    fn put(&self, id: u32, entry: CacheEntry) {
        let mut entries = self.entries.lock();
        if entries.len() >= CACHE_SIZE && !entries.contains_key(&id) {
            entries.retain(|_, e| matches!(e, CacheEntry::Ready(_)));
            let excess = (entries.len() + 1).saturating_sub(CACHE_SIZE);
            let drop: Vec<u32> = entries.keys().take(excess).copied().collect();
            for k in drop {
                entries.remove(&k);
            }
        }
        entries.insert(id, entry);
    }

    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The schema registered under `id`, with its references, parsed (cached per cluster).
pub async fn schema_by_id(
    reg: &RegistryClient,
    cache: &SchemaCache,
    id: u32,
) -> std::result::Result<Arc<WireSchema>, String> {
    if let Some(hit) = cache.get(id) {
        return hit;
    }
    let fetched = fetch_schema(reg, id).await;
    match &fetched {
        Ok(s) => cache.put(id, CacheEntry::Ready(Arc::clone(s))),
        Err(error) => cache.put(
            id,
            CacheEntry::Failed {
                error: error.clone(),
                at: Instant::now(),
            },
        ),
    }
    fetched
}

async fn fetch_schema(
    reg: &RegistryClient,
    id: u32,
) -> std::result::Result<Arc<WireSchema>, String> {
    let answer: IdAnswer = reg
        .get(&format!("schemas/ids/{id}"))
        .await
        .map_err(|e| e.to_string())?;
    let refs = reference_texts(reg, &answer.references)
        .await
        .map_err(|e| e.to_string())?;
    // Where the schema is registered, for the subject shown with decoded data.
    let subjects: Vec<(String, i32)> = reg
        .get::<Vec<SubjectVersion>>(&format!("schemas/ids/{id}/versions"))
        .await
        .map(|list| list.into_iter().map(|s| (s.subject, s.version)).collect())
        .unwrap_or_default();
    let ty = schema_type(answer.schema_type.as_deref()).map_err(|e| e.to_string())?;
    // Compiling a .proto (or a large schema) is CPU work: off the runtime.
    tokio::task::spawn_blocking(move || {
        WireSchema::new(id, ty, &answer.schema, &refs, subjects).map(Arc::new)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("schema {id}: {e}"))
}

/// A subject's version (`latest` when `version` is None) as the registry answers it.
async fn version_answer(
    reg: &RegistryClient,
    subject: &str,
    version: Option<&str>,
) -> Result<VersionAnswer> {
    let v = version
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or("latest");
    reg.get(&format!(
        "subjects/{}/versions/{}",
        segment(subject),
        segment(v)
    ))
    .await
}

// ---------------------------------------------------------------------------------------
// Subjects
// ---------------------------------------------------------------------------------------

/// Every subject with its latest version, version count, compatibility and mode.
pub async fn subjects(reg: Arc<RegistryClient>, deleted: bool) -> Result<Vec<SubjectSummary>> {
    let all: Vec<String> = reg
        .get(if deleted {
            "subjects?deleted=true"
        } else {
            "subjects"
        })
        .await?;
    let live: HashSet<String> = if deleted {
        reg.get::<Vec<String>>("subjects")
            .await?
            .into_iter()
            .collect()
    } else {
        all.iter().cloned().collect()
    };
    let limit = Arc::new(tokio::sync::Semaphore::new(SUBJECT_CONCURRENCY));
    let mut tasks = JoinSet::new();
    for subject in all.into_iter().collect::<BTreeSet<_>>() {
        let reg = Arc::clone(&reg);
        let limit = Arc::clone(&limit);
        let soft_deleted = !live.contains(&subject);
        tasks.spawn(async move {
            let _permit = limit.acquire().await;
            summary(&reg, subject, soft_deleted).await
        });
    }
    let mut out = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done? {
            Ok(s) => out.push(s),
            // Deleted while being listed.
            Err(WorkbenchError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    out.sort_by(|a, b| a.subject.cmp(&b.subject));
    Ok(out)
}

async fn summary(reg: &RegistryClient, subject: String, deleted: bool) -> Result<SubjectSummary> {
    let s = segment(&subject);
    let q = if deleted { "?deleted=true" } else { "" };
    let versions_path = format!("subjects/{s}/versions{q}");
    let latest_path = format!("subjects/{s}/versions/latest{q}");
    let effective_path = format!("config/{s}?defaultToGlobal=true");
    let own_path = format!("config/{s}");
    let mode_path = format!("mode/{s}?defaultToGlobal=true");
    let latest = async {
        if deleted {
            // `latest` never names a soft-deleted version: ask for the highest by number.
            let versions: Vec<i32> = reg.get(&versions_path).await?;
            let last = versions.iter().max().copied().ok_or_else(|| {
                WorkbenchError::NotFound(format!("subject {subject:?} has no versions"))
            })?;
            reg.get::<VersionAnswer>(&format!("subjects/{s}/versions/{last}{q}"))
                .await
        } else {
            reg.get::<VersionAnswer>(&latest_path).await
        }
    };
    let (versions, latest, effective, own, mode) = tokio::join!(
        reg.get::<Vec<i32>>(&versions_path),
        latest,
        reg.get::<ConfigAnswer>(&effective_path),
        reg.get_optional::<ConfigAnswer>(&own_path),
        reg.get_optional::<ModeAnswer>(&mode_path),
    );
    let (versions, latest, effective) = (versions?, latest?, effective?);
    let mode = match mode? {
        Some(m) => m.mode,
        // A registry without per-subject modes: the global one.
        None => reg
            .get_optional::<ModeAnswer>("mode")
            .await?
            .map(|m| m.mode)
            .unwrap_or_else(|| "READWRITE".into()),
    };
    let level = |c: ConfigAnswer| c.compatibility_level.or(c.compatibility);
    Ok(SubjectSummary {
        schema_type: schema_type(latest.schema_type.as_deref())?
            .name()
            .to_string(),
        latest_version: latest.version,
        latest_id: latest.id,
        version_count: versions.len(),
        compatibility: level(effective).unwrap_or_else(|| "BACKWARD".into()),
        compatibility_overridden: own?.and_then(level).is_some(),
        mode,
        deleted,
        subject,
    })
}

// ---------------------------------------------------------------------------------------
// Validation, comparison, forms
// ---------------------------------------------------------------------------------------

/// Parses a schema as the registry would; problems located in the text where possible.
pub async fn validate(
    reg: Option<Arc<RegistryClient>>,
    req: ValidateSchema,
) -> Result<SchemaValidation> {
    let ty = schema_type(req.schema_type.as_deref())?;
    let problem = |message: String| SchemaValidation {
        valid: false,
        errors: vec![SchemaProblem {
            message,
            line: None,
            column: None,
        }],
        canonical: None,
    };
    let refs = if req.references.is_empty() {
        Vec::new()
    } else {
        let Some(reg) = reg else {
            return Ok(problem(
                "the cluster has no schema registry to resolve references from".into(),
            ));
        };
        match reference_texts(&reg, &req.references).await {
            Ok(r) => r,
            Err(WorkbenchError::NotFound(m) | WorkbenchError::BadRequest(m)) => {
                return Ok(problem(m))
            }
            Err(e) => return Err(e),
        }
    };
    let text = req.schema;
    tokio::task::spawn_blocking(move || {
        Ok(match ParsedSchema::parse_located(ty, &text, &refs) {
            Ok(parsed) => SchemaValidation {
                valid: true,
                errors: Vec::new(),
                canonical: Some(parsed.canonical()),
            },
            Err(f) => SchemaValidation {
                valid: false,
                errors: vec![SchemaProblem {
                    message: f.message,
                    line: f.line,
                    column: f.column,
                }],
                canonical: None,
            },
        })
    })
    .await?
}

/// JSON re-indented, keys in the order written; other text as is.
fn pretty(ty: SchemaType, text: &str) -> String {
    match ty {
        SchemaType::Protobuf => text.to_string(),
        SchemaType::Avro | SchemaType::Json => serde_json::from_str::<Ordered>(text)
            .ok()
            .and_then(|o| serde_json::to_string_pretty(&o).ok())
            .unwrap_or_else(|| text.to_string()),
    }
}

fn verdict(reasons: Vec<String>) -> CompatibilityVerdict {
    CompatibilityVerdict {
        compatible: reasons.is_empty(),
        reasons,
    }
}

/// Two versions of a subject side by side, and whether each reads the other's data.
pub async fn compare(
    reg: Arc<RegistryClient>,
    subject: &str,
    from: Option<String>,
    to: Option<String>,
) -> Result<SchemaComparison> {
    let to = version_answer(&reg, subject, to.as_deref()).await?;
    let from = match from.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => version_answer(&reg, subject, Some(v)).await?,
        None => {
            let versions: Vec<i32> = reg
                .get(&format!("subjects/{}/versions", segment(subject)))
                .await?;
            let before = versions
                .into_iter()
                .filter(|v| *v < to.version)
                .max()
                .ok_or_else(|| {
                    WorkbenchError::BadRequest(format!(
                        "subject {subject:?} has no version before {}; name `from`",
                        to.version
                    ))
                })?;
            version_answer(&reg, subject, Some(&before.to_string())).await?
        }
    };
    let (from_refs, to_refs) = tokio::join!(
        reference_texts(&reg, &from.references),
        reference_texts(&reg, &to.references)
    );
    let (from_refs, to_refs) = (from_refs?, to_refs?);
    let from_ty = schema_type(from.schema_type.as_deref())?;
    let to_ty = schema_type(to.schema_type.as_deref())?;
    let subject = subject.to_string();
    tokio::task::spawn_blocking(move || {
        let parse = |ty, text: &str, refs: &[(String, String)], version: i32| {
            ParsedSchema::parse(ty, text, refs).map_err(|e| {
                WorkbenchError::RegistryUnavailable(format!(
                    "version {version} of {subject:?} does not parse: {e}"
                ))
            })
        };
        let old = parse(from_ty, &from.schema, &from_refs, from.version)?;
        let new = parse(to_ty, &to.schema, &to_refs, to.version)?;
        Ok(SchemaComparison {
            schema_type: to_ty.name().to_string(),
            from_version: from.version,
            to_version: to.version,
            from_schema: pretty(from_ty, &from.schema),
            to_schema: pretty(to_ty, &to.schema),
            backward: verdict(new.read_problems(&old)),
            forward: verdict(old.read_problems(&new)),
            subject,
        })
    })
    .await?
}

/// A produce form generated from a subject's version.
pub async fn form(cluster: &Cluster, subject: &str, version: Option<String>) -> Result<SchemaForm> {
    let reg = cluster.registry()?;
    let answer = version_answer(&reg, subject, version.as_deref()).await?;
    let schema = schema_by_id(&reg, &cluster.schemas, answer.id)
        .await
        .map_err(WorkbenchError::RegistryUnavailable)?;
    let text = answer.schema.clone();
    let root = tokio::task::spawn_blocking(move || crate::forms::form_root(&schema.parsed, &text))
        .await?
        .map_err(WorkbenchError::RegistryUnavailable)?;
    Ok(SchemaForm {
        subject: answer.subject,
        version: answer.version,
        schema_id: answer.id,
        schema_type: schema_type(answer.schema_type.as_deref())?
            .name()
            .to_string(),
        root,
    })
}

// ---------------------------------------------------------------------------------------
// Decoding (browse, tail) and encoding (produce)
// ---------------------------------------------------------------------------------------

/// The wire-format bytes of a rendered key or value (base64 when it has a schema id).
fn wire_bytes(text: Option<&str>, base64: bool) -> Option<Vec<u8>> {
    if !base64 {
        return None;
    }
    base64::engine::general_purpose::STANDARD.decode(text?).ok()
}

fn decoded(
    schemas: &HashMap<u32, std::result::Result<Arc<WireSchema>, String>>,
    topic: &str,
    key: bool,
    bytes: Option<Vec<u8>>,
) -> Option<DecodedData> {
    let bytes = bytes?;
    let (id, data) = split_wire(&bytes)?;
    let mut out = DecodedData {
        schema_id: id,
        schema_type: String::new(),
        subject: None,
        version: None,
        json: None,
        error: None,
    };
    match schemas.get(&id) {
        Some(Ok(schema)) => {
            out.schema_type = schema.schema_type().name().to_string();
            if let Some((s, v)) = schema.subject_for(topic, key) {
                out.subject = Some(s);
                out.version = Some(v);
            }
            // A decoder fault on odd bytes must cost this record, not the page.
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| schema.decode(data)));
            match result {
                Ok(Ok(json)) => out.json = Some(json),
                Ok(Err(e)) => out.error = Some(e),
                Err(_) => out.error = Some("the decoder failed on these bytes".into()),
            }
        }
        Some(Err(e)) => out.error = Some(e.clone()),
        None => out.error = Some(format!("schema {id} was not looked up")),
    }
    Some(out)
}

fn decode_into(
    schemas: &HashMap<u32, std::result::Result<Arc<WireSchema>, String>>,
    topic: &str,
    m: &mut Message,
) {
    if m.value_schema_id.is_some() {
        let bytes = wire_bytes(m.value.as_deref(), m.value_base64);
        m.value_decoded = decoded(schemas, topic, false, bytes);
    }
    if m.key_schema_id.is_some() {
        let bytes = wire_bytes(m.key.as_deref(), m.key_base64);
        m.key_decoded = decoded(schemas, topic, true, bytes);
    }
}

/// The schemas of these ids, looked up concurrently (through the cache).
async fn lookup_ids(
    cluster: &Arc<Cluster>,
    reg: &Arc<RegistryClient>,
    ids: BTreeSet<u32>,
) -> HashMap<u32, std::result::Result<Arc<WireSchema>, String>> {
    let mut out = HashMap::new();
    let mut tasks = JoinSet::new();
    for id in ids {
        if let Some(hit) = cluster.schemas.get(id) {
            out.insert(id, hit);
            continue;
        }
        let cluster = Arc::clone(cluster);
        let reg = Arc::clone(reg);
        tasks.spawn(async move { (id, schema_by_id(&reg, &cluster.schemas, id).await) });
    }
    while let Some(done) = tasks.join_next().await {
        if let Ok((id, r)) = done {
            out.insert(id, r);
        }
    }
    out
}

fn wire_ids(messages: &[Message]) -> BTreeSet<u32> {
    messages
        .iter()
        .flat_map(|m| [m.value_schema_id, m.key_schema_id])
        .flatten()
        .collect()
}

/// Fills `value_decoded`/`key_decoded` of wire-format messages through the cluster's
/// registry. Never fails: what cannot be decoded says why in `error`.
pub async fn decode_messages(
    cluster: &Arc<Cluster>,
    topic: &str,
    messages: Vec<Message>,
) -> Vec<Message> {
    let Ok(reg) = cluster.registry() else {
        return messages;
    };
    let ids = wire_ids(&messages);
    if ids.is_empty() {
        return messages;
    }
    let schemas = lookup_ids(cluster, &reg, ids).await;
    let topic = topic.to_string();
    // Decoding a large page is CPU work: off the runtime.
    let decoding = tokio::task::spawn_blocking(move || {
        let mut messages = messages;
        for m in &mut messages {
            decode_into(&schemas, &topic, m);
        }
        messages
    });
    match decoding.await {
        Ok(messages) => messages,
        Err(e) => {
            tracing::warn!("decoding messages failed: {e}");
            Vec::new()
        }
    }
}

/// [`decode_messages`] for one message (the live tail).
pub async fn decode_message(cluster: &Arc<Cluster>, topic: &str, m: &mut Message) {
    let Ok(reg) = cluster.registry() else {
        return;
    };
    let ids = wire_ids(std::slice::from_ref(m));
    if ids.is_empty() {
        return;
    }
    let schemas = lookup_ids(cluster, &reg, ids).await;
    decode_into(&schemas, topic, m);
}

/// The key and value bytes of each record of a produce request: serialized with the chosen
/// subjects' schemas where asked, the text's bytes otherwise. A record that does not fit is
/// a `400` naming it; nothing is produced then.
pub async fn encode_records(
    cluster: &Cluster,
    req: &ProduceRequest,
) -> Result<Vec<(Option<Vec<u8>>, Option<Vec<u8>>)>> {
    let mut chosen: [Option<(Arc<WireSchema>, String)>; 2] = [None, None];
    for (slot, choice) in [(0, &req.key_schema), (1, &req.value_schema)] {
        let Some(SchemaChoice { subject, version }) = choice else {
            continue;
        };
        let reg = cluster.registry()?;
        let v = version.map(|v| v.to_string());
        let answer = version_answer(&reg, subject, v.as_deref()).await?;
        let schema = schema_by_id(&reg, &cluster.schemas, answer.id)
            .await
            .map_err(WorkbenchError::RegistryUnavailable)?;
        chosen[slot] = Some((
            schema,
            format!("subject {:?} version {}", answer.subject, answer.version),
        ));
    }
    let [key_schema, value_schema] = chosen;
    let records: Vec<(Option<String>, Option<String>)> = req
        .records
        .iter()
        .map(|r| (r.key.clone(), r.value.clone()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let encode = |i: usize,
                      what: &str,
                      text: Option<String>,
                      schema: &Option<(Arc<WireSchema>, String)>|
         -> Result<Option<Vec<u8>>> {
            match (text, schema) {
                (None, _) => Ok(None),
                (Some(t), None) => Ok(Some(t.into_bytes())),
                (Some(t), Some((s, name))) => s.encode(&t).map(Some).map_err(|e| {
                    WorkbenchError::BadRequest(format!(
                        "record {i}: the {what} does not fit {name} ({}): {e}",
                        s.schema_type().name()
                    ))
                }),
            }
        };
        records
            .into_iter()
            .enumerate()
            .map(|(i, (k, v))| {
                Ok((
                    encode(i, "key", k, &key_schema)?,
                    encode(i, "value", v, &value_schema)?,
                ))
            })
            .collect()
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_keeps_key_order() {
        let text = r#"{"type":"record","name":"A","fields":[]}"#;
        let p = pretty(SchemaType::Avro, text);
        assert!(
            p.starts_with("{\n  \"type\": \"record\",\n  \"name\": \"A\""),
            "{p}"
        );
        assert_eq!(pretty(SchemaType::Protobuf, "message A {}"), "message A {}");
        assert_eq!(pretty(SchemaType::Json, "{oops"), "{oops");
    }

    #[test]
    fn the_cache_is_bounded_and_forgets_failures() {
        let cache = SchemaCache::default();
        let schema =
            Arc::new(WireSchema::new(1, SchemaType::Avro, r#""string""#, &[], Vec::new()).unwrap());
        for id in 0..(CACHE_SIZE as u32 + 10) {
            cache.put(id, CacheEntry::Ready(Arc::clone(&schema)));
        }
        assert_eq!(cache.len(), CACHE_SIZE);
        cache.put(
            u32::MAX,
            CacheEntry::Failed {
                error: "down".into(),
                at: Instant::now() - FAILURE_TTL,
            },
        );
        assert!(cache.get(u32::MAX).is_none());
        cache.put(
            u32::MAX,
            CacheEntry::Failed {
                error: "down".into(),
                at: Instant::now(),
            },
        );
        assert_eq!(
            cache.get(u32::MAX).map(|r| r.err()),
            Some(Some("down".into()))
        );
    }

    #[test]
    fn undecodable_bytes_say_why() {
        let schema = Arc::new(
            WireSchema::new(
                9,
                SchemaType::Avro,
                r#""long""#,
                &[],
                vec![("t-value".into(), 1)],
            )
            .unwrap(),
        );
        let schemas = HashMap::from([(9, Ok(schema)), (8, Err("unknown id".to_string()))]);
        let d = decoded(&schemas, "t", false, Some(vec![0, 0, 0, 0, 9, 4])).unwrap();
        assert_eq!(d.json.as_deref(), Some("2"));
        assert_eq!(
            (d.subject.as_deref(), d.version),
            (Some("t-value"), Some(1))
        );
        let d = decoded(&schemas, "t", false, Some(vec![0, 0, 0, 0, 9])).unwrap();
        assert!(d.json.is_none() && d.error.is_some());
        let d = decoded(&schemas, "t", false, Some(vec![0, 0, 0, 0, 8, 1])).unwrap();
        assert_eq!(d.error.as_deref(), Some("unknown id"));
        assert!(decoded(&schemas, "t", false, Some(b"plain".to_vec())).is_none());
    }
}
