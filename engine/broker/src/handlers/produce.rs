//! Produce: appends each partition's record batches to the log as sent (offsets assigned by the
//! log) and answers with base offsets; acks=0 gets no response; acks=all equals acks=1 since
//! every partition has a single replica.

use std::sync::Arc;

use kafka_protocol::messages::produce_response::*;
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use kafka_protocol::ResponseError;

use super::{sb, topic_uuid};
use crate::error::log_error_code;
use crate::Broker;

fn partition_error(index: i32, code: i16, msg: Option<String>) -> PartitionProduceResponse {
    PartitionProduceResponse::default()
        .with_index(index)
        .with_error_code(code)
        .with_base_offset(-1)
        .with_log_append_time_ms(-1)
        .with_log_start_offset(-1)
        .with_error_message(msg.map(|m| sb(&m)))
}

pub fn handle(broker: &Arc<Broker>, req: ProduceRequest, version: i16) -> Option<ProduceResponse> {
    let now = sluice_log::now_ms();
    let mut responses = Vec::with_capacity(req.topic_data.len());
    let mut appended = false;
    let transactional = req.transactional_id.is_some();
    for td in req.topic_data {
        let topic = if td.name.0.is_empty() && !td.topic_id.is_nil() {
            broker.topic_by_id(&td.topic_id)
        } else {
            broker.store.topic(td.name.0.as_str())
        };
        let mut parts = Vec::with_capacity(td.partition_data.len());
        for pd in td.partition_data {
            let Some(topic) = &topic else {
                let code = if td.name.0.is_empty() {
                    ResponseError::UnknownTopicId.code()
                } else {
                    ResponseError::UnknownTopicOrPartition.code()
                };
                parts.push(partition_error(pd.index, code, None));
                continue;
            };
            if transactional {
                parts.push(partition_error(
                    pd.index,
                    ResponseError::TransactionalIdAuthorizationFailed.code(),
                    (version >= 8).then(|| "transactions are not supported by this broker".into()),
                ));
                continue;
            }
            let Some(partition) = topic.partition(pd.index) else {
                parts.push(partition_error(
                    pd.index,
                    ResponseError::UnknownTopicOrPartition.code(),
                    None,
                ));
                continue;
            };
            let Some(records) = pd.records else {
                parts.push(partition_error(
                    pd.index,
                    ResponseError::CorruptMessage.code(),
                    None,
                ));
                continue;
            };
            let mut data = records.to_vec();
            let mut log = partition.lock();
            match log.append(&mut data, now) {
                Ok(info) => {
                    appended |= !info.duplicate;
                    parts.push(
                        PartitionProduceResponse::default()
                            .with_index(pd.index)
                            .with_base_offset(info.base_offset)
                            .with_log_append_time_ms(info.log_append_time)
                            .with_log_start_offset(if version >= 5 {
                                log.log_start_offset()
                            } else {
                                -1
                            }),
                    );
                }
                Err(e) => {
                    tracing::debug!(topic = %topic.name, partition = pd.index, error = %e, "produce rejected");
                    let msg = (version >= 8).then(|| e.to_string());
                    parts.push(partition_error(pd.index, log_error_code(&e), msg));
                }
            }
        }
        responses.push(
            TopicProduceResponse::default()
                .with_name(td.name)
                .with_topic_id(if version >= 13 {
                    topic.as_ref().map(|t| topic_uuid(t)).unwrap_or(td.topic_id)
                } else {
                    uuid::Uuid::nil()
                })
                .with_partition_responses(parts),
        );
    }
    if appended {
        broker.notify_appended();
    }
    if req.acks == 0 {
        return None;
    }
    Some(ProduceResponse::default().with_responses(responses))
}
