//! The sim engine: wagate's [`Engine`] port implemented against an in-process [`Network`].
//!
//! Each session's device credential lives in `<device_dir>/<session>.json` (written when pairing
//! succeeds, before `Paired` is reported), so a node restarted over the same data directory
//! resumes its sessions without pairing again while the network still knows the devices.

pub(crate) mod device_file;
pub(crate) mod live;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use async_trait::async_trait;
use futures::StreamExt as _;
use futures::stream::BoxStream;
use tokio::sync::mpsc;
use wagate_domain::{
    Engine, EngineError, EngineEvent, EngineLink, FatalReason, OpenMode, SessionId,
};

use crate::{
    Actor, ConnectRequest, ConnectionId, LOG_LABEL, Network, NetworkEvent, Op, OpResult, SimError,
};
use device_file::{DeviceFile, DeviceStore};
use live::{LiveClient, Transport};

/// wagate's engine over a simulated network (test double; [`Engine::name`] is `sim`).
#[derive(Debug, Clone)]
pub struct SimEngine {
    network: Network,
    devices: DeviceStore,
}

impl SimEngine {
    /// An engine attaching sessions to `network`, keeping device credentials in `device_dir`
    /// (created when the first device is paired).
    pub fn new(network: Network, device_dir: PathBuf) -> Self {
        tracing::info!(device_dir = %device_dir.display(), "{LOG_LABEL}: sim engine attached; this is a test double, not WhatsApp");
        Self {
            network,
            devices: DeviceStore::new(device_dir),
        }
    }

    /// The network this engine attaches to.
    pub fn network(&self) -> &Network {
        &self.network
    }
}

#[async_trait]
impl Engine for SimEngine {
    fn name(&self) -> &'static str {
        "sim"
    }

    /// Resume without a device file is [`EngineError::NotPaired`]; code pairing for a phone the
    /// network does not know is [`EngineError::Rejected`].
    async fn open(&self, session: &SessionId, mode: OpenMode) -> Result<EngineLink, EngineError> {
        let request = match mode {
            OpenMode::PairQr => ConnectRequest::PairQr,
            OpenMode::PairCode { phone } => ConnectRequest::PairCode { phone },
            OpenMode::Resume => {
                let file = self
                    .devices
                    .read(session)
                    .await?
                    .ok_or(EngineError::NotPaired)?;
                ConnectRequest::Resume {
                    credential: file.credential,
                }
            }
        };
        let connection = self
            .network
            .connect(session.as_str(), request)
            .await
            .map_err(|e| match e {
                // Pairing for a phone the network does not know is a refused input.
                SimError::NotFound(m) => EngineError::Rejected(m),
                e => e.into(),
            })?;
        let client = SimClient {
            network: self.network.clone(),
            devices: self.devices.clone(),
            session: session.clone(),
            connection: connection.id,
        };
        let events = event_stream(client.clone(), connection.events);
        Ok(EngineLink {
            client: Box::new(LiveClient(client)),
            events,
            pairing_code: connection.pairing_code,
        })
    }

    async fn is_paired(&self, session: &SessionId) -> Result<bool, EngineError> {
        self.devices.exists(session).await
    }

    async fn forget(&self, session: &SessionId) -> Result<(), EngineError> {
        self.devices.remove(session).await
    }
}

/// One connection of a session to the simulated network.
#[derive(Debug, Clone)]
pub struct SimClient {
    network: Network,
    devices: DeviceStore,
    session: SessionId,
    connection: ConnectionId,
}

#[async_trait]
impl Transport for SimClient {
    /// Closes the connection; the event stream ends without a further event.
    async fn close(&self) {
        self.network.close(self.session.as_str(), self.connection);
    }

    /// Unlinks the device on the network and closes the connection; the event stream ends
    /// without a further event. The device file stays until [`Engine::forget`].
    async fn logout_device(&self) -> Result<(), EngineError> {
        let stored = self.devices.credential_for_logout(&self.session).await;
        self.network
            .logout(self.session.as_str(), self.connection, stored.as_ref());
        Ok(())
    }

    async fn run(&self, op: Op) -> Result<OpResult, EngineError> {
        let actor = Actor::Session {
            session: self.session.as_str().to_owned(),
            connection: self.connection,
        };
        Ok(self.network.perform(&actor, op)?)
    }
}

/// The connection's events as wagate sees them: `Linked` becomes `Paired` once the device file
/// is written; the stream ends after a final event or when the network closes the channel.
fn event_stream(
    client: SimClient,
    events: mpsc::UnboundedReceiver<NetworkEvent>,
) -> BoxStream<'static, EngineEvent> {
    futures::stream::unfold(
        (client, events, false),
        |(client, mut events, ended)| async move {
            if ended {
                return None;
            }
            let event = match events.recv().await? {
                NetworkEvent::Engine(event) => event,
                NetworkEvent::Linked {
                    account,
                    credential,
                } => {
                    let file = DeviceFile::new(&client.session, credential, &account);
                    match client.devices.write(&client.session, &file).await {
                        Ok(()) => EngineEvent::Paired(account),
                        Err(e) => {
                            // Without the credential the link is useless: undo it and end.
                            tracing::error!(session = %client.session, error = %e, "{LOG_LABEL}: cannot store the device credential");
                            client.network.logout(
                                client.session.as_str(),
                                client.connection,
                                None,
                            );
                            EngineEvent::Fatal(FatalReason::Refused)
                        }
                    }
                }
            };
            let ended = matches!(
                event,
                EngineEvent::QrTimeout
                    | EngineEvent::Disconnected { .. }
                    | EngineEvent::Fatal(_)
            );
            Some((event, (client, events, ended)))
        },
    )
    .boxed()
}
