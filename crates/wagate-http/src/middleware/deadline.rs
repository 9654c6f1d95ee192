//! The request deadline (api.md §1.12): past it, `503 gateway_unavailable` `request timed out`.
//! Enforced by the guard layer (`guard.rs`).

use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorCode};

/// The answer to a request still running at its deadline.
pub fn timed_out() -> Response {
    ApiError::new(ErrorCode::GatewayUnavailable, "request timed out")
        .with_retry_after(1)
        .into_response()
}
