//! Authentication: turns presented credentials into a [`Principal`] (api.md §1.3, D2).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use wagate_domain::{
    ApiKeyState, CapabilitySet, Clock, OrgId, OrgRole, Organization, Principal, PrincipalKind,
    RawApiKey, Store, TokenVerifier,
};

use crate::{ServiceError, ServiceResult};

const INVALID: ServiceError = ServiceError::Unauthorized("missing or invalid credentials");
/// Last-use stamps are written at most this often per key, off the request path.
const TOUCH_INTERVAL_MS: i64 = 60_000;

/// What the caller presented, already trimmed; empty values count as absent.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub bearer: Option<String>,
    pub api_key_header: Option<String>,
}

/// Exactly three non-empty dot-separated segments (api.md §1.3 acceptor order).
fn looks_like_jwt(token: &str) -> bool {
    let mut parts = token.split('.');
    let three = (0..3).all(|_| parts.next().is_some_and(|p| !p.is_empty()));
    three && parts.next().is_none()
}

/// Verifies credentials against the store (keys) and the token verifier (JWTs).
pub struct Authenticator {
    store: Arc<dyn Store>,
    verifier: Option<Arc<dyn TokenVerifier>>,
    clock: Arc<dyn Clock>,
    /// Organizations known to exist, so a JWT's organization is created once, not per request.
    known_orgs: Mutex<HashSet<OrgId>>,
    last_touch: Mutex<HashMap<String, i64>>,
}

impl Authenticator {
    pub fn new(
        store: Arc<dyn Store>,
        verifier: Option<Arc<dyn TokenVerifier>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            verifier,
            clock,
            known_orgs: Mutex::default(),
            last_touch: Mutex::default(),
        }
    }

    /// The acceptor order of api.md §1.3: a JWT-shaped bearer is only ever a JWT; otherwise
    /// `x-api-key` wins over an opaque bearer. Every failure is the same `401`.
    pub async fn authenticate(&self, creds: &Credentials) -> ServiceResult<Principal> {
        if let Some(token) = creds.bearer.as_deref().filter(|t| looks_like_jwt(t)) {
            return self.authenticate_jwt(token).await;
        }
        let key = creds
            .api_key_header
            .as_deref()
            .or(creds.bearer.as_deref())
            .ok_or(INVALID)?;
        self.authenticate_key(key).await
    }

    async fn authenticate_key(&self, raw: &str) -> ServiceResult<Principal> {
        let key = self
            .store
            .find_api_key_by_hash(&RawApiKey::from_presented(raw).digest())
            .await?
            .ok_or(INVALID)?;
        let now = self.clock.now_ms();
        if key.state(now) != ApiKeyState::Active {
            return Err(INVALID);
        }
        self.touch(&key.id, now);
        Ok(Principal {
            organization: Some(key.organization_id),
            capabilities: key.permissions,
            kind: PrincipalKind::ApiKey {
                id: key.id,
                sessions: key.sessions,
            },
        })
    }

    async fn authenticate_jwt(&self, token: &str) -> ServiceResult<Principal> {
        let verifier = self.verifier.as_ref().ok_or(INVALID)?;
        let claims = verifier.verify(token).await.map_err(|err| {
            tracing::debug!(%err, "bearer JWT rejected");
            INVALID
        })?;
        if claims.subject.is_empty() {
            return Err(INVALID);
        }
        let super_admin = claims.role.as_deref() == Some("super_admin");
        let org_role = claims.org_role.as_deref().and_then(OrgRole::parse);
        let capabilities = if super_admin {
            CapabilitySet::ALL
        } else {
            org_role.map_or(CapabilitySet::NONE, OrgRole::capabilities)
        };
        // A malformed organization claim is treated like a missing one: no organization.
        let organization = claims
            .organization
            .as_deref()
            .and_then(|o| OrgId::parse(o).ok());
        if let Some(org) = &organization {
            self.ensure_org(org).await?;
        }
        Ok(Principal {
            organization,
            capabilities,
            kind: PrincipalKind::User {
                user_id: claims.subject,
                org_role,
                super_admin,
            },
        })
    }

    /// Creates the organization the first time a valid JWT names it (D2).
    async fn ensure_org(&self, org: &OrgId) -> ServiceResult<()> {
        if self.known_orgs.lock().is_ok_and(|set| set.contains(org)) {
            return Ok(());
        }
        let created = self
            .store
            .ensure_organization(&Organization {
                id: org.clone(),
                name: org.to_string(),
                created_at: self.clock.now_ms(),
            })
            .await?;
        if created {
            tracing::info!(organization = %org, "organization created from a JWT claim");
        }
        if let Ok(mut set) = self.known_orgs.lock() {
            set.insert(org.clone());
        }
        Ok(())
    }

    /// Records last use at most once a minute per key, without delaying the request.
    fn touch(&self, id: &wagate_domain::ApiKeyId, now: i64) {
        let due = self.last_touch.lock().is_ok_and(|mut map| {
            // Looked up by reference first: the key's id is copied once, on its first use.
            let last = match map.get_mut(id.as_str()) {
                Some(last) => last,
                None => map.entry(id.to_string()).or_insert(i64::MIN),
            };
            let due = now.saturating_sub(*last) >= TOUCH_INTERVAL_MS;
            if due {
                *last = now;
            }
            due
        });
        if due {
            let (store, id) = (self.store.clone(), id.clone());
            tokio::spawn(async move {
                if let Err(err) = store.touch_api_key(&id, now).await {
                    tracing::warn!(%err, key = %id, "could not record API key use");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::looks_like_jwt;

    #[test]
    fn jwt_shape_is_three_non_empty_segments() {
        assert!(looks_like_jwt("a.b.c"));
        assert!(!looks_like_jwt("a.b"));
        assert!(!looks_like_jwt("a..c"));
        assert!(!looks_like_jwt("a.b.c.d"));
        assert!(!looks_like_jwt("wa_abc"));
    }
}
