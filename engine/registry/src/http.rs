//! The Confluent Schema Registry REST surface: Confluent's routes, query parameters, JSON
//! shapes and error bodies (`{"error_code": 40401, "message": "..."}`), answered as
//! `application/vnd.schemaregistry.v1+json`. Request bodies are read as JSON whatever their
//! content type says, as Confluent does. The one place registry errors become HTTP.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::RegistryError;
use crate::model::{Compatibility, Mode, SchemaReference, SchemaType};
use crate::registry::{RegisteredSchema, SchemaInput, SchemaRegistry, VersionSpec};

pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

type Reg = State<Arc<SchemaRegistry>>;
type Params = Query<HashMap<String, String>>;
type ApiResult = Result<Response, RegistryError>;

/// Every route of the registry.
pub fn router(registry: Arc<SchemaRegistry>) -> Router {
    Router::new()
        .route("/", get(|| async { ok(json!({})) }))
        .route("/schemas/types", get(schema_types))
        .route("/schemas", get(all_schemas))
        .route("/schemas/ids/{id}", get(schema_by_id))
        .route("/schemas/ids/{id}/schema", get(raw_schema_by_id))
        .route("/schemas/ids/{id}/subjects", get(subjects_of_id))
        .route("/schemas/ids/{id}/versions", get(versions_of_id))
        .route("/subjects", get(subjects))
        .route("/subjects/{subject}", post(lookup).delete(delete_subject))
        .route("/subjects/{subject}/versions", get(versions).post(register))
        .route(
            "/subjects/{subject}/versions/{version}",
            get(version).delete(delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(raw_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/referencedby",
            get(referenced_by),
        )
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(compatibility_with_version),
        )
        .route(
            "/compatibility/subjects/{subject}/versions",
            post(compatibility_with_all),
        )
        .route("/config", get(global_config).put(set_global_config))
        .route(
            "/config/{subject}",
            get(subject_config)
                .put(set_subject_config)
                .post(set_subject_config)
                .delete(delete_subject_config),
        )
        .route("/mode", get(global_mode).put(set_global_mode))
        .route(
            "/mode/{subject}",
            get(subject_mode)
                .put(set_subject_mode)
                .delete(delete_subject_mode),
        )
        .route("/contexts", get(|| async { ok(json!(["."])) }))
        .route("/v1/metadata/id", get(metadata_id))
        .route("/v1/metadata/version", get(metadata_version))
        .fallback(|| async { RegistryError::NoRoute.into_response() })
        .with_state(registry)
}

fn ok(v: Value) -> Response {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], v.to_string()).into_response()
}

impl IntoResponse for RegistryError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({"error_code": self.error_code(), "message": self.to_string()});
        (
            status,
            [(header::CONTENT_TYPE, CONTENT_TYPE)],
            body.to_string(),
        )
            .into_response()
    }
}

