//! Sink encode: an output row becomes a record. KAFKA keys (one column) or JSON keys, with the
//! 8-byte big-endian window start appended for time-windowed rows (Kafka Streams'
//! TimeWindowed serde), or the 8-byte end then the 8-byte start for session-windowed rows
//! (its SessionWindowed serde, `SessionKeySchema`); JSON values hold the value columns only (tombstones have no value); AVRO, JSON_SR
//! and PROTOBUF keys and values are the same JSON written in the wire format with the sink's
//! registered schema ([`SinkCodec`]). Partitions follow Kafka's default partitioner (murmur2
//! of the key bytes).

use std::sync::Arc;

use serde_json::{Map, Value as Json};
use sluice_registry::codec::WireSchema;

use crate::catalog::{Column, ColumnKind, Format};
use crate::error::SqlError;
use crate::io::OutRecord;
use crate::operators::OutRow;
use crate::value::Value;

/// The registry schemas a sink writes with (None: the format has no schema), and whether a
/// single value column is written unwrapped (WRAP_SINGLE_VALUE=false).
#[derive(Debug, Clone)]
pub struct SinkCodec {
    pub key: Option<Arc<WireSchema>>,
    pub value: Option<Arc<WireSchema>>,
    pub unwrap_value: bool,
    /// DELIMITED keys and values: the delimiter.
    pub delimiter: char,
    /// SESSION-windowed keys carry the window end as well as its start.
    pub session_window: bool,
}

impl Default for SinkCodec {
    fn default() -> Self {
        SinkCodec {
            key: None,
            value: None,
            unwrap_value: false,
            delimiter: ',',
            session_window: false,
        }
    }
}

fn wire(schema: &WireSchema, json: &Json) -> Result<Vec<u8>, SqlError> {
    schema
        .encode(&json.to_string())
        .map_err(|e| SqlError::statement(format!("Error serializing message: {e}")))
}

pub fn kafka_key(v: &Value) -> Result<Option<Vec<u8>>, SqlError> {
    Ok(match v {
        Value::Null => None,
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Int(i) => Some(i.to_be_bytes().to_vec()),
        Value::Bigint(i) => Some(i.to_be_bytes().to_vec()),
        Value::Double(d) => Some(d.to_be_bytes().to_vec()),
        Value::Bool(b) => Some(vec![*b as u8]),
        _ => {
            return Err(SqlError::statement(
                "The 'KAFKA' key format does not support complex types",
            ))
        }
    })
}

pub fn encode(
    output: &[Column],
    key_format: Format,
    value_format: Option<Format>,
    row: &OutRow,
    codec: &SinkCodec,
) -> Result<OutRecord, SqlError> {
    let keys: Vec<(&Column, &Value)> = output
        .iter()
        .zip(&row.values)
        .filter(|(c, _)| c.kind == ColumnKind::Key)
        .collect();
    let mut key = match (keys.len(), key_format) {
        (0, _) | (_, Format::None) => None,
        (1, Format::Kafka) => kafka_key(keys[0].1)?,
        (_, Format::Kafka) => {
            return Err(SqlError::statement(
                "The 'KAFKA' format only supports a single field. Use KEY_FORMAT='JSON'",
            ))
        }
        (_, _) if keys.iter().all(|(_, v)| v.is_null()) && key_format != Format::Json => None,
        (_, Format::Delimited) => {
            let vals: Vec<&Value> = keys.iter().map(|(_, v)| *v).collect();
            Some(super::delimited::join(&vals, codec.delimiter)?.into_bytes())
        }
        (n, _) => {
            let json = if n == 1 {
                keys[0].1.to_json()
            } else {
                Json::Object(
                    keys.iter()
                        .map(|(c, v)| (c.name.clone(), v.to_json()))
                        .collect(),
                )
            };
            match &codec.key {
                Some(schema) => Some(wire(schema, &json)?),
                None => Some(json.to_string().into_bytes()),
            }
        }
    };
    if let Some((start, end)) = row.meta.window {
        let mut k = key.unwrap_or_default();
        if codec.session_window {
            k.extend_from_slice(&end.to_be_bytes());
        }
        k.extend_from_slice(&start.to_be_bytes());
        key = Some(k);
    }
    let value = if row.tombstone {
        None
    } else if let Some(Format::Delimited) = value_format {
        let vals: Vec<&Value> = output
            .iter()
            .zip(&row.values)
            .filter(|(c, _)| c.kind == ColumnKind::Value)
            .map(|(_, v)| v)
            .collect();
        Some(super::delimited::join(&vals, codec.delimiter)?.into_bytes())
    } else {
        let o: Map<String, Json> = output
            .iter()
            .zip(&row.values)
            .filter(|(c, _)| c.kind == ColumnKind::Value)
            .map(|(c, v)| (c.name.clone(), v.to_json()))
            .collect();
        let json = match (codec.unwrap_value, o.len()) {
            (true, 1) => o.into_iter().next().map(|(_, v)| v).unwrap_or(Json::Null),
            _ => Json::Object(o),
        };
        match &codec.value {
            Some(schema) => Some(wire(schema, &json)?),
            None => Some(json.to_string().into_bytes()),
        }
    };
    Ok(OutRecord {
        timestamp: row.meta.rowtime,
        key,
        value,
    })
}

