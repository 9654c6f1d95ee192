//! `JwksVerifier` against a real JWKS server on loopback (`api.md` §1.3).

#[allow(dead_code)]
#[path = "../../wagate-test-support/src/jwt.rs"]
mod jwt;

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, Header};
use jwt::{JwksServer, SigningKey};
use serde_json::{Value, json};
use wagate_domain::{TokenError, TokenVerifier, UserClaims};
use wagate_jwks::{JwksConfig, JwksSetupError, JwksVerifier};

const ISSUER: &str = "https://auth.example.test";
const AUDIENCE: &str = "https://gateway.example.test";

/// `refresh_after` / `min_refresh_interval` for tests that wait for a later refresh.
const SHORT_INTERVAL: Duration = Duration::from_millis(500);

fn config(server: &JwksServer) -> JwksConfig {
    JwksConfig::new(server.url(), ISSUER, AUDIENCE)
}

fn verifier_with(config: JwksConfig) -> JwksVerifier {
    JwksVerifier::new(config).expect("verifier")
}

fn verifier(server: &JwksServer) -> JwksVerifier {
    verifier_with(config(server))
}

fn valid_claims() -> Value {
    jwt::claims(ISSUER, AUDIENCE, "user-1", Some("org-1"), Some("admin"))
}

/// Asserts the token was rejected as invalid for the given reason.
fn assert_invalid(result: Result<UserClaims, TokenError>, reason: &str) {
    match result {
        Err(TokenError::Invalid(actual)) => assert_eq!(actual, reason),
        other => panic!("expected TokenError::Invalid({reason:?}), got {other:?}"),
    }
}

fn assert_keys_unavailable(result: Result<UserClaims, TokenError>) {
    match result {
        Err(TokenError::KeysUnavailable(_)) => {}
        other => panic!("expected TokenError::KeysUnavailable, got {other:?}"),
    }
}

/// Starts a server publishing `key` and returns it with a verifier pointed at it.
async fn serving(key: &SigningKey) -> (JwksServer, JwksVerifier) {
    let server = JwksServer::start(vec![key.public_jwk()]).await;
    let verifier = verifier(&server);
    (server, verifier)
}

async fn assert_accepts(key: SigningKey) {
    let (_server, verifier) = serving(&key).await;
    let claims = verifier
        .verify(&key.sign(&valid_claims()))
        .await
        .expect("valid token");
    assert_eq!(
        claims,
        UserClaims {
            subject: "user-1".into(),
            organization: Some("org-1".into()),
            org_role: Some("admin".into()),
            role: None,
        }
    );
}

// --- algorithms -------------------------------------------------------------------------------

#[tokio::test]
async fn accepts_eddsa_token() {
    assert_accepts(SigningKey::ed25519("ed-1")).await;
}

#[tokio::test]
async fn accepts_es256_token() {
    assert_accepts(SigningKey::es256("ec-1")).await;
}

#[tokio::test]
async fn accepts_rs256_token() {
    assert_accepts(SigningKey::rs256("rsa-1")).await;
}

#[tokio::test]
async fn accepts_key_whose_jwk_has_no_alg() {
    let key = SigningKey::ed25519("ed-1");
    let mut jwk = key.public_jwk();
    jwk.as_object_mut().expect("jwk object").remove("alg");
    let server = JwksServer::start(vec![jwk]).await;
    let verifier = verifier(&server);
    verifier
        .verify(&key.sign(&valid_claims()))
        .await
        .expect("valid token");
}

#[tokio::test]
async fn accepts_token_without_kid_by_trying_keys_of_its_algorithm() {
    let other_ed = SigningKey::ed25519("ed-other");
    let ec = SigningKey::es256("ec-1");
    let key = SigningKey::ed25519("ed-1");
    let server = JwksServer::start(vec![
        other_ed.public_jwk(),
        ec.public_jwk(),
        key.public_jwk(),
    ])
    .await;
    let verifier = verifier(&server);
    let token = key.sign_with_header(&Header::new(Algorithm::EdDSA), &valid_claims());
    verifier.verify(&token).await.expect("valid token");
}

