//! One partition's log: an ordered run of segments, the log start and end offsets, the
//! idempotent-producer state, retention, compaction and crash recovery. A partition's files live
//! in one directory; its `checkpoint.json` records what was last fsynced (the recovery point),
//! the log start offset and a producer-state snapshot at that point.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::records::RecordBatchDecoder;
use serde::{Deserialize, Serialize};

use crate::batch::{self, BatchHeader};
use crate::config::TopicConfig;
use crate::error::{LogError, Result};
use crate::producer_state::{ProducerStateTable, SequenceCheck};
use crate::segment::Segment;

/// Version of a partition directory's layout and checkpoint.
pub const PARTITION_FORMAT_VERSION: u32 = 1;
const CHECKPOINT: &str = "checkpoint.json";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Checkpoint {
    version: u32,
    recovery_point: i64,
    log_start_offset: i64,
    producers: ProducerStateTable,
}

/// The outcome of an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendInfo {
    pub base_offset: i64,
    pub last_offset: i64,
    /// The log-append time stamped on the batch, or -1 for create-time topics.
    pub log_append_time: i64,
    /// True when the batch was a retry of one already in the log (nothing was written).
    pub duplicate: bool,
}

/// Handles to fsync, taken under the partition's lock and synced outside it, so appends and
/// fetches never wait for the disk.
pub struct FlushJob {
    files: Vec<Arc<File>>,
    recovery_point: i64,
    /// Producer state as of `recovery_point`.
    producers: ProducerStateTable,
}

impl FlushJob {
    /// fsyncs every handle. Runs without the partition lock.
    pub fn sync(&self) -> std::io::Result<()> {
        for f in &self.files {
            f.sync_data()?;
        }
        Ok(())
    }
}

/// A checkpoint serialised under the partition's lock, written (tmp file, fsync, rename)
/// without it. Writes are ordered by `seq`: a checkpoint older than the last one written is
/// skipped, so a slow writer can never put back a stale recovery point or log start.
pub struct CheckpointWrite {
    dir: PathBuf,
    body: Vec<u8>,
    seq: u64,
    written: Arc<parking_lot::Mutex<u64>>,
}

impl CheckpointWrite {
    pub fn commit(self) -> Result<()> {
        let mut last = self.written.lock();
        if *last >= self.seq {
            return Ok(());
        }
        let tmp = self.dir.join("checkpoint.json.tmp");
        {
            let f = File::create(&tmp)?;
            use std::io::Write;
            (&f).write_all(&self.body)?;
            f.sync_data()?;
        }
        fs::rename(&tmp, self.dir.join(CHECKPOINT))?;
        *last = self.seq;
        Ok(())
    }
}

/// What recovery did when the partition was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    pub truncated_bytes: u64,
    pub dropped_segments: usize,
    pub scanned_batches: usize,
}

pub struct PartitionLog {
    dir: PathBuf,
    config: TopicConfig,
    segments: Vec<Segment>,
    log_start_offset: i64,
    producers: ProducerStateTable,
    recovery_point: i64,
    /// Files of segments rolled since the last flush, still to be fsynced.
    rolled_unsynced: Vec<Arc<File>>,
    /// Sequence of the newest checkpoint serialised, and of the newest one on disk.
    checkpoint_seq: u64,
    checkpoint_written: Arc<parking_lot::Mutex<u64>>,
    /// Where appended bytes are counted for the store's group commit, if anywhere.
    unflushed: Option<Arc<std::sync::atomic::AtomicU64>>,
    poisoned: Option<String>,
    /// Offset up to which compaction has run.
    cleaned_up_to: i64,
    pub recovery: RecoveryReport,
}

fn segment_bases(dir: &Path) -> Result<Vec<i64>> {
    let mut bases = Vec::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if let Some(stem) = name.strip_suffix(".log") {
            if let Ok(b) = stem.parse::<i64>() {
                bases.push(b);
            }
        }
        if name.ends_with(".log.cleaned") {
            // A compaction that did not finish: the original segment is still intact.
            let _ = fs::remove_file(dir.join(name.as_ref()));
        }
    }
    bases.sort_unstable();
    Ok(bases)
}

