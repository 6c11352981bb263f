//! sluice-log: the partitioned, segmented, crash-safe commit log, the only storage of Sluice.
//!
//! It owns the data directory: topics, partitions, segments (Kafka v2 record batches stored
//! byte for byte), indexes, retention, compaction and recovery. It knows nothing of the Kafka
//! wire protocol beyond the record batch format, and never touches the network.
//!
//! Durability: an append returns once its bytes are written to the OS (a process kill loses
//! nothing acknowledged); a background thread group-commits fsyncs on an interval and records
//! the recovery point. On open, everything after the recovery point is CRC-checked and a torn
//! tail is cut off.

pub mod batch;
pub mod config;
pub mod error;
pub mod keyed;
pub mod partition;
pub mod partitioner;
pub mod producer_state;
pub mod segment;
pub mod store;

pub use config::{TopicConfig, TOPIC_CONFIGS};
pub use error::{LogError, Result};
pub use partition::{AppendInfo, PartitionLog};
pub use store::{now_ms, LogStore, SharedPartition, Topic};
