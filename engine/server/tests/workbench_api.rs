//! The workbench API driven over HTTP and WebSocket against a real sandbox: every test starts
//! its own `Sandbox` (free ports, temp data dir) and talks to it only through the workbench's
//! routes (plus a real rdkafka client where a user's own application would be: binary and
//! wire-format producers, a consumer group). What is asserted is what the UI shows a user.

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};
use base64::Engine as _;
use futures_util::StreamExt;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use sluice_api::{
    paths, ApiError, ClusterInfo, GroupDetail, GroupOffset, GroupSummary, LagSample, MessagePage,
    ProduceResult, RateSample, TailEvent, TopicDetail, TopicSummary, EMBEDDED_CLUSTER,
};
use sluice_server::{Sandbox, SandboxOptions};

const TEST_TIMEOUT: Duration = Duration::from_secs(240);
const LOCAL: &str = EMBEDDED_CLUSTER;

async fn start(dir: &Path) -> Result<Sandbox> {
    Sandbox::start(SandboxOptions {
        kafka_port: 0,
        registry_port: 0,
        sql_port: 0,
        connect_port: 0,
        ui_port: 0,
        ..SandboxOptions::new(dir)
    })
    .await
}

async fn bounded<T, F: Future<Output = Result<T>>>(body: F) -> Result<T> {
    tokio::time::timeout(TEST_TIMEOUT, body)
        .await
        .map_err(|_| anyhow!("test did not finish within {TEST_TIMEOUT:?}"))?
}

/// A client of one workbench.
struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    fn new(sandbox: &Sandbox) -> Api {
        Api {
            base: sandbox.workbench_url(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<(StatusCode, String)> {
        let resp = req.send().await?;
        let status = resp.status();
        Ok((status, resp.text().await?))
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, String)> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req).await
    }

    /// A request that must succeed with `want`, decoded.
    async fn ok<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        want: StatusCode,
    ) -> Result<T> {
        let (status, text) = self.call(method.clone(), path, body).await?;
        ensure!(
            status == want,
            "{method} {path}: expected {want}, got {status}: {text}"
        );
        serde_json::from_str(&text).with_context(|| format!("{method} {path}: decoding {text}"))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.ok(reqwest::Method::GET, path, None, StatusCode::OK)
            .await
    }

    /// A request that must fail with `want` and an `ApiError` body of `code`.
    async fn fails(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        want: StatusCode,
        code: &str,
    ) -> Result<ApiError> {
        let (status, text) = self.call(method.clone(), path, body).await?;
        ensure!(
            status == want,
            "{method} {path}: expected {want}, got {status}: {text}"
        );
        let err: ApiError = serde_json::from_str(&text)
            .with_context(|| format!("{method} {path}: error body is not ApiError: {text}"))?;
        ensure!(
            err.code == code,
            "{method} {path}: code {} (want {code})",
            err.code
        );
        Ok(err)
    }

    async fn browse(&self, topic: &str, query: &str) -> Result<MessagePage> {
        self.get(&format!("{}?{query}", paths::messages(LOCAL, topic)))
            .await
    }

    fn ws_url(&self, path: &str) -> String {
        format!("{}{path}", self.base.replacen("http://", "ws://", 1))
    }
}

async fn wait_until<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if Instant::now() >= deadline {
            bail!("timed out after {limit:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn producer(addr: &str) -> Result<FutureProducer> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", addr)
        .set("acks", "all")
        .set("message.timeout.ms", "30000")
        .create()?)
}

