//! Config definitions as Connect's `ConfigDef` has them (name, type, default, importance,
//! documentation, validator, group), the checks that turn a config map into per-field errors
//! (with Connect's messages), the JSON shapes of `/connector-plugins/{type}/config` and
//! `.../config/validate`, and the worker's own connector-level keys (`connector.class`,
//! `tasks.max`, converters, `transforms`, `predicates`, `errors.*`). No I/O.

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

/// A connector's or task's configuration: string keys and values, as Connect's REST API has it.
pub type Config = BTreeMap<String, String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    Boolean,
    String,
    Int,
    Long,
    Double,
    List,
    Class,
    Password,
}

impl ConfigType {
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigType::Boolean => "BOOLEAN",
            ConfigType::String => "STRING",
            ConfigType::Int => "INT",
            ConfigType::Long => "LONG",
            ConfigType::Double => "DOUBLE",
            ConfigType::List => "LIST",
            ConfigType::Class => "CLASS",
            ConfigType::Password => "PASSWORD",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Importance {
    High,
    Medium,
    Low,
}

impl Importance {
    pub fn as_str(self) -> &'static str {
        match self {
            Importance::High => "HIGH",
            Importance::Medium => "MEDIUM",
            Importance::Low => "LOW",
        }
    }
}

/// What a value must satisfy beyond parsing as its type.
#[derive(Debug, Clone, PartialEq)]
pub enum Validator {
    None,
    NonEmptyString,
    AtLeast(i64),
    Between(i64, i64),
    /// One of these strings (case-insensitive, as Connect's `CaseInsensitiveValidString`).
    OneOf(Vec<&'static str>),
}

/// One key of a [`ConfigDef`].
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigKey {
    pub name: &'static str,
    pub kind: ConfigType,
    /// None: required (no default). `Some("")`: optional, null by default.
    pub default: Option<&'static str>,
    pub importance: Importance,
    pub documentation: &'static str,
    pub validator: Validator,
    pub group: Option<&'static str>,
}

/// The keys a connector (or the worker) understands.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigDef {
    pub keys: Vec<ConfigKey>,
}

impl ConfigDef {
    pub fn new() -> ConfigDef {
        ConfigDef::default()
    }

    /// Adds a key (builder style).
    pub fn define(
        mut self,
        name: &'static str,
        kind: ConfigType,
        default: Option<&'static str>,
        validator: Validator,
        importance: Importance,
        documentation: &'static str,
    ) -> ConfigDef {
        self.keys.push(ConfigKey {
            name,
            kind,
            default,
            importance,
            documentation,
            validator,
            group: None,
        });
        self
    }

    /// Puts every key defined so far without a group into `group`.
    pub fn group(mut self, group: &'static str) -> ConfigDef {
        for k in self.keys.iter_mut().filter(|k| k.group.is_none()) {
            k.group = Some(group);
        }
        self
    }

    pub fn key(&self, name: &str) -> Option<&ConfigKey> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// The errors of each key (empty when it is fine), in definition order.
    pub fn validate(&self, config: &Config) -> Vec<(&ConfigKey, Vec<String>)> {
        self.keys
            .iter()
            .map(|k| (k, check_value(k, config.get(k.name).map(String::as_str))))
            .collect()
    }

    /// `GET /connector-plugins/{type}/config`: Connect's `ConfigKeyInfo` list.
    pub fn key_infos(&self) -> Json {
        Json::Array(
            self.keys
                .iter()
                .enumerate()
                .map(|(i, k)| key_info(k, i))
                .collect(),
        )
    }
}

/// A value as its key's type wants it, or None when it does not parse.
fn parses(kind: ConfigType, v: &str) -> bool {
    let v = v.trim();
    match kind {
        ConfigType::Boolean => v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false"),
        ConfigType::Int => v.parse::<i32>().is_ok(),
        ConfigType::Long => v.parse::<i64>().is_ok(),
        ConfigType::Double => v.parse::<f64>().is_ok(),
        _ => true,
    }
}

