//! Coordinator behaviour as clients see it: rebalances, session expiry, offsets and their
//! persistence, group administration, and responses that encode at every supported version.

use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::protocol::{Encodable, Message};
use sluice_log::TopicConfig;

use super::offsets::{decode_record, encode_key, encode_value};
use super::*;

const JOIN_VERSION: i16 = 7;
const SYNC_VERSION: i16 = 5;
const HEARTBEAT_VERSION: i16 = 4;
const NONE: i16 = 0;

fn code(e: ResponseError) -> i16 {
    e.code()
}

fn settings() -> CoordinatorSettings {
    CoordinatorSettings {
        initial_rebalance_delay: Duration::from_millis(50),
        min_session_timeout_ms: 10,
        max_session_timeout_ms: 1_800_000,
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    store: Arc<LogStore>,
    c: Arc<GroupCoordinator>,
}

/// A coordinator over a fresh data directory, with its timer task running.
fn fixture_with(settings: CoordinatorSettings) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(dir.path()).unwrap();
    let c = GroupCoordinator::open(store.clone(), settings).unwrap();
    c.start();
    Fixture { dir, store, c }
}

fn fixture() -> Fixture {
    fixture_with(settings())
}

fn create_topic(store: &LogStore, name: &str, partitions: i32) {
    store
        .create_topic(name, partitions, TopicConfig::default(), false)
        .unwrap();
}

/// A consumer-protocol Subscription v0: version, topics, null user data.
fn subscription(topics: &[&str]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_i16(0);
    b.put_i32(topics.len() as i32);
    for t in topics {
        b.put_i16(t.len() as i16);
        b.put_slice(t.as_bytes());
    }
    b.put_i32(-1);
    b.freeze()
}

fn join_request(
    group: &str,
    member_id: &str,
    session_ms: i32,
    topics: &[&str],
) -> JoinGroupRequest {
    JoinGroupRequest::default()
        .with_group_id(GroupId(str_bytes(group)))
        .with_session_timeout_ms(session_ms)
        .with_rebalance_timeout_ms(10_000)
        .with_member_id(str_bytes(member_id))
        .with_protocol_type(str_bytes("consumer"))
        .with_protocols(vec![JoinGroupRequestProtocol::default()
            .with_name(str_bytes("range"))
            .with_metadata(subscription(topics))])
}

async fn join(c: &Arc<GroupCoordinator>, group: &str, member_id: &str) -> JoinGroupResponse {
    c.join_group(
        join_request(group, member_id, 10_000, &["t"]),
        JOIN_VERSION,
        "test-client",
        "/127.0.0.1",
    )
    .await
}

fn spawn_join(
    c: &Arc<GroupCoordinator>,
    req: JoinGroupRequest,
) -> tokio::task::JoinHandle<JoinGroupResponse> {
    let c = c.clone();
    tokio::spawn(async move {
        c.join_group(req, JOIN_VERSION, "test-client", "/127.0.0.1")
            .await
    })
}

fn sync_request(
    group: &str,
    generation: i32,
    member_id: &str,
    assignments: &[(&str, &str)],
) -> SyncGroupRequest {
    SyncGroupRequest::default()
        .with_group_id(GroupId(str_bytes(group)))
        .with_generation_id(generation)
        .with_member_id(str_bytes(member_id))
        .with_protocol_type(Some(str_bytes("consumer")))
        .with_protocol_name(Some(str_bytes("range")))
        .with_assignments(
            assignments
                .iter()
                .map(|(m, a)| {
                    SyncGroupRequestAssignment::default()
                        .with_member_id(str_bytes(*m))
                        .with_assignment(Bytes::copy_from_slice(a.as_bytes()))
                })
                .collect(),
        )
}

fn spawn_sync(
    c: &Arc<GroupCoordinator>,
    req: SyncGroupRequest,
) -> tokio::task::JoinHandle<SyncGroupResponse> {
    let c = c.clone();
    tokio::spawn(async move { c.sync_group(req, SYNC_VERSION).await })
}

fn heartbeat(c: &GroupCoordinator, group: &str, generation: i32, member_id: &str) -> i16 {
    c.heartbeat(
        HeartbeatRequest::default()
            .with_group_id(GroupId(str_bytes(group)))
            .with_generation_id(generation)
            .with_member_id(str_bytes(member_id)),
        HEARTBEAT_VERSION,
    )
    .error_code
}

fn describe(c: &GroupCoordinator, group: &str, version: i16) -> DescribedGroup {
    c.describe_groups(
        DescribeGroupsRequest::default().with_groups(vec![GroupId(str_bytes(group))]),
        version,
    )
    .groups
    .remove(0)
}

fn assignment_for(member: &str) -> String {
    format!("assignment-of-{member}")
}

/// Joins `n` new members concurrently and syncs them; returns (generation, leader, members).
async fn stable_group(
    c: &Arc<GroupCoordinator>,
    group: &str,
    n: usize,
) -> (i32, String, Vec<String>) {
    let joins: Vec<_> = (0..n)
        .map(|_| spawn_join(c, join_request(group, "", 10_000, &["t"])))
        .collect();
    let mut responses = Vec::new();
    for j in joins {
        let r = j.await.unwrap();
        assert_eq!(r.error_code, NONE);
        responses.push(r);
    }
    sync_all(c, group, &responses).await;
    let members = responses.iter().map(|r| r.member_id.to_string()).collect();
    (
        responses[0].generation_id,
        responses[0].leader.to_string(),
        members,
    )
}

