//! Messages: delivery to accounts (their phones' inboxes and connected devices), echoes to the
//! author's other devices, delivery and read receipts, and edits, revokes, reactions and votes
//! applied to their target.

use std::collections::{BTreeMap, BTreeSet};

use wagate_domain::engine::{
    EngineEvent, InboundContent, MediaKind, MediaRef, Receipt, ReceiptKind, SentMessage,
};
use wagate_domain::jid::STATUS_BROADCAST;
use wagate_domain::{ChatKind, Jid};

use super::accounts::{Acting, chat_for, known_jid, phone_jid};
use super::records::{Blob, ChannelPost, StoredMessage, target_of};
use super::{State, engine};
use crate::codes;
use crate::network::views::MessageView;
use crate::{LOG_LABEL, SimError};

/// A message to deliver.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub(crate) to: Jid,
    pub(crate) content: InboundContent,
    /// A forced id (tests of duplicate delivery); a new one otherwise.
    pub(crate) id: Option<String>,
    pub(crate) quoted_id: Option<String>,
    pub(crate) mentions: Vec<Jid>,
    pub(crate) forwarded: bool,
}

impl Draft {
    pub(crate) fn new(to: Jid, content: InboundContent) -> Self {
        Self {
            to,
            content,
            id: None,
            quoted_id: None,
            mentions: Vec::new(),
            forwarded: false,
        }
    }
}

/// Where a message goes, resolved.
enum Target {
    Dm(String),
    Group(String),
    Status,
    Channel(String),
}

