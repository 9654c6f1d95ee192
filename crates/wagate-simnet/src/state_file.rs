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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use wagate_domain::{Engine, EngineEvent, Jid, OpenMode, SessionId};

    use super::*;
    use crate::live_tests::{ALICE, BOB, until, user};
    use crate::{RemoteSimEngine, control_router, engine_router};

    async fn serve(network: &Network) -> (String, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = control_router(network.clone()).merge(engine_router(network.clone()));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        (format!("http://{addr}"), task)
    }

    #[tokio::test]
    async fn a_restarted_simnet_still_knows_phones_groups_and_devices() {
        let tmp = tempfile::tempdir().unwrap();
        let file = StateFile::new(tmp.path().join("simnet.json"));
        let devices = tmp.path().join("sim-devices");
        let timings = SimTimings::default();

        // First run: an empty network from a missing file, a paired device and a group.
        let network = file.load(timings).await.unwrap();
        network.add_phone(ALICE, Some("Alice")).unwrap();
        network.add_phone(BOB, Some("Bob")).unwrap();
        let saver = file
            .clone()
            .keep_saved(network.clone(), Duration::from_millis(20));
        let (url, server) = serve(&network).await;
        let engine = RemoteSimEngine::new(url, devices.clone());
        let session = SessionId::generate();
        let mut link = engine.open(&session, OpenMode::PairQr).await.unwrap();
        let qr = until(&mut link.events, |e| match e {
            EngineEvent::Qr { code, .. } => Some(code),
            _ => None,
        })
        .await;
        network.scan(ALICE, &qr).unwrap();
        until(&mut link.events, |e| {
            matches!(e, EngineEvent::Connected).then_some(())
        })
        .await;
        let gid = link
            .client
            .create_group("Kept", &[user(BOB)])
            .await
            .unwrap()
            .jid;
        // The debounced save happens without a shutdown.
        for _ in 0..200 {
            let saved = tokio::fs::read(file.path()).await.unwrap_or_default();
            if String::from_utf8_lossy(&saved).contains(gid.as_str()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(link);
        saver.finish().await.unwrap();
        server.abort();
        assert!(
            !tmp.path().join("simnet.json.tmp").exists(),
            "renamed into place"
        );

        // Second run from the same file.
        let restored = file.load(timings).await.unwrap();
        assert_eq!(restored.phone(BOB).unwrap().name, "Bob");
        assert_eq!(restored.linked_devices(ALICE).len(), 1);
        assert_eq!(restored.group(gid.as_str()).unwrap().subject, "Kept");
        let (url, _server) = serve(&restored).await;
        let engine = RemoteSimEngine::new(url, devices);
        let mut link = engine.open(&session, OpenMode::Resume).await.unwrap();
        until(&mut link.events, |e| {
            matches!(e, EngineEvent::Connected).then_some(())
        })
        .await;
        let info = link.client.group_info(&gid).await.unwrap();
        assert_eq!(info.participants.len(), 2);
        let code = link.client.group_invite(&gid, false).await.unwrap();
        assert_eq!(link.client.join_group(&code).await.unwrap(), gid);
        assert_eq!(
            link.client.check_phones(&[BOB.to_owned()]).await.unwrap()[0].jid,
            Some(Jid::from_phone(BOB).unwrap())
        );
    }

    #[tokio::test]
    async fn an_unreadable_state_file_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("bad.json");
        std::fs::write(&path, b"{not json").unwrap();
        let err = StateFile::new(&path)
            .load(SimTimings::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
    }
}
