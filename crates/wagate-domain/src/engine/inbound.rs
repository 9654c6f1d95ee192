//! What an engine reports besides connection state: messages, receipts, presence, group and
//! contact updates, history sync. All JIDs are as the network gave them; the inbound pipeline
//! canonicalizes and maps LIDs to phone numbers.

use serde::{Deserialize, Serialize};

use crate::Jid;
use crate::engine::{GroupInfo, MediaKind, PollSpec};

/// Where inbound media can be fetched from. `locator` is engine-specific and opaque to the rest
/// of wagate (stored as is, handed back to [`crate::EngineClient::download`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRef {
    pub kind: MediaKind,
    pub mimetype: Option<String>,
    pub size: Option<u64>,
    pub filename: Option<String>,
    pub locator: String,
}

/// The body of an inbound message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InboundContent {
    Text {
        text: String,
    },
    Media {
        media: MediaRef,
        caption: Option<String>,
    },
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
    },
    Contact {
        display_name: String,
        vcard: String,
    },
    Poll(PollSpec),
    /// A vote on a poll; `selected` are option texts when the engine could decrypt them.
    PollVote {
        poll_id: String,
        selected: Vec<String>,
    },
    /// `emoji` empty = the reaction was removed.
    Reaction {
        target_id: String,
        emoji: String,
    },
    Edit {
        target_id: String,
        text: String,
    },
    Revoke {
        target_id: String,
    },
    /// Anything wagate does not model yet; `kind` names it.
    Other {
        kind: String,
    },
}

impl InboundContent {
    /// The contract's message `type`.
    pub fn message_type(&self) -> &str {
        match self {
            Self::Text { .. } => "text",
            Self::Media { media, .. } => media.kind.message_type(),
            Self::Location { .. } => "location",
            Self::Contact { .. } => "contact",
            Self::Poll(_) => "poll",
            Self::PollVote { .. } => "poll_vote",
            Self::Reaction { .. } => "reaction",
            Self::Edit { .. } => "edit",
            Self::Revoke { .. } => "revoke",
            Self::Other { kind } => kind,
        }
    }
}

/// One message seen by the session (from others, or sent by this account on another device).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    pub id: String,
    pub chat: Jid,
    /// The author (for DMs the peer, or this account when `from_me`).
    pub sender: Jid,
    /// The author's other address when the network shares it (LID ↔ phone JID).
    pub sender_alt: Option<Jid>,
    pub push_name: Option<String>,
    pub from_me: bool,
    /// Epoch-ms.
    pub timestamp: i64,
    pub content: InboundContent,
    pub quoted_id: Option<String>,
    pub mentions: Vec<Jid>,
    pub forwarded: bool,
}

/// How far a message got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    Delivered,
    Read,
    Played,
}

/// Receipts for messages this account sent (or, from its other devices, read marks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub chat: Jid,
    /// Who produced the receipt.
    pub sender: Jid,
    pub ids: Vec<String>,
    pub kind: ReceiptKind,
    pub timestamp: i64,
}

/// A presence state (api.md §2.8 `PresenceStatus.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceState {
    Unknown,
    Available,
    Unavailable,
    Composing,
    Paused,
}

impl PresenceState {
    /// The contract's wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Available => "available",
            Self::Unavailable => "unavailable",
            Self::Composing => "composing",
            Self::Paused => "paused",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceUpdate {
    pub from: Jid,
    /// The chat a typing indicator applies to.
    pub chat: Option<Jid>,
    pub state: PresenceState,
    /// Recording a voice note.
    pub recording: bool,
    pub last_seen: Option<i64>,
}

/// A change to a group, as the network announces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GroupChange {
    /// Joined or created; the full state.
    Joined(GroupInfo),
    Subject {
        subject: String,
    },
    Description {
        description: Option<String>,
    },
    Announce {
        on: bool,
    },
    Locked {
        on: bool,
    },
    Added {
        members: Vec<Jid>,
    },
    Removed {
        members: Vec<Jid>,
    },
    Promoted {
        members: Vec<Jid>,
    },
    Demoted {
        members: Vec<Jid>,
    },
    /// This account left or was removed.
    Left,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupUpdate {
    pub group: Jid,
    pub actor: Option<Jid>,
    pub timestamp: i64,
    pub change: GroupChange,
}

/// What the network tells about a person: names and the LID ↔ phone mapping.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContactUpdate {
    pub lid: Option<Jid>,
    pub phone: Option<Jid>,
    pub name: Option<String>,
    pub business_name: Option<String>,
}

/// One chunk of history sync. Engines bound its size; the pipeline persists and drops it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryChunk {
    pub messages: Vec<InboundMessage>,
    pub contacts: Vec<ContactUpdate>,
    /// 0–100 when the network reports progress.
    pub progress: Option<u8>,
}
