//! API keys (decisions.md D2): `wa_` + 32 random bytes in base64url, stored only as a digest.

use crate::secret::secret;
use crate::{ApiKeyId, CapabilitySet, OrgId, SessionId};

secret!(
    /// The key a caller presents. Never logged: `Debug` is redacted.
    RawApiKey,
    "wa_",
    32
);

/// A stored key: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub organization_id: OrgId,
    pub name: Option<String>,
    pub key_hash: String,
    pub permissions: CapabilitySet,
    /// When set, the key reaches only these sessions.
    pub sessions: Option<Vec<SessionId>>,
    pub expires_at: Option<i64>,
    pub enabled: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// Whether a key can be used right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKeyState {
    Active,
    Expired,
    Revoked,
}

impl ApiKeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

impl ApiKey {
    pub fn state(&self, now_ms: i64) -> ApiKeyState {
        if !self.enabled {
            ApiKeyState::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now_ms) {
            ApiKeyState::Expired
        } else {
            ApiKeyState::Active
        }
    }

    /// True when the key may touch `session` (no list = every session of its organization).
    pub fn allows_session(&self, session: &SessionId) -> bool {
        self.sessions
            .as_ref()
            .is_none_or(|list| list.contains(session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_the_contract_format() {
        // sha256("wa_test") in base64url without padding, computed independently with
        // `printf %s wa_test | openssl dgst -sha256 -binary | basenc --base64url` (padding dropped).
        let key = RawApiKey::from_presented("wa_test");
        assert_eq!(key.digest(), "YfAn2wXGi7MZ4-OScovAzM2GeEyWcoiENZRtlvm8Tvc");
    }

    #[test]
    fn generated_keys_have_prefix_and_length() {
        let key = RawApiKey::generate();
        assert!(key.expose().starts_with("wa_"));
        assert_eq!(key.expose().len(), 3 + 43);
        assert_ne!(key, RawApiKey::generate());
        assert_eq!(format!("{key:?}"), "RawApiKey(<redacted>)");
    }
}
