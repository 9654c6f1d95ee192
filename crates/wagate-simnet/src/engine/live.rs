//! The live operations of an engine connection, shared by the in-process and the remote sim
//! engine: both only know how to run an [`Op`]; [`LiveClient`] turns every
//! [`EngineClient`] method into one and checks the answer's kind.

use async_trait::async_trait;
use wagate_domain::Jid;
use wagate_domain::engine::{
    ChannelInfo, ChannelMessage, ChatPresence, EngineClient, EngineError, GroupInfo, GroupSettings,
    MediaRef, MessageKey, OnWhatsApp, OutgoingMessage, OwnPresence, ParticipantAction,
    ParticipantOutcome, PollSpec, ProfilePicture, SentMessage, StatusPost,
};

use crate::{Op, OpResult};

/// One connection that can run operations (in process, or over HTTP).
#[async_trait]
pub(crate) trait Transport: Send + Sync + 'static {
    /// Closes the connection, keeping the pairing.
    async fn close(&self);
    /// Unlinks the device and closes the connection.
    async fn logout_device(&self) -> Result<(), EngineError>;
    /// Runs one live operation for this connection.
    async fn run(&self, op: Op) -> Result<OpResult, EngineError>;
}

/// An [`EngineClient`] over a [`Transport`].
pub(crate) struct LiveClient<T>(pub(crate) T);

fn unexpected(result: &OpResult) -> EngineError {
    EngineError::Other(format!("simnet answered {} unexpectedly", result.kind()))
}

/// Picks the expected kind of answer out of an [`OpResult`].
macro_rules! expect {
    ($call:expr, $pattern:pat => $value:expr) => {
        match $call.await? {
            $pattern => Ok($value),
            other => Err(unexpected(&other)),
        }
    };
}

#[async_trait]
impl<T: Transport> EngineClient for LiveClient<T> {
    async fn disconnect(&self) {
        self.0.close().await;
    }

    async fn logout(&self) -> Result<(), EngineError> {
        self.0.logout_device().await
    }

    async fn send(&self, message: OutgoingMessage) -> Result<SentMessage, EngineError> {
        expect!(self.0.run(Op::Send { message }), OpResult::Sent(s) => s)
    }

    async fn edit(&self, target: &MessageKey, text: &str) -> Result<SentMessage, EngineError> {
        let op = Op::Edit {
            target: target.clone(),
            text: text.to_owned(),
        };
        expect!(self.0.run(op), OpResult::Sent(s) => s)
    }

    async fn revoke(&self, target: &MessageKey) -> Result<SentMessage, EngineError> {
        let op = Op::Revoke {
            target: target.clone(),
        };
        expect!(self.0.run(op), OpResult::Sent(s) => s)
    }

    async fn react(&self, target: &MessageKey, emoji: &str) -> Result<SentMessage, EngineError> {
        let op = Op::React {
            target: target.clone(),
            emoji: emoji.to_owned(),
        };
        expect!(self.0.run(op), OpResult::Sent(s) => s)
    }

    async fn vote(
        &self,
        target: &MessageKey,
        poll: &PollSpec,
        selected: &[String],
    ) -> Result<SentMessage, EngineError> {
        let op = Op::Vote {
            target: target.clone(),
            poll: poll.clone(),
            selected: selected.to_vec(),
        };
        expect!(self.0.run(op), OpResult::Sent(s) => s)
    }

    async fn mark_read(
        &self,
        chat: &Jid,
        sender: Option<&Jid>,
        ids: &[String],
    ) -> Result<(), EngineError> {
        let op = Op::MarkRead {
            chat: chat.clone(),
            sender: sender.cloned(),
            ids: ids.to_vec(),
        };
        expect!(self.0.run(op), OpResult::Done => ())
    }

    async fn post_status(&self, post: StatusPost) -> Result<SentMessage, EngineError> {
        expect!(self.0.run(Op::PostStatus { post }), OpResult::Sent(s) => s)
    }

    async fn download(&self, media: &MediaRef) -> Result<Vec<u8>, EngineError> {
        let op = Op::Download {
            media: media.clone(),
        };
        expect!(self.0.run(op), OpResult::Bytes(b) => b)
    }

    async fn set_presence(&self, presence: OwnPresence) -> Result<(), EngineError> {
        expect!(self.0.run(Op::SetPresence { presence }), OpResult::Done => ())
    }

    async fn set_chat_presence(&self, chat: &Jid, state: ChatPresence) -> Result<(), EngineError> {
        let op = Op::SetChatPresence {
            chat: chat.clone(),
            state,
        };
        expect!(self.0.run(op), OpResult::Done => ())
    }

