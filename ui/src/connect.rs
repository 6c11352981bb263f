//! Kafka Connect's REST API as the Connectors view uses it, through the workbench's
//! `/clusters/{c}/connect/*` pass-through (so the embedded runtime and a remote Kafka Connect
//! answer alike): Connect's JSON shapes, read leniently (a real Connect and Sluice's differ in
//! optional fields), the calls (every route through [`Connect::send`]), and the pure helpers
//! the views share (the form's field order and groups, state → pill class, a class's simple
//! name, an offsets edit → Connect's PATCH body). No views here.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::api::{self, Method, RegError};

/// `/connectors/{n}/status`'s connector or task state.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct StateInfo {
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub trace: Option<String>,
    #[serde(default)]
    pub worker_id: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct TaskState {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub trace: Option<String>,
    #[serde(default)]
    pub worker_id: Option<String>,
}

/// `GET /connectors/{n}/status`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Status {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub connector: StateInfo,
    #[serde(default)]
    pub tasks: Vec<TaskState>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// `GET /connectors/{n}`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Info {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// One entry of `GET /connectors?expand=status&expand=info`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Expanded {
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    pub info: Option<Info>,
}

/// `GET /connector-plugins`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Plugin {
    pub class: String,
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub version: Option<String>,
}

/// One key of a config definition (`GET /connector-plugins/{p}/config`, and `definition`
/// in validation answers).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct KeyDef {
    pub name: String,
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default_value: Option<String>,
    #[serde(default)]
    pub importance: Option<String>,
    #[serde(default)]
    pub documentation: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default, alias = "order_in_group")]
    pub order: Option<i64>,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ConfigValue {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub recommended_values: Vec<String>,
    #[serde(default)]
    pub errors: Vec<String>,
    #[serde(default = "yes")]
    pub visible: bool,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ConfigInfo {
    pub definition: KeyDef,
    #[serde(default)]
    pub value: ConfigValue,
}

/// `PUT /connector-plugins/{p}/config/validate`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ConfigInfos {
    #[serde(default)]
    pub error_count: i64,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub configs: Vec<ConfigInfo>,
}

impl ConfigInfos {
    /// Each key's errors, for keys that have some.
    pub fn errors(&self) -> BTreeMap<String, Vec<String>> {
        self.configs
            .iter()
            .filter(|c| !c.value.errors.is_empty())
            .map(|c| (c.definition.name.clone(), c.value.errors.clone()))
            .collect()
    }
}

/// The cluster's Kafka Connect: every Connect route the views call goes through
/// [`Connect::send`] (or a typed route below), names encoded once here.
#[derive(Clone, Debug, PartialEq)]
pub struct Connect {
    cluster: String,
}

impl Connect {
    pub fn of(cluster: &str) -> Connect {
        Connect {
            cluster: cluster.to_string(),
        }
    }

    /// A Connect REST call (`rest` as in Connect's API, names already encoded).
    pub async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        rest: &str,
        body: Option<Value>,
    ) -> Result<T, RegError> {
        api::call(
            method,
            &sluice_api::paths::connect(&api::enc(&self.cluster), rest),
            body,
        )
        .await
    }

    pub async fn get<T: DeserializeOwned>(&self, rest: &str) -> Result<T, RegError> {
        self.send(Method::Get, rest, None).await
    }

    /// One connector's routes.
    pub fn connector(&self, name: &str) -> ConnectorRoutes {
        ConnectorRoutes {
            connect: self.clone(),
            name: name.to_string(),
        }
    }

    /// `GET /connector-plugins/{p}/config`: a plugin's config definition.
    pub async fn plugin_config(&self, class: &str) -> Result<Vec<KeyDef>, RegError> {
        self.get(&format!("connector-plugins/{}/config", api::enc(class)))
            .await
    }

    /// `PUT /connector-plugins/{p}/config/validate`.
    pub async fn validate(
        &self,
        class: &str,
        config: &BTreeMap<String, String>,
    ) -> Result<ConfigInfos, RegError> {
        let body = serde_json::to_value(config).unwrap_or(Value::Null);
        self.send(
            Method::Put,
            &format!("connector-plugins/{}/config/validate", api::enc(class)),
            Some(body),
        )
        .await
    }
}

/// The routes of one connector, `connectors/{name}/...`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectorRoutes {
    connect: Connect,
    name: String,
}

