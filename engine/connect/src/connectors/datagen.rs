//! `io.confluent.kafka.connect.datagen.DatagenConnector`: random records from an Avro schema
//! annotated with `arg.properties` (`iteration`, `range`, `options`, `regex`, as
//! avro-random-generator reads them): a `quickstart` (orders, users, pageviews) or a custom
//! `schema.string` / `schema.filename`. Keys: `kafka.topic`, `max.interval`, `iterations`, `schema.keyfield`,
//! `random.seed`. Source partition `{"task.id": N}`, offset `{"current.iteration": I}`, so a
//! restarted task carries on counting. Values are structs with the Avro schema turned into a
//! Connect schema, so AvroConverter registers the same record shape. It never touches topics.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value as Json};

use crate::config::{int, Config, ConfigDef, ConfigType, Importance, Validator};
use crate::converters::{avro_to_connect, struct_from_json};
use crate::data::{field_schema, Data, Record, Schema, SourceRecord};
use crate::error::{ConnectError, Result};
use crate::plugin::{BoxFuture, Connector, OffsetReader, SourceConnector, SourceTask};

pub const CLASS: &str = "io.confluent.kafka.connect.datagen.DatagenConnector";

const ORDERS: &str = r#"{"namespace":"ksql","name":"orders","type":"record","fields":[
 {"name":"ordertime","type":{"type":"long","format_as_time":"unix_long","arg.properties":{"range":{"min":1487715775521,"max":1519273364600}}}},
 {"name":"orderid","type":{"type":"int","arg.properties":{"iteration":{"start":0}}}},
 {"name":"itemid","type":{"type":"string","arg.properties":{"regex":"Item_[1-9][0-9]{0,2}"}}},
 {"name":"orderunits","type":{"type":"double","arg.properties":{"range":{"min":0.1,"max":10.0}}}},
 {"name":"address","type":{"type":"record","name":"address","fields":[
  {"name":"city","type":{"type":"string","arg.properties":{"regex":"City_[1-9]{0,2}"}}},
  {"name":"state","type":{"type":"string","arg.properties":{"regex":"State_[1-9]{0,2}"}}},
  {"name":"zipcode","type":{"type":"long","arg.properties":{"range":{"min":10000,"max":99999}}}}]}}]}"#;

const USERS: &str = r#"{"namespace":"ksql","name":"users","type":"record","fields":[
 {"name":"registertime","type":{"type":"long","arg.properties":{"range":{"min":1487715775521,"max":1519273364600}}}},
 {"name":"userid","type":{"type":"string","arg.properties":{"regex":"User_[1-9]"}}},
 {"name":"regionid","type":{"type":"string","arg.properties":{"regex":"Region_[1-9]"}}},
 {"name":"gender","type":{"type":"string","arg.properties":{"options":["MALE","FEMALE","OTHER"]}}}]}"#;

const PAGEVIEWS: &str = r#"{"namespace":"ksql","name":"pageviews","type":"record","fields":[
 {"name":"viewtime","type":{"type":"long","arg.properties":{"iteration":{"start":1,"step":10}}}},
 {"name":"userid","type":{"type":"string","arg.properties":{"regex":"User_[1-9]"}}},
 {"name":"pageid","type":{"type":"string","arg.properties":{"regex":"Page_[1-9][0-9]?"}}}]}"#;

/// The quickstarts: name → (Avro schema, key field).
pub const QUICKSTARTS: &[(&str, &str, &str)] = &[
    ("orders", ORDERS, "orderid"),
    ("users", USERS, "userid"),
    ("pageviews", PAGEVIEWS, "viewtime"),
];

pub struct Datagen;

/// The Avro schema and key field a config asks for.
fn schema_of(config: &Config) -> std::result::Result<(Json, Option<String>), (String, String)> {
    let keyfield = config
        .get("schema.keyfield")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if let Some(q) = config
        .get("quickstart")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        let Some((_, text, key)) = QUICKSTARTS
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(q))
        else {
            let names: Vec<&str> = QUICKSTARTS.iter().map(|(n, _, _)| *n).collect();
            return Err((
                "quickstart".into(),
                format!(
                    "Invalid value {q} for configuration quickstart: String must be one of: {}",
                    names.join(", ")
                ),
            ));
        };
        let schema =
            serde_json::from_str(text).map_err(|e| ("quickstart".into(), e.to_string()))?;
        return Ok((schema, keyfield.or(Some(key.to_string()))));
    }
    let from_file = match config
        .get("schema.filename")
        .map(|f| f.trim())
        .filter(|f| !f.is_empty())
    {
        Some(f) => Some(std::fs::read_to_string(f).map_err(|e| {
            (
                "schema.filename".to_string(),
                format!("Unable to read the schema file {f}: {e}"),
            )
        })?),
        None => None,
    };
    if let Some(s) = from_file
        .as_ref()
        .or(config.get("schema.string"))
        .filter(|s| !s.trim().is_empty())
    {
        let schema: Json = serde_json::from_str(s).map_err(|e| {
            (
                "schema.string".to_string(),
                format!("Unable to parse the provided schema: {e}"),
            )
        })?;
        if let Err(e) = sluice_registry::formats::ParsedSchema::parse(
            sluice_registry::model::SchemaType::Avro,
            s,
            &[],
        ) {
            return Err((
                "schema.string".into(),
                format!("Unable to parse the provided schema: {e}"),
            ));
        }
        return Ok((schema, keyfield));
    }
    Err((
        "quickstart".into(),
        "Must set one of schema.filename, schema.string or quickstart".into(),
    ))
}

