//! Single message transforms and predicates with their upstream class names and keys
//! (`transforms=a,b`, `transforms.a.type=org.apache.kafka.connect.transforms.InsertField$Value`,
//! `transforms.a.predicate=p`, `transforms.a.negate`, `predicates.p.type=...`): InsertField,
//! ReplaceField, MaskField, ValueToKey, ExtractField, HoistField, Cast, Flatten,
//! TimestampConverter, TimestampRouter, RegexRouter, Filter; TopicNameMatches, HasHeaderKey,
//! RecordIsTombstone. Schemas are updated with the data. No I/O.

use std::sync::Arc;

use indexmap::IndexMap;
use regex::Regex;
use serde_json::{json, Value as Json};

use crate::config::{list, sub_config, Config};
use crate::data::{field_schema, primitive_schema, Data, Record, Schema};
use crate::error::{ConnectError, Result};

/// The kafka coordinates a sink record came from (InsertField's `offset.field` and friends).
#[derive(Debug, Clone, Copy, Default)]
pub struct Coordinates {
    pub partition: Option<i32>,
    pub offset: Option<i64>,
}

#[derive(Debug, Clone)]
enum Predicate {
    TopicNameMatches(Regex),
    HasHeaderKey(String),
    RecordIsTombstone,
}

impl Predicate {
    fn test(&self, r: &Record) -> bool {
        match self {
            Predicate::TopicNameMatches(re) => {
                re.is_match(&r.topic)
                    && re
                        .find(&r.topic)
                        .is_some_and(|m| m.start() == 0 && m.end() == r.topic.len())
            }
            Predicate::HasHeaderKey(name) => r.headers.iter().any(|(k, _)| k == name),
            Predicate::RecordIsTombstone => r.value.is_null(),
        }
    }
}

/// Key or value side of a `$Key` / `$Value` transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Key,
    Value,
}

#[derive(Debug, Clone)]
enum Kind {
    InsertField {
        topic: Option<String>,
        partition: Option<String>,
        offset: Option<String>,
        timestamp: Option<String>,
        static_field: Option<(String, String)>,
    },
    ReplaceField {
        exclude: Vec<String>,
        include: Vec<String>,
        renames: Vec<(String, String)>,
    },
    MaskField {
        fields: Vec<String>,
        replacement: Option<String>,
    },
    ValueToKey {
        fields: Vec<String>,
    },
    ExtractField {
        field: String,
    },
    HoistField {
        field: String,
    },
    Cast {
        whole: Option<String>,
        fields: Vec<(String, String)>,
    },
    Flatten {
        delimiter: String,
    },
    TimestampConverter {
        field: Option<String>,
        target: String,
        format: Option<String>,
    },
    TimestampRouter {
        topic_format: String,
        timestamp_format: String,
    },
    RegexRouter {
        regex: Regex,
        replacement: String,
    },
    Filter,
}

#[derive(Debug, Clone)]
struct Transform {
    alias: String,
    class: String,
    side: Side,
    kind: Kind,
    predicate: Option<(Predicate, bool)>,
}

/// The upstream transform classes, for validation and listing.
pub const TRANSFORM_CLASSES: &[&str] = &[
    "InsertField",
    "ReplaceField",
    "MaskField",
    "ValueToKey",
    "ExtractField",
    "HoistField",
    "Cast",
    "Flatten",
    "TimestampConverter",
    "TimestampRouter",
    "RegexRouter",
    "Filter",
];

/// The configured transforms of a connector, in order.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    transforms: Vec<Transform>,
}

fn required(c: &Config, prefix: &str, key: &str) -> Result<String> {
    c.get(key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            ConnectError::BadRequest(format!(
                "Missing required configuration \"{prefix}{key}\" which has no default value."
            ))
        })
}

fn opt(c: &Config, key: &str) -> Option<String> {
    c.get(key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn regex(pattern: &str, key: &str) -> Result<Regex> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| ConnectError::InvalidConfig {
        name: key.to_string(),
        value: pattern.to_string(),
        reason: format!("Invalid regex: {e}"),
    })
}

fn predicate_of(config: &Config, name: &str) -> Result<Predicate> {
    let prefix = format!("predicates.{name}.");
    let c = sub_config(config, &prefix);
    let class = required(&c, &prefix, "type")?;
    let simple = class.rsplit('.').next().unwrap_or(&class);
    Ok(match simple {
        "TopicNameMatches" => Predicate::TopicNameMatches(regex(
            &required(&c, &prefix, "pattern")?,
            &format!("{prefix}pattern"),
        )?),
        "HasHeaderKey" => Predicate::HasHeaderKey(required(&c, &prefix, "name")?),
        "RecordIsTombstone" => Predicate::RecordIsTombstone,
        _ => {
            return Err(ConnectError::BadRequest(format!(
                "Class {class} could not be found."
            )))
        }
    })
}

