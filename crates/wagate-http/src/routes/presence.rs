//! Presence (api.md §6.4, §6.5, §10.2): live, through the session's engine client.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_domain::engine::{ChatPresence, OwnPresence};
use wagate_domain::{Capability, PresencePayload};

use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::state::AppState;

/// `PresenceStatus` (api.md §2.8).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PresenceStatusBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    chat_jid: Option<String>,
    from: String,
    /// `unknown`, `available`, `unavailable`, `composing` or `paused`.
    state: &'static str,
    /// `audio` while recording a voice note.
    #[serde(skip_serializing_if = "Option::is_none")]
    media: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unavailable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_seen: Option<i64>,
}

impl From<PresencePayload> for PresenceStatusBody {
    fn from(p: PresencePayload) -> Self {
        Self {
            chat_jid: p.chat_jid,
            from: p.from,
            state: p.state.as_str(),
            media: p.media,
            unavailable: p.unavailable,
            last_seen: p.last_seen,
        }
    }
}

/// Subscribe to a contact's presence; answers a snapshot, the real state follows as a
/// `presence.update` event.
#[utoipa::path(get, path = "/api/v1/sessions/{session}/chats/{cid}/presence",
    operation_id = "getChatPresence", tag = "Chats",
    params(("session" = String, Path), ("cid" = String, Path)),
    responses((status = 200, body = PresenceStatusBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn get_chat_presence(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((session, cid)): ApiPath<(String, String)>,
) -> ApiResult<Json<PresenceStatusBody>> {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Read)
        .await?;
    let snapshot = state.services.messaging.chat_presence(&s, &cid).await?;
    Ok(Json(snapshot.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChatPresenceState {
    Composing,
    Paused,
    /// Sent as "composing audio".
    Recording,
}

impl From<ChatPresenceState> for ChatPresence {
    fn from(state: ChatPresenceState) -> Self {
        match state {
            ChatPresenceState::Composing => Self::Composing,
            ChatPresenceState::Paused => Self::Paused,
            ChatPresenceState::Recording => Self::Recording,
        }
    }
}

/// `setChatPresence` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetChatPresenceBody {
    state: Option<ChatPresenceState>,
}

/// Show a typing, recording or paused indicator in a chat.
#[utoipa::path(put, path = "/api/v1/sessions/{session}/chats/{cid}/presence",
    operation_id = "setChatPresence", tag = "Chats",
    params(("session" = String, Path), ("cid" = String, Path)),
    request_body = SetChatPresenceBody,
    responses((status = 204), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn set_chat_presence(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((session, cid)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<SetChatPresenceBody>,
) -> ApiResult<StatusCode> {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Send)
        .await?;
    let typing = body.state.map(ChatPresence::from).ok_or_else(|| {
        ApiError::validation(
            "state must be one of composing, paused, recording",
            Vec::new(),
        )
    })?;
    state
        .services
        .messaging
        .set_chat_presence(&s, &cid, typing)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OwnPresenceState {
    Online,
    Offline,
}

impl From<OwnPresenceState> for OwnPresence {
    fn from(state: OwnPresenceState) -> Self {
        match state {
            OwnPresenceState::Online => Self::Available,
            OwnPresenceState::Offline => Self::Unavailable,
        }
    }
}

/// `setPresence` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPresenceBody {
    state: Option<OwnPresenceState>,
}

/// Set the account's availability (online or offline).
#[utoipa::path(put, path = "/api/v1/sessions/{session}/presence", operation_id = "setPresence",
    tag = "Presence", params(("session" = String, Path)), request_body = SetPresenceBody,
    responses((status = 204), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn set_presence(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(session): ApiPath<String>,
    ApiJson(body): ApiJson<SetPresenceBody>,
) -> ApiResult<StatusCode> {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Send)
        .await?;
    let presence = body
        .state
        .map(OwnPresence::from)
        .ok_or_else(|| ApiError::validation("state must be online or offline", Vec::new()))?;
    state.services.messaging.set_presence(&s, presence).await?;
    Ok(StatusCode::NO_CONTENT)
}
