//! The NDJSON event stream (events.md §4.5, D5): `GET /api/v1/events`.

use std::time::Duration;

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

/// Seconds between `ping` frames (events.md §4.3).
const HEARTBEAT_SECONDS: u64 = 20;

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
    let stream = state.services.events.open(&p, request).await?;
    let now = state.services.clock.now_ms();
    let connected = format!(
        "{{\"event\":\"connected\",\"timestamp\":{now},\"heartbeatSeconds\":{HEARTBEAT_SECONDS}}}\n"
    );
    let clock = state.services.clock.clone();
    let mut heartbeat = tokio::time::interval(Duration::from_secs(HEARTBEAT_SECONDS));
    heartbeat.reset(); // the first tick would fire at once
    let lines = futures::stream::unfold(
        (Some(connected), stream, heartbeat),
        move |(first, mut stream, mut heartbeat): (
            Option<String>,
            EventStream,
            tokio::time::Interval,
        )| {
            let clock = clock.clone();
            async move {
                if let Some(line) = first {
                    return Some((Ok::<_, std::io::Error>(line), (None, stream, heartbeat)));
                }
                let line = tokio::select! {
                    next = stream.next() => format!("{}\n", next?),
                    _ = heartbeat.tick() => {
                        format!("{{\"event\":\"ping\",\"timestamp\":{}}}\n", clock.now_ms())
                    }
                };
                Some((Ok(line), (None, stream, heartbeat)))
            }
        },
    );
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
