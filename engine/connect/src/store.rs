//! The three compacted internal topics, in Kafka Connect's own record formats (distributed
//! mode), so a Connect cluster reads what Sluice wrote and the other way round:
//! - `connect-configs`: `connector-<name>` → `{"properties":{...}}`, `task-<name>-<n>` →
//!   `{"properties":{...}}`, `commit-<name>` → `{"tasks":N}` (task configs count only once
//!   committed), `target-state-<name>` → `{"state":"STARTED|PAUSED","state.v2":"...|STOPPED"}`;
//!   a deleted connector is a tombstone on `connector-<name>` and `target-state-<name>`.
//! - `connect-offsets`: key `["<name>",{<source partition>}]` → the source offset (null: reset).
//! - `connect-status`: `status-connector-<name>` / `status-task-<name>-<n>` →
//!   `{"state":..,"trace":..,"worker_id":..,"generation":N}`, and
//!   `status-topic-<topic>:connector-<name>` → `{"topic":{"name","connector","task","discoverTimestamp"}}`.
//!
//! It owns encoding, appending and replaying these records; it never decides what to run.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use serde_json::{json, Value as Json};
use sluice_log::keyed::{append_keyed, open_internal_topic, replay_keyed};
use sluice_log::{LogStore, SharedPartition};

use crate::config::Config;
use crate::error::Result;

pub const CONFIG_TOPIC: &str = "connect-configs";
pub const OFFSET_TOPIC: &str = "connect-offsets";
pub const STATUS_TOPIC: &str = "connect-status";
/// Sluice's own (not Connect's): the write a source task is about to make, so a crash between
/// its records and their offsets is repaired on start (see `worker.rs`).
pub const INTENT_TOPIC: &str = "_sluice-connect-intents";

/// A connector's target state, as Connect's `TargetState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    Started,
    Paused,
    Stopped,
}

impl TargetState {
    fn record(self) -> Json {
        match self {
            TargetState::Started => json!({"state": "STARTED", "state.v2": "STARTED"}),
            TargetState::Paused => json!({"state": "PAUSED", "state.v2": "PAUSED"}),
            // Workers that predate STOPPED read "state" and pause.
            TargetState::Stopped => json!({"state": "PAUSED", "state.v2": "STOPPED"}),
        }
    }

    fn from_record(v: &Json) -> TargetState {
        match v
            .get("state.v2")
            .or_else(|| v.get("state"))
            .and_then(Json::as_str)
        {
            Some("PAUSED") => TargetState::Paused,
            Some("STOPPED") => TargetState::Stopped,
            _ => TargetState::Started,
        }
    }
}

/// What `connect-configs` says about one connector.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorRecord {
    pub config: Config,
    pub target: TargetState,
    /// The committed task configs.
    pub tasks: Vec<Config>,
}

/// What replaying the three topics gives back.
#[derive(Debug, Default)]
pub struct Restored {
    pub connectors: BTreeMap<String, ConnectorRecord>,
    /// (connector, source partition as JSON text) → offset.
    pub offsets: BTreeMap<(String, String), Json>,
    /// connector → topics it has used.
    pub topics: BTreeMap<String, BTreeSet<String>>,
    /// (connector, task) → the last write intent of a source task.
    pub intents: BTreeMap<(String, usize), Json>,
}

/// The open internal topics.
pub struct BackingStore {
    configs: SharedPartition,
    offsets: SharedPartition,
    status: SharedPartition,
    intents: SharedPartition,
}

fn props_value(config: &Config) -> Bytes {
    Bytes::from(json!({ "properties": config }).to_string())
}

