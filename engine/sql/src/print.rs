//! `PRINT <topic>`'s text, as ksqlDB's `RecordFormatter` and `TopicStreamWriter` write it:
//! the key and value formats are guessed from the bytes (every candidate format that fails
//! to read a record is dropped; a record is shown with the first one left), `Key format: ` /
//! `Value format: ` lines whenever the candidates change, then one
//! `rowtime: <yyyy/MM/dd HH:mm:ss.SSS Z>, key: ..., value: ..., partition: N` line per record,
//! every INTERVAL-th record up to LIMIT. Candidates, in ksqlDB's order: AVRO, PROTOBUF, JSON,
//! JSON_SR, KAFKA_INT, KAFKA_BIGINT, KAFKA_DOUBLE, KAFKA_STRING (the registry formats by the
//! wire format's schema id and the schema's type). Windowed keys are not guessed. No I/O
//! beyond the registry lookups of [`Schemas`].

use sluice_registry::codec::split_wire;
use sluice_registry::model::SchemaType;

use crate::io::InRecord;
use crate::schemas::Schemas;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Candidate {
    Avro,
    Protobuf,
    Json,
    JsonSr,
    KafkaInt,
    KafkaBigint,
    KafkaDouble,
    KafkaString,
}

const ALL: [Candidate; 8] = [
    Candidate::Avro,
    Candidate::Protobuf,
    Candidate::Json,
    Candidate::JsonSr,
    Candidate::KafkaInt,
    Candidate::KafkaBigint,
    Candidate::KafkaDouble,
    Candidate::KafkaString,
];

impl Candidate {
    fn name(self) -> &'static str {
        match self {
            Candidate::Avro => "AVRO",
            Candidate::Protobuf => "PROTOBUF",
            Candidate::Json => "JSON",
            Candidate::JsonSr => "JSON_SR",
            Candidate::KafkaInt => "KAFKA_INT",
            Candidate::KafkaBigint => "KAFKA_BIGINT",
            Candidate::KafkaDouble => "KAFKA_DOUBLE",
            Candidate::KafkaString => "KAFKA_STRING",
        }
    }

    /// The bytes as text in this format, or None when they are not in it.
    fn read(self, bytes: &[u8], schemas: &Schemas) -> Option<String> {
        let utf8 = || {
            if bytes.is_empty() {
                return None;
            }
            std::str::from_utf8(bytes).ok()
        };
        match self {
            Candidate::Avro | Candidate::Protobuf | Candidate::JsonSr => {
                let (id, body) = split_wire(bytes)?;
                let schema = schemas.wire(id).ok()?;
                let wanted = match self {
                    Candidate::Avro => SchemaType::Avro,
                    Candidate::Protobuf => SchemaType::Protobuf,
                    _ => SchemaType::Json,
                };
                if schema.schema_type() != wanted {
                    return None;
                }
                let text = schema.decode(body).ok()?;
                Some(match self {
                    // Avro's GenericRecord.toString: `{"a": 1, "b": "x"}`.
                    Candidate::Avro => serde_json::from_str(&text)
                        .map(|j| spaced(&j))
                        .unwrap_or(text),
                    _ => text,
                })
            }
            Candidate::Json => {
                let text = utf8()?;
                serde_json::from_str::<serde_json::Value>(text).ok()?;
                Some(text.to_string())
            }
            Candidate::KafkaInt => Some(i32::from_be_bytes(bytes.try_into().ok()?).to_string()),
            Candidate::KafkaBigint => Some(i64::from_be_bytes(bytes.try_into().ok()?).to_string()),
            Candidate::KafkaDouble => Some(crate::value::java_double(f64::from_be_bytes(
                bytes.try_into().ok()?,
            ))),
            Candidate::KafkaString => utf8().map(str::to_string),
        }
    }
}

