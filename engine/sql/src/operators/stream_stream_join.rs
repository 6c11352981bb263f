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
//! State is in memory; the engine rebuilds it by replaying the inputs.

use std::collections::{BTreeMap, HashMap};

use crate::ast::JoinKind;
use crate::operators::join_row::{key_text, merge, JoinRow, Side};
use crate::value::Value;

/// Kafka Streams' retention of join buffers without a grace period (24 hours).
const LEGACY_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Default)]
struct Buffer {
    /// The newest timestamp this side has seen.
    observed: Option<i64>,
    rows: HashMap<String, Vec<(i64, u64, JoinRow)>>,
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
        }
    }

    fn outer(&self, side: Side) -> bool {
        match side {
            Side::Left => matches!(self.kind, JoinKind::Left | JoinKind::Full),
            Side::Right => matches!(self.kind, JoinKind::Right | JoinKind::Full),
        }
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
        // Into this side's buffer.
        {
            let buf = &mut self.buffers[side.index()];
            let observed = buf.observed.map_or(ts, |o| o.max(ts));
            buf.observed = Some(observed);
            if ts > observed.saturating_sub(retention) {
                let seq = self.seq;
                self.seq += 1;
                let list = buf.rows.entry(k.clone()).or_default();
                let at = list.partition_point(|(t, s, _)| (*t, *s) <= (ts, seq));
                list.insert(at, (ts, seq, row.clone()));
                let min_live = observed.saturating_sub(retention);
                list.retain(|(t, _, _)| *t > min_live);
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
                self.pending
                    .remove(&(*t, side.other().index() as u8, k.clone()));
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
                self.pending
                    .entry((ts, side.index() as u8, k))
                    .or_default()
                    .push(padded);
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
            if let Some((_, rows)) = self.pending.pop_first() {
                out.extend(rows);
            }
        }
        out
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