#[tokio::test]
async fn rejects_token_signed_by_unpublished_key() {
    let published = SigningKey::ed25519("ed-1");
    // Same kid, different key material: the signature cannot verify.
    let impostor = SigningKey::ed25519("ed-1");
    let (_server, verifier) = serving(&published).await;
    assert_invalid(
        verifier.verify(&impostor.sign(&valid_claims())).await,
        "bad signature",
    );
}

#[tokio::test]
async fn rejects_tampered_payload() {
    let key = SigningKey::ed25519("ed-1");
    let (_server, verifier) = serving(&key).await;
    let token = key.sign(&valid_claims());
    let forged = jwt::unsigned_token(
        Some("ed-1"),
        &jwt::claims(ISSUER, AUDIENCE, "someone-else", None, None),
    );
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[1] = forged.split('.').nth(1).expect("payload segment");
    assert_invalid(verifier.verify(&parts.join(".")).await, "bad signature");
}

#[tokio::test]
async fn rejects_alg_mismatch_between_token_and_key() {
    let ed = SigningKey::ed25519("ed-1");
    let ec = SigningKey::es256("ec-1");
    let (_server, verifier) = serving(&ed).await;
    // A valid ES256 signature, but the header names the EdDSA key.
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(ed.kid().to_owned());
    assert_invalid(
        verifier
            .verify(&ec.sign_with_header(&header, &valid_claims()))
            .await,
        "token algorithm does not match the signing key",
    );
}

#[tokio::test]
async fn rejects_alg_none() {
    let key = SigningKey::ed25519("ed-1");
    let (server, verifier) = serving(&key).await;
    assert_invalid(
        verifier
            .verify(&jwt::unsigned_token(Some("ed-1"), &valid_claims()))
            .await,
        "malformed token or unsupported algorithm",
    );
    assert_invalid(
        verifier
            .verify(&jwt::unsigned_token(None, &valid_claims()))
            .await,
        "malformed token or unsupported algorithm",
    );
    assert_eq!(server.fetch_count(), 0, "rejected before any key lookup");
}

#[tokio::test]
async fn rejects_hs256_even_when_keyed_with_the_public_key() {
    let key = SigningKey::ed25519("ed-1");
    let (_server, verifier) = serving(&key).await;
    let public_x = key.public_jwk()["x"]
        .as_str()
        .expect("x")
        .as_bytes()
        .to_vec();
    for kid in [Some("ed-1"), None] {
        assert_invalid(
            verifier
                .verify(&jwt::hs256_token(&public_x, kid, &valid_claims()))
                .await,
            "token algorithm is not accepted",
        );
    }
}

// --- claims -----------------------------------------------------------------------------------

async fn assert_claims_rejected(reason: &str, edit: impl FnOnce(&mut Value)) {
    let key = SigningKey::ed25519("ed-1");
    let (_server, verifier) = serving(&key).await;
    let mut claims = valid_claims();
    edit(&mut claims);
    assert_invalid(verifier.verify(&key.sign(&claims)).await, reason);
}

#[tokio::test]
async fn rejects_wrong_issuer() {
    assert_claims_rejected("wrong issuer", |c| {
        c["iss"] = json!("https://evil.example.test")
    })
    .await;
}

#[tokio::test]
async fn rejects_issuer_given_as_array() {
    assert_claims_rejected("wrong issuer", |c| c["iss"] = json!([ISSUER])).await;
}

#[tokio::test]
async fn rejects_missing_issuer() {
    assert_claims_rejected("missing or malformed `iss`", |c| {
        c.as_object_mut().expect("claims").remove("iss");
    })
    .await;
}

