//! Messages: browsing a topic (a fresh assign-only consumer per request, seeking each
//! partition to where the query says, reading up to the end offsets seen at the start),
//! producing (acks=all, every record `copies` times), and turning a Kafka record into the
//! API's [`Message`] (UTF-8 text or base64, headers, Confluent wire-format schema ids) and the
//! filters shared with the live tail. Never commits offsets and never joins a group; decoding
//! wire-format data through a registry is `schemas`'.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use base64::Engine as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Header, Headers, Message as _, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use serde::Deserialize;
use sluice_api::{
    BrowseQuery, Message, MessageHeader, MessagePage, ProduceRequest, ProduceResult, StartFrom,
};

use crate::error::{Result, WorkbenchError};
use crate::kafka::{ClientSet, Tp};

pub const DEFAULT_LIMIT: usize = 500;
pub const MAX_LIMIT: usize = 100_000;
/// Most records one produce request may send (records × copies).
pub const MAX_PRODUCE: u64 = 1_000_000;
/// How long one browse may read before it answers with what it has.
const BROWSE_BUDGET: Duration = Duration::from_secs(15);

/// The filters of a browse or a tail; a message must match all that are set.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MessageFilter {
    /// Substring of the key bytes.
    pub key: Option<String>,
    /// Substring of the value bytes.
    pub value: Option<String>,
    /// A header key, or `key=value` (exact value).
    pub header: Option<String>,
}

impl MessageFilter {
    pub fn from_query(q: &BrowseQuery) -> MessageFilter {
        MessageFilter {
            key: q.key.clone(),
            value: q.value.clone(),
            header: q.header.clone(),
        }
    }

    fn non_empty(s: &Option<String>) -> Option<&str> {
        s.as_deref().filter(|s| !s.is_empty())
    }

