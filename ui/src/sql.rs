//! The SQL view: the editor, Run (Ctrl+Enter) over one or many statements, each statement's
//! result or error inline, push queries live, properties such as `auto.offset.reset`, and
//! the side panel of streams, tables and queries. Talks to the selected cluster's ksqlDB
//! through the workbench's pass-through (`ksql`).

use leptos::prelude::*;
use serde_json::{Map, Value};

use crate::app::{cluster, Clusters};
use crate::ksql;
use crate::schema_editor::jump_to;
use crate::sql_editor::SqlEditor;
use crate::sql_lang::{self, error_position, Kind, Stmt};
use crate::sql_results::{card_view, entity_body, Body, Card, Live, LiveState};
use crate::sql_side::{reload, Catalog, SqlSide};
use crate::util::{load, save, toasts};

const TEXT_KEY: &str = "sluice.sql.text";
const RESET_KEY: &str = "sluice.sql.offset_reset";

const SAMPLE: &str =
    "-- ksqlDB statements; Ctrl+Enter runs them all, one after the other.\nSHOW STREAMS;\n";

/// Waits `ms` milliseconds.
async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

#[component]
pub fn SqlView() -> impl IntoView {
    let cluster = cluster();
    let clusters = expect_context::<Clusters>();
    let text = RwSignal::new(load(TEXT_KEY).unwrap_or_else(|| SAMPLE.to_string()));
    let offset_reset = RwSignal::new(load(RESET_KEY).unwrap_or_else(|| "earliest".into()));
    // Properties set with SET in the editor (as ksqlDB's CLI keeps them for the session).
    let session = RwSignal::new(Map::<String, Value>::new());
    let results = RwSignal::new(Vec::<Card>::new());
    let marks = RwSignal::new(Vec::<u32>::new());
    let error_at = RwSignal::new(None::<(u32, u32)>);
    let running = RwSignal::new(false);
    let catalog = RwSignal::new(Catalog::default());
    let next_id = StoredValue::new(1u32);
    let textarea = NodeRef::<leptos::html::Textarea>::new();
    let owner = Owner::current().expect("a reactive owner");
    Effect::new(move |_| save(TEXT_KEY, &text.get()));
    Effect::new(move |_| save(RESET_KEY, &offset_reset.get()));
    let sources = Signal::derive(move || catalog.with(Catalog::completion));
    let ksql_url = move || {
        clusters.all.with(|all| {
            all.iter()
                .find(|c| c.id == cluster.get())
                .map(|c| c.ksqldb_url.clone())
        })
    };

    let stop_all = move || {
        results.with_untracked(|r| {
            for c in r {
                if let Body::Rows(l) = &c.body {
                    l.stop();
                }
            }
        });
    };
    on_cleanup(stop_all);
    // Another cluster: its own catalog, and nothing of the previous one keeps running.
    Effect::new(move |prev: Option<String>| {
        let c = cluster.get();
        if prev.is_some_and(|p| p != c) {
            stop_all();
            results.set(Vec::new());
            catalog.set(Catalog::default());
        }
        c
    });

    let props = move || {
        let mut p = Map::new();
        p.insert(
            "auto.offset.reset".into(),
            Value::String(offset_reset.get_untracked()),
        );
        for (k, v) in session.get_untracked() {
            p.insert(k, v);
        }
        p
    };
    let add = move |stmt: &Stmt, body: Body| -> u32 {
        let id = next_id.get_value();
        next_id.set_value(id + 1);
        results.update(|r| {
            r.push(Card {
                id,
                stmt: stmt.clone(),
                body,
            })
        });
        id
    };
    let fail = move |stmt: &Stmt, message: String| {
        let at = error_position(&message).map(|(l, c)| sql_lang::absolute(stmt, l, c));
        marks.set(vec![at.map_or(stmt.line, |(l, _)| l)]);
        error_at.set(at);
        add(stmt, Body::Error { message, at });
    };

    let run = move || {
        if running.get_untracked() {
            return;
        }
        let stmts = sql_lang::split(&text.get_untracked());
        if stmts.is_empty() {
            toasts().error("Nothing to run: write a statement first");
            return;
        }
        stop_all();
        results.set(Vec::new());
        marks.set(Vec::new());
        error_at.set(None);
        running.set(true);
        let c = cluster.get_untracked();
        let owner = owner.clone();
        leptos::task::spawn_local(async move {
            for st in stmts {
                if running.try_get_untracked().is_none() {
                    return;
                }
                match sql_lang::kind(&st.text) {
                    Kind::Set => {
                        let s = sql_lang::strings(&st.text);
                        if let [k, v] = s.as_slice() {
                            if k == "auto.offset.reset" && (v == "earliest" || v == "latest") {
                                offset_reset.set(v.clone());
                            } else {
                                session.update(|m| {
                                    m.insert(k.clone(), Value::String(v.clone()));
                                });
                            }
                            add(&st, Body::Status(format!("Property '{k}' set to '{v}'")));
                        } else {
                            fail(&st, "SET expects 'property' = 'value'".into());
                            break;
                        }
                    }
                    Kind::Unset => {
                        let s = sql_lang::strings(&st.text);
                        if let Some(k) = s.first() {
                            session.update(|m| {
                                m.remove(k);
                            });
                            add(&st, Body::Status(format!("Property '{k}' unset")));
                        }
                    }
                    k @ (Kind::Push | Kind::Pull) => {
                        let push = k == Kind::Push;
                        let live = owner.with(|| Live::start(&c, &st.text, &props(), push));
                        let card = add(&st, Body::Rows(live));
                        // The next statement waits for this one to start (push) or finish
                        // (pull); an error stops the run, as in ksqlDB.
                        loop {
                            match live.state.try_get_untracked() {
                                Some(LiveState::Starting) => {}
                                Some(LiveState::Running) if !push => {}
                                Some(LiveState::Failed(m)) => {
                                    // Shown as this card's error, with its position.
                                    results.update(|r| r.retain(|x| x.id != card));
                                    fail(&st, m);
                                    running.set(false);
                                    return;
                                }
                                None => return,
                                _ => break,
                            }
                            sleep(50).await;
                        }
                    }
                    Kind::Statement => match ksql::statement(&c, &st.text, &props()).await {
                        Ok(entities) => {
                            if entities.is_empty() {
                                add(&st, Body::Status("Done".into()));
                            }
                            for e in &entities {
                                add(&st, entity_body(e));
                            }
                        }
                        Err(e) => {
                            fail(&st, e.message);
                            break;
                        }
                    },
                }
            }
            let _ = running.try_set(false);
            reload(c, catalog);
        });
    };

    let jump = move |l: u32, col: u32| {
        if let Some(ta) = textarea.get_untracked() {
            jump_to(&ta, l, col);
        }
    };
    let live_count = move || {
        results.with(|r| {
            r.iter()
                .filter(|c| matches!(&c.body, Body::Rows(l) if l.push && l.is_running()))
                .count()
        })
    };
    let insert = move |q: String| {
        text.update(|t| {
            if !t.ends_with('\n') && !t.is_empty() {
                t.push('\n');
            }
            t.push_str(&q);
            t.push('\n');
        });
        if let Some(ta) = textarea.get_untracked() {
            let _ = ta.focus();
        }
    };

    view! {
        <div class="page page-fill sql-page" data-testid="sql-view">
            <div class="page-head">
                <div>
                    <h1>"SQL"</h1>
                    <div class="muted small">
                        {move || match ksql_url() {
                            Some(Some(u)) => format!("ksqlDB at {u}"),
                            Some(None) => "This cluster has no ksqlDB URL: add one to the cluster to run SQL.".into(),
                            None => String::new(),
                        }}
                    </div>
                </div>
            </div>
            <div class="sql-layout">
                <div class="sql-main">
                    <div class="card sql-editor-card">
                        <div class="editor-toolbar sql-toolbar">
                            <button
                                class="btn btn-primary"
                                data-testid="sql-run"
                                title="Run all statements (Ctrl+Enter)"
                                disabled=move || running.get()
                                on:click={
                                    let run = run.clone();
                                    move |_| run()
                                }
                            >
                                {move || if running.get() { "Running…" } else { "▶ Run" }}
                            </button>
                            <span class="muted small"><kbd>"Ctrl"</kbd> "+" <kbd>"Enter"</kbd></span>
                            <span class="spacer"></span>
                            <label class="qfield">
                                <span>"auto.offset.reset"</span>
                                <select
                                    data-testid="sql-offset-reset"
                                    prop:value=move || offset_reset.get()
                                    on:change=move |ev| offset_reset.set(event_target_value(&ev))
                                >
                                    <option value="earliest">"earliest"</option>
                                    <option value="latest">"latest"</option>
                                </select>
                            </label>
                            {move || {
                                let s = session.get();
                                (!s.is_empty())
                                    .then(|| {
                                        let list = s
                                            .iter()
                                            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                                            .collect::<Vec<_>>()
                                            .join(", ");
                                        view! { <span class="muted small mono" title="Set with SET; UNSET removes them">{list}</span> }
                                    })
                            }}
                            <Show when=move || { live_count() > 0 }>
                                <button class="btn btn-small btn-danger-text" data-testid="sql-stop-all" on:click=move |_| stop_all()>
                                    {move || format!("■ Stop {} live", live_count())}
                                </button>
                            </Show>
                            <button
                                class="btn btn-ghost btn-small"
                                data-testid="sql-clear"
                                disabled=move || results.with(Vec::is_empty)
                                on:click=move |_| {
                                    stop_all();
                                    results.set(Vec::new());
                                    marks.set(Vec::new());
                                    error_at.set(None);
                                }
                            >
                                "Clear results"
                            </button>
                        </div>
                        <SqlEditor text=text marks=marks error_at=error_at sources=sources textarea=textarea on_run=run.clone()/>
                    </div>
                    <div class="sql-results" data-testid="sql-results">
                        <For
                            each=move || results.get()
                            key=|c| c.id
                            children=move |c| card_view(c, jump)
                        />
                    </div>
                </div>
                <SqlSide cluster=Signal::derive(move || cluster.get()) catalog=catalog on_insert=insert/>
            </div>
        </div>
    }
}
