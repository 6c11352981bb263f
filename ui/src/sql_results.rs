//! The results of a run, one card per statement: ksqlDB's answer to a statement (status,
//! streams, tables, queries, a description), an error with its position in the editor, or a
//! query's rows — a pull query's at once, a push query's live with pause/resume, a row
//! count, a rows/s rate and stop.

use leptos::prelude::*;
use serde_json::Value;

use crate::ksql::{self, Event, Header, StreamId};
use crate::sql_lang::Stmt;
use crate::util::{iso, num, rate};

/// Rows kept on screen per query (the count goes on).
const KEEP: usize = 1000;

#[derive(Clone, Debug, PartialEq)]
pub enum LiveState {
    Starting,
    Running,
    /// Ended by itself (LIMIT, a pull query's last row).
    Done,
    Stopped,
    Failed(String),
}

/// A query's rows, fed by its stream.
#[derive(Clone, Copy)]
pub struct Live {
    pub push: bool,
    pub header: RwSignal<Option<Header>>,
    /// Newest first.
    pub rows: RwSignal<Vec<Vec<Value>>>,
    /// Rows received and not shown yet (flushed a few times a second; kept while paused).
    pending: StoredValue<Vec<Vec<Value>>>,
    pub count: RwSignal<u64>,
    pub rate: RwSignal<f64>,
    pub paused: RwSignal<bool>,
    pub state: RwSignal<LiveState>,
    stream: StoredValue<Option<StreamId>>,
    cluster: StoredValue<String>,
}

impl Live {
    fn new(push: bool, cluster: String) -> Live {
        Live {
            push,
            header: RwSignal::new(None),
            rows: RwSignal::new(Vec::new()),
            pending: StoredValue::new(Vec::new()),
            count: RwSignal::new(0),
            rate: RwSignal::new(0.0),
            paused: RwSignal::new(false),
            state: RwSignal::new(LiveState::Starting),
            stream: StoredValue::new(None),
            cluster: StoredValue::new(cluster),
        }
    }

    /// Starts `sql` on the cluster; rows flow into the signals until it ends or is stopped.
    pub fn start(
        cluster: &str,
        sql: &str,
        props: &serde_json::Map<String, Value>,
        push: bool,
    ) -> Live {
        let live = Live::new(push, cluster.to_string());
        let on_event = move |ev: Event| match ev {
            Event::Header(h) => {
                let _ = live.header.try_set(Some(h));
                let _ = live.state.try_set(LiveState::Running);
            }
            Event::Row(r) => {
                let _ = live.pending.try_update_value(|p| p.push(r));
                let _ = live.count.try_update(|c| *c += 1);
            }
            Event::End(err) => {
                live.flush();
                let _ = live.state.try_update(|s| {
                    *s = match err {
                        Some(e) => LiveState::Failed(e.message),
                        None if *s == LiveState::Stopped => LiveState::Stopped,
                        None => LiveState::Done,
                    }
                });
            }
        };
        match ksql::query(cluster, sql, props, on_event) {
            Ok(id) => live.stream.set_value(Some(id)),
            Err(e) => live.state.set(LiveState::Failed(e.message)),
        }
        // Flush 4 times a second; the rate over the last second. The timer ends itself once
        // the query is over and its last rows are shown.
        let last = StoredValue::new((crate::util::now_ms(), 0u64));
        let handle = StoredValue::new(None::<IntervalHandle>);
        let tick = set_interval_with_handle(
            move || {
                let Some(state) = live.state.try_get_untracked() else {
                    if let Some(Some(h)) = handle.try_get_value() {
                        h.clear();
                    }
                    return;
                };
                live.flush();
                if !matches!(state, LiveState::Starting | LiveState::Running) {
                    live.rate.set(0.0);
                    if let Some(h) = handle.get_value() {
                        h.clear();
                    }
                    return;
                }
                let now = crate::util::now_ms();
                let (t0, c0) = last.get_value();
                if now - t0 >= 1000.0 {
                    let c = live.count.get_untracked();
                    live.rate.set((c - c0) as f64 * 1000.0 / (now - t0));
                    last.set_value((now, c));
                }
            },
            std::time::Duration::from_millis(250),
        );
        handle.set_value(tick.ok());
        live
    }

