//! The clusters the workbench knows: the embedded one (id `local`, always present) and remote
//! ones added through the API, persisted to `<data_dir>/workbench/clusters.json` (SASL
//! passwords included, since the file is the user's own; they are never returned by the API).
//! Owns each cluster's lazily created [`ClientSet`], its schema registry, ksqlDB and Kafka
//! Connect clients, its
//! [`Metrics`], and when a cluster was last asked about (samplers of remote clusters idle
//! without it). Never talks Kafka itself beyond creating clients.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use sluice_api::{ClusterInfo, ClusterSecurity, NewCluster, EMBEDDED_CLUSTER};

use crate::connect::ConnectClient;
use crate::error::{Result, WorkbenchError};
use crate::kafka::{ClientSet, ConnectionSettings};
use crate::ksql::KsqlClient;
use crate::rates::Metrics;
use crate::registry::RegistryClient;
use crate::schemas::SchemaCache;

const CLUSTERS_FILE_VERSION: u32 = 1;
/// A remote cluster's sampler runs while someone asked about it this recently.
pub const ACTIVE_WINDOW: Duration = Duration::from_secs(300);

/// A remote cluster as stored in `clusters.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredCluster {
    id: String,
    name: String,
    bootstrap_servers: String,
    #[serde(default)]
    security: ClusterSecurity,
    #[serde(default)]
    sasl_password: Option<String>,
    #[serde(default)]
    schema_registry_url: Option<String>,
    #[serde(default)]
    connect_url: Option<String>,
    #[serde(default)]
    ksqldb_url: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ClustersFile {
    version: u32,
    clusters: Vec<StoredCluster>,
}

/// One known cluster: what the API shows, how to connect, and its live state.
pub struct Cluster {
    pub info: ClusterInfo,
    pub settings: ConnectionSettings,
    clients: Mutex<Option<Arc<ClientSet>>>,
    last_access: Mutex<Instant>,
    /// Set when the cluster is removed: no new clients are created after that.
    closed: AtomicBool,
    pub metrics: Arc<Metrics>,
    /// The cluster's schema registry, when it has one.
    registry: Option<Arc<RegistryClient>>,
    /// Schemas of the registry by id, for decoding and encoding data.
    pub schemas: SchemaCache,
    /// The cluster's ksqlDB server, when it has one.
    ksql: Option<Arc<KsqlClient>>,
    /// The cluster's Kafka Connect worker, when it has one.
    connect: Option<Arc<ConnectClient>>,
}

impl Cluster {
    fn new(info: ClusterInfo, settings: ConnectionSettings) -> Arc<Cluster> {
        let registry = info.schema_registry_url.as_deref().and_then(|url| {
            RegistryClient::new(url)
                .map_err(|e| tracing::warn!("cluster {}: {e}", info.id))
                .ok()
                .map(Arc::new)
        });
        let ksql = info.ksqldb_url.as_deref().and_then(|url| {
            KsqlClient::new(url)
                .map_err(|e| tracing::warn!("cluster {}: {e}", info.id))
                .ok()
                .map(Arc::new)
        });
        let connect = info.connect_url.as_deref().and_then(|url| {
            ConnectClient::new(url)
                .map_err(|e| tracing::warn!("cluster {}: {e}", info.id))
                .ok()
                .map(Arc::new)
        });
        Arc::new(Cluster {
            registry,
            ksql,
            connect,
            schemas: SchemaCache::default(),
            info,
            settings,
            clients: Mutex::new(None),
            last_access: Mutex::new(Instant::now()),
            closed: AtomicBool::new(false),
            metrics: Arc::new(Metrics::default()),
        })
    }

    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// The cluster's schema registry; `404 not_found` when it has none.
    pub fn registry(&self) -> Result<Arc<RegistryClient>> {
        self.registry.clone().ok_or_else(|| {
            WorkbenchError::NotFound(format!(
                "cluster {:?} has no schema registry URL",
                self.info.id
            ))
        })
    }

