//! A fresh, throwaway database per test, on either store backend.
//!
//! The backend comes from `WAGATE_TEST_BACKEND` (`sqlite`, the default, or
//! `postgres`). For PostgreSQL, `WAGATE_TEST_PG_URL` is the *admin* URL: a
//! role allowed to `CREATE DATABASE`, e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`. Each [`TestDatabase`] then
//! creates its own `wagate_test_<ulid>` database on that server and drops it
//! (`WITH (FORCE)`) when it goes out of scope. `scripts/test` sets both
//! variables for the PostgreSQL run.
//!
//! Each PostgreSQL test database carries the comment `wagate-test run=<id>`,
//! with the id from `WAGATE_TEST_RUN_ID` (`-` when unset): `scripts/test`
//! uses it to drop its own leftovers, never those of a concurrent run.
//!
//! Set `WAGATE_TEST_KEEP_DB=1` to keep the databases (and data dirs) of
//! finished tests around for inspection; their URLs are printed on drop.
//!
//! ```no_run
//! # async fn demo() {
//! use wagate_test_support::db::TestDatabase;
//! let db = TestDatabase::from_env().await;
//! // open the store on db.url(), give the node db.data_dir() ...
//! # }
//! ```

use std::path::Path;
use std::time::Duration;

use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};
use tempfile::TempDir;

/// Selects the backend: `sqlite` (default) or `postgres`.
pub const BACKEND_ENV: &str = "WAGATE_TEST_BACKEND";
/// Admin URL of the PostgreSQL server the tests create their databases on.
pub const PG_URL_ENV: &str = "WAGATE_TEST_PG_URL";
/// When set to `1`/`true`, databases and data dirs are not removed on drop.
pub const KEEP_ENV: &str = "WAGATE_TEST_KEEP_DB";
/// Every test database is named with this prefix (scripts/test drops leftovers by it).
pub const DB_NAME_PREFIX: &str = "wagate_test_";
/// Set by `scripts/test` to a per-run id; recorded in each PostgreSQL test
/// database's comment (`wagate-test run=<id>`), so that the script's
/// end-of-run safety net drops only its own leftovers on a shared server.
pub const RUN_ID_ENV: &str = "WAGATE_TEST_RUN_ID";

/// How long connecting to the admin URL may take before the test fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long creating or dropping one database may take.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(60);

/// Which store backend a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Reads `WAGATE_TEST_BACKEND` (`sqlite` | `postgres`); unset or empty
    /// means [`Backend::Sqlite`]. Panics on any other value, so that a typo
    /// doesn't silently run the suite against the wrong backend.
    pub fn from_env() -> Backend {
        match std::env::var(BACKEND_ENV) {
            Ok(v) => Backend::parse(&v).unwrap_or_else(|| {
                panic!("{BACKEND_ENV}={v:?} is not a backend: use `sqlite` or `postgres`")
            }),
            Err(std::env::VarError::NotPresent) => Backend::Sqlite,
            Err(e) => panic!("{BACKEND_ENV} is not valid unicode: {e}"),
        }
    }

    /// Parses a backend name (case-insensitive; empty means sqlite).
    pub fn parse(s: &str) -> Option<Backend> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "sqlite" | "sqlite3" => Some(Backend::Sqlite),
            "postgres" | "postgresql" | "pg" => Some(Backend::Postgres),
            _ => None,
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What Drop needs to remove a PostgreSQL test database.
#[derive(Debug)]
struct PgDatabase {
    admin_url: String,
    name: String,
}

/// A database that exists only for one test, plus a data dir for the node.
///
/// * SQLite: [`url`](Self::url) is `sqlite://<data_dir>/wagate.db`; the file
///   does not exist yet (the store creates it). Removed with the data dir.
/// * PostgreSQL: [`url`](Self::url) points at a new, empty
///   `wagate_test_<ulid>` database on the server of `WAGATE_TEST_PG_URL`,
///   dropped `WITH (FORCE)` on drop (open connections are terminated).
#[derive(Debug)]
pub struct TestDatabase {
    backend: Backend,
    url: String,
    /// `Option` only so that Drop can decide to keep it.
    data_dir: Option<TempDir>,
    pg: Option<PgDatabase>,
}

