//! The inbound pipeline (issue 4, domain.md §5–§7): normalize → persist (identities, chat,
//! message, receipts; group changes through [`GroupUpdates`]) → enrich (mentions, quotes) →
//! publish. Idempotent by WhatsApp message id:
//! a redelivered message stores and publishes nothing new. Consecutive plain messages are
//! stored as one run (`batch.rs`, issue 4's group commit).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use wagate_domain::engine::{
    ContactUpdate, InboundContent, InboundMessage, PresenceUpdate, Receipt, ReceiptKind,
};
use wagate_domain::{
    ChatKind, Clock, ContactUpdatePayload, EngineClient, EngineEvent, Event, EventPayload,
    EventPublisher, IdentityUpdate, Jid, MentionInfo, MessageEventKind, MessagePayload,
    MessageStatus, MessageStore, PresencePayload, Session, StoreResult,
};

use crate::groups::GroupUpdates;

mod batch;
mod early_receipts;
use crate::session_manager::InboundHandler;
use early_receipts::EarlyReceipts;

/// How many control-message ids (reactions, edits, revokes, votes: not stored as rows) are
/// remembered per node to drop redeliveries.
const SEEN_CAPACITY: usize = 16_384;

pub struct InboundPipeline {
    store: Arc<dyn MessageStore>,
    groups: Arc<GroupUpdates>,
    events: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
    seen: Mutex<Seen>,
    early: Mutex<EarlyReceipts>,
}

#[derive(Default)]
struct Seen {
    set: HashSet<(String, String)>,
    order: VecDeque<(String, String)>,
}

impl Seen {
    /// True the first time `key` is seen.
    fn first(&mut self, key: (String, String)) -> bool {
        if !self.set.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > SEEN_CAPACITY
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }
}

/// The author of a message in both forms, canonical.
struct Author {
    lid: Option<String>,
    phone: Option<String>,
}

impl Author {
    fn of(m: &InboundMessage) -> Self {
        let mut author = Author {
            lid: None,
            phone: None,
        };
        for jid in std::iter::once(&m.sender).chain(m.sender_alt.iter()) {
            let jid = jid.canonical();
            if jid.is_lid() {
                author.lid.get_or_insert(jid.to_string());
            } else if jid.is_phone() {
                author.phone.get_or_insert(jid.to_string());
            }
        }
        author
    }
}