/// Connect's messages for one key's value (None: not set).
pub fn check_value(k: &ConfigKey, value: Option<&str>) -> Vec<String> {
    // An empty default is Connect's null default: unset is fine whatever the type.
    if value.is_none() && k.default == Some("") {
        return Vec::new();
    }
    let value = value.or(k.default);
    let Some(v) = value else {
        return vec![format!(
            "Missing required configuration \"{}\" which has no default value.",
            k.name
        )];
    };
    if !parses(k.kind, v) {
        let what = match k.kind {
            ConfigType::Boolean => "Expected value to be either true or false".to_string(),
            other => format!("Not a number of type {}", other.as_str()),
        };
        return vec![format!(
            "Invalid value {v} for configuration {}: {what}",
            k.name
        )];
    }
    let bad = |reason: String| {
        vec![format!(
            "Invalid value {v} for configuration {}: {reason}",
            k.name
        )]
    };
    match &k.validator {
        Validator::None => Vec::new(),
        Validator::NonEmptyString if v.trim().is_empty() => bad("String must be non-empty".into()),
        Validator::NonEmptyString => Vec::new(),
        Validator::AtLeast(min) => match v.trim().parse::<i64>() {
            Ok(n) if n < *min => bad(format!("Value must be at least {min}")),
            _ => Vec::new(),
        },
        Validator::Between(lo, hi) => match v.trim().parse::<i64>() {
            Ok(n) if n < *lo || n > *hi => bad(format!("Value must be between {lo} and {hi}")),
            _ => Vec::new(),
        },
        Validator::OneOf(options) => {
            if options.iter().any(|o| o.eq_ignore_ascii_case(v.trim())) {
                Vec::new()
            } else {
                bad(format!(
                    "String must be one of (case insensitive): {}",
                    options.join(", ")
                ))
            }
        }
    }
}

fn key_info(k: &ConfigKey, order: usize) -> Json {
    json!({
        "name": k.name,
        "type": k.kind.as_str(),
        "required": k.default.is_none(),
        "default_value": k.default,
        "importance": k.importance.as_str(),
        "documentation": k.documentation,
        "group": k.group,
        "width": "NONE",
        "display_name": k.name,
        "dependents": [],
        "order": order as i64,
    })
}

/// One entry of the validate answer's `configs`.
pub fn validated_entry(
    k: &ConfigKey,
    order: usize,
    value: Option<&str>,
    errors: &[String],
) -> Json {
    json!({
        "definition": key_info(k, order),
        "value": {
            "name": k.name,
            "value": value.or(k.default),
            "recommended_values": [],
            "errors": errors,
            "visible": true,
        }
    })
}

