//! Fetch: reads whole record batches from each requested partition and long-polls (max.wait.ms /
//! min.bytes) on new appends. Fetch sessions are not kept: every answer carries session id 0,
//! which tells clients to send full fetch requests (KIP-227 allows this).

use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_protocol::messages::fetch_response::*;
use kafka_protocol::messages::{FetchRequest, FetchResponse};
use kafka_protocol::ResponseError;
use sluice_log::LogError;

use crate::error::log_error_code;
use crate::Broker;

fn partition_answer(version: i16, index: i32, code: i16, hw: i64, start: i64) -> PartitionData {
    PartitionData::default()
        .with_partition_index(index)
        .with_error_code(code)
        .with_high_watermark(hw)
        .with_last_stable_offset(hw)
        .with_log_start_offset(if version >= 5 { start } else { -1 })
        .with_aborted_transactions(Some(Vec::new()))
        .with_preferred_read_replica(super::broker_id(-1))
        .with_records(Some(Default::default()))
}

/// One pass over the requested partitions: the response, bytes read, and whether any
/// partition answered with an error (which ends a long poll at once, as in Kafka).
fn read_once(broker: &Broker, req: &FetchRequest, version: i16) -> (FetchResponse, usize, bool) {
    let mut budget = req.max_bytes.max(0) as usize;
    if version < 3 || req.max_bytes <= 0 {
        budget = usize::MAX;
    }
    let mut total = 0usize;
    let mut any_error = false;
    let mut responses = Vec::with_capacity(req.topics.len());
    for ft in &req.topics {
        let by_id = version >= 13;
        let topic = if by_id {
            broker.topic_by_id(&ft.topic_id)
        } else {
            broker.store.topic(ft.topic.0.as_str())
        };
        let mut parts = Vec::with_capacity(ft.partitions.len());
        for fp in &ft.partitions {
            let Some(part) = topic.as_ref().and_then(|t| t.partition(fp.partition)) else {
                any_error = true;
                let code = if by_id && topic.is_none() {
                    ResponseError::UnknownTopicId.code()
                } else {
                    ResponseError::UnknownTopicOrPartition.code()
                };
                parts.push(partition_answer(version, fp.partition, code, -1, -1));
                continue;
            };
            let log = part.lock();
            let hw = log.log_end_offset();
            let start = log.log_start_offset();
            let max = (fp.partition_max_bytes.max(0) as usize).min(budget);
            if max == 0 && total > 0 {
                parts.push(partition_answer(version, fp.partition, 0, hw, start));
                continue;
            }
            match log.read(fp.fetch_offset, max.max(1)) {
                Ok(data) => {
                    total += data.len();
                    budget = budget.saturating_sub(data.len());
                    parts.push(
                        partition_answer(version, fp.partition, 0, hw, start)
                            .with_records(Some(data)),
                    );
                }
                Err(e) => {
                    any_error = true;
                    let code = match e {
                        LogError::OffsetOutOfRange { .. } => ResponseError::OffsetOutOfRange.code(),
                        ref other => log_error_code(other),
                    };
                    parts.push(partition_answer(version, fp.partition, code, hw, start));
                }
            }
        }
        let mut tr = FetchableTopicResponse::default().with_partitions(parts);
        if by_id {
            tr.topic_id = ft.topic_id;
        } else {
            tr.topic = ft.topic.clone();
        }
        responses.push(tr);
    }
    let resp = FetchResponse::default()
        .with_session_id(0)
        .with_responses(responses);
    (resp, total, any_error)
}

pub async fn handle(broker: &Arc<Broker>, req: FetchRequest, version: i16) -> FetchResponse {
    let wait = Duration::from_millis(req.max_wait_ms.clamp(0, 300_000) as u64);
    let deadline = Instant::now() + wait;
    let min_bytes = req.min_bytes.max(0) as usize;
    let mut appends = broker.subscribe_appends();
    loop {
        appends.borrow_and_update();
        let (resp, bytes, any_error) = read_once(broker, &req, version);
        let now = Instant::now();
        if bytes >= min_bytes.max(1) || any_error || now >= deadline {
            return resp;
        }
        tokio::select! {
            changed = appends.changed() => {
                if changed.is_err() {
                    return resp;
                }
            }
            _ = tokio::time::sleep_until(deadline.into()) => {}
        }
    }
}
