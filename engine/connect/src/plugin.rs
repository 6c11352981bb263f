//! The connector contract every connector plugs in through: [`SourceConnector`] /
//! [`SinkConnector`] (class name, config definition, task configs) and their tasks
//! ([`SourceTask`]: poll records with source partitions/offsets; [`SinkTask`]: put records,
//! flush before offsets are committed), and [`Plugins`], the table of installed connector
//! classes with their aliases. It never runs anything: the worker does.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value as Json;

use crate::config::{Config, ConfigDef};
use crate::data::{SinkRecord, SourceRecord};
use crate::error::{ConnectError, Result};

/// What task methods return: a boxed future, so tasks can be trait objects and still await.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorType {
    Source,
    Sink,
}

impl ConnectorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorType::Source => "source",
            ConnectorType::Sink => "sink",
        }
    }
}

/// What source and sink connectors share.
pub trait Connector: Send + Sync + 'static {
    /// The upstream class name (`org.apache.kafka.connect.file.FileStreamSourceConnector`).
    fn class(&self) -> &'static str;
    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
    /// The connector's own keys (the worker adds `name`, `connector.class`, `tasks.max`...).
    fn config_def(&self) -> ConfigDef;
    /// Checks across keys beyond the definition: (key, message) pairs.
    fn validate(&self, _config: &Config) -> Vec<(String, String)> {
        Vec::new()
    }
    /// The configs of up to `max_tasks` tasks for this connector config.
    fn task_configs(&self, config: &Config, max_tasks: usize) -> Result<Vec<Config>>;
}

pub trait SourceConnector: Connector {
    fn create_task(&self) -> Box<dyn SourceTask>;
}

pub trait SinkConnector: Connector {
    fn create_task(&self) -> Box<dyn SinkTask>;
}

/// The committed source offsets a source task starts from (Connect's `OffsetStorageReader`).
pub trait OffsetReader: Send + Sync {
    /// The last committed offset of a source partition.
    fn offset(&self, partition: &Json) -> Option<Json>;
}

pub trait SourceTask: Send {
    fn start<'a>(
        &'a mut self,
        config: &'a Config,
        offsets: Arc<dyn OffsetReader>,
    ) -> BoxFuture<'a, Result<()>>;
    /// The next records; may wait a little, and returns an empty batch when there is none.
    /// The worker drops the future at an `.await` when the task is stopped, so change state
    /// (positions, counters) only after the last `.await`, as the built-in tasks do.
    fn poll(&mut self) -> BoxFuture<'_, Result<Vec<SourceRecord>>>;
    fn stop(&mut self) {}
}

/// A sink task. Delivery is at least once; a task makes it exactly once by reporting its
/// target's position from `flush` (a file length, a transaction id...): the worker commits it
/// with the group offsets in one write, and hands the last committed one to `start`, where the
/// task drops whatever it wrote past it (a crash after its write, before the commit).
pub trait SinkTask: Send {
    /// `position`: the position the last commit recorded, if the task reported one.
    fn start<'a>(
        &'a mut self,
        config: &'a Config,
        position: Option<&'a str>,
    ) -> BoxFuture<'a, Result<()>>;
    /// Takes records; they may be buffered until [`SinkTask::flush`]. The batch is lent: the
    /// worker keeps it to put again when the task fails with `Retriable`, so a task clones
    /// only what it keeps.
    fn put<'a>(&'a mut self, records: &'a [SinkRecord]) -> BoxFuture<'a, Result<()>>;
    /// Makes everything put so far durable in the target, and says the target's position if
    /// the task can cut back to it; the worker commits the consumer offsets after it returns.
    fn flush(&mut self) -> BoxFuture<'_, Result<Option<String>>>;
    /// The records the task gave up on since the last call, with why (Connect's
    /// `ErrantRecordReporter`): after a successful put the worker handles each as a failed
    /// record (`errors.tolerance`, the DLQ) before the offsets are committed.
    fn take_errant(&mut self) -> Vec<(SinkRecord, ConnectError)> {
        Vec::new()
    }
    fn stop(&mut self) {}
}

