//! Committed offsets: the in-memory table and its persistence in the compacted internal topic
//! `__consumer_offsets`, in Kafka's own record format so the topic reads the same as a real
//! cluster's. Every change is appended to the log before the table changes; on open the log is
//! replayed to rebuild the table. It knows nothing about group membership.
//!
//! Record format (big-endian, Kafka strings are an i16 length then UTF-8):
//! - key, version 1: `version: i16, group: string, topic: string, partition: i32`
//! - value, version 3: `version: i16, offset: i64, leader_epoch: i32, metadata: string,
//!   commit_timestamp: i64`; a null value (tombstone) deletes the key.
//!
//! Replay also reads value versions 0-2 and skips group-metadata keys (key version 2) and any
//! record it does not understand.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use sluice_log::keyed;
use sluice_log::{LogStore, SharedPartition};

use crate::error::Result;

/// The internal topic holding committed offsets.
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";

/// Key version of an offset commit record.
const OFFSET_KEY_VERSION: i16 = 1;
/// Value version written by this coordinator.
const OFFSET_VALUE_VERSION: i16 = 3;

/// One committed offset as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommittedOffset {
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: String,
    pub commit_timestamp: i64,
}

/// A change to the table: a commit, or a deletion (written as a tombstone).
#[derive(Debug, Clone)]
pub(crate) enum OffsetChange {
    Commit {
        group: String,
        topic: String,
        partition: i32,
        value: CommittedOffset,
    },
    Delete {
        group: String,
        topic: String,
        partition: i32,
    },
}

/// Offsets of one group, by (topic, partition).
pub(crate) type GroupOffsets = BTreeMap<(String, i32), CommittedOffset>;

/// The committed-offset table and the log it is persisted in.
pub(crate) struct OffsetStore {
    store: Arc<LogStore>,
    groups: HashMap<String, GroupOffsets>,
}

impl OffsetStore {
    /// Opens or creates `__consumer_offsets` and replays it.
    pub fn open(store: Arc<LogStore>) -> Result<OffsetStore> {
        let partition = offsets_partition(&store)?;
        let mut groups = HashMap::new();
        for record in keyed::replay_keyed(&partition)? {
            if let Some(change) = decode_record(record.key.as_deref(), record.value) {
                apply_change(&mut groups, change);
            }
        }
        let count: usize = groups.values().map(|g: &GroupOffsets| g.len()).sum();
        tracing::info!(
            groups = groups.len(),
            offsets = count,
            "loaded committed offsets"
        );
        Ok(OffsetStore { store, groups })
    }

    pub fn get(&self, group: &str, topic: &str, partition: i32) -> Option<&CommittedOffset> {
        self.groups.get(group)?.get(&(topic.to_string(), partition))
    }

    /// Every committed offset of a group.
    pub fn group(&self, group: &str) -> Option<&GroupOffsets> {
        self.groups.get(group)
    }

    pub fn has_group(&self, group: &str) -> bool {
        self.groups.contains_key(group)
    }

    pub fn group_ids(&self) -> impl Iterator<Item = &String> {
        self.groups.keys()
    }

    /// Persists `changes` (in one append) and then applies them to the table.
    pub fn apply(&mut self, changes: Vec<OffsetChange>) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let records: Vec<(Bytes, Option<Bytes>)> = changes
            .iter()
            .map(|c| match c {
                OffsetChange::Commit {
                    group,
                    topic,
                    partition,
                    value,
                } => (
                    encode_key(group, topic, *partition),
                    Some(encode_value(value)),
                ),
                OffsetChange::Delete {
                    group,
                    topic,
                    partition,
                } => (encode_key(group, topic, *partition), None),
            })
            .collect();
        self.append(records)?;
        for change in changes {
            apply_change(&mut self.groups, change);
        }
        Ok(())
    }

    /// Deletes every committed offset of a group.
    pub fn delete_group(&mut self, group: &str) -> Result<()> {
        let changes = match self.groups.get(group) {
            Some(offsets) => offsets
                .keys()
                .map(|(topic, partition)| OffsetChange::Delete {
                    group: group.to_string(),
                    topic: topic.clone(),
                    partition: *partition,
                })
                .collect(),
            None => Vec::new(),
        };
        self.apply(changes)?;
        self.groups.remove(group);
        Ok(())
    }

    /// Deletes every committed offset of a topic, in every group.
    pub fn delete_topic(&mut self, topic: &str) -> Result<()> {
        let mut changes = Vec::new();
        for (group, offsets) in &self.groups {
            for (t, partition) in offsets.keys() {
                if t == topic {
                    changes.push(OffsetChange::Delete {
                        group: group.clone(),
                        topic: t.clone(),
                        partition: *partition,
                    });
                }
            }
        }
        self.apply(changes)
    }

    fn append(&self, records: Vec<(Bytes, Option<Bytes>)>) -> Result<()> {
        keyed::append_keyed(&offsets_partition(&self.store)?, &records)?;
        Ok(())
    }
}