async fn send_raw(addr: &str, topic: &str, key: &[u8], value: &[u8]) -> Result<(i32, i64)> {
    let p = producer(addr)?;
    let d = p
        .send(
            FutureRecord::to(topic).key(key).payload(value).partition(0),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| anyhow!("producing: {e}"))?;
    tokio::task::spawn_blocking(move || drop(p)).await?;
    Ok((d.partition, d.offset))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

fn keys(page: &MessagePage) -> Vec<String> {
    page.messages
        .iter()
        .map(|m| m.key.clone().unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn topics_messages_and_configs() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let sandbox = start(dir.path()).await?;
    let api = Api::new(&sandbox);
    bounded(async {
        use reqwest::Method;
        // The UI is not built in tests: `/` says so, in HTML.
        let (status, page) = api.call(Method::GET, "/", None).await?;
        ensure!(status == StatusCode::OK && page.contains("not built"), "{status}: {page}");

        // Create with a config, see it in the list and the detail.
        let created: TopicDetail = api
            .ok(
                Method::POST,
                &paths::topics(LOCAL),
                Some(json!({"name": "orders", "partitions": 2,
                            "configs": {"retention.ms": "3600000"}})),
                StatusCode::CREATED,
            )
            .await?;
        ensure!(created.partitions.len() == 2, "{created:?}");
        api.fails(
            Method::POST,
            &paths::topics(LOCAL),
            Some(json!({"name": "orders", "partitions": 1})),
            StatusCode::CONFLICT,
            "conflict",
        )
        .await?;
        let list: Vec<TopicSummary> = api.get(&paths::topics(LOCAL)).await?;
        let orders = list
            .iter()
            .find(|t| t.name == "orders")
            .context("orders not listed")?;
        ensure!(orders.partitions == 2 && orders.message_count == 0 && !orders.internal);

        // Produce three records with headers (a few ms apart, so their timestamps order
        // them); browse them back.
        let records = [
            json!({"key": "k1", "value": "first", "partition": 0,
                   "headers": [{"key": "trace", "value": "t1"}]}),
            json!({"key": "k2", "value": "second", "partition": 1,
                   "headers": [{"key": "trace", "value": "t2"}, {"key": "flag", "value": null}]}),
            json!({"key": "k3", "value": "third", "partition": 0, "headers": []}),
        ];
        let mut acks = Vec::new();
        for r in records {
            let produced: ProduceResult = api
                .ok(
                    Method::POST,
                    &paths::messages(LOCAL, "orders"),
                    Some(json!({ "records": [r] })),
                    StatusCode::OK,
                )
                .await?;
            ensure!(produced.produced == 1 && produced.first == produced.last, "{produced:?}");
            acks.push(produced.first.context("no offset")?);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        ensure!(acks == [(0, 0), (1, 0), (0, 1)], "{acks:?}");

        let page = api.browse("orders", "from=earliest").await?;
        ensure!(keys(&page) == ["k1", "k2", "k3"], "{page:?}");
        ensure!(page.reached_end && page.scanned == 3, "{page:?}");
        let second = &page.messages[1];
        ensure!(second.partition == 1 && second.offset == 0 && second.value.as_deref() == Some("second"));
        ensure!(second.headers.len() == 2 && second.headers[0].key == "trace"
            && second.headers[0].value.as_deref() == Some("t2") && second.headers[1].value.is_none(),
            "{second:?}");
        ensure!(!second.value_base64 && second.size == "k2second".len());

        // Filters narrow.
        ensure!(keys(&api.browse("orders", "from=earliest&key=k2").await?) == ["k2"]);
        ensure!(keys(&api.browse("orders", "from=earliest&value=ir").await?) == ["k1", "k3"]);
        ensure!(keys(&api.browse("orders", "from=earliest&header=trace").await?) == ["k1", "k2"]);
        ensure!(keys(&api.browse("orders", "from=earliest&header=trace%3Dt1").await?) == ["k1"]);
        ensure!(keys(&api.browse("orders", "from=earliest&partition=1").await?) == ["k2"]);
        ensure!(keys(&api.browse("orders", "from=earliest&limit=2").await?) == ["k1", "k2"]);
        // From an offset of one partition.
        ensure!(keys(&api.browse("orders", "from=offset&partition=0&offset=1").await?) == ["k3"]);

        // From a timestamp: only what came after it.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let cut = now_ms();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _: ProduceResult = api
            .ok(
                Method::POST,
                &paths::messages(LOCAL, "orders"),
                Some(json!({"records": [{"key": "late", "value": "v", "partition": 1}], "copies": 2})),
                StatusCode::OK,
            )
            .await?;
        let after = api.browse("orders", &format!("from=timestamp&timestamp_ms={cut}")).await?;
        ensure!(keys(&after) == ["late", "late"], "{after:?}");
        ensure!(after.messages.iter().all(|m| m.timestamp_ms >= cut));
        // Latest N: the newest messages.
        let latest = api.browse("orders", "from=latest&limit=1").await?;
        ensure!(latest.messages.len() == 1 && latest.messages[0].key.as_deref() == Some("late")
            && latest.messages[0].offset == 2, "{latest:?}");
        let latest3 = api.browse("orders", "from=latest&limit=3").await?;
        ensure!(keys(&latest3) == ["k3", "late", "late"], "{latest3:?}");

        // Binary values come back as base64; wire-format values show their schema id.
        let addr = sandbox.kafka_address().to_string();
        send_raw(&addr, "orders", b"bin", &[0xff, 0xfe, 0x00, 0x01]).await?;
        send_raw(&addr, "orders", b"avro", &[0, 0, 0, 0, 42, 0x02, 0x61]).await?;
        let bin = api.browse("orders", "from=earliest&key=bin").await?;
        let m = bin.messages.first().context("binary message")?;
        ensure!(m.value_base64 && m.value_schema_id.is_none(), "{m:?}");
        let bytes = base64::engine::general_purpose::STANDARD.decode(m.value.as_deref().unwrap_or(""))?;
        ensure!(bytes == [0xff, 0xfe, 0x00, 0x01], "{bytes:?}");
        let avro = api.browse("orders", "from=earliest&key=avro").await?;
        let m = avro.messages.first().context("wire-format message")?;
        ensure!(m.value_schema_id == Some(42) && m.value_base64 && m.key_schema_id.is_none(), "{m:?}");

        // Counts and sizes in the list.
        let list: Vec<TopicSummary> = api.get(&paths::topics(LOCAL)).await?;
        let orders = list.iter().find(|t| t.name == "orders").context("orders")?;
        ensure!(orders.message_count == 7, "{orders:?}");
        ensure!(orders.size_bytes.is_some_and(|b| b > 0), "{orders:?}");

        // Alter one config: it shows, the earlier override stays.
        let detail: TopicDetail = api
            .ok(
                Method::PUT,
                &paths::topic_configs(LOCAL, "orders"),
                Some(json!({"configs": {"cleanup.policy": "compact"}})),
                StatusCode::OK,
            )
            .await?;
        let config = |d: &TopicDetail, name: &str| {
            d.configs.iter().find(|c| c.name == name).cloned()
        };
        let policy = config(&detail, "cleanup.policy").context("cleanup.policy")?;
        ensure!(policy.value.as_deref() == Some("compact") && !policy.is_default, "{policy:?}");
        let detail: TopicDetail = api.get(&paths::topic(LOCAL, "orders")).await?;
        let retention = config(&detail, "retention.ms").context("retention.ms")?;
        ensure!(retention.value.as_deref() == Some("3600000") && !retention.is_default, "{retention:?}");
        ensure!(detail.partitions[0].end_offset == 4 && detail.partitions[1].end_offset == 3,
            "{:?}", detail.partitions);

        // Wrong requests get JSON errors, never a panic or a hang.
        api.fails(Method::GET, &paths::topic(LOCAL, "nope"), None, StatusCode::NOT_FOUND, "not_found").await?;
        api.fails(Method::GET, &format!("{}?from=earliest", paths::messages(LOCAL, "nope")), None,
            StatusCode::NOT_FOUND, "not_found").await?;
        api.fails(Method::GET, &format!("{}?from=sideways", paths::messages(LOCAL, "orders")), None,
            StatusCode::BAD_REQUEST, "bad_request").await?;
        api.fails(Method::GET, &format!("{}?from=offset", paths::messages(LOCAL, "orders")), None,
            StatusCode::BAD_REQUEST, "bad_request").await?;
        api.fails(Method::GET, &format!("{}?from=earliest&partition=7", paths::messages(LOCAL, "orders")), None,
            StatusCode::NOT_FOUND, "not_found").await?;
        api.fails(Method::GET, &paths::topics("elsewhere"), None, StatusCode::NOT_FOUND, "not_found").await?;
        api.fails(Method::GET, "/api/v1/nothing/here", None, StatusCode::NOT_FOUND, "not_found").await?;
        let (status, text) = api
            .send(api.http.post(format!("{}{}", api.base, paths::topics(LOCAL)))
                .header("content-type", "application/json").body("{not json"))
            .await?;
        ensure!(status == StatusCode::BAD_REQUEST && text.contains("bad_request"), "{status}: {text}");
        api.fails(Method::POST, &paths::topics(LOCAL), Some(json!({"name": "x", "partitions": 0})),
            StatusCode::BAD_REQUEST, "bad_request").await?;
        api.fails(Method::POST, &paths::messages(LOCAL, "orders"),
            Some(json!({"records": [{"value": "v", "partition": 9}]})),
            StatusCode::NOT_FOUND, "not_found").await?;

        // Delete: gone from the list and the detail.
        let (status, _) = api.call(Method::DELETE, &paths::topic(LOCAL, "orders"), None).await?;
        ensure!(status == StatusCode::NO_CONTENT, "delete: {status}");
        api.fails(Method::GET, &paths::topic(LOCAL, "orders"), None, StatusCode::NOT_FOUND, "not_found").await?;
        let list: Vec<TopicSummary> = api.get(&paths::topics(LOCAL)).await?;
        ensure!(!list.iter().any(|t| t.name == "orders"), "{list:?}");
        api.fails(Method::DELETE, &paths::topic(LOCAL, "orders"), None, StatusCode::NOT_FOUND, "not_found").await?;
        Ok(())
    })
    .await?;
    sandbox.shutdown().await
}

fn group_consumer(addr: &str, group: &str) -> Result<StreamConsumer> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", addr)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "500")
        .create()?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn consumer_groups_lag_reset_and_rates() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let sandbox = start(dir.path()).await?;
    let api = Api::new(&sandbox);
    let addr = sandbox.kafka_address().to_string();
    bounded(async {
        use reqwest::Method;
        let _: TopicDetail = api
            .ok(Method::POST, &paths::topics(LOCAL), Some(json!({"name": "events", "partitions": 1})),
                StatusCode::CREATED)
            .await?;
        let produced: ProduceResult = api
            .ok(Method::POST, &paths::messages(LOCAL, "events"),
                Some(json!({"records": [{"key": "k", "value": "v"}], "copies": 10})), StatusCode::OK)
            .await?;
        ensure!(produced.produced == 10 && produced.last == Some((0, 9)), "{produced:?}");

        // A real consumer reads 6 and commits.
        let consumer = group_consumer(&addr, "billing")?;
        consumer.subscribe(&["events"])?;
        for _ in 0..6 {
            tokio::time::timeout(Duration::from_secs(30), consumer.recv())
                .await
                .context("consumer got nothing")??;
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset("events", 0, Offset::Offset(6))?;
        consumer.commit(&tpl, CommitMode::Sync)?;

        let groups: Vec<GroupSummary> = api.get(&paths::groups(LOCAL)).await?;
        let g = groups.iter().find(|g| g.group_id == "billing").context("group listed")?;
        ensure!(g.lag == 4 && g.members == 1 && g.topics == ["events"] && g.state == "Stable", "{g:?}");
        let detail: GroupDetail = api.get(&paths::group(LOCAL, "billing")).await?;
        ensure!(detail.offsets == [GroupOffset { topic: "events".into(), partition: 0,
            committed: Some(6), end_offset: 10, lag: 4 }], "{detail:?}");
        ensure!(detail.members.len() == 1 && detail.protocol_type == "consumer", "{detail:?}");
        let assignment = &detail.members[0].assignment;
        ensure!(assignment.len() == 1 && assignment[0].topic == "events" && assignment[0].partition == 0,
            "{assignment:?}");

        // An active group cannot be reset or deleted.
        let reset_earliest = json!({"topic": null, "partition": null, "to": {"kind": "earliest"}});
        api.fails(Method::POST, &paths::group_reset(LOCAL, "billing"), Some(reset_earliest.clone()),
            StatusCode::CONFLICT, "conflict").await?;
        api.fails(Method::DELETE, &paths::group(LOCAL, "billing"), None,
            StatusCode::CONFLICT, "conflict").await?;

        // Once it stops, reset works: back to the start, the lag is everything.
        consumer.unsubscribe();
        tokio::task::spawn_blocking(move || drop(consumer)).await?;
        wait_until("the group to have no members", Duration::from_secs(30), || async {
            let d: GroupDetail = api.get(&paths::group(LOCAL, "billing")).await?;
            Ok(d.members.is_empty().then_some(()))
        })
        .await?;
        let reset: Vec<GroupOffset> = api
            .ok(Method::POST, &paths::group_reset(LOCAL, "billing"), Some(reset_earliest),
                StatusCode::OK)
            .await?;
        ensure!(reset == [GroupOffset { topic: "events".into(), partition: 0, committed: Some(0),
            end_offset: 10, lag: 10 }], "{reset:?}");
        let detail: GroupDetail = api.get(&paths::group(LOCAL, "billing")).await?;
        ensure!(detail.lag == 10 && detail.offsets[0].committed == Some(0), "{detail:?}");
        let reset: Vec<GroupOffset> = api
            .ok(Method::POST, &paths::group_reset(LOCAL, "billing"),
                Some(json!({"topic": "events", "partition": 0, "to": {"kind": "offset", "offset": 3}})),
                StatusCode::OK)
            .await?;
        ensure!(reset[0].committed == Some(3) && reset[0].lag == 7, "{reset:?}");
        let reset: Vec<GroupOffset> = api
            .ok(Method::POST, &paths::group_reset(LOCAL, "billing"),
                Some(json!({"topic": "events", "partition": null, "to": {"kind": "latest"}})),
                StatusCode::OK)
            .await?;
        ensure!(reset[0].committed == Some(10) && reset[0].lag == 0, "{reset:?}");
        api.fails(Method::POST, &paths::group_reset(LOCAL, "billing"),
            Some(json!({"topic": "nope", "partition": null, "to": {"kind": "latest"}})),
            StatusCode::NOT_FOUND, "not_found").await?;
        api.fails(Method::POST, &paths::group_reset(LOCAL, "billing"),
            Some(json!({"to": {"kind": "sideways"}})),
            StatusCode::BAD_REQUEST, "bad_request").await?;

        // Lag history follows (sampled every 5 s): the latest sample is the current lag.
        let lag: Vec<LagSample> = wait_until("a lag sample of 0", Duration::from_secs(20), || async {
            let s: Vec<LagSample> = api.get(&paths::group_lag(LOCAL, "billing")).await?;
            Ok(s.last().is_some_and(|l| l.lag == 0).then_some(s))
        })
        .await?;
        ensure!(lag.windows(2).all(|w| w[0].ts_ms <= w[1].ts_ms), "{lag:?}");

        // Rates: producing shows up as a produce rate, committing as a consume rate.
        let _: ProduceResult = api
            .ok(Method::POST, &paths::messages(LOCAL, "events"),
                Some(json!({"records": [{"value": "more"}], "copies": 50})), StatusCode::OK)
            .await?;
        wait_until("a produce rate", Duration::from_secs(15), || async {
            let r: Vec<RateSample> = api.get(&paths::rates(LOCAL)).await?;
            Ok(r.iter().any(|s| s.produce_per_sec > 0.0).then_some(()))
        })
        .await?;
        let _: Vec<GroupOffset> = api
            .ok(Method::POST, &paths::group_reset(LOCAL, "billing"),
                Some(json!({"topic": "events", "partition": 0, "to": {"kind": "latest"}})),
                StatusCode::OK)
            .await?;
        wait_until("a consume rate", Duration::from_secs(15), || async {
            let r: Vec<RateSample> = api.get(&paths::rates(LOCAL)).await?;
            Ok(r.iter().any(|s| s.consume_per_sec > 0.0).then_some(()))
        })
        .await?;

        // Delete the inactive group.
        let (status, text) = api.call(Method::DELETE, &paths::group(LOCAL, "billing"), None).await?;
        ensure!(status == StatusCode::NO_CONTENT, "{status}: {text}");
        api.fails(Method::GET, &paths::group(LOCAL, "billing"), None, StatusCode::NOT_FOUND, "not_found").await?;
        Ok(())
    })
    .await?;
    sandbox.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn live_tail_and_rates_over_websocket() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let sandbox = start(dir.path()).await?;
    let api = Api::new(&sandbox);
    bounded(async {
        use reqwest::Method;
        let _: TopicDetail = api
            .ok(
                Method::POST,
                &paths::topics(LOCAL),
                Some(json!({"name": "live", "partitions": 2})),
                StatusCode::CREATED,
            )
            .await?;
        // Something already there is not replayed.
        let _: ProduceResult = api
            .ok(
                Method::POST,
                &paths::messages(LOCAL, "live"),
                Some(json!({"records": [{"key": "match-old", "value": "before"}]})),
                StatusCode::OK,
            )
            .await?;
        let url = api.ws_url(&format!("{}?key=match", paths::tail(LOCAL, "live")));
        let (mut tail, _) = tokio_tungstenite::connect_async(url).await?;
        let _: ProduceResult = api
            .ok(
                Method::POST,
                &paths::messages(LOCAL, "live"),
                Some(json!({"records": [
                    {"key": "other", "value": "skipped"},
                    {"key": "match-1", "value": "hello", "headers": [{"key": "h", "value": "1"}]}
                ]})),
                StatusCode::OK,
            )
            .await?;
        let frame = tokio::time::timeout(Duration::from_secs(15), tail.next())
            .await
            .context("no tail frame within 15 s")?
            .context("tail closed")??;
        let event: TailEvent = serde_json::from_str(frame.to_text()?)?;
        let TailEvent::Message { message } = event else {
            bail!("expected a message, got {event:?}");
        };
        ensure!(
            message.key.as_deref() == Some("match-1")
                && message.value.as_deref() == Some("hello")
                && message.headers.len() == 1,
            "{message:?}"
        );
        tail.close(None).await?;

        // Unknown topic: the upgrade is refused with a JSON 404.
        let bad = tokio_tungstenite::connect_async(api.ws_url(&paths::tail(LOCAL, "nope"))).await;
        match bad {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                ensure!(resp.status() == 404, "status {}", resp.status())
            }
            other => bail!("expected a 404 refusal, got {other:?}"),
        }
        // A plain GET of a WebSocket route is a 400, not a hang.
        api.fails(
            Method::GET,
            &paths::tail(LOCAL, "live"),
            None,
            StatusCode::BAD_REQUEST,
            "bad_request",
        )
        .await?;

        // Rates arrive once a second.
        let (mut rates, _) =
            tokio_tungstenite::connect_async(api.ws_url(&paths::rates_live(LOCAL))).await?;
        let mut seen = Vec::new();
        while seen.len() < 2 {
            let frame = tokio::time::timeout(Duration::from_secs(10), rates.next())
                .await
                .context("no rate sample within 10 s")?
                .context("rates closed")??;
            let sample: RateSample = serde_json::from_str(frame.to_text()?)?;
            seen.push(sample);
        }
        ensure!(seen[1].ts_ms > seen[0].ts_ms, "{seen:?}");
        rates.close(None).await?;
        Ok(())
    })
    .await?;
    sandbox.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn remote_clusters() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let other_dir = tempfile::tempdir()?;
    let sandbox = start(dir.path()).await?;
    let other = start(other_dir.path()).await?;
    let api = Api::new(&sandbox);
    bounded(async {
        use reqwest::Method;
        let remote: ClusterInfo = api
            .ok(Method::POST, &paths::clusters(),
                Some(json!({"name": "Other Sandbox", "bootstrap_servers": other.kafka_address(),
                            "security": {"protocol": "PLAINTEXT", "sasl_mechanism": null,
                                         "sasl_username": "me", "ssl_ca_location": null},
                            "sasl_password": "hunter2"})),
                StatusCode::CREATED)
            .await?;
        ensure!(remote.id == "other-sandbox" && !remote.embedded, "{remote:?}");
        let (_, listed) = api.call(Method::GET, &paths::clusters(), None).await?;
        ensure!(!listed.contains("hunter2"), "password returned: {listed}");
        let clusters: Vec<ClusterInfo> = serde_json::from_str(&listed)?;
        ensure!(clusters.iter().map(|c| c.id.as_str()).collect::<Vec<_>>() == [LOCAL, "other-sandbox"]);
        let saved = std::fs::read_to_string(dir.path().join("workbench").join("clusters.json"))?;
        ensure!(saved.contains("hunter2") && saved.contains(other.kafka_address()), "{saved}");

        // A topic made through the remote cluster lives there, not here.
        let _: TopicDetail = api
            .ok(Method::POST, &paths::topics(&remote.id), Some(json!({"name": "far", "partitions": 3})),
                StatusCode::CREATED)
            .await?;
        let far: Vec<TopicSummary> = api.get(&paths::topics(&remote.id)).await?;
        let t = far.iter().find(|t| t.name == "far").context("far listed remotely")?;
        ensure!(t.partitions == 3 && t.size_bytes.is_none(), "{t:?}");
        let near: Vec<TopicSummary> = api.get(&paths::topics(LOCAL)).await?;
        ensure!(!near.iter().any(|t| t.name == "far"), "{near:?}");
        let overview: sluice_api::Overview = api.get(&paths::overview(&remote.id)).await?;
        ensure!(overview.topic_count >= 1 && overview.brokers.len() == 1
            && overview.brokers[0].port.to_string() == other.kafka_address().rsplit(':').next().unwrap_or(""),
            "{overview:?}");

        // An unreachable cluster answers 503 quickly.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")?;
        let dead_addr = closed.local_addr()?.to_string();
        drop(closed);
        let dead: ClusterInfo = api
            .ok(Method::POST, &paths::clusters(),
                Some(json!({"name": "dead", "bootstrap_servers": dead_addr})), StatusCode::CREATED)
            .await?;
        let began = Instant::now();
        api.fails(Method::GET, &paths::topics(&dead.id), None, StatusCode::SERVICE_UNAVAILABLE,
            "unavailable").await?;
        ensure!(began.elapsed() < Duration::from_secs(9), "503 took {:?}", began.elapsed());

        // Bad cluster definitions are refused; the embedded one cannot go.
        api.fails(Method::POST, &paths::clusters(), Some(json!({"name": "", "bootstrap_servers": "x:1"})),
            StatusCode::BAD_REQUEST, "bad_request").await?;
        api.fails(Method::POST, &paths::clusters(),
            Some(json!({"name": "y", "bootstrap_servers": "x:1", "security": {"protocol": "CARRIER_PIGEON"}})),
            StatusCode::BAD_REQUEST, "bad_request").await?;
        api.fails(Method::DELETE, &paths::cluster(LOCAL), None, StatusCode::BAD_REQUEST, "bad_request").await?;

        for id in [&remote.id, &dead.id] {
            let (status, _) = api.call(Method::DELETE, &paths::cluster(id), None).await?;
            ensure!(status == StatusCode::NO_CONTENT, "delete {id}: {status}");
        }
        api.fails(Method::GET, &paths::topics(&remote.id), None, StatusCode::NOT_FOUND, "not_found").await?;
        let clusters: Vec<ClusterInfo> = api.get(&paths::clusters()).await?;
        ensure!(clusters.len() == 1, "{clusters:?}");
        Ok(())
    })
    .await?;
    sandbox.shutdown().await?;
    other.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_the_built_ui_with_client_side_routes() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let ui = tempfile::tempdir()?;
    std::fs::write(ui.path().join("index.html"), "<html>the app</html>")?;
    std::fs::create_dir(ui.path().join("assets"))?;
    std::fs::write(ui.path().join("assets").join("app.js"), "run()")?;
    let sandbox = Sandbox::start(SandboxOptions {
        kafka_port: 0,
        registry_port: 0,
        sql_port: 0,
        connect_port: 0,
        ui_port: 0,
        ui_dir: Some(ui.path().to_path_buf()),
        ..SandboxOptions::new(dir.path())
    })
    .await?;
    let api = Api::new(&sandbox);
    bounded(async {
        use reqwest::Method;
        for (path, body) in [
            ("/", "<html>the app</html>"),
            ("/assets/app.js", "run()"),
            // A client-side route gets the app, which routes it.
            ("/clusters/local/topics/orders", "<html>the app</html>"),
        ] {
            let (status, text) = api.call(Method::GET, path, None).await?;
            ensure!(
                status == StatusCode::OK && text == body,
                "{path}: {status} {text}"
            );
        }
        // The API keeps its own 404s.
        api.fails(
            Method::GET,
            "/api/v1/clusters/local/nothing",
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await?;
        Ok(())
    })
    .await?;
    sandbox.shutdown().await
}

// ---------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registry_pass_through() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let sandbox = start(dir.path()).await?;
    let api = Api::new(&sandbox);
    bounded(async {
        use reqwest::Method;
        // The embedded cluster points at the embedded registry and SQL engine.
        let local: ClusterInfo = api.get(&paths::cluster(LOCAL)).await?;
        ensure!(
            local.schema_registry_url == sandbox.url("registry"),
            "{local:?}"
        );
        ensure!(
            local.ksqldb_url.is_some() && local.ksqldb_url == sandbox.url("sql"),
            "{local:?}"
        );

        // Register through the pass-through, with Confluent's content type; read it back.
        let schema = r#"{"type":"record","name":"Ping","fields":[{"name":"n","type":"long"}]}"#;
        let resp = api
            .http
            .post(format!(
                "{}{}",
                api.base,
                paths::registry(LOCAL, "subjects/pings-value/versions")
            ))
            .header("content-type", "application/vnd.schemaregistry.v1+json")
            .body(json!({ "schema": schema }).to_string())
            .send()
            .await?;
        ensure!(
            resp.status() == StatusCode::OK,
            "register: {}",
            resp.status()
        );
        let ct = resp.headers().get("content-type").cloned();
        ensure!(
            ct.as_ref()
                .is_some_and(|v| v == "application/vnd.schemaregistry.v1+json"),
            "{ct:?}"
        );
        let id = resp.json::<Value>().await?["id"].as_u64().context("id")?;
        let latest: Value = api
            .get(&paths::registry(
                LOCAL,
                "/subjects/pings-value/versions/latest",
            ))
            .await?;
        ensure!(
            latest["id"].as_u64() == Some(id) && latest["version"] == 1,
            "{latest}"
        );
        let subjects: Vec<String> = api
            .get(&format!(
                "{}?deleted=true",
                paths::registry(LOCAL, "subjects")
            ))
            .await?;
        ensure!(subjects == ["pings-value"], "{subjects:?}");
        // The same registry answers directly: the pass-through added nothing.
        let direct: Value = reqwest::get(format!(
            "{}/schemas/ids/{id}",
            sandbox.url("registry").unwrap_or_default()
        ))
        .await?
        .json()
        .await?;
        let through: Value = api
            .get(&paths::registry(LOCAL, &format!("schemas/ids/{id}")))
            .await?;
        ensure!(direct == through, "{direct} vs {through}");

        // Confluent's errors come back as Confluent wrote them.
        let (status, text) = api
            .call(
                Method::GET,
                &paths::registry(LOCAL, "subjects/nope/versions"),
                None,
            )
            .await?;
        ensure!(status == StatusCode::NOT_FOUND, "{status}: {text}");
        let err: Value = serde_json::from_str(&text)?;
        ensure!(
            err["error_code"] == 40401
                && err["message"].as_str().is_some_and(|m| m.contains("nope")),
            "{text}"
        );
        let (status, text) = api
            .call(
                Method::POST,
                &paths::registry(LOCAL, "subjects/bad-value/versions"),
                Some(json!({"schema": "{\"type\":\"nope\"}"})),
            )
            .await?;
        ensure!(
            status.as_u16() == 422 && text.contains("42201"),
            "{status}: {text}"
        );

        // A cluster without a registry: 404; an unreachable registry: 502, quickly.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")?;
        let dead_url = format!("http://{}", closed.local_addr()?);
        drop(closed);
        let _: ClusterInfo = api
            .ok(
                Method::POST,
                &paths::clusters(),
                Some(json!({"name": "bare", "bootstrap_servers": sandbox.kafka_address()})),
                StatusCode::CREATED,
            )
            .await?;
        let _: ClusterInfo = api
            .ok(
                Method::POST,
                &paths::clusters(),
                Some(
                    json!({"name": "gone", "bootstrap_servers": sandbox.kafka_address(),
                            "schema_registry_url": dead_url}),
                ),
                StatusCode::CREATED,
            )
            .await?;
        api.fails(
            Method::GET,
            &paths::registry("bare", "subjects"),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await?;
        let began = Instant::now();
        api.fails(
            Method::GET,
            &paths::registry("gone", "subjects"),
            None,
            StatusCode::BAD_GATEWAY,
            "unavailable",
        )
        .await?;
        ensure!(
            began.elapsed() < Duration::from_secs(9),
            "502 took {:?}",
            began.elapsed()
        );
        Ok(())
    })
    .await?;
    sandbox.shutdown().await
}

// The talk's Order schemas (seed-examples/order.avsc and order.proto), as text here so the
// test needs nothing outside the repository.
const ORDER_AVSC: &str = r#"{
  "type": "record",
  "name": "Order",
  "fields": [
    {"name": "order_id", "type": "int"},
    {"name": "product", "type": "string"},
    {"name": "quantity", "type": "int"}
  ]
}
"#;
const ORDER_PROTO: &str = r#"syntax = "proto3";

message Order {
  int32 order_id = 1;
  string product = 2;
  int32 quantity = 3;
}
"#;

impl Api {
    /// Registers a schema through the pass-through; returns its id.
    async fn register(&self, subject: &str, body: Value) -> Result<u64> {
        let (status, text) = self
            .call(
                reqwest::Method::POST,
                &paths::registry(LOCAL, &format!("subjects/{subject}/versions")),
                Some(body),
            )
            .await?;
        ensure!(
            status == StatusCode::OK,
            "register {subject}: {status} {text}"
        );
        let v: Value = serde_json::from_str(&text)?;
        v["id"].as_u64().context("no id")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn schema_subjects_validation_comparison_and_forms() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let sandbox = start(dir.path()).await?;
    let api = Api::new(&sandbox);
    bounded(async {
        use reqwest::Method;
        use sluice_api::{FormKind, SchemaComparison, SchemaForm, SchemaValidation, SubjectSummary};
        let v2 = ORDER_AVSC.replace(
            r#"{"name": "quantity", "type": "int"}"#,
            r#"{"name": "quantity", "type": "int"}, {"name": "note", "type": "string", "default": ""}"#,
        );
        ensure!(v2 != ORDER_AVSC, "the seed schema changed shape");
        api.register("orders-value", json!({"schema": ORDER_AVSC})).await?;
        api.register("orders-value", json!({"schema": v2})).await?;
        api.register("orders-proto-value", json!({"schemaType": "PROTOBUF", "schema": ORDER_PROTO})).await?;
        api.register("gone-value", json!({"schema": "\"string\""})).await?;
        let (status, text) = api
            .call(Method::PUT, &paths::registry(LOCAL, "config/orders-value"),
                Some(json!({"compatibility": "FULL"})))
            .await?;
        ensure!(status == StatusCode::OK, "{status} {text}");
        let (status, _) = api.call(Method::DELETE, &paths::registry(LOCAL, "subjects/gone-value"), None).await?;
        ensure!(status == StatusCode::OK);

        // Subjects: one summary each, the soft-deleted one only when asked for.
        let subjects: Vec<SubjectSummary> = api.get(&paths::subjects(LOCAL)).await?;
        let names: Vec<&str> = subjects.iter().map(|s| s.subject.as_str()).collect();
        ensure!(names == ["orders-proto-value", "orders-value"], "{subjects:?}");
        let orders = &subjects[1];
        ensure!(orders.schema_type == "AVRO" && orders.latest_version == 2 && orders.version_count == 2
            && orders.compatibility == "FULL" && orders.compatibility_overridden
            && orders.mode == "READWRITE" && !orders.deleted, "{orders:?}");
        let proto = &subjects[0];
        ensure!(proto.schema_type == "PROTOBUF" && proto.latest_version == 1
            && proto.compatibility == "BACKWARD" && !proto.compatibility_overridden, "{proto:?}");
        let latest: Value = api.get(&paths::registry(LOCAL, "subjects/orders-value/versions/latest")).await?;
        ensure!(latest["id"].as_u64() == Some(u64::from(orders.latest_id)), "{latest} vs {orders:?}");
        let with_deleted: Vec<SubjectSummary> =
            api.get(&format!("{}?deleted=true", paths::subjects(LOCAL))).await?;
        let gone = with_deleted.iter().find(|s| s.subject == "gone-value").context("deleted subject")?;
        ensure!(gone.deleted && gone.version_count == 1 && with_deleted.len() == 3, "{with_deleted:?}");

        // Validation: located problems, the canonical text when valid.
        let typo = "{\n  \"type\": \"record\",\n  \"name\": \"Order\",\n  \"fields\": [\n    {\"name\": \"id\", \"type\": \"strng\"}\n  ]\n}";
        let v: SchemaValidation = api
            .ok(Method::POST, &paths::schema_validate(LOCAL), Some(json!({"schema": typo})), StatusCode::OK)
            .await?;
        ensure!(!v.valid && v.errors.len() == 1 && v.canonical.is_none(), "{v:?}");
        ensure!(v.errors[0].line == Some(5) && v.errors[0].column == Some(29)
            && v.errors[0].message.contains("strng"), "{v:?}");
        let missing_comma = "{\"type\": \"record\",\n \"name\": \"A\"\n \"fields\": []}";
        let v: SchemaValidation = api
            .ok(Method::POST, &paths::schema_validate(LOCAL),
                Some(json!({"schema_type": "AVRO", "schema": missing_comma})), StatusCode::OK)
            .await?;
        ensure!(!v.valid && v.errors[0].line == Some(3) && v.errors[0].column == Some(2), "{v:?}");
        let bad_proto = "syntax = \"proto3\";\n\nmessage Order {\n  int32 order_id = 1\n  string product = 2;\n}";
        let v: SchemaValidation = api
            .ok(Method::POST, &paths::schema_validate(LOCAL),
                Some(json!({"schema_type": "PROTOBUF", "schema": bad_proto})), StatusCode::OK)
            .await?;
        ensure!(!v.valid && v.errors[0].line == Some(5) && v.errors[0].column.is_some(), "{v:?}");
        let v: SchemaValidation = api
            .ok(Method::POST, &paths::schema_validate(LOCAL),
                Some(json!({"schema_type": "PROTOBUF", "schema": ORDER_PROTO})), StatusCode::OK)
            .await?;
        ensure!(v.valid && v.errors.is_empty()
            && v.canonical.as_deref().is_some_and(|c| c.contains("message Order")), "{v:?}");
        let v: SchemaValidation = api
            .ok(Method::POST, &paths::schema_validate(LOCAL),
                Some(json!({"schema": ORDER_AVSC})), StatusCode::OK)
            .await?;
        ensure!(v.valid && v.canonical.as_deref().is_some_and(|c| !c.contains('\n')), "{v:?}");
        // References resolve through the registry.
        let with_ref = r#"{"type":"record","name":"Line","fields":[{"name":"order","type":"Order"}]}"#;
        let v: SchemaValidation = api
            .ok(Method::POST, &paths::schema_validate(LOCAL),
                Some(json!({"schema": with_ref,
                            "references": [{"name": "Order", "subject": "orders-value", "version": 1}]})),
                StatusCode::OK)
            .await?;
        ensure!(v.valid, "{v:?}");
        let v: SchemaValidation = api
            .ok(Method::POST, &paths::schema_validate(LOCAL), Some(json!({"schema": with_ref})), StatusCode::OK)
            .await?;
        ensure!(!v.valid, "{v:?}");
        api.fails(Method::POST, &paths::schema_validate(LOCAL),
            Some(json!({"schema_type": "XML", "schema": "<a/>"})), StatusCode::BAD_REQUEST, "bad_request").await?;

        // Comparison: adding a field with a default goes both ways.
        let c: SchemaComparison = api
            .get(&format!("{}?from=1&to=2", paths::schema_compare(LOCAL, "orders-value")))
            .await?;
        ensure!(c.backward.compatible && c.forward.compatible && c.from_version == 1 && c.to_version == 2
            && c.schema_type == "AVRO", "{c:?}");
        ensure!(c.to_schema.contains("\n") && c.to_schema.contains("\"note\"")
            && c.from_schema.find("\"name\"") < c.from_schema.find("\"fields\""), "{c:?}");
        // Dropping a field without a default and adding one without a default: neither way.
        let (status, _) = api
            .call(Method::PUT, &paths::registry(LOCAL, "config/orders-value"), Some(json!({"compatibility": "NONE"})))
            .await?;
        ensure!(status == StatusCode::OK);
        let v3 = r#"{"type":"record","name":"Order","fields":[{"name":"order_id","type":"int"},{"name":"product","type":"string"},{"name":"price","type":"double"}]}"#;
        api.register("orders-value", json!({"schema": v3})).await?;
        let c: SchemaComparison = api.get(&paths::schema_compare(LOCAL, "orders-value")).await?;
        ensure!(c.from_version == 2 && c.to_version == 3, "{c:?}");
        ensure!(!c.backward.compatible && c.backward.reasons.iter().any(|r| r.contains("price")), "{c:?}");
        ensure!(!c.forward.compatible && c.forward.reasons.iter().any(|r| r.contains("quantity")), "{c:?}");
        api.fails(Method::GET, &paths::schema_compare(LOCAL, "nope"), None, StatusCode::NOT_FOUND, "not_found").await?;
        api.fails(Method::GET, &format!("{}?from=9", paths::schema_compare(LOCAL, "orders-value")), None,
            StatusCode::NOT_FOUND, "not_found").await?;

        // Forms of the talk's Order schemas.
        let f: SchemaForm = api.get(&format!("{}?version=1", paths::schema_form(LOCAL, "orders-value"))).await?;
        ensure!(f.version == 1 && f.schema_type == "AVRO", "{f:?}");
        let FormKind::Record { type_name, fields } = &f.root.kind else { bail!("{f:?}") };
        ensure!(type_name.as_deref() == Some("Order"), "{f:?}");
        let kinds: Vec<(&str, &FormKind)> = fields.iter().map(|f| (f.name.as_str(), &f.kind)).collect();
        ensure!(kinds == [("order_id", &FormKind::Int), ("product", &FormKind::String), ("quantity", &FormKind::Int)],
            "{kinds:?}");
        let f: SchemaForm = api.get(&format!("{}?version=2", paths::schema_form(LOCAL, "orders-value"))).await?;
        let FormKind::Record { fields, .. } = &f.root.kind else { bail!("{f:?}") };
        ensure!(fields[3].name == "note" && fields[3].default.as_deref() == Some("\"\"") && fields[3].optional,
            "{fields:?}");
        let f: SchemaForm = api.get(&paths::schema_form(LOCAL, "orders-proto-value")).await?;
        ensure!(f.schema_type == "PROTOBUF", "{f:?}");
        let FormKind::Record { type_name, fields } = &f.root.kind else { bail!("{f:?}") };
        let kinds: Vec<(&str, &FormKind)> = fields.iter().map(|f| (f.name.as_str(), &f.kind)).collect();
        ensure!(type_name.as_deref() == Some("Order")
            && kinds == [("order_id", &FormKind::Int), ("product", &FormKind::String), ("quantity", &FormKind::Int)],
            "{kinds:?}");
        api.fails(Method::GET, &format!("{}?version=7", paths::schema_form(LOCAL, "orders-value")), None,
            StatusCode::NOT_FOUND, "not_found").await?;

        // A cluster without a registry has no subjects.
        let _: ClusterInfo = api
            .ok(Method::POST, &paths::clusters(),
                Some(json!({"name": "bare", "bootstrap_servers": sandbox.kafka_address()})), StatusCode::CREATED)
            .await?;
        api.fails(Method::GET, &paths::subjects("bare"), None, StatusCode::NOT_FOUND, "not_found").await?;
        Ok(())
    })
    .await?;
    sandbox.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn produce_with_schemas_and_read_them_decoded() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let sandbox = start(dir.path()).await?;
    let api = Api::new(&sandbox);
    bounded(async {
        use reqwest::Method;
        let json_schema = r#"{"type":"object","properties":{"order_id":{"type":"integer"},"product":{"type":"string"}},"required":["order_id"]}"#;
        let avro_id = api.register("avro-orders-value", json!({"schema": ORDER_AVSC})).await?;
        let key_id = api.register("avro-orders-key", json!({"schema": "\"string\""})).await?;
        let proto_id = api
            .register("proto-orders-value", json!({"schemaType": "PROTOBUF", "schema": ORDER_PROTO}))
            .await?;
        let json_id = api
            .register("json-orders-value", json!({"schemaType": "JSON", "schema": json_schema}))
            .await?;
        let order = json!({"order_id": 7, "product": "kafka book", "quantity": 2});
        for (topic, id) in [("avro-orders", avro_id), ("proto-orders", proto_id), ("json-orders", json_id)] {
            let _: TopicDetail = api
                .ok(Method::POST, &paths::topics(LOCAL), Some(json!({"name": topic, "partitions": 1})),
                    StatusCode::CREATED)
                .await?;
            let value = if topic == "json-orders" {
                json!({"order_id": 7, "product": "kafka book"})
            } else {
                order.clone()
            };
            let mut body = json!({
                "records": [{"key": "o-7", "value": value.to_string()}],
                "value_schema": {"subject": format!("{topic}-value")},
            });
            if topic == "avro-orders" {
                body["key_schema"] = json!({"subject": "avro-orders-key", "version": 1});
            }
            let produced: ProduceResult = api
                .ok(Method::POST, &paths::messages(LOCAL, topic), Some(body), StatusCode::OK)
                .await?;
            ensure!(produced.produced == 1, "{produced:?}");
            let page = api.browse(topic, "from=earliest").await?;
            let m = page.messages.first().context("produced message")?;
            ensure!(m.value_schema_id == Some(id as u32) && m.value_base64, "{m:?}");
            let d = m.value_decoded.as_ref().context("value decoded")?;
            ensure!(d.error.is_none() && d.schema_id == id as u32
                && d.subject.as_deref() == Some(format!("{topic}-value").as_str()) && d.version == Some(1),
                "{d:?}");
            let shown: Value = serde_json::from_str(d.json.as_deref().context("json")?)?;
            ensure!(shown == value, "{topic}: {shown} != {value}");
            if topic == "avro-orders" {
                ensure!(d.schema_type == "AVRO", "{d:?}");
                let k = m.key_decoded.as_ref().context("key decoded")?;
                ensure!(m.key_schema_id == Some(key_id as u32) && k.json.as_deref() == Some("\"o-7\"")
                    && k.subject.as_deref() == Some("avro-orders-key"), "{m:?}");
            } else {
                ensure!(m.key.as_deref() == Some("o-7") && m.key_decoded.is_none(), "{m:?}");
            }
            if topic == "proto-orders" {
                ensure!(d.schema_type == "PROTOBUF", "{d:?}");
                let raw = base64::engine::general_purpose::STANDARD.decode(m.value.as_deref().unwrap_or(""))?;
                // Magic byte, id, then the message-index path [0] as a single 0.
                ensure!(raw[0] == 0 && raw[5] == 0, "{raw:?}");
            }
        }

        // A record that does not fit: a 400 naming it, and nothing is produced.
        let err = api
            .fails(Method::POST, &paths::messages(LOCAL, "avro-orders"),
                Some(json!({"records": [
                    {"value": order.to_string()},
                    {"value": "{\"order_id\": \"seven\", \"product\": \"x\", \"quantity\": 1}"}
                ], "value_schema": {"subject": "avro-orders-value"}})),
                StatusCode::BAD_REQUEST, "bad_request")
            .await?;
        ensure!(err.message.contains("record 1") && err.message.contains("order_id"), "{err:?}");
        let err = api
            .fails(Method::POST, &paths::messages(LOCAL, "json-orders"),
                Some(json!({"records": [{"value": "{\"product\": \"no id\"}"}],
                            "value_schema": {"subject": "json-orders-value"}})),
                StatusCode::BAD_REQUEST, "bad_request")
            .await?;
        ensure!(err.message.contains("record 0"), "{err:?}");
        api.fails(Method::POST, &paths::messages(LOCAL, "proto-orders"),
            Some(json!({"records": [{"value": "{\"order_id\": 1, \"colour\": \"red\"}"}],
                        "value_schema": {"subject": "proto-orders-value"}})),
            StatusCode::BAD_REQUEST, "bad_request").await?;
        api.fails(Method::POST, &paths::messages(LOCAL, "avro-orders"),
            Some(json!({"records": [{"value": "{}"}], "value_schema": {"subject": "no-such-subject"}})),
            StatusCode::NOT_FOUND, "not_found").await?;
        let page = api.browse("avro-orders", "from=earliest").await?;
        ensure!(page.messages.len() == 1, "{page:?}");

        // Bytes with an unknown id still browse, with the reason.
        send_raw(sandbox.kafka_address(), "avro-orders", b"odd", &[0, 0, 0, 3, 231, 2]).await?;
        let page = api.browse("avro-orders", "from=earliest&key=odd").await?;
        let d = page.messages[0].value_decoded.as_ref().context("decoded")?;
        ensure!(d.schema_id == 999 && d.json.is_none() && d.error.is_some(), "{d:?}");

        // The live tail decodes too.
        let url = api.ws_url(&paths::tail(LOCAL, "avro-orders"));
        let (mut tail, _) = tokio_tungstenite::connect_async(url).await?;
        let _: ProduceResult = api
            .ok(Method::POST, &paths::messages(LOCAL, "avro-orders"),
                Some(json!({"records": [{"value": order.to_string()}],
                            "value_schema": {"subject": "avro-orders-value", "version": 1}})),
                StatusCode::OK)
            .await?;
        let frame = tokio::time::timeout(Duration::from_secs(15), tail.next())
            .await
            .context("no tail frame within 15 s")?
            .context("tail closed")??;
        let TailEvent::Message { message } = serde_json::from_str(frame.to_text()?)? else {
            bail!("expected a message: {frame:?}");
        };
        let shown: Value = serde_json::from_str(
            message.value_decoded.as_ref().and_then(|d| d.json.as_deref()).context("decoded in tail")?,
        )?;
        ensure!(shown == order, "{shown}");
        tail.close(None).await?;
        Ok(())
    })
    .await?;
    sandbox.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn consume_rate_holds_between_periodic_commits() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let sandbox = start(dir.path()).await?;
    let api = Api::new(&sandbox);
    let addr = sandbox.kafka_address().to_string();
    bounded(async {
        let _: TopicDetail = api
            .ok(
                reqwest::Method::POST,
                &paths::topics(LOCAL),
                Some(json!({"name": "steady", "partitions": 1})),
                StatusCode::CREATED,
            )
            .await?;
        // A producer writing ~100 records a second, and a consumer reading them with the
        // client's default auto-commit (every 5 s).
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let producing = {
            let (addr, stop) = (addr.clone(), std::sync::Arc::clone(&stop));
            tokio::spawn(async move {
                let p = producer(&addr)?;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    for _ in 0..20 {
                        p.send(
                            FutureRecord::<(), _>::to("steady").payload("x"),
                            Duration::from_secs(10),
                        )
                        .await
                        .map_err(|(e, _)| anyhow!("producing: {e}"))?;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                tokio::task::spawn_blocking(move || drop(p)).await?;
                anyhow::Ok(())
            })
        };
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &addr)
            .set("group.id", "steady-readers")
            .set("auto.offset.reset", "earliest")
            .create()?;
        consumer.subscribe(&["steady"])?;
        let consuming = {
            let stop = std::sync::Arc::clone(&stop);
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = tokio::time::timeout(Duration::from_millis(200), consumer.recv()).await;
                }
                tokio::task::spawn_blocking(move || drop(consumer)).await?;
                anyhow::Ok(())
            })
        };
        // Once consumption shows, it keeps showing between the commits.
        let first = wait_until("a consume rate", Duration::from_secs(30), || async {
            let r: Vec<RateSample> = api.get(&paths::rates(LOCAL)).await?;
            Ok(r.iter()
                .rev()
                .find(|s| s.consume_per_sec > 0.0)
                .map(|s| s.ts_ms))
        })
        .await?;
        tokio::time::sleep(Duration::from_millis(4_500)).await;
        let rates: Vec<RateSample> = api.get(&paths::rates(LOCAL)).await?;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        producing.await??;
        consuming.await??;
        let after: Vec<f64> = rates
            .iter()
            .filter(|s| s.ts_ms > first)
            .map(|s| s.consume_per_sec)
            .collect();
        ensure!(after.len() >= 3, "{rates:?}");
        ensure!(
            after.iter().all(|r| *r > 20.0),
            "the consume rate dropped between commits: {after:?}"
        );
        Ok(())
    })
    .await?;
    sandbox.shutdown().await
}

