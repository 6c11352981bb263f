//! sluice-server: the whole sandbox in one value. [`Sandbox::start`] opens the log, starts the
//! broker and the background flusher, and binds every listener; the `sluice` binary and the
//! desktop shell both run the engine through it, in-process. It owns process-level wiring
//! only: no protocol logic lives here.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sluice_broker::{Broker, BrokerConfig};
use sluice_log::store::BackgroundTasks;
use sluice_log::LogStore;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    pub data_dir: PathBuf,
    pub host: String,
    pub advertised_host: Option<String>,
    /// 0 picks a free port.
    pub kafka_port: u16,
    pub auto_create_topics: bool,
    pub num_partitions: i32,
    pub flush_interval: Duration,
    pub retention_check_interval: Duration,
}

impl SandboxOptions {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        SandboxOptions {
            data_dir: data_dir.into(),
            host: "127.0.0.1".into(),
            advertised_host: None,
            kafka_port: 9092,
            auto_create_topics: true,
            num_partitions: 1,
            flush_interval: Duration::from_secs(1),
            retention_check_interval: Duration::from_secs(30),
        }
    }
}

/// One listening surface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub name: &'static str,
    /// `host:port` as clients should dial it.
    pub address: String,
}

/// A running sandbox.
pub struct Sandbox {
    pub broker: Arc<Broker>,
    endpoints: Vec<Endpoint>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    background: Option<BackgroundTasks>,
}

impl Sandbox {
    /// Opens the data directory (recovering it after a crash) and starts serving.
    /// Must be called inside a tokio runtime.
    pub async fn start(opts: SandboxOptions) -> anyhow::Result<Sandbox> {
        let data_dir = opts.data_dir.clone();
        let store = tokio::task::spawn_blocking(move || LogStore::open(&data_dir))
            .await?
            .with_context(|| format!("opening data dir {}", opts.data_dir.display()))?;
        let background = store.start_background(opts.flush_interval, opts.retention_check_interval);
        let addr: SocketAddr = format!("{}:{}", opts.host, opts.kafka_port)
            .parse()
            .with_context(|| format!("bad host {}", opts.host))?;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the Kafka listener on {addr}"))?;
        let bound = listener.local_addr()?;
        let advertised_host = opts.advertised_host.clone().unwrap_or_else(|| {
            if bound.ip().is_unspecified() {
                "127.0.0.1".to_string()
            } else {
                bound.ip().to_string()
            }
        });
        let config = BrokerConfig {
            advertised_host: advertised_host.clone(),
            advertised_port: bound.port() as i32,
            auto_create_topics: opts.auto_create_topics,
            default_partitions: opts.num_partitions.max(1),
            ..BrokerConfig::default()
        };
        let broker = Broker::new(config, store)?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(sluice_broker::server::serve(
            Arc::clone(&broker),
            listener,
            async move {
                let _ = stop_rx.await;
            },
        ));
        Ok(Sandbox {
            broker,
            endpoints: vec![Endpoint {
                name: "kafka",
                address: format!("{advertised_host}:{}", bound.port()),
            }],
            stop: Some(stop_tx),
            server: Some(server),
            background: Some(background),
        })
    }

    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// The Kafka bootstrap address (`host:port`).
    pub fn kafka_address(&self) -> &str {
        &self.endpoints[0].address
    }

    /// Stops accepting connections and makes everything written durable (final fsync).
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await?;
        }
        if let Some(bg) = self.background.take() {
            tokio::task::spawn_blocking(move || bg.shutdown()).await?;
        }
        Ok(())
    }
}
