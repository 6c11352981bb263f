//! One segment of a partition: a `.log` file of record batches (Kafka's v2 batch format, byte
//! for byte) plus a sparse offset index (`.index`: relative offset u32, file position u32) and a
//! time index (`.timeindex`: largest timestamp before the entry i64, relative offset u32), all
//! big-endian. Owns the files; knows nothing of other segments or of producers.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use crate::batch::{self, BatchHeader, HEADER_LEN};
use crate::error::Result;

const INDEX_ENTRY: usize = 8;
const TIME_ENTRY: usize = 12;

/// An offset index entry: batch base offset relative to the segment, and its file position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    pub relative_offset: u32,
    pub position: u32,
}

/// A time index entry: every record before `relative_offset` has a timestamp `< next_ts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeEntry {
    pub max_timestamp_before: i64,
    pub relative_offset: u32,
}

pub fn file_stem(base_offset: i64) -> String {
    format!("{base_offset:020}")
}

/// What a scan of a segment's bytes found.
pub struct ScanOutcome {
    /// Headers of the batches read, in order, with their positions.
    pub batches: Vec<(u64, BatchHeader)>,
    /// Bytes cut from the end because they were a torn or corrupt write.
    pub truncated_bytes: u64,
}

pub struct Segment {
    pub base_offset: i64,
    dir: PathBuf,
    log: Arc<File>,
    index_file: Arc<File>,
    time_file: Arc<File>,
    size: u64,
    index: Vec<IndexEntry>,
    time_index: Vec<TimeEntry>,
    /// Offset after the last record in this segment (`base_offset` when empty).
    pub next_offset: i64,
    /// Largest record timestamp in the segment, -1 when empty.
    pub max_timestamp: i64,
    /// When the segment was created (wall clock, ms), for `segment.ms` rolling.
    pub created_ms: i64,
    bytes_since_index: u64,
    index_interval: u64,
}

fn open_rw(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .truncate(false)
        .open(path)
}

impl Segment {
    fn paths(dir: &Path, base: i64) -> (PathBuf, PathBuf, PathBuf) {
        let stem = file_stem(base);
        (
            dir.join(format!("{stem}.log")),
            dir.join(format!("{stem}.index")),
            dir.join(format!("{stem}.timeindex")),
        )
    }

    /// Creates a new, empty segment.
    pub fn create(dir: &Path, base_offset: i64, index_interval: u64, now_ms: i64) -> Result<Self> {
        let (log, idx, tim) = Self::paths(dir, base_offset);
        for p in [&log, &idx, &tim] {
            File::create(p)?;
        }
        Ok(Segment {
            base_offset,
            dir: dir.to_path_buf(),
            log: Arc::new(open_rw(&log)?),
            index_file: Arc::new(open_rw(&idx)?),
            time_file: Arc::new(open_rw(&tim)?),
            size: 0,
            index: Vec::new(),
            time_index: Vec::new(),
            next_offset: base_offset,
            max_timestamp: -1,
            created_ms: now_ms,
            bytes_since_index: 0,
            index_interval,
        })
    }

