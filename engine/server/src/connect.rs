//! The Connect surface: the connector runtime's [`GroupOffsets`] over the broker's group
//! coordinator in-process (sink tasks commit as the group `connect-<name>` with Kafka's
//! "simple" commits, generation -1, so Kafka clients see the group and its lag like any
//! other), and the start of the worker with Connect's REST API on the Connect port (8083).
//! It owns wiring only: the runtime is sluice-connect.

use std::sync::Arc;

use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::{GroupId, OffsetCommitRequest, OffsetDeleteRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use sluice_broker::Broker;
use sluice_connect::{ConnectError, GroupOffsets};

/// OffsetCommit version used for the in-process commits (before topic ids).
const OFFSET_COMMIT_VERSION: i16 = 8;

/// Sink offsets kept by the broker's group coordinator (`__consumer_offsets`).
pub struct BrokerGroupOffsets {
    pub broker: Arc<Broker>,
}

fn name(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

/// Groups (topic, partition, x) by topic, in order of first appearance.
fn by_topic<T: Copy>(items: &[(String, i32, T)]) -> Vec<(String, Vec<(i32, T)>)> {
    let mut out: Vec<(String, Vec<(i32, T)>)> = Vec::new();
    for (t, p, x) in items {
        match out.iter_mut().find(|(n, _)| n == t) {
            Some((_, v)) => v.push((*p, *x)),
            None => out.push((t.clone(), vec![(*p, *x)])),
        }
    }
    out
}

impl GroupOffsets for BrokerGroupOffsets {
    fn commit(
        &self,
        group: &str,
        offsets: &[(String, i32, i64)],
        metadata: &str,
    ) -> sluice_connect::Result<()> {
        if offsets.is_empty() {
            return Ok(());
        }
        let topics = by_topic(offsets)
            .into_iter()
            .map(|(t, parts)| {
                OffsetCommitRequestTopic::default()
                    .with_name(TopicName(name(&t)))
                    .with_partitions(
                        parts
                            .into_iter()
                            .map(|(p, o)| {
                                OffsetCommitRequestPartition::default()
                                    .with_partition_index(p)
                                    .with_committed_offset(o)
                                    .with_committed_leader_epoch(-1)
                                    .with_committed_metadata(Some(name(metadata)))
                            })
                            .collect(),
                    )
            })
            .collect();
        let req = OffsetCommitRequest::default()
            .with_group_id(GroupId(name(group)))
            .with_generation_id_or_member_epoch(-1)
            .with_member_id(StrBytes::new())
            .with_topics(topics);
        let resp = self.broker.groups.offset_commit(req, OFFSET_COMMIT_VERSION);
        for t in &resp.topics {
            for p in &t.partitions {
                if p.error_code != 0 {
                    return Err(ConnectError::Internal(format!(
                        "committing {group} offsets of {}-{}: Kafka error code {}",
                        t.name.0.as_str(),
                        p.partition_index,
                        p.error_code
                    )));
                }
            }
        }
        Ok(())
    }

    fn committed(&self, group: &str, topic: &str, partition: i32) -> Option<(i64, String)> {
        self.broker
            .groups
            .committed_with_metadata(group, topic, partition)
    }

    fn delete(&self, group: &str, partitions: &[(String, i32)]) -> sluice_connect::Result<()> {
        if partitions.is_empty() {
            return Ok(());
        }
        let items: Vec<(String, i32, ())> = partitions
            .iter()
            .map(|(t, p)| (t.clone(), *p, ()))
            .collect();
        let topics = by_topic(&items)
            .into_iter()
            .map(|(t, parts)| {
                OffsetDeleteRequestTopic::default()
                    .with_name(TopicName(name(&t)))
                    .with_partitions(
                        parts
                            .into_iter()
                            .map(|(p, _)| {
                                OffsetDeleteRequestPartition::default().with_partition_index(p)
                            })
                            .collect(),
                    )
            })
            .collect();
        let req = OffsetDeleteRequest::default()
            .with_group_id(GroupId(name(group)))
            .with_topics(topics);
        let resp = self.broker.groups.offset_delete(req, 0);
        if resp.error_code != 0 {
            return Err(ConnectError::Internal(format!(
                "deleting {group} offsets: Kafka error code {}",
                resp.error_code
            )));
        }
        Ok(())
    }
}
