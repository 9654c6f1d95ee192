//! JWT fixtures: signing keys generated at test time, a real JWKS server on loopback, and
//! helpers that build valid claims and deliberately bad tokens.
//!
//! The RSA key is a fixed 2048-bit test key (`fixtures/test-rsa-2048.pem`) because ring cannot
//! generate RSA keys; Ed25519 and P-256 keys are fresh for every call.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair,
    RsaPublicKeyComponents,
};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// The committed 2048-bit RSA test key (PKCS#8 PEM). Test use only.
const RSA_TEST_KEY_PEM: &str = include_str!("../fixtures/test-rsa-2048.pem");

/// A private signing key with its `kid`, able to publish its public JWK and sign tokens.
pub struct SigningKey {
    kid: String,
    algorithm: Algorithm,
    encoding: EncodingKey,
    public_jwk: Value,
}

impl SigningKey {
    /// A fresh Ed25519 key (JWK `OKP`/`Ed25519`, alg `EdDSA`).
    pub fn ed25519(kid: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("generate Ed25519 key");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("parse Ed25519 key");
        let public_jwk = json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url(pair.public_key().as_ref()),
            "kid": kid,
            "alg": "EdDSA",
            "use": "sig",
        });
        Self {
            kid: kid.to_owned(),
            algorithm: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
            public_jwk,
        }
    }

    /// A fresh P-256 key (JWK `EC`/`P-256`, alg `ES256`).
    pub fn es256(kid: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("generate P-256 key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("parse P-256 key");
        // Uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
        let point = pair.public_key().as_ref();
        let public_jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": b64url(&point[1..33]),
            "y": b64url(&point[33..65]),
            "kid": kid,
            "alg": "ES256",
            "use": "sig",
        });
        Self {
            kid: kid.to_owned(),
            algorithm: Algorithm::ES256,
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            public_jwk,
        }
    }

    /// The fixed RSA test key (JWK `RSA`, alg `RS256`); every call returns the same key material.
    pub fn rs256(kid: &str) -> Self {
        let der_b64: String = RSA_TEST_KEY_PEM
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        let der = STANDARD.decode(der_b64).expect("RSA test key PEM body");
        let pair = RsaKeyPair::from_pkcs8(&der).expect("parse RSA test key");
        let public = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
        let public_jwk = json!({
            "kty": "RSA",
            "n": b64url(&public.n),
            "e": b64url(&public.e),
            "kid": kid,
            "alg": "RS256",
            "use": "sig",
        });
        Self {
            kid: kid.to_owned(),
            algorithm: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_pem(RSA_TEST_KEY_PEM.as_bytes())
                .expect("RSA test key as EncodingKey"),
            public_jwk,
        }
    }

    /// The key id put in the JWK and in token headers.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JOSE algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The public JWK (with `kid`, `alg` and `use: sig`), ready for a JWKS `keys` array.
    pub fn public_jwk(&self) -> Value {
        self.public_jwk.clone()
    }

    /// A compact JWT over `claims`, header `{alg, typ: JWT, kid}`.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        self.sign_with_header(&header, claims)
    }

    /// A compact JWT with a caller-made header (e.g. no `kid`, or another key's `kid`).
    /// `header.alg` must be this key's algorithm.
    pub fn sign_with_header(&self, header: &Header, claims: &Value) -> String {
        jsonwebtoken::encode(header, claims, &self.encoding).expect("sign test token")
    }
}

/// An `alg: none` token with an empty signature, optionally naming `kid`.
pub fn unsigned_token(kid: Option<&str>, claims: &Value) -> String {
    let mut header = json!({"alg": "none", "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    format!(
        "{}.{}.",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}

/// An HS256 token MACed with `secret` (e.g. a public key's bytes, the classic key-confusion
/// attack), optionally naming `kid`.
pub fn hs256_token(secret: &[u8], kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret))
        .expect("sign HS256 test token")
}

/// Valid claims for `issuer`/`audience`/`sub`: `exp` = now + 300 s, `iat` = now, and the
/// default-named `activeOrganizationId` / `orgRole` claims when given.
pub fn claims(
    issuer: &str,
    audience: &str,
    sub: &str,
    org: Option<&str>,
    org_role: Option<&str>,
) -> Value {
    let now = unix_now();
    let mut claims = json!({
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "iat": now,
        "exp": now + 300,
    });
    if let Some(org) = org {
        claims["activeOrganizationId"] = json!(org);
    }
    if let Some(org_role) = org_role {
        claims["orgRole"] = json!(org_role);
    }
    claims
}

/// Seconds since the Unix epoch, as JWT time claims use.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWKS endpoint on `127.0.0.1:<random port>/jwks.json`, running on the current tokio
/// runtime until dropped. Keys, failure mode and latency can be changed while it runs.
pub struct JwksServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct ServerState {
    keys: Mutex<Vec<Value>>,
    failing: AtomicBool,
    delay: Mutex<Duration>,
    fetches: AtomicUsize,
}

impl JwksServer {
    /// Starts serving `{"keys": keys}`.
    pub async fn start(keys: Vec<Value>) -> Self {
        let state = Arc::new(ServerState {
            keys: Mutex::new(keys),
            ..ServerState::default()
        });
        let app = Router::new()
            .route("/jwks.json", get(serve_jwks))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind JWKS test server");
        let addr = listener.local_addr().expect("JWKS test server address");
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("JWKS test server");
        });
        Self { addr, state, task }
    }

    /// The JWKS URL, `http://127.0.0.1:<port>/jwks.json`.
    pub fn url(&self) -> String {
        format!("http://{}/jwks.json", self.addr)
    }

    /// Replaces the served key set (key rotation); an empty vector serves `{"keys": []}`.
    pub fn set_keys(&self, keys: Vec<Value>) {
        *self
            .state
            .keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = keys;
    }

    /// While `true`, every request is answered `500 Internal Server Error`.
    pub fn set_failing(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }

    /// Delays every answer by `delay` (to make concurrent fetches overlap).
    pub fn set_delay(&self, delay: Duration) {
        *self
            .state
            .delay
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = delay;
    }

    /// How many requests reached `/jwks.json` so far, failed ones included.
    pub fn fetch_count(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_jwks(State(state): State<Arc<ServerState>>) -> Response {
    state.fetches.fetch_add(1, Ordering::SeqCst);
    let delay = *state.delay.lock().unwrap_or_else(PoisonError::into_inner);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if state.failing.load(Ordering::SeqCst) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "JWKS test server failing",
        )
            .into_response();
    }
    let keys = state
        .keys
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    Json(json!({ "keys": keys })).into_response()
}
