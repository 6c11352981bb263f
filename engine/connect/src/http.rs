//! Kafka Connect's REST API on the Connect port (8083), with Connect's routes, JSON shapes,
//! status codes and error body (`{"error_code": N, "message": "..."}`, made in `error.rs`).
//! It owns HTTP glue only: every operation is the worker's.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json as AxJson, Router};
use serde_json::{json, Value as Json};

use crate::config::Config;
use crate::error::{ConnectError, Result};
use crate::store::TargetState;
use crate::transforms::TRANSFORM_CLASSES;
use crate::worker::Worker;

/// The Connect version this API answers as.
pub const CONNECT_VERSION: &str = "3.9.0";

#[derive(Clone)]
pub struct Api {
    pub worker: Arc<Worker>,
    pub cluster_id: String,
}

pub fn router(api: Api) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/connectors", get(list_connectors).post(create_connector))
        .route(
            "/connectors/{name}",
            get(connector_info).delete(delete_connector),
        )
        .route(
            "/connectors/{name}/config",
            get(get_config).put(put_config).patch(patch_config),
        )
        .route("/connectors/{name}/status", get(status))
        .route("/connectors/{name}/pause", put(pause))
        .route("/connectors/{name}/resume", put(resume))
        .route("/connectors/{name}/stop", put(stop))
        .route("/connectors/{name}/restart", post(restart))
        .route("/connectors/{name}/tasks", get(tasks))
        .route("/connectors/{name}/tasks/{id}/status", get(task_status))
        .route("/connectors/{name}/tasks/{id}/restart", post(restart_task))
        .route("/connectors/{name}/topics", get(topics))
        .route("/connectors/{name}/topics/reset", put(reset_topics))
        .route(
            "/connectors/{name}/offsets",
            get(get_offsets).patch(alter_offsets).delete(reset_offsets),
        )
        .route("/connector-plugins", get(plugins))
        .route("/connector-plugins/{plugin}/config", get(plugin_config))
        .route("/connector-plugins/{plugin}/config/validate", put(validate))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(api)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        AxJson(json!({"error_code": 404, "message": "HTTP 404 Not Found"})),
    )
        .into_response()
}

async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        AxJson(json!({"error_code": 405, "message": "HTTP 405 Method Not Allowed"})),
    )
        .into_response()
}

fn ok(status: StatusCode, body: Json) -> Response {
    (status, AxJson(body)).into_response()
}

fn empty(status: StatusCode) -> Response {
    status.into_response()
}

fn answer(r: Result<Response>) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

/// The request body as JSON, or Connect's 400.
fn body_json(body: &Bytes) -> Result<Json> {
    serde_json::from_slice(body)
        .map_err(|e| ConnectError::BadRequest(format!("Cannot deserialize request body: {e}")))
}

/// A JSON object of config keys as a config map (non-string values as their JSON text).
fn config_of(v: &Json) -> Result<Config> {
    let o = v.as_object().ok_or_else(|| {
        ConnectError::BadRequest("Connector configuration must be a JSON object".into())
    })?;
    Ok(o.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_string),
            )
        })
        .collect())
}

/// Query flags: `name` present as `name`, `name=true` (repeated keys allowed).
fn query_values(q: &Option<String>, key: &str) -> Vec<String> {
    q.as_deref()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == key).then(|| v.to_string())
        })
        .collect()
}

fn flag(q: &Option<String>, key: &str) -> bool {
    query_values(q, key)
        .iter()
        .any(|v| v.is_empty() || v.eq_ignore_ascii_case("true"))
}

async fn root(State(api): State<Api>) -> Response {
    ok(
        StatusCode::OK,
        json!({"version": CONNECT_VERSION, "commit": concat!("sluice-", env!("CARGO_PKG_VERSION")), "kafka_cluster_id": api.cluster_id}),
    )
}

async fn list_connectors(State(api): State<Api>, RawQuery(q): RawQuery) -> Response {
    let expand = query_values(&q, "expand");
    let names = api.worker.connector_names();
    if expand.is_empty() {
        return ok(StatusCode::OK, json!(names));
    }
    let mut out = serde_json::Map::new();
    for n in names {
        let mut entry = serde_json::Map::new();
        if expand.iter().any(|e| e == "status") {
            if let Ok(s) = api.worker.status(&n) {
                entry.insert("status".into(), s);
            }
        }
        if expand.iter().any(|e| e == "info") {
            if let Ok(i) = api.worker.info(&n) {
                entry.insert("info".into(), i);
            }
        }
        out.insert(n, Json::Object(entry));
    }
    ok(StatusCode::OK, Json::Object(out))
}

