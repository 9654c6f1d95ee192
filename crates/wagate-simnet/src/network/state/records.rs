//! What the network stores besides phones and devices: messages, groups, channels, media blobs
//! and presence. All of it is part of the `--state` file.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use wagate_domain::engine::{InboundContent, MemberRole, PresenceState};

/// One message as the network carries it. DMs are stored with `to` = the recipient's phone JID.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredMessage {
    pub(crate) id: String,
    /// The author's number.
    pub(crate) from: String,
    /// The chat as the author addressed it: a phone JID, a group, a channel or `status@broadcast`.
    pub(crate) to: String,
    pub(crate) content: InboundContent,
    pub(crate) timestamp: i64,
    pub(crate) quoted_id: Option<String>,
    pub(crate) mentions: Vec<String>,
    pub(crate) forwarded: bool,
    /// Numbers it was delivered to (a blocked sender's DM reaches nobody).
    pub(crate) recipients: Vec<String>,
    pub(crate) read_by: BTreeSet<String>,
    pub(crate) edited: bool,
    pub(crate) deleted: bool,
    /// Reaction per number.
    pub(crate) reactions: BTreeMap<String, String>,
    /// Poll selection per number.
    pub(crate) votes: BTreeMap<String, Vec<String>>,
}

impl StoredMessage {
    /// The message another message acts on (edit, revoke, reaction, vote).
    pub(crate) fn target_id(&self) -> Option<&str> {
        target_of(&self.content)
    }

    /// Whether it shows as a message of its own in an inbox (edits, revokes, reactions and
    /// votes change their target instead).
    pub(crate) fn is_listed(&self) -> bool {
        self.target_id().is_none()
    }

    /// Whether `phone` may see it: the author or a recipient.
    pub(crate) fn visible_to(&self, phone: &str) -> bool {
        self.from == phone || self.recipients.iter().any(|r| r == phone)
    }
}

/// The message `content` acts on, if it is an edit, revoke, reaction or vote.
pub(crate) fn target_of(content: &InboundContent) -> Option<&str> {
    match content {
        InboundContent::Edit { target_id, .. }
        | InboundContent::Revoke { target_id }
        | InboundContent::Reaction { target_id, .. } => Some(target_id),
        InboundContent::PollVote { poll_id, .. } => Some(poll_id),
        _ => None,
    }
}

/// A group member.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Member {
    pub(crate) phone: String,
    pub(crate) role: MemberRole,
}

impl Member {
    pub(crate) fn is_admin(&self) -> bool {
        self.role != MemberRole::Member
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Group {
    pub(crate) jid: String,
    pub(crate) subject: String,
    pub(crate) description: Option<String>,
    /// The creator's number.
    pub(crate) owner: String,
    /// Only admins may send.
    pub(crate) announce: bool,
    /// Only admins may edit the group info.
    pub(crate) locked: bool,
    pub(crate) created_at: i64,
    /// In join order; the creator first.
    pub(crate) members: Vec<Member>,
    /// The current invite code, created on first request.
    pub(crate) invite: Option<String>,
    /// Codes that were reset (refused, like unknown ones).
    pub(crate) revoked_invites: Vec<String>,
}

impl Group {
    pub(crate) fn member(&self, phone: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.phone == phone)
    }

    pub(crate) fn is_admin(&self, phone: &str) -> bool {
        self.member(phone).is_some_and(Member::is_admin)
    }

    pub(crate) fn phones(&self) -> Vec<String> {
        self.members.iter().map(|m| m.phone.clone()).collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Channel {
    pub(crate) jid: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) owner: String,
    pub(crate) invite: String,
    pub(crate) followers: BTreeSet<String>,
    pub(crate) muted: BTreeSet<String>,
    /// Oldest first; `server_id`s count up from 1.
    pub(crate) posts: Vec<ChannelPost>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChannelPost {
    pub(crate) server_id: u64,
    pub(crate) id: String,
    pub(crate) timestamp: i64,
    pub(crate) message_type: String,
    pub(crate) text: Option<String>,
}

/// Media bytes stored when a message carrying them is sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Blob {
    #[serde(with = "crate::base64_serde")]
    pub(crate) data: Vec<u8>,
    pub(crate) mimetype: String,
}

/// An account's own availability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OwnPresenceState {
    pub(crate) available: bool,
    pub(crate) last_seen: Option<i64>,
}

impl Default for OwnPresenceState {
    fn default() -> Self {
        Self {
            available: true,
            last_seen: None,
        }
    }
}

/// The latest presence another account showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeenPresence {
    pub state: PresenceState,
    pub chat: Option<String>,
    pub recording: bool,
}
