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
