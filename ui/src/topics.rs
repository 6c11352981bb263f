//! Topics: the list, create and delete dialogs, and a topic's detail with its tabs.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::NavigateOptions;
use sluice_api::{paths, AlterConfigs, CreateTopic, TopicDetail as Detail, TopicSummary};

use crate::api;
use crate::app::{close_on_escape, cluster};
use crate::messages::MessageBrowser;
use crate::produce::ProducePanel;
use crate::util::{blur_on_escape, bytes, list_keys, num, toasts, Empty};

/// A NodeRef for a dialog's first field, focused once it is in the document (the
/// `autofocus` attribute does nothing for elements added after the page loaded).
pub fn focus_when_mounted() -> NodeRef<leptos::html::Input> {
    let r = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(el) = r.get() {
            let _ = el.focus();
        }
    });
    r
}

pub fn topic_href(name: &str) -> String {
    format!("/topics/{}", api::enc(name))
}

#[component]
pub fn TopicList() -> impl IntoView {
    let cluster = cluster();
    let topics = RwSignal::new(None::<Vec<TopicSummary>>);
    let search = RwSignal::new(String::new());
    let show_internal = RwSignal::new(false);
    let creating = RwSignal::new(false);
    let deleting = RwSignal::new(None::<String>);
    let selected = RwSignal::new(None::<usize>);
    let search_ref = NodeRef::<leptos::html::Input>::new();
    let navigate = use_navigate();

    let reload = move || {
        let c = cluster.get_untracked();
        leptos::task::spawn_local(async move {
            match api::get::<Vec<TopicSummary>>(&paths::topics(&api::enc(&c))).await {
                Ok(v) => topics.set(Some(v)),
                Err(e) => {
                    topics.set(Some(Vec::new()));
                    toasts().error(format!("Topics: {e}"));
                }
            }
        });
    };
    Effect::new(move |_| {
        cluster.track();
        reload();
    });
    let interval = set_interval_with_handle(reload, std::time::Duration::from_secs(10)).ok();
    on_cleanup(move || {
        if let Some(i) = interval {
            i.clear();
        }
    });

    let visible = Memo::new(move |_| {
        let q = search.get().to_lowercase();
        let internal = show_internal.get();
        topics.with(|t| {
            t.as_ref()
                .map(|t| {
                    let mut v: Vec<TopicSummary> = t
                        .iter()
                        .filter(|x| (internal || !x.internal) && x.name.to_lowercase().contains(&q))
                        .cloned()
                        .collect();
                    v.sort_by(|a, b| a.name.cmp(&b.name));
                    v
                })
                .unwrap_or_default()
        })
    });
    Effect::new(move |_| {
        let n = visible.with(|v| v.len());
        if selected.get_untracked().is_some_and(|s| s >= n) {
            selected.set(if n == 0 { None } else { Some(n - 1) });
        }
    });
    {
        let navigate = navigate.clone();
        list_keys(
            move || visible.with_untracked(|v| v.len()),
            selected,
            move |i| {
                if let Some(t) = visible.with_untracked(|v| v.get(i).cloned()) {
                    navigate(&topic_href(&t.name), NavigateOptions::default());
                }
            },
            Some(search_ref),
        );
    }

    view! {
        <div class="page" data-testid="topics">
            <div class="page-head">
                <h1>"Topics"</h1>
                <div class="row-gap">
                    <input
                        node_ref=search_ref
                        class="search"
                        type="search"
                        placeholder="Search topics   /"
                        data-testid="topic-search"
                        prop:value=move || search.get()
                        on:input=move |ev| search.set(event_target_value(&ev))
                        on:keydown=move |ev| blur_on_escape(&ev)
                    />
                    <label class="check">
                        <input type="checkbox" prop:checked=move || show_internal.get() on:change=move |ev| show_internal.set(event_target_checked(&ev))/>
                        "internal"
                    </label>
                    <button class="btn btn-primary" data-testid="create-topic" on:click=move |_| creating.set(true)>
                        "+ Create topic"
                    </button>
                </div>
            </div>
            {move || match topics.with(|t| t.is_none()) {
                true => view! { <div class="loading">"Loading topics…"</div> }.into_any(),
                false if visible.with(|v| v.is_empty()) => {
                    if search.with(|s| s.is_empty()) {
                        view! { <Empty title="No topics yet" text="Create one here, or produce to a new topic with any Kafka client."/> }.into_any()
                    } else {
                        view! { <Empty title="No match" text=format!("No topic name contains “{}”.", search.get())/> }.into_any()
                    }
                }
                false => {
                    let navigate = navigate.clone();
                    view! {
                        <table class="table table-hover" data-testid="topic-table">
                            <thead>
                                <tr>
                                    <th>"Name"</th>
                                    <th class="num">"Partitions"</th>
                                    <th class="num">"Replication"</th>
                                    <th class="num">"Messages"</th>
                                    <th class="num">"Size"</th>
                                    <th></th>
                                </tr>
                            </thead>
                            <tbody>
                                {move || {
                                    let navigate = navigate.clone();
                                    visible
                                        .get()
                                        .into_iter()
                                        .enumerate()
                                        .map(|(i, t)| {
                                            let href = topic_href(&t.name);
                                            let name = t.name.clone();
                                            let navigate = navigate.clone();
                                            view! {
                                                <tr
                                                    class=move || if selected.get() == Some(i) { "selected" } else { "" }
                                                    data-testid="topic-row"
                                                    data-name=t.name.clone()
                                                    on:click=move |_| {
                                                        selected.set(Some(i));
                                                        navigate(&href, NavigateOptions::default());
                                                    }
                                                >
                                                    <td class="mono strong">
                                                        {t.name.clone()}
                                                        {t.internal.then(|| view! { <span class="pill pill-neutral">"internal"</span> })}
                                                    </td>
                                                    <td class="num mono">{t.partitions}</td>
                                                    <td class="num mono">{t.replication_factor}</td>
                                                    <td class="num mono">{num(t.message_count)}</td>
                                                    <td class="num mono">{t.size_bytes.map(bytes).unwrap_or_else(|| "—".into())}</td>
                                                    <td class="actions">
                                                        <button
                                                            class="btn btn-ghost btn-small btn-danger-text"
                                                            title="Delete topic"
                                                            data-testid="delete-topic"
                                                            on:click=move |ev| {
                                                                ev.stop_propagation();
                                                                deleting.set(Some(name.clone()));
                                                            }
                                                        >
                                                            "Delete"
                                                        </button>
                                                    </td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()
                                }}
                            </tbody>
                        </table>
                    }
                        .into_any()
                }
            }}
            <div class="footnote muted small">"↑↓ or j k to move · Enter to open · / to search"</div>
            {move || creating.get().then(|| view! { <CreateTopicDialog open=creating on_done=reload/> })}
            {move || deleting.get().map(|name| view! { <DeleteTopicDialog name=name open=deleting on_done=move || reload()/> })}
        </div>
    }
}

#[component]
fn CreateTopicDialog(
    open: RwSignal<bool>,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let cluster = cluster();
    let name = RwSignal::new(String::new());
    let partitions = RwSignal::new("1".to_string());
    let rf = RwSignal::new("1".to_string());
    let next_id = StoredValue::new(1u32);
    let configs = RwSignal::new(Vec::<(u32, RwSignal<String>, RwSignal<String>)>::new());
    let busy = RwSignal::new(false);
    close_on_escape(move || open.set(false));
    let first = focus_when_mounted();
    let submit = move || {
        let n = name.get_untracked().trim().to_string();
        let Ok(p) = partitions.get_untracked().trim().parse::<i32>() else {
            toasts().error("Partitions must be a number");
            return;
        };
        let Ok(r) = rf.get_untracked().trim().parse::<i32>() else {
            toasts().error("Replication factor must be a number");
            return;
        };
        if n.is_empty() {
            toasts().error("A topic needs a name");
            return;
        }
        let cfg: BTreeMap<String, String> = configs
            .get_untracked()
            .iter()
            .filter(|(_, k, _)| !k.get_untracked().trim().is_empty())
            .map(|(_, k, v)| (k.get_untracked().trim().to_string(), v.get_untracked()))
            .collect();
        let body = CreateTopic {
            name: n.clone(),
            partitions: p,
            replication_factor: r,
            configs: cfg,
        };
        let c = cluster.get_untracked();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let res = api::post::<_, serde_json::Value>(&paths::topics(&api::enc(&c)), &body).await;
            busy.set(false);
            match res {
                Ok(_) => {
                    open.set(false);
                    toasts().ok(format!("Topic {n} created"));
                    on_done();
                }
                Err(e) => toasts().error(e),
            }
        });
    };
    view! {
        <div class="modal-backdrop" on:click=move |_| open.set(false)>
            <div class="modal" data-testid="create-topic-dialog" on:click=|ev| ev.stop_propagation()>
                <h2>"Create topic"</h2>
                <form on:submit=move |ev| {
                    ev.prevent_default();
                    submit();
                }>
                    <label class="field">
                        <span>"Name"</span>
                        <input
                            type="text"
                            data-testid="topic-name"
                            node_ref=first
                            placeholder="orders"
                            prop:value=move || name.get()
                            on:input=move |ev| name.set(event_target_value(&ev))
                        />
                    </label>
                    <div class="form-row">
                        <label class="field">
                            <span>"Partitions"</span>
                            <input type="number" min="1" data-testid="topic-partitions" prop:value=move || partitions.get() on:input=move |ev| partitions.set(event_target_value(&ev))/>
                        </label>
                        <label class="field">
                            <span>"Replication factor"</span>
                            <input type="number" min="1" prop:value=move || rf.get() on:input=move |ev| rf.set(event_target_value(&ev))/>
                        </label>
                    </div>
                    <div class="field">
                        <span>"Configs"</span>
                        <For each=move || configs.get() key=|x| x.0 let:row>
                            <div class="kv-row">
                                <input type="text" class="mono" placeholder="retention.ms" prop:value=move || row.1.get() on:input=move |ev| row.1.set(event_target_value(&ev))/>
                                <input type="text" class="mono" placeholder="604800000" prop:value=move || row.2.get() on:input=move |ev| row.2.set(event_target_value(&ev))/>
                                <button type="button" class="btn btn-ghost btn-small" on:click=move |_| configs.update(|v| v.retain(|x| x.0 != row.0))>"✕"</button>
                            </div>
                        </For>
                        <button
                            type="button"
                            class="btn btn-ghost btn-small"
                            on:click=move |_| {
                                let id = next_id.get_value();
                                next_id.set_value(id + 1);
                                configs.update(|v| v.push((id, RwSignal::new(String::new()), RwSignal::new(String::new()))));
                            }
                        >
                            "+ Add config"
                        </button>
                    </div>
                    <div class="modal-actions">
                        <button type="button" class="btn" on:click=move |_| open.set(false)>"Cancel"</button>
                        <button type="submit" class="btn btn-primary" data-testid="create-topic-submit" disabled=move || busy.get()>
                            {move || if busy.get() { "Creating…" } else { "Create" }}
                        </button>
                    </div>
                </form>
            </div>
        </div>
    }
}

#[component]
fn DeleteTopicDialog(
    name: String,
    open: RwSignal<Option<String>>,
    on_done: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let cluster = cluster();
    let typed = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    close_on_escape(move || open.set(None));
    let first = focus_when_mounted();
    let expected = name.clone();
    let matches = move || typed.get() == expected;
    let n2 = name.clone();
    let submit = move || {
        let n = n2.clone();
        let c = cluster.get_untracked();
        let on_done = on_done.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let res = api::delete(&paths::topic(&api::enc(&c), &api::enc(&n))).await;
            busy.set(false);
            match res {
                Ok(()) => {
                    open.set(None);
                    toasts().ok(format!("Topic {n} deleted"));
                    on_done();
                }
                Err(e) => toasts().error(e),
            }
        });
    };
    let matches2 = matches.clone();
    view! {
        <div class="modal-backdrop" on:click=move |_| open.set(None)>
            <div class="modal" data-testid="delete-topic-dialog" on:click=|ev| ev.stop_propagation()>
                <h2>"Delete topic"</h2>
                <p>
                    "This deletes " <b class="mono">{name.clone()}</b>
                    " and every message in it. It cannot be undone. Type the topic's name to confirm."
                </p>
                <form on:submit={
                    let submit = submit.clone();
                    move |ev| {
                        ev.prevent_default();
                        if matches2() {
                            submit();
                        }
                    }
                }>
                    <input
                        type="text"
                        class="mono"
                        node_ref=first
                        data-testid="delete-confirm-input"
                        placeholder=name.clone()
                        prop:value=move || typed.get()
                        on:input=move |ev| typed.set(event_target_value(&ev))
                    />
                    <div class="modal-actions">
                        <button type="button" class="btn" on:click=move |_| open.set(None)>"Cancel"</button>
                        <button
                            type="submit"
                            class="btn btn-danger"
                            data-testid="delete-confirm"
                            disabled=move || !matches() || busy.get()
                        >
                            "Delete topic"
                        </button>
                    </div>
                </form>
            </div>
        </div>
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Tab {
    Messages,
    Partitions,
    Configs,
    Produce,
}

impl Tab {
    fn from(s: &str) -> Tab {
        match s {
            "partitions" => Tab::Partitions,
            "configs" => Tab::Configs,
            "produce" => Tab::Produce,
            _ => Tab::Messages,
        }
    }
    fn slug(self) -> &'static str {
        match self {
            Tab::Messages => "messages",
            Tab::Partitions => "partitions",
            Tab::Configs => "configs",
            Tab::Produce => "produce",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Tab::Messages => "Messages",
            Tab::Partitions => "Partitions",
            Tab::Configs => "Configs",
            Tab::Produce => "Produce",
        }
    }
}

