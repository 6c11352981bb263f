//! A cluster's Kafka Connect cluster, reached over Connect's REST API (the embedded connector
//! runtime and a remote Kafka Connect alike): the verbatim pass-through behind
//! `/clusters/{c}/connect/{path}`. Connect's answers (status, content type, its
//! `{"error_code", "message"}` bodies) come back as Connect gave them, so the UI reads one
//! protocol whichever server is behind. Never interprets connectors or configs: the UI does.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, Method};

use crate::error::{Result, WorkbenchError};
use crate::registry::RawAnswer;

/// How long connecting to a Connect worker may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one call may take, answer included: Connect's own REST timeout is 90 s, and
/// validation of a connector that dials its database (JDBC) may take most of it.
const CALL_TIMEOUT: Duration = Duration::from_secs(90);
/// Largest answer read (connector lists with `expand` are the largest; still small).
const MAX_ANSWER: usize = 16 * 1024 * 1024;

/// The Kafka Connect cluster of one Kafka cluster.
pub struct ConnectClient {
    /// The worker's base URL, without a trailing slash.
    base: String,
    http: reqwest::Client,
}

impl ConnectClient {
    /// A client of the Connect worker at `url` (`http[s]://host:port[/prefix]`, or
    /// `host:port` for plain HTTP). Nothing connects yet.
    pub fn new(url: &str) -> Result<ConnectClient> {
        let base = crate::registry::service_base_url("Kafka Connect", url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .build()
            .map_err(|e| WorkbenchError::Internal(format!("HTTP client: {e}")))?;
        Ok(ConnectClient { base, http })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}/{}", self.base, path_and_query.trim_start_matches('/'))
    }

    fn unreachable(&self, e: &reqwest::Error) -> WorkbenchError {
        let why = crate::registry::error_chain(e);
        WorkbenchError::ConnectUnavailable(format!(
            "the Kafka Connect worker at {} could not be reached: {why}",
            self.base
        ))
    }

    /// Sends a request as given (method, path and query, `Content-Type`/`Accept`, body) and
    /// returns Connect's answer as given.
    pub async fn forward(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<RawAnswer> {
        let mut req = self.http.request(method, self.url(path_and_query));
        for name in [header::CONTENT_TYPE, header::ACCEPT] {
            if let Some(v) = headers.get(&name) {
                req = req.header(name, v.clone());
            }
        }
        if !body.is_empty() {
            req = req.body(body);
        }
        let mut resp = req.send().await.map_err(|e| self.unreachable(&e))?;
        let status = resp.status();
        let content_type = resp.headers().get(header::CONTENT_TYPE).cloned();
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.unreachable(&e))? {
            if out.len() + chunk.len() > MAX_ANSWER {
                return Err(WorkbenchError::ConnectUnavailable(format!(
                    "the Kafka Connect worker at {} answered more than {MAX_ANSWER} bytes",
                    self.base
                )));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(RawAnswer {
            status,
            content_type,
            body: Bytes::from(out),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join_without_double_slashes() {
        let c = ConnectClient::new("http://127.0.0.1:8083/").unwrap();
        assert_eq!(
            c.url("/connectors?expand=status"),
            "http://127.0.0.1:8083/connectors?expand=status"
        );
        assert_eq!(
            c.url("connector-plugins"),
            "http://127.0.0.1:8083/connector-plugins"
        );
        assert!(ConnectClient::new("ftp://host/").is_err());
        assert_eq!(
            ConnectClient::new("localhost:8083").unwrap().base_url(),
            "http://localhost:8083"
        );
    }

    #[tokio::test]
    async fn an_unreachable_worker_is_unavailable() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let c = ConnectClient::new(&format!("127.0.0.1:{port}")).unwrap();
        let err = c
            .forward(Method::GET, "connectors", &HeaderMap::new(), Bytes::new())
            .await
            .err()
            .unwrap();
        assert_eq!(err.code(), "unavailable");
        assert_eq!(err.status(), axum::http::StatusCode::BAD_GATEWAY);
    }
}
