//! The engine port: the one narrow interface between wagate and "a WhatsApp network".
//!
//! Two adapters implement it: the real one over `whatsapp-rust`, and simnet's sim engine (a test
//! double). Only domain types cross it. An engine owns a session's device keys; the session
//! manager owns the status machine, reconnects and backoff (decisions.md D7), so an engine
//! connection is one attempt: its event stream ends when the connection is gone.

use std::time::Duration;

use async_trait::async_trait;
use futures_core::stream::BoxStream;

use crate::SessionId;

/// The account a device is linked to, learned when pairing succeeds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LinkedAccount {
    /// Own JID in device form (`<digits>:<device>@s.whatsapp.net`).
    pub jid: String,
    pub lid: Option<String>,
    /// Digits of the account's phone number.
    pub phone: Option<String>,
    pub platform: Option<String>,
    pub business_name: Option<String>,
}

/// Why a connection ended for good (no automatic reconnect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FatalReason {
    /// The device was unlinked (from the phone, or logged out by the network).
    LoggedOut,
    /// Another client took over this device's stream.
    Replaced,
    /// WhatsApp refuses this client version.
    ClientOutdated,
    /// The account is temporarily banned.
    TemporaryBan,
    /// The main device is gone or another unrecoverable refusal.
    Refused,
}

impl FatalReason {
    /// The `statusReason` value shown on the session (D7).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoggedOut => "logged_out",
            Self::Replaced => "replaced",
            Self::ClientOutdated => "client_outdated",
            Self::TemporaryBan => "temporary_ban",
            Self::Refused => "connection_refused",
        }
    }
}

/// What an engine connection reports, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineEvent {
    /// A QR code to show, valid for `valid_for`.
    Qr { code: String, valid_for: Duration },
    /// Every QR code expired without a scan; the connection ends.
    QrTimeout,
    /// The phone accepted the link; the device is paired from now on.
    Paired(LinkedAccount),
    /// Connected and authenticated: the session is usable.
    Connected,
    /// The connection dropped for a transient reason; the stream ends after this.
    Disconnected { reason: String },
    /// The connection ended for good; the stream ends after this.
    Fatal(FatalReason),
}

/// How to open a session's connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenMode {
    /// Connect the paired device.
    Resume,
    /// Start linking by QR code.
    PairQr,
    /// Start linking by phone-number code for `phone` (digits).
    PairCode { phone: String },
}

/// Engine failures, as the contract needs to tell them apart.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The network refused the input (bad phone number, unknown recipient…).
    #[error("rejected: {0}")]
    Rejected(String),
    /// The network could not be reached or did not answer in time.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// No paired device for this session.
    #[error("session is not paired")]
    NotPaired,
    #[error("engine failure: {0}")]
    Other(String),
}

/// One open connection.
pub struct EngineLink {
    pub client: Box<dyn EngineClient>,
    pub events: BoxStream<'static, EngineEvent>,
    /// For [`OpenMode::PairCode`]: the linking code to type on the phone.
    pub pairing_code: Option<String>,
}

/// Live operations on an open connection. Message, group and contact operations join this trait
/// as the features that need them arrive.
#[async_trait]
pub trait EngineClient: Send + Sync + 'static {
    /// Closes the connection, keeping the pairing.
    async fn disconnect(&self);
    /// Unlinks the device on the network's side (best effort) and ends the connection.
    async fn logout(&self) -> Result<(), EngineError>;
}

/// A WhatsApp network.
#[async_trait]
pub trait Engine: Send + Sync + 'static {
    /// `whatsapp` or `sim`; shown in logs.
    fn name(&self) -> &'static str;
    /// Opens a connection for `session`; the outcome arrives as events.
    async fn open(&self, session: &SessionId, mode: OpenMode) -> Result<EngineLink, EngineError>;
    /// Whether the engine holds a paired device for `session`.
    async fn is_paired(&self, session: &SessionId) -> Result<bool, EngineError>;
    /// Deletes the session's device keys (after a logout, or when the network unlinked it).
    async fn forget(&self, session: &SessionId) -> Result<(), EngineError>;
}
