//! sluice-workbench: the workbench's HTTP + WebSocket server on the workbench port. It serves
//! every route of `sluice_api::paths` under `/api/v1` for any Kafka cluster (the embedded one
//! and remote ones), reaching Kafka only through `rdkafka`, and the built UI's static files.
//! This file owns the routing table, the handlers' glue (cluster lookup, moving blocking
//! librdkafka calls onto blocking threads) and the server's start and stop. It never holds
//! protocol logic: Kafka access lives in `kafka`, features in their modules, and the mapping
//! of errors to HTTP answers in `error`.

pub mod clusters;
pub mod connect;
/// The wire format codec lives in the registry crate (the SQL engine shares it).
pub use sluice_registry::codec;
pub mod error;
pub mod forms;
pub mod groups;
pub mod kafka;
pub mod ksql;
pub mod live;
pub mod messages;
pub mod rates;
pub mod registry;
pub mod schemas;
pub mod topics;
pub mod ui;
pub mod upstream;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use parking_lot::Mutex;
use sluice_api::{
    AlterConfigs, BrowseQuery, ClusterInfo, CreateTopic, NewCluster, ProduceRequest, ResetOffsets,
};
use sluice_log::LogStore;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clusters::{Cluster, ClusterRegistry};
use crate::error::{ApiJson, ApiPath, ApiQuery, Result, WorkbenchError};
use crate::kafka::ClientSet;
use crate::live::TailQuery;

/// How to start the workbench.
#[derive(Clone)]
pub struct WorkbenchConfig {
    /// The sandbox's data directory; remote clusters are kept in `workbench/clusters.json`.
    pub data_dir: PathBuf,
    /// Bootstrap address of the embedded broker (cluster `local`).
    pub embedded_bootstrap: String,
    /// The built UI (`index.html` and assets); None serves a "UI not built" page.
    pub ui_dir: Option<PathBuf>,
    /// The embedded broker's log, read for topic sizes on disk.
    pub embedded_store: Option<Arc<LogStore>>,
    /// The embedded schema registry's URL (`http://host:port`), when it runs.
    pub embedded_registry_url: Option<String>,
    /// The embedded SQL engine's ksqlDB REST URL (`http://host:port`), when it runs.
    pub embedded_ksqldb_url: Option<String>,
    /// The embedded connector runtime's Kafka Connect REST URL (`http://host:port`), when it
    /// runs.
    pub embedded_connect_url: Option<String>,
}

/// What every handler shares.
struct AppState {
    clusters: ClusterRegistry,
    embedded_store: Option<Arc<LogStore>>,
    stop: watch::Receiver<bool>,
    samplers: Mutex<Vec<JoinHandle<()>>>,
}

type Shared = State<Arc<AppState>>;

impl AppState {
    fn cluster(&self, id: &str) -> Result<Arc<Cluster>> {
        let c = self.clusters.get(id)?;
        c.touch();
        Ok(c)
    }

    fn clients(&self, id: &str) -> Result<(Arc<Cluster>, Arc<ClientSet>)> {
        let c = self.cluster(id)?;
        let clients = c.clients()?;
        Ok((c, clients))
    }

    fn start_sampler(&self, cluster: &Arc<Cluster>) {
        let handle = rates::spawn_sampler(Arc::downgrade(cluster), self.stop.clone());
        let mut samplers = self.samplers.lock();
        samplers.retain(|h| !h.is_finished());
        samplers.push(handle);
    }
}

/// Runs a blocking (librdkafka) call on a blocking thread.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await?
}

/// A running workbench server.
pub struct Workbench {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    state: Arc<AppState>,
}

