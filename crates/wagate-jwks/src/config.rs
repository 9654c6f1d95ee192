//! Configuration of the JWKS verifier.

use std::time::Duration;

/// Where the keys come from, what a token must claim, and how the key cache behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksConfig {
    /// The HTTP(S) URL of the JWKS document (`{"keys": [...]}`).
    pub jwks_url: String,
    /// The exact value the `iss` claim must have.
    pub issuer: String,
    /// A value the `aud` claim (string or array) must contain.
    pub audience: String,
    /// Claim naming the organization the user acts as (default `activeOrganizationId`).
    pub org_claim: String,
    /// Claim holding the user's role inside that organization (default `orgRole`).
    pub org_role_claim: String,
    /// Claim holding the user's platform role (default `role`).
    pub role_claim: String,
    /// A cached key set older than this is refreshed on next use (default 1 h).
    pub refresh_after: Duration,
    /// Minimum time between refreshes caused by an unknown `kid`, and between retries after a
    /// failed fetch (default 60 s).
    pub min_refresh_interval: Duration,
    /// Timeout for one JWKS HTTP request (default 5 s).
    pub http_timeout: Duration,
}

impl JwksConfig {
    /// Default name of the organization claim.
    pub const DEFAULT_ORG_CLAIM: &'static str = "activeOrganizationId";
    /// Default name of the organization-role claim.
    pub const DEFAULT_ORG_ROLE_CLAIM: &'static str = "orgRole";
    /// Default name of the platform-role claim.
    pub const DEFAULT_ROLE_CLAIM: &'static str = "role";
    /// Default age after which the key set is refreshed.
    pub const DEFAULT_REFRESH_AFTER: Duration = Duration::from_secs(60 * 60);
    /// Default throttle for unknown-`kid` refreshes and failed-fetch retries.
    pub const DEFAULT_MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(60);
    /// Default timeout of one JWKS request.
    pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(5);

    /// A configuration for `jwks_url`, `issuer` and `audience` with every other field at its
    /// default.
    pub fn new(
        jwks_url: impl Into<String>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        Self {
            jwks_url: jwks_url.into(),
            issuer: issuer.into(),
            audience: audience.into(),
            org_claim: Self::DEFAULT_ORG_CLAIM.to_owned(),
            org_role_claim: Self::DEFAULT_ORG_ROLE_CLAIM.to_owned(),
            role_claim: Self::DEFAULT_ROLE_CLAIM.to_owned(),
            refresh_after: Self::DEFAULT_REFRESH_AFTER,
            min_refresh_interval: Self::DEFAULT_MIN_REFRESH_INTERVAL,
            http_timeout: Self::DEFAULT_HTTP_TIMEOUT,
        }
    }
}
