//! Inbound crate events (messages, receipts, presence, groups, contacts, history sync) as the
//! port's [`EngineEvent`]s. The pure mappings live in the submodules; [`Translator`] adds what
//! needs the client: own identity, poll-vote decryption, the state of a group just joined.

mod history;
mod message;
mod notices;

use std::sync::Arc;

use wagate_domain::Jid;
use wagate_domain::engine::{EngineEvent, GroupChange, InboundContent};
use whatsapp_rust::Client;
use whatsapp_rust::Jid as WaJid;
use whatsapp_rust::features::PollVoteCiphertext;
use whatsapp_rust::types::events::{Event, EventKind, InboundMessage as WaInbound};
use whatsapp_rust::wacore::proto_helpers::MessageExt;

use crate::jids::from_wa;
use crate::live::groups::group_info;
use crate::live::messages::stored_secret;
use crate::polls::{KnownPoll, PollBook, selected_options};

/// The crate event kinds the translator understands.
pub(crate) const INBOUND_KINDS: &[EventKind] = &[
    EventKind::Messages,
    EventKind::Receipt,
    EventKind::Presence,
    EventKind::ChatPresence,
    EventKind::GroupUpdate,
    EventKind::ContactUpdate,
    EventKind::PushNameUpdate,
    EventKind::ContactNumberChanged,
    EventKind::HistorySync,
];

/// Whether `event` is one the translator reports.
pub(crate) fn is_inbound(event: &Event) -> bool {
    matches!(
        event,
        Event::Messages(_)
            | Event::Receipt(_)
            | Event::Presence(_)
            | Event::ChatPresence(_)
            | Event::GroupUpdate(_)
            | Event::ContactUpdate(_)
            | Event::PushNameUpdate(_)
            | Event::ContactNumberChanged(_)
            | Event::HistorySync(_)
    )
}

pub(crate) struct Translator {
    client: Arc<Client>,
    polls: Arc<PollBook>,
}

impl Translator {
    pub(crate) fn new(client: Arc<Client>, polls: Arc<PollBook>) -> Self {
        Self { client, polls }
    }

    /// The port's events for one crate event, in order.
    pub(crate) async fn translate(&self, event: &Event) -> Vec<EngineEvent> {
        match event {
            Event::Messages(batch) => {
                let mut out = Vec::new();
                for inbound in batch {
                    self.message(inbound, &mut out).await;
                }
                out
            }
            Event::Receipt(r) => notices::receipt(r)
                .map(EngineEvent::Receipt)
                .into_iter()
                .collect(),
            Event::Presence(p) => notices::presence(p)
                .map(EngineEvent::Presence)
                .into_iter()
                .collect(),
            Event::ChatPresence(p) => notices::chat_presence(p)
                .map(EngineEvent::Presence)
                .into_iter()
                .collect(),
            Event::GroupUpdate(update) => {
                let Some(mut update) = notices::group(update, &self.own()) else {
                    return Vec::new();
                };
                if let GroupChange::Joined(info) = &mut update.change
                    && let Some(full) = self.group_state(&info.jid).await
                {
                    *info = full;
                }
                vec![EngineEvent::Group(Box::new(update))]
            }
            Event::ContactUpdate(c) => contact_events(notices::contact(c)),
            Event::PushNameUpdate(p) => contact_events(notices::push_name(p)),
            Event::ContactNumberChanged(c) => contact_events(notices::number_changed(c)),
            Event::HistorySync(lazy) => self.history(lazy.as_ref().clone()).await,
            _ => Vec::new(),
        }
    }