    fn flush(&self) {
        if self.paused.try_get_untracked() != Some(false) {
            return;
        }
        let Some(new) = self.pending.try_update_value(std::mem::take) else {
            return;
        };
        if new.is_empty() {
            return;
        }
        let push = self.push;
        self.rows.update(|rows| {
            if push {
                // Live rows: the newest on top, where the eye is.
                let mut fresh: Vec<Vec<Value>> = new.into_iter().rev().collect();
                fresh.append(rows);
                fresh.truncate(KEEP);
                *rows = fresh;
            } else {
                // A pull query's rows in the server's order.
                rows.extend(new);
                rows.truncate(KEEP);
            }
        });
    }

    pub fn running(&self) -> bool {
        matches!(
            self.state.get_untracked(),
            LiveState::Starting | LiveState::Running
        )
    }

    /// `running`, tracked (for views).
    pub fn is_running(&self) -> bool {
        matches!(self.state.get(), LiveState::Starting | LiveState::Running)
    }

    /// Ends the query: aborts its request and closes it on the server.
    pub fn stop(&self) {
        if !self.running() {
            return;
        }
        self.state.set(LiveState::Stopped);
        if let Some(id) = self.stream.get_value() {
            let qid = self.header.get_untracked().map(|h| h.query_id);
            ksql::stop(&self.cluster.get_value(), id, qid);
        }
        self.flush();
    }
}

/// What one statement gave.
#[derive(Clone)]
pub enum Body {
    /// `currentStatus` and other one-line answers.
    Status(String),
    /// A table of the entity (streams, tables, queries, topics, a description's fields).
    Table {
        title: String,
        columns: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    Json(Value),
    Error {
        message: String,
        /// In the editor, when ksqlDB gave a position.
        at: Option<(u32, u32)>,
    },
    Rows(Live),
}

#[derive(Clone)]
pub struct Card {
    pub id: u32,
    pub stmt: Stmt,
    pub body: Body,
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn strs(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::Array(a)) => a.iter().map(cell).collect::<Vec<_>>().join(", "),
        Some(x) => cell(x),
        None => String::new(),
    }
}

/// A `/ksql` entity as a card body.
pub fn entity_body(e: &Value) -> Body {
    let t = e.get("@type").and_then(Value::as_str).unwrap_or_default();
    let list = |key: &str| {
        e.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    match t {
        "currentStatus" => Body::Status(
            e.pointer("/commandStatus/message")
                .and_then(Value::as_str)
                .unwrap_or("Done")
                .to_string(),
        ),
        "streams" | "tables" => Body::Table {
            title: if t == "streams" { "Streams" } else { "Tables" }.into(),
            columns: ["Name", "Topic", "Key format", "Value format", "Windowed"]
                .map(String::from)
                .to_vec(),
            rows: list(t)
                .iter()
                .map(|s| {
                    vec![
                        strs(s, "name"),
                        strs(s, "topic"),
                        strs(s, "keyFormat"),
                        strs(s, "valueFormat"),
                        strs(s, "isWindowed"),
                    ]
                })
                .collect(),
        },
        "queries" => Body::Table {
            title: "Queries".into(),
            columns: ["Query id", "State", "Sink", "Sink topic", "Statement"]
                .map(String::from)
                .to_vec(),
            rows: list("queries")
                .iter()
                .map(|q| {
                    vec![
                        strs(q, "id"),
                        strs(q, "state"),
                        strs(q, "sinks"),
                        strs(q, "sinkKafkaTopics"),
                        strs(q, "queryString"),
                    ]
                })
                .collect(),
        },
        "kafka_topics" => Body::Table {
            title: "Topics".into(),
            columns: vec!["Name".into(), "Partitions".into()],
            rows: list("topics")
                .iter()
                .map(|x| {
                    vec![
                        strs(x, "name"),
                        x.get("replicaInfo")
                            .and_then(Value::as_array)
                            .map_or(0, Vec::len)
                            .to_string(),
                    ]
                })
                .collect(),
        },
        "sourceDescription" => {
            let d = e.get("sourceDescription").cloned().unwrap_or_default();
            Body::Table {
                title: format!(
                    "{} {} · topic {} · {} / {}",
                    strs(&d, "type"),
                    strs(&d, "name"),
                    strs(&d, "topic"),
                    strs(&d, "keyFormat"),
                    strs(&d, "valueFormat")
                ),
                columns: vec!["Field".into(), "Type".into()],
                rows: d
                    .get("fields")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|f| {
                        let key = if f.get("type").and_then(Value::as_str) == Some("KEY") {
                            " (key)"
                        } else {
                            ""
                        };
                        vec![
                            strs(f, "name"),
                            format!(
                                "{}{key}",
                                f.pointer("/schema/type").map(cell).unwrap_or_default()
                            ),
                        ]
                    })
                    .collect(),
            }
        }
        _ => Body::Json(e.clone()),
    }
}

