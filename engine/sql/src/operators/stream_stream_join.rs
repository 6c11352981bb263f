//! The windowed stream-stream join (INNER, LEFT, RIGHT, FULL OUTER), as Kafka Streams runs
//! it for ksqlDB. Each side keeps a buffer of its records by join key; a record first goes
//! into its own side's buffer (unless older than the buffer's retention, before + after +
//! grace behind that side's newest record), then meets the other side's records within
//! `[ts - before, ts + after]` (mirrored for the right side), oldest first, each match
//! stamped with the larger timestamp.
//!
//! A record that meets nothing on an outer side: without GRACE PERIOD (ksqlDB's default
//! before 0.23 semantics, records kept 24 hours) it is emitted at once padded with NULLs;
//! with GRACE PERIOD it waits until its window closes (its timestamp + the window +
//! grace behind the stream time of both sides) and is emitted then unless a match came
//! meanwhile; a record whose window already closed when it arrives is emitted at once.
//!
//! The buffers and the waiting records are the operator's state: every insertion, expiry
//! (a record older than the retention behind its side's newest record leaves its buffer, so
//! the state stays bounded) and emission is tracked and handed out as changelog changes by
//! [`StreamStreamJoin::take_changes`]; [`StreamStreamJoin::restore`] puts them back. No I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Value as Json};

use crate::ast::JoinKind;
use crate::operators::join_row::{key_text, merge, JoinRow, Side};
use crate::operators::state::{join_row_from_json, join_row_to_json, StateKey};
use crate::value::Value;

/// Kafka Streams' retention of join buffers without a grace period (24 hours).
const LEGACY_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Default)]
struct Buffer {
    /// The newest timestamp this side has seen.
    observed: Option<i64>,
    rows: HashMap<String, Vec<(i64, u64, JoinRow)>>,
    /// Every buffered record as (timestamp, sequence number, key): expiry takes the oldest.
    by_time: BTreeSet<(i64, u64, String)>,
}

impl Buffer {
    fn insert(&mut self, k: String, ts: i64, seq: u64, row: JoinRow) {
        let list = self.rows.entry(k.clone()).or_default();
        let at = list.partition_point(|(t, s, _)| (*t, *s) <= (ts, seq));
        list.insert(at, (ts, seq, row));
        self.by_time.insert((ts, seq, k));
    }

    fn remove(&mut self, k: &str, ts: i64, seq: u64) {
        if let Some(list) = self.rows.get_mut(k) {
            list.retain(|(t, s, _)| (*t, *s) != (ts, seq));
            if list.is_empty() {
                self.rows.remove(k);
            }
        }
        self.by_time.remove(&(ts, seq, k.to_string()));
    }

    fn get(&self, k: &str, ts: i64, seq: u64) -> Option<&JoinRow> {
        self.rows
            .get(k)?
            .iter()
            .find(|(t, s, _)| (*t, *s) == (ts, seq))
            .map(|(_, _, r)| r)
    }
}

pub struct StreamStreamJoin {
    kind: JoinKind,
    before: i64,
    after: i64,
    grace: Option<i64>,
    retention: i64,
    buffers: [Buffer; 2],
    stream_time: i64,
    /// Non-matched outer records waiting for their window to close, by (timestamp, side,
    /// key): only with a grace period.
    pending: BTreeMap<(i64, u8, String), Vec<JoinRow>>,
    seq: u64,
    /// Buffer entries (side, key, timestamp, seq) changed since the last take.
    dirty_window: BTreeSet<(u8, String, i64, u64)>,
    /// Waiting entries (timestamp, side, key) changed since the last take.
    dirty_pending: BTreeSet<(i64, u8, String)>,
}

impl StreamStreamJoin {
    pub fn new(kind: JoinKind, before: i64, after: i64, grace: Option<i64>) -> Self {
        let retention = match grace {
            Some(g) => before + after + g,
            None => (before + after).max(LEGACY_RETENTION_MS),
        };
        StreamStreamJoin {
            kind,
            before,
            after,
            grace,
            retention,
            buffers: Default::default(),
            stream_time: i64::MIN,
            pending: BTreeMap::new(),
            seq: 0,
            dirty_window: BTreeSet::new(),
            dirty_pending: BTreeSet::new(),
        }
    }

