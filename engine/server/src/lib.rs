//! sluice-server: the whole sandbox in one value. [`Sandbox::start`] opens the log, starts the
//! broker, the background flusher, the schema registry (on the same log) and the workbench
//! (HTTP API + UI, talking to the broker through a real Kafka client), the SQL engine with
//! ksqlDB's REST API (on the same log, see [`sql`]), the connector runtime with Kafka Connect's
//! REST API (on the same log, sink offsets in the broker's coordinator, see [`connect`]), and binds every listener; the `sluice` binary and the desktop
//! shell both run the engine through it, in-process. It owns process-level wiring only: no
//! protocol logic lives here.

pub mod connect;
pub mod connect_client;
pub mod sql;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sluice_broker::{Broker, BrokerConfig};
use sluice_log::store::BackgroundTasks;
use sluice_log::LogStore;
use sluice_registry::SchemaRegistry;
use sluice_workbench::{Workbench, WorkbenchConfig};
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
    /// Confluent-compatible schema registry port; 0 picks a free port.
    pub registry_port: u16,
    /// Workbench (HTTP API and UI) port; 0 picks a free port.
    pub ui_port: u16,
    /// ksqlDB-compatible REST port; 0 picks a free port.
    pub sql_port: u16,
    /// Kafka Connect REST port; 0 picks a free port.
    pub connect_port: u16,
    /// The built UI to serve on the workbench port; None serves a "UI not built" page.
    pub ui_dir: Option<PathBuf>,
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
            ui_port: 9000,
            sql_port: 8088,
            connect_port: 8083,
            ui_dir: None,
        }
    }
}

/// One listening surface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub name: &'static str,
    /// `host:port` as clients should dial it.
    pub address: String,
    /// Served over HTTP (shown as `http://host:port`).
    pub http: bool,
}

impl Endpoint {
    /// How `sluice serve` prints it: `host:port`, or a URL for HTTP surfaces.
    pub fn display_address(&self) -> String {
        if self.http {
            format!("http://{}", self.address)
        } else {
            self.address.clone()
        }
    }
}

