//! The SQL editor: a textarea over its highlighted text (the schema editor's technique and
//! styles), lines with errors marked, Ctrl+Enter to run, and completion of keywords,
//! functions, streams, tables and columns in a popup driven by the keyboard (↑ ↓, Enter or
//! Tab to accept, Esc to close; Ctrl+Space opens it).

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::code_view::{
    highlighted_lines, insert_text, newline_keeping_indent, scroll_sync, Gutter, LINE,
};
use crate::highlight::Lang;
use crate::sql_lang::{complete, in_literal, word_before, SourceInfo, Suggestion};

/// Padding of the text inside the editor (px); must match `.ce-hl` / `.ce-ta`.
const PAD_TOP: f64 = 10.0;
const PAD_LEFT: f64 = 14.0;

/// The caret's char index from the textarea's UTF-16 selection.
fn caret_chars(text: &str, utf16: u32) -> usize {
    let mut units = 0u32;
    for (i, c) in text.chars().enumerate() {
        if units >= utf16 {
            return i;
        }
        units += c.len_utf16() as u32;
    }
    text.chars().count()
}

fn utf16_of(text: &str, chars: usize) -> u32 {
    text.chars().take(chars).map(|c| c.len_utf16() as u32).sum()
}

/// The statement around `caret`: from the `;` before it to the `;` after it.
fn statement_at(text: &str, caret: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let caret = caret.min(chars.len());
    let a = chars[..caret]
        .iter()
        .rposition(|c| *c == ';')
        .map_or(0, |i| i + 1);
    let b = chars[caret..]
        .iter()
        .position(|c| *c == ';')
        .map_or(chars.len(), |i| caret + i);
    chars[a..b].iter().collect()
}

#[derive(Clone, Debug, PartialEq)]
struct Popup {
    items: Vec<Suggestion>,
    selected: usize,
    /// Where the word being completed starts (char index).
    start: usize,
    top: f64,
    left: f64,
}