impl Connector for Datagen {
    fn class(&self) -> &'static str {
        CLASS
    }

    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define("kafka.topic", ConfigType::String, None, Validator::NonEmptyString, Importance::High, "Topic to write to")
            .define("max.interval", ConfigType::Long, Some("500"), Validator::AtLeast(0), Importance::High, "Max interval between messages (ms)")
            .define("iterations", ConfigType::Int, Some("-1"), Validator::None, Importance::High, "Number of messages to send from each task, or less than 1 for unlimited")
            .define("schema.filename", ConfigType::String, Some(""), Validator::None, Importance::High, "Filename of schema to use")
            .define("schema.string", ConfigType::String, Some(""), Validator::None, Importance::High, "The literal JSON-encoded Avro schema to use. Cannot be set with schema.filename or quickstart")
            .define("schema.keyfield", ConfigType::String, Some(""), Validator::None, Importance::High, "Name of field to use as the message key")
            .define("quickstart", ConfigType::String, Some(""), Validator::None, Importance::High, "Name of quickstart to use: orders, users, pageviews")
            .define("random.seed", ConfigType::Long, Some(""), Validator::None, Importance::Low, "Numeric seed for generating random data. Two connectors started with the same seed will deterministically produce the same data. Each task will generate different data than the other tasks in the same connector.")
    }

    fn validate(&self, config: &Config) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        if let Err(e) = schema_of(config) {
            errors.push(e);
        } else if let Ok((schema, Some(key))) = schema_of(config) {
            if !schema["fields"]
                .as_array()
                .is_some_and(|fs| fs.iter().any(|f| f["name"] == json!(key)))
            {
                errors.push((
                    "schema.keyfield".into(),
                    format!("The schema does not have a field named {key}"),
                ));
            }
        }
        errors
    }

    fn task_configs(&self, config: &Config, max_tasks: usize) -> Result<Vec<Config>> {
        Ok((0..max_tasks.max(1))
            .map(|i| {
                let mut c = config.clone();
                c.insert("task.id".into(), i.to_string());
                c
            })
            .collect())
    }
}

impl SourceConnector for Datagen {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(DatagenTask::default())
    }
}

#[derive(Default)]
struct DatagenTask {
    topic: String,
    task_id: i64,
    avro: Json,
    /// The Connect schema of the values, shared by every record.
    connect_schema: Schema,
    keyfield: Option<String>,
    /// The Connect schema of the keys (the key field's), shared by every record.
    key_schema: Option<Schema>,
    max_interval: u64,
    iterations: i64,
    count: i64,
    rng: Rng,
}

