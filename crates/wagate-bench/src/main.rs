//! `wagate-bench`: servers used by the benchmarks in docs/benchmarks.md.
//!
//!   wagate-bench bare --listen 127.0.0.1:18081
//!
//! Runs on tokio's multi-thread runtime with default settings, like `wagate serve`.

use std::net::SocketAddr;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "wagate-bench", about = "Benchmark helpers for wagate")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the bare baseline: `GET /api/v1/sessions/{id}` → a fixed session, no auth, no DB.
    Bare {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:18081")]
        listen: SocketAddr,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Bare { listen } => {
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            eprintln!("wagate-bench bare: listening on {}", listener.local_addr()?);
            axum::serve(listener, wagate_bench::bare_router())
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
                .context("serving")
        }
    }
}
