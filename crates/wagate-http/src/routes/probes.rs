//! Unauthenticated probes (api.md §1.2): liveness, readiness, Prometheus metrics.

use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorCode};
use crate::middleware::metrics::SESSIONS;
use crate::state::AppState;

const READY_TIMEOUT: Duration = Duration::from_secs(3);

pub async fn healthz() -> &'static str {
    "ok"
}

/// `ready` when the store answers a ping within 3 s.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(READY_TIMEOUT, state.services.store.ping()).await {
        Ok(Ok(())) => "ready".into_response(),
        Ok(Err(err)) => not_ready(&err.to_string()),
        Err(_) => not_ready("store ping timed out"),
    }
}

fn not_ready(cause: &str) -> Response {
    tracing::warn!(cause, "not ready");
    ApiError::new(ErrorCode::GatewayUnavailable, format!("not ready: {cause}")).into_response()
}

/// Prometheus text; session gauges are read from the store at scrape time so every node of a
/// cluster reports the same truth.
pub async fn metrics(State(state): State<AppState>) -> Response {
    match state.services.sessions.counts_by_status().await {
        Ok(counts) => {
            for (status, n) in counts {
                metrics::gauge!(SESSIONS, "status" => status.as_str()).set(n as f64);
            }
        }
        Err(err) => tracing::warn!(%err, "could not count sessions for /metrics"),
    }
    if let Some(limiter) = &state.limiter {
        limiter.prune();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}