fn config_of(v: &Json) -> Config {
    v["properties"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The `connect-offsets` key of a source partition.
pub fn offset_key(connector: &str, partition: &Json) -> String {
    json!([connector, partition]).to_string()
}

impl BackingStore {
    pub fn open(store: &LogStore) -> Result<BackingStore> {
        let compact = [("cleanup.policy", "compact")];
        Ok(BackingStore {
            configs: open_internal_topic(store, CONFIG_TOPIC, &compact)?,
            offsets: open_internal_topic(store, OFFSET_TOPIC, &compact)?,
            status: open_internal_topic(store, STATUS_TOPIC, &compact)?,
            intents: open_internal_topic(store, INTENT_TOPIC, &compact)?,
        })
    }

    /// Replays the three topics.
    pub fn restore(&self) -> Result<Restored> {
        let mut out = Restored::default();
        // Task configs seen but not yet committed, per connector.
        let mut pending: BTreeMap<String, BTreeMap<usize, Config>> = BTreeMap::new();
        let mut targets: BTreeMap<String, TargetState> = BTreeMap::new();
        for r in replay_keyed(&self.configs)? {
            let Some(key) = r.key.as_deref().and_then(|k| std::str::from_utf8(k).ok()) else {
                continue;
            };
            let value: Option<Json> = r
                .value
                .as_deref()
                .and_then(|v| serde_json::from_slice(v).ok());
            if let Some(name) = key.strip_prefix("connector-") {
                match value {
                    Some(v) => {
                        let target = targets.get(name).copied().unwrap_or(TargetState::Started);
                        let entry =
                            out.connectors
                                .entry(name.to_string())
                                .or_insert(ConnectorRecord {
                                    config: Config::new(),
                                    target,
                                    tasks: Vec::new(),
                                });
                        entry.config = config_of(&v);
                    }
                    None => {
                        out.connectors.remove(name);
                        pending.remove(name);
                        targets.remove(name);
                    }
                }
            } else if let Some(name) = key.strip_prefix("target-state-") {
                let t = value
                    .as_ref()
                    .map_or(TargetState::Started, TargetState::from_record);
                targets.insert(name.to_string(), t);
                if let Some(c) = out.connectors.get_mut(name) {
                    c.target = t;
                }
            } else if let Some(rest) = key.strip_prefix("task-") {
                if let (Some((name, n)), Some(v)) = (rest.rsplit_once('-'), value) {
                    if let Ok(n) = n.parse::<usize>() {
                        pending
                            .entry(name.to_string())
                            .or_default()
                            .insert(n, config_of(&v));
                    }
                }
            } else if let Some(name) = key.strip_prefix("commit-") {
                let count = value
                    .as_ref()
                    .and_then(|v| v["tasks"].as_u64())
                    .unwrap_or(0) as usize;
                let tasks = pending.remove(name).unwrap_or_default();
                if let Some(c) = out.connectors.get_mut(name) {
                    c.tasks = (0..count).filter_map(|i| tasks.get(&i).cloned()).collect();
                }
            }
        }
        for r in replay_keyed(&self.offsets)? {
            let Some(key) = r
                .key
                .as_deref()
                .and_then(|k| serde_json::from_slice::<Json>(k).ok())
            else {
                continue;
            };
            let (Some(name), Some(partition)) = (key[0].as_str(), key.get(1)) else {
                continue;
            };
            let k = (name.to_string(), partition.to_string());
            match r
                .value
                .as_deref()
                .and_then(|v| serde_json::from_slice::<Json>(v).ok())
            {
                Some(v) if !v.is_null() => {
                    out.offsets.insert(k, v);
                }
                _ => {
                    out.offsets.remove(&k);
                }
            }
        }
        for r in replay_keyed(&self.intents)? {
            let Some(key) = r
                .key
                .as_deref()
                .and_then(|k| serde_json::from_slice::<Json>(k).ok())
            else {
                continue;
            };
            let (Some(name), Some(task)) = (key[0].as_str(), key[1].as_u64()) else {
                continue;
            };
            let k = (name.to_string(), task as usize);
            match r
                .value
                .as_deref()
                .and_then(|v| serde_json::from_slice::<Json>(v).ok())
            {
                Some(v) => {
                    out.intents.insert(k, v);
                }
                None => {
                    out.intents.remove(&k);
                }
            }
        }
        for r in replay_keyed(&self.status)? {
            let Some(key) = r.key.as_deref().and_then(|k| std::str::from_utf8(k).ok()) else {
                continue;
            };
            if let Some((topic, connector)) = key
                .strip_prefix("status-topic-")
                .and_then(|k| k.rsplit_once(":connector-"))
            {
                let set = out.topics.entry(connector.to_string()).or_default();
                if r.value.is_some() {
                    set.insert(topic.to_string());
                } else {
                    set.remove(topic);
                }
            }
        }
        Ok(out)
    }

    /// Writes a connector's config (and, with `target`, its target state first, as Connect
    /// does for a new connector).
    pub fn put_connector(
        &self,
        name: &str,
        config: &Config,
        target: Option<TargetState>,
    ) -> Result<()> {
        let mut records = Vec::new();
        if let Some(t) = target {
            records.push((
                Bytes::from(format!("target-state-{name}")),
                Some(Bytes::from(t.record().to_string())),
            ));
        }
        records.push((
            Bytes::from(format!("connector-{name}")),
            Some(props_value(config)),
        ));
        append_keyed(&self.configs, &records)?;
        Ok(())
    }

    /// Writes task configs then their commit record, in one append.
    pub fn put_tasks(&self, name: &str, tasks: &[Config]) -> Result<()> {
        let mut records: Vec<(Bytes, Option<Bytes>)> = tasks
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    Bytes::from(format!("task-{name}-{i}")),
                    Some(props_value(c)),
                )
            })
            .collect();
        records.push((
            Bytes::from(format!("commit-{name}")),
            Some(Bytes::from(json!({"tasks": tasks.len()}).to_string())),
        ));
        append_keyed(&self.configs, &records)?;
        Ok(())
    }

    pub fn put_target(&self, name: &str, target: TargetState) -> Result<()> {
        append_keyed(
            &self.configs,
            &[(
                Bytes::from(format!("target-state-{name}")),
                Some(Bytes::from(target.record().to_string())),
            )],
        )?;
        Ok(())
    }

    /// Tombstones the connector's config and target state.
    pub fn delete_connector(&self, name: &str) -> Result<()> {
        append_keyed(
            &self.configs,
            &[
                (Bytes::from(format!("connector-{name}")), None),
                (Bytes::from(format!("target-state-{name}")), None),
            ],
        )?;
        Ok(())
    }

    /// Commits source offsets (None: a tombstone, the partition's offset reset).
    pub fn put_offsets(&self, name: &str, offsets: &[(Json, Option<Json>)]) -> Result<()> {
        if offsets.is_empty() {
            return Ok(());
        }
        let records: Vec<(Bytes, Option<Bytes>)> = offsets
            .iter()
            .map(|(p, o)| {
                (
                    Bytes::from(offset_key(name, p)),
                    o.as_ref().map(|o| Bytes::from(o.to_string())),
                )
            })
            .collect();
        append_keyed(&self.offsets, &records)?;
        Ok(())
    }

    /// Writes (Some) or clears (None) a source task's write intent.
    pub fn put_intent(&self, name: &str, task: usize, intent: Option<&Json>) -> Result<()> {
        append_keyed(
            &self.intents,
            &[(
                Bytes::from(json!([name, task]).to_string()),
                intent.map(|i| Bytes::from(i.to_string())),
            )],
        )?;
        Ok(())
    }

    /// A connector's (task: None) or task's status.
    pub fn put_status(
        &self,
        name: &str,
        task: Option<usize>,
        state: &str,
        trace: Option<&str>,
        worker_id: &str,
        generation: i64,
    ) -> Result<()> {
        let key = match task {
            None => format!("status-connector-{name}"),
            Some(t) => format!("status-task-{name}-{t}"),
        };
        let value = json!({"state": state, "trace": trace, "worker_id": worker_id, "generation": generation});
        append_keyed(
            &self.status,
            &[(Bytes::from(key), Some(Bytes::from(value.to_string())))],
        )?;
        Ok(())
    }

    /// Tombstones status records (connector deleted, or its active topics reset).
    pub fn delete_status(&self, keys: &[String]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let records: Vec<(Bytes, Option<Bytes>)> = keys
            .iter()
            .map(|k| (Bytes::from(k.clone()), None))
            .collect();
        append_keyed(&self.status, &records)?;
        Ok(())
    }

    /// Records that a connector used a topic.
    pub fn put_topic(&self, name: &str, topic: &str, task: usize) -> Result<()> {
        let value = json!({"topic": {"name": topic, "connector": name, "task": task, "discoverTimestamp": sluice_log::now_ms()}});
        append_keyed(
            &self.status,
            &[(
                Bytes::from(format!("status-topic-{topic}:connector-{name}")),
                Some(Bytes::from(value.to_string())),
            )],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Config {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn records_have_connects_shapes_and_replay() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(&[("connector.class", "FileStreamSource"), ("file", "/tmp/x")]);
        {
            let store = LogStore::open(dir.path()).unwrap();
            let b = BackingStore::open(&store).unwrap();
            b.put_connector("a", &c, Some(TargetState::Started))
                .unwrap();
            b.put_tasks("a", std::slice::from_ref(&c)).unwrap();
            // Task configs without a commit record do not count.
            append_keyed(
                &b.configs,
                &[(Bytes::from("task-a-1"), Some(props_value(&c)))],
            )
            .unwrap();
            b.put_target("a", TargetState::Stopped).unwrap();
            b.put_offsets(
                "a",
                &[(json!({"filename": "/tmp/x"}), Some(json!({"position": 42})))],
            )
            .unwrap();
            b.put_connector("gone", &c, Some(TargetState::Started))
                .unwrap();
            b.delete_connector("gone").unwrap();
            b.put_topic("a", "lines", 0).unwrap();
            b.put_status("a", Some(0), "RUNNING", None, "w", 1).unwrap();
            let raw = replay_keyed(&b.configs).unwrap();
            assert_eq!(raw[0].key.as_deref(), Some(&b"target-state-a"[..]));
            assert_eq!(
                serde_json::from_slice::<Json>(raw[1].value.as_deref().unwrap()).unwrap(),
                json!({"properties": {"connector.class": "FileStreamSource", "file": "/tmp/x"}})
            );
            assert_eq!(raw[3].key.as_deref(), Some(&b"commit-a"[..]));
            let offsets = replay_keyed(&b.offsets).unwrap();
            assert_eq!(
                offsets[0].key.as_deref(),
                Some(&br#"["a",{"filename":"/tmp/x"}]"#[..])
            );
            assert_eq!(
                offsets[0].value.as_deref(),
                Some(&br#"{"position":42}"#[..])
            );
            let status = replay_keyed(&b.status).unwrap();
            assert_eq!(
                serde_json::from_slice::<Json>(status[1].value.as_deref().unwrap()).unwrap(),
                json!({"state": "RUNNING", "trace": null, "worker_id": "w", "generation": 1})
            );
            store.flush_all().unwrap();
        }
        let store = LogStore::open(dir.path()).unwrap();
        let r = BackingStore::open(&store).unwrap().restore().unwrap();
        assert_eq!(r.connectors.len(), 1);
        let a = &r.connectors["a"];
        assert_eq!(a.config, c);
        assert_eq!(a.target, TargetState::Stopped);
        assert_eq!(a.tasks, vec![c]);
        assert_eq!(
            r.offsets[&("a".to_string(), r#"{"filename":"/tmp/x"}"#.to_string())],
            json!({"position": 42})
        );
        assert!(r.topics["a"].contains("lines"));
    }
}
