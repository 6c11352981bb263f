//! The SQL engine's door to Kafka Connect: [`HttpConnectClient`] implements sluice-sql's
//! `ConnectClient` over Connect's REST API (reqwest), the way ksqlDB reaches the cluster at
//! `ksql.connect.url`; the embedded Connect is reached at its own port like a remote one.
//! It only carries requests: what they mean is sluice-sql's `connectors` module.

use std::time::Duration;

use serde_json::Value as Json;
use sluice_sql::connectors::{ConnectClient, ConnectResponse};
use sluice_sql::SqlError;

const CALL_TIMEOUT: Duration = Duration::from_secs(30);

pub struct HttpConnectClient {
    base: String,
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

impl HttpConnectClient {
    /// A client of the Connect REST API at `base` (`http://host:port`), running its calls on
    /// the current tokio runtime.
    pub fn new(base: String) -> anyhow::Result<HttpConnectClient> {
        Ok(HttpConnectClient {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder().timeout(CALL_TIMEOUT).build()?,
            runtime: tokio::runtime::Handle::current(),
        })
    }
}

impl ConnectClient for HttpConnectClient {
    /// Blocks the calling thread (the engine runs statements on blocking threads) until the
    /// call, run on the runtime, answers.
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Json>,
    ) -> Result<ConnectResponse, SqlError> {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| SqlError::Io(format!("HTTP method {method}: {e}")))?;
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let base = self.base.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        self.runtime.spawn(async move {
            let answer = async {
                let resp = req.send().await?;
                let status = resp.status().as_u16();
                let bytes = resp.bytes().await?;
                Ok::<_, reqwest::Error>((status, bytes))
            }
            .await;
            let _ = tx.send(answer);
        });
        let (status, bytes) = rx
            .recv_timeout(CALL_TIMEOUT + Duration::from_secs(5))
            .map_err(|_| SqlError::Io(format!("Kafka Connect at {base} did not answer")))?
            .map_err(|e| {
                SqlError::Io(format!("Kafka Connect at {base} could not be reached: {e}"))
            })?;
        let body = if bytes.is_empty() {
            Json::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Json::String(
                String::from_utf8_lossy(&bytes).into_owned(),
            ))
        };
        Ok(ConnectResponse { status, body })
    }
}
