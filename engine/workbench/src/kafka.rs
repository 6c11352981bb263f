//! The workbench's Kafka access: one [`ClientSet`] per cluster (admin client, producer, a
//! metadata consumer without a group, and consumers bound to group ids for committed offsets),
//! all through `rdkafka`, so the same code serves the embedded broker and any real cluster.
//! Owns client configuration (bootstrap, security, short timeouts) and the blocking lookups
//! (metadata, offsets, group lists, committed offsets). Every blocking function here must be
//! called from `spawn_blocking`; this module never touches HTTP.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::FutureProducer;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use sluice_api::ClusterSecurity;

use crate::error::{Result, WorkbenchError};

/// How long one call to a cluster may take before it is answered as `503 unavailable`.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Group-bound consumers unused this long are closed.
const GROUP_CONSUMER_IDLE: Duration = Duration::from_secs(300);
/// At most this many group-bound consumers (each a librdkafka instance) are kept.
const MAX_GROUP_CONSUMERS: usize = 64;

/// The `group.id` of assign-only readers (browse, tail). Nothing is ever committed under it.
pub const READER_GROUP: &str = "sluice-workbench-reader";

/// (topic, partition)
pub type Tp = (String, i32);

/// How to reach a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSettings {
    pub bootstrap_servers: String,
    pub security: ClusterSecurity,
    pub sasl_password: Option<String>,
}

impl ConnectionSettings {
    pub fn plaintext(bootstrap_servers: impl Into<String>) -> Self {
        ConnectionSettings {
            bootstrap_servers: bootstrap_servers.into(),
            security: ClusterSecurity {
                protocol: "PLAINTEXT".into(),
                ..ClusterSecurity::default()
            },
            sasl_password: None,
        }
    }

    /// The settings every client of this cluster shares.
    pub fn base_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap_servers)
            .set("client.id", "sluice-workbench")
            .set("socket.connection.setup.timeout.ms", "5000")
            .set("socket.timeout.ms", "10000")
            .set("reconnect.backoff.max.ms", "2000")
            .set("log_level", "3");
        let protocol = if self.security.protocol.is_empty() {
            "PLAINTEXT"
        } else {
            self.security.protocol.as_str()
        };
        c.set("security.protocol", protocol);
        if let Some(m) = &self.security.sasl_mechanism {
            c.set("sasl.mechanism", m);
        }
        if let Some(u) = &self.security.sasl_username {
            c.set("sasl.username", u);
        }
        if let Some(p) = &self.sasl_password {
            c.set("sasl.password", p);
        }
        if let Some(ca) = &self.security.ssl_ca_location {
            c.set("ssl.ca.location", ca);
        }
        c
    }

    /// A consumer that reads by assignment only: it never subscribes or commits, so it never
    /// joins or creates a group (librdkafka wants a `group.id` for `assign` all the same);
    /// with `partition_eof` it reports reaching the end of each partition.
    pub fn reader(&self, partition_eof: bool) -> Result<BaseConsumer> {
        Ok(self
            .base_config()
            .set("group.id", READER_GROUP)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set(
                "enable.partition.eof",
                if partition_eof { "true" } else { "false" },
            )
            .set("fetch.wait.max.ms", "100")
            .set("auto.offset.reset", "earliest")
            .create()?)
    }
}

/// One topic of a metadata answer, owned.
#[derive(Debug, Clone)]
pub struct TopicMeta {
    pub name: String,
    pub partitions: Vec<PartitionMeta>,
}

#[derive(Debug, Clone)]
pub struct PartitionMeta {
    pub id: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
}

#[derive(Debug, Clone)]
pub struct BrokerMeta {
    pub id: i32,
    pub host: String,
    pub port: u16,
}

#[derive(Debug, Clone)]
pub struct ClusterMeta {
    pub brokers: Vec<BrokerMeta>,
    /// By name.
    pub topics: BTreeMap<String, TopicMeta>,
}

impl ClusterMeta {
    pub fn topic(&self, name: &str) -> Result<&TopicMeta> {
        self.topics
            .get(name)
            .ok_or_else(|| WorkbenchError::NotFound(format!("no topic named {name:?}")))
    }

    /// Every partition of the user topics (not [`is_internal`]).
    pub fn user_partitions(&self) -> Vec<Tp> {
        self.topics
            .values()
            .filter(|t| !is_internal(&t.name))
            .flat_map(|t| t.partitions.iter().map(|p| (t.name.clone(), p.id)))
            .collect()
    }
}

