//! Topic configuration: the Kafka topic config keys Sluice honours, their defaults and
//! validation. Only overrides are stored; effective values are derived. Never does I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{LogError, Result};

/// The kind of value a config key takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    Long,
    Int,
    Boolean,
    /// One of a fixed list of values (comma-separated lists allowed when `list` is true).
    Choice {
        values: &'static [&'static str],
        list: bool,
    },
    String,
}

/// One topic config key Sluice knows.
#[derive(Debug, Clone, Copy)]
pub struct ConfigDef {
    pub name: &'static str,
    pub default: &'static str,
    pub kind: ConfigType,
    /// Smallest accepted value for numeric keys.
    pub min: i64,
}

const fn long(name: &'static str, default: &'static str, min: i64) -> ConfigDef {
    ConfigDef {
        name,
        default,
        kind: ConfigType::Long,
        min,
    }
}

const fn int(name: &'static str, default: &'static str, min: i64) -> ConfigDef {
    ConfigDef {
        name,
        default,
        kind: ConfigType::Int,
        min,
    }
}

/// The topic configs, with Kafka's defaults.
pub const TOPIC_CONFIGS: &[ConfigDef] = &[
    ConfigDef {
        name: "cleanup.policy",
        default: "delete",
        kind: ConfigType::Choice {
            values: &["delete", "compact"],
            list: true,
        },
        min: 0,
    },
    ConfigDef {
        name: "compression.type",
        default: "producer",
        kind: ConfigType::Choice {
            values: &["producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"],
            list: false,
        },
        min: 0,
    },
    long("delete.retention.ms", "86400000", 0),
    long("file.delete.delay.ms", "60000", 0),
    long("flush.messages", "9223372036854775807", 1),
    long("flush.ms", "9223372036854775807", 0),
    int("index.interval.bytes", "4096", 0),
    long("local.retention.bytes", "-2", -2),
    long("local.retention.ms", "-2", -2),
    int("max.message.bytes", "1048588", 0),
    long("max.compaction.lag.ms", "9223372036854775807", 1),
    ConfigDef {
        name: "message.timestamp.type",
        default: "CreateTime",
        kind: ConfigType::Choice {
            values: &["CreateTime", "LogAppendTime"],
            list: false,
        },
        min: 0,
    },
    long("message.timestamp.after.max.ms", "3600000", 0),
    long("message.timestamp.before.max.ms", "9223372036854775807", 0),
    ConfigDef {
        name: "min.cleanable.dirty.ratio",
        default: "0.5",
        kind: ConfigType::String,
        min: 0,
    },
    long("min.compaction.lag.ms", "0", 0),
    int("min.insync.replicas", "1", 1),
    ConfigDef {
        name: "preallocate",
        default: "false",
        kind: ConfigType::Boolean,
        min: 0,
    },
    long("retention.bytes", "-1", -1),
    long("retention.ms", "604800000", -1),
    int("segment.bytes", "1073741824", 14),
    int("segment.index.bytes", "10485760", 4),
    long("segment.jitter.ms", "0", 0),
    long("segment.ms", "604800000", 1),
    ConfigDef {
        name: "unclean.leader.election.enable",
        default: "false",
        kind: ConfigType::Boolean,
        min: 0,
    },
];

pub fn config_def(name: &str) -> Option<&'static ConfigDef> {
    TOPIC_CONFIGS.iter().find(|d| d.name == name)
}

