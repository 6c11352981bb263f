//! The engine's only door to topics: the [`StreamIo`] trait (read records of a partition from
//! an offset, with their headers, append records, create/describe topics, keep query offsets). The server
//! implements it over Sluice's log in-process; the engine never does network or file I/O.

use crate::error::SqlError;

/// One record read from a topic.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InRecord {
    pub offset: i64,
    pub timestamp: i64,
    /// Shared with the log's read buffer (no copy per record).
    pub key: Option<bytes::Bytes>,
    pub value: Option<bytes::Bytes>,
    /// The record's headers in order (HEADERS / HEADER('key') columns read them).
    pub headers: Vec<(String, Option<bytes::Bytes>)>,
}

/// One record to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutRecord {
    pub timestamp: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
}

/// Topic access. Calls are short (in-process log operations) and may be made from async code.
pub trait StreamIo: Send + Sync + 'static {
    /// Partition count, or None when the topic does not exist.
    fn partitions(&self, topic: &str) -> Result<Option<i32>, SqlError>;
    /// Creates a topic (no error when it exists). `compact` sets `cleanup.policy=compact`.
    fn create_topic(&self, topic: &str, partitions: i32, compact: bool) -> Result<(), SqlError>;
    fn delete_topic(&self, topic: &str) -> Result<(), SqlError>;
    /// Names of the topics clients can see.
    fn topics(&self) -> Result<Vec<(String, i32)>, SqlError>;
    /// (log start, log end) of a partition.
    fn offsets(&self, topic: &str, partition: i32) -> Result<(i64, i64), SqlError>;
    /// Records at offsets ≥ `from`, up to about `max_bytes` (at least one batch when any).
    fn read(
        &self,
        topic: &str,
        partition: i32,
        from: i64,
        max_bytes: usize,
    ) -> Result<Vec<InRecord>, SqlError>;
    fn append(&self, topic: &str, partition: i32, records: &[OutRecord]) -> Result<(), SqlError>;
}
