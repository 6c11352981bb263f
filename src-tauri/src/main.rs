//! The Sluice desktop app: the same engine as `sluice serve`, started in-process through
//! [`Sandbox::start`] (one process, no sidecar), and one window on the workbench URL. The
//! window loads `http://127.0.0.1:PORT/` from the engine's own workbench listener, so the
//! desktop window and a browser run the very same UI served the very same way.
//!
//! Like `sluice serve` it prints one line per endpoint (`NAME HOST:PORT`, or
//! `NAME http://HOST:PORT` for HTTP surfaces), then `ready`.
//! Closing the window, SIGINT or SIGTERM stop the engine cleanly (final fsync).
//!
//! It takes the same flags as `sluice serve` for what it has (`--data-dir`, `--host`,
//! `--kafka-port`, `--registry-port`, `--sql-port`, `--ui-port`, `--ui-dir`), each also read from the environment, so tests and
//! scripts can isolate an instance:
//!
//! | flag / variable                  | default                                              |
//! |----------------------------------|------------------------------------------------------|
//! | `--data-dir` / `SLUICE_DATA_DIR` | the platform data dir + `/sluice` (as `sluice serve`) |
//! | `--host` / `SLUICE_HOST`         | `127.0.0.1`                                          |
//! | `--kafka-port` / `SLUICE_KAFKA_PORT` | 9092, or a free port if 9092 is taken (0 = free)  |
//! | `--registry-port` / `SLUICE_REGISTRY_PORT` | 8081, or a free port if 8081 is taken (0 = free) |
//! | `--sql-port` / `SLUICE_SQL_PORT` | 8088, or a free port if 8088 is taken (0 = free)     |
//! | `--ui-port` / `SLUICE_UI_PORT`   | 9000, or a free port if 9000 is taken (0 = free)     |
//! | `--ui-dir` / `SLUICE_UI_DIR`     | `ui/dist` of the source tree, else resources/ui      |
//! | `--ui-path` / `SLUICE_UI_PATH`   | `/`: the route the window opens (e.g. `/topics`)     |
//!
//! A port given explicitly is used as is: if it is taken, the app fails instead of moving.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use clap::Parser;
use sluice_server::{Sandbox, SandboxOptions};
use tauri::{Manager, RunEvent, WebviewUrl, WebviewWindowBuilder};

const DEFAULT_KAFKA_PORT: u16 = 9092;
const DEFAULT_REGISTRY_PORT: u16 = 8081;
const DEFAULT_SQL_PORT: u16 = 8088;
const DEFAULT_CONNECT_PORT: u16 = 8083;
const DEFAULT_UI_PORT: u16 = 9000;

/// The UI built in the source tree this binary was built from (`./x run` builds it first).
const SOURCE_UI_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/dist");

#[derive(Parser)]
#[command(
    name = "sluice-desktop",
    version,
    about = "Sluice desktop app: the sandbox in-process and a window on the workbench"
)]
struct Cli {
    /// Where topics, offsets and metadata live (default: the platform data dir + /sluice).
    #[arg(long, env = "SLUICE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Address every listener binds to.
    #[arg(long, env = "SLUICE_HOST", default_value = "127.0.0.1")]
    host: String,
    /// Kafka protocol port (0 picks a free one; default 9092, or a free one if it is taken).
    #[arg(long, env = "SLUICE_KAFKA_PORT")]
    kafka_port: Option<u16>,
    /// Schema registry port (0 picks a free one; default 8081, or a free one if it is taken).
    #[arg(long, env = "SLUICE_REGISTRY_PORT")]
    registry_port: Option<u16>,
    /// ksqlDB REST port (0 picks a free one; default 8088, or a free one if it is taken).
    #[arg(long, env = "SLUICE_SQL_PORT")]
    sql_port: Option<u16>,
    /// Kafka Connect REST port (0 picks a free one; default 8083, or a free one if it is taken).
    #[arg(long, env = "SLUICE_CONNECT_PORT")]
    connect_port: Option<u16>,
    /// Workbench port (0 picks a free one; default 9000, or a free one if it is taken).
    #[arg(long, env = "SLUICE_UI_PORT")]
    ui_port: Option<u16>,
    /// The built UI (default: ui/dist of the source tree, else the app's resources/ui).
    #[arg(long, env = "SLUICE_UI_DIR")]
    ui_dir: Option<PathBuf>,
    /// The route the window opens, e.g. /topics.
    #[arg(long, env = "SLUICE_UI_PATH", default_value = "/")]
    ui_path: String,
}