/// Checks one key/value pair against its definition.
pub fn validate_entry(key: &str, value: &str) -> Result<()> {
    let bad = |reason| LogError::InvalidConfig {
        key: key.to_string(),
        value: value.to_string(),
        reason,
    };
    let def = config_def(key).ok_or_else(|| bad("unknown topic config"))?;
    match def.kind {
        ConfigType::Long => {
            let v: i64 = value.trim().parse().map_err(|_| bad("not a long"))?;
            if v < def.min {
                return Err(bad("value below the minimum"));
            }
        }
        ConfigType::Int => {
            let v: i32 = value.trim().parse().map_err(|_| bad("not an int"))?;
            if (v as i64) < def.min {
                return Err(bad("value below the minimum"));
            }
        }
        ConfigType::Boolean => {
            if !matches!(value.trim(), "true" | "false") {
                return Err(bad("not a boolean"));
            }
        }
        ConfigType::Choice { values, list } => {
            let parts: Vec<&str> = if list {
                value.split(',').map(str::trim).collect()
            } else {
                vec![value.trim()]
            };
            if parts.is_empty() || parts.iter().any(|p| !values.contains(p)) {
                return Err(bad("not one of the accepted values"));
            }
        }
        ConfigType::String => {
            if key == "min.cleanable.dirty.ratio" {
                let v: f64 = value.trim().parse().map_err(|_| bad("not a double"))?;
                if !(0.0..=1.0).contains(&v) {
                    return Err(bad("must be between 0 and 1"));
                }
            }
        }
    }
    Ok(())
}

/// A topic's config overrides; everything else takes the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicConfig {
    pub overrides: BTreeMap<String, String>,
}

/// How old segments are cleaned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CleanupPolicy {
    pub delete: bool,
    pub compact: bool,
}

impl TopicConfig {
    /// Builds a config from overrides, validating every entry.
    pub fn from_overrides<I, K, V>(entries: I) -> Result<Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut overrides = BTreeMap::new();
        for (k, v) in entries {
            let (k, v) = (k.into(), v.into());
            validate_entry(&k, &v)?;
            overrides.insert(k, v);
        }
        Ok(TopicConfig { overrides })
    }

    /// The effective value of a key (override or default), None for unknown keys.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.overrides
            .get(key)
            .map(String::as_str)
            .or_else(|| config_def(key).map(|d| d.default))
    }

    pub fn is_default(&self, key: &str) -> bool {
        !self.overrides.contains_key(key)
    }

    fn long(&self, key: &str) -> i64 {
        self.get(key)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| {
                config_def(key)
                    .and_then(|d| d.default.parse().ok())
                    .unwrap_or(0)
            })
    }

    pub fn segment_bytes(&self) -> u64 {
        self.long("segment.bytes").max(14) as u64
    }
    pub fn segment_ms(&self) -> i64 {
        self.long("segment.ms")
    }
    pub fn retention_ms(&self) -> i64 {
        self.long("retention.ms")
    }
    pub fn retention_bytes(&self) -> i64 {
        self.long("retention.bytes")
    }
    pub fn index_interval_bytes(&self) -> u64 {
        self.long("index.interval.bytes").max(0) as u64
    }
    pub fn max_message_bytes(&self) -> usize {
        self.long("max.message.bytes").max(0) as usize
    }
    pub fn delete_retention_ms(&self) -> i64 {
        self.long("delete.retention.ms")
    }
    pub fn min_compaction_lag_ms(&self) -> i64 {
        self.long("min.compaction.lag.ms")
    }
    pub fn log_append_time(&self) -> bool {
        self.get("message.timestamp.type") == Some("LogAppendTime")
    }
    pub fn cleanup_policy(&self) -> CleanupPolicy {
        let v = self.get("cleanup.policy").unwrap_or("delete");
        CleanupPolicy {
            delete: v.split(',').any(|p| p.trim() == "delete"),
            compact: v.split(',').any(|p| p.trim() == "compact"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let c = TopicConfig::from_overrides([("cleanup.policy", "compact,delete")]).unwrap();
        assert_eq!(c.retention_ms(), 604_800_000);
        assert_eq!(
            c.cleanup_policy(),
            CleanupPolicy {
                delete: true,
                compact: true
            }
        );
        assert!(c.is_default("retention.ms"));
        assert!(!c.is_default("cleanup.policy"));
    }

    #[test]
    fn rejects_bad_values() {
        assert!(TopicConfig::from_overrides([("retention.ms", "soon")]).is_err());
        assert!(TopicConfig::from_overrides([("cleanup.policy", "shred")]).is_err());
        assert!(TopicConfig::from_overrides([("no.such.key", "1")]).is_err());
        assert!(TopicConfig::from_overrides([("segment.bytes", "1")]).is_err());
        assert!(TopicConfig::from_overrides([("retention.bytes", "-1")]).is_ok());
    }
}
