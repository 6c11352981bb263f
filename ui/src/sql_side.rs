//! The SQL view's side panel: the cluster's streams and tables (topic, formats, columns on
//! expand) and persistent queries (state, source, sink, throughput, terminate), read with
//! `SHOW STREAMS`, `SHOW TABLES`, `DESCRIBE`, `SHOW QUERIES` and `SHOW QUERIES EXTENDED`. The
//! catalog also feeds the editor's completion.
//!
//! A query's throughput is what the engine counts: the `statistics` string Sluice adds to each
//! query of `SHOW QUERIES EXTENDED` (ksqlDB's format: `consumer-messages-per-sec` over the last
//! seconds, `consumer-total-messages`). A server whose descriptions carry no statistics (a
//! remote ksqlDB) gets the older estimate: the sink topic's growth between two polls of the
//! workbench's topic list, the rows the query writes per second.

use std::collections::{BTreeSet, HashMap};

use leptos::prelude::*;
use serde_json::{Map, Value};
use sluice_api::{paths, TopicSummary};

use crate::api;
use crate::ksql;
use crate::sql_lang::{parse_stats, source_of, SourceInfo};
use crate::util::{rate, toasts};

/// How often queries (state and rates) are polled.
const POLL_MS: u64 = 4000;

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Source {
    pub name: String,
    pub is_table: bool,
    pub topic: String,
    pub key_format: String,
    pub value_format: String,
    pub windowed: bool,
    /// (name, type, is key).
    pub columns: Vec<(String, String, bool)>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Query {
    pub id: String,
    pub state: String,
    pub sink: String,
    pub sink_topic: String,
    pub source: String,
    pub statement: String,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Catalog {
    pub sources: Vec<Source>,
    pub queries: Vec<Query>,
    pub loaded: bool,
    pub error: Option<String>,
}

impl Catalog {
    pub fn completion(&self) -> Vec<SourceInfo> {
        self.sources
            .iter()
            .map(|s| SourceInfo {
                name: s.name.clone(),
                is_table: s.is_table,
                columns: s
                    .columns
                    .iter()
                    .map(|(n, t, _)| (n.clone(), t.clone()))
                    .collect(),
            })
            .collect()
    }
}

fn s(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::Null) | None => String::new(),
        Some(x) => x.to_string(),
    }
}

fn type_of(schema: &Value) -> String {
    let t = s(schema, "type");
    match t.as_str() {
        "ARRAY" | "MAP" => format!(
            "{t}<{}>",
            schema.get("memberSchema").map(type_of).unwrap_or_default()
        ),
        _ => t,
    }
}

async fn load(cluster: &str) -> Result<Catalog, String> {
    let props = Map::new();
    let one = |sql: &'static str| {
        let c = cluster.to_string();
        let p = props.clone();
        async move {
            ksql::statement(&c, sql, &p)
                .await
                .map_err(|e| e.message)
                .map(|mut v| v.pop().unwrap_or_default())
        }
    };
    let streams = one("SHOW STREAMS;").await?;
    let tables = one("SHOW TABLES;").await?;
    let queries = load_queries(cluster).await?;
    let mut sources = Vec::new();
    for (list, is_table) in [(&streams["streams"], false), (&tables["tables"], true)] {
        for x in list.as_array().cloned().unwrap_or_default() {
            let name = s(&x, "name");
            // Internal sources ksqlDB keeps for itself are not the user's.
            if name.starts_with("KSQL_PROCESSING_LOG") {
                continue;
            }
            let mut src = Source {
                name: name.clone(),
                is_table,
                topic: s(&x, "topic"),
                key_format: s(&x, "keyFormat"),
                value_format: s(&x, "valueFormat"),
                windowed: x
                    .get("isWindowed")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                columns: Vec::new(),
            };
            let quoted = format!("DESCRIBE `{}`;", name.replace('`', "``"));
            if let Ok(mut d) = ksql::statement(cluster, &quoted, &props).await {
                let d = d.pop().unwrap_or_default();
                for f in d
                    .pointer("/sourceDescription/fields")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
                {
                    src.columns.push((
                        s(&f, "name"),
                        f.get("schema").map(type_of).unwrap_or_default(),
                        s(&f, "type") == "KEY",
                    ));
                }
            }
            sources.push(src);
        }
    }
    Ok(Catalog {
        sources,
        queries,
        loaded: true,
        error: None,
    })
}

/// The persistent queries (`SHOW QUERIES`).
async fn load_queries(cluster: &str) -> Result<Vec<Query>, String> {
    let mut answer = ksql::statement(cluster, "SHOW QUERIES;", &Map::new())
        .await
        .map_err(|e| e.message)?;
    let queries = answer.pop().unwrap_or_default();
    Ok(queries["queries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|q| Query {
            id: s(q, "id"),
            state: s(q, "state"),
            sink: s(q, "sinks"),
            sink_topic: s(q, "sinkKafkaTopics"),
            source: source_of(&s(q, "queryString")).unwrap_or_default(),
            statement: s(q, "queryString"),
        })
        .collect())
}

