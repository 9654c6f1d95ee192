//! The engine endpoint of a standalone simnet: what [`RemoteSimEngine`](super::RemoteSimEngine)s
//! of other processes connect to (see [`super::wire`] for the wire form).

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use futures::StreamExt as _;
use tokio::sync::mpsc;

use super::wire::{ConnectBody, ConnectionBody, OpAnswer, OpBody, StreamLine};
use crate::control::wire::{ControlError, StrictJson};
use crate::{Actor, ConnectionId, LOG_LABEL, Network, NetworkEvent};

/// The NDJSON media type of the connect answer.
pub const NDJSON: &str = "application/x-ndjson";

/// `POST /_sim/engine/connect`, `/_sim/engine/close`, `/_sim/engine/logout` and
/// `/_sim/engine/op` over `network`.
pub fn engine_router(network: Network) -> Router {
    Router::new()
        .route("/_sim/engine/connect", post(connect))
        .route("/_sim/engine/close", post(close))
        .route("/_sim/engine/logout", post(logout))
        .route("/_sim/engine/op", post(op))
        .with_state(network)
}

/// Opens a connection; answers `200` with an NDJSON body: the `open` line, then one line per
/// network event. The body ends when the network drops the connection; when the caller goes
/// away first, the connection is closed.
async fn connect(
    State(network): State<Network>,
    StrictJson(body): StrictJson<ConnectBody>,
) -> Result<Response, ControlError> {
    let connection = network.connect(&body.session, body.request.into()).await?;
    let guard = CloseOnDrop {
        network,
        session: body.session,
        id: connection.id,
    };
    let open = StreamLine::Open {
        connection: connection.id.as_u64(),
        pairing_code: connection.pairing_code,
    };
    let first = futures::stream::iter([Ok::<_, std::convert::Infallible>(line(&open))]);
    let events = futures::stream::unfold(
        (guard, connection.events),
        |(guard, mut events): (CloseOnDrop, mpsc::UnboundedReceiver<NetworkEvent>)| async move {
            loop {
                let event = events.recv().await?;
                if let Some(l) = StreamLine::from_network_event(event) {
                    return Some((Ok(line(&l)), (guard, events)));
                }
            }
        },
    );
    let body = Body::from_stream(first.chain(events));
    Ok(([(header::CONTENT_TYPE, NDJSON)], body).into_response())
}

/// Closes the connection (keeping the pairing).
async fn close(
    State(network): State<Network>,
    StrictJson(body): StrictJson<ConnectionBody>,
) -> StatusCode {
    network.close(&body.session, ConnectionId::from_u64(body.connection));
    StatusCode::NO_CONTENT
}

/// Unlinks the device (the connection's own, else the one `credential` names) and closes it.
async fn logout(
    State(network): State<Network>,
    StrictJson(body): StrictJson<ConnectionBody>,
) -> StatusCode {
    network.logout(
        &body.session,
        ConnectionId::from_u64(body.connection),
        body.credential.as_ref(),
    );
    StatusCode::NO_CONTENT
}

/// Runs one live operation for the connection; always `200` with an [`OpAnswer`], so the
/// network's refusal keeps its kind across the wire.
async fn op(
    State(network): State<Network>,
    StrictJson(body): StrictJson<OpBody>,
) -> axum::Json<OpAnswer> {
    let actor = Actor::Session {
        session: body.session,
        connection: ConnectionId::from_u64(body.connection),
    };
    axum::Json(match network.perform(&actor, body.op) {
        Ok(result) => OpAnswer::Ok(result),
        Err(err) => OpAnswer::Err(err),
    })
}

fn line(l: &StreamLine) -> Bytes {
    let mut bytes = serde_json::to_vec(l).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// Closes the network connection when its answer body is dropped (the caller went away or the
/// connection ended; closing an ended connection does nothing).
struct CloseOnDrop {
    network: Network,
    session: String,
    id: ConnectionId,
}

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        tracing::debug!(session = %self.session, "{LOG_LABEL}: engine stream closed");
        self.network.close(&self.session, self.id);
    }
}
