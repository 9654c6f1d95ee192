//! `postStatus` (api.md §10.1, D4): text and image status posts, live.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_domain::Capability;
use wagate_service::messaging::{MediaPayload, StatusKind, StatusRequest};

use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusType {
    Text,
    Image,
}

/// `postStatus` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostStatusBody {
    /// `text` (default) or `image`.
    #[serde(rename = "type")]
    kind: Option<StatusType>,
    /// The text of a text status (required for it).
    text: Option<String>,
    /// The image of an image status, as in `sendMessage`: `data` (base64 or data URI) or
    /// `url`, optional `mimetype`.
    #[schema(value_type = Option<Object>)]
    media: Option<MediaPayload>,
    /// The caption of an image status.
    caption: Option<String>,
}

/// `postStatus` answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusResultBody {
    /// WhatsApp's id of the status post.
    message_id: String,
}

/// Post a text or image status to the account's contacts.
#[utoipa::path(post, path = "/api/v1/sessions/{session}/status", operation_id = "postStatus",
    tag = "Status", params(("session" = String, Path)), request_body = PostStatusBody,
    responses((status = 200, body = StatusResultBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn post_status(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(session): ApiPath<String>,
    ApiJson(body): ApiJson<PostStatusBody>,
) -> ApiResult<Json<StatusResultBody>> {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Send)
        .await?;
    let req = StatusRequest {
        kind: match body.kind {
            None | Some(StatusType::Text) => StatusKind::Text,
            Some(StatusType::Image) => StatusKind::Image,
        },
        text: body.text,
        media: body.media,
        caption: body.caption,
    };
    let sent = state.services.messaging.post_status(&s, req).await?;
    Ok(Json(StatusResultBody {
        message_id: sent.id,
    }))
}
