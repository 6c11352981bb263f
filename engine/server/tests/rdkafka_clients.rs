//! The sandbox driven by a real Kafka client: rdkafka (librdkafka, bundled). Each test starts
//! its own sandbox on a free port in a temp dir, and everything a user of the workbench relies
//! on goes through the client's public API: topic admin, idempotent producing, group
//! consumption with commits, rebalances between two consumers, and a restart on the same data.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};
use rdkafka::admin::{
    AdminClient, AdminOptions, NewPartitions, NewTopic, ResourceSpecifier, TopicReplication,
};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use sluice_server::{Sandbox, SandboxOptions};

/// What one whole test may take before it is failed (they all end by themselves).
const TEST_TIMEOUT: Duration = Duration::from_secs(180);
/// Timeout of one blocking client call (metadata, watermarks, committed offsets).
const CALL: Duration = Duration::from_secs(30);

async fn start(dir: &Path) -> Result<Sandbox> {
    Sandbox::start(SandboxOptions {
        kafka_port: 0,
        ui_port: 0,
        registry_port: 0,
        sql_port: 0,
        connect_port: 0,
        ..SandboxOptions::new(dir)
    })
    .await
}

/// Runs a test body with an overall deadline, so a hang fails instead of stalling the run.
async fn bounded<T, F: Future<Output = Result<T>>>(body: F) -> Result<T> {
    tokio::time::timeout(TEST_TIMEOUT, body)
        .await
        .map_err(|_| anyhow!("test did not finish within {TEST_TIMEOUT:?}"))?
}

/// Polls `check` (every 50 ms) until it yields a value or `limit` passes.
async fn wait_for<T>(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Result<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return Ok(v);
        }
        if Instant::now() >= deadline {
            bail!("timed out after {limit:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs a blocking librdkafka call without stalling the runtime that serves the broker.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

fn admin(addr: &str) -> Result<AdminClient<DefaultClientContext>> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", addr)
        .create()?)
}

fn admin_opts() -> AdminOptions {
    AdminOptions::new()
        .request_timeout(Some(CALL))
        .operation_timeout(Some(CALL))
}

async fn create_topic(addr: &str, name: &str, partitions: i32) -> Result<()> {
    let admin = admin(addr)?;
    let res = admin
        .create_topics(
            &[NewTopic::new(name, partitions, TopicReplication::Fixed(1))],
            &admin_opts(),
        )
        .await?;
    for r in res {
        r.map_err(|(t, e)| anyhow!("creating {t}: {e:?}"))?;
    }
    Ok(())
}

fn producer(addr: &str) -> Result<FutureProducer> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", addr)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "60000")
        .create()?)
}

fn consumer(addr: &str, group: &str) -> Result<StreamConsumer> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", addr)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "500")
        .create()?)
}

/// Closes a group consumer (LeaveGroup) off the runtime's worker: rdkafka's drop blocks.
async fn close<C: Send + 'static>(c: C) -> Result<()> {
    tokio::task::spawn_blocking(move || drop(c)).await?;
    Ok(())
}

/// One produced record as a delivery report placed it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sent {
    key: Vec<u8>,
    value: Vec<u8>,
    headers: Vec<(String, Vec<u8>)>,
}

/// Sends `n` keyed records (every third with two headers) and returns them by
/// (partition, offset) as the delivery reports said.
async fn produce(
    addr: &str,
    topic: &str,
    n: usize,
    tag: &str,
) -> Result<BTreeMap<(i32, i64), Sent>> {
    let producer = producer(addr)?;
    let mut pending = Vec::with_capacity(n);
    for i in 0..n {
        let sent = Sent {
            key: format!("key-{}", i % 37).into_bytes(),
            value: format!("{tag} value {i} {}", "x".repeat(i % 50)).into_bytes(),
            headers: if i % 3 == 0 {
                vec![
                    ("trace-id".to_string(), format!("t{i}").into_bytes()),
                    ("empty".to_string(), Vec::new()),
                ]
            } else {
                Vec::new()
            },
        };
        let mut record = FutureRecord::to(topic).key(&sent.key).payload(&sent.value);
        if !sent.headers.is_empty() {
            let mut h = OwnedHeaders::new();
            for (k, v) in &sent.headers {
                h = h.insert(Header {
                    key: k,
                    value: Some(v),
                });
            }
            record = record.headers(h);
        }
        let fut = producer
            .send_result(record)
            .map_err(|(e, _)| anyhow!("enqueueing record {i}: {e}"))?;
        pending.push((fut, sent));
    }
    let mut out = BTreeMap::new();
    for (i, (fut, sent)) in pending.into_iter().enumerate() {
        let delivery = fut
            .await
            .context("delivery future dropped")?
            .map_err(|(e, _)| anyhow!("record {i} not delivered: {e}"))?;
        ensure!(
            out.insert((delivery.partition, delivery.offset), sent)
                .is_none(),
            "two records delivered at {}/{}",
            delivery.partition,
            delivery.offset
        );
    }
    Ok(out)
}

