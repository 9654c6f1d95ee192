//! Store adapters: one SQLite and one PostgreSQL implementation of [`wagate_domain::Store`],
//! each with its own migration set (kept in step: same versions, same meaning).
//!
//! Queries both backends share live in [`shared`]; anything backend-specific (connection
//! options, pragmas, locking) stays in its backend module (SQLite: `sqlite`, `sqlite_reads`, `point_cache`).

// `shared` defines the macro the backend modules expand, so it comes first.
#[macro_use]
mod shared;
#[macro_use]
mod messages;
#[macro_use]
mod message_batch;
#[macro_use]
mod event_log;
#[macro_use]
mod groups;
#[macro_use]
mod webhooks;
mod error;
mod message_rows;
mod point_cache;
mod postgres;
mod rows;
mod sqlite;
mod sqlite_reads;
mod webhook_rows;

use std::path::Path;
use std::sync::Arc;

use wagate_domain::{
    EventLog, GroupStore, MessageStore, Store, StoreError, StoreResult, WebhookStore,
};

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Which backend a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `sqlite:` or `postgres:`/`postgresql:` URLs; anything else is refused.
    pub fn of_url(url: &str) -> StoreResult<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::Backend(
                "database URL must start with sqlite:, postgres:// or postgresql://".into(),
            ))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// The embedded default: `<data-dir>/wagate.db`.
pub fn sqlite_url_for_data_dir(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("wagate.db").display())
}

/// Connects to `url` and applies pending migrations, so every command finds the current schema.
pub async fn open(url: &str) -> StoreResult<Arc<dyn Store>> {
    Ok(open_stores(url).await?.core)
}

/// Every port of one backend, sharing its connection pool.
#[derive(Clone)]
pub struct Stores {
    pub core: Arc<dyn Store>,
    pub messages: Arc<dyn MessageStore>,
    pub events: Arc<dyn EventLog>,
    pub groups: Arc<dyn GroupStore>,
    pub webhooks: Arc<dyn WebhookStore>,
}

/// Like [`open`], with the messaging and group ports as well.
pub async fn open_stores(url: &str) -> StoreResult<Stores> {
    fn both<S: Store + MessageStore + EventLog + GroupStore + WebhookStore>(store: S) -> Stores {
        let store = Arc::new(store);
        Stores {
            core: store.clone(),
            messages: store.clone(),
            events: store.clone(),
            groups: store.clone(),
            webhooks: store,
        }
    }
    Ok(match Backend::of_url(url)? {
        Backend::Sqlite => both(SqliteStore::open(url).await?),
        Backend::Postgres => both(PostgresStore::open(url).await?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_sets_are_in_step() {
        let names = |dir: &str| {
            let mut v: Vec<String> = std::fs::read_dir(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("migrations")
                    .join(dir),
            )
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
            v.sort();
            v
        };
        assert_eq!(names("sqlite"), names("postgres"));
    }

    #[test]
    fn backend_is_chosen_by_url_scheme() {
        assert_eq!(Backend::of_url("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::of_url("postgresql://h/db").unwrap(),
            Backend::Postgres
        );
        assert!(Backend::of_url("mysql://h/db").is_err());
    }
}