fn flag(q: &HashMap<String, String>, name: &str) -> bool {
    q.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn parse_id(s: &str) -> Result<u32, RegistryError> {
    s.parse::<u32>()
        .map_err(|_| RegistryError::SchemaNotFound(s.to_string()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchemaBody {
    schema: Option<Value>,
    schema_type: Option<String>,
    #[serde(default)]
    references: Option<Vec<SchemaReference>>,
    id: Option<i64>,
    version: Option<i32>,
}

fn schema_input(body: &Bytes) -> Result<SchemaInput, RegistryError> {
    let b: SchemaBody = serde_json::from_slice(body)
        .map_err(|e| RegistryError::BadRequest(format!("Invalid request body: {e}")))?;
    let schema = match b.schema {
        Some(Value::String(s)) => s,
        // Some clients send the schema as JSON rather than as a string of JSON.
        Some(v @ (Value::Object(_) | Value::Array(_))) => v.to_string(),
        _ => return Err(RegistryError::InvalidSchema("Empty schema".into())),
    };
    let id = match b.id {
        None | Some(-1) | Some(0) => None,
        Some(n) if n > 0 && n <= u32::MAX as i64 => Some(n as u32),
        Some(n) => return Err(RegistryError::BadRequest(format!("Invalid id {n}"))),
    };
    Ok(SchemaInput {
        schema_type: match b.schema_type.as_deref() {
            None | Some("") => SchemaType::Avro,
            Some(t) => SchemaType::parse(t)?,
        },
        schema,
        references: b.references.unwrap_or_default(),
        id,
        version: b.version.filter(|v| *v > 0),
    })
}

fn body_json(body: &Bytes) -> Result<Value, RegistryError> {
    serde_json::from_slice(body)
        .map_err(|e| RegistryError::BadRequest(format!("Invalid request body: {e}")))
}

/// The JSON of a registered version (`schemaType` and `references` only when not default).
fn version_json(r: &RegisteredSchema) -> Value {
    let mut v = json!({
        "subject": r.subject,
        "version": r.version,
        "id": r.id,
        "schema": r.schema,
    });
    if r.schema_type != SchemaType::Avro {
        v["schemaType"] = json!(r.schema_type.name());
    }
    if !r.references.is_empty() {
        v["references"] = json!(r.references);
    }
    v
}

/// The schema as a JSON value for `/schema` routes: parsed JSON for Avro and JSON Schema,
/// the text itself for Protobuf.
fn raw_schema(schema_type: SchemaType, text: &str) -> Response {
    match schema_type {
        SchemaType::Protobuf => {
            ([(header::CONTENT_TYPE, CONTENT_TYPE)], text.to_string()).into_response()
        }
        _ => ok(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))),
    }
}

async fn schema_types(State(reg): Reg) -> Response {
    ok(json!(reg.schema_types()))
}

async fn all_schemas(State(reg): Reg, Query(q): Params) -> Response {
    let prefix = q.get("subjectPrefix").map(String::as_str).unwrap_or("");
    let list = reg.all_schemas(prefix, flag(&q, "deleted"), flag(&q, "latestOnly"));
    ok(Value::Array(list.iter().map(version_json).collect()))
}

async fn schema_by_id(State(reg): Reg, Path(id): Path<String>, Query(q): Params) -> ApiResult {
    let id = parse_id(&id)?;
    let (ty, mut text, refs) = reg.schema_by_id(id)?;
    if let Some(format) = q.get("format") {
        text = reg.schema_text(id, format)?;
    }
    let mut v = json!({"schema": text});
    if ty != SchemaType::Avro {
        v["schemaType"] = json!(ty.name());
    }
    if !refs.is_empty() {
        v["references"] = json!(refs);
    }
    Ok(ok(v))
}

async fn raw_schema_by_id(State(reg): Reg, Path(id): Path<String>) -> ApiResult {
    let (ty, text, _) = reg.schema_by_id(parse_id(&id)?)?;
    Ok(raw_schema(ty, &text))
}

async fn subjects_of_id(State(reg): Reg, Path(id): Path<String>, Query(q): Params) -> ApiResult {
    let mut subjects: Vec<String> = reg
        .versions_of_id(parse_id(&id)?, flag(&q, "deleted"))?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    subjects.dedup();
    Ok(ok(json!(subjects)))
}

async fn versions_of_id(State(reg): Reg, Path(id): Path<String>, Query(q): Params) -> ApiResult {
    let list: Vec<Value> = reg
        .versions_of_id(parse_id(&id)?, flag(&q, "deleted"))?
        .into_iter()
        .map(|(s, v)| json!({"subject": s, "version": v}))
        .collect();
    Ok(ok(Value::Array(list)))
}

async fn subjects(State(reg): Reg, Query(q): Params) -> Response {
    let prefix = q.get("subjectPrefix").map(String::as_str).unwrap_or("");
    ok(json!(reg.subjects(prefix, flag(&q, "deleted"))))
}

async fn lookup(
    State(reg): Reg,
    Path(subject): Path<String>,
    Query(q): Params,
    body: Bytes,
) -> ApiResult {
    let input = schema_input(&body)?;
    let found = reg.lookup(&subject, &input, flag(&q, "normalize"), flag(&q, "deleted"))?;
    Ok(ok(version_json(&found)))
}

async fn delete_subject(
    State(reg): Reg,
    Path(subject): Path<String>,
    Query(q): Params,
) -> ApiResult {
    Ok(ok(json!(
        reg.delete_subject(&subject, flag(&q, "permanent"))?
    )))
}

async fn versions(State(reg): Reg, Path(subject): Path<String>, Query(q): Params) -> ApiResult {
    Ok(ok(json!(reg.versions(&subject, flag(&q, "deleted"))?)))
}

async fn register(
    State(reg): Reg,
    Path(subject): Path<String>,
    Query(q): Params,
    body: Bytes,
) -> ApiResult {
    let input = schema_input(&body)?;
    let reg2 = reg.clone();
    let normalize = flag(&q, "normalize");
    let id = tokio::task::spawn_blocking(move || reg2.register(&subject, input, normalize))
        .await
        .map_err(|e| RegistryError::Store(e.to_string()))??;
    Ok(ok(json!({"id": id})))
}

async fn version(
    State(reg): Reg,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Params,
) -> ApiResult {
    let mut r = reg.version(&subject, VersionSpec::parse(&version)?, flag(&q, "deleted"))?;
    if let Some(format) = q.get("format") {
        r.schema = reg.schema_text(r.id, format)?;
    }
    Ok(ok(version_json(&r)))
}

async fn raw_version(
    State(reg): Reg,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Params,
) -> ApiResult {
    let r = reg.version(&subject, VersionSpec::parse(&version)?, flag(&q, "deleted"))?;
    Ok(raw_schema(r.schema_type, &r.schema))
}

async fn delete_version(
    State(reg): Reg,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Params,
) -> ApiResult {
    let v = reg.delete_version(
        &subject,
        VersionSpec::parse(&version)?,
        flag(&q, "permanent"),
    )?;
    Ok(ok(json!(v)))
}

async fn referenced_by(
    State(reg): Reg,
    Path((subject, version)): Path<(String, String)>,
) -> ApiResult {
    Ok(ok(json!(
        reg.referenced_by(&subject, VersionSpec::parse(&version)?)?
    )))
}

fn compatibility_answer(problems: Vec<String>, verbose: bool) -> Response {
    let mut v = json!({"is_compatible": problems.is_empty()});
    if verbose {
        v["messages"] = json!(problems);
    }
    ok(v)
}

async fn compatibility_with_version(
    State(reg): Reg,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Params,
    body: Bytes,
) -> ApiResult {
    let spec = VersionSpec::parse(&version)?;
    let input = schema_input(&body)?;
    let problems = reg.check_compatibility(&subject, Some(spec), &input, flag(&q, "normalize"))?;
    Ok(compatibility_answer(problems, flag(&q, "verbose")))
}

async fn compatibility_with_all(
    State(reg): Reg,
    Path(subject): Path<String>,
    Query(q): Params,
    body: Bytes,
) -> ApiResult {
    let input = schema_input(&body)?;
    let problems = reg.check_compatibility(&subject, None, &input, flag(&q, "normalize"))?;
    Ok(compatibility_answer(problems, flag(&q, "verbose")))
}

fn compatibility_in(body: &Bytes) -> Result<Compatibility, RegistryError> {
    let v = body_json(body)?;
    let level = v
        .get("compatibility")
        .or_else(|| v.get("compatibilityLevel"))
        .and_then(Value::as_str)
        .ok_or(RegistryError::InvalidCompatibilityLevel)?;
    Compatibility::parse(level)
}

fn mode_in(body: &Bytes) -> Result<Mode, RegistryError> {
    let v = body_json(body)?;
    let mode = v
        .get("mode")
        .and_then(Value::as_str)
        .ok_or(RegistryError::InvalidMode)?;
    Mode::parse(mode)
}

async fn global_config(State(reg): Reg) -> Response {
    ok(json!({"compatibilityLevel": reg.global_compatibility().name()}))
}

async fn set_global_config(State(reg): Reg, body: Bytes) -> ApiResult {
    let level = compatibility_in(&body)?;
    reg.set_compatibility(None, Some(level))?;
    Ok(ok(json!({"compatibility": level.name()})))
}

async fn subject_config(
    State(reg): Reg,
    Path(subject): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let level = reg.subject_compatibility(&subject, flag(&q, "defaultToGlobal"))?;
    Ok(ok(json!({"compatibilityLevel": level.name()})))
}

async fn set_subject_config(
    State(reg): Reg,
    Path(subject): Path<String>,
    body: Bytes,
) -> ApiResult {
    let level = compatibility_in(&body)?;
    reg.set_compatibility(Some(&subject), Some(level))?;
    Ok(ok(json!({"compatibility": level.name()})))
}

async fn delete_subject_config(State(reg): Reg, Path(subject): Path<String>) -> ApiResult {
    let level = reg.subject_compatibility(&subject, false)?;
    reg.set_compatibility(Some(&subject), None)?;
    Ok(ok(json!({"compatibilityLevel": level.name()})))
}

async fn global_mode(State(reg): Reg) -> Response {
    ok(json!({"mode": reg.global_mode().name()}))
}

async fn set_global_mode(State(reg): Reg, body: Bytes) -> ApiResult {
    let mode = mode_in(&body)?;
    reg.set_mode(None, Some(mode))?;
    Ok(ok(json!({"mode": mode.name()})))
}

async fn subject_mode(State(reg): Reg, Path(subject): Path<String>, Query(q): Params) -> ApiResult {
    let mode = reg.subject_mode(&subject, flag(&q, "defaultToGlobal"))?;
    Ok(ok(json!({"mode": mode.name()})))
}

async fn set_subject_mode(State(reg): Reg, Path(subject): Path<String>, body: Bytes) -> ApiResult {
    let mode = mode_in(&body)?;
    reg.set_mode(Some(&subject), Some(mode))?;
    Ok(ok(json!({"mode": mode.name()})))
}

async fn delete_subject_mode(State(reg): Reg, Path(subject): Path<String>) -> ApiResult {
    let mode = reg.subject_mode(&subject, false)?;
    reg.set_mode(Some(&subject), None)?;
    Ok(ok(json!({"mode": mode.name()})))
}

async fn metadata_id() -> Response {
    ok(json!({"scope": {"path": [], "clusters": {"schema-registry-cluster": "schema-registry"}}}))
}

async fn metadata_version() -> Response {
    ok(json!({"version": env!("CARGO_PKG_VERSION"), "commitId": ""}))
}
