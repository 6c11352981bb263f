//! The log store: every topic's partitions under one data directory, topic metadata
//! (`topic.json`: id, partition count, config overrides), and the background thread that
//! group-commits fsyncs and enforces retention. Layout:
//! `<root>/meta.json`, `<root>/topics/<topic>/topic.json`, `<root>/topics/<topic>/<partition>/`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use crate::config::TopicConfig;
use crate::error::{LogError, Result};
use crate::partition::PartitionLog;

/// Version of the data directory layout.
pub const STORE_FORMAT_VERSION: u32 = 1;
/// Unflushed bytes that start a group commit before the flush interval is up.
pub const FLUSH_AFTER_BYTES: u64 = 8 << 20;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[derive(Debug, Serialize, Deserialize)]
struct StoreMeta {
    format: String,
    version: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TopicMeta {
    version: u32,
    name: String,
    id: String,
    partitions: i32,
    config: TopicConfig,
}

/// A partition shared between request handlers and the background thread.
pub type SharedPartition = Arc<Mutex<PartitionLog>>;

/// One topic: its identity, config and partitions.
pub struct Topic {
    pub name: String,
    pub id: [u8; 16],
    dir: PathBuf,
    config: RwLock<TopicConfig>,
    partitions: RwLock<Vec<SharedPartition>>,
}

impl Topic {
    pub fn config(&self) -> TopicConfig {
        self.config.read().clone()
    }

    pub fn partition_count(&self) -> i32 {
        self.partitions.read().len() as i32
    }

    pub fn partition(&self, p: i32) -> Option<SharedPartition> {
        if p < 0 {
            return None;
        }
        self.partitions.read().get(p as usize).cloned()
    }

    pub fn partitions(&self) -> Vec<SharedPartition> {
        self.partitions.read().clone()
    }

    /// Kafka's rule: internal topics start with `__`.
    pub fn is_internal(&self) -> bool {
        self.name.starts_with("__")
    }

