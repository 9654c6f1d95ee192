//! The control API's wire plumbing: the error body and the strict JSON body extractor.

use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::SimError;

/// A control API error: `{"error": {"code", "message"}}` with its status.
#[derive(Debug)]
pub(crate) struct ControlError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ControlError {
    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "validation_error",
            message: message.into(),
        }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.into(),
        }
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: "method_not_allowed",
            message: "method not allowed".to_owned(),
        }
    }
}

impl From<SimError> for ControlError {
    fn from(err: SimError) -> Self {
        match err {
            SimError::NotFound(message) => Self::not_found(message),
            SimError::Invalid(message) => Self::validation(message),
            SimError::Forbidden(message) => Self {
                status: StatusCode::FORBIDDEN,
                code: "forbidden",
                message,
            },
            SimError::Offline(message) => Self {
                status: StatusCode::CONFLICT,
                code: "conflict",
                message,
            },
        }
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, axum::Json(body)).into_response()
    }
}

/// A required JSON body: `Content-Type: application/json`, well-formed, of the right shape
/// (request types deny unknown fields). Anything else is `400 validation_error`.
pub(crate) struct StrictJson<T>(pub(crate) T);

impl<T, S> FromRequest<S> for StrictJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ControlError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ControlError::validation(
                "expected a JSON body (Content-Type: application/json)",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ControlError::validation(e.body_text()))?;
        serde_json::from_slice(&bytes)
            .map(StrictJson)
            .map_err(|e| ControlError::validation(format!("invalid JSON body: {e}")))
    }
}