impl Chain {
    /// Builds the chain from a connector config; an unknown class or a missing key is an error
    /// with Connect's message.
    pub fn from_config(config: &Config) -> Result<Chain> {
        let mut transforms = Vec::new();
        for alias in list(config, "transforms") {
            let prefix = format!("transforms.{alias}.");
            let c = sub_config(config, &prefix);
            let class = required(&c, &prefix, "type")?;
            let simple = class.rsplit('.').next().unwrap_or(&class).to_string();
            let (base, side) = match simple.split_once('$') {
                Some((b, "Key")) => (b.to_string(), Side::Key),
                Some((b, _)) => (b.to_string(), Side::Value),
                None => (simple.clone(), Side::Value),
            };
            let kind = match base.as_str() {
                "InsertField" => Kind::InsertField {
                    topic: opt(&c, "topic.field"),
                    partition: opt(&c, "partition.field"),
                    offset: opt(&c, "offset.field"),
                    timestamp: opt(&c, "timestamp.field"),
                    static_field: opt(&c, "static.field")
                        .map(|f| (f, c.get("static.value").cloned().unwrap_or_default())),
                },
                "ReplaceField" => Kind::ReplaceField {
                    exclude: [list(&c, "exclude"), list(&c, "blacklist")].concat(),
                    include: [list(&c, "include"), list(&c, "whitelist")].concat(),
                    renames: list(&c, "renames")
                        .into_iter()
                        .map(|r| {
                            r.split_once(':')
                                .map(|(a, b)| (a.to_string(), b.to_string()))
                                .ok_or_else(|| ConnectError::InvalidConfig {
                                    name: format!("{prefix}renames"),
                                    value: r.clone(),
                                    reason: "Invalid rename mapping: expected old:new".into(),
                                })
                        })
                        .collect::<Result<_>>()?,
                },
                "MaskField" => Kind::MaskField {
                    fields: list(&c, "fields"),
                    replacement: opt(&c, "replacement"),
                },
                "ValueToKey" => Kind::ValueToKey {
                    fields: list(&c, "fields"),
                },
                "ExtractField" => Kind::ExtractField {
                    field: required(&c, &prefix, "field")?,
                },
                "HoistField" => Kind::HoistField {
                    field: required(&c, &prefix, "field")?,
                },
                "Cast" => {
                    let spec = list(&c, "spec");
                    if spec.is_empty() {
                        return Err(ConnectError::BadRequest(format!("Missing required configuration \"{prefix}spec\" which has no default value.")));
                    }
                    let mut whole = None;
                    let mut fields = Vec::new();
                    for s in spec {
                        match s.split_once(':') {
                            Some((f, t)) => {
                                fields.push((f.trim().to_string(), t.trim().to_lowercase()))
                            }
                            None => whole = Some(s.to_lowercase()),
                        }
                    }
                    Kind::Cast { whole, fields }
                }
                "Flatten" => Kind::Flatten {
                    delimiter: c.get("delimiter").cloned().unwrap_or_else(|| ".".into()),
                },
                "TimestampConverter" => Kind::TimestampConverter {
                    field: opt(&c, "field"),
                    target: required(&c, &prefix, "target.type")?.to_lowercase(),
                    format: opt(&c, "format"),
                },
                "TimestampRouter" => Kind::TimestampRouter {
                    topic_format: opt(&c, "topic.format")
                        .unwrap_or_else(|| "${topic}-${timestamp}".into()),
                    timestamp_format: opt(&c, "timestamp.format")
                        .unwrap_or_else(|| "yyyyMMdd".into()),
                },
                "RegexRouter" => Kind::RegexRouter {
                    regex: regex(&required(&c, &prefix, "regex")?, &format!("{prefix}regex"))?,
                    replacement: required(&c, &prefix, "replacement")?,
                },
                "Filter" => Kind::Filter,
                _ => {
                    return Err(ConnectError::BadRequest(format!(
                        "Class {class} could not be found."
                    )))
                }
            };
            let predicate = match opt(&c, "predicate") {
                Some(p) => Some((
                    predicate_of(config, &p)?,
                    c.get("negate").is_some_and(|v| v.trim() == "true"),
                )),
                None => None,
            };
            transforms.push(Transform {
                alias,
                class,
                side,
                kind,
                predicate,
            });
        }
        Ok(Chain { transforms })
    }

