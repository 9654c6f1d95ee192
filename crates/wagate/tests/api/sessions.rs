//! Sessions as stored resources (api.md §4.1–4.4).

use reqwest::Method;
use serde_json::{Value, json};
use wagate_domain::SessionId;
use wagate_test_support::node::TestNode;

#[tokio::test]
async fn create_session_returns_the_full_schema_with_defaults() {
    let node = TestNode::start().await;
    let reply = node.post("/api/v1/sessions", json!({})).await;
    assert_eq!(reply.status, 201);
    let s = reply.body;
    assert!(s["id"].as_str().unwrap().starts_with("sess_"));
    assert_eq!(s["id"].as_str().unwrap().len(), 31);
    assert_eq!(s["organizationId"], node.default_org().await.as_str());
    assert_eq!(s["gatewayId"], "gw-1");
    assert_eq!(s["status"], "stopped");
    assert_eq!(s["isAdminSession"], false);
    assert_eq!(s["autoRead"], true);
    assert_eq!(s["presenceTyping"], false);
    assert_eq!(s["ratePerMin"], 20);
    assert_eq!(s["ratePerHour"], 200);
    assert!(s["createdAt"].as_i64().unwrap() > 1_700_000_000_000);
    assert_eq!(s["createdAt"], s["updatedAt"]);
    // Absent optional values are omitted, not null (api.md §1.1).
    for absent in [
        "label",
        "waJid",
        "waLid",
        "phoneNumber",
        "lastConnectedAt",
        "createdByUserId",
    ] {
        assert!(s.get(absent).is_none(), "{absent} should be omitted");
    }
}

#[tokio::test]
async fn create_session_honours_label_and_flags() {
    let node = TestNode::start().await;
    let body = json!({"label": "front desk", "autoRead": false, "presenceTyping": true});
    let s = node.post("/api/v1/sessions", body).await.body;
    assert_eq!(s["label"], "front desk");
    assert_eq!(s["autoRead"], false);
    assert_eq!(s["presenceTyping"], true);
}

#[tokio::test]
async fn node_id_is_the_sessions_gateway_id() {
    let node = TestNode::start_with(|c| c.node_id = "node-7".into()).await;
    let id = node.create_session("x").await;
    let s = node.get(&format!("/api/v1/sessions/{id}")).await.body;
    assert_eq!(s["gatewayId"], "node-7");
}

#[tokio::test]
async fn list_sessions_is_newest_first_in_one_page() {
    let node = TestNode::start().await;
    let first = node.create_session("first").await;
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    let second = node.create_session("second").await;
    let body = node.get("/api/v1/sessions").await.body;
    let ids: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![second.as_str(), first.as_str()]);
    assert!(body.get("nextCursor").is_none());
}

#[tokio::test]
async fn empty_list_is_an_empty_array() {
    let node = TestNode::start().await;
    assert_eq!(node.get("/api/v1/sessions").await.body, json!({"data": []}));
}

#[tokio::test]
async fn get_and_delete_session() {
    let node = TestNode::start().await;
    let id = node.create_session("gone soon").await;
    let path = format!("/api/v1/sessions/{id}");
    assert_eq!(node.get(&path).await.body["label"], "gone soon");
    let deleted = node
        .call(Some(&node.key), Method::DELETE, &path, None)
        .await;
    assert_eq!((deleted.status, deleted.body), (204, Value::Null));
    let gone = node.get(&path).await;
    assert_eq!((gone.status, gone.message()), (404, "session not found"));
    let again = node
        .call(Some(&node.key), Method::DELETE, &path, None)
        .await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn unknown_and_malformed_session_ids_are_404() {
    let node = TestNode::start().await;
    for id in ["sess_01JD5Z3V2Q0000000000000000", "nope", "sess_%20x"] {
        let reply = node.get(&format!("/api/v1/sessions/{id}")).await;
        assert_eq!((reply.status, reply.code()), (404, "not_found"), "{id}");
    }
}

#[tokio::test]
async fn unknown_property_is_a_validation_error() {
    let node = TestNode::start().await;
    let reply = node
        .post("/api/v1/sessions", json!({"label": "x", "colour": "red"}))
        .await;
    assert_eq!((reply.status, reply.code()), (400, "validation_error"));
    assert_eq!(reply.message(), "validation failed");
    let problem = reply.body["error"]["details"]["errors"][0]
        .as_str()
        .unwrap();
    assert!(problem.contains("colour"), "{problem}");
}

/// Sends a raw body to `createSession`.
async fn create_raw(node: &TestNode, body: &'static str) -> (u16, Value) {
    let res = node
        .req(Method::POST, "/api/v1/sessions")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test]
async fn empty_body_is_required_error() {
    let node = TestNode::start().await;
    let (status, body) = create_raw(&node, "").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["message"], "request body is required");
}

#[tokio::test]
async fn wrong_types_and_malformed_json_are_validation_errors() {
    let node = TestNode::start().await;
    for raw in [r#"{"start": "yes"}"#, r#"{"label": 5}"#, "{", "[]", "null"] {
        let (status, body) = create_raw(&node, raw).await;
        assert_eq!(status, 400, "{raw}");
        assert_eq!(body["error"]["code"], "validation_error", "{raw}");
    }
}

#[tokio::test]
async fn overlong_label_is_a_validation_error_and_nothing_is_stored() {
    let node = TestNode::start().await;
    let reply = node
        .post("/api/v1/sessions", json!({"label": "x".repeat(256)}))
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(node.get("/api/v1/sessions").await.body["data"], json!([]));
}

#[tokio::test]
async fn key_limited_to_sessions_sees_only_those() {
    let node = TestNode::start().await;
    let a = node.create_session("a").await;
    let b = node.create_session("b").await;
    let org = node.default_org().await;
    let limited = node
        .key_in(&org, "manage", Some(vec![SessionId::parse(&a).unwrap()]))
        .await;
    let list = node
        .call(Some(&limited.key), Method::GET, "/api/v1/sessions", None)
        .await
        .body;
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![a.as_str()]);
    let other = format!("/api/v1/sessions/{b}");
    let hidden = node
        .call(Some(&limited.key), Method::GET, &other, None)
        .await;
    assert_eq!(hidden.status, 404);
    let create = node
        .call(
            Some(&limited.key),
            Method::POST,
            "/api/v1/sessions",
            Some(&json!({})),
        )
        .await;
    assert_eq!(create.status, 403, "a limited key cannot create sessions");
}