#[component]
pub fn SqlEditor(
    text: RwSignal<String>,
    /// 1-based lines to mark as wrong.
    #[prop(into)]
    marks: Signal<Vec<u32>>,
    /// The 1-based line and column an error points at, marked under its character.
    #[prop(into)]
    error_at: Signal<Option<(u32, u32)>>,
    #[prop(into)] sources: Signal<Vec<SourceInfo>>,
    textarea: NodeRef<leptos::html::Textarea>,
    /// Ctrl+Enter.
    on_run: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let pre = NodeRef::<leptos::html::Pre>::new();
    let gutter = NodeRef::<leptos::html::Div>::new();
    let measure = NodeRef::<leptos::html::Span>::new();
    let popup = RwSignal::new(None::<Popup>);
    let sync = scroll_sync(textarea, pre, gutter);

    // Opens (or refreshes) the popup for the word before the caret; `forced` also for an
    // empty word (Ctrl+Space).
    let suggest = move |forced: bool| {
        let Some(ta) = textarea.get_untracked() else {
            return;
        };
        let v = ta.value();
        let caret = caret_chars(&v, ta.selection_start().ok().flatten().unwrap_or(0));
        let (start, word) = word_before(&v, caret);
        if in_literal(&v, caret) || (word.is_empty() && !forced) {
            popup.set(None);
            return;
        }
        let stmt = statement_at(&v, caret);
        let items = if word.is_empty() {
            // Ctrl+Space on nothing: the sources, then keywords.
            sources.with_untracked(|s| {
                let mut out: Vec<Suggestion> = s
                    .iter()
                    .map(|x| Suggestion {
                        text: x.name.clone(),
                        kind: if x.is_table { "table" } else { "stream" },
                        detail: format!("{} columns", x.columns.len()),
                    })
                    .collect();
                for k in ["SELECT", "FROM", "WHERE", "EMIT CHANGES", "GROUP BY"] {
                    out.push(Suggestion {
                        text: k.into(),
                        kind: "keyword",
                        detail: String::new(),
                    });
                }
                out
            })
        } else {
            sources.with_untracked(|s| complete(&word, &stmt, s, 12))
        };
        if items.is_empty() {
            popup.set(None);
            return;
        }
        let before: String = v.chars().take(start).collect();
        let line = before.matches('\n').count() as f64;
        let col = before.rsplit('\n').next().unwrap_or("").chars().count() as f64;
        let cw = measure
            .get_untracked()
            .map(|m| m.get_bounding_client_rect().width() / 10.0)
            .filter(|w| *w > 0.0)
            .unwrap_or(7.2);
        popup.set(Some(Popup {
            items,
            selected: 0,
            start,
            top: PAD_TOP + (line + 1.0) * f64::from(LINE) - f64::from(ta.scroll_top()) + 2.0,
            left: PAD_LEFT + col * cw - f64::from(ta.scroll_left()),
        }));
    };
    let accept = move |i: usize| {
        let Some(p) = popup.get_untracked() else {
            return;
        };
        let Some(item) = p.items.get(i) else {
            return;
        };
        let Some(ta) = textarea.get_untracked() else {
            return;
        };
        let v = ta.value();
        let caret = ta.selection_start().ok().flatten().unwrap_or(0);
        let _ = ta.set_selection_range(utf16_of(&v, p.start), caret);
        insert_text(&ta, text, &item.text);
        popup.set(None);
        let _ = ta.focus();
    };
    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        let key = ev.key();
        if (ev.ctrl_key() || ev.meta_key()) && key == "Enter" {
            ev.prevent_default();
            popup.set(None);
            on_run();
            return;
        }
        if ev.ctrl_key() && key == " " {
            ev.prevent_default();
            suggest(true);
            return;
        }
        if let Some(p) = popup.get_untracked() {
            let n = p.items.len();
            match key.as_str() {
                "ArrowDown" => {
                    ev.prevent_default();
                    popup.update(|p| {
                        if let Some(p) = p {
                            p.selected = (p.selected + 1) % n;
                        }
                    });
                    return;
                }
                "ArrowUp" => {
                    ev.prevent_default();
                    popup.update(|p| {
                        if let Some(p) = p {
                            p.selected = (p.selected + n - 1) % n;
                        }
                    });
                    return;
                }
                "Enter" | "Tab" => {
                    ev.prevent_default();
                    accept(p.selected);
                    return;
                }
                "Escape" => {
                    ev.prevent_default();
                    ev.stop_propagation();
                    popup.set(None);
                    return;
                }
                "ArrowLeft" | "ArrowRight" | "Home" | "End" => popup.set(None),
                _ => {}
            }
        }
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.shift_key() {
            return;
        }
        let Some(ta) = textarea.get_untracked() else {
            return;
        };
        match key.as_str() {
            "Tab" => {
                ev.prevent_default();
                insert_text(&ta, text, "  ");
            }
            "Enter" => {
                // Keep the line's indentation.
                ev.prevent_default();
                newline_keeping_indent(&ta, text, false);
            }
            _ => {}
        }
    };
    Effect::new(move |_| {
        text.track();
        set_timeout(sync, std::time::Duration::from_millis(0));
    });
    view! {
        <div class="code-editor sql-editor" data-testid="sql-editor">
            <Gutter node_ref=gutter text=text marks=marks />
            <div class="ce-main">
                <pre class="ce-hl" node_ref=pre aria-hidden="true">
                    {highlighted_lines(text, Signal::stored(Lang::Sql), marks)}
                    <span class="ce-measure" node_ref=measure>"0000000000"</span>
                    {move || {
                        error_at
                            .get()
                            .map(|(l, c)| {
                                let cw = measure
                                    .get_untracked()
                                    .map(|m| m.get_bounding_client_rect().width() / 10.0)
                                    .filter(|w| *w > 0.0)
                                    .unwrap_or(7.2);
                                let top = PAD_TOP + f64::from(l.saturating_sub(1)) * f64::from(LINE);
                                let left = PAD_LEFT + f64::from(c.saturating_sub(1)) * cw;
                                view! {
                                    <span
                                        class="ce-col-mark"
                                        data-testid="sql-error-mark"
                                        style=format!("top: {top}px; left: {left}px; width: {cw}px")
                                    ></span>
                                }
                            })
                    }}
                </pre>
                <textarea
                    class="ce-ta"
                    node_ref=textarea
                    data-testid="sql-text"
                    spellcheck="false"
                    autocomplete="off"
                    autocapitalize="off"
                    wrap="off"
                    placeholder="SELECT * FROM my_stream EMIT CHANGES;"
                    prop:value=move || text.get()
                    on:input=move |ev| {
                        text.set(event_target_value(&ev));
                        sync();
                        let typed = ev
                            .dyn_ref::<web_sys::InputEvent>()
                            .and_then(|e| e.data())
                            .is_some_and(|d| d.chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_'));
                        if typed || popup.get_untracked().is_some() {
                            suggest(false);
                        }
                    }
                    on:scroll=move |_| {
                        sync();
                        popup.set(None);
                    }
                    on:blur=move |_| {
                        // Later, so a click on an item lands first.
                        set_timeout(move || { let _ = popup.try_set(None); }, std::time::Duration::from_millis(150));
                    }
                    on:keydown=on_keydown
                ></textarea>
                {move || {
                    popup
                        .get()
                        .map(|p| {
                            let sel = p.selected;
                            view! {
                                <ul
                                    class="completions"
                                    data-testid="sql-completions"
                                    style=format!("top: {}px; left: {}px", p.top, p.left)
                                >
                                    {p
                                        .items
                                        .into_iter()
                                        .enumerate()
                                        .map(|(i, s)| {
                                            view! {
                                                <li
                                                    class=if i == sel { "completion selected" } else { "completion" }
                                                    data-testid="sql-completion"
                                                    data-text=s.text.clone()
                                                    on:mousedown=move |ev| {
                                                        ev.prevent_default();
                                                        accept(i);
                                                    }
                                                >
                                                    <span class=format!("ck ck-{}", s.kind)>{s.kind.chars().next().unwrap_or(' ').to_ascii_uppercase()}</span>
                                                    <span class="mono">{s.text.clone()}</span>
                                                    <span class="muted small ctail">{s.detail.clone()}</span>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                        })
                }}
            </div>
        </div>
    }
}
