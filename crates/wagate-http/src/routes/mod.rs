//! One module per resource; each handler carries its OpenAPI annotation.

pub mod api_keys;
pub mod channels;
pub mod chats;
pub mod contacts;
pub mod docs;
pub mod events;
pub mod groups;
pub mod media;
pub mod messages;
pub mod presence;
pub mod probes;
pub mod realtime;
pub mod session_lifecycle;
pub mod sessions;
pub mod status;
pub mod webhooks;

use serde::Serialize;
use utoipa::ToSchema;

/// `List<T>` (api.md §2.1): `data` is always an array; `nextCursor` only after a full page.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListBody<T> {
    data: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

impl<T> ListBody<T> {
    /// A collection answered in one page.
    pub fn all(data: Vec<T>) -> Self {
        Self {
            data,
            next_cursor: None,
        }
    }

    pub fn page(data: Vec<T>, next_cursor: Option<String>) -> Self {
        Self { data, next_cursor }
    }
}