struct Settings {
    data_dir: PathBuf,
    host: String,
    kafka_port: u16,
    registry_port: u16,
    sql_port: u16,
    connect_port: u16,
    ui_port: u16,
    ui_dir: Option<PathBuf>,
    ui_path: String,
}

impl Settings {
    fn new(cli: Cli) -> Settings {
        let data_dir = cli.data_dir.unwrap_or_else(|| {
            dirs::data_dir()
                .unwrap_or_else(|| PathBuf::from("."))
                .join("sluice")
        });
        let kafka_port = cli
            .kafka_port
            .unwrap_or_else(|| default_port(&cli.host, DEFAULT_KAFKA_PORT));
        let registry_port = cli
            .registry_port
            .unwrap_or_else(|| default_port(&cli.host, DEFAULT_REGISTRY_PORT));
        let sql_port = cli
            .sql_port
            .unwrap_or_else(|| default_port(&cli.host, DEFAULT_SQL_PORT));
        let connect_port = cli
            .connect_port
            .unwrap_or_else(|| default_port(&cli.host, DEFAULT_CONNECT_PORT));
        let ui_port = cli
            .ui_port
            .unwrap_or_else(|| default_port(&cli.host, DEFAULT_UI_PORT));
        let ui_dir = cli
            .ui_dir
            .or_else(|| Some(PathBuf::from(SOURCE_UI_DIR)).filter(|d| is_ui_dir(d)));
        let mut ui_path = cli.ui_path;
        if !ui_path.starts_with('/') {
            ui_path.insert(0, '/');
        }
        Settings {
            data_dir,
            host: cli.host,
            kafka_port,
            registry_port,
            sql_port,
            connect_port,
            ui_port,
            ui_dir,
            ui_path,
        }
    }
}

/// `port` when it is free, else 0 (a free port).
fn default_port(host: &str, port: u16) -> u16 {
    // Probing leaves a small window for another process to take the port before the engine
    // binds it; then Sandbox::start fails with the bind error, which is reported.
    match std::net::TcpListener::bind((host, port)) {
        Ok(_) => port,
        Err(e) => {
            tracing::warn!(port, error = %e, "default port is busy: using a free one");
            0
        }
    }
}

fn is_ui_dir(dir: &Path) -> bool {
    dir.join("index.html").is_file()
}

fn main() {
    // WebKitGTK's DMA-BUF renderer costs the web process ~90 MB more RSS (measured under Xvfb:
    // 287 -> 194 MB) for nothing a workbench needs; compositing, and so WebGL, stay on
    // without it. Set before any thread exists (WebKit's processes inherit it); a value
    // given by the user wins.
    if std::env::var_os("WEBKIT_DISABLE_DMABUF_RENDERER").is_none() {
        std::env::set_var("WEBKIT_DISABLE_DMABUF_RENDERER", "1");
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    if let Err(e) = run(Settings::new(cli)) {
        eprintln!("sluice-desktop: {e:#}");
        std::process::exit(1);
    }
}

fn run(settings: Settings) -> anyhow::Result<()> {
    // GTK would panic without a display; say what to do instead.
    #[cfg(target_os = "linux")]
    anyhow::ensure!(
        ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty())),
        "no display (neither DISPLAY nor WAYLAND_DISPLAY is set): run `sluice serve` and open \
         the workbench URL it prints in a browser"
    );
    // One tokio runtime for the engine and for Tauri's own async work.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("sluice")
        .build()?;
    tauri::async_runtime::set(runtime.handle().clone());

    // The running engine: started in `setup` (where the resource dir is known), shut down
    // after the event loop ends.
    let engine: Arc<Mutex<Option<Sandbox>>> = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&engine);
    let rt = runtime.handle().clone();
    let built = tauri::Builder::default()
        .setup(move |app| Ok(open(app, &settings, &rt, &slot)?))
        .build(tauri::generate_context!("../tauri.conf.json"));
    let app = match built {
        Ok(app) => app,
        Err(e) => {
            let sandbox = engine.lock().expect("engine slot").take();
            if let Some(sandbox) = sandbox {
                runtime.block_on(sandbox.shutdown())?;
            }
            return Err(e).context("starting the desktop app");
        }
    };

    // SIGINT/SIGTERM end the event loop like closing the window does, so the engine below
    // still gets its clean shutdown.
    let handle = app.handle().clone();
    runtime.spawn(async move {
        shutdown_signal().await;
        tracing::info!("signal received: closing");
        handle.exit(0);
    });

    let code = app.run_return(|_, event| {
        if let RunEvent::Exit = event {
            tracing::info!("app exiting: stopping the engine");
        }
    });

    let sandbox = engine.lock().expect("engine slot").take();
    if let Some(sandbox) = sandbox {
        runtime.block_on(sandbox.shutdown())?;
        tracing::info!("engine stopped");
    }
    if code != 0 {
        std::process::exit(code);
    }
    Ok(())
}

