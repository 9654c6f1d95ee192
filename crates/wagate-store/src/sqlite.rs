//! The embedded backend: one SQLite file in WAL mode under the data directory.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use wagate_domain::{StoreError, StoreResult};

use crate::error;
use crate::point_cache::{ChangeGuard, PointCache};
use crate::sqlite_reads::SqliteReads;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// [`wagate_domain::Store`] on SQLite.
pub struct SqliteStore {
    pool: sqlx::SqlitePool,
    /// The two per-request point reads without the pool; `None` for an in-memory database.
    /// Its idle connections close when the store is dropped.
    reads: Option<SqliteReads>,
    /// Validated copies of what `reads` answered; `None` without direct reads.
    cache: Option<PointCache>,
    /// The background WAL checkpoints; ended with the store.
    checkpoints: tokio::task::JoinHandle<()>,
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.checkpoints.abort();
    }
}

/// How often the WAL is checkpointed in the background.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// How long a connection waits for SQLite's write lock before its statement fails as busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` and migrates it.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(error::map)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose
            // the last transactions, which is the usual trade for an embedded server.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        // The writer whose commit fills the WAL past its limit would otherwise copy it back
        // into the database and fsync both files before its own call returns: a stall of
        // tens of milliseconds on whatever that writer was doing (an inbound message, an event
        // append, a webhook claim). A background task checkpoints instead.
        let options = options.pragma("wal_autocheckpoint", "0");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            // No ping on every acquire (a round trip to the connection's worker thread per
            // query): a broken connection then surfaces as the query's error, and sqlx drops
            // it instead of returning it to the pool.
            .test_before_acquire(false)
            .after_connect(|conn, _| Box::pin(wait_briefly_for_locks(conn)))
            .connect_with(options.clone())
            .await
            .map_err(error::map)?;
        MIGRATOR.run(&pool).await.map_err(error::migrate)?;
        // After the pool: the file exists and is in WAL mode by now.
        let reads = SqliteReads::new(options.get_filename());
        let cache =
            match &reads {
                Some(_) => Some(PointCache::for_database(options.get_filename()).map_err(
                    |err| StoreError::Backend(format!("SQLite point cache: {err}").into()),
                )?),
                None => None,
            };
        let checkpoints = tokio::spawn(checkpoint(pool.clone()));
        Ok(Self {
            pool,
            reads,
            cache,
            checkpoints,
        })
    }
}

/// Copies the WAL back into the database every [`CHECKPOINT_EVERY`] while the store is open,
/// without blocking readers or writers (`PASSIVE`), on one pool connection.
async fn checkpoint(pool: sqlx::SqlitePool) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
            && !pool.is_closed()
        {
            tracing::warn!(%err, "SQLite WAL checkpoint failed");
        }
    }
}

/// SQLite's busy handler, the one `busy_timeout` installs, sleeps 1, 2, 5, 10, 15, 20, 25, 25,
/// 25, 50, 50 then 100 ms between tries for a lock another connection holds. The write lock is
/// held for well under a millisecond per transaction, but with the pool's connections taking
/// turns at it a writer that lost a few tries sleeps 25–100 ms while the lock is free most of
/// that time. This handler retries every [`short_wait`] instead, up to [`BUSY_TIMEOUT`].
async fn wait_briefly_for_locks(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let raw = handle.as_raw_handle();
    // SAFETY: `raw` is the connection's open handle, and the locked handle keeps sqlx's worker
    // thread off it while it is used here. `from_handle` does not take ownership: dropping the
    // rusqlite wrapper leaves the connection open, and the handler it installs is a plain
    // function, so nothing it refers to is freed with the wrapper. Both crates link the same
    // libsqlite3-sys, so the handle types are the same.
    let wrapper = unsafe { rusqlite::Connection::from_handle(raw.as_ptr()) }
        .map_err(|err| sqlx::Error::Configuration(Box::new(err)))?;
    wrapper
        .busy_handler(Some(short_wait))
        .map_err(|err| sqlx::Error::Configuration(Box::new(err)))
}

/// One try of [`wait_briefly_for_locks`]'s handler: `tries` is how often it ran for this lock.
/// Sleeps 100 µs for the first 50 tries, then 1 ms; `false` (give up) after about
/// [`BUSY_TIMEOUT`].
fn short_wait(tries: i32) -> bool {
    if !short_wait_due(tries) {
        return false;
    }
    std::thread::sleep(if tries < FAST_TRIES { FAST } else { SLOW });
    true
}

const FAST_TRIES: i32 = 50;
const FAST: Duration = Duration::from_micros(100);
const SLOW: Duration = Duration::from_millis(1);

