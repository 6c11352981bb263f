//! The shell: navigation, top bar (cluster switcher, theme), routes, Settings and the panels
//! of views still to come.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::path;
use sluice_api::{paths, ClusterInfo, ClusterSecurity, NewCluster, EMBEDDED_CLUSTER};
use wasm_bindgen::JsCast;

use crate::api;
use crate::connector_form::{EditConnector, NewConnector};
use crate::connectors::{ConnectorDetail, ConnectorList};
use crate::groups::{GroupDetail, GroupList};
use crate::overview::Overview;
use crate::schemas::{NewSubject, SubjectDetail, SubjectList};
use crate::sql::SqlView;
use crate::topics::{TopicDetail, TopicList};
use crate::util::{load, provide_toasts, save, toasts, ToastHost};

/// The cluster every view talks to (its id), and the clusters the server knows.
#[derive(Clone, Copy)]
pub struct Clusters {
    pub current: RwSignal<String>,
    pub all: RwSignal<Vec<ClusterInfo>>,
}

pub fn cluster() -> RwSignal<String> {
    expect_context::<Clusters>().current
}

#[derive(Clone, Copy)]
pub struct Theme(pub RwSignal<String>);

fn system_theme() -> &'static str {
    let dark = web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .map(|m| m.matches())
        .unwrap_or(false);
    if dark {
        "dark"
    } else {
        "light"
    }
}

fn apply_theme(t: &str) {
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-theme", t);
    }
}

pub fn set_theme(t: &str) {
    let theme = expect_context::<Theme>().0;
    save("sluice.theme", t);
    theme.set(t.to_string());
}

#[component]
pub fn App() -> impl IntoView {
    provide_toasts();
    let current = load("sluice.cluster").unwrap_or_else(|| EMBEDDED_CLUSTER.to_string());
    let clusters = Clusters {
        current: RwSignal::new(current),
        all: RwSignal::new(Vec::new()),
    };
    provide_context(clusters);
    let theme = Theme(RwSignal::new(
        load("sluice.theme").unwrap_or_else(|| system_theme().to_string()),
    ));
    provide_context(theme);
    Effect::new(move |_| apply_theme(&theme.0.get()));
    Effect::new(move |_| save("sluice.cluster", &clusters.current.get()));
    reload_clusters(clusters);

    view! {
        <Router>
            <div class="shell">
                <Nav/>
                <div class="main">
                    <TopBar/>
                    <main class="content">
                        <Routes fallback=|| view! { <NotFound/> }>
                            <Route path=path!("/") view=Overview/>
                            <Route path=path!("/topics") view=TopicList/>
                            <Route path=path!("/topics/:name") view=TopicDetail/>
                            <Route path=path!("/topics/:name/:tab") view=TopicDetail/>
                            <Route path=path!("/groups") view=GroupList/>
                            <Route path=path!("/groups/:group") view=GroupDetail/>
                            <Route path=path!("/schemas") view=SubjectList/>
                            <Route path=path!("/schemas/new") view=NewSubject/>
                            <Route path=path!("/schemas/subjects/:subject") view=SubjectDetail/>
                            <Route path=path!("/schemas/subjects/:subject/:tab") view=SubjectDetail/>
                            <Route path=path!("/connectors") view=ConnectorList/>
                            <Route path=path!("/connectors/new") view=NewConnector/>
                            <Route path=path!("/connectors/connector/:name") view=ConnectorDetail/>
                            <Route path=path!("/connectors/connector/:name/edit") view=EditConnector/>
                            <Route path=path!("/sql") view=SqlView/>
                            <Route path=path!("/pipelines") view=|| view! { <Coming which=ComingView::Pipelines/> }/>
                            <Route path=path!("/settings") view=Settings/>
                        </Routes>
                    </main>
                </div>
            </div>
            <ToastHost/>
        </Router>
    }
}

/// A cluster's name for people: the embedded one says so once ("Embedded (local)", never
/// "Embedded (local) (embedded)").
pub fn cluster_label(x: &ClusterInfo) -> String {
    let lower = x.name.to_lowercase();
    if x.embedded && !lower.contains("embedded") && !lower.contains("local") {
        format!("{} (embedded)", x.name)
    } else {
        x.name.clone()
    }
}

