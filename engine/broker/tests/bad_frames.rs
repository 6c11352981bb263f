//! Hostile and real request frames through `process_frame`, the broker's whole request path
//! (header, decoding, handler, encoding) without a socket.
//!
//! - Every supported API at every supported version, with no body, a truncated body, garbage
//!   and bit-flipped bodies: the broker answers or refuses (Err closes the connection), and
//!   never panics.
//! - A few thousand pseudo-random frames from a fixed seed (reproducible; a failure prints the
//!   frame in hex).
//! - Golden frames captured from real clients (kcat, kafka-python, confluent-kafka, aiokafka;
//!   see `golden/capture.py`): each one decodes, runs, and gets a well-formed response of its
//!   own API at its own version, decoded by the protocol crate's client-side decoder.
//! - Record batches with a valid CRC that lie about their record count or offset range: the
//!   broker refuses them or keeps serving what was written, and never goes down.
//!
//! Whatever the input, any response the broker does send must decode cleanly with the
//! correlation id of its request: a client must never get bytes it cannot parse.
//!
//! Decoding responses (and encoding requests) needs kafka-protocol's `client` feature. It is
//! enabled by a dev-dependency; in a `--workspace` build engine/server's supplies it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kafka_protocol::ResponseError;
use sluice_broker::apis::SUPPORTED;
use sluice_broker::server::{process_frame, ConnectionInfo};
use sluice_broker::{Broker, BrokerConfig};
use sluice_log::LogStore;
use uuid::Uuid;

/// How long one frame may run. Only requests that legitimately park (a Fetch waiting for data,
/// a JoinGroup or SyncGroup waiting for the other members) may take longer.
const FRAME_LIMIT: Duration = Duration::from_millis(500);

struct TestBroker {
    broker: Arc<Broker>,
    conn: ConnectionInfo,
    _dir: tempfile::TempDir,
}

fn new_broker() -> TestBroker {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = LogStore::open(dir.path()).expect("open log store");
    let broker = Broker::new(BrokerConfig::default(), store).expect("broker");
    TestBroker {
        broker,
        conn: ConnectionInfo {
            peer: "127.0.0.1:50000".parse().unwrap(),
        },
        _dir: dir,
    }
}

