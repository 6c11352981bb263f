//! Schemas: the subjects of the selected cluster's schema registry, a subject's versions,
//! settings and deletion, the editor for new subjects and new versions, and the diff of two
//! versions with their compatibility verdicts.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::NavigateOptions;
use serde::Deserialize;
use serde_json::{json, Value};
use sluice_api::{
    paths, CompatibilityVerdict, DecodedData, SchemaComparison, SchemaReference, SubjectSummary,
    TopicSummary,
};

use crate::api::{self, Method, RegError};
use crate::app::{close_on_escape, cluster, Clusters};
use crate::diff::SideBySide;
use crate::highlight::{lang_of, CodeView};
use crate::schema_editor::{pretty_schema, reason_view, template, SchemaEditor};
use crate::topics::focus_when_mounted;
use crate::util::{blur_on_escape, list_keys, toasts, Empty};

pub const COMPATIBILITY_LEVELS: [&str; 7] = [
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
    "NONE",
];
pub const MODES: [&str; 3] = ["READWRITE", "READONLY", "IMPORT"];

pub fn subject_href(s: &str) -> String {
    format!("/schemas/subjects/{}", api::enc(s))
}

/// `AVRO`, `PROTOBUF`, `JSON` as a coloured badge.
#[component]
pub fn TypeBadge(#[prop(into)] schema_type: String) -> impl IntoView {
    let t = if schema_type.is_empty() {
        "AVRO".to_string()
    } else {
        schema_type.to_uppercase()
    };
    let cls = match t.as_str() {
        "PROTOBUF" => "fmt-badge fmt-proto",
        "JSON" => "fmt-badge fmt-json",
        _ => "fmt-badge fmt-avro",
    };
    view! { <span class=cls data-testid="type-badge">{t}</span> }
}

/// `AVRO · orders-value v2 · id 3`
pub fn schema_badge_text(d: &DecodedData) -> String {
    let mut parts = vec![d.schema_type.clone()];
    match (&d.subject, d.version) {
        (Some(s), Some(v)) => parts.push(format!("{s} v{v}")),
        (Some(s), None) => parts.push(s.clone()),
        _ => {}
    }
    parts.push(format!("id {}", d.schema_id));
    parts.join(" · ")
}

/// The schema a value was read (or is written) with, as one badge.
#[component]
pub fn SchemaBadge(decoded: DecodedData, #[prop(optional)] testid: &'static str) -> impl IntoView {
    let cls = if decoded.error.is_some() {
        "schema-badge schema-badge-bad"
    } else {
        match decoded.schema_type.as_str() {
            "PROTOBUF" => "schema-badge fmt-proto",
            "JSON" => "schema-badge fmt-json",
            _ => "schema-badge fmt-avro",
        }
    };
    view! { <span class=cls data-testid=testid>{schema_badge_text(&decoded)}</span> }
}

// ---------------------------------------------------------------------------------------
// Registry data
// ---------------------------------------------------------------------------------------

/// One version as Confluent's `GET subjects/{s}/versions/{v}` gives it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionInfo {
    pub subject: String,
    pub version: i32,
    pub id: u32,
    #[serde(default)]
    pub schema_type: Option<String>,
    pub schema: String,
    #[serde(default)]
    pub references: Vec<SchemaReference>,
}

