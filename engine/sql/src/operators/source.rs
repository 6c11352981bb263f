//! Source decode: a record of a stream's or table's topic becomes a row. Keys in KAFKA format
//! (STRING as UTF-8, INT/BIGINT/DOUBLE big-endian, windowed keys with the 8-byte window start
//! Kafka Streams appends, or for SESSION windows the 8-byte end then start), JSON, or a registry format (AVRO, JSON_SR, PROTOBUF: the Confluent
//! wire format, read as JSON through [`Schemas`]); values in JSON or a registry format (an
//! object, fields matched by name, case-insensitively as a fallback; a single column may be
//! unwrapped). A record that does not decode is an `Err` to count and skip.

use serde_json::Value as Json;

use crate::ast::{SqlType, WindowKind};
use crate::catalog::{ColumnKind, Format, Source};
use crate::expr::RowMeta;
use crate::io::InRecord;
use crate::schemas::Schemas;
use crate::value::{from_json, lookup_field, Value};

/// Decodes one KAFKA-format key of type `ty`.
pub fn kafka_key(bytes: &[u8], ty: &SqlType) -> Result<Value, String> {
    let fixed = |n: usize| -> Result<&[u8], String> {
        if bytes.len() == n {
            Ok(bytes)
        } else {
            Err(format!(
                "Size of data received by {} deserializer is not {n}",
                crate::value::type_name(ty)
            ))
        }
    };
    Ok(match ty {
        SqlType::String => Value::String(
            String::from_utf8(bytes.to_vec()).map_err(|_| "key is not valid UTF-8".to_string())?,
        ),
        SqlType::Int => Value::Int(i32::from_be_bytes(
            fixed(4)?.try_into().map_err(|_| "bad key")?,
        )),
        SqlType::Bigint | SqlType::Timestamp => Value::Bigint(i64::from_be_bytes(
            fixed(8)?.try_into().map_err(|_| "bad key")?,
        )),
        SqlType::Double => Value::Double(f64::from_be_bytes(
            fixed(8)?.try_into().map_err(|_| "bad key")?,
        )),
        SqlType::Boolean => Value::Bool(fixed(1)?[0] != 0),
        other => {
            return Err(format!(
                "KAFKA key format does not support {}",
                crate::value::type_name(other)
            ))
        }
    })
}

/// A decoded record: key and value columns (value columns NULL for a null value), its
/// pseudo columns, and whether the value was null (a stream's null or a table's tombstone).
pub type Decoded = (Vec<Value>, RowMeta, bool);