    async fn message(&self, inbound: &WaInbound, out: &mut Vec<EngineEvent>) {
        let info = &inbound.info;
        let body = &inbound.message;
        if let Some(spec) = message::created_poll(body) {
            self.polls.remember(
                &info.id,
                KnownPoll {
                    options: spec.options,
                    secret: message::message_secret(body),
                    creator: info.source.sender.to_non_ad().to_string(),
                },
            );
        }
        let Some(mut mapped) = message::live_message(info, body) else {
            return;
        };
        if let InboundContent::PollVote { poll_id, selected } = &mut mapped.content {
            *selected = self.decrypt_vote(&info.source.chat, poll_id, inbound).await;
        }
        if let Some(pair) =
            notices::sender_mapping(&info.source.sender, info.source.sender_alt.as_ref())
        {
            out.push(EngineEvent::Contact(pair));
        }
        out.push(EngineEvent::Message(Box::new(mapped)));
    }

    /// The option texts of a vote; empty when the poll's secret or options are unknown.
    async fn decrypt_vote(&self, chat: &WaJid, poll_id: &str, inbound: &WaInbound) -> Vec<String> {
        let base = inbound.message.get_base_message();
        let Some(update) = base.poll_update_message.as_option() else {
            return Vec::new();
        };
        let Some(vote) = update.vote.as_option() else {
            return Vec::new();
        };
        let (Some(payload), Some(iv)) = (&vote.enc_payload, &vote.enc_iv) else {
            return Vec::new();
        };
        let known = self.polls.get(poll_id);
        let Some(options) = known.as_ref().map(|p| p.options.clone()) else {
            return Vec::new();
        };
        let voter = &inbound.info.source.sender;
        let creator = known
            .as_ref()
            .and_then(|p| p.creator.parse::<WaJid>().ok())
            .or_else(|| {
                update
                    .poll_creation_message_key
                    .as_option()
                    .and_then(|k| k.participant.as_deref())
                    .and_then(|p| p.parse().ok())
            });
        let Some(creator) = creator else {
            return Vec::new();
        };
        let secret = match known.and_then(|p| p.secret) {
            Some(secret) => secret,
            None => match stored_secret(&self.client, chat, &creator, poll_id).await {
                Some(secret) => secret,
                None => return Vec::new(),
            },
        };
        let ciphertext = PollVoteCiphertext {
            enc_payload: payload,
            enc_iv: iv,
        };
        match self
            .client
            .polls()
            .decrypt_vote(ciphertext, &secret, poll_id, &creator, voter)
            .await
        {
            Ok(hashes) => selected_options(&options, &hashes),
            Err(error) => {
                tracing::debug!(%error, poll_id, "poll vote could not be decrypted");
                Vec::new()
            }
        }
    }

    async fn group_state(&self, group: &Jid) -> Option<wagate_domain::engine::GroupInfo> {
        let jid: WaJid = group.as_str().parse().ok()?;
        let metadata = self.client.groups().get_metadata(&jid).await.ok()?;
        group_info(&metadata).ok()
    }

    /// Inflating and decoding a blob takes tens of milliseconds per megabyte: off the runtime.
    async fn history(
        &self,
        lazy: whatsapp_rust::types::events::LazyHistorySync,
    ) -> Vec<EngineEvent> {
        let own = self.client.pn().and_then(|pn| from_wa(&pn.to_non_ad()));
        let decoded = tokio::task::spawn_blocking(move || {
            lazy.get()
                .map(|sync| history::chunks(sync, own.as_ref()))
                .unwrap_or_default()
        })
        .await
        .unwrap_or_default();
        decoded
            .into_iter()
            .map(|chunk| EngineEvent::HistorySync(Box::new(chunk)))
            .collect()
    }

    fn own(&self) -> notices::Own {
        notices::Own {
            users: [self.client.pn(), self.client.lid()]
                .into_iter()
                .flatten()
                .map(|jid| jid.user.to_string())
                .collect(),
        }
    }
}

fn contact_events(update: Option<wagate_domain::engine::ContactUpdate>) -> Vec<EngineEvent> {
    update.map(EngineEvent::Contact).into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_kinds_and_the_filter_agree() {
        use whatsapp_rust::types::events::OfflineSyncCompleted;
        assert!(!is_inbound(&Event::OfflineSyncCompleted(
            OfflineSyncCompleted::builder().count(1).build()
        )));
        assert_eq!(INBOUND_KINDS.len(), 9);
    }
}
