//! The runtime (Connect's worker and herder in one, a single-worker cluster): connectors and
//! their tasks as tokio tasks, their configs, target states and statuses, source offsets,
//! and the operations the REST API exposes. State changes are appended to the internal
//! topics (see [`crate::store`]) before memory changes, so a restarted worker comes back with
//! every connector in its state, continuing from its committed offsets. Sink tasks read the
//! log in-process as the consumer group `connect-<name>`, whose offsets live where
//! [`GroupOffsets`] keeps them (the broker's group coordinator in `sluice serve`).
//! It never speaks HTTP: `http.rs` does.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::{json, Value as Json};
use sluice_log::keyed::{append_headed, read_headed, OutRecord};
use sluice_log::{LogError, LogStore, Topic, TopicConfig};
use sluice_registry::SchemaRegistry;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{self, list, sub_config, Config};
use crate::converters::{converter, Converter, JSON_CONVERTER};
use crate::data::{Record, SinkRecord};
use crate::error::{ConnectError, Result};
use crate::errors::{dlq_headers, trace, ErrorPolicy, FailedRecord, Stage};
use crate::plugin::{ConnectorType, OffsetReader, Plugin, Plugins, SinkConnector, SourceConnector};
use crate::registry_client::Embedded;
use crate::store::{BackingStore, TargetState};
use crate::transforms::{Chain, Coordinates};
use sluice_log::partitioner::partition_for;

/// Bytes a sink task reads from one partition per round.
const SINK_READ_BYTES: usize = 1 << 20;
/// How long a sink task waits when no partition had anything new.
const SINK_IDLE_WAIT: Duration = Duration::from_millis(100);
/// How often a sink task looks for new topics and partitions (`topics.regex`, growth).
const SINK_REFRESH: Duration = Duration::from_secs(2);
/// Marks a sink task's position in the offset metadata of its group's commits.
const SINK_POSITION_PREFIX: &str = "sluice.sink.position=";
/// How long stopping waits for a task before aborting it.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Where sink tasks' consumer-group offsets are committed and read.
pub trait GroupOffsets: Send + Sync + 'static {
    /// Commits the offsets, each with `metadata` (Kafka's offset metadata), in one write.
    fn commit(&self, group: &str, offsets: &[(String, i32, i64)], metadata: &str) -> Result<()>;
    /// The committed offset and its metadata.
    fn committed(&self, group: &str, topic: &str, partition: i32) -> Option<(i64, String)>;
    /// Drops the group's committed offsets of these partitions.
    fn delete(&self, group: &str, partitions: &[(String, i32)]) -> Result<()>;
}

/// Group offsets kept in memory: for a runtime without a broker (unit tests).
#[derive(Default)]
pub struct MemoryGroupOffsets(Mutex<BTreeMap<GroupPartition, (i64, String)>>);

/// (group, topic, partition).
type GroupPartition = (String, String, i32);

impl GroupOffsets for MemoryGroupOffsets {
    fn commit(&self, group: &str, offsets: &[(String, i32, i64)], metadata: &str) -> Result<()> {
        let mut m = self.0.lock();
        for (t, p, o) in offsets {
            m.insert(
                (group.to_string(), t.clone(), *p),
                (*o, metadata.to_string()),
            );
        }
        Ok(())
    }

    fn committed(&self, group: &str, topic: &str, partition: i32) -> Option<(i64, String)> {
        self.0
            .lock()
            .get(&(group.to_string(), topic.to_string(), partition))
            .cloned()
    }

    fn delete(&self, group: &str, partitions: &[(String, i32)]) -> Result<()> {
        let mut m = self.0.lock();
        for (t, p) in partitions {
            m.remove(&(group.to_string(), t.clone(), *p));
        }
        Ok(())
    }
}

/// Worker settings.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// `host:port` of the REST listener, as statuses name the worker.
    pub worker_id: String,
    /// Partitions of topics the runtime creates (source targets, DLQs).
    pub default_partitions: i32,
    /// The embedded registry's URL: converters whose `schema.registry.url` names it call the
    /// registry in-process.
    pub registry_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Status {
    state: &'static str,
    trace: Option<String>,
}

impl Status {
    fn of(state: &'static str) -> Status {
        Status { state, trace: None }
    }
}

struct Running {
    generation: u64,
    stop: watch::Sender<bool>,
    join: JoinHandle<()>,
}

struct Entry {
    config: Config,
    target: TargetState,
    tasks: Vec<Config>,
    connector: Status,
    task_status: BTreeMap<usize, Status>,
    running: BTreeMap<usize, Running>,
}

/// The connector runtime.
pub struct Worker {
    store: Arc<LogStore>,
    backing: BackingStore,
    plugins: Plugins,
    registry: Option<Embedded>,
    groups: Arc<dyn GroupOffsets>,
    cfg: WorkerConfig,
    connectors: Mutex<BTreeMap<String, Entry>>,
    /// (connector, source partition JSON text) → (partition, offset).
    offsets: Mutex<BTreeMap<(String, String), (Json, Json)>>,
    topics: Mutex<BTreeMap<String, BTreeSet<String>>>,
    /// (connector, task) pairs with a write intent in the intents topic.
    intents: Mutex<BTreeSet<(String, usize)>>,
    generation: AtomicU64,
    /// Called after every append to a topic (wakes the broker's long-polling fetches).
    append_hook: std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>,
    /// Changes to connectors run one at a time, as Connect's herder runs its requests.
    ops: tokio::sync::Mutex<()>,
    this: Weak<Worker>,
}

/// The sink group of a connector.
pub fn group_of(name: &str) -> String {
    format!("connect-{name}")
}

fn is_internal(topic: &str) -> bool {
    topic.starts_with("__")
        || topic == "_schemas"
        || topic.starts_with("connect-")
        || topic.starts_with("_confluent")
}

impl Worker {
    /// Opens the internal topics, restores every connector and starts those that should run.
    /// Call inside a tokio runtime.
    pub fn open(
        store: Arc<LogStore>,
        registry: Option<Arc<SchemaRegistry>>,
        groups: Arc<dyn GroupOffsets>,
        plugins: Plugins,
        cfg: WorkerConfig,
    ) -> Result<Arc<Worker>> {
        let backing = BackingStore::open(&store)?;
        let restored = backing.restore()?;
        let worker = Arc::new_cyclic(|this| Worker {
            store,
            backing,
            plugins,
            registry: registry.map(|registry| Embedded {
                registry,
                url: cfg.registry_url.clone(),
            }),
            groups,
            cfg,
            connectors: Mutex::new(BTreeMap::new()),
            offsets: Mutex::new(
                restored
                    .offsets
                    .into_iter()
                    .map(|((c, p), o)| {
                        let pj: Json = serde_json::from_str(&p).unwrap_or(Json::Null);
                        ((c, p), (pj, o))
                    })
                    .collect(),
            ),
            topics: Mutex::new(restored.topics),
            intents: Mutex::new(restored.intents.keys().cloned().collect()),
            generation: AtomicU64::new(1),
            ops: tokio::sync::Mutex::new(()),
            append_hook: std::sync::OnceLock::new(),
            this: this.clone(),
        });
        let names: Vec<String> = restored.connectors.keys().cloned().collect();
        {
            let mut m = worker.connectors.lock();
            for (name, r) in restored.connectors {
                m.insert(
                    name,
                    Entry {
                        config: r.config,
                        target: r.target,
                        tasks: r.tasks,
                        connector: Status::of("UNASSIGNED"),
                        task_status: BTreeMap::new(),
                        running: BTreeMap::new(),
                    },
                );
            }
        }
        for ((name, task), intent) in &restored.intents {
            worker.repair_intent(name, *task, intent)?;
        }
        for name in names {
            worker.start_connector(&name);
        }
        Ok(worker)
    }

