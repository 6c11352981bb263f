//! The classic consumer-group coordinator: group membership and rebalances (JoinGroup,
//! SyncGroup, Heartbeat, LeaveGroup), committed offsets (OffsetCommit, OffsetFetch,
//! OffsetDelete, persisted in `__consumer_offsets`) and group administration (ListGroups,
//! DescribeGroups, DeleteGroups).
//!
//! It never touches sockets or request framing (the caller decodes requests and encodes the
//! responses built here, at the version it passes in), never assigns partitions (the group
//! leader's client does), never holds a lock across an `.await`, and does not implement the
//! new consumer protocol (ConsumerGroupHeartbeat) or transactional offset commits.
//!
//! Layout: `group.rs` is one group's state machine, `offsets.rs` the committed-offset table and
//! its log; this file maps requests of every supported version onto them.
//!
//! Locks: `groups` before `offsets` whenever both are held.

mod group;
mod offsets;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{
    DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest, DescribeGroupsResponse,
    GroupId, HeartbeatRequest, HeartbeatResponse, JoinGroupRequest, JoinGroupResponse,
    LeaveGroupRequest, LeaveGroupResponse, ListGroupsRequest, ListGroupsResponse,
    OffsetCommitRequest, OffsetCommitResponse, OffsetDeleteRequest, OffsetDeleteResponse,
    OffsetFetchRequest, OffsetFetchResponse, SyncGroupRequest, SyncGroupResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use parking_lot::Mutex;
use sluice_log::{LogError, LogStore};

use crate::error::{BrokerError, Result};
use group::{Group, GroupState, JoinOutcome, JoinParams, Reply, SyncOutcome, SyncParams};
use offsets::{CommittedOffset, OffsetChange, OffsetStore};

pub use offsets::OFFSETS_TOPIC;

/// How often the timer task looks at every group.
const TICK: Duration = Duration::from_millis(20);
/// An Empty group without committed offsets is forgotten after this long.
const EMPTY_GROUP_RETENTION: Duration = Duration::from_secs(600);
/// Kafka's `offset.metadata.max.bytes`.
const MAX_OFFSET_METADATA_BYTES: usize = 4096;
/// Operations a client may do on a group (READ, DELETE, DESCRIBE as Kafka's AclOperation bits),
/// reported when DescribeGroups asks for authorized operations; there are no ACLs here.
const GROUP_AUTHORIZED_OPERATIONS: i32 = (1 << 3) | (1 << 6) | (1 << 8);
/// The group type of every group of this coordinator (ListGroups v5).
const CLASSIC_GROUP_TYPE: &str = "classic";
/// Protocol type shown for a group known only from its committed offsets.
const CONSUMER_PROTOCOL_TYPE: &str = "consumer";

/// Committed offsets of one topic's partitions; None where nothing is committed.
type PartitionOffsets = Vec<(i32, Option<CommittedOffset>)>;

/// Coordinator settings (Kafka's `group.*` broker configs).
#[derive(Debug, Clone)]
pub struct CoordinatorSettings {
    /// `group.initial.rebalance.delay.ms`: how long the first rebalance of an Empty group waits
    /// for more members (extended by each new member, within the rebalance timeout).
    pub initial_rebalance_delay: Duration,
    /// `group.min.session.timeout.ms`.
    pub min_session_timeout_ms: i32,
    /// `group.max.session.timeout.ms`.
    pub max_session_timeout_ms: i32,
}

impl Default for CoordinatorSettings {
    fn default() -> Self {
        CoordinatorSettings {
            initial_rebalance_delay: Duration::from_millis(300),
            min_session_timeout_ms: 6000,
            max_session_timeout_ms: 1_800_000,
        }
    }
}

/// The group coordinator of one broker: every group lives here.
pub struct GroupCoordinator {
    settings: CoordinatorSettings,
    store: Arc<LogStore>,
    groups: Mutex<HashMap<String, Group>>,
    offsets: Mutex<OffsetStore>,
    started: AtomicBool,
}

fn str_bytes(s: impl Into<String>) -> StrBytes {
    StrBytes::from_string(s.into())
}

/// The error code an offset write failure becomes (as Kafka maps its append errors).
fn commit_error_code(e: &BrokerError) -> i16 {
    match e {
        BrokerError::Log(LogError::RecordTooLarge { .. }) => {
            ResponseError::InvalidCommitOffsetSize.code()
        }
        _ => ResponseError::CoordinatorNotAvailable.code(),
    }
}

impl GroupCoordinator {
    /// Opens or creates the internal compacted topic `__consumer_offsets` (1 partition,
    /// cleanup.policy=compact) and replays it to rebuild committed offsets.
    pub fn open(store: Arc<LogStore>, settings: CoordinatorSettings) -> Result<Arc<Self>> {
        let offsets = OffsetStore::open(store.clone())?;
        Ok(Arc::new(GroupCoordinator {
            settings,
            store,
            groups: Mutex::new(HashMap::new()),
            offsets: Mutex::new(offsets),
            started: AtomicBool::new(false),
        }))
    }