impl InboundPipeline {
    /// Group changes go to `groups`, which stores and publishes them.
    pub fn new(
        store: Arc<dyn MessageStore>,
        groups: Arc<GroupUpdates>,
        events: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            groups,
            events,
            clock,
            seen: Mutex::default(),
            early: Mutex::default(),
        }
    }

    fn publish(&self, session: &Session, payload: EventPayload) {
        self.events
            .publish(Event::about(session, self.clock.now_ms(), payload));
    }

    fn first_sight(&self, session: &Session, id: &str) -> bool {
        self.seen
            .lock()
            .map(|mut s| s.first((session.id.to_string(), id.to_owned())))
            .unwrap_or(true)
    }

    async fn chat_jid(&self, chat: &Jid) -> StoreResult<String> {
        let chat = chat.canonical();
        if chat.kind() == ChatKind::Dm {
            self.store.canonical_dm_jid(chat.as_str()).await
        } else {
            Ok(chat.to_string())
        }
    }

    /// Mention names and the quoted message from storage (events.md §3.2).
    async fn enrich(
        &self,
        session: &Session,
        m: &InboundMessage,
        payload: &mut MessagePayload,
    ) -> StoreResult<()> {
        if let Some(quoted) = &m.quoted_id
            && let Some(q) = self.store.get_message(&session.id, quoted).await?
        {
            payload.quoted_from_me = Some(q.from_me);
            payload.quoted_sender_jid = q.sender_jid.clone();
            payload.quoted_sender_lid = q.sender_lid.clone();
            payload.quoted_body = q.body.map(|b| truncate_utf8(b, 4096));
        }
        if !m.mentions.is_empty() {
            let stored = self.store.get_message(&session.id, &m.id).await?;
            let names = stored.map(|s| s.mention_names).unwrap_or_default();
            let group = m.chat.kind() == ChatKind::Group;
            let mentions: BTreeMap<String, MentionInfo> = m
                .mentions
                .iter()
                .map(|j| {
                    let info = MentionInfo {
                        push_name: group.then(|| names.get(j.user()).cloned()).flatten(),
                        tag: None,
                    };
                    (j.canonical().to_string(), info)
                })
                .collect();
            payload.mentions = Some(mentions);
        }
        Ok(())
    }

    async fn on_message(
        &self,
        session: &Session,
        client: &Arc<dyn EngineClient>,
        m: &InboundMessage,
    ) -> StoreResult<()> {
        let author = Author::of(m);
        let control = |kind, payload| Some((kind, payload));
        let publish = match &m.content {
            InboundContent::Reaction { .. } | InboundContent::PollVote { .. } => {
                if !self.first_sight(session, &m.id) {
                    return Ok(());
                }
                let kind = if matches!(m.content, InboundContent::Reaction { .. }) {
                    MessageEventKind::Reaction
                } else {
                    MessageEventKind::PollVote
                };
                control(kind, payload_of(m, &author, self.chat_jid(&m.chat).await?))
            }
            InboundContent::Edit { target_id, text } => {
                if !self.first_sight(session, &m.id) {
                    return Ok(());
                }
                self.store.mark_edited(&session.id, target_id, text).await?;
                control(
                    MessageEventKind::Edited,
                    payload_of(m, &author, self.chat_jid(&m.chat).await?),
                )
            }
            InboundContent::Revoke { target_id } => {
                if !self.first_sight(session, &m.id) {
                    return Ok(());
                }
                self.store.mark_deleted(&session.id, target_id).await?;
                control(
                    MessageEventKind::Revoked,
                    payload_of(m, &author, self.chat_jid(&m.chat).await?),
                )
            }
            // events.md §3.2 row 10: unknown kinds are dropped.
            InboundContent::Other { .. } => None,
            _ => return self.on_plain_run(session, client, &[m]).await,
        };
        if let Some((kind, body)) = publish {
            self.publish_message(session, kind, body);
        }
        Ok(())
    }

    fn publish_message(&self, session: &Session, kind: MessageEventKind, body: MessagePayload) {
        self.publish(
            session,
            EventPayload::Message {
                kind,
                body: Box::new(body),
            },
        );
    }

    async fn on_receipt(&self, session: &Session, r: &Receipt) -> StoreResult<()> {
        self.on_receipts(session, std::slice::from_ref(r)).await
    }

    /// Receipts of one kind, in arrival order: their messages advance in one transaction, then
    /// each receipt publishes the messages it moved on, as one at a time would (a message two
    /// receipts name is published by the first). A receipt for a message not stored yet waits
    /// for it ([`EarlyReceipts`]).
    async fn on_receipts(&self, session: &Session, receipts: &[Receipt]) -> StoreResult<()> {
        let missed = self.apply_receipts(session, receipts).await?;
        if missed.is_empty() {
            return Ok(());
        }
        let retry: Vec<Receipt> = {
            let mut early = self.early.lock().unwrap_or_else(PoisonError::into_inner);
            missed
                .into_iter()
                .filter_map(|r| {
                    let ids = early.park_unless_stored(&session.id, &r, &r.ids);
                    (!ids.is_empty()).then_some(Receipt { ids, ..r })
                })
                .collect()
        };
        if !retry.is_empty() {
            // Stored since the first look: now the rows are there (or another receipt already
            // moved them on).
            self.apply_receipts(session, &retry).await?;
        }
        Ok(())
    }

    /// Advances and publishes `receipts` (one kind); answers, per receipt, the ids that moved
    /// no message — for none of its messages, stored or not, moved on within this call.
    async fn apply_receipts(
        &self,
        session: &Session,
        receipts: &[Receipt],
    ) -> StoreResult<Vec<Receipt>> {
        let Some(first) = receipts.first() else {
            return Ok(Vec::new());
        };
        let status = match first.kind {
            ReceiptKind::Delivered => MessageStatus::Delivered,
            ReceiptKind::Read => MessageStatus::Read,
            ReceiptKind::Played => MessageStatus::Played,
        };
        let ids: Vec<String> = receipts
            .iter()
            .flat_map(|r| r.ids.iter().cloned())
            .collect();
        let moved: HashSet<String> = self
            .store
            .advance_status(&session.id, &ids, status)
            .await?
            .into_iter()
            .collect();
        let mut unpublished = moved.clone();
        let mut missed = Vec::new();
        let mut chats: HashMap<&Jid, String> = HashMap::new();
        for r in receipts {
            let unmoved: Vec<String> = r
                .ids
                .iter()
                .filter(|id| !moved.contains(*id))
                .cloned()
                .collect();
            if !unmoved.is_empty() {
                missed.push(Receipt {
                    ids: unmoved,
                    ..r.clone()
                });
            }
            let message_ids: Vec<String> = r
                .ids
                .iter()
                .filter(|id| unpublished.remove(*id))
                .cloned()
                .collect();
            // A redelivered receipt changes nothing and publishes nothing.
            if message_ids.is_empty() {
                continue;
            }
            let chat_jid = match chats.get(&r.chat) {
                Some(jid) => jid.clone(),
                None => {
                    let jid = self.chat_jid(&r.chat).await?;
                    chats.insert(&r.chat, jid.clone());
                    jid
                }
            };
            self.publish(
                session,
                EventPayload::MessageStatus(wagate_domain::MessageStatusPayload {
                    chat_jid,
                    sender_jid: (r.chat.kind() == ChatKind::Group)
                        .then(|| r.sender.canonical().to_string()),
                    message_ids,
                    status,
                    timestamp: r.timestamp,
                }),
            );
        }
        Ok(missed)
    }

    fn on_presence(&self, session: &Session, p: &PresenceUpdate) {
        use wagate_domain::engine::PresenceState;
        self.publish(
            session,
            EventPayload::Presence(PresencePayload {
                chat_jid: p.chat.as_ref().map(|c| c.canonical().to_string()),
                from: p.from.canonical().to_string(),
                state: p.state,
                media: p.recording.then_some("audio"),
                unavailable: (p.state == PresenceState::Unavailable).then_some(true),
                last_seen: p.last_seen,
            }),
        );
    }

    async fn on_contact(&self, session: &Session, c: &ContactUpdate) -> StoreResult<()> {
        let now = self.clock.now_ms();
        let name = c.name.clone().filter(|n| !n.is_empty());
        if let Some(lid) = &c.lid {
            let update = IdentityUpdate {
                lid: lid.canonical().to_string(),
                phone_jid: c.phone.as_ref().map(|p| p.canonical().to_string()),
                name: None,
                business_name: c.business_name.clone(),
            };
            self.store.upsert_identity(&update, now).await?;
        }
        let Some(name) = name else { return Ok(()) };
        let jid = c
            .lid
            .as_ref()
            .or(c.phone.as_ref())
            .map(|j| j.canonical().to_string());
        let Some(jid) = jid else { return Ok(()) };
        // events.md §3.8: fills an empty name only, never creates an identity.
        self.store.fill_identity_name(&jid, &name, now).await?;
        self.publish(
            session,
            EventPayload::ContactUpdate(ContactUpdatePayload {
                jid,
                push_name: Some(name),
                full_name: None,
                first_name: None,
            }),
        );
        Ok(())
    }

    async fn dispatch(
        &self,
        session: &Session,
        client: &Arc<dyn EngineClient>,
        event: EngineEvent,
    ) -> StoreResult<()> {
        match event {
            EngineEvent::Message(m) => self.on_message(session, client, &m).await,
            EngineEvent::Receipt(r) => self.on_receipt(session, &r).await,
            EngineEvent::Presence(p) => {
                self.on_presence(session, &p);
                Ok(())
            }
            EngineEvent::Contact(c) => self.on_contact(session, &c).await,
            // History is stored, not announced; a chunk's messages are stored as one run.
            EngineEvent::HistorySync(chunk) => {
                for c in &chunk.contacts {
                    self.on_contact_silently(c).await?;
                }
                let run: Vec<&InboundMessage> = chunk
                    .messages
                    .iter()
                    .filter(|m| batch::is_plain(m))
                    .collect();
                self.persist_run(session, client, &run, false).await?;
                Ok(())
            }
            EngineEvent::Group(update) => self.groups.apply(session, &update).await,
            // Connection events never reach the pipeline.
            _ => Ok(()),
        }
    }

    async fn flush(
        &self,
        session: &Session,
        client: &Arc<dyn EngineClient>,
        run: &mut Vec<InboundMessage>,
    ) {
        if run.is_empty() {
            return;
        }
        let messages: Vec<&InboundMessage> = run.iter().collect();
        if let Err(err) = self.on_plain_run(session, client, &messages).await {
            tracing::error!(session = %session.id, %err, "inbound event not processed");
        }
        run.clear();
    }

    /// A run of receipts of one kind, or each alone should the run fail (one bad receipt then
    /// costs only itself).
    async fn flush_receipts(&self, session: &Session, receipts: &mut Vec<Receipt>) {
        if receipts.is_empty() {
            return;
        }
        if let Err(err) = self.on_receipts(session, receipts).await {
            if receipts.len() == 1 {
                tracing::error!(session = %session.id, %err, "inbound event not processed");
            } else {
                tracing::warn!(session = %session.id, %err, "receipt batch not stored; one at a time");
                for r in receipts.iter() {
                    if let Err(err) = self.on_receipt(session, r).await {
                        tracing::error!(session = %session.id, %err, "inbound event not processed");
                    }
                }
            }
        }
        receipts.clear();
    }

    async fn on_contact_silently(&self, c: &ContactUpdate) -> StoreResult<()> {
        let Some(lid) = &c.lid else { return Ok(()) };
        let update = IdentityUpdate {
            lid: lid.canonical().to_string(),
            phone_jid: c.phone.as_ref().map(|p| p.canonical().to_string()),
            name: c.name.clone().filter(|n| !n.is_empty()),
            business_name: c.business_name.clone(),
        };
        self.store
            .upsert_identity(&update, self.clock.now_ms())
            .await
    }
}

