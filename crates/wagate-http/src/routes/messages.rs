//! Sending and message operations (api.md §5): live, budgeted, synchronous.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wagate_domain::engine::SentMessage;
use wagate_domain::{Capability, OutboxEntry, OutboxStatus};
use wagate_service::{SendOutcome, SendRequest, Submission, TargetRef};

use crate::error::{ApiError, ApiResult, ErrorCode, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::state::AppState;

/// `sendMessage` bodies carry base64 media (api.md §1.12).
const SEND_BODY_LIMIT: usize = 88 * 1024 * 1024;

/// `SendResult` (api.md §2.10).
#[derive(Serialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct SendResultBody {
    mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    wa_message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outbox_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replayed: Option<bool>,
}

impl From<SentMessage> for SendResultBody {
    fn from(s: SentMessage) -> Self {
        Self {
            mode: "sync",
            wa_message_id: Some(s.id),
            status: Some("sent"),
            timestamp: Some(s.timestamp),
            ..Default::default()
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SendQuery {
    /// `true` to queue the send: answered `202` with its `outboxId`, sent by the outbox worker.
    #[serde(default, rename = "async")]
    is_async: Option<String>,
}

fn parse_bool(raw: &str) -> Option<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "t" => Some(true),
        "false" | "0" | "f" => Some(false),
        _ => None,
    }
}

/// The answer for an entry found under a reused key (api.md §1.10).
fn replay(entry: OutboxEntry) -> Response {
    let mut body = SendResultBody {
        outbox_id: Some(entry.id.to_string()),
        replayed: Some(true),
        ..Default::default()
    };
    match entry.status {
        OutboxStatus::Sent => {
            body.mode = "sync";
            body.status = Some("sent");
            body.wa_message_id = entry.wa_message_id;
            body.timestamp = Some(entry.updated_at);
            (StatusCode::OK, Json(body)).into_response()
        }
        OutboxStatus::Failed => {
            body.mode = "sync";
            body.status = Some("failed");
            (StatusCode::OK, Json(body)).into_response()
        }
        OutboxStatus::Queued | OutboxStatus::Sending => {
            body.mode = "async";
            (StatusCode::ACCEPTED, Json(body)).into_response()
        }
    }
}

/// Send a message of any type (text, poll, location, contact, media, album).
#[utoipa::path(post, path = "/api/v1/sessions/{session}/messages", operation_id = "sendMessage",
    tag = "Messages", params(("session" = String, Path), SendQuery,
        ("Idempotency-Key" = Option<String>, Header)),
    request_body = SendRequestBody,
    responses((status = 200, body = SendResultBody), (status = 202, body = SendResultBody),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope),
        (status = 501, body = ErrorEnvelope), (status = 503, body = ErrorEnvelope)))]
pub async fn send_message(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(session): ApiPath<String>,
    ApiQuery(query): ApiQuery<SendQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Send)
        .await?;
    // Read here rather than by an extractor: this body may be 88 MiB, the others 1 MiB.
    let raw = axum::body::to_bytes(body, SEND_BODY_LIMIT)
        .await
        .map_err(|_| ApiError::new(ErrorCode::PayloadTooLarge, "request body too large"))?;
    let req: SendRequest = serde_json::from_slice(&raw)
        .map_err(|e| ApiError::validation("invalid JSON body", vec![e.to_string()]))?;
    let is_async = match query.is_async.as_deref() {
        None | Some("") => false,
        Some(v) => {
            parse_bool(v).ok_or_else(|| ApiError::validation("async must be a boolean", vec![]))?
        }
    };
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned);
    let submission = Submission {
        request: &req,
        raw_body: &raw,
        idempotency_key,
        queue: is_async,
    };
    Ok(
        match state.services.messaging.submit(&s, submission).await? {
            SendOutcome::Sent { sent, outbox_id } => {
                let mut body = SendResultBody::from(sent);
                body.outbox_id = outbox_id.map(|id| id.to_string());
                Json(body).into_response()
            }
            SendOutcome::Queued(id) => (
                StatusCode::ACCEPTED,
                Json(SendResultBody {
                    mode: "async",
                    outbox_id: Some(id.to_string()),
                    ..Default::default()
                }),
            )
                .into_response(),
            SendOutcome::Replayed(entry) => replay(*entry),
        },
    )
}