    /// Spawns the tokio task that completes rebalances and expires members (session timeouts).
    /// Call inside a tokio runtime. The task ends when the coordinator is dropped.
    pub fn start(self: &Arc<Self>) {
        if self.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let weak: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(TICK);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let Some(coordinator) = weak.upgrade() else {
                    break;
                };
                coordinator.tick(Instant::now());
            }
        });
    }

    /// One round of timers: session expiry, rebalance and sync deadlines, forgetting groups
    /// that have been Empty (with no offsets) for a long time.
    fn tick(&self, now: Instant) {
        let mut groups = self.groups.lock();
        let mut forgettable = Vec::new();
        for (id, group) in groups.iter_mut() {
            group.tick(now);
            if group
                .empty_for(now)
                .is_some_and(|d| d > EMPTY_GROUP_RETENTION)
            {
                forgettable.push(id.clone());
            }
        }
        if !forgettable.is_empty() {
            let offsets = self.offsets.lock();
            for id in forgettable {
                if !offsets.has_group(&id) {
                    groups.remove(&id);
                }
            }
        }
    }

    fn session_timeout_ok(&self, ms: i32) -> bool {
        (self.settings.min_session_timeout_ms..=self.settings.max_session_timeout_ms).contains(&ms)
    }

    // ---- JoinGroup ----

    pub async fn join_group(
        &self,
        req: JoinGroupRequest,
        version: i16,
        client_id: &str,
        client_host: &str,
    ) -> JoinGroupResponse {
        let member_id = req.member_id.to_string();
        let outcome = match self.begin_join(req, version, client_id, client_host) {
            Reply::Now(outcome) => outcome,
            Reply::Later(rx) => rx.await.unwrap_or_else(|_| {
                JoinOutcome::error(ResponseError::CoordinatorNotAvailable, &member_id)
            }),
        };
        join_response(outcome, version)
    }

    fn begin_join(
        &self,
        req: JoinGroupRequest,
        version: i16,
        client_id: &str,
        client_host: &str,
    ) -> Reply<JoinOutcome> {
        let group_id = req.group_id.0.to_string();
        let member_id = req.member_id.to_string();
        if group_id.is_empty() {
            return Reply::Now(JoinOutcome::error(
                ResponseError::InvalidGroupId,
                &member_id,
            ));
        }
        if !self.session_timeout_ok(req.session_timeout_ms) {
            return Reply::Now(JoinOutcome::error(
                ResponseError::InvalidSessionTimeout,
                &member_id,
            ));
        }
        let session_timeout = Duration::from_millis(req.session_timeout_ms as u64);
        // v0 has no rebalance timeout: Kafka uses the session timeout.
        let rebalance_timeout = if version >= 1 && req.rebalance_timeout_ms > 0 {
            Duration::from_millis(req.rebalance_timeout_ms as u64)
        } else {
            session_timeout
        };
        let params = JoinParams {
            member_id: member_id.clone(),
            instance_id: req
                .group_instance_id
                .filter(|_| version >= 5)
                .map(|s| s.to_string()),
            client_id: client_id.to_string(),
            client_host: client_host.to_string(),
            session_timeout,
            rebalance_timeout,
            protocol_type: req.protocol_type.to_string(),
            protocols: req
                .protocols
                .into_iter()
                .map(|p| (p.name.to_string(), p.metadata))
                .collect(),
        };
        if let Some(reason) = req.reason.filter(|_| version >= 8) {
            tracing::debug!(group = %group_id, member = %member_id, reason = %reason, "join");
        }
        let now = Instant::now();
        let mut groups = self.groups.lock();
        if !member_id.is_empty() && !groups.contains_key(&group_id) {
            return Reply::Now(JoinOutcome::error(
                ResponseError::UnknownMemberId,
                &member_id,
            ));
        }
        let delay = self.settings.initial_rebalance_delay;
        let group = groups
            .entry(group_id.clone())
            .or_insert_with(|| Group::new(&group_id, delay, now));
        let reply = group.join(params, now);
        // A group created by a join that failed at once holds nothing: do not keep it.
        if matches!(&reply, Reply::Now(o) if o.error != 0)
            && !group.has_members()
            && group.protocol_type().is_none()
        {
            groups.remove(&group_id);
        }
        reply
    }

    // ---- SyncGroup ----

    pub async fn sync_group(&self, req: SyncGroupRequest, version: i16) -> SyncGroupResponse {
        let outcome = match self.begin_sync(req, version) {
            Reply::Now(outcome) => outcome,
            Reply::Later(rx) => rx
                .await
                .unwrap_or_else(|_| SyncOutcome::error(ResponseError::CoordinatorNotAvailable)),
        };
        let mut resp = SyncGroupResponse::default()
            .with_error_code(outcome.error)
            .with_assignment(outcome.assignment);
        if version >= 5 && outcome.error == 0 {
            resp.protocol_type = outcome.protocol_type.map(str_bytes);
            resp.protocol_name = outcome.protocol_name.map(str_bytes);
        }
        resp
    }

    fn begin_sync(&self, req: SyncGroupRequest, version: i16) -> Reply<SyncOutcome> {
        let group_id = req.group_id.0.to_string();
        let params = SyncParams {
            member_id: req.member_id.to_string(),
            instance_id: req
                .group_instance_id
                .filter(|_| version >= 3)
                .map(|s| s.to_string()),
            generation: req.generation_id,
            protocol_type: req
                .protocol_type
                .filter(|_| version >= 5)
                .map(|s| s.to_string()),
            protocol_name: req
                .protocol_name
                .filter(|_| version >= 5)
                .map(|s| s.to_string()),
            assignments: req
                .assignments
                .into_iter()
                .map(|a| (a.member_id.to_string(), a.assignment))
                .collect(),
        };
        let mut groups = self.groups.lock();
        match groups.get_mut(&group_id) {
            Some(group) => group.sync(params, Instant::now()),
            None => Reply::Now(SyncOutcome::error(ResponseError::UnknownMemberId)),
        }
    }

    // ---- Heartbeat ----

    pub fn heartbeat(&self, req: HeartbeatRequest, version: i16) -> HeartbeatResponse {
        let instance_id = req
            .group_instance_id
            .as_ref()
            .filter(|_| version >= 3)
            .map(|s| s.as_str());
        let mut groups = self.groups.lock();
        let code = match groups.get_mut(req.group_id.0.as_str()) {
            Some(group) => group.heartbeat(
                req.member_id.as_str(),
                instance_id,
                req.generation_id,
                Instant::now(),
            ),
            None => ResponseError::UnknownMemberId.code(),
        };
        HeartbeatResponse::default().with_error_code(code)
    }

    // ---- LeaveGroup ----

    pub fn leave_group(&self, req: LeaveGroupRequest, version: i16) -> LeaveGroupResponse {
        let leaving: Vec<(String, Option<String>)> = if version >= 3 {
            req.members
                .iter()
                .map(|m| {
                    (
                        m.member_id.to_string(),
                        m.group_instance_id.as_ref().map(|s| s.to_string()),
                    )
                })
                .collect()
        } else {
            vec![(req.member_id.to_string(), None)]
        };
        let now = Instant::now();
        let mut groups = self.groups.lock();
        let group = groups.get_mut(req.group_id.0.as_str());
        let codes: Vec<i16> = match group {
            Some(group) => leaving
                .iter()
                .map(|(member, instance)| group.leave(member, instance.as_deref(), now))
                .collect(),
            None => vec![ResponseError::UnknownMemberId.code(); leaving.len()],
        };
        drop(groups);
        let mut resp = LeaveGroupResponse::default();
        if version >= 3 {
            resp.members = leaving
                .into_iter()
                .zip(codes)
                .map(|((member_id, instance_id), code)| {
                    MemberResponse::default()
                        .with_member_id(str_bytes(member_id))
                        .with_group_instance_id(instance_id.map(str_bytes))
                        .with_error_code(code)
                })
                .collect();
        } else {
            resp.error_code = codes.first().copied().unwrap_or(0);
        }
        resp
    }

    // ---- OffsetCommit ----

    pub fn offset_commit(&self, req: OffsetCommitRequest, version: i16) -> OffsetCommitResponse {
        let group_id = req.group_id.0.to_string();
        let instance_id = req
            .group_instance_id
            .as_ref()
            .filter(|_| version >= 7)
            .map(|s| s.to_string());
        let group_error = self.validate_commit(
            &group_id,
            req.member_id.as_str(),
            instance_id.as_deref(),
            req.generation_id_or_member_epoch,
            version,
        );
        let now = sluice_log::now_ms();
        let mut changes = Vec::new();
        let mut results: Vec<(TopicName, Vec<(i32, i16)>)> = Vec::new();
        for topic in req.topics {
            let known = self.store.topic(topic.name.0.as_str());
            let mut partitions = Vec::new();
            for p in topic.partitions {
                let metadata = p
                    .committed_metadata
                    .map(|m| m.to_string())
                    .unwrap_or_default();
                let code = if group_error != 0 {
                    group_error
                } else if !known
                    .as_ref()
                    .is_some_and(|t| (0..t.partition_count()).contains(&p.partition_index))
                {
                    ResponseError::UnknownTopicOrPartition.code()
                } else if metadata.len() > MAX_OFFSET_METADATA_BYTES {
                    ResponseError::OffsetMetadataTooLarge.code()
                } else {
                    changes.push(OffsetChange::Commit {
                        group: group_id.clone(),
                        topic: topic.name.0.to_string(),
                        partition: p.partition_index,
                        value: CommittedOffset {
                            offset: p.committed_offset,
                            leader_epoch: if version >= 6 {
                                p.committed_leader_epoch
                            } else {
                                -1
                            },
                            metadata,
                            commit_timestamp: now,
                        },
                    });
                    0
                };
                partitions.push((p.partition_index, code));
            }
            results.push((topic.name, partitions));
        }
        if !changes.is_empty() {
            if let Err(e) = self.offsets.lock().apply(changes) {
                tracing::warn!(group = %group_id, error = %e, "offset commit failed");
                let code = commit_error_code(&e);
                for (_, partitions) in &mut results {
                    for (_, c) in partitions.iter_mut().filter(|(_, c)| *c == 0) {
                        *c = code;
                    }
                }
            }
        }
        OffsetCommitResponse::default().with_topics(
            results
                .into_iter()
                .map(|(name, partitions)| {
                    OffsetCommitResponseTopic::default()
                        .with_name(name)
                        .with_partitions(
                            partitions
                                .into_iter()
                                .map(|(index, code)| {
                                    OffsetCommitResponsePartition::default()
                                        .with_partition_index(index)
                                        .with_error_code(code)
                                })
                                .collect(),
                        )
                })
                .collect(),
        )
    }

    /// The group-level check of a commit, as Kafka does it.
    fn validate_commit(
        &self,
        group_id: &str,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
        version: i16,
    ) -> i16 {
        if group_id.is_empty() {
            return ResponseError::InvalidGroupId.code();
        }
        let mut groups = self.groups.lock();
        match groups.get_mut(group_id) {
            Some(group) => {
                group.validate_commit(member_id, instance_id, generation, Instant::now())
            }
            // A commit outside group management (admin tools, manual assignment).
            None if generation < 0 => 0,
            // Known from its offsets only: an Empty group, so this member is not in it.
            None if self.offsets.lock().has_group(group_id) => {
                ResponseError::UnknownMemberId.code()
            }
            None if version >= 9 => ResponseError::GroupIdNotFound.code(),
            None => ResponseError::IllegalGeneration.code(),
        }
    }

    // ---- OffsetFetch ----

    pub fn offset_fetch(&self, req: OffsetFetchRequest, version: i16) -> OffsetFetchResponse {
        if version >= 8 {
            let groups = req
                .groups
                .into_iter()
                .map(|g| {
                    let wanted = g.topics.map(|topics| {
                        topics
                            .into_iter()
                            .map(|t| (t.name, t.partition_indexes))
                            .collect()
                    });
                    let topics = self
                        .lookup_offsets(g.group_id.0.as_str(), wanted)
                        .into_iter()
                        .map(|(name, partitions)| {
                            OffsetFetchResponseTopics::default()
                                .with_name(name)
                                .with_partitions(
                                    partitions
                                        .into_iter()
                                        .map(|(index, committed)| {
                                            let (offset, epoch, metadata) =
                                                offset_fields(committed);
                                            OffsetFetchResponsePartitions::default()
                                                .with_partition_index(index)
                                                .with_committed_offset(offset)
                                                .with_committed_leader_epoch(epoch)
                                                .with_metadata(Some(str_bytes(metadata)))
                                        })
                                        .collect(),
                                )
                        })
                        .collect();
                    OffsetFetchResponseGroup::default()
                        .with_group_id(g.group_id)
                        .with_topics(topics)
                })
                .collect();
            OffsetFetchResponse::default().with_groups(groups)
        } else {
            let wanted = req.topics.map(|topics| {
                topics
                    .into_iter()
                    .map(|t| (t.name, t.partition_indexes))
                    .collect()
            });
            let topics = self
                .lookup_offsets(req.group_id.0.as_str(), wanted)
                .into_iter()
                .map(|(name, partitions)| {
                    OffsetFetchResponseTopic::default()
                        .with_name(name)
                        .with_partitions(
                            partitions
                                .into_iter()
                                .map(|(index, committed)| {
                                    let (offset, epoch, metadata) = offset_fields(committed);
                                    let mut p = OffsetFetchResponsePartition::default()
                                        .with_partition_index(index)
                                        .with_committed_offset(offset)
                                        .with_metadata(Some(str_bytes(metadata)));
                                    if version >= 5 {
                                        p.committed_leader_epoch = epoch;
                                    }
                                    p
                                })
                                .collect(),
                        )
                })
                .collect();
            OffsetFetchResponse::default().with_topics(topics)
        }
    }

    /// Committed offsets of the wanted partitions (None: every partition the group has
    /// committed), by topic. A partition with no committed offset maps to None.
    fn lookup_offsets(
        &self,
        group_id: &str,
        wanted: Option<Vec<(TopicName, Vec<i32>)>>,
    ) -> Vec<(TopicName, PartitionOffsets)> {
        let offsets = self.offsets.lock();
        match wanted {
            Some(topics) => topics
                .into_iter()
                .map(|(name, partitions)| {
                    let found = partitions
                        .into_iter()
                        .map(|p| (p, offsets.get(group_id, name.0.as_str(), p).cloned()))
                        .collect();
                    (name, found)
                })
                .collect(),
            None => {
                let mut by_topic: BTreeMap<&str, PartitionOffsets> = BTreeMap::new();
                if let Some(group) = offsets.group(group_id) {
                    for ((topic, partition), committed) in group {
                        by_topic
                            .entry(topic.as_str())
                            .or_default()
                            .push((*partition, Some(committed.clone())));
                    }
                }
                by_topic
                    .into_iter()
                    .map(|(topic, partitions)| (TopicName(str_bytes(topic)), partitions))
                    .collect()
            }
        }
    }

    // ---- OffsetDelete ----

    pub fn offset_delete(&self, req: OffsetDeleteRequest, _version: i16) -> OffsetDeleteResponse {
        let group_id = req.group_id.0.to_string();
        if group_id.is_empty() {
            return OffsetDeleteResponse::default()
                .with_error_code(ResponseError::InvalidGroupId.code());
        }
        let groups = self.groups.lock();
        let mut offsets = self.offsets.lock();
        let live = groups.get(&group_id);
        if live.is_none() && !offsets.has_group(&group_id) {
            return OffsetDeleteResponse::default()
                .with_error_code(ResponseError::GroupIdNotFound.code());
        }
        if let Some(group) = live {
            if group.has_members() && group.protocol_type() != Some(CONSUMER_PROTOCOL_TYPE) {
                return OffsetDeleteResponse::default()
                    .with_error_code(ResponseError::NonEmptyGroup.code());
            }
        }
        let mut changes = Vec::new();
        let mut results = Vec::new();
        for topic in req.topics {
            let subscribed = live.is_some_and(|g| g.is_subscribed_to(topic.name.0.as_str()));
            let partitions: Vec<(i32, i16)> = topic
                .partitions
                .iter()
                .map(|p| {
                    if subscribed {
                        return (
                            p.partition_index,
                            ResponseError::GroupSubscribedToTopic.code(),
                        );
                    }
                    if offsets
                        .get(&group_id, topic.name.0.as_str(), p.partition_index)
                        .is_some()
                    {
                        changes.push(OffsetChange::Delete {
                            group: group_id.clone(),
                            topic: topic.name.0.to_string(),
                            partition: p.partition_index,
                        });
                    }
                    (p.partition_index, 0)
                })
                .collect();
            results.push((topic.name, partitions));
        }
        let mut error_code = 0;
        if let Err(e) = offsets.apply(changes) {
            tracing::warn!(group = %group_id, error = %e, "offset delete failed");
            error_code = commit_error_code(&e);
        }
        OffsetDeleteResponse::default()
            .with_error_code(error_code)
            .with_topics(
                results
                    .into_iter()
                    .map(|(name, partitions)| {
                        OffsetDeleteResponseTopic::default()
                            .with_name(name)
                            .with_partitions(
                                partitions
                                    .into_iter()
                                    .map(|(index, code)| {
                                        OffsetDeleteResponsePartition::default()
                                            .with_partition_index(index)
                                            .with_error_code(code)
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            )
    }

    // ---- ListGroups / DescribeGroups / DeleteGroups ----

    pub fn list_groups(&self, req: ListGroupsRequest, version: i16) -> ListGroupsResponse {
        let states: Vec<String> = if version >= 4 {
            req.states_filter.iter().map(|s| s.to_lowercase()).collect()
        } else {
            Vec::new()
        };
        let types: Vec<String> = if version >= 5 {
            req.types_filter.iter().map(|s| s.to_lowercase()).collect()
        } else {
            Vec::new()
        };
        if !types.is_empty() && !types.iter().any(|t| t == CLASSIC_GROUP_TYPE) {
            return ListGroupsResponse::default();
        }
        let groups = self.groups.lock();
        let offsets = self.offsets.lock();
        let mut listed: BTreeMap<String, (String, &'static str)> = BTreeMap::new();
        for id in offsets.group_ids() {
            listed.insert(
                id.clone(),
                (
                    CONSUMER_PROTOCOL_TYPE.to_string(),
                    GroupState::Empty.as_str(),
                ),
            );
        }
        for (id, group) in groups.iter() {
            let protocol_type = group.protocol_type().unwrap_or(CONSUMER_PROTOCOL_TYPE);
            listed.insert(
                id.clone(),
                (protocol_type.to_string(), group.state().as_str()),
            );
        }
        let groups = listed
            .into_iter()
            .filter(|(_, (_, state))| states.is_empty() || states.contains(&state.to_lowercase()))
            .map(|(id, (protocol_type, state))| {
                let mut g = ListedGroup::default()
                    .with_group_id(GroupId(str_bytes(id)))
                    .with_protocol_type(str_bytes(protocol_type));
                if version >= 4 {
                    g.group_state = StrBytes::from_static_str(state);
                }
                if version >= 5 {
                    g.group_type = StrBytes::from_static_str(CLASSIC_GROUP_TYPE);
                }
                g
            })
            .collect();
        ListGroupsResponse::default().with_groups(groups)
    }

    pub fn describe_groups(
        &self,
        req: DescribeGroupsRequest,
        version: i16,
    ) -> DescribeGroupsResponse {
        let authorized_operations = if version >= 3 && req.include_authorized_operations {
            GROUP_AUTHORIZED_OPERATIONS
        } else {
            i32::MIN
        };
        let groups = self.groups.lock();
        let offsets = self.offsets.lock();
        let described = req
            .groups
            .into_iter()
            .map(|group_id| {
                let mut d = DescribedGroup::default().with_group_id(group_id.clone());
                if let Some(group) = groups.get(group_id.0.as_str()) {
                    d.group_state = StrBytes::from_static_str(group.state().as_str());
                    d.protocol_type = str_bytes(group.protocol_type().unwrap_or_default());
                    if group.state() == GroupState::Stable {
                        d.protocol_data = str_bytes(group.protocol_name().unwrap_or_default());
                    }
                    d.members = group
                        .describe_members()
                        .into_iter()
                        .map(|m| {
                            let mut member = DescribedGroupMember::default()
                                .with_member_id(str_bytes(m.member_id))
                                .with_client_id(str_bytes(m.client_id))
                                .with_client_host(str_bytes(m.client_host))
                                .with_member_metadata(m.metadata)
                                .with_member_assignment(m.assignment);
                            if version >= 4 {
                                member.group_instance_id = m.instance_id.map(str_bytes);
                            }
                            member
                        })
                        .collect();
                    if version >= 3 {
                        d.authorized_operations = authorized_operations;
                    }
                } else if offsets.has_group(group_id.0.as_str()) {
                    d.group_state = StrBytes::from_static_str(GroupState::Empty.as_str());
                    d.protocol_type = StrBytes::from_static_str(CONSUMER_PROTOCOL_TYPE);
                    if version >= 3 {
                        d.authorized_operations = authorized_operations;
                    }
                } else {
                    d.group_state = StrBytes::from_static_str(GroupState::Dead.as_str());
                    if version >= 6 {
                        d.error_code = ResponseError::GroupIdNotFound.code();
                        d.error_message =
                            Some(str_bytes(format!("Group {} not found.", group_id.0)));
                    }
                }
                d
            })
            .collect();
        DescribeGroupsResponse::default().with_groups(described)
    }

    pub fn delete_groups(&self, req: DeleteGroupsRequest, _version: i16) -> DeleteGroupsResponse {
        let mut groups = self.groups.lock();
        let mut offsets = self.offsets.lock();
        let results = req
            .groups_names
            .into_iter()
            .map(|group_id| {
                let id = group_id.0.as_str();
                let code = if id.is_empty() {
                    ResponseError::InvalidGroupId.code()
                } else {
                    let live_with_members = groups.get(id).map(Group::has_members);
                    match live_with_members {
                        Some(true) => ResponseError::NonEmptyGroup.code(),
                        None if !offsets.has_group(id) => ResponseError::GroupIdNotFound.code(),
                        _ => match offsets.delete_group(id) {
                            Ok(()) => {
                                groups.remove(id);
                                tracing::info!(group = %id, "group deleted");
                                0
                            }
                            Err(e) => {
                                tracing::warn!(group = %id, error = %e, "group deletion failed");
                                commit_error_code(&e)
                            }
                        },
                    }
                };
                DeletableGroupResult::default()
                    .with_group_id(group_id)
                    .with_error_code(code)
            })
            .collect();
        DeleteGroupsResponse::default().with_results(results)
    }

    /// Drops every committed offset of a deleted topic.
    pub fn remove_topic(&self, topic: &str) {
        if let Err(e) = self.offsets.lock().delete_topic(topic) {
            tracing::warn!(topic = %topic, error = %e, "could not drop the committed offsets of a deleted topic");
        }
    }

    /// Committed offset of (group, topic, partition) with its metadata (in-process committers
    /// such as the connector runtime's sinks keep their position there).
    pub fn committed_with_metadata(
        &self,
        group: &str,
        topic: &str,
        partition: i32,
    ) -> Option<(i64, String)> {
        self.offsets
            .lock()
            .get(group, topic, partition)
            .map(|o| (o.offset, o.metadata.clone()))
    }

    /// Committed offset of (group, topic, partition), for tools and tests.
    pub fn committed(&self, group: &str, topic: &str, partition: i32) -> Option<i64> {
        self.offsets
            .lock()
            .get(group, topic, partition)
            .map(|o| o.offset)
    }
}

fn offset_fields(committed: Option<CommittedOffset>) -> (i64, i32, String) {
    match committed {
        Some(o) => (o.offset, o.leader_epoch, o.metadata),
        None => (-1, -1, String::new()),
    }
}

fn join_response(o: JoinOutcome, version: i16) -> JoinGroupResponse {
    let protocol_name = match o.protocol_name {
        Some(name) => Some(str_bytes(name)),
        // Nullable only from v7.
        None if version >= 7 => None,
        None => Some(StrBytes::new()),
    };
    let mut resp = JoinGroupResponse::default()
        .with_error_code(o.error)
        .with_generation_id(o.generation)
        .with_protocol_name(protocol_name)
        .with_leader(str_bytes(o.leader))
        .with_member_id(str_bytes(o.member_id))
        .with_members(
            o.members
                .into_iter()
                .map(|m| {
                    let mut member = JoinGroupResponseMember::default()
                        .with_member_id(str_bytes(m.member_id))
                        .with_metadata(m.metadata);
                    if version >= 5 {
                        member.group_instance_id = m.instance_id.map(str_bytes);
                    }
                    member
                })
                .collect(),
        );
    if version >= 7 {
        resp.protocol_type = o.protocol_type.map(str_bytes);
    }
    resp
}
