//! The network's error: something named does not exist, the input is wrong, the actor may not
//! do it, or the acting connection is gone.

use serde::{Deserialize, Serialize};
use wagate_domain::EngineError;

/// Why the simulated network refused an operation. Serde form: `{"kind", "message"}` (it crosses
/// the remote engine wire).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum SimError {
    /// A named phone, session, group, code, message or media does not exist (control API:
    /// `404 not_found`).
    #[error("{0}")]
    NotFound(String),
    /// The input is malformed, unknown or stale (control API: `400 validation_error`).
    #[error("{0}")]
    Invalid(String),
    /// The actor may not do this, e.g. it is not a group admin (control API: `403 forbidden`).
    #[error("{0}")]
    Forbidden(String),
    /// The acting connection is not connected (control API: `409 conflict`).
    #[error("{0}")]
    Offline(String),
}

/// The one mapping of network refusals to the engine port's errors (decisions.md D3).
impl From<SimError> for EngineError {
    fn from(err: SimError) -> Self {
        match err {
            SimError::NotFound(m) => EngineError::NotFound(m),
            SimError::Invalid(m) => EngineError::Rejected(m),
            SimError::Forbidden(m) => EngineError::Forbidden(m),
            SimError::Offline(m) => EngineError::Unavailable(m),
        }
    }
}
