//! sluice-broker: the Kafka wire-protocol server over the Sluice log.
//!
//! It owns connections, request dispatch (one handler module per Kafka API family), topic
//! administration, the group coordinator and producer-id allocation. Codecs come from the
//! `kafka-protocol` crate with versions always explicit; storage is `sluice-log`. It never
//! parses record contents on the produce/fetch path: batches pass through as bytes.

pub mod apis;
pub mod coordinator;
pub mod error;
mod handlers;
pub mod producer_ids;
pub mod server;

use std::sync::Arc;
use std::time::Duration;

use sluice_log::{LogStore, Topic};
use tokio::sync::watch;

pub use error::{BrokerError, Result};

/// Settings of one broker.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    pub node_id: i32,
    /// Host and port written into Metadata / FindCoordinator answers.
    pub advertised_host: String,
    pub advertised_port: i32,
    /// Create a topic when a client asks Metadata about it (on by default, as in a dev Kafka).
    pub auto_create_topics: bool,
    /// Partitions of an auto-created topic (`num.partitions`).
    pub default_partitions: i32,
    /// Largest request frame accepted (`socket.request.max.bytes`).
    pub max_request_bytes: usize,
    pub max_connections: usize,
    pub initial_rebalance_delay: Duration,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            node_id: 1,
            advertised_host: "127.0.0.1".into(),
            advertised_port: 9092,
            auto_create_topics: true,
            default_partitions: 1,
            max_request_bytes: 100 * 1024 * 1024,
            max_connections: 1024,
            initial_rebalance_delay: Duration::from_millis(300),
        }
    }
}

/// The broker's shared state, one per process.
pub struct Broker {
    pub config: BrokerConfig,
    pub store: Arc<LogStore>,
    pub groups: Arc<coordinator::GroupCoordinator>,
    pub producer_ids: producer_ids::ProducerIdAllocator,
    pub cluster_id: String,
    /// Bumped after every append, so long-polling fetches wake up.
    appended: watch::Sender<u64>,
}

impl Broker {
    /// Builds the broker over an opened log store. Call inside a tokio runtime.
    pub fn new(config: BrokerConfig, store: Arc<LogStore>) -> Result<Arc<Broker>> {
        let groups = coordinator::GroupCoordinator::open(
            store.clone(),
            coordinator::CoordinatorSettings {
                initial_rebalance_delay: config.initial_rebalance_delay,
                ..Default::default()
            },
        )?;
        groups.start();
        let producer_ids = producer_ids::ProducerIdAllocator::open(store.root())?;
        let cluster_id = producer_ids::cluster_id(store.root())?;
        let (appended, _) = watch::channel(0);
        Ok(Arc::new(Broker {
            config,
            store,
            groups,
            producer_ids,
            cluster_id,
            appended,
        }))
    }

    /// Wakes long-polling fetches: produce calls it, and so do in-process writers that append
    /// to the log directly (the connector runtime).
    pub fn notify_appended(&self) {
        self.appended.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub(crate) fn subscribe_appends(&self) -> watch::Receiver<u64> {
        self.appended.subscribe()
    }

    pub(crate) fn topic_by_id(&self, id: &uuid::Uuid) -> Option<Arc<Topic>> {
        let bytes = id.as_bytes();
        self.store.topics().into_iter().find(|t| &t.id == bytes)
    }
}
