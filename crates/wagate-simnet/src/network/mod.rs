//! The simulated network: phones, linked devices and live connections behind one lock.
//!
//! Engines attach with [`Network::connect`] and read [`NetworkEvent`]s from the connection's
//! channel; the channel closes when the connection is gone, so an event stream ends exactly
//! when the network drops the connection. Control operations ([`Network::scan`],
//! [`Network::unlink`], …) are what the phones do.

mod live;
pub mod ops;
pub(crate) mod state;
#[cfg(test)]
mod tests;
pub mod views;

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use wagate_domain::{EngineEvent, LinkedAccount};

use crate::codes::{self, validate_phone};
use crate::{LOG_LABEL, SimError, SimTimings};
use state::{Phase, State};

/// Identifies one connection of one session (a session reconnecting gets a new one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(u64);

impl ConnectionId {
    /// The id's number, as the engine endpoint's wire carries it.
    pub(crate) fn as_u64(self) -> u64 {
        self.0
    }

    /// The id a wire number names (an unknown one matches no connection).
    pub(crate) fn from_u64(n: u64) -> Self {
        Self(n)
    }
}

/// What a linked device presents to resume: issued by the network when pairing succeeds.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceCredential {
    /// The device's id on the network.
    pub device_id: String,
    /// The device's secret token.
    pub token: String,
}

impl std::fmt::Debug for DeviceCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCredential")
            .field("device_id", &self.device_id)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// How a connection starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectRequest {
    /// Link a new device by QR code.
    PairQr,
    /// Link a new device by phone-number pairing code.
    PairCode {
        /// Digits of the phone that will enter the code; it must exist on the network.
        phone: String,
    },
    /// Connect an already linked device.
    Resume {
        /// What the network issued when the device was linked.
        credential: DeviceCredential,
    },
}

/// What the network tells a connection, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum NetworkEvent {
    /// An event the engine passes on as is.
    Engine(EngineEvent),
    /// Pairing succeeded: the engine stores `credential`, then reports `Paired(account)`.
    /// `Connected` follows on the same channel.
    Linked {
        /// The account the device is now linked to.
        account: LinkedAccount,
        /// What the device must present to resume.
        credential: DeviceCredential,
    },
}

/// An open connection, as [`Network::connect`] hands it to the engine side.
#[derive(Debug)]
pub struct NetworkConnection {
    /// The connection's id, for [`Network::close`] and [`Network::logout`].
    pub id: ConnectionId,
    /// The connection's events; closed when the network drops the connection.
    pub events: mpsc::UnboundedReceiver<NetworkEvent>,
    /// For [`ConnectRequest::PairCode`]: the code to type on the phone (`XXXX-XXXX`).
    pub pairing_code: Option<String>,
}

/// The answer to [`Network::add_phone`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneAdded {
    /// The account's JID, `<phone>@s.whatsapp.net`.
    pub jid: String,
    /// `false` when the phone already existed (nothing changed).
    pub created: bool,
}

/// A simulated phone (account) as the network sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneInfo {
    /// Digits of the number.
    pub phone: String,
    /// The account's display name.
    pub name: String,
    /// `<phone>@s.whatsapp.net`.
    pub jid: String,
    /// `<15 digits>@lid`, stable for the number.
    pub lid: String,
}

/// A device linked to a phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedDevice {
    /// The device's JID, `<phone>:<device>@s.whatsapp.net`.
    pub jid: String,
    /// The session id the device was linked for.
    pub session: String,
    /// Whether the device has a live connection now.
    pub online: bool,
}

/// A simulated WhatsApp network (test double). Clones share the same network.
#[derive(Clone, Debug)]
pub struct Network {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    timings: SimTimings,
    state: Mutex<State>,
    /// Counts changes to the state, so a `--state` file knows when to save.
    changes: watch::Sender<u64>,
}

impl Default for Network {
    fn default() -> Self {
        Self::new(SimTimings::default())
    }
}

impl Network {
    /// An empty network moving at `timings`.
    pub fn new(timings: SimTimings) -> Self {
        Self::with_state(timings, State::default())
    }

    fn with_state(timings: SimTimings, state: State) -> Self {
        Self {
            inner: Arc::new(Inner {
                timings,
                state: Mutex::new(state),
                changes: watch::Sender::new(0),
            }),
        }
    }

