//! Arbitrary bytes as the `records` of a produce request: `sluice_log::batch` parsing and
//! validation, then `PartitionLog::append` on partitions that live for the whole run.
//!
//! Each input is tried twice: as given (almost always refused by the CRC check), and "repaired"
//! (magic set to 2, an impossible batch length cut to what is left, CRCs recomputed), so that
//! the fuzzer reaches what lies behind the CRC: sequence checks, offset assignment, segment
//! rolls, indexes, reads, timestamp lookups, retention, compaction (which decodes records,
//! decompressing them) and recovery on reopen.
//!
//! Invariants: no panic; an accepted append can be read back as valid whole batches; a
//! reopened partition has the same start and end offsets.

#![no_main]

use std::sync::{LazyLock, Mutex};

use libfuzzer_sys::fuzz_target;
use sluice_log::batch::{self, BatchHeader, HEADER_LEN, LOG_OVERHEAD};
use sluice_log::{PartitionLog, TopicConfig};

struct Part {
    dir: std::path::PathBuf,
    config: TopicConfig,
    log: Option<PartitionLog>,
}

impl Part {
    fn new(root: &std::path::Path, name: &str, pairs: &[(&str, &str)]) -> Part {
        let dir = root.join(name);
        let config = TopicConfig::from_overrides(pairs.iter().copied()).expect("config");
        let log = PartitionLog::open(&dir, config.clone(), 0).expect("open partition");
        Part {
            dir,
            config,
            log: Some(log),
        }
    }

    fn log(&mut self) -> &mut PartitionLog {
        self.log.as_mut().expect("partition open")
    }

    /// Closes and reopens the partition (recovery runs), checking nothing acknowledged moved.
    fn reopen(&mut self, now: i64) {
        let log = self.log.take().expect("partition open");
        let (start, end) = (log.log_start_offset(), log.log_end_offset());
        drop(log);
        let log = PartitionLog::open(&self.dir, self.config.clone(), now).expect("reopen");
        assert_eq!(
            log.log_end_offset(),
            end,
            "end offset changed across a reopen"
        );
        assert_eq!(
            log.log_start_offset(),
            start,
            "start offset changed across a reopen"
        );
        self.log = Some(log);
    }
}

struct Env {
    _root: tempfile::TempDir,
    /// Compacted, small segments, dense indexes.
    compacted: Part,
    /// Log-append time, size retention.
    appended: Part,
    iterations: u64,
    now: i64,
}

static ENV: LazyLock<Mutex<Env>> = LazyLock::new(|| {
    let root = tempfile::Builder::new()
        .prefix("sluice-fuzz-batch-")
        .tempdir()
        .expect("temp dir");
    let compacted = Part::new(
        root.path(),
        "compacted-0",
        &[
            ("cleanup.policy", "compact"),
            ("segment.bytes", "4096"),
            ("index.interval.bytes", "64"),
            ("delete.retention.ms", "0"),
        ],
    );
    let appended = Part::new(
        root.path(),
        "appended-0",
        &[
            ("message.timestamp.type", "LogAppendTime"),
            ("segment.bytes", "8192"),
            ("retention.bytes", "65536"),
        ],
    );
    Mutex::new(Env {
        _root: root,
        compacted,
        appended,
        iterations: 0,
        now: 1_700_000_000_000,
    })
});

