//! DescribeConfigs, AlterConfigs and IncrementalAlterConfigs for topics; broker configs are
//! described (read-only) so admin tools can show them.

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::describe_configs_response::*;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use sluice_log::config::{config_def, ConfigType};
use sluice_log::{TopicConfig, TOPIC_CONFIGS};

use super::sb;
use crate::error::log_error_code;
use crate::Broker;

const RESOURCE_TOPIC: i8 = 2;
const RESOURCE_BROKER: i8 = 4;
const SOURCE_TOPIC: i8 = 1;
const SOURCE_STATIC_BROKER: i8 = 4;
const SOURCE_DEFAULT: i8 = 5;

fn type_code(kind: ConfigType) -> i8 {
    match kind {
        ConfigType::Boolean => 1,
        ConfigType::String => 2,
        ConfigType::Int => 3,
        ConfigType::Long => 5,
        ConfigType::Choice { list: true, .. } => 7,
        ConfigType::Choice { list: false, .. } => 2,
    }
}

fn broker_configs(broker: &Broker) -> Vec<(&'static str, String, i8)> {
    let c = &broker.config;
    vec![
        (
            "auto.create.topics.enable",
            c.auto_create_topics.to_string(),
            1,
        ),
        ("broker.id", c.node_id.to_string(), 3),
        ("node.id", c.node_id.to_string(), 3),
        ("log.dirs", broker.store.root().display().to_string(), 2),
        ("num.partitions", c.default_partitions.to_string(), 3),
        ("default.replication.factor", "1".into(), 3),
        ("offsets.topic.num.partitions", "1".into(), 3),
        ("offsets.topic.replication.factor", "1".into(), 4),
        (
            "socket.request.max.bytes",
            c.max_request_bytes.to_string(),
            3,
        ),
        (
            "group.initial.rebalance.delay.ms",
            c.initial_rebalance_delay.as_millis().to_string(),
            3,
        ),
        ("delete.topic.enable", "true".into(), 1),
        ("message.max.bytes", "1048588".into(), 3),
    ]
}

pub fn describe(
    broker: &Arc<Broker>,
    req: DescribeConfigsRequest,
    v: i16,
) -> DescribeConfigsResponse {
    let results = req
        .resources
        .into_iter()
        .map(|res| {
            let wanted = |name: &str| {
                res.configuration_keys
                    .as_ref()
                    .map(|keys| keys.iter().any(|k| k.as_str() == name))
                    .unwrap_or(true)
            };
            let base = DescribeConfigsResult::default()
                .with_resource_type(res.resource_type)
                .with_resource_name(res.resource_name.clone());
            match res.resource_type {
                RESOURCE_TOPIC => {
                    let Some(topic) = broker.store.topic(res.resource_name.as_str()) else {
                        return base
                            .with_error_code(ResponseError::UnknownTopicOrPartition.code())
                            .with_error_message(Some(sb("unknown topic")));
                    };
                    let cfg = topic.config();
                    let configs = TOPIC_CONFIGS
                        .iter()
                        .filter(|d| wanted(d.name))
                        .map(|d| {
                            let source = if cfg.is_default(d.name) {
                                SOURCE_DEFAULT
                            } else {
                                SOURCE_TOPIC
                            };
                            let value = cfg.get(d.name).map(sb);
                            let mut r = DescribeConfigsResourceResult::default()
                                .with_name(sb(d.name))
                                .with_value(value.clone())
                                .with_config_source(source)
                                .with_config_type(if v >= 3 { type_code(d.kind) } else { 0 });
                            if req.include_synonyms {
                                r.synonyms = vec![DescribeConfigsSynonym::default()
                                    .with_name(sb(d.name))
                                    .with_value(value)
                                    .with_source(source)];
                            }
                            r
                        })
                        .collect();
                    base.with_configs(configs)
                }
                RESOURCE_BROKER => {
                    let configs = broker_configs(broker)
                        .into_iter()
                        .filter(|(n, _, _)| wanted(n))
                        .map(|(n, value, t)| {
                            DescribeConfigsResourceResult::default()
                                .with_name(sb(n))
                                .with_value(Some(StrBytes::from_string(value)))
                                .with_read_only(true)
                                .with_config_source(SOURCE_STATIC_BROKER)
                                .with_config_type(if v >= 3 { t } else { 0 })
                        })
                        .collect();
                    base.with_configs(configs)
                }
                _ => base
                    .with_error_code(ResponseError::InvalidRequest.code())
                    .with_error_message(Some(sb("unsupported resource type"))),
            }
        })
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}

