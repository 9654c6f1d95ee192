//! Chats and their timelines (api.md §6.1–6.3, §6.6–6.8): stored, answered from the database.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_domain::{Capability, Chat, ChatPatch, MediaMeta, StoredMessage};

use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::ListBody;
use crate::routes::api_keys::PageQuery;
use crate::state::AppState;

/// `Chat` (api.md §2.5).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatBody {
    id: i64,
    session_id: String,
    jid: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<String>,
    /// `dm`, `group`, `newsletter`, `broadcast` or `status`.
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_message_at: Option<i64>,
    unread_count: i64,
    archived: bool,
    pinned: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    muted_until: Option<i64>,
}

impl From<Chat> for ChatBody {
    fn from(c: Chat) -> Self {
        Self {
            id: c.id,
            session_id: c.session_id.to_string(),
            jid: c.jid,
            aliases: c.aliases,
            kind: c.kind.as_str(),
            name: c.name,
            last_message_at: c.last_message_at,
            unread_count: c.unread_count,
            archived: c.archived,
            pinned: c.pinned,
            muted_until: c.muted_until,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediaMetaBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    mimetype: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    filename: Option<String>,
}

impl From<MediaMeta> for MediaMetaBody {
    fn from(m: MediaMeta) -> Self {
        Self {
            mimetype: m.mimetype,
            size: m.size,
            filename: m.filename,
        }
    }
}

/// `Message` (api.md §2.6).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageBody {
    id: String,
    session_id: String,
    wa_message_id: String,
    chat_jid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sender_lid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sender_jid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sender_name: Option<String>,
    from_me: bool,
    direction: &'static str,
    #[serde(rename = "type")]
    message_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quoted_message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mentions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    mention_names: std::collections::BTreeMap<String, String>,
    has_media: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    media: Option<MediaMetaBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    edited: bool,
    deleted: bool,
    timestamp: i64,
    created_at: i64,
}

impl From<StoredMessage> for MessageBody {
    fn from(m: StoredMessage) -> Self {
        let direction = m.direction().as_str();
        Self {
            id: m.id.to_string(),
            session_id: m.session_id.to_string(),
            wa_message_id: m.wa_message_id,
            chat_jid: m.chat_jid,
            sender_lid: m.sender_lid,
            sender_jid: m.sender_jid,
            sender_name: m.sender_name,
            from_me: m.from_me,
            direction,
            message_type: m.message_type,
            body: m.body,
            quoted_message_id: m.quoted_message_id,
            mentions: m.mentions,
            mention_names: m.mention_names,
            has_media: m.media.is_some(),
            media: m.media.map(Into::into),
            status: m.status.map(|s| s.as_str()),
            error: m.error,
            edited: m.edited,
            deleted: m.deleted,
            timestamp: m.timestamp,
            created_at: m.created_at,
        }
    }
}

/// The chats of a session with at least one message, newest activity first.
#[utoipa::path(get, path = "/api/v1/sessions/{session}/chats", operation_id = "listChats",
    tag = "Chats", params(("session" = String, Path), PageQuery),
    responses((status = 200, body = ListBody<ChatBody>), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn list_chats(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(session): ApiPath<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<ListBody<ChatBody>>> {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Read)
        .await?;
    let page = state
        .services
        .messaging
        .list_chats(&s, query.into())
        .await?;
    Ok(Json(ListBody::page(
        page.data.into_iter().map(Into::into).collect(),
        page.next_cursor,
    )))
}

/// One chat; for DMs the phone JID and the LID of the same person both find it.
#[utoipa::path(get, path = "/api/v1/sessions/{session}/chats/{cid}", operation_id = "getChat",
    tag = "Chats", params(("session" = String, Path), ("cid" = String, Path)),
    responses((status = 200, body = ChatBody), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get_chat(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((session, cid)): ApiPath<(String, String)>,
) -> ApiResult<Json<ChatBody>> {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Read)
        .await?;
    Ok(Json(
        state.services.messaging.get_chat(&s, &cid).await?.into(),
    ))
}

/// A chat's messages, newest first (both forms of a DM as one timeline).
#[utoipa::path(get, path = "/api/v1/sessions/{session}/chats/{cid}/messages",
    operation_id = "listChatMessages", tag = "Chats",
    params(("session" = String, Path), ("cid" = String, Path), PageQuery),
    responses((status = 200, body = ListBody<MessageBody>), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn list_chat_messages(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((session, cid)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<ListBody<MessageBody>>> {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Read)
        .await?;
    let page = state
        .services
        .messaging
        .list_chat_messages(&s, &cid, query.into())
        .await?;
    Ok(Json(ListBody::page(
        page.data.into_iter().map(Into::into).collect(),
        page.next_cursor,
    )))
}

/// Marks the chat read locally (no receipts are sent).
#[utoipa::path(post, path = "/api/v1/sessions/{session}/chats/{cid}/read",
    operation_id = "readChat", tag = "Chats",
    params(("session" = String, Path), ("cid" = String, Path)),
    responses((status = 200, body = ChatBody), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn read_chat(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((session, cid)): ApiPath<(String, String)>,
) -> ApiResult<Json<ChatBody>> {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Send)
        .await?;
    Ok(Json(
        state.services.messaging.read_chat(&s, &cid).await?.into(),
    ))
}

/// `updateChat` body: local flags; absent = unchanged.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateChatBody {
    archived: Option<bool>,
    pinned: Option<bool>,
    /// Epoch-ms.
    muted_until: Option<i64>,
    /// `true` clears `mutedUntil` and wins over it.
    unmute: Option<bool>,
}

/// Sets local chat flags (archived, pinned, muted).
#[utoipa::path(patch, path = "/api/v1/sessions/{session}/chats/{cid}",
    operation_id = "updateChat", tag = "Chats",
    params(("session" = String, Path), ("cid" = String, Path)), request_body = UpdateChatBody,
    responses((status = 200, body = ChatBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn update_chat(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((session, cid)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<UpdateChatBody>,
) -> ApiResult<Json<ChatBody>> {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Send)
        .await?;
    let muted_until = if body.unmute == Some(true) {
        Some(None)
    } else {
        body.muted_until.map(Some)
    };
    let patch = ChatPatch {
        archived: body.archived,
        pinned: body.pinned,
        muted_until,
    };
    Ok(Json(
        state
            .services
            .messaging
            .update_chat(&s, &cid, patch)
            .await?
            .into(),
    ))
}

/// Deletes the chat and its messages locally; it stays on WhatsApp.
#[utoipa::path(delete, path = "/api/v1/sessions/{session}/chats/{cid}",
    operation_id = "deleteChat", tag = "Chats",
    params(("session" = String, Path), ("cid" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn delete_chat(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((session, cid)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Send)
        .await?;
    state.services.messaging.delete_chat(&s, &cid).await?;
    Ok(StatusCode::NO_CONTENT)
}
