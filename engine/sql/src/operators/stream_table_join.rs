//! The stream-table join (INNER, LEFT): the table side is materialized from its records
//! (latest row per primary key, a tombstone deletes) and emits nothing; each stream record
//! looks its join key up at its arrival and is emitted joined (LEFT: padded with NULLs
//! when the table has no row yet), with the stream record's timestamp. Stream records with
//! a NULL key are dropped. State is in memory; the engine rebuilds it by replaying.

use std::collections::HashMap;

use crate::ast::JoinKind;
use crate::operators::join_row::{key_text, merge, JoinRow};
use crate::value::Value;

pub struct StreamTableJoin {
    kind: JoinKind,
    table: HashMap<String, JoinRow>,
}

impl StreamTableJoin {
    pub fn new(kind: JoinKind) -> Self {
        StreamTableJoin {
            kind,
            table: HashMap::new(),
        }
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
        if row.tombstone {
            self.table.remove(&key_text(key));
        } else {
            self.table.insert(key_text(key), row);
        }
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