fn table_view(columns: Vec<String>, rows: Vec<Vec<String>>) -> impl IntoView {
    view! {
        <div class="result-scroll">
            <table class="table compact result-table">
                <thead>
                    <tr>{columns.into_iter().map(|c| view! { <th>{c}</th> }).collect_view()}</tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| view! { <tr>{r.into_iter().map(|c| view! { <td class="mono">{c}</td> }).collect_view()}</tr> })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

fn live_view(live: Live) -> impl IntoView {
    let state_pill = move || match live.state.get() {
        LiveState::Starting => ("pill pill-idle", "starting".to_string()),
        LiveState::Running if live.paused.get() => ("pill pill-warn", "paused".into()),
        LiveState::Running if live.push => ("pill pill-ok", "live".into()),
        LiveState::Running => ("pill pill-idle", "reading".into()),
        LiveState::Done => ("pill pill-neutral", "done".into()),
        LiveState::Stopped => ("pill pill-idle", "stopped".into()),
        LiveState::Failed(_) => ("pill pill-bad", "failed".into()),
    };
    view! {
        <div class="live-bar">
            {move || {
                let (class, text) = state_pill();
                view! { <span class=class data-testid="query-state">{text}</span> }
            }}
            <span data-testid="query-count">
                <b>{move || num(live.count.get() as i64)}</b>
                {move || if live.count.get() == 1 { " row" } else { " rows" }}
            </span>
            <Show when=move || live.push && live.is_running()>
                <span class="muted" data-testid="query-rate">{move || rate(live.rate.get())}</span>
            </Show>
            <span class="muted small mono">
                {move || live.header.get().map(|h| h.query_id).unwrap_or_default()}
            </span>
            {live.push.then(|| view! { <span class="muted small">"· newest first"</span> })}
            <span class="spacer"></span>
            <Show when=move || live.push && live.is_running()>
                <button
                    class="btn btn-small"
                    data-testid="query-pause"
                    on:click=move |_| {
                        live.paused.update(|p| *p = !*p);
                        live.flush();
                    }
                >
                    {move || if live.paused.get() { "▶ Resume" } else { "❚❚ Pause" }}
                </button>
                <button class="btn btn-small btn-danger-text" data-testid="query-stop" on:click=move |_| live.stop()>
                    "■ Stop"
                </button>
            </Show>
        </div>
        {move || match live.state.get() {
            LiveState::Failed(m) => Some(view! { <div class="sql-error" data-testid="sql-error"><pre>{m}</pre></div> }),
            _ => None,
        }}
        {move || {
            live.header
                .get()
                .map(|h| {
                    let cols = h.columns.clone();
                    let types = h.types.clone();
                    // Epoch milliseconds people read as times (shown on hover).
                    let time_cols: Vec<bool> = cols
                        .iter()
                        .map(|c| matches!(c.as_str(), "ROWTIME" | "WINDOWSTART" | "WINDOWEND"))
                        .collect();
                    view! {
                        <div class="result-scroll live-scroll">
                            <table class="table compact result-table" data-testid="query-rows">
                                <thead>
                                    <tr>
                                        {cols
                                            .iter()
                                            .enumerate()
                                            .map(|(i, c)| {
                                                let ty = types.get(i).cloned().unwrap_or_default();
                                                let title = ty.clone();
                                                view! { <th title=title>{c.clone()} <span class="th-type">{ty}</span></th> }
                                            })
                                            .collect_view()}
                                    </tr>
                                </thead>
                                <tbody>
                                    {move || {
                                        live.rows
                                            .get()
                                            .into_iter()
                                            .map(|r| {
                                                view! {
                                                    <tr data-testid="query-row">
                                                        {r
                                                            .iter()
                                                            .enumerate()
                                                            .map(|(i, v)| {
                                                                let title = time_cols.get(i).copied().unwrap_or(false).then(|| v.as_i64().map(iso)).flatten();
                                                                view! { <td class="mono" title=title>{cell(v)}</td> }
                                                            })
                                                            .collect_view()}
                                                    </tr>
                                                }
                                            })
                                            .collect_view()
                                    }}
                                </tbody>
                            </table>
                            <Show when=move || live.rows.with(Vec::is_empty) && live.is_running()>
                                <div class="muted pad">
                                    {if live.push { "Waiting for rows… (new records on the source appear here as they arrive)" } else { "Reading…" }}
                                </div>
                            </Show>
                        </div>
                    }
                })
        }}
    }
}

/// One card.
pub fn card_view(
    card: Card,
    jump: impl Fn(u32, u32) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let first_line = card.stmt.text.lines().next().unwrap_or("").to_string();
    let more = card.stmt.text.lines().count() > 1;
    let (class, kind) = match &card.body {
        Body::Error { .. } => ("result-card result-bad", "error"),
        Body::Rows(l) if l.push => ("result-card result-live", "push query"),
        Body::Rows(_) => ("result-card", "pull query"),
        _ => ("result-card result-ok", "statement"),
    };
    let body = match card.body {
        Body::Status(m) => view! { <p class="status-line" data-testid="sql-status">"✓ " {m}</p> }.into_any(),
        Body::Table { title, columns, rows } => {
            let n = rows.len();
            view! {
                <p class="muted small">{title} " · " {n} {if n == 1 { " row" } else { " rows" }}</p>
                {table_view(columns, rows)}
            }
            .into_any()
        }
        Body::Json(v) => view! { <pre class="mono small json-out">{serde_json::to_string_pretty(&v).unwrap_or_default()}</pre> }.into_any(),
        Body::Error { message, at } => view! {
            <div class="sql-error" data-testid="sql-error">
                {at.map(|(l, c)| {
                    let jump = jump.clone();
                    view! {
                        <button class="link-btn" data-testid="sql-error-pos" title="Show in the editor" on:click=move |_| jump(l, c)>
                            {format!("line {l}, column {c}")}
                        </button>
                    }
                })}
                <pre>{message}</pre>
            </div>
        }
        .into_any(),
        Body::Rows(live) => live_view(live).into_any(),
    };
    view! {
        <section class=class data-testid="sql-result" data-kind=kind>
            <div class="result-head">
                <span class="pill pill-neutral small">{kind}</span>
                <code class="result-stmt" title=card.stmt.text.clone()>{first_line} {more.then_some(" …")}</code>
                <span class="muted small">{format!("line {}", card.stmt.line)}</span>
            </div>
            {body}
        </section>
    }
}
