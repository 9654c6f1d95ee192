//! `wagate-bench inbound` (docs/benchmarks.md, "Messaging: inbound messages persisted"):
//! inbound text messages fed in process through wagate's real [`InboundPipeline`] into a real
//! SQLite store on a fresh file: per session, a producer queues the messages as a connection
//! does and the session task's `EventQueue` hands them on, what is queued as one batch; or, as the baseline, the same message and chat rows written
//! with plain sqlx, one transaction per message.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures::SinkExt as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::task::JoinSet;
use wagate_domain::engine::{InboundContent, InboundMessage};
use wagate_domain::{
    Clock as _, EngineEvent, EventPublisher, Jid, MessageId, Session, SystemClock,
};
use wagate_service::{EventJournal, EventQueue, InProcessBus, InboundHandler as _, NextEvents};

use crate::in_process::{FreshStore, clients};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// wagate's inbound pipeline and store.
    Pipeline,
    /// Plain sqlx: the message row and the chat upsert, one transaction per message (per
    /// `--batch` messages).
    Sql,
}

#[derive(Debug, clap::Args)]
pub struct InboundArgs {
    /// What writes the messages.
    #[arg(long, value_enum)]
    target: Target,
    /// A directory that does not exist yet; the database is created in it.
    #[arg(long)]
    data_dir: PathBuf,
    /// Messages in all.
    #[arg(long, default_value_t = 100_000)]
    messages: u64,
    /// Sessions, each fed by its own task (its share of the messages, in order).
    #[arg(long, default_value_t = 1)]
    sessions: u64,
    /// Chats (peers writing to the session) per session.
    #[arg(long, default_value_t = 10)]
    chats: u64,
    /// `--target sql`: messages written per transaction.
    #[arg(long, default_value_t = 1)]
    batch: u64,
}

/// Events a session's producer may queue ahead of the pipeline (the engines' queues are
/// unbounded; this keeps the benchmark's memory flat).
const QUEUED_EVENTS: usize = 1024;

/// Phone number of the first peer; peer `c` is `FIRST_PEER + c`, with LID `FIRST_LID + c`.
const FIRST_PEER: u64 = 628_300_000_000;
const FIRST_LID: u64 = 190_000_000_000_000;

/// Runs one target and prints `INBOUND target=… messages=… stored=… secs=… rate=…`.
pub async fn run(args: InboundArgs) -> anyhow::Result<()> {
    let fresh = FreshStore::create(&args.data_dir, args.sessions).await?;
    let (stores, url, sessions) = (&fresh.stores, &fresh.url, fresh.sessions.clone());
    let per_session = args.messages / sessions.len() as u64;
    let total = per_session * sessions.len() as u64;
    let started = Instant::now();
    match args.target {
        Target::Pipeline => feed_pipeline(&args, &fresh, sessions, per_session).await?,
        Target::Sql => feed_sql(url, &args, sessions, per_session).await?,
    }
    let secs = started.elapsed().as_secs_f64();
    stores.core.close().await;
    let stored = count_messages(url).await?;
    let target = match args.target {
        Target::Pipeline => "pipeline",
        Target::Sql => "sql",
    };
    println!(
        "INBOUND target={target} sessions={} batch={} messages={total} stored={stored} secs={secs:.2} rate={:.0}",
        args.sessions,
        args.batch,
        total as f64 / secs
    );
    if stored != total {
        bail!("{total} messages fed, {stored} stored");
    }
    Ok(())
}

/// Message `i` of a session: text from peer `i mod chats`, by phone JID with the LID as the
/// alternative address, as simnet and WhatsApp deliver direct messages.
fn message(i: u64, chats: u64, base_ms: i64) -> InboundMessage {
    let c = i % chats.max(1);
    let phone = Jid::from_phone(&(FIRST_PEER + c).to_string()).unwrap_or_else(|_| unreachable!());
    let lid = Jid::parse(&format!("{}@lid", FIRST_LID + c)).unwrap_or_else(|_| unreachable!());
    InboundMessage {
        id: format!("3EB0{i:016X}"),
        chat: phone.clone(),
        sender: phone,
        sender_alt: Some(lid),
        push_name: Some(format!("Peer {c}")),
        from_me: false,
        timestamp: base_ms + i as i64,
        content: InboundContent::Text {
            text: format!("inbound message {i}: hello, this is a benchmark text of usual length"),
        },
        quoted_id: None,
        mentions: Vec::new(),
        forwarded: false,
    }
}