/// Whether try number `tries` is still within [`BUSY_TIMEOUT`].
fn short_wait_due(tries: i32) -> bool {
    let tries = u32::try_from(tries).unwrap_or(0);
    let fast = tries.min(FAST_TRIES as u32);
    let waited = FAST * fast + SLOW * (tries - fast);
    waited < BUSY_TIMEOUT
}

impl SqliteStore {
    /// The direct reads, unless there are none or the store was closed (then the pool answers,
    /// with its usual error).
    fn direct(&self) -> Option<&SqliteReads> {
        self.reads.as_ref().filter(|_| !self.pool.is_closed())
    }

    /// Hold across a write to `sessions` or `api_keys` (see [`PointCache`]).
    pub(crate) fn point_rows_change(&self) -> ChangeGuard<'_> {
        ChangeGuard(self.cache.as_ref())
    }
}

impl SqliteStore {
    /// A transaction that holds the write lock from its start: writes that read the LID ↔
    /// phone mapping then see every identity committed before, and the identity merge sees
    /// every membership committed before (one writer at a time). `_phones` is for PostgreSQL.
    pub(crate) async fn begin_identity_write(
        &self,
        _phones: &[&str],
    ) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(error::map)
    }
}

impl_message_store!(SqliteStore);
impl_message_batch!(SqliteStore);
impl_event_log!(SqliteStore, contains = "instr");
impl_webhook_store!(SqliteStore, claim_lock = "");

impl_group_store!(SqliteStore);

