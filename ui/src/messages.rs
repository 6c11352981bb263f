//! The message browser: a query bar, a virtually scrolled list that stays smooth with
//! 100,000 messages (only the visible rows exist in the DOM), live tail over WebSocket, a
//! detail panel, and export of what is loaded.

use leptos::prelude::*;
use sluice_api::{paths, DecodedData, Message, MessagePage, TailEvent, TopicDetail};

use crate::api;
use crate::app::cluster;
use crate::schemas::{schema_badge_text, SchemaBadge};
use crate::util::{bytes, download, iso, list_key, num, toasts, ListKey, Pill};
use crate::ws;

/// Height of one row in px; must match `.vrow` in the CSS.
const ROW: f64 = 28.0;
/// Rows drawn above and below the visible ones.
const OVERSCAN: usize = 10;

fn preview(s: &Option<String>, base64: bool) -> String {
    match s {
        None => "null".to_string(),
        Some(s) => {
            let mut out: String = s
                .chars()
                .take(240)
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            if base64 {
                out = format!("base64:{out}");
            }
            out
        }
    }
}

fn pretty(s: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(v @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
            serde_json::to_string_pretty(&v).unwrap_or_else(|_| s.to_string())
        }
        _ => s.to_string(),
    }
}

/// JSON text on one line (decoded values as they appear in a row).
fn compact(s: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(v) => v.to_string(),
        Err(_) => s.to_string(),
    }
}

/// What a row shows of a key or value: the decoded JSON when there is one.
fn shown(raw: &Option<String>, base64: bool, decoded: &Option<DecodedData>) -> String {
    match decoded.as_ref().and_then(|d| d.json.as_deref()) {
        Some(j) => preview(&Some(compact(j)), false),
        None => preview(raw, base64),
    }
}

/// The text of a key or value in exports: decoded JSON when there is one, else as received.
fn export_text(raw: &Option<String>, decoded: &Option<DecodedData>) -> String {
    match decoded.as_ref().and_then(|d| d.json.as_deref()) {
        Some(j) => compact(j),
        None => raw.clone().unwrap_or_default(),
    }
}

/// One message for the JSON export: a decoded key or value is the JSON itself (not a
/// string), with the schema it was read with.
fn export_json(m: &Message) -> serde_json::Value {
    use serde_json::{json, Value};
    let mut v = serde_json::to_value(m).unwrap_or(Value::Null);
    if let Value::Object(o) = &mut v {
        for (field, b64, decoded) in [
            ("value", "value_base64", &m.value_decoded),
            ("key", "key_base64", &m.key_decoded),
        ] {
            o.remove(&format!("{field}_decoded"));
            let Some(d) = decoded else { continue };
            if let Some(parsed) = d
                .json
                .as_deref()
                .and_then(|j| serde_json::from_str::<Value>(j).ok())
            {
                o.insert(field.to_string(), parsed);
                o.insert(b64.to_string(), Value::Bool(false));
            }
            o.insert(
                format!("{field}_schema"),
                json!({
                    "schema_type": d.schema_type,
                    "subject": d.subject,
                    "version": d.version,
                    "id": d.schema_id,
                    "error": d.error,
                }),
            );
        }
    }
    v
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn to_csv(msgs: &[Message]) -> String {
    let mut out =
        String::from("partition,offset,timestamp_ms,timestamp,key,value,headers,value_schema_id\n");
    for m in msgs {
        let headers = serde_json::to_string(&m.headers).unwrap_or_default();
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            m.partition,
            m.offset,
            m.timestamp_ms,
            iso(m.timestamp_ms),
            csv_field(&export_text(&m.key, &m.key_decoded)),
            csv_field(&export_text(&m.value, &m.value_decoded)),
            csv_field(&headers),
            m.value_schema_id.map(|x| x.to_string()).unwrap_or_default(),
        ));
    }
    out
}

