//! The NDJSON event stream (events.md §4.5, D5): `GET /api/v1/events`. Frames, replay and
//! closing are the service's `EventStream`; this writes one per line.

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use wagate_service::{EventStream, StreamRequest};

use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{ApiQuery, Caller};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only this session's events.
    session: Option<String>,
    /// Comma-separated event types; `*` or absent means all.
    types: Option<String>,
    /// Alias of `types` (the reference handler's name).
    events: Option<String>,
    /// Resume after this event id: replays up to 1,000 logged events first.
    since: Option<String>,
}

/// Stream events as NDJSON: `connected`, the replay after `since`, then live events and `ping`s.
#[utoipa::path(get, path = "/api/v1/events", operation_id = "streamEvents", tag = "Events",
    params(EventsQuery),
    responses((status = 200, content_type = "application/x-ndjson",
            description = "One JSON object per line: frames and event envelopes"),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn stream_events(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<Response> {
    let request = StreamRequest {
        session: q.session,
        types: q.types.or(q.events),
        since: q.since,
    };
    let stream = state.services.events.open(&p, request)?;
    let lines = futures::stream::unfold(stream, |mut stream: EventStream| async move {
        let frame = stream.next_frame().await?;
        Some((Ok::<_, std::io::Error>(format!("{frame}\n")), stream))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (header::CACHE_CONTROL, "no-cache, no-transform"),
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Body::from_stream(lines),
    )
        .into_response())
}
