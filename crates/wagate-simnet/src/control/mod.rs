//! The control API (`/_sim/…`, simnet.md): what the simulated phones do. JSON, no
//! authentication, for loopback use only. Pairing and connections are here; phones' messages,
//! presence and profile in [`phones`], groups, channels, messages and sessions in [`network`].

mod network;
mod phones;
pub(crate) mod wire;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use tower::Layer as _;

use crate::{ActionPathLayer, Network};
use wire::{ControlError, StrictJson};

/// The action verbs of the control API (`…/{phone}:scan`, `…/{session}:drop`, …).
pub const CONTROL_ACTION_VERBS: &[&str] = &[
    "scan",
    "enter-code",
    "unlink",
    "drop",
    "read",
    "join",
    "revoke",
    "redeliver",
];

/// The control API mounted at `/_sim`, ready to merge into a node's router or to serve alone.
/// Action paths are rewritten inside (see [`crate::action_path`]), so no outer layer is needed;
/// an outer rewrite with the same internal form is harmless.
pub fn control_router(network: Network) -> Router {
    let routes = Router::new()
        .route("/phones", post(create_phone))
        .route("/phones/{phone}/~scan", post(scan))
        .route("/phones/{phone}/~enter-code", post(enter_code))
        .route("/phones/{phone}/~unlink", post(unlink))
        .route("/phones/{phone}", get(phones::show).patch(phones::update))
        .route("/phones/{phone}/messages", post(phones::send))
        .route("/phones/{phone}/inbox", get(phones::inbox))
        .route("/phones/{phone}/~read", post(phones::read))
        .route("/phones/{phone}/presence", post(phones::presence))
        .route("/phones/{phone}/ops", post(phones::perform_op))
        .route("/phones/{phone}/groups", post(phones::create_group))
        .route("/phones/{phone}/groups/~join", post(phones::join_group))
        .route("/phones/{phone}/channels", post(phones::create_channel))
        .route("/groups/{gid}", get(network::group))
        .route("/groups/{gid}/invite", post(network::invite))
        .route("/groups/{gid}/invite/~revoke", post(network::revoke_invite))
        .route("/channels/{jid}", get(network::channel))
        .route("/messages/{id}", get(network::message))
        .route("/sessions/{session}/~drop", post(drop_connection))
        .route("/sessions/{session}/~redeliver", post(network::redeliver))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(network);
    // `nest_service` strips `/_sim` and adds no path parameter, then the rewrite runs before
    // the inner router matches.
    Router::new().nest_service(
        "/_sim",
        ActionPathLayer::new(CONTROL_ACTION_VERBS).layer(routes),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreatePhone {
    phone: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scan {
    qr: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnterCode {
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Unlink {
    session: String,
}

/// `POST /_sim/phones`: `201 {"jid"}` for a new account, `200` when it exists.
async fn create_phone(
    State(network): State<Network>,
    StrictJson(body): StrictJson<CreatePhone>,
) -> Result<Response, ControlError> {
    let added = network.add_phone(&body.phone, body.name.as_deref())?;
    let status = if added.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(json!({"jid": added.jid}))).into_response())
}

/// `POST /_sim/phones/{phone}:scan`: the phone scans a session's current QR code.
async fn scan(
    State(network): State<Network>,
    Path(phone): Path<String>,
    StrictJson(body): StrictJson<Scan>,
) -> Result<StatusCode, ControlError> {
    network.scan(&phone, &body.qr)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /_sim/phones/{phone}:enter-code`: the phone enters a pairing code.
async fn enter_code(
    State(network): State<Network>,
    Path(phone): Path<String>,
    StrictJson(body): StrictJson<EnterCode>,
) -> Result<StatusCode, ControlError> {
    network.enter_code(&phone, &body.code)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /_sim/phones/{phone}:unlink`: the phone removes a session's device.
async fn unlink(
    State(network): State<Network>,
    Path(phone): Path<String>,
    StrictJson(body): StrictJson<Unlink>,
) -> Result<StatusCode, ControlError> {
    network.unlink(&phone, &body.session)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /_sim/sessions/{session}:drop`: cuts the session's connection once.
async fn drop_connection(
    State(network): State<Network>,
    Path(session): Path<String>,
) -> Result<StatusCode, ControlError> {
    network.drop_connection(&session)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn route_not_found() -> ControlError {
    ControlError::not_found("route not found")
}

async fn method_not_allowed() -> ControlError {
    ControlError::method_not_allowed()
}