    /// The cluster's ksqlDB server; `404 not_found` when it has none.
    pub fn ksql(&self) -> Result<Arc<KsqlClient>> {
        self.ksql.clone().ok_or_else(|| {
            WorkbenchError::NotFound(format!("cluster {:?} has no ksqlDB URL", self.info.id))
        })
    }

    /// The cluster's Kafka Connect worker; `404 not_found` when it has none.
    pub fn connect(&self) -> Result<Arc<ConnectClient>> {
        self.connect.clone().ok_or_else(|| {
            WorkbenchError::NotFound(format!(
                "cluster {:?} has no Kafka Connect URL",
                self.info.id
            ))
        })
    }

    /// The cluster's clients, created on first use.
    pub fn clients(&self) -> Result<Arc<ClientSet>> {
        *self.last_access.lock() = Instant::now();
        self.clients_untouched()
    }

    fn clients_untouched(&self) -> Result<Arc<ClientSet>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(WorkbenchError::NotFound(format!(
                "cluster {:?} was removed",
                self.info.id
            )));
        }
        let mut slot = self.clients.lock();
        if let Some(c) = slot.as_ref() {
            return Ok(Arc::clone(c));
        }
        let created = Arc::new(ClientSet::new(self.settings.clone())?);
        *slot = Some(Arc::clone(&created));
        Ok(created)
    }

    /// Marks the cluster as looked at (keeps its sampler running).
    pub fn touch(&self) {
        *self.last_access.lock() = Instant::now();
    }

    /// The embedded cluster is always sampled; a remote one while it is in use.
    pub fn is_active(&self) -> bool {
        self.info.embedded || self.last_access.lock().elapsed() < ACTIVE_WINDOW
    }

    /// The clients for the background sampler (which does not count as someone asking).
    pub fn clients_for_sampling(&self) -> Option<Arc<ClientSet>> {
        self.clients_untouched().ok()
    }

    /// Stops creating clients and hands back the current ones, to be closed off the runtime
    /// (closing a librdkafka client blocks).
    pub fn close(&self) -> Option<Arc<ClientSet>> {
        self.closed.store(true, Ordering::Release);
        self.clients.lock().take()
    }
}

/// Every known cluster, by id.
pub struct ClusterRegistry {
    file: PathBuf,
    clusters: Mutex<BTreeMap<String, Arc<Cluster>>>,
    /// Remote clusters with their passwords, as persisted.
    stored: Mutex<Vec<StoredCluster>>,
}

impl ClusterRegistry {
    /// Loads the remote clusters saved under `data_dir` (a missing file means none). The
    /// embedded cluster reaches the embedded registry at `embedded_registry`, the embedded
    /// SQL engine at `embedded_ksqldb` and the embedded connector runtime at
    /// `embedded_connect`, when they run.
    pub fn load(
        data_dir: &Path,
        embedded_bootstrap: &str,
        embedded_registry: Option<&str>,
        embedded_ksqldb: Option<&str>,
        embedded_connect: Option<&str>,
    ) -> Result<ClusterRegistry> {
        let file = data_dir.join("workbench").join("clusters.json");
        let stored: Vec<StoredCluster> = match std::fs::read(&file) {
            Ok(bytes) => {
                let parsed: ClustersFile = serde_json::from_slice(&bytes).map_err(|e| {
                    WorkbenchError::Internal(format!("reading {}: {e}", file.display()))
                })?;
                if parsed.version > CLUSTERS_FILE_VERSION {
                    return Err(WorkbenchError::Internal(format!(
                        "{} has version {}, newer than this build understands ({})",
                        file.display(),
                        parsed.version,
                        CLUSTERS_FILE_VERSION
                    )));
                }
                parsed.clusters
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(WorkbenchError::Internal(format!(
                    "reading {}: {e}",
                    file.display()
                )))
            }
        };
        let mut clusters = BTreeMap::new();
        let embedded = ClusterInfo {
            id: EMBEDDED_CLUSTER.to_string(),
            name: "Embedded (local)".to_string(),
            bootstrap_servers: embedded_bootstrap.to_string(),
            embedded: true,
            security: ClusterSecurity {
                protocol: "PLAINTEXT".into(),
                ..ClusterSecurity::default()
            },
            schema_registry_url: embedded_registry.map(str::to_string),
            connect_url: embedded_connect.map(str::to_string),
            ksqldb_url: embedded_ksqldb.map(str::to_string),
        };
        clusters.insert(
            EMBEDDED_CLUSTER.to_string(),
            Cluster::new(embedded, ConnectionSettings::plaintext(embedded_bootstrap)),
        );
        for s in &stored {
            let (info, settings) = s.to_info();
            clusters.insert(s.id.clone(), Cluster::new(info, settings));
        }
        Ok(ClusterRegistry {
            file,
            clusters: Mutex::new(clusters),
            stored: Mutex::new(stored),
        })
    }