/// `OutboxEntry` (D4): where an asynchronous or idempotent send stands.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntryBody {
    id: String,
    session_id: String,
    /// `queued`, `sending`, `sent` or `failed`.
    status: &'static str,
    attempts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    wa_message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    idempotency_key: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl From<OutboxEntry> for OutboxEntryBody {
    fn from(e: OutboxEntry) -> Self {
        Self {
            id: e.id.to_string(),
            session_id: e.session_id.to_string(),
            status: e.status.as_str(),
            attempts: e.attempts,
            wa_message_id: e.wa_message_id,
            error: e.error,
            idempotency_key: e.idempotency_key,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// Where an asynchronous (or idempotent) send stands.
#[utoipa::path(get, path = "/api/v1/sessions/{session}/outbox/{outboxId}",
    operation_id = "getOutboxEntry", tag = "Messages",
    params(("session" = String, Path), ("outboxId" = String, Path)),
    responses((status = 200, body = OutboxEntryBody), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get_outbox_entry(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((session, outbox_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<OutboxEntryBody>> {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Read)
        .await?;
    let entry = state
        .services
        .messaging
        .outbox_entry_of(&s, &outbox_id)
        .await?;
    Ok(Json(entry.into()))
}

/// `SendRequest` as documented (api.md §5.1); validated by the service.
#[derive(ToSchema)]
#[allow(dead_code)] // documentation only: the handler reads the body as `SendRequest`
#[schema(as = SendRequest)]
pub struct SendRequestBody {
    /// `text`, `poll`, `location`, `contact`, `image`, `video`, `audio`, `document`, `sticker`,
    /// `album`.
    #[schema(rename = "type")]
    kind: String,
    to: String,
    text: Option<String>,
    #[schema(rename = "replyTo")]
    reply_to: Option<String>,
    mentions: Option<Vec<String>>,
    name: Option<String>,
    options: Option<Vec<String>>,
    #[schema(rename = "selectableCount")]
    selectable_count: Option<i64>,
    #[schema(rename = "pollEndTime")]
    poll_end_time: Option<i64>,
    #[schema(rename = "pollHideVotes")]
    poll_hide_votes: Option<bool>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    #[schema(value_type = Option<Object>)]
    contact: Option<String>,
    #[schema(value_type = Option<Object>)]
    media: Option<String>,
    #[schema(value_type = Option<Vec<Object>>)]
    medias: Option<String>,
    caption: Option<String>,
}

/// Body of edit/revoke/react/forward/vote: the target's chat and author.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct MessageOpBody {
    chat: Option<String>,
    sender: Option<String>,
    /// `editMessage`: the new text.
    text: Option<String>,
    /// `addReaction`: the emoji (empty removes).
    emoji: Option<String>,
    /// `forwardMessage`: the destination chat.
    to: Option<String>,
    /// `voteMessage`: the complete new selection.
    options: Option<Vec<String>>,
}

impl MessageOpBody {
    fn target(&self) -> TargetRef {
        TargetRef {
            chat: self.chat.clone(),
            sender: self.sender.clone(),
        }
    }
}

type Op = ApiResult<Json<SendResultBody>>;

/// Replace the text of a message this account sent.
#[utoipa::path(patch, path = "/api/v1/sessions/{session}/messages/{mid}", operation_id = "editMessage",
    tag = "Messages", params(("session" = String, Path), ("mid" = String, Path)),
    request_body = MessageOpBody,
    responses((status = 200, body = SendResultBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope),
        (status = 501, body = ErrorEnvelope)))]
pub async fn edit_message(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((session, mid)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<MessageOpBody>,
) -> Op {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Send)
        .await?;
    let sent = state
        .services
        .messaging
        .edit(&s, &mid, &body.target(), body.text.as_deref())
        .await?;
    Ok(Json(sent.into()))
}

/// Delete a message for everyone.
#[utoipa::path(delete, path = "/api/v1/sessions/{session}/messages/{mid}", operation_id = "revokeMessage",
    tag = "Messages", params(("session" = String, Path), ("mid" = String, Path)),
    request_body = MessageOpBody,
    responses((status = 200, body = SendResultBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope),
        (status = 501, body = ErrorEnvelope)))]
pub async fn revoke_message(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((session, mid)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<MessageOpBody>,
) -> Op {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Send)
        .await?;
    Ok(Json(
        state
            .services
            .messaging
            .revoke(&s, &mid, &body.target())
            .await?
            .into(),
    ))
}

/// React to a message (an empty emoji removes the reaction).
#[utoipa::path(post, path = "/api/v1/sessions/{session}/messages/{mid}/reaction", operation_id = "addReaction",
    tag = "Messages", params(("session" = String, Path), ("mid" = String, Path)),
    request_body = MessageOpBody,
    responses((status = 200, body = SendResultBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope),
        (status = 501, body = ErrorEnvelope)))]
