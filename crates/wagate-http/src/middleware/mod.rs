//! Cross-cutting request handling (api.md §1.6–1.13, D3), one concern per module.

pub mod auth;
pub mod cors;
pub mod deadline;
pub mod envelope;
pub mod guard;
pub mod metrics;
pub mod rate_limit;
pub mod request_id;
