//! The network's live operations: [`Network::perform`] runs an [`Op`] for an [`Actor`], and
//! the control API's phone-side helpers (send, read, presence, inbox, groups, redelivery).

use wagate_domain::Jid;
use wagate_domain::engine::{
    ChatPresence, InboundContent, MessageKey, OutgoingContent, OutgoingMedia, OutgoingMessage,
    OwnPresence, PresenceState, SentMessage, StatusPost,
};

use super::Network;
use super::ops::{Actor, Op, OpResult};
use super::state::{Acting, Draft, State, known_jid};
use super::views::{ChannelView, GroupView, MessageView, PhoneView};
use crate::SimError;
use crate::codes::validate_phone;

impl Network {
    /// Runs one live operation as `actor`, atomically. A session actor must be connected on
    /// that connection ([`SimError::Offline`] otherwise).
    pub fn perform(&self, actor: &Actor, op: Op) -> Result<OpResult, SimError> {
        let mut state = self.lock();
        let acting = state.acting(actor)?;
        run(&mut state, &acting, op)
    }

    /// The phone sends a message (control API): `draft.to` a user, group, channel or
    /// `status@broadcast`.
    pub(crate) fn send_as_phone(&self, phone: &str, draft: Draft) -> Result<SentMessage, SimError> {
        let phone = validate_phone(phone)?;
        let mut state = self.lock();
        let acting = state.acting(&Actor::Phone(phone.to_owned()))?;
        state.deliver(&acting, draft)
    }

    /// Stores media for a message the phone is about to send.
    pub(crate) fn store_media(&self, media: OutgoingMedia) -> InboundContent {
        media_content(&mut self.lock(), media)
    }

    /// The phone reads messages of `chat` (control API): unknown ids are not found.
    pub fn read_as_phone(&self, phone: &str, chat: &Jid, ids: &[String]) -> Result<(), SimError> {
        let phone = validate_phone(phone)?;
        let mut state = self.lock();
        let acting = state.acting(&Actor::Phone(phone.to_owned()))?;
        state.mark_read(&acting, chat, ids, true)
    }

    /// What the phone received, oldest first.
    pub fn inbox(&self, phone: &str) -> Result<Vec<MessageView>, SimError> {
        self.lock().inbox(validate_phone(phone)?)
    }

    /// One stored message, as its author sees it.
    pub fn message(&self, id: &str) -> Result<MessageView, SimError> {
        self.lock().message(id)
    }

    /// The phone's profile, block list, contacts and the presence others showed it.
    pub fn phone_view(&self, phone: &str) -> Result<PhoneView, SimError> {
        self.lock().phone_view(validate_phone(phone)?)
    }

    /// Changes the phone's name, about text (`Some(None)` clears it) or picture.
    pub fn update_phone(
        &self,
        phone: &str,
        name: Option<String>,
        about: Option<Option<String>>,
        picture: Option<bool>,
    ) -> Result<(), SimError> {
        let phone = validate_phone(phone)?;
        if name
            .as_deref()
            .is_some_and(|n| n.trim().is_empty() || n.chars().count() > 100)
        {
            return Err(SimError::Invalid(
                "name must be 1 to 100 characters".to_owned(),
            ));
        }
        self.lock().update_phone(phone, name, about, picture)
    }

    /// The group as the network sees it.
    pub fn group(&self, gid: &str) -> Result<GroupView, SimError> {
        self.lock().group_view(gid)
    }

    /// The group's current invite code (created if none); `reset` revokes the old one.
    pub fn group_invite(&self, gid: &str, reset: bool) -> Result<String, SimError> {
        self.lock().invite(gid, reset)
    }

    /// The channel as the network sees it.
    pub fn channel(&self, jid: &str) -> Result<ChannelView, SimError> {
        self.lock().channel_view(jid)
    }

    /// Sends stored message `id` to `session`'s live connection once more.
    pub fn redeliver(&self, session: &str, id: &str) -> Result<(), SimError> {
        self.lock().redeliver(session, id)
    }
}