/// Each query's (records read per second, records read in total) from the statistics of
/// `SHOW QUERIES EXTENDED`; queries without statistics are left out.
async fn load_throughput(cluster: &str) -> HashMap<String, (f64, f64)> {
    let Ok(mut answer) = ksql::statement(cluster, "SHOW QUERIES EXTENDED;", &Map::new()).await
    else {
        return HashMap::new();
    };
    let body = answer.pop().unwrap_or_default();
    let mut out = HashMap::new();
    for q in body["queryDescriptions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let Some(text) = q.get("statistics").and_then(Value::as_str) else {
            continue;
        };
        let stats = parse_stats(text);
        let get = |k: &str| stats.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        if let (Some(rate), Some(total)) = (
            get("consumer-messages-per-sec"),
            get("consumer-total-messages"),
        ) {
            out.insert(s(&q, "id"), (rate, total));
        }
    }
    out
}

/// Reloads the catalog of `cluster` into `catalog`.
pub fn reload(cluster: String, catalog: RwSignal<Catalog>) {
    leptos::task::spawn_local(async move {
        let res = load(&cluster).await;
        let _ = catalog.try_update(|c| match res {
            Ok(new) => *c = new,
            Err(e) => {
                c.loaded = true;
                c.error = Some(e);
            }
        });
    });
}

/// Reloads only the queries (state changes; cheap enough to poll).
fn reload_queries(cluster: String, catalog: RwSignal<Catalog>) {
    leptos::task::spawn_local(async move {
        if let Ok(q) = load_queries(&cluster).await {
            if catalog.try_with_untracked(|c| c.queries != q) == Some(true) {
                let _ = catalog.try_update(|c| c.queries = q);
            }
        }
    });
}