/// Syncs every member of a completed join, the leader last; checks each gets its assignment.
async fn sync_all(c: &Arc<GroupCoordinator>, group: &str, joined: &[JoinGroupResponse]) {
    let generation = joined[0].generation_id;
    let leader = joined[0].leader.to_string();
    let members: Vec<String> = joined.iter().map(|r| r.member_id.to_string()).collect();
    let assignments: Vec<(String, String)> = members
        .iter()
        .map(|m| (m.clone(), assignment_for(m)))
        .collect();
    let mut waiting = Vec::new();
    for m in members.iter().filter(|m| **m != leader) {
        waiting.push((
            m.clone(),
            spawn_sync(c, sync_request(group, generation, m, &[])),
        ));
    }
    let pairs: Vec<(&str, &str)> = assignments
        .iter()
        .map(|(m, a)| (m.as_str(), a.as_str()))
        .collect();
    let led = c
        .sync_group(
            sync_request(group, generation, &leader, &pairs),
            SYNC_VERSION,
        )
        .await;
    assert_eq!(led.error_code, NONE);
    assert_eq!(led.assignment, assignment_for(&leader).as_bytes());
    for (m, w) in waiting {
        let r = w.await.unwrap();
        assert_eq!(r.error_code, NONE);
        assert_eq!(r.assignment, assignment_for(&m).as_bytes());
    }
}

/// Polls a heartbeat until it answers `want` (members learn about rebalances this way).
async fn heartbeat_until(
    c: &GroupCoordinator,
    group: &str,
    generation: i32,
    member: &str,
    want: i16,
    within: Duration,
) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if heartbeat(c, group, generation, member) == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn two_members_joining_together_get_one_generation_and_their_assignments() {
    let f = fixture();
    let c = &f.c;
    let started = Instant::now();
    let (a, b) = tokio::join!(join(c, "g", ""), join(c, "g", ""));
    // The join completes after the short initial delay, not after a session timeout (10 s).
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!((a.error_code, b.error_code), (NONE, NONE));
    assert_eq!(a.generation_id, 1);
    assert_eq!(a.generation_id, b.generation_id);
    assert_eq!(a.leader, b.leader);
    assert_ne!(a.member_id, b.member_id);
    assert_eq!(a.protocol_name.as_deref(), Some("range"));
    assert_eq!(a.protocol_type.as_deref(), Some("consumer"));
    let (leader, follower) = if a.member_id == a.leader {
        (a, b)
    } else {
        (b, a)
    };
    assert_eq!(leader.members.len(), 2);
    assert!(leader
        .members
        .iter()
        .all(|m| m.metadata == subscription(&["t"])));
    assert!(follower.members.is_empty());

    // The follower's sync waits for the leader's assignments.
    let follower_id = follower.member_id.to_string();
    let leader_id = leader.member_id.to_string();
    let waiting = spawn_sync(c, sync_request("g", 1, &follower_id, &[]));
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert!(!waiting.is_finished());
    assert_eq!(
        describe(c, "g", 5).group_state.as_str(),
        "CompletingRebalance"
    );
    let led = c
        .sync_group(
            sync_request(
                "g",
                1,
                &leader_id,
                &[(&leader_id, "for-leader"), (&follower_id, "for-follower")],
            ),
            SYNC_VERSION,
        )
        .await;
    assert_eq!(led.error_code, NONE);
    assert_eq!(led.assignment, &b"for-leader"[..]);
    assert_eq!(led.protocol_name.as_deref(), Some("range"));
    let followed = waiting.await.unwrap();
    assert_eq!(followed.error_code, NONE);
    assert_eq!(followed.assignment, &b"for-follower"[..]);

    assert_eq!(heartbeat(c, "g", 1, &leader_id), NONE);
    assert_eq!(heartbeat(c, "g", 1, &follower_id), NONE);
    assert_eq!(
        heartbeat(c, "g", 0, &follower_id),
        code(ResponseError::IllegalGeneration)
    );
    assert_eq!(
        heartbeat(c, "g", 1, "stranger"),
        code(ResponseError::UnknownMemberId)
    );
    let d = describe(c, "g", 5);
    assert_eq!(d.group_state.as_str(), "Stable");
    assert_eq!(d.protocol_type.as_str(), "consumer");
    assert_eq!(d.protocol_data.as_str(), "range");
    assert_eq!(d.members.len(), 2);
    let described_follower = d
        .members
        .iter()
        .find(|m| m.member_id.as_str() == follower_id)
        .unwrap();
    assert_eq!(described_follower.member_assignment, &b"for-follower"[..]);
    assert_eq!(described_follower.client_host.as_str(), "/127.0.0.1");

    // A sync for a wrong generation or an unknown member is refused.
    let stale = c
        .sync_group(sync_request("g", 0, &follower_id, &[]), SYNC_VERSION)
        .await;
    assert_eq!(stale.error_code, code(ResponseError::IllegalGeneration));
    let unknown = c
        .sync_group(sync_request("g", 1, "stranger", &[]), SYNC_VERSION)
        .await;
    assert_eq!(unknown.error_code, code(ResponseError::UnknownMemberId));
    // A stable sync gives the current assignment again.
    let again = c
        .sync_group(sync_request("g", 1, &follower_id, &[]), SYNC_VERSION)
        .await;
    assert_eq!(again.assignment, &b"for-follower"[..]);
}

