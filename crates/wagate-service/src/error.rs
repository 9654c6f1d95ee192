//! The service layer's error: what went wrong in the caller's terms. The HTTP layer maps each
//! variant to the contract's code in one place.

use wagate_domain::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// `401` — no valid credential, or no active organization.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// `403` — the caller lacks a capability or may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// `404` — unknown or another organization's resource.
    #[error("{0}")]
    NotFound(String),
    /// `400` — the input breaks a rule; `errors` lists each problem.
    #[error("{message}")]
    Validation {
        message: String,
        errors: Vec<String>,
    },
    /// `409` — the request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// `501` — a live action on a session without a connected client; `status` is the
    /// session's current status (D3).
    #[error("{message}")]
    NotImplemented {
        message: String,
        status: Option<String>,
    },
    /// `429` — the session's send budget is spent; retry after `retry_after` seconds.
    #[error("send rate limit exceeded")]
    RateLimited { retry_after: u64 },
    /// `503` — the WhatsApp network (or another dependency) did not answer; retry later.
    #[error("{0}")]
    Unavailable(String),
    /// `500` — an unexpected failure; the message is never shown to callers.
    #[error("internal failure: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ServiceError {
    pub fn validation(message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Validation {
            errors: vec![message.clone()],
            message,
        }
    }

    pub fn session_not_found() -> Self {
        Self::NotFound("session not found".into())
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::NotFound("not found".into()),
            StoreError::Conflict(msg) => Self::Conflict(msg),
            StoreError::Backend(e) => Self::Internal(e),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
