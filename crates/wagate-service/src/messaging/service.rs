//! Messaging use cases on a session the caller may reach (the HTTP layer resolves it with
//! [`crate::SessionService::access`] first): chats and messages from the store, and live
//! message operations through the session's engine client.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use wagate_domain::engine::{MessageKey, OutgoingMessage, SentMessage};
use wagate_domain::{
    Chat, ChatPatch, ChatTouch, Clock, EngineClient, Jid, MessageId, MessageStatus, MessageStore,
    NewMessage, Session, SessionId, StoredMessage,
};

use super::budget::SendBudget;
use super::group_commit::GroupCommit;
use super::outbox_outcomes::OutcomeBatch;
use super::send_request::{PendingUrl, SendRequest};
use super::sent_records::SentRecords;
use crate::session_manager::engine_error;
use crate::{Page, PageRequest, ServiceError, ServiceResult, SessionManager};

const MEDIA_DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// How long an `Idempotency-Key` is remembered by default (D4).
pub const DEFAULT_KEY_TTL: Duration = Duration::from_secs(24 * 3600);

pub struct MessagingService {
    store: Arc<dyn MessageStore>,
    manager: SessionManager,
    clock: Arc<dyn Clock>,
    budget: SendBudget,
    http: reqwest::Client,
    key_ttl: Duration,
    /// Where sent messages are stored, in group commits.
    sent_records: SentRecords,
    /// Where outbox outcomes are stored, in group commits.
    outbox_outcomes: GroupCommit<OutcomeBatch>,
    /// Tells the outbox worker a session has a new queued send (set when it starts).
    outbox_waker: OnceLock<UnboundedSender<SessionId>>,
}

/// A sent message as it will be stored ([`MessagingService::outgoing_record`]).
pub(crate) struct OutgoingRecord {
    touch: ChatTouch,
    row: NewMessage,
    poll: Option<wagate_domain::PollSpec>,
}

/// The target of a message operation (edit, revoke, react, forward, vote).
#[derive(Debug, Clone, Default)]
pub struct TargetRef {
    pub chat: Option<String>,
    pub sender: Option<String>,
}

