//! SQLite's two hot point reads — the API key by digest and the session by id, made by every
//! authenticated request — answered directly with rusqlite on the calling thread.
//!
//! Why not through the sqlx pool: sqlx runs each SQLite connection on its own worker thread, so
//! one lookup costs several thread hand-offs (acquire, the query, release), which on the
//! `getSession` benchmark cost far more CPU than the SQL itself (docs/benchmarks.md).
//!
//! Why blocking the async thread is acceptable here, and only here:
//! - each read is a single indexed point lookup (`api_keys.key_hash` is UNIQUE, `sessions.id`
//!   is the primary key) of one small row, on a connection that is not shared while in use;
//! - the database is in WAL mode, where readers never wait for writers (nor writers for
//!   readers): a read sees the last committed transaction, whatever is being written;
//! - the rare cases where a WAL reader does have to wait (another connection recovering the
//!   WAL, an exclusive lock taken by some other tool) are bounded by a [`BUSY_TIMEOUT`] of a
//!   few milliseconds, after which the caller falls back to the pool (`pool_*` methods), whose
//!   connections wait on their own threads.
//!
//! Nothing is cached between reads: every read is a new read transaction, so a change committed
//! by any connection — this process's pool, or another process such as `wagate keys revoke` —
//! is seen by the next read. (`PRAGMA data_version` could validate a cache, but checking it is
//! a statement step like the indexed lookup itself, so it would save nothing measurable.)

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension as _};
use wagate_domain::{ApiKey, OrgId, Session, SessionId, StoreError, StoreResult};

use crate::rows::{ApiKeyRow, SessionRow};

/// How long a read may wait for a lock before the caller asks the pool instead.
const BUSY_TIMEOUT: Duration = Duration::from_millis(5);

/// Idle connections kept for reuse. A connection is only held for the duration of one
/// synchronous read, so at most one per thread is ever in use; extra ones are closed.
const MAX_IDLE: usize = 16;

/// A small pool of query-only rusqlite connections to the store's database file.
pub(crate) struct SqliteReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// What a direct read gives: `None` means "SQLite was busy, ask the pool".
pub(crate) type Direct<T> = Option<StoreResult<T>>;

impl SqliteReads {
    /// `None` when there is no database file to open (an in-memory database): every read then
    /// goes through the pool.
    pub(crate) fn new(path: &Path) -> Option<Self> {
        path.is_file().then(|| Self {
            path: path.to_owned(),
            idle: Mutex::default(),
        })
    }

    /// `Store::find_api_key_by_hash`; same SQL as the pool version in `shared.rs`.
    pub(crate) fn find_api_key_by_hash(&self, key_hash: &str) -> Direct<Option<ApiKey>> {
        let row = self.read(|c| {
            c.prepare_cached(
                "SELECT id, organization_id, name, key_hash, permissions, sessions, \
                 expires_at, enabled, created_at, last_used_at FROM api_keys \
                 WHERE key_hash = ?1",
            )?
            .query_row([key_hash], |r| {
                Ok(ApiKeyRow {
                    id: r.get(0)?,
                    organization_id: r.get(1)?,
                    name: r.get(2)?,
                    key_hash: r.get(3)?,
                    permissions: r.get(4)?,
                    sessions: r.get(5)?,
                    expires_at: r.get(6)?,
                    enabled: r.get(7)?,
                    created_at: r.get(8)?,
                    last_used_at: r.get(9)?,
                })
            })
            .optional()
        })?;
        Some(row.and_then(|row| row.map(TryInto::try_into).transpose()))
    }

    /// `Store::get_session`; same SQL as the pool version in `shared.rs`.
    pub(crate) fn get_session(&self, org: &OrgId, id: &SessionId) -> Direct<Option<Session>> {
        let row = self.read(|c| {
            c.prepare_cached(
                "SELECT id, organization_id, created_by_user_id, gateway_id, label, status, \
                 status_reason, wa_jid, wa_lid, phone_number, is_admin_session, auto_read, \
                 presence_typing, rate_per_min, rate_per_hour, last_connected_at, created_at, \
                 updated_at FROM sessions WHERE id = ?1 AND organization_id = ?2",
            )?
            .query_row([id.as_str(), org.as_str()], |r| {
                Ok(SessionRow {
                    id: r.get(0)?,
                    organization_id: r.get(1)?,
                    created_by_user_id: r.get(2)?,
                    gateway_id: r.get(3)?,
                    label: r.get(4)?,
                    status: r.get(5)?,
                    status_reason: r.get(6)?,
                    wa_jid: r.get(7)?,
                    wa_lid: r.get(8)?,
                    phone_number: r.get(9)?,
                    is_admin_session: r.get(10)?,
                    auto_read: r.get(11)?,
                    presence_typing: r.get(12)?,
                    rate_per_min: r.get(13)?,
                    rate_per_hour: r.get(14)?,
                    last_connected_at: r.get(15)?,
                    created_at: r.get(16)?,
                    updated_at: r.get(17)?,
                })
            })
            .optional()
        })?;
        Some(row.and_then(|row| row.map(TryInto::try_into).transpose()))
    }