#[component]
pub fn SqlSide(
    cluster: Signal<String>,
    catalog: RwSignal<Catalog>,
    /// Puts a statement into the editor.
    on_insert: impl Fn(String) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let expanded = RwSignal::new(BTreeSet::<String>::new());
    // Sink topic → (message count, when), and query id → rows/s.
    let seen = StoredValue::new(HashMap::<String, (i64, f64)>::new());
    let rates = RwSignal::new(HashMap::<String, f64>::new());
    // Query id → (records read/s, records read in total), from the engine's own counts.
    let throughput = RwSignal::new(HashMap::<String, (f64, f64)>::new());
    // Everything (DESCRIBE of each source too) when asked; the queries and rates on a timer.
    let poll = move |full: bool| {
        let c = cluster.get_untracked();
        if full {
            reload(c.clone(), catalog);
        } else {
            reload_queries(c.clone(), catalog);
        }
        let c2 = c.clone();
        leptos::task::spawn_local(async move {
            let t = load_throughput(&c2).await;
            let _ = throughput.try_set(t);
        });
        leptos::task::spawn_local(async move {
            let Ok(topics) = api::get::<Vec<TopicSummary>>(&paths::topics(&api::enc(&c))).await
            else {
                return;
            };
            let now = crate::util::now_ms();
            let Some(queries) = catalog.try_with_untracked(|c| c.queries.clone()) else {
                return;
            };
            let mut out = HashMap::new();
            for q in queries {
                let Some(t) = topics.iter().find(|t| t.name == q.sink_topic) else {
                    continue;
                };
                if let Some(Some((n0, t0))) = seen.try_with_value(|s| s.get(&q.sink_topic).copied())
                {
                    if now > t0 {
                        out.insert(
                            q.id.clone(),
                            ((t.message_count - n0).max(0) as f64) * 1000.0 / (now - t0),
                        );
                    }
                }
            }
            // Every topic, so a query created later has its rate at the next poll.
            let _ = seen.try_update_value(|s| {
                for t in &topics {
                    s.insert(t.name.clone(), (t.message_count, now));
                }
            });
            let _ = rates.try_set(out);
        });
    };
    Effect::new(move |_| {
        cluster.track();
        poll(true);
    });
    let interval = set_interval_with_handle(
        move || poll(false),
        std::time::Duration::from_millis(POLL_MS),
    )
    .ok();
    on_cleanup(move || {
        if let Some(i) = interval {
            i.clear();
        }
    });
    let terminate = move |id: String| {
        let c = cluster.get_untracked();
        leptos::task::spawn_local(async move {
            match ksql::statement(&c, &format!("TERMINATE {id};"), &Map::new()).await {
                Ok(_) => {
                    toasts().ok(format!("Query {id} terminated"));
                    reload(c, catalog);
                }
                Err(e) => toasts().error(e.message),
            }
        });
    };
    let source_list = move |tables: bool| {
        let on_insert = on_insert.clone();
        move || {
            let list: Vec<Source> = catalog.with(|c| {
                c.sources
                    .iter()
                    .filter(|s| s.is_table == tables)
                    .cloned()
                    .collect()
            });
            if list.is_empty() {
                let none = if tables {
                    "No tables yet."
                } else {
                    "No streams yet."
                };
                return view! { <p class="muted small side-empty">{none}</p> }.into_any();
            }
            let on_insert = on_insert.clone();
            list.into_iter()
                .map(|src| {
                    let name = src.name.clone();
                    let n2 = name.clone();
                    let n3 = name.clone();
                    let open = move || expanded.with(|e| e.contains(&n2));
                    let open2 = open.clone();
                    let on_insert = on_insert.clone();
                    let query = if src.is_table {
                        format!("SELECT * FROM {name};")
                    } else {
                        format!("SELECT * FROM {name} EMIT CHANGES;")
                    };
                    let cols = src.columns.clone();
                    view! {
                        <li class="side-item" data-testid="sql-source" data-name=name.clone()>
                            <div
                                class="side-row"
                                on:click=move |_| {
                                    expanded.update(|e| {
                                        if !e.remove(&n3) {
                                            e.insert(n3.clone());
                                        }
                                    })
                                }
                            >
                                <span class="caret">{move || if open2() { "▾" } else { "▸" }}</span>
                                <span class="mono strong">{name.clone()}</span>
                                <span class="spacer"></span>
                                <button
                                    class="btn btn-ghost btn-small"
                                    title="Query it in the editor"
                                    on:click=move |ev| {
                                        ev.stop_propagation();
                                        on_insert(query.clone());
                                    }
                                >
                                    "▶"
                                </button>
                            </div>
                            <div class="side-meta muted small">
                                <span class="mono">{src.topic.clone()}</span>
                                " · " {src.key_format.clone()} " / " {src.value_format.clone()}
                                {src.windowed.then_some(" · windowed")}
                            </div>
                            <Show when=open>
                                <ul class="side-cols" data-testid="sql-source-columns">
                                    {cols
                                        .clone()
                                        .into_iter()
                                        .map(|(n, t, key)| {
                                            view! {
                                                <li>
                                                    <span class="mono">{n}</span>
                                                    {key.then(|| view! { <span class="pill pill-neutral tiny">"KEY"</span> })}
                                                    <span class="muted mono small">{t}</span>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </Show>
                        </li>
                    }
                })
                .collect_view()
                .into_any()
        }
    };
    view! {
        <aside class="sql-side" data-testid="sql-side">
            <div class="card">
                <div class="card-head">
                    <h3>"Streams"</h3>
                    <button class="btn btn-ghost btn-small" title="Refresh" data-testid="sql-refresh" on:click=move |_| poll(true)>"↻"</button>
                </div>
                {move || catalog.with(|c| c.error.clone()).map(|e| view! { <div class="banner banner-error small">{e}</div> })}
                <ul class="side-list" data-testid="sql-streams">{source_list(false)}</ul>
            </div>
            <div class="card">
                <div class="card-head"><h3>"Tables"</h3></div>
                <ul class="side-list" data-testid="sql-tables">{source_list(true)}</ul>
            </div>
            <div class="card">
                <div class="card-head"><h3>"Persistent queries"</h3></div>
                <ul class="side-list" data-testid="sql-queries">
                    {move || {
                        let qs = catalog.with(|c| c.queries.clone());
                        if qs.is_empty() {
                            return view! { <p class="muted small side-empty">"No persistent queries."</p> }.into_any();
                        }
                        qs.into_iter()
                            .map(|q| {
                                let id = q.id.clone();
                                let id2 = q.id.clone();
                                let running = q.state.eq_ignore_ascii_case("RUNNING");
                                let id3 = q.id.clone();
                                let rate_of = move || rates.with(|r| r.get(&id2).copied());
                                let counted = move || throughput.with(|t| t.get(&id3).copied());
                                view! {
                                    <li class="side-item" data-testid="sql-query" data-query=q.id.clone()>
                                        <div class="side-row">
                                            <span class="mono strong query-id" title=q.statement.clone()>{q.id.clone()}</span>
                                            <span class="spacer"></span>
                                            <span class=if running { "pill pill-ok" } else { "pill pill-idle" } data-testid="query-status">{q.state.clone()}</span>
                                        </div>
                                        <div class="side-meta small">
                                            <span class="muted">"from "</span><span class="mono">{q.source.clone()}</span>
                                            <span class="muted">" → "</span><span class="mono">{q.sink.clone()}</span>
                                        </div>
                                        <div class="side-row small">
                                            {move || match counted() {
                                                Some((r, total)) => view! {
                                                    <span class="muted" title="Records the query read per second over the last few seconds, and in total (the engine's counts)" data-testid="query-throughput">
                                                        {format!("{} in · {} processed", rate(r), total as u64)}
                                                    </span>
                                                }.into_any(),
                                                None => view! {
                                                    <span class="muted" title="Rows written to the sink topic per second, from its growth between polls" data-testid="query-throughput">
                                                        {rate_of().map(|r| format!("{} out", rate(r))).unwrap_or_else(|| "measuring…".into())}
                                                    </span>
                                                }.into_any(),
                                            }}
                                            <span class="spacer"></span>
                                            <button
                                                class="btn btn-small btn-danger-text"
                                                data-testid="terminate-query"
                                                on:click=move |_| terminate(id.clone())
                                            >
                                                "Terminate"
                                            </button>
                                        </div>
                                    </li>
                                }
                            })
                            .collect_view()
                            .into_any()
                    }}
                </ul>
            </div>
        </aside>
    }
}