/// An installed connector class.
#[derive(Clone)]
pub enum Plugin {
    Source(Arc<dyn SourceConnector>),
    Sink(Arc<dyn SinkConnector>),
}

impl Plugin {
    pub fn kind(&self) -> ConnectorType {
        match self {
            Plugin::Source(_) => ConnectorType::Source,
            Plugin::Sink(_) => ConnectorType::Sink,
        }
    }

    pub fn class(&self) -> &'static str {
        match self {
            Plugin::Source(c) => c.class(),
            Plugin::Sink(c) => c.class(),
        }
    }

    pub fn version(&self) -> &'static str {
        match self {
            Plugin::Source(c) => c.version(),
            Plugin::Sink(c) => c.version(),
        }
    }

    pub fn config_def(&self) -> ConfigDef {
        match self {
            Plugin::Source(c) => c.config_def(),
            Plugin::Sink(c) => c.config_def(),
        }
    }

    pub fn validate(&self, config: &Config) -> Vec<(String, String)> {
        match self {
            Plugin::Source(c) => c.validate(config),
            Plugin::Sink(c) => c.validate(config),
        }
    }

    pub fn task_configs(&self, config: &Config, max_tasks: usize) -> Result<Vec<Config>> {
        match self {
            Plugin::Source(c) => c.task_configs(config, max_tasks),
            Plugin::Sink(c) => c.task_configs(config, max_tasks),
        }
    }
}

/// The installed connector classes.
#[derive(Clone, Default)]
pub struct Plugins {
    plugins: Vec<Plugin>,
}

impl Plugins {
    /// The built-in connectors: FileStreamSource, FileStreamSink, Datagen, JDBC source and sink, Debezium's PostgreSQL CDC source, the HTTP sink.
    pub fn builtin() -> Plugins {
        let mut p = Plugins::default();
        p.add(Plugin::Source(Arc::new(
            crate::connectors::file::FileStreamSource,
        )));
        p.add(Plugin::Sink(Arc::new(
            crate::connectors::file::FileStreamSink,
        )));
        p.add(Plugin::Source(Arc::new(
            crate::connectors::datagen::Datagen,
        )));
        p.add(Plugin::Source(Arc::new(
            crate::connectors::jdbc_source::JdbcSource,
        )));
        p.add(Plugin::Sink(Arc::new(
            crate::connectors::jdbc_sink::JdbcSink,
        )));
        p.add(Plugin::Source(Arc::new(
            crate::connectors::pg_cdc::PostgresCdc,
        )));
        p.add(Plugin::Sink(Arc::new(
            crate::connectors::http_sink::HttpSink,
        )));
        p
    }

    /// Installs a connector class (other crates add theirs this way).
    pub fn add(&mut self, plugin: Plugin) {
        self.plugins.retain(|p| p.class() != plugin.class());
        self.plugins.push(plugin);
    }

    pub fn all(&self) -> &[Plugin] {
        &self.plugins
    }

    /// The plugin a `connector.class` or plugin name names: the full class name, the simple
    /// class name, or the simple name without `Connector`, as Connect's aliases.
    pub fn find(&self, name: &str) -> Option<&Plugin> {
        self.plugins.iter().find(|p| {
            let class = p.class();
            let simple = class.rsplit('.').next().unwrap_or(class);
            class == name || simple == name || simple.strip_suffix("Connector") == Some(name)
        })
    }

    /// The plugin, or Connect's message for an unknown class.
    pub fn connector(&self, name: &str) -> Result<&Plugin> {
        self.find(name).ok_or_else(|| {
            let available: Vec<String> = self
                .plugins
                .iter()
                .map(|p| {
                    format!(
                        "PluginDesc{{klass=class {}, name='{}', version='{}', type={}}}",
                        p.class(),
                        p.class(),
                        p.version(),
                        p.kind().as_str()
                    )
                })
                .collect();
            ConnectError::BadRequest(format!(
                "Failed to find any class that implements Connector and which name matches {name}, available connectors are: {}",
                available.join(", ")
            ))
        })
    }
}
