//! Accounts as actors and receivers: who is acting, how a JID names an account, and how an
//! event reaches every connected device of an account.

use wagate_domain::engine::{
    ContactUpdate, EngineEvent, GroupChange, GroupUpdate, HistoryChunk, InboundMessage,
};
use wagate_domain::{ChatKind, Jid};

use super::records::StoredMessage;
use super::{Phase, State, engine};
use crate::codes;
use crate::network::ops::Actor;
use crate::{LOG_LABEL, SimError};

/// The account performing an operation.
#[derive(Debug, Clone)]
pub(crate) struct Acting {
    /// The account's number.
    pub(crate) phone: String,
    /// The session whose device acts; it gets no echo of its own messages.
    pub(crate) session: Option<String>,
}

/// A JID the network built from a validated number, LID or generated id.
pub(crate) fn known_jid(text: &str) -> Jid {
    // Numbers are validated at the edge and ids are generated in their JID shape, so this
    // cannot fail; a fallback keeps a bug from becoming a panic.
    Jid::parse(text).unwrap_or_else(|_| {
        tracing::error!(jid = text, "{LOG_LABEL}: built an invalid JID");
        Jid::parse("0@s.whatsapp.net").unwrap_or_else(|_| unreachable!())
    })
}

/// The phone JID of a number.
pub(crate) fn phone_jid(phone: &str) -> Jid {
    known_jid(&codes::account_jid(phone))
}

/// The chat a message belongs to as `viewer` sees it: for DMs the other party, otherwise the
/// group, channel or status feed.
pub(crate) fn chat_for(message: &StoredMessage, viewer: &str) -> String {
    let dm = message.to.ends_with("@s.whatsapp.net");
    if dm && viewer != message.from {
        codes::account_jid(&message.from)
    } else {
        message.to.clone()
    }
}

impl State {
    /// Resolves the actor to its account; a session must be connected on that connection.
    pub(crate) fn acting(&mut self, actor: &Actor) -> Result<Acting, SimError> {
        match actor {
            Actor::Phone(phone) => {
                self.require_phone(phone)?;
                Ok(Acting {
                    phone: phone.clone(),
                    session: None,
                })
            }
            Actor::Session {
                session,
                connection,
            } => {
                let phone = self
                    .live(session, *connection)
                    .and_then(|c| match &c.phase {
                        Phase::Online { device } => Some(device.clone()),
                        _ => None,
                    })
                    .and_then(|device| self.devices.get(&device).map(|d| d.phone.clone()))
                    .ok_or_else(|| {
                        SimError::Offline(format!("session {session} is not connected"))
                    })?;
                Ok(Acting {
                    phone,
                    session: Some(session.clone()),
                })
            }
        }
    }

    /// The number of the account a user JID (phone or LID) names; anything else, or a number
    /// without a phone on the network, is not on WhatsApp.
    pub(crate) fn resolve_user(&self, jid: &Jid) -> Result<String, SimError> {
        let found = if jid.is_phone() {
            self.phones
                .contains_key(jid.user())
                .then(|| jid.user().to_owned())
        } else if jid.is_lid() {
            let lid = jid.canonical();
            self.phones
                .iter()
                .find(|(_, p)| p.lid == lid.as_str())
                .map(|(n, _)| n.clone())
        } else {
            return Err(SimError::Invalid(format!("{jid} is not a user JID")));
        };
        found.ok_or_else(|| SimError::Invalid(format!("{jid} is not on WhatsApp")))
    }

    /// The stored form of a chat as `viewer` names it: DMs by the peer's phone JID.
    pub(crate) fn chat_key(&self, chat: &Jid) -> Result<String, SimError> {
        match chat.kind() {
            ChatKind::Dm => self.resolve_user(chat).map(|p| codes::account_jid(&p)),
            _ => Ok(chat.canonical().to_string()),
        }
    }

