//! Device keystores: one whatsapp-rust SQLite database per session, `<dir>/<session>.db`.
//!
//! The crate's SQLite backend can hold several devices in one file (`new_for_device`), but it
//! offers no way to delete one device's rows across its tables; a file per session makes
//! `forget` a file deletion and keeps one session's write lock away from the others.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use wagate_domain::{EngineError, SessionId};
use whatsapp_rust::store::SqliteStore;
use whatsapp_rust::store::traits::DeviceStore;

/// Files SQLite may keep next to a database in WAL mode (or after a crash in rollback mode).
const SIDE_FILE_SUFFIXES: [&str; 3] = ["-wal", "-shm", "-journal"];

/// Where a node keeps its sessions' device keys.
#[derive(Debug, Clone)]
pub(crate) struct Keystore {
    dir: PathBuf,
}

impl Keystore {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The database file of `session`. Session ids are `sess_<ULID>`; anything that could
    /// leave the directory is refused.
    pub(crate) fn path(&self, session: &SessionId) -> Result<PathBuf, EngineError> {
        let name = session.as_str();
        let safe = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !safe {
            return Err(EngineError::Other(format!(
                "session id {name:?} cannot name a keystore file"
            )));
        }
        Ok(self.dir.join(format!("{name}.db")))
    }

    /// Opens (creating if needed) the keystore of `session`.
    pub(crate) async fn open(&self, session: &SessionId) -> Result<SqliteStore, EngineError> {
        let path = self.path(session)?;
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| keystore_error(&self.dir, e))?;
        let url = path.to_str().ok_or_else(|| {
            EngineError::Other(format!(
                "keystore path {} is not valid UTF-8",
                path.display()
            ))
        })?;
        SqliteStore::new(url)
            .await
            .map_err(|e| keystore_error(&path, e))
    }

    /// Whether `session` has a keystore file at all.
    pub(crate) async fn exists(&self, session: &SessionId) -> Result<bool, EngineError> {
        let path = self.path(session)?;
        tokio::fs::try_exists(&path)
            .await
            .map_err(|e| keystore_error(&path, e))
    }

    /// Whether `session`'s keystore holds a paired device. A missing file is "not paired"
    /// (and is not created).
    pub(crate) async fn is_paired(&self, session: &SessionId) -> Result<bool, EngineError> {
        if !self.exists(session).await? {
            return Ok(false);
        }
        let store = self.open(session).await?;
        holds_paired_device(&store, &self.path(session)?).await
    }

    /// Deletes `session`'s keystore files; deleting what is not there is fine.
    pub(crate) async fn forget(&self, session: &SessionId) -> Result<(), EngineError> {
        let path = self.path(session)?;
        let mut files = vec![path.clone()];
        files.extend(SIDE_FILE_SUFFIXES.iter().map(|suffix| {
            let mut name = path.clone().into_os_string();
            name.push(suffix);
            PathBuf::from(name)
        }));
        for file in files {
            match tokio::fs::remove_file(&file).await {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(keystore_error(&file, e)),
            }
        }
        Ok(())
    }
}

/// A device is paired once pairing stored its own JID (the crate's `pn`).
pub(crate) async fn holds_paired_device(
    store: &SqliteStore,
    path: &Path,
) -> Result<bool, EngineError> {
    let device = DeviceStore::load(store)
        .await
        .map_err(|e| keystore_error(path, e))?;
    Ok(device.is_some_and(|device| device.pn.is_some()))
}

fn keystore_error(path: &Path, error: impl std::fmt::Display) -> EngineError {
    EngineError::Other(format!("keystore {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use whatsapp_rust::store::commands::DeviceCommand;
    use whatsapp_rust::store::persistence_manager::PersistenceManager;

    fn session() -> SessionId {
        SessionId::generate()
    }

    #[test]
    fn keystore_file_is_named_after_the_session() {
        let keystore = Keystore::new(PathBuf::from("/var/lib/wagate/keys"));
        let session = SessionId::parse("sess_01JB8Y6Q7V3X1E2M4N5P6R7S8T").expect("session id");
        assert_eq!(
            keystore.path(&session).expect("path"),
            PathBuf::from("/var/lib/wagate/keys/sess_01JB8Y6Q7V3X1E2M4N5P6R7S8T.db")
        );
    }

    #[test]
    fn session_id_that_could_escape_the_directory_is_refused() {
        let keystore = Keystore::new(PathBuf::from("/keys"));
        for raw in ["../etc/passwd", "a/b", "", "sess x"] {
            let session = SessionId::from_trusted(raw.to_owned());
            assert!(keystore.path(&session).is_err(), "{raw:?}");
        }
    }

    #[tokio::test]
    async fn missing_keystore_is_not_paired_and_is_not_created() {
        let dir = tempfile::tempdir().expect("tempdir");
        let keystore = Keystore::new(dir.path().join("keys"));
        let session = session();
        assert!(!keystore.is_paired(&session).await.expect("is_paired"));
        assert!(!keystore.path(&session).expect("path").exists());
    }

    #[tokio::test]
    async fn fresh_keystore_is_not_paired() {
        let dir = tempfile::tempdir().expect("tempdir");
        let keystore = Keystore::new(dir.path().to_path_buf());
        let session = session();
        drop(keystore.open(&session).await.expect("open"));
        assert!(!keystore.is_paired(&session).await.expect("is_paired"));
    }

    #[tokio::test]
    async fn keystore_with_a_device_jid_is_paired() {
        let dir = tempfile::tempdir().expect("tempdir");
        let keystore = Keystore::new(dir.path().to_path_buf());
        let session = session();
        let store = keystore.open(&session).await.expect("open");
        let manager = PersistenceManager::new(Arc::new(store))
            .await
            .expect("persistence manager");
        let jid = "15551234567:9@s.whatsapp.net".parse().expect("jid");
        manager
            .process_command(DeviceCommand::SetId(Some(jid)))
            .await;
        manager.flush().await.expect("flush");
        drop(manager);
        assert!(keystore.is_paired(&session).await.expect("is_paired"));
    }

    #[tokio::test]
    async fn forget_deletes_the_keystore_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let keystore = Keystore::new(dir.path().to_path_buf());
        let session = session();
        drop(keystore.open(&session).await.expect("open"));
        let path = keystore.path(&session).expect("path");
        assert!(path.exists());
        keystore.forget(&session).await.expect("forget");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("read_dir")
            .filter_map(Result::ok)
            .map(|entry| entry.file_name())
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }

    #[tokio::test]
    async fn forgetting_a_missing_keystore_is_fine() {
        let dir = tempfile::tempdir().expect("tempdir");
        let keystore = Keystore::new(dir.path().to_path_buf());
        keystore.forget(&session()).await.expect("forget");
    }
}
