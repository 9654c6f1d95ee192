//! A standalone simnet's `--state FILE`: loaded at start when present, saved atomically (temp
//! file + rename) shortly after changes and once more at shutdown, so phones, groups and linked
//! devices outlive a simnet restart.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::{LOG_LABEL, Network, SimTimings};

/// The state file of a standalone simnet.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The network the file holds; an empty one when the file does not exist yet.
    pub async fn load(&self, timings: SimTimings) -> std::io::Result<Network> {
        match tokio::fs::read(&self.path).await {
            Ok(bytes) => Network::restore(timings, &bytes)
                .map_err(|e| std::io::Error::new(ErrorKind::InvalidData, e.to_string())),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Network::new(timings)),
            Err(e) => Err(e),
        }
    }

    /// Writes the network's state: a temporary file next to the target, then a rename, so a
    /// crash never leaves half a file.
    pub async fn save(&self, network: &Network) -> std::io::Result<()> {
        let bytes = network
            .snapshot()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        tokio::fs::write(&tmp, &bytes).await?;
        tokio::fs::rename(&tmp, &self.path).await
    }

    /// Saves `network` `debounce` after each burst of changes until [`StateSaver::finish`].
    pub fn keep_saved(self, network: Network, debounce: Duration) -> StateSaver {
        let (stop, mut stopped) = oneshot::channel::<()>();
        let file = self.clone();
        let saved = network.clone();
        let task = tokio::spawn(async move {
            let mut changes = saved.changes();
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    changed = changes.changed() => if changed.is_err() { return },
                }
                tokio::select! {
                    _ = &mut stopped => return,
                    () = tokio::time::sleep(debounce) => {}
                }
                changes.mark_unchanged();
                if let Err(e) = file.save(&saved).await {
                    tracing::error!(path = %file.path.display(), error = %e, "{LOG_LABEL}: cannot save the state");
                }
            }
        });
        StateSaver {
            file: self,
            network,
            stop,
            task,
        }
    }
}

/// Keeps a state file up to date; [`StateSaver::finish`] saves a last time.
#[derive(Debug)]
pub struct StateSaver {
    file: StateFile,
    network: Network,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl StateSaver {
    /// Stops the debounced saving and saves the final state.
    pub async fn finish(self) -> std::io::Result<()> {
        let _ = self.stop.send(());
        let _ = self.task.await;
        self.file.save(&self.network).await
    }
}
