//! ksqlDB's REST API through the workbench's pass-through (`/clusters/{c}/ksql/...`):
//! statements on `/ksql`, queries on `/query-stream` read as a stream of delimited lines
//! with `fetch` (a push query's body never ends), stopped by aborting the request and
//! `/close-query`. Open streams live in a thread-local table (an `AbortController` is not
//! `Send`), components hold only their id.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use serde_json::{json, Map, Value};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::api::enc;

pub const KSQL_JSON: &str = "application/vnd.ksql.v1+json";
const DELIMITED: &str = "application/vnd.ksqlapi.delimited.v1";

/// A failed statement or query: ksqlDB's message and, for a `statement_error`, the
/// statement it names.
#[derive(Clone, Debug, PartialEq)]
pub struct KsqlError {
    pub message: String,
}

impl KsqlError {
    fn new(m: impl Into<String>) -> Self {
        KsqlError { message: m.into() }
    }
}

fn js_err(what: &str, e: JsValue) -> KsqlError {
    let text = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    KsqlError::new(format!("{what}: {text}"))
}

/// The message of an error body: ksqlDB's `{"@type": ..., "message": ...}` or the
/// workbench's `{"code", "message"}` (no ksqlDB URL, server unreachable).
fn error_of(status: u16, text: &str) -> KsqlError {
    let v: Option<Value> = serde_json::from_str(text).ok();
    let message = v
        .as_ref()
        .and_then(|v| v.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            if text.trim().is_empty() {
                format!("HTTP {status}")
            } else {
                format!("HTTP {status}: {}", text.trim())
            }
        });
    KsqlError::new(message)
}

fn url(cluster: &str, rest: &str) -> String {
    sluice_api::paths::ksql(&enc(cluster), rest)
}

async fn fetch(
    url: &str,
    body: &Value,
    accept: &str,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<web_sys::Response, KsqlError> {
    let headers = web_sys::Headers::new().map_err(|e| js_err("headers", e))?;
    headers
        .set("Content-Type", KSQL_JSON)
        .map_err(|e| js_err("headers", e))?;
    headers
        .set("Accept", accept)
        .map_err(|e| js_err("headers", e))?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&body.to_string()));
    if let Some(s) = signal {
        init.set_signal(Some(s));
    }
    let window = web_sys::window().ok_or_else(|| KsqlError::new("no window"))?;
    let resp = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|e| js_err("network error", e))?;
    resp.dyn_into::<web_sys::Response>()
        .map_err(|e| js_err("fetch", e))
}

async fn text_of(resp: &web_sys::Response) -> String {
    match resp.text() {
        Ok(p) => JsFuture::from(p)
            .await
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// `POST /ksql` with one statement: ksqlDB's array of entities, or its error.
pub async fn statement(
    cluster: &str,
    sql: &str,
    props: &Map<String, Value>,
) -> Result<Vec<Value>, KsqlError> {
    let body = json!({"ksql": sql, "streamsProperties": props});
    let resp = fetch(&url(cluster, "ksql"), &body, KSQL_JSON, None).await?;
    let text = text_of(&resp).await;
    if !resp.ok() {
        return Err(error_of(resp.status(), &text));
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(a)) => Ok(a),
        Ok(other) => Ok(vec![other]),
        Err(e) => Err(KsqlError::new(format!("unexpected answer: {e}"))),
    }
}

/// A query's header: its id and columns.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Header {
    pub query_id: String,
    pub columns: Vec<String>,
    pub types: Vec<String>,
}

/// What a query's stream delivers.
pub enum Event {
    Header(Header),
    Row(Vec<Value>),
    /// The stream ended: `None` normally (LIMIT, pull query done, closed), or an error.
    End(Option<KsqlError>),
}

thread_local! {
    static STREAMS: RefCell<HashMap<u32, web_sys::AbortController>> = RefCell::new(HashMap::new());
    static NEXT: Cell<u32> = const { Cell::new(1) };
}

/// An open query stream; `stop` ends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamId(u32);

