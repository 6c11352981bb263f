//! The `sluice` binary. `sluice serve` starts the sandbox and prints one line per endpoint
//! (`NAME HOST:PORT`, or `NAME http://HOST:PORT` for HTTP surfaces), then `ready`; SIGINT/SIGTERM stop it cleanly (final fsync).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use sluice_server::{Sandbox, SandboxOptions};

#[derive(Parser)]
#[command(
    name = "sluice",
    version,
    about = "Sluice: a local-first Kafka workbench"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the sandbox: the Kafka-compatible broker on a persistent log, the schema
    /// registry, the SQL engine, the connector runtime, and the workbench (HTTP API and UI).
    Serve(ServeArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Where topics, offsets and metadata live (default: the platform data dir + /sluice).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Address every listener binds to.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Host name given to clients in Metadata (default: --host, or 127.0.0.1 for 0.0.0.0).
    #[arg(long)]
    advertised_host: Option<String>,
    /// Kafka protocol port (0 picks a free one).
    #[arg(long, default_value_t = 9092)]
    kafka_port: u16,
    /// Confluent-compatible schema registry port (0 picks a free one).
    #[arg(long, default_value_t = 8081)]
    registry_port: u16,
    /// Kafka Connect REST port: `/connectors`, `/connector-plugins` (0 picks a free one).
    #[arg(long, default_value_t = 8083)]
    connect_port: u16,
    /// ksqlDB-compatible REST port: `/ksql`, `/query-stream`, `/query` (0 picks a free one).
    #[arg(long, default_value_t = 8088)]
    sql_port: u16,
    /// Workbench port: the HTTP/WebSocket API and the UI (0 picks a free one).
    #[arg(long, default_value_t = 9000)]
    ui_port: u16,
    /// The built UI to serve on the workbench port (`ui/dist`); without it the workbench
    /// answers a page saying how to build the UI.
    #[arg(long, env = "SLUICE_UI_DIR")]
    ui_dir: Option<PathBuf>,
    /// Do not create topics when clients ask for unknown ones.
    #[arg(long)]
    no_auto_create_topics: bool,
    /// Partitions of auto-created topics (`num.partitions`).
    #[arg(long, default_value_t = 1)]
    num_partitions: i32,
    /// Interval of the group-committed fsync in ms. Writes are acknowledged once they are in
    /// the OS, so a process crash loses nothing; this bounds what a power failure can take.
    #[arg(long, default_value_t = 1000)]
    flush_interval_ms: u64,
    /// How often retention and compaction run, in ms.
    #[arg(long, default_value_t = 30_000)]
    retention_check_interval_ms: u64,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match Cli::parse().command {
        Command::Serve(args) => serve(args),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let data_dir = args.data_dir.unwrap_or_else(|| {
        dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("sluice")
    });
    let opts = SandboxOptions {
        host: args.host,
        advertised_host: args.advertised_host,
        kafka_port: args.kafka_port,
        registry_port: args.registry_port,
        sql_port: args.sql_port,
        connect_port: args.connect_port,
        auto_create_topics: !args.no_auto_create_topics,
        num_partitions: args.num_partitions,
        flush_interval: Duration::from_millis(args.flush_interval_ms.max(1)),
        retention_check_interval: Duration::from_millis(args.retention_check_interval_ms.max(100)),
        ui_port: args.ui_port,
        ui_dir: args.ui_dir,
        ..SandboxOptions::new(&data_dir)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("sluice")
        .build()?;
    let result = runtime.block_on(async move {
        let sandbox = Sandbox::start(opts).await?;
        tracing::info!(data_dir = %data_dir.display(), "sluice started");
        let mut out = std::io::stdout().lock();
        for e in sandbox.endpoints() {
            writeln!(out, "{} {}", e.name, e.display_address())?;
        }
        writeln!(out, "ready")?;
        out.flush()?;
        drop(out);
        shutdown_signal().await;
        tracing::info!("shutting down");
        sandbox.shutdown().await
    });
    // Everything durable is already flushed; do not wait on a client call to a remote cluster
    // that is still timing out on a blocking thread.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
