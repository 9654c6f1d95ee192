//! Strict JSON bodies (api.md §1.1): a body is required, unknown properties are refused by the
//! target type's `deny_unknown_fields`, an oversize body is `413` (D3).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};

/// A JSON request body parsed into `T`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::validation("request body is required", Vec::new()));
        }
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|err| ApiError::validation("validation failed", vec![describe(&err)]))
    }
}

/// The whole body within the router's limit; past it `413` (D3).
pub(crate) async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::validation("request body too large or unreadable", Vec::new())
        }
    })
}

/// `413 payload_too_large`.
pub(crate) fn too_large() -> ApiError {
    ApiError::new(ErrorCode::PayloadTooLarge, "request body too large")
}

/// `"<problem> (body: line L column C)"`, the contract's `details.errors` shape.
fn describe(err: &serde_json::Error) -> String {
    let problem = err.to_string();
    // serde_json appends " at line L column C"; move it into the location part.
    let problem = problem
        .rsplit_once(" at line ")
        .map_or(problem.as_str(), |(p, _)| p);
    format!(
        "{problem} (body: line {} column {})",
        err.line(),
        err.column()
    )
}