    /// Sends `event` to every connected device of `phone`, except `except`'s.
    pub(crate) fn notify_account(
        &mut self,
        phone: &str,
        event: &EngineEvent,
        except: Option<&str>,
    ) {
        let targets: Vec<_> = self
            .connections
            .iter()
            .filter(|(session, _)| Some(session.as_str()) != except)
            .filter_map(|(session, c)| match &c.phase {
                Phase::Online { device } => self
                    .devices
                    .get(device)
                    .filter(|d| d.phone == phone)
                    .map(|_| (session.clone(), c.id)),
                _ => None,
            })
            .collect();
        for (session, id) in targets {
            self.send(&session, id, engine(event.clone()));
        }
    }

    /// The message as `viewer`'s devices receive it.
    pub(crate) fn inbound_for(&self, message: &StoredMessage, viewer: &str) -> InboundMessage {
        let author = self.phones.get(&message.from);
        InboundMessage {
            id: message.id.clone(),
            chat: known_jid(&chat_for(message, viewer)),
            sender: phone_jid(&message.from),
            sender_alt: author.map(|p| known_jid(&p.lid)),
            push_name: author.map(|p| p.name.clone()),
            from_me: viewer == message.from,
            timestamp: message.timestamp,
            content: message.content.clone(),
            quoted_id: message.quoted_id.clone(),
            mentions: message.mentions.iter().map(|m| known_jid(m)).collect(),
            forwarded: message.forwarded,
        }
    }

    /// What the network tells about `phone`: names and the LID ↔ phone mapping.
    pub(crate) fn contact_update(&self, phone: &str) -> Option<ContactUpdate> {
        self.phones.get(phone).map(|p| ContactUpdate {
            lid: Some(known_jid(&p.lid)),
            phone: Some(phone_jid(phone)),
            name: Some(p.name.clone()),
            business_name: None,
        })
    }

    /// Makes `a` and `b` contacts of each other; each side's devices learn the other's contact
    /// details the first time.
    pub(crate) fn add_contacts(&mut self, a: &str, b: &str) {
        if a == b {
            return;
        }
        for (me, other) in [(a, b), (b, a)] {
            let new = self
                .phones
                .get_mut(me)
                .is_some_and(|p| p.contacts.insert(other.to_owned()));
            if let Some(update) = self.contact_update(other).filter(|_| new) {
                self.notify_account(me, &EngineEvent::Contact(update), None);
            }
        }
    }

    /// What a newly linked device of `phone` learns right after `Connected`, like WhatsApp's
    /// initial sync: one history chunk (the latest 100 messages, contacts), then each group
    /// joined.
    pub(crate) fn sync_new_device(&mut self, session: &str, phone: &str) {
        let Some(id) = self.connections.get(session).map(|c| c.id) else {
            return;
        };
        let mut mine: Vec<&StoredMessage> = self
            .messages
            .values()
            .filter(|m| m.visible_to(phone))
            .collect();
        mine.sort_by_key(|m| m.timestamp);
        let skip = mine.len().saturating_sub(100);
        let messages = mine[skip..]
            .iter()
            .map(|m| self.inbound_for(m, phone))
            .collect();
        let contacts = self
            .phones
            .get(phone)
            .map(|p| {
                p.contacts
                    .iter()
                    .filter_map(|c| self.contact_update(c))
                    .collect()
            })
            .unwrap_or_default();
        let chunk = HistoryChunk {
            messages,
            contacts,
            progress: Some(100),
        };
        // An account with no history sends none (WhatsApp would send an empty sync).
        if !chunk.messages.is_empty() || !chunk.contacts.is_empty() {
            self.send(
                session,
                id,
                engine(EngineEvent::HistorySync(Box::new(chunk))),
            );
        }
        let joined: Vec<GroupUpdate> = self
            .groups
            .values()
            .filter(|g| g.member(phone).is_some())
            .map(|g| GroupUpdate {
                group: known_jid(&g.jid),
                actor: None,
                timestamp: codes::now_ms(),
                change: GroupChange::Joined(self.group_info_of(g)),
            })
            .collect();
        for update in joined {
            self.send(session, id, engine(EngineEvent::Group(Box::new(update))));
        }
    }
}