    pub fn is_empty(&self) -> bool {
        self.transforms.is_empty()
    }

    /// Runs the chain; None when a transform dropped the record. An error names the transform's
    /// class (for DLQ headers).
    pub fn apply(
        &self,
        mut r: Record,
        at: Coordinates,
    ) -> std::result::Result<Option<Record>, (String, ConnectError)> {
        for t in &self.transforms {
            if let Some((p, negate)) = &t.predicate {
                if p.test(&r) == *negate {
                    continue;
                }
            }
            match t.apply(r, at) {
                Ok(Some(next)) => r = next,
                Ok(None) => return Ok(None),
                Err(e) => return Err((t.class.clone(), e)),
            }
        }
        Ok(Some(r))
    }
}

fn err(alias: &str, msg: impl std::fmt::Display) -> ConnectError {
    ConnectError::Data(format!("{msg} (transform {alias})"))
}

impl Transform {
    fn apply(&self, mut r: Record, at: Coordinates) -> Result<Option<Record>> {
        match &self.kind {
            Kind::Filter => return Ok(None),
            Kind::RegexRouter { regex, replacement } => {
                if regex.is_match(&r.topic) {
                    let java = replacement.replace("$", "$$").replace("$$$$", "$$");
                    let repl = java_groups(&java);
                    r.topic = regex.replace(&r.topic, repl.as_str()).into_owned();
                }
                return Ok(Some(r));
            }
            Kind::TimestampRouter {
                topic_format,
                timestamp_format,
            } => {
                let ts = r
                    .timestamp
                    .ok_or_else(|| err(&self.alias, "Timestamp missing on record"))?;
                r.topic = topic_format
                    .replace("${topic}", &r.topic)
                    .replace("${timestamp}", &format_time(ts, timestamp_format));
                return Ok(Some(r));
            }
            _ => {}
        }
        let (schema, value) = match self.side {
            Side::Key => (
                r.key_schema.take(),
                std::mem::replace(&mut r.key, Data::Null),
            ),
            Side::Value => (
                r.value_schema.take(),
                std::mem::replace(&mut r.value, Data::Null),
            ),
        };
        let (schema, value) = match &self.kind {
            Kind::ValueToKey { .. } if value.is_null() => {
                r.key_schema = None;
                r.key = Data::Null;
                (schema, value)
            }
            Kind::ValueToKey { fields } => {
                let Data::Struct(m) = &value else {
                    return Err(err(&self.alias, "Only Struct or Map objects supported for [copying fields from value to key]"));
                };
                let key: IndexMap<String, Data> = fields
                    .iter()
                    .map(|f| (f.clone(), m.get(f).cloned().unwrap_or(Data::Null)))
                    .collect();
                r.key_schema = schema.as_ref().map(|s| {
                    let fs: Vec<Json> = fields
                        .iter()
                        .filter_map(|f| field_schema(s, f).cloned())
                        .collect();
                    Arc::new(json!({"type": "struct", "fields": fs, "optional": false}))
                });
                r.key = Data::Struct(key);
                (schema, value)
            }
            _ => self.transform_data(schema, value, &r, at)?,
        };
        match self.side {
            Side::Key => {
                r.key_schema = schema;
                r.key = value;
            }
            Side::Value => {
                r.value_schema = schema;
                r.value = value;
            }
        }
        Ok(Some(r))
    }

