//! The embedded backend: one SQLite file in WAL mode under the data directory.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use wagate_domain::StoreResult;

use crate::error;
use crate::sqlite_reads::SqliteReads;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// [`wagate_domain::Store`] on SQLite.
pub struct SqliteStore {
    pool: sqlx::SqlitePool,
    /// The two per-request point reads without the pool; `None` for an in-memory database.
    /// Its idle connections close when the store is dropped.
    reads: Option<SqliteReads>,
}

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
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            // No ping on every acquire (a round trip to the connection's worker thread per
            // query): a broken connection then surfaces as the query's error, and sqlx drops
            // it instead of returning it to the pool.
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .map_err(error::map)?;
        MIGRATOR.run(&pool).await.map_err(error::migrate)?;
        // After the pool: the file exists and is in WAL mode by now.
        let reads = SqliteReads::new(options.get_filename());
        Ok(Self { pool, reads })
    }
}

impl SqliteStore {
    /// The direct reads, unless there are none or the store was closed (then the pool answers,
    /// with its usual error).
    fn direct(&self) -> Option<&SqliteReads> {
        self.reads.as_ref().filter(|_| !self.pool.is_closed())
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
        match self.direct().and_then(|r| r.get_session(org, id)) {
            Some(answer) => answer,
            None => self.pool_get_session(org, id).await,
        }
    }

    async fn find_api_key_by_hash(
        &self,
        key_hash: &str,
    ) -> StoreResult<Option<wagate_domain::ApiKey>> {
        match self.direct().and_then(|r| r.find_api_key_by_hash(key_hash)) {
            Some(answer) => answer,
            None => self.pool_find_api_key_by_hash(key_hash).await,
        }
    }
});

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_database_file_is_read_directly_until_the_store_is_closed() {
        let dir = std::env::temp_dir().join(format!(
            "wagate-sqlite-store-{}-{}",
            std::process::id(),
            wagate_domain::SessionId::generate()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqliteStore::open(&crate::sqlite_url_for_data_dir(&dir))
            .await
            .unwrap();
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
