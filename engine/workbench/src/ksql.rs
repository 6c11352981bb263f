//! A cluster's ksqlDB server, reached over ksqlDB's REST API (the embedded SQL engine and a
//! remote ksqlDB alike): the pass-through behind `/clusters/{c}/ksql/{path}`. Unlike the
//! registry's, it streams: a push query on `/query-stream` answers a body that never ends,
//! so the answer's chunks are handed to the browser as they arrive, and dropping the
//! browser's response (it went away, or aborted the fetch) drops the upstream request, which
//! ends the query on the server. Never parses statements or results: the UI does.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method};
use axum::response::Response;

use crate::error::{Result, WorkbenchError};
use crate::upstream::Upstream;

/// How long the server may take to start answering (status and headers); statements that
/// create topics or wait for commands answer within it. There is no limit on the answer: a
/// push query streams for as long as the browser keeps reading.
const HEADERS_TIMEOUT: Duration = Duration::from_secs(60);

/// The ksqlDB server of one cluster.
pub struct KsqlClient {
    upstream: Upstream,
}

impl KsqlClient {
    /// A client of the server at `url` (`http[s]://host:port[/prefix]`, or `host:port` for
    /// plain HTTP). Nothing connects yet.
    pub fn new(url: &str) -> Result<KsqlClient> {
        let upstream = Upstream::new(
            "ksqlDB",
            "the ksqlDB server",
            url,
            None,
            WorkbenchError::KsqlUnavailable,
        )?;
        Ok(KsqlClient { upstream })
    }

    pub fn base_url(&self) -> &str {
        self.upstream.base_url()
    }

    /// Sends a request as given and answers with the server's status, content type and body,
    /// the body streamed chunk by chunk as the server writes it.
    pub async fn forward(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Response> {
        self.upstream
            .forward_streamed(method, path_and_query, headers, body, HEADERS_TIMEOUT)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalized() {
        let c = KsqlClient::new("http://127.0.0.1:8088/").unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:8088");
        assert!(KsqlClient::new("ftp://host/").is_err());
        assert_eq!(
            KsqlClient::new("localhost:8088").unwrap().base_url(),
            "http://localhost:8088"
        );
    }
}