/// The row of `rec`.
pub fn decode(
    source: &Source,
    partition: i32,
    rec: &InRecord,
    schemas: &Schemas,
) -> Result<Decoded, String> {
    let value = rec.value.as_deref();
    let mut meta = RowMeta {
        rowtime: rec.timestamp,
        partition,
        offset: rec.offset,
        window: None,
    };
    let mut key_bytes = rec.key.as_deref();
    if let (Some(kind), Some(k)) = (source.window, key_bytes) {
        let be = |b: &[u8]| {
            b.try_into()
                .map(i64::from_be_bytes)
                .map_err(|_| "bad window")
        };
        let (k, window) = match kind {
            WindowKind::Tumbling { size } | WindowKind::Hopping { size, .. } => {
                if k.len() < 8 {
                    return Err("windowed key shorter than its window start".into());
                }
                let (k, start) = k.split_at(k.len() - 8);
                let start = be(start)?;
                (k, (start, start.saturating_add(size.millis() as i64)))
            }
            WindowKind::Session { .. } => {
                if k.len() < 16 {
                    return Err("session-windowed key shorter than its window end and start".into());
                }
                let (k, bounds) = k.split_at(k.len() - 16);
                let (end, start) = bounds.split_at(8);
                (k, (be(start)?, be(end)?))
            }
        };
        meta.window = Some(window);
        key_bytes = Some(k);
    }
    let keys: Vec<&crate::catalog::Column> = source.key_columns().collect();
    let mut key_values: Vec<Value> = Vec::with_capacity(keys.len());
    match (key_bytes, source.key_format) {
        (_, _) if keys.is_empty() => {}
        (None, _) => key_values.extend(keys.iter().map(|_| Value::Null)),
        (Some(k), Format::Kafka) => key_values.push(kafka_key(k, &keys[0].ty)?),
        (Some(k), Format::Json | Format::Avro | Format::JsonSr | Format::Protobuf) => {
            let j: Json = if source.key_format.uses_registry() {
                schemas.decode(k).map_err(|e| format!("key: {e}"))?
            } else {
                serde_json::from_slice(k).map_err(|e| format!("key is not JSON: {e}"))?
            };
            let single_wrapped = match (&j, keys.first().map(|c| &c.ty)) {
                (Json::Object(o), Some(t))
                    if keys.len() == 1 && !matches!(t, SqlType::Struct(_) | SqlType::Map(..)) =>
                {
                    lookup_field(o, &keys[0].name).cloned()
                }
                _ => None,
            };
            if let Some(v) = single_wrapped {
                key_values.push(from_json(&v, &keys[0].ty)?);
            } else if keys.len() == 1 {
                key_values.push(from_json(&j, &keys[0].ty)?);
            } else {
                let Json::Object(o) = &j else {
                    return Err("a multi-column JSON key must be an object".into());
                };
                for c in &keys {
                    key_values.push(from_json(
                        lookup_field(o, &c.name).unwrap_or(&Json::Null),
                        &c.ty,
                    )?);
                }
            }
        }
        (Some(_), Format::None) => key_values.extend(keys.iter().map(|_| Value::Null)),
        (Some(k), Format::Delimited) => {
            key_values.extend(delimited_row(k, &keys, source.delimiter)?);
        }
    }
    let mut values = key_values;
    if let (Format::Json, Some(v)) = (source.value_format, value) {
        let count = source.value_columns().count();
        let unwrapped = source.wrap_single_value == Some(false) && count == 1;
        if !unwrapped && json_object_columns(v, source, &mut values)? {
            return finish(source, values, meta);
        }
    }
    let value_columns: Vec<&crate::catalog::Column> = source.value_columns().collect();
    if let (Format::Delimited, Some(v)) = (source.value_format, value) {
        values.extend(delimited_row(v, &value_columns, source.delimiter)?);
        return finish(source, values, meta);
    }
    let unwrapped = source.wrap_single_value == Some(false) && value_columns.len() == 1;
    let json: Json = match value {
        Some(v) if source.value_format.uses_registry() => schemas.decode(v)?,
        Some(v) => serde_json::from_slice(v).map_err(|e| format!("value is not JSON: {e}"))?,
        None => Json::Null,
    };
    match &json {
        Json::Null => {
            values.extend(value_columns.iter().map(|_| Value::Null));
            return Ok((values, meta, true));
        }
        other if unwrapped => values.push(from_json(other, &value_columns[0].ty)?),
        Json::Object(o) => {
            for c in &value_columns {
                values.push(from_json(
                    lookup_field(o, &c.name).unwrap_or(&Json::Null),
                    &c.ty,
                )?);
            }
        }
        other if value_columns.len() == 1 => values.push(from_json(other, &value_columns[0].ty)?),
        _ => return Err("value is not a JSON object".into()),
    }
    finish(source, values, meta)
}

