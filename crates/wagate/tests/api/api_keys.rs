//! API keys over REST (D2): minting rules, revocation on the very next request, pagination.

use reqwest::Method;
use serde_json::{Value, json};
use wagate_domain::SessionId;
use wagate_test_support::node::TestNode;

async fn create(node: &TestNode, key: &str, body: Value) -> (u16, Value) {
    let res = node
        .with_key(key, Method::POST, "/api/v1/api-keys")
        .json(&body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test]
async fn created_key_is_shown_once_and_works() {
    let node = TestNode::start().await;
    let (status, body) = create(
        &node,
        &node.key,
        json!({"name": "crm", "permissions": ["read", "manage"]}),
    )
    .await;
    assert_eq!(status, 201);
    let secret = body["key"].as_str().unwrap();
    assert!(secret.starts_with("wa_"));
    assert_eq!(body["permissions"], json!(["read", "manage"]));
    assert_eq!(body["state"], "active");
    assert_eq!(body["name"], "crm");
    let res = node
        .with_key(secret, Method::GET, "/api/v1/sessions")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Listing never shows a secret again.
    let list: Value = node
        .req(Method::GET, "/api/v1/api-keys")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!list.to_string().contains(secret));
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["id"] == body["id"])
    );
}

#[tokio::test]
async fn x_api_key_header_is_accepted_and_wins_over_an_opaque_bearer() {
    let node = TestNode::start().await;
    let res = node
        .anon(Method::GET, "/api/v1/sessions")
        .header("X-Api-Key", &node.key)
        .bearer_auth("wa_not_a_real_key")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn jwt_shaped_bearer_is_never_retried_as_a_key() {
    let node = TestNode::start().await;
    let res = node
        .anon(Method::GET, "/api/v1/sessions")
        .bearer_auth("a.b.c")
        .header("x-api-key", &node.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn revoked_key_fails_on_the_very_next_request() {
    let node = TestNode::start().await;
    let (_, body) = create(&node, &node.key, json!({"permissions": ["manage"]})).await;
    let (id, secret) = (body["id"].as_str().unwrap(), body["key"].as_str().unwrap());
    assert_eq!(
        node.with_key(secret, Method::GET, "/api/v1/sessions")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let res = node
        .req(Method::DELETE, &format!("/api/v1/api-keys/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = node
        .with_key(secret, Method::GET, "/api/v1/sessions")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let list: Value = node
        .req(Method::GET, "/api/v1/api-keys")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .unwrap();
    assert_eq!(listed["state"], "revoked");
}

#[tokio::test]
async fn a_key_can_revoke_itself() {
    let node = TestNode::start().await;
    let (_, body) = create(&node, &node.key, json!({"permissions": ["manage"]})).await;
    let (id, secret) = (body["id"].as_str().unwrap(), body["key"].as_str().unwrap());
    let res = node
        .with_key(secret, Method::DELETE, &format!("/api/v1/api-keys/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = node
        .with_key(secret, Method::GET, "/api/v1/api-keys")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn cannot_mint_permissions_the_caller_does_not_hold() {
    let node = TestNode::start().await;
    let manager = node
        .key_in(&node.default_org().await, "read,manage", None)
        .await;
    let (status, body) = create(&node, &manager.key, json!({"permissions": ["send"]})).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "forbidden");
    let (status, _) = create(&node, &manager.key, json!({"permissions": ["read"]})).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn cannot_mint_sessions_the_caller_is_not_limited_to() {
    let node = TestNode::start().await;
    let a = node.create_session("a").await;
    let b = node.create_session("b").await;
    let org = node.default_org().await;
    let limited = node
        .key_in(&org, "manage", Some(vec![SessionId::parse(&a).unwrap()]))
        .await;
    let (status, _) = create(&node, &limited.key, json!({"permissions": ["manage"]})).await;
    assert_eq!(status, 403, "unlimited key from a limited one");
    let (status, _) = create(
        &node,
        &limited.key,
        json!({"permissions": ["manage"], "sessions": [b]}),
    )
    .await;
    assert_eq!(status, 403, "another session");
    let (status, body) = create(
        &node,
        &limited.key,
        json!({"permissions": ["manage"], "sessions": [a]}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(body["sessions"], json!([a]));
}

#[tokio::test]
async fn minted_key_cannot_outlive_its_minter() {
    let node = TestNode::start().await;
    let far = 4_102_444_800_000_i64; // 2100-01-01
    let (_, short) = create(
        &node,
        &node.key,
        json!({"permissions": ["manage"], "expiresAt": far - 1000}),
    )
    .await;
    let short_key = short["key"].as_str().unwrap();
    let (status, _) = create(
        &node,
        short_key,
        json!({"permissions": ["manage"], "expiresAt": far}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, child) = create(&node, short_key, json!({"permissions": ["manage"]})).await;
    assert_eq!(status, 201);
    assert_eq!(child["expiresAt"], far - 1000);
}

#[tokio::test]
async fn invalid_key_requests_are_validation_errors() {
    let node = TestNode::start().await;
    for body in [
        json!({"permissions": []}),
        json!({"permissions": ["admin"]}),
        json!({"permissions": ["read"], "sessions": ["nope"]}),
        json!({"permissions": ["read"], "sessions": []}),
        json!({"permissions": ["read"], "sessions": ["sess_01JD5Z3V2Q0000000000000000"]}),
        json!({"permissions": ["read"], "expiresAt": 1}),
        json!({"permissions": ["read"], "extra": true}),
        json!({}),
    ] {
        let (status, res) = create(&node, &node.key, body.clone()).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(res["error"]["code"], "validation_error", "{body}");
    }
}

#[tokio::test]
async fn expired_key_is_401() {
    let node = TestNode::start().await;
    let soon = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        + 300;
    let (_, body) = create(
        &node,
        &node.key,
        json!({"permissions": ["manage"], "expiresAt": soon}),
    )
    .await;
    let secret = body["key"].as_str().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let res = node
        .with_key(secret, Method::GET, "/api/v1/sessions")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn keys_page_with_opaque_cursors() {
    let node = TestNode::start().await;
    for _ in 0..4 {
        create(&node, &node.key, json!({"permissions": ["read"]})).await;
    }
    // 5 keys: the bootstrap key plus four.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/api-keys?limit=2&cursor={c}"),
            None => "/api/v1/api-keys?limit=2".to_owned(),
        };
        let page: Value = node
            .req(Method::GET, &path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pages += 1;
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["id"].as_str().unwrap().to_owned()),
        );
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 5);
    let mut sorted = seen.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), 5, "no key twice");
}

#[tokio::test]
async fn bad_cursor_and_non_integer_limit_are_validation_errors() {
    let node = TestNode::start().await;
    for path in [
        "/api/v1/api-keys?cursor=garbage",
        "/api/v1/api-keys?limit=ten",
    ] {
        let res = node.req(Method::GET, path).send().await.unwrap();
        assert_eq!(res.status(), 400, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "validation_error");
    }
    let res = node
        .req(Method::GET, "/api/v1/api-keys?cursor=garbage")
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["message"], "invalid cursor");
}

#[tokio::test]
async fn revoking_another_organizations_key_is_404_and_leaves_it_working() {
    let node = TestNode::start().await;
    let stranger = node.new_org_key("manage").await;
    let res = node
        .req(Method::DELETE, &format!("/api/v1/api-keys/{}", stranger.id))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = node
        .with_key(&stranger.key, Method::GET, "/api/v1/sessions")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
