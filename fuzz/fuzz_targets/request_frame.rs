//! Arbitrary bytes as one Kafka request frame (without the 4-byte length prefix) through
//! `process_frame`: header, decoding, the handler and response encoding, on one broker over a
//! temp dir that lives for the whole run (state piles up, as on a long-lived server).
//!
//! Invariants: no panic; no hang (a frame must finish within the limit, except an API that may
//! legitimately wait: Fetch for data, JoinGroup/SyncGroup for other members); and any response
//! decodes with the protocol crate's client-side decoder at the request's version, carrying
//! the request's correlation id.

#![no_main]

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use bytes::{Buf, Bytes};
use kafka_protocol::messages::{ApiKey, ResponseHeader, ResponseKind};
use kafka_protocol::protocol::Decodable;
use libfuzzer_sys::fuzz_target;
use sluice_broker::apis::supported_versions;
use sluice_broker::server::{process_frame, ConnectionInfo};
use sluice_broker::{Broker, BrokerConfig};
use sluice_log::LogStore;

/// Fetches park until data or their max wait; group joins until the members are in. Past this,
/// only those may still be running.
const FRAME_LIMIT: Duration = Duration::from_millis(300);

struct Env {
    rt: tokio::runtime::Runtime,
    broker: Arc<Broker>,
    conn: ConnectionInfo,
    _dir: tempfile::TempDir,
}

static ENV: LazyLock<Env> = LazyLock::new(|| {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::Builder::new()
        .prefix("sluice-fuzz-request-")
        .tempdir()
        .expect("temp dir");
    let store = LogStore::open(dir.path()).expect("log store");
    let broker = rt
        .block_on(async {
            let config = BrokerConfig {
                // Joins complete at once: the fuzzer is not kept waiting on the group delay.
                initial_rebalance_delay: Duration::ZERO,
                ..BrokerConfig::default()
            };
            Broker::new(config, store)
        })
        .expect("broker");
    Env {
        rt,
        broker,
        conn: ConnectionInfo {
            peer: "127.0.0.1:50000".parse().unwrap(),
        },
        _dir: dir,
    }
});

fn check_response(frame: &[u8], resp: &Bytes) {
    let key = i16::from_be_bytes([frame[0], frame[1]]);
    let mut version = i16::from_be_bytes([frame[2], frame[3]]);
    let correlation_id = i32::from_be_bytes(frame[4..8].try_into().unwrap());
    let api = ApiKey::try_from(key).expect("a response to an unknown api key");
    let range = supported_versions(api).expect("a response to an unsupported api");
    if version < range.min || version > range.max {
        assert_eq!(api, ApiKey::ApiVersions, "answered {api:?} v{version}");
        version = 0;
    }
    let mut buf = resp.clone();
    let header = ResponseHeader::decode(&mut buf, api.response_header_version(version))
        .unwrap_or_else(|e| panic!("{api:?} v{version}: undecodable response header: {e}"));
    assert_eq!(header.correlation_id, correlation_id, "{api:?} v{version}");
    if let Err(e) = ResponseKind::decode(api, &mut buf, version) {
        panic!("{api:?} v{version}: undecodable response: {e}");
    }
    assert!(
        !buf.has_remaining(),
        "{api:?} v{version}: trailing bytes in the response"
    );
}

fuzz_target!(|data: &[u8]| {
    let env = &*ENV;
    let frame = Bytes::copy_from_slice(data);
    env.rt.block_on(async {
        let run = process_frame(&env.broker, &env.conn, frame.clone());
        match tokio::time::timeout(FRAME_LIMIT, run).await {
            Err(_) => {
                let parking = data.len() >= 2
                    && matches!(
                        ApiKey::try_from(i16::from_be_bytes([data[0], data[1]])),
                        Ok(ApiKey::Fetch | ApiKey::JoinGroup | ApiKey::SyncGroup)
                    );
                assert!(parking, "frame still running after {FRAME_LIMIT:?}");
            }
            Ok(Ok(Some(resp))) => check_response(data, &resp),
            Ok(Ok(None)) | Ok(Err(_)) => {}
        }
    });
});
