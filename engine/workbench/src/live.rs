//! The WebSocket surfaces: the live tail of a topic (an assign-only consumer on a blocking
//! thread, started at the end offsets resolved before the upgrade is answered, so everything
//! produced after the client connected is delivered) and the per-second feed of rate samples.
//! One JSON text frame per event; wire-format data is decoded through the cluster's registry. A socket ends when the client goes away, the cluster or
//! topic cannot be read, or the workbench stops; the reader thread stops with it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use rdkafka::consumer::Consumer;
use rdkafka::error::KafkaError;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use serde::Deserialize;
use sluice_api::TailEvent;
use tokio::sync::{broadcast, mpsc, watch};

use crate::clusters::Cluster;
use crate::error::{Result, WorkbenchError};
use crate::kafka::{ConnectionSettings, Tp};
use crate::messages::{to_api_message, MessageFilter};

/// Query string of the tail: the browse filters without a start position.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TailQuery {
    pub partition: Option<i32>,
    pub key: Option<String>,
    pub value: Option<String>,
    pub header: Option<String>,
}

/// Resolves where the tail starts (the current end of each partition), then upgrades.
pub async fn tail(
    cluster: Arc<Cluster>,
    topic: String,
    q: TailQuery,
    ws: WebSocketUpgrade,
    stop: watch::Receiver<bool>,
) -> Result<Response> {
    let clients = cluster.clients()?;
    let t = topic.clone();
    let partition = q.partition;
    let starts: Vec<(Tp, i64)> = tokio::task::spawn_blocking(move || {
        let meta = clients.metadata()?;
        let topic_meta = meta.topic(&t)?;
        if let Some(p) = partition {
            if !topic_meta.partitions.iter().any(|x| x.id == p) {
                return Err(WorkbenchError::NotFound(format!(
                    "topic {t:?} has no partition {p}"
                )));
            }
        }
        let tps: Vec<Tp> = topic_meta
            .partitions
            .iter()
            .filter(|x| partition.is_none_or(|p| p == x.id))
            .map(|x| (t.clone(), x.id))
            .collect();
        let ends = clients.list_offsets(&tps, Offset::End)?;
        Ok(tps
            .into_iter()
            .map(|tp| {
                let end = ends.get(&tp).copied().unwrap_or(0);
                (tp, end)
            })
            .collect())
    })
    .await??;
    let settings = cluster.settings.clone();
    let filter = MessageFilter {
        key: q.key,
        value: q.value,
        header: q.header,
    };
    Ok(ws
        .on_upgrade(move |socket| run_tail(socket, cluster, topic, settings, starts, filter, stop)))
}

async fn run_tail(
    mut socket: WebSocket,
    cluster: Arc<Cluster>,
    topic: String,
    settings: ConnectionSettings,
    starts: Vec<(Tp, i64)>,
    filter: MessageFilter,
    mut stop: watch::Receiver<bool>,
) {
    let (tx, mut rx) = mpsc::channel::<TailEvent>(256);
    let halt = Arc::new(AtomicBool::new(false));
    let reader_halt = Arc::clone(&halt);
    let reader =
        tokio::task::spawn_blocking(move || read_tail(settings, starts, filter, tx, reader_halt));
    loop {
        tokio::select! {
            event = rx.recv() => {
                let Some(mut event) = event else { break };
                if let TailEvent::Message { message } = &mut event {
                    crate::schemas::decode_message(&cluster, &topic, message).await;
                }
                let Ok(text) = serde_json::to_string(&event) else { continue };
                if socket.send(WsMessage::Text(text.into())).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(WsMessage::Close(_))) => break,
                Some(Ok(_)) => {}
            },
            _ = stop.changed() => break,
        }
    }
    halt.store(true, Ordering::Release);
    drop(rx);
    let _ = socket.send(WsMessage::Close(None)).await;
    let _ = reader.await;
}

/// The blocking reader of a tail: polls until halted or the socket side hangs up.
fn read_tail(
    settings: ConnectionSettings,
    starts: Vec<(Tp, i64)>,
    filter: MessageFilter,
    tx: mpsc::Sender<TailEvent>,
    halt: Arc<AtomicBool>,
) {
    let fail = |tx: &mpsc::Sender<TailEvent>, message: String| {
        let _ = tx.blocking_send(TailEvent::Error { message });
    };
    let consumer = match settings.reader(false) {
        Ok(c) => c,
        Err(e) => return fail(&tx, e.to_string()),
    };
    let mut tpl = TopicPartitionList::new();
    for ((topic, partition), offset) in &starts {
        if let Err(e) = tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset)) {
            return fail(&tx, e.to_string());
        }
    }
    if let Err(e) = consumer.assign(&tpl) {
        return fail(&tx, e.to_string());
    }
    let mut last_error: Option<Instant> = None;
    while !halt.load(Ordering::Acquire) && !tx.is_closed() {
        match consumer.poll(Duration::from_millis(200)) {
            None | Some(Err(KafkaError::PartitionEOF(_))) => {}
            Some(Ok(m)) => {
                if filter.matches(&m)
                    && tx
                        .blocking_send(TailEvent::Message {
                            message: to_api_message(&m),
                        })
                        .is_err()
                {
                    break;
                }
            }
            Some(Err(e)) => {
                // Say it, but not on every poll of a cluster that went away.
                if last_error.is_none_or(|t| t.elapsed() > Duration::from_secs(5)) {
                    last_error = Some(Instant::now());
                    fail(&tx, e.to_string());
                }
            }
        }
    }
}

/// Pushes each new rate sample of a cluster.
pub async fn rates_live(
    cluster: Arc<Cluster>,
    ws: WebSocketUpgrade,
    stop: watch::Receiver<bool>,
) -> Response {
    cluster.touch();
    let feed = cluster.metrics.subscribe();
    ws.on_upgrade(move |socket| run_rates(socket, cluster, feed, stop))
}

async fn run_rates(
    mut socket: WebSocket,
    cluster: Arc<Cluster>,
    mut feed: broadcast::Receiver<sluice_api::RateSample>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            sample = feed.recv() => match sample {
                Ok(sample) => {
                    cluster.touch();
                    let Ok(text) = serde_json::to_string(&sample) else { continue };
                    if socket.send(WsMessage::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(WsMessage::Close(_))) => break,
                Some(Ok(_)) => {}
            },
            _ = stop.changed() => break,
        }
    }
    let _ = socket.send(WsMessage::Close(None)).await;
}
