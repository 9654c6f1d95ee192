//! Device credentials on disk, one small JSON file per session, like a real engine's device keys:
//! written when pairing succeeds, read to resume, removed by `forget`.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use rand::Rng as _;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt as _;
use wagate_domain::{EngineError, LinkedAccount, SessionId};

use crate::DeviceCredential;

/// The file format tag, so a file from something else is never mistaken for a device.
const FORMAT: &str = "simnet-device/1";

/// What a session's device file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeviceFile {
    format: String,
    session: String,
    #[serde(flatten)]
    pub(crate) credential: DeviceCredential,
    jid: String,
    lid: Option<String>,
    phone: Option<String>,
}

impl DeviceFile {
    pub(crate) fn new(
        session: &SessionId,
        credential: DeviceCredential,
        account: &LinkedAccount,
    ) -> Self {
        Self {
            format: FORMAT.to_owned(),
            session: session.as_str().to_owned(),
            credential,
            jid: account.jid.clone(),
            lid: account.lid.clone(),
            phone: account.phone.clone(),
        }
    }
}

/// The directory of device files.
#[derive(Debug, Clone)]
pub(crate) struct DeviceStore {
    dir: PathBuf,
}

impl DeviceStore {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The stored credential, which covers a logout after the connection is already gone; an
    /// unreadable file is logged and skipped (the logout still closes the connection).
    pub(crate) async fn credential_for_logout(
        &self,
        session: &SessionId,
    ) -> Option<crate::DeviceCredential> {
        match self.read(session).await {
            Ok(file) => file.map(|f| f.credential),
            Err(e) => {
                tracing::warn!(session = %session, error = %e, "{}: unreadable device file at logout", crate::LOG_LABEL);
                None
            }
        }
    }

    /// `<dir>/<session>.json`; session ids are checked so a path can never leave `dir`.
    pub(crate) fn path(&self, session: &SessionId) -> Result<PathBuf, EngineError> {
        let name = session.as_str();
        let safe = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if safe {
            Ok(self.dir.join(format!("{name}.json")))
        } else {
            Err(EngineError::Other(format!(
                "session id {name:?} cannot name a device file"
            )))
        }
    }

    pub(crate) async fn exists(&self, session: &SessionId) -> Result<bool, EngineError> {
        let path = self.path(session)?;
        tokio::fs::try_exists(&path)
            .await
            .map_err(|e| io_error("check", &path, &e))
    }

    /// The session's device file; `None` when the session has none.
    pub(crate) async fn read(
        &self,
        session: &SessionId,
    ) -> Result<Option<DeviceFile>, EngineError> {
        let path = self.path(session)?;
        let bytes = match tokio::fs::read(&path).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("read", &path, &e)),
        };
        let file: DeviceFile = serde_json::from_slice(&bytes).map_err(|e| {
            EngineError::Other(format!("device file {} is invalid: {e}", path.display()))
        })?;
        if file.format != FORMAT {
            return Err(EngineError::Other(format!(
                "device file {} has unknown format {:?}",
                path.display(),
                file.format
            )));
        }
        Ok(Some(file))
    }

    /// Writes the session's device file atomically: a temporary file in the same directory,
    /// flushed, then renamed over the old one.
    pub(crate) async fn write(
        &self,
        session: &SessionId,
        file: &DeviceFile,
    ) -> Result<(), EngineError> {
        let path = self.path(session)?;
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| io_error("create", &self.dir, &e))?;
        let bytes = serde_json::to_vec_pretty(file)
            .map_err(|e| EngineError::Other(format!("cannot encode device file: {e}")))?;
        let suffix: u64 = rand::rng().random();
        let tmp = self
            .dir
            .join(format!("{}.json.tmp-{suffix:016x}", session.as_str()));
        let written = write_new(&tmp, &bytes).await;
        let renamed = match written {
            Ok(()) => tokio::fs::rename(&tmp, &path).await,
            Err(e) => Err(e),
        };
        if let Err(e) = renamed {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(io_error("write", &path, &e));
        }
        Ok(())
    }

    /// Removes the session's device file; a missing file is fine.
    pub(crate) async fn remove(&self, session: &SessionId) -> Result<(), EngineError> {
        let path = self.path(session)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("remove", &path, &e)),
        }
    }
}

/// Creates `path` (readable by the owner only, on Unix) with `bytes`, synced to disk.
async fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).await?;
    file.write_all(bytes).await?;
    file.sync_all().await
}

fn io_error(action: &str, path: &Path, err: &std::io::Error) -> EngineError {
    EngineError::Other(format!("cannot {action} {}: {err}", path.display()))
}
