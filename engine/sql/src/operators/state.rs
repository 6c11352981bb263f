//! The changelog encoding of operator state: how an aggregation's groups, a table source's
//! current rows and the joins' state (window buffers, outer records waiting for their window
//! to close, materialized table sides) become changelog records (key and value bytes) and
//! back. Values keep their
//! exact SQL type (INT vs BIGINT, NaN and infinities), which their plain JSON form loses.
//! Pure encoding: never does I/O and knows nothing of topics or offsets.

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

use crate::expr::RowMeta;
use crate::operators::join_row::JoinRow;
use crate::operators::OutRow;
use crate::value::Value;

/// What one changelog key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateKey {
    /// An aggregation group: its grouping key text and window start (0 when unwindowed).
    Group(String, i64),
    /// A table source's current row, by the record key's bytes.
    TableRow(Option<Vec<u8>>),
    /// A record in a stream-stream join's window buffer: join step, side (0 left, 1 right),
    /// join key text, timestamp and arrival sequence number.
    JoinWindow(usize, u8, String, i64, u64),
    /// An outer stream-stream join's non-matched records of one (timestamp, side, key),
    /// waiting for their window to close: join step, side, key text, timestamp.
    JoinPending(usize, u8, String, i64),
    /// A materialized table side's row of a join: join step, side, join key text.
    JoinTable(usize, u8, String),
    /// The commit marker: the input offsets (and counters) the state before it reflects.
    Commit,
}