impl PartitionLog {
    /// Opens (or creates) the partition in `dir`, recovering from a crash if needed: every
    /// segment after the recovery point is CRC-checked and cut at the first torn batch.
    pub fn open(dir: &Path, config: TopicConfig, now_ms: i64) -> Result<Self> {
        fs::create_dir_all(dir)?;
        let cp_path = dir.join(CHECKPOINT);
        let checkpoint: Checkpoint = match fs::read(&cp_path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| LogError::BadMetadata {
                path: cp_path.display().to_string(),
                reason: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Checkpoint::default(),
            Err(e) => return Err(e.into()),
        };
        if checkpoint.version > PARTITION_FORMAT_VERSION {
            return Err(LogError::FormatVersion {
                path: cp_path.display().to_string(),
                found: checkpoint.version,
                supported: PARTITION_FORMAT_VERSION,
            });
        }
        let interval = config.index_interval_bytes();
        let bases = segment_bases(dir)?;
        let mut segments: Vec<Segment> = Vec::new();
        let mut producers = checkpoint.producers.clone();
        let mut report = RecoveryReport::default();
        let rp = checkpoint.recovery_point;
        let mut stop = false;
        for (i, &base) in bases.iter().enumerate() {
            if stop {
                // Everything after a torn segment is unacknowledged garbage.
                if let Ok((s, _)) = Segment::open(dir, base, interval, i64::MAX, false, now_ms) {
                    s.delete()?;
                }
                report.dropped_segments += 1;
                continue;
            }
            let next_base = bases.get(i + 1).copied().unwrap_or(i64::MAX);
            let fully_trusted = next_base <= rp;
            let (seg, outcome) = if fully_trusted {
                Segment::open(dir, base, interval, i64::MAX, false, now_ms)?
            } else {
                Segment::open(dir, base, interval, rp, true, now_ms)?
            };
            if !fully_trusted {
                for (_, h) in &outcome.batches {
                    if h.base_offset >= rp {
                        producers.record(h);
                    }
                }
                report.scanned_batches += outcome.batches.len();
            }
            if outcome.truncated_bytes > 0 {
                report.truncated_bytes += outcome.truncated_bytes;
                stop = true;
            }
            segments.push(seg);
        }
        let log_start_offset = checkpoint
            .log_start_offset
            .max(segments.first().map(|s| s.base_offset).unwrap_or(0));
        if segments.is_empty() {
            segments.push(Segment::create(dir, log_start_offset, interval, now_ms)?);
        }
        let end = segments.last().map(|s| s.next_offset).unwrap_or(0);
        producers.truncate_to(end);
        let mut log = PartitionLog {
            dir: dir.to_path_buf(),
            config,
            segments,
            log_start_offset,
            producers,
            recovery_point: rp.min(end),
            rolled_unsynced: Vec::new(),
            checkpoint_seq: 0,
            checkpoint_written: Arc::new(parking_lot::Mutex::new(0)),
            unflushed: None,
            poisoned: None,
            cleaned_up_to: log_start_offset,
            recovery: report,
        };
        if report.truncated_bytes > 0
            || report.dropped_segments > 0
            || fs::metadata(&cp_path).is_err()
        {
            log.write_checkpoint()?;
        }
        Ok(log)
    }

    /// Counts every appended byte in `counter` (the store's group-commit backlog).
    pub fn count_unflushed_in(&mut self, counter: Arc<std::sync::atomic::AtomicU64>) {
        self.unflushed = Some(counter);
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn config(&self) -> &TopicConfig {
        &self.config
    }

    pub fn set_config(&mut self, config: TopicConfig) {
        self.config = config;
    }

    pub fn log_start_offset(&self) -> i64 {
        self.log_start_offset
    }

    /// The next offset to be written (Kafka's log end offset; also the high watermark here,
    /// since every partition has one replica).
    pub fn log_end_offset(&self) -> i64 {
        self.active().next_offset
    }

    pub fn size_bytes(&self) -> u64 {
        self.segments.iter().map(Segment::size).sum()
    }

    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    fn active(&self) -> &Segment {
        self.segments
            .last()
            .expect("a partition always has a segment")
    }

    /// Validates `records` (one or more v2 batches), checks idempotent sequences, assigns
    /// offsets and writes them. Returns once the bytes are in the OS (not yet fsynced).
    pub fn append(&mut self, records: &mut [u8], now_ms: i64) -> Result<AppendInfo> {
        if let Some(reason) = &self.poisoned {
            return Err(LogError::Poisoned(reason.clone()));
        }
        let batches = batch::split_batches(records)?;
        if batches.is_empty() {
            return Err(LogError::CorruptBatch("no record batch"));
        }
        let max = self.config.max_message_bytes();
        for (_, h) in &batches {
            if h.total_len() > max {
                return Err(LogError::RecordTooLarge {
                    size: h.total_len(),
                    max,
                });
            }
        }
        for (start, h) in &batches {
            batch::check_produced(&records[*start..*start + h.total_len()], h)?;
        }
        // Idempotence: a retried batch gets its original offsets back and is not written again.
        if batches.len() == 1 {
            if let SequenceCheck::Duplicate {
                base_offset,
                last_offset,
            } = self.producers.check(&batches[0].1)?
            {
                return Ok(AppendInfo {
                    base_offset,
                    last_offset,
                    log_append_time: -1,
                    duplicate: true,
                });
            }
        } else {
            for (_, h) in &batches {
                self.producers.check(h)?;
            }
        }
        let log_append = self.config.log_append_time();
        let mut next = self.log_end_offset();
        let base_offset = next;
        let mut assigned = Vec::with_capacity(batches.len());
        for (start, h) in &batches {
            let b = &mut records[*start..*start + h.total_len()];
            batch::assign_offset(b, next, 0);
            if log_append {
                batch::set_log_append_time(b, now_ms);
            }
            let h2 = BatchHeader::parse(b)?;
            next = h2.last_offset() + 1;
            assigned.push((*start, h2));
        }
        self.maybe_roll(records.len() as u64, next - base_offset, now_ms)?;
        let seg = self.segments.last_mut().expect("active segment");
        seg.append(records, &assigned)?;
        if let Some(counter) = &self.unflushed {
            counter.fetch_add(records.len() as u64, std::sync::atomic::Ordering::Relaxed);
        }
        for (_, h) in &assigned {
            self.producers.record(h);
        }
        Ok(AppendInfo {
            base_offset,
            last_offset: next - 1,
            log_append_time: if log_append { now_ms } else { -1 },
            duplicate: false,
        })
    }

    /// Rolls before an append of `incoming` bytes covering `offsets` offsets when the active
    /// segment would grow past `segment.bytes`, is older than `segment.ms`, or its offsets
    /// would no longer fit the indexes' 32-bit relative offsets (Kafka's int32 rule).
    fn maybe_roll(&mut self, incoming: u64, offsets: i64, now_ms: i64) -> Result<()> {
        let active = self.active();
        if active.is_empty() {
            return Ok(());
        }
        let too_big = active.size() + incoming > self.config.segment_bytes();
        let too_old = now_ms - active.created_ms > self.config.segment_ms();
        let too_far = self.log_end_offset() + offsets - 1 - active.base_offset > i32::MAX as i64;
        if too_big || too_old || too_far {
            self.roll(now_ms)?;
        }
        Ok(())
    }

    /// Seals the active segment and starts a new one at the log end offset.
    pub fn roll(&mut self, now_ms: i64) -> Result<()> {
        let base = self.log_end_offset();
        let sealed = self.active();
        self.rolled_unsynced.extend(sealed.sync_handles());
        let seg = Segment::create(&self.dir, base, self.config.index_interval_bytes(), now_ms)?;
        self.segments.push(seg);
        Ok(())
    }

    /// Reads whole batches from the one containing `offset`, up to about `max_bytes`.
    pub fn read(&self, offset: i64, max_bytes: usize) -> Result<Bytes> {
        let end = self.log_end_offset();
        if offset < self.log_start_offset || offset > end {
            return Err(LogError::OffsetOutOfRange {
                offset,
                start: self.log_start_offset,
                end,
            });
        }
        if offset == end {
            return Ok(Bytes::new());
        }
        let mut i = self
            .segments
            .partition_point(|s| s.base_offset <= offset)
            .saturating_sub(1);
        while i < self.segments.len() {
            let seg = &self.segments[i];
            if let Some(pos) = seg.position_of(offset.max(seg.base_offset))? {
                return seg.read_from(pos, max_bytes);
            }
            i += 1;
        }
        Ok(Bytes::new())
    }

    /// The first offset whose record timestamp is >= `ts`, with that timestamp (ListOffsets).
    pub fn offset_for_timestamp(&self, ts: i64) -> Result<Option<(i64, i64)>> {
        for seg in &self.segments {
            if seg.max_timestamp < ts {
                continue;
            }
            let mut pos = seg.scan_start_for_timestamp(ts)?;
            loop {
                let chunk = seg.read_from(pos, 1 << 20)?;
                if chunk.is_empty() {
                    break;
                }
                let mut at = 0usize;
                while at < chunk.len() {
                    let h = BatchHeader::parse(&chunk[at..])?;
                    let len = h.total_len();
                    if h.max_timestamp >= ts && h.last_offset() >= self.log_start_offset {
                        if h.attributes & batch::ATTR_LOG_APPEND_TIME != 0 {
                            return Ok(Some((
                                h.base_offset.max(self.log_start_offset),
                                h.max_timestamp,
                            )));
                        }
                        let mut b = chunk.slice(at..at + len);
                        let set = RecordBatchDecoder::decode(&mut b)
                            .map_err(|_| LogError::CorruptBatch("undecodable batch"))?;
                        if let Some(r) = set
                            .records
                            .iter()
                            .find(|r| r.timestamp >= ts && r.offset >= self.log_start_offset)
                        {
                            return Ok(Some((r.offset, r.timestamp)));
                        }
                    }
                    at += len;
                }
                pos += chunk.len() as u64;
            }
        }
        Ok(None)
    }

    /// The first record carrying the largest timestamp in the log (ListOffsets MAX_TIMESTAMP).
    pub fn offset_of_max_timestamp(&self) -> Result<Option<(i64, i64)>> {
        let max_ts = self
            .segments
            .iter()
            .map(|s| s.max_timestamp)
            .max()
            .unwrap_or(-1);
        if max_ts < 0 {
            return Ok(None);
        }
        self.offset_for_timestamp(max_ts)
    }

    /// Moves the log start offset forward (DeleteRecords); whole segments below it go.
    pub fn delete_records_before(&mut self, offset: i64) -> Result<i64> {
        let end = self.log_end_offset();
        if offset > end || offset < 0 {
            return Err(LogError::OffsetOutOfRange {
                offset,
                start: self.log_start_offset,
                end,
            });
        }
        if offset > self.log_start_offset {
            self.log_start_offset = offset;
            self.drop_segments_below_start()?;
            self.write_checkpoint()?;
        }
        Ok(self.log_start_offset)
    }

    fn drop_segments_below_start(&mut self) -> Result<()> {
        while self.segments.len() > 1 && self.segments[1].base_offset <= self.log_start_offset {
            let s = self.segments.remove(0);
            s.delete()?;
        }
        if self.segments.len() == 1
            && self.active().next_offset <= self.log_start_offset
            && !self.active().is_empty()
        {
            // Everything is deleted: start a fresh segment at the new start.
            let now = self.active().created_ms;
            let s = self.segments.remove(0);
            s.delete()?;
            let seg = Segment::create(
                &self.dir,
                self.log_start_offset,
                self.config.index_interval_bytes(),
                now,
            )?;
            self.segments.push(seg);
        }
        Ok(())
    }

    /// Retention by time and size for `cleanup.policy=delete`; compaction for `compact`.
    /// Returns the number of segments deleted.
    pub fn enforce_retention(&mut self, now_ms: i64) -> Result<usize> {
        let policy = self.config.cleanup_policy();
        let mut deleted = 0;
        // A segment past segment.ms rolls even when no new data arrives, so it can expire.
        if !self.active().is_empty() && now_ms - self.active().created_ms > self.config.segment_ms()
        {
            self.roll(now_ms)?;
        }
        if policy.delete {
            let retention_ms = self.config.retention_ms();
            let retention_bytes = self.config.retention_bytes();
            loop {
                if self.segments.len() < 2 {
                    break;
                }
                let first = &self.segments[0];
                let expired = retention_ms >= 0 && first.max_timestamp < now_ms - retention_ms;
                let oversize = retention_bytes >= 0
                    && self.size_bytes() - first.size() >= retention_bytes as u64;
                if !(expired || oversize) {
                    break;
                }
                let s = self.segments.remove(0);
                self.log_start_offset = self.log_start_offset.max(self.segments[0].base_offset);
                s.delete()?;
                deleted += 1;
            }
            if deleted > 0 {
                self.write_checkpoint()?;
            }
        }
        if policy.compact {
            self.compact(now_ms)?;
        }
        Ok(deleted)
    }

    /// Compacts the sealed segments: keeps, per key, only the latest record; tombstones go once
    /// older than `delete.retention.ms`. Offsets are kept (compaction leaves gaps, as in Kafka).
    pub fn compact(&mut self, now_ms: i64) -> Result<bool> {
        let sealed = self.segments.len() - 1;
        if sealed == 0 {
            return Ok(false);
        }
        let dirty_end = self.segments[sealed].base_offset;
        if dirty_end <= self.cleaned_up_to {
            return Ok(false);
        }
        let lag = self.config.min_compaction_lag_ms();
        let mut decoded = Vec::with_capacity(sealed);
        let mut latest: std::collections::HashMap<Bytes, i64> = std::collections::HashMap::new();
        for seg in &self.segments[..sealed] {
            if lag > 0 && seg.max_timestamp > now_ms - lag {
                break;
            }
            let data = seg.read_all()?;
            let mut buf = data.clone();
            let sets = RecordBatchDecoder::decode_all(&mut buf)
                .map_err(|_| LogError::CorruptBatch("undecodable batch during compaction"))?;
            for set in &sets {
                for r in &set.records {
                    if let Some(k) = &r.key {
                        latest.insert(k.clone(), r.offset);
                    }
                }
            }
            decoded.push(sets);
        }
        let tombstone_horizon = now_ms - self.config.delete_retention_ms();
        let mut changed = false;
        for (i, sets) in decoded.into_iter().enumerate() {
            let keep_tombstones = self.segments[i].max_timestamp >= tombstone_horizon;
            let mut out = bytes::BytesMut::new();
            let mut removed = 0usize;
            for set in sets {
                if set.records.first().map(|r| r.control).unwrap_or(false) {
                    continue;
                }
                let mut kept: Vec<_> = set
                    .records
                    .iter()
                    .filter(|r| match &r.key {
                        Some(k) => {
                            latest.get(k) == Some(&r.offset)
                                && (r.value.is_some() || keep_tombstones)
                        }
                        None => true,
                    })
                    .cloned()
                    .collect();
                removed += set.records.len() - kept.len();
                if kept.is_empty() {
                    continue;
                }
                batch::encode_records(&mut out, &mut kept, set.compression)?;
            }
            if removed > 0 {
                self.segments[i].replace_content(&out)?;
                changed = true;
            }
        }
        self.cleaned_up_to = dirty_end;
        Ok(changed)
    }

    /// Takes what must be fsynced to make everything written so far durable.
    pub fn prepare_flush(&mut self) -> Option<FlushJob> {
        let end = self.log_end_offset();
        if end == self.recovery_point && self.rolled_unsynced.is_empty() {
            return None;
        }
        let mut files = std::mem::take(&mut self.rolled_unsynced);
        files.extend(self.active().sync_handles());
        Some(FlushJob {
            files,
            recovery_point: end,
            producers: self.producers.clone(),
        })
    }

    /// Records a finished flush: writes the checkpoint, or poisons the log if fsync failed
    /// (after a failed fsync the page cache state is unknown; Kafka and fjall stop writing too).
    /// Returns the checkpoint to write (outside the lock) that records the new recovery point.
    pub fn complete_flush(
        &mut self,
        job: FlushJob,
        result: std::io::Result<()>,
    ) -> Result<CheckpointWrite> {
        if let Err(e) = result {
            let reason = format!("fsync failed: {e}");
            tracing::error!(dir = %self.dir.display(), %reason, "poisoning partition");
            self.poisoned = Some(reason.clone());
            return Err(LogError::Poisoned(reason));
        }
        self.recovery_point = self.recovery_point.max(job.recovery_point);
        self.checkpoint(job.recovery_point, job.producers)
    }

    /// Serialises a checkpoint: a recovery point, the producer state as of it, and the
    /// current log start.
    fn checkpoint(
        &mut self,
        recovery_point: i64,
        producers: ProducerStateTable,
    ) -> Result<CheckpointWrite> {
        let cp = Checkpoint {
            version: PARTITION_FORMAT_VERSION,
            recovery_point,
            log_start_offset: self.log_start_offset,
            producers,
        };
        let body = serde_json::to_vec(&cp).map_err(|e| LogError::BadMetadata {
            path: self.dir.join(CHECKPOINT).display().to_string(),
            reason: e.to_string(),
        })?;
        self.checkpoint_seq += 1;
        Ok(CheckpointWrite {
            dir: self.dir.clone(),
            body,
            seq: self.checkpoint_seq,
            written: self.checkpoint_written.clone(),
        })
    }

    /// Writes a checkpoint now, under the lock (rare events: recovery, retention, deletes).
    /// The producer state may run ahead of the recovery point; replay skips what it holds.
    fn write_checkpoint(&mut self) -> Result<()> {
        self.checkpoint(self.recovery_point, self.producers.clone())?
            .commit()
    }

    /// Flushes synchronously (used on shutdown and in tests).
    pub fn flush(&mut self) -> Result<()> {
        if let Some(job) = self.prepare_flush() {
            let r = job.sync();
            self.complete_flush(job, r)?.commit()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::tests::make_batch;
    use kafka_protocol::records::Compression;
    use std::io::Write;

    fn cfg(pairs: &[(&str, &str)]) -> TopicConfig {
        TopicConfig::from_overrides(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .unwrap()
    }

    fn decode_offsets(data: &Bytes) -> Vec<(i64, Option<Bytes>, Option<Bytes>)> {
        let mut b = data.clone();
        RecordBatchDecoder::decode_all(&mut b)
            .unwrap()
            .into_iter()
            .flat_map(|s| s.records)
            .map(|r| (r.offset, r.key, r.value))
            .collect()
    }

    #[test]
    fn append_read_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(&[("segment.bytes", "1000"), ("index.interval.bytes", "100")]);
        {
            let mut log = PartitionLog::open(dir.path(), c.clone(), 0).unwrap();
            for i in 0..50 {
                let mut b = make_batch(2, i * 10, Some("k"), None, Compression::None);
                let info = log.append(&mut b, 0).unwrap();
                assert_eq!(info.base_offset, i * 2);
            }
            assert!(log.segment_count() > 2, "segments roll at segment.bytes");
            log.flush().unwrap();
        }
        let log = PartitionLog::open(dir.path(), c, 0).unwrap();
        assert_eq!(log.log_end_offset(), 100);
        for off in [0, 1, 37, 99] {
            let data = log.read(off, 10).unwrap();
            let recs = decode_offsets(&data);
            assert!(recs.iter().any(|r| r.0 == off), "offset {off} readable");
        }
        assert!(log.read(100, 1000).unwrap().is_empty());
        assert!(matches!(
            log.read(101, 10),
            Err(LogError::OffsetOutOfRange { .. })
        ));
        // Timestamp lookup: batch i has records at i*10 and i*10+1.
        assert_eq!(log.offset_for_timestamp(35).unwrap(), Some((8, 40)));
        assert_eq!(log.offset_for_timestamp(41).unwrap(), Some((9, 41)));
        assert_eq!(log.offset_for_timestamp(10_000).unwrap(), None);
    }

    #[test]
    fn torn_tail_is_cut_and_unflushed_data_survives_without_flush() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut log = PartitionLog::open(dir.path(), TopicConfig::default(), 0).unwrap();
            for _ in 0..10 {
                let mut b = make_batch(3, 5, None, None, Compression::Zstd);
                log.append(&mut b, 0).unwrap();
            }
            // No flush: like a kill -9, the OS still has the bytes.
        }
        // A torn write: half a batch at the end.
        let seg = dir
            .path()
            .join(format!("{}.log", crate::segment::file_stem(0)));
        let half = make_batch(3, 5, None, None, Compression::None);
        fs::OpenOptions::new()
            .append(true)
            .open(&seg)
            .unwrap()
            .write_all(&half[..half.len() / 2])
            .unwrap();
        let mut log = PartitionLog::open(dir.path(), TopicConfig::default(), 0).unwrap();
        assert_eq!(log.log_end_offset(), 30);
        assert!(log.recovery.truncated_bytes > 0);
        let mut b = make_batch(1, 5, None, None, Compression::None);
        assert_eq!(log.append(&mut b, 0).unwrap().base_offset, 30);
    }

    #[test]
    fn corrupt_byte_after_recovery_point_truncates_there() {
        let dir = tempfile::tempdir().unwrap();
        let len;
        {
            let mut log = PartitionLog::open(dir.path(), TopicConfig::default(), 0).unwrap();
            let mut b = make_batch(2, 5, None, None, Compression::None);
            len = b.len();
            log.append(&mut b, 0).unwrap();
            log.flush().unwrap();
            for _ in 0..3 {
                let mut b = make_batch(2, 5, None, None, Compression::None);
                log.append(&mut b, 0).unwrap();
            }
        }
        let seg = dir
            .path()
            .join(format!("{}.log", crate::segment::file_stem(0)));
        let mut bytes = fs::read(&seg).unwrap();
        let at = len * 2 + 70; // inside the third batch
        bytes[at] ^= 0x55;
        fs::write(&seg, &bytes).unwrap();
        let log = PartitionLog::open(dir.path(), TopicConfig::default(), 0).unwrap();
        assert_eq!(
            log.log_end_offset(),
            4,
            "batches after the corrupt one are dropped"
        );
    }

    #[test]
    fn idempotent_retry_is_not_written_twice_even_after_restart() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut log = PartitionLog::open(dir.path(), TopicConfig::default(), 0).unwrap();
            let mut b = make_batch(4, 5, None, Some((42, 0, 0)), Compression::None);
            assert!(!log.append(&mut b, 0).unwrap().duplicate);
        }
        let mut log = PartitionLog::open(dir.path(), TopicConfig::default(), 0).unwrap();
        let mut again = make_batch(4, 5, None, Some((42, 0, 0)), Compression::None);
        let info = log.append(&mut again, 0).unwrap();
        assert!(info.duplicate);
        assert_eq!((info.base_offset, info.last_offset), (0, 3));
        assert_eq!(log.log_end_offset(), 4);
        let mut gap = make_batch(1, 5, None, Some((42, 0, 9)), Compression::None);
        assert!(matches!(
            log.append(&mut gap, 0),
            Err(LogError::OutOfOrderSequence { expected: 4, .. })
        ));
    }

