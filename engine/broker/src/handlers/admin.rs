//! Topic administration (CreateTopics, DeleteTopics, CreatePartitions), cluster description,
//! coordinator lookup and producer-id allocation.

use std::sync::Arc;

use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::*;
use kafka_protocol::ResponseError;
use sluice_log::{TopicConfig, TOPIC_CONFIGS};

use super::{broker_id, sb, topic_name, topic_uuid};
use crate::error::log_error_code;
use crate::Broker;

const CONFIG_SOURCE_TOPIC: i8 = 1;
const CONFIG_SOURCE_DEFAULT: i8 = 5;

pub fn create_topics(
    broker: &Arc<Broker>,
    req: CreateTopicsRequest,
    v: i16,
) -> CreateTopicsResponse {
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let name = t.name.0.as_str().to_string();
            let fail = |code: i16, msg: String| {
                CreatableTopicResult::default()
                    .with_name(t.name.clone())
                    .with_error_code(code)
                    .with_error_message(Some(sb(&msg)))
            };
            let partitions = if !t.assignments.is_empty() {
                if t.num_partitions != -1 || t.replication_factor != -1 {
                    return fail(
                        ResponseError::InvalidRequest.code(),
                        "both assignments and partitions/replication factor given".into(),
                    );
                }
                if t.assignments
                    .iter()
                    .any(|a| a.broker_ids.iter().any(|b| b.0 != broker.config.node_id))
                {
                    return fail(
                        ResponseError::InvalidReplicaAssignment.code(),
                        format!("this cluster has one broker, id {}", broker.config.node_id),
                    );
                }
                t.assignments.len() as i32
            } else if t.num_partitions == -1 {
                broker.config.default_partitions
            } else {
                t.num_partitions
            };
            if t.replication_factor > 1 {
                return fail(
                    ResponseError::InvalidReplicationFactor.code(),
                    format!(
                        "replication factor {} is larger than the 1 available broker",
                        t.replication_factor
                    ),
                );
            }
            let mut overrides = Vec::new();
            for c in &t.configs {
                if let Some(v) = &c.value {
                    overrides.push((c.name.as_str().to_string(), v.as_str().to_string()));
                }
            }
            let config = match TopicConfig::from_overrides(overrides) {
                Ok(c) => c,
                Err(e) => return fail(log_error_code(&e), e.to_string()),
            };
            match broker
                .store
                .create_topic(&name, partitions, config.clone(), req.validate_only)
            {
                Ok(created) => {
                    let configs = TOPIC_CONFIGS
                        .iter()
                        .map(|d| {
                            CreatableTopicConfigs::default()
                                .with_name(sb(d.name))
                                .with_value(config.get(d.name).map(sb))
                                .with_config_source(if config.is_default(d.name) {
                                    CONFIG_SOURCE_DEFAULT
                                } else {
                                    CONFIG_SOURCE_TOPIC
                                })
                        })
                        .collect();
                    let mut r = CreatableTopicResult::default().with_name(t.name.clone());
                    if v >= 5 {
                        r = r
                            .with_num_partitions(partitions)
                            .with_replication_factor(1)
                            .with_configs(Some(configs));
                    }
                    if v >= 7 {
                        r.topic_id = created.as_ref().map(|t| topic_uuid(t)).unwrap_or_default();
                    }
                    r
                }
                Err(e) => fail(log_error_code(&e), e.to_string()),
            }
        })
        .collect();
    CreateTopicsResponse::default().with_topics(topics)
}

pub fn delete_topics(
    broker: &Arc<Broker>,
    req: DeleteTopicsRequest,
    version: i16,
) -> DeleteTopicsResponse {
    // v0-5 name topics in `topic_names`; v6+ in `topics` (by name or id).
    let targets: Vec<(Option<String>, uuid::Uuid)> = if version >= 6 {
        req.topics
            .iter()
            .map(|t| {
                (
                    t.name.as_ref().map(|n| n.0.as_str().to_string()),
                    t.topic_id,
                )
            })
            .collect()
    } else {
        req.topic_names
            .iter()
            .map(|n| (Some(n.0.as_str().to_string()), uuid::Uuid::nil()))
            .collect()
    };
    let responses = targets
        .into_iter()
        .map(|(name, id)| {
            let topic = match &name {
                Some(n) => broker.store.topic(n),
                None => broker.topic_by_id(&id),
            };
            let base = DeletableTopicResult::default()
                .with_name(name.as_deref().map(topic_name))
                .with_topic_id(id);
            let Some(topic) = topic else {
                let code = if name.is_some() {
                    ResponseError::UnknownTopicOrPartition.code()
                } else {
                    ResponseError::UnknownTopicId.code()
                };
                return base.with_error_code(code);
            };
            let base =
                base.with_name(Some(topic_name(&topic.name)))
                    .with_topic_id(if version >= 6 {
                        topic_uuid(&topic)
                    } else {
                        uuid::Uuid::nil()
                    });
            let msg = |m: String| (version >= 5).then(|| sb(&m));
            if topic.name == "__consumer_offsets" {
                return base
                    .with_error_code(ResponseError::InvalidTopicException.code())
                    .with_error_message(
                        msg("the internal offsets topic cannot be deleted".into()),
                    );
            }
            match broker.store.delete_topic(&topic.name) {
                Ok(()) => {
                    broker.groups.remove_topic(&topic.name);
                    tracing::info!(topic = %topic.name, "deleted topic");
                    base
                }
                Err(e) => base
                    .with_error_code(log_error_code(&e))
                    .with_error_message(msg(e.to_string())),
            }
        })
        .collect();
    DeleteTopicsResponse::default().with_responses(responses)
}