fn reload_clusters(c: Clusters) {
    leptos::task::spawn_local(async move {
        match api::get::<Vec<ClusterInfo>>(&paths::clusters()).await {
            Ok(list) => {
                let cur = c.current.get_untracked();
                if !list.iter().any(|x| x.id == cur) {
                    c.current.set(EMBEDDED_CLUSTER.to_string());
                }
                c.all.set(list);
            }
            Err(e) => toasts().error(format!("Listing clusters: {e}")),
        }
    });
}

struct NavItem {
    href: &'static str,
    label: &'static str,
    icon: &'static str,
    testid: &'static str,
}

const NAV: &[NavItem] = &[
    NavItem { href: "/", label: "Overview", icon: "M3 13h8V3H3zm0 8h8v-6H3zm10 0h8V11h-8zm0-18v6h8V3z", testid: "nav-overview" },
    NavItem { href: "/topics", label: "Topics", icon: "M4 6h16M4 12h16M4 18h10", testid: "nav-topics" },
    NavItem { href: "/groups", label: "Consumer groups", icon: "M8 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm8 0a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM2 20c0-3 3-5 6-5s6 2 6 5m2-5c3 0 6 2 6 5", testid: "nav-groups" },
    NavItem { href: "/schemas", label: "Schemas", icon: "M6 3h9l4 4v14H6zM14 3v5h5M9 13h7M9 17h7", testid: "nav-schemas" },
    NavItem { href: "/connectors", label: "Connectors", icon: "M9 7V3m6 4V3M7 7h10v5a5 5 0 0 1-10 0zm5 10v4", testid: "nav-connectors" },
    NavItem { href: "/sql", label: "SQL", icon: "M4 5h16v14H4zM8 10l3 2-3 2m5 0h3", testid: "nav-sql" },
    NavItem { href: "/pipelines", label: "Pipelines", icon: "M5 6a2 2 0 1 0 0 .1M19 12a2 2 0 1 0 0 .1M5 18a2 2 0 1 0 0 .1M7 6h4l6 6M7 18h4l6-6", testid: "nav-pipelines" },
    NavItem { href: "/settings", label: "Settings", icon: "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19 12l2-1-2-4-2 1-2-2V4h-4v2L9 8 7 7 5 11l2 1v0l-2 1 2 4 2-1 2 2v2h4v-2l2-2 2 1 2-4z", testid: "nav-settings" },
];