impl VersionInfo {
    pub fn schema_type(&self) -> String {
        self.schema_type.clone().unwrap_or_else(|| "AVRO".into())
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Version {
    info: VersionInfo,
    deleted: bool,
}

#[derive(Clone, Debug, PartialEq)]
struct SubjectData {
    /// Newest first, soft-deleted ones included.
    versions: Vec<Version>,
    own_compat: Option<String>,
    global_compat: String,
    own_mode: Option<String>,
    global_mode: String,
}

impl SubjectData {
    fn latest_live(&self) -> Option<&VersionInfo> {
        self.versions.iter().find(|v| !v.deleted).map(|v| &v.info)
    }
    fn all_deleted(&self) -> bool {
        self.versions.iter().all(|v| v.deleted)
    }
}

fn field_str(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

async fn load_subject(c: &str, s: &str) -> Result<SubjectData, RegError> {
    let es = api::enc(s);
    let all: Vec<i32> = api::registry(
        Method::Get,
        c,
        &format!("subjects/{es}/versions?deleted=true"),
        None,
    )
    .await?;
    let live: Vec<i32> =
        match api::registry(Method::Get, c, &format!("subjects/{es}/versions"), None).await {
            Ok(v) => v,
            Err(e) if e.is(40401) || e.is(40404) => Vec::new(),
            Err(e) => return Err(e),
        };
    let mut versions = Vec::new();
    for v in all.iter().rev() {
        let info: VersionInfo = api::registry(
            Method::Get,
            c,
            &format!("subjects/{es}/versions/{v}?deleted=true"),
            None,
        )
        .await?;
        versions.push(Version {
            info,
            deleted: !live.contains(v),
        });
    }
    let optional = |r: Result<Value, RegError>, key: &str| -> Result<Option<String>, RegError> {
        match r {
            Ok(v) => Ok(field_str(&v, key)),
            Err(e) if e.status == 404 && e.error_code.is_some() => Ok(None),
            Err(e) => Err(e),
        }
    };
    let own_compat = optional(
        api::registry(Method::Get, c, &format!("config/{es}"), None).await,
        "compatibilityLevel",
    )?;
    let global: Value = api::registry(Method::Get, c, "config", None).await?;
    let own_mode = optional(
        api::registry(Method::Get, c, &format!("mode/{es}"), None).await,
        "mode",
    )?;
    let global_mode: Value = api::registry(Method::Get, c, "mode", None).await?;
    Ok(SubjectData {
        versions,
        own_compat,
        global_compat: field_str(&global, "compatibilityLevel")
            .unwrap_or_else(|| "BACKWARD".into()),
        own_mode,
        global_mode: field_str(&global_mode, "mode").unwrap_or_else(|| "READWRITE".into()),
    })
}

/// The "this cluster has no registry" state, pointing at Settings.
#[component]
fn NoRegistry() -> impl IntoView {
    let c = expect_context::<Clusters>();
    let name = move || {
        c.all.with(|all| {
            all.iter()
                .find(|x| x.id == c.current.get())
                .map(|x| x.name.clone())
                .unwrap_or_else(|| c.current.get())
        })
    };
    view! {
        <div class="empty" data-testid="no-registry">
            <div class="empty-title">"No schema registry"</div>
            <div class="empty-text">
                "The cluster " <b>{name}</b> " has no schema registry URL, so there are no subjects to show. "
                "Each cluster's registry is listed in Settings; add the cluster again with its registry URL "
                "(for example http://registry:8081) to browse and edit its schemas."
            </div>
            <a class="btn" href="/settings" style="margin-top:14px">"Open Settings"</a>
        </div>
    }
}

// ---------------------------------------------------------------------------------------
// The list of subjects
// ---------------------------------------------------------------------------------------

#[component]
pub fn SubjectList() -> impl IntoView {
    let cluster = cluster();
    let subjects = RwSignal::new(None::<Vec<SubjectSummary>>);
    let error = RwSignal::new(None::<RegError>);
    let search = RwSignal::new(String::new());
    let show_deleted = RwSignal::new(false);
    let selected = RwSignal::new(None::<usize>);
    let search_ref = NodeRef::<leptos::html::Input>::new();
    let navigate = use_navigate();

    let reload = move || {
        let c = cluster.get_untracked();
        let deleted = show_deleted.get_untracked();
        leptos::task::spawn_local(async move {
            let url = format!(
                "{}{}",
                paths::subjects(&api::enc(&c)),
                if deleted { "?deleted=true" } else { "" }
            );
            match api::call::<Vec<SubjectSummary>>(Method::Get, &url, None).await {
                Ok(v) => {
                    let _ = error.try_set(None);
                    let _ = subjects.try_set(Some(v));
                }
                Err(e) => {
                    let _ = subjects.try_set(Some(Vec::new()));
                    let _ = error.try_set(Some(e));
                }
            }
        });
    };
    Effect::new(move |_| {
        cluster.track();
        show_deleted.track();
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
        subjects.with(|s| {
            let mut v: Vec<SubjectSummary> = s
                .iter()
                .flatten()
                .filter(|x| x.subject.to_lowercase().contains(&q))
                .cloned()
                .collect();
            v.sort_by(|a, b| a.subject.cmp(&b.subject));
            v
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
                if let Some(s) = visible.with_untracked(|v| v.get(i).cloned()) {
                    navigate(&subject_href(&s.subject), NavigateOptions::default());
                }
            },
            Some(search_ref),
        );
    }
    let nav_new = navigate.clone();

    view! {
        <div class="page" data-testid="schemas">
            <div class="page-head">
                <h1>"Schemas"</h1>
                <div class="row-gap">
                    <input
                        node_ref=search_ref
                        class="search"
                        type="search"
                        placeholder="Search subjects   /"
                        data-testid="subject-search"
                        prop:value=move || search.get()
                        on:input=move |ev| search.set(event_target_value(&ev))
                        on:keydown=move |ev| blur_on_escape(&ev)
                    />
                    <label class="check">
                        <input type="checkbox" data-testid="show-deleted" prop:checked=move || show_deleted.get() on:change=move |ev| show_deleted.set(event_target_checked(&ev))/>
                        "show deleted"
                    </label>
                    <button class="btn btn-primary" data-testid="new-subject" on:click=move |_| nav_new("/schemas/new", NavigateOptions::default())>
                        "+ New subject"
                    </button>
                </div>
            </div>
            {move || {
                if let Some(e) = error.get() {
                    return if e.no_registry() {
                        view! { <NoRegistry/> }.into_any()
                    } else {
                        view! {
                            <div class="banner banner-error" data-testid="schemas-error">
                                {format!("The schema registry did not answer: {e}")}
                            </div>
                        }
                            .into_any()
                    };
                }
                if subjects.with(|s| s.is_none()) {
                    return view! { <div class="loading">"Loading subjects…"</div> }.into_any();
                }
                if visible.with(|v| v.is_empty()) {
                    return if search.with(|s| s.is_empty()) {
                        view! { <Empty title="No subjects yet" text="Register a schema with “New subject”, or let a serializer register one when it first produces."/> }.into_any()
                    } else {
                        view! { <Empty title="No match" text=format!("No subject name contains “{}”.", search.get())/> }.into_any()
                    };
                }
                let navigate = navigate.clone();
                view! {
                    <table class="table table-hover" data-testid="subject-table">
                        <thead>
                            <tr>
                                <th>"Subject"</th>
                                <th>"Format"</th>
                                <th class="num">"Latest"</th>
                                <th class="num">"Id"</th>
                                <th class="num">"Versions"</th>
                                <th>"Compatibility"</th>
                                <th>"Mode"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {move || {
                                let navigate = navigate.clone();
                                visible.get().into_iter().enumerate().map(|(i, s)| {
                                    let href = subject_href(&s.subject);
                                    let navigate = navigate.clone();
                                    let row_class = move || {
                                        let mut c = String::new();
                                        if selected.get() == Some(i) { c.push_str("selected"); }
                                        if s.deleted { c.push_str(" row-deleted"); }
                                        c
                                    };
                                    view! {
                                        <tr
                                            class=row_class
                                            data-testid="subject-row"
                                            data-subject=s.subject.clone()
                                            on:click=move |_| {
                                                selected.set(Some(i));
                                                navigate(&href, NavigateOptions::default());
                                            }
                                        >
                                            <td class="mono strong">
                                                <span class="subject-name">{s.subject.clone()}</span>
                                                {s.deleted.then(|| view! { <span class="pill pill-bad">"deleted"</span> })}
                                            </td>
                                            <td><TypeBadge schema_type=s.schema_type.clone()/></td>
                                            <td class="num mono">{s.latest_version}</td>
                                            <td class="num mono">{s.latest_id}</td>
                                            <td class="num mono">{s.version_count}</td>
                                            <td data-testid="subject-compat">
                                                {if s.compatibility_overridden {
                                                    view! {
                                                        <span class="mono strong">{s.compatibility.clone()}</span>
                                                        <span class="pill pill-neutral" title="Set on this subject, overriding the global level">"subject"</span>
                                                    }.into_any()
                                                } else {
                                                    view! { <span class="mono muted" title="The global level">{s.compatibility.clone()}</span> }.into_any()
                                                }}
                                            </td>
                                            <td>
                                                {if s.mode == "READWRITE" {
                                                    view! { <span class="mono muted">{s.mode.clone()}</span> }.into_any()
                                                } else {
                                                    view! { <span class="pill pill-warn">{s.mode.clone()}</span> }.into_any()
                                                }}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()
                            }}
                        </tbody>
                    </table>
                }
                    .into_any()
            }}
            <div class="footnote muted small">"↑↓ or j k to move · Enter to open · / to search"</div>
        </div>
    }
}

// ---------------------------------------------------------------------------------------
// A new subject
// ---------------------------------------------------------------------------------------

#[component]
pub fn NewSubject() -> impl IntoView {
    let cluster = cluster();
    let navigate = use_navigate();
    let suggestions = RwSignal::new(None::<Vec<String>>);
    leptos::task::spawn_local(async move {
        let c = cluster.get_untracked();
        let topics = api::get::<Vec<TopicSummary>>(&paths::topics(&api::enc(&c)))
            .await
            .unwrap_or_default();
        let mut v = Vec::new();
        for t in topics.iter().filter(|t| !t.internal) {
            v.push(format!("{}-value", t.name));
            v.push(format!("{}-key", t.name));
        }
        let _ = suggestions.try_set(Some(v));
    });
    view! {
        <div class="page page-wide" data-testid="new-subject-page">
            <div class="page-head">
                <div>
                    <div class="crumbs"><a href="/schemas">"Schemas"</a>" / "</div>
                    <h1>"New subject"</h1>
                </div>
                <span class="muted small">"Topic subjects are named " <span class="mono">"<topic>-value"</span> " and " <span class="mono">"<topic>-key"</span></span>
            </div>
            {move || suggestions.get().map(|s| {
                let navigate = navigate.clone();
                view! {
                    <SchemaEditor
                        subject=None
                        schema_type="AVRO".to_string()
                        schema=template("AVRO").to_string()
                        references=vec![]
                        suggestions=s
                        on_registered=move |subject, _version| {
                            navigate(&subject_href(&subject), NavigateOptions::default());
                        }
                    />
                }
            })}
        </div>
    }
}

// ---------------------------------------------------------------------------------------
// A subject
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Tab {
    Versions,
    Evolve,
    Diff,
}

impl Tab {
    fn from(s: &str) -> Tab {
        match s {
            "evolve" => Tab::Evolve,
            "diff" => Tab::Diff,
            _ => Tab::Versions,
        }
    }
    fn slug(self) -> &'static str {
        match self {
            Tab::Versions => "versions",
            Tab::Evolve => "evolve",
            Tab::Diff => "diff",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Tab::Versions => "Versions",
            Tab::Evolve => "Evolve",
            Tab::Diff => "Diff",
        }
    }
}

/// A destructive action waiting for confirmation.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Pending {
    SoftVersion(i32),
    HardVersion(i32),
    SoftSubject,
    HardSubject,
}

#[component]
pub fn SubjectDetail() -> impl IntoView {
    let params = use_params_map();
    let subject = Memo::new(move |_| params.with(|p| p.get("subject").unwrap_or_default()));
    let tab = Memo::new(move |_| Tab::from(&params.with(|p| p.get("tab").unwrap_or_default())));
    let cluster = cluster();
    let data = RwSignal::new(None::<SubjectData>);
    let error = RwSignal::new(None::<RegError>);
    let selected = RwSignal::new(None::<i32>);
    let pending = RwSignal::new(None::<Pending>);
    let navigate = use_navigate();

    let reload = move || {
        let Some(s) = subject.try_get_untracked() else {
            return;
        };
        let c = cluster.get_untracked();
        leptos::task::spawn_local(async move {
            let res = load_subject(&c, &s).await;
            match res {
                Ok(d) => {
                    let _ = error.try_set(None);
                    let _ = data.try_set(Some(d));
                }
                Err(e) => {
                    let _ = error.try_set(Some(e));
                }
            }
        });
    };
    Effect::new(move |_| {
        cluster.track();
        subject.track();
        data.set(None);
        error.set(None);
        selected.set(None);
        reload();
    });
    let loaded = Memo::new(move |_| data.with(|d| d.is_some()));

    let act = {
        let navigate = navigate.clone();
        move |p: Pending| {
            let c = cluster.get_untracked();
            let s = subject.get_untracked();
            let es = api::enc(&s);
            let (path, done) = match p {
                Pending::SoftVersion(v) => (
                    format!("subjects/{es}/versions/{v}"),
                    format!("Version {v} of {s} deleted (soft)"),
                ),
                Pending::HardVersion(v) => (
                    format!("subjects/{es}/versions/{v}?permanent=true"),
                    format!("Version {v} of {s} deleted permanently"),
                ),
                Pending::SoftSubject => (format!("subjects/{es}"), format!("{s} deleted (soft)")),
                Pending::HardSubject => (
                    format!("subjects/{es}?permanent=true"),
                    format!("{s} deleted permanently"),
                ),
            };
            let navigate = navigate.clone();
            leptos::task::spawn_local(async move {
                match api::registry::<Value>(Method::Delete, &c, &path, None).await {
                    Ok(_) => {
                        toasts().ok(done);
                        let _ = pending.try_set(None);
                        let gone = match p {
                            Pending::HardSubject => true,
                            Pending::HardVersion(_) => data
                                .try_with_untracked(|d| d.as_ref().map(|d| d.versions.len() <= 1))
                                .flatten()
                                .unwrap_or(false),
                            _ => false,
                        };
                        if gone {
                            navigate("/schemas", NavigateOptions::default());
                        } else {
                            reload();
                        }
                    }
                    Err(e) => toasts().error(e.message),
                }
            });
        }
    };

    let tabs = [Tab::Versions, Tab::Evolve, Tab::Diff];
    let nav_tabs = navigate.clone();
    view! {
        <div class="page page-wide" data-testid="subject-detail">
            <div class="page-head">
                <div>
                    <div class="crumbs"><a href="/schemas">"Schemas"</a>" / "</div>
                    <h1 class="mono row-gap" data-testid="subject-title">
                        {move || subject.get()}
                        {move || data.with(|d| d.as_ref().and_then(|d| d.versions.first().map(|v| v.info.schema_type()))).map(|t| view! { <TypeBadge schema_type=t/> })}
                        {move || data.with(|d| d.as_ref().is_some_and(|d| d.all_deleted())).then(|| view! { <span class="pill pill-bad">"deleted"</span> })}
                    </h1>
                </div>
                <div class="row-gap">
                    {move || data.with(|d| d.as_ref().map(|d| {
                        let live = d.versions.iter().filter(|v| !v.deleted).count();
                        view! { <span class="muted small">{format!("{} version{} · {} live", d.versions.len(), if d.versions.len() == 1 { "" } else { "s" }, live)}</span> }
                    }))}
                    {move || data.with(|d| d.as_ref().map(|d| d.all_deleted())).map(|deleted| if deleted {
                        view! {
                            <button class="btn btn-danger" data-testid="hard-delete-subject" on:click=move |_| pending.set(Some(Pending::HardSubject))>
                                "Delete permanently"
                            </button>
                        }.into_any()
                    } else {
                        view! {
                            <button class="btn btn-ghost btn-danger-text" data-testid="delete-subject" on:click=move |_| pending.set(Some(Pending::SoftSubject))>
                                "Delete subject"
                            </button>
                        }.into_any()
                    })}
                </div>
            </div>
            <div class="tabs" role="tablist">
                {tabs.into_iter().map(|t| {
                    let navigate = nav_tabs.clone();
                    view! {
                        <button
                            role="tab"
                            class=move || if tab.get() == t { "tab active" } else { "tab" }
                            data-testid=format!("subject-tab-{}", t.slug())
                            on:click=move |_| {
                                let href = format!("{}/{}", subject_href(&subject.get_untracked()), t.slug());
                                navigate(&href, NavigateOptions { replace: true, ..Default::default() });
                            }
                        >
                            {t.label()}
                        </button>
                    }
                }).collect_view()}
            </div>
            {move || error.get().map(|e| view! {
                <div class="banner banner-error" data-testid="subject-error">
                    {if e.no_registry() { "This cluster has no schema registry URL (see Settings).".to_string() } else { e.message }}
                </div>
            })}
            {move || {
                if !loaded.get() {
                    return error.with(|e| e.is_none()).then(|| view! { <div class="loading">"Loading the subject…"</div> }.into_any());
                }
                let s = subject.get_untracked();
                Some(match tab.get() {
                    Tab::Versions => view! { <VersionsTab subject=s data=data selected=selected pending=pending reload=reload/> }.into_any(),
                    Tab::Evolve => {
                        let latest = data.with_untracked(|d| d.as_ref().and_then(|d| d.latest_live().cloned()));
                        let (st, text, refs) = match latest {
                            Some(v) => (v.schema_type(), pretty_schema(&v.schema_type(), &v.schema), v.references.clone()),
                            None => ("AVRO".to_string(), template("AVRO").to_string(), vec![]),
                        };
                        view! {
                            <SchemaEditor
                                subject=Some(s)
                                schema_type=st
                                schema=text + "\n"
                                references=refs
                                on_registered=move |_subject, version| {
                                    if let Some(v) = version {
                                        let _ = selected.try_set(Some(v as i32));
                                    }
                                    reload();
                                }
                            />
                        }.into_any()
                    }
                    Tab::Diff => view! { <DiffTab subject=s data=data/> }.into_any(),
                })
            }}
            {
                let act = act.clone();
                move || pending.get().map(|p| {
                    let s = subject.get_untracked();
                    let (title, body, label, typed) = match p {
                        Pending::SoftVersion(v) => (
                            format!("Delete version {v}"),
                            format!("Soft-delete version {v} of {s}? Serializers stop using it, data written with it still reads (its id stays), and it can then be deleted permanently."),
                            "Delete version".to_string(),
                            None,
                        ),
                        Pending::HardVersion(v) => (
                            format!("Delete version {v} permanently"),
                            format!("This removes version {v} of {s} and its id for good: messages written with it can no longer be decoded through the registry. Type the subject's name to confirm."),
                            "Delete permanently".to_string(),
                            Some(s.clone()),
                        ),
                        Pending::SoftSubject => (
                            "Delete subject".to_string(),
                            format!("Soft-delete every version of {s}? The schemas stay readable by id, the subject can be registered again, and it can then be deleted permanently."),
                            "Delete subject".to_string(),
                            None,
                        ),
                        Pending::HardSubject => (
                            "Delete subject permanently".to_string(),
                            format!("This removes {s} and every schema id only it uses, for good. Type the subject's name to confirm."),
                            "Delete permanently".to_string(),
                            Some(s.clone()),
                        ),
                    };
                    let act = act.clone();
                    view! {
                        <ConfirmDialog
                            title=title
                            body=body
                            confirm_label=label
                            type_to_confirm=typed
                            close=move || pending.set(None)
                            on_confirm=move || act(p)
                        />
                    }
                })
            }
        </div>
    }
}

/// A confirmation dialog; with `type_to_confirm`, the button waits until that is typed.
#[component]
fn ConfirmDialog(
    title: String,
    body: String,
    confirm_label: String,
    type_to_confirm: Option<String>,
    close: impl Fn() + Copy + Send + Sync + 'static,
    on_confirm: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    close_on_escape(close);
    let first = focus_when_mounted();
    let expected = type_to_confirm.clone();
    let ok = move || {
        expected
            .as_ref()
            .map(|e| typed.with(|t| t == e))
            .unwrap_or(true)
    };
    let ok2 = ok.clone();
    let submit = move || {
        busy.set(true);
        on_confirm();
    };
    view! {
        <div class="modal-backdrop" on:click=move |_| close()>
            <div class="modal" data-testid="confirm-dialog" on:click=|ev| ev.stop_propagation()>
                <h2>{title}</h2>
                <p>{body}</p>
                <form on:submit=move |ev| {
                    ev.prevent_default();
                    if ok2() {
                        submit();
                    }
                }>
                    {type_to_confirm.map(|name| view! {
                        <input
                            type="text"
                            class="mono"
                            node_ref=first
                            data-testid="confirm-input"
                            placeholder=name
                            prop:value=move || typed.get()
                            on:input=move |ev| typed.set(event_target_value(&ev))
                        />
                    })}
                    <div class="modal-actions">
                        <button type="button" class="btn" on:click=move |_| close()>"Cancel"</button>
                        <button type="submit" class="btn btn-danger" data-testid="confirm-submit" disabled=move || !ok() || busy.get()>
                            {confirm_label}
                        </button>
                    </div>
                </form>
            </div>
        </div>
    }
}

#[component]
fn VersionsTab(
    subject: String,
    data: RwSignal<Option<SubjectData>>,
    selected: RwSignal<Option<i32>>,
    pending: RwSignal<Option<Pending>>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let cluster = cluster();
    let navigate = use_navigate();
    let subject = StoredValue::new(subject);
    let versions = Memo::new(move |_| {
        data.with(|d| d.as_ref().map(|d| d.versions.clone()).unwrap_or_default())
    });
    // The keyboard moves an index; the page remembers the version number.
    let idx = RwSignal::new(None::<usize>);
    Effect::new(move |_| {
        let vs = versions.get();
        let want = selected.get_untracked();
        let i = want
            .and_then(|w| vs.iter().position(|v| v.info.version == w))
            .or(if vs.is_empty() { None } else { Some(0) });
        idx.set(i);
    });
    Effect::new(move |_| {
        if let Some(i) = idx.get() {
            if let Some(v) = versions.with_untracked(|vs| vs.get(i).map(|v| v.info.version)) {
                selected.set(Some(v));
            }
        }
    });
    list_keys(
        move || versions.with_untracked(|v| v.len()),
        idx,
        |_| {},
        None,
    );
    let current = Memo::new(move |_| {
        let i = idx.get()?;
        versions.with(|vs| vs.get(i).cloned())
    });

    // Who references the selected version: ids, then the subjects and versions holding them.
    let referenced_by = RwSignal::new(None::<Vec<(String, i32)>>);
    Effect::new(move |_| {
        let Some(v) = current.with(|c| c.as_ref().map(|c| c.info.version)) else {
            return;
        };
        let c = cluster.get_untracked();
        let es = api::enc(&subject.get_value());
        referenced_by.set(None);
        leptos::task::spawn_local(async move {
            let ids: Vec<u32> = api::registry(
                Method::Get,
                &c,
                &format!("subjects/{es}/versions/{v}/referencedby"),
                None,
            )
            .await
            .unwrap_or_default();
            let mut out = Vec::new();
            for id in ids {
                let holders: Vec<Value> =
                    api::registry(Method::Get, &c, &format!("schemas/ids/{id}/versions"), None)
                        .await
                        .unwrap_or_default();
                for h in holders {
                    if let (Some(s), Some(v)) = (
                        field_str(&h, "subject"),
                        h.get("version").and_then(Value::as_i64),
                    ) {
                        out.push((s, v as i32));
                    }
                }
            }
            let _ = referenced_by.try_set(Some(out));
        });
    });

    let set_config = move |kind: &'static str, value: String| {
        let c = cluster.get_untracked();
        let s = subject.get_value();
        let path = format!("{kind}/{}", api::enc(&s));
        leptos::task::spawn_local(async move {
            let res = if value.is_empty() {
                api::registry::<Value>(Method::Delete, &c, &path, None).await
            } else {
                let body = if kind == "config" {
                    json!({ "compatibility": value })
                } else {
                    json!({ "mode": value })
                };
                api::registry::<Value>(Method::Put, &c, &path, Some(body)).await
            };
            match res {
                Ok(_) => {
                    let what = if kind == "config" {
                        "Compatibility"
                    } else {
                        "Mode"
                    };
                    toasts().ok(if value.is_empty() {
                        format!("{what} of {s} follows the global setting")
                    } else {
                        format!("{what} of {s} set to {value}")
                    });
                }
                Err(e) => toasts().error(e.message),
            }
            reload();
        });
    };

    let nav_evolve = navigate.clone();
    view! {
        <div class="schema-grid">
            <div class="schema-side">
                <div class="card">
                    <div class="card-head"><h2>"Versions"</h2></div>
                    <table class="table table-hover compact" data-testid="version-table">
                        <thead>
                            <tr>
                                <th class="num">"Version"</th>
                                <th class="num">"Id"</th>
                                <th>"Type"</th>
                                <th></th>
                            </tr>
                        </thead>
                        <tbody>
                            {move || versions.get().into_iter().enumerate().map(|(i, v)| {
                                view! {
                                    <tr
                                        class=move || {
                                            let mut c = String::new();
                                            if idx.get() == Some(i) { c.push_str("selected"); }
                                            if v.deleted { c.push_str(" row-deleted"); }
                                            c
                                        }
                                        data-testid="version-row"
                                        data-version=v.info.version
                                        on:click=move |_| idx.set(Some(i))
                                    >
                                        <td class="num mono strong">{v.info.version}</td>
                                        <td class="num mono">{v.info.id}</td>
                                        <td><TypeBadge schema_type=v.info.schema_type()/></td>
                                        <td class="num">{v.deleted.then(|| view! { <span class="pill pill-bad">"deleted"</span> })}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <div class="card" data-testid="subject-settings">
                    <h2>"Settings"</h2>
                    {move || data.get().map(|d| {
                        let own_c = d.own_compat.clone().unwrap_or_default();
                        let own_m = d.own_mode.clone().unwrap_or_default();
                        view! {
                            <label class="field">
                                <span>"Compatibility"</span>
                                <select data-testid="compat-select" prop:value=own_c.clone() on:change=move |ev| set_config("config", event_target_value(&ev))>
                                    <option value="" selected=own_c.is_empty()>{format!("Inherit global ({})", d.global_compat)}</option>
                                    {COMPATIBILITY_LEVELS.iter().map(|l| view! { <option value=*l selected=own_c == *l>{*l}</option> }).collect_view()}
                                </select>
                            </label>
                            <div class="muted small setting-note">
                                {if d.own_compat.is_some() { "Set on this subject.".to_string() } else { format!("Follows the global level, {}.", d.global_compat) }}
                            </div>
                            <label class="field">
                                <span>"Mode"</span>
                                <select data-testid="mode-select" prop:value=own_m.clone() on:change=move |ev| set_config("mode", event_target_value(&ev))>
                                    <option value="" selected=own_m.is_empty()>{format!("Inherit global ({})", d.global_mode)}</option>
                                    {MODES.iter().map(|m| view! { <option value=*m selected=own_m == *m>{*m}</option> }).collect_view()}
                                </select>
                            </label>
                        }
                    })}
                </div>
            </div>
            <div class="card schema-card">
                {move || match current.get() {
                    None => view! { <Empty title="No versions" text="This subject has no versions left."/> }.into_any(),
                    Some(v) => {
                        let st = v.info.schema_type();
                        let text = pretty_schema(&st, &v.info.schema);
                        let lang = lang_of(&st);
                        let version = v.info.version;
                        let nav = nav_evolve.clone();
                        let copy_text = text.clone();
                        view! {
                            <div class="card-head">
                                <h2 class="row-gap" data-testid="version-title">
                                    {format!("Version {} · id {}", v.info.version, v.info.id)}
                                    <TypeBadge schema_type=st.clone()/>
                                    {v.deleted.then(|| view! { <span class="pill pill-bad">"soft-deleted"</span> })}
                                </h2>
                                <div class="row-gap">
                                    <button class="btn btn-ghost btn-small" title="Copy the schema" on:click=move |_| {
                                        if let Some(w) = web_sys::window() {
                                            let _ = w.navigator().clipboard().write_text(&copy_text);
                                            toasts().ok("Schema copied");
                                        }
                                    }>"Copy"</button>
                                    {if v.deleted {
                                        view! {
                                            <button class="btn btn-ghost btn-small btn-danger-text" data-testid="hard-delete-version" on:click=move |_| pending.set(Some(Pending::HardVersion(version)))>
                                                "Delete permanently"
                                            </button>
                                        }.into_any()
                                    } else {
                                        view! {
                                            <button class="btn btn-ghost btn-small btn-danger-text" data-testid="delete-version" on:click=move |_| pending.set(Some(Pending::SoftVersion(version)))>
                                                "Delete version"
                                            </button>
                                        }.into_any()
                                    }}
                                    <button class="btn btn-primary btn-small" data-testid="evolve" on:click=move |_| {
                                        nav(&format!("{}/evolve", subject_href(&subject.get_value())), NavigateOptions { replace: true, ..Default::default() });
                                    }>"Evolve…"</button>
                                </div>
                            </div>
                            <CodeView text=text lang=lang testid="schema-view"/>
                            <h4>"References"</h4>
                            {if v.info.references.is_empty() {
                                view! { <div class="muted small">"None: the schema imports nothing from other subjects."</div> }.into_any()
                            } else {
                                view! {
                                    <table class="table compact" data-testid="references">
                                        <thead><tr><th>"Name"</th><th>"Subject"</th><th class="num">"Version"</th></tr></thead>
                                        <tbody>
                                            {v.info.references.iter().map(|r| view! {
                                                <tr>
                                                    <td class="mono">{r.name.clone()}</td>
                                                    <td class="mono"><a href=subject_href(&r.subject)>{r.subject.clone()}</a></td>
                                                    <td class="num mono">{r.version}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                            <h4>"Referenced by"</h4>
                            {move || match referenced_by.get() {
                                None => view! { <div class="muted small">"…"</div> }.into_any(),
                                Some(list) if list.is_empty() => view! { <div class="muted small" data-testid="referenced-by">"No other schema references this version."</div> }.into_any(),
                                Some(list) => view! {
                                    <ul class="plain-list" data-testid="referenced-by">
                                        {list.into_iter().map(|(s, v)| view! {
                                            <li><a class="mono" href=subject_href(&s)>{s.clone()}</a>" " <span class="muted">{format!("v{v}")}</span></li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any(),
                            }}
                        }
                            .into_any()
                    }
                }}
            </div>
        </div>
        <div class="footnote muted small">"↑↓ or j k to move between versions"</div>
    }
}

fn verdict_view(
    name: &'static str,
    testid: &'static str,
    what: String,
    v: CompatibilityVerdict,
) -> impl IntoView {
    let cls = if v.compatible {
        "verdict verdict-ok"
    } else {
        "verdict verdict-bad"
    };
    view! {
        <div class=cls data-testid=testid data-compatible=v.compatible.to_string()>
            <div class="verdict-title">
                {format!("{name} compatible {}", if v.compatible { "✓" } else { "✗" })}
            </div>
            <div class="small muted">{what}</div>
            {(!v.reasons.is_empty()).then(|| view! {
                <ul class="reasons">{v.reasons.into_iter().map(reason_view).collect_view()}</ul>
            })}
        </div>
    }
}

#[component]
fn DiffTab(subject: String, data: RwSignal<Option<SubjectData>>) -> impl IntoView {
    let cluster = cluster();
    let subject = StoredValue::new(subject);
    let versions = Memo::new(move |_| {
        data.with(|d| {
            let mut v: Vec<i32> = d
                .as_ref()
                .map(|d| d.versions.iter().map(|v| v.info.version).collect())
                .unwrap_or_default();
            v.sort();
            v
        })
    });
    let init = versions.get_untracked();
    let n = init.len();
    let from = RwSignal::new(init.get(n.saturating_sub(2)).copied().unwrap_or(1));
    let to = RwSignal::new(init.last().copied().unwrap_or(1));
    let cmp = RwSignal::new(None::<Result<SchemaComparison, String>>);
    let request = StoredValue::new(0u64);
    Effect::new(move |_| {
        let (f, t) = (from.get(), to.get());
        let c = cluster.get_untracked();
        let url = format!(
            "{}{}",
            paths::schema_compare(&api::enc(&c), &api::enc(&subject.get_value())),
            api::query(&[("from", Some(f.to_string())), ("to", Some(t.to_string()))])
        );
        let me = request.get_value() + 1;
        request.set_value(me);
        leptos::task::spawn_local(async move {
            let res = api::get::<SchemaComparison>(&url).await;
            if request.try_get_value() == Some(me) {
                cmp.set(Some(res));
            }
        });
    });
    let picker = move |sig: RwSignal<i32>, label: &'static str, testid: &'static str| {
        view! {
            <label class="qfield">
                <span>{label}</span>
                <select data-testid=testid prop:value=move || sig.get().to_string() on:change=move |ev| {
                    if let Ok(v) = event_target_value(&ev).parse() { sig.set(v); }
                }>
                    {move || versions.get().into_iter().map(|v| view! {
                        <option value=v.to_string() selected=move || sig.get_untracked() == v>{format!("version {v}")}</option>
                    }).collect_view()}
                </select>
            </label>
        }
    };
    view! {
        <div class="diff-page" data-testid="diff-tab">
            <div class="querybar">
                {picker(from, "From", "diff-from")}
                <span class="diff-arrow">"→"</span>
                {picker(to, "To", "diff-to")}
                <button type="button" class="btn btn-ghost" title="Swap" on:click=move |_| {
                    let (f, t) = (from.get_untracked(), to.get_untracked());
                    from.set(t);
                    to.set(f);
                }>"⇄ Swap"</button>
            </div>
            {move || match cmp.get() {
                None => view! { <div class="loading">"Comparing…"</div> }.into_any(),
                Some(Err(e)) => view! { <div class="banner banner-error" data-testid="diff-error">{e}</div> }.into_any(),
                Some(Ok(c)) => {
                    let lang = lang_of(&c.schema_type);
                    let (fv, tv) = (c.from_version, c.to_version);
                    view! {
                        <div class="verdicts" data-testid="verdicts">
                            {verdict_view("Backward", "verdict-backward", format!("v{tv} reads data written with v{fv}"), c.backward)}
                            {verdict_view("Forward", "verdict-forward", format!("v{fv} reads data written with v{tv}"), c.forward)}
                        </div>
                        <SideBySide
                            from=pretty_schema(&c.schema_type, &c.from_schema)
                            to=pretty_schema(&c.schema_type, &c.to_schema)
                            lang=lang
                            from_label=format!("version {fv}")
                            to_label=format!("version {tv}")
                        />
                    }
                        .into_any()
                }
            }}
        </div>
    }
}