impl TestDatabase {
    /// Creates a fresh database on `backend`.
    ///
    /// Panics with an explanation if `backend` is PostgreSQL and
    /// `WAGATE_TEST_PG_URL` is unset or the server can't be reached, or if
    /// the database can't be created.
    pub async fn create(backend: Backend) -> TestDatabase {
        let data_dir = tempfile::Builder::new()
            .prefix("wagate-test-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary data dir: {e}"));
        match backend {
            Backend::Sqlite => {
                let file = data_dir.path().join("wagate.db");
                let path = file
                    .to_str()
                    .unwrap_or_else(|| panic!("temp dir path {file:?} is not UTF-8"));
                TestDatabase {
                    backend,
                    url: format!("sqlite://{path}"),
                    data_dir: Some(data_dir),
                    pg: None,
                }
            }
            Backend::Postgres => {
                let admin_url = pg_admin_url();
                let name = new_database_name();
                create_pg_database(&admin_url, &name).await;
                let url = with_database(&admin_url, &name);
                TestDatabase {
                    backend,
                    url,
                    data_dir: Some(data_dir),
                    pg: Some(PgDatabase { admin_url, name }),
                }
            }
        }
    }

    /// [`create`](Self::create) on [`Backend::from_env`].
    pub async fn from_env() -> TestDatabase {
        TestDatabase::create(Backend::from_env()).await
    }

    /// The URL the store under test should connect to.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A temporary directory that lives as long as this value (the node's
    /// data dir). For SQLite it also holds the database file.
    pub fn data_dir(&self) -> &Path {
        self.data_dir
            .as_ref()
            .expect("data dir is present until drop")
            .path()
    }

    /// The PostgreSQL database name (`wagate_test_<ulid>`), if any.
    pub fn pg_database_name(&self) -> Option<&str> {
        self.pg.as_ref().map(|p| p.name.as_str())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if keep_requested() {
            let dir = self.data_dir.take().map(TempDir::keep);
            eprintln!(
                "{KEEP_ENV} is set: keeping test database {} and data dir {:?}",
                redact(&self.url),
                dir
            );
            return;
        }
        // The data dir (and with it the sqlite file) goes with the TempDir.
        if let Some(pg) = self.pg.take() {
            // Drop can't be async and may run inside a runtime (where
            // block_on would panic), so the DROP runs on its own OS thread
            // with its own small runtime, and we wait for it.
            let outcome = std::thread::Builder::new()
                .name("wagate-test-dropdb".into())
                .spawn(move || -> Result<(), String> {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| format!("cannot build a tokio runtime: {e}"))?;
                    rt.block_on(drop_pg_database(&pg.admin_url, &pg.name))
                        .map_err(|e| format!("cannot drop database {}: {e}", pg.name))
                })
                .map_err(|e| format!("cannot spawn the drop thread: {e}"))
                .and_then(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("the drop thread panicked".into()))
                });
            if let Err(e) = outcome {
                // Never panic in Drop (it may run while unwinding, which
                // would abort); scripts/test drops leftovers at the end.
                eprintln!("warning: wagate-test-support: {e}");
            }
        }
    }
}

fn keep_requested() -> bool {
    matches!(
        std::env::var(KEEP_ENV).as_deref().map(str::trim),
        Ok("1") | Ok("true") | Ok("yes")
    )
}

fn pg_admin_url() -> String {
    let url = match std::env::var(PG_URL_ENV) {
        Ok(u) if !u.trim().is_empty() => u.trim().to_string(),
        _ => panic!(
            "the postgres test backend was chosen ({BACKEND_ENV}=postgres) but {PG_URL_ENV} is \
             not set: set it to an admin URL of a PostgreSQL server that may CREATE DATABASE, \
             e.g. postgres://postgres@127.0.0.1:5432/postgres, or run the suite with \
             `scripts/test`, which finds or starts a server itself"
        ),
    };
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        panic!("{PG_URL_ENV}={} is not a postgres:// URL", redact(&url));
    }
    url
}

/// `wagate_test_<lowercase ulid>`: unique across processes, and sorts by time.
fn new_database_name() -> String {
    format!(
        "{DB_NAME_PREFIX}{}",
        ulid::Ulid::new().to_string().to_ascii_lowercase()
    )
}

async fn connect_admin(admin_url: &str) -> Result<PgConnection, String> {
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect(admin_url)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(format!("cannot connect to {}: {e}", redact(admin_url))),
        Err(_) => Err(format!(
            "connecting to {} timed out after {CONNECT_TIMEOUT:?}",
            redact(admin_url)
        )),
    }
}

