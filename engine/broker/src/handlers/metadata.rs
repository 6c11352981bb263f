//! Metadata: brokers, cluster id, controller and topic/partition leadership (one broker leads
//! everything). Creates topics on demand when auto-creation is on and the client allows it.

use std::sync::Arc;

use kafka_protocol::messages::metadata_response::*;
use kafka_protocol::messages::{MetadataRequest, MetadataResponse};
use kafka_protocol::ResponseError;
use sluice_log::{Topic, TopicConfig};

use super::{broker_id, sb, topic_name, topic_uuid};
use crate::error::log_error_code;
use crate::Broker;

pub fn topic_metadata(broker: &Broker, t: &Topic, version: i16) -> MetadataResponseTopic {
    let me = broker_id(broker.config.node_id);
    MetadataResponseTopic::default()
        .with_name(Some(topic_name(&t.name)))
        .with_topic_id(if version >= 10 {
            topic_uuid(t)
        } else {
            uuid::Uuid::nil()
        })
        .with_is_internal(version >= 1 && t.is_internal())
        .with_topic_authorized_operations(i32::MIN)
        .with_partitions(
            (0..t.partition_count())
                .map(|p| {
                    MetadataResponsePartition::default()
                        .with_partition_index(p)
                        .with_leader_id(me)
                        .with_leader_epoch(if version >= 7 { 0 } else { -1 })
                        .with_replica_nodes(vec![me])
                        .with_isr_nodes(vec![me])
                })
                .collect(),
        )
}

fn error_topic(name: Option<&str>, id: uuid::Uuid, code: i16) -> MetadataResponseTopic {
    MetadataResponseTopic::default()
        .with_name(name.map(topic_name))
        .with_topic_id(id)
        .with_error_code(code)
        .with_topic_authorized_operations(i32::MIN)
}

pub fn handle(broker: &Arc<Broker>, req: MetadataRequest, version: i16) -> MetadataResponse {
    let cfg = &broker.config;
    let mut resp = MetadataResponse::default()
        .with_brokers(vec![MetadataResponseBroker::default()
            .with_node_id(broker_id(cfg.node_id))
            .with_host(sb(&cfg.advertised_host))
            .with_port(cfg.advertised_port)])
        .with_cluster_id((version >= 2).then(|| sb(&broker.cluster_id)))
        .with_controller_id(broker_id(cfg.node_id))
        .with_cluster_authorized_operations(i32::MIN);
    // v0: an empty list means all topics; v1+: null means all.
    let requested = match req.topics {
        None => None,
        Some(t) if t.is_empty() && version == 0 => None,
        Some(t) => Some(t),
    };
    let allow_create = cfg.auto_create_topics && (version < 4 || req.allow_auto_topic_creation);
    resp.topics = match requested {
        None => broker
            .store
            .topics()
            .iter()
            .map(|t| topic_metadata(broker, t, version))
            .collect(),
        Some(list) => list
            .into_iter()
            .map(|rt| {
                if let Some(name) = rt.name.as_ref().map(|n| n.0.as_str().to_string()) {
                    if let Some(t) = broker.store.topic(&name) {
                        return topic_metadata(broker, &t, version);
                    }
                    if !allow_create {
                        return error_topic(
                            Some(&name),
                            uuid::Uuid::nil(),
                            ResponseError::UnknownTopicOrPartition.code(),
                        );
                    }
                    match broker.store.create_topic(
                        &name,
                        cfg.default_partitions,
                        TopicConfig::default(),
                        false,
                    ) {
                        Ok(Some(t)) => {
                            tracing::info!(topic = %name, "auto-created topic");
                            topic_metadata(broker, &t, version)
                        }
                        Ok(None) => error_topic(Some(&name), uuid::Uuid::nil(), 0),
                        // Created concurrently by another request: answer with it.
                        Err(sluice_log::LogError::TopicExists(_)) => {
                            match broker.store.topic(&name) {
                                Some(t) => topic_metadata(broker, &t, version),
                                None => error_topic(
                                    Some(&name),
                                    uuid::Uuid::nil(),
                                    ResponseError::LeaderNotAvailable.code(),
                                ),
                            }
                        }
                        Err(e) => error_topic(Some(&name), uuid::Uuid::nil(), log_error_code(&e)),
                    }
                } else {
                    match broker.topic_by_id(&rt.topic_id) {
                        Some(t) => topic_metadata(broker, &t, version),
                        None => {
                            error_topic(None, rt.topic_id, ResponseError::UnknownTopicId.code())
                        }
                    }
                }
            })
            .collect(),
    };
    resp
}
