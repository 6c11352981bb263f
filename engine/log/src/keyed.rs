//! Keyed internal topics: what the group coordinator (`__consumer_offsets`), the schema
//! registry (`_schemas`) and the connector runtime (`connect-*`) share. Opens (creating if
//! needed) a single-partition topic with the caller's config, appends key/value records as
//! ordinary v2 batches, and replays a partition's records in offset order. The records are
//! what any Kafka client would read from the topic. It never interprets keys or values.

use bytes::{Bytes, BytesMut};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{Compression, Record, RecordBatchDecoder, TimestampType};

use crate::error::{LogError, Result};
use crate::store::{now_ms, LogStore, SharedPartition};
use crate::TopicConfig;

/// Records per encoded batch, so one large append never makes a batch over the size limit.
const RECORDS_PER_BATCH: usize = 500;
/// Bytes read per step while replaying.
const REPLAY_READ_BYTES: usize = 1 << 20;

/// One record read back: its offset, key and value (None is a tombstone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedRecord {
    pub offset: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
}

/// Partition 0 of the internal topic `name`, created with `config` if it does not exist.
pub fn open_internal_topic(
    store: &LogStore,
    name: &str,
    config: &[(&str, &str)],
) -> Result<SharedPartition> {
    let topic = match store.topic(name) {
        Some(t) => t,
        None => {
            let config = TopicConfig::from_overrides(config.iter().copied())?;
            match store.create_topic(name, 1, config, false) {
                Ok(Some(t)) => t,
                // Lost a race with another creator: look it up.
                Ok(None) | Err(LogError::TopicExists(_)) => store.topic(name).ok_or(
                    LogError::CorruptBatch("internal topic vanished while opening"),
                )?,
                Err(e) => return Err(e),
            }
        }
    };
    topic
        .partition(0)
        .ok_or(LogError::CorruptBatch("internal topic has no partition 0"))
}

/// Appends `records` (key, value-or-tombstone) in one write; returns the first offset.
pub fn append_keyed(
    partition: &SharedPartition,
    records: &[(Bytes, Option<Bytes>)],
) -> Result<i64> {
    let now = now_ms();
    append_records(
        partition,
        records
            .iter()
            .map(|(key, value)| (Some(key.clone()), value.clone(), now, Vec::new())),
    )
}

/// One record with its timestamp, as the SQL engine reads topics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedRecord {
    pub offset: i64,
    pub timestamp: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    /// The record's headers in order (key, value; a header value may be null).
    pub headers: Vec<(String, Option<Bytes>)>,
}

/// Appends records with their own timestamps and optional keys in one write; returns the
/// first offset.
pub fn append_timed(
    partition: &SharedPartition,
    records: &[(Option<Bytes>, Option<Bytes>, i64)],
) -> Result<i64> {
    append_records(
        partition,
        records
            .iter()
            .map(|(k, v, t)| (k.clone(), v.clone(), *t, Vec::new())),
    )
}

/// A record header: name and optional value.
pub type Header = (String, Option<Bytes>);

/// A record with its headers: the same as [`TimedRecord`].
pub type HeadedRecord = TimedRecord;

/// A record to append: key, value, timestamp, headers.
pub type OutRecord = (Option<Bytes>, Option<Bytes>, i64, Vec<Header>);

/// Appends records (key, value, timestamp, headers) in one write; returns the first offset.
pub fn append_headed(partition: &SharedPartition, records: &[OutRecord]) -> Result<i64> {
    append_records(partition, records.iter().cloned())
}

/// Encodes (key, value, timestamp, headers) records as uncompressed v2 batches of at most
/// [`RECORDS_PER_BATCH`] and appends them in one write; returns the first offset.
fn append_records(
    partition: &SharedPartition,
    records: impl Iterator<Item = OutRecord>,
) -> Result<i64> {
    let mut buf = BytesMut::new();
    let mut batch: Vec<Record> = Vec::with_capacity(RECORDS_PER_BATCH);
    for (key, value, timestamp, headers) in records {
        batch.push(Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: batch.len() as i64,
            sequence: -1,
            timestamp,
            key,
            value,
            headers: headers
                .into_iter()
                .map(|(k, v)| (StrBytes::from_string(k), v))
                .collect(),
        });
        if batch.len() == RECORDS_PER_BATCH {
            crate::batch::encode_records(&mut buf, &mut batch, Compression::None)?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        crate::batch::encode_records(&mut buf, &mut batch, Compression::None)?;
    }
    let info = partition.lock().append(&mut buf, now_ms())?;
    Ok(info.base_offset)
}