#[tokio::test]
async fn a_third_member_makes_everyone_rejoin_into_a_new_generation() {
    let f = fixture();
    let c = &f.c;
    let (generation, leader, members) = stable_group(c, "g", 2).await;
    let third = spawn_join(c, join_request("g", "", 10_000, &["t"]));
    for m in &members {
        assert!(
            heartbeat_until(
                c,
                "g",
                generation,
                m,
                code(ResponseError::RebalanceInProgress),
                Duration::from_secs(2)
            )
            .await,
            "member {m} was not told to rejoin"
        );
    }
    assert_eq!(
        describe(c, "g", 5).group_state.as_str(),
        "PreparingRebalance"
    );
    // A sync during the rebalance is told to rejoin too.
    let s = c
        .sync_group(
            sync_request("g", generation, &members[0], &[]),
            SYNC_VERSION,
        )
        .await;
    assert_eq!(s.error_code, code(ResponseError::RebalanceInProgress));

    let rejoins: Vec<_> = members
        .iter()
        .map(|m| spawn_join(c, join_request("g", m, 10_000, &["t"])))
        .collect();
    let mut responses = vec![third.await.unwrap()];
    for r in rejoins {
        responses.push(r.await.unwrap());
    }
    for r in &responses {
        assert_eq!(r.error_code, NONE);
        assert_eq!(r.generation_id, generation + 1);
        assert_eq!(r.leader.as_str(), leader, "the old leader stays leader");
    }
    let leader_response = responses
        .iter()
        .find(|r| r.member_id.as_str() == leader)
        .unwrap();
    assert_eq!(leader_response.members.len(), 3);
    // Rejoining members keep their ids.
    for m in &members {
        assert!(responses.iter().any(|r| r.member_id.as_str() == m));
    }
    responses.sort_by_key(|r| r.member_id.as_str() != leader);
    sync_all(c, "g", &responses).await;
    assert_eq!(describe(c, "g", 5).group_state.as_str(), "Stable");
    assert_eq!(describe(c, "g", 5).members.len(), 3);
}

#[tokio::test]
async fn a_follower_rejoining_a_stable_group_unchanged_gets_the_current_generation() {
    let f = fixture();
    let c = &f.c;
    let (generation, leader, members) = stable_group(c, "g", 2).await;
    let follower = members.iter().find(|m| **m != leader).unwrap();
    let r = join(c, "g", follower).await;
    assert_eq!(r.error_code, NONE);
    assert_eq!(r.generation_id, generation);
    assert_eq!(r.leader.as_str(), leader);
    assert_eq!(describe(c, "g", 5).group_state.as_str(), "Stable");
    assert_eq!(heartbeat(c, "g", generation, &leader), NONE);
}

#[tokio::test]
async fn leaving_rebalances_the_rest_and_the_last_leave_empties_the_group() {
    let f = fixture();
    let c = &f.c;
    let (generation, leader, members) = stable_group(c, "g", 2).await;
    let follower = members.iter().find(|m| **m != leader).unwrap().clone();
    let resp = c.leave_group(
        LeaveGroupRequest::default()
            .with_group_id(GroupId(str_bytes("g")))
            .with_members(vec![
                MemberIdentity::default().with_member_id(str_bytes(follower.clone()))
            ]),
        3,
    );
    assert_eq!(resp.error_code, NONE);
    assert_eq!(resp.members[0].error_code, NONE);
    assert_eq!(
        heartbeat(c, "g", generation, &leader),
        code(ResponseError::RebalanceInProgress)
    );
    assert_eq!(
        heartbeat(c, "g", generation, &follower),
        code(ResponseError::UnknownMemberId)
    );

    let r = join(c, "g", &leader).await;
    assert_eq!(r.error_code, NONE);
    assert_eq!(r.generation_id, generation + 1);
    assert_eq!(r.members.len(), 1);
    sync_all(c, "g", &[r]).await;

    // LeaveGroup v1: one member id, error at the top level.
    let resp = c.leave_group(
        LeaveGroupRequest::default()
            .with_group_id(GroupId(str_bytes("g")))
            .with_member_id(str_bytes(leader.clone())),
        1,
    );
    assert_eq!(resp.error_code, NONE);
    let d = describe(c, "g", 5);
    assert_eq!(d.group_state.as_str(), "Empty");
    assert_eq!(d.protocol_type.as_str(), "consumer");
    assert!(d.members.is_empty());
    assert_eq!(
        heartbeat(c, "g", generation + 1, &leader),
        code(ResponseError::UnknownMemberId)
    );
    let again = c.leave_group(
        LeaveGroupRequest::default()
            .with_group_id(GroupId(str_bytes("g")))
            .with_member_id(str_bytes(leader)),
        1,
    );
    assert_eq!(again.error_code, code(ResponseError::UnknownMemberId));
}

