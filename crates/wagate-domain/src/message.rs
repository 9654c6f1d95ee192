//! Chats, messages and identities as stored per session (domain.md §5–§7).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{ChatKind, MediaRef, MessageId, SessionId};

/// One conversation of a session, with its read-time name and aliases resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chat {
    pub id: i64,
    pub session_id: SessionId,
    pub jid: String,
    pub kind: ChatKind,
    pub name: Option<String>,
    /// DMs: `[lid, phone_jid]` of the matched identity.
    pub aliases: Vec<String>,
    pub last_message_at: Option<i64>,
    pub unread_count: i64,
    pub archived: bool,
    pub pinned: bool,
    pub muted_until: Option<i64>,
}

/// User flags of `updateChat`; `None` = unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatPatch {
    pub archived: Option<bool>,
    pub pinned: Option<bool>,
    /// `Some(None)` clears the mute.
    pub muted_until: Option<Option<i64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::In => "in",
            Self::Out => "out",
        }
    }
}

/// Delivery state of a message (domain.md §6.1): moves only forward; `failed` is terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    Pending,
    Sent,
    Delivered,
    Read,
    Played,
    Failed,
}

impl MessageStatus {
    pub const ALL: [Self; 6] = [
        Self::Pending,
        Self::Sent,
        Self::Delivered,
        Self::Read,
        Self::Played,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Played => "played",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The order receipts advance in; `failed` ranks above all so nothing overrides it.
    pub fn rank(self) -> u8 {
        match self {
            Self::Pending => 1,
            Self::Sent => 2,
            Self::Delivered => 3,
            Self::Read => 4,
            Self::Played => 5,
            Self::Failed => 6,
        }
    }
}

/// Media metadata kept with a message (never the bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaMeta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mimetype: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// A message to store. Writers are idempotent by `(session, wa_message_id)`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub id: MessageId,
    pub session_id: SessionId,
    pub wa_message_id: String,
    pub chat_jid: String,
    pub sender_lid: Option<String>,
    pub sender_jid: Option<String>,
    pub from_me: bool,
    pub message_type: String,
    pub body: Option<String>,
    pub quoted_message_id: Option<String>,
    pub mentions: Option<Vec<String>>,
    pub media: Option<MediaMeta>,
    /// Where the engine can fetch inbound media; internal, never exposed.
    pub media_ref: Option<MediaRef>,
    pub status: Option<MessageStatus>,
    pub timestamp: i64,
    pub created_at: i64,
}

/// A stored message with its read-time joins.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMessage {
    pub id: MessageId,
    pub session_id: SessionId,
    pub wa_message_id: String,
    pub chat_jid: String,
    pub sender_lid: Option<String>,
    pub sender_jid: Option<String>,
    pub sender_name: Option<String>,
    pub from_me: bool,
    pub message_type: String,
    pub body: Option<String>,
    pub quoted_message_id: Option<String>,
    pub mentions: Option<Vec<String>>,
    pub mention_names: BTreeMap<String, String>,
    pub media: Option<MediaMeta>,
    pub media_ref: Option<MediaRef>,
    pub status: Option<MessageStatus>,
    pub error: Option<String>,
    pub edited: bool,
    pub deleted: bool,
    pub timestamp: i64,
    pub created_at: i64,
}

impl StoredMessage {
    pub fn direction(&self) -> Direction {
        if self.from_me {
            Direction::Out
        } else {
            Direction::In
        }
    }
}

/// What an inbound or outbound message does to its chat row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatTouch {
    pub session_id: SessionId,
    pub jid: String,
    pub kind: ChatKind,
    /// DMs: the peer's push name at the last inbound message.
    pub name: Option<String>,
    pub last_message_at: i64,
    /// Count the message as unread (inbound content from someone else).
    pub unread: bool,
}

/// A person, across sessions (domain.md §7.1), keyed by LID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: i64,
    pub lid: String,
    pub phone_number: Option<String>,
    pub phone_jid: Option<String>,
    pub name: Option<String>,
    pub business_name: Option<String>,
    pub first_seen_at: i64,
    pub updated_at: i64,
}

/// What is learned about a person; every field is COALESCEd into the stored identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityUpdate {
    pub lid: String,
    pub phone_jid: Option<String>,
    pub name: Option<String>,
    pub business_name: Option<String>,
}

/// A session's contact: an identity it has a DM with or shares a group with (domain.md §7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub identity: Identity,
    /// A DM chat exists.
    pub dm: bool,
}