    /// Runs `query` on an idle connection (or a new one). `None` when SQLite is busy or no
    /// connection could be opened: the caller then uses the pool, which reports any lasting
    /// problem itself.
    fn read<T>(&self, query: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Direct<T> {
        let idle = self.lock().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => match self.connect() {
                Ok(conn) => conn,
                Err(err) => {
                    tracing::debug!(%err, "direct SQLite read unavailable; using the pool");
                    return None;
                }
            },
        };
        match query(&conn) {
            Ok(value) => {
                self.put_back(conn);
                Some(Ok(value))
            }
            Err(err) if is_busy(&err) => {
                self.put_back(conn);
                None
            }
            // Any other failure drops the connection: the next read opens a fresh one.
            Err(err) => Some(Err(StoreError::Backend(Box::new(err)))),
        }
    }

    fn connect(&self) -> rusqlite::Result<Connection> {
        // Read-write like the pool's connections (so WAL and its shared memory behave exactly
        // as for them), but `query_only`: these connections can never write. NO_MUTEX: one
        // thread at a time uses a connection (it is taken out of `idle` while in use).
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "query_only", true)?;
        Ok(conn)
    }

    fn put_back(&self, conn: Connection) {
        let mut idle = self.lock();
        if idle.len() < MAX_IDLE {
            idle.push(conn);
            return;
        }
        drop(idle);
        drop(conn); // closed outside the lock
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // Nothing runs while the lock is held that could leave the list inconsistent.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// A temporary WAL database with an (abridged) `api_keys` table; removed on drop.
    struct TempDb(PathBuf);

    impl TempDb {
        fn new() -> Self {
            let dir = std::env::temp_dir().join(format!(
                "wagate-sqlite-reads-{}-{}",
                std::process::id(),
                wagate_domain::SessionId::generate()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let db = Self(dir);
            let setup = Connection::open(db.path()).unwrap();
            setup
                .execute_batch(
                    "PRAGMA journal_mode = WAL;
                     CREATE TABLE api_keys (id TEXT PRIMARY KEY, organization_id TEXT NOT NULL,
                       name TEXT, key_hash TEXT NOT NULL UNIQUE, permissions TEXT NOT NULL,
                       sessions TEXT, expires_at INTEGER, enabled INTEGER NOT NULL,
                       created_at INTEGER NOT NULL, last_used_at INTEGER);",
                )
                .unwrap();
            db
        }

        fn path(&self) -> PathBuf {
            self.0.join("t.db")
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn no_file_means_no_direct_reads() {
        assert!(SqliteReads::new(Path::new("/nonexistent/wagate.db")).is_none());
    }

    #[test]
    fn a_locked_database_answers_busy_quickly_instead_of_waiting() {
        let db = TempDb::new();
        // Another connection that keeps the database to itself (exclusive locking mode, after
        // a write): no other connection may read until it lets go.
        let locker = Connection::open(db.path()).unwrap();
        locker
            .execute_batch(
                "PRAGMA locking_mode = EXCLUSIVE;
                 INSERT INTO api_keys VALUES ('k', 'o', NULL, 'h', 'read', NULL, NULL, 1, 0, NULL);",
            )
            .unwrap();
        let reads = SqliteReads::new(&db.path()).unwrap();
        let started = Instant::now();
        assert!(
            reads.find_api_key_by_hash("h").is_none(),
            "busy: ask the pool"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        drop(locker);
        let found = reads.find_api_key_by_hash("h").expect("not busy any more");
        assert_eq!(found.unwrap().unwrap().id.as_str(), "k");
        assert!(matches!(reads.find_api_key_by_hash("nope"), Some(Ok(None))));
    }
}