    pub fn matches(&self, m: &BorrowedMessage<'_>) -> bool {
        if let Some(k) = Self::non_empty(&self.key) {
            if !contains(m.key().unwrap_or_default(), k.as_bytes()) {
                return false;
            }
        }
        if let Some(v) = Self::non_empty(&self.value) {
            if !contains(m.payload().unwrap_or_default(), v.as_bytes()) {
                return false;
            }
        }
        if let Some(h) = Self::non_empty(&self.header) {
            let (hk, hv) = match h.split_once('=') {
                Some((k, v)) => (k, Some(v.as_bytes())),
                None => (h, None),
            };
            let found = m.headers().is_some_and(|headers| {
                headers.iter().any(|header| {
                    header.key == hk && hv.is_none_or(|want| header.value == Some(want))
                })
            });
            if !found {
                return false;
            }
        }
        true
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// The schema id of bytes in the Confluent wire format: magic byte 0, then a 4-byte
/// big-endian id, then the payload.
pub fn confluent_schema_id(bytes: &[u8]) -> Option<u32> {
    match bytes {
        [0, a, b, c, d, ..] => Some(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// Text when the bytes are UTF-8 and not wire-format framed; base64 otherwise.
fn render(bytes: Option<&[u8]>) -> (Option<String>, bool, Option<u32>) {
    let Some(b) = bytes else {
        return (None, false, None);
    };
    let schema_id = confluent_schema_id(b);
    match std::str::from_utf8(b) {
        Ok(s) if schema_id.is_none() => (Some(s.to_string()), false, None),
        _ => (
            Some(base64::engine::general_purpose::STANDARD.encode(b)),
            true,
            schema_id,
        ),
    }
}

pub fn to_api_message(m: &BorrowedMessage<'_>) -> Message {
    let (key, key_base64, key_schema_id) = render(m.key());
    let (value, value_base64, value_schema_id) = render(m.payload());
    let headers = m
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| MessageHeader {
                    key: h.key.to_string(),
                    value: h.value.map(|v| String::from_utf8_lossy(v).into_owned()),
                })
                .collect()
        })
        .unwrap_or_default();
    Message {
        partition: m.partition(),
        offset: m.offset(),
        timestamp_ms: m.timestamp().to_millis().unwrap_or(-1),
        key,
        key_base64,
        value,
        value_base64,
        headers,
        value_schema_id,
        key_schema_id,
        size: m.key_len() + m.payload_len(),
        value_decoded: None,
        key_decoded: None,
    }
}

/// Orders messages by timestamp, then partition and offset.
pub fn sort_messages(messages: &mut [Message]) {
    messages.sort_by_key(|m| (m.timestamp_ms, m.partition, m.offset));
}

/// Where each partition's read starts and where it ends (exclusive).
struct Range {
    next: i64,
    end: i64,
}

/// Reads a page of messages. Blocking.
pub fn browse(clients: &ClientSet, topic: &str, q: &BrowseQuery) -> Result<MessagePage> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let meta = clients.metadata()?;
    let t = meta.topic(topic)?;
    let partitions: Vec<i32> = match q.partition {
        Some(p) if t.partitions.iter().any(|x| x.id == p) => vec![p],
        Some(p) => {
            return Err(WorkbenchError::NotFound(format!(
                "topic {topic:?} has no partition {p}"
            )))
        }
        None => t.partitions.iter().map(|p| p.id).collect(),
    };
    let tps: Vec<Tp> = partitions.iter().map(|p| (topic.to_string(), *p)).collect();
    let starts = clients.list_offsets(&tps, Offset::Beginning)?;
    let ends = clients.list_offsets(&tps, Offset::End)?;
    let by_time = match q.from {
        StartFrom::Timestamp => {
            let ts = q.timestamp_ms.ok_or_else(|| {
                WorkbenchError::BadRequest("from=timestamp needs timestamp_ms".into())
            })?;
            Some(clients.offsets_for_timestamp(&tps, ts)?)
        }
        _ => None,
    };
    let mut ranges: HashMap<i32, Range> = HashMap::new();
    for tp in &tps {
        let start = starts.get(tp).copied().unwrap_or(0);
        let end = ends.get(tp).copied().unwrap_or(start).max(start);
        let next = match q.from {
            StartFrom::Earliest => start,
            StartFrom::Latest => end.saturating_sub(limit as i64).max(start),
            StartFrom::Offset => {
                let o = q
                    .offset
                    .ok_or_else(|| WorkbenchError::BadRequest("from=offset needs offset".into()))?;
                o.clamp(start, end)
            }
            StartFrom::Timestamp => by_time
                .as_ref()
                .and_then(|m| m.get(tp).copied())
                .unwrap_or(end)
                .clamp(start, end),
        };
        ranges.insert(tp.1, Range { next, end });
    }
    let filter = MessageFilter::from_query(q);
    // Latest reads the last `limit` of each partition whole; the others stop a partition
    // once it gave `limit` matches (the page keeps the first `limit` overall).
    let per_partition_cap = match q.from {
        StartFrom::Latest => usize::MAX,
        _ => limit,
    };
    let (mut messages, scanned, reached_end) =
        read_ranges(clients, topic, &mut ranges, &filter, per_partition_cap)?;
    sort_messages(&mut messages);
    if messages.len() > limit {
        if q.from == StartFrom::Latest {
            messages.drain(..messages.len() - limit);
        } else {
            messages.truncate(limit);
        }
    }
    Ok(MessagePage {
        messages,
        scanned,
        reached_end,
    })
}

fn read_ranges(
    clients: &ClientSet,
    topic: &str,
    ranges: &mut HashMap<i32, Range>,
    filter: &MessageFilter,
    per_partition_cap: usize,
) -> Result<(Vec<Message>, u64, bool)> {
    let mut tpl = TopicPartitionList::new();
    for (p, r) in ranges.iter() {
        if r.next < r.end {
            tpl.add_partition_offset(topic, *p, Offset::Offset(r.next))?;
        }
    }
    if tpl.count() == 0 {
        return Ok((Vec::new(), 0, true));
    }
    let consumer: BaseConsumer = clients.settings.reader(true)?;
    consumer.assign(&tpl)?;
    let mut found: HashMap<i32, usize> = HashMap::new();
    let mut messages = Vec::new();
    let mut scanned = 0u64;
    let mut stopped_early = false;
    // Partitions still being read.
    let mut open: HashSet<i32> = ranges
        .iter()
        .filter(|(_, r)| r.next < r.end)
        .map(|(p, _)| *p)
        .collect();
    let mut last_error: Option<KafkaError> = None;
    let deadline = Instant::now() + BROWSE_BUDGET;
    while !open.is_empty() {
        let now = Instant::now();
        if now >= deadline {
            stopped_early = true;
            break;
        }
        match consumer.poll((deadline - now).min(Duration::from_millis(200))) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(p))) => {
                open.remove(&p);
            }
            Some(Err(e)) => {
                tracing::debug!("browse {topic}: {e}");
                last_error = Some(e);
            }
            Some(Ok(m)) => {
                let p = m.partition();
                let Some(r) = ranges.get_mut(&p) else {
                    continue;
                };
                if !open.contains(&p) || m.offset() >= r.end {
                    open.remove(&p);
                    continue;
                }
                r.next = m.offset() + 1;
                scanned += 1;
                if filter.matches(&m) {
                    messages.push(to_api_message(&m));
                    let n = found.entry(p).or_default();
                    *n += 1;
                    if *n >= per_partition_cap && r.next < r.end {
                        stopped_early = true;
                        open.remove(&p);
                        continue;
                    }
                }
                if r.next >= r.end {
                    open.remove(&p);
                }
            }
        }
    }
    if stopped_early && messages.is_empty() && scanned == 0 {
        if let Some(e) = last_error {
            return Err(e.into());
        }
    }
    // Closing a consumer blocks briefly; this runs on a blocking thread already.
    drop(consumer);
    Ok((messages, scanned, !stopped_early))
}