    async fn subscribe_presence(&self, jid: &Jid) -> Result<(), EngineError> {
        let op = Op::SubscribePresence { jid: jid.clone() };
        expect!(self.0.run(op), OpResult::Done => ())
    }

    async fn check_phones(&self, phones: &[String]) -> Result<Vec<OnWhatsApp>, EngineError> {
        let op = Op::CheckPhones {
            phones: phones.to_vec(),
        };
        expect!(self.0.run(op), OpResult::Phones(p) => p)
    }

    async fn profile_picture(&self, jid: &Jid) -> Result<ProfilePicture, EngineError> {
        let op = Op::ProfilePicture { jid: jid.clone() };
        expect!(self.0.run(op), OpResult::Picture(p) => p)
    }

    async fn about(&self, jid: &Jid) -> Result<Option<String>, EngineError> {
        let op = Op::About { jid: jid.clone() };
        expect!(self.0.run(op), OpResult::About(a) => a)
    }

    async fn set_blocked(&self, jid: &Jid, blocked: bool) -> Result<(), EngineError> {
        let op = Op::SetBlocked {
            jid: jid.clone(),
            blocked,
        };
        expect!(self.0.run(op), OpResult::Done => ())
    }

    async fn create_group(
        &self,
        subject: &str,
        participants: &[Jid],
    ) -> Result<GroupInfo, EngineError> {
        let op = Op::CreateGroup {
            subject: subject.to_owned(),
            participants: participants.to_vec(),
        };
        expect!(self.0.run(op), OpResult::Group(g) => g)
    }

    async fn group_info(&self, group: &Jid) -> Result<GroupInfo, EngineError> {
        let op = Op::GroupInfo {
            group: group.clone(),
        };
        expect!(self.0.run(op), OpResult::Group(g) => g)
    }

    async fn joined_groups(&self) -> Result<Vec<GroupInfo>, EngineError> {
        expect!(self.0.run(Op::JoinedGroups), OpResult::Groups(g) => g)
    }

    async fn update_group(&self, group: &Jid, settings: &GroupSettings) -> Result<(), EngineError> {
        let op = Op::UpdateGroup {
            group: group.clone(),
            settings: settings.clone(),
        };
        expect!(self.0.run(op), OpResult::Done => ())
    }

    async fn group_invite(&self, group: &Jid, reset: bool) -> Result<String, EngineError> {
        let op = Op::GroupInvite {
            group: group.clone(),
            reset,
        };
        expect!(self.0.run(op), OpResult::Invite(code) => code)
    }

    async fn change_participants(
        &self,
        group: &Jid,
        action: ParticipantAction,
        members: &[Jid],
    ) -> Result<Vec<ParticipantOutcome>, EngineError> {
        let op = Op::ChangeParticipants {
            group: group.clone(),
            action,
            members: members.to_vec(),
        };
        expect!(self.0.run(op), OpResult::Outcomes(o) => o)
    }

    async fn join_group(&self, code: &str) -> Result<Jid, EngineError> {
        let op = Op::JoinGroup {
            code: code.to_owned(),
        };
        expect!(self.0.run(op), OpResult::Jid(j) => j)
    }

    async fn leave_group(&self, group: &Jid) -> Result<(), EngineError> {
        let op = Op::LeaveGroup {
            group: group.clone(),
        };
        expect!(self.0.run(op), OpResult::Done => ())
    }

    async fn create_channel(
        &self,
        name: &str,
        description: Option<&str>,
    ) -> Result<ChannelInfo, EngineError> {
        let op = Op::CreateChannel {
            name: name.to_owned(),
            description: description.map(str::to_owned),
        };
        expect!(self.0.run(op), OpResult::Channel(c) => c)
    }

    async fn channel_messages(
        &self,
        channel: &Jid,
        count: u32,
        before: Option<u64>,
    ) -> Result<Vec<ChannelMessage>, EngineError> {
        let op = Op::ChannelMessages {
            channel: channel.clone(),
            count,
            before,
        };
        expect!(self.0.run(op), OpResult::ChannelMessages(m) => m)
    }

    async fn follow_channel(&self, channel: &Jid, follow: bool) -> Result<(), EngineError> {
        let op = Op::FollowChannel {
            channel: channel.clone(),
            follow,
        };
        expect!(self.0.run(op), OpResult::Done => ())
    }

    async fn mute_channel(&self, channel: &Jid, mute: bool) -> Result<(), EngineError> {
        let op = Op::MuteChannel {
            channel: channel.clone(),
            mute,
        };
        expect!(self.0.run(op), OpResult::Done => ())
    }
}
