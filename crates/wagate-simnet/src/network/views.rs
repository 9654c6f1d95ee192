//! What the control API shows of the network (camelCase JSON): messages as a phone received
//! them, phones, groups and channels.

use std::collections::BTreeMap;

use serde::Serialize;
use wagate_domain::engine::{InboundContent, PollSpec};

use super::state::records::{Channel, Group, StoredMessage};
use super::state::{body_of, chat_for};
use crate::codes;

/// A message as one phone sees it (`GET /_sim/phones/{phone}/inbox`, `GET /_sim/messages/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub id: String,
    /// The author's phone JID.
    pub from: String,
    /// The chat from this phone's side: the other party of a DM, else the group, channel or
    /// `status@broadcast`.
    pub chat: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Text, caption, poll question…; `null` once deleted.
    pub text: Option<String>,
    /// Epoch-ms.
    pub timestamp: i64,
    pub mentions: Vec<String>,
    pub quoted_id: Option<String>,
    pub forwarded: bool,
    pub edited: bool,
    pub deleted: bool,
    /// Whether this phone read it.
    pub read: bool,
    /// Reaction per reacting phone JID.
    pub reactions: BTreeMap<String, String>,
    /// Poll selection per voting phone JID.
    pub votes: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll: Option<PollSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<LocationView>,
    /// Phone JIDs it was delivered to and read by.
    pub delivered_to: Vec<String>,
    pub read_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaView {
    /// The blob id (`MediaRef.locator`).
    pub id: String,
    pub mimetype: Option<String>,
    pub size: Option<u64>,
    pub filename: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocationView {
    pub latitude: f64,
    pub longitude: f64,
}

impl MessageView {
    pub(crate) fn of(m: &StoredMessage, viewer: &str) -> Self {
        let jids = |phones: &mut dyn Iterator<Item = &String>| -> Vec<String> {
            phones.map(|p| codes::account_jid(p)).collect()
        };
        let keyed = |map: &BTreeMap<String, String>| {
            map.iter()
                .map(|(p, v)| (codes::account_jid(p), v.clone()))
                .collect()
        };
        Self {
            id: m.id.clone(),
            from: codes::account_jid(&m.from),
            chat: chat_for(m, viewer),
            kind: m.content.message_type().to_owned(),
            text: (!m.deleted)
                .then(|| body_of(&m.content).map(str::to_owned))
                .flatten(),
            timestamp: m.timestamp,
            mentions: m.mentions.clone(),
            quoted_id: m.quoted_id.clone(),
            forwarded: m.forwarded,
            edited: m.edited,
            deleted: m.deleted,
            read: m.read_by.contains(viewer),
            reactions: keyed(&m.reactions),
            votes: m
                .votes
                .iter()
                .map(|(p, v)| (codes::account_jid(p), v.clone()))
                .collect(),
            media: match &m.content {
                InboundContent::Media { media, .. } => Some(MediaView {
                    id: media.locator.clone(),
                    mimetype: media.mimetype.clone(),
                    size: media.size,
                    filename: media.filename.clone(),
                }),
                _ => None,
            },
            poll: match &m.content {
                InboundContent::Poll(poll) => Some(poll.clone()),
                _ => None,
            },
            location: match &m.content {
                InboundContent::Location {
                    latitude,
                    longitude,
                    ..
                } => Some(LocationView {
                    latitude: *latitude,
                    longitude: *longitude,
                }),
                _ => None,
            },
            delivered_to: jids(&mut m.recipients.iter()),
            read_by: jids(&mut m.read_by.iter()),
        }
    }
}

/// A phone (`GET /_sim/phones/{phone}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneView {
    pub phone: String,
    pub jid: String,
    pub lid: String,
    pub name: String,
    pub about: Option<String>,
    pub picture: Option<String>,
    pub available: bool,
    pub blocked: Vec<String>,
    pub contacts: Vec<String>,
    /// The latest presence other accounts showed this phone, by their JID.
    pub presences: BTreeMap<String, super::state::records::SeenPresence>,
}

/// A group (`GET /_sim/groups/{gid}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    pub gid: String,
    pub subject: String,
    pub description: Option<String>,
    pub owner: String,
    pub announce: bool,
    pub locked: bool,
    pub participants: Vec<MemberView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberView {
    pub jid: String,
    pub admin: bool,
}

impl GroupView {
    pub(crate) fn of(g: &Group) -> Self {
        Self {
            gid: g.jid.clone(),
            subject: g.subject.clone(),
            description: g.description.clone(),
            owner: codes::account_jid(&g.owner),
            announce: g.announce,
            locked: g.locked,
            participants: g
                .members
                .iter()
                .map(|m| MemberView {
                    jid: codes::account_jid(&m.phone),
                    admin: m.is_admin(),
                })
                .collect(),
        }
    }
}

/// A channel (`GET /_sim/channels/{jid}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelView {
    pub jid: String,
    pub name: String,
    pub description: Option<String>,
    pub owner: String,
    pub invite: String,
    pub followers: Vec<String>,
    pub muted: Vec<String>,
    pub posts: usize,
}

impl ChannelView {
    pub(crate) fn of(c: &Channel) -> Self {
        let jids = |set: &std::collections::BTreeSet<String>| {
            set.iter().map(|p| codes::account_jid(p)).collect()
        };
        Self {
            jid: c.jid.clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            owner: codes::account_jid(&c.owner),
            invite: c.invite.clone(),
            followers: jids(&c.followers),
            muted: jids(&c.muted),
            posts: c.posts.len(),
        }
    }
}
