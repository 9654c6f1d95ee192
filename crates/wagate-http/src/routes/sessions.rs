//! Sessions (api.md §4.1–4.4).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_domain::Session;
use wagate_service::CreateSession;

use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::routes::ListBody;
use crate::state::AppState;

/// `Session` (api.md §2.2; OpenAPI name `WASession`). Absent optional values are omitted.
#[derive(Serialize, ToSchema)]
#[schema(as = WASession)]
#[serde(rename_all = "camelCase")]
pub struct SessionBody {
    id: String,
    organization_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_by_user_id: Option<String>,
    gateway_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    /// `starting`, `scan_qr_code`, `working`, `failed`, `stopped` or `logged_out`.
    #[schema(example = "stopped")]
    status: &'static str,
    /// Why the session is in its status (logged out, replaced, client outdated, banned…).
    #[serde(skip_serializing_if = "Option::is_none")]
    status_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wa_jid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wa_lid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_number: Option<String>,
    is_admin_session: bool,
    auto_read: bool,
    presence_typing: bool,
    rate_per_min: i32,
    rate_per_hour: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_connected_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl From<Session> for SessionBody {
    fn from(s: Session) -> Self {
        Self {
            id: s.id.to_string(),
            organization_id: s.organization_id.to_string(),
            created_by_user_id: s.created_by_user_id,
            gateway_id: s.gateway_id,
            label: s.label,
            status: s.status.as_str(),
            status_reason: s.status_reason,
            wa_jid: s.wa_jid,
            wa_lid: s.wa_lid,
            phone_number: s.phone_number,
            is_admin_session: s.is_admin_session,
            auto_read: s.auto_read,
            presence_typing: s.presence_typing,
            rate_per_min: s.rate_per_min,
            rate_per_hour: s.rate_per_hour,
            last_connected_at: s.last_connected_at,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// `createSession` body; `{}` is valid.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateSessionBody {
    label: Option<String>,
    /// Start QR pairing right after creation.
    #[serde(default)]
    start: bool,
    /// Default `true`.
    auto_read: Option<bool>,
    /// Default `false`.
    presence_typing: Option<bool>,
}

/// List all sessions of the caller's organization, newest first.
#[utoipa::path(get, path = "/api/v1/sessions", operation_id = "listSessions", tag = "Sessions",
    responses(
        (status = 200, body = ListBody<SessionBody>),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
    ))]
pub async fn list_sessions(
    State(state): State<AppState>,
    Caller(p): Caller,
) -> ApiResult<Json<ListBody<SessionBody>>> {
    let sessions = state.services.sessions.list(&p).await?;
    Ok(Json(ListBody::all(
        sessions.into_iter().map(Into::into).collect(),
    )))
}

/// Create a session (status `stopped`).
#[utoipa::path(post, path = "/api/v1/sessions", operation_id = "createSession", tag = "Sessions",
    request_body = CreateSessionBody,
    responses(
        (status = 201, body = SessionBody),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
    ))]
pub async fn create_session(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiJson(body): ApiJson<CreateSessionBody>,
) -> ApiResult<(StatusCode, Json<SessionBody>)> {
    let req = CreateSession {
        label: body.label,
        start: body.start,
        auto_read: body.auto_read,
        presence_typing: body.presence_typing,
    };
    let session = state.services.sessions.create(&p, req).await?;
    Ok((StatusCode::CREATED, Json(session.into())))
}

/// Get one session.
#[utoipa::path(get, path = "/api/v1/sessions/{session}", operation_id = "getSession",
    tag = "Sessions", params(("session" = String, Path, description = "Session id, `sess_<ULID>`")),
    responses(
        (status = 200, body = SessionBody),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
    ))]
pub async fn get_session(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(session): ApiPath<String>,
) -> ApiResult<Json<SessionBody>> {
    Ok(Json(
        state.services.sessions.get(&p, &session).await?.into(),
    ))
}

/// Delete a session.
#[utoipa::path(delete, path = "/api/v1/sessions/{session}", operation_id = "deleteSession",
    tag = "Sessions", params(("session" = String, Path, description = "Session id, `sess_<ULID>`")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
    ))]
pub async fn delete_session(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(session): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.services.sessions.delete(&p, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}