impl ConnectorRoutes {
    /// A call on `connectors/{name}{rest}` (`rest` empty or starting with `/`).
    pub async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        rest: &str,
        body: Option<Value>,
    ) -> Result<T, RegError> {
        self.connect
            .send(method, &connector_path(&self.name, rest), body)
            .await
    }

    pub async fn status(&self) -> Result<Status, RegError> {
        self.send(Method::Get, "/status", None).await
    }

    pub async fn config(&self) -> Result<BTreeMap<String, String>, RegError> {
        self.send(Method::Get, "/config", None).await
    }

    /// `GET /connectors/{n}/topics` → the topic names.
    pub async fn topics(&self) -> Result<Vec<String>, RegError> {
        let t: BTreeMap<String, Value> = self.send(Method::Get, "/topics", None).await?;
        Ok(topic_list(&t, &self.name))
    }

    pub async fn offsets(&self) -> Result<Offsets, RegError> {
        self.send(Method::Get, "/offsets", None).await
    }
}

/// The path of one connector (`connectors/{name}{rest}`), the name encoded.
pub fn connector_path(name: &str, rest: &str) -> String {
    format!("connectors/{}{rest}", api::enc(name))
}

/// `GET /connectors/{n}/topics`'s answer → the topic names.
fn topic_list(t: &BTreeMap<String, Value>, name: &str) -> Vec<String> {
    t.get(name)
        .and_then(|v| v.get("topics"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// One committed offset of `GET /connectors/{n}/offsets`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct OffsetEntry {
    #[serde(default)]
    pub partition: Value,
    #[serde(default)]
    pub offset: Value,
}

/// `GET /connectors/{n}/offsets`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Offsets {
    #[serde(default)]
    pub offsets: Vec<OffsetEntry>,
}

/// One offset being edited: the partition, the committed offset, and what the field holds
/// (a sink's `kafka_offset` as a number, a source's offset as JSON text).
#[derive(Clone, Debug, PartialEq)]
pub struct OffsetDraft {
    pub partition: Value,
    pub committed: Value,
    pub text: String,
}

impl OffsetDraft {
    /// The field's text of a committed offset: a sink's `kafka_offset`, a source's JSON.
    pub fn of(sink: bool, e: &OffsetEntry) -> OffsetDraft {
        let text = if sink {
            match e.offset.get("kafka_offset") {
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            }
        } else if e.offset.is_null() {
            String::new()
        } else {
            serde_json::to_string_pretty(&e.offset).unwrap_or_default()
        };
        OffsetDraft {
            partition: e.partition.clone(),
            committed: e.offset.clone(),
            text,
        }
    }

    /// The offset the field asks for (`null` when empty: forget the partition's offset), or
    /// why it cannot be one.
    pub fn wanted(&self, sink: bool) -> Result<Value, String> {
        let text = self.text.trim();
        if text.is_empty() {
            return Ok(Value::Null);
        }
        if sink {
            match text.parse::<i64>() {
                Ok(o) if o >= 0 => Ok(serde_json::json!({ "kafka_offset": o })),
                _ => Err(format!(
                    "{text:?} is not an offset (a whole number, 0 or more)"
                )),
            }
        } else {
            match serde_json::from_str::<Value>(text) {
                Ok(v @ (Value::Object(_) | Value::Null)) => Ok(v),
                Ok(_) => Err("a source offset is a JSON object (or null)".into()),
                Err(e) => Err(format!("not JSON: {e}")),
            }
        }
    }
}

/// Connect's PATCH offsets body (`{"offsets":[{"partition":..,"offset":..}]}`) for the drafts
/// that change their partition's offset; `Ok(None)` when none does, `Err` naming the first
/// field that is not an offset.
pub fn offsets_patch(sink: bool, drafts: &[OffsetDraft]) -> Result<Option<Value>, String> {
    let mut out = Vec::new();
    for d in drafts {
        let wanted = d
            .wanted(sink)
            .map_err(|e| format!("{}: {e}", flat(&d.partition)))?;
        if wanted != d.committed {
            out.push(serde_json::json!({ "partition": d.partition, "offset": wanted }));
        }
    }
    Ok((!out.is_empty()).then(|| serde_json::json!({ "offsets": out })))
}

/// A JSON map on one line, `k=v, k=v` (an offset's partition or position).
pub fn flat(v: &Value) -> String {
    match v {
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

/// The last segment of a class name: `io.x.DatagenConnector` → `DatagenConnector`.
pub fn simple_class(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
}

/// What a group of the form is called when a plugin's own keys have none: its simple name
/// without `Connector` (`Datagen`).
pub fn plugin_group(class: &str) -> String {
    let s = simple_class(class);
    s.strip_suffix("Connector").unwrap_or(s).to_string()
}

/// Keys the form shows elsewhere (the name field, the plugin picker).
pub const OWN_KEYS: &[&str] = &["name", "connector.class"];

/// The form's groups in order, each with its keys in order: the plugin's own keys first (in
/// their groups, or one named after the plugin), then the worker's groups as the validation
/// answer lists them. In a group: required keys first, then by importance, then by the
/// definition's order.
pub fn form_groups(class: &str, plugin: &[KeyDef], all: &[KeyDef]) -> Vec<(String, Vec<KeyDef>)> {
    let own_group = plugin_group(class);
    let mut groups: Vec<(String, Vec<KeyDef>)> = Vec::new();
    let mut push = |g: String, k: KeyDef| match groups.iter_mut().find(|(n, _)| *n == g) {
        Some((_, keys)) => {
            if !keys.iter().any(|x| x.name == k.name) {
                keys.push(k)
            }
        }
        None => groups.push((g, vec![k])),
    };
    let plugin_names: Vec<&str> = plugin.iter().map(|k| k.name.as_str()).collect();
    for k in plugin {
        if OWN_KEYS.contains(&k.name.as_str()) {
            continue;
        }
        let g = k.group.clone().unwrap_or_else(|| own_group.clone());
        push(g, k.clone());
    }
    for k in all {
        if OWN_KEYS.contains(&k.name.as_str()) || plugin_names.contains(&k.name.as_str()) {
            continue;
        }
        let g = k.group.clone().unwrap_or_else(|| own_group.clone());
        push(g, k.clone());
    }
    let rank = |k: &KeyDef| {
        let imp = match k.importance.as_deref() {
            Some("HIGH") => 0,
            Some("MEDIUM") => 1,
            _ => 2,
        };
        (!k.required, imp, k.order.unwrap_or(i64::MAX))
    };
    for (_, keys) in groups.iter_mut() {
        // Stable: keys of equal rank keep the definition's order.
        keys.sort_by_key(|k| rank(k));
    }
    groups
}

/// The pill class of a connector or task state.
pub fn state_class(state: &str) -> &'static str {
    match state {
        "RUNNING" => "pill pill-ok",
        "PAUSED" => "pill pill-warn",
        "STOPPED" => "pill pill-idle",
        "FAILED" => "pill pill-bad",
        "UNASSIGNED" | "RESTARTING" => "pill pill-neutral",
        _ => "pill pill-neutral",
    }
}

/// A Connect config as JSON for Connect's create body: `{"name": ..., "config": {...}}`.
pub fn create_body(name: &str, config: &BTreeMap<String, String>) -> Value {
    let mut cfg = serde_json::Map::new();
    for (k, v) in config {
        cfg.insert(k.clone(), Value::String(v.clone()));
    }
    serde_json::json!({ "name": name, "config": Value::Object(cfg) })
}

/// Reads a pasted or uploaded connector JSON: Connect's create body (`{"name", "config"}`)
/// or a bare config object (its `name` key names it). Non-string values become their JSON
/// text, as Connect reads them.
pub fn parse_connector_json(text: &str) -> Result<(String, BTreeMap<String, String>), String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let obj = v.as_object().ok_or("expected a JSON object")?;
    let (name, cfg) = match obj.get("config") {
        Some(Value::Object(cfg)) => (
            obj.get("name")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| cfg.get("name").and_then(Value::as_str).map(str::to_string)),
            cfg,
        ),
        Some(_) => return Err("\"config\" must be an object of config keys".into()),
        None => (
            obj.get("name").and_then(Value::as_str).map(str::to_string),
            obj,
        ),
    };
    let mut out = BTreeMap::new();
    for (k, v) in cfg {
        if k == "name" {
            continue;
        }
        match v {
            Value::Null => {}
            Value::String(s) => {
                out.insert(k.clone(), s.clone());
            }
            other => {
                out.insert(k.clone(), other.to_string());
            }
        }
    }
    Ok((name.unwrap_or_default(), out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(
        name: &str,
        group: Option<&str>,
        required: bool,
        importance: &str,
        order: i64,
    ) -> KeyDef {
        KeyDef {
            name: name.into(),
            kind: "STRING".into(),
            required,
            importance: Some(importance.into()),
            group: group.map(str::to_string),
            order: Some(order),
            ..KeyDef::default()
        }
    }

    #[test]
    fn the_plugin_group_comes_first_with_required_keys_first() {
        let class = "io.confluent.kafka.connect.datagen.DatagenConnector";
        let plugin = vec![
            key("max.interval", None, false, "HIGH", 1),
            key("random.seed", None, false, "LOW", 2),
            key("kafka.topic", None, true, "HIGH", 3),
        ];
        let all = vec![
            key("name", Some("Common"), true, "HIGH", 0),
            key("connector.class", Some("Common"), true, "HIGH", 1),
            key("tasks.max", Some("Common"), false, "HIGH", 2),
            key(
                "errors.tolerance",
                Some("Error Handling"),
                false,
                "MEDIUM",
                3,
            ),
            key("kafka.topic", None, true, "HIGH", 4),
        ];
        let g = form_groups(class, &plugin, &all);
        let names: Vec<(&str, Vec<&str>)> = g
            .iter()
            .map(|(n, ks)| (n.as_str(), ks.iter().map(|k| k.name.as_str()).collect()))
            .collect();
        assert_eq!(
            names,
            vec![
                (
                    "Datagen",
                    vec!["kafka.topic", "max.interval", "random.seed"]
                ),
                ("Common", vec!["tasks.max"]),
                ("Error Handling", vec!["errors.tolerance"]),
            ]
        );
    }

    #[test]
    fn pasted_json_is_a_create_body_or_a_bare_config() {
        let (n, c) = parse_connector_json(
            r#"{"name": "g", "config": {"connector.class": "X", "tasks.max": 2, "a": null, "name": "g"}}"#,
        )
        .unwrap();
        assert_eq!(n, "g");
        assert_eq!(c.get("tasks.max").map(String::as_str), Some("2"));
        assert!(!c.contains_key("a") && !c.contains_key("name"));
        let (n, c) = parse_connector_json(r#"{"name": "h", "connector.class": "Y"}"#).unwrap();
        assert_eq!((n.as_str(), c.len()), ("h", 1));
        assert!(parse_connector_json("[1]").is_err());
        assert!(parse_connector_json("{").is_err());
        assert!(parse_connector_json(r#"{"config": 3}"#).is_err());
        let body = create_body("g", &c);
        assert_eq!(body["config"]["connector.class"], "Y");
        assert_eq!(
            plugin_group("org.apache.kafka.connect.file.FileStreamSinkConnector"),
            "FileStreamSink"
        );
    }

    #[test]
    fn an_offsets_patch_holds_the_changed_partitions_in_connects_shape() {
        let sink = |p: i64, o: i64, text: &str| OffsetDraft {
            partition: serde_json::json!({"kafka_topic": "t", "kafka_partition": p}),
            committed: serde_json::json!({"kafka_offset": o}),
            text: text.into(),
        };
        let e = OffsetEntry {
            partition: serde_json::json!({"kafka_topic": "t", "kafka_partition": 0}),
            offset: serde_json::json!({"kafka_offset": 4}),
        };
        assert_eq!(OffsetDraft::of(true, &e), sink(0, 4, "4"));
        assert_eq!(offsets_patch(true, &[sink(0, 4, "4")]), Ok(None));
        assert_eq!(
            offsets_patch(true, &[sink(0, 4, "4"), sink(1, 9, " 2 "), sink(2, 3, "")]),
            Ok(Some(serde_json::json!({"offsets": [
                {"partition": {"kafka_topic": "t", "kafka_partition": 1}, "offset": {"kafka_offset": 2}},
                {"partition": {"kafka_topic": "t", "kafka_partition": 2}, "offset": null},
            ]})))
        );
        let err = offsets_patch(true, &[sink(1, 9, "-1")]).unwrap_err();
        assert!(
            err.starts_with("kafka_topic=t, kafka_partition=1: "),
            "{err}"
        );
        assert!(offsets_patch(true, &[sink(1, 9, "x")]).is_err());

        let src = OffsetEntry {
            partition: serde_json::json!({"filename": "/in.txt"}),
            offset: serde_json::json!({"position": 12}),
        };
        let mut d = OffsetDraft::of(false, &src);
        assert_eq!(d.wanted(false), Ok(serde_json::json!({"position": 12})));
        assert_eq!(offsets_patch(false, std::slice::from_ref(&d)), Ok(None));
        d.text = r#"{"position": 0}"#.into();
        assert_eq!(
            offsets_patch(false, std::slice::from_ref(&d)),
            Ok(Some(serde_json::json!({"offsets": [
                {"partition": {"filename": "/in.txt"}, "offset": {"position": 0}}
            ]})))
        );
        d.text = "[1]".into();
        assert!(offsets_patch(false, &[d.clone()]).is_err());
        d.text = "{".into();
        assert!(offsets_patch(false, &[d]).is_err());
    }
}