    /// A network restored from [`Network::snapshot`]: phones, linked devices, groups, channels,
    /// messages and media; no live connections.
    pub fn restore(timings: SimTimings, snapshot: &[u8]) -> Result<Self, SimError> {
        let state: State = serde_json::from_slice(snapshot)
            .map_err(|e| SimError::Invalid(format!("unreadable simnet state: {e}")))?;
        Ok(Self::with_state(timings, state))
    }

    /// Everything the network knows except live connections, as JSON.
    pub fn snapshot(&self) -> Result<Vec<u8>, SimError> {
        serde_json::to_vec(&*self.lock())
            .map_err(|e| SimError::Invalid(format!("cannot serialize simnet state: {e}")))
    }

    /// A receiver that changes whenever the state may have changed.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    /// The network's timings.
    pub fn timings(&self) -> SimTimings {
        self.inner.timings
    }

    /// Creates a simulated account for `phone` (digits); an existing one is left unchanged.
    /// `name` defaults to the number.
    pub fn add_phone(&self, phone: &str, name: Option<&str>) -> Result<PhoneAdded, SimError> {
        let phone = validate_phone(phone)?;
        let name = match name.map(str::trim) {
            None => phone.to_owned(),
            Some(n) if !n.is_empty() && n.chars().count() <= 100 => n.to_owned(),
            Some(_) => {
                return Err(SimError::Invalid(
                    "name must be 1 to 100 characters".to_owned(),
                ));
            }
        };
        let created = self.lock().add_phone(phone, name);
        if created {
            tracing::info!(phone, "{LOG_LABEL}: phone created");
        }
        Ok(PhoneAdded {
            jid: codes::account_jid(phone),
            created,
        })
    }

    /// The simulated account of `phone`, if it exists.
    pub fn phone(&self, phone: &str) -> Option<PhoneInfo> {
        self.lock().phone_info(phone)
    }

    /// The devices linked to `phone`, oldest first.
    pub fn linked_devices(&self, phone: &str) -> Vec<LinkedDevice> {
        self.lock().linked_devices(phone)
    }

    /// Whether `session` has a connected (authenticated) connection now.
    pub fn is_online(&self, session: &str) -> bool {
        self.lock().is_online(session)
    }

    /// The QR code `session`'s pairing connection shows now, if any (what a phone would scan).
    pub fn current_qr(&self, session: &str) -> Option<String> {
        self.lock().current_qr(session)
    }

    /// Opens a connection for `session` (the device name the network remembers). Waits
    /// `connect_delay` first. A connection already open for this session is superseded (it gets
    /// `Disconnected`); resuming a device that is connected elsewhere replaces that connection
    /// (it gets `Fatal(Replaced)`). Resuming an unknown or unlinked device yields a connection
    /// whose only event is `Fatal(LoggedOut)`. Pairing by code for an unknown phone is
    /// [`SimError::NotFound`]. Must be called within a tokio runtime (timers are spawned).
    pub async fn connect(
        &self,
        session: &str,
        request: ConnectRequest,
    ) -> Result<NetworkConnection, SimError> {
        if session.is_empty() {
            return Err(SimError::Invalid("session must not be empty".to_owned()));
        }
        if let ConnectRequest::PairCode { phone } = &request {
            validate_phone(phone)?;
        }
        let delay = self.inner.timings.connect_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let mut state = self.lock();
        match request {
            ConnectRequest::PairQr => {
                let (id, events) = state.open(session, Phase::scan_qr());
                let timer = tokio::spawn(rotate_qr(self.clone(), session.to_owned(), id));
                state.set_timer(session, id, timer.abort_handle());
                tracing::info!(session, "{LOG_LABEL}: QR pairing started");
                Ok(NetworkConnection {
                    id,
                    events,
                    pairing_code: None,
                })
            }
            ConnectRequest::PairCode { phone } => {
                if !state.has_phone(&phone) {
                    return Err(SimError::NotFound(format!(
                        "no simulated phone {phone} on this network"
                    )));
                }
                let code = state.unused_pairing_code(&phone);
                let phase = Phase::EnterCode {
                    phone: phone.clone(),
                    code: code.clone(),
                };
                let (id, events) = state.open(session, phase);
                let window = self.inner.timings.pairing_window();
                let timer =
                    tokio::spawn(expire_pairing(self.clone(), session.to_owned(), id, window));
                state.set_timer(session, id, timer.abort_handle());
                tracing::info!(session, phone, "{LOG_LABEL}: pairing code issued");
                Ok(NetworkConnection {
                    id,
                    events,
                    pairing_code: Some(code),
                })
            }
            ConnectRequest::Resume { credential } => {
                let (id, events) = state.resume(session, &credential);
                Ok(NetworkConnection {
                    id,
                    events,
                    pairing_code: None,
                })
            }
        }
    }

