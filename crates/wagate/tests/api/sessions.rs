//! Sessions as stored resources (api.md §4.1–4.4).

use reqwest::Method;
use serde_json::{Value, json};
use wagate_test_support::node::TestNode;

async fn json_of(res: reqwest::Response) -> Value {
    res.json().await.expect("json body")
}

#[tokio::test]
async fn create_session_returns_the_full_schema_with_defaults() {
    let node = TestNode::start().await;
    let res = node
        .req(Method::POST, "/api/v1/sessions")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let s = json_of(res).await;
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
    let res = node
        .req(Method::POST, "/api/v1/sessions")
        .json(&json!({"label": "front desk", "autoRead": false, "presenceTyping": true}))
        .send()
        .await
        .unwrap();
    let s = json_of(res).await;
    assert_eq!(s["label"], "front desk");
    assert_eq!(s["autoRead"], false);
    assert_eq!(s["presenceTyping"], true);
}

#[tokio::test]
async fn node_id_is_the_sessions_gateway_id() {
    let node = TestNode::start_with(|c| c.node_id = "node-7".into()).await;
    let id = node.create_session("x").await;
    let s = json_of(
        node.req(Method::GET, &format!("/api/v1/sessions/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s["gatewayId"], "node-7");
}

#[tokio::test]
async fn list_sessions_is_newest_first_in_one_page() {
    let node = TestNode::start().await;
    let first = node.create_session("first").await;
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    let second = node.create_session("second").await;
    let body = json_of(
        node.req(Method::GET, "/api/v1/sessions")
            .send()
            .await
            .unwrap(),
    )
    .await;
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
    let body = json_of(
        node.req(Method::GET, "/api/v1/sessions")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body, json!({"data": []}));
}

#[tokio::test]
async fn get_and_delete_session() {
    let node = TestNode::start().await;
    let id = node.create_session("gone soon").await;
    let path = format!("/api/v1/sessions/{id}");
    let got = json_of(node.req(Method::GET, &path).send().await.unwrap()).await;
    assert_eq!(got["label"], "gone soon");
    let res = node.req(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.bytes().await.unwrap().is_empty());
    let res = node.req(Method::GET, &path).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(json_of(res).await["error"]["message"], "session not found");
    assert_eq!(
        node.req(Method::DELETE, &path)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn unknown_and_malformed_session_ids_are_404() {
    let node = TestNode::start().await;
    for id in ["sess_01JD5Z3V2Q0000000000000000", "nope", "sess_%20x"] {
        let res = node
            .req(Method::GET, &format!("/api/v1/sessions/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{id}");
        assert_eq!(json_of(res).await["error"]["code"], "not_found");
    }
}

#[tokio::test]
async fn unknown_property_is_a_validation_error() {
    let node = TestNode::start().await;
    let res = node
        .req(Method::POST, "/api/v1/sessions")
        .json(&json!({"label": "x", "colour": "red"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body = json_of(res).await;
    assert_eq!(body["error"]["code"], "validation_error");
    assert_eq!(body["error"]["message"], "validation failed");
    assert!(
        body["error"]["details"]["errors"][0]
            .as_str()
            .unwrap()
            .contains("colour")
    );
}

#[tokio::test]
async fn empty_body_is_required_error() {
    let node = TestNode::start().await;
    let res = node
        .req(Method::POST, "/api/v1/sessions")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        json_of(res).await["error"]["message"],
        "request body is required"
    );
}

#[tokio::test]
async fn wrong_types_and_malformed_json_are_validation_errors() {
    let node = TestNode::start().await;
    for body in [r#"{"start": "yes"}"#, r#"{"label": 5}"#, "{", "[]", "null"] {
        let res = node
            .req(Method::POST, "/api/v1/sessions")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{body}");
        assert_eq!(
            json_of(res).await["error"]["code"],
            "validation_error",
            "{body}"
        );
    }
}

#[tokio::test]
async fn overlong_label_is_a_validation_error_and_nothing_is_stored() {
    let node = TestNode::start().await;
    let res = node
        .req(Method::POST, "/api/v1/sessions")
        .json(&json!({"label": "x".repeat(256)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let list = json_of(
        node.req(Method::GET, "/api/v1/sessions")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["data"], json!([]));
}

#[tokio::test]
async fn key_limited_to_sessions_sees_only_those() {
    let node = TestNode::start().await;
    let a = node.create_session("a").await;
    let _b = node.create_session("b").await;
    let org = node.default_org().await;
    let limited = node
        .key_in(
            &org,
            "manage",
            Some(vec![wagate_domain::SessionId::parse(&a).unwrap()]),
        )
        .await;
    let list = json_of(
        node.with_key(&limited.key, Method::GET, "/api/v1/sessions")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![a.as_str()]);
    let res = node
        .with_key(&limited.key, Method::GET, &format!("/api/v1/sessions/{_b}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = node
        .with_key(&limited.key, Method::POST, "/api/v1/sessions")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}