impl SourceTask for DatagenTask {
    fn start<'a>(
        &'a mut self,
        config: &'a Config,
        offsets: Arc<dyn OffsetReader>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let (avro, keyfield) = schema_of(config).map_err(|(_, m)| ConnectError::Task(m))?;
            self.topic = config.get("kafka.topic").cloned().unwrap_or_default();
            self.task_id = int(config, "task.id", 0);
            self.connect_schema = Arc::new(avro_to_connect(&avro, ""));
            self.avro = avro;
            self.key_schema = keyfield.as_ref().and_then(|k| {
                field_schema(&self.connect_schema, k).map(|f| {
                    let mut f = f.clone();
                    if let Some(o) = f.as_object_mut() {
                        o.remove("field");
                    }
                    Arc::new(f)
                })
            });
            self.keyfield = keyfield;
            self.max_interval = int(config, "max.interval", 500).max(0) as u64;
            self.iterations = int(config, "iterations", -1);
            self.count = offsets
                .offset(&json!({"task.id": self.task_id}))
                .and_then(|o| o["current.iteration"].as_i64())
                .unwrap_or(0);
            let seed = config
                .get("random.seed")
                .and_then(|s| s.trim().parse::<u64>().ok())
                .unwrap_or_else(|| sluice_log::now_ms() as u64);
            self.rng = Rng::new(
                seed ^ (self.task_id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    ^ (self.count as u64),
            );
            Ok(())
        })
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Vec<SourceRecord>>> {
        Box::pin(async move {
            if self.iterations > 0 && self.count >= self.iterations {
                tokio::time::sleep(Duration::from_millis(500)).await;
                return Ok(Vec::new());
            }
            if self.max_interval > 0 {
                let wait = self.rng.below(self.max_interval + 1);
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
            let value = generate(&self.avro, &mut self.rng, self.count);
            self.count += 1;
            let data = struct_from_json(&value, &self.connect_schema);
            let mut record = Record::new(
                self.topic.clone(),
                Some(Arc::clone(&self.connect_schema)),
                data,
            );
            if let Some(k) = &self.keyfield {
                record.key = record.value.field(k).cloned().unwrap_or(Data::Null);
                record.key_schema = self.key_schema.clone();
            }
            record.timestamp = Some(sluice_log::now_ms());
            Ok(vec![SourceRecord {
                source_partition: json!({"task.id": self.task_id}),
                source_offset: json!({"task.generation": 0, "current.iteration": self.count}),
                record,
            }])
        })
    }
}

/// xorshift64*: small, seedable, good enough for demo data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Default for Rng {
    fn default() -> Self {
        Rng::new(1)
    }
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One value of an annotated Avro schema, as JSON (`iteration` counts from `count`).
pub fn generate(schema: &Json, rng: &mut Rng, count: i64) -> Json {
    match schema {
        Json::String(t) => primitive(t, &Json::Null, rng, count),
        Json::Array(branches) => {
            let b = &branches[rng.below(branches.len() as u64) as usize];
            generate(b, rng, count)
        }
        Json::Object(o) => {
            let args = o.get("arg.properties").cloned().unwrap_or(Json::Null);
            if let Some(opts) = args["options"].as_array().filter(|a| !a.is_empty()) {
                return opts[rng.below(opts.len() as u64) as usize].clone();
            }
            match o.get("type") {
                Some(Json::String(t)) if t == "record" => Json::Object(
                    o.get("fields")
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten()
                        .map(|f| {
                            (
                                f["name"].as_str().unwrap_or_default().to_string(),
                                generate(&f["type"], rng, count),
                            )
                        })
                        .collect(),
                ),
                Some(Json::String(t)) if t == "enum" => {
                    let symbols = o
                        .get("symbols")
                        .and_then(Json::as_array)
                        .cloned()
                        .unwrap_or_default();
                    symbols
                        .get(rng.below(symbols.len().max(1) as u64) as usize)
                        .cloned()
                        .unwrap_or(Json::Null)
                }
                Some(Json::String(t)) if t == "array" => {
                    let n = rng.below(5);
                    Json::Array((0..n).map(|_| generate(&o["items"], rng, count)).collect())
                }
                Some(Json::String(t)) if t == "map" => {
                    let n = rng.below(5);
                    Json::Object(
                        (0..n)
                            .map(|i| (format!("key{i}"), generate(&o["values"], rng, count)))
                            .collect(),
                    )
                }
                Some(Json::String(t)) => primitive(t, &args, rng, count),
                Some(inner) => generate(inner, rng, count),
                None => Json::Null,
            }
        }
        _ => Json::Null,
    }
}

fn primitive(t: &str, args: &Json, rng: &mut Rng, count: i64) -> Json {
    if let Some(it) = args.get("iteration") {
        let start = it["start"].as_f64().unwrap_or(0.0);
        let step = it["step"].as_f64().unwrap_or(1.0);
        let v = start + step * count as f64;
        return match t {
            "int" | "long" => json!(v as i64),
            "float" | "double" => json!(v),
            _ => json!(format!("{}", v as i64)),
        };
    }
    let range = args.get("range");
    match t {
        "null" => Json::Null,
        "boolean" => json!(rng.below(2) == 1),
        "int" | "long" => {
            let (lo, hi) = match range {
                Some(r) => (
                    r["min"].as_i64().unwrap_or(0),
                    r["max"].as_i64().unwrap_or(if t == "int" {
                        i32::MAX as i64
                    } else {
                        i64::MAX / 2
                    }),
                ),
                None if t == "int" => (i32::MIN as i64, i32::MAX as i64),
                None => (i64::MIN / 2, i64::MAX / 2),
            };
            let span = (hi - lo).max(1) as u64;
            json!(lo + rng.below(span) as i64)
        }
        "float" | "double" => {
            let (lo, hi) = match range {
                Some(r) => (
                    r["min"].as_f64().unwrap_or(0.0),
                    r["max"].as_f64().unwrap_or(1.0),
                ),
                None => (0.0, 1.0),
            };
            json!(lo + rng.unit() * (hi - lo))
        }
        "bytes" | "string" => {
            let s = match args["regex"].as_str() {
                Some(re) => from_regex(re, rng),
                None => {
                    let len = args["length"]["min"].as_u64().unwrap_or(8) as usize;
                    (0..len)
                        .map(|_| (b'a' + rng.below(26) as u8) as char)
                        .collect()
                }
            };
            json!(s)
        }
        _ => Json::Null,
    }
}