async fn feed_pipeline(
    args: &InboundArgs,
    fresh: &FreshStore,
    sessions: Vec<Session>,
    per_session: u64,
) -> anyhow::Result<()> {
    // As in a node: events go through the journal into the event log.
    let events: Arc<dyn EventPublisher> = Arc::new(EventJournal::start(
        fresh.stores.events.clone(),
        InProcessBus::default(),
        Default::default(),
    ));
    let pipeline = Arc::new(fresh.pipeline(events));
    let clients = clients(&args.data_dir, &sessions).await?;
    let base_ms = SystemClock.now_ms();
    let mut feeders = JoinSet::new();
    for (session, client) in sessions.into_iter().zip(clients) {
        let pipeline = pipeline.clone();
        let chats = args.chats;
        // As a connection delivers them: a producer queues the session's events, and the
        // session task's own `EventQueue` takes them, in batches of what is already queued.
        let (mut queue, rx) = futures::channel::mpsc::channel(QUEUED_EVENTS);
        feeders.spawn(async move {
            for i in 0..per_session {
                let event = EngineEvent::Message(Box::new(message(i, chats, base_ms)));
                if queue.send(event).await.is_err() {
                    break;
                }
            }
        });
        feeders.spawn(async move {
            let mut events = EventQueue::new(rx);
            loop {
                match events.next().await {
                    NextEvents::Traffic(batch) => {
                        pipeline.handle_batch(&session, &client, batch).await;
                    }
                    NextEvents::Connection(_) => {}
                    NextEvents::Closed => break,
                }
            }
        });
    }
    while let Some(done) = feeders.join_next().await {
        done.context("feeder task")?;
    }
    Ok(())
}

/// The store's SQLite settings (`SqliteStore::open`): WAL, `synchronous=NORMAL`, foreign keys,
/// 8 connections.
async fn pool(url: &str) -> anyhow::Result<sqlx::SqlitePool> {
    use std::str::FromStr as _;
    let options = SqliteConnectOptions::from_str(url)?
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    Ok(SqlitePoolOptions::new()
        .max_connections(8)
        .test_before_acquire(false)
        .connect_with(options)
        .await?)
}

/// The rows the pipeline writes for a new message from a known peer (the message, and the
/// chat's last activity and unread count), in one transaction per `--batch` messages.
async fn feed_sql(
    url: &str,
    args: &InboundArgs,
    sessions: Vec<Session>,
    per_session: u64,
) -> anyhow::Result<()> {
    let pool = pool(url).await?;
    let base_ms = SystemClock.now_ms();
    let mut feeders = JoinSet::new();
    for session in sessions {
        let pool = pool.clone();
        let (chats, batch) = (args.chats, args.batch.max(1));
        feeders.spawn(async move {
            let mut tx = pool.begin().await?;
            for i in 0..per_session {
                if i > 0 && i % batch == 0 {
                    tx.commit().await?;
                    tx = pool.begin().await?;
                }
                let m = message(i, chats, base_ms);
                let lid = m.sender_alt.as_ref().map(ToString::to_string);
                let InboundContent::Text { text } = &m.content else {
                    unreachable!()
                };
                sqlx::query(
                    "INSERT INTO messages (id, session_id, wa_message_id, chat_jid, sender_lid, \
                     sender_jid, from_me, type, body, has_media, timestamp, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, FALSE, 'text', $7, FALSE, $8, $9) \
                     ON CONFLICT (session_id, wa_message_id) DO NOTHING",
                )
                .bind(MessageId::generate().as_str())
                .bind(session.id.as_str())
                .bind(&m.id)
                .bind(&lid)
                .bind(&lid)
                .bind(m.sender.as_str())
                .bind(text)
                .bind(m.timestamp)
                .bind(SystemClock.now_ms())
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO chats (session_id, chat_jid, type, name, last_message_at, \
                     unread_count) VALUES ($1, $2, 'dm', $3, $4, 1) \
                     ON CONFLICT (session_id, chat_jid) DO UPDATE SET \
                     name = COALESCE(excluded.name, chats.name), \
                     last_message_at = CASE WHEN chats.last_message_at IS NULL \
                       OR excluded.last_message_at > chats.last_message_at \
                       THEN excluded.last_message_at ELSE chats.last_message_at END, \
                     unread_count = chats.unread_count + excluded.unread_count",
                )
                .bind(session.id.as_str())
                .bind(&lid)
                .bind(&m.push_name)
                .bind(m.timestamp)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(())
        });
    }
    while let Some(done) = feeders.join_next().await {
        done.context("feeder task")??;
    }
    pool.close().await;
    Ok(())
}

async fn count_messages(url: &str) -> anyhow::Result<u64> {
    let pool = pool(url).await?;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    Ok(u64::try_from(n)?)
}
