//! The ticketed WebSocket transport (events.md §4.4, D5): `POST /api/v1/realtime/ticket` mints,
//! `GET /api/v1/realtime?ticket=…` upgrades. Authorization, replay and frames are the service's
//! (`RealtimeTickets`, `EventStreams`); this module parses, checks the origin and writes frames.

use std::time::Duration;

use axum::Json;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{FromRequest, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt as _, StreamExt as _};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_service::{EventStream, TicketRequest};

use crate::error::{ApiError, ApiResult, ErrorCode, ErrorEnvelope};
use crate::extract::Caller;
use crate::extract::json::{body_bytes, too_large};
use crate::state::AppState;

/// Largest ticket request body (events.md §4.4).
const TICKET_BODY_LIMIT: usize = 64 * 1024;

/// A frame not written within this ends the connection (events.md §4.4).
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The path a ticket is redeemed on.
const CONNECT_PATH: &str = "/api/v1/realtime";

/// The ticket request: optional, lenient (unknown keys are ignored, unlike other bodies).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TicketBody {
    /// `session`, `organization` (default) or `firehose` (super-admins).
    #[schema(example = "organization")]
    scope: Option<String>,
    /// The session, for `scope = session`.
    session: Option<String>,
    /// Event types; `*`, empty or absent means every type.
    events: Option<Vec<String>>,
    /// Resume after this event id (replays up to 1,000 logged events); ignored for firehose.
    since: Option<String>,
    /// Reserved (firehose only); has no effect.
    #[allow(dead_code)]
    gateway: Option<String>,
}

impl<S: Send + Sync> FromRequest<S> for TicketBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(req, state).await?;
        if bytes.len() > TICKET_BODY_LIMIT {
            return Err(too_large());
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        serde_json::from_slice::<Option<Self>>(&bytes)
            .map(Option::unwrap_or_default)
            .map_err(|_| ApiError::validation("invalid ticket request body", Vec::new()))
    }
}

/// A minted ticket.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketDto {
    /// `rt_` + 32 characters; redeem it once within `expiresInSeconds`.
    ticket: String,
    #[schema(example = 30)]
    expires_in_seconds: u32,
    /// Where to connect: `ws(s)://…/api/v1/realtime?ticket=…` when a public URL is configured,
    /// else the relative path.
    url: String,
}

/// Mint a ticket for the realtime WebSocket (`GET /api/v1/realtime?ticket=…`): scope, type
/// filter and `since` are authorized here, once.
#[utoipa::path(post, path = "/api/v1/realtime/ticket", operation_id = "createRealtimeTicket",
    tag = "Events", request_body(content = Option<TicketBody>, description = "Optional; empty means organization scope, every type"),
    responses(
        (status = 201, body = TicketDto),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 413, body = ErrorEnvelope),
    ))]
pub async fn create_realtime_ticket(
    State(state): State<AppState>,
    Caller(p): Caller,
    body: TicketBody,
) -> ApiResult<(StatusCode, Json<TicketDto>)> {
    let request = TicketRequest {
        scope: body.scope,
        session: body.session,
        events: body.events,
        since: body.since,
    };
    let minted = state.services.tickets.mint(&p, request).await?;
    let ticket = minted.ticket.expose().to_owned();
    let url = connect_url(state.public_url.as_deref(), &ticket);
    Ok((
        StatusCode::CREATED,
        Json(TicketDto {
            ticket,
            expires_in_seconds: minted.expires_in_seconds,
            url,
        }),
    ))
}

/// `ws:` for an `http:` public URL, `wss:` for anything else; the relative path without one.
fn connect_url(public_url: Option<&str>, ticket: &str) -> String {
    let path = format!("{CONNECT_PATH}?ticket={ticket}");
    let Some(base) = public_url else { return path };
    let base = base.trim_end_matches('/');
    let rest = base.split_once("://").map_or(base, |(_, rest)| rest);
    let scheme = if base.starts_with("http://") {
        "ws"
    } else {
        "wss"
    };
    format!("{scheme}://{rest}{path}")
}

