//! Presence: an account's availability (to the connections subscribed to it) and typing
//! indicators in a chat (to the chat's other members).

use wagate_domain::engine::{EngineEvent, PresenceState, PresenceUpdate};
use wagate_domain::{ChatKind, Jid};

use super::accounts::{Acting, phone_jid};
use super::records::SeenPresence;
use super::{State, engine};
use crate::codes;
use crate::{LOG_LABEL, SimError};

impl State {
    /// Sets the account's availability; subscribed connections get a presence update.
    pub(crate) fn set_presence(&mut self, acting: &Acting, available: bool) {
        let Some(p) = self.phones.get_mut(&acting.phone) else {
            return;
        };
        p.presence.available = available;
        if !available {
            p.presence.last_seen = Some(codes::now_ms());
        }
        let update = self.presence_of(&acting.phone);
        let targets: Vec<_> = self
            .connections
            .iter()
            .filter(|(_, c)| c.subscriptions.contains(&acting.phone))
            .map(|(s, c)| (s.clone(), c.id))
            .collect();
        for (session, id) in targets {
            self.send(&session, id, engine(EngineEvent::Presence(update.clone())));
        }
    }

    fn presence_of(&self, phone: &str) -> PresenceUpdate {
        let own = self
            .phones
            .get(phone)
            .map(|p| p.presence)
            .unwrap_or_default();
        PresenceUpdate {
            from: phone_jid(phone),
            chat: None,
            state: if own.available {
                PresenceState::Available
            } else {
                PresenceState::Unavailable
            },
            recording: false,
            last_seen: own.last_seen,
        }
    }

    /// A typing indicator (`Composing`/`Paused`, `recording` for voice notes) in `chat`: the
    /// peer of a DM, or the other members of a group, see it.
    pub(crate) fn chat_presence(
        &mut self,
        acting: &Acting,
        chat: &Jid,
        state: PresenceState,
        recording: bool,
    ) -> Result<(), SimError> {
        let me = acting.phone.clone();
        let (to, chat_seen): (Vec<String>, String) = match chat.kind() {
            ChatKind::Dm => (vec![self.resolve_user(chat)?], codes::account_jid(&me)),
            ChatKind::Group => {
                let group = self.group(chat.as_str())?;
                if group.member(&me).is_none() {
                    return Err(SimError::Forbidden(format!("not a participant of {chat}")));
                }
                let others = group.phones().into_iter().filter(|m| *m != me).collect();
                (others, group.jid.clone())
            }
            _ => {
                return Err(SimError::Invalid(format!(
                    "typing indicators go to a user or a group, not {chat}"
                )));
            }
        };
        let update = PresenceUpdate {
            from: phone_jid(&me),
            chat: Some(super::accounts::known_jid(&chat_seen)),
            state,
            recording,
            last_seen: None,
        };
        let seen = SeenPresence {
            state,
            chat: Some(chat_seen),
            recording,
        };
        let event = EngineEvent::Presence(update);
        for phone in to {
            if let Some(p) = self.phones.get_mut(&phone) {
                p.seen_presence
                    .insert(codes::account_jid(&me), seen.clone());
            }
            self.notify_account(&phone, &event, None);
        }
        Ok(())
    }

    /// Subscribes the acting connection to `jid`'s availability and answers the current one at
    /// once, as WhatsApp does. A phone (no connection) has nothing to subscribe.
    pub(crate) fn subscribe_presence(
        &mut self,
        acting: &Acting,
        jid: &Jid,
    ) -> Result<(), SimError> {
        let other = self.resolve_user(jid)?;
        let Some(session) = &acting.session else {
            return Ok(());
        };
        let update = self.presence_of(&other);
        let Some(connection) = self.connections.get_mut(session) else {
            return Ok(());
        };
        connection.subscriptions.insert(other);
        let id = connection.id;
        tracing::debug!(session, "{LOG_LABEL}: presence subscribed");
        self.send(session, id, engine(EngineEvent::Presence(update)));
        Ok(())
    }
}