fn decode_chunk(chunk: &Bytes, from: i64) -> std::result::Result<Vec<TimedRecord>, String> {
    let mut buf = chunk.clone();
    let sets = RecordBatchDecoder::decode_all(&mut buf).map_err(|e| e.to_string())?;
    Ok(sets
        .into_iter()
        .flat_map(|s| s.records)
        .filter(|r| !r.control && r.offset >= from)
        .map(|r| TimedRecord {
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key,
            value: r.value,
            headers: r
                .headers
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        })
        .collect())
}

/// [`read_timed`] under the name the connector runtime uses (records carry their headers).
pub fn read_headed(
    partition: &SharedPartition,
    from: i64,
    max_bytes: usize,
) -> Result<Vec<HeadedRecord>> {
    read_timed(partition, from, max_bytes)
}

/// The data records at offsets ≥ `from`, reading about `max_bytes` (whole batches; at least
/// one when there is any). Empty at the log end. Control records are skipped.
pub fn read_timed(
    partition: &SharedPartition,
    from: i64,
    max_bytes: usize,
) -> Result<Vec<TimedRecord>> {
    let chunk = partition.lock().read(from, max_bytes)?;
    if chunk.is_empty() {
        return Ok(Vec::new());
    }
    match decode_chunk(&chunk, from) {
        Ok(records) => Ok(records),
        Err(e) => {
            // Skip past what does not decode, so a reader is never stuck on it.
            let headers = crate::batch::split_batches(&chunk)?;
            tracing::warn!(offset = from, error = %e, "skipping undecodable batches");
            Ok(headers
                .last()
                .map(|(_, h)| TimedRecord {
                    offset: h.last_offset(),
                    timestamp: -1,
                    key: None,
                    value: None,
                    headers: Vec::new(),
                })
                .into_iter()
                .collect())
        }
    }
}

/// Every data record of the partition from its log start, in offset order. Batches that do
/// not decode are skipped with a warning (they cannot have come from this module).
pub fn replay_keyed(partition: &SharedPartition) -> Result<Vec<KeyedRecord>> {
    let (mut next, end) = {
        let log = partition.lock();
        (log.log_start_offset(), log.log_end_offset())
    };
    let mut out = Vec::new();
    while next < end {
        let chunk = partition.lock().read(next, REPLAY_READ_BYTES)?;
        if chunk.is_empty() {
            break;
        }
        let headers = crate::batch::split_batches(&chunk)?;
        let Some(after) = headers.last().map(|(_, h)| h.last_offset() + 1) else {
            break;
        };
        match decode_chunk(&chunk, next) {
            Ok(records) => out.extend(records.into_iter().map(|r| KeyedRecord {
                offset: r.offset,
                key: r.key,
                value: r.value,
            })),
            Err(e) => {
                tracing::warn!(offset = next, error = %e, "skipping undecodable batches while replaying");
            }
        }
        if after <= next {
            break;
        }
        next = after;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_then_replay_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = LogStore::open(dir.path()).unwrap();
            let p =
                open_internal_topic(&store, "_things", &[("cleanup.policy", "compact")]).unwrap();
            let first = append_keyed(
                &p,
                &[
                    (Bytes::from_static(b"a"), Some(Bytes::from_static(b"1"))),
                    (Bytes::from_static(b"b"), None),
                ],
            )
            .unwrap();
            assert_eq!(first, 0);
            store.flush_all().unwrap();
        }
        let store = LogStore::open(dir.path()).unwrap();
        assert_eq!(
            store
                .topic("_things")
                .unwrap()
                .config()
                .get("cleanup.policy"),
            Some("compact")
        );
        let p = open_internal_topic(&store, "_things", &[]).unwrap();
        let got = replay_keyed(&p).unwrap();
        assert_eq!(
            got,
            vec![
                KeyedRecord {
                    offset: 0,
                    key: Some(Bytes::from_static(b"a")),
                    value: Some(Bytes::from_static(b"1"))
                },
                KeyedRecord {
                    offset: 1,
                    key: Some(Bytes::from_static(b"b")),
                    value: None
                },
            ]
        );
    }
}