    /// Stops every task (the process is going away; statuses are left as they are, as a
    /// worker leaving a Connect cluster does).
    pub async fn shutdown(&self) {
        for name in self.connector_names() {
            self.stop_tasks(&name, None).await;
        }
    }

    /// Sets what runs after each append to a topic (once; later calls are ignored).
    pub fn on_append(&self, hook: impl Fn() + Send + Sync + 'static) {
        let _ = self.append_hook.set(Box::new(hook));
    }

    pub fn plugins(&self) -> &Plugins {
        &self.plugins
    }

    pub fn worker_id(&self) -> &str {
        &self.cfg.worker_id
    }

    fn arc(&self) -> Arc<Worker> {
        self.this
            .upgrade()
            .expect("the worker is alive while its methods run")
    }

    fn write_status(&self, name: &str, task: Option<usize>, s: &Status) {
        let generation = self.generation.load(Ordering::Relaxed) as i64;
        if let Err(e) = self.backing.put_status(
            name,
            task,
            s.state,
            s.trace.as_deref(),
            &self.cfg.worker_id,
            generation,
        ) {
            tracing::warn!(connector = name, error = %e, "could not write a status record");
        }
    }

    fn set_connector_status(&self, name: &str, s: Status) {
        if let Some(e) = self.connectors.lock().get_mut(name) {
            e.connector = s.clone();
        }
        self.write_status(name, None, &s);
    }

    /// A task's status, if `generation` is still the running one.
    fn set_task_status(&self, name: &str, id: usize, generation: u64, s: Status) {
        {
            let mut m = self.connectors.lock();
            let Some(e) = m.get_mut(name) else { return };
            if e.running.get(&id).map(|r| r.generation) != Some(generation) {
                return;
            }
            e.task_status.insert(id, s.clone());
        }
        self.write_status(name, Some(id), &s);
    }

    /// Starts whatever the connector's target state wants running (tasks not yet running).
    fn start_connector(&self, name: &str) {
        let (config, target, tasks) = {
            let m = self.connectors.lock();
            let Some(e) = m.get(name) else { return };
            (e.config.clone(), e.target, e.tasks.clone())
        };
        let class = config.get("connector.class").cloned().unwrap_or_default();
        let plugin = match self.plugins.connector(&class) {
            Ok(p) => p.clone(),
            Err(e) => {
                self.set_connector_status(
                    name,
                    Status {
                        state: "FAILED",
                        trace: Some(trace(&e, "Worker.startConnector")),
                    },
                );
                return;
            }
        };
        match target {
            TargetState::Stopped => {
                self.set_connector_status(name, Status::of("STOPPED"));
                return;
            }
            TargetState::Paused => {
                self.set_connector_status(name, Status::of("PAUSED"));
                let ids: Vec<usize> = (0..tasks.len()).collect();
                let mut m = self.connectors.lock();
                if let Some(e) = m.get_mut(name) {
                    for id in &ids {
                        e.task_status.insert(*id, Status::of("PAUSED"));
                    }
                }
                drop(m);
                for id in ids {
                    self.write_status(name, Some(id), &Status::of("PAUSED"));
                }
                return;
            }
            TargetState::Started => {}
        }
        self.set_connector_status(name, Status::of("RUNNING"));
        for (id, tc) in tasks.into_iter().enumerate() {
            self.spawn_task(name, id, &plugin, &config, tc);
        }
    }

    fn spawn_task(
        &self,
        name: &str,
        id: usize,
        plugin: &Plugin,
        config: &Config,
        task_config: Config,
    ) {
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut m = self.connectors.lock();
        let Some(e) = m.get_mut(name) else { return };
        if e.running.contains_key(&id) {
            return;
        }
        let worker = self.arc();
        let task_count = e.tasks.len().max(1);
        let ctx = TaskContext {
            worker,
            name: name.to_string(),
            id,
            generation,
            config: config.clone(),
            task_config,
            task_count,
        };
        let join = match plugin.clone() {
            Plugin::Source(c) => tokio::spawn(ctx.run_source(c, stop_rx)),
            Plugin::Sink(c) => tokio::spawn(ctx.run_sink(c, stop_rx)),
        };
        e.task_status.insert(id, Status::of("UNASSIGNED"));
        e.running.insert(
            id,
            Running {
                generation,
                stop: stop_tx,
                join,
            },
        );
    }

    /// Stops the connector's running tasks (`only`: those ids) and waits for them.
    async fn stop_tasks(&self, name: &str, only: Option<&[usize]>) {
        let stopping: Vec<Running> = {
            let mut m = self.connectors.lock();
            let Some(e) = m.get_mut(name) else { return };
            let ids: Vec<usize> = e
                .running
                .keys()
                .copied()
                .filter(|id| only.is_none_or(|o| o.contains(id)))
                .collect();
            ids.into_iter()
                .filter_map(|id| e.running.remove(&id))
                .collect()
        };
        for r in &stopping {
            let _ = r.stop.send(true);
        }
        for r in stopping {
            let abort = r.join.abort_handle();
            if tokio::time::timeout(STOP_TIMEOUT, r.join).await.is_err() {
                abort.abort();
            }
        }
    }

    // ---- validation ----

