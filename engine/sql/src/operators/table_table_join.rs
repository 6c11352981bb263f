//! The table-table join (INNER, LEFT, RIGHT, FULL OUTER) on primary keys: both sides are
//! materialized (latest row per key, tombstones delete); a change on either side emits the
//! key's new joined row (stamped with the later of the two rows' timestamps), or a
//! tombstone when the key had a joined row and has none any more. Both sides are the state:
//! changed keys are handed out as changelog changes by [`TableTableJoin::take_changes`] and
//! put back by [`TableTableJoin::restore`]. No I/O.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value as Json;

use crate::ast::JoinKind;
use crate::operators::join_row::{key_text, merge, JoinRow, Side};
use crate::operators::state::{join_row_from_json, join_row_to_json, StateKey};
use crate::value::Value;

pub struct TableTableJoin {
    kind: JoinKind,
    sides: [HashMap<String, JoinRow>; 2],
    /// (side, key) changed since the last take.
    dirty: BTreeSet<(u8, String)>,
}

impl TableTableJoin {
    pub fn new(kind: JoinKind) -> Self {
        TableTableJoin {
            kind,
            sides: Default::default(),
            dirty: BTreeSet::new(),
        }
    }

    /// The rows changed since the last call, as changelog keys (join step `step`) and
    /// values (None: deleted).
    pub fn take_changes(&mut self, step: usize) -> Vec<(StateKey, Option<Json>)> {
        std::mem::take(&mut self.dirty)
            .into_iter()
            .map(|(side, k)| {
                let v = self.sides[usize::from(side)].get(&k).map(join_row_to_json);
                (StateKey::JoinTable(step, side, k), v)
            })
            .collect()
    }

    pub fn mark_all_dirty(&mut self) {
        for (s, rows) in self.sides.iter().enumerate() {
            self.dirty.extend(rows.keys().map(|k| (s as u8, k.clone())));
        }
    }

    pub fn mark_dirty(&mut self, key: &StateKey) {
        if let StateKey::JoinTable(_, side @ 0..=1, k) = key {
            self.dirty.insert((*side, k.clone()));
        }
    }

    /// Puts one changelog record back; false when it is not this operator's or does not
    /// decode.
    pub fn restore(&mut self, key: &StateKey, value: Option<&Json>) -> bool {
        let StateKey::JoinTable(_, side @ 0..=1, k) = key else {
            return false;
        };
        let rows = &mut self.sides[usize::from(*side)];
        match value {
            None => {
                rows.remove(k);
            }
            Some(v) => {
                let Some(row) = join_row_from_json(v) else {
                    return false;
                };
                rows.insert(k.clone(), row);
            }
        }
        true
    }

    fn result(&self, k: &str) -> Option<JoinRow> {
        let l = self.sides[0].get(k);
        let r = self.sides[1].get(k);
        let keep = match self.kind {
            JoinKind::Inner => l.is_some() && r.is_some(),
            JoinKind::Left => l.is_some(),
            JoinKind::Right => r.is_some(),
            JoinKind::Full => l.is_some() || r.is_some(),
        };
        if !keep {
            return None;
        }
        Some(match (l, r) {
            (Some(l), Some(r)) => {
                let mut j = merge(l, r);
                j.meta.rowtime = l.meta.rowtime.max(r.meta.rowtime);
                j
            }
            (Some(one), None) | (None, Some(one)) => one.clone(),
            (None, None) => return None,
        })
    }

    /// A record of `side` (a tombstone deletes its key's row).
    pub fn process(&mut self, side: Side, key: &Value, row: JoinRow) -> Vec<JoinRow> {
        if key.is_null() {
            return vec![];
        }
        let k = key_text(key);
        let before = self.result(&k);
        let meta = row.meta;
        if row.tombstone {
            if self.sides[side.index()].remove(&k).is_none() {
                return vec![];
            }
        } else {
            self.sides[side.index()].insert(k.clone(), row);
        }
        self.dirty.insert((side.index() as u8, k.clone()));
        match self.result(&k) {
            Some(mut r) => {
                r.values[0] = key.clone();
                r.meta.partition = meta.partition;
                r.meta.offset = meta.offset;
                vec![r]
            }
            None if before.is_some() => {
                let mut values = vec![Value::Null; before.map_or(1, |b| b.values.len())];
                values[0] = key.clone();
                vec![JoinRow {
                    values,
                    meta,
                    tombstone: true,
                }]
            }
            None => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::RowMeta;

    fn row(side: Side, ts: i64, v: i32, tombstone: bool) -> JoinRow {
        let mut values = vec![Value::Null; 3];
        if !tombstone {
            values[1 + side.index()] = Value::Int(v);
        }
        JoinRow {
            values,
            meta: RowMeta {
                rowtime: ts,
                partition: 0,
                offset: 0,
                window: None,
            },
            tombstone,
        }
    }

    #[test]
    fn inner_join_emits_updates_and_tombstones() {
        let k = Value::Int(1);
        let mut j = TableTableJoin::new(JoinKind::Inner);
        assert!(j
            .process(Side::Left, &k, row(Side::Left, 1, 10, false))
            .is_empty());
        let out = j.process(Side::Right, &k, row(Side::Right, 2, 20, false));
        assert_eq!(
            out[0].values,
            vec![k.clone(), Value::Int(10), Value::Int(20)]
        );
        assert_eq!(out[0].meta.rowtime, 2);
        // An update of the left row re-emits the join, stamped with the later time.
        let out = j.process(Side::Left, &k, row(Side::Left, 1, 11, false));
        assert_eq!(out[0].values[1], Value::Int(11));
        assert_eq!(out[0].meta.rowtime, 2);
        // Deleting the right row deletes the result.
        let out = j.process(Side::Right, &k, row(Side::Right, 3, 0, true));
        assert!(out[0].tombstone);
        assert_eq!(out[0].values[0], k);
        // Deleting what is not there emits nothing.
        assert!(j
            .process(Side::Right, &k, row(Side::Right, 4, 0, true))
            .is_empty());
    }

    #[test]
    fn outer_joins_pad_the_missing_side() {
        let k = Value::Int(1);
        let mut left = TableTableJoin::new(JoinKind::Left);
        let out = left.process(Side::Left, &k, row(Side::Left, 1, 10, false));
        assert_eq!(out[0].values, vec![k.clone(), Value::Int(10), Value::Null]);
        assert!(left
            .process(Side::Right, &Value::Int(2), row(Side::Right, 1, 5, false))
            .is_empty());
        let mut full = TableTableJoin::new(JoinKind::Full);
        let out = full.process(Side::Right, &k, row(Side::Right, 1, 5, false));
        assert_eq!(out[0].values, vec![k.clone(), Value::Null, Value::Int(5)]);
        let out = full.process(Side::Right, &k, row(Side::Right, 2, 0, true));
        assert!(out[0].tombstone);
    }
}
