//! `wagate-bench page` (docs/benchmarks.md, "Messaging: newest page of a large chat"): the
//! latency of `listChatMessages` pages of one chat, one request after the other on one
//! kept-alive connection (so the numbers are the node's answer time, not queueing). The
//! baseline, measured the same way first: `getSession` of the same session, the cheapest
//! authenticated read (the API key and the session looked up, one small JSON body).

use std::time::Instant;

use anyhow::bail;
use serde_json::Value;

use crate::api::{Api, ListPage, NodeArgs, client};
use crate::latency::Latencies;

#[derive(Debug, clap::Args)]
pub struct PageArgs {
    #[command(flatten)]
    node: NodeArgs,
    #[arg(long)]
    session: String,
    /// The chat (a JID).
    #[arg(long)]
    chat: String,
    /// Page size.
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Measured requests per page.
    #[arg(long, default_value_t = 2_000)]
    requests: usize,
    /// Unmeasured requests per page first.
    #[arg(long, default_value_t = 200)]
    warmup: usize,
    /// A deeper page to measure as `LABEL=CURSOR` (a message id); repeatable. `getSession`
    /// and the newest page (no cursor) are always measured first.
    #[arg(long = "cursor")]
    cursors: Vec<String>,
}

/// Prints one `PAGE label=… requests=… rps=… p50_ms=… …` line per page.
pub async fn run(args: PageArgs) -> anyhow::Result<()> {
    let api = args.node.client(client(1)?);
    let page = format!(
        "/api/v1/sessions/{}/chats/{}/messages?limit={}",
        args.session, args.chat, args.limit
    );
    // (label, path, items expected in `data`)
    let mut targets = vec![
        (
            "getSession".to_owned(),
            format!("/api/v1/sessions/{}", args.session),
            None,
        ),
        ("newest".to_owned(), page.clone(), Some(args.limit)),
    ];
    for c in &args.cursors {
        let Some((label, cursor)) = c.split_once('=') else {
            bail!("--cursor {c}: expected LABEL=CURSOR");
        };
        let path = format!("{page}&cursor={cursor}");
        targets.push((label.to_owned(), path, Some(args.limit)));
    }
    for (label, path, items) in targets {
        let line = measure(&api, &path, items, args.warmup, args.requests).await?;
        println!("PAGE label={label} {line}");
    }
    Ok(())
}

/// `warmup` unmeasured, then `requests` measured GETs of `path`, one after the other (on one
/// kept-alive connection when `api` keeps one); each answer's `data` must hold `items` when
/// given. Returns `requests=… rps=… p50_ms=… p90_ms=… p99_ms=… max_ms=…`.
pub async fn measure(
    api: &Api,
    path: &str,
    items: Option<u32>,
    warmup: usize,
    requests: usize,
) -> anyhow::Result<String> {
    for _ in 0..warmup {
        fetch(api, path, items).await?;
    }
    let mut latencies = Latencies::default();
    let started = Instant::now();
    for _ in 0..requests {
        let t = Instant::now();
        fetch(api, path, items).await?;
        latencies.record(t.elapsed());
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(format!(
        "requests={requests} rps={:.0} {}",
        requests as f64 / secs,
        latencies.summary()
    ))
}

/// One answer; for a list, fails unless its `data` holds `items`.
async fn fetch(api: &Api, path: &str, items: Option<u32>) -> anyhow::Result<()> {
    let Some(items) = items else {
        return api.get::<Value>(path).await.map(drop);
    };
    let page: ListPage<Value> = api.get(path).await?;
    if page.data.len() != items as usize {
        bail!("{path}: {} items, expected {items}", page.data.len());
    }
    Ok(())
}