#[component]
pub fn MessageBrowser(topic: String, detail: RwSignal<Option<TopicDetail>>) -> impl IntoView {
    let cluster = cluster();
    let topic = StoredValue::new(topic);
    // Query bar.
    let from = RwSignal::new("latest".to_string());
    let partition = RwSignal::new(String::new());
    let offset = RwSignal::new("0".to_string());
    let when = RwSignal::new(String::new());
    let limit = RwSignal::new("500".to_string());
    let key_f = RwSignal::new(String::new());
    let value_f = RwSignal::new(String::new());
    let header_f = RwSignal::new(String::new());
    // Results.
    let messages = RwSignal::new(Vec::<Message>::new());
    let scanned = RwSignal::new(None::<(u64, bool)>);
    let loading = RwSignal::new(false);
    // Only the newest request's answer is shown (an older one may arrive after it).
    let request = StoredValue::new(0u64);
    let selected = RwSignal::new(None::<usize>);
    let open = RwSignal::new(None::<usize>);
    // Live tail.
    let tailing = RwSignal::new(false);
    let tail_state = RwSignal::new(String::new());
    let tailed = RwSignal::new(0usize);
    let socket = StoredValue::new(None::<ws::WsId>);
    // Virtual scrolling.
    let scroll_top = RwSignal::new(0.0f64);
    let viewport = RwSignal::new(560.0f64);
    let scroller = NodeRef::<leptos::html::Div>::new();

    let filters = move || {
        let opt = |s: RwSignal<String>| {
            let v = s.get_untracked();
            (!v.is_empty()).then_some(v)
        };
        vec![
            ("partition", opt(partition)),
            ("key", opt(key_f)),
            ("value", opt(value_f)),
            ("header", opt(header_f)),
        ]
    };

    let load = move || {
        let c = cluster.get_untracked();
        let t = topic.get_value();
        let mode = from.get_untracked();
        let mut q = vec![("from", Some(mode.clone()))];
        match mode.as_str() {
            "offset" => q.push(("offset", Some(offset.get_untracked().trim().to_string()))),
            "timestamp" => {
                let ms = js_sys::Date::parse(&when.get_untracked());
                if ms.is_nan() {
                    toasts().error("Pick a date and time to start from");
                    return;
                }
                q.push(("timestamp_ms", Some((ms as i64).to_string())));
            }
            _ => {}
        }
        q.push(("limit", Some(limit.get_untracked().trim().to_string())));
        q.extend(filters());
        let url = format!(
            "{}{}",
            paths::messages(&api::enc(&c), &api::enc(&t)),
            api::query(&q)
        );
        loading.set(true);
        let me = request.get_value() + 1;
        request.set_value(me);
        leptos::task::spawn_local(async move {
            let res = api::get::<MessagePage>(&url).await;
            if request.try_get_value() != Some(me) {
                return;
            }
            loading.set(false);
            match res {
                Ok(page) => {
                    selected.set(None);
                    open.set(None);
                    scanned.set(Some((page.scanned, page.reached_end)));
                    messages.set(page.messages);
                    tailed.set(0);
                    if let Some(el) = scroller.try_get_untracked().flatten() {
                        el.set_scroll_top(0);
                    }
                    scroll_top.set(0.0);
                }
                Err(e) => toasts().error(format!("Loading messages: {e}")),
            }
        });
    };

    let stop_tail = move || {
        if let Some(id) = socket.get_value() {
            ws::close(id);
            socket.set_value(None);
        }
        tail_state.set(String::new());
    };
    let start_tail = move || {
        stop_tail();
        let c = cluster.get_untracked();
        let t = topic.get_value();
        let url = api::ws_url(&format!(
            "{}{}",
            paths::tail(&api::enc(&c), &api::enc(&t)),
            api::query(&filters())
        ));
        tail_state.set("connecting".into());
        let res = ws::open(
            &url,
            move |text| match serde_json::from_str::<TailEvent>(&text) {
                Ok(TailEvent::Message { message }) => {
                    let at_bottom = scroller
                        .get_untracked()
                        .map(|el| {
                            el.scroll_top() as f64 + el.client_height() as f64
                                >= el.scroll_height() as f64 - ROW * 2.0
                        })
                        .unwrap_or(true);
                    // The topic's header counts follow the tail.
                    detail.update(|d| {
                        if let Some(p) = d.as_mut().and_then(|d| {
                            d.partitions.iter_mut().find(|p| p.id == message.partition)
                        }) {
                            p.end_offset = p.end_offset.max(message.offset + 1);
                        }
                    });
                    messages.update(|v| v.push(message));
                    tailed.update(|n| *n += 1);
                    if at_bottom {
                        set_timeout(
                            move || {
                                if let Some(el) = scroller.try_get_untracked().flatten() {
                                    el.set_scroll_top(el.scroll_height());
                                }
                            },
                            std::time::Duration::from_millis(0),
                        );
                    }
                }
                Ok(TailEvent::Error { message }) => toasts().error(format!("Live tail: {message}")),
                Err(e) => toasts().error(format!("Live tail sent something unexpected: {e}")),
            },
            move |up| {
                tail_state.set(if up { "live".into() } else { "closed".into() });
                if !up {
                    tailing.set(false);
                }
            },
        );
        match res {
            Ok(id) => socket.set_value(Some(id)),
            Err(e) => {
                tailing.set(false);
                toasts().error(e);
            }
        }
    };
    Effect::new(move |_| {
        if tailing.get() {
            start_tail();
        } else {
            stop_tail();
        }
    });
    on_cleanup(move || {
        if let Some(id) = socket.get_value() {
            ws::close(id);
        }
    });

    // First load, once mounted.
    load();

    // Visible window of the list.
    let len = move || messages.with(|v| v.len());
    let measure = move || {
        if let Some(el) = scroller.get_untracked() {
            viewport.set(el.client_height() as f64);
            scroll_top.set(el.scroll_top() as f64);
        }
    };
    Effect::new(move |_| {
        if scroller.get().is_some() {
            measure();
        }
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());

    let window = Memo::new(move |_| {
        let n = len();
        let first = ((scroll_top.get() / ROW).floor() as usize)
            .saturating_sub(OVERSCAN)
            .min(n);
        let count = (viewport.get() / ROW).ceil() as usize + 2 * OVERSCAN;
        (first, (first + count).min(n))
    });

    // Keep the selected row visible when the keyboard moves it.
    Effect::new(move |_| {
        let Some(i) = selected.get() else { return };
        let Some(el) = scroller.get_untracked() else {
            return;
        };
        let top = i as f64 * ROW;
        let view_top = el.scroll_top() as f64;
        let h = el.client_height() as f64;
        if top < view_top {
            el.set_scroll_top(top as i32);
        } else if top + ROW > view_top + h {
            el.set_scroll_top((top + ROW - h) as i32);
        }
    });

    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && open.get_untracked().is_some() {
            open.set(None);
            return;
        }
        let Some(k) = list_key(&ev) else { return };
        let n = len();
        match k {
            ListKey::Move(d) => {
                if n == 0 {
                    return;
                }
                ev.prevent_default();
                let next = match selected.get_untracked() {
                    None if d > 0 => 0,
                    None => n as i64 - 1,
                    Some(c) => (c as i64 + d).clamp(0, n as i64 - 1),
                } as usize;
                selected.set(Some(next));
                if open.get_untracked().is_some() {
                    open.set(Some(next));
                }
            }
            ListKey::Open => {
                if let Some(c) = selected.get_untracked() {
                    ev.prevent_default();
                    open.set(Some(c));
                }
            }
            ListKey::Search => {
                if let Some(el) = document()
                    .query_selector("[data-testid=filter-key]")
                    .ok()
                    .flatten()
                {
                    ev.prevent_default();
                    use wasm_bindgen::JsCast;
                    if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                        let _ = el.focus();
                    }
                }
            }
        }
    });
    on_cleanup(move || keys.remove());

    let export_json = move || {
        let text = messages.with_untracked(|v| {
            let list: Vec<serde_json::Value> = v.iter().map(export_json).collect();
            serde_json::to_string_pretty(&list).unwrap_or_default()
        });
        download(
            &format!("{}-messages.json", topic.get_value()),
            "application/json",
            &text,
        );
    };
    let export_csv = move || {
        let text = messages.with_untracked(|v| to_csv(v));
        download(
            &format!("{}-messages.csv", topic.get_value()),
            "text/csv",
            &text,
        );
    };

    let text_input =
        move |sig: RwSignal<String>, placeholder: &'static str, testid: &'static str| {
            view! {
                <input
                    type="text"
                    class="mono"
                    placeholder=placeholder
                    data-testid=testid
                    prop:value=move || sig.get()
                    on:input=move |ev| sig.set(event_target_value(&ev))
                />
            }
        };

    view! {
        <div class="browser" data-testid="message-browser">
            <form
                class="querybar"
                on:submit=move |ev| {
                    ev.prevent_default();
                    load();
                    if tailing.get_untracked() {
                        start_tail();
                    }
                }
            >
                <label class="qfield">
                    <span>"Start"</span>
                    <select data-testid="start-from" prop:value=move || from.get() on:change=move |ev| from.set(event_target_value(&ev))>
                        <option value="latest">"Latest"</option>
                        <option value="earliest">"Earliest"</option>
                        <option value="offset">"Offset"</option>
                        <option value="timestamp">"Timestamp"</option>
                    </select>
                </label>
                <Show when=move || from.get() == "offset">
                    <label class="qfield">
                        <span>"Offset"</span>
                        <input type="number" min="0" class="mono narrow" data-testid="start-offset" prop:value=move || offset.get() on:input=move |ev| offset.set(event_target_value(&ev))/>
                    </label>
                </Show>
                <Show when=move || from.get() == "timestamp">
                    <label class="qfield">
                        <span>"From"</span>
                        <input type="datetime-local" step="1" prop:value=move || when.get() on:input=move |ev| when.set(event_target_value(&ev))/>
                    </label>
                </Show>
                <label class="qfield">
                    <span>"Partition"</span>
                    <select data-testid="partition-select" prop:value=move || partition.get() on:change=move |ev| partition.set(event_target_value(&ev))>
                        <option value="">"All"</option>
                        {move || {
                            detail.with(|d| {
                                d.as_ref()
                                    .map(|d| {
                                        d.partitions
                                            .iter()
                                            .map(|p| view! { <option value=p.id.to_string()>{p.id}</option> })
                                            .collect_view()
                                    })
                            })
                        }}
                    </select>
                </label>
                <label class="qfield">
                    <span>"Limit"</span>
                    <input type="number" min="1" max="100000" class="mono narrow" data-testid="limit" prop:value=move || limit.get() on:input=move |ev| limit.set(event_target_value(&ev))/>
                </label>
                <label class="qfield grow">
                    <span>"Key"</span>
                    {text_input(key_f, "contains…", "filter-key")}
                </label>
                <label class="qfield grow">
                    <span>"Value"</span>
                    {text_input(value_f, "contains…", "filter-value")}
                </label>
                <label class="qfield grow">
                    <span>"Header"</span>
                    {text_input(header_f, "key or key=value", "filter-header")}
                </label>
                <button type="submit" class="btn btn-primary" data-testid="load-messages" disabled=move || loading.get()>
                    {move || if loading.get() { "Loading…" } else { "Load" }}
                </button>
                <label class="toggle" title="Append new messages as they arrive">
                    <input type="checkbox" data-testid="live-tail" prop:checked=move || tailing.get() on:change=move |ev| tailing.set(event_target_checked(&ev))/>
                    <span class="toggle-track"><span class="toggle-thumb"></span></span>
                    "Live tail"
                </label>
            </form>
            <div class="browser-status">
                <span class="mono small" data-testid="message-count">
                    {move || format!("{} messages", num(len() as i64))}
                </span>
                {move || scanned.get().map(|(s, end)| view! {
                    <span class="muted small">{format!("scanned {}{}", num(s as i64), if end { ", reached the end" } else { "" })}</span>
                })}
                {move || (!tail_state.get().is_empty()).then(|| view! {
                    <span class="row-gap small">
                        <Pill text=tail_state/>
                        <span class="muted" data-testid="tail-count">{move || format!("+{} live", tailed.get())}</span>
                    </span>
                })}
                <span class="spacer"></span>
                <button class="btn btn-ghost btn-small" data-testid="export-json" disabled=move || len() == 0 on:click=move |_| export_json()>"Export JSON"</button>
                <button class="btn btn-ghost btn-small" data-testid="export-csv" disabled=move || len() == 0 on:click=move |_| export_csv()>"Export CSV"</button>
            </div>
            <div class="browser-body">
                <div class="vlist">
                    <div class="vrow vhead">
                        <span title="Partition">"Part."</span>
                        <span>"Offset"</span>
                        <span>"Timestamp"</span>
                        <span>"Key"</span>
                        <span>"Value"</span>
                        <span class="num">"Size"</span>
                    </div>
                    <div
                        class="vscroll"
                        node_ref=scroller
                        data-testid="message-list"
                        on:scroll=move |_| measure()
                    >
                        {move || (len() == 0 && !loading.get()).then(|| view! {
                            <div class="empty small-empty">
                                <div class="empty-title">"No messages"</div>
                                <div class="empty-text">
                                    {move || if tailing.get() { "Waiting for new messages…" } else { "Nothing matched. Change the start or the filters, or turn on live tail." }}
                                </div>
                            </div>
                        })}
                        <div class="vspacer" style=move || format!("height:{}px", len() as f64 * ROW)>
                            <For
                                each=move || {
                                    let (a, b) = window.get();
                                    messages.with(|v| (a..b).map(|i| (i, v[i].partition, v[i].offset)).collect::<Vec<_>>())
                                }
                                key=|x| *x
                                children=move |(i, _, _)| {
                                    let m = messages.with_untracked(|v| v.get(i).cloned());
                                    let m = m.unwrap_or_else(|| Message {
                                        partition: 0, offset: 0, timestamp_ms: 0, key: None, key_base64: false, value: None,
                                        value_base64: false, headers: vec![], value_schema_id: None, key_schema_id: None, size: 0,
                                        value_decoded: None, key_decoded: None,
                                    });
                                    view! {
                                        <div
                                            class=move || {
                                                let mut c = String::from("vrow");
                                                if selected.get() == Some(i) { c.push_str(" selected"); }
                                                if open.get() == Some(i) { c.push_str(" opened"); }
                                                c
                                            }
                                            style=format!("top:{}px", i as f64 * ROW)
                                            data-testid="message-row"
                                            data-key=m.key.clone().unwrap_or_default()
                                            on:click=move |_| {
                                                selected.set(Some(i));
                                                open.set(Some(i));
                                            }
                                        >
                                            <span class="mono">{m.partition}</span>
                                            <span class="mono">{m.offset}</span>
                                            <span class="mono muted">{iso(m.timestamp_ms).replace('T', " ").trim_end_matches('Z').to_string()}</span>
                                            <span class="mono cell-key">{shown(&m.key, m.key_base64, &m.key_decoded)}</span>
                                            <span class="mono cell-value">
                                                {(!m.headers.is_empty()).then(|| view! { <span class="hdr-badge" title="headers">{format!("H{}", m.headers.len())}</span> })}
                                                {m.value_decoded.as_ref().map(mini_badge)}
                                                {shown(&m.value, m.value_base64, &m.value_decoded)}
                                            </span>
                                            <span class="mono num muted">{bytes(m.size as u64)}</span>
                                        </div>
                                    }
                                }
                            />
                        </div>
                    </div>
                </div>
                {move || open.get().and_then(|i| messages.with(|v| v.get(i).cloned())).map(|m| view! { <MessagePanel message=m close=open/> })}
            </div>
        </div>
    }
}

