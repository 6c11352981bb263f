//! The Connectors view: the list (state, task states, type, class, topics; polled) and a
//! connector's detail (status with task traces, pause/resume/stop/restart, task restart,
//! delete, its topics linked to the topic browser, config, committed offsets with reset and
//! editing: a sink's offset per topic partition, a source's offset JSON per partition, sent
//! as Connect's `PATCH /offsets` while the connector is STOPPED). Everything goes through
//! Kafka Connect's REST API on the cluster's Connect URL (`connect`); creating a connector
//! and editing its config is `connector_form`.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::NavigateOptions;
use serde_json::Value;

use crate::api::{self, Method};
use crate::app::{close_on_escape, cluster, Clusters};
use crate::connect::{
    self, flat, offsets_patch, simple_class, state_class, Connect, Expanded, OffsetDraft, Offsets,
    Status,
};
use crate::topics::topic_href;
use crate::util::{blur_on_escape, download, list_keys, toasts, Empty};

/// How often the list and the detail ask Connect again.
const POLL: std::time::Duration = std::time::Duration::from_secs(3);

pub fn connector_href(name: &str) -> String {
    format!("/connectors/connector/{}", api::enc(name))
}

/// The current cluster's Connect URL: None while clusters load, Some(None) without one.
pub fn connect_url() -> Signal<Option<Option<String>>> {
    let c = expect_context::<Clusters>();
    Signal::derive(move || {
        c.all.with(|all| {
            all.iter()
                .find(|x| x.id == c.current.get())
                .map(|x| x.connect_url.clone())
        })
    })
}

/// A state as a pill.
#[component]
pub fn StatePill(#[prop(into)] state: String) -> impl IntoView {
    view! { <span class=state_class(&state) data-testid="state">{state.clone()}</span> }
}

/// What the view shows when the cluster has no Connect URL.
#[component]
fn NoConnect() -> impl IntoView {
    view! {
        <div class="empty" data-testid="no-connect">
            <div class="empty-title">"No Kafka Connect"</div>
            <div class="empty-text">
                "This cluster has no Kafka Connect URL, so there are no connectors to show. "
                "Add the cluster again with its Connect URL (for example http://connect:8083) to run connectors on it."
            </div>
            <a class="btn" href="/settings" style="margin-top:14px">"Open Settings"</a>
        </div>
    }
}

/// Installs `f` to run every [`POLL`] while the component lives.
fn poll(f: impl Fn() + 'static) {
    let interval = set_interval_with_handle(f, POLL).ok();
    on_cleanup(move || {
        if let Some(i) = interval {
            i.clear();
        }
    });
}