#[tokio::test]
async fn rejects_wrong_audience() {
    assert_claims_rejected("wrong audience", |c| {
        c["aud"] = json!("https://other.example.test")
    })
    .await;
}

#[tokio::test]
async fn rejects_missing_audience() {
    assert_claims_rejected("missing or malformed `aud`", |c| {
        c.as_object_mut().expect("claims").remove("aud");
    })
    .await;
}

#[tokio::test]
async fn accepts_audience_array_containing_audience() {
    let key = SigningKey::ed25519("ed-1");
    let (_server, verifier) = serving(&key).await;
    let mut claims = valid_claims();
    claims["aud"] = json!(["https://other.example.test", AUDIENCE]);
    verifier
        .verify(&key.sign(&claims))
        .await
        .expect("valid token");
}

#[tokio::test]
async fn rejects_audience_array_without_audience() {
    assert_claims_rejected("wrong audience", |c| {
        c["aud"] = json!(["https://other.example.test"])
    })
    .await;
}

#[tokio::test]
async fn rejects_expired_token() {
    assert_claims_rejected("token expired", |c| {
        c["exp"] = json!(jwt::unix_now() - 3600)
    })
    .await;
}

#[tokio::test]
async fn rejects_missing_exp() {
    assert_claims_rejected("missing or malformed `exp`", |c| {
        c.as_object_mut().expect("claims").remove("exp");
    })
    .await;
}

#[tokio::test]
async fn rejects_not_yet_valid_token() {
    assert_claims_rejected("token not yet valid", |c| {
        c["nbf"] = json!(jwt::unix_now() + 3600)
    })
    .await;
}

#[tokio::test]
async fn rejects_token_issued_in_the_future() {
    assert_claims_rejected("token issued in the future", |c| {
        c["iat"] = json!(jwt::unix_now() + 3600)
    })
    .await;
}

#[tokio::test]
async fn rejects_missing_sub() {
    assert_claims_rejected("missing or malformed `sub`", |c| {
        c.as_object_mut().expect("claims").remove("sub");
    })
    .await;
}

#[tokio::test]
async fn rejects_empty_sub() {
    assert_claims_rejected("`sub` must be a non-empty string", |c| c["sub"] = json!("")).await;
}

#[tokio::test]
async fn rejects_non_string_sub() {
    assert_claims_rejected("missing or malformed `sub`", |c| c["sub"] = json!(42)).await;
}

#[tokio::test]
async fn reads_org_and_role_claims_from_configured_names() {
    let key = SigningKey::ed25519("ed-1");
    let server = JwksServer::start(vec![key.public_jwk()]).await;
    let verifier = verifier_with(JwksConfig {
        org_claim: "org_id".into(),
        org_role_claim: "org_role".into(),
        role_claim: "platform_role".into(),
        ..config(&server)
    });
    let mut claims = jwt::claims(ISSUER, AUDIENCE, "user-1", Some("ignored"), Some("ignored"));
    claims["org_id"] = json!("org-7");
    claims["org_role"] = json!("member");
    claims["platform_role"] = json!("super_admin");
    claims["role"] = json!("ignored");
    let user = verifier
        .verify(&key.sign(&claims))
        .await
        .expect("valid token");
    assert_eq!(
        user,
        UserClaims {
            subject: "user-1".into(),
            organization: Some("org-7".into()),
            org_role: Some("member".into()),
            role: Some("super_admin".into()),
        }
    );
}

#[tokio::test]
async fn absent_or_non_string_org_and_role_claims_are_none() {
    let key = SigningKey::ed25519("ed-1");
    let (_server, verifier) = serving(&key).await;
    let absent = verifier
        .verify(&key.sign(&jwt::claims(ISSUER, AUDIENCE, "user-1", None, None)))
        .await
        .expect("valid token");
    let mut claims = valid_claims();
    claims["activeOrganizationId"] = json!(17);
    claims["orgRole"] = json!(["owner"]);
    claims["role"] = json!(null);
    let non_string = verifier
        .verify(&key.sign(&claims))
        .await
        .expect("valid token");
    for user in [absent, non_string] {
        assert_eq!(
            user,
            UserClaims {
                subject: "user-1".into(),
                organization: None,
                org_role: None,
                role: None,
            }
        );
    }
}