/// The short badge of a row: `AVRO v2`, the whole `AVRO · orders-value v2 · id 3` as its title.
fn mini_badge(d: &DecodedData) -> impl IntoView {
    let cls = if d.error.is_some() {
        "schema-mini schema-badge-bad"
    } else {
        match d.schema_type.as_str() {
            "PROTOBUF" => "schema-mini fmt-proto",
            "JSON" => "schema-mini fmt-json",
            _ => "schema-mini fmt-avro",
        }
    };
    let short = match d.version {
        Some(v) => format!("{} v{v}", d.schema_type),
        None => format!("{} #{}", d.schema_type, d.schema_id),
    };
    view! { <span class=cls title=schema_badge_text(d) data-testid="row-schema-badge">{short}</span> }
}

/// A key or value in the detail panel: decoded JSON with its schema badge, or the raw text.
fn data_block(
    what: &'static str,
    raw: Option<String>,
    base64: bool,
    decoded: Option<DecodedData>,
    tall: bool,
) -> impl IntoView {
    let testid = if what == "Value" {
        "detail-value"
    } else {
        "detail-key"
    };
    let badge_id = if what == "Value" {
        "value-schema-badge"
    } else {
        "key-schema-badge"
    };
    let err_id = if what == "Value" {
        "value-decode-error"
    } else {
        "key-decode-error"
    };
    let code_class = if tall { "code code-tall" } else { "code" };
    let raw_text = raw.as_deref().map(pretty).unwrap_or_else(|| "null".into());
    match decoded {
        Some(d) => {
            let body = d.json.as_deref().map(pretty);
            let error = d.error.clone();
            view! {
                <h4 class="row-gap">
                    {what}
                    <SchemaBadge decoded=d testid=badge_id/>
                </h4>
                {error.map(|e| view! { <div class="banner banner-error small" data-testid=err_id>{format!("Could not decode: {e}")}</div> })}
                {match body {
                    Some(b) => view! {
                        <pre class=code_class data-testid=testid>{b}</pre>
                        <details class="raw-bytes">
                            <summary class="small muted">{format!("Raw bytes{}", if base64 { " (base64)" } else { "" })}</summary>
                            <pre class="code">{raw_text}</pre>
                        </details>
                    }.into_any(),
                    None => view! { <pre class=code_class data-testid=testid>{raw_text}</pre> }.into_any(),
                }}
            }
            .into_any()
        }
        None => view! {
            <h4>{what} {base64.then(|| view! { <span class="pill pill-neutral">"base64"</span> })}</h4>
            <pre class=code_class data-testid=testid>{raw_text}</pre>
        }
        .into_any(),
    }
}