    pub fn get(&self, id: &str) -> Result<Arc<Cluster>> {
        self.clusters
            .lock()
            .get(id)
            .cloned()
            .ok_or_else(|| WorkbenchError::NotFound(format!("no cluster with id {id:?}")))
    }

    /// The embedded cluster first, then remote ones by id.
    pub fn list(&self) -> Vec<Arc<Cluster>> {
        let clusters = self.clusters.lock();
        let mut out: Vec<Arc<Cluster>> = clusters.values().cloned().collect();
        out.sort_by_key(|c| (!c.info.embedded, c.info.id.clone()));
        out
    }

    /// Adds and persists a remote cluster. Blocking (writes the file).
    pub fn add(&self, new: NewCluster) -> Result<Arc<Cluster>> {
        let name = new.name.trim().to_string();
        if name.is_empty() {
            return Err(WorkbenchError::BadRequest("a cluster needs a name".into()));
        }
        let bootstrap = new.bootstrap_servers.trim().to_string();
        if bootstrap.is_empty() {
            return Err(WorkbenchError::BadRequest(
                "a cluster needs bootstrap_servers (host:port[,host:port...])".into(),
            ));
        }
        let mut security = new.security;
        security.protocol = match security.protocol.trim().to_ascii_uppercase().as_str() {
            "" | "PLAINTEXT" => "PLAINTEXT".into(),
            p @ ("SSL" | "SASL_PLAINTEXT" | "SASL_SSL") => p.to_string(),
            other => {
                return Err(WorkbenchError::BadRequest(format!(
                    "unknown security protocol {other:?} (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)"
                )))
            }
        };
        let mut stored = self.stored.lock();
        let mut clusters = self.clusters.lock();
        let id = unique_id(&slug(&name), |id| clusters.contains_key(id));
        let entry = StoredCluster {
            id: id.clone(),
            name,
            bootstrap_servers: bootstrap,
            security,
            sasl_password: new.sasl_password.filter(|p| !p.is_empty()),
            schema_registry_url: non_empty(new.schema_registry_url),
            connect_url: non_empty(new.connect_url),
            ksqldb_url: non_empty(new.ksqldb_url),
        };
        let (info, settings) = entry.to_info();
        if let Some(url) = &info.schema_registry_url {
            RegistryClient::new(url)?;
        }
        if let Some(url) = &info.connect_url {
            ConnectClient::new(url)?;
        }
        // Refuse settings librdkafka would refuse, before they are saved.
        settings
            .base_config()
            .create::<rdkafka::consumer::BaseConsumer>()?;
        let mut next = stored.clone();
        next.push(entry);
        self.save(&next)?;
        *stored = next;
        let cluster = Cluster::new(info, settings);
        clusters.insert(id, Arc::clone(&cluster));
        Ok(cluster)
    }

    /// Removes a remote cluster; returns it so its clients are closed off the runtime.
    /// Blocking (writes the file).
    pub fn remove(&self, id: &str) -> Result<Arc<Cluster>> {
        if id == EMBEDDED_CLUSTER {
            return Err(WorkbenchError::BadRequest(
                "the embedded cluster cannot be removed".into(),
            ));
        }
        let mut stored = self.stored.lock();
        let mut clusters = self.clusters.lock();
        if !clusters.contains_key(id) {
            return Err(WorkbenchError::NotFound(format!(
                "no cluster with id {id:?}"
            )));
        }
        let next: Vec<StoredCluster> = stored.iter().filter(|s| s.id != id).cloned().collect();
        self.save(&next)?;
        *stored = next;
        clusters
            .remove(id)
            .ok_or_else(|| WorkbenchError::NotFound(format!("no cluster with id {id:?}")))
    }

