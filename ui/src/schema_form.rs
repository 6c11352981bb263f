//! A form generated from a schema (`SchemaForm`'s tree of fields): records as nested
//! fieldsets, enums as selects, booleans as checkboxes, numbers as number inputs, arrays and
//! maps with rows to add and remove, nullable fields with a null toggle, unions with a branch
//! select, defaults prefilled, docs as hints. It builds the JSON value to produce.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use leptos::prelude::*;
use serde_json::{Map, Number, Value};
use sluice_api::{FormField, FormKind};

static NEXT_ROW: AtomicU32 = AtomicU32::new(1);

fn row_id() -> u32 {
    NEXT_ROW.fetch_add(1, Ordering::Relaxed)
}

/// The state of one field.
#[derive(Clone)]
pub struct Field {
    spec: Arc<FormField>,
    null: RwSignal<bool>,
    st: St,
}

#[derive(Clone)]
enum St {
    Record(Vec<Field>),
    Enum(RwSignal<String>),
    Array {
        item: Arc<FormField>,
        items: RwSignal<Vec<(u32, Field)>>,
    },
    Map {
        values: Arc<FormField>,
        entries: RwSignal<Vec<(u32, RwSignal<String>, Field)>>,
    },
    Union {
        branches: Vec<Field>,
        chosen: RwSignal<usize>,
    },
    Text(RwSignal<String>),
    Number {
        text: RwSignal<String>,
        integer: bool,
    },
    Bool(RwSignal<bool>),
    Json(RwSignal<String>),
}

/// The state of a form for `spec`, filled from `value`, else from the schema's defaults.
pub fn build(spec: &FormField, value: Option<&Value>) -> Field {
    let default = spec
        .default
        .as_deref()
        .and_then(|d| serde_json::from_str::<Value>(d).ok());
    let v = value.or(default.as_ref());
    Field {
        spec: Arc::new(spec.clone()),
        null: RwSignal::new(spec.nullable && matches!(v, Some(Value::Null))),
        st: kind_state(&spec.kind, v.filter(|v| !v.is_null())),
    }
}

