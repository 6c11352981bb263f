//! The Produce tab: one record, N copies of it, or a JSON array of records, sent in chunks
//! with a progress bar. Values are raw text, or JSON serialized with a registered schema
//! (entered in a form generated from the schema, or as JSON).

use leptos::prelude::*;
use serde_json::Value;
use sluice_api::{
    paths, MessageHeader, ProduceRecord, ProduceRequest, ProduceResult, SchemaChoice, SchemaForm,
    SubjectSummary, TopicDetail,
};

use crate::api::{self, Method, RegError};
use crate::app::{cluster, event_input};
use crate::schema_form::{build, form_view, to_json, Field};
use crate::schemas::TypeBadge;
use crate::util::{num, toasts};

/// Records per request when sending a JSON array; copies per request in copies mode.
const CHUNK_RECORDS: usize = 500;
const CHUNK_COPIES: u64 = 2000;

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Parses `[{"key":..,"value":..,"headers":{..} or [{"key","value"}],"partition":n}, ...]`; a
/// bare value (not an object with `value`/`key`) is taken as the record's value. With
/// `json_values` (a schema serializes them) every value is kept as JSON text, strings quoted.
pub fn parse_records(text: &str, json_values: bool) -> Result<Vec<ProduceRecord>, String> {
    let value_of = |v: &Value| {
        if json_values {
            (!v.is_null()).then(|| v.to_string())
        } else {
            text_of(v)
        }
    };
    let v: Value = serde_json::from_str(text).map_err(|e| format!("Not valid JSON: {e}"))?;
    let Value::Array(items) = v else {
        return Err("Expected a JSON array of records".into());
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let rec = match item {
            Value::Object(o) if o.contains_key("value") || o.contains_key("key") => {
                let headers = match o.get("headers") {
                    None | Some(Value::Null) => vec![],
                    Some(Value::Object(h)) => h
                        .iter()
                        .map(|(k, v)| MessageHeader {
                            key: k.clone(),
                            value: text_of(v),
                        })
                        .collect(),
                    Some(Value::Array(h)) => h
                        .iter()
                        .map(|x| MessageHeader {
                            key: x
                                .get("key")
                                .and_then(|k| k.as_str())
                                .unwrap_or_default()
                                .to_string(),
                            value: x.get("value").and_then(text_of),
                        })
                        .collect(),
                    Some(_) => {
                        return Err(format!("Record {i}: headers must be an object or an array"))
                    }
                };
                let partition = match o.get("partition") {
                    None | Some(Value::Null) => None,
                    Some(p) => Some(
                        p.as_i64()
                            .ok_or_else(|| format!("Record {i}: partition must be a number"))?
                            as i32,
                    ),
                };
                ProduceRecord {
                    key: o.get("key").and_then(text_of),
                    value: o.get("value").and_then(value_of),
                    headers,
                    partition,
                }
            }
            other => ProduceRecord {
                value: value_of(other),
                ..Default::default()
            },
        };
        out.push(rec);
    }
    Ok(out)
}

/// The loaded form: the schema it came from and the state of its fields.
type LoadedForm = Option<Result<(SchemaForm, Field), String>>;