/// Reads the streamed body until `want` complete lines arrived (or the body ends).
async fn read_lines(resp: &mut reqwest::Response, buf: &mut String, want: usize) -> Result<()> {
    while buf.matches('\n').count() < want {
        let chunk = tokio::time::timeout(Duration::from_secs(20), resp.chunk())
            .await
            .map_err(|_| anyhow!("no rows within 20 s; so far: {buf:?}"))??;
        match chunk {
            Some(c) => buf.push_str(std::str::from_utf8(&c)?),
            None => bail!("the stream ended early: {buf:?}"),
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ksql_pass_through_streams_push_queries() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let sandbox = start(dir.path()).await?;
    let api = Api::new(&sandbox);
    // No overall timeout: a push query's body never ends.
    let streaming = reqwest::Client::new();
    bounded(async {
        use reqwest::Method;
        const KSQL_JSON: &str = "application/vnd.ksql.v1+json";
        let url = |rest: &str| format!("{}{}", api.base, paths::ksql(LOCAL, rest));

        // Statements through /ksql, with ksqlDB's content type both ways.
        let resp = api
            .http
            .post(url("ksql"))
            .header("content-type", KSQL_JSON)
            .header("accept", KSQL_JSON)
            .body(
                json!({"ksql": "CREATE STREAM ticks (id INT, msg VARCHAR) WITH (KAFKA_TOPIC='ticks', VALUE_FORMAT='JSON', PARTITIONS=1);", "streamsProperties": {}})
                    .to_string(),
            )
            .send()
            .await?;
        ensure!(resp.status() == StatusCode::OK, "CREATE STREAM: {}", resp.status());
        let ct = resp.headers().get("content-type").cloned();
        ensure!(ct.as_ref().is_some_and(|v| v == KSQL_JSON), "{ct:?}");
        let created: Value = resp.json().await?;
        ensure!(created[0]["@type"] == "currentStatus", "{created}");

        // ksqlDB's error body and status come back as they are.
        let (status, text) = api
            .call(Method::POST, &paths::ksql(LOCAL, "ksql"), Some(json!({"ksql": "SELEC 1;"})))
            .await?;
        let err: Value = serde_json::from_str(&text)?;
        ensure!(status == StatusCode::BAD_REQUEST && err["@type"] == "statement_error", "{status} {text}");
        ensure!(err["message"].as_str().is_some_and(|m| m.contains("line 1:1")), "{text}");

        // A push query: the header arrives before any row exists, then each row as it is
        // produced, through the pass-through.
        let mut push = streaming
            .post(url("query-stream"))
            .header("content-type", KSQL_JSON)
            .body(json!({"sql": "SELECT id, msg FROM ticks EMIT CHANGES;", "properties": {"auto.offset.reset": "earliest"}}).to_string())
            .send()
            .await?;
        ensure!(push.status() == StatusCode::OK, "query-stream: {}", push.status());
        let mut buf = String::new();
        read_lines(&mut push, &mut buf, 1).await?;
        let header: Value = serde_json::from_str(buf.lines().next().context("header")?)?;
        let query_id = header["queryId"].as_str().context("queryId")?.to_string();
        ensure!(header["columnNames"] == json!(["ID", "MSG"]), "{header}");
        for i in 1..=3 {
            send_raw(sandbox.kafka_address(), "ticks", b"k", format!(r#"{{"id":{i},"msg":"tick {i}"}}"#).as_bytes()).await?;
            read_lines(&mut push, &mut buf, 1 + i).await?;
            let row: Value = serde_json::from_str(buf.lines().nth(i).context("row")?)?;
            ensure!(row == json!([i, format!("tick {i}")]), "row {i}: {row}");
        }

        // The browser going away ends the query upstream: the engine forgets it.
        drop(push);
        wait_until("the push query to end after its client left", Duration::from_secs(15), || async {
            let (status, _) = api
                .call(Method::POST, &paths::ksql(LOCAL, "close-query"), Some(json!({"queryId": query_id})))
                .await?;
            Ok((status == StatusCode::BAD_REQUEST).then_some(()))
        })
        .await?;

        // /close-query through the pass-through ends a running push query's stream.
        let mut push = streaming
            .post(url("query-stream"))
            .header("content-type", KSQL_JSON)
            .body(json!({"sql": "SELECT * FROM ticks EMIT CHANGES;", "properties": {"auto.offset.reset": "earliest"}}).to_string())
            .send()
            .await?;
        let mut buf = String::new();
        read_lines(&mut push, &mut buf, 4).await?;
        let header: Value = serde_json::from_str(buf.lines().next().context("header")?)?;
        let id = header["queryId"].as_str().context("queryId")?;
        let (status, text) = api
            .call(Method::POST, &paths::ksql(LOCAL, "close-query"), Some(json!({"queryId": id})))
            .await?;
        ensure!(status == StatusCode::OK, "close-query: {status} {text}");
        let rest = tokio::time::timeout(Duration::from_secs(15), async {
            while push.chunk().await?.is_some() {}
            Ok::<_, reqwest::Error>(())
        })
        .await;
        ensure!(matches!(rest, Ok(Ok(()))), "the stream did not end after close-query: {rest:?}");

        // Other routes pass through too; a cluster without a ksqlDB URL is a 404.
        let info: Value = api.get(&paths::ksql(LOCAL, "info")).await?;
        ensure!(info["KsqlServerInfo"]["serverStatus"] == "RUNNING", "{info}");
        let far: ClusterInfo = api
            .ok(
                Method::POST,
                &paths::clusters(),
                Some(json!({"name": "no-sql", "bootstrap_servers": sandbox.kafka_address()})),
                StatusCode::CREATED,
            )
            .await?;
        api.fails(Method::GET, &paths::ksql(&far.id, "info"), None, StatusCode::NOT_FOUND, "not_found")
            .await?;
        Ok(())
    })
    .await?;
    sandbox.shutdown().await
}

/// ksqlDB's Java client speaks HTTP/2 without TLS (prior knowledge) to /query-stream: the
/// header, then each row as it is inserted, and /close-query over HTTP/2 ends the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_stream_over_http2_prior_knowledge() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let sandbox = start(dir.path()).await?;
    let sql = sandbox.url("sql").context("no SQL surface")?;
    let h2 = reqwest::Client::builder().http2_prior_knowledge().build()?;
    bounded(async {
        let ksql = |stmt: &str| {
            h2.post(format!("{sql}/ksql"))
                .header("content-type", "application/vnd.ksql.v1+json")
                .body(json!({"ksql": stmt, "streamsProperties": {}}).to_string())
                .send()
        };
        let resp = ksql("CREATE STREAM ticks (id INT, msg VARCHAR) WITH (KAFKA_TOPIC='ticks', VALUE_FORMAT='JSON', PARTITIONS=1);").await?;
        ensure!(resp.version() == reqwest::Version::HTTP_2, "{:?}", resp.version());
        ensure!(resp.status() == StatusCode::OK, "CREATE STREAM: {}", resp.text().await?);

        let mut push = h2
            .post(format!("{sql}/query-stream"))
            .header("accept", "application/vnd.ksqlapi.delimited.v1")
            .body(json!({"sql": "SELECT id, msg FROM ticks EMIT CHANGES;", "properties": {}}).to_string())
            .send()
            .await?;
        ensure!(push.version() == reqwest::Version::HTTP_2, "{:?}", push.version());
        ensure!(push.status() == StatusCode::OK, "{}", push.status());
        let mut buf = String::new();
        let mut next_line = async || -> Result<Value> {
            loop {
                if let Some(i) = buf.find('\n') {
                    let line: String = buf.drain(..=i).collect();
                    return Ok(serde_json::from_str(line.trim())?);
                }
                let chunk = push.chunk().await?.context("the stream ended early")?;
                buf.push_str(std::str::from_utf8(&chunk)?);
            }
        };
        let header = next_line().await?;
        ensure!(header["columnNames"] == json!(["ID", "MSG"]), "{header}");
        let query_id = header["queryId"].as_str().context("no queryId")?.to_string();
        for (id, msg) in [(1, "one"), (2, "two")] {
            let r = ksql(&format!("INSERT INTO ticks (id, msg) VALUES ({id}, '{msg}');")).await?;
            ensure!(r.status() == StatusCode::OK, "INSERT: {}", r.text().await?);
            let row = next_line().await?;
            ensure!(row == json!([id, msg]), "{row}");
        }
        let closed = h2
            .post(format!("{sql}/close-query"))
            .body(json!({"queryId": query_id}).to_string())
            .send()
            .await?;
        ensure!(closed.status() == StatusCode::OK, "close-query: {}", closed.status());
        let rest = tokio::time::timeout(Duration::from_secs(10), async {
            while push.chunk().await?.is_some() {}
            anyhow::Ok(())
        })
        .await;
        ensure!(matches!(rest, Ok(Ok(()))), "the stream did not end after /close-query: {rest:?}");
        Ok(())
    })
    .await?;
    sandbox.shutdown().await
}

/// `POST /inserts-stream` on the SQL port is HTTP/1.1 streaming both ways, as ksqlDB's: each
/// row is acknowledged while the request body is still open (a client can wait for an ack
/// before sending the next row), and the rows become records of the stream's topic.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn inserts_stream_acks_each_row_while_the_request_is_open() -> Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir()?;
    let sandbox = start(dir.path()).await?;
    let sql = sandbox.url("sql").context("no sql endpoint")?;
    bounded(async {
        let http = reqwest::Client::new();
        let created = http
            .post(format!("{sql}/ksql"))
            .body(json!({"ksql": "CREATE STREAM moves (id VARCHAR KEY, n INT) WITH (KAFKA_TOPIC='moves', VALUE_FORMAT='JSON', PARTITIONS=1);"}).to_string())
            .send()
            .await?;
        ensure!(created.status() == StatusCode::OK, "{}", created.text().await?);

        let addr = sql.trim_start_matches("http://").to_string();
        let (mut read, mut write) = tokio::net::TcpStream::connect(&addr).await?.into_split();
        let chunk = |s: String| format!("{:x}\r\n{s}\r\n", s.len());
        write
            .write_all(b"POST /inserts-stream HTTP/1.1\r\nHost: sluice\r\nTransfer-Encoding: chunked\r\n\r\n")
            .await?;
        write.write_all(chunk("{\"target\":\"MOVES\"}\n".into()).as_bytes()).await?;
        let mut seen = String::new();
        let mut buf = vec![0u8; 4096];
        for i in 0..3 {
            write
                .write_all(chunk(format!("{{\"ID\":\"k{i}\",\"N\":{i}}}\n")).as_bytes())
                .await?;
            // This row's ack, before any later row is sent.
            let want = format!("{{\"seq\":{i},\"status\":\"ok\"}}");
            while !seen.contains(&want) {
                let n = tokio::time::timeout(Duration::from_secs(10), read.read(&mut buf))
                    .await
                    .map_err(|_| anyhow!("no ack for row {i} while the request is open; so far: {seen:?}"))??;
                ensure!(n > 0, "the response ended early: {seen:?}");
                seen.push_str(std::str::from_utf8(&buf[..n])?);
            }
        }
        ensure!(seen.starts_with("HTTP/1.1 200"), "{seen}");
        // Ending the request ends the response (the chunked terminator).
        write.write_all(b"0\r\n\r\n").await?;
        while !seen.ends_with("0\r\n\r\n") {
            let n = tokio::time::timeout(Duration::from_secs(10), read.read(&mut buf)).await??;
            ensure!(n > 0, "connection closed before the response ended: {seen:?}");
            seen.push_str(std::str::from_utf8(&buf[..n])?);
        }

        // The rows are the stream's records: a pull query over the stream reads them.
        let rows = http
            .post(format!("{sql}/query-stream"))
            .body(json!({"sql": "SELECT id, n FROM moves;"}).to_string())
            .send()
            .await?
            .text()
            .await?;
        let rows: Vec<Value> = rows.lines().skip(1).map(serde_json::from_str).collect::<Result<_, _>>()?;
        ensure!(rows == vec![json!(["k0", 0]), json!(["k1", 1]), json!(["k2", 2])], "{rows:?}");
        Ok(())
    })
    .await?;
    sandbox.shutdown().await
}

/// The number of records a topic has had (the sum of its partitions' end offsets).
async fn topic_end(api: &Api, topic: &str) -> Result<i64> {
    let t: TopicDetail = api.get(&paths::topic(LOCAL, topic)).await?;
    Ok(t.partitions.iter().map(|p| p.end_offset).sum())
}

/// The Kafka Connect pass-through against the embedded connector runtime: what the
/// Connectors view does (plugins, a plugin's config definition, validation with per-field
/// errors, create, list with statuses, topics, pause/resume/stop/restart, offsets and their
/// reset, delete), with Connect's status codes and error JSON kept as Connect gave them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connect_pass_through_drives_the_embedded_connect() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let sandbox = start(dir.path()).await?;
    let api = Api::new(&sandbox);
    bounded(async {
        use reqwest::Method;
        const DATAGEN: &str = "io.confluent.kafka.connect.datagen.DatagenConnector";
        let c = |rest: &str| paths::connect(LOCAL, rest);

        // The embedded cluster names its Connect URL, the one the sandbox serves.
        let clusters: Vec<ClusterInfo> = api.get(&paths::clusters()).await?;
        let connect_endpoint = sandbox
            .endpoints()
            .iter()
            .find(|e| e.name == "connect")
            .context("connect endpoint")?
            .display_address();
        ensure!(
            clusters[0].connect_url.as_deref() == Some(connect_endpoint.as_str()),
            "{clusters:?} vs {connect_endpoint}"
        );

        // Plugins, and one plugin's config definition.
        let plugins: Vec<Value> = api.get(&c("connector-plugins")).await?;
        ensure!(plugins.iter().any(|p| p["class"] == DATAGEN && p["type"] == "source"), "{plugins:?}");
        let defs: Vec<Value> = api.get(&c(&format!("connector-plugins/{DATAGEN}/config"))).await?;
        let topic_def = defs.iter().find(|d| d["name"] == "kafka.topic").context("kafka.topic")?;
        ensure!(topic_def["required"] == true && topic_def["type"] == "STRING", "{topic_def}");

        // Validation: each field's errors next to it, the total in error_count.
        let bad: Value = api
            .ok(Method::PUT, &c(&format!("connector-plugins/{DATAGEN}/config/validate")),
                Some(json!({"connector.class": DATAGEN, "name": "orders-gen", "max.interval": "soon", "quickstart": "orders"})),
                StatusCode::OK)
            .await?;
        let errors_of = |v: &Value, key: &str| -> Vec<String> {
            v["configs"].as_array().into_iter().flatten()
                .find(|e| e["value"]["name"] == key)
                .map(|e| e["value"]["errors"].as_array().into_iter().flatten()
                    .filter_map(|m| m.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        ensure!(bad["error_count"] == 2, "{bad}");
        ensure!(errors_of(&bad, "kafka.topic")[0].contains("Missing required configuration"), "{bad}");
        ensure!(errors_of(&bad, "max.interval")[0].contains("Not a number"), "{bad}");
        ensure!(bad["groups"].as_array().is_some_and(|g| g.iter().any(|g| g == "Common")), "{bad}");
        let good: Value = api
            .ok(Method::PUT, &c(&format!("connector-plugins/{DATAGEN}/config/validate")),
                Some(json!({"connector.class": DATAGEN, "name": "orders-gen", "kafka.topic": "gen-orders",
                            "quickstart": "orders", "max.interval": "50"})),
                StatusCode::OK)
            .await?;
        ensure!(good["error_count"] == 0, "{good}");

        // Create; Connect's 201 and its body come back as they are; a second create is
        // Connect's 409 with its error JSON.
        let config = json!({"connector.class": DATAGEN, "kafka.topic": "gen-orders", "quickstart": "orders",
                            "max.interval": "50", "tasks.max": "1"});
        let created: Value = api
            .ok(Method::POST, &c("connectors"), Some(json!({"name": "orders-gen", "config": config})),
                StatusCode::CREATED)
            .await?;
        ensure!(created["name"] == "orders-gen" && created["type"] == "source", "{created}");
        let (status, text) = api
            .call(Method::POST, &c("connectors"), Some(json!({"name": "orders-gen", "config": config})))
            .await?;
        let err: Value = serde_json::from_str(&text)?;
        ensure!(status == StatusCode::CONFLICT && err["error_code"] == 409, "{status} {text}");

        // The list with statuses and infos, as the view polls it; records arrive.
        let running = |want: &'static str| {
            let api = &api;
            move || async move {
                let all: Value = api.get(&c("connectors?expand=status&expand=info")).await?;
                let s = &all["orders-gen"]["status"];
                Ok((s["connector"]["state"] == want
                    && s["tasks"].as_array().is_some_and(|t| t.len() == 1 && t[0]["state"] == want))
                .then(|| all.clone()))
            }
        };
        let all = wait_until("orders-gen RUNNING", Duration::from_secs(20), running("RUNNING")).await?;
        ensure!(all["orders-gen"]["info"]["config"]["kafka.topic"] == "gen-orders", "{all}");
        wait_until("records in gen-orders", Duration::from_secs(20), || async {
            Ok((topic_end(&api, "gen-orders").await.unwrap_or(0) >= 5).then_some(()))
        })
        .await?;
        let topics: Value = api.get(&c("connectors/orders-gen/topics")).await?;
        ensure!(topics == json!({"orders-gen": {"topics": ["gen-orders"]}}), "{topics}");

        // Pause: 202, PAUSED, no new records.
        let (status, _) = api.call(Method::PUT, &c("connectors/orders-gen/pause"), None).await?;
        ensure!(status == StatusCode::ACCEPTED, "pause: {status}");
        wait_until("orders-gen PAUSED", Duration::from_secs(20), running("PAUSED")).await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let paused_at = topic_end(&api, "gen-orders").await?;
        tokio::time::sleep(Duration::from_millis(800)).await;
        ensure!(topic_end(&api, "gen-orders").await? == paused_at, "records kept arriving while paused");
        let (status, _) = api.call(Method::PUT, &c("connectors/orders-gen/resume"), None).await?;
        ensure!(status == StatusCode::ACCEPTED, "resume: {status}");
        wait_until("orders-gen RUNNING again", Duration::from_secs(20), running("RUNNING")).await?;
        wait_until("records after resume", Duration::from_secs(20), || async {
            Ok((topic_end(&api, "gen-orders").await? > paused_at).then_some(()))
        })
        .await?;

        // Restarts: the connector (204), with its tasks (202 and the status), one task (204).
        let (status, _) = api.call(Method::POST, &c("connectors/orders-gen/restart"), None).await?;
        ensure!(status == StatusCode::NO_CONTENT, "restart: {status}");
        let (status, text) = api
            .call(Method::POST, &c("connectors/orders-gen/restart?includeTasks=true&onlyFailed=false"), None)
            .await?;
        ensure!(status == StatusCode::ACCEPTED && text.contains("\"tasks\""), "restart with tasks: {status} {text}");
        let (status, _) = api.call(Method::POST, &c("connectors/orders-gen/tasks/0/restart"), None).await?;
        ensure!(status == StatusCode::NO_CONTENT, "task restart: {status}");
        let (status, text) = api.call(Method::POST, &c("connectors/orders-gen/tasks/7/restart"), None).await?;
        ensure!(status == StatusCode::NOT_FOUND && text.contains("\"error_code\":404"), "{status} {text}");

        // Offsets: reset refused while running (Connect's 400), done once STOPPED.
        let offsets: Value = api.get(&c("connectors/orders-gen/offsets")).await?;
        ensure!(offsets["offsets"].as_array().is_some_and(|o| !o.is_empty()), "{offsets}");
        let (status, text) = api.call(Method::DELETE, &c("connectors/orders-gen/offsets"), None).await?;
        ensure!(status == StatusCode::BAD_REQUEST && text.contains("STOPPED"), "{status} {text}");
        let (status, _) = api.call(Method::PUT, &c("connectors/orders-gen/stop"), None).await?;
        ensure!(status == StatusCode::ACCEPTED, "stop: {status}");
        wait_until("orders-gen STOPPED", Duration::from_secs(20), || async {
            let s: Value = api.get(&c("connectors/orders-gen/status")).await?;
            Ok((s["connector"]["state"] == "STOPPED").then_some(()))
        })
        .await?;
        let reset: Value = api
            .ok(Method::DELETE, &c("connectors/orders-gen/offsets"), None, StatusCode::OK)
            .await?;
        ensure!(reset["message"].as_str().is_some_and(|m| m.contains("reset")), "{reset}");
        let offsets: Value = api.get(&c("connectors/orders-gen/offsets")).await?;
        ensure!(offsets["offsets"] == json!([]), "{offsets}");

        // Delete: 204, then Connect's 404 JSON for it.
        let (status, _) = api.call(Method::DELETE, &c("connectors/orders-gen"), None).await?;
        ensure!(status == StatusCode::NO_CONTENT, "delete: {status}");
        let (status, text) = api.call(Method::GET, &c("connectors/orders-gen"), None).await?;
        let err: Value = serde_json::from_str(&text)?;
        ensure!(status == StatusCode::NOT_FOUND && err["error_code"] == 404, "{status} {text}");
        let names: Vec<String> = api.get(&c("connectors")).await?;
        ensure!(names.is_empty(), "{names:?}");

        // A cluster without a Connect URL is the workbench's 404; an unreachable one a 502.
        let plain: ClusterInfo = api
            .ok(Method::POST, &paths::clusters(),
                Some(json!({"name": "no-connect", "bootstrap_servers": sandbox.kafka_address()})),
                StatusCode::CREATED)
            .await?;
        api.fails(Method::GET, &paths::connect(&plain.id, "connectors"), None, StatusCode::NOT_FOUND, "not_found")
            .await?;
        let closed = std::net::TcpListener::bind("127.0.0.1:0")?;
        let dead_connect = format!("http://{}", closed.local_addr()?);
        drop(closed);
        let dead: ClusterInfo = api
            .ok(Method::POST, &paths::clusters(),
                Some(json!({"name": "dead-connect", "bootstrap_servers": sandbox.kafka_address(),
                            "connect_url": dead_connect})),
                StatusCode::CREATED)
            .await?;
        ensure!(dead.connect_url.as_deref() == Some(dead_connect.as_str()), "{dead:?}");
        api.fails(Method::GET, &paths::connect(&dead.id, "connectors"), None, StatusCode::BAD_GATEWAY, "unavailable")
            .await?;
        api.fails(Method::POST, &paths::clusters(),
            Some(json!({"name": "bad", "bootstrap_servers": "x:1", "connect_url": "ftp://nope"})),
            StatusCode::BAD_REQUEST, "bad_request").await?;
        Ok(())
    })
    .await?;
    sandbox.shutdown().await
}
