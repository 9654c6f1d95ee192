//! The authenticated caller, put in the request by the auth middleware.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use wagate_domain::Principal;

use crate::error::{ApiError, ErrorCode};

pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "missing or invalid credentials"))
    }
}