impl Workbench {
    /// Serves on `listener` until [`Workbench::shutdown`].
    pub async fn start(listener: TcpListener, config: WorkbenchConfig) -> Result<Workbench> {
        let addr = listener
            .local_addr()
            .map_err(|e| WorkbenchError::Internal(format!("workbench listener: {e}")))?;
        let data_dir = config.data_dir.clone();
        let bootstrap = config.embedded_bootstrap.clone();
        let registry_url = config.embedded_registry_url.clone();
        let ksqldb_url = config.embedded_ksqldb_url.clone();
        let connect_url = config.embedded_connect_url.clone();
        let registry = tokio::task::spawn_blocking(move || {
            ClusterRegistry::load(
                &data_dir,
                &bootstrap,
                registry_url.as_deref(),
                ksqldb_url.as_deref(),
                connect_url.as_deref(),
            )
        })
        .await??;
        let (stop_tx, stop_rx) = watch::channel(false);
        let state = Arc::new(AppState {
            clusters: registry,
            embedded_store: config.embedded_store.clone(),
            stop: stop_rx.clone(),
            samplers: Mutex::new(Vec::new()),
        });
        for c in state.clusters.list() {
            state.start_sampler(&c);
        }
        let app = router(Arc::clone(&state), config.ui_dir.as_deref());
        let mut shutdown = stop_rx;
        let server = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = shutdown.wait_for(|stop| *stop).await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!("workbench server failed: {e}");
            }
        });
        Ok(Workbench {
            addr,
            stop: stop_tx,
            server: Some(server),
            state,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving (open sockets are closed), stops the samplers and closes every Kafka
    /// client.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(mut server) = self.server.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut server)
                .await
                .is_err()
            {
                tracing::warn!("workbench connections did not close in 5 s; dropping them");
                server.abort();
            }
        }
        // A sampler may be inside a blocking call to a slow cluster: do not wait for it (its
        // blocking thread ends by itself, within the call timeout).
        for s in std::mem::take(&mut *self.state.samplers.lock()) {
            s.abort();
        }
        let clients: Vec<Arc<ClientSet>> = self
            .state
            .clusters
            .list()
            .iter()
            .filter_map(|c| c.close())
            .collect();
        // Closing librdkafka clients blocks; a client of an unreachable cluster may take a
        // while, which is not worth holding the shutdown for.
        let closing = tokio::task::spawn_blocking(move || drop(clients));
        if tokio::time::timeout(Duration::from_secs(2), closing)
            .await
            .is_err()
        {
            tracing::debug!("Kafka clients still closing; not waiting for them");
        }
    }
}

/// The routing table: the API under `/api/v1`, then the UI.
fn router(state: Arc<AppState>, ui_dir: Option<&std::path::Path>) -> Router {
    let api = Router::new()
        .route("/clusters", get(list_clusters).post(add_cluster))
        .route(
            "/clusters/{cluster}",
            get(get_cluster).delete(remove_cluster),
        )
        .route("/clusters/{cluster}/overview", get(overview))
        .route("/clusters/{cluster}/rates", get(rates_history))
        .route("/clusters/{cluster}/rates/live", get(rates_live))
        .route(
            "/clusters/{cluster}/topics",
            get(list_topics).post(create_topic),
        )
        .route(
            "/clusters/{cluster}/topics/{topic}",
            get(topic_detail).delete(delete_topic),
        )
        .route(
            "/clusters/{cluster}/topics/{topic}/configs",
            get(topic_configs).put(alter_topic_configs),
        )
        .route(
            "/clusters/{cluster}/topics/{topic}/messages",
            get(browse).post(produce),
        )
        .route("/clusters/{cluster}/topics/{topic}/tail", get(tail))
        .route("/clusters/{cluster}/groups", get(list_groups))
        .route(
            "/clusters/{cluster}/groups/{group}",
            get(group_detail).delete(delete_group),
        )
        .route("/clusters/{cluster}/groups/{group}/lag", get(group_lag))
        .route(
            "/clusters/{cluster}/groups/{group}/reset",
            axum::routing::post(reset_group),
        )
        .route("/clusters/{cluster}/schemas/subjects", get(list_subjects))
        .route(
            "/clusters/{cluster}/schemas/validate",
            axum::routing::post(validate_schema),
        )
        .route(
            "/clusters/{cluster}/schemas/subjects/{subject}/compare",
            get(compare_versions),
        )
        .route(
            "/clusters/{cluster}/schemas/subjects/{subject}/form",
            get(schema_form),
        )
        .route("/clusters/{cluster}/ksql", any(ksql_proxy))
        .route("/clusters/{cluster}/ksql/{*path}", any(ksql_proxy))
        .route("/clusters/{cluster}/connect", any(connect_proxy))
        .route("/clusters/{cluster}/connect/{*path}", any(connect_proxy))
        .route("/clusters/{cluster}/registry", any(registry_proxy))
        .route("/clusters/{cluster}/registry/{*path}", any(registry_proxy))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .with_state(state);
    Router::new()
        .nest(sluice_api::API_PREFIX, api)
        .merge(ui::router(ui_dir))
}

async fn no_route() -> WorkbenchError {
    WorkbenchError::NotFound("no such API route".into())
}

