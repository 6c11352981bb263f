//! Calls to the workbench API (`sluice_api::paths`), with names URL-encoded and failures
//! turned into the server's `ApiError` message.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sluice_api::ApiError;

/// Percent-encodes one path segment or query value (`encodeURIComponent`).
pub fn enc(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

/// Builds `?a=b&c=d` from the pairs whose value is present.
pub fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", enc(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// `ws://host/path` (or `wss://`) for a path of this origin.
pub fn ws_url(path: &str) -> String {
    let loc = web_sys::window().expect("window").location();
    let proto = if loc.protocol().unwrap_or_default() == "https:" {
        "wss:"
    } else {
        "ws:"
    };
    format!("{proto}//{}{path}", loc.host().unwrap_or_default())
}

async fn finish(req: Result<Response, gloo_net::Error>) -> Result<Response, String> {
    let resp = req.map_err(|e| format!("network error: {e}"))?;
    if resp.ok() {
        return Ok(resp);
    }
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    match serde_json::from_str::<ApiError>(&text) {
        Ok(err) => Err(err.message),
        Err(_) if text.trim().is_empty() => Err(format!("HTTP {status} {}", resp.status_text())),
        Err(_) => Err(format!("HTTP {status}: {}", text.trim())),
    }
}

async fn decode<T: DeserializeOwned>(resp: Response) -> Result<T, String> {
    let text = resp
        .text()
        .await
        .map_err(|e| format!("reading the response: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("unexpected response: {e}"))
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, String> {
    decode(finish(Request::get(path).send().await).await?).await
}

fn with_json<B: Serialize>(
    req: RequestBuilder,
    body: &B,
) -> Result<gloo_net::http::Request, String> {
    req.json(body)
        .map_err(|e| format!("encoding the request: {e}"))
}

pub async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, String> {
    let req = with_json(Request::post(path), body)?;
    decode(finish(req.send().await).await?).await
}

/// POST or PUT whose response body does not matter.
pub async fn put_unit<B: Serialize>(path: &str, body: &B) -> Result<(), String> {
    let req = with_json(Request::put(path), body)?;
    finish(req.send().await).await.map(|_| ())
}

pub async fn delete(path: &str) -> Result<(), String> {
    finish(Request::delete(path).send().await).await.map(|_| ())
}

// ---------------------------------------------------------------------------------------
// The schema registry, through the workbench's pass-through
// ---------------------------------------------------------------------------------------

/// A failed registry call: the HTTP status, Confluent's `error_code` when the registry
/// answered (`40401` subject not found, `409` incompatible, `42201` invalid schema ...), or
/// the workbench's own code (`not_found` when the cluster has no registry URL).
#[derive(Clone, Debug, PartialEq)]
pub struct RegError {
    pub status: u16,
    pub error_code: Option<i64>,
    pub api_code: Option<String>,
    pub message: String,
}

impl RegError {
    pub fn is(&self, code: i64) -> bool {
        self.error_code == Some(code)
    }
    /// The cluster has no schema registry configured (the workbench, not the registry, said 404).
    pub fn no_registry(&self) -> bool {
        self.status == 404 && self.error_code.is_none()
    }
}

impl std::fmt::Display for RegError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

/// Any call whose error body may be Confluent's `{error_code, message}` or an `ApiError`.
pub async fn call<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<T, RegError> {
    let fail = |status: u16, message: String| RegError {
        status,
        error_code: None,
        api_code: None,
        message,
    };
    let builder = match method {
        Method::Get => Request::get(path),
        Method::Post => Request::post(path),
        Method::Put => Request::put(path),
        Method::Patch => Request::patch(path),
        Method::Delete => Request::delete(path),
    };
    let sent = match body {
        Some(b) => match builder.json(&b) {
            Ok(req) => req.send().await,
            Err(e) => return Err(fail(0, format!("encoding the request: {e}"))),
        },
        None => builder.send().await,
    };
    let resp = sent.map_err(|e| fail(0, format!("network error: {e}")))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if resp.ok() {
        let text = if text.trim().is_empty() {
            "null"
        } else {
            &text
        };
        return serde_json::from_str(text)
            .map_err(|e| fail(status, format!("unexpected response: {e}")));
    }
    let v: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    let field = |k: &str| v.as_ref().and_then(|v| v.get(k)).cloned();
    let message = field("message")
        .and_then(|m| m.as_str().map(str::to_string))
        .unwrap_or_else(|| {
            if text.trim().is_empty() {
                format!("HTTP {status} {}", resp.status_text())
            } else {
                format!("HTTP {status}: {}", text.trim())
            }
        });
    Err(RegError {
        status,
        error_code: field("error_code").and_then(|c| c.as_i64()),
        api_code: field("code").and_then(|c| c.as_str().map(str::to_string)),
        message,
    })
}

/// A Confluent REST call on the cluster's registry (`rest` as in Confluent's API, with
/// names already encoded).
pub async fn registry<T: DeserializeOwned>(
    method: Method,
    cluster: &str,
    rest: &str,
    body: Option<serde_json::Value>,
) -> Result<T, RegError> {
    call(
        method,
        &sluice_api::paths::registry(&enc(cluster), rest),
        body,
    )
    .await
}
