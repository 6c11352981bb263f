//! The Produce tab: one record, N copies of it, or a JSON array of records, sent in chunks
//! with a progress bar.

use leptos::prelude::*;
use serde_json::Value;
use sluice_api::{paths, MessageHeader, ProduceRecord, ProduceRequest, ProduceResult, TopicDetail};

use crate::api;
use crate::app::{cluster, event_input};
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
/// bare value (not an object with `value`/`key`) is taken as the record's value.
pub fn parse_records(text: &str) -> Result<Vec<ProduceRecord>, String> {
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
                    value: o.get("value").and_then(text_of),
                    headers,
                    partition,
                }
            }
            other => ProduceRecord {
                value: text_of(other),
                ..Default::default()
            },
        };
        out.push(rec);
    }
    Ok(out)
}

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

    let one_record = move || ProduceRecord {
        key: {
            let k = key.get_untracked();
            (!k.is_empty()).then_some(k)
        },
        value: Some(value.get_untracked()),
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
    };

    let send = move || {
        // Build the chunks first, so a bad input fails before anything is sent.
        let chunks: Vec<ProduceRequest> = match mode.get_untracked().as_str() {
            "copies" => {
                let Ok(n) = copies.get_untracked().trim().parse::<u64>() else {
                    toasts().error("Copies must be a number");
                    return;
                };
                let rec = one_record();
                let mut left = n;
                let mut v = Vec::new();
                while left > 0 {
                    let c = left.min(CHUNK_COPIES);
                    v.push(ProduceRequest {
                        records: vec![rec.clone()],
                        copies: Some(c as u32),
                        ..Default::default()
                    });
                    left -= c;
                }
                v
            }
            "json" => match parse_records(&bulk.get_untracked()) {
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
                            ..Default::default()
                        })
                        .collect()
                }
                Err(e) => {
                    toasts().error(e);
                    return;
                }
            },
            _ => vec![ProduceRequest {
                records: vec![one_record()],
                copies: None,
                ..Default::default()
            }],
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

    view! {
        <div class="card produce" data-testid="produce">
            <div class="card-head">
                <h2>"Produce"</h2>
                <div class="segmented">
                    {mode_radio("single", "One record")}
                    {mode_radio("copies", "N copies")}
                    {mode_radio("json", "JSON array")}
                </div>
            </div>
            <form on:submit=move |ev| {
                ev.prevent_default();
                if !busy.get_untracked() {
                    send();
                }
            }>
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
                            <span>"Records (JSON array of {\"key\", \"value\", \"headers\", \"partition\"}, or of plain values)"</span>
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
                    <label class="field">
                        <span>"Value"</span>
                        <textarea class="mono" rows="8" data-testid="produce-value" prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))></textarea>
                    </label>
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
