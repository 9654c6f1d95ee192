//! The request deadline (api.md §1.12): past it, `503 gateway_unavailable` `request timed out`.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorCode};

pub async fn deadline(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(ErrorCode::GatewayUnavailable, "request timed out")
            .with_retry_after(1)
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::middleware::from_fn_with_state;
    use axum::routing::get;
    use tower::ServiceExt as _;

    fn app(limit: Duration) -> Router {
        Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    "done"
                }),
            )
            .layer(from_fn_with_state(limit, deadline))
    }

    async fn call(app: Router) -> Response {
        let req = Request::builder().uri("/slow").body(Body::empty()).unwrap();
        app.oneshot(req).await.unwrap()
    }

    #[tokio::test]
    async fn past_the_deadline_is_503_request_timed_out() {
        let res = call(app(Duration::from_millis(20))).await;
        assert_eq!(res.status(), 503);
        assert!(res.headers().contains_key("retry-after"));
        let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["code"], "gateway_unavailable");
        assert_eq!(v["error"]["message"], "request timed out");
    }

    #[tokio::test]
    async fn within_the_deadline_passes_through() {
        assert_eq!(call(app(Duration::from_secs(5))).await.status(), 200);
    }
}
