//! `wagate-bench seed` (docs/benchmarks.md, "Messaging: newest page of a large chat"): one DM
//! chat of an existing session filled with N messages, written straight into a node's SQLite
//! database in the store's schema (the store is opened first, so its migrations have run).
//! Multi-row INSERTs in large transactions: 1,000,000 messages take seconds, not the minutes
//! one `record_message` per message would.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use sqlx::{QueryBuilder, Sqlite};
use wagate_domain::{Clock as _, SystemClock};

#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// The node's data directory (its `wagate.db`); the node must not be running.
    #[arg(long)]
    data_dir: PathBuf,
    /// The session the chat belongs to (`sess_…`, created through the API).
    #[arg(long)]
    session: String,
    /// Messages in the chat.
    #[arg(long, default_value_t = 1_000_000)]
    messages: u64,
    /// The peer's phone number; the chat is keyed by its LID, known as an identity.
    #[arg(long, default_value_t = 628_500_000_000)]
    phone: u64,
    /// Print the cursor that starts the page after this many newest messages; repeatable.
    #[arg(long = "depth", value_delimiter = ',')]
    depths: Vec<u64>,
}

/// Rows per INSERT (17 parameters each: below SQLite's 32,766 variables).
const ROWS_PER_INSERT: u64 = 1_000;
/// Rows per transaction.
const ROWS_PER_TX: u64 = 100_000;
/// Milliseconds between two messages (the chat spans N seconds up to now).
const SPACING_MS: u64 = 1_000;

/// Message `i` (0 = oldest): its id, ordered like its timestamp as every `msg_` ULID is.
fn message_id(i: u64, first_ms: u64) -> String {
    let ulid = ulid::Ulid::from_parts(first_ms + i * SPACING_MS, u128::from(i));
    format!("msg_{ulid}")
}

/// Seeds the chat and prints `SEEDED …`, then one `CURSOR depth=… id=…` per `--depth`.
pub async fn run(args: SeedArgs) -> anyhow::Result<()> {
    let url = wagate_store::sqlite_url_for_data_dir(&args.data_dir);
    wagate_store::open(&url).await?.close().await;
    let pool = sqlx::SqlitePool::connect(&url).await?;
    let session: Option<String> = sqlx::query_scalar("SELECT id FROM sessions WHERE id = $1")
        .bind(&args.session)
        .fetch_optional(&pool)
        .await?;
    if session.is_none() {
        bail!("no session {} in {url}", args.session);
    }
    let started = Instant::now();
    let now = u64::try_from(SystemClock.now_ms())?;
    let first_ms = now - args.messages * SPACING_MS;
    let phone_jid = format!("{}@s.whatsapp.net", args.phone);
    let lid = format!("{}@lid", args.phone + 100_000_000_000_000);
    let last_ms = (first_ms + args.messages.saturating_sub(1) * SPACING_MS) as i64;

    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO identities (lid, phone_number, phone_jid, name, first_seen_at, updated_at) \
         VALUES ($1, $2, $3, 'Bench Peer', $4, $4)",
    )
    .bind(&lid)
    .bind(args.phone.to_string())
    .bind(&phone_jid)
    .bind(first_ms as i64)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO chats (session_id, chat_jid, type, name, last_message_at, unread_count) \
         VALUES ($1, $2, 'dm', 'Bench Peer', $3, 0)",
    )
    .bind(&args.session)
    .bind(&lid)
    .bind(last_ms)
    .execute(&mut *tx)
    .await?;
    let mut i = 0;
    while i < args.messages {
        let end = (i + ROWS_PER_INSERT).min(args.messages);
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO messages (id, session_id, wa_message_id, chat_jid, sender_lid, \
             sender_jid, from_me, type, body, has_media, status, timestamp, created_at) ",
        );
        insert.push_values(i..end, |mut row, n| {
            // Every other message is this account's, read by the peer.
            let from_me = n % 2 == 0;
            let ts = (first_ms + n * SPACING_MS) as i64;
            row.push_bind(message_id(n, first_ms))
                .push_bind(&args.session)
                .push_bind(format!("3EB0{n:016X}"))
                .push_bind(&lid)
                .push_bind((!from_me).then_some(&lid))
                .push_bind((!from_me).then_some(&phone_jid))
                .push_bind(from_me)
                .push_bind("text")
                .push_bind(format!(
                    "message {n} of the benchmark chat, a line of usual length"
                ))
                .push_bind(false)
                .push_bind(from_me.then_some("read"))
                .push_bind(ts)
                .push_bind(ts);
        });
        insert.build().execute(&mut *tx).await?;
        i = end;
        if i % ROWS_PER_TX == 0 && i < args.messages {
            tx.commit().await?;
            tx = pool.begin().await?;
            eprintln!("wagate-bench seed: {i} of {} messages", args.messages);
        }
    }
    tx.commit().await?;
    pool.close().await;
    println!(
        "SEEDED messages={} secs={:.1} chat={lid} phone={phone_jid}",
        args.messages,
        started.elapsed().as_secs_f64()
    );
    for depth in args.depths {
        if depth == 0 || depth >= args.messages {
            bail!("--depth {depth} must be within 1..{}", args.messages);
        }
        // The page after the `depth` newest messages starts below the depth-th newest.
        println!(
            "CURSOR depth={depth} id={}",
            message_id(args.messages - depth, first_ms)
        );
    }
    Ok(())
}