async fn create_connector(State(api): State<Api>, body: Bytes) -> Response {
    answer(
        async {
            let req = body_json(&body)?;
            let config = config_of(req.get("config").unwrap_or(&Json::Null))?;
            let name = req
                .get("name")
                .and_then(Json::as_str)
                .map(str::to_string)
                .or_else(|| config.get("name").cloned())
                .ok_or_else(|| {
                    ConnectError::BadRequest(
                        "Connector name configuration (null) must be set".into(),
                    )
                })?;
            api.worker.put_connector(&name, config, false).await?;
            let info = api.worker.info(&name)?;
            let mut r = ok(StatusCode::CREATED, info);
            if let Ok(v) = format!("/connectors/{name}").parse() {
                r.headers_mut().insert(header::LOCATION, v);
            }
            Ok(r)
        }
        .await,
    )
}

async fn connector_info(State(api): State<Api>, Path(name): Path<String>) -> Response {
    answer(api.worker.info(&name).map(|i| ok(StatusCode::OK, i)))
}

async fn delete_connector(State(api): State<Api>, Path(name): Path<String>) -> Response {
    answer(
        api.worker
            .delete_connector(&name)
            .await
            .map(|_| empty(StatusCode::NO_CONTENT)),
    )
}

async fn get_config(State(api): State<Api>, Path(name): Path<String>) -> Response {
    answer(
        api.worker
            .config(&name)
            .map(|c| ok(StatusCode::OK, json!(c))),
    )
}

async fn put_config(State(api): State<Api>, Path(name): Path<String>, body: Bytes) -> Response {
    answer(
        async {
            let config = config_of(&body_json(&body)?)?;
            let created = api.worker.put_connector(&name, config, true).await?;
            let info = api.worker.info(&name)?;
            Ok(ok(
                if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                },
                info,
            ))
        }
        .await,
    )
}

async fn patch_config(State(api): State<Api>, Path(name): Path<String>, body: Bytes) -> Response {
    answer(
        async {
            let patch = body_json(&body)?;
            let patch = patch.as_object().ok_or_else(|| {
                ConnectError::BadRequest("Connector configuration must be a JSON object".into())
            })?;
            api.worker.patch_connector(&name, patch).await?;
            Ok(ok(StatusCode::OK, api.worker.info(&name)?))
        }
        .await,
    )
}

async fn status(State(api): State<Api>, Path(name): Path<String>) -> Response {
    answer(api.worker.status(&name).map(|s| ok(StatusCode::OK, s)))
}

async fn target(api: &Api, name: &str, t: TargetState) -> Response {
    answer(
        api.worker
            .set_target(name, t)
            .await
            .map(|_| empty(StatusCode::ACCEPTED)),
    )
}

async fn pause(State(api): State<Api>, Path(name): Path<String>) -> Response {
    target(&api, &name, TargetState::Paused).await
}

async fn resume(State(api): State<Api>, Path(name): Path<String>) -> Response {
    target(&api, &name, TargetState::Started).await
}

async fn stop(State(api): State<Api>, Path(name): Path<String>) -> Response {
    target(&api, &name, TargetState::Stopped).await
}

async fn restart(
    State(api): State<Api>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let include_tasks = flag(&q, "includeTasks");
    let only_failed = flag(&q, "onlyFailed");
    answer(
        api.worker
            .restart(&name, include_tasks, only_failed)
            .await
            .map(|s| {
                if include_tasks || only_failed {
                    ok(StatusCode::ACCEPTED, s)
                } else {
                    empty(StatusCode::NO_CONTENT)
                }
            }),
    )
}

async fn tasks(State(api): State<Api>, Path(name): Path<String>) -> Response {
    answer(api.worker.tasks(&name).map(|t| ok(StatusCode::OK, t)))
}

fn task_id(name: &str, id: &str) -> Result<usize> {
    id.parse()
        .map_err(|_| ConnectError::TaskNotFound(format!("{name}-{id}")))
}