#[component]
pub fn ConnectorList() -> impl IntoView {
    let cluster = cluster();
    let url = connect_url();
    let list = RwSignal::new(None::<BTreeMap<String, Expanded>>);
    let topics = RwSignal::new(BTreeMap::<String, Vec<String>>::new());
    let error = RwSignal::new(None::<String>);
    let search = RwSignal::new(String::new());
    let selected = RwSignal::new(None::<usize>);
    let search_ref = NodeRef::<leptos::html::Input>::new();
    let navigate = use_navigate();
    let reload = move || {
        if !matches!(url.get_untracked(), Some(Some(_))) {
            return;
        }
        let c = cluster.get_untracked();
        leptos::task::spawn_local(async move {
            let connect = Connect::of(&c);
            let res = connect
                .get::<BTreeMap<String, Expanded>>("connectors?expand=status&expand=info")
                .await;
            match res {
                Ok(v) => {
                    let names: Vec<String> = v.keys().cloned().collect();
                    list.set(Some(v));
                    error.set(None);
                    // Each connector's topics (Connect answers them one connector at a time).
                    for n in names {
                        let routes = connect.connector(&n);
                        leptos::task::spawn_local(async move {
                            if let Ok(ts) = routes.topics().await {
                                topics.update(|m| {
                                    m.insert(n, ts);
                                });
                            }
                        });
                    }
                }
                Err(e) => {
                    error.set(Some(e.message));
                    list.update(|l| {
                        if l.is_none() {
                            *l = Some(BTreeMap::new());
                        }
                    });
                }
            }
        });
    };
    Effect::new(move |_| {
        cluster.track();
        url.track();
        list.set(None);
        topics.set(BTreeMap::new());
        reload();
    });
    poll(reload);
    let visible = Memo::new(move |_| {
        let q = search.get().to_lowercase();
        list.with(|l| {
            l.iter()
                .flatten()
                .filter(|(n, e)| {
                    n.to_lowercase().contains(&q)
                        || e.info
                            .as_ref()
                            .and_then(|i| i.config.get("connector.class"))
                            .is_some_and(|c| c.to_lowercase().contains(&q))
                })
                .map(|(n, e)| (n.clone(), e.clone()))
                .collect::<Vec<_>>()
        })
    });
    {
        let navigate = navigate.clone();
        list_keys(
            move || visible.with_untracked(|v| v.len()),
            selected,
            move |i| {
                if let Some((n, _)) = visible.with_untracked(|v| v.get(i).cloned()) {
                    navigate(&connector_href(&n), NavigateOptions::default());
                }
            },
            Some(search_ref),
        );
    }
    view! {
        <div class="page" data-testid="connectors">
            <div class="page-head">
                <div>
                    <h1>"Connectors"</h1>
                    <div class="muted small" data-testid="connect-url">
                        {move || match url.get() {
                            Some(Some(u)) => format!("Kafka Connect at {u}"),
                            _ => String::new(),
                        }}
                    </div>
                </div>
                <div class="row-gap">
                    <input
                        node_ref=search_ref
                        class="search"
                        type="search"
                        placeholder="Search connectors or classes   /"
                        data-testid="connector-search"
                        prop:value=move || search.get()
                        on:input=move |ev| search.set(event_target_value(&ev))
                        on:keydown=move |ev| blur_on_escape(&ev)
                    />
                    <button class="btn" data-testid="refresh-connectors" on:click=move |_| reload()>"Refresh"</button>
                    <a class="btn btn-primary" href="/connectors/new" data-testid="new-connector">"+ New connector"</a>
                </div>
            </div>
            {move || error.get().map(|e| view! { <div class="banner banner-error" data-testid="connect-error">{e}</div> })}
            {move || match url.get() {
                None => view! { <div class="loading">"Loading…"</div> }.into_any(),
                Some(None) => view! { <NoConnect/> }.into_any(),
                Some(Some(_)) => {
                    if list.with(|l| l.is_none()) {
                        view! { <div class="loading">"Loading connectors…"</div> }.into_any()
                    } else if visible.with(|v| v.is_empty()) {
                        view! { <Empty title="No connectors" text="Create one from a plugin with “New connector”, or paste a connector JSON written for Kafka Connect."/> }.into_any()
                    } else {
                        let navigate = navigate.clone();
                        view! {
                            <table class="table table-hover" data-testid="connector-table">
                                <thead>
                                    <tr>
                                        <th>"Name"</th>
                                        <th>"State"</th>
                                        <th>"Tasks"</th>
                                        <th>"Type"</th>
                                        <th>"Class"</th>
                                        <th>"Topics"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {move || {
                                        let navigate = navigate.clone();
                                        visible.get().into_iter().enumerate().map(|(i, (name, e))| {
                                            let href = connector_href(&name);
                                            let navigate = navigate.clone();
                                            let status = e.status.clone().unwrap_or_default();
                                            let class = e.info.as_ref().and_then(|i| i.config.get("connector.class").cloned()).unwrap_or_default();
                                            let kind = e.info.as_ref().and_then(|i| i.kind.clone()).or(status.kind.clone()).unwrap_or_default();
                                            let n2 = name.clone();
                                            let nav = navigate.clone();
                                            view! {
                                                <tr
                                                    class=move || if selected.get() == Some(i) { "selected" } else { "" }
                                                    data-testid="connector-row"
                                                    data-name=name.clone()
                                                    on:click=move |_| {
                                                        selected.set(Some(i));
                                                        navigate(&href, NavigateOptions::default());
                                                    }
                                                >
                                                    <td class="mono strong">{name.clone()}</td>
                                                    <td data-testid="connector-state"><StatePill state=status.connector.state.clone()/></td>
                                                    <td data-testid="connector-tasks">
                                                        <div class="task-pills">
                                                            {status.tasks.iter().map(|t| view! {
                                                                <span class=state_class(&t.state) title=format!("task {}: {}", t.id, t.state)>{format!("{} {}", t.id, t.state)}</span>
                                                            }).collect_view()}
                                                            {status.tasks.is_empty().then(|| view! { <span class="muted small">"none"</span> })}
                                                        </div>
                                                    </td>
                                                    <td><span class=format!("kind-badge kind-{kind}")>{kind.clone()}</span></td>
                                                    <td class="mono small" title=class.clone()>{simple_class(&class).to_string()}</td>
                                                    <td class="mono small" data-testid="connector-topics">
                                                        {move || topics.with(|m| m.get(&n2).cloned().unwrap_or_default()).into_iter().map(|t| {
                                                            let href = format!("{}/messages", topic_href(&t));
                                                            let to = href.clone();
                                                            let nav = nav.clone();
                                                            view! {
                                                                // The row opens the connector: the link opens the topic instead.
                                                                <a href=href class="topic-link" on:click=move |ev| {
                                                                    ev.prevent_default();
                                                                    ev.stop_propagation();
                                                                    nav(&to, NavigateOptions::default());
                                                                }>{t.clone()}</a>
                                                            }
                                                        }).collect_view()}
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()
                                    }}
                                </tbody>
                            </table>
                        }.into_any()
                    }
                }
            }}
            <div class="footnote muted small">"Refreshed every 3 s · ↑↓ or j k to move · Enter to open · / to search"</div>
        </div>
    }
}

/// What the confirmation dialog is about.
#[derive(Clone, Copy, PartialEq)]
enum Confirm {
    Delete,
    ResetOffsets,
}

#[component]
pub fn ConnectorDetail() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.with(|p| p.get("name").unwrap_or_default()));
    let cluster = cluster();
    let status = RwSignal::new(None::<Status>);
    let config = RwSignal::new(None::<BTreeMap<String, String>>);
    let topics = RwSignal::new(Vec::<String>::new());
    let offsets = RwSignal::new(None::<Result<Offsets, String>>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let confirm = RwSignal::new(None::<Confirm>);
    // The offsets being edited (None: not editing), and Connect's refusal of the last apply.
    let drafts = RwSignal::new(None::<Vec<OffsetDraft>>);
    let offsets_error = RwSignal::new(None::<String>);
    let applying = RwSignal::new(false);
    let new_topic = RwSignal::new(String::new());
    let new_partition = RwSignal::new(String::new());
    let navigate = use_navigate();
    close_on_escape(move || confirm.set(None));

    let load_offsets = move || {
        let Some(n) = name.try_get_untracked() else {
            return;
        };
        let c = cluster.get_untracked();
        leptos::task::spawn_local(async move {
            let res = Connect::of(&c).connector(&n).offsets().await;
            offsets.set(Some(res.map_err(|e| e.message)));
        });
    };
    let reload = move || {
        let Some(n) = name.try_get_untracked() else {
            return;
        };
        let c = cluster.get_untracked();
        leptos::task::spawn_local(async move {
            let routes = Connect::of(&c).connector(&n);
            match routes.status().await {
                Ok(s) => {
                    status.set(Some(s));
                    error.set(None);
                }
                Err(e) => {
                    error.set(Some(e.message));
                    return;
                }
            }
            if let Ok(cfg) = routes.config().await {
                if config.get_untracked().as_ref() != Some(&cfg) {
                    config.set(Some(cfg));
                }
            }
            if let Ok(ts) = routes.topics().await {
                if topics.get_untracked() != ts {
                    topics.set(ts);
                }
            }
        });
    };
    Effect::new(move |_| {
        cluster.track();
        name.track();
        status.set(None);
        config.set(None);
        offsets.set(None);
        drafts.set(None);
        offsets_error.set(None);
        reload();
        load_offsets();
    });
    poll(move || {
        reload();
        load_offsets();
    });

    let state = move || {
        status.with(|s| {
            s.as_ref()
                .map(|s| s.connector.state.clone())
                .unwrap_or_default()
        })
    };
    let is_sink = move || {
        status
            .with(|s| s.as_ref().and_then(|s| s.kind.clone()))
            .as_deref()
            == Some("sink")
    };
    // Editing offsets starts from the committed ones; polling does not touch the fields.
    let edit_offsets = move || {
        let sink = is_sink();
        let current = offsets.with_untracked(|o| match o {
            Some(Ok(o)) => o.offsets.iter().map(|e| OffsetDraft::of(sink, e)).collect(),
            _ => Vec::new(),
        });
        offsets_error.set(None);
        drafts.set(Some(current));
    };
    let add_partition = move || {
        let topic = new_topic.get_untracked().trim().to_string();
        let Ok(partition) = new_partition.get_untracked().trim().parse::<i32>() else {
            offsets_error.set(Some("A partition is a whole number (0, 1, …)".into()));
            return;
        };
        if topic.is_empty() {
            offsets_error.set(Some("Name the topic of the partition to add".into()));
            return;
        }
        let p = serde_json::json!({ "kafka_topic": topic, "kafka_partition": partition });
        drafts.update(|d| {
            if let Some(d) = d {
                if !d.iter().any(|x| x.partition == p) {
                    d.push(OffsetDraft {
                        partition: p,
                        committed: Value::Null,
                        text: String::new(),
                    });
                }
            }
        });
        offsets_error.set(None);
        new_topic.set(String::new());
        new_partition.set(String::new());
    };
    let editing = Memo::new(move |_| drafts.with(Option::is_some));
    // The rows of the editor change when partitions are added, not as fields are typed in.
    let draft_rows = Memo::new(move |_| {
        drafts.with(|d| {
            d.iter()
                .flatten()
                .map(|x| (x.partition.clone(), x.committed.clone()))
                .collect::<Vec<_>>()
        })
    });
    let patch = Memo::new(move |_| {
        let sink = is_sink();
        drafts.with(|d| d.as_ref().map(|d| offsets_patch(sink, d)))
    });
    let apply_offsets = move || {
        let Some(Ok(Some(body))) = patch.get_untracked() else {
            return;
        };
        let n = name.get_untracked();
        let c = cluster.get_untracked();
        applying.set(true);
        leptos::task::spawn_local(async move {
            let res = Connect::of(&c)
                .connector(&n)
                .send::<Value>(Method::Patch, "/offsets", Some(body))
                .await;
            applying.set(false);
            match res {
                Ok(v) => {
                    toasts().ok(v
                        .get("message")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| "Offsets changed".into()));
                    offsets_error.set(None);
                    drafts.set(None);
                }
                // Connect's own words (not stopped, a bad partition, ...), next to the fields.
                Err(e) => offsets_error.set(Some(e.message)),
            }
            load_offsets();
        });
    };

    // An action: a Connect call, a toast, then the status again (and the offsets, which
    // may change with the state).
    let act = move |method: Method, rest: &'static str, done: &'static str| {
        let n = name.get_untracked();
        let c = cluster.get_untracked();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let res = Connect::of(&c)
                .connector(&n)
                .send::<Value>(method, rest, None)
                .await;
            busy.set(false);
            match res {
                Ok(_) => toasts().ok(format!("{n}: {done}")),
                Err(e) => toasts().error(e.message),
            }
            reload();
            load_offsets();
        });
    };
    let restart_task = move |id: i64| {
        let n = name.get_untracked();
        let c = cluster.get_untracked();
        leptos::task::spawn_local(async move {
            let rest = format!("/tasks/{id}/restart");
            let res = Connect::of(&c)
                .connector(&n)
                .send::<Value>(Method::Post, &rest, None)
                .await;
            match res {
                Ok(_) => toasts().ok(format!("Task {id} of {n} restarted")),
                Err(e) => toasts().error(e.message),
            }
            reload();
        });
    };
    let do_confirmed = move |what: Confirm| {
        let n = name.get_untracked();
        let c = cluster.get_untracked();
        let navigate = navigate.clone();
        confirm.set(None);
        leptos::task::spawn_local(async move {
            let routes = Connect::of(&c).connector(&n);
            match what {
                Confirm::Delete => match routes.send::<Value>(Method::Delete, "", None).await {
                    Ok(_) => {
                        toasts().ok(format!("Connector {n} deleted"));
                        navigate("/connectors", NavigateOptions::default());
                    }
                    Err(e) => toasts().error(e.message),
                },
                Confirm::ResetOffsets => {
                    match routes.send::<Value>(Method::Delete, "/offsets", None).await {
                        Ok(v) => toasts().ok(v
                            .get("message")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                            .unwrap_or_else(|| "Offsets reset".into())),
                        Err(e) => toasts().error(e.message),
                    }
                    load_offsets();
                }
            }
        });
    };
    let download_config = move |_| {
        let n = name.get_untracked();
        let cfg = config.get_untracked().unwrap_or_default();
        let mut cfg_no_name = cfg.clone();
        cfg_no_name.remove("name");
        let body = connect::create_body(&n, &cfg_no_name);
        download(
            &format!("{n}.json"),
            "application/json",
            &serde_json::to_string_pretty(&body).unwrap_or_default(),
        );
    };

    view! {
        <div class="page" data-testid="connector-detail">
            <div class="page-head">
                <div>
                    <div class="crumbs"><a href="/connectors">"Connectors"</a>" / "</div>
                    <h1 class="mono" data-testid="connector-title">{move || name.get()}</h1>
                </div>
                <div class="row-gap">
                    {move || status.with(|s| s.as_ref().map(|s| view! { <span data-testid="connector-state"><StatePill state=s.connector.state.clone()/></span> }))}
                    <button class="btn" data-testid="connector-pause" disabled=move || busy.get() || state() != "RUNNING"
                        title="Pause the connector and its tasks (they keep their place)"
                        on:click=move |_| act(Method::Put, "/pause", "paused")>"Pause"</button>
                    <button class="btn" data-testid="connector-resume" disabled=move || busy.get() || !matches!(state().as_str(), "PAUSED" | "STOPPED")
                        title="Resume a paused or stopped connector"
                        on:click=move |_| act(Method::Put, "/resume", "resumed")>"Resume"</button>
                    <button class="btn" data-testid="connector-stop" disabled=move || busy.get() || matches!(state().as_str(), "STOPPED" | "")
                        title="Stop the connector and shut its tasks down (needed to reset offsets)"
                        on:click=move |_| act(Method::Put, "/stop", "stopped")>"Stop"</button>
                    <button class="btn" data-testid="connector-restart" disabled=move || busy.get()
                        title="Restart the connector and all its tasks"
                        on:click=move |_| act(Method::Post, "/restart?includeTasks=true&onlyFailed=false", "restarted with its tasks")>"Restart"</button>
                    <a class="btn" data-testid="connector-edit" href=move || format!("{}/edit", connector_href(&name.get()))
                        title="Change the connector's config (its tasks restart with it)">"Edit config"</a>
                    <button class="btn btn-ghost btn-danger-text" data-testid="connector-delete" on:click=move |_| confirm.set(Some(Confirm::Delete))>"Delete"</button>
                </div>
            </div>
            {move || error.get().map(|e| view! { <div class="banner banner-error" data-testid="connector-error">{e}</div> })}
            <div class="stats">
                <div class="stat">
                    <div class="stat-label">"Type"</div>
                    <div class="stat-value mono">{move || status.with(|s| s.as_ref().and_then(|s| s.kind.clone())).unwrap_or_else(|| "—".into())}</div>
                </div>
                <div class="stat stat-wide">
                    <div class="stat-label">"Class"</div>
                    <div class="stat-value mono stat-class" title=move || config.with(|c| c.as_ref().and_then(|c| c.get("connector.class").cloned()).unwrap_or_default())>
                        {move || config.with(|c| c.as_ref().and_then(|c| c.get("connector.class").map(|x| simple_class(x).to_string()))).unwrap_or_else(|| "—".into())}
                    </div>
                </div>
                <div class="stat">
                    <div class="stat-label">"Tasks"</div>
                    <div class="stat-value mono">{move || status.with(|s| s.as_ref().map(|s| {
                        let running = s.tasks.iter().filter(|t| t.state == "RUNNING").count();
                        format!("{running} / {}", s.tasks.len())
                    })).unwrap_or_else(|| "—".into())}<span class="stat-sub">"running"</span></div>
                </div>
                <div class="stat">
                    <div class="stat-label">"Worker"</div>
                    <div class="stat-value mono stat-class">{move || status.with(|s| s.as_ref().and_then(|s| s.connector.worker_id.clone())).unwrap_or_else(|| "—".into())}</div>
                </div>
            </div>
            {move || status.with(|s| s.as_ref().and_then(|s| s.connector.trace.clone())).map(|t| view! {
                <section class="card card-bad">
                    <h2>"Connector failed"</h2>
                    <details class="trace" open>
                        <summary>{t.lines().next().unwrap_or_default().to_string()}</summary>
                        <pre class="code code-tall" data-testid="connector-trace">{t.clone()}</pre>
                    </details>
                </section>
            })}
            <section class="card">
                <div class="card-head"><h2>"Topics"</h2><span class="muted small">"the topics it has read or written"</span></div>
                <div class="row-gap" data-testid="detail-topics">
                    {move || {
                        let ts = topics.get();
                        if ts.is_empty() {
                            view! { <span class="muted small">"None yet."</span> }.into_any()
                        } else {
                            ts.into_iter().map(|t| view! {
                                <a class="topic-chip mono" data-testid="connector-topic" data-topic=t.clone() href=format!("{}/messages", topic_href(&t))>{t.clone()}</a>
                            }).collect_view().into_any()
                        }
                    }}
                </div>
            </section>
            <section class="card">
                <h2>"Tasks"</h2>
                <table class="table" data-testid="task-table">
                    <thead>
                        <tr>
                            <th>"Task"</th>
                            <th>"State"</th>
                            <th>"Worker"</th>
                            <th>"Error"</th>
                            <th></th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || status.with(|s| s.as_ref().map(|s| s.tasks.iter().map(|t| {
                            let id = t.id;
                            view! {
                                <tr data-testid="task-row" data-task=id.to_string()>
                                    <td class="mono">{id}</td>
                                    <td data-testid="task-state"><StatePill state=t.state.clone()/></td>
                                    <td class="mono small">{t.worker_id.clone().unwrap_or_default()}</td>
                                    <td class="trace-cell">
                                        {match t.trace.clone() {
                                            Some(tr) => view! {
                                                <details class="trace">
                                                    <summary class="mono small">{tr.lines().next().unwrap_or_default().to_string()}</summary>
                                                    <pre class="code code-tall" data-testid="task-trace">{tr.clone()}</pre>
                                                </details>
                                            }.into_any(),
                                            None => view! { <span class="muted small">"—"</span> }.into_any(),
                                        }}
                                    </td>
                                    <td class="actions">
                                        <button class="btn btn-small" data-testid="task-restart" on:click=move |_| restart_task(id)>"Restart task"</button>
                                    </td>
                                </tr>
                            }
                        }).collect_view()))}
                    </tbody>
                </table>
                {move || status.with(|s| s.as_ref().is_some_and(|s| s.tasks.is_empty())).then(|| view! {
                    <div class="muted small pad">"No tasks."</div>
                })}
            </section>
            <section class="card" data-testid="offsets-card">
                <div class="card-head">
                    <h2>"Committed offsets"</h2>
                    {move || if !editing.get() {
                        view! {
                            <div class="row-gap">
                                <button class="btn btn-small" data-testid="offsets-refresh" on:click=move |_| load_offsets()>"Refresh"</button>
                                <button class="btn btn-small" data-testid="offsets-edit"
                                    disabled=move || !matches!(offsets.get(), Some(Ok(_)))
                                    title="Set the offsets the connector resumes from"
                                    on:click=move |_| edit_offsets()>"Edit offsets"</button>
                                <button class="btn btn-small btn-danger-text" data-testid="offsets-reset"
                                    disabled=move || state() != "STOPPED"
                                    title=move || if state() == "STOPPED" { "Forget the committed offsets: the connector starts over when resumed" } else { "Stop the connector first: Connect resets offsets of stopped connectors only" }
                                    on:click=move |_| confirm.set(Some(Confirm::ResetOffsets))>"Reset offsets"</button>
                            </div>
                        }.into_any()
                    } else {
                        view! {
                            <div class="row-gap">
                                <span class="muted small" data-testid="offsets-summary">{move || match patch.get() {
                                    Some(Ok(Some(b))) => {
                                        let n = b["offsets"].as_array().map_or(0, Vec::len);
                                        if n == 1 { "1 partition changes".to_string() } else { format!("{n} partitions change") }
                                    }
                                    Some(Ok(None)) => "No changes yet".to_string(),
                                    Some(Err(e)) => e,
                                    None => String::new(),
                                }}</span>
                                <button class="btn btn-small" data-testid="offsets-cancel" on:click=move |_| { drafts.set(None); offsets_error.set(None); }>"Cancel"</button>
                                <button class="btn btn-small btn-primary" data-testid="offsets-apply"
                                    disabled=move || applying.get() || state() != "STOPPED" || !matches!(patch.get(), Some(Ok(Some(_))))
                                    title=move || if state() == "STOPPED" { "Send the changed offsets to Connect (PATCH /offsets)" } else { "Stop the connector first: Connect changes offsets of stopped connectors only" }
                                    on:click=move |_| apply_offsets()>{move || if applying.get() { "Applying…" } else { "Apply offsets" }}</button>
                            </div>
                        }.into_any()
                    }}
                </div>
                {move || editing.get().then(|| {
                    let sink = is_sink();
                    view! {
                        <div class="offsets-editor" data-testid="offsets-editor">
                            {move || (state() != "STOPPED").then(|| view! {
                                <div class="banner banner-warn row-gap" data-testid="offsets-not-stopped">
                                    <span>{move || format!("Kafka Connect changes the offsets of stopped connectors only, and this one is {}. Stop it, apply, then resume it.", state().to_lowercase())}</span>
                                    <button class="btn btn-small" data-testid="offsets-stop" disabled=move || busy.get()
                                        on:click=move |_| act(Method::Put, "/stop", "stopped")>"Stop connector"</button>
                                </div>
                            })}
                            <p class="muted small">{if sink {
                                "The offset of each topic partition is the next record the connector reads. An empty field forgets the partition's committed offset (the consumer's reset policy applies)."
                            } else {
                                "Each source partition's offset is the connector's own JSON, as it committed it. An empty field forgets it (the connector starts that partition over)."
                            }}</p>
                            <table class="table offsets-edit-table">
                                <thead><tr>
                                    {if sink {
                                        view! { <th>"Topic"</th><th>"Partition"</th> }.into_any()
                                    } else {
                                        view! { <th>"Partition"</th> }.into_any()
                                    }}
                                    <th>"Committed"</th>
                                    <th>{if sink { "New offset" } else { "New offset (JSON)" }}</th>
                                </tr></thead>
                                <tbody>
                                    {move || draft_rows.get().into_iter().enumerate().map(|(i, (partition, committed))| {
                                        let topic = partition.get("kafka_topic").and_then(Value::as_str).unwrap_or_default().to_string();
                                        let part = partition.get("kafka_partition").map(|p| p.to_string()).unwrap_or_default();
                                        let text = move || drafts.with(|d| d.as_ref().and_then(|d| d.get(i)).map(|x| x.text.clone()).unwrap_or_default());
                                        let set = move |v: String| drafts.update(|ds| {
                                            if let Some(x) = ds.as_mut().and_then(|ds| ds.get_mut(i)) {
                                                x.text = v;
                                            }
                                        });
                                        let invalid = move || drafts.with(|d| d.as_ref().and_then(|d| d.get(i)).is_some_and(|x| x.wanted(sink).is_err()));
                                        let field = if sink {
                                            view! {
                                                <input type="number" min="0" step="1" class="mono offset-input" class:invalid=invalid
                                                    data-testid="offset-input" data-topic=topic.clone() data-partition=part.clone()
                                                    placeholder="reset" prop:value=text
                                                    on:input=move |ev| set(event_target_value(&ev))/>
                                            }.into_any()
                                        } else {
                                            let rows = drafts
                                                .with_untracked(|d| d.as_ref().and_then(|d| d.get(i)).map(|x| x.text.lines().count()))
                                                .unwrap_or(1)
                                                .clamp(1, 8)
                                                .to_string();
                                            view! {
                                                <textarea class="mono offset-json" class:invalid=invalid rows=rows spellcheck="false"
                                                    data-testid="offset-json" placeholder="null"
                                                    prop:value=text
                                                    on:input=move |ev| set(event_target_value(&ev))></textarea>
                                            }.into_any()
                                        };
                                        view! {
                                            <tr data-testid="offset-edit-row">
                                                {if sink {
                                                    view! { <td class="mono small">{topic.clone()}</td><td class="mono small">{part.clone()}</td> }.into_any()
                                                } else {
                                                    view! { <td class="mono small">{flat(&partition)}</td> }.into_any()
                                                }}
                                                <td class="mono small muted">{match committed.get("kafka_offset") {
                                                    Some(o) if sink => o.to_string(),
                                                    _ => flat(&committed),
                                                }}</td>
                                                <td class="offset-field">{field}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            {move || (!sink && draft_rows.with(Vec::is_empty)).then(|| view! {
                                <div class="muted small pad">"No committed offsets to edit yet: a source partition's offset is the connector's own, listed once it has committed one."</div>
                            })}
                            {sink.then(|| view! {
                                <div class="row-gap offsets-add">
                                    <span class="muted small">"Another partition:"</span>
                                    <input type="text" class="mono" placeholder="topic" data-testid="offsets-add-topic"
                                        prop:value=move || new_topic.get() on:input=move |ev| new_topic.set(event_target_value(&ev))/>
                                    <input type="number" min="0" class="mono narrow" placeholder="partition" data-testid="offsets-add-partition"
                                        prop:value=move || new_partition.get() on:input=move |ev| new_partition.set(event_target_value(&ev))/>
                                    <button class="btn btn-small" data-testid="offsets-add" on:click=move |_| add_partition()>"Add"</button>
                                </div>
                            })}
                            {move || offsets_error.get().map(|e| view! { <div class="banner banner-error" data-testid="offsets-error">{e}</div> })}
                        </div>
                    }
                })}
                {move || (!editing.get()).then(|| match offsets.get() {
                    None => view! { <div class="muted small pad">"Loading…"</div> }.into_any(),
                    Some(Err(e)) => view! { <div class="muted small pad">{e}</div> }.into_any(),
                    Some(Ok(o)) if o.offsets.is_empty() => view! { <div class="muted small pad" data-testid="no-offsets">"No committed offsets."</div> }.into_any(),
                    Some(Ok(o)) => view! {
                        <table class="table" data-testid="offsets-table">
                            <thead><tr><th>"Partition"</th><th>"Offset"</th></tr></thead>
                            <tbody>
                                {o.offsets.iter().map(|e| view! {
                                    <tr data-testid="offset-row">
                                        <td class="mono small">{flat(&e.partition)}</td>
                                        <td class="mono small">{flat(&e.offset)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </section>
            <section class="card">
                <div class="card-head">
                    <h2>"Config"</h2>
                    <button class="btn btn-small" data-testid="config-download" on:click=download_config>"Download JSON"</button>
                </div>
                <table class="table configs" data-testid="config-table">
                    <tbody>
                        {move || config.get().unwrap_or_default().into_iter().map(|(k, v)| view! {
                            <tr><td class="mono">{k}</td><td class="mono small">{v}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
            {
                let do_confirmed = do_confirmed.clone();
                move || {
                    let do_confirmed = do_confirmed.clone();
                    confirm.get().map(|what| {
                        let (title, text, button) = match what {
                            Confirm::Delete => ("Delete connector", "Delete the connector, its tasks and its config? Its topics and their records stay.", "Delete connector"),
                            Confirm::ResetOffsets => ("Reset offsets", "Forget the connector's committed offsets? When resumed it starts over (a source from its beginning, a sink from its topics' start).", "Reset offsets"),
                        };
                        view! {
                            <div class="modal-backdrop" on:click=move |_| confirm.set(None)>
                                <div class="modal" data-testid="connector-confirm" on:click=|ev| ev.stop_propagation()>
                                    <h2>{title}</h2>
                                    <p><b class="mono">{name.get_untracked()}</b>": " {text}</p>
                                    <div class="modal-actions">
                                        <button class="btn" on:click=move |_| confirm.set(None)>"Cancel"</button>
                                        <button class="btn btn-danger" data-testid="connector-confirm-submit" on:click=move |_| do_confirmed(what)>{button}</button>
                                    </div>
                                </div>
                            </div>
                        }
                    })
                }
            }
        </div>
    }
}