#[tokio::test]
async fn a_member_that_stops_heartbeating_is_removed_after_its_session_timeout() {
    let f = fixture();
    let c = &f.c;
    let session_ms = 300;
    let joins: Vec<_> = (0..2)
        .map(|_| spawn_join(c, join_request("g", "", session_ms, &["t"])))
        .collect();
    let mut joined = Vec::new();
    for j in joins {
        joined.push(j.await.unwrap());
    }
    sync_all(c, "g", &joined).await;
    let generation = joined[0].generation_id;
    let alive = joined[0].member_id.to_string();
    let silent = joined[1].member_id.to_string();

    let started = Instant::now();
    let mut told_to_rejoin = false;
    while started.elapsed() < Duration::from_secs(3) {
        if heartbeat(c, "g", generation, &alive) == code(ResponseError::RebalanceInProgress) {
            told_to_rejoin = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(told_to_rejoin, "the silent member was never expired");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "expired too early: {:?}",
        started.elapsed()
    );

    let r = c
        .join_group(
            join_request("g", &alive, session_ms, &["t"]),
            JOIN_VERSION,
            "test-client",
            "/127.0.0.1",
        )
        .await;
    assert_eq!(r.error_code, NONE);
    assert_eq!(r.generation_id, generation + 1);
    assert_eq!(r.members.len(), 1);
    assert_eq!(r.leader.as_str(), alive);
    assert_eq!(
        heartbeat(c, "g", r.generation_id, &silent),
        code(ResponseError::UnknownMemberId)
    );
}

#[tokio::test]
async fn a_join_abandoned_by_its_client_does_not_hold_up_the_group() {
    let f = fixture_with(CoordinatorSettings {
        initial_rebalance_delay: Duration::from_millis(200),
        ..settings()
    });
    let c = &f.c;
    let abandoned = spawn_join(c, join_request("g", "", 10_000, &["t"]));
    tokio::time::sleep(Duration::from_millis(30)).await;
    abandoned.abort();
    let r = join(c, "g", "").await;
    assert_eq!(r.error_code, NONE);
    assert_eq!(r.leader, r.member_id);
    assert_eq!(
        r.members.len(),
        1,
        "the abandoned member must not be in the generation"
    );
    sync_all(c, "g", &[r]).await;
    assert_eq!(describe(c, "g", 5).members.len(), 1);
}

#[tokio::test]
async fn a_member_whose_rejoin_is_abandoned_is_left_out_of_the_new_generation() {
    let f = fixture();
    let c = &f.c;
    let (generation, leader, members) = stable_group(c, "g", 2).await;
    let follower = members.iter().find(|m| **m != leader).unwrap().clone();
    let newcomer = spawn_join(c, join_request("g", "", 10_000, &["t"]));
    assert!(
        heartbeat_until(
            c,
            "g",
            generation,
            &leader,
            code(ResponseError::RebalanceInProgress),
            Duration::from_secs(2)
        )
        .await
    );
    // The follower's client sends its rejoin and then goes away before the answer.
    let abandoned = spawn_join(c, join_request("g", &follower, 10_000, &["t"]));
    tokio::time::sleep(Duration::from_millis(30)).await;
    abandoned.abort();
    tokio::time::sleep(Duration::from_millis(10)).await;

    let started = Instant::now();
    let led = join(c, "g", &leader).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    let joined = newcomer.await.unwrap();
    assert_eq!((led.error_code, joined.error_code), (NONE, NONE));
    assert_eq!(led.generation_id, generation + 1);
    let in_generation: Vec<&str> = led.members.iter().map(|m| m.member_id.as_str()).collect();
    assert_eq!(
        in_generation,
        vec![leader.as_str(), joined.member_id.as_str()]
    );
    // If that client comes back it is told to join afresh.
    assert_eq!(
        heartbeat(c, "g", led.generation_id, &follower),
        code(ResponseError::UnknownMemberId)
    );
}

#[tokio::test]
async fn a_static_member_keeps_its_member_id_and_fences_impostors() {
    let f = fixture();
    let c = &f.c;
    let req =
        join_request("g", "", 10_000, &["t"]).with_group_instance_id(Some(str_bytes("instance-1")));
    let first = c.join_group(req.clone(), 5, "client", "/127.0.0.1").await;
    assert_eq!(first.error_code, NONE);
    let id = first.member_id.to_string();
    assert!(id.starts_with("instance-1-"));
    sync_all(c, "g", &[first]).await;

    // Restarted without its member id: it gets the same one back.
    let again = c.join_group(req.clone(), 5, "client", "/127.0.0.1").await;
    assert_eq!(again.error_code, NONE);
    assert_eq!(again.member_id.as_str(), id);

    let impostor = c
        .join_group(
            req.with_member_id(str_bytes("someone-else")),
            5,
            "client",
            "/127.0.0.1",
        )
        .await;
    assert_eq!(impostor.error_code, code(ResponseError::FencedInstanceId));
    let hb = c.heartbeat(
        HeartbeatRequest::default()
            .with_group_id(GroupId(str_bytes("g")))
            .with_generation_id(again.generation_id)
            .with_member_id(str_bytes("someone-else"))
            .with_group_instance_id(Some(str_bytes("instance-1"))),
        3,
    );
    assert_eq!(hb.error_code, code(ResponseError::FencedInstanceId));
    let d = describe(c, "g", 5);
    assert_eq!(
        d.members[0].group_instance_id.as_deref(),
        Some("instance-1")
    );
}

#[tokio::test]
async fn joins_are_checked_for_group_id_session_timeout_and_protocols() {
    let f = fixture_with(CoordinatorSettings {
        min_session_timeout_ms: 1000,
        ..settings()
    });
    let c = &f.c;
    let r = c
        .join_group(join_request("", "", 10_000, &["t"]), JOIN_VERSION, "c", "h")
        .await;
    assert_eq!(r.error_code, code(ResponseError::InvalidGroupId));
    let r = c
        .join_group(join_request("g", "", 10, &["t"]), JOIN_VERSION, "c", "h")
        .await;
    assert_eq!(r.error_code, code(ResponseError::InvalidSessionTimeout));
    let r = join(c, "g", "not-a-member").await;
    assert_eq!(r.error_code, code(ResponseError::UnknownMemberId));
    let r = c
        .join_group(
            join_request("g", "", 10_000, &["t"]).with_protocol_type(StrBytes::new()),
            JOIN_VERSION,
            "c",
            "h",
        )
        .await;
    assert_eq!(r.error_code, code(ResponseError::InconsistentGroupProtocol));
    // Failed joins leave no group behind.
    assert_eq!(describe(c, "g", 5).group_state.as_str(), "Dead");

    let (_, _, _) = stable_group(c, "g", 1).await;
    let other = join_request("g", "", 10_000, &["t"]).with_protocols(vec![
        JoinGroupRequestProtocol::default()
            .with_name(str_bytes("roundrobin"))
            .with_metadata(subscription(&["t"])),
    ]);
    let r = c.join_group(other, JOIN_VERSION, "c", "h").await;
    assert_eq!(r.error_code, code(ResponseError::InconsistentGroupProtocol));
    let r = c
        .join_group(
            join_request("g", "", 10_000, &["t"]).with_protocol_type(str_bytes("connect")),
            JOIN_VERSION,
            "c",
            "h",
        )
        .await;
    assert_eq!(r.error_code, code(ResponseError::InconsistentGroupProtocol));
}

fn commit_request(
    group: &str,
    generation: i32,
    member: &str,
    offsets: &[(&str, i32, i64)],
) -> OffsetCommitRequest {
    let mut topics: Vec<OffsetCommitRequestTopic> = Vec::new();
    for (topic, partition, offset) in offsets {
        let p = OffsetCommitRequestPartition::default()
            .with_partition_index(*partition)
            .with_committed_offset(*offset)
            .with_committed_leader_epoch(3)
            .with_committed_metadata(Some(str_bytes(format!("meta-{offset}"))));
        match topics.iter_mut().find(|t| t.name.0.as_str() == *topic) {
            Some(t) => t.partitions.push(p),
            None => topics.push(
                OffsetCommitRequestTopic::default()
                    .with_name(TopicName(str_bytes(*topic)))
                    .with_partitions(vec![p]),
            ),
        }
    }
    OffsetCommitRequest::default()
        .with_group_id(GroupId(str_bytes(group)))
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(str_bytes(member))
        .with_topics(topics)
}

/// (topic, partition) -> error code of a commit response.
fn commit_errors(resp: &OffsetCommitResponse) -> Vec<(String, i32, i16)> {
    resp.topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|p| (t.name.0.to_string(), p.partition_index, p.error_code))
        })
        .collect()
}