/// Internal topics: Kafka's own start with `__` (`__consumer_offsets`), the platform's with
/// `_` (the schema registry's `_schemas`, `_confluent-*`), and Kafka Connect's storage topics
/// by their standard names (`connect-configs`, `connect-offsets`, `connect-status`), as Kafka
/// GUIs treat them: hidden from the topic list unless asked for, not counted as user topics.
pub fn is_internal(topic: &str) -> bool {
    topic.starts_with('_') || CONNECT_STORAGE_TOPICS.contains(&topic)
}

/// The names Kafka Connect's distributed workers (and Sluice's runtime) keep their state in.
const CONNECT_STORAGE_TOPICS: [&str; 3] = ["connect-configs", "connect-offsets", "connect-status"];

/// A group as the cluster describes it, owned.
#[derive(Debug, Clone)]
pub struct GroupMeta {
    pub group_id: String,
    pub state: String,
    pub protocol_type: String,
    pub protocol: String,
    pub members: Vec<MemberMeta>,
}

#[derive(Debug, Clone)]
pub struct MemberMeta {
    pub member_id: String,
    pub client_id: String,
    pub client_host: String,
    pub assignment: Vec<Tp>,
}

/// The clients of one cluster, created once and shared by every request.
pub struct ClientSet {
    pub settings: ConnectionSettings,
    pub admin: AdminClient<DefaultClientContext>,
    pub producer: FutureProducer,
    /// Metadata, offsets and group lists; never assigned, never in a group.
    pub meta: BaseConsumer,
    group_consumers: Mutex<HashMap<String, (Arc<BaseConsumer>, Instant)>>,
}

impl ClientSet {
    /// Creates the clients (they connect lazily; nothing here waits on the network).
    pub fn new(settings: ConnectionSettings) -> Result<ClientSet> {
        let admin = settings.base_config().create()?;
        let producer = settings
            .base_config()
            .set("acks", "all")
            .set("linger.ms", "5")
            .set("message.timeout.ms", "10000")
            .set("request.timeout.ms", "5000")
            .create()?;
        let meta = settings
            .base_config()
            .set("enable.auto.commit", "false")
            .create()?;
        Ok(ClientSet {
            settings,
            admin,
            producer,
            meta,
            group_consumers: Mutex::new(HashMap::new()),
        })
    }

    pub fn admin_options() -> AdminOptions {
        AdminOptions::new()
            .request_timeout(Some(CALL_TIMEOUT))
            .operation_timeout(Some(CALL_TIMEOUT))
    }

    /// Brokers and every topic (internal ones included). Blocking.
    pub fn metadata(&self) -> Result<ClusterMeta> {
        let md = self.meta.fetch_metadata(None, CALL_TIMEOUT)?;
        let brokers = md
            .brokers()
            .iter()
            .map(|b| BrokerMeta {
                id: b.id(),
                host: b.host().to_string(),
                port: u16::try_from(b.port()).unwrap_or(0),
            })
            .collect();
        let mut topics = BTreeMap::new();
        for t in md.topics() {
            if t.error().is_some() {
                continue;
            }
            let mut partitions: Vec<PartitionMeta> = t
                .partitions()
                .iter()
                .map(|p| PartitionMeta {
                    id: p.id(),
                    leader: p.leader(),
                    replicas: p.replicas().to_vec(),
                })
                .collect();
            partitions.sort_by_key(|p| p.id);
            topics.insert(
                t.name().to_string(),
                TopicMeta {
                    name: t.name().to_string(),
                    partitions,
                },
            );
        }
        Ok(ClusterMeta { brokers, topics })
    }

    /// The cluster id the brokers report. Blocking.
    pub fn cluster_id(&self) -> Option<String> {
        self.meta.client().fetch_cluster_id(CALL_TIMEOUT)
    }

    /// Start (`Offset::Beginning`) or end (`Offset::End`) offsets of partitions, in one
    /// ListOffsets round per broker. Blocking.
    pub fn list_offsets(&self, tps: &[Tp], which: Offset) -> Result<HashMap<Tp, i64>> {
        self.offsets_for(tps.iter().map(|tp| (tp.clone(), which)))
    }