pub fn create_partitions(
    broker: &Arc<Broker>,
    req: CreatePartitionsRequest,
    _v: i16,
) -> CreatePartitionsResponse {
    let results = req
        .topics
        .into_iter()
        .map(|t| {
            let base = CreatePartitionsTopicResult::default().with_name(t.name.clone());
            match broker
                .store
                .create_partitions(t.name.0.as_str(), t.count, req.validate_only)
            {
                Ok(()) => base,
                Err(e) => base
                    .with_error_code(log_error_code(&e))
                    .with_error_message(Some(sb(&e.to_string()))),
            }
        })
        .collect();
    CreatePartitionsResponse::default().with_results(results)
}

pub fn describe_cluster(
    broker: &Arc<Broker>,
    _req: DescribeClusterRequest,
    _v: i16,
) -> DescribeClusterResponse {
    let cfg = &broker.config;
    DescribeClusterResponse::default()
        .with_endpoint_type(1)
        .with_cluster_id(sb(&broker.cluster_id))
        .with_controller_id(broker_id(cfg.node_id))
        .with_cluster_authorized_operations(i32::MIN)
        .with_brokers(vec![DescribeClusterBroker::default()
            .with_broker_id(broker_id(cfg.node_id))
            .with_host(sb(&cfg.advertised_host))
            .with_port(cfg.advertised_port)])
}

pub fn find_coordinator(
    broker: &Arc<Broker>,
    req: FindCoordinatorRequest,
    version: i16,
) -> FindCoordinatorResponse {
    let cfg = &broker.config;
    // Group coordination only; transactions are not offered.
    let error = if req.key_type == 0 {
        0
    } else {
        ResponseError::CoordinatorNotAvailable.code()
    };
    if version >= 4 {
        let coordinators = req
            .coordinator_keys
            .iter()
            .map(|k| {
                Coordinator::default()
                    .with_key(k.clone())
                    .with_node_id(broker_id(if error == 0 { cfg.node_id } else { -1 }))
                    .with_host(sb(if error == 0 { &cfg.advertised_host } else { "" }))
                    .with_port(if error == 0 { cfg.advertised_port } else { -1 })
                    .with_error_code(error)
            })
            .collect();
        return FindCoordinatorResponse::default().with_coordinators(coordinators);
    }
    if error != 0 {
        return FindCoordinatorResponse::default()
            .with_error_code(error)
            .with_node_id(broker_id(-1))
            .with_port(-1);
    }
    FindCoordinatorResponse::default()
        .with_node_id(broker_id(cfg.node_id))
        .with_host(sb(&cfg.advertised_host))
        .with_port(cfg.advertised_port)
}

pub fn init_producer_id(
    broker: &Arc<Broker>,
    req: InitProducerIdRequest,
    _v: i16,
) -> InitProducerIdResponse {
    let fail = |code: i16| {
        InitProducerIdResponse::default()
            .with_error_code(code)
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1)
    };
    if req.transactional_id.is_some() {
        return fail(ResponseError::TransactionalIdAuthorizationFailed.code());
    }
    // An idempotent producer bumping its epoch (KIP-360) keeps its id.
    if req.producer_id.0 >= 0 && req.producer_epoch >= 0 {
        if req.producer_epoch == i16::MAX {
            match broker.producer_ids.next() {
                Ok(id) => {
                    return InitProducerIdResponse::default()
                        .with_producer_id(ProducerId(id))
                        .with_producer_epoch(0)
                }
                Err(_) => return fail(ResponseError::KafkaStorageError.code()),
            }
        }
        return InitProducerIdResponse::default()
            .with_producer_id(req.producer_id)
            .with_producer_epoch(req.producer_epoch + 1);
    }
    match broker.producer_ids.next() {
        Ok(id) => InitProducerIdResponse::default()
            .with_producer_id(ProducerId(id))
            .with_producer_epoch(0),
        Err(e) => {
            tracing::error!(error = %e, "cannot allocate a producer id");
            fail(ResponseError::KafkaStorageError.code())
        }
    }
}