    fn outer(&self, side: Side) -> bool {
        match side {
            Side::Left => matches!(self.kind, JoinKind::Left | JoinKind::Full),
            Side::Right => matches!(self.kind, JoinKind::Right | JoinKind::Full),
        }
    }

    pub fn kind(&self) -> JoinKind {
        self.kind
    }

    /// Whether non-matched outer records wait for their window to close (a grace period).
    pub fn waits(&self) -> bool {
        self.grace.is_some() && self.kind != JoinKind::Inner
    }

    /// Records held (both buffers), for tests.
    pub fn buffered(&self) -> usize {
        self.buffers
            .iter()
            .map(|b| b.rows.values().map(Vec::len).sum::<usize>())
            .sum()
    }

    /// Feeds one record of `side` with its join key; returns the joined rows.
    pub fn process(&mut self, side: Side, key: &Value, row: JoinRow) -> Vec<JoinRow> {
        if key.is_null() {
            return vec![];
        }
        let ts = row.meta.rowtime;
        let k = key_text(key);
        let retention = self.retention;
        // Into this side's buffer; what fell out of its retention leaves it.
        {
            let s = side.index() as u8;
            let buf = &mut self.buffers[side.index()];
            let observed = buf.observed.map_or(ts, |o| o.max(ts));
            buf.observed = Some(observed);
            let min_live = observed.saturating_sub(retention);
            if ts > min_live {
                let seq = self.seq;
                self.seq += 1;
                buf.insert(k.clone(), ts, seq, row.clone());
                self.dirty_window.insert((s, k.clone(), ts, seq));
            }
            while let Some((t, seq, key)) = buf.by_time.first().cloned() {
                if t > min_live {
                    break;
                }
                buf.remove(&key, t, seq);
                self.dirty_window.insert((s, key, t, seq));
            }
        }
        let (look_before, look_after) = match side {
            Side::Left => (self.before, self.after),
            Side::Right => (self.after, self.before),
        };
        let from = ts.saturating_sub(look_before).max(0);
        let to = ts.saturating_add(look_after).max(0);
        self.stream_time = self.stream_time.max(ts);
        let mut out = Vec::new();
        if self.grace.is_some() && ts == self.stream_time {
            out.extend(self.emit_closed());
        }
        let other = &self.buffers[side.other().index()];
        let min_live = other
            .observed
            .map_or(i64::MIN, |o| o.saturating_sub(retention) + 1);
        let matches: Vec<(i64, JoinRow)> = other
            .rows
            .get(&k)
            .map(|list| {
                list.iter()
                    .filter(|(t, _, _)| *t >= from.max(min_live) && *t <= to)
                    .map(|(t, _, r)| (*t, r.clone()))
                    .collect()
            })
            .unwrap_or_default();
        for (t, other_row) in &matches {
            if self.grace.is_some() {
                let waiting = (*t, side.other().index() as u8, k.clone());
                if self.pending.remove(&waiting).is_some() {
                    self.dirty_pending.insert(waiting);
                }
            }
            let mut joined = merge(&row, other_row);
            joined.values[0] = key.clone();
            joined.meta.rowtime = ts.max(*t);
            out.push(joined);
        }
        if matches.is_empty() && self.outer(side) {
            if self.grace.is_none() || to < self.stream_time {
                let mut padded = row;
                padded.values[0] = key.clone();
                out.push(padded);
            } else {
                let mut padded = row;
                padded.values[0] = key.clone();
                let waiting = (ts, side.index() as u8, k);
                self.pending
                    .entry(waiting.clone())
                    .or_default()
                    .push(padded);
                self.dirty_pending.insert(waiting);
            }
        }
        out
    }

