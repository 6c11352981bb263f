//! The log's one error type. Callers (the broker) map these to Kafka error codes in one place.

use std::io;

/// Everything that can go wrong in the log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    #[error("corrupt record batch: {0}")]
    CorruptBatch(&'static str),
    /// A well-formed batch whose records contradict its header (Kafka: INVALID_RECORD).
    #[error("invalid record batch: {0}")]
    InvalidBatch(&'static str),
    #[error("unsupported record format (magic {0}); only v2 record batches are stored")]
    UnsupportedMagic(i8),
    #[error("out of order sequence for producer {producer_id}: expected {expected}, got {got}")]
    OutOfOrderSequence {
        producer_id: i64,
        expected: i32,
        got: i32,
    },
    #[error("producer {producer_id} epoch {got} is older than current epoch {current}")]
    ProducerFenced {
        producer_id: i64,
        current: i16,
        got: i16,
    },
    #[error("offset {offset} out of range [{start}, {end}]")]
    OffsetOutOfRange { offset: i64, start: i64, end: i64 },
    #[error("record batch of {size} bytes exceeds max.message.bytes {max}")]
    RecordTooLarge { size: usize, max: usize },
    #[error("topic {0} already exists")]
    TopicExists(String),
    #[error("unknown topic {0}")]
    UnknownTopic(String),
    #[error("invalid topic name: {0}")]
    InvalidTopic(String),
    #[error("invalid config {key}={value}: {reason}")]
    InvalidConfig {
        key: String,
        value: String,
        reason: &'static str,
    },
    #[error("invalid partition count: {0}")]
    InvalidPartitions(String),
    #[error("unsupported on-disk format version {found} in {path} (this build reads {supported})")]
    FormatVersion {
        path: String,
        found: u32,
        supported: u32,
    },
    #[error("the log is poisoned after a failed fsync and refuses writes: {0}")]
    Poisoned(String),
    #[error("metadata file {path} is unreadable: {reason}")]
    BadMetadata { path: String, reason: String },
}

pub type Result<T, E = LogError> = std::result::Result<T, E>;