/// Makes `data` look like whole v2 batches with correct CRCs, keeping everything else.
fn repair(data: &[u8]) -> Vec<u8> {
    let mut buf = data.to_vec();
    let mut pos = 0;
    while buf.len() - pos >= HEADER_LEN {
        let rest = buf.len() - pos;
        buf[pos + 16] = 2;
        let declared = i32::from_be_bytes(buf[pos + 8..pos + 12].try_into().unwrap());
        let fits = declared >= (HEADER_LEN - LOG_OVERHEAD) as i32
            && (declared as usize) <= rest - LOG_OVERHEAD;
        if !fits {
            let len = (rest - LOG_OVERHEAD) as i32;
            buf[pos + 8..pos + 12].copy_from_slice(&len.to_be_bytes());
        }
        // The low bit of the base offset (a field the broker overwrites) asks for a batch whose
        // last offset delta agrees with its record count, as a real client writes it.
        if buf[pos + 7] & 1 == 1 {
            let count = i32::from_be_bytes(buf[pos + 57..pos + 61].try_into().unwrap());
            let delta = count.max(1) - 1;
            buf[pos + 23..pos + 27].copy_from_slice(&delta.to_be_bytes());
        }
        let len = i32::from_be_bytes(buf[pos + 8..pos + 12].try_into().unwrap()) as usize;
        let total = LOG_OVERHEAD + len;
        let crc = batch::batch_crc(&buf[pos..pos + total]);
        buf[pos + 17..pos + 21].copy_from_slice(&crc.to_be_bytes());
        pos += total;
    }
    if pos > 0 {
        // Drop a tail too short to be a batch.
        buf.truncate(pos);
    }
    buf
}

fn exercise(part: &mut Part, records: &[u8], now: i64, probe_ts: i64) {
    let mut owned = records.to_vec();
    let log = part.log();
    match log.append(&mut owned, now) {
        Ok(info) if !info.duplicate => {
            assert!(info.last_offset >= info.base_offset, "{info:?}");
            assert_eq!(log.log_end_offset(), info.last_offset + 1, "{info:?}");
            let back = log
                .read(info.base_offset, 1 << 16)
                .expect("read back an append");
            assert!(
                !back.is_empty(),
                "nothing read back at {}",
                info.base_offset
            );
            let batches = batch::split_batches(&back).expect("read back whole valid batches");
            assert_eq!(batches[0].1.base_offset, info.base_offset, "{info:?}");
        }
        // A retried batch gets its first offsets back; compaction or retention may have
        // removed them since, so only a read that works is checked.
        Ok(info) => {
            assert!(info.last_offset >= info.base_offset, "{info:?}");
            assert!(info.last_offset < log.log_end_offset(), "{info:?}");
            if let Ok(back) = log.read(info.base_offset, 1 << 16) {
                batch::split_batches(&back).expect("read back whole valid batches");
            }
        }
        Err(_) => {}
    }
    let _ = log.offset_for_timestamp(probe_ts);
    let _ = log.offset_of_max_timestamp();
    let start = log.log_start_offset();
    if let Ok(b) = log.read(start, 4096) {
        batch::split_batches(&b).expect("a read returns whole valid batches");
    }
}

fuzz_target!(|data: &[u8]| {
    // Pure functions first: they must refuse garbage, never panic on it.
    let _ = BatchHeader::parse(data);
    let _ = batch::validate(data);
    let _ = batch::split_batches(data);

    let mut env = ENV.lock().unwrap_or_else(|p| p.into_inner());
    env.iterations += 1;
    env.now += 1_000;
    let now = env.now;
    let probe_ts = data
        .get(..8)
        .map(|b| i64::from_be_bytes(b.try_into().unwrap()))
        .unwrap_or(now);

    let repaired = repair(data);
    if batch::split_batches(&repaired).is_ok() && !repaired.is_empty() {
        // Repair must make a header-consistent buffer; its validation must agree.
        for (start, h) in batch::split_batches(&repaired).unwrap() {
            batch::validate(&repaired[start..start + h.total_len()]).expect("validate agrees");
        }
    }
    let Env {
        compacted,
        appended,
        iterations,
        ..
    } = &mut *env;
    for part in [&mut *compacted, &mut *appended] {
        exercise(part, data, now, probe_ts);
        exercise(part, &repaired, now, probe_ts);
    }
    let iterations = *iterations;
    if iterations % 64 == 0 {
        for part in [&mut *compacted, &mut *appended] {
            let _ = part.log().enforce_retention(now);
            let log = part.log();
            if let Ok(b) = log.read(log.log_start_offset(), 1 << 16) {
                batch::split_batches(&b).expect("whole valid batches after retention/compaction");
            }
            part.log().flush().expect("flush");
        }
    }
    if iterations % 512 == 0 {
        compacted.reopen(now);
        appended.reopen(now);
    }
});
