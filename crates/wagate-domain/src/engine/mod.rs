//! The engine port: the one narrow interface between wagate and "a WhatsApp network".
//!
//! Two adapters implement it: the real one over `whatsapp-rust`, and simnet's sim engine (a test
//! double). Only domain types cross it. An engine owns a session's device keys; the session
//! manager owns the status machine, reconnects and backoff (decisions.md D7), so an engine
//! connection is one attempt: its event stream ends when the connection is gone.

mod inbound;
mod live;
mod outgoing;

use std::time::Duration;

use async_trait::async_trait;
use futures_core::stream::BoxStream;

pub use inbound::*;
pub use live::*;
pub use outgoing::*;

use crate::{Jid, SessionId};

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
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// A QR code to show, valid for `valid_for`.
    Qr {
        code: String,
        valid_for: Duration,
    },
    /// Every QR code expired without a scan; the connection ends.
    QrTimeout,
    /// The phone accepted the link; the device is paired from now on.
    Paired(LinkedAccount),
    /// Connected and authenticated: the session is usable.
    Connected,
    /// The connection dropped for a transient reason; the stream ends after this.
    Disconnected {
        reason: String,
    },
    /// The connection ended for good; the stream ends after this.
    Fatal(FatalReason),
    /// A message arrived (or this account sent one from another device).
    Message(Box<InboundMessage>),
    Receipt(Receipt),
    Presence(PresenceUpdate),
    Group(Box<GroupUpdate>),
    Contact(ContactUpdate),
    HistorySync(Box<HistoryChunk>),
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
    /// The account may not do this (not a group admin…).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The network does not know the target (group, invite code, message, media…).
    #[error("not found: {0}")]
    NotFound(String),
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

/// Live operations on an open connection. Every live operation of the contract goes through
/// here; arguments are validated domain values, results are domain values.
#[async_trait]
pub trait EngineClient: Send + Sync + 'static {
    /// Closes the connection, keeping the pairing.
    async fn disconnect(&self);
    /// Unlinks the device on the network's side (best effort) and ends the connection.
    async fn logout(&self) -> Result<(), EngineError>;

    // Messages.
    /// Sends one message and waits for the server's acknowledgement.
    async fn send(&self, message: OutgoingMessage) -> Result<SentMessage, EngineError>;
    /// Replaces the text of a message this account sent.
    async fn edit(&self, target: &MessageKey, text: &str) -> Result<SentMessage, EngineError>;
    /// Deletes a message for everyone.
    async fn revoke(&self, target: &MessageKey) -> Result<SentMessage, EngineError>;
    /// Reacts to a message; an empty `emoji` removes this account's reaction.
    async fn react(&self, target: &MessageKey, emoji: &str) -> Result<SentMessage, EngineError>;
    /// Votes on a poll: `selected` is the complete new selection, by option text; `poll` is the
    /// poll as it was created (engines need its options to encode the vote).
    async fn vote(
        &self,
        target: &MessageKey,
        poll: &PollSpec,
        selected: &[String],
    ) -> Result<SentMessage, EngineError>;
    /// Sends read receipts for messages of `chat` written by `sender`.
    async fn mark_read(
        &self,
        chat: &Jid,
        sender: Option<&Jid>,
        ids: &[String],
    ) -> Result<(), EngineError>;
    /// Posts to this account's status feed.
    async fn post_status(&self, post: StatusPost) -> Result<SentMessage, EngineError>;
    /// The bytes of inbound media, by the locator the engine gave in [`MediaRef`].
    async fn download(&self, media: &MediaRef) -> Result<Vec<u8>, EngineError>;

    // Presence.
    async fn set_presence(&self, presence: OwnPresence) -> Result<(), EngineError>;
    async fn set_chat_presence(&self, chat: &Jid, state: ChatPresence) -> Result<(), EngineError>;
    /// Asks the network to report `jid`'s presence (later, as [`EngineEvent::Presence`]).
    async fn subscribe_presence(&self, jid: &Jid) -> Result<(), EngineError>;

    // Contacts.
    /// Which of `phones` (digits) are on WhatsApp.
    async fn check_phones(&self, phones: &[String]) -> Result<Vec<OnWhatsApp>, EngineError>;
    async fn profile_picture(&self, jid: &Jid) -> Result<ProfilePicture, EngineError>;
    /// The "about" text; `None` when hidden or unset.
    async fn about(&self, jid: &Jid) -> Result<Option<String>, EngineError>;
    async fn set_blocked(&self, jid: &Jid, blocked: bool) -> Result<(), EngineError>;

    // Groups.
    async fn create_group(
        &self,
        subject: &str,
        participants: &[Jid],
    ) -> Result<GroupInfo, EngineError>;
    async fn group_info(&self, group: &Jid) -> Result<GroupInfo, EngineError>;
    /// Every group this account is in.
    async fn joined_groups(&self) -> Result<Vec<GroupInfo>, EngineError>;
    async fn update_group(&self, group: &Jid, settings: &GroupSettings) -> Result<(), EngineError>;
    /// The group's invite code; `reset` revokes the old one first.
    async fn group_invite(&self, group: &Jid, reset: bool) -> Result<String, EngineError>;
    async fn change_participants(
        &self,
        group: &Jid,
        action: ParticipantAction,
        members: &[Jid],
    ) -> Result<Vec<ParticipantOutcome>, EngineError>;
    /// Joins by invite code; answers the group's JID (also when already a member).
    async fn join_group(&self, code: &str) -> Result<Jid, EngineError>;
    async fn leave_group(&self, group: &Jid) -> Result<(), EngineError>;

    // Channels.
    async fn create_channel(
        &self,
        name: &str,
        description: Option<&str>,
    ) -> Result<ChannelInfo, EngineError>;
    /// Up to `count` messages, newest first, older than `before` (a server id) when given.
    async fn channel_messages(
        &self,
        channel: &Jid,
        count: u32,
        before: Option<u64>,
    ) -> Result<Vec<ChannelMessage>, EngineError>;
    async fn follow_channel(&self, channel: &Jid, follow: bool) -> Result<(), EngineError>;
    async fn mute_channel(&self, channel: &Jid, mute: bool) -> Result<(), EngineError>;
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

/// Serde helper: bytes as standard base64 (engine types cross the remote simnet wire as JSON).
pub(crate) mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}