/// Applies a new override set to a topic (or only validates it).
fn apply(
    broker: &Broker,
    topic: &str,
    overrides: BTreeMap<String, String>,
    validate_only: bool,
) -> (i16, Option<String>) {
    if broker.store.topic(topic).is_none() {
        return (
            ResponseError::UnknownTopicOrPartition.code(),
            Some(format!("unknown topic {topic}")),
        );
    }
    let config = match TopicConfig::from_overrides(overrides) {
        Ok(c) => c,
        Err(e) => return (log_error_code(&e), Some(e.to_string())),
    };
    if validate_only {
        return (0, None);
    }
    match broker.store.set_topic_config(topic, config) {
        Ok(()) => (0, None),
        Err(e) => (log_error_code(&e), Some(e.to_string())),
    }
}

fn not_topic(resource_type: i8) -> (i16, Option<String>) {
    if resource_type == RESOURCE_BROKER {
        (
            ResponseError::InvalidRequest.code(),
            Some("broker configs are set on the command line and are read-only here".into()),
        )
    } else {
        (
            ResponseError::InvalidRequest.code(),
            Some("unsupported resource type".into()),
        )
    }
}

pub fn alter(broker: &Arc<Broker>, req: AlterConfigsRequest, _v: i16) -> AlterConfigsResponse {
    let responses = req
        .resources
        .into_iter()
        .map(|res| {
            let (code, msg) = if res.resource_type == RESOURCE_TOPIC {
                // Legacy AlterConfigs replaces the whole override set.
                let overrides = res
                    .configs
                    .iter()
                    .filter_map(|c| {
                        c.value
                            .as_ref()
                            .map(|v| (c.name.as_str().to_string(), v.as_str().to_string()))
                    })
                    .collect();
                apply(
                    broker,
                    res.resource_name.as_str(),
                    overrides,
                    req.validate_only,
                )
            } else {
                not_topic(res.resource_type)
            };
            alter_configs_response::AlterConfigsResourceResponse::default()
                .with_error_code(code)
                .with_error_message(msg.map(|m| sb(&m)))
                .with_resource_type(res.resource_type)
                .with_resource_name(res.resource_name)
        })
        .collect();
    AlterConfigsResponse::default().with_responses(responses)
}

const OP_SET: i8 = 0;
const OP_DELETE: i8 = 1;
const OP_APPEND: i8 = 2;
const OP_SUBTRACT: i8 = 3;

pub fn incremental_alter(
    broker: &Arc<Broker>,
    req: IncrementalAlterConfigsRequest,
    _v: i16,
) -> IncrementalAlterConfigsResponse {
    let responses = req
        .resources
        .into_iter()
        .map(|res| {
            let (code, msg) = if res.resource_type != RESOURCE_TOPIC {
                not_topic(res.resource_type)
            } else if let Some(topic) = broker.store.topic(res.resource_name.as_str()) {
                let mut overrides = topic.config().overrides;
                let mut error = None;
                for c in &res.configs {
                    let name = c.name.as_str().to_string();
                    let value = c.value.as_ref().map(|v| v.as_str().to_string());
                    let is_list = matches!(
                        config_def(&name).map(|d| d.kind),
                        Some(ConfigType::Choice { list: true, .. })
                    );
                    match c.config_operation {
                        OP_SET => match value {
                            Some(v) => {
                                overrides.insert(name, v);
                            }
                            None => error = Some(format!("no value to set for {name}")),
                        },
                        OP_DELETE => {
                            overrides.remove(&name);
                        }
                        OP_APPEND | OP_SUBTRACT if is_list => {
                            let current = topic.config().get(&name).unwrap_or("").to_string();
                            let mut items: Vec<String> = current
                                .split(',')
                                .map(|s| s.trim().to_string())
                                .filter(|s| !s.is_empty())
                                .collect();
                            for v in value
                                .unwrap_or_default()
                                .split(',')
                                .map(str::trim)
                                .filter(|s| !s.is_empty())
                            {
                                if c.config_operation == OP_APPEND {
                                    if !items.iter().any(|i| i == v) {
                                        items.push(v.to_string());
                                    }
                                } else {
                                    items.retain(|i| i != v);
                                }
                            }
                            overrides.insert(name, items.join(","));
                        }
                        OP_APPEND | OP_SUBTRACT => {
                            error = Some(format!("{name} is not a list config"))
                        }
                        _ => error = Some(format!("unknown operation {}", c.config_operation)),
                    }
                }
                match error {
                    Some(e) => (ResponseError::InvalidConfig.code(), Some(e)),
                    None => apply(broker, &topic.name, overrides, req.validate_only),
                }
            } else {
                (
                    ResponseError::UnknownTopicOrPartition.code(),
                    Some("unknown topic".into()),
                )
            };
            incremental_alter_configs_response::AlterConfigsResourceResponse::default()
                .with_error_code(code)
                .with_error_message(msg.map(|m| sb(&m)))
                .with_resource_type(res.resource_type)
                .with_resource_name(res.resource_name)
        })
        .collect();
    IncrementalAlterConfigsResponse::default().with_responses(responses)
}