impl State {
    /// Sends a message as `acting`: every recipient account gets it (phone inbox and connected
    /// devices), the author's other devices get an echo, and the author's devices a delivery
    /// receipt per recipient. A DM from a number the recipient blocked reaches nobody.
    pub(crate) fn deliver(
        &mut self,
        acting: &Acting,
        draft: Draft,
    ) -> Result<SentMessage, SimError> {
        let from = acting.phone.clone();
        let target = self.target(&from, &draft.to)?;
        let (to, recipients) = match &target {
            Target::Dm(peer) => {
                let blocked = self
                    .phones
                    .get(peer)
                    .is_some_and(|p| p.blocked.contains(&from));
                if blocked {
                    tracing::info!(
                        from,
                        to = peer,
                        "{LOG_LABEL}: blocked sender, not delivered"
                    );
                }
                let reaches = !blocked && *peer != from;
                (
                    codes::account_jid(peer),
                    reaches.then(|| peer.clone()).into_iter().collect(),
                )
            }
            Target::Group(gid) => {
                let members = self.groups.get(gid).map(|g| g.phones()).unwrap_or_default();
                (
                    gid.clone(),
                    members.into_iter().filter(|m| *m != from).collect(),
                )
            }
            Target::Status => {
                let contacts = self
                    .phones
                    .get(&from)
                    .map(|p| p.contacts.iter().cloned().collect())
                    .unwrap_or_default();
                (STATUS_BROADCAST.to_owned(), contacts)
            }
            Target::Channel(jid) => {
                let followers = self
                    .channels
                    .get(jid)
                    .map(|c| {
                        c.followers
                            .iter()
                            .filter(|f| **f != from)
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                (jid.clone(), followers)
            }
        };
        if let Some(target_id) = target_of(&draft.content) {
            self.check_modifier(&from, &to, target_id, &draft.content)?;
        }
        let message = StoredMessage {
            id: draft.id.unwrap_or_else(codes::message_id),
            from: from.clone(),
            to: to.clone(),
            content: draft.content,
            timestamp: codes::now_ms(),
            quoted_id: draft.quoted_id,
            mentions: draft.mentions.iter().map(ToString::to_string).collect(),
            forwarded: draft.forwarded,
            recipients,
            read_by: BTreeSet::new(),
            edited: false,
            deleted: false,
            reactions: BTreeMap::new(),
            votes: BTreeMap::new(),
        };
        match &target {
            Target::Dm(peer) if !message.recipients.is_empty() => self.add_contacts(&from, peer),
            Target::Channel(jid) => self.post_to_channel(jid, &message),
            _ => {}
        }
        self.apply_modifier(&message);
        // Only a forced id can be in an inbox already; skipping the scan for new ids keeps a
        // phone that receives many messages linear instead of quadratic.
        let known = self
            .messages
            .insert(message.id.clone(), message.clone())
            .is_some();
        for r in &message.recipients {
            if message.is_listed()
                && let Some(p) = self.phones.get_mut(r)
                && !(known && p.inbox.contains(&message.id))
            {
                p.inbox.push(message.id.clone());
            }
            let event = EngineEvent::Message(Box::new(self.inbound_for(&message, r)));
            self.notify_account(r, &event, None);
        }
        let echo = EngineEvent::Message(Box::new(self.inbound_for(&message, &from)));
        self.notify_account(&from, &echo, acting.session.as_deref());
        if matches!(target, Target::Dm(_) | Target::Group(_)) {
            let chat = known_jid(&chat_for(&message, &from));
            for r in &message.recipients {
                let receipt = Receipt {
                    chat: chat.clone(),
                    sender: phone_jid(r),
                    ids: vec![message.id.clone()],
                    kind: ReceiptKind::Delivered,
                    timestamp: message.timestamp,
                };
                self.notify_account(&from, &EngineEvent::Receipt(receipt), None);
            }
        }
        Ok(SentMessage {
            id: message.id,
            timestamp: message.timestamp,
        })
    }

    fn target(&self, from: &str, to: &Jid) -> Result<Target, SimError> {
        match to.kind() {
            ChatKind::Dm => self.resolve_user(to).map(Target::Dm),
            ChatKind::Group => {
                let group = self.group(to.as_str())?;
                let member = group
                    .member(from)
                    .ok_or_else(|| SimError::Forbidden(format!("not a participant of {to}")))?;
                if group.announce && !member.is_admin() {
                    return Err(SimError::Forbidden(format!("only admins may send to {to}")));
                }
                Ok(Target::Group(group.jid.clone()))
            }
            ChatKind::Status => Ok(Target::Status),
            ChatKind::Newsletter => {
                let channel = self.channel(to.as_str())?;
                if channel.owner != from {
                    return Err(SimError::Forbidden(format!("only the owner posts to {to}")));
                }
                Ok(Target::Channel(channel.jid.clone()))
            }
            ChatKind::Broadcast => Err(SimError::Invalid(
                "broadcast lists are not simulated".to_owned(),
            )),
        }
    }

    /// Checks an edit, revoke, reaction or vote by `from` in chat `to` against its target.
    fn check_modifier(
        &self,
        from: &str,
        to: &str,
        target_id: &str,
        content: &InboundContent,
    ) -> Result<(), SimError> {
        let target = self
            .messages
            .get(target_id)
            .filter(|m| m.visible_to(from) && chat_for(m, from) == to && m.is_listed())
            .ok_or_else(|| SimError::NotFound(format!("no message {target_id} in {to}")))?;
        match content {
            InboundContent::Edit { .. } => {
                if target.from != from {
                    return Err(SimError::Forbidden("only the author may edit".to_owned()));
                }
                let editable = matches!(
                    target.content,
                    InboundContent::Text { .. } | InboundContent::Media { .. }
                );
                if !editable || target.deleted {
                    return Err(SimError::Invalid(format!(
                        "message {target_id} cannot be edited"
                    )));
                }
            }
            InboundContent::Revoke { .. } => {
                let admin = self.groups.get(to).is_some_and(|g| g.is_admin(from));
                if target.from != from && !admin {
                    return Err(SimError::Forbidden(
                        "only the author or a group admin may delete for everyone".to_owned(),
                    ));
                }
            }
            InboundContent::PollVote { selected, .. } => {
                let InboundContent::Poll(poll) = &target.content else {
                    return Err(SimError::Invalid(format!(
                        "message {target_id} is not a poll"
                    )));
                };
                if let Some(unknown) = selected.iter().find(|s| !poll.options.contains(s)) {
                    return Err(SimError::Invalid(format!(
                        "{unknown:?} is not an option of the poll"
                    )));
                }
                let limit = usize::try_from(poll.selectable_count).unwrap_or(usize::MAX);
                if limit > 0 && selected.len() > limit {
                    return Err(SimError::Invalid(format!(
                        "the poll allows {limit} option(s)"
                    )));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Applies an edit, revoke, reaction or vote to its target.
    fn apply_modifier(&mut self, message: &StoredMessage) {
        let Some(target) = message.target_id().and_then(|id| self.messages.get_mut(id)) else {
            return;
        };
        match &message.content {
            InboundContent::Edit { text, .. } => {
                match &mut target.content {
                    InboundContent::Text { text: old } => old.clone_from(text),
                    InboundContent::Media { caption, .. } => *caption = Some(text.clone()),
                    _ => {}
                }
                target.edited = true;
            }
            InboundContent::Revoke { .. } => target.deleted = true,
            InboundContent::Reaction { emoji, .. } if emoji.is_empty() => {
                target.reactions.remove(&message.from);
            }
            InboundContent::Reaction { emoji, .. } => {
                target.reactions.insert(message.from.clone(), emoji.clone());
            }
            InboundContent::PollVote { selected, .. } => {
                target.votes.insert(message.from.clone(), selected.clone());
            }
            _ => {}
        }
    }

    fn post_to_channel(&mut self, jid: &str, message: &StoredMessage) {
        if let Some(channel) = self.channels.get_mut(jid) {
            let server_id = channel.posts.last().map_or(1, |p| p.server_id + 1);
            channel.posts.push(ChannelPost {
                server_id,
                id: message.id.clone(),
                timestamp: message.timestamp,
                message_type: message.content.message_type().to_owned(),
                text: body_of(&message.content).map(str::to_owned),
            });
        }
    }

    /// `reader` reads `ids` of `chat`: the authors' devices get a read receipt, and so do the
    /// reader's other devices (read sync). `strict` refuses ids the reader never received
    /// (the control API); devices' unknown ids are ignored, as WhatsApp does.
    pub(crate) fn mark_read(
        &mut self,
        acting: &Acting,
        chat: &Jid,
        ids: &[String],
        strict: bool,
    ) -> Result<(), SimError> {
        let reader = acting.phone.clone();
        let chat_key = self.chat_key(chat)?;
        let mut by_author: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
        for id in ids {
            let found = self
                .messages
                .get(id)
                .filter(|m| m.from != reader && m.visible_to(&reader))
                .filter(|m| chat_for(m, &reader) == chat_key);
            match found {
                Some(m) if !m.read_by.contains(&reader) => {
                    let entry = by_author
                        .entry(m.from.clone())
                        .or_insert_with(|| (chat_for(m, &m.from), Vec::new()));
                    entry.1.push(id.clone());
                }
                Some(_) => {}
                None if strict => {
                    return Err(SimError::NotFound(format!(
                        "{reader} received no message {id} in {chat}"
                    )));
                }
                None => {}
            }
        }
        let timestamp = codes::now_ms();
        let mut all = Vec::new();
        for (author, (author_chat, ids)) in by_author {
            for id in &ids {
                if let Some(m) = self.messages.get_mut(id) {
                    m.read_by.insert(reader.clone());
                }
            }
            let receipt = Receipt {
                chat: known_jid(&author_chat),
                sender: phone_jid(&reader),
                ids: ids.clone(),
                kind: ReceiptKind::Read,
                timestamp,
            };
            self.notify_account(&author, &EngineEvent::Receipt(receipt), None);
            all.extend(ids);
        }
        if !all.is_empty() {
            let receipt = Receipt {
                chat: known_jid(&chat_key),
                sender: phone_jid(&reader),
                ids: all,
                kind: ReceiptKind::Read,
                timestamp,
            };
            self.notify_account(
                &reader,
                &EngineEvent::Receipt(receipt),
                acting.session.as_deref(),
            );
        }
        Ok(())
    }

    /// Sends stored message `id` to `session`'s connection once more, as it first arrived.
    pub(crate) fn redeliver(&mut self, session: &str, id: &str) -> Result<(), SimError> {
        let connection =
            self.connections.get(session).map(|c| c.id).ok_or_else(|| {
                SimError::NotFound(format!("session {session} has no connection"))
            })?;
        let acting = self.acting(&crate::network::ops::Actor::Session {
            session: session.to_owned(),
            connection,
        })?;
        let message = self
            .messages
            .get(id)
            .filter(|m| m.visible_to(&acting.phone))
            .ok_or_else(|| SimError::NotFound(format!("no message {id} for {}", acting.phone)))?;
        let event = EngineEvent::Message(Box::new(self.inbound_for(message, &acting.phone)));
        self.send(session, connection, engine(event));
        Ok(())
    }

    /// Stores media bytes; the reference to hand out with the message.
    pub(crate) fn store_blob(
        &mut self,
        kind: MediaKind,
        data: Vec<u8>,
        mimetype: String,
        filename: Option<String>,
    ) -> MediaRef {
        let locator = codes::blob_id();
        let size = u64::try_from(data.len()).ok();
        self.blobs.insert(
            locator.clone(),
            Blob {
                data,
                mimetype: mimetype.clone(),
            },
        );
        MediaRef {
            kind,
            mimetype: Some(mimetype),
            size,
            filename,
            locator,
        }
    }

    pub(crate) fn download(&self, media: &MediaRef) -> Result<Vec<u8>, SimError> {
        self.blobs
            .get(&media.locator)
            .map(|b| b.data.clone())
            .ok_or_else(|| SimError::NotFound(format!("no media {}", media.locator)))
    }

    /// What `phone` received, oldest first.
    pub(crate) fn inbox(&self, phone: &str) -> Result<Vec<MessageView>, SimError> {
        self.require_phone(phone)?;
        let ids = self
            .phones
            .get(phone)
            .map(|p| p.inbox.as_slice())
            .unwrap_or_default();
        Ok(ids
            .iter()
            .filter_map(|id| self.messages.get(id))
            .map(|m| MessageView::of(m, phone))
            .collect())
    }

    /// One stored message, as its author sees it.
    pub(crate) fn message(&self, id: &str) -> Result<MessageView, SimError> {
        self.messages
            .get(id)
            .map(|m| MessageView::of(m, &m.from))
            .ok_or_else(|| SimError::NotFound(format!("no message {id}")))
    }
}

/// The text shown for a message: text, caption, poll question, location label or contact name.
pub(crate) fn body_of(content: &InboundContent) -> Option<&str> {
    match content {
        InboundContent::Text { text } => Some(text),
        InboundContent::Media { caption, .. } => caption.as_deref(),
        InboundContent::Location { name, .. } => name.as_deref(),
        InboundContent::Contact { display_name, .. } => Some(display_name),
        InboundContent::Poll(poll) => Some(&poll.name),
        InboundContent::Edit { text, .. } => Some(text),
        InboundContent::Reaction { emoji, .. } => Some(emoji),
        _ => None,
    }
}