#[component]
pub fn ProducePanel(
    topic: String,
    detail: RwSignal<Option<TopicDetail>>,
    on_produced: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let cluster = cluster();
    let topic = StoredValue::new(topic);
    let mode = RwSignal::new("single".to_string());
    let key = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    let partition = RwSignal::new(String::new());
    let next_id = StoredValue::new(1u32);
    let headers = RwSignal::new(Vec::<(u32, RwSignal<String>, RwSignal<String>)>::new());
    let copies = RwSignal::new("100".to_string());
    let bulk = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let progress = RwSignal::new(None::<(u64, u64)>);
    let last = RwSignal::new(None::<ProduceResult>);
    // Values serialized with a registered schema.
    let format = RwSignal::new("text".to_string());
    let subjects = RwSignal::new(None::<Result<Vec<String>, RegError>>);
    let subject = RwSignal::new(String::new());
    let versions = RwSignal::new(Vec::<i32>::new());
    let version = RwSignal::new(String::new());
    let form = RwSignal::new(LoadedForm::None);
    let form_request = StoredValue::new(0u64);
    let raw_json = RwSignal::new(false);
    let raw_text = RwSignal::new(String::new());
    let schema_on = move || format.get_untracked() == "schema";

    // The registry's subjects; the topic's value subject, when there is one, is the default.
    leptos::task::spawn_local(async move {
        let c = cluster.get_untracked();
        let res =
            api::call::<Vec<SubjectSummary>>(Method::Get, &paths::subjects(&api::enc(&c)), None)
                .await
                .map(|v| v.into_iter().map(|s| s.subject).collect::<Vec<_>>());
        if let Ok(list) = &res {
            let Some(t) = topic.try_get_value() else {
                return;
            };
            let want = format!("{t}-value");
            if list.contains(&want) {
                subject.set(want);
                format.set("schema".into());
            } else if let Some(first) = list.first() {
                subject.set(first.clone());
            }
        }
        let _ = subjects.try_set(Some(res));
    });
    Effect::new(move |_| {
        let s = subject.get();
        versions.set(Vec::new());
        version.set(String::new());
        if s.is_empty() {
            return;
        }
        let c = cluster.get_untracked();
        leptos::task::spawn_local(async move {
            let path = format!("subjects/{}/versions", api::enc(&s));
            if let Ok(v) = api::registry::<Vec<i32>>(Method::Get, &c, &path, None).await {
                let _ = versions.try_set(v);
            }
        });
    });
    Effect::new(move |_| {
        if format.get() != "schema" {
            return;
        }
        let (s, v) = (subject.get(), version.get());
        if s.is_empty() {
            return;
        }
        let c = cluster.get_untracked();
        let url = format!(
            "{}{}",
            paths::schema_form(&api::enc(&c), &api::enc(&s)),
            api::query(&[("version", (!v.is_empty()).then_some(v))])
        );
        let me = form_request.get_value() + 1;
        form_request.set_value(me);
        form.set(None);
        leptos::task::spawn_local(async move {
            let res = api::get::<SchemaForm>(&url).await;
            if form_request.try_get_value() != Some(me) {
                return;
            }
            form.set(Some(res.map(|sf| {
                let root = build(&sf.root, None);
                (sf, root)
            })));
        });
    });

    let form_json = move || -> Result<Value, String> {
        match form.get_untracked() {
            Some(Ok((_, root))) => untrack(|| to_json(&root)),
            Some(Err(e)) => Err(format!("No form: {e}")),
            None => Err("The schema's form is still loading".into()),
        }
    };
    let value_text = move || -> Result<String, String> {
        if !schema_on() {
            return Ok(value.get_untracked());
        }
        if raw_json.get_untracked() {
            let t = raw_text.get_untracked();
            serde_json::from_str::<Value>(&t)
                .map_err(|e| format!("The value is not valid JSON: {e}"))?;
            return Ok(t);
        }
        form_json().map(|v| v.to_string())
    };
    let choice = move || {
        schema_on().then(|| SchemaChoice {
            subject: subject.get_untracked(),
            version: version.get_untracked().parse().ok(),
        })
    };
    let to_raw = move || {
        if let Ok(v) = form_json() {
            raw_text.set(serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        raw_json.set(true);
    };
    let to_form = move || match serde_json::from_str::<Value>(&raw_text.get_untracked()) {
        Ok(v) => {
            form.update(|f| {
                if let Some(Ok((sf, root))) = f {
                    *root = build(&sf.root, Some(&v));
                }
            });
            raw_json.set(false);
        }
        Err(e) => toasts().error(format!("Not valid JSON, kept as text: {e}")),
    };

    let one_record = move || -> Result<ProduceRecord, String> {
        Ok(ProduceRecord {
            key: {
                let k = key.get_untracked();
                (!k.is_empty()).then_some(k)
            },
            value: Some(value_text()?),
            headers: headers
                .get_untracked()
                .iter()
                .filter(|(_, k, _)| !k.get_untracked().is_empty())
                .map(|(_, k, v)| MessageHeader {
                    key: k.get_untracked(),
                    value: Some(v.get_untracked()),
                })
                .collect(),
            partition: partition.get_untracked().parse().ok(),
        })
    };

    let send = move || {
        if schema_on() && subject.get_untracked().is_empty() {
            toasts().error("Pick a subject to serialize the value with");
            return;
        }
        let value_schema = choice();
        // Build the chunks first, so a bad input fails before anything is sent.
        let chunks: Vec<ProduceRequest> = match mode.get_untracked().as_str() {
            "copies" => {
                let Ok(n) = copies.get_untracked().trim().parse::<u64>() else {
                    toasts().error("Copies must be a number");
                    return;
                };
                let rec = match one_record() {
                    Ok(r) => r,
                    Err(e) => {
                        toasts().error(e);
                        return;
                    }
                };
                let mut left = n;
                let mut v = Vec::new();
                while left > 0 {
                    let c = left.min(CHUNK_COPIES);
                    v.push(ProduceRequest {
                        records: vec![rec.clone()],
                        copies: Some(c as u32),
                        value_schema: value_schema.clone(),
                        ..Default::default()
                    });
                    left -= c;
                }
                v
            }
            "json" => match parse_records(&bulk.get_untracked(), value_schema.is_some()) {
                Ok(recs) if recs.is_empty() => {
                    toasts().error("The array is empty");
                    return;
                }
                Ok(recs) => {
                    let fallback: Option<i32> = partition.get_untracked().parse().ok();
                    recs.chunks(CHUNK_RECORDS)
                        .map(|c| ProduceRequest {
                            records: c
                                .iter()
                                .cloned()
                                .map(|mut r| {
                                    r.partition = r.partition.or(fallback);
                                    r
                                })
                                .collect(),
                            copies: None,
                            value_schema: value_schema.clone(),
                            ..Default::default()
                        })
                        .collect()
                }
                Err(e) => {
                    toasts().error(e);
                    return;
                }
            },
            _ => match one_record() {
                Ok(r) => vec![ProduceRequest {
                    records: vec![r],
                    copies: None,
                    value_schema: value_schema.clone(),
                    ..Default::default()
                }],
                Err(e) => {
                    toasts().error(e);
                    return;
                }
            },
        };
        let total: u64 = chunks
            .iter()
            .map(|c| c.records.len() as u64 * c.copies.unwrap_or(1) as u64)
            .sum();
        let c = cluster.get_untracked();
        let url = paths::messages(&api::enc(&c), &api::enc(&topic.get_value()));
        busy.set(true);
        progress.set(Some((0, total)));
        leptos::task::spawn_local(async move {
            let mut done = 0u64;
            let mut first = None;
            let mut failed = None;
            let mut tail = None;
            for chunk in chunks {
                match api::post::<_, ProduceResult>(&url, &chunk).await {
                    Ok(r) => {
                        done += r.produced;
                        first = first.or(r.first);
                        tail = r.last.or(tail);
                        progress.set(Some((done, total)));
                    }
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            busy.set(false);
            last.set(Some(ProduceResult {
                produced: done,
                first,
                last: tail,
            }));
            on_produced();
            match failed {
                Some(e) => toasts().error(format!("Produced {done} of {total}, then: {e}")),
                None => toasts().ok(format!(
                    "Produced {} record{}",
                    num(done as i64),
                    if done == 1 { "" } else { "s" }
                )),
            }
        });
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
                Ok(t) => bulk.set(t.as_string().unwrap_or_default()),
                Err(e) => toasts().error(format!("Reading the file: {e:?}")),
            }
        });
    };

    let mode_radio = move |m: &'static str, label: &'static str| {
        view! {
            <label class="seg" class:active=move || mode.get() == m>
                <input type="radio" name="produce-mode" value=m data-testid=format!("mode-{m}") prop:checked=move || mode.get() == m on:change=move |_| mode.set(m.to_string())/>
                {label}
            </label>
        }
    };
    let format_radio = move |f: &'static str, label: &'static str| {
        view! {
            <label class="seg" class:active=move || format.get() == f>
                <input type="radio" name="value-format" value=f data-testid=format!("format-{f}") prop:checked=move || format.get() == f on:change=move |_| format.set(f.to_string())/>
                {label}
            </label>
        }
    };

    // The value as a schema form (or its JSON).
    let schema_value = move || {
        view! {
            <div class="field" data-testid="schema-value">
                <div class="sf-head">
                    <span class="sf-head-title">"Value"</span>
                    {move || form.with(|f| match f {
                        Some(Ok((sf, _))) => Some(view! {
                            <span class="row-gap small" data-testid="form-schema">
                                <TypeBadge schema_type=sf.schema_type.clone()/>
                                <span class="mono">{format!("{} v{} · id {}", sf.subject, sf.version, sf.schema_id)}</span>
                            </span>
                        }),
                        _ => None,
                    })}
                    <span class="spacer"></span>
                    <div class="segmented segmented-small">
                        <button type="button" class="seg" class:active=move || !raw_json.get() data-testid="value-editor-form" on:click=move |_| if raw_json.get_untracked() { to_form() }>"Form"</button>
                        <button type="button" class="seg" class:active=move || raw_json.get() data-testid="value-editor-json" on:click=move |_| if !raw_json.get_untracked() { to_raw() }>"Raw JSON"</button>
                    </div>
                </div>
                {move || {
                    if raw_json.get() {
                        return view! {
                            <textarea class="mono" rows="12" data-testid="produce-value-json" prop:value=move || raw_text.get() on:input=move |ev| raw_text.set(event_target_value(&ev))></textarea>
                        }.into_any();
                    }
                    match form.get() {
                        None => view! { <div class="loading">"Loading the schema's form…"</div> }.into_any(),
                        Some(Err(e)) => view! { <div class="banner banner-error" data-testid="form-error">{format!("The form could not be built: {e}")}</div> }.into_any(),
                        Some(Ok((_, root))) => {
                            let preview_root = root.clone();
                            view! {
                                {form_view(root)}
                                <details class="sf-preview">
                                    <summary class="small muted">"JSON that will be serialized"</summary>
                                    <pre class="code" data-testid="form-json">
                                        {move || match to_json(&preview_root) {
                                            Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_default(),
                                            Err(e) => format!("// {e}"),
                                        }}
                                    </pre>
                                </details>
                            }.into_any()
                        }
                    }
                }}
            </div>
        }
    };

    view! {
        <div class="card produce" data-testid="produce">
            <div class="card-head">
                <h2>"Produce"</h2>
                <div class="row-gap">
                    <span class="muted small">"Value as"</span>
                    <div class="segmented" title="Value as raw text, or serialized with a registered schema">
                        {format_radio("text", "Text")}
                        {format_radio("schema", "Schema")}
                    </div>
                    <div class="segmented">
                        {mode_radio("single", "One record")}
                        {mode_radio("copies", "N copies")}
                        {mode_radio("json", "JSON array")}
                    </div>
                </div>
            </div>
            <form on:submit=move |ev| {
                ev.prevent_default();
                if !busy.get_untracked() {
                    send();
                }
            }>
                <Show when=move || format.get() == "schema">
                    {move || match subjects.get() {
                        None => view! { <div class="loading">"Loading subjects…"</div> }.into_any(),
                        Some(Err(e)) => view! {
                            <div class="banner banner-error" data-testid="produce-no-subjects">
                                {if e.no_registry() { "This cluster has no schema registry URL (see Settings).".to_string() } else { format!("The schema registry did not answer: {e}") }}
                            </div>
                        }.into_any(),
                        Some(Ok(list)) if list.is_empty() => view! {
                            <div class="banner" data-testid="produce-no-subjects">
                                "The registry has no subjects yet. " <a href="/schemas/new">"Register a schema"</a> " first."
                            </div>
                        }.into_any(),
                        Some(Ok(list)) => view! {
                            <div class="form-row">
                                <label class="field">
                                    <span>"Subject"</span>
                                    <select class="mono" data-testid="produce-subject" prop:value=move || subject.get() on:change=move |ev| subject.set(event_target_value(&ev))>
                                        {list.into_iter().map(|s| {
                                            let sel = s.clone();
                                            let label = s.clone();
                                            view! { <option value=s selected=move || subject.get_untracked() == sel>{label}</option> }
                                        }).collect_view()}
                                    </select>
                                </label>
                                <label class="field field-narrow">
                                    <span>"Version"</span>
                                    <select data-testid="produce-version" prop:value=move || version.get() on:change=move |ev| version.set(event_target_value(&ev))>
                                        <option value="">"latest"</option>
                                        {move || versions.get().into_iter().rev().map(|v| view! { <option value=v.to_string()>{format!("version {v}")}</option> }).collect_view()}
                                    </select>
                                </label>
                            </div>
                        }.into_any(),
                    }}
                </Show>
                <div class="form-row">
                    <label class="field">
                        <span>"Partition"</span>
                        <select data-testid="produce-partition" prop:value=move || partition.get() on:change=move |ev| partition.set(event_target_value(&ev))>
                            <option value="">"Any (partitioner)"</option>
                            {move || detail.with(|d| d.as_ref().map(|d| d.partitions.iter().map(|p| view! { <option value=p.id.to_string()>{p.id}</option> }).collect_view()))}
                        </select>
                    </label>
                    <Show when=move || mode.get() == "copies">
                        <label class="field">
                            <span>"Copies"</span>
                            <input type="number" min="1" class="mono" data-testid="produce-copies" prop:value=move || copies.get() on:input=move |ev| copies.set(event_target_value(&ev))/>
                        </label>
                    </Show>
                </div>
                <Show
                    when=move || mode.get() != "json"
                    fallback=move || view! {
                        <label class="field">
                            <span>
                                {move || if format.get() == "schema" {
                                    format!("Records (JSON array of {{\"key\", \"value\", \"headers\", \"partition\"}}, or of plain values); each value is serialized with {}", subject.get())
                                } else {
                                    "Records (JSON array of {\"key\", \"value\", \"headers\", \"partition\"}, or of plain values)".to_string()
                                }}
                            </span>
                            <textarea
                                class="mono"
                                rows="12"
                                data-testid="produce-bulk"
                                placeholder="[{\"key\": \"k1\", \"value\": {\"n\": 1}, \"headers\": {\"source\": \"ui\"}}]"
                                prop:value=move || bulk.get()
                                on:input=move |ev| bulk.set(event_target_value(&ev))
                            ></textarea>
                        </label>
                        <label class="field">
                            <span>"…or load a file"</span>
                            <input type="file" accept=".json,application/json" data-testid="produce-file" on:change=load_file/>
                        </label>
                    }
                >
                    <label class="field">
                        <span>"Key"</span>
                        <input type="text" class="mono" data-testid="produce-key" placeholder="(none)" prop:value=move || key.get() on:input=move |ev| key.set(event_target_value(&ev))/>
                    </label>
                    {move || if format.get() == "schema" {
                        schema_value().into_any()
                    } else {
                        view! {
                            <label class="field">
                                <span>"Value"</span>
                                <textarea class="mono" rows="8" data-testid="produce-value" prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))></textarea>
                            </label>
                        }.into_any()
                    }}
                    <div class="field">
                        <span>"Headers"</span>
                        <For each=move || headers.get() key=|x| x.0 let:row>
                            <div class="kv-row" data-testid="header-row">
                                <input type="text" class="mono" placeholder="key" data-testid="header-key" prop:value=move || row.1.get() on:input=move |ev| row.1.set(event_target_value(&ev))/>
                                <input type="text" class="mono" placeholder="value" data-testid="header-value" prop:value=move || row.2.get() on:input=move |ev| row.2.set(event_target_value(&ev))/>
                                <button type="button" class="btn btn-ghost btn-small" on:click=move |_| headers.update(|v| v.retain(|x| x.0 != row.0))>"✕"</button>
                            </div>
                        </For>
                        <button
                            type="button"
                            class="btn btn-ghost btn-small"
                            data-testid="add-header"
                            on:click=move |_| {
                                let id = next_id.get_value();
                                next_id.set_value(id + 1);
                                headers.update(|v| v.push((id, RwSignal::new(String::new()), RwSignal::new(String::new()))));
                            }
                        >
                            "+ Add header"
                        </button>
                    </div>
                </Show>
                <div class="produce-foot">
                    <button type="submit" class="btn btn-primary" data-testid="produce-send" disabled=move || busy.get()>
                        {move || if busy.get() { "Sending…" } else { "Produce" }}
                    </button>
                    {move || progress.get().map(|(done, total)| {
                        let pct = if total == 0 { 100.0 } else { done as f64 * 100.0 / total as f64 };
                        view! {
                            <div class="progress" data-testid="produce-progress">
                                <div class="progress-bar" style=format!("width:{pct:.1}%")></div>
                            </div>
                            <span class="mono small">{format!("{} / {}", num(done as i64), num(total as i64))}</span>
                        }
                    })}
                    {move || last.get().and_then(|r| r.last.map(|(p, o)| view! {
                        <span class="muted small mono" data-testid="produce-result">{format!("last at partition {p}, offset {o}")}</span>
                    }))}
                </div>
            </form>
        </div>
    }
}
