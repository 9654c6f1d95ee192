//! JWT callers end to end: a JWKS on loopback with locally generated keys (api.md §1.3–1.4).

use reqwest::Method;
use serde_json::{Value, json};
use wagate::config::JwtConfig;
use wagate_test_support::jwt::{JwksServer, SigningKey, claims};
use wagate_test_support::node::{Reply, TestNode};

pub(crate) const ISS: &str = "https://auth.example";
pub(crate) const AUD: &str = "https://auth.example";

/// A node trusting a JWKS server that publishes `key`.
pub(crate) async fn node_trusting(key: &SigningKey) -> (JwksServer, TestNode) {
    let jwks = JwksServer::start(vec![key.public_jwk()]).await;
    let url = jwks.url();
    let node = TestNode::start_with(move |c| {
        c.jwt = Some(JwtConfig {
            jwks_url: url,
            issuer: ISS.into(),
            audience: AUD.into(),
            org_claim: "activeOrganizationId".into(),
            org_role_claim: "orgRole".into(),
            role_claim: "role".into(),
        });
    })
    .await;
    (jwks, node)
}

fn token(key: &SigningKey, sub: &str, org: Option<&str>, role: Option<&str>) -> String {
    key.sign(&claims(ISS, AUD, sub, org, role))
}

async fn as_user(
    node: &TestNode,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    node.call(Some(token), method, path, body.as_ref()).await
}

#[tokio::test]
async fn owner_token_creates_its_organization_and_manages_sessions() {
    let key = SigningKey::ed25519("k1");
    let (_jwks, node) = node_trusting(&key).await;
    let owner = token(&key, "user-1", Some("org-acme"), Some("owner"));
    let created = as_user(
        &node,
        &owner,
        Method::POST,
        "/api/v1/sessions",
        Some(json!({})),
    )
    .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.body["organizationId"], "org-acme");
    assert_eq!(created.body["createdByUserId"], "user-1");
    let org = node.store().find_organization("org-acme").await.unwrap();
    assert!(org.is_some(), "organization created on first use");
    let theirs = node.get("/api/v1/sessions").await.body;
    assert_eq!(
        theirs["data"],
        json!([]),
        "the default organization does not see it"
    );
}

#[tokio::test]
async fn member_token_lacks_manage() {
    let key = SigningKey::es256("k1");
    let (_jwks, node) = node_trusting(&key).await;
    let member = token(&key, "user-2", Some("org-m"), Some("member"));
    let reply = as_user(&node, &member, Method::GET, "/api/v1/sessions", None).await;
    assert_eq!(
        (reply.status, reply.message()),
        (403, "missing required capability: manage")
    );
}

#[tokio::test]
async fn token_without_active_organization_is_401_authentication_required() {
    let key = SigningKey::rs256("k1");
    let (_jwks, node) = node_trusting(&key).await;
    let orgless = token(&key, "user-3", None, Some("owner"));
    let reply = as_user(&node, &orgless, Method::GET, "/api/v1/sessions", None).await;
    assert_eq!(
        (reply.status, reply.message()),
        (401, "authentication required")
    );
}

#[tokio::test]
async fn super_admin_role_grants_every_capability() {
    let key = SigningKey::ed25519("k1");
    let (_jwks, node) = node_trusting(&key).await;
    let mut c = claims(ISS, AUD, "root", Some("org-s"), None);
    c["role"] = json!("super_admin");
    let reply = as_user(&node, &key.sign(&c), Method::GET, "/api/v1/sessions", None).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn token_of_wrong_issuer_or_unknown_signer_is_401() {
    let key = SigningKey::ed25519("k1");
    let (_jwks, node) = node_trusting(&key).await;
    let wrong_iss = key.sign(&claims("https://other", AUD, "u", Some("o"), Some("owner")));
    let stranger = token(&SigningKey::ed25519("k1"), "u", Some("o"), Some("owner"));
    for bad in [wrong_iss, stranger] {
        let reply = as_user(&node, &bad, Method::GET, "/api/v1/sessions", None).await;
        assert_eq!(
            (reply.status, reply.message()),
            (401, "missing or invalid credentials")
        );
    }
}

#[tokio::test]
async fn rotated_signing_key_is_picked_up_on_unknown_kid() {
    let old = SigningKey::ed25519("old");
    let (jwks, node) = node_trusting(&old).await;
    let before = token(&old, "u", Some("org-r"), Some("admin"));
    assert_eq!(
        as_user(&node, &before, Method::GET, "/api/v1/sessions", None)
            .await
            .status,
        200
    );
    let new = SigningKey::ed25519("new");
    jwks.set_keys(vec![new.public_jwk()]);
    let after = token(&new, "u", Some("org-r"), Some("admin"));
    assert_eq!(
        as_user(&node, &after, Method::GET, "/api/v1/sessions", None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn member_cannot_create_api_keys_but_admin_can() {
    let key = SigningKey::ed25519("k1");
    let (_jwks, node) = node_trusting(&key).await;
    let member = token(&key, "m", Some("org-k"), Some("member"));
    let admin = token(&key, "a", Some("org-k"), Some("admin"));
    let body = || Some(json!({"permissions": ["read"]}));
    assert_eq!(
        as_user(&node, &member, Method::POST, "/api/v1/api-keys", body())
            .await
            .status,
        403
    );
    let created = as_user(&node, &admin, Method::POST, "/api/v1/api-keys", body()).await;
    assert_eq!(created.status, 201);
    assert_eq!(created.body["organizationId"], "org-k");
}
