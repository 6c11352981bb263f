//! Consumer groups: the list, and a group's members, offsets, lag history, offset reset and
//! deletion.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::NavigateOptions;
use sluice_api::{
    paths, GroupDetail as Detail, GroupOffset, GroupSummary, LagSample, ResetOffsets, ResetTo,
};

use crate::api;
use crate::app::{close_on_escape, cluster};
use crate::charts::{LineChart, Series};
use crate::topics::topic_href;
use crate::util::{blur_on_escape, list_keys, num, toasts, Empty, Pill};

fn group_href(g: &str) -> String {
    format!("/groups/{}", api::enc(g))
}

#[component]
pub fn GroupList() -> impl IntoView {
    let cluster = cluster();
    let groups = RwSignal::new(None::<Vec<GroupSummary>>);
    let search = RwSignal::new(String::new());
    let selected = RwSignal::new(None::<usize>);
    let search_ref = NodeRef::<leptos::html::Input>::new();
    let navigate = use_navigate();
    let reload = move || {
        let c = cluster.get_untracked();
        leptos::task::spawn_local(async move {
            match api::get::<Vec<GroupSummary>>(&paths::groups(&api::enc(&c))).await {
                Ok(v) => groups.set(Some(v)),
                Err(e) => {
                    groups.set(Some(Vec::new()));
                    toasts().error(format!("Consumer groups: {e}"));
                }
            }
        });
    };
    Effect::new(move |_| {
        cluster.track();
        reload();
    });
    let interval = set_interval_with_handle(reload, std::time::Duration::from_secs(5)).ok();
    on_cleanup(move || {
        if let Some(i) = interval {
            i.clear();
        }
    });
    let visible = Memo::new(move |_| {
        let q = search.get().to_lowercase();
        groups.with(|g| {
            let mut v: Vec<GroupSummary> = g
                .iter()
                .flatten()
                .filter(|x| {
                    x.group_id.to_lowercase().contains(&q)
                        || x.topics.iter().any(|t| t.to_lowercase().contains(&q))
                })
                .cloned()
                .collect();
            v.sort_by(|a, b| a.group_id.cmp(&b.group_id));
            v
        })
    });
    {
        let navigate = navigate.clone();
        list_keys(
            move || visible.with_untracked(|v| v.len()),
            selected,
            move |i| {
                if let Some(g) = visible.with_untracked(|v| v.get(i).cloned()) {
                    navigate(&group_href(&g.group_id), NavigateOptions::default());
                }
            },
            Some(search_ref),
        );
    }
    view! {
        <div class="page" data-testid="groups">
            <div class="page-head">
                <h1>"Consumer groups"</h1>
                <input
                    node_ref=search_ref
                    class="search"
                    type="search"
                    placeholder="Search groups or topics   /"
                    data-testid="group-search"
                    prop:value=move || search.get()
                    on:input=move |ev| search.set(event_target_value(&ev))
                    on:keydown=move |ev| blur_on_escape(&ev)
                />
            </div>
            {move || {
                if groups.with(|g| g.is_none()) {
                    view! { <div class="loading">"Loading consumer groups…"</div> }.into_any()
                } else if visible.with(|v| v.is_empty()) {
                    view! { <Empty title="No consumer groups" text="Groups appear here once a consumer joins one or commits offsets."/> }.into_any()
                } else {
                    let navigate = navigate.clone();
                    view! {
                        <table class="table table-hover" data-testid="group-table">
                            <thead>
                                <tr>
                                    <th>"Group"</th>
                                    <th>"State"</th>
                                    <th class="num">"Members"</th>
                                    <th class="num">"Lag"</th>
                                    <th>"Topics"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {move || {
                                    let navigate = navigate.clone();
                                    visible.get().into_iter().enumerate().map(|(i, g)| {
                                        let href = group_href(&g.group_id);
                                        let navigate = navigate.clone();
                                        view! {
                                            <tr
                                                class=move || if selected.get() == Some(i) { "selected" } else { "" }
                                                data-testid="group-row"
                                                data-group=g.group_id.clone()
                                                on:click=move |_| {
                                                    selected.set(Some(i));
                                                    navigate(&href, NavigateOptions::default());
                                                }
                                            >
                                                <td class="mono strong">{g.group_id.clone()}</td>
                                                <td><Pill text=g.state.clone()/></td>
                                                <td class="num mono">{g.members}</td>
                                                <td class="num mono" data-testid="group-lag">{num(g.lag)}</td>
                                                <td class="mono small">{g.topics.join(", ")}</td>
                                            </tr>
                                        }
                                    }).collect_view()
                                }}
                            </tbody>
                        </table>
                    }.into_any()
                }
            }}
            <div class="footnote muted small">"↑↓ or j k to move · Enter to open · / to search"</div>
        </div>
    }
}

