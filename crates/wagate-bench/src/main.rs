//! `wagate-bench`: servers, load generators and seeders used by the benchmarks in
//! docs/benchmarks.md.
//!
//!   wagate-bench bare --listen 127.0.0.1:18081
//!   wagate-bench pair --api URL --key KEY --simnet URL --sessions N
//!   wagate-bench send --api URL --key KEY --simnet URL [--connections N | --rate R] [--async]
//!   wagate-bench inbound --target pipeline|sql --data-dir DIR [--messages N]
//!   wagate-bench phones --api URL --key KEY --simnet URL [--messages N]
//!   wagate-bench seed --data-dir DIR --session ID [--messages N] [--depth D]…
//!   wagate-bench page --api URL --key KEY --session ID --chat JID [--cursor LABEL=ID]…
//!   wagate-bench group-seed --data-dir DIR --session ID [--groups N] [--members N]
//!   wagate-bench groups --api URL --key KEY --session ID --group JID --groups N
//!   wagate-bench webhooks --mode throughput|baseline|latency --data-dir DIR [--events N]…
//!   wagate-bench fanout --api URL --key KEY [--subscribers N] [--sessions N]
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
        #[command(flatten)]
        node: wagate_bench::api::NodeArgs,
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
    /// Send texts through the API to sessions paired on a standalone simnet (closed or open
    /// loop), then check they were stored and delivered.
    Send(wagate_bench::send::SendArgs),
    /// Feed inbound messages in process through the inbound pipeline (or plain SQL) into a
    /// fresh SQLite store.
    Inbound(wagate_bench::inbound::InboundArgs),
    /// Have simulated phones send to sessions; time until the node stored every message.
    Phones(wagate_bench::phones::PhonesArgs),
    /// Fill one chat of a node's SQLite database with many messages.
    Seed(wagate_bench::seed::SeedArgs),
    /// Latency of `listChatMessages` pages of one chat.
    Page(wagate_bench::page::PageArgs),
    /// Store groups of many members in a node's SQLite database the way the service stores a
    /// group's state from WhatsApp, timing each.
    GroupSeed(wagate_bench::groups::GroupSeedArgs),
    /// Latency of `listGroupMembers`, `getGroup` and `listGroups`.
    Groups(wagate_bench::groups::GroupsArgs),
    /// Webhook deliveries per second, the bare-HTTP baseline, and feed-to-delivered latency.
    Webhooks(wagate_bench::webhooks::WebhookArgs),
    /// NDJSON stream fan-out: N subscribers of one node, every event to each.
    Fanout(wagate_bench::fanout::FanoutArgs),
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
            node,
            simnet,
            sessions,
            concurrency,
            first_phone,
        } => {
            let started = std::time::Instant::now();
            let config = wagate_bench::pair::PairConfig {
                api: node.api.trim_end_matches('/').to_owned(),
                key: node.key,
                simnet: simnet.trim_end_matches('/').to_owned(),
                sessions,
                concurrency,
                first_phone,
            };
            let paired = wagate_bench::pair::pair_sessions(&config).await?;
            println!(
                "paired {} sessions in {:.1} s",
                paired.len(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Send(args) => wagate_bench::send::run(args).await,
        Command::Inbound(args) => wagate_bench::inbound::run(args).await,
        Command::Phones(args) => wagate_bench::phones::run(args).await,
        Command::Seed(args) => wagate_bench::seed::run(args).await,
        Command::Page(args) => wagate_bench::page::run(args).await,
        Command::GroupSeed(args) => wagate_bench::groups::run_seed(args).await,
        Command::Groups(args) => wagate_bench::groups::run(args).await,
        Command::Webhooks(args) => wagate_bench::webhooks::run(args).await,
        Command::Fanout(args) => wagate_bench::fanout::run(args).await,
    }
}