async fn task_status(State(api): State<Api>, Path((name, id)): Path<(String, String)>) -> Response {
    answer(
        task_id(&name, &id)
            .and_then(|id| api.worker.task_status(&name, id))
            .map(|s| ok(StatusCode::OK, s)),
    )
}

async fn restart_task(
    State(api): State<Api>,
    Path((name, id)): Path<(String, String)>,
) -> Response {
    answer(
        async {
            let id = task_id(&name, &id)?;
            api.worker.restart_task(&name, id).await?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        .await,
    )
}

async fn topics(State(api): State<Api>, Path(name): Path<String>) -> Response {
    answer(
        api.worker
            .active_topics(&name)
            .map(|t| ok(StatusCode::OK, t)),
    )
}

async fn reset_topics(State(api): State<Api>, Path(name): Path<String>) -> Response {
    answer(
        api.worker
            .reset_topics(&name)
            .map(|_| empty(StatusCode::ACCEPTED)),
    )
}

async fn get_offsets(State(api): State<Api>, Path(name): Path<String>) -> Response {
    answer(api.worker.get_offsets(&name).map(|o| ok(StatusCode::OK, o)))
}

async fn alter_offsets(State(api): State<Api>, Path(name): Path<String>, body: Bytes) -> Response {
    answer(
        body_json(&body)
            .and_then(|b| api.worker.alter_offsets(&name, &b))
            .map(|m| ok(StatusCode::OK, m)),
    )
}

async fn reset_offsets(State(api): State<Api>, Path(name): Path<String>) -> Response {
    answer(
        api.worker
            .reset_offsets(&name)
            .map(|m| ok(StatusCode::OK, m)),
    )
}

async fn plugins(State(api): State<Api>, RawQuery(q): RawQuery) -> Response {
    let mut out: Vec<Json> = api
        .worker
        .plugins()
        .all()
        .iter()
        .map(|p| json!({"class": p.class(), "type": p.kind().as_str(), "version": p.version()}))
        .collect();
    let connectors_only = query_values(&q, "connectorsOnly")
        .iter()
        .all(|v| !v.eq_ignore_ascii_case("false"));
    if !connectors_only {
        let version = env!("CARGO_PKG_VERSION");
        for t in TRANSFORM_CLASSES {
            out.push(json!({"class": format!("org.apache.kafka.connect.transforms.{t}"), "type": "transformation", "version": version}));
        }
        for p in ["TopicNameMatches", "HasHeaderKey", "RecordIsTombstone"] {
            out.push(json!({"class": format!("org.apache.kafka.connect.transforms.predicates.{p}"), "type": "predicate", "version": version}));
        }
        for c in [
            crate::converters::JSON_CONVERTER,
            crate::converters::STRING_CONVERTER,
            crate::converters::BYTE_ARRAY_CONVERTER,
            crate::converters::AVRO_CONVERTER,
            crate::converters::PROTOBUF_CONVERTER,
            crate::converters::JSON_SCHEMA_CONVERTER,
        ] {
            out.push(json!({"class": c, "type": "converter", "version": version}));
        }
    }
    ok(StatusCode::OK, Json::Array(out))
}

async fn plugin_config(State(api): State<Api>, Path(plugin): Path<String>) -> Response {
    match api.worker.plugins().find(&plugin) {
        Some(p) => ok(StatusCode::OK, p.config_def().key_infos()),
        None => ConnectError::UnknownPlugin(plugin).into_response(),
    }
}

fn simple(name: &str) -> &str {
    let s = name.rsplit('.').next().unwrap_or(name);
    s.strip_suffix("Connector").unwrap_or(s)
}

async fn validate(State(api): State<Api>, Path(plugin): Path<String>, body: Bytes) -> Response {
    answer(
        async {
            let mut config = config_of(&body_json(&body)?)?;
            if let Some(included) = config.get("connector.class") {
                if simple(included) != simple(&plugin) {
                    return Err(ConnectError::BadRequest(format!(
                        "Included connector type {included} does not match request type {plugin}"
                    )));
                }
            } else {
                config.insert("connector.class".into(), plugin.clone());
            }
            let v = api.worker.validate(&config)?;
            Ok(ok(StatusCode::OK, v))
        }
        .await,
    )
}
