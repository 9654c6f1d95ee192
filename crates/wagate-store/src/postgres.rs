//! The cluster backend: a PostgreSQL database shared by every node.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use wagate_domain::StoreResult;

use crate::error;
use crate::point_cache::ChangeGuard;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// [`wagate_domain::Store`] on PostgreSQL.
pub struct PostgresStore {
    pool: sqlx::PgPool,
}

impl PostgresStore {
    /// Connects to `url` and migrates it (sqlx takes an advisory lock, so nodes starting
    /// together migrate once).
    pub async fn open(url: &str) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            // No `SELECT 1` round trip on every acquire: a broken connection then surfaces as
            // the query's error, and sqlx drops it instead of returning it to the pool.
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(error::map)?;
        MIGRATOR.run(&pool).await.map_err(error::migrate)?;
        Ok(Self { pool })
    }
}

impl PostgresStore {
    /// Nothing is cached on PostgreSQL (the SQLite store's `PointCache`): nothing to invalidate.
    pub(crate) fn point_rows_change(&self) -> ChangeGuard<'_> {
        ChangeGuard(None)
    }

    /// A transaction holding a lock per phone JID in `phones` (advisory, released at its end,
    /// taken in one order): a membership write that reads the LID ↔ phone mapping and the
    /// identity merge that moves memberships to the LID never interleave for one phone.
    pub(crate) async fn begin_identity_write(
        &self,
        phones: &[&str],
    ) -> StoreResult<sqlx::Transaction<'static, sqlx::Postgres>> {
        let mut tx = self.pool.begin().await.map_err(error::map)?;
        if !phones.is_empty() {
            sqlx::query(
                "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtext(p) AS h \
                 FROM unnest($1::text[]) AS p ORDER BY h) AS locks",
            )
            .bind(phones)
            .execute(&mut *tx)
            .await
            .map_err(error::map)?;
        }
        Ok(tx)
    }
}

impl_message_store!(PostgresStore);
impl_message_batch!(PostgresStore);
impl_event_log!(PostgresStore, contains = "strpos");
impl_webhook_store!(PostgresStore, claim_lock = "FOR UPDATE SKIP LOCKED");

impl_group_store!(PostgresStore);

impl_shared_store!(PostgresStore);
