//! Session lifecycle and pairing (api.md §4.5–4.11).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wagate_service::Lifecycle;

use crate::error::{ApiError, ApiResult, ErrorCode, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::qr_image;
use crate::routes::sessions::SessionBody;
use crate::state::AppState;

async fn lifecycle(
    state: &AppState,
    p: &wagate_domain::Principal,
    id: &str,
    action: Lifecycle,
) -> ApiResult<Json<SessionBody>> {
    let session = state.services.sessions.lifecycle(p, id, action).await?;
    Ok(Json(session.into()))
}

/// Connect a paired session and keep it connected. No-op if it already runs.
#[utoipa::path(post, path = "/api/v1/sessions/{session}:start", operation_id = "startSession",
    tag = "Sessions", params(("session" = String, Path)),
    responses((status = 200, body = SessionBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn start_session(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<SessionBody>> {
    lifecycle(&state, &p, &id, Lifecycle::Start).await
}

/// Disconnect and stop reconnecting; the pairing is kept. Idempotent.
#[utoipa::path(post, path = "/api/v1/sessions/{session}:stop", operation_id = "stopSession",
    tag = "Sessions", params(("session" = String, Path)),
    responses((status = 200, body = SessionBody), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn stop_session(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<SessionBody>> {
    lifecycle(&state, &p, &id, Lifecycle::Stop).await
}

/// `:stop` followed by `:start`.
#[utoipa::path(post, path = "/api/v1/sessions/{session}:restart", operation_id = "restartSession",
    tag = "Sessions", params(("session" = String, Path)),
    responses((status = 200, body = SessionBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn restart_session(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<SessionBody>> {
    lifecycle(&state, &p, &id, Lifecycle::Restart).await
}

/// Unlink the device, delete its keys and clear the pairing so it can be paired again.
#[utoipa::path(post, path = "/api/v1/sessions/{session}:logout", operation_id = "logoutSession",
    tag = "Sessions", params(("session" = String, Path)),
    responses((status = 200, body = SessionBody), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn logout_session(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<SessionBody>> {
    lifecycle(&state, &p, &id, Lifecycle::Logout).await
}

/// `Me` (api.md §2.3).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeBody {
    session_id: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    wa_jid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wa_lid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_number: Option<String>,
    connected: bool,
}

/// The paired account of the session.
#[utoipa::path(get, path = "/api/v1/sessions/{session}/me", operation_id = "sessionMe",
    tag = "Sessions", params(("session" = String, Path)),
    responses((status = 200, body = MeBody), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn session_me(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<MeBody>> {
    let s = state.services.sessions.me(&p, &id).await?;
    Ok(Json(MeBody {
        session_id: s.id.to_string(),
        status: s.status.as_str(),
        connected: s.status == wagate_domain::SessionStatus::Working,
        wa_jid: s.wa_jid,
        wa_lid: s.wa_lid,
        phone_number: s.phone_number,
    }))
}

/// `QR` (api.md §2.4).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QrBody {
    /// Raw QR payload to render.
    code: String,
    /// Epoch-ms after which the code is stale.
    expires_at: i64,
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct QrQuery {
    /// `json` (default), `png` or `svg`.
    format: Option<QrFormat>,
}

#[derive(Deserialize, ToSchema, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum QrFormat {
    #[default]
    Json,
    Png,
    Svg,
}

/// The current QR code; starts QR pairing when nothing runs.
#[utoipa::path(get, path = "/api/v1/sessions/{session}/qr", operation_id = "sessionQR",
    tag = "Sessions", params(("session" = String, Path), QrQuery),
    responses((status = 200, body = QrBody, description = "JSON, or image/png / image/svg+xml with `format`"),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn session_qr(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<QrQuery>,
) -> ApiResult<Response> {
    let qr = state.services.sessions.qr(&p, &id).await?;
    let image_error = |err: qr_image::QrImageError| {
        tracing::error!(%err, "could not render QR");
        ApiError::new(ErrorCode::Internal, "internal server error")
    };
    Ok(match query.format.unwrap_or_default() {
        QrFormat::Json => Json(QrBody {
            code: qr.code,
            expires_at: qr.expires_at,
        })
        .into_response(),
        QrFormat::Png => {
            let png = qr_image::png(&qr.code).map_err(image_error)?;
            ([(header::CONTENT_TYPE, "image/png")], png).into_response()
        }
        QrFormat::Svg => {
            let svg = qr_image::svg(&qr.code).map_err(image_error)?;
            ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response()
        }
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PairingCodeRequest {
    /// Digits with country code, no `+`.
    phone: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PairingCodeBody {
    /// The linking code to type on the phone (WhatsApp → Linked devices → Link with phone
    /// number).
    code: String,
}

/// Start phone-number pairing and return the linking code.
#[utoipa::path(post, path = "/api/v1/sessions/{session}/pairing-code",
    operation_id = "sessionPairingCode", tag = "Sessions", params(("session" = String, Path)),
    request_body = PairingCodeRequest,
    responses((status = 200, body = PairingCodeBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn session_pairing_code(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<PairingCodeRequest>,
) -> ApiResult<Json<PairingCodeBody>> {
    let code = state
        .services
        .sessions
        .pairing_code(&p, &id, body.phone.as_deref())
        .await?;
    Ok(Json(PairingCodeBody { code }))
}
