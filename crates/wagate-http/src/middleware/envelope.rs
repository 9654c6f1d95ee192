//! Gives axum's own bare responses the contract's envelope: `405` (keeping `Allow`, D3) and
//! panics caught by the panic layer (`500 internal`).

use std::any::Any;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorCode};

/// axum's bare `405` becomes the envelope, keeping `Allow`; any other response passes as is.
pub fn method_not_allowed(response: Response) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut enveloped =
        ApiError::new(ErrorCode::MethodNotAllowed, "method not allowed").into_response();
    if let Some(allow) = allow {
        enveloped.headers_mut().insert(header::ALLOW, allow);
    }
    enveloped
}

/// Used by the guard layer (`guard.rs`): the panic is logged, the caller sees `500 internal`.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "handler panicked");
    ApiError::new(ErrorCode::Internal, "internal server error").into_response()
}