/// A running sandbox.
pub struct Sandbox {
    pub broker: Arc<Broker>,
    endpoints: Vec<Endpoint>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    workbench: Option<Workbench>,
    /// The schema registry's HTTP server, stopped through `registry_stop`.
    registry: Option<JoinHandle<()>>,
    registry_stop: Option<oneshot::Sender<()>>,
    background: Option<BackgroundTasks>,
    /// The SQL engine and its REST server, stopped through `sql_stop`.
    pub sql_engine: Option<Arc<sluice_sql::engine::Engine>>,
    sql: Option<JoinHandle<()>>,
    sql_stop: Option<oneshot::Sender<()>>,
    /// The connector runtime and its REST server, stopped through `connect_stop`.
    pub connect_worker: Option<Arc<sluice_connect::Worker>>,
    connect: Option<JoinHandle<()>>,
    connect_stop: Option<oneshot::Sender<()>>,
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
        let ui_addr: SocketAddr = format!("{}:{}", opts.host, opts.ui_port)
            .parse()
            .with_context(|| format!("bad host {}", opts.host))?;
        let ui_listener = TcpListener::bind(ui_addr)
            .await
            .with_context(|| format!("binding the workbench listener on {ui_addr}"))?;
        let ui_bound = ui_listener.local_addr()?;
        let registry_addr: SocketAddr = format!("{}:{}", opts.host, opts.registry_port)
            .parse()
            .with_context(|| format!("bad host {}", opts.host))?;
        let registry_listener = TcpListener::bind(registry_addr)
            .await
            .with_context(|| format!("binding the schema registry listener on {registry_addr}"))?;
        let registry_bound = registry_listener.local_addr()?;
        let advertised_host = opts.advertised_host.clone().unwrap_or_else(|| {
            if bound.ip().is_unspecified() {
                "127.0.0.1".to_string()
            } else {
                bound.ip().to_string()
            }
        });
        let kafka_address = format!("{advertised_host}:{}", bound.port());
        let config = BrokerConfig {
            advertised_host: advertised_host.clone(),
            advertised_port: bound.port() as i32,
            auto_create_topics: opts.auto_create_topics,
            default_partitions: opts.num_partitions.max(1),
            ..BrokerConfig::default()
        };
        let broker = Broker::new(config, Arc::clone(&store))?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(sluice_broker::server::serve(
            Arc::clone(&broker),
            listener,
            async move {
                let _ = stop_rx.await;
            },
        ));
        let mut sandbox = Sandbox {
            broker,
            endpoints: vec![Endpoint {
                name: "kafka",
                address: kafka_address.clone(),
                http: false,
            }],
            stop: Some(stop_tx),
            server: Some(server),
            workbench: None,
            registry: None,
            registry_stop: None,
            background: Some(background),
            sql_engine: None,
            sql: None,
            sql_stop: None,
            connect_worker: None,
            connect: None,
            connect_stop: None,
        };
        let registry_store = Arc::clone(&store);
        let registry = tokio::task::spawn_blocking(move || SchemaRegistry::open(registry_store))
            .await?
            .context("opening the schema registry");
        let registry = match registry {
            Ok(r) => r,
            Err(e) => {
                sandbox.shutdown().await?;
                return Err(e);
            }
        };
        let (registry_stop, registry_stopped) = oneshot::channel::<()>();
        sandbox.registry_stop = Some(registry_stop);
        let registry_http = Arc::clone(&registry);
        sandbox.registry = Some(tokio::spawn(async move {
            let served = axum::serve(
                registry_listener,
                sluice_registry::http::router(registry_http),
            )
            .with_graceful_shutdown(async move {
                let _ = registry_stopped.await;
            })
            .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "schema registry server failed");
            }
        }));
        let registry_endpoint = Endpoint {
            name: "registry",
            address: format!("{advertised_host}:{}", registry_bound.port()),
            http: true,
        };
        let embedded_registry_url = registry_endpoint.display_address();
        sandbox.endpoints.push(registry_endpoint);
        let sql_addr: SocketAddr = format!("{}:{}", opts.host, opts.sql_port)
            .parse()
            .with_context(|| format!("bad host {}", opts.host))?;
        let sql_listener = match TcpListener::bind(sql_addr).await {
            Ok(l) => l,
            Err(e) => {
                sandbox.shutdown().await?;
                return Err(e).with_context(|| format!("binding the SQL listener on {sql_addr}"));
            }
        };
        let sql_bound = sql_listener.local_addr()?;
        let appended = Arc::clone(&sandbox.broker);
        let io = Arc::new(sql::LogIo {
            store: Arc::clone(&store),
            on_append: Box::new(move || appended.notify_appended()),
        });
        let schemas: Arc<dyn sluice_sql::schemas::SchemaSource> = Arc::new(sql::RegistrySchemas {
            registry: Arc::clone(&registry),
        });
        let engine = tokio::task::spawn_blocking(move || {
            let handle = tokio::runtime::Handle::current();
            let _guard = handle.enter();
            sluice_sql::engine::Engine::open_with_schemas(io, Some(schemas))
        })
        .await?;
        let engine = match engine {
            Ok(e) => e,
            Err(e) => {
                sandbox.shutdown().await?;
                return Err(anyhow::anyhow!("opening the SQL engine: {e}"));
            }
        };
        engine.set_host(format!("{advertised_host}:{}", sql_bound.port()));
        sandbox.sql_engine = Some(Arc::clone(&engine));
        let (sql_stop, sql_stopped) = oneshot::channel::<()>();
        sandbox.sql_stop = Some(sql_stop);
        sandbox.sql = Some(tokio::spawn(async move {
            let served = axum::serve(sql_listener, sql::router(engine))
                .with_graceful_shutdown(async move {
                    let _ = sql_stopped.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "SQL server failed");
            }
        }));
        let sql_endpoint = Endpoint {
            name: "sql",
            address: format!("{advertised_host}:{}", sql_bound.port()),
            http: true,
        };
        let embedded_ksqldb_url = sql_endpoint.display_address();
        sandbox.endpoints.push(sql_endpoint);
        let connect_addr: SocketAddr = format!("{}:{}", opts.host, opts.connect_port)
            .parse()
            .with_context(|| format!("bad host {}", opts.host))?;
        let connect_listener = match TcpListener::bind(connect_addr).await {
            Ok(l) => l,
            Err(e) => {
                sandbox.shutdown().await?;
                return Err(e)
                    .with_context(|| format!("binding the Connect listener on {connect_addr}"));
            }
        };
        let connect_address = format!(
            "{advertised_host}:{}",
            connect_listener.local_addr()?.port()
        );
        // CREATE/DROP/SHOW/DESCRIBE CONNECTOR reach the embedded Connect over its REST API,
        // as ksqlDB reaches `ksql.connect.url`.
        if let Some(engine) = &sandbox.sql_engine {
            engine.set_connect_client(Arc::new(connect_client::HttpConnectClient::new(format!(
                "http://{connect_address}"
            ))?));
        }
        let worker_store = Arc::clone(&store);
        let worker_registry = Arc::clone(&registry);
        let groups: Arc<dyn sluice_connect::GroupOffsets> = Arc::new(connect::BrokerGroupOffsets {
            broker: Arc::clone(&sandbox.broker),
        });
        let worker_config = sluice_connect::WorkerConfig {
            worker_id: connect_address.clone(),
            default_partitions: opts.num_partitions.max(1),
            registry_url: Some(embedded_registry_url.clone()),
        };
        let worker = tokio::task::spawn_blocking(move || {
            let handle = tokio::runtime::Handle::current();
            let _guard = handle.enter();
            sluice_connect::Worker::open(
                worker_store,
                Some(worker_registry),
                groups,
                sluice_connect::plugin::Plugins::builtin(),
                worker_config,
            )
        })
        .await?;
        let worker = match worker {
            Ok(w) => w,
            Err(e) => {
                sandbox.shutdown().await?;
                return Err(anyhow::anyhow!("opening the connector runtime: {e}"));
            }
        };
        let broker = Arc::clone(&sandbox.broker);
        worker.on_append(move || broker.notify_appended());
        sandbox.connect_worker = Some(Arc::clone(&worker));
        let (connect_stop, connect_stopped) = oneshot::channel::<()>();
        sandbox.connect_stop = Some(connect_stop);
        let api = sluice_connect::http::Api {
            worker,
            cluster_id: sandbox.broker.cluster_id.clone(),
        };
        sandbox.connect = Some(tokio::spawn(async move {
            let served = axum::serve(connect_listener, sluice_connect::http::router(api))
                .with_graceful_shutdown(async move {
                    let _ = connect_stopped.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "Connect server failed");
            }
        }));
        let connect_endpoint = Endpoint {
            name: "connect",
            address: connect_address,
            http: true,
        };
        let embedded_connect_url = connect_endpoint.display_address();
        sandbox.endpoints.push(connect_endpoint);
        let workbench = Workbench::start(
            ui_listener,
            WorkbenchConfig {
                data_dir: opts.data_dir.clone(),
                embedded_bootstrap: kafka_address,
                ui_dir: opts.ui_dir.clone(),
                embedded_store: Some(store),
                embedded_registry_url: Some(embedded_registry_url),
                embedded_ksqldb_url: Some(embedded_ksqldb_url),
                embedded_connect_url: Some(embedded_connect_url),
            },
        )
        .await;
        match workbench {
            Ok(w) => sandbox.workbench = Some(w),
            Err(e) => {
                sandbox.shutdown().await?;
                return Err(e).context("starting the workbench");
            }
        }
        sandbox.endpoints.push(Endpoint {
            name: "workbench",
            address: format!("{advertised_host}:{}", ui_bound.port()),
            http: true,
        });
        Ok(sandbox)
    }

    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// The Kafka bootstrap address (`host:port`).
    pub fn kafka_address(&self) -> &str {
        &self.endpoints[0].address
    }

    /// The workbench's base URL (`http://host:port`).
    pub fn workbench_url(&self) -> String {
        self.url("workbench").unwrap_or_default()
    }

    /// The base URL of an HTTP surface (`registry`, `workbench`), if it runs.
    pub fn url(&self, name: &str) -> Option<String> {
        self.endpoints
            .iter()
            .find(|e| e.name == name)
            .map(Endpoint::display_address)
    }

    /// Stops accepting connections and makes everything written durable (final fsync).
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        // The workbench is a Kafka client of the broker: it goes first.
        if let Some(workbench) = self.workbench.take() {
            workbench.shutdown().await;
        }
        if let Some(stop) = self.connect_stop.take() {
            let _ = stop.send(());
        }
        if let Some(connect) = self.connect.take() {
            let _ = tokio::time::timeout(Duration::from_secs(2), connect).await;
        }
        if let Some(worker) = self.connect_worker.take() {
            worker.shutdown().await;
        }
        if let Some(engine) = self.sql_engine.take() {
            engine.shutdown();
        }
        if let Some(stop) = self.sql_stop.take() {
            let _ = stop.send(());
        }
        if let Some(sql) = self.sql.take() {
            // Push queries keep connections open: give them a moment, then stop serving.
            let _ = tokio::time::timeout(Duration::from_secs(2), sql).await;
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(stop) = self.registry_stop.take() {
            let _ = stop.send(());
        }
        if let Some(registry) = self.registry.take() {
            let _ = registry.await;
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