#[component]
pub fn GroupDetail() -> impl IntoView {
    let params = use_params_map();
    let group = Memo::new(move |_| params.with(|p| p.get("group").unwrap_or_default()));
    let cluster = cluster();
    let detail = RwSignal::new(None::<Detail>);
    let error = RwSignal::new(None::<String>);
    let lag = RwSignal::new(Vec::<LagSample>::new());
    // The lag this page saw at each refresh, added to the server's samples.
    let seen = RwSignal::new(Vec::<(f64, f64)>::new());
    let resetting = RwSignal::new(false);
    let deleting = RwSignal::new(false);
    let navigate = use_navigate();

    let reload = move || {
        let Some(g) = group.try_get_untracked() else {
            return;
        };
        let c = api::enc(&cluster.get_untracked());
        let g = api::enc(&g);
        leptos::task::spawn_local(async move {
            match api::get::<Detail>(&paths::group(&c, &g)).await {
                Ok(d) => {
                    seen.update(|v| v.push((crate::util::now_ms(), d.lag as f64)));
                    detail.set(Some(d));
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
            if let Ok(v) = api::get::<Vec<LagSample>>(&paths::group_lag(&c, &g)).await {
                lag.set(v);
            }
        });
    };
    Effect::new(move |_| {
        cluster.track();
        group.track();
        detail.set(None);
        lag.set(Vec::new());
        seen.set(Vec::new());
        reload();
    });
    let interval = set_interval_with_handle(reload, std::time::Duration::from_secs(3)).ok();
    on_cleanup(move || {
        if let Some(i) = interval {
            i.clear();
        }
    });
    let inactive = move || detail.with(|d| d.as_ref().map(|d| d.state == "Empty").unwrap_or(false));
    // The server's samples and what this page saw at each refresh, in time order.
    let series = Signal::derive(move || {
        let mut points: Vec<(f64, f64)> =
            lag.with(|v| v.iter().map(|s| (s.ts_ms as f64, s.lag as f64)).collect());
        seen.with(|v| points.extend(v.iter().copied()));
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        vec![Series {
            label: "Lag",
            class: "s3",
            points,
        }]
    });
    let delete = move || {
        let c = api::enc(&cluster.get_untracked());
        let g = group.get_untracked();
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match api::delete(&paths::group(&c, &api::enc(&g))).await {
                Ok(()) => {
                    toasts().ok(format!("Group {g} deleted"));
                    navigate("/groups", NavigateOptions::default());
                }
                Err(e) => toasts().error(e),
            }
        });
    };

    view! {
        <div class="page" data-testid="group-detail">
            <div class="page-head">
                <div>
                    <div class="crumbs"><a href="/groups">"Consumer groups"</a>" / "</div>
                    <h1 class="mono">{move || group.get()}</h1>
                </div>
                <div class="row-gap">
                    {move || detail.with(|d| d.as_ref().map(|d| view! { <Pill text=d.state.clone()/> }))}
                    <button
                        class="btn"
                        data-testid="reset-offsets"
                        disabled=move || !inactive()
                        title=move || if inactive() { "Reset committed offsets" } else { "Only a group with no active members can be reset: stop its consumers first" }
                        on:click=move |_| resetting.set(true)
                    >
                        "Reset offsets"
                    </button>
                    <button
                        class="btn btn-ghost btn-danger-text"
                        data-testid="delete-group"
                        disabled=move || !inactive()
                        title=move || if inactive() { "Delete the group and its offsets" } else { "Only a group with no active members can be deleted" }
                        on:click=move |_| deleting.set(true)
                    >
                        "Delete group"
                    </button>
                </div>
            </div>
            {move || error.get().map(|e| view! { <div class="banner banner-error">{e}</div> })}
            <div class="stats">
                <div class="stat">
                    <div class="stat-label">"Total lag"</div>
                    <div class="stat-value mono" data-testid="group-total-lag">{move || detail.with(|d| d.as_ref().map(|d| num(d.lag)).unwrap_or_else(|| "—".into()))}</div>
                </div>
                <div class="stat">
                    <div class="stat-label">"Members"</div>
                    <div class="stat-value mono">{move || detail.with(|d| d.as_ref().map(|d| d.members.len().to_string()).unwrap_or_else(|| "—".into()))}</div>
                </div>
                <div class="stat">
                    <div class="stat-label">"Assignor"</div>
                    <div class="stat-value mono">{move || detail.with(|d| d.as_ref().map(|d| if d.protocol.is_empty() { "—".to_string() } else { d.protocol.clone() }).unwrap_or_else(|| "—".into()))}</div>
                </div>
                <div class="stat">
                    <div class="stat-label">"Protocol type"</div>
                    <div class="stat-value mono">{move || detail.with(|d| d.as_ref().map(|d| if d.protocol_type.is_empty() { "—".to_string() } else { d.protocol_type.clone() }).unwrap_or_else(|| "—".into()))}</div>
                </div>
            </div>
            <section class="card">
                <h2>"Lag history"</h2>
                <LineChart series=series testid="lag-chart" empty_text="Collecting lag samples…"/>
            </section>
            <section class="card">
                <h2>"Offsets"</h2>
                <table class="table" data-testid="offset-table">
                    <thead>
                        <tr>
                            <th>"Topic"</th>
                            <th class="num">"Partition"</th>
                            <th class="num">"Committed"</th>
                            <th class="num">"End offset"</th>
                            <th class="num">"Lag"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || detail.with(|d| d.as_ref().map(|d| d.offsets.iter().map(|o| view! {
                            <tr data-testid="offset-row">
                                <td class="mono"><a href=topic_href(&o.topic)>{o.topic.clone()}</a></td>
                                <td class="num mono">{o.partition}</td>
                                <td class="num mono">{o.committed.map(num).unwrap_or_else(|| "—".into())}</td>
                                <td class="num mono">{num(o.end_offset)}</td>
                                <td class="num mono strong">{num(o.lag)}</td>
                            </tr>
                        }).collect_view()))}
                    </tbody>
                </table>
                {move || detail.with(|d| d.as_ref().is_some_and(|d| d.offsets.is_empty())).then(|| view! {
                    <div class="muted small pad">"No committed offsets."</div>
                })}
            </section>
            <section class="card">
                <h2>"Members"</h2>
                {move || detail.with(|d| match d {
                    Some(d) if !d.members.is_empty() => view! {
                        <table class="table" data-testid="member-table">
                            <thead>
                                <tr>
                                    <th>"Member"</th>
                                    <th>"Client id"</th>
                                    <th>"Host"</th>
                                    <th>"Assignment"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {d.members.iter().map(|m| view! {
                                    <tr>
                                        <td class="mono small">{m.member_id.clone()}</td>
                                        <td class="mono">{m.client_id.clone()}</td>
                                        <td class="mono">{m.client_host.clone()}</td>
                                        <td class="mono small">{m.assignment.iter().map(|tp| format!("{}-{}", tp.topic, tp.partition)).collect::<Vec<_>>().join(", ")}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    _ => view! { <div class="muted small pad">"No active members."</div> }.into_any(),
                })}
            </section>
            {move || resetting.get().then(|| view! { <ResetDialog group=group.get_untracked() detail=detail open=resetting on_done=reload/> })}
            {
                let delete = delete.clone();
                move || {
                    let delete = delete.clone();
                    deleting.get().then(|| view! {
                        <div class="modal-backdrop" on:click=move |_| deleting.set(false)>
                            <div class="modal" data-testid="delete-group-dialog" on:click=|ev| ev.stop_propagation()>
                                <h2>"Delete consumer group"</h2>
                                <p>"Delete " <b class="mono">{group.get_untracked()}</b> " and all its committed offsets?"</p>
                                <div class="modal-actions">
                                    <button class="btn" on:click=move |_| deleting.set(false)>"Cancel"</button>
                                    <button class="btn btn-danger" data-testid="delete-group-confirm" on:click=move |_| { deleting.set(false); delete(); }>"Delete group"</button>
                                </div>
                            </div>
                        </div>
                    })
                }
            }
        </div>
    }
}

#[component]
fn ResetDialog(
    group: String,
    detail: RwSignal<Option<Detail>>,
    open: RwSignal<bool>,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let cluster = cluster();
    let topic = RwSignal::new(String::new());
    let partition = RwSignal::new(String::new());
    let to = RwSignal::new("earliest".to_string());
    let offset = RwSignal::new("0".to_string());
    let when = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    close_on_escape(move || open.set(false));
    let topics = move || {
        detail.with(|d| {
            let mut t: Vec<String> = d
                .iter()
                .flat_map(|d| d.offsets.iter().map(|o| o.topic.clone()))
                .collect();
            t.dedup();
            t
        })
    };
    let partitions = move || {
        let t = topic.get();
        detail.with(|d| {
            d.iter()
                .flat_map(|d| {
                    d.offsets
                        .iter()
                        .filter(|o| o.topic == t)
                        .map(|o| o.partition)
                })
                .collect::<Vec<_>>()
        })
    };
    let submit = move || {
        let target = match to.get_untracked().as_str() {
            "latest" => ResetTo::Latest,
            "timestamp" => {
                let ms = js_sys::Date::parse(&when.get_untracked());
                if ms.is_nan() {
                    toasts().error("Pick a date and time");
                    return;
                }
                ResetTo::Timestamp {
                    timestamp_ms: ms as i64,
                }
            }
            "offset" => match offset.get_untracked().trim().parse() {
                Ok(o) => ResetTo::Offset { offset: o },
                Err(_) => {
                    toasts().error("The offset must be a number");
                    return;
                }
            },
            _ => ResetTo::Earliest,
        };
        let t = topic.get_untracked();
        let body = ResetOffsets {
            topic: (!t.is_empty()).then_some(t.clone()),
            partition: if t.is_empty() {
                None
            } else {
                partition.get_untracked().parse().ok()
            },
            to: target,
        };
        let c = api::enc(&cluster.get_untracked());
        let g = api::enc(&group);
        busy.set(true);
        leptos::task::spawn_local(async move {
            let res = api::post::<_, Vec<GroupOffset>>(&paths::group_reset(&c, &g), &body).await;
            busy.set(false);
            match res {
                Ok(v) => {
                    open.set(false);
                    toasts().ok(format!(
                        "Reset {} partition offset{}",
                        v.len(),
                        if v.len() == 1 { "" } else { "s" }
                    ));
                    on_done();
                }
                Err(e) => toasts().error(e),
            }
        });
    };
    view! {
        <div class="modal-backdrop" on:click=move |_| open.set(false)>
            <div class="modal" data-testid="reset-dialog" on:click=|ev| ev.stop_propagation()>
                <h2>"Reset offsets"</h2>
                <p class="muted">"Moves the group's committed offsets. Its consumers start from there when they rejoin."</p>
                <div class="form-row">
                    <label class="field">
                        <span>"Topic"</span>
                        <select data-testid="reset-topic" prop:value=move || topic.get() on:change=move |ev| { topic.set(event_target_value(&ev)); partition.set(String::new()); }>
                            <option value="">"All topics"</option>
                            {move || topics().into_iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label class="field">
                        <span>"Partition"</span>
                        <select data-testid="reset-partition" disabled=move || topic.get().is_empty() prop:value=move || partition.get() on:change=move |ev| partition.set(event_target_value(&ev))>
                            <option value="">"All partitions"</option>
                            {move || partitions().into_iter().map(|p| view! { <option value=p.to_string()>{p}</option> }).collect_view()}
                        </select>
                    </label>
                </div>
                <label class="field">
                    <span>"Reset to"</span>
                    <select data-testid="reset-to" prop:value=move || to.get() on:change=move |ev| to.set(event_target_value(&ev))>
                        <option value="earliest">"Earliest"</option>
                        <option value="latest">"Latest"</option>
                        <option value="timestamp">"Timestamp"</option>
                        <option value="offset">"Specific offset"</option>
                    </select>
                </label>
                <Show when=move || to.get() == "offset">
                    <label class="field">
                        <span>"Offset"</span>
                        <input type="number" min="0" class="mono" data-testid="reset-offset" prop:value=move || offset.get() on:input=move |ev| offset.set(event_target_value(&ev))/>
                    </label>
                </Show>
                <Show when=move || to.get() == "timestamp">
                    <label class="field">
                        <span>"Timestamp"</span>
                        <input type="datetime-local" step="1" prop:value=move || when.get() on:input=move |ev| when.set(event_target_value(&ev))/>
                    </label>
                </Show>
                <div class="modal-actions">
                    <button class="btn" on:click=move |_| open.set(false)>"Cancel"</button>
                    <button class="btn btn-primary" data-testid="reset-submit" disabled=move || busy.get() on:click=move |_| submit()>
                        "Reset"
                    </button>
                </div>
            </div>
        </div>
    }
}
