//! The load generator of `scripts/bench-messaging send` (docs/benchmarks.md, "Messaging:
//! sends"): text sends through `POST /api/v1/sessions/{id}/messages` to sessions paired on a
//! standalone simnet, each session sending to its own simulated peer phone.
//!
//! - **closed loop**: `--connections` workers, each sending its next message as soon as the
//!   previous one is answered; measures the highest sustained rate.
//! - **open loop** (`--rate`): one send scheduled every 1/rate s whatever the answers do, each
//!   on its own task; latency runs from the **scheduled** time, so a stall delays every send
//!   scheduled during it and shows in the percentiles (no coordinated omission).
//! - `--async`: `?async=true` sends (`202` + `outboxId`), then waits until the last accepted
//!   send of every session has left its outbox (sessions send in order).
//! - `--direct`: the baseline. The same texts, with the same load, sent by simulated phones
//!   that no session is linked to, straight through simnet's control API (`POST
//!   /_sim/phones/{phone}/messages`): an HTTP request with a JSON body and the simulated
//!   network's delivery, as in every send through the node, but no node at all.
//!
//! Afterwards every session's chat with its peer is read back through `listChatMessages` and
//! the peer's inbox through simnet, so the report says how many of the accepted sends were
//! persisted and delivered.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;
use tokio::task::JoinSet;

use crate::api::{Api, NodeArgs, Simnet, client};
use crate::latency::Latencies;
use crate::pair::pair_working;

#[derive(Debug, clap::Args)]
pub struct SendArgs {
    #[command(flatten)]
    node: NodeArgs,
    /// The standalone simnet's base URL.
    #[arg(long)]
    simnet: String,
    /// Sessions paired for this run, each sending to its own peer phone.
    #[arg(long, default_value_t = 4)]
    sessions: usize,
    /// Phone number of the first session; the others and the peers follow it.
    #[arg(long, default_value_t = 628_200_000_000)]
    first_phone: u64,
    /// Closed loop: concurrent connections, each sending as soon as its last send is answered.
    #[arg(long, default_value_t = 32, conflicts_with = "rate")]
    connections: usize,
    /// Open loop: sends per second, on a fixed schedule.
    #[arg(long)]
    rate: Option<f64>,
    /// Measured seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Unmeasured seconds of the same load first.
    #[arg(long, default_value_t = 3.0)]
    warmup: f64,
    /// Send with `?async=true` and wait until the outboxes drain.
    #[arg(long = "async", conflicts_with = "direct")]
    asynchronous: bool,
    /// Baseline: unlinked phones send through simnet's control API; no node is involved.
    #[arg(long)]
    direct: bool,
}

/// One target of the load: a session (with `--direct`, an unlinked phone) and the peer it
/// sends to.
struct Target {
    session: String,
    peer: u64,
    /// `sendMessage` on the node, or with `--direct` the phone's send through simnet.
    url: String,
}

/// What the tasks share.
struct Shared {
    api: Api,
    targets: Vec<Target>,
    asynchronous: bool,
    direct: bool,
    /// Numbers the messages' texts.
    sent: AtomicU64,
}

/// One send's answer: accepted (with the outbox id of an async send), or what came instead.
type Outcome = Result<Option<String>, String>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Accepted {
    #[serde(default)]
    outbox_id: Option<String>,
}

impl Shared {
    async fn send(&self, target: usize) -> Outcome {
        let t = &self.targets[target];
        let n = self.sent.fetch_add(1, Ordering::Relaxed);
        let mut body = json!({
            "to": format!("{}@s.whatsapp.net", t.peer),
            "text": format!("benchmark message {n} from wagate-bench"),
        });
        let (request, want) = if self.direct {
            (self.api.http.post(&t.url), StatusCode::CREATED)
        } else {
            body["type"] = "text".into();
            let want = if self.asynchronous {
                StatusCode::ACCEPTED
            } else {
                StatusCode::OK
            };
            (self.api.http.post(&t.url).bearer_auth(&self.api.key), want)
        };
        let res = request
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("transport: {e}"))?;
        let status = res.status();
        if status != want {
            return Err(format!("HTTP {}", status.as_u16()));
        }
        let accepted: Accepted = res.json().await.map_err(|e| format!("body: {e}"))?;
        Ok(accepted.outbox_id)
    }
}

/// Counts of one phase (warm-up or measured).
struct Tally {
    ok: u64,
    errors: BTreeMap<String, u64>,
    /// From the scheduled (open loop) or actual (closed loop) start to the answer.
    latency: Latencies,
    /// From the request's actual start to the answer (open loop: without timer lateness).
    service: Latencies,
    /// Per target, the highest outbox id accepted (ULIDs grow with time).
    last_outbox: Vec<Option<String>>,
}