#[component]
fn MessagePanel(message: Message, close: RwSignal<Option<usize>>) -> impl IntoView {
    let m = message;
    view! {
        <aside class="side-panel" data-testid="message-detail">
            <div class="side-head">
                <h3 class="mono">{format!("Partition {} · offset {}", m.partition, m.offset)}</h3>
                <button class="btn btn-ghost btn-small" title="Close (Esc)" on:click=move |_| close.set(None)>"✕"</button>
            </div>
            <dl class="props">
                <dt>"Timestamp"</dt>
                <dd class="mono" data-testid="detail-timestamp">{iso(m.timestamp_ms)}<div class="muted">{format!("{} ms", m.timestamp_ms)}</div></dd>
                <dt>"Partition"</dt>
                <dd class="mono">{m.partition}</dd>
                <dt>"Offset"</dt>
                <dd class="mono">{m.offset}</dd>
                <dt>"Size"</dt>
                <dd class="mono">{bytes(m.size as u64)}</dd>
                {m.value_schema_id.map(|id| view! { <dt>"Value schema id"</dt><dd class="mono" data-testid="detail-schema-id">{id}</dd> })}
                {m.key_schema_id.map(|id| view! { <dt>"Key schema id"</dt><dd class="mono">{id}</dd> })}
            </dl>
            {data_block("Key", m.key.clone(), m.key_base64, m.key_decoded.clone(), false)}
            {data_block("Value", m.value.clone(), m.value_base64, m.value_decoded.clone(), true)}
            <h4>{format!("Headers ({})", m.headers.len())}</h4>
            {if m.headers.is_empty() {
                view! { <div class="muted small">"No headers"</div> }.into_any()
            } else {
                view! {
                    <table class="table compact" data-testid="detail-headers">
                        <tbody>
                            {m.headers.iter().map(|h| view! {
                                <tr>
                                    <td class="mono">{h.key.clone()}</td>
                                    <td class="mono">{h.value.clone().unwrap_or_else(|| "null".into())}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </aside>
    }
}
