//! The schema editor: a textarea over a highlighted copy of its text (line numbers, wrong
//! lines marked), live validation, references, a compatibility check and Register.

use leptos::prelude::*;
use serde_json::{json, Value};
use sluice_api::{paths, SchemaReference, SchemaValidation, ValidateSchema};

use crate::api::{self, Method};
use crate::app::cluster;
use crate::code_view::{
    highlighted_lines, insert_text, newline_keeping_indent, scroll_sync, Gutter, LINE,
};
use crate::highlight::{lang_of, Lang};
use crate::util::toasts;

/// Height of one editor line in px; must match `.ce-line` / `.ce-ln` in the CSS.
pub const SCHEMA_TYPES: [&str; 3] = ["AVRO", "PROTOBUF", "JSON"];

pub fn type_label(t: &str) -> &'static str {
    match t {
        "PROTOBUF" => "Protobuf",
        "JSON" => "JSON Schema",
        _ => "Avro",
    }
}

/// A starting point for a new subject of each type.
pub fn template(schema_type: &str) -> &'static str {
    match schema_type {
        "PROTOBUF" => "syntax = \"proto3\";\n\npackage com.example;\n\nmessage Example {\n  string id = 1;\n  int64 created_at = 2;\n}\n",
        "JSON" => "{\n  \"$schema\": \"http://json-schema.org/draft-07/schema#\",\n  \"title\": \"Example\",\n  \"type\": \"object\",\n  \"properties\": {\n    \"id\": { \"type\": \"string\" },\n    \"created_at\": { \"type\": \"integer\" }\n  },\n  \"required\": [\"id\"]\n}\n",
        _ => "{\n  \"type\": \"record\",\n  \"name\": \"Example\",\n  \"namespace\": \"com.example\",\n  \"fields\": [\n    { \"name\": \"id\", \"type\": \"string\" },\n    { \"name\": \"created_at\", \"type\": \"long\" }\n  ]\n}\n",
    }
}

/// A schema as people read it: JSON pretty-printed (key order kept, small objects such as
/// an Avro field on one line), .proto as it is.
pub fn pretty_schema(schema_type: &str, text: &str) -> String {
    if lang_of(schema_type) == Lang::Proto {
        return text.to_string();
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v) => pretty_json(&v),
        Err(_) => text.to_string(),
    }
}

/// Lines this long at most hold a whole small object or array.
const WIDTH: usize = 90;

/// JSON over several lines, where objects and arrays nested at most two deep that fit on a
/// line stay on one: `{"name": "quantity", "type": "int"}`.
pub fn pretty_json(v: &Value) -> String {
    let mut out = String::new();
    write_pretty(v, 0, 0, &mut out);
    out
}