/// A string matching a simple regex: literals, `\` escapes, `[...]` classes with ranges,
/// `.`, and the quantifiers `?`, `*`, `+`, `{n}`, `{m,n}` (unbounded ones repeat up to 5).
pub fn from_regex(re: &str, rng: &mut Rng) -> String {
    let chars: Vec<char> = re.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let choices: Vec<char> = match chars[i] {
            '[' => {
                let mut set = Vec::new();
                i += 1;
                while i < chars.len() && chars[i] != ']' {
                    if i + 2 < chars.len() && chars[i + 1] == '-' && chars[i + 2] != ']' {
                        set.extend(chars[i]..=chars[i + 2]);
                        i += 3;
                    } else {
                        set.push(chars[i]);
                        i += 1;
                    }
                }
                set
            }
            '\\' if i + 1 < chars.len() => {
                i += 1;
                match chars[i] {
                    'd' => ('0'..='9').collect(),
                    'w' => ('a'..='z').chain('A'..='Z').chain('0'..='9').collect(),
                    c => vec![c],
                }
            }
            '.' => ('a'..='z').collect(),
            c => vec![c],
        };
        i += 1;
        let (lo, hi) = match chars.get(i) {
            Some('?') => {
                i += 1;
                (0, 1)
            }
            Some('*') => {
                i += 1;
                (0, 5)
            }
            Some('+') => {
                i += 1;
                (1, 5)
            }
            Some('{') => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == '}')
                    .map(|p| i + p)
                    .unwrap_or(chars.len() - 1);
                let inner: String = chars[i + 1..end].iter().collect();
                i = end + 1;
                match inner.split_once(',') {
                    Some((a, b)) => (a.trim().parse().unwrap_or(0), b.trim().parse().unwrap_or(5)),
                    None => {
                        let n = inner.trim().parse().unwrap_or(1);
                        (n, n)
                    }
                }
            }
            _ => (1, 1),
        };
        let n = lo + rng.below((hi - lo + 1) as u64) as usize;
        for _ in 0..n {
            if !choices.is_empty() {
                out.push(choices[rng.below(choices.len() as u64) as usize]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quickstarts_follow_their_arg_properties() {
        let mut rng = Rng::new(42);
        let re = regex::Regex::new(r"^Item_[1-9][0-9]{0,2}$").unwrap();
        for i in 0..50 {
            let (_, text, _) = QUICKSTARTS[0];
            let v = generate(&serde_json::from_str(text).unwrap(), &mut rng, i);
            assert_eq!(v["orderid"], json!(i));
            assert!(re.is_match(v["itemid"].as_str().unwrap()), "{v}");
            let units = v["orderunits"].as_f64().unwrap();
            assert!((0.1..=10.0).contains(&units));
            let zip = v["address"]["zipcode"].as_i64().unwrap();
            assert!((10000..=99999).contains(&zip));
        }
        let (_, text, _) = QUICKSTARTS[1];
        let v = generate(&serde_json::from_str(text).unwrap(), &mut rng, 0);
        assert!(["MALE", "FEMALE", "OTHER"].contains(&v["gender"].as_str().unwrap()));
        let (_, text, _) = QUICKSTARTS[2];
        let v = generate(&serde_json::from_str(text).unwrap(), &mut rng, 3);
        assert_eq!(v["viewtime"], json!(31));
    }

    #[test]
    fn config_problems_are_reported_per_key() {
        let mut c = Config::new();
        assert_eq!(Datagen.validate(&c)[0].0, "quickstart");
        c.insert("quickstart".into(), "nope".into());
        assert!(Datagen.validate(&c)[0]
            .1
            .contains("orders, users, pageviews"));
        c.insert("quickstart".into(), "users".into());
        assert!(Datagen.validate(&c).is_empty());
        c.insert("schema.keyfield".into(), "missing".into());
        assert_eq!(Datagen.validate(&c)[0].0, "schema.keyfield");
    }
}