#[tokio::test]
async fn committed_offsets_can_be_fetched_back_at_old_and_new_versions() {
    let f = fixture();
    let c = &f.c;
    create_topic(&f.store, "orders", 3);
    let resp = c.offset_commit(
        commit_request(
            "g1",
            -1,
            "",
            &[
                ("orders", 0, 5),
                ("orders", 1, 7),
                ("orders", 9, 1),
                ("nope", 0, 1),
            ],
        ),
        8,
    );
    assert_eq!(
        commit_errors(&resp),
        vec![
            ("orders".into(), 0, NONE),
            ("orders".into(), 1, NONE),
            (
                "orders".into(),
                9,
                code(ResponseError::UnknownTopicOrPartition)
            ),
            (
                "nope".into(),
                0,
                code(ResponseError::UnknownTopicOrPartition)
            ),
        ]
    );
    assert_eq!(c.committed("g1", "orders", 0), Some(5));
    assert_eq!(c.committed("g1", "orders", 1), Some(7));
    assert_eq!(c.committed("g1", "orders", 2), None);
    assert_eq!(c.committed("g1", "nope", 0), None);

    // v7: one group, the partitions asked for; no offset is -1 without an error.
    let v7 = c.offset_fetch(
        OffsetFetchRequest::default()
            .with_group_id(GroupId(str_bytes("g1")))
            .with_topics(Some(vec![
                OffsetFetchRequestTopic::default()
                    .with_name(TopicName(str_bytes("orders")))
                    .with_partition_indexes(vec![0, 1, 2]),
                OffsetFetchRequestTopic::default()
                    .with_name(TopicName(str_bytes("nope")))
                    .with_partition_indexes(vec![0]),
            ])),
        7,
    );
    assert_eq!(v7.error_code, NONE);
    let orders = &v7.topics[0].partitions;
    assert_eq!(
        (orders[0].committed_offset, orders[0].metadata.as_deref()),
        (5, Some("meta-5"))
    );
    assert_eq!(orders[0].committed_leader_epoch, 3);
    assert_eq!(orders[1].committed_offset, 7);
    assert_eq!(
        (orders[2].committed_offset, orders[2].error_code),
        (-1, NONE)
    );
    assert_eq!(
        (
            v7.topics[1].partitions[0].committed_offset,
            v7.topics[1].partitions[0].error_code
        ),
        (-1, NONE)
    );

    // v8: batched groups; null topics means everything the group committed.
    let v8 = c.offset_fetch(
        OffsetFetchRequest::default().with_groups(vec![
            OffsetFetchRequestGroup::default()
                .with_group_id(GroupId(str_bytes("g1")))
                .with_topics(None),
            OffsetFetchRequestGroup::default()
                .with_group_id(GroupId(str_bytes("unknown")))
                .with_topics(Some(vec![OffsetFetchRequestTopics::default()
                    .with_name(TopicName(str_bytes("orders")))
                    .with_partition_indexes(vec![0])])),
        ]),
        8,
    );
    let all = &v8.groups[0];
    assert_eq!(all.error_code, NONE);
    assert_eq!(all.topics.len(), 1);
    let offsets: Vec<(i32, i64)> = all.topics[0]
        .partitions
        .iter()
        .map(|p| (p.partition_index, p.committed_offset))
        .collect();
    assert_eq!(offsets, vec![(0, 5), (1, 7)]);
    assert_eq!(v8.groups[1].error_code, NONE);
    assert_eq!(v8.groups[1].topics[0].partitions[0].committed_offset, -1);

    // Commits with a generation to groups that have no live members.
    let r = c.offset_commit(commit_request("fresh", 3, "m", &[("orders", 0, 1)]), 9);
    assert_eq!(commit_errors(&r)[0].2, code(ResponseError::GroupIdNotFound));
    let r = c.offset_commit(commit_request("fresh", 3, "m", &[("orders", 0, 1)]), 8);
    assert_eq!(
        commit_errors(&r)[0].2,
        code(ResponseError::IllegalGeneration)
    );
    let r = c.offset_commit(commit_request("g1", 3, "m", &[("orders", 0, 1)]), 8);
    assert_eq!(commit_errors(&r)[0].2, code(ResponseError::UnknownMemberId));
    assert_eq!(c.committed("g1", "orders", 0), Some(5));
}

