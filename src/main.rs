#![forbid(unsafe_code)]

use std::io::IsTerminal;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use anyaudio::config::{Cli, Command, Config};
use anyaudio::Application;

/// jemalloc gives freed memory back to the system (its settings: `.cargo/config.toml`); glibc's
/// malloc kept what a crowd of listeners had used, in per-thread arenas, after they left.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_env("ANYAUDIO_LOG").unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match Cli::parse().command {
        Command::Serve(args) => {
            let config = Config::from_serve_args(*args)?;
            let app = Application::build(config).await?;
            tracing::info!(url = %format!("http://{}", app.local_addr()), "anyaudio is listening");
            Ok(app.run_until_stopped().await?)
        }
        Command::Scan(args) => {
            let config = Config::from_library_args(args)?;
            let catalog = anyaudio::open_catalog(&config)?;
            let report = tokio::task::spawn_blocking(move || catalog.scan_blocking(true)).await??;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Backup(args) => anyaudio::cli::backup(args).await,
        Command::User(command) => anyaudio::cli::user(command).await,
        Command::Key(command) => anyaudio::cli::key(command).await,
    }
}
