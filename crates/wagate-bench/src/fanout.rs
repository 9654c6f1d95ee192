//! `wagate-bench fanout` (docs/benchmarks.md, "Webhooks and streams"): N subscribers hold the
//! NDJSON stream `GET /api/v1/events` of a running node open over loopback; events are made by
//! creating sessions and asking for their QR code (each pairing start reports `session.status`
//! and `auth.qr`). Every subscriber must see every event once; reported are the frames
//! delivered per second and the latency from the event's creation (its envelope `timestamp`) to
//! its arrival at a subscriber, over all subscribers.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use futures::StreamExt as _;
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use crate::api::NodeArgs;

#[derive(Debug, clap::Args)]
pub struct FanoutArgs {
    #[command(flatten)]
    node: NodeArgs,
    /// Open streams.
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Sessions started (about three events each).
    #[arg(long, default_value_t = 50)]
    sessions: usize,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// What one subscriber saw: event ids (to check once each) and latencies (ms).
#[derive(Default)]
struct Seen {
    ids: Vec<String>,
    latencies_ms: Vec<i64>,
}

pub async fn run(args: FanoutArgs) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.subscribers + 8)
        .build()?;
    let api = args.node.client(http.clone());
    let seen: Vec<Arc<Mutex<Seen>>> = (0..args.subscribers)
        .map(|_| Arc::new(Mutex::new(Seen::default())))
        .collect();
    let mut readers = JoinSet::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(args.subscribers);
    for s in &seen {
        let (http, base, key, s, ready) = (
            http.clone(),
            api.base.clone(),
            api.key.clone(),
            s.clone(),
            ready_tx.clone(),
        );
        readers.spawn(async move { read(http, base, key, s, ready).await });
    }
    for _ in 0..args.subscribers {
        ready_rx
            .recv()
            .await
            .context("a subscriber failed to connect")?;
    }
    let started = Instant::now();
    for _ in 0..args.sessions {
        let created: Value = http
            .post(format!("{}/api/v1/sessions", api.base))
            .bearer_auth(&api.key)
            .json(&serde_json::json!({}))
            .send()
            .await?
            .json()
            .await?;
        let id = created["id"].as_str().context("session id")?;
        let qr = http
            .get(format!("{}/api/v1/sessions/{id}/qr", api.base))
            .bearer_auth(&api.key)
            .send()
            .await?;
        if !qr.status().is_success() {
            bail!("qr of {id}: {}", qr.status());
        }
    }
    // Events settle once every subscriber has been quiet for a second.
    let mut last_total = 0usize;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut total = 0;
        for s in &seen {
            total += s.lock().await.ids.len();
        }
        if total == last_total && total > 0 {
            break;
        }
        last_total = total;
    }
    let secs = started.elapsed().as_secs_f64() - 1.0;
    readers.abort_all();
    let first: HashSet<String> = seen[0].lock().await.ids.iter().cloned().collect();
    let mut all_latencies = Vec::new();
    for (i, s) in seen.iter().enumerate() {
        let s = s.lock().await;
        let ids: HashSet<&String> = s.ids.iter().collect();
        if ids.len() != s.ids.len() {
            bail!("subscriber {i} saw an event twice");
        }
        if ids.len() != first.len() || !s.ids.iter().all(|id| first.contains(id)) {
            bail!(
                "subscriber {i} saw {} events, subscriber 0 saw {}",
                ids.len(),
                first.len()
            );
        }
        all_latencies.extend_from_slice(&s.latencies_ms);
    }
    all_latencies.sort_unstable();
    let n = all_latencies.len();
    if n == 0 {
        bail!("no events arrived");
    }
    let pct = |p: f64| all_latencies[((n as f64 * p).ceil() as usize).clamp(1, n) - 1];
    println!(
        "FANOUT subscribers={} events={} frames={n} secs={secs:.2} frames_per_s={:.0} p50_ms={} p99_ms={} max_ms={}",
        args.subscribers,
        first.len(),
        n as f64 / secs,
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}

/// Reads one stream line by line until aborted.
async fn read(
    http: reqwest::Client,
    base: String,
    key: String,
    seen: Arc<Mutex<Seen>>,
    ready: tokio::sync::mpsc::Sender<()>,
) -> anyhow::Result<()> {
    let res = http
        .get(format!("{base}/api/v1/events"))
        .bearer_auth(&key)
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("stream: {}", res.status());
    }
    let mut body = res.bytes_stream();
    let mut buf: Vec<u8> = Vec::new();
    let mut connected = false;
    while let Some(chunk) = body.next().await {
        buf.extend_from_slice(&chunk?);
        while let Some(end) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=end).collect();
            let at = now_ms();
            let frame: Value = serde_json::from_slice(&line)?;
            match frame["event"].as_str() {
                Some("connected") if !connected => {
                    connected = true;
                    let _ = ready.send(()).await;
                }
                Some("ping") => {}
                _ => {
                    if let (Some(id), Some(ts)) =
                        (frame["id"].as_str(), frame["timestamp"].as_i64())
                    {
                        let mut s = seen.lock().await;
                        s.ids.push(id.to_owned());
                        s.latencies_ms.push(at - ts);
                    }
                }
            }
        }
    }
    Ok(())
}