/// What became of one frame.
#[derive(Debug)]
enum Outcome {
    /// Refused: the connection would be closed (the reason shows in failure messages).
    Refused(#[allow(dead_code)] String),
    /// No response (acks=0 produce).
    Silent,
    /// A response (without the length prefix).
    Answered(Bytes),
    /// Still running after [`FRAME_LIMIT`] (allowed only for parking APIs).
    Parked,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn frame_key_version(frame: &[u8]) -> Option<(i16, i16)> {
    (frame.len() >= 4).then(|| {
        (
            i16::from_be_bytes([frame[0], frame[1]]),
            i16::from_be_bytes([frame[2], frame[3]]),
        )
    })
}

/// Runs one frame in its own task, so a panic is reported with the frame that caused it.
async fn run(tb: &TestBroker, frame: Bytes) -> Outcome {
    if std::env::var_os("BAD_FRAMES_TRACE").is_some() {
        eprintln!("frame {}", hex(&frame));
    }
    let broker = tb.broker.clone();
    let conn = tb.conn.clone();
    let input = frame.clone();
    let task = tokio::spawn(async move { process_frame(&broker, &conn, input).await });
    let abort = task.abort_handle();
    match tokio::time::timeout(FRAME_LIMIT, task).await {
        Err(_) => {
            abort.abort();
            let parking = matches!(
                frame_key_version(&frame).and_then(|(k, _)| ApiKey::try_from(k).ok()),
                Some(ApiKey::Fetch | ApiKey::JoinGroup | ApiKey::SyncGroup)
            );
            assert!(
                parking,
                "frame still running after {FRAME_LIMIT:?} (not an API that may wait): {}",
                hex(&frame)
            );
            if std::env::var_os("BAD_FRAMES_TRACE").is_some() {
                eprintln!("parked {}", hex(&frame));
            }
            Outcome::Parked
        }
        Ok(Err(join)) => panic!("process_frame panicked ({join}) on frame {}", hex(&frame)),
        Ok(Ok(Err(e))) => Outcome::Refused(e.0),
        Ok(Ok(Ok(None))) => Outcome::Silent,
        Ok(Ok(Ok(Some(resp)))) => {
            check_response(&frame, &resp);
            Outcome::Answered(resp)
        }
    }
}

/// Decodes a response to `frame` with the client-side decoder, at the request's version.
fn decode_response(frame: &[u8], resp: &Bytes) -> Result<(ResponseHeader, ResponseKind), String> {
    let (key, version) = frame_key_version(frame).ok_or("no request header")?;
    let api = ApiKey::try_from(key).map_err(|_| format!("answered unknown api key {key}"))?;
    let correlation_id = i32::from_be_bytes(frame[4..8].try_into().unwrap());
    let mut buf = resp.clone();
    // An out-of-range ApiVersions is answered at v0 (KIP-511).
    let supported = SUPPORTED.iter().find(|(k, _)| *k == api).map(|(_, r)| *r);
    let version = match supported {
        Some(r) if api == ApiKey::ApiVersions && (version < r.min || version > r.max) => 0,
        _ => version,
    };
    let header = ResponseHeader::decode(&mut buf, api.response_header_version(version))
        .map_err(|e| format!("response header: {e}"))?;
    if header.correlation_id != correlation_id {
        return Err(format!(
            "correlation id {} for request {correlation_id}",
            header.correlation_id
        ));
    }
    let body = ResponseKind::decode(api, &mut buf, version)
        .map_err(|e| format!("{api:?} v{version} response: {e}"))?;
    if buf.has_remaining() {
        return Err(format!(
            "{api:?} v{version} response has {} trailing bytes",
            buf.remaining()
        ));
    }
    Ok((header, body))
}

fn check_response(frame: &[u8], resp: &Bytes) {
    if let Err(e) = decode_response(frame, resp) {
        panic!(
            "malformed response ({e})\n  request:  {}\n  response: {}",
            hex(frame),
            hex(resp)
        );
    }
}

/// Encodes a request header for `api` at `version`.
fn header_bytes(api: ApiKey, version: i16, correlation_id: i32) -> BytesMut {
    let mut b = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(api as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str("bad-frames")))
        .encode(&mut b, api.request_header_version(version))
        .expect("encode request header");
    b
}

/// A default-valued request of every supported API.
fn default_request(api: ApiKey) -> RequestKind {
    macro_rules! defaults {
        ($($key:ident),* $(,)?) => {
            match api {
                $(ApiKey::$key => RequestKind::$key(Default::default()),)*
                other => panic!("no default request for {other:?}: add it to this list"),
            }
        };
    }
    defaults!(
        Produce,
        Fetch,
        ListOffsets,
        Metadata,
        OffsetCommit,
        OffsetFetch,
        FindCoordinator,
        JoinGroup,
        Heartbeat,
        LeaveGroup,
        SyncGroup,
        DescribeGroups,
        ListGroups,
        ApiVersions,
        CreateTopics,
        DeleteTopics,
        DeleteRecords,
        InitProducerId,
        DescribeConfigs,
        AlterConfigs,
        CreatePartitions,
        DeleteGroups,
        IncrementalAlterConfigs,
        OffsetDelete,
        DescribeCluster,
    )
}

/// The body of a default request at `version` (None if the codec cannot write it there).
fn default_body(api: ApiKey, version: i16) -> Option<Vec<u8>> {
    let mut b = BytesMut::new();
    default_request(api).encode(&mut b, version).ok()?;
    Some(b.to_vec())
}

/// xorshift64*: a fixed-seed generator, so every run sees the same frames.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Counts of outcomes, printed at the end of a test (visible with --nocapture).
#[derive(Default, Debug)]
struct Tally {
    refused: usize,
    silent: usize,
    answered: usize,
    parked: usize,
}

impl Tally {
    fn add(&mut self, o: &Outcome) {
        match o {
            Outcome::Refused(_) => self.refused += 1,
            Outcome::Silent => self.silent += 1,
            Outcome::Answered(_) => self.answered += 1,
            Outcome::Parked => self.parked += 1,
        }
    }
    fn total(&self) -> usize {
        self.refused + self.silent + self.answered + self.parked
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_keys_and_versions_are_refused() {
    let tb = new_broker();
    // Shorter than a request header.
    for n in 0..8 {
        assert!(matches!(
            run(&tb, Bytes::from(vec![0u8; n])).await,
            Outcome::Refused(_)
        ));
    }
    // Keys that do not exist, and real keys this broker does not serve.
    for key in [-1i16, 93, 1000, i16::MAX, i16::MIN] {
        let mut f = key.to_be_bytes().to_vec();
        f.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0xff, 0xff]);
        assert!(
            matches!(run(&tb, f.into()).await, Outcome::Refused(_)),
            "key {key}"
        );
    }
    for api in [
        ApiKey::ConsumerGroupDescribe,
        ApiKey::GetTelemetrySubscriptions,
        ApiKey::EndTxn,
    ] {
        assert!(SUPPORTED.iter().all(|(k, _)| *k != api));
        let mut f = header_bytes(api, 0, 7);
        f.extend_from_slice(&[0; 16]);
        assert!(
            matches!(run(&tb, f.freeze()).await, Outcome::Refused(_)),
            "{api:?}"
        );
    }
    for (api, range) in SUPPORTED {
        for version in [range.min - 1, range.max + 1, i16::MIN, i16::MAX] {
            if version >= range.min && version <= range.max {
                continue;
            }
            let mut f = BytesMut::new();
            f.extend_from_slice(&(*api as i16).to_be_bytes());
            f.extend_from_slice(&version.to_be_bytes());
            f.extend_from_slice(&42i32.to_be_bytes());
            f.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
            let out = run(&tb, f.freeze()).await;
            if *api == ApiKey::ApiVersions {
                // KIP-511: an ApiVersions the broker cannot read is answered at v0 with
                // UNSUPPORTED_VERSION and the supported ranges, so the client can retry.
                let Outcome::Answered(resp) = &out else {
                    panic!("ApiVersions v{version}: {out:?}");
                };
                let mut buf = resp.clone();
                assert_eq!(
                    ResponseHeader::decode(&mut buf, 0).unwrap().correlation_id,
                    42
                );
                let body = ApiVersionsResponse::decode(&mut buf, 0).unwrap();
                assert_eq!(body.error_code, ResponseError::UnsupportedVersion.code());
                assert!(body
                    .api_keys
                    .iter()
                    .any(|k| k.api_key == ApiKey::Produce as i16));
            } else {
                assert!(
                    matches!(out, Outcome::Refused(_)),
                    "{api:?} v{version}: {out:?}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_and_version_survives_bad_bodies() {
    let tb = new_broker();
    let mut rng = Rng(0x5eed_0001);
    let mut tally = Tally::default();
    let mut combos = 0;
    for (api, range) in SUPPORTED {
        for version in range.min..=range.max {
            combos += 1;
            let header = header_bytes(*api, version, combos);
            let good = default_body(*api, version)
                .unwrap_or_else(|| panic!("encoding a default {api:?} v{version}"));
            let mut bodies: Vec<Vec<u8>> = Vec::new();
            // No body, every truncation of a well-formed one, and the whole of it.
            for n in 0..=good.len() {
                bodies.push(good[..n].to_vec());
            }
            // Garbage of a few sizes.
            for n in [1, 3, 7, 16, 64, 300] {
                bodies.push(rng.bytes(n));
            }
            for fill in [0x00u8, 0xff, 0x7f, 0x80] {
                bodies.push(vec![fill; 64]);
            }
            // The well-formed body with bytes flipped or overwritten.
            for _ in 0..24 {
                let mut b = good.clone();
                let extra = rng.below(3);
                b.extend_from_slice(&rng.bytes(extra));
                if !b.is_empty() {
                    for _ in 0..1 + rng.below(3) {
                        let i = rng.below(b.len());
                        b[i] = match rng.below(4) {
                            0 => b[i] ^ (1 << rng.below(8)),
                            1 => 0xff,
                            2 => 0x00,
                            _ => rng.next() as u8,
                        };
                    }
                }
                bodies.push(b);
            }
            // The header alone, truncated.
            for n in 0..header.len() {
                let out = run(&tb, Bytes::copy_from_slice(&header[..n])).await;
                tally.add(&out);
            }
            for body in bodies {
                let mut f = header.clone();
                f.extend_from_slice(&body);
                let out = run(&tb, f.freeze()).await;
                tally.add(&out);
            }
        }
    }
    println!(
        "{combos} api/version pairs, {} frames: {tally:?}",
        tally.total()
    );
    assert!(combos > 100, "only {combos} api/version pairs");
    assert!(tally.answered > 0 && tally.refused > 0, "{tally:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pseudo_random_frames_never_panic() {
    let tb = new_broker();
    let mut rng = Rng(0x00c0_ffee_d00d_f00d);
    let mut tally = Tally::default();
    let bodies: Vec<(ApiKey, i16, Vec<u8>)> = SUPPORTED
        .iter()
        .flat_map(|(api, r)| (r.min..=r.max).map(move |v| (*api, v)))
        .filter_map(|(api, v)| default_body(api, v).map(|b| (api, v, b)))
        .collect();
    for i in 0..4000 {
        let frame: Vec<u8> = match i % 4 {
            // Anything at all.
            0 => {
                let n = rng.below(96);
                rng.bytes(n)
            }
            // A real api key and version, then garbage.
            1 => {
                let (api, range) = SUPPORTED[rng.below(SUPPORTED.len())];
                let v = range.min + rng.below((range.max - range.min + 1) as usize) as i16;
                let mut f = header_bytes(api, v, i);
                let n = rng.below(128);
                f.extend_from_slice(&rng.bytes(n));
                f.to_vec()
            }
            // A well-formed request with random damage (flips, cuts, inserted bytes).
            _ => {
                let (api, v, body) = &bodies[rng.below(bodies.len())];
                let mut f = header_bytes(*api, *v, i).to_vec();
                f.extend_from_slice(body);
                for _ in 0..1 + rng.below(4) {
                    match rng.below(5) {
                        0 | 1 => {
                            let at = rng.below(f.len());
                            f[at] ^= 1 << rng.below(8);
                        }
                        2 => {
                            let at = rng.below(f.len());
                            f[at] = [0x00, 0xff, 0x7f, 0x80, 0x01][rng.below(5)];
                        }
                        3 => {
                            let at = rng.below(f.len() + 1);
                            let n = 1 + rng.below(8);
                            let junk = rng.bytes(n);
                            f.splice(at..at, junk);
                        }
                        _ => {
                            let keep = 8 + rng.below(f.len().saturating_sub(8) + 1);
                            f.truncate(keep.min(f.len()));
                        }
                    }
                }
                f
            }
        };
        let out = run(&tb, frame.into()).await;
        tally.add(&out);
    }
    println!("random frames: {tally:?}");
    assert!(tally.refused > 1000, "{tally:?}");
}

// ---------------------------------------------------------------------------------------
// Golden frames from real clients
// ---------------------------------------------------------------------------------------

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// A captured frame: `<client>_<Api>_v<version>.bin`.
struct Golden {
    name: String,
    client: String,
    api: ApiKey,
    version: i16,
    frame: Bytes,
}

fn goldens() -> Vec<Golden> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(golden_dir()).expect("golden dir") {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("bin") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let mut parts = name.rsplitn(3, '_');
        let version: i16 = parts
            .next()
            .unwrap()
            .trim_start_matches('v')
            .parse()
            .expect("version");
        let api_name = parts.next().expect("api in the file name").to_string();
        let client = parts.next().expect("client in the file name").to_string();
        let frame = Bytes::from(std::fs::read(&path).unwrap());
        let (key, v) = frame_key_version(&frame).expect("frame header");
        let api = ApiKey::try_from(key).expect("known api key");
        assert_eq!(
            format!("{api:?}"),
            api_name,
            "{name}: the file name says another API"
        );
        assert_eq!(v, version, "{name}: the file name says another version");
        out.push(Golden {
            name,
            client,
            api,
            version,
            frame,
        });
    }
    out
}

/// The order a client session would send them in, so later requests find what earlier ones
/// made (Metadata auto-creates the topic that Produce writes and Fetch reads).
fn session_rank(api: ApiKey) -> usize {
    [
        ApiKey::ApiVersions,
        ApiKey::Metadata,
        ApiKey::InitProducerId,
        ApiKey::Produce,
        ApiKey::ListOffsets,
        ApiKey::Fetch,
        ApiKey::FindCoordinator,
        ApiKey::JoinGroup,
    ]
    .iter()
    .position(|a| *a == api)
    .unwrap_or(usize::MAX)
}

fn decode_request(g: &Golden) -> (RequestHeader, RequestKind) {
    let mut buf = g.frame.clone();
    let header = RequestHeader::decode(&mut buf, g.api.request_header_version(g.version))
        .unwrap_or_else(|e| panic!("{}: header: {e}", g.name));
    let body = RequestKind::decode(g.api, &mut buf, g.version)
        .unwrap_or_else(|e| panic!("{}: body: {e}", g.name));
    assert!(
        !buf.has_remaining(),
        "{}: trailing bytes in the request",
        g.name
    );
    (header, body)
}

fn encode_request(header: &RequestHeader, api: ApiKey, version: i16, body: &RequestKind) -> Bytes {
    let mut b = BytesMut::new();
    header
        .encode(&mut b, api.request_header_version(version))
        .unwrap();
    body.encode(&mut b, version).unwrap();
    b.freeze()
}

async fn answer(tb: &TestBroker, name: &str, frame: Bytes) -> ResponseKind {
    match run(tb, frame.clone()).await {
        Outcome::Answered(resp) => decode_response(&frame, &resp).unwrap().1,
        other => panic!("{name}: expected a response, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_frames_from_real_clients() {
    let mut by_client: BTreeMap<String, Vec<Golden>> = BTreeMap::new();
    for g in goldens() {
        by_client.entry(g.client.clone()).or_default().push(g);
    }
    let clients: Vec<&str> = by_client.keys().map(String::as_str).collect();
    for want in ["kcat", "kafka-python", "confluent-kafka", "aiokafka"] {
        assert!(
            clients.contains(&want),
            "no golden frames of {want}: {clients:?}"
        );
    }
    let mut checked = BTreeMap::<i16, usize>::new();
    for (client, mut frames) in by_client {
        frames.sort_by_key(|g| session_rank(g.api));
        let tb = new_broker();
        // Topic ids the broker gave out, for fetches that name topics by id (v13+).
        let mut topic_ids: Vec<Uuid> = Vec::new();
        let mut produced = 0usize;
        for g in &frames {
            let (header, request) = decode_request(g);
            let mut frame = g.frame.clone();
            if let RequestKind::Fetch(mut fetch) = request.clone() {
                // The capture came from another broker: point by-id fetches at this one's topic.
                if g.version >= 13 && topic_ids.len() == 1 {
                    for t in &mut fetch.topics {
                        t.topic_id = topic_ids[0];
                    }
                    fetch.max_wait_ms = fetch.max_wait_ms.min(100);
                    frame = encode_request(&header, g.api, g.version, &RequestKind::Fetch(fetch));
                }
            }
            let response = answer(&tb, &g.name, frame).await;
            *checked.entry(g.api as i16).or_default() += 1;
            let name = &g.name;
            match response {
                ResponseKind::ApiVersions(r) => {
                    assert_eq!(r.error_code, 0, "{name}");
                    for api in [
                        ApiKey::Produce,
                        ApiKey::Fetch,
                        ApiKey::Metadata,
                        ApiKey::ApiVersions,
                    ] {
                        let v = r.api_keys.iter().find(|k| k.api_key == api as i16);
                        let v = v.unwrap_or_else(|| panic!("{name}: {api:?} not listed"));
                        assert!(v.min_version <= v.max_version, "{name}: {v:?}");
                    }
                }
                ResponseKind::Metadata(r) => {
                    assert_eq!(r.brokers.len(), 1, "{name}: {r:?}");
                    let b = &r.brokers[0];
                    assert_eq!(
                        (b.node_id.0, b.host.as_str(), b.port),
                        (1, "127.0.0.1", 9092),
                        "{name}"
                    );
                    for t in &r.topics {
                        assert_eq!(t.error_code, 0, "{name}: {t:?}");
                        assert!(!t.partitions.is_empty(), "{name}: {t:?}");
                        if !t.topic_id.is_nil() {
                            topic_ids.push(t.topic_id);
                        }
                    }
                }
                ResponseKind::InitProducerId(r) => {
                    assert_eq!(r.error_code, 0, "{name}");
                    assert!(r.producer_id.0 >= 0, "{name}: {r:?}");
                }
                ResponseKind::Produce(r) => {
                    assert_eq!(r.responses.len(), 1, "{name}: {r:?}");
                    for p in &r.responses[0].partition_responses {
                        assert_eq!(p.error_code, 0, "{name}: {p:?}");
                        assert_eq!(p.base_offset, 0, "{name}: {p:?}");
                    }
                    produced += 1;
                }
                ResponseKind::ListOffsets(r) => {
                    for p in r.topics.iter().flat_map(|t| &t.partitions) {
                        assert_eq!(p.error_code, 0, "{name}: {p:?}");
                    }
                }
                ResponseKind::Fetch(r) => {
                    assert_eq!(r.error_code, 0, "{name}");
                    assert_eq!(r.responses.len(), 1, "{name}: {r:?}");
                    let p = &r.responses[0].partitions[0];
                    assert_eq!(p.error_code, 0, "{name}: {p:?}");
                    if produced > 0 {
                        assert!(p.high_watermark > 0, "{name}: {p:?}");
                        let records = p.records.as_ref().map(|b| b.len()).unwrap_or(0);
                        assert!(records > 0, "{name}: no records fetched after a produce");
                    }
                }
                ResponseKind::FindCoordinator(r) => {
                    if g.version >= 4 {
                        assert!(!r.coordinators.is_empty(), "{name}");
                        for c in &r.coordinators {
                            assert_eq!(
                                (c.error_code, c.node_id.0, c.port),
                                (0, 1, 9092),
                                "{name}: {c:?}"
                            );
                        }
                    } else {
                        assert_eq!(
                            (r.error_code, r.node_id.0, r.port),
                            (0, 1, 9092),
                            "{name}: {r:?}"
                        );
                    }
                }
                ResponseKind::JoinGroup(r) => {
                    let RequestKind::JoinGroup(join) = request else {
                        unreachable!()
                    };
                    let r = if r.error_code == ResponseError::MemberIdRequired.code() {
                        // KIP-394: rejoin with the member id the broker handed out.
                        assert!(!r.member_id.is_empty(), "{name}: {r:?}");
                        let again = join.clone().with_member_id(r.member_id.clone());
                        let frame = encode_request(
                            &header,
                            g.api,
                            g.version,
                            &RequestKind::JoinGroup(again),
                        );
                        match answer(&tb, name, frame).await {
                            ResponseKind::JoinGroup(r) => r,
                            other => panic!("{name}: {other:?}"),
                        }
                    } else {
                        r
                    };
                    assert_eq!(r.error_code, 0, "{name}: {r:?}");
                    assert!(r.generation_id >= 1, "{name}: {r:?}");
                    assert_eq!(r.leader, r.member_id, "{name}: the only member leads");
                    let chosen = r.protocol_name.clone().unwrap_or_default();
                    assert!(
                        join.protocols.iter().any(|p| p.name == chosen),
                        "{name}: chose {chosen:?}"
                    );
                    assert_eq!(
                        r.members.len(),
                        1,
                        "{name}: the leader gets the member list"
                    );
                }
                other => panic!("{name}: answered with {other:?}"),
            }
        }
        println!("{client}: {} golden frames replayed", frames.len());
    }
    for api in [
        ApiKey::ApiVersions,
        ApiKey::Metadata,
        ApiKey::Produce,
        ApiKey::Fetch,
        ApiKey::JoinGroup,
    ] {
        assert!(
            checked.get(&(api as i16)).copied().unwrap_or(0) >= 2,
            "too few golden {api:?} frames: {checked:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Record batches that lie about themselves (valid CRC: the client computed it)
// ---------------------------------------------------------------------------------------

fn zigzag(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

/// A v2 batch holding one real record (with a `value_len`-byte value), whose header claims
/// `record_count` records and a `last_offset_delta`, with a correct CRC.
fn lying_batch(record_count: i32, last_offset_delta: i32, value_len: usize) -> Vec<u8> {
    let mut record = Vec::new();
    record.push(0); // attributes
    zigzag(&mut record, 0); // timestamp delta
    zigzag(&mut record, 0); // offset delta
    zigzag(&mut record, 1);
    record.push(b'k');
    zigzag(&mut record, value_len as i64);
    record.extend(std::iter::repeat_n(b'v', value_len));
    zigzag(&mut record, 0); // headers
    let mut body = Vec::new();
    zigzag(&mut body, record.len() as i64);
    body.extend_from_slice(&record);

    let ts = 1_700_000_000_000i64;
    let mut b = Vec::new();
    b.extend_from_slice(&0i64.to_be_bytes()); // base offset
    b.extend_from_slice(&((49 + body.len()) as i32).to_be_bytes()); // batch length
    b.extend_from_slice(&0i32.to_be_bytes()); // partition leader epoch
    b.push(2); // magic
    b.extend_from_slice(&0u32.to_be_bytes()); // crc, below
    b.extend_from_slice(&0i16.to_be_bytes()); // attributes
    b.extend_from_slice(&last_offset_delta.to_be_bytes());
    b.extend_from_slice(&ts.to_be_bytes());
    b.extend_from_slice(&ts.to_be_bytes());
    b.extend_from_slice(&(-1i64).to_be_bytes()); // producer id
    b.extend_from_slice(&(-1i16).to_be_bytes()); // producer epoch
    b.extend_from_slice(&(-1i32).to_be_bytes()); // base sequence
    b.extend_from_slice(&record_count.to_be_bytes());
    b.extend_from_slice(&body);
    let crc = sluice_log::batch::batch_crc(&b);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    sluice_log::batch::validate(&b).expect("a CRC-valid batch");
    b
}

fn request_frame(api: ApiKey, version: i16, body: RequestKind) -> Bytes {
    let header = RequestHeader::default()
        .with_request_api_key(api as i16)
        .with_request_api_version(version)
        .with_correlation_id(9)
        .with_client_id(Some(StrBytes::from_static_str("liar")));
    encode_request(&header, api, version, &body)
}

async fn create_topic_via_metadata(tb: &TestBroker, topic: &'static str) {
    let md = MetadataRequest::default()
        .with_topics(Some(vec![metadata_request::MetadataRequestTopic::default(
        )
        .with_name(Some(TopicName(StrBytes::from_static_str(topic))))]))
        .with_allow_auto_topic_creation(true);
    match answer(
        tb,
        "metadata",
        request_frame(ApiKey::Metadata, 4, RequestKind::Metadata(md)),
    )
    .await
    {
        ResponseKind::Metadata(r) => assert_eq!(r.topics[0].error_code, 0, "{r:?}"),
        other => panic!("{other:?}"),
    }
}

async fn produce_raw(tb: &TestBroker, topic: &'static str, records: Vec<u8>) -> i16 {
    let req = ProduceRequest::default()
        .with_acks(1)
        .with_timeout_ms(5000)
        .with_topic_data(vec![produce_request::TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_static_str(topic)))
            .with_partition_data(vec![
                produce_request::PartitionProduceData::default()
                    .with_index(0)
                    .with_records(Some(Bytes::from(records))),
            ])]);
    match answer(
        tb,
        "produce",
        request_frame(ApiKey::Produce, 3, RequestKind::Produce(req)),
    )
    .await
    {
        ResponseKind::Produce(r) => r.responses[0].partition_responses[0].error_code,
        other => panic!("{other:?}"),
    }
}

/// A batch claiming 2^31-1 records in a few bytes. Kafka refuses it (the record count must
/// match the offset range and the records present). Accepted here, it must not take the broker
/// down when a ListOffsets by timestamp (or compaction) decodes it later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_lying_about_its_record_count_does_not_take_the_broker_down() {
    let tb = new_broker();
    create_topic_via_metadata(&tb, "liar-count").await;
    let code = produce_raw(&tb, "liar-count", lying_batch(i32::MAX, 0, 1)).await;
    assert_eq!(
        code, 87,
        "INVALID_RECORD for a batch claiming 2^31-1 records"
    );
    let lo = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![list_offsets_request::ListOffsetsTopic::default()
            .with_name(TopicName(StrBytes::from_static_str("liar-count")))
            .with_partitions(vec![
                list_offsets_request::ListOffsetsPartition::default()
                    .with_partition_index(0)
                    .with_timestamp(0),
            ])]);
    match answer(
        &tb,
        "list offsets",
        request_frame(ApiKey::ListOffsets, 1, RequestKind::ListOffsets(lo)),
    )
    .await
    {
        ResponseKind::ListOffsets(r) => {
            let p = &r.topics[0].partitions[0];
            if code == 0 {
                // Accepted: the one real record is found at offset 0.
                assert_eq!((p.error_code, p.offset), (0, 0), "{p:?}");
            }
        }
        other => panic!("{other:?}"),
    }
}

/// Batches whose last offset delta is i32::MAX while they hold one record. Kafka refuses them
/// (INVALID_RECORD: the offset range must match the record count). If accepted, what was
/// written at an offset must still be what a fetch from that offset returns (batches are made
/// larger than index.interval.bytes, so the offset index has entries).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_of_a_batch_follow_its_records() {
    let tb = new_broker();
    create_topic_via_metadata(&tb, "liar-delta").await;
    let mut records = Vec::new();
    for _ in 0..3 {
        records.extend_from_slice(&lying_batch(1, i32::MAX, 5000));
    }
    records.extend_from_slice(&lying_batch(1, 0, 5000));
    let code = produce_raw(&tb, "liar-delta", records).await;
    assert_eq!(
        code, 87,
        "INVALID_RECORD for offset deltas that do not match the counts"
    );
    if code != 0 {
        return;
    }
    let step = i32::MAX as i64 + 1;
    for base in [0, step, 2 * step, 3 * step] {
        let fetch = FetchRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_max_wait_ms(0)
            .with_max_bytes(1 << 20)
            .with_topics(vec![fetch_request::FetchTopic::default()
                .with_topic(TopicName(StrBytes::from_static_str("liar-delta")))
                .with_partitions(vec![fetch_request::FetchPartition::default()
                    .with_partition(0)
                    .with_fetch_offset(base)
                    .with_partition_max_bytes(1 << 20)])]);
        match answer(
            &tb,
            "fetch",
            request_frame(ApiKey::Fetch, 4, RequestKind::Fetch(fetch)),
        )
        .await
        {
            ResponseKind::Fetch(r) => {
                let p = &r.responses[0].partitions[0];
                assert_eq!(p.error_code, 0, "{p:?}");
                let records = p.records.clone().unwrap_or_default();
                let batches = sluice_log::batch::split_batches(&records).expect("whole batches");
                assert!(!batches.is_empty(), "nothing fetched from offset {base}");
                assert_eq!(
                    batches[0].1.base_offset, base,
                    "a fetch from offset {base} did not start with the batch written there"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
