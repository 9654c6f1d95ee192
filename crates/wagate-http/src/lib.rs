//! The HTTP layer: translates requests into service calls and service errors into the
//! contract's envelope, and nothing else (no business rules live here).

pub mod action_path;
pub mod error;
mod extract;
mod middleware;
pub mod openapi;
mod qr_image;
mod router;
mod routes;
mod state;

pub use error::{ApiError, ErrorCode};
pub use router::{ExtraRoutes, HttpOptions, RateLimit, router};
pub use state::{AppState, Services};
