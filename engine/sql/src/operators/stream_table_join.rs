//! The stream-table join (INNER, LEFT): the table side is materialized from its records
//! (latest row per primary key, a tombstone deletes) and emits nothing; each stream record
//! looks its join key up at its arrival and is emitted joined (LEFT: padded with NULLs
//! when the table has no row yet), with the stream record's timestamp. Stream records with
//! a NULL key are dropped. The table side is the state: changed keys are handed out as
//! changelog changes by [`StreamTableJoin::take_changes`] and put back by
//! [`StreamTableJoin::restore`]. No I/O.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value as Json;

use crate::ast::JoinKind;
use crate::operators::join_row::{key_text, merge, JoinRow};
use crate::operators::state::{join_row_from_json, join_row_to_json, StateKey};
use crate::value::Value;

/// The side the table is on (the stream is on the left).
const TABLE_SIDE: u8 = 1;

pub struct StreamTableJoin {
    kind: JoinKind,
    table: HashMap<String, JoinRow>,
    /// Table keys changed since the last take.
    dirty: BTreeSet<String>,
}

impl StreamTableJoin {
    pub fn new(kind: JoinKind) -> Self {
        StreamTableJoin {
            kind,
            table: HashMap::new(),
            dirty: BTreeSet::new(),
        }
    }

    /// The table rows changed since the last call, as changelog keys (join step `step`)
    /// and values (None: deleted).
    pub fn take_changes(&mut self, step: usize) -> Vec<(StateKey, Option<Json>)> {
        std::mem::take(&mut self.dirty)
            .into_iter()
            .map(|k| {
                let v = self.table.get(&k).map(join_row_to_json);
                (StateKey::JoinTable(step, TABLE_SIDE, k), v)
            })
            .collect()
    }

    pub fn mark_all_dirty(&mut self) {
        self.dirty.extend(self.table.keys().cloned());
    }

    pub fn mark_dirty(&mut self, key: &StateKey) {
        if let StateKey::JoinTable(_, TABLE_SIDE, k) = key {
            self.dirty.insert(k.clone());
        }
    }

    /// Puts one changelog record back; false when it is not this operator's or does not
    /// decode.
    pub fn restore(&mut self, key: &StateKey, value: Option<&Json>) -> bool {
        let StateKey::JoinTable(_, TABLE_SIDE, k) = key else {
            return false;
        };
        match value {
            None => {
                self.table.remove(k);
            }
            Some(v) => {
                let Some(row) = join_row_from_json(v) else {
                    return false;
                };
                self.table.insert(k.clone(), row);
            }
        }
        true
    }

    /// A stream record with its join key.
    pub fn stream(&mut self, key: &Value, row: JoinRow) -> Vec<JoinRow> {
        if key.is_null() {
            return vec![];
        }
        let mut out = match self.table.get(&key_text(key)) {
            Some(t) => merge(&row, t),
            None if self.kind == JoinKind::Left => row,
            None => return vec![],
        };
        out.values[0] = key.clone();
        vec![out]
    }

    /// A table record (a tombstone deletes the key's row).
    pub fn table(&mut self, key: &Value, row: JoinRow) {
        if key.is_null() {
            return;
        }
        let k = key_text(key);
        if row.tombstone {
            self.table.remove(&k);
        } else {
            self.table.insert(k.clone(), row);
        }
        self.dirty.insert(k);
    }

    pub fn table_rows(&self) -> usize {
        self.table.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::RowMeta;

    fn row(slot: usize, ts: i64, v: &str, tombstone: bool) -> JoinRow {
        let mut values = vec![Value::Null; 3];
        if !tombstone {
            values[slot] = Value::String(v.into());
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
    fn stream_records_see_the_latest_table_row() {
        let s = |x: &str| Value::String(x.into());
        let k = Value::Bigint(7);
        let mut j = StreamTableJoin::new(JoinKind::Left);
        // Before the table has the key: LEFT pads with NULLs.
        let out = j.stream(&k, row(1, 5, "s0", false));
        assert_eq!(out[0].values, vec![k.clone(), s("s0"), Value::Null]);
        j.table(&k, row(2, 6, "t1", false));
        j.table(&k, row(2, 7, "t2", false));
        let out = j.stream(&k, row(1, 8, "s1", false));
        assert_eq!(out[0].values, vec![k.clone(), s("s1"), s("t2")]);
        assert_eq!(out[0].meta.rowtime, 8);
        // A tombstone deletes the row.
        j.table(&k, row(2, 9, "", true));
        assert_eq!(j.table_rows(), 0);
        let out = j.stream(&k, row(1, 10, "s2", false));
        assert_eq!(out[0].values[2], Value::Null);
        let mut inner = StreamTableJoin::new(JoinKind::Inner);
        assert!(inner.stream(&k, row(1, 1, "s", false)).is_empty());
        inner.table(&Value::Int(7), row(2, 2, "t", false));
        assert_eq!(inner.stream(&k, row(1, 3, "s", false)).len(), 1);
    }
}
