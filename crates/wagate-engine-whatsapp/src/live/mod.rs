//! The port's live operations on an open connection ([`LinkHandle`] as `EngineClient`),
//! one module per area. Each operation translates its arguments (`outbound`, `jids`), calls
//! the crate, and maps failures through `errors` (decisions.md D3).

mod channels;
pub(crate) mod groups;
pub(crate) mod messages;
mod people;

use async_trait::async_trait;
use wagate_domain::Jid;
use wagate_domain::engine::{
    ChannelInfo, ChannelMessage, ChatPresence, EngineClient, EngineError, GroupInfo, GroupSettings,
    MediaRef, MessageKey, OnWhatsApp, OutgoingMessage, OwnPresence, ParticipantAction,
    ParticipantOutcome, PollSpec, ProfilePicture, SentMessage, StatusPost,
};

use crate::connection::LinkHandle;

#[async_trait]
impl EngineClient for LinkHandle {
    async fn disconnect(&self) {
        self.stop().await;
    }

    async fn logout(&self) -> Result<(), EngineError> {
        self.unlink().await
    }

    async fn send(&self, message: OutgoingMessage) -> Result<SentMessage, EngineError> {
        messages::send(self.client(), self.polls(), message).await
    }

    async fn edit(&self, target: &MessageKey, text: &str) -> Result<SentMessage, EngineError> {
        messages::edit(self.client(), target, text).await
    }

    async fn revoke(&self, target: &MessageKey) -> Result<SentMessage, EngineError> {
        messages::revoke(self.client(), target).await
    }

    async fn react(&self, target: &MessageKey, emoji: &str) -> Result<SentMessage, EngineError> {
        messages::react(self.client(), target, emoji).await
    }

    async fn vote(
        &self,
        target: &MessageKey,
        poll: &PollSpec,
        selected: &[String],
    ) -> Result<SentMessage, EngineError> {
        messages::vote(self.client(), self.polls(), target, poll, selected).await
    }

    async fn mark_read(
        &self,
        chat: &Jid,
        sender: Option<&Jid>,
        ids: &[String],
    ) -> Result<(), EngineError> {
        messages::mark_read(self.client(), chat, sender, ids).await
    }

    async fn post_status(&self, post: StatusPost) -> Result<SentMessage, EngineError> {
        messages::post_status(self.client(), post).await
    }

    async fn download(&self, media: &MediaRef) -> Result<Vec<u8>, EngineError> {
        messages::download(self.client(), media).await
    }

    async fn set_presence(&self, presence: OwnPresence) -> Result<(), EngineError> {
        people::set_presence(self.client(), presence).await
    }

    async fn set_chat_presence(&self, chat: &Jid, state: ChatPresence) -> Result<(), EngineError> {
        people::set_chat_presence(self.client(), chat, state).await
    }

    async fn subscribe_presence(&self, jid: &Jid) -> Result<(), EngineError> {
        people::subscribe_presence(self.client(), jid).await
    }

    async fn check_phones(&self, phones: &[String]) -> Result<Vec<OnWhatsApp>, EngineError> {
        people::check_phones(self.client(), phones).await
    }

    async fn profile_picture(&self, jid: &Jid) -> Result<ProfilePicture, EngineError> {
        people::profile_picture(self.client(), jid).await
    }

    async fn about(&self, jid: &Jid) -> Result<Option<String>, EngineError> {
        people::about(self.client(), jid).await
    }

    async fn set_blocked(&self, jid: &Jid, blocked: bool) -> Result<(), EngineError> {
        people::set_blocked(self.client(), jid, blocked).await
    }

    async fn create_group(
        &self,
        subject: &str,
        participants: &[Jid],
    ) -> Result<GroupInfo, EngineError> {
        groups::create(self.client(), subject, participants).await
    }

    async fn group_info(&self, group: &Jid) -> Result<GroupInfo, EngineError> {
        groups::info(self.client(), group).await
    }

    async fn joined_groups(&self) -> Result<Vec<GroupInfo>, EngineError> {
        groups::joined(self.client()).await
    }

    async fn update_group(&self, group: &Jid, settings: &GroupSettings) -> Result<(), EngineError> {
        groups::update(self.client(), group, settings).await
    }

    async fn group_invite(&self, group: &Jid, reset: bool) -> Result<String, EngineError> {
        groups::invite(self.client(), group, reset).await
    }

    async fn change_participants(
        &self,
        group: &Jid,
        action: ParticipantAction,
        members: &[Jid],
    ) -> Result<Vec<ParticipantOutcome>, EngineError> {
        groups::change_participants(self.client(), group, action, members).await
    }

    async fn join_group(&self, code: &str) -> Result<Jid, EngineError> {
        groups::join(self.client(), code).await
    }

    async fn leave_group(&self, group: &Jid) -> Result<(), EngineError> {
        groups::leave(self.client(), group).await
    }

    async fn create_channel(
        &self,
        name: &str,
        description: Option<&str>,
    ) -> Result<ChannelInfo, EngineError> {
        channels::create(self.client(), name, description).await
    }

    async fn channel_messages(
        &self,
        channel: &Jid,
        count: u32,
        before: Option<u64>,
    ) -> Result<Vec<ChannelMessage>, EngineError> {
        channels::messages(self.client(), channel, count, before).await
    }

    async fn follow_channel(&self, channel: &Jid, follow: bool) -> Result<(), EngineError> {
        channels::follow(self.client(), channel, follow).await
    }

    async fn mute_channel(&self, channel: &Jid, mute: bool) -> Result<(), EngineError> {
        channels::mute(self.client(), channel, mute).await
    }
}
