//! Sluice's workbench UI: a Leptos client-side app talking to the workbench API.

mod api;
mod app;
mod charts;
mod code_view;
mod diff;
mod groups;
mod highlight;
mod ksql;
mod messages;
mod overview;
mod produce;
mod schema_editor;
mod schema_form;
mod schemas;
mod sql;
mod sql_editor;
mod sql_lang;
mod sql_results;
mod sql_side;
mod topics;
mod util;
mod ws;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
