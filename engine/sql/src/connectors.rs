//! The connector statements (ksqlDB's `ksql.connect.url` integration): CREATE SOURCE|SINK
//! CONNECTOR, DROP CONNECTOR, SHOW [SOURCE|SINK] CONNECTORS, SHOW CONNECTOR PLUGINS and
//! DESCRIBE CONNECTOR, answered with ksqlDB's entities (`connector_info`, `drop_connector`,
//! `connector_list`, `connector_plugins_list`, `connector_description`, `warning_entity`,
//! `error_entity`) from a Kafka Connect cluster's REST API. The calls go through
//! [`ConnectClient`], which the server implements (over HTTP, so the embedded Connect and a
//! remote one are the same to the engine); this module never does I/O itself.

use serde_json::{json, Value as Json};

use crate::ast::{ConnectorKind, Properties};
use crate::catalog::prop_string;
use crate::error::SqlError;

/// One Connect REST answer: its HTTP status and JSON body (Null when empty).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectResponse {
    pub status: u16,
    pub body: Json,
}

impl ConnectResponse {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Connect's error message (`{"error_code":..,"message":..}`), or the status.
    fn message(&self) -> String {
        self.body["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("Kafka Connect answered HTTP {}", self.status))
    }
}

/// A Kafka Connect cluster's REST API.
pub trait ConnectClient: Send + Sync + 'static {
    /// `method` (GET, POST, PUT, DELETE) on `path` (`/connectors/...`) with an optional JSON
    /// body. Err only when the cluster could not be reached.
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Json>,
    ) -> Result<ConnectResponse, SqlError>;
}

/// A connector name as a URL path segment.
fn segment(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn warning(text: &str, message: String) -> Json {
    json!({"@type": "warning_entity", "statementText": text, "message": message, "warnings": []})
}

fn error_entity(text: &str, message: String) -> Json {
    json!({"@type": "error_entity", "statementText": text, "errorMessage": message, "warnings": []})
}

fn type_name(kind: ConnectorKind) -> &'static str {
    match kind {
        ConnectorKind::Source => "source",
        ConnectorKind::Sink => "sink",
    }
}

pub fn create(
    client: &dyn ConnectClient,
    text: &str,
    kind: ConnectorKind,
    if_not_exists: bool,
    name: &str,
    properties: &Properties,
) -> Result<Json, SqlError> {
    let path = format!("/connectors/{}", segment(name));
    if if_not_exists && client.call("GET", &path, None)?.ok() {
        return Ok(warning(text, format!("Connector {name} already exists")));
    }
    let config: serde_json::Map<String, Json> = properties
        .0
        .iter()
        .map(|p| (p.key.clone(), Json::String(prop_string(&p.value))))
        .collect();
    let answer = client.call(
        "POST",
        "/connectors",
        Some(json!({"name": name, "config": config})),
    )?;
    if !answer.ok() {
        return Ok(error_entity(text, answer.message()));
    }
    // Connect decides the type from the class; a SOURCE statement naming a sink class is
    // still created (as ksqlDB does), its entity says what it is.
    let mut info = answer.body;
    if info["type"].is_null() {
        info["type"] = json!(type_name(kind));
    }
    Ok(json!({"@type": "connector_info", "statementText": text, "info": info, "warnings": []}))
}

pub fn drop(
    client: &dyn ConnectClient,
    text: &str,
    if_exists: bool,
    name: &str,
) -> Result<Json, SqlError> {
    let answer = client.call("DELETE", &format!("/connectors/{}", segment(name)), None)?;
    if answer.ok() {
        return Ok(
            json!({"@type": "drop_connector", "statementText": text, "connectorName": name, "warnings": []}),
        );
    }
    if answer.status == 404 && if_exists {
        return Ok(warning(text, format!("Connector {name} does not exist.")));
    }
    Ok(error_entity(text, answer.message()))
}

/// ksqlDB's summary of a status: the connector's state, or for a running connector
/// `RUNNING (n/m tasks RUNNING)` (`WARNING` when it has tasks and none runs).
fn summarize(status: &Json) -> String {
    let state = status["connector"]["state"]
        .as_str()
        .unwrap_or("UNASSIGNED");
    if state != "RUNNING" {
        return state.to_string();
    }
    let tasks = status["tasks"].as_array().cloned().unwrap_or_default();
    let running = tasks.iter().filter(|t| t["state"] == "RUNNING").count();
    let overall = if !tasks.is_empty() && running == 0 {
        "WARNING"
    } else {
        "RUNNING"
    };
    format!("{overall} ({running}/{} tasks RUNNING)", tasks.len())
}

pub fn list(
    client: &dyn ConnectClient,
    text: &str,
    scope: Option<ConnectorKind>,
) -> Result<Json, SqlError> {
    let names = client.call("GET", "/connectors", None)?;
    if !names.ok() {
        return Ok(error_entity(text, names.message()));
    }
    let mut infos = Vec::new();
    let mut warnings = Vec::new();
    for name in names.body.as_array().into_iter().flatten() {
        let Some(name) = name.as_str() else { continue };
        let path = format!("/connectors/{}", segment(name));
        let info = client.call("GET", &path, None)?;
        if !info.ok() {
            if scope.is_none() {
                infos.push(json!({"name": name, "type": "unknown"}));
            }
            warnings.push(json!({"message": format!("Could not describe connector {name}: {}", info.message())}));
            continue;
        }
        let ty = info.body["type"].as_str().unwrap_or("unknown");
        if scope.is_some_and(|k| type_name(k) != ty) {
            continue;
        }
        let status = client.call("GET", &format!("{path}/status"), None)?;
        infos.push(json!({
            "name": name,
            "type": ty,
            "className": info.body["config"]["connector.class"],
            "state": summarize(&status.body),
        }));
    }
    Ok(
        json!({"@type": "connector_list", "statementText": text, "warnings": warnings, "connectors": infos}),
    )
}

