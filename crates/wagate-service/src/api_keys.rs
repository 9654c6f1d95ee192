//! API keys: minting, listing and revoking (D2). A caller can only mint or revoke keys it
//! "covers": permissions, sessions and lifetime it holds itself.

use std::sync::Arc;

use wagate_domain::{
    ApiKey, ApiKeyId, Capability, CapabilitySet, Clock, OrgId, Principal, PrincipalKind, RawApiKey,
    SessionId, Store,
};

use crate::access::{organization, require};
use crate::revocations::Revocations;
use crate::{Page, PageRequest, ServiceError, ServiceResult};

/// What a caller asks for.
#[derive(Debug, Clone, Default)]
pub struct CreateApiKey {
    pub name: Option<String>,
    pub permissions: CapabilitySet,
    pub sessions: Option<Vec<SessionId>>,
    pub expires_at: Option<i64>,
}

/// The stored key plus its secret, shown exactly once.
#[derive(Debug, Clone)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub raw: RawApiKey,
}

pub struct ApiKeyService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    revocations: Revocations,
}

impl ApiKeyService {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            revocations: Revocations::default(),
        }
    }

    /// Announces revoked keys on `revocations` (open event streams of the key close).
    pub fn with_revocations(mut self, revocations: Revocations) -> Self {
        self.revocations = revocations;
        self
    }

    /// `POST /api/v1/api-keys`: needs `manage`, and never grants more than the caller holds.
    pub async fn create(
        &self,
        principal: &Principal,
        mut req: CreateApiKey,
    ) -> ServiceResult<CreatedApiKey> {
        let org = organization(principal)?.clone();
        require(principal, Capability::Manage)?;
        if !req.permissions.is_subset_of(principal.capabilities) {
            return Err(ServiceError::Forbidden(
                "cannot grant permissions the caller does not hold".into(),
            ));
        }
        if let Some(limit) = principal.session_limit() {
            let within = req
                .sessions
                .as_ref()
                .is_some_and(|s| s.iter().all(|id| limit.contains(id)));
            if !within {
                return Err(ServiceError::Forbidden(
                    "cannot grant sessions the caller is not limited to".into(),
                ));
            }
        }
        if let PrincipalKind::ApiKey { id, .. } = &principal.kind {
            let own_expiry = self.store.get_api_key(id).await?.and_then(|k| k.expires_at);
            if let Some(own) = own_expiry {
                match req.expires_at {
                    Some(at) if at > own => {
                        return Err(ServiceError::Forbidden(
                            "cannot create a key that outlives the caller's key".into(),
                        ));
                    }
                    None => req.expires_at = Some(own),
                    Some(_) => {}
                }
            }
        }
        self.create_in(&org, req).await
    }

    /// Mints a key in `org` without a caller (CLI and first-run bootstrap).
    pub async fn create_in(&self, org: &OrgId, req: CreateApiKey) -> ServiceResult<CreatedApiKey> {
        let now = self.clock.now_ms();
        self.validate(org, &req, now).await?;
        let raw = RawApiKey::generate();
        let key = ApiKey {
            id: ApiKeyId::generate(),
            organization_id: org.clone(),
            name: req.name.filter(|n| !n.trim().is_empty()),
            key_hash: raw.digest(),
            permissions: req.permissions,
            sessions: req.sessions,
            expires_at: req.expires_at,
            enabled: true,
            created_at: now,
            last_used_at: None,
        };
        self.store.insert_api_key(&key).await?;
        Ok(CreatedApiKey { key, raw })
    }

    async fn validate(&self, org: &OrgId, req: &CreateApiKey, now: i64) -> ServiceResult<()> {
        let mut errors = Vec::new();
        if req.permissions.is_empty() {
            errors.push("permissions must name at least one of read, send, manage, events".into());
        }
        if req.name.as_ref().is_some_and(|n| n.chars().count() > 255) {
            errors.push("name must be at most 255 characters".into());
        }
        if req.expires_at.is_some_and(|at| at <= now) {
            errors.push("expiresAt must be in the future".into());
        }
        match &req.sessions {
            Some(list) if list.is_empty() => {
                errors.push("sessions must list at least one session when present".into());
            }
            Some(list) => {
                for id in list {
                    if self.store.get_session(org, id).await?.is_none() {
                        errors.push(format!("unknown session: {id}"));
                    }
                }
            }
            None => {}
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Validation {
                message: "validation failed".into(),
                errors,
            })
        }
    }

    /// `GET /api/v1/api-keys`: the caller's organization's keys, by id.
    pub async fn list(
        &self,
        principal: &Principal,
        page: PageRequest,
    ) -> ServiceResult<Page<ApiKey>> {
        let org = organization(principal)?;
        require(principal, Capability::Manage)?;
        let after = page
            .cursor
            .as_deref()
            .map(|c| ApiKeyId::parse(c).map_err(|_| ServiceError::validation("invalid cursor")))
            .transpose()?;
        let keys = self
            .store
            .list_api_keys(Some(org), after.as_ref(), page.limit)
            .await?;
        Ok(Page::new(keys, page.limit, |k| k.id.to_string()))
    }

    /// Every key, or one organization's, for the CLI.
    pub async fn list_all(&self, org: Option<&OrgId>) -> ServiceResult<Vec<ApiKey>> {
        let mut all = Vec::new();
        let mut after: Option<ApiKeyId> = None;
        loop {
            let batch = self.store.list_api_keys(org, after.as_ref(), 500).await?;
            let done = batch.len() < 500;
            after = batch.last().map(|k| k.id.clone());
            all.extend(batch);
            if done {
                return Ok(all);
            }
        }
    }

    /// `DELETE /api/v1/api-keys/{id}`: revokes a key of the caller's organization that the
    /// caller covers. Takes effect on the next request (keys are looked up every time).
    pub async fn revoke(&self, principal: &Principal, id: &str) -> ServiceResult<()> {
        let org = organization(principal)?;
        let not_found = || ServiceError::NotFound("api key not found".into());
        let id = ApiKeyId::parse(id).map_err(|_| not_found())?;
        let key = self
            .store
            .get_api_key(&id)
            .await?
            .filter(|k| &k.organization_id == org)
            .ok_or_else(not_found)?;
        require(principal, Capability::Manage)?;
        let covers_sessions = match (principal.session_limit(), &key.sessions) {
            (None, _) => true,
            (Some(limit), Some(target)) => target.iter().all(|s| limit.contains(s)),
            (Some(_), None) => false,
        };
        if !key.permissions.is_subset_of(principal.capabilities) || !covers_sessions {
            return Err(ServiceError::Forbidden(
                "cannot revoke a key with more access than the caller".into(),
            ));
        }
        self.store
            .revoke_api_key(Some(org), &id, self.clock.now_ms())
            .await?;
        self.revocations.announce(&id);
        Ok(())
    }

    /// Revokes any key by id (CLI); `404` when unknown.
    pub async fn revoke_any(&self, id: &str) -> ServiceResult<()> {
        let not_found = || ServiceError::NotFound(format!("api key {id:?} not found"));
        let id = ApiKeyId::parse(id).map_err(|_| not_found())?;
        self.store.get_api_key(&id).await?.ok_or_else(not_found)?;
        self.store
            .revoke_api_key(None, &id, self.clock.now_ms())
            .await?;
        self.revocations.announce(&id);
        Ok(())
    }
}
