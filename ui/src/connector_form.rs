//! Creating a connector, or editing an existing one's config: a plugin picker (for a new
//! one), then a form generated from the plugin's config definition (`GET
//! /connector-plugins/{p}/config`, plus the worker's common keys from the validation answer),
//! grouped by the definition's groups with required keys first and defaults shown, and keys
//! no definition lists in a group of their own; every change is validated by Connect (`PUT
//! .../config/validate`, debounced, only the newest answer counts) and each key's errors are
//! shown next to it. A JSON tab holds the same config as Connect's create body, to paste,
//! upload or download. Editing starts from `GET /connectors/{n}/config` and saves with `PUT
//! .../config` (Connect restarts the tasks); the name and class stay as they are.

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use leptos_router::NavigateOptions;
use serde_json::Value;

use crate::api::Method;
use crate::app::{cluster, event_input};
use crate::connect::{
    self, form_groups, plugin_group, simple_class, ConfigInfos, Connect, KeyDef, Plugin, OWN_KEYS,
};
use crate::connectors::{connect_url, connector_href};
use crate::util::{download, toasts};

/// The group of config keys no definition lists.
const OTHER_GROUP: &str = "Other keys";

/// How long typing must pause before Connect validates.
const DEBOUNCE: std::time::Duration = std::time::Duration::from_millis(350);

#[component]
pub fn NewConnector() -> impl IntoView {
    view! { <ConnectorEditor editing=None/> }
}

/// `/connectors/connector/{name}/edit`: the form on an existing connector's config.
#[component]
pub fn EditConnector() -> impl IntoView {
    let params = use_params_map();
    let name = params.with_untracked(|p| p.get("name").unwrap_or_default());
    view! { <ConnectorEditor editing=Some(name)/> }
}