/// Appends the value columns of a JSON object value to `values`, read in one pass without
/// building the object: each field is matched to its column by name (exact first, then
/// ignoring case, as [`lookup_field`]), unmatched fields are skipped unparsed. False (and
/// `values` untouched) when `bytes` is not an object or the source has more value columns
/// than this path tracks: the caller's general path handles those.
fn json_object_columns(
    bytes: &[u8],
    source: &Source,
    values: &mut Vec<Value>,
) -> Result<bool, String> {
    use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
    use serde::Deserializer as _;

    let columns: &[crate::catalog::Column] = &source.columns;
    if columns.len() > 64 || bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Ok(false);
    }
    /// A field name resolved to (value column number, exact match), without allocating it.
    struct KeySeed<'c>(&'c [crate::catalog::Column]);
    impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
        type Value = Option<(usize, bool)>;
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(self)
        }
    }
    impl Visitor<'_> for KeySeed<'_> {
        type Value = Option<(usize, bool)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a field name")
        }
        fn visit_str<E: serde::de::Error>(self, k: &str) -> Result<Self::Value, E> {
            let value_columns = || self.0.iter().filter(|c| c.kind == ColumnKind::Value);
            if let Some(i) = value_columns().position(|c| c.name == k) {
                return Ok(Some((i, true)));
            }
            Ok(value_columns()
                .position(|c| c.name.eq_ignore_ascii_case(k))
                .map(|i| (i, false)))
        }
    }
    /// Fills `slots` (one per value column); the first conversion error is kept aside.
    struct ObjectVisitor<'c, 'v> {
        columns: &'c [crate::catalog::Column],
        slots: &'v mut [Value],
        conversion: Option<String>,
    }
    impl<'de> Visitor<'de> for &mut ObjectVisitor<'_, '_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let (mut filled, mut exact_fill) = (0u64, 0u64);
            while let Some(found) = map.next_key_seed(KeySeed(self.columns))? {
                // A case-insensitive match never replaces an exact one or an earlier one.
                let Some((i, exact)) = found.filter(|&(i, exact)| {
                    let bit = 1u64 << i;
                    exact || (filled & bit == 0 && exact_fill & bit == 0)
                }) else {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                };
                let ty = &self
                    .columns
                    .iter()
                    .filter(|c| c.kind == ColumnKind::Value)
                    .nth(i)
                    .expect("matched a value column")
                    .ty;
                let json: Json = map.next_value()?;
                self.slots[i] = match json {
                    Json::String(s) if *ty == SqlType::String => Value::String(s),
                    other => match from_json(&other, ty) {
                        Ok(v) => v,
                        Err(e) => {
                            self.conversion.get_or_insert(e);
                            Value::Null
                        }
                    },
                };
                filled |= 1 << i;
                if exact {
                    exact_fill |= 1 << i;
                }
            }
            Ok(())
        }
    }
    let base = values.len();
    values.extend(source.value_columns().map(|_| Value::Null));
    let mut visitor = ObjectVisitor {
        columns,
        slots: &mut values[base..],
        conversion: None,
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.deserialize_map(&mut visitor)
        .and_then(|_| de.end())
        .map_err(|e| format!("value is not JSON: {e}"))?;
    match visitor.conversion {
        Some(e) => Err(e),
        None => Ok(true),
    }
}

/// A decoded non-null row: ROWTIME from the TIMESTAMP column when there is one.
fn finish(source: &Source, values: Vec<Value>, mut meta: RowMeta) -> Result<Decoded, String> {
    if let Some(ts) = &source.timestamp_column {
        if let Some(i) = source.columns.iter().position(|c| &c.name == ts) {
            match values[i].as_i64() {
                Some(t) => meta.rowtime = t,
                None => return Err(format!("timestamp column {ts} is null")),
            }
        }
    }
    Ok((values, meta, false))
}

/// A DELIMITED key or value: one field per column, in order.
fn delimited_row(
    bytes: &[u8],
    columns: &[&crate::catalog::Column],
    delimiter: Option<char>,
) -> Result<Vec<Value>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "DELIMITED data is not UTF-8")?;
    let fields = super::delimited::split(text, delimiter.unwrap_or(','))?;
    if fields.len() != columns.len() {
        return Err(format!(
            "Unexpected field count, csvFields:{} schemaFields:{}",
            fields.len(),
            columns.len()
        ));
    }
    fields
        .iter()
        .zip(columns)
        .map(|(f, c)| match f {
            None => Ok(Value::Null),
            Some(f) => from_json(&Json::String(f.clone()), &c.ty),
        })
        .collect()
}
