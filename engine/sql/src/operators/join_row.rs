//! What the join operators pass around: a row of the joined schema (the key first, then
//! every input's columns, NULL where an input has no part), and helpers they share.

use crate::expr::RowMeta;
use crate::value::Value;

/// One row of the joined schema.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinRow {
    pub values: Vec<Value>,
    pub meta: RowMeta,
    /// A deleted table-table join result: only the key (`values[0]`) is meaningful.
    pub tombstone: bool,
}

/// The side of a join a record arrives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

impl Side {
    pub fn index(self) -> usize {
        match self {
            Side::Left => 0,
            Side::Right => 1,
        }
    }
    pub fn other(self) -> Side {
        match self {
            Side::Left => Side::Right,
            Side::Right => Side::Left,
        }
    }
}

/// A join key as a map key: equal numbers of INT and BIGINT compare equal.
pub fn key_text(v: &Value) -> String {
    v.to_json().to_string()
}

/// The columns of `a`, with `b`'s where `a` has none (the two sides fill disjoint columns).
pub fn merge(a: &JoinRow, b: &JoinRow) -> JoinRow {
    let values = a
        .values
        .iter()
        .zip(&b.values)
        .map(|(x, y)| if x.is_null() { y.clone() } else { x.clone() })
        .collect();
    JoinRow {
        values,
        meta: a.meta,
        tombstone: false,
    }
}
