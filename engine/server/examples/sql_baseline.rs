//! The SQL benchmark's reference: a hand-written Rust loop doing the work of the talk's two
//! persistent queries (tests/bench/sql.py) on the same records, read from the same log, with
//! no SQL engine in between. It owns nothing else and is not part of Sluice.
//!
//! `sql_baseline DATA_DIR TOPIC filter|aggregate` opens the (stopped) sandbox's data dir, reads
//! every partition of TOPIC from its start, and
//! - `filter`: keeps `level = 'ERROR' AND app = 'order-service'` and appends
//!   `{"TIMESTAMP","APP","MSG"}` JSON values, unkeyed, to `baseline_order_errors`;
//! - `aggregate`: per app and 1-hour tumbling window of the ERROR records, COUNT(*) and
//!   COLLECT_LIST(msg) (capped at 1,000 entries as ksqlDB's default), appending every update
//!   as the windowed key (app bytes, then the 8-byte big-endian window start) and the value
//!   `{"ERROR_COUNT","RECENT_ERRORS"}` to `baseline_error_counts`, with the window's max
//!   timestamp so far, as ksqlDB emits with caching off.
//!
//! It prints one JSON line: records read, records written, seconds.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sluice_log::keyed::{append_timed, read_timed};
use sluice_log::{LogStore, TopicConfig};

const READ_BYTES: usize = 1 << 20;
const WINDOW_MS: i64 = 3_600_000;
const COLLECT_LIMIT: usize = 1000;

#[derive(Deserialize)]
struct LogLine {
    timestamp: Option<String>,
    app: Option<String>,
    level: Option<String>,
    msg: Option<String>,
}

#[derive(Serialize)]
struct OrderError<'a> {
    #[serde(rename = "TIMESTAMP")]
    timestamp: &'a Option<String>,
    #[serde(rename = "APP")]
    app: &'a Option<String>,
    #[serde(rename = "MSG")]
    msg: &'a Option<String>,
}

#[derive(Serialize)]
struct ErrorCount<'a> {
    #[serde(rename = "ERROR_COUNT")]
    count: i64,
    #[serde(rename = "RECENT_ERRORS")]
    recent: &'a [Option<String>],
}

#[derive(Default)]
struct WindowState {
    count: i64,
    recent: Vec<Option<String>>,
    max_ts: i64,
}

type Out = Vec<(Option<Bytes>, Option<Bytes>, i64)>;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, topic, mode] = args.as_slice() else {
        anyhow::bail!("usage: sql_baseline DATA_DIR TOPIC filter|aggregate");
    };
    let store = LogStore::open(&PathBuf::from(dir))?;
    let source = store
        .topic(topic)
        .ok_or_else(|| anyhow::anyhow!("no topic {topic}"))?;
    let sink_name = match mode.as_str() {
        "filter" => "baseline_order_errors",
        "aggregate" => "baseline_error_counts",
        other => anyhow::bail!("unknown mode {other}"),
    };
    let _ = store.delete_topic(sink_name);
    store.create_topic(sink_name, 1, TopicConfig::default(), false)?;
    let sink = store
        .topic(sink_name)
        .and_then(|t| t.partition(0))
        .ok_or_else(|| anyhow::anyhow!("sink vanished"))?;

    let started = Instant::now();
    let mut windows: HashMap<(String, i64), WindowState> = HashMap::new();
    let (mut read, mut written) = (0u64, 0u64);
    for partition in source.partitions() {
        let mut next = partition.lock().log_start_offset();
        loop {
            let records = read_timed(&partition, next, READ_BYTES)?;
            let Some(last) = records.last() else { break };
            next = last.offset + 1;
            let mut out: Out = Vec::with_capacity(records.len());
            for r in &records {
                read += 1;
                let Some(value) = &r.value else { continue };
                let Ok(line) = serde_json::from_slice::<LogLine>(value) else {
                    continue;
                };
                if line.level.as_deref() != Some("ERROR") {
                    continue;
                }
                if mode == "filter" {
                    if line.app.as_deref() != Some("order-service") {
                        continue;
                    }
                    let v = serde_json::to_vec(&OrderError {
                        timestamp: &line.timestamp,
                        app: &line.app,
                        msg: &line.msg,
                    })?;
                    out.push((None, Some(Bytes::from(v)), r.timestamp));
                } else {
                    let Some(app) = line.app else { continue };
                    let start = r.timestamp - r.timestamp.rem_euclid(WINDOW_MS);
                    let mut key = Vec::with_capacity(app.len() + 8);
                    key.extend_from_slice(app.as_bytes());
                    key.extend_from_slice(&start.to_be_bytes());
                    let w = windows.entry((app, start)).or_default();
                    w.count += 1;
                    if w.recent.len() < COLLECT_LIMIT {
                        w.recent.push(line.msg);
                    }
                    w.max_ts = w.max_ts.max(r.timestamp);
                    let v = serde_json::to_vec(&ErrorCount {
                        count: w.count,
                        recent: &w.recent,
                    })?;
                    out.push((Some(Bytes::from(key)), Some(Bytes::from(v)), w.max_ts));
                }
            }
            written += out.len() as u64;
            append_timed(&sink, &out)?;
        }
    }
    store.flush_all()?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"mode": mode, "read": read, "written": written, "seconds": secs})
    );
    Ok(())
}