impl_shared_store!(SqliteStore, point_reads {
    async fn get_session(
        &self,
        org: &wagate_domain::OrgId,
        id: &wagate_domain::SessionId,
    ) -> StoreResult<Option<wagate_domain::Session>> {
        let cache = self.cache.as_ref().filter(|_| !self.pool.is_closed());
        if let Some(hit) = cache.and_then(|c| c.session(org, id)) {
            return Ok(Some(hit));
        }
        let generation = cache.map(PointCache::generation);
        let answer = match self.direct().and_then(|r| r.get_session(org, id)) {
            Some(answer) => answer,
            None => self.pool_get_session(org, id).await,
        };
        if let (Some(cache), Some(generation), Ok(Some(session))) = (cache, generation, &answer) {
            cache.keep_session(session, generation);
        }
        answer
    }

    async fn find_api_key_by_hash(
        &self,
        key_hash: &str,
    ) -> StoreResult<Option<wagate_domain::ApiKey>> {
        let cache = self.cache.as_ref().filter(|_| !self.pool.is_closed());
        if let Some(hit) = cache.and_then(|c| c.key(key_hash)) {
            return Ok(Some(hit));
        }
        let generation = cache.map(PointCache::generation);
        let answer = match self.direct().and_then(|r| r.find_api_key_by_hash(key_hash)) {
            Some(answer) => answer,
            None => self.pool_find_api_key_by_hash(key_hash).await,
        };
        if let (Some(cache), Some(generation), Ok(Some(key))) = (cache, generation, &answer) {
            cache.keep_key(key, generation);
        }
        answer
    }
});

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use wagate_domain::{Clock as _, OrgId, Organization, Store as _, SystemClock};

    use super::*;

    fn fresh_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "wagate-sqlite-store-{}-{}",
            std::process::id(),
            wagate_domain::SessionId::generate()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A store on a new data directory.
    async fn fresh_store() -> (std::path::PathBuf, SqliteStore) {
        let dir = fresh_dir();
        let store = SqliteStore::open(&crate::sqlite_url_for_data_dir(&dir))
            .await
            .unwrap();
        (dir, store)
    }

    /// Closes the store and deletes its data directory.
    async fn discard(dir: std::path::PathBuf, store: SqliteStore) {
        store.close().await;
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn organization(name: &str) -> Organization {
        Organization {
            id: OrgId::generate(),
            name: name.into(),
            created_at: SystemClock.now_ms(),
        }
    }

    #[tokio::test]
    async fn writes_are_checkpointed_in_the_background_not_by_the_writer() {
        let (dir, store) = fresh_store().await;
        let off: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(off, 0, "a commit never checkpoints");
        let file = options_file(&dir);
        let before = std::fs::metadata(&file).unwrap().len();
        for i in 0..200 {
            store
                .insert_organization(&organization(&format!("org {i} {}", "x".repeat(200))))
                .await
                .unwrap();
        }
        // Far below SQLite's own 1,000-page threshold: only the background task copies these
        // pages into the database file while the store is open.
        let started = Instant::now();
        while std::fs::metadata(&file).unwrap().len() <= before {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the WAL was not checkpointed"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        discard(dir, store).await;
    }

    #[tokio::test]
    async fn a_writer_gets_the_lock_soon_after_another_connection_frees_it() {
        let (dir, store) = fresh_store().await;
        let holder = rusqlite::Connection::open(options_file(&dir)).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        let released = std::thread::spawn(move || {
            // SQLite's default handler tries again 228, 328 and 428 ms after the first refusal
            // (its sleeps add up to those): it would take the lock about 90 ms after this
            // release, the short waits within a millisecond or so; the bound below leaves room
            // for a loaded machine's scheduling between the two.
            std::thread::sleep(Duration::from_millis(335));
            holder.execute_batch("COMMIT").unwrap();
            Instant::now()
        });
        store
            .insert_organization(&organization("late"))
            .await
            .unwrap();
        let done = Instant::now();
        let released = released.join().unwrap();
        assert!(
            done.saturating_duration_since(released) < Duration::from_millis(70),
            "the write waited {:?} after the lock was free",
            done.saturating_duration_since(released)
        );
        discard(dir, store).await;
    }

    /// The outbox claim finds a session's next rows through the index, whatever the session
    /// has sent before (it read and sorted all of them, and draining a long queue slowed down
    /// with every row sent).
    #[tokio::test]
    async fn the_outbox_claim_reads_the_index_not_the_sessions_rows() {
        let (dir, store) = fresh_store().await;
        let conn = rusqlite::Connection::open(options_file(&dir)).unwrap();
        let mut plan = conn
            .prepare(concat!("EXPLAIN QUERY PLAN ", outbox_claim_sql!()))
            .unwrap();
        let steps: Vec<String> = plan
            .query_map(rusqlite::params!["sess_x", 2_i64, 1_i64, 32_i64], |row| {
                row.get(3)
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let text = steps.join("\n");
        assert!(text.contains("outbox_queue"), "{text}");
        for step in &steps {
            // Scans and sorts only of the bounded subqueries (at most `limit` rows each).
            assert!(
                !step.starts_with("SCAN outbox") && !step.starts_with("SCAN o "),
                "the claim scans the table:\n{text}"
            );
            // The queue index is walked by session and status, never by session alone.
            assert!(
                !step.contains("outbox_queue") || step.contains("status=?"),
                "the claim reads all of a session's rows:\n{text}"
            );
        }
        drop(plan);
        drop(conn);
        discard(dir, store).await;
    }

    /// A writer that is not wagate (a `sqlite3` shell) does not move the change counter: its
    /// change is served from the cache for at most `MAX_AGE`, then read.
    #[tokio::test]
    async fn a_change_by_a_foreign_writer_is_seen_within_the_cache_age() {
        let (dir, store) = fresh_store().await;
        let org = organization("acme");
        store.insert_organization(&org).await.unwrap();
        let session = wagate_domain::NewSession {
            organization_id: org.id.clone(),
            created_by_user_id: None,
            gateway_id: "gw".into(),
            label: Some("before".into()),
            auto_read: false,
            presence_typing: false,
            rate_per_min: 1,
            rate_per_hour: 1,
        }
        .into_session(wagate_domain::SessionId::generate(), 1);
        store.insert_session(&session).await.unwrap();
        let label = || async {
            let s = store.get_session(&org.id, &session.id).await.unwrap();
            s.unwrap().label.unwrap()
        };
        assert_eq!(label().await, "before");
        let foreign = rusqlite::Connection::open(options_file(&dir)).unwrap();
        foreign
            .execute("UPDATE sessions SET label = 'after'", [])
            .unwrap();
        let changed = Instant::now();
        assert_eq!(label().await, "before", "answered from the cache");
        while label().await != "after" {
            assert!(changed.elapsed() < crate::point_cache::MAX_AGE * 2);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        discard(dir, store).await;
    }

    #[test]
    fn short_waits_give_up_after_the_busy_timeout() {
        let tries = (0..).take_while(|n| short_wait_due(*n)).count();
        // 50 tries 100 µs apart, then 4,995 a millisecond apart: 5 s.
        assert_eq!(tries, 50 + 4_995);
    }

    fn options_file(dir: &std::path::Path) -> std::path::PathBuf {
        SqliteConnectOptions::from_str(&crate::sqlite_url_for_data_dir(dir))
            .unwrap()
            .get_filename()
            .to_owned()
    }

    #[tokio::test]
    async fn a_database_file_is_read_directly_until_the_store_is_closed() {
        let (dir, store) = fresh_store().await;
        assert!(store.direct().is_some());
        wagate_domain::Store::close(&store).await;
        assert!(
            store.direct().is_none(),
            "a closed store answers like its pool"
        );
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
