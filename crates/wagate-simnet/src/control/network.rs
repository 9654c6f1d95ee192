//! Control API rows about the network rather than one phone: groups, channels, stored messages
//! and redelivery to a session.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::wire::{ControlError, StrictJson};
use crate::{ChannelView, GroupView, MessageView, Network};

/// `GET /_sim/groups/{gid}`.
pub(super) async fn group(
    State(network): State<Network>,
    Path(gid): Path<String>,
) -> Result<axum::Json<GroupView>, ControlError> {
    Ok(axum::Json(network.group(&gid)?))
}

/// `POST /_sim/groups/{gid}/invite`: the current code, created if none.
pub(super) async fn invite(
    State(network): State<Network>,
    Path(gid): Path<String>,
) -> Result<axum::Json<Value>, ControlError> {
    let code = network.group_invite(&gid, false)?;
    Ok(axum::Json(json!({"code": code})))
}

/// `POST /_sim/groups/{gid}/invite:revoke`: a new code; the old one stops working.
pub(super) async fn revoke_invite(
    State(network): State<Network>,
    Path(gid): Path<String>,
) -> Result<axum::Json<Value>, ControlError> {
    let code = network.group_invite(&gid, true)?;
    Ok(axum::Json(json!({"code": code})))
}

/// `GET /_sim/channels/{jid}`.
pub(super) async fn channel(
    State(network): State<Network>,
    Path(jid): Path<String>,
) -> Result<axum::Json<ChannelView>, ControlError> {
    Ok(axum::Json(network.channel(&jid)?))
}

/// `GET /_sim/messages/{id}`: a stored message as its author sees it, with who it was delivered
/// to and read by.
pub(super) async fn message(
    State(network): State<Network>,
    Path(id): Path<String>,
) -> Result<axum::Json<MessageView>, ControlError> {
    Ok(axum::Json(network.message(&id)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Redeliver {
    id: String,
}

/// `POST /_sim/sessions/{session}:redeliver`: the session's live connection gets stored message
/// `id` once more (duplicate inbound delivery).
pub(super) async fn redeliver(
    State(network): State<Network>,
    Path(session): Path<String>,
    StrictJson(body): StrictJson<Redeliver>,
) -> Result<StatusCode, ControlError> {
    network.redeliver(&session, &body.id)?;
    Ok(StatusCode::NO_CONTENT)
}