    fn transform_data(
        &self,
        schema: Option<Schema>,
        value: Data,
        r: &Record,
        at: Coordinates,
    ) -> Result<(Option<Schema>, Data)> {
        let need_struct = |what: &str| {
            err(
                &self.alias,
                format!(
                    "Only Struct or Map objects supported for [{what}], found: {}",
                    type_name(&value)
                ),
            )
        };
        match &self.kind {
            Kind::InsertField {
                topic,
                partition,
                offset,
                timestamp,
                static_field,
            } => {
                if value.is_null() {
                    return Ok((schema, value)); // tombstones pass through
                }
                let Data::Struct(mut m) = value.clone() else {
                    return Err(need_struct("field insertion"));
                };
                let mut fields = schema
                    .as_ref()
                    .and_then(|s| s["fields"].as_array().cloned())
                    .unwrap_or_default();
                let mut add = |spec: &Option<String>, v: Data, t: &str| {
                    if let Some(spec) = spec {
                        let name = spec.trim_end_matches(['!', '?']).to_string();
                        fields.push(
                            json!({"field": name, "type": t, "optional": !spec.ends_with('!')}),
                        );
                        m.insert(name, v);
                    }
                };
                add(topic, Data::Str(r.topic.clone()), "string");
                add(
                    partition,
                    at.partition
                        .or(r.partition)
                        .map_or(Data::Null, |p| Data::Int(p as i64)),
                    "int32",
                );
                add(offset, at.offset.map_or(Data::Null, Data::Int), "int64");
                add(
                    timestamp,
                    r.timestamp.map_or(Data::Null, Data::Int),
                    "int64",
                );
                if let Some((f, v)) = static_field {
                    add(&Some(f.clone()), Data::Str(v.clone()), "string");
                }
                let schema = schema.map(|mut shared| {
                    let s = Arc::make_mut(&mut shared);
                    s["fields"] = Json::Array(fields);
                    shared
                });
                Ok((schema, Data::Struct(m)))
            }
            Kind::ReplaceField {
                exclude,
                include,
                renames,
            } => {
                if value.is_null() {
                    return Ok((schema, value));
                }
                let Data::Struct(m) = value else {
                    return Err(need_struct("field replacement"));
                };
                let keep = |f: &str| {
                    !exclude.iter().any(|e| e == f)
                        && (include.is_empty() || include.iter().any(|i| i == f))
                };
                let rename = |f: &str| {
                    renames
                        .iter()
                        .find(|(a, _)| a == f)
                        .map_or(f.to_string(), |(_, b)| b.clone())
                };
                let out: IndexMap<String, Data> = m
                    .into_iter()
                    .filter(|(k, _)| keep(k))
                    .map(|(k, v)| (rename(&k), v))
                    .collect();
                let schema = schema.map(|mut shared| {
                    let s = Arc::make_mut(&mut shared);
                    let fs: Vec<Json> = s["fields"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|f| keep(f["field"].as_str().unwrap_or_default()))
                        .map(|mut f| {
                            let n = rename(f["field"].as_str().unwrap_or_default());
                            f["field"] = json!(n);
                            f
                        })
                        .collect();
                    s["fields"] = Json::Array(fs);
                    shared
                });
                Ok((schema, Data::Struct(out)))
            }
            Kind::MaskField {
                fields,
                replacement,
            } => {
                if value.is_null() {
                    return Ok((schema, value));
                }
                let Data::Struct(mut m) = value else {
                    return Err(need_struct("masking fields"));
                };
                for f in fields {
                    if let Some(v) = m.get_mut(f) {
                        *v = match (replacement, &*v) {
                            (Some(rep), Data::Str(_)) => Data::Str(rep.clone()),
                            (Some(rep), Data::Int(_)) => Data::Int(rep.parse().map_err(|_| {
                                err(&self.alias, format!("Unable to convert {rep} to number"))
                            })?),
                            (Some(rep), Data::Float(_)) => {
                                Data::Float(rep.parse().map_err(|_| {
                                    err(&self.alias, format!("Unable to convert {rep} to number"))
                                })?)
                            }
                            (_, Data::Str(_)) => Data::Str(String::new()),
                            (_, Data::Int(_)) => Data::Int(0),
                            (_, Data::Float(_)) => Data::Float(0.0),
                            (_, Data::Bool(_)) => Data::Bool(false),
                            (_, Data::Bytes(_)) => Data::Bytes(Vec::new()),
                            (_, Data::Array(_)) => Data::Array(Vec::new()),
                            (_, Data::Struct(_)) => Data::Struct(IndexMap::new()),
                            (_, Data::Null) => Data::Null,
                        };
                    }
                }
                Ok((schema, Data::Struct(m)))
            }
            Kind::ExtractField { field } => {
                if value.is_null() {
                    return Ok((None, value));
                }
                let Data::Struct(m) = &value else {
                    return Err(need_struct("field extraction"));
                };
                let fs = schema
                    .as_ref()
                    .and_then(|s| field_schema(s, field))
                    .map(|f| {
                        let mut f = f.clone();
                        if let Some(o) = f.as_object_mut() {
                            o.remove("field");
                        }
                        f
                    });
                Ok((
                    fs.map(Arc::new),
                    m.get(field).cloned().unwrap_or(Data::Null),
                ))
            }
            Kind::HoistField { field } => {
                let s = schema.map(|s| {
                    let mut f = Json::clone(&s);
                    f["field"] = json!(field);
                    Arc::new(json!({"type": "struct", "fields": [f], "optional": false}))
                });
                Ok((s, Data::Struct(IndexMap::from([(field.clone(), value)]))))
            }
            Kind::Cast { whole, fields } => {
                if let Some(t) = whole {
                    let v = cast(&value, t).map_err(|e| err(&self.alias, e))?;
                    return Ok((
                        schema.map(|_| Arc::new(primitive_schema(connect_type(t), false))),
                        v,
                    ));
                }
                if value.is_null() {
                    return Ok((schema, value));
                }
                let Data::Struct(mut m) = value else {
                    return Err(need_struct("casting"));
                };
                for (f, t) in fields {
                    if let Some(v) = m.get_mut(f) {
                        *v = cast(v, t).map_err(|e| err(&self.alias, e))?;
                    }
                }
                let schema = schema.map(|mut shared| {
                    let s = Arc::make_mut(&mut shared);
                    if let Some(fs) = s["fields"].as_array_mut() {
                        for f in fs.iter_mut() {
                            if let Some((_, t)) = fields
                                .iter()
                                .find(|(n, _)| Some(n.as_str()) == f["field"].as_str())
                            {
                                f["type"] = json!(connect_type(t));
                            }
                        }
                    }
                    shared
                });
                Ok((schema, Data::Struct(m)))
            }
            Kind::Flatten { delimiter } => {
                if value.is_null() {
                    return Ok((schema, value));
                }
                let mut out = IndexMap::new();
                let mut fs = Vec::new();
                flatten("", &value, schema.as_deref(), delimiter, &mut out, &mut fs);
                let schema = schema.map(|mut shared| {
                    let s = Arc::make_mut(&mut shared);
                    s["fields"] = Json::Array(fs);
                    shared
                });
                Ok((schema, Data::Struct(out)))
            }
            Kind::TimestampConverter {
                field,
                target,
                format,
            } => {
                let convert = |v: &Data| -> Result<(Data, Json)> {
                    let ms = match v {
                        Data::Int(i) => *i,
                        Data::Str(s) => {
                            let f = format.as_deref().ok_or_else(|| err(&self.alias, "TimestampConverter requires format option to be specified when using string timestamps"))?;
                            parse_time(s, f).ok_or_else(|| err(&self.alias, format!("Could not parse timestamp: value ({s}) does not match pattern ({f})")))?
                        }
                        Data::Null => return Ok((Data::Null, primitive_schema("int64", true))),
                        other => {
                            return Err(err(
                                &self.alias,
                                format!("Expected a timestamp, found {}", type_name(other)),
                            ))
                        }
                    };
                    Ok(match target.as_str() {
                        "string" => {
                            let f = format.as_deref().ok_or_else(|| err(&self.alias, "TimestampConverter requires format option to be specified when using string timestamps"))?;
                            (
                                Data::Str(format_time(ms, f)),
                                primitive_schema("string", false),
                            )
                        }
                        "unix" => (Data::Int(ms), primitive_schema("int64", false)),
                        "date" => (
                            Data::Int(ms - ms.rem_euclid(86_400_000)),
                            json!({"type": "int32", "optional": false, "name": "org.apache.kafka.connect.data.Date", "version": 1}),
                        ),
                        "time" => (
                            Data::Int(ms.rem_euclid(86_400_000)),
                            json!({"type": "int32", "optional": false, "name": "org.apache.kafka.connect.data.Time", "version": 1}),
                        ),
                        _ => (
                            Data::Int(ms),
                            json!({"type": "int64", "optional": false, "name": "org.apache.kafka.connect.data.Timestamp", "version": 1}),
                        ),
                    })
                };
                match field {
                    None => {
                        let (v, s) = convert(&value)?;
                        Ok((schema.map(|_| Arc::new(s)), v))
                    }
                    Some(f) => {
                        if value.is_null() {
                            return Ok((schema, value));
                        }
                        let Data::Struct(mut m) = value else {
                            return Err(need_struct("converting timestamp formats"));
                        };
                        let mut new_schema = None;
                        if let Some(v) = m.get_mut(f) {
                            let (nv, s) = convert(v)?;
                            *v = nv;
                            new_schema = Some(s);
                        }
                        let schema = schema.map(|mut shared| {
                            let s = Arc::make_mut(&mut shared);
                            if let (Some(fs), Some(ns)) = (s["fields"].as_array_mut(), new_schema) {
                                for x in fs.iter_mut().filter(|x| x["field"].as_str() == Some(f)) {
                                    let mut ns = ns.clone();
                                    ns["field"] = json!(f);
                                    *x = ns;
                                }
                            }
                            shared
                        });
                        Ok((schema, Data::Struct(m)))
                    }
                }
            }
            _ => Ok((schema, value)),
        }
    }
}

