//! The HTTP service behind a workbench pass-through (a schema registry, a Kafka Connect
//! worker, a ksqlDB server): its base URL, its HTTP client and timeouts, how a request is
//! forwarded (method, path and query, `Content-Type`/`Accept`, body) and answered (buffered
//! up to a limit, or streamed), and how an unreachable service becomes that service's own
//! [`WorkbenchError`]. Never reads what it forwards: the callers and the UI do.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{Result, WorkbenchError};

/// How long connecting to a service may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One answer of a service, as it gave it (buffered).
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
                resp.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            None => {
                resp.headers_mut().remove(header::CONTENT_TYPE);
            }
        }
        resp
    }
}

/// A service one cluster reaches over HTTP.
pub struct Upstream {
    /// The service's base URL, without a trailing slash.
    base: String,
    http: reqwest::Client,
    /// What the service is called in messages: "the Kafka Connect worker".
    noun: &'static str,
    /// The service's own "unavailable" error (a 502 with code `unavailable`).
    unavailable: fn(String) -> WorkbenchError,
}

impl Upstream {
    /// The service at `url` (`http[s]://host:port[/prefix]`, or `host:port` for plain HTTP),
    /// `kind` naming it in URL errors and `noun` in answers; `call_timeout` bounds a whole
    /// call (answer included), or nothing beyond connecting when `None`. Nothing connects yet.
    pub fn new(
        kind: &str,
        noun: &'static str,
        url: &str,
        call_timeout: Option<Duration>,
        unavailable: fn(String) -> WorkbenchError,
    ) -> Result<Upstream> {
        let base = service_base_url(kind, url)?;
        let mut builder = reqwest::Client::builder().connect_timeout(CONNECT_TIMEOUT);
        if let Some(t) = call_timeout {
            builder = builder.timeout(t);
        }
        let http = builder
            .build()
            .map_err(|e| WorkbenchError::Internal(format!("HTTP client: {e}")))?;
        Ok(Upstream {
            base,
            http,
            noun,
            unavailable,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}/{}", self.base, path_and_query.trim_start_matches('/'))
    }

    /// The service's "unavailable" error, `{noun} at {base} {what}`.
    pub fn unavailable(&self, what: &str) -> WorkbenchError {
        (self.unavailable)(format!("{} at {} {what}", self.noun, self.base))
    }

    fn unreachable(&self, e: &reqwest::Error) -> WorkbenchError {
        self.unavailable(&format!("could not be reached: {}", error_chain(e)))
    }

    /// Sends a request as given (method, path and query, `Content-Type`/`Accept`, body).
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<reqwest::Response> {
        let mut req = self.http.request(method, self.url(path_and_query));
        for name in [header::CONTENT_TYPE, header::ACCEPT] {
            if let Some(v) = headers.get(&name) {
                req = req.header(name, v.clone());
            }
        }
        if !body.is_empty() {
            req = req.body(body);
        }
        req.send().await.map_err(|e| self.unreachable(&e))
    }

    /// Forwards a request and returns the answer as given, read whole (at most `max_answer`
    /// bytes).
    pub async fn forward_buffered(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
        max_answer: usize,
    ) -> Result<RawAnswer> {
        let mut resp = self.send(method, path_and_query, headers, body).await?;
        let status = resp.status();
        let content_type = resp.headers().get(header::CONTENT_TYPE).cloned();
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.unreachable(&e))? {
            if out.len() + chunk.len() > max_answer {
                return Err(self.unavailable(&format!("answered more than {max_answer} bytes")));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(RawAnswer {
            status,
            content_type,
            body: Bytes::from(out),
        })
    }

    /// Forwards a request and answers with the service's status, content type and body, the
    /// body streamed chunk by chunk as the service writes it; the service must start
    /// answering (status and headers) within `headers_timeout`. Dropping the response drops
    /// the upstream request.
    pub async fn forward_streamed(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
        headers_timeout: Duration,
    ) -> Result<Response> {
        let sent = self.send(method, path_and_query, headers, body);
        let resp = tokio::time::timeout(headers_timeout, sent)
            .await
            .map_err(|_| {
                self.unavailable(&format!(
                    "did not answer within {} s",
                    headers_timeout.as_secs()
                ))
            })??;
        let mut out = Response::builder().status(resp.status());
        for name in [header::CONTENT_TYPE, header::CACHE_CONTROL] {
            if let Some(v) = resp.headers().get(&name) {
                out = out.header(name, v.clone());
            }
        }
        // Proxies in between (and the browser) must not buffer a stream.
        out = out.header("x-accel-buffering", "no");
        // reqwest's body is an `http_body::Body` that yields the chunks as they come; it owns
        // the connection, so dropping it (the browser went away) closes the upstream request.
        out.body(Body::new(reqwest::Body::from(resp)))
            .map_err(|e| WorkbenchError::Internal(format!("proxy response: {e}")))
    }
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

    fn connect(url: &str) -> Result<Upstream> {
        Upstream::new(
            "Kafka Connect",
            "the Kafka Connect worker",
            url,
            None,
            WorkbenchError::ConnectUnavailable,
        )
    }

    #[test]
    fn urls_join_without_double_slashes() {
        let c = connect("http://127.0.0.1:8083/").unwrap();
        assert_eq!(
            c.url("/connectors?expand=status"),
            "http://127.0.0.1:8083/connectors?expand=status"
        );
        assert_eq!(
            c.url("connector-plugins"),
            "http://127.0.0.1:8083/connector-plugins"
        );
        assert!(connect("ftp://host/").is_err());
        assert!(connect("not a url").is_err());
        assert_eq!(
            connect("localhost:8083").unwrap().base_url(),
            "http://localhost:8083"
        );
    }

    #[tokio::test]
    async fn an_unreachable_service_is_its_own_unavailable_error() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let c = connect(&format!("127.0.0.1:{port}")).unwrap();
        let err = c
            .forward_buffered(
                Method::GET,
                "connectors",
                &HeaderMap::new(),
                Bytes::new(),
                10,
            )
            .await
            .err()
            .unwrap();
        assert!(
            matches!(err, WorkbenchError::ConnectUnavailable(_)),
            "{err}"
        );
        assert!(
            err.to_string().contains(&format!(
                "the Kafka Connect worker at http://127.0.0.1:{port} could not be reached"
            )),
            "{err}"
        );
        let err = c
            .forward_streamed(
                Method::GET,
                "connectors",
                &HeaderMap::new(),
                Bytes::new(),
                Duration::from_secs(5),
            )
            .await
            .err()
            .unwrap();
        assert_eq!(err.status(), StatusCode::BAD_GATEWAY);
    }
}