fn headers_of<M: Message>(m: &M) -> Vec<(String, Vec<u8>)> {
    m.headers()
        .map(|hs| {
            hs.iter()
                .map(|h| (h.key.to_string(), h.value.unwrap_or_default().to_vec()))
                .collect()
        })
        .unwrap_or_default()
}

/// Receives records until every expected one has been seen, checking each against what the
/// delivery reports said.
async fn consume_all(
    consumer: &StreamConsumer,
    expected: &BTreeMap<(i32, i64), Sent>,
    limit: Duration,
) -> Result<()> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut seen = BTreeSet::new();
    while seen.len() < expected.len() {
        let m = tokio::time::timeout_at(deadline, consumer.recv())
            .await
            .map_err(|_| {
                anyhow!(
                    "received {} of {} records within {limit:?}",
                    seen.len(),
                    expected.len()
                )
            })?
            .context("consumer error")?;
        let at = (m.partition(), m.offset());
        let want = expected
            .get(&at)
            .ok_or_else(|| anyhow!("record at {at:?} was never produced"))?;
        ensure!(m.key() == Some(&want.key[..]), "key at {at:?}");
        ensure!(m.payload() == Some(&want.value[..]), "value at {at:?}");
        ensure!(
            headers_of(&m) == want.headers,
            "headers at {at:?}: {:?}",
            headers_of(&m)
        );
        ensure!(seen.insert(at), "record at {at:?} delivered twice");
    }
    Ok(())
}

/// End offsets (high watermarks) of every partition of a topic.
fn end_offsets<C: Consumer>(c: &C, topic: &str, partitions: i32) -> Result<BTreeMap<i32, i64>> {
    (0..partitions)
        .map(|p| {
            let (_, high) = blocking(|| c.fetch_watermarks(topic, p, CALL))?;
            Ok((p, high))
        })
        .collect()
}

/// The group's committed offsets for every partition of a topic (-1 where none).
fn committed<C: Consumer>(c: &C, topic: &str, partitions: i32) -> Result<BTreeMap<i32, i64>> {
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let got = blocking(|| c.committed_offsets(tpl, CALL))?;
    got.elements_for_topic(topic)
        .iter()
        .map(|e| {
            e.error()?;
            Ok((
                e.partition(),
                match e.offset() {
                    Offset::Offset(o) => o,
                    _ => -1,
                },
            ))
        })
        .collect()
}