impl StateKey {
    pub fn encode(&self) -> Vec<u8> {
        let j = match self {
            StateKey::Group(k, w) => json!(["group", k, w]),
            StateKey::TableRow(k) => json!(["row", k.as_deref().map(hex)]),
            StateKey::JoinWindow(step, side, k, ts, seq) => {
                json!(["join-window", step, side, k, ts, seq])
            }
            StateKey::JoinPending(step, side, k, ts) => json!(["join-pending", step, side, k, ts]),
            StateKey::JoinTable(step, side, k) => json!(["join-table", step, side, k]),
            StateKey::Commit => json!(["commit"]),
        };
        j.to_string().into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Option<StateKey> {
        let j: Json = serde_json::from_slice(bytes).ok()?;
        let a = j.as_array()?;
        match a.first()?.as_str()? {
            "group" => Some(StateKey::Group(
                a.get(1)?.as_str()?.to_string(),
                a.get(2)?.as_i64()?,
            )),
            "row" => Some(StateKey::TableRow(match a.get(1)? {
                Json::Null => None,
                Json::String(s) => Some(unhex(s)?),
                _ => return None,
            })),
            "join-window" => Some(StateKey::JoinWindow(
                usize::try_from(a.get(1)?.as_u64()?).ok()?,
                u8::try_from(a.get(2)?.as_u64()?).ok()?,
                a.get(3)?.as_str()?.to_string(),
                a.get(4)?.as_i64()?,
                a.get(5)?.as_u64()?,
            )),
            "join-pending" => Some(StateKey::JoinPending(
                usize::try_from(a.get(1)?.as_u64()?).ok()?,
                u8::try_from(a.get(2)?.as_u64()?).ok()?,
                a.get(3)?.as_str()?.to_string(),
                a.get(4)?.as_i64()?,
            )),
            "join-table" => Some(StateKey::JoinTable(
                usize::try_from(a.get(1)?.as_u64()?).ok()?,
                u8::try_from(a.get(2)?.as_u64()?).ok()?,
                a.get(3)?.as_str()?.to_string(),
            )),
            "commit" => Some(StateKey::Commit),
            _ => None,
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A value with its type: INT as `{"i":n}`, DOUBLE as `{"d":x}` (or `"NaN"`, `"inf"`,
/// `"-inf"`), DECIMAL as `{"dec":["unscaled", scale]}` (exact), TIMESTAMP as `{"ts":ms}`,
/// DATE as `{"date":days}`, TIME as `{"time":ms}`, BYTES as `{"b":"base64"}`, MAP as
/// `{"m":{..}}`, STRUCT as `{"s":[[name, v], ..]}`; BIGINT, BOOLEAN, STRING, ARRAY and NULL
/// as themselves.
pub fn value_to_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!({ "i": i }),
        Value::Bigint(i) => json!(i),
        Value::Double(d) => {
            let x = if d.is_nan() {
                json!("NaN")
            } else if d.is_infinite() {
                json!(if *d > 0.0 { "inf" } else { "-inf" })
            } else {
                json!(d)
            };
            json!({ "d": x })
        }
        Value::Decimal(d) => json!({ "dec": [d.unscaled.to_string(), d.scale] }),
        Value::Timestamp(t) => json!({ "ts": t }),
        Value::Date(d) => json!({ "date": d }),
        Value::Time(t) => json!({ "time": t }),
        Value::Bytes(b) => json!({ "b": crate::value::base64(b) }),
        Value::String(s) => json!(s),
        Value::Array(a) => Json::Array(a.iter().map(value_to_json).collect()),
        Value::Map(m) => {
            json!({ "m": m.iter().map(|(k, v)| (k.clone(), value_to_json(v))).collect::<serde_json::Map<_, _>>() })
        }
        Value::Struct(f) => json!({
            "s": f.iter().map(|(k, v)| json!([k, value_to_json(v)])).collect::<Vec<_>>()
        }),
    }
}

pub fn value_from_json(j: &Json) -> Option<Value> {
    Some(match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => Value::Bigint(n.as_i64()?),
        Json::String(s) => Value::String(s.clone()),
        Json::Array(a) => Value::Array(a.iter().map(value_from_json).collect::<Option<_>>()?),
        Json::Object(o) => {
            let (tag, x) = o.iter().next()?;
            match tag.as_str() {
                "i" => Value::Int(i32::try_from(x.as_i64()?).ok()?),
                "d" => Value::Double(match x {
                    Json::String(s) if s == "NaN" => f64::NAN,
                    Json::String(s) if s == "inf" => f64::INFINITY,
                    Json::String(s) if s == "-inf" => f64::NEG_INFINITY,
                    x => x.as_f64()?,
                }),
                "dec" => Value::Decimal(crate::decimal::Decimal::new(
                    x.get(0)?.as_str()?.parse().ok()?,
                    u32::try_from(x.get(1)?.as_u64()?).ok()?,
                )),
                "ts" => Value::Timestamp(x.as_i64()?),
                "date" => Value::Date(i32::try_from(x.as_i64()?).ok()?),
                "time" => Value::Time(i32::try_from(x.as_i64()?).ok()?),
                "b" => Value::Bytes(crate::value::unbase64(x.as_str()?)?),
                "m" => Value::Map(
                    x.as_object()?
                        .iter()
                        .map(|(k, v)| Some((k.clone(), value_from_json(v)?)))
                        .collect::<Option<BTreeMap<_, _>>>()?,
                ),
                "s" => Value::Struct(
                    x.as_array()?
                        .iter()
                        .map(|f| {
                            let f = f.as_array()?;
                            Some((
                                f.first()?.as_str()?.to_string(),
                                value_from_json(f.get(1)?)?,
                            ))
                        })
                        .collect::<Option<_>>()?,
                ),
                _ => return None,
            }
        }
    })
}

pub fn values_to_json(vs: &[Value]) -> Json {
    Json::Array(vs.iter().map(value_to_json).collect())
}

pub fn values_from_json(j: &Json) -> Option<Vec<Value>> {
    j.as_array()?.iter().map(value_from_json).collect()
}

pub fn meta_to_json(m: &RowMeta) -> Json {
    json!([
        m.rowtime,
        m.partition,
        m.offset,
        m.window.map(|(s, e)| [s, e])
    ])
}

pub fn meta_from_json(j: &Json) -> Option<RowMeta> {
    let a = j.as_array()?;
    Some(RowMeta {
        rowtime: a.first()?.as_i64()?,
        partition: i32::try_from(a.get(1)?.as_i64()?).ok()?,
        offset: a.get(2)?.as_i64()?,
        window: match a.get(3)? {
            Json::Null => None,
            w => Some((w.get(0)?.as_i64()?, w.get(1)?.as_i64()?)),
        },
    })
}

pub fn row_to_json(r: &OutRow) -> Json {
    row_parts_to_json(&r.values, &r.meta, r.tombstone)
}

/// `[values, meta, tombstone]`: the form of output rows and join rows alike.
fn row_parts_to_json(values: &[Value], meta: &RowMeta, tombstone: bool) -> Json {
    json!([values_to_json(values), meta_to_json(meta), tombstone])
}

pub fn row_from_json(j: &Json) -> Option<OutRow> {
    let a = j.as_array()?;
    Some(OutRow {
        values: values_from_json(a.first()?)?,
        meta: meta_from_json(a.get(1)?)?,
        tombstone: a.get(2)?.as_bool()?,
    })
}

/// A join operator's row, in the same form as an output row.
pub fn join_row_to_json(r: &JoinRow) -> Json {
    row_parts_to_json(&r.values, &r.meta, r.tombstone)
}

pub fn join_row_from_json(j: &Json) -> Option<JoinRow> {
    let r = row_from_json(j)?;
    Some(JoinRow {
        values: r.values,
        meta: r.meta,
        tombstone: r.tombstone,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_types_through_the_changelog() {
        let v = Value::Struct(vec![
            ("A".into(), Value::Int(7)),
            ("B".into(), Value::Bigint(7)),
            ("C".into(), Value::Double(7.0)),
            ("D".into(), Value::Double(f64::NEG_INFINITY)),
            (
                "E".into(),
                Value::Map(
                    [(
                        "k".to_string(),
                        Value::Array(vec![Value::Null, Value::Bool(true)]),
                    )]
                    .into(),
                ),
            ),
            ("F".into(), Value::String("{\"i\":1}".into())),
            (
                "G".into(),
                Value::Decimal(crate::decimal::Decimal::new(
                    -123_456_789_012_345_678_901_234,
                    4,
                )),
            ),
            ("H".into(), Value::Timestamp(-1)),
            ("I".into(), Value::Date(18_628)),
            ("J".into(), Value::Time(45_000_000)),
            ("K".into(), Value::Bytes(vec![0, 255, 7])),
        ]);
        let back = value_from_json(&value_to_json(&v)).unwrap();
        assert_eq!(back, v);
        let Value::Double(nan) = value_from_json(&value_to_json(&Value::Double(f64::NAN))).unwrap()
        else {
            panic!("not a double")
        };
        assert!(nan.is_nan());
    }

    #[test]
    fn keys_round_trip_and_garbage_is_no_key() {
        for k in [
            StateKey::Group("[\"a\",1]".into(), -5),
            StateKey::TableRow(Some(vec![0, 255, 16])),
            StateKey::TableRow(None),
            StateKey::JoinWindow(1, 0, "\"k\"".into(), -3, 9),
            StateKey::JoinPending(0, 1, "7".into(), 12),
            StateKey::JoinTable(2, 1, "[1,\"x\"]".into()),
            StateKey::Commit,
        ] {
            assert_eq!(StateKey::decode(&k.encode()), Some(k));
        }
        assert_eq!(StateKey::decode(b"not json"), None);
        assert_eq!(StateKey::decode(br#"["row","abc"]"#), None);
        assert_eq!(StateKey::decode(br#"["join-window",0,300,"k",1,2]"#), None);
        assert_eq!(StateKey::decode(br#"["join-table",-1,0,"k"]"#), None);
        let meta = RowMeta {
            rowtime: 1,
            partition: 2,
            offset: 3,
            window: Some((4, 5)),
        };
        assert_eq!(meta_from_json(&meta_to_json(&meta)), Some(meta));
    }
}
