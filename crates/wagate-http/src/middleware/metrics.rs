//! Request metrics by route template and status, and a latency histogram (Prometheus).

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

pub const REQUESTS: &str = "wagate_http_requests_total";
pub const DURATION: &str = "wagate_http_request_duration_seconds";
pub const SESSIONS: &str = "wagate_sessions";

/// Counts and times one matched request (installed as a route layer).
pub async fn record(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(DURATION, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Counts a request no route matched (always answered `404`).
pub fn record_unmatched() {
    metrics::counter!(REQUESTS, "method" => "any", "route" => "unmatched", "status" => "404")
        .increment(1);
}
