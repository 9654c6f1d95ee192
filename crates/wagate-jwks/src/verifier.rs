//! [`JwksVerifier`]: the [`TokenVerifier`] adapter.
//!
//! Order of checks: header (`alg` must be one we accept) → key set (cached or fetched) → key
//! selection by `kid` and `alg` → signature, `exp`, `nbf`, `aud` (jsonwebtoken) → `iss`, `sub`,
//! `iat` (here). Error messages never contain the token or its claim values.

use std::fmt;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use reqwest::{Client, Url, redirect};
use serde_json::{Map, Value};
use wagate_domain::{TokenError, TokenVerifier, UserClaims};

use crate::cache::KeyCache;
use crate::config::JwksConfig;
use crate::fetch::JwksFetcher;
use crate::key_set::{SUPPORTED_ALGORITHMS, VerificationKey};

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
const LEEWAY_SECS: u64 = 60;

/// Why a [`JwksVerifier`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum JwksSetupError {
    /// The JWKS URL does not parse or is not `http`/`https`.
    #[error("invalid JWKS URL: {0}")]
    InvalidUrl(String),
    /// The HTTP client could not be built (e.g. TLS initialisation failed).
    #[error("cannot build the JWKS HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Verifies JWTs against the keys published at a JWKS URL (`api.md` §1.3).
pub struct JwksVerifier {
    config: JwksConfig,
    cache: KeyCache,
}

impl fmt::Debug for JwksVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksVerifier")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl JwksVerifier {
    /// Builds the verifier and its HTTP client. Nothing is fetched until the first token.
    pub fn new(config: JwksConfig) -> Result<Self, JwksSetupError> {
        let url = Url::parse(&config.jwks_url)
            .map_err(|e| JwksSetupError::InvalidUrl(format!("{}: {e}", config.jwks_url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(JwksSetupError::InvalidUrl(format!(
                "{}: scheme must be http or https",
                config.jwks_url
            )));
        }
        let client = Client::builder()
            .timeout(config.http_timeout)
            .redirect(redirect::Policy::none())
            .user_agent(concat!("wagate-jwks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let cache = KeyCache::new(
            JwksFetcher::new(client, url),
            config.refresh_after,
            config.min_refresh_interval,
        );
        Ok(Self { config, cache })
    }

    /// The configuration this verifier was built with.
    pub fn config(&self) -> &JwksConfig {
        &self.config
    }

    async fn verify_token(&self, token: &str) -> Result<UserClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| invalid("malformed token or unsupported algorithm"))?;
        if !SUPPORTED_ALGORITHMS.contains(&header.alg) {
            return Err(invalid("token algorithm is not accepted"));
        }
        let kid = header.kid.as_deref();
        let keys = self.cache.keys_for(kid).await?;

        let named: Vec<&VerificationKey> = keys
            .keys()
            .iter()
            .filter(|key| kid.is_none_or(|kid| key.kid.as_deref() == Some(kid)))
            .collect();
        if kid.is_some() && named.is_empty() {
            return Err(invalid("unknown key id"));
        }
        let candidates: Vec<&VerificationKey> = named
            .into_iter()
            .filter(|key| key.algorithm == header.alg)
            .collect();
        if candidates.is_empty() {
            return Err(invalid("token algorithm does not match the signing key"));
        }

        let claims = self.verify_with_any(token, &candidates)?;
        self.check_claims(&claims)?;
        Ok(self.user_claims(claims))
    }

    /// Tries each candidate key; the first that verifies the signature decides the outcome.
    fn verify_with_any(
        &self,
        token: &str,
        candidates: &[&VerificationKey],
    ) -> Result<Map<String, Value>, TokenError> {
        let mut last_error = invalid("bad signature");
        for key in candidates {
            match jsonwebtoken::decode::<Map<String, Value>>(
                token,
                &key.key,
                &self.validation(key.algorithm),
            ) {
                Ok(data) => return Ok(data.claims),
                Err(error) if is_key_mismatch(error.kind()) => last_error = describe(error.kind()),
                Err(error) => return Err(describe(error.kind())),
            }
        }
        Err(last_error)
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_audience(&[&self.config.audience]);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation
    }

    /// The checks jsonwebtoken does not make: `iss` is exactly our issuer (not an array that
    /// contains it), `sub` is a non-empty string, `iat` is not in the future.
    fn check_claims(&self, claims: &Map<String, Value>) -> Result<(), TokenError> {
        if claims.get("iss").and_then(Value::as_str) != Some(self.config.issuer.as_str()) {
            return Err(invalid("wrong issuer"));
        }
        if claims
            .get("sub")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(invalid("`sub` must be a non-empty string"));
        }
        if let Some(iat) = claims.get("iat") {
            let iat = iat
                .as_f64()
                .ok_or_else(|| invalid("`iat` is not a number"))?;
            let now = jsonwebtoken::get_current_timestamp();
            if iat > (now + LEEWAY_SECS) as f64 {
                return Err(invalid("token issued in the future"));
            }
        }
        Ok(())
    }

    fn user_claims(&self, mut claims: Map<String, Value>) -> UserClaims {
        let mut take = |name: &str| match claims.remove(name) {
            Some(Value::String(value)) if !value.is_empty() => Some(value),
            _ => None,
        };
        UserClaims {
            subject: take("sub").unwrap_or_default(),
            organization: take(&self.config.org_claim),
            org_role: take(&self.config.org_role_claim),
            role: take(&self.config.role_claim),
        }
    }
}

#[async_trait::async_trait]
impl TokenVerifier for JwksVerifier {
    async fn verify(&self, token: &str) -> Result<UserClaims, TokenError> {
        let result = self.verify_token(token).await;
        if let Err(error) = &result {
            tracing::debug!(%error, "JWT rejected");
        }
        result
    }
}

fn invalid(reason: &str) -> TokenError {
    TokenError::Invalid(reason.to_owned())
}

/// Errors after which another key with the same algorithm may still verify the token.
fn is_key_mismatch(kind: &ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::InvalidSignature
            | ErrorKind::InvalidEcdsaKey
            | ErrorKind::InvalidRsaKey(_)
            | ErrorKind::InvalidKeyFormat
            | ErrorKind::Crypto(_)
    )
}

/// A fixed message per jsonwebtoken error, so nothing from the token leaks into logs.
fn describe(kind: &ErrorKind) -> TokenError {
    invalid(match kind {
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::InvalidEcdsaKey | ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat => {
            "signing key is unusable"
        }
        ErrorKind::ExpiredSignature => "token expired",
        ErrorKind::ImmatureSignature => "token not yet valid",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
            "exp" => "missing or malformed `exp`",
            "iss" => "missing or malformed `iss`",
            "aud" => "missing or malformed `aud`",
            "sub" => "missing or malformed `sub`",
            _ => "missing required claim",
        },
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            "token algorithm does not match the signing key"
        }
        _ => "malformed token",
    })
}
