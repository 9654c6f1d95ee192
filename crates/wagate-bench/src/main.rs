//! `wagate-bench`: servers used by the benchmarks in docs/benchmarks.md.
//!
//!   wagate-bench bare --listen 127.0.0.1:18081
//!   wagate-bench pair --api URL --key KEY --simnet URL --sessions N
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
    /// Create N sessions on a node and pair each with a new phone of a standalone simnet.
    Pair {
        /// The node's base URL.
        #[arg(long)]
        api: String,
        /// An API key with `manage` (e.g. the bootstrap key).
        #[arg(long, env = "WAGATE_BENCH_KEY", hide_env_values = true)]
        key: String,
        /// The standalone simnet's base URL.
        #[arg(long)]
        simnet: String,
        #[arg(long)]
        sessions: usize,
        /// Sessions being set up at once.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Phone number of the first session; the others follow it.
        #[arg(long, default_value_t = 628_100_000_000)]
        first_phone: u64,
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
        Command::Pair {
            api,
            key,
            simnet,
            sessions,
            concurrency,
            first_phone,
        } => {
            let started = std::time::Instant::now();
            let config = wagate_bench::pair::PairConfig {
                api: api.trim_end_matches('/').to_owned(),
                key,
                simnet: simnet.trim_end_matches('/').to_owned(),
                sessions,
                concurrency,
                first_phone,
            };
            let ids = wagate_bench::pair::pair_sessions(&config).await?;
            println!(
                "paired {} sessions in {:.1} s",
                ids.len(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}
