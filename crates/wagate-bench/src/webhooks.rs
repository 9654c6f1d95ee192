//! `wagate-bench webhooks` (docs/benchmarks.md, "Webhooks"): wagate's real webhook dispatcher
//! over a real SQLite store, delivering to a receiver on loopback in the same process.
//!
//! - `throughput`: N events are appended to the log first (each creating its delivery, as in a
//!   node); then the dispatcher starts and the time until the receiver got all N is measured.
//! - `baseline`: the same N envelopes POSTed to the same receiver by a bare reqwest client with
//!   the dispatcher's concurrency: the ceiling of HTTP on this machine.
//! - `latency`: inbound messages fed through the real `InboundPipeline` at a fixed rate; each
//!   message carries its feed time, and the receiver records feed-to-delivered latency.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use futures::StreamExt as _;
use tokio::sync::Notify;
use wagate_domain::engine::{InboundContent, InboundMessage};
use wagate_domain::{
    Clock as _, EngineEvent, EventId, Jid, LoggedEvent, OrgId, RetryPolicy, SessionId, SystemClock,
    Webhook, WebhookId,
};
use wagate_service::webhooks::WebhookConfig;
use wagate_service::{EventJournal, InProcessBus, InboundHandler as _};

use crate::in_process::{FreshStore, clients};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    Throughput,
    Baseline,
    Latency,
}

#[derive(Debug, clap::Args)]
pub struct WebhookArgs {
    #[arg(long, value_enum)]
    mode: Mode,
    /// A directory that does not exist yet; the database is created in it.
    #[arg(long)]
    data_dir: PathBuf,
    /// throughput, baseline: deliveries in all.
    #[arg(long, default_value_t = 20_000)]
    events: u64,
    /// latency: inbound messages per second.
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// latency: seconds of feeding.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// baseline: requests in flight (the dispatcher's batch).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
}

/// What the receiver saw: a count, and feed-to-arrival latencies (µs) when bodies carry them.
#[derive(Default)]
struct Seen {
    count: AtomicU64,
    latencies_us: Mutex<Vec<u64>>,
    all: Notify,
    expect: AtomicU64,
}

/// The marker before a message's feed time in its text.
const FED_AT: &str = "fed-at-us=";

pub async fn run(args: WebhookArgs) -> anyhow::Result<()> {
    let origin = Instant::now();
    let seen = Arc::new(Seen::default());
    let url = receiver(seen.clone(), origin).await?;
    match args.mode {
        Mode::Baseline => baseline(&args, &url, &seen).await,
        Mode::Throughput => throughput(&args, &url, &seen).await,
        Mode::Latency => latency(&args, &url, &seen, origin).await,
    }
}

/// Answers `204` to `POST /hook`, counting, and timing bodies that carry a feed time.
async fn receiver(seen: Arc<Seen>, origin: Instant) -> anyhow::Result<String> {
    async fn hook(State((seen, origin)): State<(Arc<Seen>, Instant)>, body: Bytes) -> &'static str {
        let now = origin.elapsed().as_micros() as u64;
        if let Some(fed) = fed_at(&body) {
            seen.latencies_us
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(now.saturating_sub(fed));
        }
        let n = seen.count.fetch_add(1, Ordering::SeqCst) + 1;
        if n == seen.expect.load(Ordering::SeqCst) {
            seen.all.notify_one();
        }
        ""
    }
    let app = axum::Router::new()
        .route("/hook", post(hook))
        .with_state((seen, origin));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}/hook"))
}