/// The comma-separated list value of a key (empty items dropped, as Connect's LIST type).
pub fn list(config: &Config, key: &str) -> Vec<String> {
    config
        .get(key)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Integer value of a key, or `default` when unset or not a number.
pub fn int(config: &Config, key: &str, default: i64) -> i64 {
    config
        .get(key)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Boolean value of a key, or `default`.
pub fn boolean(config: &Config, key: &str, default: bool) -> bool {
    config
        .get(key)
        .map(|v| v.trim().eq_ignore_ascii_case("true"))
        .unwrap_or(default)
}

/// The keys under `prefix`, with the prefix taken off (`transforms.x.field` → `field`).
pub fn sub_config(config: &Config, prefix: &str) -> Config {
    config
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(prefix).map(|s| (s.to_string(), v.clone())))
        .collect()
}

/// The worker's connector-level keys for every connector (Connect's `ConnectorConfig`).
pub fn connector_config_def() -> ConfigDef {
    ConfigDef::new()
        .define("name", ConfigType::String, None, Validator::NonEmptyString, Importance::High,
            "Globally unique name to use for this connector.")
        .define("connector.class", ConfigType::String, None, Validator::None, Importance::High,
            "Name or alias of the class for this connector.")
        .define("tasks.max", ConfigType::Int, Some("1"), Validator::AtLeast(1), Importance::High,
            "Maximum number of tasks to use for this connector.")
        .define("key.converter", ConfigType::Class, Some(crate::converters::JSON_CONVERTER), Validator::None, Importance::Low,
            "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.")
        .define("value.converter", ConfigType::Class, Some(crate::converters::JSON_CONVERTER), Validator::None, Importance::Low,
            "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.")
        .group("Common")
        .define("transforms", ConfigType::List, Some(""), Validator::None, Importance::Low,
            "Aliases for the transformations to be applied to records.")
        .group("Transforms")
        .define("predicates", ConfigType::List, Some(""), Validator::None, Importance::Low,
            "Aliases for the predicates used by transformations.")
        .group("Predicates")
        .define("errors.retry.timeout", ConfigType::Long, Some("0"), Validator::AtLeast(-1), Importance::Medium,
            "The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, which means no retries will be attempted. Use -1 for infinite retries.")
        .define("errors.retry.delay.max.ms", ConfigType::Long, Some("60000"), Validator::AtLeast(1), Importance::Medium,
            "The maximum duration in milliseconds between consecutive retry attempts.")
        .define("errors.tolerance", ConfigType::String, Some("none"), Validator::OneOf(vec!["none", "all"]), Importance::Medium,
            "Behavior for tolerating errors during connector operation. 'none' is the default value and signals that any error will result in an immediate connector task failure; 'all' changes the behavior to skip over problematic records.")
        .define("errors.log.enable", ConfigType::Boolean, Some("false"), Validator::None, Importance::Medium,
            "If true, write each error and the details of the failed operation and problematic record to the Connect application log.")
        .define("errors.log.include.messages", ConfigType::Boolean, Some("false"), Validator::None, Importance::Medium,
            "Whether to include in the log the Connect record that resulted in a failure.")
        .group("Error Handling")
}

/// The keys sink connectors add (Connect's `SinkConnectorConfig`).
pub fn sink_config_def() -> ConfigDef {
    ConfigDef::new()
        .define("topics", ConfigType::List, Some(""), Validator::None, Importance::High,
            "List of topics to consume, separated by commas")
        .define("topics.regex", ConfigType::String, Some(""), Validator::None, Importance::High,
            "Regular expression giving topics to consume.")
        .group("Common")
        .define("errors.deadletterqueue.topic.name", ConfigType::String, Some(""), Validator::None, Importance::Medium,
            "The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by this sink connector, or its transformations or converters. The topic name is blank by default, which means that no messages are to be recorded in the DLQ.")
        .define("errors.deadletterqueue.topic.replication.factor", ConfigType::Int, Some("3"), Validator::None, Importance::Medium,
            "Replication factor used to create the dead letter queue topic when it doesn't already exist.")
        .define("errors.deadletterqueue.context.headers.enable", ConfigType::Boolean, Some("false"), Validator::None, Importance::Medium,
            "If true, add headers containing error context to the messages written to the dead letter queue.")
        .group("Error Handling")
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

    #[test]
    fn per_field_errors_have_connects_messages() {
        let def = connector_config_def();
        let errors: BTreeMap<_, _> = def
            .validate(&cfg(&[("tasks.max", "0"), ("errors.tolerance", "some")]))
            .into_iter()
            .map(|(k, e)| (k.name, e))
            .collect();
        assert_eq!(
            errors["name"],
            vec!["Missing required configuration \"name\" which has no default value."]
        );
        assert_eq!(
            errors["tasks.max"],
            vec!["Invalid value 0 for configuration tasks.max: Value must be at least 1"]
        );
        assert!(errors["errors.tolerance"][0].contains("String must be one of"));
        assert!(errors["value.converter"].is_empty());
        let errors = def.validate(&cfg(&[("tasks.max", "x")]));
        let tm = errors.iter().find(|(k, _)| k.name == "tasks.max").unwrap();
        assert_eq!(
            tm.1,
            vec!["Invalid value x for configuration tasks.max: Not a number of type INT"]
        );
    }

    #[test]
    fn lists_and_sub_configs() {
        let c = cfg(&[
            ("transforms", "a, b,,"),
            ("transforms.a.type", "X"),
            ("transforms.ab", "y"),
        ]);
        assert_eq!(list(&c, "transforms"), vec!["a", "b"]);
        assert_eq!(sub_config(&c, "transforms.a."), cfg(&[("type", "X")]));
    }
}