async fn wrong_method() -> Response {
    let body = sluice_api::ApiError {
        code: "bad_request".into(),
        message: "method not allowed on this route".into(),
    };
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}

fn ws_or_400(
    ws: std::result::Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<WebSocketUpgrade> {
    ws.map_err(|e| {
        WorkbenchError::BadRequest(format!("expected a WebSocket upgrade: {}", e.body_text()))
    })
}

// ---------------------------------------------------------------------------------------
// Clusters
// ---------------------------------------------------------------------------------------

async fn list_clusters(State(s): Shared) -> Json<Vec<ClusterInfo>> {
    Json(s.clusters.list().iter().map(|c| c.info.clone()).collect())
}

async fn get_cluster(State(s): Shared, ApiPath(id): ApiPath<String>) -> Result<Json<ClusterInfo>> {
    Ok(Json(s.cluster(&id)?.info.clone()))
}

async fn add_cluster(
    State(s): Shared,
    ApiJson(new): ApiJson<NewCluster>,
) -> Result<(StatusCode, Json<ClusterInfo>)> {
    let st = Arc::clone(&s);
    let cluster = blocking(move || st.clusters.add(new)).await?;
    s.start_sampler(&cluster);
    Ok((StatusCode::CREATED, Json(cluster.info.clone())))
}

async fn remove_cluster(State(s): Shared, ApiPath(id): ApiPath<String>) -> Result<StatusCode> {
    let st = Arc::clone(&s);
    blocking(move || {
        let removed = st.clusters.remove(&id)?;
        drop(removed.close());
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn overview(
    State(s): Shared,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<sluice_api::Overview>> {
    let (cluster, clients) = s.clients(&id)?;
    let info = cluster.info.clone();
    Ok(Json(
        blocking(move || topics::overview(info, &clients)).await?,
    ))
}

async fn rates_history(
    State(s): Shared,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<sluice_api::RateSample>>> {
    Ok(Json(s.cluster(&id)?.metrics.rates()))
}

async fn rates_live(
    State(s): Shared,
    ApiPath(id): ApiPath<String>,
    ws: std::result::Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response> {
    let cluster = s.cluster(&id)?;
    let ws = ws_or_400(ws)?;
    Ok(live::rates_live(cluster, ws, s.stop.clone()).await)
}

// ---------------------------------------------------------------------------------------
// Topics and messages
// ---------------------------------------------------------------------------------------

async fn list_topics(
    State(s): Shared,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<sluice_api::TopicSummary>>> {
    let (cluster, clients) = s.clients(&id)?;
    let store = if cluster.info.embedded {
        s.embedded_store.clone()
    } else {
        None
    };
    Ok(Json(
        blocking(move || topics::list(&clients, store.as_deref())).await?,
    ))
}

async fn create_topic(
    State(s): Shared,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<CreateTopic>,
) -> Result<(StatusCode, Json<sluice_api::TopicDetail>)> {
    let (_, clients) = s.clients(&id)?;
    topics::create(&clients, &req).await?;
    // A cluster may take a moment before its metadata shows a new topic.
    let mut attempt = 0;
    loop {
        match topics::detail(Arc::clone(&clients), req.name.clone()).await {
            Ok(d) => return Ok((StatusCode::CREATED, Json(d))),
            Err(WorkbenchError::NotFound(_)) if attempt < 20 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn topic_detail(
    State(s): Shared,
    ApiPath((id, topic)): ApiPath<(String, String)>,
) -> Result<Json<sluice_api::TopicDetail>> {
    let (_, clients) = s.clients(&id)?;
    Ok(Json(topics::detail(clients, topic).await?))
}

async fn delete_topic(
    State(s): Shared,
    ApiPath((id, topic)): ApiPath<(String, String)>,
) -> Result<StatusCode> {
    let (_, clients) = s.clients(&id)?;
    let c = Arc::clone(&clients);
    let t = topic.clone();
    blocking(move || c.metadata()?.topic(&t).map(|_| ())).await?;
    topics::delete(&clients, &topic).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn topic_configs(
    State(s): Shared,
    ApiPath((id, topic)): ApiPath<(String, String)>,
) -> Result<Json<Vec<sluice_api::ConfigEntry>>> {
    let (_, clients) = s.clients(&id)?;
    Ok(Json(topics::configs(&clients, &topic).await?))
}

async fn alter_topic_configs(
    State(s): Shared,
    ApiPath((id, topic)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<AlterConfigs>,
) -> Result<Json<sluice_api::TopicDetail>> {
    let (_, clients) = s.clients(&id)?;
    topics::alter_configs(&clients, &topic, &req).await?;
    Ok(Json(topics::detail(clients, topic).await?))
}

async fn browse(
    State(s): Shared,
    ApiPath((id, topic)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<BrowseQuery>,
) -> Result<Json<sluice_api::MessagePage>> {
    let (cluster, clients) = s.clients(&id)?;
    let t = topic.clone();
    let mut page = blocking(move || messages::browse(&clients, &t, &q)).await?;
    page.messages = schemas::decode_messages(&cluster, &topic, page.messages).await;
    Ok(Json(page))
}

async fn produce(
    State(s): Shared,
    ApiPath((id, topic)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<ProduceRequest>,
) -> Result<Json<sluice_api::ProduceResult>> {
    let (cluster, clients) = s.clients(&id)?;
    let c = Arc::clone(&clients);
    let t = topic.clone();
    let partitions = blocking(move || Ok(c.metadata()?.topic(&t)?.partitions.len())).await?;
    if let Some(p) = req
        .records
        .iter()
        .filter_map(|r| r.partition)
        .find(|p| *p < 0 || *p as usize >= partitions)
    {
        return Err(WorkbenchError::NotFound(format!(
            "topic {topic:?} has no partition {p}"
        )));
    }
    let payloads = schemas::encode_records(&cluster, &req).await?;
    Ok(Json(
        messages::produce(&clients, &topic, &req, &payloads).await?,
    ))
}

async fn tail(
    State(s): Shared,
    ApiPath((id, topic)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<TailQuery>,
    ws: std::result::Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response> {
    let cluster = s.cluster(&id)?;
    let ws = ws_or_400(ws)?;
    live::tail(cluster, topic, q, ws, s.stop.clone()).await
}

// ---------------------------------------------------------------------------------------
// Groups
// ---------------------------------------------------------------------------------------

async fn list_groups(
    State(s): Shared,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<sluice_api::GroupSummary>>> {
    let (_, clients) = s.clients(&id)?;
    Ok(Json(blocking(move || groups::list(&clients)).await?))
}

async fn group_detail(
    State(s): Shared,
    ApiPath((id, group)): ApiPath<(String, String)>,
) -> Result<Json<sluice_api::GroupDetail>> {
    let (_, clients) = s.clients(&id)?;
    Ok(Json(
        blocking(move || groups::detail(&clients, &group)).await?,
    ))
}

async fn group_lag(
    State(s): Shared,
    ApiPath((id, group)): ApiPath<(String, String)>,
) -> Result<Json<Vec<sluice_api::LagSample>>> {
    Ok(Json(s.cluster(&id)?.metrics.lag(&group)))
}

async fn reset_group(
    State(s): Shared,
    ApiPath((id, group)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<ResetOffsets>,
) -> Result<Json<Vec<sluice_api::GroupOffset>>> {
    let (_, clients) = s.clients(&id)?;
    Ok(Json(
        blocking(move || groups::reset(&clients, &group, &req)).await?,
    ))
}

async fn delete_group(
    State(s): Shared,
    ApiPath((id, group)): ApiPath<(String, String)>,
) -> Result<StatusCode> {
    let (_, clients) = s.clients(&id)?;
    let c = Arc::clone(&clients);
    let g = group.clone();
    let meta = blocking(move || c.group(&g)).await?;
    if !meta.members.is_empty() {
        return Err(WorkbenchError::Conflict(format!(
            "group {group:?} has {} active member(s); stop its consumers first",
            meta.members.len()
        )));
    }
    let results = topics::with_deadline(
        clients
            .admin
            .delete_groups(&[group.as_str()], &ClientSet::admin_options()),
    )
    .await??;
    for r in results {
        if let Err((name, code)) = r {
            return Err(WorkbenchError::from_code(&format!("group {name:?}"), code));
        }
    }
    if let Some(consumer) = clients.forget_group_consumer(&group) {
        let _ = tokio::task::spawn_blocking(move || drop(consumer)).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------

/// Largest request body forwarded to a registry.
const MAX_REGISTRY_BODY: usize = 16 * 1024 * 1024;

/// The cluster id and the rest of the path after `/clusters/{id}/{service}`, raw from the
/// URI (percent-escapes reach the upstream as the client wrote them), with the query.
fn proxied_target<'a>(uri: &'a axum::http::Uri, service: &str) -> (&'a str, String) {
    let prefix = format!("{}/clusters/", sluice_api::API_PREFIX);
    let after = uri.path().strip_prefix(prefix.as_str()).unwrap_or_default();
    let (id, rest) = after.split_once('/').unwrap_or((after, ""));
    let rest = rest.strip_prefix(service).unwrap_or(rest);
    let rest = rest.trim_start_matches('/');
    let target = match uri.query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_string(),
    };
    (id, target)
}

/// Largest request body forwarded to a ksqlDB server (statements are text).
const MAX_KSQL_BODY: usize = 4 * 1024 * 1024;

/// `/clusters/{cluster}/ksql/{path}`: the request to the cluster's ksqlDB server, its answer
/// streamed back (push queries never end until the browser closes the request).
async fn ksql_proxy(
    State(s): Shared,
    method: axum::http::Method,
    OriginalUri(uri): OriginalUri,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<Response> {
    let (id, target) = proxied_target(&uri, "ksql");
    let ksql = s.cluster(id)?.ksql()?;
    let body = axum::body::to_bytes(body, MAX_KSQL_BODY)
        .await
        .map_err(|e| WorkbenchError::BadRequest(format!("request body: {e}")))?;
    ksql.forward(method, &target, &headers, body).await
}

/// Largest request body forwarded to a Kafka Connect worker (connector configs are small).
const MAX_CONNECT_BODY: usize = 4 * 1024 * 1024;

/// `/clusters/{cluster}/connect/{path}`: the request, verbatim, to the cluster's Kafka
/// Connect worker; its answer (status, Connect's error JSON) as it gave it.
async fn connect_proxy(
    State(s): Shared,
    method: axum::http::Method,
    OriginalUri(uri): OriginalUri,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<Response> {
    // Raw from the URI, so a connector name's percent-escapes reach Connect as written.
    let (id, target) = proxied_target(&uri, "connect");
    let connect = s.cluster(id)?.connect()?;
    let body = axum::body::to_bytes(body, MAX_CONNECT_BODY)
        .await
        .map_err(|e| WorkbenchError::BadRequest(format!("request body: {e}")))?;
    Ok(connect
        .forward(method, &target, &headers, body)
        .await?
        .into_response())
}

/// `/clusters/{cluster}/registry/{path}`: the request, verbatim, to the cluster's registry.
async fn registry_proxy(
    State(s): Shared,
    method: axum::http::Method,
    OriginalUri(uri): OriginalUri,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<Response> {
    // The path is taken raw from the URI, so percent-escapes (a `/` in a subject name)
    // reach the registry as the client wrote them.
    let (id, target) = proxied_target(&uri, "registry");
    let registry = s.cluster(id)?.registry()?;
    let body = axum::body::to_bytes(body, MAX_REGISTRY_BODY)
        .await
        .map_err(|e| WorkbenchError::BadRequest(format!("request body: {e}")))?;
    Ok(registry
        .forward(method, &target, &headers, body)
        .await?
        .into_response())
}

#[derive(serde::Deserialize)]
struct SubjectsQuery {
    #[serde(default)]
    deleted: bool,
}

async fn list_subjects(
    State(s): Shared,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<SubjectsQuery>,
) -> Result<Json<Vec<sluice_api::SubjectSummary>>> {
    let registry = s.cluster(&id)?.registry()?;
    Ok(Json(schemas::subjects(registry, q.deleted).await?))
}

async fn validate_schema(
    State(s): Shared,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<sluice_api::ValidateSchema>,
) -> Result<Json<sluice_api::SchemaValidation>> {
    let registry = s.cluster(&id)?.registry().ok();
    Ok(Json(schemas::validate(registry, req).await?))
}

#[derive(serde::Deserialize)]
struct CompareQuery {
    from: Option<String>,
    to: Option<String>,
}

async fn compare_versions(
    State(s): Shared,
    ApiPath((id, subject)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<CompareQuery>,
) -> Result<Json<sluice_api::SchemaComparison>> {
    let registry = s.cluster(&id)?.registry()?;
    Ok(Json(
        schemas::compare(registry, &subject, q.from, q.to).await?,
    ))
}

#[derive(serde::Deserialize)]
struct FormQuery {
    version: Option<String>,
}

async fn schema_form(
    State(s): Shared,
    ApiPath((id, subject)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<FormQuery>,
) -> Result<Json<sluice_api::SchemaForm>> {
    let cluster = s.cluster(&id)?;
    Ok(Json(schemas::form(&cluster, &subject, q.version).await?))
}
