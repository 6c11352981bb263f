//! Small helpers shared by the views: formatting, storage, toasts, keyboard lists.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// `2026-01-02T03:04:05.678Z`
pub fn iso(ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    d.to_iso_string().as_string().unwrap_or_default()
}

/// `03:04:05` in local time.
pub fn clock(ms: f64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    format!(
        "{:02}:{:02}:{:02}",
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds()
    )
}

/// 1234567 → `1,234,567`
pub fn num(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub fn rate(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}/s")
    } else if v >= 10.0 {
        format!("{v:.1}/s")
    } else {
        format!("{v:.2}/s")
    }
}

pub fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub fn load(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?
}

pub fn save(key: &str, value: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(key, value);
    }
}

// ---------------------------------------------------------------------------------------
// Toasts
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
pub struct Toast {
    pub id: u64,
    pub error: bool,
    pub text: String,
}

#[derive(Clone, Copy)]
pub struct Toasts(pub RwSignal<Vec<Toast>>);

impl Toasts {
    fn push(&self, error: bool, text: String) {
        let id = (now_ms() * 1000.0) as u64 + self.0.with_untracked(|t| t.len() as u64);
        self.0.update(|t| {
            t.push(Toast { id, error, text });
            // Keep the corner readable: the newest few, errors before successes.
            while t.len() > 3 {
                let drop = t.iter().position(|x| !x.error).unwrap_or(0);
                t.remove(drop);
            }
        });
        let list = self.0;
        set_timeout(
            move || list.update(|t| t.retain(|x| x.id != id)),
            std::time::Duration::from_millis(if error { 9000 } else { 3000 }),
        );
    }
    pub fn error(&self, text: impl Into<String>) {
        self.push(true, text.into());
    }
    pub fn ok(&self, text: impl Into<String>) {
        self.push(false, text.into());
    }
}

thread_local! {
    static TOASTS: std::cell::Cell<Option<Toasts>> = const { std::cell::Cell::new(None) };
}

/// Registers the app's toast list (once, in `App`).
pub fn provide_toasts() -> Toasts {
    let t = Toasts(RwSignal::new(Vec::new()));
    TOASTS.with(|c| c.set(Some(t)));
    t
}

/// The toast list. Not a context lookup on purpose: async tasks report results after the
/// dialog that started them is gone, and a disposed owner has no context.
pub fn toasts() -> Toasts {
    TOASTS.with(|c| c.get()).expect("provide_toasts ran in App")
}

#[component]
pub fn ToastHost() -> impl IntoView {
    let t = toasts();
    view! {
        <div class="toasts" aria-live="polite">
            <For each=move || t.0.get() key=|x| x.id let:toast>
                {
                    let id = toast.id;
                    view! {
                        <div
                            class=if toast.error { "toast toast-error" } else { "toast toast-ok" }
                            data-testid=if toast.error { "toast-error" } else { "toast-ok" }
                            on:click=move |_| t.0.update(|v| v.retain(|x| x.id != id))
                        >
                            <span class="toast-title">{if toast.error { "Error" } else { "Done" }}</span>
                            <span class="toast-text">{toast.text.clone()}</span>
                        </div>
                    }
                }
            </For>
        </div>
    }
}

// ---------------------------------------------------------------------------------------
// Keyboard navigation in lists
// ---------------------------------------------------------------------------------------

/// True when a key press belongs to a text field rather than to the page.
pub fn typing_in_field(ev: &web_sys::KeyboardEvent) -> bool {
    let Some(target) = ev.target() else {
        return false;
    };
    let Ok(el) = target.dyn_into::<web_sys::Element>() else {
        return false;
    };
    let tag = el.tag_name().to_ascii_lowercase();
    tag == "input"
        || tag == "textarea"
        || tag == "select"
        || el.closest(".modal").ok().flatten().is_some()
}

/// What a list page does with the keys j/k/arrows, Enter and `/`.
pub enum ListKey {
    Move(i64),
    Open,
    Search,
}