/// Starts the engine, prints its endpoints, opens the window on the workbench, says `ready`.
fn open(
    app: &mut tauri::App,
    settings: &Settings,
    rt: &tokio::runtime::Handle,
    slot: &Mutex<Option<Sandbox>>,
) -> anyhow::Result<()> {
    let ui_dir = settings.ui_dir.clone().or_else(|| {
        let bundled = app.path().resource_dir().ok()?.join("ui");
        is_ui_dir(&bundled).then_some(bundled)
    });
    if ui_dir.is_none() {
        tracing::warn!(
            "no built UI found (set SLUICE_UI_DIR or build ui/ into ui/dist): \
             the window shows the workbench's \"UI not built\" page"
        );
    }
    let sandbox = rt.block_on(start_engine(settings, ui_dir))?;
    let workbench = sandbox.workbench_url();
    let url = format!("{workbench}{}", settings.ui_path);
    let mut out = std::io::stdout().lock();
    for e in sandbox.endpoints() {
        writeln!(out, "{} {}", e.name, e.display_address())?;
    }
    out.flush()?;
    *slot.lock().expect("engine slot") = Some(sandbox);
    let url: tauri::Url = url
        .parse()
        .with_context(|| format!("bad workbench URL {url:?}"))?;
    tracing::info!(data_dir = %settings.data_dir.display(), %url, "sluice started");
    WebviewWindowBuilder::new(app, "main", WebviewUrl::External(url))
        .title("Sluice")
        .inner_size(1280.0, 860.0)
        .build()?;
    writeln!(out, "ready")?;
    out.flush()?;
    Ok(())
}

async fn start_engine(settings: &Settings, ui_dir: Option<PathBuf>) -> anyhow::Result<Sandbox> {
    let opts = SandboxOptions {
        host: settings.host.clone(),
        kafka_port: settings.kafka_port,
        registry_port: settings.registry_port,
        sql_port: settings.sql_port,
        connect_port: settings.connect_port,
        ui_port: settings.ui_port,
        ui_dir,
        ..SandboxOptions::new(&settings.data_dir)
    };
    Sandbox::start(opts).await
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("could not install signal handlers");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("sluice-desktop").chain(args.iter().copied()))
            .expect("flags parse")
    }

    #[test]
    fn a_busy_default_port_falls_back_to_a_free_one() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        assert_eq!(default_port("127.0.0.1", port), 0);
        drop(taken);
        assert_eq!(default_port("127.0.0.1", port), port);
    }

    #[test]
    fn a_port_given_explicitly_is_kept_even_when_busy() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port().to_string();
        let settings = Settings::new(cli(&["--kafka-port", &port, "--ui-port", "0"]));
        assert_eq!(settings.kafka_port.to_string(), port);
        assert_eq!(settings.ui_port, 0);
    }

    #[test]
    fn flags_set_the_data_dir_ui_dir_and_route() {
        let settings = Settings::new(cli(&[
            "--data-dir",
            "/tmp/d",
            "--ui-dir",
            "/tmp/ui",
            "--ui-path",
            "topics",
            "--kafka-port",
            "0",
            "--ui-port",
            "0",
        ]));
        assert_eq!(settings.data_dir, PathBuf::from("/tmp/d"));
        assert_eq!(settings.ui_dir, Some(PathBuf::from("/tmp/ui")));
        assert_eq!(settings.ui_path, "/topics");
    }
}