#[component]
fn Nav() -> impl IntoView {
    let loc = use_location();
    let active = move |href: &str| {
        let p = loc.pathname.get();
        if href == "/" {
            p == "/"
        } else {
            p == href || p.starts_with(&format!("{href}/"))
        }
    };
    view! {
        <nav class="nav">
            <a class="brand" href="/">
                <svg viewBox="0 0 24 24" class="brand-mark" aria-hidden="true">
                    <path d="M3 7c3-3 6 3 9 0s6-3 9 0M3 12c3-3 6 3 9 0s6-3 9 0M3 17c3-3 6 3 9 0s6-3 9 0"/>
                </svg>
                <span>"Sluice"</span>
            </a>
            <ul>
                {NAV
                    .iter()
                    .map(|item| {
                        let href = item.href;
                        view! {
                            <li>
                                <a
                                    href=href
                                    class=move || if active(href) { "nav-item active" } else { "nav-item" }
                                    data-testid=item.testid
                                >
                                    <svg viewBox="0 0 24 24" class="icon" aria-hidden="true">
                                        <path d=item.icon/>
                                    </svg>
                                    <span>{item.label}</span>
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <div class="nav-foot">"Kafka workbench"</div>
        </nav>
    }
}

#[component]
fn TopBar() -> impl IntoView {
    let c = expect_context::<Clusters>();
    let theme = expect_context::<Theme>().0;
    let adding = RwSignal::new(false);
    let removing = RwSignal::new(false);
    close_on_escape(move || removing.set(false));
    let current_info = move || {
        c.all
            .with(|all| all.iter().find(|x| x.id == c.current.get()).cloned())
    };
    view! {
        <header class="topbar">
            <div class="cluster-switch">
                <label for="cluster-select" class="muted">"Cluster"</label>
                <select
                    id="cluster-select"
                    data-testid="cluster-select"
                    prop:value=move || c.current.get()
                    on:change=move |ev| c.current.set(event_target_value(&ev))
                >
                    {move || {
                        let all = c.all.get();
                        if all.is_empty() {
                            vec![view! { <option value=EMBEDDED_CLUSTER>"Embedded (local)"</option> }.into_any()]
                        } else {
                            all.into_iter()
                                .map(|x| {
                                    let label = cluster_label(&x);
                                    view! { <option value=x.id.clone() selected=x.id == c.current.get_untracked()>{label}</option> }.into_any()
                                })
                                .collect::<Vec<_>>()
                        }
                    }}
                </select>
                <span class="muted mono small">
                    {move || current_info().map(|x| x.bootstrap_servers).unwrap_or_default()}
                </span>
                <button class="btn btn-ghost" data-testid="add-cluster" on:click=move |_| adding.set(true)>
                    "+ Add cluster"
                </button>
                <Show when=move || current_info().map(|x| !x.embedded).unwrap_or(false)>
                    <button class="btn btn-ghost btn-danger-text" data-testid="remove-cluster" on:click=move |_| removing.set(true)>
                        "Remove"
                    </button>
                </Show>
            </div>
            <div class="topbar-right">
                <button
                    class="btn btn-ghost icon-btn"
                    data-testid="theme-toggle"
                    title="Toggle light / dark theme"
                    on:click=move |_| {
                        let next = if theme.get_untracked() == "dark" { "light" } else { "dark" };
                        set_theme(next);
                    }
                >
                    {move || if theme.get() == "dark" { "☀ Light" } else { "☾ Dark" }}
                </button>
            </div>
        </header>
        {move || adding.get().then(|| view! { <AddClusterDialog open=adding/> })}
        {move || {
            removing
                .get()
                .then(|| {
                    let info = current_info();
                    let name = info.as_ref().map(|x| x.name.clone()).unwrap_or_default();
                    let id = info.map(|x| x.id).unwrap_or_default();
                    view! {
                        <div class="modal-backdrop" on:click=move |_| removing.set(false)>
                            <div class="modal" on:click=|ev| ev.stop_propagation()>
                                <h2>"Remove cluster"</h2>
                                <p>
                                    "Remove the connection to " <b>{name.clone()}</b>
                                    "? Nothing on the cluster itself is touched."
                                </p>
                                <div class="modal-actions">
                                    <button class="btn" on:click=move |_| removing.set(false)>"Cancel"</button>
                                    <button
                                        class="btn btn-danger"
                                        data-testid="remove-cluster-confirm"
                                        on:click=move |_| {
                                            let id = id.clone();
                                            leptos::task::spawn_local(async move {
                                                match api::delete(&paths::cluster(&api::enc(&id))).await {
                                                    Ok(()) => {
                                                        c.current.set(EMBEDDED_CLUSTER.to_string());
                                                        removing.set(false);
                                                        reload_clusters(c);
                                                        toasts().ok("Cluster removed");
                                                    }
                                                    Err(e) => toasts().error(e),
                                                }
                                            });
                                        }
                                    >
                                        "Remove"
                                    </button>
                                </div>
                            </div>
                        </div>
                    }
                })
        }}
    }
}

fn opt(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[component]
fn AddClusterDialog(open: RwSignal<bool>) -> impl IntoView {
    let c = expect_context::<Clusters>();
    let name = RwSignal::new(String::new());
    let bootstrap = RwSignal::new(String::new());
    let protocol = RwSignal::new("PLAINTEXT".to_string());
    let mechanism = RwSignal::new("PLAIN".to_string());
    let user = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let ca = RwSignal::new(String::new());
    let registry = RwSignal::new(String::new());
    let connect = RwSignal::new(String::new());
    let ksql = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    close_on_escape(move || open.set(false));
    let sasl = move || protocol.get().starts_with("SASL");
    let ssl = move || protocol.get().ends_with("SSL");
    let submit = move || {
        if name.get_untracked().trim().is_empty() || bootstrap.get_untracked().trim().is_empty() {
            toasts().error("A name and bootstrap servers are required");
            return;
        }
        let is_sasl = protocol.get_untracked().starts_with("SASL");
        let body = NewCluster {
            name: name.get_untracked().trim().to_string(),
            bootstrap_servers: bootstrap.get_untracked().trim().to_string(),
            security: ClusterSecurity {
                protocol: protocol.get_untracked(),
                sasl_mechanism: is_sasl.then(|| mechanism.get_untracked()),
                sasl_username: if is_sasl {
                    opt(user.get_untracked())
                } else {
                    None
                },
                ssl_ca_location: if protocol.get_untracked().ends_with("SSL") {
                    opt(ca.get_untracked())
                } else {
                    None
                },
            },
            sasl_password: if is_sasl {
                opt(password.get_untracked())
            } else {
                None
            },
            schema_registry_url: opt(registry.get_untracked()),
            connect_url: opt(connect.get_untracked()),
            ksqldb_url: opt(ksql.get_untracked()),
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let res = api::post::<_, ClusterInfo>(&paths::clusters(), &body).await;
            busy.set(false);
            match res {
                Ok(info) => {
                    let id = info.id.clone();
                    c.all.update(|v| v.push(info));
                    c.current.set(id);
                    open.set(false);
                    toasts().ok("Cluster added");
                }
                Err(e) => toasts().error(e),
            }
        });
    };
    let field = |label: &'static str,
                 sig: RwSignal<String>,
                 placeholder: &'static str,
                 kind: &'static str| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input
                    type=kind
                    placeholder=placeholder
                    prop:value=move || sig.get()
                    on:input=move |ev| sig.set(event_target_value(&ev))
                />
            </label>
        }
    };
    view! {
        <div class="modal-backdrop" on:click=move |_| open.set(false)>
            <div class="modal modal-wide" data-testid="add-cluster-dialog" on:click=|ev| ev.stop_propagation()>
                <h2>"Add a remote cluster"</h2>
                <p class="muted">"Kafka (or Redpanda) brokers, and optionally its schema registry, Connect and ksqlDB."</p>
                <div class="form-grid">
                    {field("Name", name, "staging", "text")}
                    {field("Bootstrap servers", bootstrap, "broker1:9092,broker2:9092", "text")}
                    <label class="field">
                        <span>"Security protocol"</span>
                        <select prop:value=move || protocol.get() on:change=move |ev| protocol.set(event_target_value(&ev))>
                            <option value="PLAINTEXT">"PLAINTEXT"</option>
                            <option value="SSL">"SSL"</option>
                            <option value="SASL_PLAINTEXT">"SASL_PLAINTEXT"</option>
                            <option value="SASL_SSL">"SASL_SSL"</option>
                        </select>
                    </label>
                    <Show when=sasl>
                        <label class="field">
                            <span>"SASL mechanism"</span>
                            <select prop:value=move || mechanism.get() on:change=move |ev| mechanism.set(event_target_value(&ev))>
                                <option value="PLAIN">"PLAIN"</option>
                                <option value="SCRAM-SHA-256">"SCRAM-SHA-256"</option>
                                <option value="SCRAM-SHA-512">"SCRAM-SHA-512"</option>
                            </select>
                        </label>
                        {field("SASL username", user, "", "text")}
                        {field("SASL password", password, "", "password")}
                    </Show>
                    <Show when=ssl>{field("CA certificate (PEM path)", ca, "/etc/ssl/certs/ca.pem", "text")}</Show>
                    {field("Schema registry URL (optional)", registry, "http://registry:8081", "url")}
                    {field("Kafka Connect URL (optional)", connect, "http://connect:8083", "url")}
                    {field("ksqlDB URL (optional)", ksql, "http://ksqldb:8088", "url")}
                </div>
                <div class="modal-actions">
                    <button class="btn" on:click=move |_| open.set(false)>"Cancel"</button>
                    <button class="btn btn-primary" data-testid="add-cluster-submit" disabled=move || busy.get() on:click=move |_| submit()>
                        {move || if busy.get() { "Adding…" } else { "Add cluster" }}
                    </button>
                </div>
            </div>
        </div>
    }
}

#[derive(Clone, Copy, PartialEq)]
pub enum ComingView {
    Pipelines,
}

#[component]
fn Coming(which: ComingView) -> impl IntoView {
    let (title, lead, items): (&str, &str, &[&str]) = match which {
        ComingView::Pipelines => (
            "Pipelines",
            "A canvas that wires connectors, topics and queries into one pipeline you can see.",
            &[
                "A graph of sources, topics, queries and sinks with live rates",
                "Deploy the same pipeline to a remote cluster",
            ],
        ),
    };
    view! {
        <div class="page">
            <div class="page-head">
                <h1>{title}</h1>
            </div>
            <div class="coming" data-testid="coming">
                <div class="coming-badge">"Coming"</div>
                <p class="coming-lead">{lead}</p>
                <p class="muted">"This view is not built yet. It will have:"</p>
                <ul>{items.iter().map(|i| view! { <li>{*i}</li> }).collect_view()}</ul>
            </div>
        </div>
    }
}

#[component]
fn Settings() -> impl IntoView {
    let theme = expect_context::<Theme>().0;
    let c = expect_context::<Clusters>();
    let choice = move |t: &'static str, label: &'static str| {
        view! {
            <label class="radio">
                <input
                    type="radio"
                    name="theme"
                    value=t
                    data-testid=format!("theme-{t}")
                    prop:checked=move || theme.get() == t
                    on:change=move |_| set_theme(t)
                />
                {label}
            </label>
        }
    };
    view! {
        <div class="page">
            <div class="page-head">
                <h1>"Settings"</h1>
            </div>
            <section class="card">
                <h2>"Appearance"</h2>
                <div class="row-gap">
                    {choice("light", "Light")}
                    {choice("dark", "Dark")}
                    <button
                        class="btn btn-ghost"
                        on:click=move |_| {
                            if let Some(s) = crate::util::storage() {
                                let _ = s.remove_item("sluice.theme");
                            }
                            theme.set(system_theme().to_string());
                        }
                    >
                        "Follow the system"
                    </button>
                </div>
            </section>
            <section class="card">
                <h2>"Clusters"</h2>
                <table class="table">
                    <thead>
                        <tr>
                            <th>"Name"</th>
                            <th>"Bootstrap servers"</th>
                            <th>"Security"</th>
                            <th>"Registry"</th>
                            <th>"Connect"</th>
                            <th>"ksqlDB"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            c.all
                                .get()
                                .into_iter()
                                .map(|x| {
                                    view! {
                                        <tr>
                                            <td data-testid="settings-cluster-name">{cluster_label(&x)}</td>
                                            <td class="mono">{x.bootstrap_servers.clone()}</td>
                                            <td class="mono">{x.security.protocol.clone()}</td>
                                            <td class="mono">{x.schema_registry_url.clone().unwrap_or_else(|| "—".into())}</td>
                                            <td class="mono">{x.connect_url.clone().unwrap_or_else(|| "—".into())}</td>
                                            <td class="mono">{x.ksqldb_url.clone().unwrap_or_else(|| "—".into())}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()
                        }}
                    </tbody>
                </table>
            </section>
            <section class="card">
                <h2>"Keyboard"</h2>
                <table class="table keys">
                    <tbody>
                        <tr><td><kbd>"j"</kbd> " " <kbd>"↓"</kbd></td><td>"Next row"</td></tr>
                        <tr><td><kbd>"k"</kbd> " " <kbd>"↑"</kbd></td><td>"Previous row"</td></tr>
                        <tr><td><kbd>"Enter"</kbd></td><td>"Open the selected row"</td></tr>
                        <tr><td><kbd>"/"</kbd></td><td>"Focus the search box"</td></tr>
                        <tr><td><kbd>"Esc"</kbd></td><td>"Close a panel or dialog"</td></tr>
                    </tbody>
                </table>
            </section>
        </div>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <div class="page">
            <crate::util::Empty title="Nothing here" text="This address is not a view of the workbench."/>
        </div>
    }
}

/// Closes whatever `open` controls when Escape is pressed anywhere.
pub fn close_on_escape(open: impl Fn() + 'static) {
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            open();
        }
    });
    on_cleanup(move || handle.remove());
}

/// The value of the `<input>` an event came from, as an element (for files).
pub fn event_input(ev: &web_sys::Event) -> Option<web_sys::HtmlInputElement> {
    ev.target()?.dyn_into().ok()
}
