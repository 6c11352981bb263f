//! Consumer groups: list with lag, detail (members with decoded assignments, committed and end
//! offsets per partition), offset resets and deletion. Committed offsets are read and reset
//! through a consumer carrying the group's id that never subscribes, so the workbench never
//! joins (or rebalances) a group it inspects; a reset is refused while the group has members.

use std::collections::{BTreeSet, HashMap};

use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use sluice_api::{
    GroupDetail, GroupMember, GroupOffset, GroupSummary, ResetOffsets, ResetTo, TopicPartition,
};

use crate::error::{Result, WorkbenchError};
use crate::kafka::{ClientSet, ClusterMeta, GroupMeta, Tp};

/// A group's offsets over the partitions it committed or is assigned, given end offsets.
fn offsets_of(
    group: &GroupMeta,
    committed: &HashMap<Tp, i64>,
    ends: &HashMap<Tp, i64>,
) -> Vec<GroupOffset> {
    let mut rows: BTreeSet<Tp> = committed.keys().cloned().collect();
    for m in &group.members {
        rows.extend(
            m.assignment
                .iter()
                .filter(|tp| ends.contains_key(*tp))
                .cloned(),
        );
    }
    rows.into_iter()
        .map(|tp| {
            let end = ends.get(&tp).copied().unwrap_or(0);
            let c = committed.get(&tp).copied();
            GroupOffset {
                lag: c.map_or(0, |c| (end - c).max(0)),
                committed: c,
                end_offset: end,
                topic: tp.0,
                partition: tp.1,
            }
        })
        .collect()
}

fn total_lag(offsets: &[GroupOffset]) -> i64 {
    offsets.iter().map(|o| o.lag).sum()
}

/// Every group with its total lag. Blocking.
pub fn list(clients: &ClientSet) -> Result<Vec<GroupSummary>> {
    let groups = clients.groups(None)?;
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let meta = clients.metadata()?;
    let tps = meta.user_partitions();
    let ends = clients.list_offsets(&tps, Offset::End)?;
    let mut out = Vec::new();
    for g in groups {
        let committed = clients.committed(&g.group_id, &tps)?;
        let offsets = offsets_of(&g, &committed, &ends);
        let topics: BTreeSet<String> = offsets.iter().map(|o| o.topic.clone()).collect();
        out.push(GroupSummary {
            lag: total_lag(&offsets),
            members: g.members.len(),
            topics: topics.into_iter().collect(),
            group_id: g.group_id,
            state: g.state,
            protocol_type: g.protocol_type,
        });
    }
    Ok(out)
}

/// Committed offsets and lag of every group, for the samplers: group id → (tp → committed),
/// and the end offsets used. Blocking.
pub fn committed_all(
    clients: &ClientSet,
    meta: &ClusterMeta,
) -> Result<HashMap<String, HashMap<Tp, i64>>> {
    let tps = meta.user_partitions();
    let mut out = HashMap::new();
    for g in clients.groups(None)? {
        let committed = clients.committed(&g.group_id, &tps)?;
        out.insert(g.group_id, committed);
    }
    Ok(out)
}

/// One group in full. Blocking.
pub fn detail(clients: &ClientSet, group_id: &str) -> Result<GroupDetail> {
    let g = clients.group(group_id)?;
    let meta = clients.metadata()?;
    let tps = meta.user_partitions();
    let ends = clients.list_offsets(&tps, Offset::End)?;
    let committed = clients.committed(group_id, &tps)?;
    let offsets = offsets_of(&g, &committed, &ends);
    Ok(GroupDetail {
        lag: total_lag(&offsets),
        offsets,
        members: g
            .members
            .iter()
            .map(|m| GroupMember {
                member_id: m.member_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                assignment: m
                    .assignment
                    .iter()
                    .map(|(t, p)| TopicPartition {
                        topic: t.clone(),
                        partition: *p,
                    })
                    .collect(),
            })
            .collect(),
        group_id: g.group_id,
        state: g.state,
        protocol_type: g.protocol_type,
        protocol: g.protocol,
    })
}

/// Moves an inactive group's committed offsets. Blocking.
pub fn reset(clients: &ClientSet, group_id: &str, req: &ResetOffsets) -> Result<Vec<GroupOffset>> {
    if let Some(g) = clients
        .groups(Some(group_id))?
        .into_iter()
        .find(|g| g.group_id == group_id)
    {
        if !g.members.is_empty() {
            return Err(WorkbenchError::Conflict(format!(
                "group {group_id:?} has {} active member(s) ({}); stop its consumers first",
                g.members.len(),
                g.state
            )));
        }
    }
    let meta = clients.metadata()?;
    let targets: Vec<Tp> = match (&req.topic, req.partition) {
        (Some(topic), partition) => {
            let t = meta.topic(topic)?;
            if let Some(p) = partition {
                if !t.partitions.iter().any(|x| x.id == p) {
                    return Err(WorkbenchError::NotFound(format!(
                        "topic {topic:?} has no partition {p}"
                    )));
                }
            }
            t.partitions
                .iter()
                .filter(|p| partition.is_none_or(|want| want == p.id))
                .map(|p| (topic.clone(), p.id))
                .collect()
        }
        (None, Some(_)) => return Err(WorkbenchError::BadRequest("partition needs topic".into())),
        (None, None) => {
            let mut tps: Vec<Tp> = clients
                .committed(group_id, &meta.user_partitions())?
                .into_keys()
                .collect();
            tps.sort();
            if tps.is_empty() {
                return Err(WorkbenchError::BadRequest(format!(
                    "group {group_id:?} has no committed offsets; name a topic to reset"
                )));
            }
            tps
        }
    };
    let starts = clients.list_offsets(&targets, Offset::Beginning)?;
    let ends = clients.list_offsets(&targets, Offset::End)?;
    let by_time = match req.to {
        ResetTo::Timestamp { timestamp_ms } => {
            Some(clients.offsets_for_timestamp(&targets, timestamp_ms)?)
        }
        _ => None,
    };
    let mut tpl = TopicPartitionList::new();
    let mut new_offsets = Vec::new();
    for tp in &targets {
        let start = starts.get(tp).copied().unwrap_or(0);
        let end = ends.get(tp).copied().unwrap_or(start).max(start);
        let to = match req.to {
            ResetTo::Earliest => start,
            ResetTo::Latest => end,
            ResetTo::Offset { offset } => offset.clamp(start, end),
            ResetTo::Timestamp { .. } => by_time
                .as_ref()
                .and_then(|m| m.get(tp).copied())
                .unwrap_or(end)
                .clamp(start, end),
        };
        tpl.add_partition_offset(&tp.0, tp.1, Offset::Offset(to))?;
        new_offsets.push(GroupOffset {
            topic: tp.0.clone(),
            partition: tp.1,
            committed: Some(to),
            end_offset: end,
            lag: end - to,
        });
    }
    let consumer = clients.group_consumer(group_id)?;
    consumer
        .commit(&tpl, CommitMode::Sync)
        .map_err(|e| match e.rdkafka_error_code() {
            Some(
                RDKafkaErrorCode::UnknownMemberId
                | RDKafkaErrorCode::IllegalGeneration
                | RDKafkaErrorCode::RebalanceInProgress,
            ) => WorkbenchError::Conflict(format!(
                "group {group_id:?} became active; offsets not reset ({e})"
            )),
            _ => e.into(),
        })?;
    Ok(new_offsets)
}