#[tokio::test]
async fn commits_of_a_live_group_are_checked_against_its_generation() {
    let f = fixture();
    let c = &f.c;
    create_topic(&f.store, "t", 1);
    let (generation, leader, _) = stable_group(c, "g", 1).await;
    let ok = c.offset_commit(commit_request("g", generation, &leader, &[("t", 0, 42)]), 8);
    assert_eq!(commit_errors(&ok)[0].2, NONE);
    assert_eq!(c.committed("g", "t", 0), Some(42));
    let stale = c.offset_commit(
        commit_request("g", generation - 1, &leader, &[("t", 0, 1)]),
        8,
    );
    assert_eq!(
        commit_errors(&stale)[0].2,
        code(ResponseError::IllegalGeneration)
    );
    let stranger = c.offset_commit(
        commit_request("g", generation, "stranger", &[("t", 0, 1)]),
        8,
    );
    assert_eq!(
        commit_errors(&stranger)[0].2,
        code(ResponseError::UnknownMemberId)
    );
    let simple = c.offset_commit(commit_request("g", -1, "", &[("t", 0, 1)]), 8);
    assert_eq!(
        commit_errors(&simple)[0].2,
        code(ResponseError::UnknownMemberId)
    );
    assert_eq!(c.committed("g", "t", 0), Some(42));
}

#[tokio::test]
async fn committed_offsets_survive_reopening_the_coordinator() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = LogStore::open(dir.path()).unwrap();
        create_topic(&store, "t", 2);
        let c = GroupCoordinator::open(store.clone(), settings()).unwrap();
        c.offset_commit(
            commit_request("g1", -1, "", &[("t", 0, 10), ("t", 1, 20)]),
            8,
        );
        c.offset_commit(commit_request("g1", -1, "", &[("t", 0, 11)]), 8);
        c.offset_commit(commit_request("g2", -1, "", &[("t", 0, 5)]), 8);
        let deleted = c.delete_groups(
            DeleteGroupsRequest::default().with_groups_names(vec![GroupId(str_bytes("g2"))]),
            2,
        );
        assert_eq!(deleted.results[0].error_code, NONE);
        store.flush_all().unwrap();
    }
    let store = LogStore::open(dir.path()).unwrap();
    let topic = store.topic(OFFSETS_TOPIC).unwrap();
    assert_eq!(topic.config().get("cleanup.policy"), Some("compact"));
    assert_eq!(topic.partition_count(), 1);
    let c = GroupCoordinator::open(store.clone(), settings()).unwrap();
    assert_eq!(c.committed("g1", "t", 0), Some(11));
    assert_eq!(c.committed("g1", "t", 1), Some(20));
    assert_eq!(c.committed("g2", "t", 0), None);
    let listed = c.list_groups(ListGroupsRequest::default(), 4);
    let groups: Vec<(&str, &str, &str)> = listed
        .groups
        .iter()
        .map(|g| {
            (
                g.group_id.0.as_str(),
                g.protocol_type.as_str(),
                g.group_state.as_str(),
            )
        })
        .collect();
    assert_eq!(groups, vec![("g1", "consumer", "Empty")]);
    let d = describe(&c, "g1", 5);
    assert_eq!((d.error_code, d.group_state.as_str()), (NONE, "Empty"));
    let fetched = c.offset_fetch(
        OffsetFetchRequest::default()
            .with_group_id(GroupId(str_bytes("g1")))
            .with_topics(None),
        3,
    );
    assert_eq!(
        fetched.topics[0].partitions[0].metadata.as_deref(),
        Some("meta-11")
    );

    // The log holds Kafka's record format: key v1, value v3, a tombstone for the deletion.
    let log = topic.partition(0).unwrap();
    let log = log.lock();
    let mut data = log.read(log.log_start_offset(), 1 << 20).unwrap();
    let records: Vec<_> = kafka_protocol::records::RecordBatchDecoder::decode_all(&mut data)
        .unwrap()
        .into_iter()
        .flat_map(|s| s.records)
        .collect();
    assert_eq!(records.len(), 5);
    assert_eq!(
        records[0].key.as_deref(),
        Some(&encode_key("g1", "t", 0)[..])
    );
    assert_eq!(&records[0].value.as_deref().unwrap()[..2], &[0, 3]);
    assert_eq!(records[0].producer_id, -1);
    assert!(records[4].value.is_none());
}

