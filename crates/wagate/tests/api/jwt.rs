//! JWT callers end to end: a JWKS on loopback with locally generated keys (api.md §1.3–1.4).

use reqwest::Method;
use serde_json::{Value, json};
use wagate::config::JwtConfig;
use wagate_test_support::jwt::{JwksServer, SigningKey, claims};
use wagate_test_support::node::TestNode;

const ISS: &str = "https://auth.example";
const AUD: &str = "https://auth.example";

async fn node_with_jwks(jwks: &JwksServer) -> TestNode {
    let url = jwks.url();
    TestNode::start_with(move |c| {
        c.jwt = Some(JwtConfig {
            jwks_url: url,
            issuer: ISS.into(),
            audience: AUD.into(),
            org_claim: "activeOrganizationId".into(),
            org_role_claim: "orgRole".into(),
            role_claim: "role".into(),
        });
    })
    .await
}

#[tokio::test]
async fn owner_token_creates_its_organization_and_manages_sessions() {
    let key = SigningKey::ed25519("k1");
    let jwks = JwksServer::start(vec![key.public_jwk()]).await;
    let node = node_with_jwks(&jwks).await;
    let token = key.sign(&claims(ISS, AUD, "user-1", Some("org-acme"), Some("owner")));
    let res = node
        .with_key(&token, Method::POST, "/api/v1/sessions")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let s: Value = res.json().await.unwrap();
    assert_eq!(s["organizationId"], "org-acme");
    assert_eq!(s["createdByUserId"], "user-1");
    let org = node.store().find_organization("org-acme").await.unwrap();
    assert!(org.is_some(), "organization created on first use");
    // The bootstrap organization's key does not see it.
    let list: Value = node
        .req(Method::GET, "/api/v1/sessions")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"], json!([]));
}

#[tokio::test]
async fn member_token_lacks_manage() {
    let key = SigningKey::es256("k1");
    let jwks = JwksServer::start(vec![key.public_jwk()]).await;
    let node = node_with_jwks(&jwks).await;
    let token = key.sign(&claims(ISS, AUD, "user-2", Some("org-m"), Some("member")));
    let res = node
        .with_key(&token, Method::GET, "/api/v1/sessions")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "missing required capability: manage"
    );
}

#[tokio::test]
async fn token_without_active_organization_is_401_authentication_required() {
    let key = SigningKey::rs256("k1");
    let jwks = JwksServer::start(vec![key.public_jwk()]).await;
    let node = node_with_jwks(&jwks).await;
    let token = key.sign(&claims(ISS, AUD, "user-3", None, Some("owner")));
    let res = node
        .with_key(&token, Method::GET, "/api/v1/sessions")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["message"], "authentication required");
}

#[tokio::test]
async fn token_of_wrong_issuer_or_unknown_signer_is_401() {
    let key = SigningKey::ed25519("k1");
    let jwks = JwksServer::start(vec![key.public_jwk()]).await;
    let node = node_with_jwks(&jwks).await;
    let wrong_iss = key.sign(&claims("https://other", AUD, "u", Some("o"), Some("owner")));
    let stranger = SigningKey::ed25519("k1").sign(&claims(ISS, AUD, "u", Some("o"), Some("owner")));
    for token in [wrong_iss, stranger] {
        let res = node
            .with_key(&token, Method::GET, "/api/v1/sessions")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["message"], "missing or invalid credentials");
    }
}

#[tokio::test]
async fn rotated_signing_key_is_picked_up_on_unknown_kid() {
    let old = SigningKey::ed25519("old");
    let jwks = JwksServer::start(vec![old.public_jwk()]).await;
    let node = node_with_jwks(&jwks).await;
    let c = claims(ISS, AUD, "u", Some("org-r"), Some("admin"));
    let res = node
        .with_key(&old.sign(&c), Method::GET, "/api/v1/sessions")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let new = SigningKey::ed25519("new");
    jwks.set_keys(vec![new.public_jwk()]);
    let res = node
        .with_key(&new.sign(&c), Method::GET, "/api/v1/sessions")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn member_cannot_create_api_keys_but_admin_can() {
    let key = SigningKey::ed25519("k1");
    let jwks = JwksServer::start(vec![key.public_jwk()]).await;
    let node = node_with_jwks(&jwks).await;
    let member = key.sign(&claims(ISS, AUD, "m", Some("org-k"), Some("member")));
    let admin = key.sign(&claims(ISS, AUD, "a", Some("org-k"), Some("admin")));
    let body = json!({"permissions": ["read"]});
    let res = node
        .with_key(&member, Method::POST, "/api/v1/api-keys")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = node
        .with_key(&admin, Method::POST, "/api/v1/api-keys")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["organizationId"], "org-k");
}
