//! Topics and the cluster overview: listing (partition and message counts from start/end
//! offsets, on-disk size from the embedded log store), detail with configs, create, delete and
//! config changes through the AdminClient. Config changes use the classic AlterConfigs (what
//! rdkafka offers), which replaces a topic's override set, so the current overrides are read
//! first and merged: keys not named in the request stay as they were. Never reads records.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::{AlterConfig, ConfigSource, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::topic_partition_list::Offset;
use sluice_api::{
    AlterConfigs, BrokerInfo, ConfigEntry, CreateTopic, Overview, PartitionInfo, TopicDetail,
    TopicSummary,
};
use sluice_log::LogStore;

use crate::error::{Result, WorkbenchError};
use crate::kafka::{is_internal, ClientSet, ClusterMeta, Tp};

/// Every topic of the cluster, by name. Blocking.
pub fn list(clients: &ClientSet, store: Option<&LogStore>) -> Result<Vec<TopicSummary>> {
    let meta = clients.metadata()?;
    let tps: Vec<Tp> = meta
        .topics
        .values()
        .flat_map(|t| t.partitions.iter().map(|p| (t.name.clone(), p.id)))
        .collect();
    let starts = clients.list_offsets(&tps, Offset::Beginning)?;
    let ends = clients.list_offsets(&tps, Offset::End)?;
    Ok(meta
        .topics
        .values()
        .map(|t| TopicSummary {
            name: t.name.clone(),
            partitions: t.partitions.len(),
            replication_factor: t.partitions.first().map_or(0, |p| p.replicas.len()),
            message_count: t
                .partitions
                .iter()
                .map(|p| {
                    let tp = (t.name.clone(), p.id);
                    let end = ends.get(&tp).copied().unwrap_or(0);
                    let start = starts.get(&tp).copied().unwrap_or(0);
                    (end - start).max(0)
                })
                .sum(),
            size_bytes: store.and_then(|s| local_size(s, &t.name)),
            internal: is_internal(&t.name),
        })
        .collect())
}

/// Bytes on disk of a topic of the embedded log.
fn local_size(store: &LogStore, topic: &str) -> Option<u64> {
    let t = store.topic(topic)?;
    Some(t.partitions().iter().map(|p| p.lock().size_bytes()).sum())
}

/// Partitions with offsets (blocking part of the detail).
pub fn partitions(clients: &ClientSet, topic: &str) -> Result<Vec<PartitionInfo>> {
    let meta = clients.metadata()?;
    partitions_of(clients, &meta, topic)
}

fn partitions_of(
    clients: &ClientSet,
    meta: &ClusterMeta,
    topic: &str,
) -> Result<Vec<PartitionInfo>> {
    let t = meta.topic(topic)?;
    let tps: Vec<Tp> = t
        .partitions
        .iter()
        .map(|p| (topic.to_string(), p.id))
        .collect();
    let starts = clients.list_offsets(&tps, Offset::Beginning)?;
    let ends = clients.list_offsets(&tps, Offset::End)?;
    Ok(t.partitions
        .iter()
        .map(|p| {
            let tp = (topic.to_string(), p.id);
            PartitionInfo {
                id: p.id,
                leader: p.leader,
                replicas: p.replicas.clone(),
                start_offset: starts.get(&tp).copied().unwrap_or(0),
                end_offset: ends.get(&tp).copied().unwrap_or(0),
            }
        })
        .collect())
}

