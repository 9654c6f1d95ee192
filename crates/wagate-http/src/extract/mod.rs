//! Extractors that answer the contract's envelope instead of axum's plain-text rejections.

mod caller;
mod json;
mod query;

pub use caller::Caller;
pub use json::ApiJson;
pub use query::ApiQuery;