fn fed_at(body: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find(FED_AT)? + FED_AT.len();
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn envelope(id: &EventId, org: &OrgId, session: &SessionId, at: i64) -> String {
    serde_json::json!({
        "schema": "v1", "id": id.as_str(), "event": "message", "session": session.as_str(),
        "organization": org.as_str(), "timestamp": at,
        "payload": {"id": "msg_01JD5Z3V2Q0000000000000000", "waMessageId": "3EB0000000000000",
            "chat": "628300000000@s.whatsapp.net", "from": "628300000000@s.whatsapp.net",
            "fromMe": false, "type": "text", "body": "a webhook benchmark text of usual length",
            "timestamp": at, "media": null},
    })
    .to_string()
}

async fn baseline(args: &WebhookArgs, url: &str, seen: &Seen) -> anyhow::Result<()> {
    let (org, session) = (OrgId::generate(), SessionId::generate());
    let client = reqwest::Client::new();
    let started = Instant::now();
    let statuses: Vec<bool> = futures::stream::iter(0..args.events)
        .map(|_| {
            let body = envelope(&EventId::generate(), &org, &session, SystemClock.now_ms());
            let client = client.clone();
            async move {
                client
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        })
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    let secs = started.elapsed().as_secs_f64();
    let ok = statuses.iter().filter(|s| **s).count() as u64;
    println!(
        "WEBHOOKS mode=baseline events={} delivered={} received={} secs={secs:.2} rate={:.0}",
        args.events,
        ok,
        seen.count.load(Ordering::SeqCst),
        ok as f64 / secs
    );
    if ok != args.events {
        bail!("{} of {} requests failed", args.events - ok, args.events);
    }
    Ok(())
}

/// A fresh store with one organization, one session and one signed webhook to `url`.
async fn setup(args: &WebhookArgs, url: &str, events: &[&str]) -> anyhow::Result<FreshStore> {
    let fresh = FreshStore::create(&args.data_dir, 1).await?;
    let now = SystemClock.now_ms();
    let key = [7u8; wagate_service::webhooks::SECRET_KEY_LEN];
    let secret = wagate_service::webhooks::SecretBox::new(&key)
        .seal("bench-secret")
        .context("sealing the secret")?;
    fresh
        .stores
        .webhooks
        .insert_webhook(&Webhook {
            id: WebhookId::generate(),
            organization: fresh.sessions[0].organization_id.clone(),
            session: None,
            url: url.to_owned(),
            events: events.iter().map(|e| (*e).to_owned()).collect(),
            custom_headers: Default::default(),
            retry_policy: RetryPolicy::exponential(2, 15),
            active: true,
            secret: Some(secret),
            failing_since: None,
            disabled_at: None,
            disabled_reason: None,
            created_at: now,
            updated_at: now,
        })
        .await?;
    Ok(fresh)
}

fn start_dispatcher(
    stores: &wagate_store::Stores,
    due: Arc<Notify>,
) -> anyhow::Result<wagate_service::WebhookDispatcher> {
    let (_, dispatcher) = wagate_service::webhooks::start(
        stores.webhooks.clone(),
        stores.core.clone(),
        Arc::new(SystemClock),
        due,
        WebhookConfig {
            allow_private: true,
            timeout: Duration::from_secs(30),
            disable_after: Duration::from_secs(24 * 3600),
            default_policy: RetryPolicy::exponential(2, 15),
            secret_key: [7u8; wagate_service::webhooks::SECRET_KEY_LEN],
        },
    )?;
    Ok(dispatcher)
}

async fn delivered(db: &str) -> anyhow::Result<i64> {
    let pool = sqlx::SqlitePool::connect(db).await?;
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'")
            .fetch_one(&pool)
            .await?;
    pool.close().await;
    Ok(n)
}

async fn throughput(args: &WebhookArgs, url: &str, seen: &Seen) -> anyhow::Result<()> {
    let fresh = setup(args, url, &["*"]).await?;
    let (stores, session, db) = (&fresh.stores, &fresh.sessions[0], &fresh.url);
    let now = SystemClock.now_ms();
    let mut pending = Vec::with_capacity(512);
    for _ in 0..args.events {
        let id = EventId::generate();
        pending.push(LoggedEvent {
            envelope: envelope(&id, &session.organization_id, &session.id, now),
            id,
            organization: session.organization_id.clone(),
            session: session.id.clone(),
            event_type: "message".into(),
            created_at: now,
        });
        if pending.len() == 512 {
            stores.events.append_events(&pending).await?;
            pending.clear();
        }
    }
    stores.events.append_events(&pending).await?;
    seen.expect.store(args.events, Ordering::SeqCst);
    let all = seen.all.notified();
    let started = Instant::now();
    let dispatcher = start_dispatcher(stores, Arc::new(Notify::new()))?;
    tokio::time::timeout(Duration::from_secs(600), all)
        .await
        .context("deliveries did not finish within 10 min")?;
    let secs = started.elapsed().as_secs_f64();
    // Outcomes are recorded right after the last answer of a batch.
    tokio::time::sleep(Duration::from_millis(500)).await;
    dispatcher.shutdown(Duration::from_secs(5)).await;
    let recorded = delivered(db).await?;
    println!(
        "WEBHOOKS mode=throughput events={} received={} recorded={recorded} secs={secs:.2} rate={:.0}",
        args.events,
        seen.count.load(Ordering::SeqCst),
        args.events as f64 / secs
    );
    if recorded != args.events as i64 {
        bail!(
            "{} deliveries, {recorded} recorded as delivered",
            args.events
        );
    }
    Ok(())
}

async fn latency(
    args: &WebhookArgs,
    url: &str,
    seen: &Seen,
    origin: Instant,
) -> anyhow::Result<()> {
    let fresh = setup(args, url, &["message"]).await?;
    let (stores, session, db) = (&fresh.stores, &fresh.sessions[0], &fresh.url);
    let due = Arc::new(Notify::new());
    let journal = EventJournal::start(stores.events.clone(), InProcessBus::default(), due.clone());
    let dispatcher = start_dispatcher(stores, due)?;
    let pipeline = fresh.pipeline(Arc::new(journal));
    let client = clients(&args.data_dir, &fresh.sessions).await?.remove(0);
    let total = args.rate * args.duration;
    seen.expect.store(total, Ordering::SeqCst);
    let all = seen.all.notified();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let peer = Jid::from_phone("628300000000").context("peer jid")?;
    let base_ms = SystemClock.now_ms();
    for i in 0..total {
        tick.tick().await;
        let fed = origin.elapsed().as_micros();
        let message = InboundMessage {
            id: format!("3EB0{i:016X}"),
            chat: peer.clone(),
            sender: peer.clone(),
            sender_alt: None,
            push_name: Some("Peer".into()),
            from_me: false,
            timestamp: base_ms + i as i64,
            content: InboundContent::Text {
                text: format!("latency probe {FED_AT}{fed} of usual length"),
            },
            quoted_id: None,
            mentions: Vec::new(),
            forwarded: false,
        };
        pipeline
            .handle(session, &client, EngineEvent::Message(Box::new(message)))
            .await;
    }
    let fed_secs = args.duration as f64;
    tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .context("not every message was delivered within 60 s")?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    dispatcher.shutdown(Duration::from_secs(5)).await;
    let mut lat = seen
        .latencies_us
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    lat.sort_unstable();
    let pct = |p: f64| lat[((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1];
    let recorded = delivered(db).await?;
    println!(
        "WEBHOOKS mode=latency rate={} secs={fed_secs:.0} messages={total} received={} recorded={recorded} p50_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        args.rate,
        lat.len(),
        pct(0.50) as f64 / 1000.0,
        pct(0.99) as f64 / 1000.0,
        pct(1.0) as f64 / 1000.0,
    );
    if lat.len() as u64 != total || recorded != total as i64 {
        bail!(
            "{total} messages fed, {} received, {recorded} recorded",
            lat.len()
        );
    }
    Ok(())
}