    fn write_meta(&self) -> Result<()> {
        let meta = TopicMeta {
            version: STORE_FORMAT_VERSION,
            name: self.name.clone(),
            id: hex(&self.id),
            partitions: self.partition_count(),
            config: self.config(),
        };
        write_json_atomically(&self.dir.join("topic.json"), &meta)
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    if s.len() != 32 {
        return None;
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

fn write_json_atomically<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let body = serde_json::to_vec_pretty(value).map_err(|e| LogError::BadMetadata {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let tmp = path.with_extension("json.tmp");
    {
        let f = fs::File::create(&tmp)?;
        use std::io::Write;
        (&f).write_all(&body)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent() {
        if let Ok(d) = fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let b = fs::read(path)?;
    serde_json::from_slice(&b).map_err(|e| LogError::BadMetadata {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Kafka's topic name rule: 1..=249 of `[a-zA-Z0-9._-]`, not `.` or `..`.
pub fn validate_topic_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 249
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(LogError::InvalidTopic(name.to_string()))
    }
}

fn random_id() -> [u8; 16] {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut out = [0u8; 16];
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        let mut h = RandomState::new().build_hasher();
        h.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        h.write_usize(i);
        chunk.copy_from_slice(&h.finish().to_be_bytes());
    }
    out
}

/// All topics of one data directory.
pub struct LogStore {
    root: PathBuf,
    topics: RwLock<BTreeMap<String, Arc<Topic>>>,
    /// Serialises topic creation/deletion/partition changes (metadata writes).
    admin: Mutex<()>,
    /// Bytes appended to any partition since the last group commit.
    unflushed: Arc<AtomicU64>,
}

impl LogStore {
    /// Opens the data directory, creating it if needed, and recovers every partition.
    pub fn open(root: &Path) -> Result<Arc<LogStore>> {
        fs::create_dir_all(root.join("topics"))?;
        let meta_path = root.join("meta.json");
        if meta_path.exists() {
            let meta: StoreMeta = read_json(&meta_path)?;
            if meta.version > STORE_FORMAT_VERSION || meta.format != "sluice-log" {
                return Err(LogError::FormatVersion {
                    path: meta_path.display().to_string(),
                    found: meta.version,
                    supported: STORE_FORMAT_VERSION,
                });
            }
        } else {
            write_json_atomically(
                &meta_path,
                &StoreMeta {
                    format: "sluice-log".into(),
                    version: STORE_FORMAT_VERSION,
                },
            )?;
        }
        let now = now_ms();
        let unflushed = Arc::new(AtomicU64::new(0));
        let mut topics = BTreeMap::new();
        for entry in fs::read_dir(root.join("topics"))? {
            let entry = entry?;
            let dir = entry.path();
            let meta_path = dir.join("topic.json");
            if !meta_path.exists() {
                // A topic whose creation never finished, or a deletion in progress.
                let _ = fs::remove_dir_all(&dir);
                continue;
            }
            let meta: TopicMeta = read_json(&meta_path)?;
            if meta.version > STORE_FORMAT_VERSION {
                return Err(LogError::FormatVersion {
                    path: meta_path.display().to_string(),
                    found: meta.version,
                    supported: STORE_FORMAT_VERSION,
                });
            }
            let mut parts = Vec::new();
            for p in 0..meta.partitions {
                let mut log =
                    PartitionLog::open(&dir.join(p.to_string()), meta.config.clone(), now)?;
                log.count_unflushed_in(unflushed.clone());
                if log.recovery.truncated_bytes > 0 {
                    tracing::warn!(topic = %meta.name, partition = p, bytes = log.recovery.truncated_bytes, "recovered a torn tail");
                }
                parts.push(Arc::new(Mutex::new(log)));
            }
            let topic = Topic {
                name: meta.name.clone(),
                id: unhex(&meta.id).unwrap_or_else(random_id),
                dir,
                config: RwLock::new(meta.config),
                partitions: RwLock::new(parts),
            };
            topics.insert(meta.name, Arc::new(topic));
        }
        Ok(Arc::new(LogStore {
            root: root.to_path_buf(),
            topics: RwLock::new(topics),
            admin: Mutex::new(()),
            unflushed,
        }))
    }

    fn open_partition(
        &self,
        dir: &Path,
        config: &TopicConfig,
        now: i64,
    ) -> Result<SharedPartition> {
        let mut log = PartitionLog::open(dir, config.clone(), now)?;
        log.count_unflushed_in(self.unflushed.clone());
        Ok(Arc::new(Mutex::new(log)))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn topic(&self, name: &str) -> Option<Arc<Topic>> {
        self.topics.read().get(name).cloned()
    }

    pub fn topics(&self) -> Vec<Arc<Topic>> {
        self.topics.read().values().cloned().collect()
    }

    /// Creates a topic; `validate_only` checks everything and creates nothing.
    pub fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        config: TopicConfig,
        validate_only: bool,
    ) -> Result<Option<Arc<Topic>>> {
        validate_topic_name(name)?;
        if !(1..=10_000).contains(&partitions) {
            return Err(LogError::InvalidPartitions(format!(
                "{partitions} partitions (must be 1..=10000)"
            )));
        }
        let _g = self.admin.lock();
        if self.topics.read().contains_key(name) {
            return Err(LogError::TopicExists(name.to_string()));
        }
        if validate_only {
            return Ok(None);
        }
        let dir = self.root.join("topics").join(name);
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        let now = now_ms();
        let mut parts = Vec::new();
        for p in 0..partitions {
            parts.push(self.open_partition(&dir.join(p.to_string()), &config, now)?);
        }
        let topic = Arc::new(Topic {
            name: name.to_string(),
            id: random_id(),
            dir,
            config: RwLock::new(config),
            partitions: RwLock::new(parts),
        });
        // topic.json last: a crash before this leaves a directory that open() discards.
        topic.write_meta()?;
        self.topics.write().insert(name.to_string(), topic.clone());
        Ok(Some(topic))
    }

    /// Deletes a topic and its data.
    pub fn delete_topic(&self, name: &str) -> Result<()> {
        let _g = self.admin.lock();
        let topic = self
            .topics
            .write()
            .remove(name)
            .ok_or_else(|| LogError::UnknownTopic(name.to_string()))?;
        // Remove the metadata first so a crash mid-delete never resurrects a half topic.
        fs::remove_file(topic.dir.join("topic.json"))?;
        fs::remove_dir_all(&topic.dir)?;
        Ok(())
    }

    /// Grows a topic to `total` partitions.
    pub fn create_partitions(&self, name: &str, total: i32, validate_only: bool) -> Result<()> {
        let _g = self.admin.lock();
        let topic = self
            .topic(name)
            .ok_or_else(|| LogError::UnknownTopic(name.to_string()))?;
        let current = topic.partition_count();
        if total <= current || total > 10_000 {
            return Err(LogError::InvalidPartitions(format!(
                "topic {name} has {current} partitions; asked for {total}"
            )));
        }
        if validate_only {
            return Ok(());
        }
        let now = now_ms();
        let config = topic.config();
        let mut parts = topic.partitions.write();
        for p in current..total {
            parts.push(self.open_partition(&topic.dir.join(p.to_string()), &config, now)?);
        }
        drop(parts);
        topic.write_meta()
    }

    /// Replaces a topic's config overrides.
    pub fn set_topic_config(&self, name: &str, config: TopicConfig) -> Result<()> {
        let _g = self.admin.lock();
        let topic = self
            .topic(name)
            .ok_or_else(|| LogError::UnknownTopic(name.to_string()))?;
        *topic.config.write() = config.clone();
        for p in topic.partitions() {
            p.lock().set_config(config.clone());
        }
        topic.write_meta()
    }

    /// One round of group commit: fsync every partition written since the last round.
    pub fn flush_all(&self) -> Result<()> {
        self.unflushed.store(0, Ordering::Relaxed);
        let mut first_err = None;
        for topic in self.topics() {
            for p in topic.partitions() {
                let job = p.lock().prepare_flush();
                if let Some(job) = job {
                    let r = job.sync();
                    let done = p.lock().complete_flush(job, r);
                    if let Err(e) = done.and_then(|cp| cp.commit()) {
                        first_err.get_or_insert(e);
                    }
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Retention and compaction for every partition.
    pub fn enforce_retention(&self) -> Result<()> {
        let now = now_ms();
        for topic in self.topics() {
            for p in topic.partitions() {
                if let Err(e) = p.lock().enforce_retention(now) {
                    tracing::warn!(topic = %topic.name, error = %e, "retention failed");
                }
            }
        }
        Ok(())
    }

    /// Starts the background thread: group commit every `flush_interval`, or sooner once
    /// [`FLUSH_AFTER_BYTES`] are waiting (one long fsync of a large backlog stalls appends to
    /// the same files for tens of ms; small frequent ones do not); retention every
    /// `retention_interval`. Dropping the handle stops it after a final flush.
    pub fn start_background(
        self: &Arc<Self>,
        flush_interval: Duration,
        retention_interval: Duration,
    ) -> BackgroundTasks {
        let stop = Arc::new(AtomicBool::new(false));
        let store = self.clone();
        let stop2 = stop.clone();
        let handle = std::thread::Builder::new()
            .name("sluice-log-flusher".into())
            .spawn(move || {
                let tick = Duration::from_millis(10);
                let mut last_flush = Instant::now();
                let mut last_retention = Instant::now();
                while !stop2.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    let backlog = store.unflushed.load(Ordering::Relaxed);
                    if last_flush.elapsed() >= flush_interval || backlog >= FLUSH_AFTER_BYTES {
                        last_flush = Instant::now();
                        if let Err(e) = store.flush_all() {
                            tracing::error!(error = %e, "flush failed");
                        }
                    }
                    if last_retention.elapsed() >= retention_interval {
                        last_retention = Instant::now();
                        let _ = store.enforce_retention();
                    }
                }
                if let Err(e) = store.flush_all() {
                    tracing::error!(error = %e, "final flush failed");
                }
            })
            .expect("spawn flusher thread");
        BackgroundTasks {
            stop,
            handle: Some(handle),
        }
    }
}

/// The running background thread of a [`LogStore`].
pub struct BackgroundTasks {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl BackgroundTasks {
    /// Stops the thread after one final flush, and waits for it.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for BackgroundTasks {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
