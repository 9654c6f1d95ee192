//! Plain messages (everything stored as a row) in runs: the authors learned once per run, each
//! chat's canonical JID resolved once, the rows stored in one transaction
//! ([`MessageStore::record_messages`]), then per new message what the one-at-a-time path did
//! (group membership, polls, enrichment), auto-read once per chat, and the events in order.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use wagate_domain::engine::{ChatPresence, InboundContent, InboundMessage};
use wagate_domain::{
    ChatKind, ChatTouch, EngineClient, IdentityUpdate, Jid, MediaMeta, MessageEventKind, MessageId,
    MessagePayload, NewMessage, Session, StoreResult,
};

use super::{Author, InboundPipeline, payload_of};

/// Whether a message is stored as a row (and so can join a run). Reactions, edits, revokes and
/// votes act on other messages; unknown kinds are dropped.
pub(super) fn is_plain(m: &InboundMessage) -> bool {
    !matches!(
        m.content,
        InboundContent::Reaction { .. }
            | InboundContent::PollVote { .. }
            | InboundContent::Edit { .. }
            | InboundContent::Revoke { .. }
            | InboundContent::Other { .. }
    )
}

impl InboundPipeline {
    /// Stores, automates and publishes a run of plain messages. Should the run fail to store
    /// (nothing of it is then stored), its messages are tried one at a time, so one bad message
    /// costs only itself.
    pub(super) async fn on_plain_run(
        &self,
        session: &Session,
        client: &Arc<dyn EngineClient>,
        run: &[&InboundMessage],
    ) -> StoreResult<()> {
        match self.deliver_run(session, client, run).await {
            Err(err) if run.len() > 1 => {
                tracing::warn!(session = %session.id, %err, "inbound batch not stored; one at a time");
                for m in run {
                    if let Err(err) = self.deliver_run(session, client, &[m]).await {
                        tracing::error!(session = %session.id, %err, "inbound message not processed");
                    }
                }
                Ok(())
            }
            other => other,
        }
    }

    async fn deliver_run(
        &self,
        session: &Session,
        client: &Arc<dyn EngineClient>,
        run: &[&InboundMessage],
    ) -> StoreResult<()> {
        let payloads = self.persist_run(session, client, run, true).await?;
        self.automate(session, client, run, &payloads).await;
        for (m, payload) in run.iter().zip(payloads) {
            let Some(body) = payload else { continue };
            let kind = if m.from_me {
                MessageEventKind::FromMe
            } else {
                MessageEventKind::Message
            };
            self.publish_message(session, kind, body);
        }
        Ok(())
    }

    /// Stores a run of messages (their chats; for groups, the group and the sender as a member)
    /// without publishing; per message, `Some` payload when it was new. `Err` only when the run
    /// was not stored; a later step failing for one message drops that message's event, as it
    /// would have one at a time.
    pub(super) async fn persist_run(
        &self,
        session: &Session,
        client: &Arc<dyn EngineClient>,
        run: &[&InboundMessage],
        enrich: bool,
    ) -> StoreResult<Vec<Option<MessagePayload>>> {
        let authors: Vec<Author> = run.iter().map(|m| Author::of(m)).collect();
        self.learn_authors(run, &authors).await?;
        let mut chat_jids: HashMap<Jid, String> = HashMap::new();
        let mut rows = Vec::with_capacity(run.len());
        let mut payloads = Vec::with_capacity(run.len());
        for (m, author) in run.iter().zip(&authors) {
            let chat_jid = match chat_jids.get(&m.chat) {
                Some(jid) => jid.clone(),
                None => {
                    let jid = self.chat_jid(&m.chat).await?;
                    chat_jids.insert(m.chat.clone(), jid.clone());
                    jid
                }
            };
            let payload = payload_of(m, author, chat_jid);
            rows.push(self.rows_of(session, m, author, &payload));
            payloads.push(payload);
        }
        let new = self.store.record_messages(&rows).await?;
        let mut out = Vec::with_capacity(run.len());
        for (((m, author), (_, row)), (new, mut payload)) in run
            .iter()
            .zip(&authors)
            .zip(&rows)
            .zip(new.into_iter().zip(payloads))
        {
            if !new {
                out.push(None);
                continue;
            }
            match self
                .after_store(
                    session,
                    client,
                    m,
                    author,
                    &row.chat_jid,
                    &mut payload,
                    enrich,
                )
                .await
            {
                Ok(()) => out.push(Some(payload)),
                Err(err) => {
                    tracing::error!(session = %session.id, %err, "inbound message stored, not processed");
                    out.push(None);
                }
            }
        }
        Ok(out)
    }