    /// Closes a connection from the engine side, keeping the device linked. No event: the
    /// channel just closes. Unknown or already closed connections are ignored.
    pub fn close(&self, session: &str, id: ConnectionId) {
        self.lock().end_if(session, id, None);
    }

    /// Logs a device out from the engine side: removes the device (the connection's own, else
    /// the one `credential` names) and closes the connection without an event. Another live
    /// connection of that device gets `Fatal(LoggedOut)`.
    pub fn logout(&self, session: &str, id: ConnectionId, credential: Option<&DeviceCredential>) {
        self.lock().logout(session, id, credential);
    }

    /// The phone scans a QR code: the pairing connection currently showing `qr` becomes a
    /// linked device of `phone` (`Linked`, then `Connected`). An unknown or expired code is
    /// [`SimError::Invalid`]; an unknown phone is [`SimError::NotFound`].
    pub fn scan(&self, phone: &str, qr: &str) -> Result<(), SimError> {
        let phone = validate_phone(phone)?;
        self.lock().scan(phone, qr.trim())
    }

    /// The phone enters a pairing code: the connection that requested `code` for `phone`
    /// becomes a linked device (`Linked`, then `Connected`).
    pub fn enter_code(&self, phone: &str, code: &str) -> Result<(), SimError> {
        let phone = validate_phone(phone)?;
        let code = codes::normalize_pairing_code(code).ok_or_else(|| {
            SimError::Invalid("a pairing code is 8 characters, XXXX-XXXX".to_owned())
        })?;
        self.lock().enter_code(phone, &code)
    }

    /// The phone removes the device it linked for `session`: the device is gone and its live
    /// connection gets `Fatal(LoggedOut)`.
    pub fn unlink(&self, phone: &str, session: &str) -> Result<(), SimError> {
        let phone = validate_phone(phone)?;
        if session.is_empty() {
            return Err(SimError::Invalid("session must not be empty".to_owned()));
        }
        self.lock().unlink(phone, session)
    }

    /// Cuts `session`'s connection once: it gets `Disconnected` and its channel closes. The
    /// device stays linked, so the engine can resume.
    pub fn drop_connection(&self, session: &str) -> Result<(), SimError> {
        self.lock().drop_connection(session)
    }

    fn lock(&self) -> StateGuard<'_> {
        // State changes are single assignments under the lock, so a panic elsewhere cannot
        // leave it half-changed: recover from poisoning instead of spreading the panic.
        let guard = self
            .inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        StateGuard {
            guard,
            changed: false,
            changes: &self.inner.changes,
        }
    }
}

/// The locked state; mutable access counts as a change when the lock is released.
struct StateGuard<'a> {
    guard: MutexGuard<'a, State>,
    changed: bool,
    changes: &'a watch::Sender<u64>,
}

impl Deref for StateGuard<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        &self.guard
    }
}

impl DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        self.changed = true;
        &mut self.guard
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        if self.changed {
            self.changes.send_modify(|n| *n = n.wrapping_add(1));
        }
    }
}

/// Shows `qr_codes` QR codes one after the other, then ends the attempt with `QrTimeout`.
/// Aborted when the connection ends; stops by itself when the connection is no longer pairing.
async fn rotate_qr(network: Network, session: String, id: ConnectionId) {
    let timings = network.timings();
    for n in 0..timings.qr_codes {
        let valid_for = if n == 0 {
            timings.first_qr
        } else {
            timings.next_qr
        };
        if !network
            .lock()
            .offer_qr(&session, id, codes::qr_code(), valid_for)
        {
            return;
        }
        tokio::time::sleep(valid_for).await;
    }
    network.lock().expire_pairing(&session, id);
}

/// Ends a phone-code pairing attempt with `QrTimeout` after `window` unless it completed.
async fn expire_pairing(network: Network, session: String, id: ConnectionId, window: Duration) {
    tokio::time::sleep(window).await;
    network.lock().expire_pairing(&session, id);
}