async fn create_pg_database(admin_url: &str, name: &str) {
    let mut conn = connect_admin(admin_url).await.unwrap_or_else(|e| {
        panic!(
            "the postgres test backend needs a reachable server at {PG_URL_ENV}: {e} \
             (is PostgreSQL running? `scripts/test` finds or starts one)"
        )
    });
    let sql = format!("CREATE DATABASE {}", quote_ident(name));
    // CREATE DATABASE fails with 55006 (object_in_use) while anyone else is
    // connected to template1; that is transient, so retry a few times.
    let mut attempt = 0;
    loop {
        attempt += 1;
        let res =
            tokio::time::timeout(STATEMENT_TIMEOUT, conn.execute(AssertSqlSafe(sql.as_str())))
                .await;
        match res {
            Ok(Ok(_)) => break,
            Ok(Err(e))
                if attempt < 10
                    && e.as_database_error()
                        .and_then(|d| d.code())
                        .is_some_and(|c| c == "55006") =>
            {
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
            Ok(Err(e)) => panic!(
                "cannot create test database {name} on {}: {e}",
                redact(admin_url)
            ),
            Err(_) => panic!(
                "creating test database {name} on {} timed out after {STATEMENT_TIMEOUT:?}",
                redact(admin_url)
            ),
        }
    }
    // Tag it with the run id (see RUN_ID_ENV); and since nothing in a test
    // database needs to survive a crash, don't wait for the WAL flush on
    // commit (a large speed-up on servers with fsync on; this affects only
    // sessions on this database). Best effort both.
    let settings = [
        format!(
            "COMMENT ON DATABASE {} IS 'wagate-test run={}'",
            quote_ident(name),
            run_id()
        ),
        format!(
            "ALTER DATABASE {} SET synchronous_commit = off",
            quote_ident(name)
        ),
    ];
    for sql in settings {
        if let Err(e) = conn.execute(AssertSqlSafe(sql.as_str())).await {
            eprintln!("warning: wagate-test-support: `{sql}` failed: {e}");
        }
    }
    let _ = conn.close().await;
}

/// `WAGATE_TEST_RUN_ID`, reduced to `[A-Za-z0-9_.-]` (it goes into a SQL
/// literal), or `-` when unset.
fn run_id() -> String {
    let id: String = std::env::var(RUN_ID_ENV)
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .take(64)
        .collect();
    if id.is_empty() { "-".to_string() } else { id }
}

async fn drop_pg_database(admin_url: &str, name: &str) -> Result<(), String> {
    let mut conn = connect_admin(admin_url).await?;
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
    match tokio::time::timeout(STATEMENT_TIMEOUT, conn.execute(AssertSqlSafe(sql))).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err(format!("timed out after {STATEMENT_TIMEOUT:?}")),
    }
    let _ = conn.close().await;
    Ok(())
}

/// Quotes a PostgreSQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Returns `url` with its database (the path) replaced by `database`,
/// keeping scheme, credentials, host, port and query parameters (minus any
/// `dbname=` parameter, which would override the path).
fn with_database(url: &str, database: &str) -> String {
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let query = rest[authority_end..].split_once('?').map(|(_, q)| q);
    let query: Vec<&str> = query
        .map(|q| q.split('#').next().unwrap_or(""))
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("dbname="))
        .collect();
    let mut out = format!("{}{}/{}", &url[..scheme_end], authority, database);
    if !query.is_empty() {
        out.push('?');
        out.push_str(&query.join("&"));
    }
    out
}

