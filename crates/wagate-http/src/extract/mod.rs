//! Extractors that answer the contract's envelope instead of axum's plain-text rejections.

mod caller;
pub(crate) mod json;
mod path;
mod query;

pub use caller::Caller;
pub use json::ApiJson;
pub use path::ApiPath;
pub use query::ApiQuery;
