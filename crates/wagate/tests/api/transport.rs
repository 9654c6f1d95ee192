//! Transport rules: unknown routes, 405, 413, request ids, CORS, the per-credential limit.

use reqwest::Method;
use serde_json::{Value, json};
use wagate_test_support::node::TestNode;

#[tokio::test]
async fn unknown_route_is_404_route_not_found() {
    let node = TestNode::start().await;
    for path in [
        "/nope",
        "/api/v1/nope",
        "/api/v2/sessions",
        "/api/v1/sessions/a/b/c",
    ] {
        let res = node.req(Method::GET, path).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            body,
            json!({"error": {"code": "not_found", "message": "route not found"}})
        );
    }
}

#[tokio::test]
async fn wrong_method_is_405_with_allow_and_envelope() {
    let node = TestNode::start().await;
    let res = node
        .req(Method::PUT, "/api/v1/sessions")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    let allow = res.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn oversize_body_is_413_payload_too_large() {
    let node = TestNode::start().await;
    let big = format!("{{\"label\":\"{}\"}}", "x".repeat(1024 * 1024 + 10));
    let res = node
        .req(Method::POST, "/api/v1/sessions")
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
}

#[tokio::test]
async fn request_id_is_kept_when_valid_and_replaced_otherwise() {
    let node = TestNode::start().await;
    let res = node
        .anon(Method::GET, "/healthz")
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
    let res = node
        .anon(Method::GET, "/healthz")
        .header("x-request-id", "x".repeat(129))
        .send()
        .await
        .unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 26, "a fresh ULID");
    let res = node.anon(Method::GET, "/nope").send().await.unwrap();
    assert!(
        res.headers().contains_key("x-request-id"),
        "echoed on errors too"
    );
}

#[tokio::test]
async fn cors_preflight_is_204_with_the_contract_headers() {
    let node = TestNode::start_with(|c| c.cors_origins = vec!["https://app.example".into()]).await;
    let res = node
        .anon(Method::OPTIONS, "/api/v1/sessions")
        .header("origin", "https://app.example")
        .header("access-control-request-method", "PUT")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(h["access-control-max-age"], "600");
    let methods = h["access-control-allow-methods"].to_str().unwrap();
    for m in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
        assert!(methods.contains(m), "{methods}");
    }
    let headers = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    for name in [
        "authorization",
        "content-type",
        "x-api-key",
        "idempotency-key",
        "x-request-id",
    ] {
        assert!(headers.contains(name), "{headers}");
    }
    let res = node
        .req(Method::GET, "/api/v1/sessions")
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(!res.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn cors_wildcard_reflects_the_origin() {
    let node = TestNode::start_with(|c| c.cors_origins = vec!["*".into()]).await;
    let res = node
        .req(Method::GET, "/api/v1/sessions")
        .header("origin", "https://any.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://any.example"
    );
    assert!(
        res.headers()["vary"]
            .to_str()
            .unwrap()
            .to_lowercase()
            .contains("origin")
    );
}

#[tokio::test]
async fn per_credential_rate_limit_answers_429_with_retry_after() {
    let node = TestNode::start_with(|c| {
        c.rate_limit_per_second = 1;
        c.rate_limit_burst = 3;
    })
    .await;
    for _ in 0..3 {
        assert_eq!(
            node.req(Method::GET, "/api/v1/sessions")
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let res = node
        .req(Method::GET, "/api/v1/sessions")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // Another credential has its own bucket.
    let other = node.key_in(&node.default_org().await, "manage", None).await;
    assert_eq!(
        node.with_key(&other.key, Method::GET, "/api/v1/sessions")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn graceful_shutdown_then_restart_keeps_data() {
    let node = TestNode::start().await;
    let id = node.create_session("survivor").await;
    let key = node.key.clone();
    let db = node.stop().await;
    let node = TestNode::start_on(db, |_| {}).await;
    assert_eq!(node.key, key, "bootstrap happens once");
    let res = node
        .req(Method::GET, &format!("/api/v1/sessions/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn undecodable_path_parameter_is_a_validation_error_envelope() {
    let node = TestNode::start().await;
    let reply = node.get("/api/v1/sessions/%FF%FE").await;
    assert_eq!((reply.status, reply.code()), (400, "validation_error"));
}
