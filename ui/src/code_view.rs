//! What the schema editor and the SQL editor share, both being a transparent textarea over
//! its highlighted text: the line height, typing into the textarea (`insert_text`), Enter
//! keeping the line's indentation, the scroll sync of textarea, text layer and gutter, the
//! line-number gutter and the highlighted lines with error marks. It knows no language
//! (highlight.rs does) and never talks to a server.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::highlight::{line_view, lines, Lang};

/// Height of one line (px); must match `.ce-line` / `.ce-ln`.
pub const LINE: i32 = 18;

/// Replaces the selection with `s` as if typed (the browser's undo keeps working).
pub fn insert_text(ta: &web_sys::HtmlTextAreaElement, text: RwSignal<String>, s: &str) {
    let done = document()
        .dyn_into::<web_sys::HtmlDocument>()
        .ok()
        .and_then(|d| {
            d.exec_command_with_show_ui_and_value("insertText", false, s)
                .ok()
        })
        .unwrap_or(false);
    if done {
        return;
    }
    let v = ta.value();
    let units: Vec<u16> = v.encode_utf16().collect();
    let start = (ta.selection_start().ok().flatten().unwrap_or(0) as usize).min(units.len());
    let end = (ta.selection_end().ok().flatten().unwrap_or(0) as usize).clamp(start, units.len());
    let new = format!(
        "{}{s}{}",
        String::from_utf16_lossy(&units[..start]),
        String::from_utf16_lossy(&units[end..])
    );
    ta.set_value(&new);
    let caret = (start + s.encode_utf16().count()) as u32;
    let _ = ta.set_selection_range(caret, caret);
    text.set(new);
}

/// Enter: a new line with the current line's indentation, one level more after an opening
/// bracket when `indent_after_bracket`.
pub fn newline_keeping_indent(
    ta: &web_sys::HtmlTextAreaElement,
    text: RwSignal<String>,
    indent_after_bracket: bool,
) {
    let v = ta.value();
    let units: Vec<u16> = v.encode_utf16().collect();
    let pos = (ta.selection_start().ok().flatten().unwrap_or(0) as usize).min(units.len());
    let before = String::from_utf16_lossy(&units[..pos]);
    let line = before.rsplit('\n').next().unwrap_or("");
    let indent: String = line
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let extra = if indent_after_bracket && line.trim_end().ends_with(['{', '[', '(']) {
        "  "
    } else {
        ""
    };
    insert_text(ta, text, &format!("\n{indent}{extra}"));
}

/// Keeps the text layer and the gutter scrolled with the textarea. Safe to call from a
/// timer after the editor is gone.
pub fn scroll_sync(
    textarea: NodeRef<leptos::html::Textarea>,
    pre: NodeRef<leptos::html::Pre>,
    gutter: NodeRef<leptos::html::Div>,
) -> impl Fn() + Copy + Send + Sync + 'static {
    move || {
        if let (Some(ta), Some(p), Some(g)) = (
            textarea.try_get_untracked().flatten(),
            pre.try_get_untracked().flatten(),
            gutter.try_get_untracked().flatten(),
        ) {
            p.set_scroll_top(ta.scroll_top());
            p.set_scroll_left(ta.scroll_left());
            g.set_scroll_top(ta.scroll_top());
        }
    }
}

/// The line numbers, marked lines in the error colour (two spare lines below, as the text
/// layer has).
#[component]
pub fn Gutter(
    node_ref: NodeRef<leptos::html::Div>,
    text: RwSignal<String>,
    /// 1-based lines to mark as wrong.
    #[prop(into)]
    marks: Signal<Vec<u32>>,
) -> impl IntoView {
    let line_count = Memo::new(move |_| text.with(|t| t.split('\n').count()));
    view! {
        <div class="ce-gutter" node_ref=node_ref aria-hidden="true">
            {move || {
                let marks = marks.get();
                (1..=line_count.get())
                    .map(|n| {
                        let bad = marks.contains(&(n as u32));
                        view! { <div class=if bad { "ce-ln ce-ln-err" } else { "ce-ln" }>{n}</div> }
                    })
                    .collect_view()
            }}
            <div class="ce-ln"></div>
            <div class="ce-ln"></div>
        </div>
    }
}

/// The highlighted lines of the text layer, marked lines in the error colour, and two
/// spare lines.
pub fn highlighted_lines(
    text: RwSignal<String>,
    lang: Signal<Lang>,
    marks: Signal<Vec<u32>>,
) -> impl IntoView {
    view! {
        {move || {
            let marks = marks.get();
            lines(&text.get(), lang.get())
                .into_iter()
                .enumerate()
                .map(|(i, l)| {
                    let bad = marks.contains(&(i as u32 + 1));
                    view! { <div class=if bad { "ce-line ce-line-err" } else { "ce-line" }>{line_view(l)}</div> }
                })
                .collect_view()
        }}
        <div class="ce-line"></div>
        <div class="ce-line"></div>
    }
}
