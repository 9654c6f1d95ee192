//! The baseline of `scripts/bench-http` (docs/benchmarks.md): a bare axum handler at
//! `GET /api/v1/sessions/{id}` that answers a fixed session, with no authentication, no
//! database and no middleware. wagate's authenticated `getSession` is measured against it.
//!
//! The other modules are the helpers of the other benchmarks: [`pair`] (sessions paired on a
//! standalone simnet: `scripts/bench-restore` and the messaging benchmarks), and for
//! `scripts/bench-messaging` the send load generator [`send`], the in-process [`inbound`]
//! pipeline run, [`phones`] sending to sessions through simnet, [`seed`] (a chat with a million
//! messages) and [`page`] (timeline page latency), [`groups`] (a 1,000-member group stored and
//! read); [`api`] and [`latency`] serve them all.

pub mod api;
pub mod fanout;
pub mod groups;
pub mod in_process;
pub mod inbound;
pub mod latency;
pub mod page;
pub mod pair;
pub mod phones;
pub mod seed;
pub mod send;
pub mod webhooks;

use axum::extract::Path;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

/// Same fields, names, order and omissions as `wagate-http`'s `SessionBody` for a freshly
/// created session (`POST /api/v1/sessions` with `{}`), so both servers send a body of the same
/// shape and size (about 300 bytes).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BareSession {
    id: String,
    organization_id: &'static str,
    gateway_id: &'static str,
    status: &'static str,
    is_admin_session: bool,
    auto_read: bool,
    presence_typing: bool,
    rate_per_min: i32,
    rate_per_hour: i32,
    created_at: i64,
    updated_at: i64,
}

impl BareSession {
    /// A fixed session with the given id (ids have the same length as real ones).
    pub fn fixed(id: String) -> Self {
        Self {
            id,
            organization_id: "org_01JZ0000000000000000000000",
            gateway_id: "gw-1",
            status: "stopped",
            is_admin_session: false,
            auto_read: true,
            presence_typing: false,
            rate_per_min: 20,
            rate_per_hour: 200,
            created_at: 1_760_000_000_000,
            updated_at: 1_760_000_000_000,
        }
    }
}

/// The handler: path extraction and JSON serialization per request, like any axum handler.
async fn get_session(Path(id): Path<String>) -> Json<BareSession> {
    Json(BareSession::fixed(id))
}

/// The bare router: one route, nothing else.
pub fn bare_router() -> Router {
    Router::new().route("/api/v1/sessions/{id}", get(get_session))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt as _;

    #[tokio::test]
    async fn answers_a_session_shaped_body() {
        let id = "sess_01JZ0000000000000000000000";
        let req = Request::builder()
            .uri(format!("/api/v1/sessions/{id}"))
            .body(Body::empty())
            .unwrap();
        let res = bare_router().oneshot(req).await.unwrap();
        assert_eq!(res.status(), 200);
        let body = axum::body::to_bytes(res.into_body(), 4096).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["id"], id);
        assert_eq!(v["status"], "stopped");
        assert_eq!(v["ratePerHour"], 200);
        assert!(v.get("label").is_none());
    }
}
