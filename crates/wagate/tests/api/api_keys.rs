//! API keys over REST (D2): minting rules, revocation on the very next request, pagination.

use reqwest::Method;
use serde_json::{Value, json};
use wagate_domain::SessionId;
use wagate_test_support::node::{Reply, TestNode};

async fn create(node: &TestNode, key: &str, body: Value) -> Reply {
    node.call(Some(key), Method::POST, "/api/v1/api-keys", Some(&body))
        .await
}

async fn status_with(node: &TestNode, key: &str, method: Method, path: &str) -> u16 {
    node.call(Some(key), method, path, None).await.status
}

fn secret(reply: &Reply) -> &str {
    reply.body["key"].as_str().expect("secret in a created key")
}

#[tokio::test]
async fn created_key_is_shown_once_and_works() {
    let node = TestNode::start().await;
    let body = json!({"name": "crm", "permissions": ["read", "manage"]});
    let created = create(&node, &node.key, body).await;
    assert_eq!(created.status, 201);
    assert!(secret(&created).starts_with("wa_"));
    assert_eq!(created.body["permissions"], json!(["read", "manage"]));
    assert_eq!(created.body["state"], "active");
    assert_eq!(created.body["name"], "crm");
    assert_eq!(
        status_with(&node, secret(&created), Method::GET, "/api/v1/sessions").await,
        200
    );
    let list = node.get("/api/v1/api-keys").await.body;
    assert!(
        !list.to_string().contains(secret(&created)),
        "never shown again"
    );
    let ids: Vec<&Value> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["id"])
        .collect();
    assert!(ids.contains(&&created.body["id"]));
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
    let created = create(&node, &node.key, json!({"permissions": ["manage"]})).await;
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(
        status_with(&node, secret(&created), Method::GET, "/api/v1/sessions").await,
        200
    );
    let revoke = format!("/api/v1/api-keys/{id}");
    assert_eq!(
        status_with(&node, &node.key, Method::DELETE, &revoke).await,
        204
    );
    assert_eq!(
        status_with(&node, secret(&created), Method::GET, "/api/v1/sessions").await,
        401
    );
    let list = node.get("/api/v1/api-keys").await.body;
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
    let created = create(&node, &node.key, json!({"permissions": ["manage"]})).await;
    let revoke = format!("/api/v1/api-keys/{}", created.body["id"].as_str().unwrap());
    assert_eq!(
        status_with(&node, secret(&created), Method::DELETE, &revoke).await,
        204
    );
    assert_eq!(
        status_with(&node, secret(&created), Method::GET, "/api/v1/api-keys").await,
        401
    );
}

#[tokio::test]
async fn cannot_mint_permissions_the_caller_does_not_hold() {
    let node = TestNode::start().await;
    let manager = node
        .key_in(&node.default_org().await, "read,manage", None)
        .await;
    let refused = create(&node, &manager.key, json!({"permissions": ["send"]})).await;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"));
    let allowed = create(&node, &manager.key, json!({"permissions": ["read"]})).await;
    assert_eq!(allowed.status, 201);
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
    let unlimited = create(&node, &limited.key, json!({"permissions": ["manage"]})).await;
    assert_eq!(unlimited.status, 403, "unlimited key from a limited one");
    let other = json!({"permissions": ["manage"], "sessions": [b]});
    assert_eq!(
        create(&node, &limited.key, other).await.status,
        403,
        "another session"
    );
    let same = create(
        &node,
        &limited.key,
        json!({"permissions": ["manage"], "sessions": [a]}),
    )
    .await;
    assert_eq!(same.status, 201);
    assert_eq!(same.body["sessions"], json!([a]));
}

#[tokio::test]
async fn minted_key_cannot_outlive_its_minter() {
    let node = TestNode::start().await;
    let far = 4_102_444_800_000_i64; // 2100-01-01
    let short_lived = json!({"permissions": ["manage"], "expiresAt": far - 1000});
    let short = create(&node, &node.key, short_lived).await;
    let longer = json!({"permissions": ["manage"], "expiresAt": far});
    assert_eq!(create(&node, secret(&short), longer).await.status, 403);
    let child = create(&node, secret(&short), json!({"permissions": ["manage"]})).await;
    assert_eq!(child.status, 201);
    assert_eq!(
        child.body["expiresAt"],
        far - 1000,
        "inherits the minter's expiry"
    );
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
        let reply = create(&node, &node.key, body.clone()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "validation_error"),
            "{body}"
        );
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
    let created = create(
        &node,
        &node.key,
        json!({"permissions": ["manage"], "expiresAt": soon}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(
        status_with(&node, secret(&created), Method::GET, "/api/v1/sessions").await,
        401
    );
}

#[tokio::test]
async fn keys_page_with_opaque_cursors() {
    let node = TestNode::start().await;
    for _ in 0..4 {
        create(&node, &node.key, json!({"permissions": ["read"]})).await;
    }
    // Five keys: the bootstrap key plus four, in pages of two.
    let (mut seen, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/api-keys?limit=2&cursor={c}"),
            None => "/api/v1/api-keys?limit=2".to_owned(),
        };
        let page = node.get(&path).await.body;
        pages += 1;
        for key in page["data"].as_array().unwrap() {
            seen.push(key["id"].as_str().unwrap().to_owned());
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (5, 5), "every key once");
}

#[tokio::test]
async fn bad_cursor_and_non_integer_limit_are_validation_errors() {
    let node = TestNode::start().await;
    let bad_cursor = node.get("/api/v1/api-keys?cursor=garbage").await;
    assert_eq!(
        (bad_cursor.status, bad_cursor.message()),
        (400, "invalid cursor")
    );
    let bad_limit = node.get("/api/v1/api-keys?limit=ten").await;
    assert_eq!(
        (bad_limit.status, bad_limit.code()),
        (400, "validation_error")
    );
}

#[tokio::test]
async fn revoking_another_organizations_key_is_404_and_leaves_it_working() {
    let node = TestNode::start().await;
    let stranger = node.new_org_key("manage").await;
    let revoke = format!("/api/v1/api-keys/{}", stranger.id);
    assert_eq!(
        status_with(&node, &node.key, Method::DELETE, &revoke).await,
        404
    );
    assert_eq!(
        status_with(&node, &stranger.key, Method::GET, "/api/v1/sessions").await,
        200
    );
}