#[async_trait::async_trait]
impl InboundHandler for InboundPipeline {
    async fn handle(&self, session: &Session, client: &Arc<dyn EngineClient>, event: EngineEvent) {
        if let Err(err) = self.dispatch(session, client, event).await {
            tracing::error!(session = %session.id, %err, "inbound event not processed");
        }
    }

    /// Runs of consecutive plain messages are stored together; everything else (and each run,
    /// before what follows it) is handled in arrival order as [`Self::handle`] would.
    async fn handle_batch(
        &self,
        session: &Session,
        client: &Arc<dyn EngineClient>,
        events: Vec<EngineEvent>,
    ) {
        let mut run: Vec<InboundMessage> = Vec::new();
        let mut receipts: Vec<Receipt> = Vec::new();
        for event in events {
            match event {
                EngineEvent::Message(m) if batch::is_plain(&m) => {
                    self.flush_receipts(session, &mut receipts).await;
                    run.push(*m);
                }
                EngineEvent::Receipt(r) => {
                    self.flush(session, client, &mut run).await;
                    if receipts.first().is_some_and(|f| f.kind != r.kind) {
                        self.flush_receipts(session, &mut receipts).await;
                    }
                    receipts.push(r);
                }
                other => {
                    self.flush(session, client, &mut run).await;
                    self.flush_receipts(session, &mut receipts).await;
                    self.handle(session, client, other).await;
                }
            }
        }
        self.flush(session, client, &mut run).await;
        self.flush_receipts(session, &mut receipts).await;
    }

