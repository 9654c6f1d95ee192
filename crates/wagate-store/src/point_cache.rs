//! A cache in front of SQLite's two per-request point reads (the API key by digest, the session
//! by id), validated on every lookup so that no change to a key or a session is missed — also
//! a change made by another process on the same database, such as `wagate keys revoke`.
//!
//! Validation: a 64-bit change counter in a small file next to the database
//! (`<database>-generation`), mapped into every process that opens the store. Each write of this
//! store to `sessions` or `api_keys` adds one to it *after* its transaction commits
//! ([`PointCache::changed`]). An entry remembers the counter as it was *before* its row was
//! read, and is used only while the counter still has that value, so:
//! - a reader that read the row before a commit holds a counter value that the commit's bump
//!   then changes: its entry is never used;
//! - a request that starts after a writer's call returned sees the new counter: it reads again.
//!
//! Checking costs one atomic load of shared memory, where a read costs a SQLite read transaction
//! (file locks on the database and its WAL index, a page lookup). A writer that is not wagate (a
//! `sqlite3` shell, say) does not bump the counter; entries are also dropped after [`MAX_AGE`],
//! which bounds how long such a change goes unseen. Only rows are cached, never "not found".

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::hash::Hash;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use memmap2::MmapRaw;
use wagate_domain::{ApiKey, OrgId, Session, SessionId};

/// The longest an entry is used, even with an unchanged counter (see the module comment).
pub(crate) const MAX_AGE: Duration = Duration::from_secs(1);
/// Entries per map; a full map is emptied (the working set of one node is far smaller).
const CAPACITY: usize = 10_000;

pub(crate) struct PointCache {
    counter: Counter,
    keys: Entries<String, ApiKey>,
    sessions: Entries<SessionId, Session>,
}

impl PointCache {
    /// Shares its counter with every process that opens the database file `database`.
    pub(crate) fn for_database(database: &Path) -> std::io::Result<Self> {
        let mut name = database.as_os_str().to_owned();
        name.push("-generation");
        Ok(Self {
            counter: Counter::shared(Path::new(&name))?,
            keys: Entries::default(),
            sessions: Entries::default(),
        })
    }

    /// The counter to pass to [`Self::keep_key`] / [`Self::keep_session`]: read it *before*
    /// reading the row.
    pub(crate) fn generation(&self) -> u64 {
        self.counter.get().load(Ordering::SeqCst)
    }

    /// Call after a committed write to `sessions` or `api_keys`: every cached entry, in every
    /// process, stops being used.
    pub(crate) fn changed(&self) {
        self.counter.get().fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn key(&self, key_hash: &str) -> Option<ApiKey> {
        self.keys.get(key_hash, self.generation())
    }

    pub(crate) fn keep_key(&self, key: &ApiKey, generation: u64) {
        self.keys.put(key.key_hash.clone(), key.clone(), generation);
    }

    pub(crate) fn session(&self, org: &OrgId, id: &SessionId) -> Option<Session> {
        self.sessions
            .get(id, self.generation())
            .filter(|s| &s.organization_id == org)
    }

    pub(crate) fn keep_session(&self, session: &Session, generation: u64) {
        self.sessions
            .put(session.id.clone(), session.clone(), generation);
    }
}

/// Bumps the counter when dropped: hold one across a write to `sessions` or `api_keys`, so the
/// bump follows the commit — also when the caller's future is dropped mid-way (sqlx's SQLite
/// worker still finishes the statement then; the bump may come first, which [`MAX_AGE`]
/// bounds). `None` for a store without a cache.
pub(crate) struct ChangeGuard<'a>(pub(crate) Option<&'a PointCache>);

impl Drop for ChangeGuard<'_> {
    fn drop(&mut self) {
        if let Some(cache) = self.0 {
            cache.changed();
        }
    }
}

/// The change counter: a `u64` at the start of a shared file mapping.
struct Counter {
    map: MmapRaw,
}

impl Counter {
    fn shared(path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        // Grows a new file to 8 zero bytes; a file another process already set up keeps its
        // value (set_len to the current length changes nothing).
        if file.metadata()?.len() < 8 {
            file.set_len(8)?;
        }
        let map = MmapRaw::map_raw(&file)?;
        Ok(Self { map })
    }

    fn get(&self) -> &AtomicU64 {
        // SAFETY: the mapping is page-aligned, at least 8 bytes long (set above) and lives as
        // long as `self`; every process only ever accesses these bytes through atomic
        // operations, which are coherent across processes sharing the page.
        unsafe { &*self.map.as_ptr().cast::<AtomicU64>() }
    }
}

struct Entry<V> {
    value: V,
    generation: u64,
    stored: Instant,
}

struct Entries<K, V>(RwLock<HashMap<K, Entry<V>>>);

impl<K, V> Default for Entries<K, V> {
    fn default() -> Self {
        Self(RwLock::default())
    }
}

impl<K: Eq + Hash, V: Clone> Entries<K, V> {
    fn get<Q>(&self, key: &Q, generation: u64) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let map = self.0.read().unwrap_or_else(PoisonError::into_inner);
        let entry = map.get(key)?;
        (entry.generation == generation && entry.stored.elapsed() < MAX_AGE)
            .then(|| entry.value.clone())
    }

    fn put(&self, key: K, value: V, generation: u64) {
        let mut map = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(
            key,
            Entry {
                value,
                generation,
                stored: Instant::now(),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_mappings_of_one_file_share_the_counter() {
        let dir = std::env::temp_dir().join(format!(
            "wagate-point-cache-{}-{}",
            std::process::id(),
            SessionId::generate()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("wagate.db");
        let a = PointCache::for_database(&db).unwrap();
        let b = PointCache::for_database(&db).unwrap();
        let before = a.generation();
        b.changed();
        assert_eq!(a.generation(), before + 1);
        // Reopening keeps the value.
        drop(b);
        assert_eq!(
            PointCache::for_database(&db).unwrap().generation(),
            before + 1
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_entry_is_used_only_with_its_generation_and_while_young() {
        let entries: Entries<String, u32> = Entries::default();
        entries.put("k".into(), 7, 3);
        assert_eq!(entries.get("k", 3), Some(7));
        assert_eq!(entries.get("k", 4), None, "the counter moved on");
        assert_eq!(entries.get("other", 3), None);
        entries.0.write().unwrap().get_mut("k").unwrap().stored -= MAX_AGE;
        assert_eq!(entries.get("k", 3), None, "too old");
    }
}
