//! A cluster's Kafka Connect cluster, reached over Connect's REST API (the embedded connector
//! runtime and a remote Kafka Connect alike): the verbatim pass-through behind
//! `/clusters/{c}/connect/{path}`. Connect's answers (status, content type, its
//! `{"error_code", "message"}` bodies) come back as Connect gave them, so the UI reads one
//! protocol whichever server is behind. Never interprets connectors or configs: the UI does.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method};

use crate::error::{Result, WorkbenchError};
use crate::upstream::{RawAnswer, Upstream};

/// How long one call may take, answer included: Connect's own REST timeout is 90 s, and
/// validation of a connector that dials its database (JDBC) may take most of it.
const CALL_TIMEOUT: Duration = Duration::from_secs(90);
/// Largest answer read (connector lists with `expand` are the largest; still small).
const MAX_ANSWER: usize = 16 * 1024 * 1024;

/// The Kafka Connect cluster of one Kafka cluster.
pub struct ConnectClient {
    upstream: Upstream,
}

impl ConnectClient {
    /// A client of the Connect worker at `url` (`http[s]://host:port[/prefix]`, or
    /// `host:port` for plain HTTP). Nothing connects yet.
    pub fn new(url: &str) -> Result<ConnectClient> {
        let upstream = Upstream::new(
            "Kafka Connect",
            "the Kafka Connect worker",
            url,
            Some(CALL_TIMEOUT),
            WorkbenchError::ConnectUnavailable,
        )?;
        Ok(ConnectClient { upstream })
    }

    pub fn base_url(&self) -> &str {
        self.upstream.base_url()
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
        self.upstream
            .forward_buffered(method, path_and_query, headers, body, MAX_ANSWER)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalized() {
        let c = ConnectClient::new("http://127.0.0.1:8083/").unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:8083");
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
