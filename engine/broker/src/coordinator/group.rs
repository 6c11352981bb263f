//! One classic group's membership state machine (Kafka's classic rebalance protocol): members,
//! generations, the leader, the selected protocol, pending joins and syncs. It is pure state:
//! time comes in as an argument, answers to waiting requests go out through oneshot senders,
//! and it never does I/O, never awaits, and never touches offsets or wire-format versions.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use indexmap::IndexMap;
use kafka_protocol::ResponseError;
use tokio::sync::oneshot;

/// The classic group states, spelled as Kafka spells them on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
}

impl GroupState {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }
}

/// A join's answer, independent of the wire version it goes out in.
#[derive(Debug, Clone)]
pub(crate) struct JoinOutcome {
    pub error: i16,
    pub generation: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader: String,
    pub member_id: String,
    /// Every member's metadata for the selected protocol; only the leader gets it.
    pub members: Vec<JoinedMember>,
}

impl JoinOutcome {
    pub fn error(error: ResponseError, member_id: &str) -> JoinOutcome {
        JoinOutcome {
            error: error.code(),
            generation: -1,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            member_id: member_id.to_string(),
            members: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct JoinedMember {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub metadata: Bytes,
}

/// A sync's answer, independent of the wire version.
#[derive(Debug, Clone)]
pub(crate) struct SyncOutcome {
    pub error: i16,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignment: Bytes,
}

impl SyncOutcome {
    pub fn error(error: ResponseError) -> SyncOutcome {
        SyncOutcome {
            error: error.code(),
            protocol_type: None,
            protocol_name: None,
            assignment: Bytes::new(),
        }
    }
}

/// An answer available now, or one to wait for.
pub(crate) enum Reply<T> {
    Now(T),
    Later(oneshot::Receiver<T>),
}

/// A JoinGroup request, already validated for group id and session timeout.
#[derive(Debug, Clone)]
pub(crate) struct JoinParams {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
    pub protocol_type: String,
    /// (name, metadata) in the member's order of preference.
    pub protocols: Vec<(String, Bytes)>,
}

/// A SyncGroup request.
#[derive(Debug, Clone)]
pub(crate) struct SyncParams {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub generation: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignments: Vec<(String, Bytes)>,
}

/// What DescribeGroups shows of a member.
#[derive(Debug, Clone)]
pub(crate) struct MemberSummary {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub metadata: Bytes,
    pub assignment: Bytes,
}

struct Member {
    id: String,
    instance_id: Option<String>,
    client_id: String,
    client_host: String,
    session_timeout: Duration,
    rebalance_timeout: Duration,
    protocols: Vec<(String, Bytes)>,
    assignment: Bytes,
    last_heartbeat: Instant,
    /// Set while the member's JoinGroup waits for the rebalance to complete.
    awaiting_join: Option<oneshot::Sender<JoinOutcome>>,
    /// Set while the member's SyncGroup waits for the leader's assignment.
    awaiting_sync: Option<oneshot::Sender<SyncOutcome>>,
    /// Sent SyncGroup for the current generation.
    synced: bool,
}

impl Member {
    fn supports(&self, protocol: &str) -> bool {
        self.protocols.iter().any(|(name, _)| name == protocol)
    }

    fn metadata_for(&self, protocol: &str) -> Bytes {
        self.protocols
            .iter()
            .find(|(name, _)| name == protocol)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }

    /// A request of this member is waiting and its client is still there to read the answer.
    fn has_live_request(&self) -> bool {
        self.awaiting_join.as_ref().is_some_and(|t| !t.is_closed())
            || self.awaiting_sync.as_ref().is_some_and(|t| !t.is_closed())
    }

    fn join_receiver_alive(&self) -> bool {
        self.awaiting_join.as_ref().is_some_and(|t| !t.is_closed())
    }
}

/// The timing of a rebalance in progress.
#[derive(Debug, Clone, Copy)]
struct RebalanceWindow {
    /// The join phase does not complete before this (the initial delay of a group that was
    /// Empty, so members starting together land in one generation).
    not_before: Instant,
    /// Members that have not rejoined by this time are removed and the join phase completes.
    deadline: Instant,
    /// The group was Empty when this rebalance began.
    initial: bool,
}

/// One classic group.
pub(crate) struct Group {
    id: String,
    state: GroupState,
    generation: i32,
    protocol_type: Option<String>,
    protocol_name: Option<String>,
    leader: Option<String>,
    /// In join order.
    members: IndexMap<String, Member>,
    rebalance: Option<RebalanceWindow>,
    /// Members that have not sent SyncGroup by this time are removed.
    sync_deadline: Option<Instant>,
    empty_since: Option<Instant>,
    initial_rebalance_delay: Duration,
}

impl Group {
    pub fn new(id: &str, initial_rebalance_delay: Duration, now: Instant) -> Group {
        Group {
            id: id.to_string(),
            state: GroupState::Empty,
            generation: 0,
            protocol_type: None,
            protocol_name: None,
            leader: None,
            members: IndexMap::new(),
            rebalance: None,
            sync_deadline: None,
            empty_since: Some(now),
            initial_rebalance_delay,
        }
    }

    pub fn state(&self) -> GroupState {
        self.state
    }

    pub fn protocol_type(&self) -> Option<&str> {
        self.protocol_type.as_deref()
    }

    pub fn protocol_name(&self) -> Option<&str> {
        self.protocol_name.as_deref()
    }

    pub fn has_members(&self) -> bool {
        !self.members.is_empty()
    }

    /// How long the group has had no members, if it has none.
    pub fn empty_for(&self, now: Instant) -> Option<Duration> {
        self.empty_since.map(|t| now.saturating_duration_since(t))
    }

    fn static_member_id(&self, instance_id: &str) -> Option<String> {
        self.members
            .values()
            .find(|m| m.instance_id.as_deref() == Some(instance_id))
            .map(|m| m.id.clone())
    }

    /// Kafka's member check: a static member must map to this member id, a dynamic one must exist.
    fn validate_member(
        &self,
        member_id: &str,
        instance_id: Option<&str>,
    ) -> Result<(), ResponseError> {
        if let Some(instance) = instance_id {
            return match self.static_member_id(instance) {
                None => Err(ResponseError::UnknownMemberId),
                Some(id) if id != member_id => Err(ResponseError::FencedInstanceId),
                Some(_) => Ok(()),
            };
        }
        if self.members.contains_key(member_id) {
            Ok(())
        } else {
            Err(ResponseError::UnknownMemberId)
        }
    }

    /// Whether a member with these protocols can be in the group with the other members.
    fn supports_protocols(
        &self,
        protocol_type: &str,
        protocols: &[(String, Bytes)],
        joining: &str,
    ) -> bool {
        if protocol_type.is_empty() || protocols.is_empty() {
            return false;
        }
        let others: Vec<&Member> = self.members.values().filter(|m| m.id != joining).collect();
        if others.is_empty() {
            return true;
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols
                .iter()
                .any(|(name, _)| others.iter().all(|m| m.supports(name)))
    }

    fn max_rebalance_timeout(&self) -> Duration {
        self.members
            .values()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or_default()
    }

    // ---- JoinGroup ----

    pub fn join(&mut self, p: JoinParams, now: Instant) -> Reply<JoinOutcome> {
        if self.state == GroupState::Dead {
            return Reply::Now(JoinOutcome::error(
                ResponseError::CoordinatorNotAvailable,
                &p.member_id,
            ));
        }
        // A static member that comes back without its member id keeps the one it had.
        let mut member_id = p.member_id.clone();
        if member_id.is_empty() {
            if let Some(existing) = p
                .instance_id
                .as_deref()
                .and_then(|i| self.static_member_id(i))
            {
                member_id = existing;
            }
        }
        if !self.supports_protocols(&p.protocol_type, &p.protocols, &member_id) {
            return Reply::Now(JoinOutcome::error(
                ResponseError::InconsistentGroupProtocol,
                &p.member_id,
            ));
        }
        if member_id.is_empty() {
            return self.join_new_member(p, now);
        }
        if let Err(e) = self.validate_member(&member_id, p.instance_id.as_deref()) {
            return Reply::Now(JoinOutcome::error(e, &member_id));
        }
        self.join_existing_member(member_id, p, now)
    }

    fn join_new_member(&mut self, p: JoinParams, now: Instant) -> Reply<JoinOutcome> {
        let prefix = p.instance_id.as_deref().unwrap_or(&p.client_id);
        let id = format!("{prefix}-{}", uuid::Uuid::new_v4());
        if self.members.is_empty() {
            self.protocol_type = Some(p.protocol_type.clone());
        }
        let (tx, rx) = oneshot::channel();
        let rebalance_timeout = p.rebalance_timeout;
        tracing::debug!(group = %self.id, member = %id, "new member joining");
        self.members.insert(
            id.clone(),
            Member {
                id,
                instance_id: p.instance_id,
                client_id: p.client_id,
                client_host: p.client_host,
                session_timeout: p.session_timeout,
                rebalance_timeout,
                protocols: p.protocols,
                assignment: Bytes::new(),
                last_heartbeat: now,
                awaiting_join: Some(tx),
                awaiting_sync: None,
                synced: false,
            },
        );
        if self.state == GroupState::PreparingRebalance {
            self.extend_initial_delay(now);
        } else {
            self.prepare_rebalance(now);
        }
        self.maybe_complete_join(now);
        Reply::Later(rx)
    }

    fn join_existing_member(
        &mut self,
        member_id: String,
        p: JoinParams,
        now: Instant,
    ) -> Reply<JoinOutcome> {
        if self.members.len() == 1 {
            // The only member may change its protocol type.
            self.protocol_type = Some(p.protocol_type.clone());
        }
        let is_leader = self.leader.as_deref() == Some(member_id.as_str());
        let same_metadata = {
            let member = self.members.get_mut(&member_id).expect("validated member");
            member.client_id = p.client_id;
            member.client_host = p.client_host;
            member.last_heartbeat = now;
            member.protocols == p.protocols
        };
        let rebalance = match self.state {
            GroupState::PreparingRebalance => true,
            // Same metadata: the member probably lost the join answer; give it again.
            GroupState::CompletingRebalance => !same_metadata,
            // The leader rejoining forces a rebalance (that is how it reacts to topic changes);
            // a follower with unchanged metadata just gets the current generation.
            GroupState::Stable => is_leader || !same_metadata,
            GroupState::Empty | GroupState::Dead => {
                return Reply::Now(JoinOutcome::error(
                    ResponseError::UnknownMemberId,
                    &member_id,
                ));
            }
        };
        if !rebalance {
            let members = if is_leader && self.state == GroupState::CompletingRebalance {
                self.joined_members()
            } else {
                Vec::new()
            };
            return Reply::Now(self.generation_outcome(&member_id, members));
        }
        let (tx, rx) = oneshot::channel();
        {
            let member = self.members.get_mut(&member_id).expect("validated member");
            member.protocols = p.protocols;
            member.session_timeout = p.session_timeout;
            member.rebalance_timeout = p.rebalance_timeout;
            // A join retried while one is pending replaces it; the old waiter gets an error.
            member.awaiting_join = Some(tx);
        }
        if self.state != GroupState::PreparingRebalance {
            self.prepare_rebalance(now);
        }
        self.maybe_complete_join(now);
        Reply::Later(rx)
    }

    fn generation_outcome(&self, member_id: &str, members: Vec<JoinedMember>) -> JoinOutcome {
        JoinOutcome {
            error: 0,
            generation: self.generation,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader: self.leader.clone().unwrap_or_default(),
            member_id: member_id.to_string(),
            members,
        }
    }

    fn joined_members(&self) -> Vec<JoinedMember> {
        let protocol = self.protocol_name.as_deref().unwrap_or_default();
        self.members
            .values()
            .map(|m| JoinedMember {
                member_id: m.id.clone(),
                instance_id: m.instance_id.clone(),
                metadata: m.metadata_for(protocol),
            })
            .collect()
    }

    /// Starts a rebalance: every member must rejoin (heartbeats now answer REBALANCE_IN_PROGRESS).
    fn prepare_rebalance(&mut self, now: Instant) {
        if self.state == GroupState::CompletingRebalance {
            self.fail_pending_syncs(ResponseError::RebalanceInProgress);
        }
        let initial = self.state == GroupState::Empty;
        let delay = if initial {
            self.initial_rebalance_delay
        } else {
            Duration::ZERO
        };
        let timeout = self.max_rebalance_timeout().max(delay);
        self.rebalance = Some(RebalanceWindow {
            not_before: now + delay,
            deadline: now + timeout,
            initial,
        });
        self.state = GroupState::PreparingRebalance;
        self.sync_deadline = None;
        self.empty_since = None;
        tracing::debug!(group = %self.id, generation = self.generation, "preparing rebalance");
    }

    /// A new member joined during the initial delay: wait a little longer for more, within the
    /// rebalance timeout.
    fn extend_initial_delay(&mut self, now: Instant) {
        if let Some(w) = &mut self.rebalance {
            if w.initial {
                let wanted = now + self.initial_rebalance_delay;
                w.not_before = w.not_before.max(wanted).min(w.deadline);
            }
        }
    }

    /// Completes the join phase if every member has rejoined (after the initial delay), or the
    /// rebalance timeout has passed (members that did not rejoin are removed).
    fn maybe_complete_join(&mut self, now: Instant) {
        if self.state != GroupState::PreparingRebalance {
            return;
        }
        let Some(window) = self.rebalance else {
            return;
        };
        if now < window.not_before {
            return;
        }
        let all_joined = self.members.values().all(|m| m.awaiting_join.is_some());
        if !all_joined && now < window.deadline {
            return;
        }
        // Members that did not rejoin in time, and members whose join was abandoned by its client
        // (the connection went away): putting them in the generation would only stall it until
        // their session expires. A client that is still alive rejoins and is let in again.
        let dropped: Vec<String> = self
            .members
            .values()
            .filter(|m| !m.join_receiver_alive())
            .map(|m| m.id.clone())
            .collect();
        for id in dropped {
            tracing::info!(group = %self.id, member = %id, "removing member that did not rejoin");
            self.members.shift_remove(&id);
            if self.leader.as_deref() == Some(id.as_str()) {
                self.leader = None;
            }
        }
        if self.members.is_empty() {
            self.become_empty(now);
        } else {
            self.complete_join(now);
        }
    }

    fn select_protocol(&self, leader: &str) -> Option<String> {
        let leader = self.members.get(leader)?;
        leader
            .protocols
            .iter()
            .map(|(name, _)| name)
            .find(|name| self.members.values().all(|m| m.supports(name)))
            .cloned()
    }

    fn complete_join(&mut self, now: Instant) {
        // Every member left has rejoined: keep the leader if it is one of them, else the first.
        let leader = match &self.leader {
            Some(l) if self.members.contains_key(l) => l.clone(),
            _ => self
                .members
                .keys()
                .next()
                .cloned()
                .expect("members is not empty"),
        };
        let Some(protocol) = self.select_protocol(&leader) else {
            // Unreachable while joins are checked with supports_protocols; fail safe anyway.
            tracing::warn!(group = %self.id, "no protocol common to all members");
            for m in self.members.values_mut() {
                if let Some(tx) = m.awaiting_join.take() {
                    let _ = tx.send(JoinOutcome::error(
                        ResponseError::InconsistentGroupProtocol,
                        &m.id,
                    ));
                }
            }
            self.members.clear();
            self.become_empty(now);
            return;
        };
        self.generation += 1;
        self.state = GroupState::CompletingRebalance;
        self.protocol_name = Some(protocol.clone());
        self.leader = Some(leader.clone());
        self.rebalance = None;
        self.sync_deadline = Some(now + self.max_rebalance_timeout());
        let all = self.joined_members();
        tracing::info!(
            group = %self.id,
            generation = self.generation,
            members = self.members.len(),
            leader = %leader,
            protocol = %protocol,
            "rebalance: join phase complete"
        );
        for m in self.members.values_mut() {
            m.assignment = Bytes::new();
            m.synced = false;
            m.last_heartbeat = now;
            if let Some(tx) = m.awaiting_join.take() {
                let _ = tx.send(JoinOutcome {
                    error: 0,
                    generation: self.generation,
                    protocol_type: self.protocol_type.clone(),
                    protocol_name: Some(protocol.clone()),
                    leader: leader.clone(),
                    member_id: m.id.clone(),
                    members: if m.id == leader {
                        all.clone()
                    } else {
                        Vec::new()
                    },
                });
            }
        }
    }

    fn become_empty(&mut self, now: Instant) {
        self.fail_pending_syncs(ResponseError::UnknownMemberId);
        self.generation += 1;
        self.state = GroupState::Empty;
        self.protocol_name = None;
        self.leader = None;
        self.rebalance = None;
        self.sync_deadline = None;
        self.empty_since = Some(now);
        tracing::info!(group = %self.id, generation = self.generation, "group is empty");
    }

    fn fail_pending_syncs(&mut self, error: ResponseError) {
        for m in self.members.values_mut() {
            if let Some(tx) = m.awaiting_sync.take() {
                let _ = tx.send(SyncOutcome::error(error));
            }
        }
    }

    /// Removes a member (leave, expiry) and rebalances the rest, or empties the group.
    fn remove_member(&mut self, id: &str, now: Instant) {
        let Some(m) = self.members.shift_remove(id) else {
            return;
        };
        if let Some(tx) = m.awaiting_join {
            let _ = tx.send(JoinOutcome::error(ResponseError::UnknownMemberId, id));
        }
        if let Some(tx) = m.awaiting_sync {
            let _ = tx.send(SyncOutcome::error(ResponseError::UnknownMemberId));
        }
        if self.leader.as_deref() == Some(id) {
            self.leader = None;
        }
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                if self.members.is_empty() {
                    self.become_empty(now);
                } else {
                    self.prepare_rebalance(now);
                }
            }
            GroupState::PreparingRebalance => {
                if self.members.is_empty() {
                    self.become_empty(now);
                } else {
                    self.maybe_complete_join(now);
                }
            }
            GroupState::Empty | GroupState::Dead => {}
        }
    }

    // ---- SyncGroup ----

    pub fn sync(&mut self, p: SyncParams, now: Instant) -> Reply<SyncOutcome> {
        if self.state == GroupState::Dead {
            return Reply::Now(SyncOutcome::error(ResponseError::CoordinatorNotAvailable));
        }
        if self.members.is_empty() {
            return Reply::Now(SyncOutcome::error(ResponseError::UnknownMemberId));
        }
        if let Err(e) = self.validate_member(&p.member_id, p.instance_id.as_deref()) {
            return Reply::Now(SyncOutcome::error(e));
        }
        if p.generation != self.generation {
            return Reply::Now(SyncOutcome::error(ResponseError::IllegalGeneration));
        }
        let type_differs = p.protocol_type.is_some() && p.protocol_type != self.protocol_type;
        let name_differs = p.protocol_name.is_some() && p.protocol_name != self.protocol_name;
        if type_differs || name_differs {
            return Reply::Now(SyncOutcome::error(ResponseError::InconsistentGroupProtocol));
        }
        match self.state {
            GroupState::PreparingRebalance => {
                Reply::Now(SyncOutcome::error(ResponseError::RebalanceInProgress))
            }
            GroupState::CompletingRebalance => {
                let (tx, rx) = oneshot::channel();
                let member = self
                    .members
                    .get_mut(&p.member_id)
                    .expect("validated member");
                member.awaiting_sync = Some(tx);
                member.synced = true;
                member.last_heartbeat = now;
                if self.leader.as_deref() == Some(p.member_id.as_str()) {
                    self.complete_sync(p.assignments);
                }
                Reply::Later(rx)
            }
            GroupState::Stable => {
                let member = self
                    .members
                    .get_mut(&p.member_id)
                    .expect("validated member");
                member.last_heartbeat = now;
                Reply::Now(SyncOutcome {
                    error: 0,
                    protocol_type: self.protocol_type.clone(),
                    protocol_name: self.protocol_name.clone(),
                    assignment: member.assignment.clone(),
                })
            }
            GroupState::Empty | GroupState::Dead => {
                Reply::Now(SyncOutcome::error(ResponseError::UnknownMemberId))
            }
        }
    }

    /// The leader's assignments arrived: store them, go Stable, answer every waiting sync.
    fn complete_sync(&mut self, assignments: Vec<(String, Bytes)>) {
        let mut given: HashMap<String, Bytes> = assignments.into_iter().collect();
        self.state = GroupState::Stable;
        self.sync_deadline = None;
        tracing::info!(group = %self.id, generation = self.generation, "rebalance complete: group is stable");
        for m in self.members.values_mut() {
            m.assignment = given.remove(&m.id).unwrap_or_default();
            if let Some(tx) = m.awaiting_sync.take() {
                let _ = tx.send(SyncOutcome {
                    error: 0,
                    protocol_type: self.protocol_type.clone(),
                    protocol_name: self.protocol_name.clone(),
                    assignment: m.assignment.clone(),
                });
            }
        }
    }

    // ---- Heartbeat, LeaveGroup, OffsetCommit checks ----

    pub fn heartbeat(
        &mut self,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
        now: Instant,
    ) -> i16 {
        if self.state == GroupState::Dead {
            return ResponseError::CoordinatorNotAvailable.code();
        }
        if let Err(e) = self.validate_member(member_id, instance_id) {
            return e.code();
        }
        if generation != self.generation {
            return ResponseError::IllegalGeneration.code();
        }
        match self.state {
            GroupState::Empty | GroupState::Dead => ResponseError::UnknownMemberId.code(),
            GroupState::PreparingRebalance => {
                self.touch(member_id, now);
                ResponseError::RebalanceInProgress.code()
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                self.touch(member_id, now);
                0
            }
        }
    }

    fn touch(&mut self, member_id: &str, now: Instant) {
        if let Some(m) = self.members.get_mut(member_id) {
            m.last_heartbeat = now;
        }
    }

    /// One member leaves; `member_id` may be empty when `instance_id` names a static member.
    pub fn leave(&mut self, member_id: &str, instance_id: Option<&str>, now: Instant) -> i16 {
        if self.state == GroupState::Dead {
            return ResponseError::CoordinatorNotAvailable.code();
        }
        let id = match instance_id {
            Some(instance) => match self.static_member_id(instance) {
                None => return ResponseError::UnknownMemberId.code(),
                Some(id) if !member_id.is_empty() && id != member_id => {
                    return ResponseError::FencedInstanceId.code();
                }
                Some(id) => id,
            },
            None => member_id.to_string(),
        };
        if !self.members.contains_key(&id) {
            return ResponseError::UnknownMemberId.code();
        }
        tracing::info!(group = %self.id, member = %id, "member left");
        self.remove_member(&id, now);
        0
    }

    /// Kafka's checks before a member's offset commit; a commit with a negative generation to an
    /// Empty group is a "simple" commit (admin tools, manual assignment) and is allowed.
    pub fn validate_commit(
        &mut self,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
        now: Instant,
    ) -> i16 {
        if self.state == GroupState::Dead {
            return ResponseError::CoordinatorNotAvailable.code();
        }
        if generation < 0 && self.state == GroupState::Empty {
            return 0;
        }
        if let Err(e) = self.validate_member(member_id, instance_id) {
            return e.code();
        }
        if generation != self.generation {
            return ResponseError::IllegalGeneration.code();
        }
        if self.state == GroupState::CompletingRebalance {
            return ResponseError::RebalanceInProgress.code();
        }
        self.touch(member_id, now);
        0
    }

    // ---- Timers ----

    /// Expires members whose session timed out, completes join phases whose time has come and
    /// removes members that did not sync in time.
    pub fn tick(&mut self, now: Instant) {
        let mut expired = Vec::new();
        for m in self.members.values_mut() {
            if m.has_live_request() {
                // A request waiting on the coordinator proves the member alive.
                m.last_heartbeat = now;
            } else if now.saturating_duration_since(m.last_heartbeat) > m.session_timeout {
                expired.push(m.id.clone());
            }
        }
        for id in expired {
            tracing::info!(group = %self.id, member = %id, "member session expired");
            self.remove_member(&id, now);
        }
        match self.state {
            GroupState::PreparingRebalance => self.maybe_complete_join(now),
            GroupState::CompletingRebalance if self.sync_deadline.is_some_and(|d| now >= d) => {
                let unsynced: Vec<String> = self
                    .members
                    .values()
                    .filter(|m| !m.synced)
                    .map(|m| m.id.clone())
                    .collect();
                for id in unsynced {
                    tracing::info!(group = %self.id, member = %id, "member did not sync in time");
                    self.remove_member(&id, now);
                }
                self.sync_deadline = None;
            }
            _ => {}
        }
    }

    // ---- Views ----

    /// Members as DescribeGroups shows them: metadata and assignment only when Stable.
    pub fn describe_members(&self) -> Vec<MemberSummary> {
        let stable_protocol = match (self.state, &self.protocol_name) {
            (GroupState::Stable, Some(p)) => Some(p.as_str()),
            _ => None,
        };
        self.members
            .values()
            .map(|m| MemberSummary {
                member_id: m.id.clone(),
                instance_id: m.instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                metadata: stable_protocol
                    .map(|p| m.metadata_for(p))
                    .unwrap_or_default(),
                assignment: if stable_protocol.is_some() {
                    m.assignment.clone()
                } else {
                    Bytes::new()
                },
            })
            .collect()
    }

    /// Whether any member's consumer-protocol subscription includes `topic`. A subscription
    /// that cannot be parsed counts as subscribed to everything.
    pub fn is_subscribed_to(&self, topic: &str) -> bool {
        if self.protocol_type.as_deref() != Some("consumer") {
            return false;
        }
        self.members.values().any(|m| {
            let metadata = match &self.protocol_name {
                Some(p) if m.supports(p) => m.metadata_for(p),
                _ => match m.protocols.first() {
                    Some((_, md)) => md.clone(),
                    None => return false,
                },
            };
            match parse_subscription_topics(&metadata) {
                Some(topics) => topics.contains(topic),
                None => true,
            }
        })
    }
}

/// The topics of a consumer-protocol Subscription: `version: i16`, then an array (i32 count)
/// of i16-length strings. Later fields (user data, owned partitions, rack) are ignored.
pub(crate) fn parse_subscription_topics(metadata: &[u8]) -> Option<HashSet<String>> {
    let mut buf = metadata;
    if buf.remaining() < 6 {
        return None;
    }
    let _version = buf.get_i16();
    let count = buf.get_i32();
    if count < 0 {
        return Some(HashSet::new());
    }
    let mut topics = HashSet::new();
    for _ in 0..count {
        if buf.remaining() < 2 {
            return None;
        }
        let len = buf.get_i16();
        if len < 0 || buf.remaining() < len as usize {
            return None;
        }
        let name = std::str::from_utf8(&buf[..len as usize]).ok()?.to_string();
        buf.advance(len as usize);
        topics.insert(name);
    }
    Some(topics)
}