fn assigned(c: &StreamConsumer) -> BTreeSet<i32> {
    c.assignment()
        .map(|tpl| tpl.elements().iter().map(|e| e.partition()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn admin_create_describe_grow_delete() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let sandbox = start(dir.path()).await?;
    let addr = sandbox.kafka_address().to_string();
    bounded(async {
        let admin = admin(&addr)?;
        let opts = admin_opts();
        let topic = "admin-orders";

        let created = admin
            .create_topics(
                &[NewTopic::new(topic, 3, TopicReplication::Fixed(1))
                    .set("retention.ms", "3600000")
                    .set("cleanup.policy", "delete")],
                &opts,
            )
            .await?;
        assert_eq!(created, vec![Ok(topic.to_string())]);

        // Creating it again is refused with TOPIC_ALREADY_EXISTS.
        let again = admin
            .create_topics(&[NewTopic::new(topic, 3, TopicReplication::Fixed(1))], &opts)
            .await?;
        assert!(
            matches!(&again[..], [Err((t, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists))] if t == topic),
            "{again:?}"
        );

        let md = blocking(|| admin.inner().fetch_metadata(Some(topic), CALL))?;
        let t = md.topics().iter().find(|t| t.name() == topic).context("topic in metadata")?;
        assert_eq!(t.partitions().len(), 3);

        let described = admin
            .describe_configs(&[ResourceSpecifier::Topic(topic)], &opts)
            .await?;
        assert_eq!(described.len(), 1);
        let resource = described[0].as_ref().map_err(|e| anyhow!("describe: {e:?}"))?;
        let retention = resource.get("retention.ms").context("retention.ms described")?;
        assert_eq!(retention.value.as_deref(), Some("3600000"));
        assert!(!retention.is_default, "{retention:?}");
        let segment = resource.get("segment.bytes").context("segment.bytes described")?;
        assert!(segment.is_default, "{segment:?}");

        let grown = admin
            .create_partitions(&[NewPartitions::new(topic, 4)], &opts)
            .await?;
        assert_eq!(grown, vec![Ok(topic.to_string())]);
        let md = blocking(|| admin.inner().fetch_metadata(Some(topic), CALL))?;
        let t = md.topics().iter().find(|t| t.name() == topic).context("topic in metadata")?;
        assert_eq!(t.partitions().len(), 4);

        let deleted = admin.delete_topics(&[topic], &opts).await?;
        assert_eq!(deleted, vec![Ok(topic.to_string())]);
        let listing = blocking(|| admin.inner().fetch_metadata(None, CALL))?;
        assert!(
            listing.topics().iter().all(|t| t.name() != topic),
            "deleted topic still listed"
        );
        Ok(())
    })
    .await?;
    sandbox.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idempotent_produce_then_group_consume_and_commit() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let sandbox = start(dir.path()).await?;
    let addr = sandbox.kafka_address().to_string();
    bounded(async {
        let topic = "orders";
        create_topic(&addr, topic, 3).await?;
        let sent = produce(&addr, topic, 1000, "run1").await?;
        assert_eq!(sent.len(), 1000);
        let partitions: BTreeSet<i32> = sent.keys().map(|(p, _)| *p).collect();
        assert!(
            partitions.len() > 1,
            "keys spread over partitions: {partitions:?}"
        );
        // Offsets of each partition are dense from 0.
        for p in &partitions {
            let offs: Vec<i64> = sent
                .keys()
                .filter(|(q, _)| q == p)
                .map(|(_, o)| *o)
                .collect();
            assert_eq!(
                offs,
                (0..offs.len() as i64).collect::<Vec<_>>(),
                "partition {p}"
            );
        }

        let consumer = consumer(&addr, "orders-readers")?;
        consumer.subscribe(&[topic])?;
        consume_all(&consumer, &sent, Duration::from_secs(90)).await?;
        blocking(|| consumer.commit_consumer_state(CommitMode::Sync))?;

        let ends = end_offsets(&consumer, topic, 3)?;
        let mut expected_ends = BTreeMap::new();
        for p in 0..3 {
            expected_ends.insert(p, sent.keys().filter(|(q, _)| *q == p).count() as i64);
        }
        assert_eq!(ends, expected_ends);
        // Partitions that got no record have nothing to commit.
        let want: BTreeMap<i32, i64> = ends
            .iter()
            .map(|(p, e)| (*p, if *e == 0 { -1 } else { *e }))
            .collect();
        assert_eq!(committed(&consumer, topic, 3)?, want);
        close(consumer).await
    })
    .await?;
    sandbox.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_consumers_split_partitions_and_rebalance() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let sandbox = start(dir.path()).await?;
    let addr = sandbox.kafka_address().to_string();
    bounded(async {
        let topic = "shared";
        let all: BTreeSet<i32> = (0..4).collect();
        create_topic(&addr, topic, 4).await?;
        produce(&addr, topic, 40, "rebalance").await?;

        // Each consumer is polled by its own task: rebalance events are served while polling.
        let spawn_poller = |c: Arc<StreamConsumer>| {
            tokio::spawn(async move {
                loop {
                    if let Err(e) = c.recv().await {
                        eprintln!("consumer error (ignored): {e}");
                    }
                }
            })
        };
        let a = Arc::new(consumer(&addr, "sharers")?);
        a.subscribe(&[topic])?;
        let poll_a = spawn_poller(a.clone());
        wait_for(
            "the first consumer to own every partition",
            Duration::from_secs(60),
            || (assigned(&a) == all).then_some(()),
        )
        .await?;

        let b = Arc::new(consumer(&addr, "sharers")?);
        b.subscribe(&[topic])?;
        let poll_b = spawn_poller(b.clone());
        let (pa, pb) = wait_for(
            "the two consumers to split the partitions",
            Duration::from_secs(90),
            || {
                let (pa, pb) = (assigned(&a), assigned(&b));
                let split = !pa.is_empty()
                    && !pb.is_empty()
                    && pa.is_disjoint(&pb)
                    && pa.union(&pb).copied().collect::<BTreeSet<_>>() == all;
                split.then_some((pa, pb))
            },
        )
        .await?;
        assert_eq!(pa.len() + pb.len(), 4, "{pa:?} {pb:?}");

        // The second one leaves: the first one gets everything back.
        poll_b.abort();
        let _ = poll_b.await;
        let b = Arc::try_unwrap(b).map_err(|_| anyhow!("consumer b still shared"))?;
        close(b).await?;
        wait_for(
            "the remaining consumer to own every partition",
            Duration::from_secs(90),
            || (assigned(&a) == all).then_some(()),
        )
        .await?;

        poll_a.abort();
        let _ = poll_a.await;
        let a = Arc::try_unwrap(a).map_err(|_| anyhow!("consumer a still shared"))?;
        close(a).await
    })
    .await?;
    sandbox.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn data_and_committed_offsets_survive_a_restart() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let topic = "durable";
    let group = "durable-readers";

    // First life: produce, consume part of it in a group and commit.
    let sandbox = start(dir.path()).await?;
    let addr = sandbox.kafka_address().to_string();
    let (sent, commits) = bounded(async {
        create_topic(&addr, topic, 2).await?;
        let sent = produce(&addr, topic, 300, "before").await?;
        let consumer = consumer(&addr, group)?;
        consumer.subscribe(&[topic])?;
        consume_all(&consumer, &sent, Duration::from_secs(90)).await?;
        // Commit explicit offsets short of the end, so a restored value cannot be confused
        // with "the end of the log".
        let mut commits = BTreeMap::new();
        let mut tpl = TopicPartitionList::new();
        for p in 0..2 {
            let n = sent.keys().filter(|(q, _)| *q == p).count() as i64;
            let at = n / 2;
            commits.insert(p, at);
            tpl.add_partition_offset(topic, p, Offset::Offset(at))?;
        }
        blocking(|| consumer.commit(&tpl, CommitMode::Sync))?;
        assert_eq!(committed(&consumer, topic, 2)?, commits);
        close(consumer).await?;
        Ok((sent, commits))
    })
    .await?;
    sandbox.shutdown().await?;

    // Second life on the same directory.
    let sandbox = start(dir.path()).await?;
    let addr = sandbox.kafka_address().to_string();
    bounded(async {
        // A new group reads every record back, unchanged and at the same offsets.
        let reader = consumer(&addr, "durable-checker")?;
        reader.subscribe(&[topic])?;
        consume_all(&reader, &sent, Duration::from_secs(90)).await?;
        let ends = end_offsets(&reader, topic, 2)?;
        for (p, end) in &ends {
            assert_eq!(*end, sent.keys().filter(|(q, _)| q == p).count() as i64);
        }
        close(reader).await?;

        // The original group's commits are still there, and it resumes from them.
        let resumed = consumer(&addr, group)?;
        assert_eq!(committed(&resumed, topic, 2)?, commits);
        let rest: BTreeMap<(i32, i64), Sent> = sent
            .iter()
            .filter(|((p, o), _)| *o >= commits[p])
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        resumed.subscribe(&[topic])?;
        consume_all(&resumed, &rest, Duration::from_secs(90)).await?;

        // And the log keeps growing where it left off.
        let more = produce(&addr, topic, 10, "after").await?;
        for (p, o) in more.into_keys() {
            assert!(o >= ends[&p], "offset {o} reused in partition {p}");
        }
        close(resumed).await
    })
    .await?;
    sandbox.shutdown().await
}