/// A record's key and value bytes, as sent.
pub type Payload = (Option<Vec<u8>>, Option<Vec<u8>>);

/// Sends every record `copies` times and waits for each acknowledgement; `payloads` are the
/// records' key and value bytes (the texts, or their wire-format serialization).
pub async fn produce(
    clients: &ClientSet,
    topic: &str,
    req: &ProduceRequest,
    payloads: &[Payload],
) -> Result<ProduceResult> {
    let copies = u64::from(req.copies.unwrap_or(1));
    let total = (req.records.len() as u64).saturating_mul(copies);
    if total > MAX_PRODUCE {
        return Err(WorkbenchError::BadRequest(format!(
            "{total} records in one request; at most {MAX_PRODUCE}"
        )));
    }
    let mut pending = Vec::new();
    let mut result = ProduceResult {
        produced: 0,
        first: None,
        last: None,
    };
    for _ in 0..copies {
        for (r, (key, value)) in req.records.iter().zip(payloads) {
            let mut headers = OwnedHeaders::new();
            for h in &r.headers {
                headers = headers.insert(Header {
                    key: &h.key,
                    value: h.value.as_deref(),
                });
            }
            let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).headers(headers);
            if let Some(k) = key {
                record = record.key(k.as_slice());
            }
            if let Some(v) = value {
                record = record.payload(v.as_slice());
            }
            if let Some(p) = r.partition {
                record = record.partition(p);
            }
            let mut record = record;
            loop {
                match clients.producer.send_result(record) {
                    Ok(delivery) => {
                        pending.push(delivery);
                        break;
                    }
                    Err((
                        KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull),
                        back,
                    )) => {
                        // Wait for what is in flight, then retry.
                        settle(&mut pending, &mut result).await?;
                        record = back;
                    }
                    Err((e, _)) => return Err(e.into()),
                }
            }
            if pending.len() >= 10_000 {
                settle(&mut pending, &mut result).await?;
            }
        }
    }
    settle(&mut pending, &mut result).await?;
    Ok(result)
}

async fn settle(
    pending: &mut Vec<rdkafka::producer::DeliveryFuture>,
    result: &mut ProduceResult,
) -> Result<()> {
    for delivery in pending.drain(..) {
        match delivery.await {
            Ok(Ok(d)) => {
                result.produced += 1;
                if result.first.is_none() {
                    result.first = Some((d.partition, d.offset));
                }
                result.last = Some((d.partition, d.offset));
            }
            Ok(Err((e, _))) => return Err(e.into()),
            Err(_) => {
                return Err(WorkbenchError::Unavailable(
                    "the producer was closed before the record was acknowledged".into(),
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format_ids() {
        assert_eq!(confluent_schema_id(&[0, 0, 0, 0, 7, 1, 2]), Some(7));
        assert_eq!(confluent_schema_id(&[0, 0, 0, 1]), None);
        assert_eq!(confluent_schema_id(b"hello"), None);
    }

    #[test]
    fn rendering_picks_text_or_base64() {
        assert_eq!(render(Some(b"hi")), (Some("hi".into()), false, None));
        assert_eq!(
            render(Some(&[0xff, 0x00])),
            (Some("/wA=".into()), true, None)
        );
        let (_, b64, id) = render(Some(&[0, 0, 0, 1, 0, b'x']));
        assert!(b64);
        assert_eq!(id, Some(256));
        assert_eq!(render(None), (None, false, None));
    }

    #[test]
    fn substring_search() {
        assert!(contains(b"order-42", b"42"));
        assert!(!contains(b"order", b"orders"));
        assert!(contains(b"", b""));
    }
}