#[component]
pub fn TopicDetail() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.with(|p| p.get("name").unwrap_or_default()));
    let tab = Memo::new(move |_| Tab::from(&params.with(|p| p.get("tab").unwrap_or_default())));
    let cluster = cluster();
    let detail = RwSignal::new(None::<Detail>);
    let error = RwSignal::new(None::<String>);
    let deleting = RwSignal::new(None::<String>);
    let navigate = use_navigate();

    let reload = move || {
        // Also called after a save or produce finishes, when the page may be gone.
        let Some(n) = name.try_get_untracked() else {
            return;
        };
        let c = cluster.get_untracked();
        leptos::task::spawn_local(async move {
            match api::get::<Detail>(&paths::topic(&api::enc(&c), &api::enc(&n))).await {
                Ok(d) => {
                    detail.set(Some(d));
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    Effect::new(move |_| {
        cluster.track();
        name.track();
        detail.set(None);
        reload();
    });

    let tabs = [Tab::Messages, Tab::Partitions, Tab::Configs, Tab::Produce];
    let nav2 = navigate.clone();
    view! {
        <div class="page page-fill" data-testid="topic-detail">
            <div class="page-head">
                <div>
                    <div class="crumbs">
                        <a href="/topics">"Topics"</a>
                        " / "
                    </div>
                    <h1 class="mono" data-testid="topic-title">{move || name.get()}</h1>
                </div>
                <div class="row-gap">
                    <span class="muted small mono">
                        {move || detail.with(|d| d.as_ref().map(|d| {
                            let msgs: i64 = d.partitions.iter().map(|p| p.end_offset - p.start_offset).sum();
                            format!("{} partitions · {} messages", d.partitions.len(), num(msgs))
                        }))}
                    </span>
                    <button class="btn btn-ghost btn-danger-text" data-testid="delete-topic-detail" on:click=move |_| deleting.set(Some(name.get_untracked()))>
                        "Delete topic"
                    </button>
                </div>
            </div>
            <div class="tabs" role="tablist">
                {tabs
                    .into_iter()
                    .map(|t| {
                        let navigate = navigate.clone();
                        view! {
                            <button
                                role="tab"
                                class=move || if tab.get() == t { "tab active" } else { "tab" }
                                data-testid=format!("tab-{}", t.slug())
                                on:click=move |_| {
                                    let href = format!("{}/{}", topic_href(&name.get_untracked()), t.slug());
                                    navigate(&href, NavigateOptions { replace: true, ..Default::default() });
                                }
                            >
                                {t.label()}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
            {move || error.get().map(|e| view! { <div class="banner banner-error">{e}</div> })}
            <div class="tab-body">
                {move || {
                    let n = name.get();
                    match tab.get() {
                        Tab::Messages => view! { <MessageBrowser topic=n detail=detail/> }.into_any(),
                        Tab::Partitions => view! { <Partitions detail=detail reload=reload/> }.into_any(),
                        Tab::Configs => view! { <Configs topic=n detail=detail reload=reload/> }.into_any(),
                        Tab::Produce => view! { <ProducePanel topic=n detail=detail on_produced=reload/> }.into_any(),
                    }
                }}
            </div>
            {move || {
                deleting
                    .get()
                    .map(|n| {
                        let nav = nav2.clone();
                        view! {
                            <DeleteTopicDialog
                                name=n
                                open=deleting
                                on_done=move || nav("/topics", NavigateOptions::default())
                            />
                        }
                    })
            }}
        </div>
    }
}

#[component]
fn Partitions(
    detail: RwSignal<Option<Detail>>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div class="card">
            <div class="card-head">
                <h2>"Partitions"</h2>
                <button class="btn btn-ghost btn-small" on:click=move |_| reload()>"Refresh"</button>
            </div>
            <table class="table" data-testid="partition-table">
                <thead>
                    <tr>
                        <th class="num">"Partition"</th>
                        <th class="num">"Leader"</th>
                        <th>"Replicas"</th>
                        <th class="num">"Start offset"</th>
                        <th class="num">"End offset"</th>
                        <th class="num">"Messages"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        detail.with(|d| {
                            d.as_ref()
                                .map(|d| {
                                    d.partitions
                                        .iter()
                                        .map(|p| {
                                            view! {
                                                <tr>
                                                    <td class="num mono">{p.id}</td>
                                                    <td class="num mono">{p.leader}</td>
                                                    <td class="mono">{p.replicas.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")}</td>
                                                    <td class="num mono">{num(p.start_offset)}</td>
                                                    <td class="num mono">{num(p.end_offset)}</td>
                                                    <td class="num mono">{num(p.end_offset - p.start_offset)}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()
                                })
                        })
                    }}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Configs(
    topic: String,
    detail: RwSignal<Option<Detail>>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let cluster = cluster();
    let edits = RwSignal::new(BTreeMap::<String, String>::new());
    let filter = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let save = move || {
        let configs = edits.get_untracked();
        if configs.is_empty() {
            return;
        }
        let c = cluster.get_untracked();
        let t = topic.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let res = api::put_unit(
                &paths::topic_configs(&api::enc(&c), &api::enc(&t)),
                &AlterConfigs { configs },
            )
            .await;
            busy.set(false);
            match res {
                Ok(()) => {
                    edits.set(BTreeMap::new());
                    toasts().ok("Configs saved");
                    reload();
                }
                Err(e) => toasts().error(e),
            }
        });
    };
    view! {
        <div class="card">
            <div class="card-head">
                <h2>"Configs"</h2>
                <div class="row-gap">
                    <input class="search" type="search" placeholder="Filter configs" prop:value=move || filter.get() on:input=move |ev| filter.set(event_target_value(&ev))/>
                    <button class="btn" disabled=move || edits.with(|e| e.is_empty()) on:click=move |_| edits.set(BTreeMap::new())>"Discard"</button>
                    <button class="btn btn-primary" data-testid="save-configs" disabled=move || edits.with(|e| e.is_empty()) || busy.get() on:click=move |_| save()>
                        {move || {
                            let n = edits.with(|e| e.len());
                            if n == 0 { "Save".to_string() } else { format!("Save {n} change{}", if n == 1 { "" } else { "s" }) }
                        }}
                    </button>
                </div>
            </div>
            <table class="table configs" data-testid="config-table">
                <thead>
                    <tr>
                        <th>"Name"</th>
                        <th>"Value"</th>
                        <th>"Source"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let f = filter.get().to_lowercase();
                        detail.with(|d| {
                            d.as_ref().map(|d| {
                                d.configs
                                    .iter()
                                    .filter(|c| c.name.to_lowercase().contains(&f))
                                    .map(|c| {
                                        let key = c.name.clone();
                                        let key2 = c.name.clone();
                                        let original = c.value.clone().unwrap_or_default();
                                        let orig2 = original.clone();
                                        let shown = if c.sensitive { "••••••".to_string() } else { original.clone() };
                                        let changed = move || edits.with(|e| e.contains_key(&key2));
                                        view! {
                                            <tr class=move || if changed() { "changed" } else { "" }>
                                                <td class="mono">{c.name.clone()}</td>
                                                <td>
                                                    {if c.read_only || c.sensitive {
                                                        view! { <span class="mono muted">{shown}</span> }.into_any()
                                                    } else {
                                                        let k = key.clone();
                                                        view! {
                                                            <input
                                                                class="mono cell-input"
                                                                type="text"
                                                                data-config=key.clone()
                                                                prop:value=move || edits.with(|e| e.get(&k).cloned()).unwrap_or_else(|| original.clone())
                                                                on:input=move |ev| {
                                                                    let v = event_target_value(&ev);
                                                                    let key = key.clone();
                                                                    edits.update(|e| {
                                                                        if v == orig2 {
                                                                            e.remove(&key);
                                                                        } else {
                                                                            e.insert(key, v);
                                                                        }
                                                                    });
                                                                }
                                                            />
                                                        }
                                                            .into_any()
                                                    }}
                                                </td>
                                                <td class="small muted">
                                                    {if c.read_only { "read-only" } else if c.is_default { "default" } else { "topic" }}
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()
                            })
                        })
                    }}
                </tbody>
            </table>
        </div>
    }
}