    fn save(&self, clusters: &[StoredCluster]) -> Result<()> {
        let io = |e: std::io::Error| {
            WorkbenchError::Internal(format!("writing {}: {e}", self.file.display()))
        };
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let body = serde_json::to_vec_pretty(&ClustersFile {
            version: CLUSTERS_FILE_VERSION,
            clusters: clusters.to_vec(),
        })
        .map_err(|e| WorkbenchError::Internal(e.to_string()))?;
        let tmp = self.file.with_extension("json.tmp");
        std::fs::write(&tmp, body).map_err(io)?;
        std::fs::rename(&tmp, &self.file).map_err(io)?;
        Ok(())
    }
}

impl StoredCluster {
    fn to_info(&self) -> (ClusterInfo, ConnectionSettings) {
        let info = ClusterInfo {
            id: self.id.clone(),
            name: self.name.clone(),
            bootstrap_servers: self.bootstrap_servers.clone(),
            embedded: false,
            security: self.security.clone(),
            schema_registry_url: self.schema_registry_url.clone(),
            connect_url: self.connect_url.clone(),
            ksqldb_url: self.ksqldb_url.clone(),
        };
        let settings = ConnectionSettings {
            bootstrap_servers: self.bootstrap_servers.clone(),
            security: self.security.clone(),
            sasl_password: self.sasl_password.clone(),
        };
        (info, settings)
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// A URL-safe id from a display name: lowercase ASCII letters, digits and dashes.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    let mut s: String = trimmed.chars().take(40).collect();
    if s.is_empty() {
        s = "cluster".into();
    }
    s
}

/// `base`, or `base-2`, `base-3`... whichever is free (and never the embedded id).
fn unique_id(base: &str, taken: impl Fn(&str) -> bool) -> String {
    let free = |id: &str| id != EMBEDDED_CLUSTER && !taken(id);
    if free(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| free(id))
        .unwrap_or_else(|| base.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_slugs_and_unique() {
        assert_eq!(slug("Prod EU / kafka"), "prod-eu-kafka");
        assert_eq!(slug("!!!"), "cluster");
        assert_eq!(unique_id("local", |_| false), "local-2");
        assert_eq!(unique_id("a", |id| id == "a" || id == "a-2"), "a-3");
    }

    #[test]
    fn remote_clusters_persist_and_passwords_stay_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let reg = ClusterRegistry::load(dir.path(), "127.0.0.1:1", None, None, None).unwrap();
        let added = reg
            .add(NewCluster {
                name: "Staging".into(),
                bootstrap_servers: "10.0.0.1:9092".into(),
                security: ClusterSecurity {
                    protocol: "sasl_plaintext".into(),
                    sasl_mechanism: Some("PLAIN".into()),
                    sasl_username: Some("u".into()),
                    ssl_ca_location: None,
                },
                sasl_password: Some("secret".into()),
                ..NewCluster::default()
            })
            .unwrap();
        assert_eq!(added.info.id, "staging");
        assert_eq!(added.info.security.protocol, "SASL_PLAINTEXT");
        let again = ClusterRegistry::load(dir.path(), "127.0.0.1:1", None, None, None).unwrap();
        let ids: Vec<String> = again.list().iter().map(|c| c.info.id.clone()).collect();
        assert_eq!(ids, vec!["local".to_string(), "staging".to_string()]);
        let staging = again.get("staging").unwrap();
        assert_eq!(staging.settings.sasl_password.as_deref(), Some("secret"));
        assert!(!serde_json::to_string(&staging.info)
            .unwrap()
            .contains("secret"));
        again.remove("staging").unwrap();
        assert!(again.remove("local").is_err());
        let third = ClusterRegistry::load(dir.path(), "127.0.0.1:1", None, None, None).unwrap();
        assert_eq!(third.list().len(), 1);
    }
}