    /// Opens an existing segment. Index entries at or below `trusted_offset` are kept (those
    /// bytes were fsynced); everything after the last trusted entry is re-read, and with
    /// `validate` each batch's CRC is checked and the file is cut at the first bad batch.
    pub fn open(
        dir: &Path,
        base_offset: i64,
        index_interval: u64,
        trusted_offset: i64,
        validate: bool,
        now_ms: i64,
    ) -> Result<(Self, ScanOutcome)> {
        let (log_p, idx_p, tim_p) = Self::paths(dir, base_offset);
        let log = open_rw(&log_p)?;
        let size = log.metadata()?.len();
        let created_ms = log
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as i64)
            .unwrap_or(now_ms);
        let index = read_index(&idx_p)?;
        let time_index = read_time_index(&tim_p)?;
        let mut seg = Segment {
            base_offset,
            dir: dir.to_path_buf(),
            log: Arc::new(log),
            index_file: Arc::new(open_rw(&idx_p)?),
            time_file: Arc::new(open_rw(&tim_p)?),
            size,
            index,
            time_index,
            next_offset: base_offset,
            max_timestamp: -1,
            created_ms,
            bytes_since_index: 0,
            index_interval,
        };
        // Keep index entries that point inside the file and are covered by the trusted offset.
        let trusted_rel = (trusted_offset - base_offset).clamp(-1, u32::MAX as i64);
        seg.index
            .retain(|e| (e.position as u64) < size && (e.relative_offset as i64) <= trusted_rel);
        // The kept entry must really point at a batch with that base offset.
        while let Some(last) = seg.index.last().copied() {
            match seg.header_at(last.position as u64) {
                Ok(h) if h.base_offset == base_offset + last.relative_offset as i64 => break,
                _ => {
                    seg.index.pop();
                }
            }
        }
        let kept_rel = seg.index.last().map(|e| e.relative_offset).unwrap_or(0);
        let has_index = !seg.index.is_empty();
        seg.time_index
            .retain(|e| has_index && e.relative_offset <= kept_rel);
        if let Some(t) = seg.time_index.last() {
            seg.max_timestamp = t.max_timestamp_before;
        }
        let start = seg.index.last().map(|e| e.position as u64).unwrap_or(0);
        // Entries at `start` get re-added by the scan.
        seg.index.pop();
        seg.bytes_since_index = seg.index_interval;
        if seg.time_index.last().map(|t| t.relative_offset) == Some(kept_rel) {
            seg.time_index.pop();
        }
        let outcome = seg.scan_from(start, validate)?;
        seg.rewrite_index_files()?;
        Ok((seg, outcome))
    }

    /// Reads the batch header at `pos`.
    fn header_at(&self, pos: u64) -> Result<BatchHeader> {
        let mut buf = [0u8; HEADER_LEN];
        self.log.read_exact_at(&mut buf, pos)?;
        BatchHeader::parse(&buf)
    }

    /// Walks batches from `start` to the end of the file, rebuilding in-memory indexes and the
    /// segment's next offset / max timestamp; cuts a torn or corrupt tail.
    fn scan_from(&mut self, start: u64, validate: bool) -> Result<ScanOutcome> {
        let mut pos = start;
        let mut batches = Vec::new();
        let mut buf = Vec::new();
        let valid_end = loop {
            if pos + HEADER_LEN as u64 > self.size {
                break pos;
            }
            let h = match self.header_at(pos) {
                Ok(h) => h,
                Err(_) => break pos,
            };
            let len = h.total_len() as u64;
            if pos + len > self.size || h.base_offset < self.next_offset.max(self.base_offset) {
                break pos;
            }
            if validate {
                buf.resize(len as usize, 0);
                self.log.read_exact_at(&mut buf, pos)?;
                if batch::validate(&buf).is_err() {
                    break pos;
                }
            }
            self.note_batch(pos, &h);
            batches.push((pos, h));
            pos += len;
        };
        let truncated_bytes = self.size - valid_end;
        if truncated_bytes > 0 {
            tracing::warn!(
                segment = %self.dir.join(file_stem(self.base_offset)).display(),
                position = valid_end,
                bytes = truncated_bytes,
                "truncating a torn or corrupt tail"
            );
            self.log.set_len(valid_end)?;
            self.size = valid_end;
        }
        Ok(ScanOutcome {
            batches,
            truncated_bytes,
        })
    }

    /// Updates in-memory indexes for a batch at `pos`; returns whether an index entry was added.
    fn note_batch(&mut self, pos: u64, h: &BatchHeader) -> bool {
        let mut added = false;
        if self.index.is_empty() || self.bytes_since_index >= self.index_interval {
            let rel = (h.base_offset - self.base_offset) as u32;
            self.index.push(IndexEntry {
                relative_offset: rel,
                position: pos as u32,
            });
            self.time_index.push(TimeEntry {
                max_timestamp_before: self.max_timestamp,
                relative_offset: rel,
            });
            self.bytes_since_index = 0;
            added = true;
        }
        self.bytes_since_index += h.total_len() as u64;
        self.max_timestamp = self.max_timestamp.max(h.max_timestamp);
        self.next_offset = h.last_offset() + 1;
        added
    }

    fn rewrite_index_files(&mut self) -> Result<()> {
        let (_, idx_p, tim_p) = Self::paths(&self.dir, self.base_offset);
        let mut b = Vec::with_capacity(self.index.len() * INDEX_ENTRY);
        for e in &self.index {
            b.extend_from_slice(&e.relative_offset.to_be_bytes());
            b.extend_from_slice(&e.position.to_be_bytes());
        }
        fs::write(&idx_p, &b)?;
        let mut t = Vec::with_capacity(self.time_index.len() * TIME_ENTRY);
        for e in &self.time_index {
            t.extend_from_slice(&e.max_timestamp_before.to_be_bytes());
            t.extend_from_slice(&e.relative_offset.to_be_bytes());
        }
        fs::write(&tim_p, &t)?;
        self.index_file = Arc::new(open_rw(&idx_p)?);
        self.time_file = Arc::new(open_rw(&tim_p)?);
        Ok(())
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// A handle for fsync outside the partition's lock.
    /// The segment's files (log, offset index, time index), to fsync without the partition's
    /// lock.
    pub fn sync_handles(&self) -> [Arc<File>; 3] {
        [
            self.log.clone(),
            self.index_file.clone(),
            self.time_file.clone(),
        ]
    }

    /// Appends batches whose offsets are already assigned. `batches` are the (start, header)
    /// pairs of `data`.
    pub fn append(&mut self, data: &[u8], batches: &[(usize, BatchHeader)]) -> Result<()> {
        let base_pos = self.size;
        (&*self.log).write_all(data)?;
        self.size += data.len() as u64;
        for (start, h) in batches {
            if self.note_batch(base_pos + *start as u64, h) {
                let e = *self.index.last().expect("just pushed");
                let t = *self.time_index.last().expect("just pushed");
                let mut ib = [0u8; INDEX_ENTRY];
                ib[..4].copy_from_slice(&e.relative_offset.to_be_bytes());
                ib[4..].copy_from_slice(&e.position.to_be_bytes());
                (&*self.index_file).write_all(&ib)?;
                let mut tb = [0u8; TIME_ENTRY];
                tb[..8].copy_from_slice(&t.max_timestamp_before.to_be_bytes());
                tb[8..].copy_from_slice(&t.relative_offset.to_be_bytes());
                (&*self.time_file).write_all(&tb)?;
            }
        }
        Ok(())
    }

    /// File position of the batch containing `offset` (or the first batch after it).
    /// None when the offset is past the end of this segment.
    pub fn position_of(&self, offset: i64) -> Result<Option<u64>> {
        if offset >= self.next_offset {
            return Ok(None);
        }
        let rel = (offset - self.base_offset).max(0);
        let i = self
            .index
            .partition_point(|e| (e.relative_offset as i64) <= rel);
        let mut pos = if i == 0 {
            0
        } else {
            self.index[i - 1].position as u64
        };
        while pos < self.size {
            let h = self.header_at(pos)?;
            if h.last_offset() >= offset {
                return Ok(Some(pos));
            }
            pos += h.total_len() as u64;
        }
        Ok(None)
    }

    /// Reads whole batches starting at `pos`, up to about `max_bytes` (always at least one
    /// whole batch, as KIP-74 requires).
    pub fn read_from(&self, pos: u64, max_bytes: usize) -> Result<Bytes> {
        if pos >= self.size {
            return Ok(Bytes::new());
        }
        let want = (max_bytes as u64)
            .min(self.size - pos)
            .max(HEADER_LEN as u64) as usize;
        let want = want.min((self.size - pos) as usize);
        let mut buf = BytesMut::zeroed(want);
        self.log.read_exact_at(&mut buf, pos)?;
        // Keep whole batches only.
        let mut end = 0usize;
        while end + HEADER_LEN <= buf.len() {
            let h = BatchHeader::parse(&buf[end..])?;
            if end + h.total_len() > buf.len() {
                if end == 0 {
                    // The first batch is larger than max_bytes: return it whole.
                    let mut whole = BytesMut::zeroed(h.total_len());
                    self.log.read_exact_at(&mut whole, pos)?;
                    return Ok(whole.freeze());
                }
                break;
            }
            end += h.total_len();
        }
        buf.truncate(end);
        Ok(buf.freeze())
    }

    /// Iterates over every batch in the segment (raw bytes), for compaction and scans.
    pub fn read_all(&self) -> Result<Bytes> {
        let mut buf = BytesMut::zeroed(self.size as usize);
        self.log.read_exact_at(&mut buf, 0)?;
        Ok(buf.freeze())
    }

    /// Position from which to scan for the first record with timestamp >= `ts`.
    pub fn scan_start_for_timestamp(&self, ts: i64) -> Result<u64> {
        let i = self
            .time_index
            .partition_point(|e| e.max_timestamp_before < ts);
        if i == 0 {
            return Ok(0);
        }
        let rel = self.time_index[i - 1].relative_offset as i64;
        Ok(self.position_of(self.base_offset + rel)?.unwrap_or(0))
    }

    /// Deletes the segment's files.
    pub fn delete(self) -> Result<()> {
        let (log, idx, tim) = Self::paths(&self.dir, self.base_offset);
        for p in [log, idx, tim] {
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Replaces this segment's content with `data` (already offset-assigned batches), as the
    /// compactor does: written to a temporary file, fsynced, then renamed over the old one.
    pub fn replace_content(&mut self, data: &[u8]) -> Result<()> {
        let (log_p, _, _) = Self::paths(&self.dir, self.base_offset);
        let tmp = log_p.with_extension("log.cleaned");
        {
            let mut f = File::create(&tmp)?;
            f.write_all(data)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &log_p)?;
        self.log = Arc::new(open_rw(&log_p)?);
        self.size = data.len() as u64;
        self.index.clear();
        self.time_index.clear();
        self.bytes_since_index = 0;
        let next = self.next_offset;
        let max_ts = self.max_timestamp;
        self.next_offset = self.base_offset;
        self.max_timestamp = -1;
        self.scan_from(0, false)?;
        // A compacted segment keeps its offset range and time bound even if its last records went.
        self.next_offset = next;
        self.max_timestamp = self.max_timestamp.max(max_ts);
        self.rewrite_index_files()
    }
}

fn read_index(path: &Path) -> Result<Vec<IndexEntry>> {
    let b = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out: Vec<IndexEntry> = Vec::with_capacity(b.len() / INDEX_ENTRY);
    for c in b.chunks_exact(INDEX_ENTRY) {
        let e = IndexEntry {
            relative_offset: u32::from_be_bytes(c[..4].try_into().expect("4")),
            position: u32::from_be_bytes(c[4..].try_into().expect("4")),
        };
        // Entries must grow; a garbage tail ends the index.
        if let Some(p) = out.last() {
            if e.relative_offset <= p.relative_offset || e.position <= p.position {
                break;
            }
        }
        out.push(e);
    }
    Ok(out)
}

fn read_time_index(path: &Path) -> Result<Vec<TimeEntry>> {
    let b = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out: Vec<TimeEntry> = Vec::with_capacity(b.len() / TIME_ENTRY);
    for c in b.chunks_exact(TIME_ENTRY) {
        let e = TimeEntry {
            max_timestamp_before: i64::from_be_bytes(c[..8].try_into().expect("8")),
            relative_offset: u32::from_be_bytes(c[8..].try_into().expect("4")),
        };
        if let Some(p) = out.last() {
            if e.relative_offset <= p.relative_offset {
                break;
            }
        }
        out.push(e);
    }
    Ok(out)
}