/// A topic's configs as the cluster describes them.
pub async fn configs(clients: &ClientSet, topic: &str) -> Result<Vec<ConfigEntry>> {
    let raw = describe(clients, topic).await?;
    let mut out: Vec<ConfigEntry> = raw
        .into_iter()
        .map(|e| ConfigEntry {
            name: e.name,
            value: e.value,
            is_default: e.is_default || matches!(e.source, ConfigSource::Default),
            read_only: e.is_read_only,
            sensitive: e.is_sensitive,
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

async fn describe(clients: &ClientSet, topic: &str) -> Result<Vec<rdkafka::admin::ConfigEntry>> {
    let results = with_deadline(clients.admin.describe_configs(
        [&ResourceSpecifier::Topic(topic)],
        &ClientSet::admin_options(),
    ))
    .await??;
    match results.into_iter().next() {
        Some(Ok(resource)) => Ok(resource.entries),
        Some(Err(code)) => Err(WorkbenchError::from_code(&format!("topic {topic:?}"), code)),
        None => Err(WorkbenchError::Kafka("empty DescribeConfigs answer".into())),
    }
}

/// The whole detail page of a topic.
pub async fn detail(clients: Arc<ClientSet>, topic: String) -> Result<TopicDetail> {
    let c = Arc::clone(&clients);
    let t = topic.clone();
    let partitions = tokio::task::spawn_blocking(move || partitions(&c, &t)).await??;
    let configs = configs(&clients, &topic).await?;
    Ok(TopicDetail {
        internal: is_internal(&topic),
        name: topic,
        partitions,
        configs,
    })
}

pub async fn create(clients: &ClientSet, req: &CreateTopic) -> Result<()> {
    if req.name.trim().is_empty() {
        return Err(WorkbenchError::BadRequest("a topic needs a name".into()));
    }
    if req.partitions < 1 {
        return Err(WorkbenchError::BadRequest(
            "partitions must be at least 1".into(),
        ));
    }
    if req.replication_factor < 1 {
        return Err(WorkbenchError::BadRequest(
            "replication_factor must be at least 1".into(),
        ));
    }
    let mut new = NewTopic::new(
        &req.name,
        req.partitions,
        TopicReplication::Fixed(req.replication_factor),
    );
    for (k, v) in &req.configs {
        new = new.set(k, v);
    }
    let results = with_deadline(
        clients
            .admin
            .create_topics([&new], &ClientSet::admin_options()),
    )
    .await??;
    for r in results {
        if let Err((name, code)) = r {
            return Err(WorkbenchError::from_code(&format!("topic {name:?}"), code));
        }
    }
    Ok(())
}

pub async fn delete(clients: &ClientSet, topic: &str) -> Result<()> {
    let results = with_deadline(
        clients
            .admin
            .delete_topics(&[topic], &ClientSet::admin_options()),
    )
    .await??;
    for r in results {
        if let Err((name, code)) = r {
            return Err(WorkbenchError::from_code(&format!("topic {name:?}"), code));
        }
    }
    Ok(())
}

/// Sets the given keys; other overrides stay.
pub async fn alter_configs(clients: &ClientSet, topic: &str, req: &AlterConfigs) -> Result<()> {
    if req.configs.is_empty() {
        return Ok(());
    }
    let current = describe(clients, topic).await?;
    let mut overrides: BTreeMap<String, String> = current
        .into_iter()
        .filter(|e| matches!(e.source, ConfigSource::DynamicTopic) && !e.is_read_only)
        .filter_map(|e| e.value.map(|v| (e.name, v)))
        .collect();
    for (k, v) in &req.configs {
        overrides.insert(k.clone(), v.clone());
    }
    let mut alter = AlterConfig::new(ResourceSpecifier::Topic(topic));
    for (k, v) in &overrides {
        alter = alter.set(k, v);
    }
    let results = with_deadline(
        clients
            .admin
            .alter_configs([&alter], &ClientSet::admin_options()),
    )
    .await??;
    for r in results {
        if let Err((_, code)) = r {
            return Err(WorkbenchError::from_code(
                &format!("configs of topic {topic:?}"),
                code,
            ));
        }
    }
    Ok(())
}

/// The overview page. Blocking.
pub fn overview(cluster: sluice_api::ClusterInfo, clients: &ClientSet) -> Result<Overview> {
    let meta = clients.metadata()?;
    let user = meta.user_partitions();
    let starts = clients.list_offsets(&user, Offset::Beginning)?;
    let ends = clients.list_offsets(&user, Offset::End)?;
    let message_count = user
        .iter()
        .map(|tp| {
            let end = ends.get(tp).copied().unwrap_or(0);
            (end - starts.get(tp).copied().unwrap_or(0)).max(0)
        })
        .sum();
    let internal_topic_count = meta.topics.keys().filter(|t| is_internal(t)).count();
    let group_count = clients.groups(None)?.len();
    let brokers = meta
        .brokers
        .iter()
        .map(|b| BrokerInfo {
            id: b.id,
            host: b.host.clone(),
            port: b.port,
        })
        .collect();
    Ok(Overview {
        cluster,
        kafka_cluster_id: clients.cluster_id(),
        brokers,
        topic_count: meta.topics.len() - internal_topic_count,
        internal_topic_count,
        partition_count: user.len(),
        message_count,
        group_count,
    })
}

/// Bounds an admin future: librdkafka's own timeouts should fire first; this is the net.
pub async fn with_deadline<T>(f: impl std::future::Future<Output = T>) -> Result<T> {
    tokio::time::timeout(Duration::from_secs(8), f)
        .await
        .map_err(|_| WorkbenchError::Unavailable("the cluster did not answer in time".into()))
}