impl Tally {
    fn new(targets: usize) -> Self {
        Self {
            ok: 0,
            errors: BTreeMap::new(),
            latency: Latencies::default(),
            service: Latencies::default(),
            last_outbox: vec![None; targets],
        }
    }

    fn record(&mut self, target: usize, outcome: Outcome, latency: Duration, service: Duration) {
        match outcome {
            Ok(outbox) => {
                self.ok += 1;
                self.latency.record(latency);
                self.service.record(service);
                let last = &mut self.last_outbox[target];
                if outbox.as_ref() > last.as_ref() {
                    *last = outbox;
                }
            }
            Err(e) => *self.errors.entry(e).or_default() += 1,
        }
    }

    fn merge(&mut self, mut other: Tally) {
        self.ok += other.ok;
        for (e, n) in other.errors {
            *self.errors.entry(e).or_default() += n;
        }
        self.latency.append(&mut other.latency);
        self.service.append(&mut other.service);
        for (mine, theirs) in self.last_outbox.iter_mut().zip(other.last_outbox) {
            if theirs.as_ref() > mine.as_ref() {
                *mine = theirs;
            }
        }
    }
}

/// Pairs the sessions, runs the warm-up and the measured phase, drains async sends, checks what
/// was persisted and delivered, and prints one `SEND …` and one `PERSISTED …` line.
pub async fn run(args: SendArgs) -> anyhow::Result<()> {
    let http = client(args.connections.max(64))?;
    let api = args.node.client(http.clone());
    let simnet = Simnet::new(&args.simnet, http);
    let targets = setup(&args, &api, &simnet).await?;
    let shared = Arc::new(Shared {
        api,
        targets,
        asynchronous: args.asynchronous,
        direct: args.direct,
        sent: AtomicU64::new(0),
    });
    let mut total = Tally::new(shared.targets.len());
    // Async: from the first accept to the last send out of the outboxes.
    let started = Instant::now();
    if args.asynchronous {
        // This branch may predate async sends: say so instead of measuring errors.
        let probe = shared.send(0).await;
        if probe.as_ref().is_err_and(|e| e == "HTTP 501") {
            println!("PENDING async sends answered 501 not_implemented on this node");
            return Ok(());
        }
        total.record(0, probe, Duration::ZERO, Duration::ZERO);
    }
    if args.warmup > 0.0 {
        let (warm, _) = phase(&shared, &args, secs(args.warmup)).await;
        eprintln!(
            "wagate-bench send: warm-up {} accepted, {} errors",
            warm.ok,
            warm.errors.values().sum::<u64>()
        );
        total.merge(warm);
    }
    let (mut measured, elapsed) = phase(&shared, &args, secs(args.duration)).await;
    let load = match args.rate {
        Some(rate) => format!("mode=open rate={rate}"),
        None => format!("mode=closed connections={}", args.connections),
    };
    let errors: u64 = measured.errors.values().sum();
    let latency = measured.latency.summary();
    let service = measured.service.summary();
    total.merge(measured);
    let drained = if args.asynchronous {
        let drain = Instant::now();
        wait_drained(&shared, &total.last_outbox).await?;
        // Every accepted send (warm-up included) over the whole time it took to send them all:
        // the sustained async rate, accepting and dispatching together.
        format!(
            " drain_secs={:.2} sent_rate={:.0}",
            drain.elapsed().as_secs_f64(),
            total.ok as f64 / started.elapsed().as_secs_f64()
        )
    } else {
        String::new()
    };
    println!(
        "SEND {load} target={} sessions={} secs={:.2} accepted={} errors={errors} rate={:.0} {latency} service_p50_ms={:.2} service_p99_ms={:.2}{drained}",
        if args.direct {
            "direct"
        } else if args.asynchronous {
            "async"
        } else {
            "sync"
        },
        shared.targets.len(),
        elapsed.as_secs_f64(),
        latency.count,
        latency.count as f64 / elapsed.as_secs_f64(),
        service.p50,
        service.p99,
    );
    for (e, n) in &total.errors {
        eprintln!("wagate-bench send: {n} × {e}");
    }
    verify(&shared, &simnet, total.ok).await
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

/// Pairs `--sessions` sessions (with `--direct`, creates as many phones) and creates one peer
/// phone for each.
async fn setup(args: &SendArgs, api: &Api, simnet: &Simnet) -> anyhow::Result<Vec<Target>> {
    let peer = |i: usize| args.first_phone + (args.sessions + i) as u64;
    if args.direct {
        let mut targets = Vec::with_capacity(args.sessions);
        for i in 0..args.sessions {
            let phone = args.first_phone + i as u64;
            simnet.create_phone(phone).await?;
            simnet.create_phone(peer(i)).await?;
            let url = format!("{}/_sim/phones/{phone}/messages", simnet.base);
            targets.push(Target {
                session: String::new(),
                peer: peer(i),
                url,
            });
        }
        return Ok(targets);
    }
    let paired = pair_working(api, simnet, args.sessions, args.first_phone).await?;
    let mut targets = Vec::with_capacity(paired.len());
    for (i, session) in paired.into_iter().map(|p| p.id).enumerate() {
        simnet.create_phone(peer(i)).await?;
        let query = if args.asynchronous { "?async=true" } else { "" };
        let url = api.url(&format!("/api/v1/sessions/{session}/messages{query}"));
        targets.push(Target {
            session,
            peer: peer(i),
            url,
        });
    }
    Ok(targets)
}

/// One phase of the configured load. Returns the tally and how long the phase took until its
/// last answer.
async fn phase(shared: &Arc<Shared>, args: &SendArgs, length: Duration) -> (Tally, Duration) {
    let started = Instant::now();
    let tally = match args.rate {
        Some(rate) => open_loop(shared, rate, length).await,
        None => closed_loop(shared, args.connections, started + length).await,
    };
    (tally, started.elapsed())
}

/// `connections` workers, worker `w` sending to target `w mod targets`.
async fn closed_loop(shared: &Arc<Shared>, connections: usize, until: Instant) -> Tally {
    let targets = shared.targets.len();
    let mut workers = JoinSet::new();
    for w in 0..connections.max(1) {
        let shared = shared.clone();
        workers.spawn(async move {
            let target = w % targets;
            let mut tally = Tally::new(targets);
            while Instant::now() < until {
                let start = Instant::now();
                let outcome = shared.send(target).await;
                let took = start.elapsed();
                tally.record(target, outcome, took, took);
            }
            tally
        });
    }
    let mut total = Tally::new(targets);
    while let Some(done) = workers.join_next().await {
        if let Ok(tally) = done {
            total.merge(tally);
        }
    }
    total
}

/// Send `i` is due at `i / rate` s, round-robin over the targets. tokio's timer has 1 ms
/// granularity, so a send can start up to about 1 ms after it was due; that lateness counts in
/// its latency (and not in its service time).
async fn open_loop(shared: &Arc<Shared>, rate: f64, length: Duration) -> Tally {
    let targets = shared.targets.len();
    let mut total = Tally::new(targets);
    let mut tasks = JoinSet::new();
    let start = Instant::now();
    for i in 0u64.. {
        let at = start + Duration::from_secs_f64(i as f64 / rate);
        if at >= start + length {
            break;
        }
        tokio::time::sleep_until(at.into()).await;
        let shared = shared.clone();
        let target = (i % targets as u64) as usize;
        tasks.spawn(async move {
            let begun = Instant::now();
            let outcome = shared.send(target).await;
            (target, outcome, at.elapsed(), begun.elapsed())
        });
        while let Some(Ok((target, outcome, latency, service))) = tasks.try_join_next() {
            total.record(target, outcome, latency, service);
        }
    }
    while let Some(done) = tasks.join_next().await {
        if let Ok((target, outcome, latency, service)) = done {
            total.record(target, outcome, latency, service);
        }
    }
    total
}

#[derive(Deserialize)]
struct OutboxRow {
    status: String,
}

/// Waits until the last accepted async send of every session is `sent` or `failed`.
async fn wait_drained(shared: &Shared, last: &[Option<String>]) -> anyhow::Result<()> {
    let started = Instant::now();
    for (target, outbox) in shared.targets.iter().zip(last) {
        let Some(outbox) = outbox else { continue };
        let path = format!("/api/v1/sessions/{}/outbox/{outbox}", target.session);
        loop {
            let OutboxRow { status } = shared.api.get(&path).await?;
            if status == "sent" || status == "failed" {
                break;
            }
            if started.elapsed() > Duration::from_secs(600) {
                bail!("{path} still {status} after 600 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Ok(())
}

/// Reads every session's chat with its peer back and the peers' inboxes; prints `PERSISTED
/// accepted=… stored=… delivered=…` and fails if a count falls short (with `--direct` there is
/// no node: `stored=-`).
async fn verify(shared: &Shared, simnet: &Simnet, accepted: u64) -> anyhow::Result<()> {
    let (mut stored, mut delivered) = (0, 0);
    for t in &shared.targets {
        if !shared.direct {
            let chat = format!("{}@s.whatsapp.net", t.peer);
            stored += shared.api.count_from_me(&t.session, &chat).await?;
        }
        delivered += simnet.inbox_len(t.peer).await?;
    }
    if shared.direct {
        println!("PERSISTED accepted={accepted} stored=- delivered={delivered}");
        stored = accepted;
    } else {
        println!("PERSISTED accepted={accepted} stored={stored} delivered={delivered}");
    }
    if stored < accepted || delivered < accepted {
        bail!("{accepted} sends accepted, but {stored} stored and {delivered} delivered");
    }
    Ok(())
}