    /// The first offset at or after a timestamp per partition; the end offset where no record
    /// is that recent. Blocking.
    pub fn offsets_for_timestamp(&self, tps: &[Tp], ts_ms: i64) -> Result<HashMap<Tp, i64>> {
        let found = self.offsets_for(tps.iter().map(|tp| (tp.clone(), Offset::Offset(ts_ms))))?;
        let missing: Vec<Tp> = tps
            .iter()
            .filter(|tp| !found.contains_key(*tp))
            .cloned()
            .collect();
        let mut out = found;
        if !missing.is_empty() {
            out.extend(self.list_offsets(&missing, Offset::End)?);
        }
        Ok(out)
    }

    fn offsets_for(&self, query: impl Iterator<Item = (Tp, Offset)>) -> Result<HashMap<Tp, i64>> {
        let mut tpl = TopicPartitionList::new();
        for ((topic, partition), offset) in query {
            tpl.add_partition_offset(&topic, partition, offset)?;
        }
        if tpl.count() == 0 {
            return Ok(HashMap::new());
        }
        let result = self.meta.offsets_for_times(tpl, CALL_TIMEOUT)?;
        let mut out = HashMap::new();
        for e in result.elements() {
            if let Err(err) = e.error() {
                return Err(err.into());
            }
            if let Offset::Offset(o) = e.offset() {
                out.insert((e.topic().to_string(), e.partition()), o);
            }
        }
        Ok(out)
    }

