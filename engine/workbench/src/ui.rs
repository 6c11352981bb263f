//! The UI's static files: the built Leptos app from a directory, with every unknown path
//! answered by its `index.html` (client-side routing). Without a built UI, `/` answers a short
//! page saying how to build it. Never serves anything under the API prefix.

use std::path::Path;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

const NOT_BUILT: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sluice workbench</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>Sluice workbench</h1>
<p>The UI is not built (or <code>--ui-dir</code> does not point at it). The API is running at
<a href="/api/v1/clusters"><code>/api/v1</code></a>.</p>
<p>Build it with <code>cd ui &amp;&amp; trunk build --release</code>, then
start <code>sluice serve --ui-dir ui/dist</code> or set <code>SLUICE_UI_DIR</code>.</p>
</body></html>
"#;

/// Routes for the UI, to be merged after the API routes.
pub fn router<S: Clone + Send + Sync + 'static>(ui_dir: Option<&Path>) -> Router<S> {
    match ui_dir.filter(|d| d.join("index.html").is_file()) {
        Some(dir) => {
            let index = dir.join("index.html");
            Router::new().fallback_service(ServeDir::new(dir).fallback(ServeFile::new(index)))
        }
        None => {
            if let Some(dir) = ui_dir {
                tracing::warn!(
                    "no index.html in {}; serving the 'UI not built' page",
                    dir.display()
                );
            }
            Router::new()
                .route("/", get(not_built))
                .route("/index.html", get(not_built))
                .fallback(|| async { (StatusCode::NOT_FOUND, Html(NOT_BUILT)) })
        }
    }
}

async fn not_built() -> impl IntoResponse {
    Html(NOT_BUILT)
}
