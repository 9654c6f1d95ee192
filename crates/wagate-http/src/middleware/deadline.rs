//! The request deadline (api.md §1.12): past it, `503 gateway_unavailable` `request timed out`.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorCode};

pub async fn deadline(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(ErrorCode::GatewayUnavailable, "request timed out")
            .with_retry_after(1)
            .into_response(),
    }
}