/// Java's `$1` group references as the regex crate's `${1}`.
fn java_groups(java: &str) -> String {
    let re = Regex::new(r"\$\$(\d+)").expect("static regex");
    re.replace_all(java, "$${$1}").into_owned()
}

fn type_name(v: &Data) -> &'static str {
    match v {
        Data::Null => "null",
        Data::Bool(_) => "java.lang.Boolean",
        Data::Int(_) => "java.lang.Long",
        Data::Float(_) => "java.lang.Double",
        Data::Str(_) => "java.lang.String",
        Data::Bytes(_) => "[B",
        Data::Array(_) => "java.util.ArrayList",
        Data::Struct(_) => "org.apache.kafka.connect.data.Struct",
    }
}

fn connect_type(t: &str) -> &'static str {
    match t {
        "int8" => "int8",
        "int16" => "int16",
        "int32" => "int32",
        "int64" => "int64",
        "float32" => "float32",
        "float64" => "float64",
        "boolean" => "boolean",
        _ => "string",
    }
}

fn cast(v: &Data, t: &str) -> std::result::Result<Data, String> {
    let as_f = |v: &Data| -> std::result::Result<f64, String> {
        match v {
            Data::Int(i) => Ok(*i as f64),
            Data::Float(f) => Ok(*f),
            Data::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
            Data::Str(s) => s
                .trim()
                .parse()
                .map_err(|_| format!("Value ({s}) is not a number")),
            other => Err(format!(
                "Cast transformation does not support casting from {}",
                type_name(other)
            )),
        }
    };
    if v.is_null() {
        return Ok(Data::Null);
    }
    Ok(match t {
        "int8" | "int16" | "int32" | "int64" => {
            let f = as_f(v)?;
            let (lo, hi) = match t {
                "int8" => (i8::MIN as f64, i8::MAX as f64),
                "int16" => (i16::MIN as f64, i16::MAX as f64),
                "int32" => (i32::MIN as f64, i32::MAX as f64),
                _ => (i64::MIN as f64, i64::MAX as f64),
            };
            if f < lo || f > hi {
                return Err(format!("Value {f} out of range for {t}"));
            }
            Data::Int(f.trunc() as i64)
        }
        "float32" | "float64" => Data::Float(as_f(v)?),
        "boolean" => match v {
            Data::Str(s) => Data::Bool(s.trim().eq_ignore_ascii_case("true")),
            other => Data::Bool(as_f(other)? != 0.0),
        },
        "string" => Data::Str(v.to_text()),
        other => return Err(format!("Unknown type in Cast specification: {other}")),
    })
}

