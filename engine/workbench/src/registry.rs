//! A cluster's schema registry, reached over Confluent's REST API (the embedded registry and a
//! remote Confluent Schema Registry alike): the verbatim pass-through behind
//! `/clusters/{c}/registry/{path}`, and the typed calls the workbench's schema features make.
//! Owns its timeouts (the HTTP forwarding is `upstream`) and the mapping of registry answers to
//! [`WorkbenchError`]s. Never parses schemas or data: that is `schemas` and `codec`.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::{Result, WorkbenchError};
pub use crate::upstream::RawAnswer;
use crate::upstream::Upstream;

/// How long one registry call may take, answer included.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);
/// Largest registry answer read (schemas are small; a subject list of a big registry is not).
const MAX_ANSWER: usize = 64 * 1024 * 1024;

/// Confluent's error body.
#[derive(Debug, Deserialize)]
struct ConfluentError {
    #[serde(default)]
    error_code: Option<i64>,
    #[serde(default)]
    message: Option<String>,
}

/// The registry of one cluster.
pub struct RegistryClient {
    upstream: Upstream,
}

impl RegistryClient {
    /// A client of the registry at `url` (`http[s]://host:port[/prefix]`, or `host:port` for
    /// plain HTTP; `user:password@` in the URL becomes basic authentication). Nothing
    /// connects yet.
    pub fn new(url: &str) -> Result<RegistryClient> {
        let upstream = Upstream::new(
            "schema registry",
            "the schema registry",
            url,
            Some(CALL_TIMEOUT),
            WorkbenchError::RegistryUnavailable,
        )?;
        Ok(RegistryClient { upstream })
    }

    pub fn base_url(&self) -> &str {
        self.upstream.base_url()
    }

    /// Sends a request as given and returns the registry's answer as given.
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

    /// A GET whose 2xx answer is JSON of type `T`; any other answer becomes an error.
    pub async fn get<T: DeserializeOwned>(&self, path_and_query: &str) -> Result<T> {
        let answer = self
            .forward(Method::GET, path_and_query, &HeaderMap::new(), Bytes::new())
            .await?;
        self.decode(path_and_query, answer)
    }

    /// A GET that may answer 404 (`None`), e.g. a subject without its own config.
    pub async fn get_optional<T: DeserializeOwned>(
        &self,
        path_and_query: &str,
    ) -> Result<Option<T>> {
        let answer = self
            .forward(Method::GET, path_and_query, &HeaderMap::new(), Bytes::new())
            .await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        self.decode(path_and_query, answer).map(Some)
    }

    fn decode<T: DeserializeOwned>(&self, path: &str, answer: RawAnswer) -> Result<T> {
        if !answer.status.is_success() {
            return Err(self.registry_error(path, &answer));
        }
        serde_json::from_slice(&answer.body).map_err(|e| {
            WorkbenchError::RegistryUnavailable(format!(
                "the schema registry at {} answered GET /{} with unexpected JSON: {e}",
                self.base_url(),
                path.trim_start_matches('/')
            ))
        })
    }

    /// A non-2xx registry answer: 404 stays a 404, other 4xx are the caller's mistake, and
    /// anything else means the registry could not serve the request.
    fn registry_error(&self, path: &str, answer: &RawAnswer) -> WorkbenchError {
        let parsed: Option<ConfluentError> = serde_json::from_slice(&answer.body).ok();
        let message = parsed
            .as_ref()
            .and_then(|e| e.message.clone())
            .unwrap_or_else(|| String::from_utf8_lossy(&answer.body).into_owned());
        let code = parsed
            .and_then(|e| e.error_code)
            .map(|c| format!(" (error {c})"))
            .unwrap_or_default();
        let message = format!("schema registry: {message}{code}");
        match answer.status {
            StatusCode::NOT_FOUND => WorkbenchError::NotFound(message),
            s if s.is_client_error() => WorkbenchError::BadRequest(message),
            s => WorkbenchError::RegistryUnavailable(format!(
                "{message} [HTTP {s} for /{}]",
                path.trim_start_matches('/')
            )),
        }
    }
}

/// Percent-encodes one path segment (a subject name may hold `/`, `:`, spaces...).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_escaped() {
        assert_eq!(segment("orders-value"), "orders-value");
        assert_eq!(segment("a/b c:d"), "a%2Fb%20c%3Ad");
    }

    #[test]
    fn base_urls_are_normalized() {
        let c = RegistryClient::new("http://127.0.0.1:8081/").unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:8081");
        assert!(RegistryClient::new("not a url").is_err());
        assert!(RegistryClient::new("ftp://host/").is_err());
        let bare = RegistryClient::new("localhost:8081").unwrap();
        assert_eq!(bare.base_url(), "http://localhost:8081");
    }

    #[tokio::test]
    async fn https_registries_are_dialed() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let c = RegistryClient::new(&format!("https://127.0.0.1:{port}")).unwrap();
        let err = c.get::<Vec<String>>("subjects").await.err().unwrap();
        assert_eq!(err.code(), "unavailable");
        // Refused by the socket, not by a missing TLS stack.
        assert!(err.to_string().contains("onnect"), "{err}");
    }
}
