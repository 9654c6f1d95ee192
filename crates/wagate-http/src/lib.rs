//! The HTTP layer: translates requests into service calls and service errors into the
//! contract's envelope, and nothing else (no business rules live here).

pub mod error;
mod extract;
mod middleware;
pub mod openapi;
mod router;
mod routes;
mod state;

pub use error::{ApiError, ErrorCode};
pub use router::{HttpOptions, RateLimit, router};
pub use state::{AppState, Services};