    /// Every group, or one, as the cluster describes it. Blocking.
    pub fn groups(&self, group: Option<&str>) -> Result<Vec<GroupMeta>> {
        let list = self.meta.fetch_group_list(group, CALL_TIMEOUT)?;
        let mut out: Vec<GroupMeta> = list
            .groups()
            .iter()
            .map(|g| GroupMeta {
                group_id: g.name().to_string(),
                state: g.state().to_string(),
                protocol_type: g.protocol_type().to_string(),
                protocol: g.protocol().to_string(),
                members: g
                    .members()
                    .iter()
                    .map(|m| MemberMeta {
                        member_id: m.id().to_string(),
                        client_id: m.client_id().to_string(),
                        client_host: m.client_host().to_string(),
                        assignment: m.assignment().map(decode_assignment).unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect();
        out.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        Ok(out)
    }

    /// One group, `404` when the cluster does not know it (`Dead` with no members).
    pub fn group(&self, group: &str) -> Result<GroupMeta> {
        let found = self
            .groups(Some(group))?
            .into_iter()
            .find(|g| g.group_id == group && !(g.state == "Dead" && g.members.is_empty()));
        found.ok_or_else(|| WorkbenchError::NotFound(format!("no consumer group {group:?}")))
    }

    /// A consumer carrying `group.id = group` that never subscribes: it can fetch and commit
    /// the group's offsets without joining it. Cached per group (the least recently used is
    /// closed beyond [`MAX_GROUP_CONSUMERS`]). Blocking.
    pub fn group_consumer(&self, group: &str) -> Result<Arc<BaseConsumer>> {
        let mut evicted = Vec::new();
        let consumer = {
            let mut cache = self.group_consumers.lock();
            if let Some((c, used)) = cache.get_mut(group) {
                *used = Instant::now();
                return Ok(Arc::clone(c));
            }
            while cache.len() >= MAX_GROUP_CONSUMERS {
                let Some(oldest) = cache
                    .iter()
                    .min_by_key(|(_, (_, used))| *used)
                    .map(|(g, _)| g.clone())
                else {
                    break;
                };
                evicted.extend(cache.remove(&oldest).map(|(c, _)| c));
            }
            let consumer: BaseConsumer = self
                .settings
                .base_config()
                .set("group.id", group)
                .set("enable.auto.commit", "false")
                .set("enable.auto.offset.store", "false")
                .create()?;
            let consumer = Arc::new(consumer);
            cache.insert(group.to_string(), (Arc::clone(&consumer), Instant::now()));
            consumer
        };
        // Closing blocks: done here, on the caller's blocking thread, without the lock.
        drop(evicted);
        Ok(consumer)
    }

    /// Closes group consumers nobody used for a while; returns them so the caller drops them
    /// off the runtime (closing a librdkafka client blocks).
    pub fn take_idle_group_consumers(&self) -> Vec<Arc<BaseConsumer>> {
        let mut cache = self.group_consumers.lock();
        let idle: Vec<String> = cache
            .iter()
            .filter(|(_, (_, used))| used.elapsed() > GROUP_CONSUMER_IDLE)
            .map(|(g, _)| g.clone())
            .collect();
        idle.into_iter()
            .filter_map(|g| cache.remove(&g).map(|(c, _)| c))
            .collect()
    }

    pub fn forget_group_consumer(&self, group: &str) -> Option<Arc<BaseConsumer>> {
        self.group_consumers.lock().remove(group).map(|(c, _)| c)
    }

    /// The group's committed offsets among `tps` (partitions without one are left out).
    /// Blocking.
    pub fn committed(&self, group: &str, tps: &[Tp]) -> Result<HashMap<Tp, i64>> {
        if tps.is_empty() {
            return Ok(HashMap::new());
        }
        let consumer = self.group_consumer(group)?;
        let mut tpl = TopicPartitionList::new();
        for (t, p) in tps {
            tpl.add_partition(t, *p);
        }
        let result = consumer.committed_offsets(tpl, CALL_TIMEOUT)?;
        let mut out = HashMap::new();
        for e in result.elements() {
            if let Err(err) = e.error() {
                if err.rdkafka_error_code() == Some(RDKafkaErrorCode::UnknownTopicOrPartition) {
                    continue;
                }
                return Err(err.into());
            }
            if let Offset::Offset(o) = e.offset() {
                if o >= 0 {
                    out.insert((e.topic().to_string(), e.partition()), o);
                }
            }
        }
        Ok(out)
    }
}

/// Decodes a member assignment in the consumer protocol (`ConsumerProtocolAssignment`, any
/// version: version i16, then [topic string, [partition i32]], then user data). Anything
/// malformed yields what was decoded before it.
pub fn decode_assignment(bytes: &[u8]) -> Vec<Tp> {
    let mut r = Reader { bytes, pos: 0 };
    let mut out = Vec::new();
    let Some(_version) = r.i16() else {
        return out;
    };
    let Some(topics) = r.i32() else {
        return out;
    };
    for _ in 0..topics.max(0) {
        let Some(name) = r.string() else {
            return out;
        };
        let Some(count) = r.i32() else {
            return out;
        };
        for _ in 0..count.max(0) {
            let Some(p) = r.i32() else {
                return out;
            };
            out.push((name.clone(), p));
        }
    }
    out.sort();
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn i16(&mut self) -> Option<i16> {
        self.take(2).map(|b| i16::from_be_bytes([b[0], b[1]]))
    }
    fn i32(&mut self) -> Option<i32> {
        self.take(4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Option<String> {
        let len = self.i16()?;
        let b = self.take(usize::try_from(len).ok()?)?;
        Some(String::from_utf8_lossy(b).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_consumer_protocol_assignment() {
        let mut b = vec![0, 1, 0, 0, 0, 2];
        for (name, parts) in [("orders", vec![0i32, 2]), ("x", vec![5])] {
            b.extend((name.len() as i16).to_be_bytes());
            b.extend(name.as_bytes());
            b.extend((parts.len() as i32).to_be_bytes());
            for p in parts {
                b.extend(p.to_be_bytes());
            }
        }
        b.extend((-1i32).to_be_bytes()); // null user data
        assert_eq!(
            decode_assignment(&b),
            vec![
                ("orders".to_string(), 0),
                ("orders".to_string(), 2),
                ("x".to_string(), 5)
            ]
        );
    }

    #[test]
    fn malformed_assignments_never_panic() {
        assert!(decode_assignment(&[]).is_empty());
        assert!(decode_assignment(&[0, 0, 0x7f, 0xff, 0xff, 0xff]).is_empty());
        assert_eq!(
            decode_assignment(&[0, 0, 0, 0, 0, 1, 0, 1, b'a', 0, 0, 0, 3, 0, 0, 0, 1]),
            vec![("a".to_string(), 1)]
        );
    }

    #[test]
    fn internal_topics_are_kafkas_and_the_platforms() {
        for t in [
            "__consumer_offsets",
            "_schemas",
            "_confluent-ksql-default__command_topic",
            "connect-offsets",
            "connect-configs",
            "connect-status",
        ] {
            assert!(is_internal(t), "{t}");
        }
        for t in [
            "orders",
            "connect-offsets-2",
            "my-connect-status",
            "a_b",
            "schemas_",
        ] {
            assert!(!is_internal(t), "{t}");
        }
    }
}
