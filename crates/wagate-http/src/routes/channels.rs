//! Channels (WhatsApp newsletters, api.md §9): live create/follow/unfollow/mute (D4: they
//! work), and the stored timeline of a channel.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_domain::{Capability, Principal};

use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::ListBody;
use crate::routes::api_keys::PageQuery;
use crate::routes::chats::MessageBody;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannelBody {
    /// The channel's name (required).
    name: Option<String>,
    description: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ChannelCreatedBody {
    /// The new channel's JID (`…@newsletter`).
    jid: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MuteChannelBody {
    /// `false` unmutes; default `true`.
    mute: Option<bool>,
}

/// Creates a channel owned by this account.
#[utoipa::path(post, path = "/api/v1/sessions/{session}/channels", operation_id = "createChannel",
    tag = "Channels", params(("session" = String, Path)), request_body = CreateChannelBody,
    responses((status = 201, body = ChannelCreatedBody), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn create_channel(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<CreateChannelBody>,
) -> ApiResult<(StatusCode, Json<ChannelCreatedBody>)> {
    let s = state
        .services
        .sessions
        .access(&p, &id, Capability::Send)
        .await?;
    let jid = state
        .services
        .channels
        .create(&s, body.name.as_deref(), body.description.as_deref())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ChannelCreatedBody {
            jid: jid.to_string(),
        }),
    ))
}

/// The channel's stored messages, newest first (gated on `send`, as in the contract).
#[utoipa::path(get, path = "/api/v1/sessions/{session}/channels/{jid}/messages",
    operation_id = "listChannelMessages", tag = "Channels",
    params(("session" = String, Path), ("jid" = String, Path), PageQuery),
    responses((status = 200, body = ListBody<MessageBody>), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn list_channel_messages(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, jid)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<ListBody<MessageBody>>> {
    // A read (issue 5), although the reference gates it on `send` (api.md §9.2).
    let s = state
        .services
        .sessions
        .access(&p, &id, Capability::Read)
        .await?;
    let page = state
        .services
        .channels
        .messages(&s, &jid, query.into())
        .await?;
    Ok(Json(ListBody::page(
        page.data.into_iter().map(Into::into).collect(),
        page.next_cursor,
    )))
}

/// Follows or unfollows a channel, answered `204`.
async fn follow(
    state: &AppState,
    p: &Principal,
    (id, jid): (String, String),
    on: bool,
) -> ApiResult<StatusCode> {
    let s = state
        .services
        .sessions
        .access(p, &id, Capability::Send)
        .await?;
    state.services.channels.follow(&s, &jid, on).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Follows a channel.
#[utoipa::path(post, path = "/api/v1/sessions/{session}/channels/{jid}:follow",
    operation_id = "followChannel", tag = "Channels",
    params(("session" = String, Path), ("jid" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn follow_channel(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(path): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    follow(&state, &p, path, true).await
}

/// Unfollows a channel.
#[utoipa::path(post, path = "/api/v1/sessions/{session}/channels/{jid}:unfollow",
    operation_id = "unfollowChannel", tag = "Channels",
    params(("session" = String, Path), ("jid" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn unfollow_channel(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(path): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    follow(&state, &p, path, false).await
}

/// Mutes (or with `{"mute": false}` unmutes) a followed channel.
#[utoipa::path(post, path = "/api/v1/sessions/{session}/channels/{jid}:mute",
    operation_id = "muteChannel", tag = "Channels",
    params(("session" = String, Path), ("jid" = String, Path)), request_body = MuteChannelBody,
    responses((status = 204), (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn mute_channel(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, jid)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<MuteChannelBody>,
) -> ApiResult<StatusCode> {
    let s = state
        .services
        .sessions
        .access(&p, &id, Capability::Send)
        .await?;
    let mute = body.mute.unwrap_or(true);
    state.services.channels.mute(&s, &jid, mute).await?;
    Ok(StatusCode::NO_CONTENT)
}