pub async fn add_reaction(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((session, mid)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<MessageOpBody>,
) -> Op {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Send)
        .await?;
    let emoji = body.emoji.clone().unwrap_or_default();
    Ok(Json(
        state
            .services
            .messaging
            .react(&s, &mid, &body.target(), &emoji)
            .await?
            .into(),
    ))
}

/// Remove this account's reaction. Idempotent.
#[utoipa::path(delete, path = "/api/v1/sessions/{session}/messages/{mid}/reaction", operation_id = "removeReaction",
    tag = "Messages", params(("session" = String, Path), ("mid" = String, Path)),
    request_body = MessageOpBody,
    responses((status = 200, body = SendResultBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope),
        (status = 501, body = ErrorEnvelope)))]
pub async fn remove_reaction(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((session, mid)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<MessageOpBody>,
) -> Op {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Send)
        .await?;
    Ok(Json(
        state
            .services
            .messaging
            .react(&s, &mid, &body.target(), "")
            .await?
            .into(),
    ))
}

/// Forward a stored message's real content to another chat.
#[utoipa::path(post, path = "/api/v1/sessions/{session}/messages/{mid}/forward", operation_id = "forwardMessage",
    tag = "Messages", params(("session" = String, Path), ("mid" = String, Path)),
    request_body = MessageOpBody,
    responses((status = 200, body = SendResultBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope),
        (status = 501, body = ErrorEnvelope)))]
pub async fn forward_message(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((session, mid)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<MessageOpBody>,
) -> Op {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Send)
        .await?;
    let sent = state
        .services
        .messaging
        .forward(&s, &mid, &body.target(), body.to.as_deref())
        .await?;
    Ok(Json(sent.into()))
}

/// Vote on a poll with the complete new selection.
#[utoipa::path(post, path = "/api/v1/sessions/{session}/messages/{mid}/vote", operation_id = "voteMessage",
    tag = "Messages", params(("session" = String, Path), ("mid" = String, Path)),
    request_body = MessageOpBody,
    responses((status = 200, body = SendResultBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope),
        (status = 501, body = ErrorEnvelope)))]
pub async fn vote_message(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((session, mid)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<MessageOpBody>,
) -> Op {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Send)
        .await?;
    let options = body.options.clone().unwrap_or_default();
    Ok(Json(
        state
            .services
            .messaging
            .vote(&s, &mid, &body.target(), &options)
            .await?
            .into(),
    ))
}