/// Kafka's murmur2 (the Java client's `Utils.murmur2`).
pub fn murmur2(data: &[u8]) -> i32 {
    let seed: u32 = 0x9747_b28c;
    let m: u32 = 0x5bd1_e995;
    let r = 24;
    let len = data.len();
    let mut h: u32 = seed ^ (len as u32);
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(m);
        k ^= k >> r;
        k = k.wrapping_mul(m);
        h = h.wrapping_mul(m);
        h ^= k;
    }
    match tail.len() {
        3 => {
            h ^= (tail[2] as u32) << 16;
            h ^= (tail[1] as u32) << 8;
            h ^= tail[0] as u32;
            h = h.wrapping_mul(m);
        }
        2 => {
            h ^= (tail[1] as u32) << 8;
            h ^= tail[0] as u32;
            h = h.wrapping_mul(m);
        }
        1 => {
            h ^= tail[0] as u32;
            h = h.wrapping_mul(m);
        }
        _ => {}
    }
    h ^= h >> 13;
    h = h.wrapping_mul(m);
    h ^= h >> 15;
    h as i32
}

/// The partition Kafka's default partitioner picks for `key` (`fallback` for a null key).
pub fn partition_for(key: Option<&[u8]>, partitions: i32, fallback: i32) -> i32 {
    let n = partitions.max(1);
    match key {
        Some(k) => (murmur2(k) & 0x7fff_ffff) % n,
        None => fallback.rem_euclid(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Session-windowed keys are `key ‖ end ‖ start` (Kafka Streams' SessionKeySchema), time
    /// windows `key ‖ start`; the source reads both back.
    #[test]
    fn windowed_keys_round_trip() {
        let ddl = "CREATE TABLE T (ID BIGINT PRIMARY KEY, N BIGINT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');";
        let crate::Statement::CreateSource(c) = crate::parse_statement(ddl).unwrap() else {
            panic!("not a CREATE")
        };
        let (mut source, _) = crate::catalog::declared_source(&c, ddl).unwrap();
        let row = OutRow {
            values: vec![Value::Bigint(7), Value::Bigint(3)],
            meta: crate::expr::RowMeta {
                rowtime: 20,
                partition: 0,
                offset: 0,
                window: Some((10, 20)),
            },
            tombstone: false,
        };
        let session = SinkCodec {
            session_window: true,
            ..SinkCodec::default()
        };
        let rec = encode(
            &source.columns,
            Format::Kafka,
            Some(Format::Json),
            &row,
            &session,
        )
        .unwrap();
        let mut want = 7i64.to_be_bytes().to_vec();
        want.extend_from_slice(&20i64.to_be_bytes());
        want.extend_from_slice(&10i64.to_be_bytes());
        assert_eq!(rec.key.as_deref(), Some(&want[..]));
        let input = |rec: &OutRecord| crate::io::InRecord {
            offset: 0,
            timestamp: rec.timestamp,
            key: rec.key.clone().map(Into::into),
            value: rec.value.clone().map(Into::into),
        };
        let schemas = crate::schemas::Schemas::default();
        source.window = Some(crate::ast::WindowKind::Session {
            gap: crate::ast::Duration {
                value: 1,
                unit: crate::ast::TimeUnit::Seconds,
            },
        });
        let (values, meta, _) =
            super::super::source::decode(&source, 0, &input(&rec), &schemas).unwrap();
        assert_eq!(values, row.values);
        assert_eq!(meta.window, Some((10, 20)));

        let rec = encode(
            &source.columns,
            Format::Kafka,
            Some(Format::Json),
            &row,
            &SinkCodec::default(),
        )
        .unwrap();
        assert_eq!(rec.key.as_ref().map(Vec::len), Some(16));
        source.window = Some(crate::ast::WindowKind::Tumbling {
            size: crate::ast::Duration {
                value: 10,
                unit: crate::ast::TimeUnit::Milliseconds,
            },
        });
        let (_, meta, _) =
            super::super::source::decode(&source, 0, &input(&rec), &schemas).unwrap();
        assert_eq!(meta.window, Some((10, 20)));
    }

    #[test]
    fn murmur2_matches_kafka() {
        // Values from Kafka's UtilsTest.testMurmur2.
        assert_eq!(murmur2(b"21"), -973932308);
        assert_eq!(murmur2(b"foobar"), -790332482);
        assert_eq!(murmur2(b"a-little-bit-long-string"), -985981536);
        assert_eq!(murmur2(b"a-little-bit-longer-string"), -1486304829);
        assert_eq!(
            murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"),
            -58897971
        );
        assert_eq!(murmur2(b"abc"), 479470107);
    }
}