    /// Non-matched outer records whose window closed, oldest first.
    fn emit_closed(&mut self) -> Vec<JoinRow> {
        let grace = self.grace.unwrap_or(0);
        let mut out = Vec::new();
        while let Some(((ts, side, _), _)) = self.pending.first_key_value() {
            let look = if *side == Side::Left.index() as u8 {
                self.after
            } else {
                self.before
            };
            if ts.saturating_add(look).saturating_add(grace) >= self.stream_time {
                break;
            }
            if let Some((waiting, rows)) = self.pending.pop_first() {
                out.extend(rows);
                self.dirty_pending.insert(waiting);
            }
        }
        out
    }

    /// The state changed since the last call, as changelog keys (join step `step`) and
    /// values (None: removed).
    pub fn take_changes(&mut self, step: usize) -> Vec<(StateKey, Option<Json>)> {
        let mut out = Vec::new();
        for (side, k, ts, seq) in std::mem::take(&mut self.dirty_window) {
            let v = self.buffers[usize::from(side)]
                .get(&k, ts, seq)
                .map(join_row_to_json);
            out.push((StateKey::JoinWindow(step, side, k, ts, seq), v));
        }
        for (ts, side, k) in std::mem::take(&mut self.dirty_pending) {
            let v = self
                .pending
                .get(&(ts, side, k.clone()))
                .map(|rows| Json::Array(rows.iter().map(join_row_to_json).collect()));
            out.push((StateKey::JoinPending(step, side, k, ts), v));
        }
        out
    }

    /// Counts the whole state as changed.
    pub fn mark_all_dirty(&mut self) {
        for (s, buf) in self.buffers.iter().enumerate() {
            for (ts, seq, k) in &buf.by_time {
                self.dirty_window.insert((s as u8, k.clone(), *ts, *seq));
            }
        }
        self.dirty_pending.extend(self.pending.keys().cloned());
    }

    /// Counts the state under `key` as changed.
    pub fn mark_dirty(&mut self, key: &StateKey) {
        match key {
            StateKey::JoinWindow(_, side, k, ts, seq) if *side < 2 => {
                self.dirty_window.insert((*side, k.clone(), *ts, *seq));
            }
            StateKey::JoinPending(_, side, k, ts) => {
                self.dirty_pending.insert((*ts, *side, k.clone()));
            }
            _ => {}
        }
    }

    /// Puts one changelog record back; false when it is not this operator's or does not
    /// decode.
    pub fn restore(&mut self, key: &StateKey, value: Option<&Json>) -> bool {
        match key {
            StateKey::JoinWindow(_, side, k, ts, seq) if *side < 2 => {
                let buf = &mut self.buffers[usize::from(*side)];
                buf.remove(k, *ts, *seq);
                if let Some(v) = value {
                    let Some(row) = join_row_from_json(v) else {
                        return false;
                    };
                    buf.insert(k.clone(), *ts, *seq, row);
                }
                true
            }
            StateKey::JoinPending(_, side, k, ts) if *side < 2 => {
                let waiting = (*ts, *side, k.clone());
                match value {
                    None => {
                        self.pending.remove(&waiting);
                        true
                    }
                    Some(v) => {
                        let rows: Option<Vec<JoinRow>> = v
                            .as_array()
                            .map(|a| a.iter().map(join_row_from_json).collect())
                            .unwrap_or(None);
                        let Some(rows) = rows else { return false };
                        self.pending.insert(waiting, rows);
                        true
                    }
                }
            }
            _ => false,
        }
    }

    /// The clocks that are not in the buffers: each side's newest timestamp, the stream time
    /// and the next sequence number.
    pub fn counters(&self) -> Json {
        json!({
            "observed": [self.buffers[0].observed, self.buffers[1].observed],
            "stream_time": self.stream_time,
            "seq": self.seq,
        })
    }