#[test]
fn offset_records_use_kafkas_layout() {
    let key = encode_key("g", "t", 7);
    assert_eq!(&key[..], &[0, 1, 0, 1, b'g', 0, 1, b't', 0, 0, 0, 7]);
    let value = CommittedOffset {
        offset: 42,
        leader_epoch: 5,
        metadata: "m".into(),
        commit_timestamp: 1000,
    };
    let encoded = encode_value(&value);
    let mut expected = vec![0, 3];
    expected.extend_from_slice(&42i64.to_be_bytes());
    expected.extend_from_slice(&5i32.to_be_bytes());
    expected.extend_from_slice(&[0, 1, b'm']);
    expected.extend_from_slice(&1000i64.to_be_bytes());
    assert_eq!(&encoded[..], &expected[..]);
    match decode_record(Some(&key), Some(encoded)) {
        Some(OffsetChange::Commit {
            group,
            topic,
            partition,
            value: v,
        }) => {
            assert_eq!((group.as_str(), topic.as_str(), partition), ("g", "t", 7));
            assert_eq!(v, value);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(
        decode_record(Some(&key), None),
        Some(OffsetChange::Delete { .. })
    ));
    // Value v1 (Kafka 2.x era): offset, metadata, commit and expire timestamps.
    let mut v1 = vec![0, 1];
    v1.extend_from_slice(&9i64.to_be_bytes());
    v1.extend_from_slice(&[0, 0]);
    v1.extend_from_slice(&1i64.to_be_bytes());
    v1.extend_from_slice(&2i64.to_be_bytes());
    match decode_record(Some(&key), Some(Bytes::from(v1))) {
        Some(OffsetChange::Commit { value, .. }) => {
            assert_eq!((value.offset, value.leader_epoch), (9, -1))
        }
        other => panic!("unexpected {other:?}"),
    }
    // Group metadata records (key version 2) are not offsets.
    assert!(decode_record(Some(&[0, 2, 0, 1, b'g']), Some(Bytes::from_static(b"x"))).is_none());
    assert!(decode_record(None, None).is_none());
}

#[tokio::test]
async fn groups_are_deleted_only_when_empty() {
    let f = fixture();
    let c = &f.c;
    create_topic(&f.store, "t", 1);
    let delete = |id: &str| {
        c.delete_groups(
            DeleteGroupsRequest::default().with_groups_names(vec![GroupId(str_bytes(id))]),
            2,
        )
        .results[0]
            .error_code
    };
    assert_eq!(delete("unknown"), code(ResponseError::GroupIdNotFound));
    assert_eq!(delete(""), code(ResponseError::InvalidGroupId));

    let (generation, leader, _) = stable_group(c, "g", 1).await;
    c.offset_commit(commit_request("g", generation, &leader, &[("t", 0, 9)]), 8);
    assert_eq!(delete("g"), code(ResponseError::NonEmptyGroup));
    assert_eq!(c.committed("g", "t", 0), Some(9));

    c.leave_group(
        LeaveGroupRequest::default()
            .with_group_id(GroupId(str_bytes("g")))
            .with_member_id(str_bytes(leader)),
        0,
    );
    assert_eq!(delete("g"), NONE);
    assert_eq!(c.committed("g", "t", 0), None);
    let d5 = describe(c, "g", 5);
    assert_eq!((d5.error_code, d5.group_state.as_str()), (NONE, "Dead"));
    let d6 = describe(c, "g", 6);
    assert_eq!(
        (d6.error_code, d6.group_state.as_str()),
        (code(ResponseError::GroupIdNotFound), "Dead")
    );
    assert!(d6.error_message.is_some());
    assert!(c
        .list_groups(ListGroupsRequest::default(), 5)
        .groups
        .is_empty());
}

#[tokio::test]
async fn offsets_of_subscribed_topics_cannot_be_deleted() {
    let f = fixture();
    let c = &f.c;
    create_topic(&f.store, "t", 1);
    create_topic(&f.store, "other", 1);
    let (generation, leader, _) = stable_group(c, "g", 1).await;
    c.offset_commit(
        commit_request("g", generation, &leader, &[("t", 0, 3), ("other", 0, 4)]),
        8,
    );
    let request = |group: &str| {
        OffsetDeleteRequest::default()
            .with_group_id(GroupId(str_bytes(group)))
            .with_topics(
                ["t", "other"]
                    .iter()
                    .map(|t| {
                        OffsetDeleteRequestTopic::default()
                            .with_name(TopicName(str_bytes(*t)))
                            .with_partitions(vec![
                                OffsetDeleteRequestPartition::default().with_partition_index(0)
                            ])
                    })
                    .collect(),
            )
    };
    let resp = c.offset_delete(request("g"), 0);
    assert_eq!(resp.error_code, NONE);
    assert_eq!(
        resp.topics[0].partitions[0].error_code,
        code(ResponseError::GroupSubscribedToTopic)
    );
    assert_eq!(resp.topics[1].partitions[0].error_code, NONE);
    assert_eq!(c.committed("g", "t", 0), Some(3));
    assert_eq!(c.committed("g", "other", 0), None);
    assert_eq!(
        c.offset_delete(request("unknown"), 0).error_code,
        code(ResponseError::GroupIdNotFound)
    );
}

#[tokio::test]
async fn deleting_a_topic_drops_its_committed_offsets() {
    let f = fixture();
    let c = &f.c;
    create_topic(&f.store, "t", 1);
    create_topic(&f.store, "kept", 1);
    c.offset_commit(
        commit_request("g", -1, "", &[("t", 0, 3), ("kept", 0, 4)]),
        8,
    );
    c.remove_topic("t");
    assert_eq!(c.committed("g", "t", 0), None);
    assert_eq!(c.committed("g", "kept", 0), Some(4));
    drop(f.c);
    let reopened = GroupCoordinator::open(f.store.clone(), settings()).unwrap();
    assert_eq!(reopened.committed("g", "t", 0), None);
    assert_eq!(reopened.committed("g", "kept", 0), Some(4));
    drop(f.dir);
}

#[tokio::test]
async fn list_groups_filters_by_state_and_type() {
    let f = fixture();
    let c = &f.c;
    create_topic(&f.store, "t", 1);
    stable_group(c, "live", 1).await;
    c.offset_commit(commit_request("idle", -1, "", &[("t", 0, 1)]), 8);
    let list = |states: &[&str], types: &[&str], version: i16| -> Vec<String> {
        c.list_groups(
            ListGroupsRequest::default()
                .with_states_filter(states.iter().map(|s| str_bytes(*s)).collect())
                .with_types_filter(types.iter().map(|s| str_bytes(*s)).collect()),
            version,
        )
        .groups
        .iter()
        .map(|g| g.group_id.0.to_string())
        .collect()
    };
    assert_eq!(list(&[], &[], 0), vec!["idle", "live"]);
    assert_eq!(list(&["stable"], &[], 4), vec!["live"]);
    assert_eq!(list(&["Empty"], &[], 4), vec!["idle"]);
    assert_eq!(list(&[], &["Classic"], 5), vec!["idle", "live"]);
    assert!(list(&[], &["consumer"], 5).is_empty());
    let v5 = c.list_groups(ListGroupsRequest::default(), 5);
    assert!(v5.groups.iter().all(|g| g.group_type.as_str() == "classic"));
}

fn encodes<M: Encodable>(message: &M, version: i16) {
    let mut buf = BytesMut::new();
    message
        .encode(&mut buf, version)
        .unwrap_or_else(|e| panic!("{} v{version}: {e}", std::any::type_name::<M>()));
}

/// Every response this coordinator builds encodes at every version it may be asked for.
#[tokio::test]
async fn responses_encode_at_every_supported_version() {
    let f = fixture();
    let c = &f.c;
    create_topic(&f.store, "t", 1);
    for version in JoinGroupRequest::VERSIONS.min..=JoinGroupRequest::VERSIONS.max {
        let group = format!("join-v{version}");
        let mut req = join_request(&group, "", 10_000, &["t"]);
        if version >= 5 {
            req.group_instance_id = Some(str_bytes("instance"));
        }
        let joined = c.join_group(req, version, "client", "/127.0.0.1").await;
        assert_eq!(joined.error_code, NONE, "join v{version}");
        encodes(&joined, version);
        let error = c
            .join_group(
                join_request(&group, "stranger", 10_000, &["t"]),
                version,
                "client",
                "/127.0.0.1",
            )
            .await;
        encodes(&error, version);
    }
    let (generation, leader, _) = stable_group(c, "g", 1).await;
    for version in SyncGroupRequest::VERSIONS.min..=SyncGroupRequest::VERSIONS.max {
        let ok = c
            .sync_group(sync_request("g", generation, &leader, &[]), version)
            .await;
        assert_eq!(ok.error_code, NONE, "sync v{version}");
        encodes(&ok, version);
        encodes(
            &c.sync_group(sync_request("g", generation, "x", &[]), version)
                .await,
            version,
        );
    }
    for version in HeartbeatRequest::VERSIONS.min..=HeartbeatRequest::VERSIONS.max {
        let req = HeartbeatRequest::default()
            .with_group_id(GroupId(str_bytes("g")))
            .with_generation_id(generation)
            .with_member_id(str_bytes(leader.clone()));
        let resp = c.heartbeat(req, version);
        assert_eq!(resp.error_code, NONE);
        encodes(&resp, version);
    }
    for version in OffsetCommitRequest::VERSIONS.min..=OffsetCommitRequest::VERSIONS.max {
        let resp = c.offset_commit(
            commit_request("g", generation, &leader, &[("t", 0, 1), ("x", 0, 1)]),
            version,
        );
        assert_eq!(commit_errors(&resp)[0].2, NONE, "commit v{version}");
        encodes(&resp, version);
    }
    for version in OffsetFetchRequest::VERSIONS.min..=OffsetFetchRequest::VERSIONS.max {
        let req = if version >= 8 {
            OffsetFetchRequest::default().with_groups(vec![
                OffsetFetchRequestGroup::default()
                    .with_group_id(GroupId(str_bytes("g")))
                    .with_topics(None),
                OffsetFetchRequestGroup::default()
                    .with_group_id(GroupId(str_bytes("g")))
                    .with_topics(Some(vec![OffsetFetchRequestTopics::default()
                        .with_name(TopicName(str_bytes("t")))
                        .with_partition_indexes(vec![0, 1])])),
            ])
        } else {
            OffsetFetchRequest::default()
                .with_group_id(GroupId(str_bytes("g")))
                .with_topics(Some(vec![OffsetFetchRequestTopic::default()
                    .with_name(TopicName(str_bytes("t")))
                    .with_partition_indexes(vec![0, 1])]))
        };
        encodes(&c.offset_fetch(req, version), version);
    }
    for version in ListGroupsRequest::VERSIONS.min..=ListGroupsRequest::VERSIONS.max {
        encodes(
            &c.list_groups(ListGroupsRequest::default(), version),
            version,
        );
    }
    for version in DescribeGroupsRequest::VERSIONS.min..=DescribeGroupsRequest::VERSIONS.max {
        let mut req = DescribeGroupsRequest::default().with_groups(vec![
            GroupId(str_bytes("g")),
            GroupId(str_bytes("join-v5")),
            GroupId(str_bytes("missing")),
        ]);
        if version >= 3 {
            req.include_authorized_operations = true;
        }
        let resp = c.describe_groups(req, version);
        if version >= 3 {
            assert_eq!(
                resp.groups[0].authorized_operations,
                GROUP_AUTHORIZED_OPERATIONS
            );
        }
        encodes(&resp, version);
    }
    for version in OffsetDeleteRequest::VERSIONS.min..=OffsetDeleteRequest::VERSIONS.max {
        let req = OffsetDeleteRequest::default()
            .with_group_id(GroupId(str_bytes("g")))
            .with_topics(vec![OffsetDeleteRequestTopic::default()
                .with_name(TopicName(str_bytes("t")))
                .with_partitions(vec![OffsetDeleteRequestPartition::default()])]);
        encodes(&c.offset_delete(req, version), version);
    }
    for version in LeaveGroupRequest::VERSIONS.min..=LeaveGroupRequest::VERSIONS.max {
        let group = format!("join-v{}", version.max(5));
        let req = LeaveGroupRequest::default()
            .with_group_id(GroupId(str_bytes(group)))
            .with_member_id(if version < 3 {
                str_bytes("nobody")
            } else {
                StrBytes::new()
            })
            .with_members(if version >= 3 {
                vec![MemberIdentity::default()
                    .with_member_id(str_bytes("nobody"))
                    .with_group_instance_id(Some(str_bytes("instance")))]
            } else {
                Vec::new()
            });
        encodes(&c.leave_group(req, version), version);
    }
    for version in DeleteGroupsRequest::VERSIONS.min..=DeleteGroupsRequest::VERSIONS.max {
        let req = DeleteGroupsRequest::default()
            .with_groups_names(vec![GroupId(str_bytes("g")), GroupId(str_bytes("missing"))]);
        encodes(&c.delete_groups(req, version), version);
    }
}
