//! Row shapes of the messaging tables (chats, messages, identities, outbox) and their
//! conversion to domain types. JSON columns are TEXT in both backends.

use wagate_domain::{
    Chat, ChatKind, Identity, MediaMeta, MediaRef, MessageId, MessageStatus, OrgId, OutboxEntry,
    OutboxId, OutboxStatus, SessionId, StoreError, StoredMessage,
};

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("corrupt {what} row: {detail}").into())
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(Box::new(e)))
}

fn from_json<T: serde::de::DeserializeOwned>(
    what: &str,
    text: Option<String>,
) -> Result<Option<T>, StoreError> {
    text.map(|t| serde_json::from_str(&t).map_err(|e| corrupt(what, e)))
        .transpose()
}

pub(crate) fn chat_kind(s: &str) -> Result<ChatKind, StoreError> {
    Ok(match s {
        "dm" => ChatKind::Dm,
        "group" => ChatKind::Group,
        "newsletter" => ChatKind::Newsletter,
        "broadcast" => ChatKind::Broadcast,
        "status" => ChatKind::Status,
        other => return Err(corrupt("chat", format!("type {other:?}"))),
    })
}

/// The columns every chat query selects (see `messages::CHAT_SELECT`).
#[derive(sqlx::FromRow)]
pub(crate) struct ChatRow {
    id: i64,
    session_id: String,
    chat_jid: String,
    #[sqlx(rename = "type")]
    kind: String,
    name: Option<String>,
    alias_lid: Option<String>,
    alias_phone: Option<String>,
    last_message_at: Option<i64>,
    unread_count: i64,
    archived: bool,
    pinned: bool,
    muted_until: Option<i64>,
}

impl TryFrom<ChatRow> for Chat {
    type Error = StoreError;
    fn try_from(r: ChatRow) -> Result<Self, StoreError> {
        let kind = chat_kind(&r.kind)?;
        Ok(Chat {
            id: r.id,
            session_id: SessionId::from_trusted(r.session_id),
            jid: r.chat_jid,
            kind,
            name: r.name,
            aliases: [r.alias_lid, r.alias_phone].into_iter().flatten().collect(),
            last_message_at: r.last_message_at,
            unread_count: r.unread_count,
            archived: r.archived,
            pinned: r.pinned,
            muted_until: r.muted_until,
        })
    }
}

/// The columns every message query selects (see `messages::MESSAGE_SELECT`).
#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    id: String,
    session_id: String,
    wa_message_id: String,
    chat_jid: String,
    sender_lid: Option<String>,
    sender_jid: Option<String>,
    sender_name: Option<String>,
    from_me: bool,
    #[sqlx(rename = "type")]
    message_type: String,
    body: Option<String>,
    quoted_message_id: Option<String>,
    mentions: Option<String>,
    media_meta: Option<String>,
    media_ref: Option<String>,
    status: Option<String>,
    error: Option<String>,
    edited: bool,
    deleted: bool,
    timestamp: i64,
    created_at: i64,
}

impl TryFrom<MessageRow> for StoredMessage {
    type Error = StoreError;
    fn try_from(r: MessageRow) -> Result<Self, StoreError> {
        let status = r
            .status
            .map(|s| MessageStatus::parse(&s).ok_or_else(|| corrupt("message", s)))
            .transpose()?;
        Ok(StoredMessage {
            id: MessageId::from_trusted(r.id),
            session_id: SessionId::from_trusted(r.session_id),
            wa_message_id: r.wa_message_id,
            chat_jid: r.chat_jid,
            sender_lid: r.sender_lid,
            sender_jid: r.sender_jid,
            sender_name: r.sender_name,
            from_me: r.from_me,
            message_type: r.message_type,
            body: r.body,
            quoted_message_id: r.quoted_message_id,
            mentions: from_json("message mentions", r.mentions)?,
            mention_names: Default::default(),
            media: from_json::<MediaMeta>("message media", r.media_meta)?,
            media_ref: from_json::<MediaRef>("message media ref", r.media_ref)?,
            status,
            error: r.error,
            edited: r.edited,
            deleted: r.deleted,
            timestamp: r.timestamp,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct IdentityRow {
    id: i64,
    lid: String,
    phone_number: Option<String>,
    phone_jid: Option<String>,
    name: Option<String>,
    business_name: Option<String>,
    first_seen_at: i64,
    updated_at: i64,
}

impl From<IdentityRow> for Identity {
    fn from(r: IdentityRow) -> Self {
        Identity {
            id: r.id,
            lid: r.lid,
            phone_number: r.phone_number,
            phone_jid: r.phone_jid,
            name: r.name,
            business_name: r.business_name,
            first_seen_at: r.first_seen_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct OutboxRow {
    id: String,
    organization_id: String,
    session_id: String,
    idempotency_key: Option<String>,
    fingerprint: Option<String>,
    payload: String,
    status: String,
    attempts: i64,
    wa_message_id: Option<String>,
    error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<OutboxRow> for OutboxEntry {
    type Error = StoreError;
    fn try_from(r: OutboxRow) -> Result<Self, StoreError> {
        let status = OutboxStatus::parse(&r.status).ok_or_else(|| corrupt("outbox", &r.status))?;
        Ok(OutboxEntry {
            id: OutboxId::from_trusted(r.id),
            organization_id: OrgId::from_trusted(r.organization_id),
            session_id: SessionId::from_trusted(r.session_id),
            idempotency_key: r.idempotency_key,
            fingerprint: r.fingerprint,
            payload: r.payload,
            status,
            attempts: r.attempts,
            wa_message_id: r.wa_message_id,
            error: r.error,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}