pub fn plugins(client: &dyn ConnectClient, text: &str) -> Result<Json, SqlError> {
    let answer = client.call("GET", "/connector-plugins", None)?;
    if !answer.ok() {
        return Ok(error_entity(text, answer.message()));
    }
    let plugins: Vec<Json> = answer
        .body
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| json!({"className": p["class"], "type": p["type"], "version": p["version"]}))
        .collect();
    Ok(
        json!({"@type": "connector_plugins_list", "statementText": text, "warnings": [], "connectorsPlugins": plugins}),
    )
}

pub fn describe(client: &dyn ConnectClient, text: &str, name: &str) -> Result<Json, SqlError> {
    let path = format!("/connectors/{}", segment(name));
    let status = client.call("GET", &format!("{path}/status"), None)?;
    if status.status == 404 {
        return Err(SqlError::statement(format!(
            "Failed to query connector status: {}",
            status.message()
        )));
    }
    if !status.ok() {
        return Ok(error_entity(text, status.message()));
    }
    let info = client.call("GET", &path, None)?;
    if !info.ok() {
        return Ok(error_entity(text, info.message()));
    }
    let topics = client.call("GET", &format!("{path}/topics"), None)?;
    let topics: Vec<Json> = topics.body[name]["topics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(json!({
        "@type": "connector_description",
        "statementText": text,
        "connectorClass": info.body["config"]["connector.class"],
        "status": status.body,
        "sources": [],
        "topics": topics,
        "warnings": [],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A Connect cluster answering from a script of (method path → response), recording calls.
    struct Scripted {
        answers: Vec<(&'static str, ConnectResponse)>,
        calls: Mutex<Vec<(String, Option<Json>)>>,
    }

    impl ConnectClient for Scripted {
        fn call(
            &self,
            method: &str,
            path: &str,
            body: Option<Json>,
        ) -> Result<ConnectResponse, SqlError> {
            let key = format!("{method} {path}");
            self.calls.lock().unwrap().push((key.clone(), body));
            Ok(self
                .answers
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, r)| r.clone())
                .unwrap_or(ConnectResponse {
                    status: 404,
                    body: json!({"error_code": 404, "message": format!("Connector not found: {path}")}),
                }))
        }
    }

    fn r(status: u16, body: Json) -> ConnectResponse {
        ConnectResponse { status, body }
    }

    #[test]
    fn create_posts_the_with_properties_as_strings() {
        let c = Scripted {
            answers: vec![(
                "POST /connectors",
                r(
                    201,
                    json!({"name": "DG", "config": {}, "tasks": [], "type": "source"}),
                ),
            )],
            calls: Mutex::new(vec![]),
        };
        let crate::Statement::CreateConnector { kind, if_not_exists, name, properties } =
            crate::parse_statement("CREATE SOURCE CONNECTOR dg WITH ('connector.class'='DatagenConnector', 'iterations'=10, 'x'=true);").unwrap()
        else {
            panic!("not CREATE CONNECTOR")
        };
        let out = create(&c, "t", kind, if_not_exists, &name.0, &properties).unwrap();
        assert_eq!(out["@type"], "connector_info");
        let calls = c.calls.lock().unwrap();
        assert_eq!(
            calls[0].1,
            Some(
                json!({"name": "DG", "config": {"connector.class": "DatagenConnector", "iterations": "10", "x": "true"}})
            )
        );
    }

    #[test]
    fn states_and_missing_connectors_read_as_ksqldb_says_them() {
        let c = Scripted {
            answers: vec![
                ("GET /connectors", r(200, json!(["A", "B"]))),
                (
                    "GET /connectors/A",
                    r(
                        200,
                        json!({"name": "A", "type": "sink", "config": {"connector.class": "FileStreamSink"}}),
                    ),
                ),
                (
                    "GET /connectors/A/status",
                    r(
                        200,
                        json!({"connector": {"state": "RUNNING"}, "tasks": [{"id": 0, "state": "FAILED"}]}),
                    ),
                ),
                (
                    "GET /connectors/B",
                    r(
                        200,
                        json!({"name": "B", "type": "source", "config": {"connector.class": "FileStreamSource"}}),
                    ),
                ),
                (
                    "GET /connectors/B/status",
                    r(200, json!({"connector": {"state": "PAUSED"}, "tasks": []})),
                ),
            ],
            calls: Mutex::new(vec![]),
        };
        let all = list(&c, "t", None).unwrap();
        assert_eq!(all["connectors"][0]["state"], "WARNING (0/1 tasks RUNNING)");
        assert_eq!(all["connectors"][1]["state"], "PAUSED");
        let sinks = list(&c, "t", Some(ConnectorKind::Sink)).unwrap();
        assert_eq!(sinks["connectors"].as_array().unwrap().len(), 1);
        let gone = drop(&c, "t", true, "C").unwrap();
        assert_eq!(gone["@type"], "warning_entity");
        let gone = drop(&c, "t", false, "C").unwrap();
        assert_eq!(gone["@type"], "error_entity");
        assert!(describe(&c, "t", "C").is_err());
    }
}