/// The form and JSON editor of a connector config: a new connector's (`editing` None) or an
/// existing one's (its name).
#[component]
fn ConnectorEditor(editing: Option<String>) -> impl IntoView {
    let is_edit = editing.is_some();
    let editing = StoredValue::new(editing.unwrap_or_default());
    let cluster = cluster();
    let url = connect_url();
    let query = use_query_map();
    let navigate = use_navigate();
    let plugins = RwSignal::new(None::<Result<Vec<Plugin>, String>>);
    let plugin = RwSignal::new(if is_edit {
        String::new()
    } else {
        query
            .with_untracked(|q| q.get("plugin"))
            .unwrap_or_default()
    });
    // The plugin's own keys and the full key set (the worker's common keys too).
    let plugin_defs = RwSignal::new(Vec::<KeyDef>::new());
    let all_defs = RwSignal::new(Vec::<KeyDef>::new());
    let name = RwSignal::new(String::new());
    // The config as the user set it: only keys with a value (empty = Connect's default).
    let values = RwSignal::new(BTreeMap::<String, String>::new());
    let validation = RwSignal::new(None::<ConfigInfos>);
    let validate_error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let generation = StoredValue::new(0u64);
    let tab = RwSignal::new("form");
    let json_text = RwSignal::new(String::new());
    let json_error = RwSignal::new(None::<String>);
    let creating = RwSignal::new(false);
    // Keys of the config no definition has (a converter's or a transform's): their own group.
    let extra_keys = RwSignal::new(Vec::<String>::new());
    // An existing connector's config: loading (None), loaded, or why not.
    let loaded = RwSignal::new(None::<Result<(), String>>);

    if is_edit {
        Effect::new(move |_| {
            cluster.track();
            if !matches!(url.get(), Some(Some(_))) {
                return;
            }
            let c = cluster.get_untracked();
            let n = editing.get_value();
            leptos::task::spawn_local(async move {
                match Connect::of(&c).connector(&n).config().await {
                    Ok(mut cfg) => {
                        cfg.remove("name");
                        let class = cfg.remove("connector.class").unwrap_or_default();
                        name.set(n);
                        values.set(cfg);
                        plugin.set(class);
                        loaded.set(Some(Ok(())));
                    }
                    Err(e) => loaded.set(Some(Err(e.message))),
                }
            });
        });
    }

    Effect::new(move |_| {
        cluster.track();
        if !matches!(url.get(), Some(Some(_))) {
            return;
        }
        let c = cluster.get_untracked();
        leptos::task::spawn_local(async move {
            let res = Connect::of(&c)
                .get::<Vec<Plugin>>("connector-plugins")
                .await;
            plugins.set(Some(
                res.map(|mut v| {
                    v.retain(|p| p.kind == "source" || p.kind == "sink");
                    v.sort_by(|a, b| {
                        a.kind
                            .cmp(&b.kind)
                            .reverse()
                            .then(simple_class(&a.class).cmp(simple_class(&b.class)))
                    });
                    v
                })
                .map_err(|e| e.message),
            ));
        });
    });

    // The chosen plugin's definition.
    Effect::new(move |_| {
        let p = plugin.get();
        cluster.track();
        plugin_defs.set(Vec::new());
        all_defs.set(Vec::new());
        extra_keys.set(Vec::new());
        validation.set(None);
        if p.is_empty() {
            return;
        }
        let c = cluster.get_untracked();
        leptos::task::spawn_local(async move {
            match Connect::of(&c).plugin_config(&p).await {
                Ok(defs) => {
                    if plugin.get_untracked() == p {
                        plugin_defs.set(defs);
                    }
                }
                Err(e) => toasts().error(format!("The config definition of {p}: {}", e.message)),
            }
        });
    });

    let config_now = move || {
        let mut cfg = values.get_untracked();
        cfg.insert("connector.class".into(), plugin.get_untracked());
        cfg
    };
    // Validation, debounced; only the newest answer counts.
    let validate = move |me: u64| {
        let p = plugin.get_untracked();
        if p.is_empty() {
            return;
        }
        let mut cfg = config_now();
        let n = name.get_untracked();
        if !n.trim().is_empty() {
            cfg.insert("name".into(), n.trim().to_string());
        }
        let c = cluster.get_untracked();
        leptos::task::spawn_local(async move {
            let res = Connect::of(&c).validate(&p, &cfg).await;
            if generation.try_get_value() != Some(me) {
                return;
            }
            pending.set(false);
            match res {
                Ok(v) => {
                    if all_defs.with_untracked(|d| d.is_empty()) {
                        all_defs.set(v.configs.iter().map(|c| c.definition.clone()).collect());
                    }
                    validation.set(Some(v));
                    validate_error.set(None);
                }
                Err(e) => validate_error.set(Some(e.message)),
            }
        });
    };
    Effect::new(move |_| {
        values.track();
        name.track();
        plugin.track();
        let Some(me) = generation.try_get_value().map(|g| g + 1) else {
            return;
        };
        generation.set_value(me);
        pending.set(true);
        set_timeout(
            move || {
                if generation.try_get_value() == Some(me) {
                    validate(me);
                }
            },
            DEBOUNCE,
        );
    });

    Effect::new(move |_| {
        // Only once both definitions are in: a worker key is not "other" while they load.
        if plugin_defs.with(Vec::is_empty) || all_defs.with(Vec::is_empty) {
            return;
        }
        let known: BTreeSet<String> = plugin_defs
            .with(|p| all_defs.with(|a| p.iter().chain(a).map(|k| k.name.clone()).collect()));
        let extra = extra_keys.get_untracked();
        let new: Vec<String> = values.with(|v| {
            v.keys()
                .filter(|k| {
                    !known.contains(*k) && !OWN_KEYS.contains(&k.as_str()) && !extra.contains(k)
                })
                .cloned()
                .collect()
        });
        if !new.is_empty() {
            extra_keys.update(|e| e.extend(new));
        }
    });

    // The JSON tab shows the form's config; edits there flow back when they parse.
    let sync_json = move || {
        let body = connect::create_body(name.get_untracked().trim(), &config_now());
        json_text.set(serde_json::to_string_pretty(&body).unwrap_or_default());
        json_error.set(None);
    };
    let apply_json = move |text: String| {
        json_text.set(text.clone());
        match connect::parse_connector_json(&text) {
            Ok((n, mut cfg)) => {
                json_error.set(None);
                if is_edit {
                    // An existing connector keeps its name and class.
                    let current = editing.get_value();
                    if !n.is_empty() && n != current {
                        json_error.set(Some(format!(
                            "The name stays {current}: Connect cannot rename a connector"
                        )));
                        return;
                    }
                    let class = plugin.get_untracked();
                    if let Some(c) = cfg.remove("connector.class") {
                        if c != class && c != simple_class(&class) && c != plugin_group(&class) {
                            json_error.set(Some(format!(
                                "The class stays {class}: create a new connector for another plugin"
                            )));
                            return;
                        }
                    }
                    values.set(cfg);
                    return;
                }
                if let Some(class) = cfg.remove("connector.class") {
                    let known = plugins.with_untracked(|p| {
                        p.as_ref().and_then(|r| r.as_ref().ok()).and_then(|ps| {
                            ps.iter()
                                .find(|p| {
                                    p.class == class
                                        || simple_class(&p.class) == class
                                        || plugin_group(&p.class) == class
                                })
                                .map(|p| p.class.clone())
                        })
                    });
                    let class = known.unwrap_or(class);
                    if plugin.get_untracked() != class {
                        plugin.set(class);
                    }
                }
                if !n.is_empty() {
                    name.set(n);
                }
                values.set(cfg);
            }
            Err(e) => json_error.set(Some(e)),
        }
    };
    let load_file = move |ev: leptos::ev::Event| {
        let Some(file) = event_input(&ev)
            .and_then(|i| i.files())
            .and_then(|f| f.get(0))
        else {
            return;
        };
        leptos::task::spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                Ok(t) => apply_json(t.as_string().unwrap_or_default()),
                Err(e) => toasts().error(format!("Reading the file: {e:?}")),
            }
        });
    };
    let download_json = move |_| {
        sync_json();
        let n = name.get_untracked();
        let file = if n.trim().is_empty() {
            "connector.json".to_string()
        } else {
            format!("{}.json", n.trim())
        };
        download(&file, "application/json", &json_text.get_untracked());
    };

    let error_count = move || validation.with(|v| v.as_ref().map(|v| v.error_count));
    let cannot_create = move || {
        creating.get()
            || (is_edit && !matches!(loaded.get(), Some(Ok(()))))
            || plugin.get().is_empty()
            || name.get().trim().is_empty()
            || error_count() != Some(0)
            || pending.get()
    };
    let create = move || {
        let n = name.get_untracked().trim().to_string();
        if n.is_empty() {
            toasts().error("Name the connector first");
            return;
        }
        let c = cluster.get_untracked();
        let navigate = navigate.clone();
        creating.set(true);
        leptos::task::spawn_local(async move {
            let connect = Connect::of(&c);
            let res = if is_edit {
                // Connect's PUT config takes the whole config, name included.
                let mut cfg = config_now();
                cfg.insert("name".into(), n.clone());
                let body = serde_json::to_value(&cfg).unwrap_or(Value::Null);
                connect
                    .connector(&n)
                    .send::<Value>(Method::Put, "/config", Some(body))
                    .await
            } else {
                let body = connect::create_body(&n, &config_now());
                connect
                    .send::<Value>(Method::Post, "connectors", Some(body))
                    .await
            };
            creating.set(false);
            match res {
                Ok(_) => {
                    toasts().ok(if is_edit {
                        format!("Connector {n} updated: its tasks restart with the new config")
                    } else {
                        format!("Connector {n} created")
                    });
                    navigate(&connector_href(&n), NavigateOptions::default());
                }
                Err(e) => toasts().error(e.message),
            }
        });
    };

    let groups = Memo::new(move |_| {
        let p = plugin.get();
        let mut groups = plugin_defs.with(|pd| all_defs.with(|ad| form_groups(&p, pd, ad)));
        let extra = extra_keys.get();
        if !extra.is_empty() {
            let keys = extra
                .into_iter()
                .map(|k| KeyDef {
                    name: k,
                    kind: "STRING".into(),
                    documentation: Some(
                        "Set in this config; the plugin's definition does not list it.".into(),
                    ),
                    ..KeyDef::default()
                })
                .collect();
            groups.push((OTHER_GROUP.to_string(), keys));
        }
        groups
    });
    let errors = Memo::new(move |_| {
        validation.with(|v| v.as_ref().map(ConfigInfos::errors).unwrap_or_default())
    });
    let recommended = Memo::new(move |_| {
        validation.with(|v| {
            v.iter()
                .flat_map(|v| v.configs.iter())
                .filter(|c| !c.value.recommended_values.is_empty())
                .map(|c| {
                    (
                        c.definition.name.clone(),
                        c.value.recommended_values.clone(),
                    )
                })
                .collect::<BTreeMap<_, _>>()
        })
    });
    // Errors of keys the form does not show (a pasted key no definition has...).
    let other_errors = move || {
        let shown: Vec<String> = groups.with(|g| {
            g.iter()
                .flat_map(|(_, ks)| ks.iter().map(|k| k.name.clone()))
                .collect()
        });
        errors.with(|e| {
            e.iter()
                .filter(|(k, _)| !shown.contains(k) && k.as_str() != "name")
                .map(|(k, v)| format!("{k}: {}", v.join("; ")))
                .collect::<Vec<_>>()
        })
    };

    let field = move |k: KeyDef| {
        let key = k.name.clone();
        let key_in = key.clone();
        let key_val = key.clone();
        let key_err = key.clone();
        let key_rec = key.clone();
        let list_id = format!("rec-{}", key.replace('.', "-"));
        let has_errors = {
            let key = key.clone();
            move || errors.with(|e| e.contains_key(&key))
        };
        let value = move || values.with(|v| v.get(&key_val).cloned().unwrap_or_default());
        let set = move |v: String| {
            let key = key_in.clone();
            values.update(|m| {
                if v.is_empty() {
                    m.remove(&key);
                } else {
                    m.insert(key, v);
                }
            })
        };
        let placeholder = match &k.default_value {
            Some(d) if !d.is_empty() => d.clone(),
            _ if k.required => "required".into(),
            _ => String::new(),
        };
        let input_type = if k.kind == "PASSWORD" {
            "password"
        } else {
            "text"
        };
        let is_bool = k.kind == "BOOLEAN";
        let default_note = match &k.default_value {
            Some(d) if !d.is_empty() => Some(format!("default {d}")),
            _ => None,
        };
        let input = if is_bool {
            let set = set.clone();
            view! {
                <select data-testid="cfg-input" data-key=key.clone() prop:value=value.clone() on:change=move |ev| set(event_target_value(&ev))>
                    <option value="">{format!("default ({})", k.default_value.clone().unwrap_or_default())}</option>
                    <option value="true">"true"</option>
                    <option value="false">"false"</option>
                </select>
            }.into_any()
        } else {
            let set = set.clone();
            let list_id2 = list_id.clone();
            view! {
                <input type=input_type class="mono" data-testid="cfg-input" data-key=key.clone()
                    class:invalid=has_errors.clone()
                    placeholder=placeholder
                    list=list_id2
                    prop:value=value.clone()
                    on:input=move |ev| set(event_target_value(&ev))/>
                <datalist id=list_id>
                    {move || recommended.with(|r| r.get(&key_rec).cloned().unwrap_or_default()).into_iter().map(|v| view! { <option value=v/> }).collect_view()}
                </datalist>
            }.into_any()
        };
        view! {
            <div class="sf-field cf-field" data-key=key.clone() class:cf-invalid=has_errors>
                <div class="sf-label">
                    <span class="sf-name">{key.clone()}</span>
                    {k.required.then(|| view! { <span class="cf-req" title="required">"*"</span> })}
                    <span class="sf-type">{k.kind.to_lowercase()}</span>
                </div>
                <div class="sf-input">{input}</div>
                <div class="sf-doc">
                    {k.documentation.clone().unwrap_or_default()}
                    {default_note.map(|d| view! { <span class="cf-default mono">{d}</span> })}
                </div>
                {move || errors.with(|e| e.get(&key_err).cloned()).map(|errs| view! {
                    <div class="cf-errors" data-testid="cfg-errors" data-key=key_err.clone()>
                        {errs.into_iter().map(|m| view! { <div class="cf-error" data-testid="cfg-error">{m}</div> }).collect_view()}
                    </div>
                })}
            </div>
        }
    };

    let plugin_list = move || {
        match plugins.get() {
        None => view! { <div class="muted small pad">"Loading plugins…"</div> }.into_any(),
        Some(Err(e)) => view! { <div class="banner banner-error">{e}</div> }.into_any(),
        Some(Ok(ps)) => view! {
            <div class="plugin-list" data-testid="plugin-list">
                {ps.into_iter().map(|p| {
                    let class = p.class.clone();
                    let class2 = p.class.clone();
                    let active = move || plugin.get() == class2;
                    view! {
                        <button
                            class="plugin"
                            class:active=active
                            data-testid="plugin"
                            data-class=p.class.clone()
                            on:click=move |_| {
                                if plugin.get_untracked() != class {
                                    values.set(BTreeMap::new());
                                    plugin.set(class.clone());
                                }
                            }
                        >
                            <span class="plugin-name">{plugin_group(&p.class)}</span>
                            <span class=format!("kind-badge kind-{}", p.kind)>{p.kind.clone()}</span>
                            <span class="plugin-class mono">{p.class.clone()}</span>
                            {p.version.clone().map(|v| view! { <span class="muted small">{format!("v{v}")}</span> })}
                        </button>
                    }
                }).collect_view()}
            </div>
        }.into_any(),
    }
    };

    view! {
        <div class="page connector-new" data-testid=if is_edit { "edit-connector-view" } else { "new-connector-view" }>
            <div class="page-head">
                <div>
                    <div class="crumbs">
                        <a href="/connectors">"Connectors"</a>" / "
                        {is_edit.then(|| {
                            let n = editing.get_value();
                            view! { <a class="mono" href=connector_href(&n)>{n.clone()}</a>" / " }
                        })}
                    </div>
                    <h1>{if is_edit { "Edit config" } else { "New connector" }}</h1>
                </div>
                <div class="row-gap">
                    <span class="muted small" data-testid="validation-summary">
                        {move || if plugin.get().is_empty() {
                            String::new()
                        } else if pending.get() {
                            "Validating…".to_string()
                        } else if let Some(e) = validate_error.get() {
                            format!("Validation failed: {e}")
                        } else {
                            match error_count() {
                                Some(0) => "✓ Connect accepts this config".into(),
                                Some(1) => "1 error".into(),
                                Some(n) => format!("{n} errors"),
                                None => String::new(),
                            }
                        }}
                    </span>
                    {is_edit.then(|| view! {
                        <a class="btn" data-testid="cancel-edit" href=connector_href(&editing.get_value())>"Cancel"</a>
                    })}
                    <button class="btn btn-primary" data-testid=if is_edit { "save-connector" } else { "create-connector" }
                        disabled=cannot_create
                        on:click=move |_| create()>
                        {move || match (is_edit, creating.get()) {
                            (false, false) => "Create connector",
                            (false, true) => "Creating…",
                            (true, false) => "Save config",
                            (true, true) => "Saving…",
                        }}
                    </button>
                </div>
            </div>
            {move || match url.get() {
                Some(None) => view! { <div class="banner banner-error">"This cluster has no Kafka Connect URL."</div> }.into_any(),
                _ => ().into_any(),
            }}
            {move || loaded.get().and_then(Result::err).map(|e| view! {
                <div class="banner banner-error" data-testid="edit-load-error">{format!("The connector's config: {e}")}</div>
            })}
            <div class="connector-layout">
                {if is_edit {
                    view! {
                        <section class="card plugin-card" data-testid="edit-plugin">
                            <h2>"Plugin"</h2>
                            {move || {
                                let class = plugin.get();
                                let kind = plugins.with(|p| {
                                    p.as_ref()
                                        .and_then(|r| r.as_ref().ok())
                                        .and_then(|ps| ps.iter().find(|p| p.class == class))
                                        .map(|p| p.kind.clone())
                                });
                                (!class.is_empty()).then(|| view! {
                                    <div class="plugin active plugin-fixed">
                                        <span class="plugin-name">{plugin_group(&class)}</span>
                                        {kind.map(|k| view! { <span class=format!("kind-badge kind-{k}")>{k.clone()}</span> })}
                                        <span class="plugin-class mono">{class.clone()}</span>
                                    </div>
                                })
                            }}
                            <p class="muted small edit-note">
                                "The name and class of an existing connector stay as they are. Saving replaces its whole config "
                                <code>"PUT /connectors/{name}/config"</code>
                                " and Kafka Connect restarts its tasks with it; keys left empty take their defaults."
                            </p>
                        </section>
                    }.into_any()
                } else {
                    view! {
                        <section class="card plugin-card">
                            <h2>"Plugin"</h2>
                            {plugin_list}
                        </section>
                    }.into_any()
                }}
                <section class="card connector-main">
                    {move || if is_edit && loaded.get().is_none() {
                        view! { <div class="muted pad">"Loading the connector's config…"</div> }.into_any()
                    } else if plugin.get().is_empty() && !is_edit {
                        view! { <div class="muted pad" data-testid="pick-plugin">"Pick a connector plugin to configure it, or paste a connector JSON in the JSON tab."</div> }.into_any()
                    } else {
                        ().into_any()
                    }}
                    <label class="field cf-name">
                        <span>"Name" <span class="cf-req">"*"</span></span>
                        <input type="text" class="mono" data-testid="connector-name" placeholder="orders-source"
                            readonly=is_edit
                            title=if is_edit { "Connect cannot rename a connector" } else { "" }
                            prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                        {move || errors.with(|e| e.get("name").cloned()).map(|errs| view! {
                            <div class="cf-errors" data-testid="cfg-errors" data-key="name">{errs.join("; ")}</div>
                        })}
                    </label>
                    <div class="tabs" role="tablist">
                        <button role="tab" class=move || if tab.get() == "form" { "tab active" } else { "tab" } data-testid="tab-form" on:click=move |_| tab.set("form")>"Form"</button>
                        <button role="tab" class=move || if tab.get() == "json" { "tab active" } else { "tab" } data-testid="tab-json" on:click=move |_| { sync_json(); tab.set("json"); }>"JSON"</button>
                    </div>
                    <Show when=move || tab.get() == "form">
                        {move || {
                            let gs = groups.get();
                            if gs.is_empty() && !plugin.get().is_empty() {
                                return view! { <div class="muted small pad">"Loading the config definition…"</div> }.into_any();
                            }
                            let own = plugin_group(&plugin.get());
                            gs.into_iter().map(|(g, keys)| {
                                let open = g == own || g == "Common" || g == OTHER_GROUP || keys.iter().any(|k| k.required);
                                let names: Vec<String> = keys.iter().map(|k| k.name.clone()).collect();
                                let group_errors = move || errors.with(|e| names.iter().filter(|n| e.contains_key(*n)).count());
                                view! {
                                    <details class="cf-group" open=open data-group=g.clone()>
                                        <summary>
                                            <span class="cf-group-name">{g.clone()}</span>
                                            <span class="muted small">{format!("{} keys", keys.len())}</span>
                                            {move || (group_errors() > 0).then(|| view! { <span class="pill pill-bad">{format!("{} with errors", group_errors())}</span> })}
                                        </summary>
                                        <div class="sf-fields">{keys.into_iter().map(field).collect_view()}</div>
                                    </details>
                                }
                            }).collect_view().into_any()
                        }}
                        {move || {
                            let o = other_errors();
                            (!o.is_empty()).then(|| view! {
                                <div class="banner banner-error" data-testid="other-errors">{o.into_iter().map(|m| view! { <div>{m}</div> }).collect_view()}</div>
                            })
                        }}
                    </Show>
                    <Show when=move || tab.get() == "json">
                        <p class="muted small">"Kafka Connect's create body: " <code>"{\"name\": …, \"config\": {…}}"</code> " (a bare config object works too). Edits here update the form."</p>
                        <textarea class="mono cf-json" rows="18" data-testid="connector-json" spellcheck="false"
                            prop:value=move || json_text.get() on:input=move |ev| apply_json(event_target_value(&ev))></textarea>
                        {move || json_error.get().map(|e| view! { <div class="cf-errors" data-testid="json-error">{e}</div> })}
                        <div class="row-gap" style="margin-top:8px">
                            <label class="btn btn-small">
                                "Upload JSON…"
                                <input type="file" accept=".json,application/json" data-testid="connector-file" style="display:none" on:change=load_file/>
                            </label>
                            <button class="btn btn-small" data-testid="connector-json-download" on:click=download_json>"Download JSON"</button>
                        </div>
                    </Show>
                </section>
            </div>
        </div>
    }
}