pub fn list_key(ev: &web_sys::KeyboardEvent) -> Option<ListKey> {
    if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
        return None;
    }
    if typing_in_field(ev) {
        return None;
    }
    match ev.key().as_str() {
        "ArrowDown" | "j" => Some(ListKey::Move(1)),
        "ArrowUp" | "k" => Some(ListKey::Move(-1)),
        "PageDown" => Some(ListKey::Move(20)),
        "PageUp" => Some(ListKey::Move(-20)),
        "Enter" => Some(ListKey::Open),
        "/" => Some(ListKey::Search),
        _ => None,
    }
}

/// Installs a window keydown handler for one list, removed with the component.
pub fn list_keys(
    len: impl Fn() -> usize + 'static,
    selected: RwSignal<Option<usize>>,
    open: impl Fn(usize) + 'static,
    search: Option<NodeRef<leptos::html::Input>>,
) {
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        let Some(k) = list_key(&ev) else { return };
        let n = len();
        match k {
            ListKey::Move(d) => {
                if n == 0 {
                    return;
                }
                ev.prevent_default();
                let cur = selected.get_untracked();
                let next = match cur {
                    None if d > 0 => 0,
                    None => n as i64 - 1,
                    Some(c) => (c as i64 + d).clamp(0, n as i64 - 1),
                };
                selected.set(Some(next as usize));
                scroll_selected_into_view();
            }
            ListKey::Open => {
                if let Some(c) = selected.get_untracked() {
                    if c < n {
                        ev.prevent_default();
                        open(c);
                    }
                }
            }
            ListKey::Search => {
                if let Some(input) = search.and_then(|s| s.get_untracked()) {
                    ev.prevent_default();
                    let _ = input.focus();
                    input.select();
                }
            }
        }
    });
    on_cleanup(move || handle.remove());
}

/// Keeps the row marked `.selected` visible after a keyboard move (next frame, once drawn).
pub fn scroll_selected_into_view() {
    set_timeout(
        || {
            if let Some(el) = document().query_selector("tr.selected").ok().flatten() {
                let opts = web_sys::ScrollIntoViewOptions::new();
                opts.set_block(web_sys::ScrollLogicalPosition::Nearest);
                el.scroll_into_view_with_scroll_into_view_options(&opts);
            }
        },
        std::time::Duration::from_millis(0),
    );
}

/// Key handler for the search box: Escape blurs it, arrows leave it for the list.
pub fn blur_on_escape(ev: &web_sys::KeyboardEvent) {
    if ev.key() == "Escape" || ev.key() == "ArrowDown" {
        if let Some(el) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.blur();
        }
    }
}

/// An empty state: a title and a line of explanation.
#[component]
pub fn Empty(title: &'static str, #[prop(into)] text: String) -> impl IntoView {
    view! {
        <div class="empty">
            <div class="empty-title">{title}</div>
            <div class="empty-text">{text}</div>
        </div>
    }
}

/// A state pill, coloured by what the state means.
#[component]
pub fn Pill(#[prop(into)] text: Signal<String>) -> impl IntoView {
    let kind = move || {
        let k = match text.get().as_str() {
            "Stable" | "ok" | "live" | "connected" => "pill-ok",
            "Empty" => "pill-idle",
            "PreparingRebalance" | "CompletingRebalance" | "connecting" => "pill-warn",
            "Dead" | "error" | "closed" => "pill-bad",
            _ => "pill-neutral",
        };
        format!("pill {k}")
    };
    view! { <span class=kind data-testid="pill">{move || text.get()}</span> }
}

/// Download `text` as a file.
pub fn download(name: &str, mime: &str, text: &str) {
    let parts = js_sys::Array::new();
    parts.push(&wasm_bindgen::JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(a) = document().create_element("a") {
        let a: web_sys::HtmlAnchorElement = a.unchecked_into();
        a.set_href(&url);
        a.set_download(name);
        let _ = document().body().map(|b| b.append_child(&a));
        a.click();
        a.remove();
    }
    set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        },
        std::time::Duration::from_secs(5),
    );
}