    async fn sent_stored(&self, session: &Session, wa_message_ids: &[String]) {
        let parked: Vec<Receipt> = {
            let mut early = self.early.lock().unwrap_or_else(PoisonError::into_inner);
            wa_message_ids
                .iter()
                .flat_map(|id| early.stored(&session.id, id))
                .collect()
        };
        // In arrival order, each run of one kind together.
        for run in parked.chunk_by(|a, b| a.kind == b.kind) {
            if let Err(err) = self.apply_receipts(session, run).await {
                tracing::error!(session = %session.id, %err, "early receipt not processed");
            }
        }
    }
}

/// The event payload of a message, before storage-based enrichment.
fn payload_of(m: &InboundMessage, author: &Author, chat_jid: String) -> MessagePayload {
    let mut p = MessagePayload {
        wa_message_id: m.id.clone(),
        chat_jid,
        sender_jid: author.phone.clone(),
        sender_lid: author.lid.clone(),
        from_me: m.from_me,
        message_type: m.content.message_type().to_owned(),
        quoted_message_id: m.quoted_id.clone(),
        timestamp: m.timestamp,
        push_name: m.push_name.clone(),
        ..Default::default()
    };
    match &m.content {
        InboundContent::Text { text } => p.body = Some(text.clone()),
        InboundContent::Media { caption, .. } => {
            p.body = caption.clone();
            p.has_media = true;
        }
        InboundContent::Location {
            latitude,
            longitude,
            name,
        } => {
            p.body = name.clone();
            p.location = Some(
                serde_json::json!({"latitude": latitude, "longitude": longitude, "name": name}),
            );
        }
        InboundContent::Contact {
            display_name,
            vcard,
        } => {
            p.body = Some(display_name.clone());
            p.contact = Some(serde_json::json!({"displayName": display_name, "vcard": vcard}));
        }
        InboundContent::Poll(spec) => {
            p.body = Some(spec.name.clone());
            p.poll = Some(serde_json::json!({
                "name": spec.name, "options": spec.options,
                "selectableCount": spec.selectable_count, "endTime": spec.end_time,
                "hideVotes": spec.hide_votes,
            }));
        }
        InboundContent::PollVote { poll_id, selected } => {
            p.target_id = Some(poll_id.clone());
            p.selected_options = Some(selected.clone());
        }
        InboundContent::Reaction { target_id, emoji } => {
            p.target_id = Some(target_id.clone());
            p.reaction = (!emoji.is_empty()).then(|| emoji.clone());
        }
        InboundContent::Edit { target_id, text } => {
            // events.md §3.2: edits are `type: text` with the new text as body.
            p.message_type = "text".into();
            p.target_id = Some(target_id.clone());
            p.body = Some(text.clone());
        }
        InboundContent::Revoke { target_id } => p.target_id = Some(target_id.clone()),
        InboundContent::Other { .. } => {}
    }
    p
}

/// At most `max` bytes, cut at a UTF-8 boundary.
fn truncate_utf8(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_utf8("héllo".into(), 2), "h");
        assert_eq!(truncate_utf8("abc".into(), 10), "abc");
    }

    #[test]
    fn seen_forgets_the_oldest_beyond_capacity() {
        let mut seen = Seen::default();
        assert!(seen.first(("s".into(), "a".into())));
        assert!(!seen.first(("s".into(), "a".into())));
        for i in 0..SEEN_CAPACITY {
            seen.first(("s".into(), i.to_string()));
        }
        assert!(
            seen.first(("s".into(), "a".into())),
            "evicted, so new again"
        );
    }
}