/// Dispatches one operation; the state methods hold the rules.
fn run(state: &mut State, acting: &Acting, op: Op) -> Result<OpResult, SimError> {
    let done = |()| OpResult::Done;
    match op {
        Op::Send { message } => send(state, acting, message).map(OpResult::Sent),
        Op::Edit { target, text } => modify(state, acting, target, |target_id| {
            InboundContent::Edit { target_id, text }
        }),
        Op::Revoke { target } => modify(state, acting, target, |target_id| {
            InboundContent::Revoke { target_id }
        }),
        Op::React { target, emoji } => modify(state, acting, target, |target_id| {
            InboundContent::Reaction { target_id, emoji }
        }),
        // The network knows the poll; the caller's copy is for engines that must encode votes.
        Op::Vote {
            target, selected, ..
        } => modify(state, acting, target, |poll_id| InboundContent::PollVote {
            poll_id,
            selected,
        }),
        Op::MarkRead { chat, ids, .. } => state.mark_read(acting, &chat, &ids, false).map(done),
        Op::PostStatus { post } => {
            let content = match post {
                StatusPost::Text { text, .. } => InboundContent::Text { text },
                StatusPost::Image(media) => media_content(state, media),
            };
            let to = known_jid(wagate_domain::jid::STATUS_BROADCAST);
            state
                .deliver(acting, Draft::new(to, content))
                .map(OpResult::Sent)
        }
        Op::Download { media } => state.download(&media).map(OpResult::Bytes),
        Op::SetPresence { presence } => {
            state.set_presence(acting, presence == OwnPresence::Available);
            Ok(OpResult::Done)
        }
        Op::SetChatPresence {
            chat,
            state: typing,
        } => {
            let (presence, recording) = match typing {
                ChatPresence::Composing => (PresenceState::Composing, false),
                ChatPresence::Recording => (PresenceState::Composing, true),
                ChatPresence::Paused => (PresenceState::Paused, false),
            };
            state
                .chat_presence(acting, &chat, presence, recording)
                .map(done)
        }
        Op::SubscribePresence { jid } => state.subscribe_presence(acting, &jid).map(done),
        Op::CheckPhones { phones } => Ok(OpResult::Phones(state.check_phones(&phones))),
        Op::ProfilePicture { jid } => state.profile_picture(&jid).map(OpResult::Picture),
        Op::About { jid } => state.about(&jid).map(OpResult::About),
        Op::SetBlocked { jid, blocked } => state.set_blocked(acting, &jid, blocked).map(done),
        Op::CreateGroup {
            subject,
            participants,
        } => state
            .create_group(acting, &subject, &participants)
            .map(OpResult::Group),
        Op::GroupInfo { group } => state.group_info(acting, &group).map(OpResult::Group),
        Op::JoinedGroups => Ok(OpResult::Groups(state.joined_groups(acting))),
        Op::UpdateGroup { group, settings } => {
            state.update_group(acting, &group, &settings).map(done)
        }
        Op::GroupInvite { group, reset } => state
            .group_invite(acting, &group, reset)
            .map(OpResult::Invite),
        Op::ChangeParticipants {
            group,
            action,
            members,
        } => state
            .change_participants(acting, &group, action, &members)
            .map(OpResult::Outcomes),
        Op::JoinGroup { code } => state.join_group(acting, &code).map(OpResult::Jid),
        Op::LeaveGroup { group } => state.leave_group(acting, &group).map(done),
        Op::CreateChannel { name, description } => state
            .create_channel(acting, &name, description.as_deref())
            .map(OpResult::Channel),
        Op::ChannelMessages {
            channel,
            count,
            before,
        } => state
            .channel_messages(&channel, count, before)
            .map(OpResult::ChannelMessages),
        Op::FollowChannel { channel, follow } => {
            state.follow_channel(acting, &channel, follow).map(done)
        }
        Op::MuteChannel { channel, mute } => state.mute_channel(acting, &channel, mute).map(done),
    }
}

/// Sends an edit, revoke, reaction or vote of `target` into the target's chat.
fn modify(
    state: &mut State,
    acting: &Acting,
    target: MessageKey,
    content: impl FnOnce(String) -> InboundContent,
) -> Result<OpResult, SimError> {
    let draft = Draft::new(target.chat, content(target.id));
    state.deliver(acting, draft).map(OpResult::Sent)
}

/// Sends an outgoing message; an album is a container message followed by its items, and the
/// container's id is the answer.
fn send(
    state: &mut State,
    acting: &Acting,
    message: OutgoingMessage,
) -> Result<SentMessage, SimError> {
    let OutgoingMessage {
        to,
        content,
        reply_to,
        mentions,
        forwarded,
    } = message;
    let mut draft = Draft::new(
        to,
        InboundContent::Other {
            kind: "album".to_owned(),
        },
    );
    draft.quoted_id = reply_to.map(|q| q.id);
    draft.mentions = mentions;
    draft.forwarded = forwarded;
    let items: Vec<OutgoingMedia> = match content {
        OutgoingContent::Album { items, caption } => items
            .into_iter()
            .enumerate()
            .map(|(i, mut item)| {
                if i == 0 && caption.is_some() {
                    item.caption.clone_from(&caption);
                }
                item
            })
            .collect(),
        other => {
            draft.content = inbound_content(state, other);
            return state.deliver(acting, draft);
        }
    };
    let container = state.deliver(acting, draft.clone())?;
    for item in items {
        let mut part = draft.clone();
        part.content = media_content(state, item);
        state.deliver(acting, part)?;
    }
    Ok(container)
}

/// The content recipients get for outgoing `content` (media bytes become a stored blob).
fn inbound_content(state: &mut State, content: OutgoingContent) -> InboundContent {
    match content {
        OutgoingContent::Text { text, .. } => InboundContent::Text { text },
        OutgoingContent::Poll(poll) => InboundContent::Poll(poll),
        OutgoingContent::Location {
            latitude,
            longitude,
            name,
        } => InboundContent::Location {
            latitude,
            longitude,
            name,
        },
        OutgoingContent::Contact {
            display_name,
            vcard,
        } => InboundContent::Contact {
            display_name,
            vcard,
        },
        OutgoingContent::Media(media) => media_content(state, media),
        OutgoingContent::Album { .. } => InboundContent::Other {
            kind: "album".to_owned(),
        },
    }
}

fn media_content(state: &mut State, media: OutgoingMedia) -> InboundContent {
    let caption = media.caption;
    let media = state.store_blob(media.kind, media.data, media.mimetype, media.filename);
    InboundContent::Media { media, caption }
}