    /// The validate answer for a config (Connect's `ConfigInfos`), or Err for an unknown or
    /// missing class.
    pub fn validate(&self, config: &Config) -> Result<Json> {
        let class = config.get("connector.class").ok_or_else(|| {
            ConnectError::BadRequest("Connector config {} contains no connector type".into())
        })?;
        let plugin = self.plugins.connector(class)?.clone();
        let mut configs = Vec::new();
        let mut groups: Vec<&str> = Vec::new();
        let mut error_count = 0;
        let mut order = 0;
        let mut add = |def: config::ConfigDef,
                       extra: &[(String, String)],
                       configs: &mut Vec<Json>,
                       groups: &mut Vec<&'static str>| {
            for (k, mut errs) in def.validate(config) {
                errs.extend(
                    extra
                        .iter()
                        .filter(|(n, _)| n == k.name)
                        .map(|(_, m)| m.clone()),
                );
                error_count += errs.len();
                if let Some(g) = k.group {
                    if !groups.contains(&g) {
                        groups.push(g);
                    }
                }
                configs.push(config::validated_entry(
                    k,
                    order,
                    config.get(k.name).map(String::as_str),
                    &errs,
                ));
                order += 1;
            }
        };
        let mut extra: Vec<(String, String)> = plugin.validate(config);
        let is_sink = plugin.kind() == ConnectorType::Sink;
        if is_sink {
            let topics = list(config, "topics");
            let regex = config.get("topics.regex").map(|s| s.trim()).unwrap_or("");
            if topics.is_empty() && regex.is_empty() {
                let m = "Must configure one of topics or topics.regex".to_string();
                extra.push(("topics".into(), m.clone()));
                extra.push(("topics.regex".into(), m));
            } else if !topics.is_empty() && !regex.is_empty() {
                let m = "topics and topics.regex are mutually exclusive options, but both are set."
                    .to_string();
                extra.push(("topics".into(), m.clone()));
                extra.push(("topics.regex".into(), m));
            } else if !regex.is_empty() && regex::Regex::new(regex).is_err() {
                extra.push((
                    "topics.regex".into(),
                    format!("Invalid value {regex} for configuration topics.regex: Invalid regex"),
                ));
            }
            if let Some(dlq) = config
                .get("errors.deadletterqueue.topic.name")
                .filter(|d| !d.trim().is_empty())
            {
                if topics.iter().any(|t| t == dlq.trim()) {
                    extra.push(("errors.deadletterqueue.topic.name".into(), format!("The DLQ topic '{}' may not be included in the list of topics ('topics={}') consumed by the connector", dlq.trim(), topics.join(","))));
                }
            }
        }
        for side in ["key.converter", "value.converter"] {
            if let Some(c) = config.get(side) {
                if let Err(e) = converter(
                    c,
                    &sub_config(config, &format!("{side}.")),
                    side == "key.converter",
                    self.registry.as_ref(),
                ) {
                    extra.push((
                        side.into(),
                        format!("Invalid value {c} for configuration {side}: {e}"),
                    ));
                }
            }
        }
        if let Err(e) = Chain::from_config(config) {
            extra.push(("transforms".into(), e.to_string()));
        }
        add(
            config::connector_config_def(),
            &extra,
            &mut configs,
            &mut groups,
        );
        if is_sink {
            add(config::sink_config_def(), &extra, &mut configs, &mut groups);
        }
        let own = plugin.config_def();
        add(own.clone(), &extra, &mut configs, &mut groups);
        // Plugin errors on keys no definition has still count.
        let known: BTreeSet<&str> = configs
            .iter()
            .filter_map(|c| c["definition"]["name"].as_str())
            .collect();
        let orphan: Vec<&(String, String)> = extra
            .iter()
            .filter(|(k, _)| !known.contains(k.as_str()))
            .collect();
        let orphan_count = orphan.len();
        drop(known);
        for (k, m) in orphan {
            configs.push(json!({"definition": null, "value": {"name": k, "value": config.get(k), "recommended_values": [], "errors": [m], "visible": true}}));
        }
        Ok(json!({
            "name": plugin.class(),
            "error_count": error_count + orphan_count,
            "groups": groups,
            "configs": configs,
        }))
    }

    /// Validates, or Connect's 400 listing every error.
    fn check(&self, config: &Config) -> Result<Plugin> {
        let v = self.validate(config)?;
        let n = v["error_count"].as_u64().unwrap_or(0);
        if n > 0 {
            let mut msg = format!(
                "Connector configuration is invalid and contains the following {n} error(s):\n"
            );
            for c in v["configs"].as_array().into_iter().flatten() {
                for e in c["value"]["errors"].as_array().into_iter().flatten() {
                    msg.push_str(e.as_str().unwrap_or_default());
                    msg.push('\n');
                }
            }
            msg.push_str("You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`");
            return Err(ConnectError::BadRequest(msg));
        }
        let class = config.get("connector.class").cloned().unwrap_or_default();
        Ok(self.plugins.connector(&class)?.clone())
    }

    // ---- connector lifecycle ----

    pub fn connector_names(&self) -> Vec<String> {
        self.connectors.lock().keys().cloned().collect()
    }

    fn not_found(name: &str) -> ConnectError {
        ConnectError::ConnectorNotFound(name.to_string())
    }

    /// Creates a connector (`Err(ConnectorExists)` when it exists and `replace` is false), or
    /// replaces its config. Returns whether it was created.
    pub async fn put_connector(&self, name: &str, config: Config, replace: bool) -> Result<bool> {
        let _one_at_a_time = self.ops.lock().await;
        self.put_connector_now(name, config, replace).await
    }

    async fn put_connector_now(
        &self,
        name: &str,
        mut config: Config,
        replace: bool,
    ) -> Result<bool> {
        if name.trim().is_empty() {
            return Err(ConnectError::BadRequest("Connector name is empty".into()));
        }
        if name.chars().any(char::is_control) {
            return Err(ConnectError::BadRequest(format!(
                "Connector name {name} contains ISO control characters"
            )));
        }
        match config.get("name") {
            Some(n) if n != name => {
                return Err(ConnectError::BadRequest(format!(
                    "Connector name configuration ({n}) doesn't match connector name in the URL ({name})"
                )))
            }
            _ => {
                config.insert("name".into(), name.to_string());
            }
        }
        let plugin = self.check(&config)?;
        let exists = self.connectors.lock().contains_key(name);
        if exists && !replace {
            return Err(ConnectError::ConnectorExists(name.to_string()));
        }
        let max_tasks = config::int(&config, "tasks.max", 1).max(1) as usize;
        let tasks = plugin.task_configs(&config, max_tasks)?;
        if exists {
            self.stop_tasks(name, None).await;
            self.backing.put_connector(name, &config, None)?;
        } else {
            self.backing
                .put_connector(name, &config, Some(TargetState::Started))?;
        }
        let target = {
            let m = self.connectors.lock();
            m.get(name).map_or(TargetState::Started, |e| e.target)
        };
        let tasks = if target == TargetState::Stopped {
            Vec::new()
        } else {
            tasks
        };
        self.backing.put_tasks(name, &tasks)?;
        {
            let mut m = self.connectors.lock();
            let e = m.entry(name.to_string()).or_insert_with(|| Entry {
                config: Config::new(),
                target,
                tasks: Vec::new(),
                connector: Status::of("UNASSIGNED"),
                task_status: BTreeMap::new(),
                running: BTreeMap::new(),
            });
            e.config = config;
            e.tasks = tasks;
            e.task_status.clear();
        }
        self.start_connector(name);
        Ok(!exists)
    }

    /// PATCH: merges keys into the config (a null value removes the key).
    pub async fn patch_connector(
        &self,
        name: &str,
        patch: &serde_json::Map<String, Json>,
    ) -> Result<()> {
        let _one_at_a_time = self.ops.lock().await;
        let mut config = self.config(name)?;
        for (k, v) in patch {
            match v {
                Json::Null => {
                    config.remove(k);
                }
                Json::String(s) => {
                    config.insert(k.clone(), s.clone());
                }
                other => {
                    config.insert(k.clone(), other.to_string());
                }
            }
        }
        self.put_connector_now(name, config, true).await.map(|_| ())
    }

    pub async fn delete_connector(&self, name: &str) -> Result<()> {
        let _one_at_a_time = self.ops.lock().await;
        let task_count = {
            let m = self.connectors.lock();
            m.get(name)
                .ok_or_else(|| Self::not_found(name))?
                .tasks
                .len()
        };
        self.stop_tasks(name, None).await;
        self.backing.delete_connector(name)?;
        self.connectors.lock().remove(name);
        self.clear_intents(name, None)?;
        let mut keys = vec![format!("status-connector-{name}")];
        keys.extend((0..task_count).map(|i| format!("status-task-{name}-{i}")));
        self.backing.delete_status(&keys)?;
        Ok(())
    }

    pub fn config(&self, name: &str) -> Result<Config> {
        self.connectors
            .lock()
            .get(name)
            .map(|e| e.config.clone())
            .ok_or_else(|| Self::not_found(name))
    }

    fn kind_of(&self, config: &Config) -> Option<ConnectorType> {
        config
            .get("connector.class")
            .and_then(|c| self.plugins.find(c))
            .map(Plugin::kind)
    }

    /// `ConnectorInfo`: name, config, tasks, type.
    pub fn info(&self, name: &str) -> Result<Json> {
        let m = self.connectors.lock();
        let e = m.get(name).ok_or_else(|| Self::not_found(name))?;
        let tasks: Vec<Json> = (0..e.tasks.len())
            .map(|i| json!({"connector": name, "task": i}))
            .collect();
        let kind = self.kind_of(&e.config).map(ConnectorType::as_str);
        Ok(
            json!({"name": name, "config": e.config, "tasks": tasks, "type": kind.unwrap_or("unknown")}),
        )
    }

    fn status_json(&self, s: &Status, id: Option<usize>) -> Json {
        let mut v = json!({"state": s.state, "worker_id": self.cfg.worker_id});
        if let Some(id) = id {
            v = json!({"id": id, "state": s.state, "worker_id": self.cfg.worker_id});
        }
        if let Some(t) = &s.trace {
            v["trace"] = json!(t);
        }
        v
    }

    /// `ConnectorStateInfo`.
    pub fn status(&self, name: &str) -> Result<Json> {
        let m = self.connectors.lock();
        let e = m.get(name).ok_or_else(|| Self::not_found(name))?;
        let tasks: Vec<Json> = (0..e.tasks.len())
            .map(|i| {
                self.status_json(
                    e.task_status.get(&i).unwrap_or(&Status::of("UNASSIGNED")),
                    Some(i),
                )
            })
            .collect();
        let kind = self.kind_of(&e.config).map(ConnectorType::as_str);
        Ok(
            json!({"name": name, "connector": self.status_json(&e.connector, None), "tasks": tasks, "type": kind.unwrap_or("unknown")}),
        )
    }

    pub fn task_status(&self, name: &str, id: usize) -> Result<Json> {
        let m = self.connectors.lock();
        let e = m.get(name).ok_or_else(|| Self::not_found(name))?;
        if id >= e.tasks.len() {
            return Err(ConnectError::TaskNotFound(format!("{name}-{id}")));
        }
        Ok(self.status_json(
            e.task_status.get(&id).unwrap_or(&Status::of("UNASSIGNED")),
            Some(id),
        ))
    }

    pub fn tasks(&self, name: &str) -> Result<Json> {
        let m = self.connectors.lock();
        let e = m.get(name).ok_or_else(|| Self::not_found(name))?;
        Ok(Json::Array(
            e.tasks
                .iter()
                .enumerate()
                .map(|(i, c)| json!({"id": {"connector": name, "task": i}, "config": c}))
                .collect(),
        ))
    }

    /// PUT pause | resume | stop.
    pub async fn set_target(&self, name: &str, target: TargetState) -> Result<()> {
        let _one_at_a_time = self.ops.lock().await;
        let (old, class) = {
            let m = self.connectors.lock();
            let e = m.get(name).ok_or_else(|| Self::not_found(name))?;
            (
                e.target,
                e.config.get("connector.class").cloned().unwrap_or_default(),
            )
        };
        self.backing.put_target(name, target)?;
        self.stop_tasks(name, None).await;
        if target == TargetState::Stopped {
            // A stopped connector has no tasks (Connect writes an empty task set).
            self.backing.put_tasks(name, &[])?;
            let mut m = self.connectors.lock();
            if let Some(e) = m.get_mut(name) {
                e.tasks.clear();
                e.task_status.clear();
            }
        } else if old == TargetState::Stopped {
            // Resuming a stopped connector: task configs again.
            let config = self.config(name)?;
            let plugin = self.plugins.connector(&class)?.clone();
            let tasks = plugin.task_configs(
                &config,
                config::int(&config, "tasks.max", 1).max(1) as usize,
            )?;
            self.backing.put_tasks(name, &tasks)?;
            if let Some(e) = self.connectors.lock().get_mut(name) {
                e.tasks = tasks;
            }
        }
        if let Some(e) = self.connectors.lock().get_mut(name) {
            e.target = target;
        }
        self.start_connector(name);
        Ok(())
    }

    /// POST restart: the connector (and with `include_tasks` its tasks; with `only_failed`
    /// only failed ones). Returns the status with RESTARTING on what restarts.
    pub async fn restart(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<Json> {
        let _one_at_a_time = self.ops.lock().await;
        let (connector_failed, task_ids) = {
            let m = self.connectors.lock();
            let e = m.get(name).ok_or_else(|| Self::not_found(name))?;
            let ids: Vec<usize> = (0..e.tasks.len())
                .filter(|i| {
                    include_tasks
                        && (!only_failed
                            || e.task_status.get(i).is_some_and(|s| s.state == "FAILED"))
                })
                .collect();
            (e.connector.state == "FAILED", ids)
        };
        let mut status = self.status(name)?;
        if !only_failed || connector_failed {
            status["connector"]["state"] = json!("RESTARTING");
        }
        for id in &task_ids {
            status["tasks"][*id]["state"] = json!("RESTARTING");
        }
        self.stop_tasks(name, Some(&task_ids)).await;
        self.start_connector(name);
        Ok(status)
    }

    pub async fn restart_task(&self, name: &str, id: usize) -> Result<()> {
        let _one_at_a_time = self.ops.lock().await;
        {
            let m = self.connectors.lock();
            let e = m.get(name).ok_or_else(|| Self::not_found(name))?;
            if id >= e.tasks.len() {
                return Err(ConnectError::TaskNotFound(format!("{name}-{id}")));
            }
        }
        self.stop_tasks(name, Some(&[id])).await;
        self.start_connector(name);
        Ok(())
    }

    // ---- topics and offsets ----

    pub fn active_topics(&self, name: &str) -> Result<Json> {
        if !self.connectors.lock().contains_key(name) {
            return Err(Self::not_found(name));
        }
        let topics: Vec<String> = self
            .topics
            .lock()
            .get(name)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        Ok(json!({ name: {"topics": topics} }))
    }

    pub fn reset_topics(&self, name: &str) -> Result<()> {
        if !self.connectors.lock().contains_key(name) {
            return Err(Self::not_found(name));
        }
        let topics = self.topics.lock().remove(name).unwrap_or_default();
        let keys: Vec<String> = topics
            .iter()
            .map(|t| format!("status-topic-{t}:connector-{name}"))
            .collect();
        self.backing.delete_status(&keys)
    }

    fn note_topic(&self, name: &str, topic: &str, task: usize) {
        let new = self
            .topics
            .lock()
            .entry(name.to_string())
            .or_default()
            .insert(topic.to_string());
        if new {
            if let Err(e) = self.backing.put_topic(name, topic, task) {
                tracing::warn!(connector = name, error = %e, "could not record an active topic");
            }
        }
    }

    /// The committed source offset of a partition.
    fn source_offset(&self, name: &str, partition: &Json) -> Option<Json> {
        self.offsets
            .lock()
            .get(&(name.to_string(), partition.to_string()))
            .map(|(_, o)| o.clone())
    }

    fn commit_source_offsets(&self, name: &str, offsets: &[(Json, Option<Json>)]) -> Result<()> {
        self.backing.put_offsets(name, offsets)?;
        let mut m = self.offsets.lock();
        for (p, o) in offsets {
            let k = (name.to_string(), p.to_string());
            match o {
                Some(o) => {
                    m.insert(k, (p.clone(), o.clone()));
                }
                None => {
                    m.remove(&k);
                }
            }
        }
        Ok(())
    }

    /// After a restart: if a source task's last write landed in its partition (the partition
    /// holds the intent's first record at the intent's end offset) but its offsets were not
    /// committed, commits them now, so the records are not produced twice. Then clears it.
    fn repair_intent(&self, name: &str, task: usize, intent: &Json) -> Result<()> {
        let landed = (|| {
            let topic = self.store.topic(intent["topic"].as_str()?)?;
            let part = topic.partition(intent["partition"].as_i64()? as i32)?;
            let end = intent["end"].as_i64()?;
            let first = read_headed(&part, end, 1)
                .ok()?
                .into_iter()
                .find(|r| r.offset == end)?;
            Some(
                record_crc(first.key.as_deref(), first.value.as_deref())
                    == intent["first"].as_u64()?,
            )
        })()
        .unwrap_or(false);
        if landed && self.connectors.lock().contains_key(name) {
            let offsets: Vec<(Json, Option<Json>)> = intent["offsets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|po| (po[0].clone(), Some(po[1].clone())))
                .collect();
            let behind = offsets
                .iter()
                .any(|(p, o)| self.source_offset(name, p) != *o);
            if behind {
                tracing::info!(
                    connector = name,
                    task,
                    "committing the offsets of records written just before a crash"
                );
                self.commit_source_offsets(name, &offsets)?;
            }
        }
        self.clear_intents(name, Some(task))
    }

    /// Clears the write intents of a connector's tasks (all, or one).
    fn clear_intents(&self, name: &str, task: Option<usize>) -> Result<()> {
        let keys: Vec<(String, usize)> = self
            .intents
            .lock()
            .iter()
            .filter(|(n, t)| n == name && task.is_none_or(|x| x == *t))
            .cloned()
            .collect();
        for (n, t) in keys {
            self.backing.put_intent(&n, t, None)?;
            self.intents.lock().remove(&(n, t));
        }
        Ok(())
    }

    /// Every partition the group has a committed offset on.
    fn sink_offsets(&self, name: &str) -> Vec<(String, i32, i64)> {
        let group = group_of(name);
        let mut out = Vec::new();
        for t in self.store.topics() {
            for p in 0..t.partition_count() {
                if let Some((o, _)) = self.groups.committed(&group, &t.name, p) {
                    out.push((t.name.clone(), p, o));
                }
            }
        }
        out.sort();
        out
    }

    /// GET offsets: Connect's `ConnectorOffsets`.
    pub fn get_offsets(&self, name: &str) -> Result<Json> {
        let config = self.config(name)?;
        let offsets: Vec<Json> = match self.kind_of(&config) {
            Some(ConnectorType::Sink) => self
                .sink_offsets(name)
                .into_iter()
                .map(|(t, p, o)| json!({"partition": {"kafka_topic": t, "kafka_partition": p}, "offset": {"kafka_offset": o}}))
                .collect(),
            _ => self
                .offsets
                .lock()
                .iter()
                .filter(|((c, _), _)| c == name)
                .map(|(_, (p, o))| json!({"partition": p, "offset": o}))
                .collect(),
        };
        Ok(json!({ "offsets": offsets }))
    }

    fn require_stopped(&self, name: &str) -> Result<Config> {
        let m = self.connectors.lock();
        let e = m.get(name).ok_or_else(|| Self::not_found(name))?;
        if e.target != TargetState::Stopped {
            return Err(ConnectError::BadRequest(format!(
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
            )));
        }
        Ok(e.config.clone())
    }

    /// PATCH offsets with `{"offsets":[{"partition":..,"offset":..}]}` (null offset: reset),
    /// with Connect's checks: at least one entry; a sink's partition is `kafka_topic` and
    /// `kafka_partition`, its offset `kafka_offset` (numbers, or numeric strings as Connect
    /// reads them); a source's partition is an object, its offset an object or null.
    pub fn alter_offsets(&self, name: &str, body: &Json) -> Result<Json> {
        let config = self.require_stopped(name)?;
        let entries = body["offsets"]
            .as_array()
            .filter(|e| !e.is_empty())
            .ok_or_else(|| {
                ConnectError::BadRequest(
                    "Partitions / offsets need to be provided for an alter offsets request".into(),
                )
            })?;
        match self.kind_of(&config) {
            Some(ConnectorType::Sink) => {
                let group = group_of(name);
                let mut commits = Vec::new();
                let mut deletes = Vec::new();
                for e in entries {
                    let (t, p) = sink_partition(&e["partition"])?;
                    // All or nothing: a commit to a partition that does not exist would fail
                    // after the others were written.
                    if !self
                        .store
                        .topic(&t)
                        .is_some_and(|x| (0..x.partition_count()).contains(&p))
                    {
                        return Err(ConnectError::BadRequest(format!(
                            "The topic partition {t}-{p} does not exist: offsets can only be altered for existing partitions"
                        )));
                    }
                    match sink_offset(&e["offset"])? {
                        Some(o) => commits.push((t, p, o)),
                        None => deletes.push((t, p)),
                    }
                }
                self.groups.commit(&group, &commits, "")?;
                self.groups.delete(&group, &deletes)?;
            }
            _ => {
                let mut offsets: Vec<(Json, Option<Json>)> = Vec::new();
                for e in entries {
                    let partition = &e["partition"];
                    if partition.is_null() {
                        return Err(ConnectError::BadRequest(
                            "Source partitions may not be null".into(),
                        ));
                    }
                    if !partition.is_object() {
                        return Err(ConnectError::BadRequest(format!(
                            "Source partitions must be JSON objects, not {partition}"
                        )));
                    }
                    let offset = &e["offset"];
                    if !offset.is_null() && !offset.is_object() {
                        return Err(ConnectError::BadRequest(format!(
                            "Source offsets must be JSON objects or null, not {offset}"
                        )));
                    }
                    offsets.push((
                        partition.clone(),
                        Some(offset.clone()).filter(|o| !o.is_null()),
                    ));
                }
                // An older write intent must not win over offsets set by hand.
                self.clear_intents(name, None)?;
                self.commit_source_offsets(name, &offsets)?;
            }
        }
        Ok(json!({"message": "The offsets for this connector have been altered successfully"}))
    }

    /// DELETE offsets.
    pub fn reset_offsets(&self, name: &str) -> Result<Json> {
        let config = self.require_stopped(name)?;
        match self.kind_of(&config) {
            Some(ConnectorType::Sink) => {
                let parts: Vec<(String, i32)> = self
                    .sink_offsets(name)
                    .into_iter()
                    .map(|(t, p, _)| (t, p))
                    .collect();
                self.groups.delete(&group_of(name), &parts)?;
            }
            _ => {
                let parts: Vec<(Json, Option<Json>)> = self
                    .offsets
                    .lock()
                    .iter()
                    .filter(|((c, _), _)| c == name)
                    .map(|(_, (p, _))| (p.clone(), None))
                    .collect();
                self.clear_intents(name, None)?;
                self.commit_source_offsets(name, &parts)?;
            }
        }
        Ok(json!({"message": "The offsets for this connector have been reset successfully"}))
    }

    // ---- topic access for tasks ----

    fn topic(&self, name: &str) -> Result<Arc<Topic>> {
        if let Some(t) = self.store.topic(name) {
            return Ok(t);
        }
        let config = TopicConfig::from_overrides(std::iter::empty::<(&str, &str)>())?;
        match self
            .store
            .create_topic(name, self.cfg.default_partitions.max(1), config, false)
        {
            Ok(_) | Err(LogError::TopicExists(_)) => {}
            Err(e) => return Err(e.into()),
        }
        self.store
            .topic(name)
            .ok_or_else(|| ConnectError::Internal(format!("topic {name} vanished after creation")))
    }

    fn append(&self, topic: &Arc<Topic>, partition: i32, records: &[OutRecord]) -> Result<()> {
        let p = topic.partition(partition).ok_or_else(|| {
            ConnectError::Internal(format!("topic {} has no partition {partition}", topic.name))
        })?;
        append_headed(&p, records)?;
        if let Some(hook) = self.append_hook.get() {
            hook();
        }
        Ok(())
    }
}

/// A whole number as Connect reads one in a sink offset: a JSON integer or its text
/// (`Long.parseLong(String.valueOf(v))`).
fn kafka_number(v: &Json) -> Option<i64> {
    match v {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A sink offset's partition, `{"kafka_topic": t, "kafka_partition": p}`, with Connect's errors.
fn sink_partition(p: &Json) -> Result<(String, i32)> {
    let bad = |m: String| Err(ConnectError::BadRequest(m));
    let Some(map) = p.as_object() else {
        return bad("The partition for a sink connector offset cannot be null or missing".into());
    };
    let (Some(topic), Some(partition)) = (map.get("kafka_topic"), map.get("kafka_partition"))
    else {
        return bad("The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'".into());
    };
    let Json::String(topic) = topic else {
        return bad("Kafka topic names must be valid strings and may not be null".into());
    };
    let topic = topic.clone();
    if partition.is_null() {
        return bad("Kafka partitions must be valid numbers and may not be null".into());
    }
    match kafka_number(partition).and_then(|p| i32::try_from(p).ok()) {
        Some(p) => Ok((topic, p)),
        None => bad(format!("Failed to parse the following Kafka partition value in the provided offsets: '{}'. Partition values for sink connectors need to be integers.", plain(partition))),
    }
}

/// A sink offset, `{"kafka_offset": o}` or null (reset), with Connect's errors.
fn sink_offset(o: &Json) -> Result<Option<i64>> {
    if o.is_null() {
        return Ok(None);
    }
    let Some(v) = o.as_object().and_then(|m| m.get("kafka_offset")) else {
        return Err(ConnectError::BadRequest(
            "The offset for a sink connector should either be null or contain the key 'kafka_offset'".into(),
        ));
    };
    match kafka_number(v) {
        Some(o) if o >= 0 => Ok(Some(o)),
        Some(_) => Err(ConnectError::BadRequest("Kafka offsets must be non-negative".into())),
        None => Err(ConnectError::BadRequest(format!("Failed to parse the following Kafka offset value in the provided offsets: '{}'. Offset values for sink connectors need to be integers.", plain(v)))),
    }
}

/// A JSON value as Java's `String.valueOf` prints it in Connect's messages (strings bare).
fn plain(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

struct ConnectorOffsets {
    worker: Arc<Worker>,
    name: String,
}

impl OffsetReader for ConnectorOffsets {
    fn offset(&self, partition: &Json) -> Option<Json> {
        self.worker.source_offset(&self.name, partition)
    }
}

/// Records for one topic partition, written in one append.
struct Run {
    topic: Arc<Topic>,
    partition: i32,
    records: Vec<OutRecord>,
}

/// A checksum of a record's key and value, to recognise it in a partition.
pub fn record_crc(key: Option<&[u8]>, value: Option<&[u8]>) -> u64 {
    let k = crc32c::crc32c(key.unwrap_or(b"\0null"));
    let v = crc32c::crc32c(value.unwrap_or(b"\0null"));
    (u64::from(k) << 32) | u64::from(v)
}

/// What one task run needs.
struct TaskContext {
    worker: Arc<Worker>,
    name: String,
    id: usize,
    generation: u64,
    config: Config,
    task_config: Config,
    task_count: usize,
}

/// Key and value converters of a connector.
struct Converters {
    key: Arc<dyn Converter>,
    value: Arc<dyn Converter>,
    key_class: String,
    value_class: String,
}

impl TaskContext {
    fn converters(&self) -> Result<Converters> {
        let class = |side: &str| {
            self.config
                .get(side)
                .cloned()
                .unwrap_or_else(|| JSON_CONVERTER.to_string())
        };
        let key_class = class("key.converter");
        let value_class = class("value.converter");
        let reg = self.worker.registry.as_ref();
        Ok(Converters {
            key: converter(
                &key_class,
                &sub_config(&self.config, "key.converter."),
                true,
                reg,
            )?,
            value: converter(
                &value_class,
                &sub_config(&self.config, "value.converter."),
                false,
                reg,
            )?,
            key_class,
            value_class,
        })
    }

    fn set(&self, state: &'static str, trace: Option<String>) {
        self.worker.set_task_status(
            &self.name,
            self.id,
            self.generation,
            Status { state, trace },
        );
    }

    fn fail(&self, e: &ConnectError, context: &str) {
        tracing::error!(connector = %self.name, task = self.id, error = %e, "task failed");
        self.set("FAILED", Some(trace(e, context)));
    }

    async fn run_source(self, connector: Arc<dyn SourceConnector>, stop: watch::Receiver<bool>) {
        let class = connector.class();
        match self.source_loop(connector, stop).await {
            Ok(()) => {}
            Err(e) => self.fail(&e, &format!("{class} task {}-{}", self.name, self.id)),
        }
    }

    async fn source_loop(
        &self,
        connector: Arc<dyn SourceConnector>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<()> {
        let conv = self.converters()?;
        let chain = Chain::from_config(&self.config)?;
        let policy = ErrorPolicy::from_config(&self.config);
        let mut task = connector.create_task();
        let reader: Arc<dyn OffsetReader> = Arc::new(ConnectorOffsets {
            worker: Arc::clone(&self.worker),
            name: self.name.clone(),
        });
        task.start(&self.task_config, reader).await?;
        self.set("RUNNING", None);
        let mut round_robin: i32 = 0;
        let mut failing_since: Option<(Instant, u32)> = None;
        loop {
            let polled = tokio::select! {
                _ = stop.changed() => break,
                r = task.poll() => r,
            };
            let batch = match polled {
                Ok(b) => {
                    failing_since = None;
                    b
                }
                Err(e @ ConnectError::Retriable(_)) => {
                    let (since, attempt) = *failing_since.get_or_insert((Instant::now(), 0));
                    match policy.retry_after(since, attempt) {
                        Some(d) => {
                            failing_since = Some((since, attempt + 1));
                            tokio::time::sleep(d).await;
                            continue;
                        }
                        None => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            };
            if batch.is_empty() {
                continue;
            }
            let mut topics: BTreeMap<String, Arc<Topic>> = BTreeMap::new();
            // The source offsets of the records handled so far; each run of records for one
            // partition is written with the offsets up to its last record.
            let mut offsets: Vec<(Json, Option<Json>)> = Vec::new();
            let mut run: Option<Run> = None;
            for rec in batch {
                let (source_partition, source_offset) =
                    (rec.source_partition.clone(), rec.source_offset.clone());
                if let Some((topic_name, partition, record)) =
                    self.produce(&conv, &chain, &policy, rec.record)?
                {
                    let topic = match topics.get(&topic_name) {
                        Some(t) => Arc::clone(t),
                        None => {
                            let t = self.worker.topic(&topic_name)?;
                            topics.insert(topic_name.clone(), Arc::clone(&t));
                            t
                        }
                    };
                    let partition = match partition {
                        Some(p) => p,
                        None => {
                            round_robin = round_robin.wrapping_add(1);
                            partition_for(record.0.as_deref(), topic.partition_count(), round_robin)
                        }
                    };
                    if run
                        .as_ref()
                        .is_some_and(|r| r.topic.name != topic.name || r.partition != partition)
                    {
                        if let Some(done) = run.take() {
                            self.write_run(done, &offsets)?;
                        }
                    }
                    run.get_or_insert_with(|| Run {
                        topic,
                        partition,
                        records: Vec::new(),
                    })
                    .records
                    .push(record);
                }
                match offsets.iter_mut().find(|(p, _)| *p == source_partition) {
                    Some(slot) => slot.1 = Some(source_offset),
                    None => offsets.push((source_partition, Some(source_offset))),
                }
            }
            match run {
                Some(last) => self.write_run(last, &offsets)?,
                None => {
                    // Nothing to write (all dropped): an older intent must not outlive these
                    // offsets, so it goes first.
                    self.worker.clear_intents(&self.name, Some(self.id))?;
                    self.worker.commit_source_offsets(&self.name, &offsets)?;
                }
            }
        }
        task.stop();
        Ok(())
    }

    /// A source record through the transforms and converters: (topic, partition, record), or
    /// None when it is dropped (by a transform, or a tolerated failure).
    fn produce(
        &self,
        conv: &Converters,
        chain: &Chain,
        policy: &ErrorPolicy,
        record: Record,
    ) -> Result<Option<(String, Option<i32>, OutRecord)>> {
        let fail = |stage: Stage, class: &str, e: ConnectError| -> Result<Option<_>> {
            policy.log_failure(&self.name, self.id, stage, &e, class);
            if policy.tolerate_all {
                Ok(None)
            } else {
                Err(e)
            }
        };
        let r = match chain.apply(record, Coordinates::default()) {
            Ok(Some(r)) => r,
            Ok(None) => return Ok(None),
            Err((class, e)) => return fail(Stage::Transformation, &class, e),
        };
        let key = match conv.key.encode(&r.topic, r.key_schema.as_deref(), &r.key) {
            Ok(k) => k,
            Err(e) => return fail(Stage::KeyConverter, &conv.key_class, e),
        };
        let value = match conv
            .value
            .encode(&r.topic, r.value_schema.as_deref(), &r.value)
        {
            Ok(v) => v,
            Err(e) => return fail(Stage::ValueConverter, &conv.value_class, e),
        };
        let ts = r.timestamp.unwrap_or_else(sluice_log::now_ms);
        Ok(Some((
            r.topic,
            r.partition,
            (key.map(Bytes::from), value.map(Bytes::from), ts, r.headers),
        )))
    }

    /// Writes a run of records to one partition, then commits `offsets` (those of the records
    /// up to the run's last). First an intent names the partition's end offset, the run's
    /// first record and the offsets: if the process dies after the records and before the
    /// offsets, the next start finds the records at that offset and commits the offsets
    /// (`Worker::repair_intent`), so they are neither lost nor produced twice.
    fn write_run(&self, run: Run, offsets: &[(Json, Option<Json>)]) -> Result<()> {
        let part = run.topic.partition(run.partition).ok_or_else(|| {
            ConnectError::Internal(format!(
                "topic {} has no partition {}",
                run.topic.name, run.partition
            ))
        })?;
        let end = part.lock().log_end_offset();
        let first = run
            .records
            .first()
            .map(|(k, v, _, _)| record_crc(k.as_deref(), v.as_deref()))
            .unwrap_or(0);
        let intent = json!({
            "topic": run.topic.name,
            "partition": run.partition,
            "end": end,
            "first": first,
            "offsets": offsets.iter().filter_map(|(p, o)| o.as_ref().map(|o| json!([p, o]))).collect::<Vec<_>>(),
        });
        self.worker
            .backing
            .put_intent(&self.name, self.id, Some(&intent))?;
        self.worker
            .intents
            .lock()
            .insert((self.name.clone(), self.id));
        self.worker
            .append(&run.topic, run.partition, &run.records)?;
        self.worker.note_topic(&self.name, &run.topic.name, self.id);
        self.worker.commit_source_offsets(&self.name, offsets)
    }

    async fn run_sink(self, connector: Arc<dyn SinkConnector>, stop: watch::Receiver<bool>) {
        let class = connector.class();
        match self.sink_loop(connector, stop).await {
            Ok(()) => {}
            Err(e) => self.fail(&e, &format!("{class} task {}-{}", self.name, self.id)),
        }
    }

    /// This task's share of the subscribed partitions.
    fn assignment(&self) -> Vec<(Arc<Topic>, i32)> {
        let topics = list(&self.config, "topics");
        let regex = self
            .config
            .get("topics.regex")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .and_then(|r| regex::Regex::new(&format!("^(?:{r})$")).ok());
        let mut all: Vec<(Arc<Topic>, i32)> = Vec::new();
        let mut chosen: Vec<Arc<Topic>> = self
            .worker
            .store
            .topics()
            .into_iter()
            .filter(|t| {
                topics.contains(&t.name)
                    || (regex.as_ref().is_some_and(|r| r.is_match(&t.name))
                        && !is_internal(&t.name))
            })
            .collect();
        chosen.sort_by(|a, b| a.name.cmp(&b.name));
        for t in chosen {
            for p in 0..t.partition_count() {
                all.push((Arc::clone(&t), p));
            }
        }
        all.into_iter()
            .enumerate()
            .filter(|(i, _)| i % self.task_count == self.id)
            .map(|(_, tp)| tp)
            .collect()
    }

    /// Handles a record that failed in a converter or transform: Err fails the task
    /// (`errors.tolerance=none`), Ok skips it (to the DLQ when one is set).
    #[allow(clippy::too_many_arguments)]
    fn sink_failure(
        &self,
        policy: &ErrorPolicy,
        stage: Stage,
        class: &str,
        e: ConnectError,
        topic: &str,
        partition: i32,
        raw: &sluice_log::keyed::HeadedRecord,
    ) -> Result<()> {
        policy.log_failure(
            &self.name,
            self.id,
            stage,
            &e,
            &format!("{topic}-{partition}@{}", raw.offset),
        );
        if !policy.tolerate_all {
            return Err(e);
        }
        if let Some(dlq) = &policy.dlq_topic {
            let mut headers = raw.headers.clone();
            if policy.dlq_context_headers {
                headers.extend(dlq_headers(
                    &FailedRecord {
                        topic,
                        partition,
                        offset: raw.offset,
                        connector: &self.name,
                        task: self.id,
                        stage,
                        class_name: class,
                    },
                    &e,
                ));
            }
            let t = self.worker.topic(dlq)?;
            let p = partition_for(raw.key.as_deref(), t.partition_count(), 0);
            self.worker.append(
                &t,
                p,
                &[(raw.key.clone(), raw.value.clone(), raw.timestamp, headers)],
            )?;
        }
        Ok(())
    }

    /// Brings `positions` in line with this task's assignment (new partitions start at the
    /// group's committed offset, else the log start). Returns the sink position committed
    /// with the offsets, if any.
    fn refresh_positions(
        &self,
        positions: &mut BTreeMap<(String, i32), (Arc<Topic>, i64)>,
        group: &str,
    ) -> Option<String> {
        let assigned = self.assignment();
        positions.retain(|k, _| assigned.iter().any(|(t, p)| t.name == k.0 && *p == k.1));
        let mut recovered = None;
        for (t, p) in assigned {
            let key = (t.name.clone(), p);
            if positions.contains_key(&key) {
                continue;
            }
            let start = match self.worker.groups.committed(group, &t.name, p) {
                Some((o, metadata)) => {
                    if let Some(pos) = metadata.strip_prefix(SINK_POSITION_PREFIX) {
                        recovered = Some(pos.to_string());
                    }
                    o
                }
                None => t
                    .partition(p)
                    .map(|x| x.lock().log_start_offset())
                    .unwrap_or(0),
            };
            positions.insert(key, (t, start));
        }
        recovered
    }

    /// A record the task reported as errant: handled as a failed record of stage TASK_PUT,
    /// with the record as it is in the topic.
    fn report_errant(
        &self,
        policy: &ErrorPolicy,
        class: &str,
        positions: &BTreeMap<(String, i32), (Arc<Topic>, i64)>,
        rec: SinkRecord,
        e: ConnectError,
    ) -> Result<()> {
        let topic = rec.record.topic.clone();
        let raw = positions
            .get(&(topic.clone(), rec.kafka_partition))
            .and_then(|(t, _)| t.partition(rec.kafka_partition))
            .map(|part| read_headed(&part, rec.kafka_offset, 1))
            .transpose()?
            .and_then(|rs| rs.into_iter().find(|r| r.offset == rec.kafka_offset));
        match raw {
            Some(raw) => self.sink_failure(
                policy,
                Stage::TaskPut,
                class,
                e,
                &topic,
                rec.kafka_partition,
                &raw,
            ),
            None if policy.tolerate_all => Ok(()),
            None => Err(e),
        }
    }

    async fn sink_loop(
        &self,
        connector: Arc<dyn SinkConnector>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<()> {
        let conv = self.converters()?;
        let chain = Chain::from_config(&self.config)?;
        let policy = ErrorPolicy::from_config(&self.config);
        let group = group_of(&self.name);
        let mut positions: BTreeMap<(String, i32), (Arc<Topic>, i64)> = BTreeMap::new();
        // The target's position committed with the offsets last time, for the task to cut
        // what it wrote after it.
        let recovered = self.refresh_positions(&mut positions, &group);
        let mut task = connector.create_task();
        task.start(&self.task_config, recovered.as_deref()).await?;
        self.set("RUNNING", None);
        let mut refreshed = Instant::now();
        // One batch buffer for the task's life: its capacity is kept from put to put.
        let mut batch: Vec<SinkRecord> = Vec::new();
        loop {
            if *stop.borrow() {
                break;
            }
            if refreshed.elapsed() >= SINK_REFRESH {
                refreshed = Instant::now();
                self.refresh_positions(&mut positions, &group);
            }
            batch.clear();
            let mut moved: Vec<(String, i32, i64)> = Vec::new();
            for ((topic, p), (t, pos)) in positions.iter_mut() {
                let Some(part) = t.partition(*p) else {
                    continue;
                };
                let records = read_headed(&part, *pos, SINK_READ_BYTES)?;
                let Some(last) = records.last().map(|r| r.offset) else {
                    continue;
                };
                self.worker.note_topic(&self.name, topic, self.id);
                for raw in &records {
                    if raw.key.is_none() && raw.value.is_none() && raw.timestamp < 0 {
                        continue; // an undecodable batch skipped by the log
                    }
                    let (key_schema, key) = match conv.key.decode(topic, raw.key.as_deref()) {
                        Ok(k) => k,
                        Err(e) => {
                            self.sink_failure(
                                &policy,
                                Stage::KeyConverter,
                                &conv.key_class,
                                e,
                                topic,
                                *p,
                                raw,
                            )?;
                            continue;
                        }
                    };
                    let (value_schema, value) = match conv.value.decode(topic, raw.value.as_deref())
                    {
                        Ok(v) => v,
                        Err(e) => {
                            self.sink_failure(
                                &policy,
                                Stage::ValueConverter,
                                &conv.value_class,
                                e,
                                topic,
                                *p,
                                raw,
                            )?;
                            continue;
                        }
                    };
                    let record = Record {
                        topic: topic.clone(),
                        partition: Some(*p),
                        key_schema,
                        key,
                        value_schema,
                        value,
                        timestamp: Some(raw.timestamp),
                        headers: raw.headers.clone(),
                    };
                    match chain.apply(
                        record,
                        Coordinates {
                            partition: Some(*p),
                            offset: Some(raw.offset),
                        },
                    ) {
                        Ok(Some(r)) => batch.push(SinkRecord {
                            record: r,
                            kafka_partition: *p,
                            kafka_offset: raw.offset,
                        }),
                        Ok(None) => {}
                        Err((class, e)) => self.sink_failure(
                            &policy,
                            Stage::Transformation,
                            &class,
                            e,
                            topic,
                            *p,
                            raw,
                        )?,
                    }
                }
                *pos = last + 1;
                moved.push((topic.clone(), *p, *pos));
            }
            if moved.is_empty() {
                tokio::select! {
                    _ = stop.changed() => break,
                    _ = tokio::time::sleep(SINK_IDLE_WAIT) => {}
                }
                continue;
            }
            if !batch.is_empty() {
                let mut failing_since: Option<(Instant, u32)> = None;
                loop {
                    match task.put(&batch).await {
                        Ok(()) => break,
                        Err(e @ ConnectError::Retriable(_)) => {
                            let (since, attempt) =
                                *failing_since.get_or_insert((Instant::now(), 0));
                            match policy.retry_after(since, attempt) {
                                Some(d) => {
                                    failing_since = Some((since, attempt + 1));
                                    tokio::time::sleep(d).await;
                                }
                                None => return Err(e),
                            }
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            let position = task.flush().await?;
            for (rec, e) in task.take_errant() {
                self.report_errant(&policy, connector.class(), &positions, rec, e)?;
            }
            // Flushed, then committed with the target's position in one write: after a crash
            // between the two the task cuts what it wrote past that position and the batch is
            // delivered again (exactly once for tasks that report a position, at least once
            // for others).
            let all: Vec<(String, i32, i64)> = positions
                .iter()
                .map(|((t, p), (_, o))| (t.clone(), *p, *o))
                .collect();
            let metadata = position
                .map(|p| format!("{SINK_POSITION_PREFIX}{p}"))
                .unwrap_or_default();
            self.worker.groups.commit(&group, &all, &metadata)?;
        }
        task.stop();
        Ok(())
    }
}