/// Hides the password of a URL for messages.
fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => match authority[..at].split_once(':') {
            Some((user, _password)) => format!(
                "{}{user}:***{}",
                &url[..scheme_end],
                &url[scheme_end + at..]
            ),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_backend_names() {
        assert_eq!(Backend::parse("sqlite"), Some(Backend::Sqlite));
        assert_eq!(Backend::parse(""), Some(Backend::Sqlite));
        assert_eq!(Backend::parse(" Postgres "), Some(Backend::Postgres));
        assert_eq!(Backend::parse("pg"), Some(Backend::Postgres));
        assert_eq!(Backend::parse("mysql"), None);
    }

    #[test]
    fn replaces_the_database_of_a_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h:1/db?sslmode=disable&dbname=db", "x"),
            "postgres://u:p@h:1/x?sslmode=disable"
        );
        assert_eq!(with_database("postgresql://h", "x"), "postgresql://h/x");
        assert_eq!(with_database("postgres://h?a=b", "x"), "postgres://h/x?a=b");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://u:secret@h:1/db"),
            "postgres://u:***@h:1/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[tokio::test]
    async fn sqlite_database_is_a_fresh_file_path_in_a_tempdir() {
        let db = TestDatabase::create(Backend::Sqlite).await;
        let dir = db.data_dir().to_path_buf();
        assert!(dir.is_dir());
        assert_eq!(db.backend(), Backend::Sqlite);
        let path = db.url().strip_prefix("sqlite://").expect("sqlite:// URL");
        assert_eq!(Path::new(path), dir.join("wagate.db"));
        assert!(!Path::new(path).exists(), "the store creates the file");

        // The URL really opens (with create) and the file lands in data_dir.
        let opts: sqlx::sqlite::SqliteConnectOptions = db.url().parse().unwrap();
        let mut conn = sqlx::SqliteConnection::connect_with(&opts.create_if_missing(true))
            .await
            .unwrap();
        conn.execute("CREATE TABLE t (x INTEGER)").await.unwrap();
        conn.close().await.unwrap();
        assert!(Path::new(path).exists());

        drop(db);
        assert!(!dir.exists(), "data dir removed on drop");
    }

    /// The admin URL for the PostgreSQL tests, or `None` (with a note) when
    /// the suite runs on sqlite and no server was given.
    fn pg_url_or_skip(test: &str) -> Option<String> {
        match std::env::var(PG_URL_ENV) {
            Ok(u) if !u.trim().is_empty() => Some(u),
            _ if Backend::from_env() == Backend::Postgres => {
                panic!("{BACKEND_ENV}=postgres but {PG_URL_ENV} is not set")
            }
            _ => {
                eprintln!(
                    "note: skipping {test}: {PG_URL_ENV} is not set and {BACKEND_ENV} is not \
                     postgres (scripts/test sets both)"
                );
                None
            }
        }
    }

    async fn pg_database_exists(admin_url: &str, name: &str) -> bool {
        let mut conn = PgConnection::connect(admin_url).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        n == 1
    }

    #[tokio::test]
    async fn postgres_database_is_created_and_dropped() {
        let Some(admin) = pg_url_or_skip("postgres_database_is_created_and_dropped") else {
            return;
        };
        let db = TestDatabase::create(Backend::Postgres).await;
        let name = db.pg_database_name().unwrap().to_string();
        assert!(name.starts_with(DB_NAME_PREFIX));
        assert_eq!(name, name.to_ascii_lowercase());
        assert!(db.url().ends_with(&format!("/{name}")), "{}", db.url());
        assert!(db.data_dir().is_dir());
        let dir = db.data_dir().to_path_buf();

        // The URL leads to the new, empty database, which we can write to.
        let mut conn = PgConnection::connect(db.url()).await.unwrap();
        let current: String = sqlx::query_scalar("SELECT current_database()")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(current, name);
        let tables: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(tables, 0);
        conn.execute("CREATE TABLE t (x int)").await.unwrap();
        let comment: Option<String> = sqlx::query_scalar(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database \
             WHERE datname = current_database()",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(comment, Some(format!("wagate-test run={}", run_id())));
        let sync: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(sync, "off");
        conn.close().await.unwrap();
        assert!(pg_database_exists(&admin, &name).await);

        // Dropped inside a running (current-thread) runtime.
        drop(db);
        assert!(
            !pg_database_exists(&admin, &name).await,
            "{name} still exists"
        );
        assert!(!dir.exists(), "data dir removed on drop");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_drop_terminates_open_connections() {
        let Some(admin) = pg_url_or_skip("postgres_drop_terminates_open_connections") else {
            return;
        };
        let a = TestDatabase::create(Backend::Postgres).await;
        let b = TestDatabase::create(Backend::Postgres).await;
        assert_ne!(a.url(), b.url());
        let name = a.pg_database_name().unwrap().to_string();

        // A connection (like a store's pool) still open when the test ends.
        let mut conn = PgConnection::connect(a.url()).await.unwrap();
        sqlx::query("SELECT 1").execute(&mut conn).await.unwrap();
        drop(a);
        assert!(
            !pg_database_exists(&admin, &name).await,
            "{name} still exists"
        );
        assert!(
            sqlx::query("SELECT 1").execute(&mut conn).await.is_err(),
            "the open connection was terminated"
        );
        assert!(pg_database_exists(&admin, b.pg_database_name().unwrap()).await);
    }
}
