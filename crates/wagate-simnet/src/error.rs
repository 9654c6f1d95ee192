//! The network's error: either something named does not exist, or the input is wrong.

use wagate_domain::EngineError;

/// Why the simulated network refused an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// A named phone, session or device does not exist (control API: `404 not_found`).
    #[error("{0}")]
    NotFound(String),
    /// The input is malformed, unknown or stale (control API: `400 validation_error`).
    #[error("{0}")]
    Invalid(String),
}

impl From<SimError> for EngineError {
    fn from(err: SimError) -> Self {
        EngineError::Rejected(err.to_string())
    }
}
