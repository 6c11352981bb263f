//! ListOffsets (earliest, latest, by timestamp) and DeleteRecords (moves the log start offset).

use std::sync::Arc;

use kafka_protocol::messages::delete_records_response::*;
use kafka_protocol::messages::list_offsets_response::*;
use kafka_protocol::messages::{
    DeleteRecordsRequest, DeleteRecordsResponse, ListOffsetsRequest, ListOffsetsResponse,
};
use kafka_protocol::ResponseError;

use crate::error::log_error_code;
use crate::Broker;

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;
const EARLIEST_LOCAL: i64 = -4;
const LATEST_TIERED: i64 = -5;

pub fn list_offsets(broker: &Arc<Broker>, req: ListOffsetsRequest, v: i16) -> ListOffsetsResponse {
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let topic = broker.store.topic(t.name.0.as_str());
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let base = ListOffsetsPartitionResponse::default()
                        .with_partition_index(p.partition_index)
                        .with_timestamp(-1)
                        .with_offset(-1)
                        .with_leader_epoch(if v >= 4 { 0 } else { -1 });
                    let Some(part) = topic.as_ref().and_then(|t| t.partition(p.partition_index))
                    else {
                        return base.with_error_code(ResponseError::UnknownTopicOrPartition.code());
                    };
                    let log = part.lock();
                    match p.timestamp {
                        LATEST | LATEST_TIERED => base.with_offset(log.log_end_offset()),
                        EARLIEST | EARLIEST_LOCAL => base.with_offset(log.log_start_offset()),
                        MAX_TIMESTAMP => match log.offset_of_max_timestamp() {
                            Ok(Some((offset, found_ts))) => {
                                base.with_offset(offset).with_timestamp(found_ts)
                            }
                            Ok(None) => base,
                            Err(e) => base.with_error_code(log_error_code(&e)),
                        },
                        ts if ts >= 0 => match log.offset_for_timestamp(ts) {
                            Ok(Some((offset, found_ts))) => {
                                base.with_offset(offset).with_timestamp(found_ts)
                            }
                            Ok(None) => base,
                            Err(e) => base.with_error_code(log_error_code(&e)),
                        },
                        _ => base.with_error_code(ResponseError::InvalidRequest.code()),
                    }
                })
                .collect();
            ListOffsetsTopicResponse::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}

pub fn delete_records(
    broker: &Arc<Broker>,
    req: DeleteRecordsRequest,
    _v: i16,
) -> DeleteRecordsResponse {
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let topic = broker.store.topic(t.name.0.as_str());
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let base = DeleteRecordsPartitionResult::default()
                        .with_partition_index(p.partition_index)
                        .with_low_watermark(-1);
                    let Some(part) = topic.as_ref().and_then(|t| t.partition(p.partition_index))
                    else {
                        return base.with_error_code(ResponseError::UnknownTopicOrPartition.code());
                    };
                    let mut log = part.lock();
                    let target = if p.offset == -1 {
                        log.log_end_offset()
                    } else {
                        p.offset
                    };
                    match log.delete_records_before(target) {
                        Ok(low) => base.with_low_watermark(low),
                        Err(e) => base.with_error_code(log_error_code(&e)),
                    }
                })
                .collect();
            DeleteRecordsTopicResult::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    DeleteRecordsResponse::default().with_topics(topics)
}