/// JSON with `", "` and `": "` separators, as Avro's `toString` prints a record.
fn spaced(j: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match j {
        J::Array(a) => format!("[{}]", a.iter().map(spaced).collect::<Vec<_>>().join(", ")),
        J::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{}: {}", J::String(k.clone()), spaced(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// The formats still possible for one side (key or value) of a topic's records.
struct Side {
    left: Vec<Candidate>,
    seen: bool,
}

impl Side {
    fn new() -> Self {
        Side {
            left: ALL.to_vec(),
            seen: false,
        }
    }

    fn format(&mut self, bytes: Option<&[u8]>, schemas: &Schemas) -> String {
        let Some(bytes) = bytes else {
            return "<null>".into();
        };
        self.seen = true;
        let mut first = None;
        self.left.retain(|c| match c.read(bytes, schemas) {
            Some(text) => {
                first.get_or_insert(text);
                true
            }
            None => false,
        });
        first.unwrap_or_else(|| "<Failed to deserialize>".into())
    }

    fn possible(&self) -> String {
        if !self.seen {
            return "¯\\_(ツ)_/¯ - no data processed".into();
        }
        if self.left.is_empty() {
            return " does not match any supported format. It may be a STRING with encoding other than UTF8, or some other format.".into();
        }
        self.left
            .iter()
            .map(|c| c.name())
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

/// The state of one PRINT: format candidates, records polled and written.
pub struct Printer {
    key: Side,
    value: Side,
    shown: Option<(String, String)>,
    interval: u64,
    limit: Option<u64>,
    polled: u64,
    written: u64,
}

impl Printer {
    pub fn new(interval: u64, limit: Option<u64>) -> Self {
        Printer {
            key: Side::new(),
            value: Side::new(),
            shown: None,
            interval: interval.max(1),
            limit,
            polled: 0,
            written: 0,
        }
    }

    /// Whether LIMIT records have been written.
    pub fn done(&self) -> bool {
        self.limit.is_some_and(|l| self.written >= l)
    }

    /// The lines for one poll's records (partition, record): format lines when the
    /// candidates changed, then the records' lines.
    pub fn lines(&mut self, records: &[(i32, &InRecord)], schemas: &Schemas) -> Vec<String> {
        let mut rows = Vec::new();
        for (p, r) in records {
            if self.done() {
                break;
            }
            let take = self.polled.is_multiple_of(self.interval);
            self.polled += 1;
            if !take {
                continue;
            }
            self.written += 1;
            let key = self.key.format(r.key.as_deref(), schemas);
            let value = self.value.format(r.value.as_deref(), schemas);
            rows.push(format!(
                "rowtime: {}, key: {key}, value: {value}, partition: {p}",
                rowtime(r.timestamp)
            ));
        }
        if rows.is_empty() {
            return rows;
        }
        let now = (self.key.possible(), self.value.possible());
        let mut out = Vec::new();
        let before = self.shown.take();
        if before.as_ref().map(|b| &b.0) != Some(&now.0) {
            out.push(format!("Key format: {}", now.0));
        }
        if before.as_ref().map(|b| &b.1) != Some(&now.1) {
            out.push(format!("Value format: {}", now.1));
        }
        self.shown = Some(now);
        out.extend(rows);
        out
    }
}

/// `yyyy/MM/dd HH:mm:ss.SSS Z` in UTC, or `N/A` for no timestamp.
fn rowtime(ms: i64) -> String {
    if ms < 0 {
        return "N/A".into();
    }
    // 2026-11-27T08:37:30[.fff]Z → 2026/11/27 08:37:30.fff Z
    let iso = crate::metrics::iso_utc(ms - ms.rem_euclid(1000));
    let (date, time) = iso
        .trim_end_matches('Z')
        .split_once('T')
        .unwrap_or_default();
    format!(
        "{} {time}.{:03} Z",
        date.replace('-', "/"),
        ms.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(ts: i64, key: Option<&[u8]>, value: Option<&[u8]>) -> InRecord {
        InRecord {
            offset: 0,
            timestamp: ts,
            key: key.map(bytes::Bytes::copy_from_slice),
            value: value.map(bytes::Bytes::copy_from_slice),
            ..Default::default()
        }
    }

    #[test]
    fn formats_are_narrowed_by_what_the_records_hold() {
        let schemas = Schemas::new(None);
        let mut p = Printer::new(1, Some(3));
        let a = rec(
            1_795_768_650_120,
            Some(&7i32.to_be_bytes()),
            Some(br#"{"id": 1}"#),
        );
        let lines = p.lines(&[(0, &a)], &schemas);
        assert_eq!(
            lines,
            vec![
                "Key format: KAFKA_INT or KAFKA_STRING".to_string(),
                "Value format: JSON or KAFKA_STRING".to_string(),
                r#"rowtime: 2026/11/27 08:37:30.120 Z, key: 7, value: {"id": 1}, partition: 0"#
                    .to_string(),
            ]
        );
        // A null key says nothing; a non-JSON value and a text key narrow the candidates.
        let b = rec(1_000, None, Some(b"plain"));
        let c = rec(2_000, Some(b"user-1"), Some(b"x"));
        let d = rec(3_000, None, Some(b"not printed: LIMIT 3"));
        let lines = p.lines(&[(1, &b), (2, &c), (0, &d)], &schemas);
        assert_eq!(
            lines,
            vec![
                "Key format: KAFKA_STRING".to_string(),
                "Value format: KAFKA_STRING".to_string(),
                "rowtime: 1970/01/01 00:00:01.000 Z, key: <null>, value: plain, partition: 1"
                    .to_string(),
                "rowtime: 1970/01/01 00:00:02.000 Z, key: user-1, value: x, partition: 2"
                    .to_string(),
            ]
        );
        // Same candidates again: no format lines.
        let mut q = Printer::new(1, None);
        assert_eq!(q.lines(&[(0, &b)], &schemas).len(), 3);
        assert_eq!(q.lines(&[(0, &b)], &schemas).len(), 1);
        assert!(p.done());
    }

    #[test]
    fn interval_prints_every_nth_record() {
        let schemas = Schemas::new(None);
        let mut p = Printer::new(2, None);
        let recs: Vec<InRecord> = (0..5)
            .map(|i| rec(i, None, Some(format!("v{i}").as_bytes())))
            .collect();
        let refs: Vec<(i32, &InRecord)> = recs.iter().map(|r| (0, r)).collect();
        let lines = p.lines(&refs, &schemas);
        let values: Vec<&str> = lines
            .iter()
            .filter_map(|l| l.split("value: ").nth(1))
            .collect();
        assert_eq!(
            values,
            ["v0, partition: 0", "v2, partition: 0", "v4, partition: 0"]
        );
    }
}