/// `GET /api/v1/realtime?ticket=…`: redeems the ticket (its only credential), checks the
/// origin, and upgrades. Every refusal is a plain envelope; the upgrade never happens.
pub async fn connect(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let ticket = ticket_param(query.as_deref());
    if ticket.is_some() && !origin_allowed(&headers, &state.cors_origins) {
        return ApiError::new(ErrorCode::Forbidden, "origin not allowed").into_response();
    }
    let subscription = match state.services.tickets.redeem(ticket.as_deref()).await {
        Ok(s) => s,
        Err(err) => return ApiError::from(err).into_response(),
    };
    let Ok(upgrade) = upgrade else {
        return ApiError::validation("websocket upgrade required", Vec::new()).into_response();
    };
    let stream = state.services.events.subscribe(subscription);
    upgrade.on_upgrade(move |socket| pump(socket, stream))
}

/// The `ticket` query parameter, if any.
fn ticket_param(query: Option<&str>) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query?)
        .ok()?
        .into_iter()
        .find_map(|(k, v)| (k == "ticket").then_some(v))
}

/// Browsers send `Origin`: the gateway's own host is accepted, another origin only when the
/// CORS allow-list names it (or is `*`). Clients that send none (not browsers) are accepted.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let authority = origin.split_once("://").map(|(_, a)| a);
    if let (Some(host), Some(authority)) = (host, authority)
        && host.eq_ignore_ascii_case(authority)
    {
        return true;
    }
    allowed
        .iter()
        .any(|a| a == "*" || a.trim_end_matches('/').eq_ignore_ascii_case(origin))
}

/// Writes the stream's frames as text frames until it ends (close `1000`), the client goes
/// away, or a write stalls past [`WRITE_TIMEOUT`]. Client data is read and ignored (pings are
/// answered by the WebSocket library).
async fn pump(socket: WebSocket, mut stream: EventStream) {
    let (mut tx, mut rx) = socket.split();
    loop {
        tokio::select! {
            frame = stream.next_frame() => {
                let Some(frame) = frame else { break };
                match tokio::time::timeout(WRITE_TIMEOUT, tx.send(Message::text(frame))).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return,
                    Err(_) => {
                        tracing::info!("realtime client stopped reading; dropping it");
                        return;
                    }
                }
            }
            incoming = rx.next() => match incoming {
                Some(Ok(Message::Close(_))) => {
                    // Completes the closing handshake the client started.
                    let _ = tokio::time::timeout(WRITE_TIMEOUT, tx.close()).await;
                    return;
                }
                None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
    let close = Message::Close(Some(CloseFrame {
        code: close_code::NORMAL,
        reason: "stream closed".into(),
    }));
    let _ = tokio::time::timeout(WRITE_TIMEOUT, tx.send(close)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_url_follows_the_public_scheme() {
        assert_eq!(connect_url(None, "rt_x"), "/api/v1/realtime?ticket=rt_x");
        assert_eq!(
            connect_url(Some("http://gw.local:8080/"), "rt_x"),
            "ws://gw.local:8080/api/v1/realtime?ticket=rt_x"
        );
        assert_eq!(
            connect_url(Some("https://gw.example/base"), "rt_x"),
            "wss://gw.example/base/api/v1/realtime?ticket=rt_x"
        );
    }

    #[test]
    fn same_host_or_listed_origins_only() {
        let mut h = HeaderMap::new();
        assert!(origin_allowed(&h, &[]), "no Origin: not a browser");
        h.insert(header::HOST, HeaderValue::from_static("gw.local:8080"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://gw.local:8080"),
        );
        assert!(origin_allowed(&h, &[]));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://app.example"),
        );
        assert!(!origin_allowed(&h, &[]));
        assert!(origin_allowed(&h, &["https://app.example/".into()]));
        assert!(origin_allowed(&h, &["*".into()]));
        assert!(!origin_allowed(&h, &["https://other.example".into()]));
    }

    #[test]
    fn the_ticket_is_read_from_the_query() {
        assert_eq!(
            ticket_param(Some("a=1&ticket=rt_x")).as_deref(),
            Some("rt_x")
        );
        assert_eq!(ticket_param(Some("a=1")), None);
        assert_eq!(ticket_param(None), None);
    }
}
