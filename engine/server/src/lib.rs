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

use sluice_registry::SchemaRegistry;

/// Binds `host:port` and serves `router` until `stop` turns true. Returns the URL clients
/// use (`http://HOST:PORT`) and the server task.
async fn serve_http(
    host: &str,
    port: u16,
    what: &str,
    router: axum::Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<(String, JoinHandle<()>)> {
    let addr: SocketAddr = format!("{host}:{port}")
        .parse()
        .with_context(|| format!("bad host {host}"))?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the {what} listener on {addr}"))?;
    let bound = listener.local_addr()?;
    let shown = if bound.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        bound.ip().to_string()
    };
    let what = what.to_string();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "{what} server failed");
        }
    });
    Ok((format!("http://{shown}:{}", bound.port()), task))
}

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
    /// Schema registry port (0 picks a free one).
    pub registry_port: u16,
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
            registry_port: 8081,
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
    /// The HTTP surfaces (registry, ...), stopped together through `http_stop`.
    http_servers: Vec<JoinHandle<()>>,
    http_stop: tokio::sync::watch::Sender<bool>,
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
        let mut endpoints = vec![Endpoint {
            name: "kafka",
            address: format!("{advertised_host}:{}", bound.port()),
        }];
        let (http_stop, _) = tokio::sync::watch::channel(false);
        let mut http_servers = Vec::new();

        let store = Arc::clone(&broker.store);
        let registry = tokio::task::spawn_blocking(move || SchemaRegistry::open(store))
            .await?
            .context("opening the schema registry")?;
        let (address, task) = serve_http(
            &opts.host,
            opts.registry_port,
            "schema registry",
            sluice_registry::http::router(registry),
            http_stop.subscribe(),
        )
        .await?;
        endpoints.push(Endpoint {
            name: "registry",
            address,
        });
        http_servers.push(task);

        Ok(Sandbox {
            broker,
            endpoints,
            stop: Some(stop_tx),
            server: Some(server),
            http_servers,
            http_stop,
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

    /// The base URL of a surface (`registry`, ...), if it runs.
    pub fn url(&self, name: &str) -> Option<&str> {
        self.endpoints
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.address.as_str())
    }

    /// Stops accepting connections and makes everything written durable (final fsync).
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await?;
        }
        let _ = self.http_stop.send(true);
        for task in self.http_servers.drain(..) {
            let _ = task.await;
        }
        if let Some(bg) = self.background.take() {
            tokio::task::spawn_blocking(move || bg.shutdown()).await?;
        }
        Ok(())
    }
}