/// The single partition of `__consumer_offsets`, creating the topic if it does not exist.
fn offsets_partition(store: &LogStore) -> Result<SharedPartition> {
    // Kafka's offsets.topic.segment.bytes: small segments get compacted, which keeps the
    // replay at start-up short.
    Ok(keyed::open_internal_topic(
        store,
        OFFSETS_TOPIC,
        &[
            ("cleanup.policy", "compact"),
            ("segment.bytes", "104857600"),
        ],
    )?)
}

fn apply_change(groups: &mut HashMap<String, GroupOffsets>, change: OffsetChange) {
    match change {
        OffsetChange::Commit {
            group,
            topic,
            partition,
            value,
        } => {
            groups
                .entry(group)
                .or_default()
                .insert((topic, partition), value);
        }
        OffsetChange::Delete {
            group,
            topic,
            partition,
        } => {
            if let Some(offsets) = groups.get_mut(&group) {
                offsets.remove(&(topic, partition));
                if offsets.is_empty() {
                    groups.remove(&group);
                }
            }
        }
    }
}

fn put_string(buf: &mut BytesMut, s: &str) {
    let len = s.len().min(i16::MAX as usize);
    buf.put_i16(len as i16);
    buf.put_slice(&s.as_bytes()[..len]);
}

pub(crate) fn encode_key(group: &str, topic: &str, partition: i32) -> Bytes {
    let mut buf = BytesMut::with_capacity(2 + 2 + group.len() + 2 + topic.len() + 4);
    buf.put_i16(OFFSET_KEY_VERSION);
    put_string(&mut buf, group);
    put_string(&mut buf, topic);
    buf.put_i32(partition);
    buf.freeze()
}

pub(crate) fn encode_value(value: &CommittedOffset) -> Bytes {
    let mut buf = BytesMut::with_capacity(2 + 8 + 4 + 2 + value.metadata.len() + 8);
    buf.put_i16(OFFSET_VALUE_VERSION);
    buf.put_i64(value.offset);
    buf.put_i32(value.leader_epoch);
    put_string(&mut buf, &value.metadata);
    buf.put_i64(value.commit_timestamp);
    buf.freeze()
}

/// A cursor over a record's bytes that fails softly on truncation.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn i16(&mut self) -> Option<i16> {
        (self.0.remaining() >= 2).then(|| self.0.get_i16())
    }
    fn i32(&mut self) -> Option<i32> {
        (self.0.remaining() >= 4).then(|| self.0.get_i32())
    }
    fn i64(&mut self) -> Option<i64> {
        (self.0.remaining() >= 8).then(|| self.0.get_i64())
    }
    /// A nullable Kafka string; null reads as empty.
    fn string(&mut self) -> Option<String> {
        let len = self.i16()?;
        if len < 0 {
            return Some(String::new());
        }
        let len = len as usize;
        if self.0.remaining() < len {
            return None;
        }
        let s = String::from_utf8(self.0[..len].to_vec()).ok()?;
        self.0.advance(len);
        Some(s)
    }
}

/// Decodes one `__consumer_offsets` record; None for records that are not offset commits
/// (group metadata) or that cannot be parsed.
pub(crate) fn decode_record(key: Option<&[u8]>, value: Option<Bytes>) -> Option<OffsetChange> {
    let mut k = Reader(key?);
    let key_version = k.i16()?;
    if !(0..=1).contains(&key_version) {
        return None;
    }
    let group = k.string()?;
    let topic = k.string()?;
    let partition = k.i32()?;
    let Some(value) = value else {
        return Some(OffsetChange::Delete {
            group,
            topic,
            partition,
        });
    };
    let mut v = Reader(&value);
    let value_version = v.i16()?;
    let committed = match value_version {
        0..=2 => {
            let offset = v.i64()?;
            let metadata = v.string()?;
            let commit_timestamp = v.i64()?;
            CommittedOffset {
                offset,
                leader_epoch: -1,
                metadata,
                commit_timestamp,
            }
        }
        3 => {
            let offset = v.i64()?;
            let leader_epoch = v.i32()?;
            let metadata = v.string()?;
            let commit_timestamp = v.i64()?;
            CommittedOffset {
                offset,
                leader_epoch,
                metadata,
                commit_timestamp,
            }
        }
        _ => {
            tracing::warn!(
                version = value_version,
                "skipping offset record of unknown value version"
            );
            return None;
        }
    };
    Some(OffsetChange::Commit {
        group,
        topic,
        partition,
        value: committed,
    })
}