    /// Learns the authors' identities (LID-keyed only, domain.md §7.1): one update per author
    /// and run, unless it says something new.
    async fn learn_authors(&self, run: &[&InboundMessage], authors: &[Author]) -> StoreResult<()> {
        let now = self.clock.now_ms();
        let mut updates: Vec<IdentityUpdate> = Vec::new();
        let mut names: Vec<(String, String)> = Vec::new();
        for (m, author) in run.iter().zip(authors) {
            if m.from_me {
                continue;
            }
            // A push name that is just the JID is no name.
            let name = m
                .push_name
                .clone()
                .filter(|n| !n.is_empty() && !n.contains('@'));
            match (&author.lid, &author.phone, name) {
                (Some(lid), phone, name) => {
                    let update = IdentityUpdate {
                        lid: lid.clone(),
                        phone_jid: phone.clone(),
                        name,
                        business_name: None,
                    };
                    // Repeating the same person's last update changes nothing.
                    if updates.iter().rev().find(|u| u.lid == update.lid) != Some(&update) {
                        updates.push(update);
                    }
                }
                (None, Some(phone), Some(name)) => {
                    let fill = (phone.clone(), name);
                    if !names.contains(&fill) {
                        names.push(fill);
                    }
                }
                (None, _, _) => {}
            }
        }
        self.store.upsert_identities(&updates, now).await?;
        for (phone, name) in &names {
            self.store.fill_identity_name(phone, name, now).await?;
        }
        Ok(())
    }

    /// The message row and what it does to its chat.
    fn rows_of(
        &self,
        session: &Session,
        m: &InboundMessage,
        author: &Author,
        payload: &MessagePayload,
    ) -> (ChatTouch, NewMessage) {
        let chat_jid = payload.chat_jid.clone();
        let (body, media, media_ref) = match &m.content {
            InboundContent::Media { media, caption } => (
                caption.clone(),
                Some(MediaMeta {
                    mimetype: media.mimetype.clone(),
                    size: media.size,
                    filename: media.filename.clone(),
                }),
                Some(media.clone()),
            ),
            _ => (payload.body.clone(), None, None),
        };
        let kind = m.chat.kind();
        let touch = ChatTouch {
            session_id: session.id.clone(),
            jid: chat_jid.clone(),
            kind,
            // domain.md §5: DMs take the peer's push name; groups never store one.
            name: (kind == ChatKind::Dm && !m.from_me)
                .then(|| m.push_name.clone())
                .flatten(),
            last_message_at: m.timestamp,
            unread: !m.from_me,
        };
        let message = NewMessage {
            id: MessageId::generate(),
            session_id: session.id.clone(),
            wa_message_id: m.id.clone(),
            chat_jid,
            sender_lid: author.lid.clone(),
            sender_jid: author.phone.clone(),
            from_me: m.from_me,
            message_type: m.content.message_type().to_owned(),
            body,
            quoted_message_id: m.quoted_id.clone(),
            mentions: (!m.mentions.is_empty()).then(|| {
                m.mentions
                    .iter()
                    .map(|j| j.canonical().to_string())
                    .collect()
            }),
            media,
            media_ref,
            status: None,
            timestamp: m.timestamp,
            created_at: self.clock.now_ms(),
        };
        (touch, message)
    }

    /// What follows storing a new message: a group's sender as a member, a poll's spec, and
    /// (for events) the enrichment.
    #[allow(clippy::too_many_arguments)]
    async fn after_store(
        &self,
        session: &Session,
        client: &Arc<dyn EngineClient>,
        m: &InboundMessage,
        author: &Author,
        chat_jid: &str,
        payload: &mut MessagePayload,
        enrich: bool,
    ) -> StoreResult<()> {
        if m.chat.kind() == ChatKind::Group {
            let sender = (!m.from_me).then(|| author.lid.clone().or(author.phone.clone()));
            self.groups
                .on_message(session, client, &m.chat, sender.flatten(), m.timestamp)
                .await?;
        }
        if let InboundContent::Poll(spec) = &m.content {
            self.store
                .upsert_poll(&session.id, &m.id, chat_jid, spec, self.clock.now_ms())
                .await?;
        }
        if enrich {
            self.enrich(session, m, payload).await?;
        }
        Ok(())
    }

    /// Auto-read and typing (domain.md §4.8) for the new messages from others: one read
    /// receipt per chat (per sender in groups) and one typing indicator per chat, before the
    /// events go out so a consumer's reply never races the receipt. Best effort: a failure is
    /// logged, the messages are kept.
    async fn automate(
        &self,
        session: &Session,
        client: &Arc<dyn EngineClient>,
        run: &[&InboundMessage],
        payloads: &[Option<MessagePayload>],
    ) {
        if !session.auto_read {
            return;
        }
        let mut reads: Vec<(&Jid, Option<&Jid>, Vec<String>)> = Vec::new();
        for (m, payload) in run.iter().zip(payloads) {
            if m.from_me || payload.is_none() {
                continue;
            }
            let sender = (m.chat.kind() == ChatKind::Group).then_some(&m.sender);
            match reads
                .iter_mut()
                .find(|(c, s, _)| *c == &m.chat && *s == sender)
            {
                Some((_, _, ids)) => ids.push(m.id.clone()),
                None => reads.push((&m.chat, sender, vec![m.id.clone()])),
            }
        }
        let mut typed: HashSet<&Jid> = HashSet::new();
        for (chat, sender, ids) in reads {
            if let Err(err) = client.mark_read(chat, sender, &ids).await {
                tracing::warn!(session = %session.id, %err, "auto-read failed");
                continue;
            }
            if session.presence_typing
                && typed.insert(chat)
                && let Err(err) = client
                    .set_chat_presence(chat, ChatPresence::Composing)
                    .await
            {
                tracing::warn!(session = %session.id, %err, "typing indicator failed");
            }
        }
    }
}