impl MessagingService {
    pub fn new(
        store: Arc<dyn MessageStore>,
        manager: SessionManager,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let http = reqwest::Client::builder()
            .timeout(MEDIA_DOWNLOAD_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .unwrap_or_default();
        Self {
            sent_records: SentRecords::new(store.clone()),
            outbox_outcomes: GroupCommit::new(OutcomeBatch {
                store: store.clone(),
            }),
            store,
            manager,
            clock,
            budget: SendBudget::default(),
            http,
            key_ttl: DEFAULT_KEY_TTL,
            outbox_waker: OnceLock::new(),
        }
    }

    /// How long an `Idempotency-Key` stays bound to its first request.
    pub fn with_key_ttl(mut self, ttl: Duration) -> Self {
        self.key_ttl = ttl;
        self
    }

    pub(crate) fn key_ttl_ms(&self) -> i64 {
        i64::try_from(self.key_ttl.as_millis()).unwrap_or(i64::MAX)
    }

    /// Records the outcome of an outbox row's dispatch (in a group commit).
    pub(crate) async fn finish_outbox(
        &self,
        outcome: wagate_domain::OutboxOutcome,
    ) -> ServiceResult<()> {
        Ok(self.outbox_outcomes.submit(outcome).await?)
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn set_outbox_waker(&self, waker: UnboundedSender<SessionId>) {
        let _ = self.outbox_waker.set(waker);
    }

    pub(crate) fn wake_outbox(&self, session: &SessionId) {
        if let Some(waker) = self.outbox_waker.get() {
            let _ = waker.send(session.clone());
        }
    }

    pub fn store(&self) -> &Arc<dyn MessageStore> {
        &self.store
    }

    // ---- Chats (stored) ----

    pub async fn list_chats(&self, s: &Session, page: PageRequest) -> ServiceResult<Page<Chat>> {
        let after = page.cursor.as_deref().map(parse_chat_cursor).transpose()?;
        let chats = self.store.list_chats(&s.id, after, page.limit).await?;
        Ok(Page::new(chats, page.limit, |c| {
            format!("{}:{}", c.last_message_at.unwrap_or(0), c.id)
        }))
    }

    pub async fn get_chat(&self, s: &Session, cid: &str) -> ServiceResult<Chat> {
        self.store
            .get_chat(&s.id, cid.trim())
            .await?
            .ok_or_else(|| ServiceError::NotFound("chat not found".into()))
    }

    /// A chat's timeline, newest first, across its LID and phone forms. An unknown chat is
    /// `404` (issue 4; the reference answers an empty list).
    pub async fn list_chat_messages(
        &self,
        s: &Session,
        cid: &str,
        page: PageRequest,
    ) -> ServiceResult<Page<StoredMessage>> {
        let before = match page.cursor.as_deref() {
            Some(c) if c.trim() != c || c.is_empty() => {
                return Err(ServiceError::validation("invalid cursor"));
            }
            Some(c) => {
                Some(MessageId::parse(c).map_err(|_| ServiceError::validation("invalid cursor"))?)
            }
            None => None,
        };
        let chat = self.get_chat(s, cid).await?;
        let mut jids = vec![chat.jid.clone()];
        jids.extend(chat.aliases.iter().filter(|a| **a != chat.jid).cloned());
        jids.truncate(2);
        let rows = self
            .store
            .list_chat_messages(&s.id, &jids, before.as_ref(), page.limit)
            .await?;
        Ok(Page::new(rows, page.limit, |m| m.id.to_string()))
    }

    pub async fn read_chat(&self, s: &Session, cid: &str) -> ServiceResult<Chat> {
        let chat = self.get_chat(s, cid).await?;
        self.store
            .update_chat(&s.id, chat.id, &ChatPatch::default(), true)
            .await?;
        self.get_chat(s, &chat.jid).await
    }

    pub async fn update_chat(
        &self,
        s: &Session,
        cid: &str,
        patch: ChatPatch,
    ) -> ServiceResult<Chat> {
        let chat = self.get_chat(s, cid).await?;
        self.store
            .update_chat(&s.id, chat.id, &patch, false)
            .await?;
        self.get_chat(s, &chat.jid).await
    }

    pub async fn delete_chat(&self, s: &Session, cid: &str) -> ServiceResult<()> {
        let chat = self.get_chat(s, cid).await?;
        self.store.delete_chat(&s.id, chat.id).await?;
        Ok(())
    }

    // ---- Live ----

    /// The session's connected client, or `501` with its status (api.md §1.9, D3).
    pub async fn live(&self, s: &Session) -> ServiceResult<Arc<dyn EngineClient>> {
        self.manager.require_live(s)
    }

    /// One unit of the session's send budget (api.md §1.11).
    pub fn consume_budget(&self, s: &Session) -> ServiceResult<()> {
        self.budget
            .admit(&s.id, s.rate_per_min, s.rate_per_hour, self.clock.now_ms())
            .map_err(|retry_after| ServiceError::RateLimited { retry_after })
    }

    /// Validates a send without fetching its media URLs (they are fetched when it is sent).
    pub async fn validate(&self, req: &SendRequest) -> ServiceResult<()> {
        req.build(|_, _| async { Ok((vec![0], None)) }).await?;
        Ok(())
    }

    /// Validates a send and resolves its media (bounded downloads).
    pub async fn prepare(&self, req: &SendRequest) -> ServiceResult<OutgoingMessage> {
        let mut message = req.build(|url, limit| self.download(url, limit)).await?;
        if let Some(reply) = req
            .reply_to
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            message.reply_to = Some(wagate_domain::engine::Quote {
                id: reply.to_owned(),
                ..Default::default()
            });
        }
        Ok(message)
    }

    /// `sendMessage` (sync): budget, live send, then the outgoing row.
    pub async fn send(&self, s: &Session, req: &SendRequest) -> ServiceResult<SentMessage> {
        let message = self.prepare(req).await?;
        self.send_prepared(s, message).await
    }

    /// [`Self::send`] for a message [`Self::prepare`] already validated.
    pub async fn send_prepared(
        &self,
        s: &Session,
        mut message: OutgoingMessage,
    ) -> ServiceResult<SentMessage> {
        let client = self.live(s).await?;
        self.consume_budget(s)?;
        self.enrich_quote(s, &mut message).await?;
        self.dispatch(s, &client, message).await
    }

    /// Sends a prepared message and records it (recording failures are logged, not returned:
    /// the message is out).
    pub async fn dispatch(
        &self,
        s: &Session,
        client: &Arc<dyn EngineClient>,
        message: OutgoingMessage,
    ) -> ServiceResult<SentMessage> {
        let sent = self.send_only(client, &message).await?;
        let record = self.outgoing_record(s, &message, &sent);
        self.store_outgoing(s, record).await;
        Ok(sent)
    }

    /// Sends a prepared message without recording it: [`Self::outgoing_record`] and
    /// [`Self::store_outgoing`] do that.
    pub(crate) async fn send_only(
        &self,
        client: &Arc<dyn EngineClient>,
        message: &OutgoingMessage,
    ) -> ServiceResult<SentMessage> {
        client.send(message.clone()).await.map_err(engine_error)
    }

    pub(crate) async fn enrich_quote(
        &self,
        s: &Session,
        message: &mut OutgoingMessage,
    ) -> ServiceResult<()> {
        if let Some(quote) = message.reply_to.as_mut()
            && let Some(q) = self.store.get_message(&s.id, &quote.id).await?
        {
            quote.text = q.body;
            quote.participant = q
                .sender_lid
                .or(q.sender_jid)
                .and_then(|j| Jid::parse(&j).ok());
        }
        Ok(())
    }

    /// The stored form of a sent message. Built when the send returns, so messages sent one
    /// after the other get ids (and a timeline place) in that order, however their stores
    /// overlap.
    pub(crate) fn outgoing_record(
        &self,
        s: &Session,
        message: &OutgoingMessage,
        sent: &SentMessage,
    ) -> OutgoingRecord {
        let to = message.to.canonical();
        // Made canonical (a DM's LID) by the group commit that stores it.
        let chat_jid = to.to_string();
        let now = self.clock.now_ms();
        let media = match &message.content {
            wagate_domain::engine::OutgoingContent::Media(m) => Some(wagate_domain::MediaMeta {
                mimetype: Some(m.mimetype.clone()),
                size: Some(m.data.len() as u64),
                filename: m.filename.clone(),
            }),
            _ => None,
        };
        let row = NewMessage {
            id: MessageId::generate(),
            session_id: s.id.clone(),
            wa_message_id: sent.id.clone(),
            chat_jid: chat_jid.clone(),
            sender_lid: None,
            sender_jid: None,
            from_me: true,
            message_type: message.content.message_type().to_owned(),
            body: message.content.body().map(str::to_owned),
            quoted_message_id: message.reply_to.as_ref().map(|q| q.id.clone()),
            mentions: (!message.mentions.is_empty()).then(|| {
                message
                    .mentions
                    .iter()
                    .map(|j| j.canonical().to_string())
                    .collect()
            }),
            media,
            media_ref: None,
            status: Some(MessageStatus::Sent),
            timestamp: sent.timestamp,
            created_at: now,
        };
        let touch = ChatTouch {
            session_id: s.id.clone(),
            jid: chat_jid,
            kind: to.kind(),
            name: None,
            last_message_at: sent.timestamp,
            unread: false,
        };
        let poll = match &message.content {
            wagate_domain::engine::OutgoingContent::Poll(spec) => Some(spec.clone()),
            _ => None,
        };
        OutgoingRecord { touch, row, poll }
    }

    /// Stores a sent message (failures are logged, not returned: the message is out).
    pub(crate) async fn store_outgoing(&self, s: &Session, record: OutgoingRecord) {
        if let Err(err) = self.try_store_outgoing(s, record).await {
            tracing::warn!(session = %s.id, %err, "sent message not recorded");
        }
    }

    async fn try_store_outgoing(&self, s: &Session, record: OutgoingRecord) -> ServiceResult<()> {
        let OutgoingRecord { touch, row, poll } = record;
        let (wa_id, now) = (row.wa_message_id.clone(), row.created_at);
        let chat_jid = self.sent_records.record(touch, row).await?;
        // Its delivery receipt may have come back before the row was committed.
        self.manager
            .sent_stored(s, std::slice::from_ref(&wa_id))
            .await;
        if let Some(spec) = poll {
            self.store
                .upsert_poll(&s.id, &wa_id, &chat_jid, &spec, now)
                .await?;
        }
        Ok(())
    }

    /// A media URL, at most `limit` bytes, within the download deadline.
    async fn download(
        &self,
        url: PendingUrl,
        limit: usize,
    ) -> ServiceResult<(Vec<u8>, Option<String>)> {
        let failed = || ServiceError::validation(format!("{} could not be downloaded", url.label));
        let mut response = self.http.get(&url.url).send().await.map_err(|_| failed())?;
        if !response.status().is_success() {
            return Err(ServiceError::validation(format!(
                "{} returned HTTP {}",
                url.label,
                response.status().as_u16()
            )));
        }
        let mime = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned())
            .filter(|v| !v.is_empty() && v != "application/octet-stream");
        let mut bytes = Vec::new();
        // Streamed with a running bound: a huge body is refused without being held whole.
        while let Some(chunk) = response.chunk().await.map_err(|_| failed())? {
            if bytes.len() + chunk.len() > limit {
                return Err(ServiceError::validation(format!(
                    "media exceeds the {limit} byte limit"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.is_empty() {
            return Err(ServiceError::validation(format!(
                "{} downloaded an empty file",
                url.label
            )));
        }
        Ok((bytes, mime))
    }

    // ---- Message operations (live, budgeted) ----

    fn key(target: &TargetRef, mid: &str) -> ServiceResult<MessageKey> {
        let chat = target.chat.as_deref().map(str::trim).unwrap_or_default();
        if chat.is_empty() {
            return Err(ServiceError::validation("chat is required"));
        }
        let mid = mid.trim();
        if mid.is_empty() {
            return Err(ServiceError::validation("target message id is required"));
        }
        let sender = target
            .sender
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(parse_jid)
            .transpose()?;
        Ok(MessageKey {
            chat: parse_jid(chat)?,
            id: mid.to_owned(),
            sender,
        })
    }

    async fn op_client(&self, s: &Session) -> ServiceResult<Arc<dyn EngineClient>> {
        let client = self.live(s).await?;
        self.consume_budget(s)?;
        Ok(client)
    }

    pub async fn edit(
        &self,
        s: &Session,
        mid: &str,
        target: &TargetRef,
        text: Option<&str>,
    ) -> ServiceResult<SentMessage> {
        let key = Self::key(target, mid)?;
        let text = text
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ServiceError::validation("newText is required for edit"))?;
        let client = self.op_client(s).await?;
        let sent = client.edit(&key, text).await.map_err(engine_error)?;
        self.store.mark_edited(&s.id, &key.id, text).await?;
        Ok(sent)
    }

    pub async fn revoke(
        &self,
        s: &Session,
        mid: &str,
        target: &TargetRef,
    ) -> ServiceResult<SentMessage> {
        let key = Self::key(target, mid)?;
        let client = self.op_client(s).await?;
        let sent = client.revoke(&key).await.map_err(engine_error)?;
        self.store.mark_deleted(&s.id, &key.id).await?;
        Ok(sent)
    }

    /// An empty emoji removes the reaction (api.md §5.4–5.5).
    pub async fn react(
        &self,
        s: &Session,
        mid: &str,
        target: &TargetRef,
        emoji: &str,
    ) -> ServiceResult<SentMessage> {
        let key = Self::key(target, mid)?;
        let client = self.op_client(s).await?;
        client.react(&key, emoji.trim()).await.map_err(engine_error)
    }

    /// Forwards the stored original's content (issue 4: the real content, not an empty text).
    pub async fn forward(
        &self,
        s: &Session,
        mid: &str,
        target: &TargetRef,
        to: Option<&str>,
    ) -> ServiceResult<SentMessage> {
        let key = Self::key(target, mid)?;
        let to = to
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ServiceError::validation("destination 'to' is required for forward"))?;
        let to = parse_jid(to)?;
        let original = self
            .store
            .get_message(&s.id, &key.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound("message not found".into()))?;
        let client = self.live(s).await?;
        let content = forward_content(&client, &original).await?;
        self.consume_budget(s)?;
        let mut message = OutgoingMessage::new(to, content);
        message.forwarded = true;
        self.dispatch(s, &client, message).await
    }

    pub async fn vote(
        &self,
        s: &Session,
        mid: &str,
        target: &TargetRef,
        options: &[String],
    ) -> ServiceResult<SentMessage> {
        let key = Self::key(target, mid)?;
        if options.is_empty() {
            return Err(ServiceError::validation(
                "at least one option is required for vote",
            ));
        }
        let poll = self
            .store
            .get_poll(&s.id, &key.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound("poll not found".into()))?;
        if let Some(unknown) = options.iter().find(|o| !poll.options.contains(o)) {
            return Err(ServiceError::validation(format!(
                "unknown poll option {unknown:?}"
            )));
        }
        let client = self.op_client(s).await?;
        client
            .vote(&key, &poll, options)
            .await
            .map_err(engine_error)
    }
}

/// The content of a stored message as a new outgoing message (media re-downloaded through the
/// engine, since bytes are never stored).
async fn forward_content(
    client: &Arc<dyn EngineClient>,
    m: &StoredMessage,
) -> ServiceResult<wagate_domain::engine::OutgoingContent> {
    use wagate_domain::engine::{OutgoingContent, OutgoingMedia};
    if let Some(media) = &m.media_ref {
        let data = client.download(media).await.map_err(engine_error)?;
        return Ok(OutgoingContent::Media(OutgoingMedia {
            kind: media.kind,
            data,
            mimetype: media
                .mimetype
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into()),
            caption: m.body.clone(),
            filename: media.filename.clone(),
        }));
    }
    match m.body.clone() {
        Some(text) if !text.is_empty() => Ok(OutgoingContent::Text {
            text,
            link_preview: None,
        }),
        _ => Err(ServiceError::validation(
            "this message has no content that can be forwarded",
        )),
    }
}

/// A JID the caller gave (path, query or body), trimmed: `400 invalid jid: …` when malformed
/// (D3: a malformed JID is the caller's mistake, never a 500).
pub(super) fn parse_jid(text: &str) -> ServiceResult<Jid> {
    Jid::parse(text.trim()).map_err(|e| ServiceError::validation(e.to_string()))
}

fn parse_chat_cursor(c: &str) -> ServiceResult<(i64, i64)> {
    let invalid = || ServiceError::validation("invalid cursor");
    let (at, id) = c.split_once(':').ok_or_else(invalid)?;
    let num = |s: &str| {
        if s.is_empty() || s.chars().any(char::is_whitespace) {
            return Err(invalid());
        }
        s.parse::<i64>().map_err(|_| invalid())
    };
    Ok((num(at)?, num(id)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_cursors_are_two_decimals() {
        assert_eq!(parse_chat_cursor("170:5").unwrap(), (170, 5));
        for bad in ["", "170", "a:1", "1: 2", " 1:2", "1:2:3"] {
            assert!(parse_chat_cursor(bad).is_err(), "{bad:?}");
        }
    }
}