// --- key cache --------------------------------------------------------------------------------

#[tokio::test]
async fn key_set_is_fetched_on_first_use_and_cached() {
    let key = SigningKey::ed25519("ed-1");
    let (server, verifier) = serving(&key).await;
    assert_eq!(server.fetch_count(), 0, "nothing fetched before first use");
    for _ in 0..3 {
        verifier
            .verify(&key.sign(&valid_claims()))
            .await
            .expect("valid token");
    }
    assert_eq!(server.fetch_count(), 1);
}

#[tokio::test]
async fn stale_key_set_is_refreshed_after_refresh_after() {
    let key = SigningKey::ed25519("ed-1");
    let server = JwksServer::start(vec![key.public_jwk()]).await;
    let verifier = verifier_with(JwksConfig {
        refresh_after: SHORT_INTERVAL,
        ..config(&server)
    });
    let token = key.sign(&valid_claims());
    verifier.verify(&token).await.expect("valid token");
    verifier.verify(&token).await.expect("valid token");
    assert_eq!(server.fetch_count(), 1);
    tokio::time::sleep(SHORT_INTERVAL + Duration::from_millis(200)).await;
    verifier.verify(&token).await.expect("valid token");
    assert_eq!(server.fetch_count(), 2);
}

#[tokio::test]
async fn rotated_key_is_accepted_after_refresh_on_unknown_kid() {
    let old = SigningKey::ed25519("ed-old");
    let new = SigningKey::ed25519("ed-new");
    let (server, verifier) = serving(&old).await;
    verifier
        .verify(&old.sign(&valid_claims()))
        .await
        .expect("old key valid");
    server.set_keys(vec![new.public_jwk()]);
    verifier
        .verify(&new.sign(&valid_claims()))
        .await
        .expect("rotated key valid");
    assert_eq!(server.fetch_count(), 2);
    // The refreshed set replaced the old one.
    assert_invalid(
        verifier.verify(&old.sign(&valid_claims())).await,
        "unknown key id",
    );
}

#[tokio::test]
async fn unknown_kid_refreshes_are_throttled() {
    let key = SigningKey::ed25519("ed-1");
    let server = JwksServer::start(vec![key.public_jwk()]).await;
    let verifier = verifier_with(JwksConfig {
        min_refresh_interval: SHORT_INTERVAL,
        ..config(&server)
    });
    verifier
        .verify(&key.sign(&valid_claims()))
        .await
        .expect("valid token");
    assert_eq!(server.fetch_count(), 1);

    let ghost_a = SigningKey::ed25519("ghost-a").sign(&valid_claims());
    let ghost_b = SigningKey::ed25519("ghost-b").sign(&valid_claims());
    assert_invalid(verifier.verify(&ghost_a).await, "unknown key id");
    assert_eq!(server.fetch_count(), 2, "first unknown kid refreshes");
    assert_invalid(verifier.verify(&ghost_b).await, "unknown key id");
    assert_invalid(verifier.verify(&ghost_a).await, "unknown key id");
    assert_eq!(
        server.fetch_count(),
        2,
        "refresh throttled within the interval"
    );

    tokio::time::sleep(SHORT_INTERVAL + Duration::from_millis(200)).await;
    assert_invalid(verifier.verify(&ghost_b).await, "unknown key id");
    assert_eq!(
        server.fetch_count(),
        3,
        "refresh allowed again after the interval"
    );
}