fn kind_state(kind: &FormKind, v: Option<&Value>) -> St {
    match kind {
        FormKind::Record { fields, .. } => St::Record(
            fields
                .iter()
                .map(|f| build(f, v.and_then(|v| v.get(&f.name))))
                .collect(),
        ),
        FormKind::Enum { symbols, .. } => St::Enum(RwSignal::new(
            v.and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| symbols.first().cloned())
                .unwrap_or_default(),
        )),
        FormKind::Array { items } => St::Array {
            item: Arc::new((**items).clone()),
            items: RwSignal::new(
                v.and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|x| (row_id(), build(items, Some(x))))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
        },
        FormKind::Map { values } => St::Map {
            values: Arc::new((**values).clone()),
            entries: RwSignal::new(
                v.and_then(Value::as_object)
                    .map(|o| {
                        o.iter()
                            .map(|(k, x)| {
                                (row_id(), RwSignal::new(k.clone()), build(values, Some(x)))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
        },
        FormKind::Union { branches } => {
            // Avro's tagged form {"type": value} names the branch; else the first that fits.
            let tagged = v
                .and_then(Value::as_object)
                .filter(|o| o.len() == 1)
                .and_then(|o| {
                    let (k, x) = o.iter().next()?;
                    let i = branches
                        .iter()
                        .position(|b| branch_names(b).iter().any(|n| n == k))?;
                    Some((i, x))
                });
            let (chosen, inner) = match tagged {
                Some((i, x)) => (i, Some(x)),
                None => (
                    v.and_then(|v| branches.iter().position(|b| fits(&b.kind, v)))
                        .unwrap_or(0),
                    v,
                ),
            };
            St::Union {
                branches: branches
                    .iter()
                    .enumerate()
                    .map(|(i, b)| build(b, if i == chosen { inner } else { None }))
                    .collect(),
                chosen: RwSignal::new(chosen),
            }
        }
        FormKind::String | FormKind::Bytes => St::Text(RwSignal::new(match v {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        })),
        FormKind::Int | FormKind::Long => St::Number {
            text: RwSignal::new(v.map(|x| x.to_string()).unwrap_or_default()),
            integer: true,
        },
        FormKind::Float | FormKind::Double => St::Number {
            text: RwSignal::new(v.map(|x| x.to_string()).unwrap_or_default()),
            integer: false,
        },
        FormKind::Boolean => St::Bool(RwSignal::new(v.and_then(Value::as_bool).unwrap_or(false))),
        FormKind::Logical { base, .. } => kind_state(base, v),
        FormKind::Json => St::Json(RwSignal::new(
            v.map(|x| serde_json::to_string_pretty(x).unwrap_or_default())
                .unwrap_or_default(),
        )),
    }
}

/// The names a union branch goes by in Avro's tagged JSON (`"string"`, `"com.acme.Order"`).
fn branch_names(b: &FormField) -> Vec<String> {
    let mut names = vec![b.name.clone(), kind_label(&b.kind)];
    match &b.kind {
        FormKind::Record {
            type_name: Some(t), ..
        }
        | FormKind::Enum {
            type_name: Some(t), ..
        } => {
            names.push(t.clone());
            names.push(t.rsplit('.').next().unwrap_or(t).to_string());
        }
        FormKind::Logical { base, .. } => names.push(kind_label(base)),
        _ => {}
    }
    names
}

/// Whether a JSON value has the shape of a kind (to pick a union's branch).
fn fits(kind: &FormKind, v: &Value) -> bool {
    match (kind, v) {
        (FormKind::Record { .. } | FormKind::Map { .. }, Value::Object(_)) => true,
        (FormKind::Array { .. }, Value::Array(_)) => true,
        (FormKind::String | FormKind::Bytes | FormKind::Enum { .. }, Value::String(_)) => true,
        (FormKind::Int | FormKind::Long, Value::Number(n)) => n.is_i64() || n.is_u64(),
        (FormKind::Float | FormKind::Double, Value::Number(_)) => true,
        (FormKind::Boolean, Value::Bool(_)) => true,
        (FormKind::Logical { base, .. }, v) => fits(base, v),
        (FormKind::Json, _) => true,
        _ => false,
    }
}

pub fn kind_label(k: &FormKind) -> String {
    match k {
        FormKind::Record { type_name, .. } => type_name
            .as_deref()
            .map(|t| t.rsplit('.').next().unwrap_or(t).to_string())
            .unwrap_or_else(|| "record".into()),
        FormKind::Enum { type_name, .. } => type_name
            .as_deref()
            .map(|t| format!("enum {}", t.rsplit('.').next().unwrap_or(t)))
            .unwrap_or_else(|| "enum".into()),
        FormKind::Array { items } => format!("array<{}>", kind_label(&items.kind)),
        FormKind::Map { values } => format!("map<{}>", kind_label(&values.kind)),
        FormKind::Union { .. } => "union".into(),
        FormKind::String => "string".into(),
        FormKind::Int => "int".into(),
        FormKind::Long => "long".into(),
        FormKind::Float => "float".into(),
        FormKind::Double => "double".into(),
        FormKind::Boolean => "boolean".into(),
        FormKind::Bytes => "bytes".into(),
        FormKind::Logical { logical, base } => format!("{} · {logical}", kind_label(base)),
        FormKind::Json => "json".into(),
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// An optional field (one with a default, a JSON Schema property that is not required, a
/// Protobuf field) left empty is left out of the value: an empty text or number input, an
/// array or map without rows, a union (a Protobuf oneof) whose branch is empty.
fn left_out(f: &Field) -> bool {
    if !f.spec.optional || (f.spec.nullable && f.null.get()) {
        return false;
    }
    empty(f)
}

fn empty(f: &Field) -> bool {
    if f.spec.nullable && f.null.get() {
        return false;
    }
    match &f.st {
        St::Text(s) => s.with(|s| s.is_empty()),
        St::Number { text, .. } => text.with(|t| t.trim().is_empty()),
        St::Array { items, .. } => items.with(|v| v.is_empty()),
        St::Map { entries, .. } => entries.with(|v| v.is_empty()),
        St::Union { branches, chosen } => branches.get(chosen.get()).is_some_and(empty),
        // A oneof's branch: a record of the one member.
        St::Record(fields) => {
            !fields.is_empty() && fields.iter().all(|c| c.spec.optional && empty(c))
        }
        _ => false,
    }
}

/// The JSON the form holds (reactive: tracks every input). Errors name the field.
pub fn to_json(f: &Field) -> Result<Value, String> {
    value_of(f, "")
}

fn value_of(f: &Field, path: &str) -> Result<Value, String> {
    if f.spec.nullable && f.null.get() {
        return Ok(Value::Null);
    }
    let here = if path.is_empty() { "the value" } else { path };
    Ok(match &f.st {
        St::Record(fields) => {
            let mut o = Map::new();
            for c in fields {
                if left_out(c) {
                    continue;
                }
                o.insert(c.spec.name.clone(), value_of(c, &join(path, &c.spec.name))?);
            }
            Value::Object(o)
        }
        St::Enum(s) => Value::String(s.get()),
        St::Array { items, .. } => Value::Array(
            items
                .get()
                .iter()
                .enumerate()
                .map(|(i, (_, x))| value_of(x, &join(path, &i.to_string())))
                .collect::<Result<_, _>>()?,
        ),
        St::Map { entries, .. } => {
            let mut o = Map::new();
            for (_, k, x) in entries.get().iter() {
                let key = k.get();
                if o.contains_key(&key) {
                    return Err(format!("{here}: the key “{key}” appears twice"));
                }
                let v = value_of(x, &join(path, &key))?;
                o.insert(key, v);
            }
            Value::Object(o)
        }
        St::Union { branches, chosen } => {
            let b = branches
                .get(chosen.get())
                .ok_or_else(|| format!("{here}: pick a branch"))?;
            value_of(b, path)?
        }
        St::Text(s) => Value::String(s.get()),
        St::Number { text, integer } => {
            let t = text.get();
            let t = t.trim();
            if t.is_empty() {
                return Err(format!("{here}: a number is required"));
            }
            if *integer {
                Value::Number(
                    t.parse::<i64>()
                        .map_err(|_| format!("{here}: “{t}” is not a whole number"))?
                        .into(),
                )
            } else {
                let x = t
                    .parse::<f64>()
                    .map_err(|_| format!("{here}: “{t}” is not a number"))?;
                Value::Number(
                    Number::from_f64(x)
                        .ok_or_else(|| format!("{here}: “{t}” is not a finite number"))?,
                )
            }
        }
        St::Bool(b) => Value::Bool(b.get()),
        St::Json(t) => {
            serde_json::from_str(&t.get()).map_err(|e| format!("{here}: not valid JSON ({e})"))?
        }
    })
}

/// The form of a schema's root field.
pub fn form_view(root: Field) -> impl IntoView {
    view! { <div class="sf" data-testid="schema-form">{field_view(root, String::new())}</div> }
}

fn field_view(f: Field, path: String) -> AnyView {
    let spec = f.spec.clone();
    let null = f.null;
    let nullable = spec.nullable;
    let label = if spec.name.is_empty() {
        if path.is_empty() {
            String::new()
        } else {
            "item".to_string()
        }
    } else {
        spec.name.clone()
    };
    let type_label = if spec.optional {
        format!("{} · optional", kind_label(&spec.kind))
    } else {
        kind_label(&spec.kind)
    };
    let doc = spec.doc.clone();
    let null_toggle = {
        let path = path.clone();
        move || {
            nullable.then(|| {
                view! {
                    <label class="sf-null" title="Send null">
                        <input type="checkbox" data-null=path.clone() prop:checked=move || null.get() on:change=move |ev| null.set(event_target_checked(&ev))/>
                        "null"
                    </label>
                }
            })
        }
    };
    match f.st.clone() {
        St::Record(fields) => {
            let children = {
                let path = path.clone();
                fields
                    .into_iter()
                    .map(|c| {
                        let p = join(&path, &c.spec.name);
                        field_view(c, p)
                    })
                    .collect::<Vec<_>>()
            };
            if path.is_empty() && !nullable {
                // The root: its fields, without a frame.
                view! {
                    {doc.map(|d| view! { <div class="sf-doc">{d}</div> })}
                    <div class="sf-fields">{children}</div>
                }
                .into_any()
            } else {
                view! {
                    <fieldset class="sf-record" data-path=path.clone()>
                        <legend>
                            <span class="sf-name">{label}</span>
                            <span class="sf-type">{type_label}</span>
                            {null_toggle()}
                        </legend>
                        {doc.map(|d| view! { <div class="sf-doc">{d}</div> })}
                        <div class="sf-fields" class:sf-off=move || null.get()>{children}</div>
                    </fieldset>
                }
                .into_any()
            }
        }
        st => {
            let input = input_view(&spec, st, path.clone(), null);
            view! {
                <div class="sf-field" data-path=path.clone()>
                    <div class="sf-label">
                        <span class="sf-name">{label}</span>
                        <span class="sf-type">{type_label}</span>
                        {null_toggle()}
                    </div>
                    <div class="sf-input" class:sf-off=move || null.get()>{input}</div>
                    {doc.map(|d| view! { <div class="sf-doc">{d}</div> })}
                </div>
            }
            .into_any()
        }
    }
}

/// A union's chosen branch: it is the union's value, so it has no label of its own.
/// Also an array's item and a map's value: the row says what they are.
fn branch_view(b: Field, path: String) -> AnyView {
    let null = b.null;
    let toggle = b.spec.nullable.then(|| {
        view! {
            <label class="sf-null" title="Send null">
                <input type="checkbox" data-null=path.clone() prop:checked=move || null.get() on:change=move |ev| null.set(event_target_checked(&ev))/>
                "null"
            </label>
        }
    });
    match b.st.clone() {
        St::Record(fields) => view! {
            {toggle}
            <div class="sf-fields" class:sf-off=move || null.get()>
                {fields.into_iter().map(|c| {
                    let p = join(&path, &c.spec.name);
                    field_view(c, p)
                }).collect::<Vec<_>>()}
            </div>
        }
        .into_any(),
        st => view! {
            <div class="sf-row">
                <div class="sf-grow">{input_view(&b.spec, st, path.clone(), b.null)}</div>
                {toggle}
            </div>
        }
        .into_any(),
    }
}

fn input_view(spec: &FormField, st: St, path: String, null: RwSignal<bool>) -> AnyView {
    let off = move || null.get();
    let logical = match &spec.kind {
        FormKind::Logical { logical, .. } => Some(logical.clone()),
        _ => None,
    };
    match st {
        St::Enum(s) => {
            let symbols = match &spec.kind {
                FormKind::Enum { symbols, .. } => symbols.clone(),
                _ => vec![],
            };
            view! {
                <select data-field=path prop:value=move || s.get() disabled=off on:change=move |ev| s.set(event_target_value(&ev))>
                    {symbols.into_iter().map(|x| {
                        let sel = x.clone();
                        let label = x.clone();
                        view! { <option value=x selected=move || s.get_untracked() == sel>{label}</option> }
                    }).collect_view()}
                </select>
            }
            .into_any()
        }
        St::Text(s) => view! {
            <input
                type="text"
                class="mono"
                data-field=path
                placeholder=logical.unwrap_or_else(|| if spec.optional { "(left out when empty)".into() } else { String::new() })
                prop:value=move || s.get()
                disabled=off
                on:input=move |ev| s.set(event_target_value(&ev))
            />
        }
        .into_any(),
        St::Number { text, integer } => {
            let optional = spec.optional;
            // Dates and timestamps get a "now" button.
            let now = logical.as_deref().and_then(|l| match l {
                "timestamp-millis" | "local-timestamp-millis" => Some(1.0),
                "timestamp-micros" | "local-timestamp-micros" => Some(1000.0),
                "date" => Some(1.0 / 86_400_000.0),
                _ => None,
            });
            view! {
                <div class="sf-row">
                    <input
                        type="number"
                        class="mono"
                        step=if integer { "1" } else { "any" }
                        data-field=path
                        placeholder=logical.clone().unwrap_or_else(|| if optional { "(left out when empty)".into() } else { String::new() })
                        prop:value=move || text.get()
                        disabled=off
                        on:input=move |ev| text.set(event_target_value(&ev))
                    />
                    {now.map(|scale| view! {
                        <button type="button" class="btn btn-ghost btn-small" disabled=off on:click=move |_| {
                            text.set(((crate::util::now_ms() * scale).floor() as i64).to_string());
                        }>{if scale < 1.0 { "today" } else { "now" }}</button>
                    })}
                </div>
            }
            .into_any()
        }
        St::Bool(b) => view! {
            <label class="check sf-bool">
                <input type="checkbox" data-field=path prop:checked=move || b.get() disabled=off on:change=move |ev| b.set(event_target_checked(&ev))/>
                {move || if b.get() { "true" } else { "false" }}
            </label>
        }
        .into_any(),
        St::Json(t) => view! {
            <textarea class="mono" rows="3" data-field=path placeholder="any JSON" prop:value=move || t.get() disabled=off on:input=move |ev| t.set(event_target_value(&ev))></textarea>
        }
        .into_any(),
        St::Array { item, items } => {
            let add_path = path.clone();
            view! {
                <div class="sf-list">
                    <For each=move || items.get() key=|x| x.0 let:row>
                        {
                            let (id, f) = row;
                            let i = items.with_untracked(|v| v.iter().position(|x| x.0 == id).unwrap_or(0));
                            view! {
                                <div class="sf-item">
                                    <span class="sf-idx mono">{format!("#{i}")}</span>
                                    <div class="sf-item-body">{branch_view(f, join(&path, &i.to_string()))}</div>
                                    <button type="button" class="btn btn-ghost btn-small" title="Remove" on:click=move |_| items.update(|v| v.retain(|x| x.0 != id))>"✕"</button>
                                </div>
                            }
                        }
                    </For>
                    <button
                        type="button"
                        class="btn btn-ghost btn-small"
                        data-add=add_path
                        disabled=off
                        on:click=move |_| {
                            let f = build(&item, None);
                            items.update(|v| v.push((row_id(), f)));
                        }
                    >
                        "+ Add item"
                    </button>
                </div>
            }
            .into_any()
        }
        St::Map { values, entries } => {
            let add_path = path.clone();
            view! {
                <div class="sf-list">
                    <For each=move || entries.get() key=|x| x.0 let:row>
                        {
                            let (id, k, f) = row;
                            let p = join(&path, &format!("#{id}"));
                            view! {
                                <div class="sf-item">
                                    <input type="text" class="mono sf-key" placeholder="key" data-key=p.clone() prop:value=move || k.get() on:input=move |ev| k.set(event_target_value(&ev))/>
                                    <span class="sf-arrow muted">"→"</span>
                                    <div class="sf-item-body">{branch_view(f, p)}</div>
                                    <button type="button" class="btn btn-ghost btn-small" title="Remove" on:click=move |_| entries.update(|v| v.retain(|x| x.0 != id))>"✕"</button>
                                </div>
                            }
                        }
                    </For>
                    <button
                        type="button"
                        class="btn btn-ghost btn-small"
                        data-add=add_path
                        disabled=off
                        on:click=move |_| {
                            let f = build(&values, None);
                            entries.update(|v| v.push((row_id(), RwSignal::new(String::new()), f)));
                        }
                    >
                        "+ Add entry"
                    </button>
                </div>
            }
            .into_any()
        }
        St::Union { branches, chosen } => {
            let labels: Vec<String> = branches
                .iter()
                .map(|b| {
                    if b.spec.name.is_empty() {
                        kind_label(&b.spec.kind)
                    } else {
                        b.spec.name.clone()
                    }
                })
                .collect();
            let branches = StoredValue::new(branches);
            let p = path.clone();
            view! {
                <div class="sf-union">
                    <select data-branch=path prop:value=move || chosen.get().to_string() disabled=off on:change=move |ev| {
                        if let Ok(i) = event_target_value(&ev).parse() { chosen.set(i); }
                    }>
                        {labels.into_iter().enumerate().map(|(i, l)| view! {
                            <option value=i.to_string() selected=move || chosen.get_untracked() == i>{l}</option>
                        }).collect_view()}
                    </select>
                    <div class="sf-branch">
                        {move || {
                            let i = chosen.get();
                            branches.with_value(|b| b.get(i).cloned()).map(|b| branch_view(b, p.clone()))
                        }}
                    </div>
                </div>
            }
            .into_any()
        }
        St::Record(_) => unreachable!("records are drawn by field_view"),
    }
}
