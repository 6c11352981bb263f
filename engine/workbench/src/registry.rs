//! A cluster's schema registry, reached over Confluent's REST API (the embedded registry and a
//! remote Confluent Schema Registry alike): the verbatim pass-through behind
//! `/clusters/{c}/registry/{path}`, and the typed calls the workbench's schema features make.
//! Owns the HTTP client, its timeouts and the mapping of registry answers to
//! [`WorkbenchError`]s. Never parses schemas or data: that is `schemas` and `codec`.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::{Result, WorkbenchError};

/// How long connecting to a registry may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
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
    /// The registry's base URL, without a trailing slash.
    base: String,
    http: reqwest::Client,
}

/// One answer of the registry, as it gave it.
pub struct RawAnswer {
    pub status: StatusCode,
    pub content_type: Option<HeaderValue>,
    pub body: Bytes,
}

impl IntoResponse for RawAnswer {
    fn into_response(self) -> Response {
        let mut resp = (self.status, self.body).into_response();
        match self.content_type {
            Some(ct) => {
                resp.headers_mut()
                    .insert(axum::http::header::CONTENT_TYPE, ct);
            }
            None => {
                resp.headers_mut().remove(axum::http::header::CONTENT_TYPE);
            }
        }
        resp
    }
}

impl RegistryClient {
    /// A client of the registry at `url` (`http[s]://host:port[/prefix]`, or `host:port` for
    /// plain HTTP; `user:password@` in the URL becomes basic authentication). Nothing
    /// connects yet.
    pub fn new(url: &str) -> Result<RegistryClient> {
        let base = service_base_url("schema registry", url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .build()
            .map_err(|e| WorkbenchError::Internal(format!("HTTP client: {e}")))?;
        Ok(RegistryClient { base, http })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}/{}", self.base, path_and_query.trim_start_matches('/'))
    }

    fn unreachable(&self, e: &reqwest::Error) -> WorkbenchError {
        let why = error_chain(e);
        WorkbenchError::RegistryUnavailable(format!(
            "the schema registry at {} could not be reached: {why}",
            self.base
        ))
    }

    /// Sends a request as given and returns the registry's answer as given.
    pub async fn forward(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<RawAnswer> {
        let mut req = self.http.request(method, self.url(path_and_query));
        for name in [axum::http::header::CONTENT_TYPE, axum::http::header::ACCEPT] {
            if let Some(v) = headers.get(&name) {
                req = req.header(name, v.clone());
            }
        }
        if !body.is_empty() {
            req = req.body(body);
        }
        let resp = req.send().await.map_err(|e| self.unreachable(&e))?;
        let status = resp.status();
        let content_type = resp.headers().get(reqwest::header::CONTENT_TYPE).cloned();
        let body = self.read_body(resp).await?;
        Ok(RawAnswer {
            status,
            content_type,
            body,
        })
    }

    async fn read_body(&self, mut resp: reqwest::Response) -> Result<Bytes> {
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.unreachable(&e))? {
            if out.len() + chunk.len() > MAX_ANSWER {
                return Err(WorkbenchError::RegistryUnavailable(format!(
                    "the schema registry at {} answered more than {MAX_ANSWER} bytes",
                    self.base
                )));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(out))
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
                self.base,
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

/// The base URL of a REST service (a registry, ksqlDB, Connect) as a user typed it:
/// `http[s]://host:port[/prefix]`, or `host:port` for plain HTTP; no trailing slash.
/// `what` names the service in the error.
pub(crate) fn service_base_url(what: &str, url: &str) -> Result<String> {
    let mut base = url.trim().trim_end_matches('/').to_string();
    if !base.contains("://") {
        // `host:port` alone means plain HTTP.
        base.insert_str(0, "http://");
    }
    let parsed = reqwest::Url::parse(&base)
        .map_err(|e| WorkbenchError::BadRequest(format!("{what} URL {base:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(WorkbenchError::BadRequest(format!(
            "{what} URL {base:?}: expected http:// or https://"
        )));
    }
    Ok(base)
}

/// An error and its sources, `outer: inner: ...` (what a client needs to see why a call failed).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut why = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        why.push_str(": ");
        why.push_str(&s.to_string());
        source = s.source();
    }
    why
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
    fn urls_join_without_double_slashes() {
        let c = RegistryClient::new("http://127.0.0.1:8081/").unwrap();
        assert_eq!(
            c.url("/subjects?deleted=true"),
            "http://127.0.0.1:8081/subjects?deleted=true"
        );
        assert_eq!(c.url("subjects"), "http://127.0.0.1:8081/subjects");
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