#[tokio::test]
async fn failed_refresh_keeps_cached_key_set() {
    let key = SigningKey::ed25519("ed-1");
    let server = JwksServer::start(vec![key.public_jwk()]).await;
    let verifier = verifier_with(JwksConfig {
        refresh_after: SHORT_INTERVAL,
        ..config(&server)
    });
    let token = key.sign(&valid_claims());
    verifier.verify(&token).await.expect("valid token");
    server.set_failing(true);
    tokio::time::sleep(SHORT_INTERVAL + Duration::from_millis(200)).await;
    verifier
        .verify(&token)
        .await
        .expect("cached keys still used");
    assert_eq!(
        server.fetch_count(),
        2,
        "the stale set was refreshed (and failed)"
    );
    // An unknown kid also refreshes against the failing server and keeps the cached set.
    assert_invalid(
        verifier
            .verify(&SigningKey::ed25519("ghost").sign(&valid_claims()))
            .await,
        "unknown key id",
    );
    verifier
        .verify(&token)
        .await
        .expect("cached keys still used");
    assert_eq!(server.fetch_count(), 3);
}

#[tokio::test]
async fn unreachable_jwks_fails_every_token_with_keys_unavailable() {
    let key = SigningKey::ed25519("ed-1");
    let (server, verifier) = serving(&key).await;
    server.set_failing(true);
    assert_keys_unavailable(verifier.verify(&key.sign(&valid_claims())).await);
}

#[tokio::test]
async fn empty_key_set_fails_with_keys_unavailable() {
    let key = SigningKey::ed25519("ed-1");
    let server = JwksServer::start(vec![]).await;
    let verifier = verifier(&server);
    assert_keys_unavailable(verifier.verify(&key.sign(&valid_claims())).await);
    assert_eq!(server.fetch_count(), 1);
}

#[tokio::test]
async fn failed_first_fetch_is_retried_after_min_refresh_interval() {
    let key = SigningKey::ed25519("ed-1");
    let server = JwksServer::start(vec![]).await;
    let verifier = verifier_with(JwksConfig {
        min_refresh_interval: SHORT_INTERVAL,
        ..config(&server)
    });
    let token = key.sign(&valid_claims());
    assert_keys_unavailable(verifier.verify(&token).await);
    assert_keys_unavailable(verifier.verify(&token).await);
    assert_eq!(
        server.fetch_count(),
        1,
        "retry throttled within the interval"
    );

    server.set_keys(vec![key.public_jwk()]);
    tokio::time::sleep(SHORT_INTERVAL + Duration::from_millis(200)).await;
    verifier.verify(&token).await.expect("keys published");
    assert_eq!(server.fetch_count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_verifications_fetch_once() {
    let key = SigningKey::ed25519("ed-1");
    let server = JwksServer::start(vec![key.public_jwk()]).await;
    server.set_delay(Duration::from_millis(200));
    let verifier = Arc::new(verifier(&server));
    let token = key.sign(&valid_claims());
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let verifier = Arc::clone(&verifier);
            let token = token.clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("valid token");
    }
    assert_eq!(server.fetch_count(), 1);
}

// --- construction -----------------------------------------------------------------------------

#[test]
fn new_rejects_non_http_url() {
    for url in ["not a url", "ftp://auth.example.test/jwks"] {
        let result = JwksVerifier::new(JwksConfig::new(url, ISSUER, AUDIENCE));
        assert!(
            matches!(result, Err(JwksSetupError::InvalidUrl(_))),
            "{url}: {result:?}"
        );
    }
}

#[test]
fn config_defaults_follow_the_contract() {
    let config = JwksConfig::new("https://auth.example.test/api/auth/jwks", ISSUER, AUDIENCE);
    assert_eq!(config.org_claim, "activeOrganizationId");
    assert_eq!(config.org_role_claim, "orgRole");
    assert_eq!(config.role_claim, "role");
    assert_eq!(config.refresh_after, Duration::from_secs(3600));
    assert_eq!(config.min_refresh_interval, Duration::from_secs(60));
    assert_eq!(config.http_timeout, Duration::from_secs(5));
}