    pub fn restore_counters(&mut self, j: &Json) {
        for (s, buf) in self.buffers.iter_mut().enumerate() {
            if let Some(o) = j["observed"].get(s) {
                buf.observed = o.as_i64();
            }
        }
        if let Some(t) = j["stream_time"].as_i64() {
            self.stream_time = t;
        }
        if let Some(n) = j["seq"].as_u64() {
            self.seq = n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::RowMeta;

    /// A joined row of width 3: key, left value, right value.
    fn row(side: Side, ts: i64, v: i32) -> JoinRow {
        let mut values = vec![Value::Null; 3];
        values[1 + side.index()] = Value::Int(v);
        JoinRow {
            values,
            meta: RowMeta {
                rowtime: ts,
                partition: 0,
                offset: 0,
                window: None,
            },
            tombstone: false,
        }
    }

    fn seen(rows: Vec<JoinRow>) -> Vec<(Value, Value, i64)> {
        rows.into_iter()
            .map(|r| (r.values[1].clone(), r.values[2].clone(), r.meta.rowtime))
            .collect()
    }

    const K: Value = Value::Int(1);

    #[test]
    fn inner_join_matches_within_the_window_only() {
        let mut j = StreamStreamJoin::new(JoinKind::Inner, 10_000, 10_000, None);
        assert!(j.process(Side::Left, &K, row(Side::Left, 0, 1)).is_empty());
        // 10 s later: still inside; stamped with the later time.
        assert_eq!(
            seen(j.process(Side::Right, &K, row(Side::Right, 10_000, 2))),
            vec![(Value::Int(1), Value::Int(2), 10_000)]
        );
        // 10.001 s after the left record: outside its window, meets only nothing.
        assert!(j
            .process(Side::Right, &Value::Int(1), row(Side::Right, 10_001, 3))
            .is_empty());
        // Another key never matches.
        assert!(j
            .process(Side::Left, &Value::Int(2), row(Side::Left, 5, 4))
            .is_empty());
        // A NULL key joins nothing and is not kept.
        assert!(j
            .process(Side::Left, &Value::Null, row(Side::Left, 5, 5))
            .is_empty());
        assert_eq!(j.buffered(), 4);
    }

    #[test]
    fn left_join_without_grace_pads_at_once() {
        let mut j = StreamStreamJoin::new(JoinKind::Left, 11_000, 11_000, None);
        assert_eq!(
            seen(j.process(Side::Left, &K, row(Side::Left, 0, 1))),
            vec![(Value::Int(1), Value::Null, 0)]
        );
        assert_eq!(
            seen(j.process(Side::Right, &K, row(Side::Right, 10_000, 2))),
            vec![(Value::Int(1), Value::Int(2), 10_000)]
        );
        // A right record with no left match is not emitted by a LEFT join.
        assert!(j
            .process(Side::Right, &Value::Int(9), row(Side::Right, 10_000, 3))
            .is_empty());
    }

    #[test]
    fn outer_join_with_grace_waits_for_the_window_to_close() {
        let mut j = StreamStreamJoin::new(JoinKind::Full, 60_000, 60_000, Some(60_000));
        // Held: its window is open.
        assert!(j.process(Side::Left, &K, row(Side::Left, 0, 1)).is_empty());
        // Matched before closing: no padded row ever.
        assert_eq!(
            seen(j.process(Side::Right, &K, row(Side::Right, 60_000, 2))),
            vec![(Value::Int(1), Value::Int(2), 60_000)]
        );
        let k2 = Value::Int(2);
        assert!(j
            .process(Side::Right, &k2, row(Side::Right, 70_000, 3))
            .is_empty());
        // Stream time passes 70 s + 60 s + 60 s: the right record is emitted padded.
        let out = j.process(Side::Left, &Value::Int(3), row(Side::Left, 200_001, 4));
        assert_eq!(seen(out), vec![(Value::Null, Value::Int(3), 70_000)]);
        // Late and already closed: padded at once.
        assert_eq!(
            seen(j.process(Side::Left, &Value::Int(4), row(Side::Left, 10_000, 5))),
            vec![(Value::Int(5), Value::Null, 10_000)]
        );
    }
}