/// Runs `sql` on `/query-stream`, calling `on_event` for the header, every row as it comes
/// and the end. Returns at once; the stream is read in the background.
pub fn query(
    cluster: &str,
    sql: &str,
    props: &Map<String, Value>,
    on_event: impl Fn(Event) + 'static,
) -> Result<StreamId, KsqlError> {
    let ctrl = web_sys::AbortController::new().map_err(|e| js_err("abort controller", e))?;
    let signal = ctrl.signal();
    let id = NEXT.with(|n| {
        let v = n.get();
        n.set(v + 1);
        v
    });
    STREAMS.with(|s| s.borrow_mut().insert(id, ctrl));
    let url = url(cluster, "query-stream");
    let body = json!({"sql": sql, "properties": props});
    leptos::task::spawn_local(async move {
        let end = read_stream(&url, &body, &signal, &on_event).await;
        STREAMS.with(|s| s.borrow_mut().remove(&id));
        // An abort is the user's stop, not an error.
        let end = end.err().filter(|_| !signal.aborted());
        on_event(Event::End(end));
    });
    Ok(StreamId(id))
}

async fn read_stream(
    url: &str,
    body: &Value,
    signal: &web_sys::AbortSignal,
    on_event: &impl Fn(Event),
) -> Result<(), KsqlError> {
    let resp = fetch(url, body, DELIMITED, Some(signal)).await?;
    if !resp.ok() {
        let text = text_of(&resp).await;
        return Err(error_of(resp.status(), &text));
    }
    let Some(stream) = resp.body() else {
        return Ok(());
    };
    let reader: web_sys::ReadableStreamDefaultReader = stream
        .get_reader()
        .dyn_into()
        .map_err(|e| js_err("reader", e.into()))?;
    let mut buf: Vec<u8> = Vec::new();
    let mut header_seen = false;
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| js_err("reading the stream", e))?;
        let done = js_sys::Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if let Ok(v) = js_sys::Reflect::get(&chunk, &"value".into()) {
            if let Some(bytes) = v.dyn_ref::<js_sys::Uint8Array>() {
                buf.extend(bytes.to_vec());
            }
        }
        while let Some(nl) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=nl).collect();
            handle_line(&line, &mut header_seen, on_event)?;
        }
        if done {
            if !buf.is_empty() {
                let rest = std::mem::take(&mut buf);
                handle_line(&rest, &mut header_seen, on_event)?;
            }
            return Ok(());
        }
    }
}

fn handle_line(
    line: &[u8],
    header_seen: &mut bool,
    on_event: &impl Fn(Event),
) -> Result<(), KsqlError> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim().trim_end_matches(',').trim();
    if text.is_empty() || text == "[" || text == "]" {
        return Ok(());
    }
    // The JSON-array form (a server that ignores the delimited Accept) opens with `[` before
    // the header and closes with `]` after the last row.
    let v: Value = serde_json::from_str(text)
        .or_else(|e| {
            let inner = text.strip_prefix('[').unwrap_or(text);
            let inner = inner
                .strip_suffix(']')
                .filter(|_| !text.ends_with("]]"))
                .unwrap_or(inner);
            serde_json::from_str(inner.trim()).map_err(|_| e)
        })
        .map_err(|e| KsqlError::new(format!("unexpected line from the server ({e}): {text}")))?;
    match v {
        Value::Array(row) => on_event(Event::Row(row)),
        Value::Object(o) if !*header_seen && o.contains_key("columnNames") => {
            *header_seen = true;
            let strs = |k: &str| -> Vec<String> {
                o.get(k)
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            on_event(Event::Header(Header {
                query_id: o
                    .get("queryId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                columns: strs("columnNames"),
                types: strs("columnTypes"),
            }));
        }
        Value::Object(o) if o.contains_key("message") => {
            // An error in the middle of a stream.
            return Err(KsqlError::new(
                o.get("message").and_then(Value::as_str).unwrap_or("error"),
            ));
        }
        _ => {}
    }
    Ok(())
}

/// Ends a stream: aborts the request and asks the server to close the query (a remote
/// ksqlDB behind other proxies may not see the abort at once).
pub fn stop(cluster: &str, id: StreamId, query_id: Option<String>) {
    if let Some(c) = STREAMS.with(|s| s.borrow_mut().remove(&id.0)) {
        c.abort();
    }
    if let Some(q) = query_id.filter(|q| !q.is_empty()) {
        let u = url(cluster, "close-query");
        leptos::task::spawn_local(async move {
            // The abort usually ended it already; a "no such query" answer is fine.
            let _ = fetch(&u, &json!({"queryId": q}), KSQL_JSON, None).await;
        });
    }
}