    #[test]
    fn retention_by_size_and_time_and_delete_records() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(&[("segment.bytes", "500"), ("retention.bytes", "1000")]);
        let mut log = PartitionLog::open(dir.path(), c, 0).unwrap();
        for _ in 0..40 {
            let mut b = make_batch(1, 1_000, None, None, Compression::None);
            log.append(&mut b, 1_000).unwrap();
        }
        let deleted = log.enforce_retention(2_000).unwrap();
        assert!(deleted > 0);
        assert!(log.size_bytes() <= 1500);
        assert!(log.log_start_offset() > 0);
        assert!(matches!(
            log.read(0, 100),
            Err(LogError::OffsetOutOfRange { .. })
        ));
        let start = log.log_start_offset();
        assert_eq!(log.delete_records_before(start + 3).unwrap(), start + 3);
        log.set_config(cfg(&[("segment.bytes", "500"), ("retention.ms", "10")]));
        log.enforce_retention(100_000).unwrap();
        assert_eq!(log.segment_count(), 1);
        assert_eq!(log.log_end_offset(), 40);
    }

    #[test]
    fn compaction_keeps_latest_per_key() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(&[("cleanup.policy", "compact"), ("segment.bytes", "300")]);
        let mut log = PartitionLog::open(dir.path(), c, 0).unwrap();
        for i in 0..30 {
            let key = format!("k{}", i % 3);
            let mut b = make_batch(1, i, Some(&key), None, Compression::Gzip);
            log.append(&mut b, 0).unwrap();
        }
        let before = log.size_bytes();
        log.enforce_retention(0).unwrap();
        assert!(log.size_bytes() < before);
        let mut all = Vec::new();
        let mut off = log.log_start_offset();
        while off < log.log_end_offset() {
            let data = log.read(off, 1 << 20).unwrap();
            if data.is_empty() {
                break;
            }
            let recs = decode_offsets(&data);
            off = recs.last().unwrap().0 + 1;
            all.extend(recs);
        }
        // Every key's latest record is kept; superseded ones in sealed segments are gone.
        for k in ["k0", "k1", "k2"] {
            let last = all
                .iter()
                .rfind(|r| r.1.as_deref() == Some(k.as_bytes()))
                .unwrap();
            assert!(last.0 >= 27, "latest {k} kept");
        }
        assert!(all.len() < 30);
        // Offsets are preserved and increasing.
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
