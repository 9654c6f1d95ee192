//! Results and arguments of live operations other than sending: contacts, presence, groups,
//! channels.

use serde::{Deserialize, Serialize};

use crate::Jid;

/// Is a phone number on WhatsApp (api.md §2.8 `OnWhatsApp`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnWhatsApp {
    /// The number as queried.
    pub query: String,
    pub jid: Option<Jid>,
    pub is_on_whatsapp: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProfilePicture {
    pub url: Option<String>,
    pub id: Option<String>,
}

/// This account's own presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnPresence {
    Available,
    Unavailable,
}

/// A typing indicator in one chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatPresence {
    Composing,
    Paused,
    /// Recording a voice note ("composing audio").
    Recording,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    Member,
    Admin,
    Superadmin,
}

impl MemberRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Admin => "admin",
            Self::Superadmin => "superadmin",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupParticipant {
    pub jid: Jid,
    /// The member's phone JID when the group addresses members by LID.
    pub phone: Option<Jid>,
    pub role: MemberRole,
}

/// A group as the network describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    pub jid: Jid,
    pub subject: Option<String>,
    pub description: Option<String>,
    pub owner: Option<Jid>,
    pub announce: bool,
    pub locked: bool,
    /// Epoch-ms.
    pub created_at: Option<i64>,
    pub participants: Vec<GroupParticipant>,
}

/// Group settings to change; `None` = unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GroupSettings {
    pub subject: Option<String>,
    /// `Some("")` clears the description.
    pub description: Option<String>,
    pub announce: Option<bool>,
    pub locked: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantAction {
    Add,
    Remove,
    Promote,
    Demote,
}

/// The network's answer for one participant of a membership change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantOutcome {
    pub jid: Jid,
    /// `None` = done; otherwise WhatsApp's error code (403 not allowed, 404 not on WhatsApp,
    /// 409 already a member…).
    pub error: Option<u16>,
}

/// A channel (newsletter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelInfo {
    pub jid: Jid,
    pub name: String,
    pub description: Option<String>,
    pub invite: Option<String>,
    pub subscribers: Option<u64>,
}

/// One message of a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelMessage {
    /// The server id of the message within the channel.
    pub server_id: u64,
    pub id: Option<String>,
    pub timestamp: i64,
    pub message_type: String,
    pub text: Option<String>,
    pub views: Option<u64>,
}