fn flatten(
    prefix: &str,
    v: &Data,
    schema: Option<&Json>,
    delim: &str,
    out: &mut IndexMap<String, Data>,
    fs: &mut Vec<Json>,
) {
    match v {
        Data::Struct(m) => {
            for (k, x) in m {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}{delim}{k}")
                };
                let s = schema.and_then(|s| field_schema(s, k));
                if let Data::Struct(_) = x {
                    flatten(&name, x, s, delim, out, fs);
                } else {
                    if let Some(s) = s {
                        let mut s = s.clone();
                        s["field"] = json!(name);
                        fs.push(s);
                    }
                    out.insert(name, x.clone());
                }
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Hinnant's algorithm).
pub(crate) fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The tokens of a Java date pattern this module understands (in UTC).
const TOKENS: &[&str] = &["yyyy", "MM", "dd", "HH", "mm", "ss", "SSS"];

fn tokens(pattern: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let mut rest = pattern;
    let mut quoted = false;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('\'') {
            quoted = !quoted;
            rest = r;
            continue;
        }
        if !quoted {
            if let Some(t) = TOKENS.iter().find(|t| rest.starts_with(**t)) {
                out.push((true, t.to_string()));
                rest = &rest[t.len()..];
                continue;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push((false, c.to_string()));
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Formats epoch millis with a Java `SimpleDateFormat` pattern (yyyy MM dd HH mm ss SSS), UTC.
pub fn format_time(ms: i64, pattern: &str) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, mo, d) = civil(days);
    tokens(pattern)
        .into_iter()
        .map(|(tok, s)| {
            if !tok {
                return s;
            }
            match s.as_str() {
                "yyyy" => format!("{y:04}"),
                "MM" => format!("{mo:02}"),
                "dd" => format!("{d:02}"),
                "HH" => format!("{:02}", in_day / 3_600_000),
                "mm" => format!("{:02}", in_day / 60_000 % 60),
                "ss" => format!("{:02}", in_day / 1000 % 60),
                _ => format!("{:03}", in_day % 1000),
            }
        })
        .collect()
}

/// Parses text written with such a pattern back to epoch millis (UTC).
pub fn parse_time(text: &str, pattern: &str) -> Option<i64> {
    let (mut y, mut mo, mut d, mut h, mut mi, mut s, mut ms) =
        (1970i64, 1u32, 1u32, 0i64, 0i64, 0i64, 0i64);
    let mut rest = text;
    for (tok, lit) in tokens(pattern) {
        if !tok {
            rest = rest.strip_prefix(lit.as_str())?;
            continue;
        }
        let n = lit.len();
        let digits = rest.get(..n)?;
        let v: i64 = digits.parse().ok()?;
        rest = &rest[n..];
        match lit.as_str() {
            "yyyy" => y = v,
            "MM" => mo = v as u32,
            "dd" => d = v as u32,
            "HH" => h = v,
            "mm" => mi = v,
            "ss" => s = v,
            _ => ms = v,
        }
    }
    if !rest.is_empty() || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400_000 + h * 3_600_000 + mi * 60_000 + s * 1000 + ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Config {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn rec(value: Json) -> Record {
        let mut r = Record::new("orders", None, Data::from_json(&value));
        r.timestamp = Some(1_700_000_000_000);
        r
    }

    #[test]
    fn chain_of_upstream_transforms() {
        let c = cfg(&[
            ("transforms", "insert,mask,key,route,drop"),
            (
                "transforms.insert.type",
                "org.apache.kafka.connect.transforms.InsertField$Value",
            ),
            ("transforms.insert.topic.field", "src"),
            ("transforms.insert.static.field", "env"),
            ("transforms.insert.static.value", "dev"),
            (
                "transforms.mask.type",
                "org.apache.kafka.connect.transforms.MaskField$Value",
            ),
            ("transforms.mask.fields", "card"),
            (
                "transforms.key.type",
                "org.apache.kafka.connect.transforms.ValueToKey",
            ),
            ("transforms.key.fields", "id"),
            (
                "transforms.route.type",
                "org.apache.kafka.connect.transforms.RegexRouter",
            ),
            ("transforms.route.regex", "(.*)s"),
            ("transforms.route.replacement", "$1-routed"),
            (
                "transforms.drop.type",
                "org.apache.kafka.connect.transforms.Filter",
            ),
            ("transforms.drop.predicate", "tomb"),
            ("predicates", "tomb"),
            (
                "predicates.tomb.type",
                "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
            ),
        ]);
        let chain = Chain::from_config(&c).unwrap();
        let out = chain
            .apply(
                rec(json!({"id": 7, "card": "4111"})),
                Coordinates::default(),
            )
            .unwrap()
            .unwrap();
        assert_eq!(out.topic, "order-routed");
        assert_eq!(
            out.value.to_json(),
            json!({"id": 7, "card": "", "src": "orders", "env": "dev"})
        );
        assert_eq!(out.key.to_json(), json!({"id": 7}));
        // The tombstone is dropped by the predicated Filter.
        assert!(chain
            .apply(
                Record::new("orders", None, Data::Null),
                Coordinates::default()
            )
            .unwrap()
            .is_none());
    }

    #[test]
    fn replace_extract_hoist_cast_flatten() {
        let c = cfg(&[
            ("transforms", "r,f,c"),
            (
                "transforms.r.type",
                "org.apache.kafka.connect.transforms.ReplaceField$Value",
            ),
            ("transforms.r.exclude", "secret"),
            ("transforms.r.renames", "n:name"),
            (
                "transforms.f.type",
                "org.apache.kafka.connect.transforms.Flatten$Value",
            ),
            ("transforms.f.delimiter", "_"),
            (
                "transforms.c.type",
                "org.apache.kafka.connect.transforms.Cast$Value",
            ),
            ("transforms.c.spec", "addr_zip:int32"),
        ]);
        let out = Chain::from_config(&c)
            .unwrap()
            .apply(
                rec(json!({"n": "a", "secret": 1, "addr": {"zip": "123"}})),
                Coordinates::default(),
            )
            .unwrap()
            .unwrap();
        assert_eq!(out.value.to_json(), json!({"name": "a", "addr_zip": 123}));
        let c = cfg(&[
            ("transforms", "e,h"),
            (
                "transforms.e.type",
                "org.apache.kafka.connect.transforms.ExtractField$Value",
            ),
            ("transforms.e.field", "n"),
            (
                "transforms.h.type",
                "org.apache.kafka.connect.transforms.HoistField$Value",
            ),
            ("transforms.h.field", "wrapped"),
        ]);
        let out = Chain::from_config(&c)
            .unwrap()
            .apply(rec(json!({"n": "a"})), Coordinates::default())
            .unwrap()
            .unwrap();
        assert_eq!(out.value.to_json(), json!({"wrapped": "a"}));
    }

    #[test]
    fn timestamps_and_predicates() {
        assert_eq!(
            format_time(1_700_000_000_123, "yyyy-MM-dd'T'HH:mm:ss.SSS"),
            "2023-11-14T22:13:20.123"
        );
        assert_eq!(
            parse_time("2023-11-14 22:13:20", "yyyy-MM-dd HH:mm:ss"),
            Some(1_700_000_000_000)
        );
        let c = cfg(&[
            ("transforms", "ts,router"),
            (
                "transforms.ts.type",
                "org.apache.kafka.connect.transforms.TimestampConverter$Value",
            ),
            ("transforms.ts.field", "at"),
            ("transforms.ts.target.type", "string"),
            ("transforms.ts.format", "yyyy-MM-dd"),
            (
                "transforms.router.type",
                "org.apache.kafka.connect.transforms.TimestampRouter",
            ),
            ("transforms.router.predicate", "isOrders"),
            ("transforms.router.negate", "false"),
            ("predicates", "isOrders"),
            (
                "predicates.isOrders.type",
                "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
            ),
            ("predicates.isOrders.pattern", "ord.*"),
        ]);
        let chain = Chain::from_config(&c).unwrap();
        let out = chain
            .apply(
                rec(json!({"at": 1_700_000_000_000i64})),
                Coordinates::default(),
            )
            .unwrap()
            .unwrap();
        assert_eq!(out.topic, "orders-20231114");
        assert_eq!(out.value.to_json(), json!({"at": "2023-11-14"}));
        let mut other = rec(json!({"at": 0}));
        other.topic = "users".into();
        assert_eq!(
            chain
                .apply(other, Coordinates::default())
                .unwrap()
                .unwrap()
                .topic,
            "users"
        );
        let bad = cfg(&[
            ("transforms", "x"),
            ("transforms.x.type", "com.example.Nope"),
        ]);
        assert_eq!(
            Chain::from_config(&bad).unwrap_err().to_string(),
            "Class com.example.Nope could not be found."
        );
    }

    #[test]
    fn has_header_key_and_schemas_follow_the_data() {
        let c = cfg(&[
            ("transforms", "ins"),
            (
                "transforms.ins.type",
                "org.apache.kafka.connect.transforms.InsertField$Value",
            ),
            ("transforms.ins.offset.field", "off"),
            ("transforms.ins.predicate", "h"),
            ("predicates", "h"),
            (
                "predicates.h.type",
                "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
            ),
            ("predicates.h.name", "trace"),
        ]);
        let chain = Chain::from_config(&c).unwrap();
        let schema = json!({"type": "struct", "optional": false, "fields": [{"field": "a", "type": "string", "optional": false}]});
        let mut r = Record::new(
            "t",
            Some(Arc::new(schema)),
            Data::from_json(&json!({"a": "x"})),
        );
        let at = Coordinates {
            partition: Some(0),
            offset: Some(9),
        };
        assert_eq!(
            chain.apply(r.clone(), at).unwrap().unwrap().value.to_json(),
            json!({"a": "x"})
        );
        r.headers.push(("trace".into(), None));
        let out = chain.apply(r, at).unwrap().unwrap();
        assert_eq!(out.value.to_json(), json!({"a": "x", "off": 9}));
        assert_eq!(
            out.value_schema.unwrap()["fields"][1],
            json!({"field": "off", "type": "int64", "optional": true})
        );
        assert_eq!(
            crate::data::schema_type(&primitive_schema("string", false)),
            "string"
        );
    }
}
