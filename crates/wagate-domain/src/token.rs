//! The port through which bearer JWTs are verified (the JWKS adapter implements it).

/// The claims wagate uses from a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserClaims {
    pub subject: String,
    pub organization: Option<String>,
    pub org_role: Option<String>,
    pub role: Option<String>,
}

/// Why a token was not accepted. Callers only ever see `401`; the reason goes to logs.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token rejected: {0}")]
    Invalid(String),
    #[error("no usable signing keys: {0}")]
    KeysUnavailable(String),
    #[error("JWT authentication is not configured")]
    NotConfigured,
}

#[async_trait::async_trait]
pub trait TokenVerifier: Send + Sync + 'static {
    async fn verify(&self, token: &str) -> Result<UserClaims, TokenError>;
}