fn inline(v: &Value) -> String {
    match v {
        Value::Object(o) if o.is_empty() => "{}".into(),
        Value::Object(o) => {
            let parts: Vec<String> = o
                .iter()
                .map(|(k, x)| format!("{}: {}", Value::String(k.clone()), inline(x)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(inline).collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.to_string(),
    }
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// `indent`: of the value's lines; `column`: where the value starts on its first line.
fn write_pretty(v: &Value, indent: usize, column: usize, out: &mut String) {
    let one = inline(v);
    let container = matches!(v, Value::Object(o) if !o.is_empty())
        || matches!(v, Value::Array(a) if !a.is_empty());
    if !container || (depth(v) <= 2 && column + one.chars().count() <= WIDTH) {
        out.push_str(&one);
        return;
    }
    let pad = " ".repeat(indent + 2);
    match v {
        Value::Object(o) => {
            out.push_str("{\n");
            for (i, (k, x)) in o.iter().enumerate() {
                let key = Value::String(k.clone()).to_string();
                out.push_str(&pad);
                out.push_str(&key);
                out.push_str(": ");
                write_pretty(x, indent + 2, indent + 2 + key.chars().count() + 2, out);
                out.push_str(if i + 1 < o.len() { ",\n" } else { "\n" });
            }
            out.push_str(&" ".repeat(indent));
            out.push('}');
        }
        Value::Array(a) => {
            out.push_str("[\n");
            for (i, x) in a.iter().enumerate() {
                out.push_str(&pad);
                write_pretty(x, indent + 2, indent + 2, out);
                out.push_str(if i + 1 < a.len() { ",\n" } else { "\n" });
            }
            out.push_str(&" ".repeat(indent));
            out.push(']');
        }
        _ => out.push_str(&one),
    }
}

/// One reason a schema is incompatible. Confluent-style registries write them as
/// `{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'…', location:'/fields/4',
/// additionalInfo:'…'}` with both schemas in `additionalInfo`: the kind, description and
/// location are shown, the whole text is the tooltip.
pub fn reason_view(m: String) -> impl IntoView {
    let field = |key: &str| -> Option<String> {
        let open = format!("{key}:'");
        let start = m.find(&open)? + open.len();
        let rest = &m[start..];
        let end = [
            "', description:'",
            "', location:'",
            "', additionalInfo:'",
            "'}",
        ]
        .iter()
        .filter_map(|t| rest.find(t))
        .min()
        .unwrap_or(rest.len());
        Some(rest[..end].to_string())
    };
    let structured = m.trim_start().starts_with("{errorType:");
    let (kind, text, location) = if structured {
        (
            field("errorType"),
            field("description").unwrap_or_else(|| m.clone()),
            field("location"),
        )
    } else {
        (None, m.clone(), None)
    };
    view! {
        <li title=m.clone()>
            {kind.map(|k| view! { <span class="reason-kind">{k}</span> })}
            <span>{text}</span>
            {location.map(|l| view! { <span class="muted mono small">{format!(" at {l}")}</span> })}
        </li>
    }
}

/// UTF-16 offset of a 1-based line and column in `text` (what a textarea's selection counts).
pub fn utf16_offset(text: &str, line: u32, column: u32) -> u32 {
    let mut off = 0u32;
    for (i, l) in text.split('\n').enumerate() {
        if i + 1 == line as usize {
            let col: u32 = l
                .chars()
                .take(column.saturating_sub(1) as usize)
                .map(|c| c.len_utf16() as u32)
                .sum();
            return off + col;
        }
        off += l.encode_utf16().count() as u32 + 1;
    }
    off.saturating_sub(1)
}

/// Puts the caret at a line and column and scrolls there.
pub fn jump_to(ta: &web_sys::HtmlTextAreaElement, line: u32, column: u32) {
    let off = utf16_offset(&ta.value(), line, column.max(1));
    let _ = ta.focus();
    let _ = ta.set_selection_range(off, off);
    let top = (line as i32 - 4).max(0) * LINE;
    ta.set_scroll_top(top);
}

/// A code editor: a transparent textarea over its highlighted text.
#[component]
pub fn CodeEditor(
    text: RwSignal<String>,
    #[prop(into)] lang: Signal<Lang>,
    /// 1-based lines to mark as wrong.
    #[prop(into)]
    marks: Signal<Vec<u32>>,
    textarea: NodeRef<leptos::html::Textarea>,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    let pre = NodeRef::<leptos::html::Pre>::new();
    let gutter = NodeRef::<leptos::html::Div>::new();
    let sync = scroll_sync(textarea, pre, gutter);
    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.shift_key() {
            return;
        }
        let Some(ta) = textarea.get_untracked() else {
            return;
        };
        match ev.key().as_str() {
            "Tab" => {
                ev.prevent_default();
                insert_text(&ta, text, "  ");
            }
            "Enter" => {
                // Keep the line's indentation, one level more after an opening bracket.
                ev.prevent_default();
                newline_keeping_indent(&ta, text, true);
            }
            _ => {}
        }
    };
    // Re-align after the text changed (the textarea may have scrolled to the caret).
    Effect::new(move |_| {
        text.track();
        set_timeout(sync, std::time::Duration::from_millis(0));
    });
    view! {
        <div class="code-editor" data-testid=testid>
            <Gutter node_ref=gutter text=text marks=marks />
            <div class="ce-main">
                <pre class="ce-hl" node_ref=pre aria-hidden="true">
                    {highlighted_lines(text, lang, marks)}
                </pre>
                <textarea
                    class="ce-ta"
                    node_ref=textarea
                    data-testid="schema-text"
                    spellcheck="false"
                    autocomplete="off"
                    autocapitalize="off"
                    wrap="off"
                    prop:value=move || text.get()
                    on:input=move |ev| {
                        text.set(event_target_value(&ev));
                        sync();
                    }
                    on:scroll=move |_| sync()
                    on:keydown=on_keydown
                ></textarea>
            </div>
        </div>
    }
}

/// What a compatibility check said.
#[derive(Clone, Debug, PartialEq)]
struct CompatView {
    compatible: bool,
    messages: Vec<String>,
    note: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
enum Registered {
    Ok {
        subject: String,
        id: u64,
        version: Option<i64>,
    },
    Refused {
        message: String,
    },
    Failed {
        message: String,
    },
}

type RefRow = (u32, RwSignal<String>, RwSignal<String>, RwSignal<String>);

/// The editor with everything around it. `subject` is fixed when evolving a subject, None
/// for a new one (then typed here).
#[component]
pub fn SchemaEditor(
    subject: Option<String>,
    schema_type: String,
    schema: String,
    references: Vec<SchemaReference>,
    /// Called after a successful Register with the subject and the new version.
    on_registered: impl Fn(String, Option<i64>) + Clone + Send + Sync + 'static,
    /// Subject names to suggest (new subjects: `<topic>-value` for each topic).
    #[prop(optional)]
    suggestions: Vec<String>,
) -> impl IntoView {
    let cluster = cluster();
    let fixed = subject.is_some();
    let subject = RwSignal::new(subject.unwrap_or_default());
    let stype = RwSignal::new(schema_type);
    let text = RwSignal::new(schema);
    let next_ref = StoredValue::new(1u32);
    let refs = RwSignal::new(
        references
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                next_ref.set_value(i as u32 + 2);
                (
                    i as u32 + 1,
                    RwSignal::new(r.name),
                    RwSignal::new(r.subject),
                    RwSignal::new(r.version.to_string()),
                )
            })
            .collect::<Vec<RefRow>>(),
    );
    let validation = RwSignal::new(None::<SchemaValidation>);
    let validate_error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let generation = StoredValue::new(0u64);
    let compat = RwSignal::new(None::<CompatView>);
    let checking = RwSignal::new(false);
    let registered = RwSignal::new(None::<Registered>);
    let registering = RwSignal::new(false);
    let textarea = NodeRef::<leptos::html::Textarea>::new();
    let lang = Signal::derive(move || lang_of(&stype.get()));

    let refs_now = move || -> Vec<SchemaReference> {
        refs.get_untracked()
            .iter()
            .filter(|(_, n, s, _)| {
                !n.get_untracked().trim().is_empty() && !s.get_untracked().trim().is_empty()
            })
            .map(|(_, n, s, v)| SchemaReference {
                name: n.get_untracked().trim().to_string(),
                subject: s.get_untracked().trim().to_string(),
                version: v.get_untracked().trim().parse().unwrap_or(1),
            })
            .collect()
    };
    let body = move || {
        json!({
            "schema": text.get_untracked(),
            "schemaType": stype.get_untracked(),
            "references": refs_now(),
        })
    };

    // Live validation, debounced; only the newest answer counts.
    let validate = move |me: u64| {
        let req = ValidateSchema {
            schema_type: Some(stype.get_untracked()),
            schema: text.get_untracked(),
            references: refs_now(),
        };
        let url = paths::schema_validate(&api::enc(&cluster.get_untracked()));
        leptos::task::spawn_local(async move {
            let res = api::post::<_, SchemaValidation>(&url, &req).await;
            if generation.try_get_value() != Some(me) {
                return;
            }
            pending.set(false);
            match res {
                Ok(v) => {
                    validation.set(Some(v));
                    validate_error.set(None);
                }
                Err(e) => validate_error.set(Some(e)),
            }
        });
    };
    Effect::new(move |_| {
        text.track();
        stype.track();
        refs.with(|r| {
            for (_, n, s, v) in r {
                n.track();
                s.track();
                v.track();
            }
        });
        let Some(me) = generation.try_get_value().map(|g| g + 1) else {
            return;
        };
        generation.set_value(me);
        pending.set(true);
        compat.set(None);
        set_timeout(
            move || {
                if generation.try_get_value() == Some(me) {
                    validate(me);
                }
            },
            std::time::Duration::from_millis(350),
        );
    });
    let marks = Signal::derive(move || {
        validation.with(|v| {
            v.as_ref()
                .map(|v| v.errors.iter().filter_map(|e| e.line).collect::<Vec<u32>>())
                .unwrap_or_default()
        })
    });

    let subject_now = move || {
        let s = subject.get_untracked().trim().to_string();
        if s.is_empty() {
            toasts().error("Name the subject first");
            None
        } else {
            Some(s)
        }
    };

    let run_check = move |s: String, then_refused: Option<String>| {
        let c = cluster.get_untracked();
        let b = body();
        checking.set(true);
        leptos::task::spawn_local(async move {
            let res = api::registry::<Value>(
                Method::Post,
                &c,
                &format!(
                    "compatibility/subjects/{}/versions/latest?verbose=true",
                    api::enc(&s)
                ),
                Some(b),
            )
            .await;
            checking.set(false);
            let view = match res {
                Ok(v) => CompatView {
                    compatible: v
                        .get("is_compatible")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    messages: v
                        .get("messages")
                        .and_then(Value::as_array)
                        .map(|m| {
                            m.iter()
                                .map(|x| {
                                    x.as_str()
                                        .map(str::to_string)
                                        .unwrap_or_else(|| x.to_string())
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    note: None,
                },
                Err(e) if e.is(40401) || e.is(40402) => CompatView {
                    compatible: true,
                    messages: vec![],
                    note: Some(format!(
                        "{s} has no versions yet: any valid schema can be its first."
                    )),
                },
                Err(e) => CompatView {
                    compatible: false,
                    messages: vec![],
                    note: Some(e.message),
                },
            };
            let _ = compat.try_set(Some(view));
            if let Some(message) = then_refused {
                let _ = registered.try_set(Some(Registered::Refused { message }));
            }
        });
    };
    let check = move || {
        if let Some(s) = subject_now() {
            registered.set(None);
            run_check(s, None);
        }
    };

    let register = {
        let on_registered = on_registered.clone();
        move || {
            let Some(s) = subject_now() else { return };
            let c = cluster.get_untracked();
            let b = body();
            let on_registered = on_registered.clone();
            registering.set(true);
            registered.set(None);
            leptos::task::spawn_local(async move {
                let path = format!("subjects/{}/versions", api::enc(&s));
                let res = api::registry::<Value>(Method::Post, &c, &path, Some(b.clone())).await;
                match res {
                    Ok(v) => {
                        let id = v.get("id").and_then(Value::as_u64).unwrap_or(0);
                        // Confluent answers with the id only: look the version up.
                        let version = api::registry::<Value>(
                            Method::Post,
                            &c,
                            &format!("subjects/{}", api::enc(&s)),
                            Some(b),
                        )
                        .await
                        .ok()
                        .and_then(|v| v.get("version").and_then(Value::as_i64));
                        let _ = registering.try_set(false);
                        let _ = registered.try_set(Some(Registered::Ok {
                            subject: s.clone(),
                            id,
                            version,
                        }));
                        toasts().ok(match version {
                            Some(v) => format!("Registered {s} version {v} (id {id})"),
                            None => format!("Registered {s} (id {id})"),
                        });
                        on_registered(s, version);
                    }
                    Err(e) if e.is(409) => {
                        let _ = registering.try_set(false);
                        // The verbose check lists the reasons one by one.
                        run_check(s, Some(e.message));
                    }
                    Err(e) => {
                        let _ = registering.try_set(false);
                        let _ = registered.try_set(Some(Registered::Failed { message: e.message }));
                    }
                }
            });
        }
    };

    let format_text = move || {
        if lang.get_untracked() == Lang::Json {
            match serde_json::from_str::<Value>(&text.get_untracked()) {
                Ok(v) => text.set(pretty_json(&v) + "\n"),
                Err(e) => toasts().error(format!("Not valid JSON: {e}")),
            }
        }
    };

    let jump = move |line: u32, column: u32| {
        if let Some(ta) = textarea.get_untracked() {
            jump_to(&ta, line, column);
        }
    };

    let has_subjects = !suggestions.is_empty();
    view! {
        <div class="editor-layout" data-testid="schema-editor">
            <div class="card editor-card">
                <div class="editor-toolbar">
                    {(!fixed).then(|| view! {
                        <label class="qfield grow">
                            <span>"Subject"</span>
                            <input
                                type="text"
                                class="mono"
                                data-testid="subject-name"
                                placeholder="orders-value"
                                list=if has_subjects { "subject-suggestions" } else { "" }
                                prop:value=move || subject.get()
                                on:input=move |ev| subject.set(event_target_value(&ev))
                            />
                            <datalist id="subject-suggestions">
                                {suggestions.iter().map(|s| view! { <option value=s.clone()></option> }).collect_view()}
                            </datalist>
                        </label>
                    })}
                    <label class="qfield">
                        <span>"Type"</span>
                        <select
                            data-testid="schema-type"
                            prop:value=move || stype.get()
                            on:change=move |ev| {
                                let new = event_target_value(&ev);
                                // An untouched template follows the type.
                                let old = stype.get_untracked();
                                if text.with_untracked(|t| t.trim().is_empty() || t == template(&old)) {
                                    text.set(template(&new).to_string());
                                }
                                stype.set(new);
                            }
                        >
                            {SCHEMA_TYPES.iter().map(|t| view! { <option value=*t>{type_label(t)}</option> }).collect_view()}
                        </select>
                    </label>
                    <button
                        type="button"
                        class="btn btn-ghost"
                        title="Pretty-print the JSON"
                        disabled=move || lang.get() != Lang::Json
                        on:click=move |_| format_text()
                    >
                        "Format"
                    </button>
                    <span class="spacer"></span>
                    <button type="button" class="btn" data-testid="check-compat" disabled=move || checking.get() on:click=move |_| check()>
                        {move || if checking.get() { "Checking…" } else { "Check compatibility" }}
                    </button>
                    <button
                        type="button"
                        class="btn btn-primary"
                        data-testid="register-schema"
                        disabled=move || registering.get()
                        on:click={
                            let register = register.clone();
                            move |_| register()
                        }
                    >
                        {move || if registering.get() { "Registering…" } else { "Register" }}
                    </button>
                </div>
                <CodeEditor text=text lang=lang marks=marks textarea=textarea testid="code-editor"/>
                <div class="editor-status" data-testid="validation">
                    {move || {
                        if pending.get() && validation.with(|v| v.is_none()) {
                            return view! { <span class="muted small">"Checking…"</span> }.into_any();
                        }
                        if let Some(e) = validate_error.get() {
                            return view! { <span class="muted small" data-testid="validation-unavailable">{format!("Validation unavailable: {e}")}</span> }.into_any();
                        }
                        match validation.get() {
                            None => view! { <span></span> }.into_any(),
                            Some(v) if v.valid => view! {
                                <span class="status-ok" data-testid="schema-valid">
                                    {format!("✓ Valid {} schema", type_label(&stype.get()))}
                                </span>
                                {move || pending.get().then(|| view! { <span class="muted small">" · checking…"</span> })}
                            }
                                .into_any(),
                            Some(v) => view! {
                                <div class="status-errors">
                                    <span class="status-bad">
                                        {format!("✗ {} problem{}", v.errors.len(), if v.errors.len() == 1 { "" } else { "s" })}
                                    </span>
                                    <ul class="problems">
                                        {v.errors.into_iter().map(|e| {
                                            let at = match (e.line, e.column) {
                                                (Some(l), Some(c)) => format!("{l}:{c}"),
                                                (Some(l), None) => format!("{l}"),
                                                _ => String::new(),
                                            };
                                            let (l, c) = (e.line, e.column.unwrap_or(1));
                                            view! {
                                                <li data-testid="schema-error">
                                                    {(!at.is_empty()).then(|| view! {
                                                        <button
                                                            type="button"
                                                            class="link-btn mono"
                                                            data-testid="schema-error-at"
                                                            title="Go to the line"
                                                            on:click=move |_| { if let Some(l) = l { jump(l, c); } }
                                                        >
                                                            {at.clone()}
                                                        </button>
                                                    })}
                                                    <span>{e.message}</span>
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                </div>
                            }
                                .into_any(),
                        }
                    }}
                </div>
            </div>
            <div class="editor-side">
                {move || registered.get().map(|r| match r {
                    Registered::Ok { subject, id, version } => view! {
                        <div class="card result result-ok" data-testid="register-result">
                            <h3>"Registered"</h3>
                            <dl class="props">
                                <dt>"Subject"</dt><dd class="mono">{subject.clone()}</dd>
                                <dt>"Version"</dt><dd class="mono" data-testid="registered-version">{version.map(|v| v.to_string()).unwrap_or_else(|| "—".into())}</dd>
                                <dt>"Schema id"</dt><dd class="mono" data-testid="registered-id">{id}</dd>
                            </dl>
                        </div>
                    }.into_any(),
                    Registered::Refused { message } => {
                        let headline = message.split(", details:").next().unwrap_or(&message).to_string();
                        view! {
                            <div class="card result result-bad" data-testid="register-result">
                                <h3>"Refused: incompatible"</h3>
                                <p class="small" data-testid="register-error">{headline}</p>
                                <p class="small muted">"The reasons are listed below."</p>
                                <details class="raw-answer">
                                    <summary class="small muted">"The registry's whole answer"</summary>
                                    <pre class="code">{message}</pre>
                                </details>
                            </div>
                        }.into_any()
                    }
                    Registered::Failed { message } => view! {
                        <div class="card result result-bad" data-testid="register-result">
                            <h3>"Not registered"</h3>
                            <p class="small" data-testid="register-error">{message}</p>
                        </div>
                    }.into_any(),
                })}
                {move || compat.get().map(|c| view! {
                    <div class=if c.compatible { "card result result-ok" } else { "card result result-bad" } data-testid="compat-result">
                        <h3 data-testid="compat-verdict">
                            {if c.compatible { "✓ Compatible with the latest version" } else { "✗ Incompatible with the latest version" }}
                        </h3>
                        {c.note.map(|n| view! { <p class="small">{n}</p> })}
                        {(!c.messages.is_empty()).then(|| view! {
                            <ul class="reasons" data-testid="compat-messages">
                                {c.messages.into_iter().map(reason_view).collect_view()}
                            </ul>
                        })}
                    </div>
                })}
                <div class="card">
                    <div class="card-head">
                        <h3>"References"</h3>
                        <button
                            type="button"
                            class="btn btn-ghost btn-small"
                            data-testid="add-reference"
                            on:click=move |_| {
                                let id = next_ref.get_value();
                                next_ref.set_value(id + 1);
                                refs.update(|v| v.push((id, RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new("1".to_string()))));
                            }
                        >
                            "+ Add"
                        </button>
                    </div>
                    {move || refs.with(|r| r.is_empty()).then(|| view! {
                        <p class="muted small">"Types imported from other subjects: the name as imported (Avro type name, .proto file, JSON Schema $ref), the subject and its version."</p>
                    })}
                    <For each=move || refs.get() key=|x| x.0 let:row>
                        <div class="ref-row" data-testid="reference-row">
                            <input type="text" class="mono" placeholder="name" title="Name as imported" prop:value=move || row.1.get() on:input=move |ev| row.1.set(event_target_value(&ev))/>
                            <input type="text" class="mono" placeholder="subject" prop:value=move || row.2.get() on:input=move |ev| row.2.set(event_target_value(&ev))/>
                            <input type="number" min="1" class="mono ref-version" placeholder="1" prop:value=move || row.3.get() on:input=move |ev| row.3.set(event_target_value(&ev))/>
                            <button type="button" class="btn btn-ghost btn-small" title="Remove" on:click=move |_| refs.update(|v| v.retain(|x| x.0 != row.0))>"✕"</button>
                        </div>
                    </For>
                </div>
                <div class="card help small muted">
                    <kbd>"Tab"</kbd>" indents · the registry checks the schema as you type · "
                    "Check compatibility compares it with the latest version under the subject's level"
                </div>
            </div>
        </div>
    }
}
