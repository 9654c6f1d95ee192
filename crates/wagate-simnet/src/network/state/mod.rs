//! The network's state and its transitions (the pairing ones are in `pairing`). Everything here
//! runs under the network's lock and never awaits, so each transition (and the events it sends)
//! is atomic.

mod accounts;
mod channels;
mod contacts;
mod groups;
pub(crate) mod messages;
mod pairing;
mod presence;
pub(super) mod records;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use wagate_domain::{EngineEvent, FatalReason};

use super::{ConnectionId, DeviceCredential, LinkedDevice, NetworkEvent, PhoneInfo};
use crate::codes;
use crate::{LOG_LABEL, SimError};

pub(super) use accounts::{Acting, chat_for, known_jid};
pub(crate) use messages::{Draft, body_of};
use records::{Blob, Channel, Group, OwnPresenceState, SeenPresence, StoredMessage};

/// Everything the network knows. The serde form is the `--state` file: connections (and their
/// presence subscriptions) are live only and start empty after a load.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct State {
    phones: BTreeMap<String, Phone>,
    devices: HashMap<String, Device>,
    /// One connection per session id.
    #[serde(skip)]
    connections: HashMap<String, Connection>,
    #[serde(skip)]
    next_connection: u64,
    next_device_seq: u64,
    #[serde(default)]
    groups: BTreeMap<String, Group>,
    #[serde(default)]
    channels: BTreeMap<String, Channel>,
    /// Every message sent on the network, by id (a forced id reused replaces the message).
    #[serde(default)]
    messages: HashMap<String, StoredMessage>,
    /// Media bytes, by blob id (`MediaRef.locator`).
    #[serde(default)]
    blobs: HashMap<String, Blob>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Phone {
    name: String,
    lid: String,
    /// Device number of the latest linked device (1, 2, …; never reused).
    last_device: u32,
    #[serde(default)]
    about: Option<String>,
    /// Profile picture id; `None` = no picture.
    #[serde(default)]
    picture: Option<String>,
    /// Numbers this account blocked: their direct messages are not delivered.
    #[serde(default)]
    blocked: BTreeSet<String>,
    /// Numbers this account has exchanged direct messages or shared a group with; they see its
    /// status posts.
    #[serde(default)]
    contacts: BTreeSet<String>,
    /// Ids of the messages this account received, oldest first.
    #[serde(default)]
    inbox: Vec<String>,
    #[serde(default)]
    presence: OwnPresenceState,
    /// The latest presence each other account showed this one (typing indicators included).
    #[serde(default)]
    seen_presence: BTreeMap<String, SeenPresence>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Device {
    token: String,
    phone: String,
    jid: String,
    session: String,
    /// Link order, so listings are oldest first.
    seq: u64,
}

#[derive(Debug)]
struct Connection {
    id: ConnectionId,
    tx: mpsc::UnboundedSender<NetworkEvent>,
    phase: Phase,
    /// The QR rotation or pairing-code expiry task, aborted when the connection ends.
    timer: Option<AbortHandle>,
    /// Numbers whose presence this connection subscribed to.
    subscriptions: HashSet<String>,
}

#[derive(Debug)]
pub(super) enum Phase {
    /// Showing QR codes; `expired` remembers earlier ones to tell stale from unknown.
    ScanQr {
        current: Option<String>,
        expired: Vec<String>,
    },
    /// Waiting for `phone` to enter `code`.
    EnterCode { phone: String, code: String },
    /// Authenticated as `device`.
    Online { device: String },
}

impl Phase {
    pub(super) fn scan_qr() -> Self {
        Phase::ScanQr {
            current: None,
            expired: Vec::new(),
        }
    }
}

impl State {
    pub(super) fn add_phone(&mut self, phone: &str, name: String) -> bool {
        if self.phones.contains_key(phone) {
            return false;
        }
        let lid = codes::lid_for(phone);
        let entry = Phone {
            name,
            lid,
            last_device: 0,
            about: Some("Hey there! I am using WhatsApp.".to_owned()),
            picture: Some(codes::picture_id()),
            blocked: BTreeSet::new(),
            contacts: BTreeSet::new(),
            inbox: Vec::new(),
            presence: OwnPresenceState::default(),
            seen_presence: BTreeMap::new(),
        };
        self.phones.insert(phone.to_owned(), entry);
        true
    }

    pub(super) fn has_phone(&self, phone: &str) -> bool {
        self.phones.contains_key(phone)
    }

    pub(super) fn phone_info(&self, phone: &str) -> Option<PhoneInfo> {
        self.phones.get(phone).map(|p| PhoneInfo {
            phone: phone.to_owned(),
            name: p.name.clone(),
            jid: codes::account_jid(phone),
            lid: p.lid.clone(),
        })
    }

    pub(super) fn linked_devices(&self, phone: &str) -> Vec<LinkedDevice> {
        let mut devices: Vec<(&String, &Device)> = self
            .devices
            .iter()
            .filter(|(_, d)| d.phone == phone)
            .collect();
        devices.sort_by_key(|(_, d)| d.seq);
        devices
            .into_iter()
            .map(|(id, d)| LinkedDevice {
                jid: d.jid.clone(),
                session: d.session.clone(),
                online: self.online_session_of(id).is_some(),
            })
            .collect()
    }

    pub(super) fn is_online(&self, session: &str) -> bool {
        self.connections
            .get(session)
            .is_some_and(|c| !c.tx.is_closed() && matches!(c.phase, Phase::Online { .. }))
    }

    pub(super) fn current_qr(&self, session: &str) -> Option<String> {
        match &self.connections.get(session)?.phase {
            Phase::ScanQr { current, .. } => current.clone(),
            _ => None,
        }
    }

    /// Registers a new connection for `session`, superseding the one it had.
    pub(super) fn open(
        &mut self,
        session: &str,
        phase: Phase,
    ) -> (ConnectionId, mpsc::UnboundedReceiver<NetworkEvent>) {
        let reason = "superseded by a new connection for this session".to_owned();
        self.end(session, Some(EngineEvent::Disconnected { reason }));
        self.next_connection += 1;
        let id = ConnectionId(self.next_connection);
        let (tx, rx) = mpsc::unbounded_channel();
        let connection = Connection {
            id,
            tx,
            phase,
            timer: None,
            subscriptions: HashSet::new(),
        };
        self.connections.insert(session.to_owned(), connection);
        (id, rx)
    }

    pub(super) fn set_timer(&mut self, session: &str, id: ConnectionId, timer: AbortHandle) {
        match self.live(session, id) {
            Some(connection) => connection.timer = Some(timer),
            None => timer.abort(),
        }
    }

    /// Resumes a linked device, or answers a connection whose only event is `LoggedOut`.
    pub(super) fn resume(
        &mut self,
        session: &str,
        credential: &DeviceCredential,
    ) -> (ConnectionId, mpsc::UnboundedReceiver<NetworkEvent>) {
        let known = self
            .devices
            .get(&credential.device_id)
            .is_some_and(|d| d.token == credential.token);
        if !known {
            tracing::info!(session, "{LOG_LABEL}: unknown device resumed, logged out");
            self.next_connection += 1;
            let (tx, rx) = mpsc::unbounded_channel();
            let _ = tx.send(engine(EngineEvent::Fatal(FatalReason::LoggedOut)));
            return (ConnectionId(self.next_connection), rx);
        }
        if let Some(other) = self.online_session_of(&credential.device_id) {
            tracing::info!(
                session,
                replaced = other,
                "{LOG_LABEL}: connection replaced"
            );
            self.end(&other, Some(EngineEvent::Fatal(FatalReason::Replaced)));
        }
        let device = credential.device_id.clone();
        let (id, rx) = self.open(session, Phase::Online { device });
        self.send(session, id, engine(EngineEvent::Connected));
        tracing::info!(session, "{LOG_LABEL}: device connected");
        (id, rx)
    }

    pub(super) fn unlink(&mut self, phone: &str, session: &str) -> Result<(), SimError> {
        self.require_phone(phone)?;
        let ids: Vec<String> = self
            .devices
            .iter()
            .filter(|(_, d)| d.phone == phone && d.session == session)
            .map(|(id, _)| id.clone())
            .collect();
        if ids.is_empty() {
            return Err(SimError::NotFound(format!(
                "{phone} has no device linked for session {session}"
            )));
        }
        for id in ids {
            self.remove_device(&id);
        }
        tracing::info!(phone, session, "{LOG_LABEL}: device unlinked by the phone");
        Ok(())
    }

    pub(super) fn drop_connection(&mut self, session: &str) -> Result<(), SimError> {
        self.prune(session);
        if !self.connections.contains_key(session) {
            return Err(SimError::NotFound(format!(
                "session {session} has no connection"
            )));
        }
        let reason = "connection dropped by simnet (simulated network)".to_owned();
        self.end(session, Some(EngineEvent::Disconnected { reason }));
        tracing::info!(session, "{LOG_LABEL}: connection dropped");
        Ok(())
    }

    pub(super) fn logout(
        &mut self,
        session: &str,
        id: ConnectionId,
        credential: Option<&DeviceCredential>,
    ) {
        let own = match self.connections.get(session) {
            Some(c) if c.id == id => match &c.phase {
                Phase::Online { device } => Some(device.clone()),
                _ => None,
            },
            _ => None,
        };
        let presented = credential
            .filter(|c| {
                self.devices
                    .get(&c.device_id)
                    .is_some_and(|d| d.token == c.token)
            })
            .map(|c| c.device_id.clone());
        self.end_if(session, id, None);
        if let Some(device) = own.or(presented) {
            self.remove_device(&device);
            tracing::info!(session, "{LOG_LABEL}: device logged out");
        }
    }

    /// Ends connection `id` of `session` if it is still the session's connection.
    pub(super) fn end_if(&mut self, session: &str, id: ConnectionId, last: Option<EngineEvent>) {
        if self.connections.get(session).is_some_and(|c| c.id == id) {
            self.end(session, last);
        }
    }

    fn remove_device(&mut self, device: &str) {
        if let Some(session) = self.online_session_of(device) {
            self.end(&session, Some(EngineEvent::Fatal(FatalReason::LoggedOut)));
        }
        self.devices.remove(device);
    }

    fn require_phone(&self, phone: &str) -> Result<(), SimError> {
        if self.phones.contains_key(phone) {
            Ok(())
        } else {
            Err(SimError::NotFound(format!("no simulated phone {phone}")))
        }
    }

    /// The session whose live connection is authenticated as `device`.
    fn online_session_of(&self, device: &str) -> Option<String> {
        self.connections.iter().find_map(|(session, c)| {
            let online =
                !c.tx.is_closed() && matches!(&c.phase, Phase::Online { device: d } if d == device);
            online.then(|| session.clone())
        })
    }

    /// The session's connection if it is `id` and its engine side still listens.
    fn live(&mut self, session: &str, id: ConnectionId) -> Option<&mut Connection> {
        self.prune(session);
        self.connections.get_mut(session).filter(|c| c.id == id)
    }

    /// Forgets the session's connection when its engine side stopped listening.
    fn prune(&mut self, session: &str) {
        if self
            .connections
            .get(session)
            .is_some_and(|c| c.tx.is_closed())
        {
            self.end(session, None);
        }
    }

    /// Sends on connection `id`; a connection whose engine side is gone is forgotten.
    fn send(&mut self, session: &str, id: ConnectionId, event: NetworkEvent) -> bool {
        let Some(connection) = self.connections.get(session).filter(|c| c.id == id) else {
            return false;
        };
        if connection.tx.send(event).is_ok() {
            return true;
        }
        self.end(session, None);
        false
    }

    /// Removes the session's connection, sending `last` first; dropping the sender closes the
    /// engine's channel, which ends its event stream.
    fn end(&mut self, session: &str, last: Option<EngineEvent>) {
        if let Some(connection) = self.connections.remove(session) {
            if let Some(timer) = connection.timer {
                timer.abort();
            }
            if let Some(event) = last {
                let _ = connection.tx.send(engine(event));
            }
        }
    }
}

fn engine(event: EngineEvent) -> NetworkEvent {
    NetworkEvent::Engine(event)
}
