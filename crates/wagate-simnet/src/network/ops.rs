//! Live operations as data: one [`Op`] per [`EngineClient`](wagate_domain::EngineClient) method
//! and one [`OpResult`] per kind of answer. The in-process engine, the remote engine's wire and
//! the control API's `…/ops` endpoint all run them through [`Network::perform`](super::Network::perform),
//! so the three behave the same by construction.

use serde::{Deserialize, Serialize};
use wagate_domain::Jid;
use wagate_domain::engine::{
    ChannelInfo, ChannelMessage, ChatPresence, GroupInfo, GroupSettings, MediaRef, MessageKey,
    OnWhatsApp, OutgoingMessage, OwnPresence, ParticipantAction, ParticipantOutcome, PollSpec,
    ProfilePicture, SentMessage, StatusPost,
};

use crate::ConnectionId;

/// Who performs an operation: a session's live connection (a linked device) or the phone itself
/// (the control API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The connection must still be the session's connected one.
    Session {
        session: String,
        connection: ConnectionId,
    },
    /// The phone with this number.
    Phone(String),
}

/// One live operation (serde: tagged by `op`, camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum Op {
    Send {
        message: OutgoingMessage,
    },
    Edit {
        target: MessageKey,
        text: String,
    },
    Revoke {
        target: MessageKey,
    },
    React {
        target: MessageKey,
        emoji: String,
    },
    Vote {
        target: MessageKey,
        poll: PollSpec,
        selected: Vec<String>,
    },
    MarkRead {
        chat: Jid,
        sender: Option<Jid>,
        ids: Vec<String>,
    },
    PostStatus {
        post: StatusPost,
    },
    Download {
        media: MediaRef,
    },
    SetPresence {
        presence: OwnPresence,
    },
    SetChatPresence {
        chat: Jid,
        state: ChatPresence,
    },
    SubscribePresence {
        jid: Jid,
    },
    CheckPhones {
        phones: Vec<String>,
    },
    ProfilePicture {
        jid: Jid,
    },
    About {
        jid: Jid,
    },
    SetBlocked {
        jid: Jid,
        blocked: bool,
    },
    CreateGroup {
        subject: String,
        participants: Vec<Jid>,
    },
    GroupInfo {
        group: Jid,
    },
    JoinedGroups,
    UpdateGroup {
        group: Jid,
        settings: GroupSettings,
    },
    GroupInvite {
        group: Jid,
        reset: bool,
    },
    ChangeParticipants {
        group: Jid,
        action: ParticipantAction,
        members: Vec<Jid>,
    },
    JoinGroup {
        code: String,
    },
    LeaveGroup {
        group: Jid,
    },
    CreateChannel {
        name: String,
        description: Option<String>,
    },
    ChannelMessages {
        channel: Jid,
        count: u32,
        before: Option<u64>,
    },
    FollowChannel {
        channel: Jid,
        follow: bool,
    },
    MuteChannel {
        channel: Jid,
        mute: bool,
    },
}

/// The answer to an [`Op`] (serde: `{"result": kind, "value": …}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", content = "value", rename_all = "camelCase")]
pub enum OpResult {
    Done,
    Sent(SentMessage),
    Bytes(#[serde(with = "crate::base64_serde")] Vec<u8>),
    Phones(Vec<OnWhatsApp>),
    Picture(ProfilePicture),
    About(Option<String>),
    Group(GroupInfo),
    Groups(Vec<GroupInfo>),
    Invite(String),
    Outcomes(Vec<ParticipantOutcome>),
    Jid(Jid),
    Channel(ChannelInfo),
    ChannelMessages(Vec<ChannelMessage>),
}

impl OpResult {
    /// The result's kind, for "unexpected answer" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Sent(_) => "sent",
            Self::Bytes(_) => "bytes",
            Self::Phones(_) => "phones",
            Self::Picture(_) => "picture",
            Self::About(_) => "about",
            Self::Group(_) => "group",
            Self::Groups(_) => "groups",
            Self::Invite(_) => "invite",
            Self::Outcomes(_) => "outcomes",
            Self::Jid(_) => "jid",
            Self::Channel(_) => "channel",
            Self::ChannelMessages(_) => "channelMessages",
        }
    }
}

#[cfg(test)]
mod tests {
    use wagate_domain::engine::{MediaKind, OutgoingContent, OutgoingMedia};

    use super::*;

    fn media() -> OutgoingMedia {
        OutgoingMedia {
            kind: MediaKind::Image,
            data: vec![1, 2, 3],
            mimetype: "image/png".to_owned(),
            caption: Some("c".to_owned()),
            filename: None,
        }
    }

    #[test]
    fn media_sends_and_image_status_posts_round_trip() {
        let to = Jid::parse("628123@s.whatsapp.net").unwrap();
        for op in [
            Op::Send {
                message: OutgoingMessage::new(to.clone(), OutgoingContent::Media(media())),
            },
            Op::Send {
                message: OutgoingMessage::new(
                    to,
                    OutgoingContent::Album {
                        items: vec![media(), media()],
                        caption: None,
                    },
                ),
            },
            Op::PostStatus {
                post: StatusPost::Image(media()),
            },
            Op::JoinedGroups,
        ] {
            let json = serde_json::to_string(&op).unwrap();
            assert_eq!(serde_json::from_str::<Op>(&json).unwrap(), op, "{json}");
        }
    }
}
