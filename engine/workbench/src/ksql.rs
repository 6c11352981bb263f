//! A cluster's ksqlDB server, reached over ksqlDB's REST API (the embedded SQL engine and a
//! remote ksqlDB alike): the pass-through behind `/clusters/{c}/ksql/{path}`. Unlike the
//! registry's, it streams: a push query on `/query-stream` answers a body that never ends,
//! so the answer's chunks are handed to the browser as they arrive, and dropping the
//! browser's response (it went away, or aborted the fetch) drops the upstream request, which
//! ends the query on the server. Never parses statements or results: the UI does.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, Method};
use axum::response::Response;

use crate::error::{Result, WorkbenchError};

/// How long connecting to a ksqlDB server may take. There is no limit on the answer: a push
/// query streams for as long as the browser keeps reading.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the server may take to start answering (status and headers); statements that
/// create topics or wait for commands answer within it.
const HEADERS_TIMEOUT: Duration = Duration::from_secs(60);

/// The ksqlDB server of one cluster.
pub struct KsqlClient {
    /// The server's base URL, without a trailing slash.
    base: String,
    http: reqwest::Client,
}

impl KsqlClient {
    /// A client of the server at `url` (`http[s]://host:port[/prefix]`, or `host:port` for
    /// plain HTTP; `user:password@` in the URL becomes basic authentication). Nothing
    /// connects yet.
    pub fn new(url: &str) -> Result<KsqlClient> {
        let base = crate::registry::service_base_url("ksqlDB", url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| WorkbenchError::Internal(format!("HTTP client: {e}")))?;
        Ok(KsqlClient { base, http })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}/{}", self.base, path_and_query.trim_start_matches('/'))
    }

    fn unreachable(&self, e: &reqwest::Error) -> WorkbenchError {
        let why = crate::registry::error_chain(e);
        WorkbenchError::KsqlUnavailable(format!(
            "the ksqlDB server at {} could not be reached: {why}",
            self.base
        ))
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
        let mut req = self.http.request(method, self.url(path_and_query));
        for name in [header::CONTENT_TYPE, header::ACCEPT] {
            if let Some(v) = headers.get(&name) {
                req = req.header(name, v.clone());
            }
        }
        if !body.is_empty() {
            req = req.body(body);
        }
        let resp = match tokio::time::timeout(HEADERS_TIMEOUT, req.send()).await {
            Ok(sent) => sent.map_err(|e| self.unreachable(&e))?,
            Err(_) => {
                return Err(WorkbenchError::KsqlUnavailable(format!(
                    "the ksqlDB server at {} did not answer within {} s",
                    self.base,
                    HEADERS_TIMEOUT.as_secs()
                )))
            }
        };
        let mut out = Response::builder().status(resp.status());
        for name in [header::CONTENT_TYPE, header::CACHE_CONTROL] {
            if let Some(v) = resp.headers().get(&name) {
                out = out.header(name, v.clone());
            }
        }
        // Proxies in between (and the browser) must not buffer a stream of rows.
        out = out.header("x-accel-buffering", "no");
        // reqwest's body is an `http_body::Body` that yields the chunks as they come; it owns
        // the connection, so dropping it (the browser went away) closes the upstream request.
        out.body(Body::new(reqwest::Body::from(resp)))
            .map_err(|e| WorkbenchError::Internal(format!("proxy response: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join_without_double_slashes() {
        let c = KsqlClient::new("http://127.0.0.1:8088/").unwrap();
        assert_eq!(c.url("/query-stream"), "http://127.0.0.1:8088/query-stream");
        assert_eq!(c.url("ksql"), "http://127.0.0.1:8088/ksql");
        assert!(KsqlClient::new("ftp://host/").is_err());
        assert_eq!(
            KsqlClient::new("localhost:8088").unwrap().base_url(),
            "http://localhost:8088"
        );
    }
}
