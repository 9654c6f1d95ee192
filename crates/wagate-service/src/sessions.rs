//! Sessions as stored resources: `listSessions`, `createSession`, `getSession`,
//! `deleteSession` (api.md §4.1–4.4). Lifecycle operations arrive with the engine.

use std::sync::Arc;

use wagate_domain::{
    Capability, Clock, NewSession, Principal, PrincipalKind, Session, SessionId, SessionStatus,
    Store,
};

use crate::access::{organization, require};
use crate::{ServiceError, ServiceResult};

/// Node-wide defaults for new sessions (domain.md §17).
#[derive(Debug, Clone)]
pub struct SessionDefaults {
    /// This node's id, the session's `gatewayId`.
    pub gateway_id: String,
    pub rate_per_min: i32,
    pub rate_per_hour: i32,
}

impl Default for SessionDefaults {
    fn default() -> Self {
        Self {
            gateway_id: "gw-1".into(),
            rate_per_min: 20,
            rate_per_hour: 200,
        }
    }
}

/// The `createSession` body, already parsed.
#[derive(Debug, Clone, Default)]
pub struct CreateSession {
    pub label: Option<String>,
    pub start: bool,
    pub auto_read: Option<bool>,
    pub presence_typing: Option<bool>,
}

pub struct SessionService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    defaults: SessionDefaults,
}

impl SessionService {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, defaults: SessionDefaults) -> Self {
        Self {
            store,
            clock,
            defaults,
        }
    }

    /// Resolves `{session}` for the caller: unknown, foreign and out-of-key-scope sessions are
    /// all `404 session not found`, checked before the capability (api.md §1.5).
    pub async fn access(
        &self,
        principal: &Principal,
        raw_id: &str,
        cap: Capability,
    ) -> ServiceResult<Session> {
        let org = organization(principal)?;
        let id = SessionId::parse(raw_id).map_err(|_| ServiceError::session_not_found())?;
        if !principal.can_reach_session(&id) {
            return Err(ServiceError::session_not_found());
        }
        let session = self
            .store
            .get_session(org, &id)
            .await?
            .ok_or_else(ServiceError::session_not_found)?;
        require(principal, cap)?;
        Ok(session)
    }

    /// Every session the caller can reach, newest first.
    pub async fn list(&self, principal: &Principal) -> ServiceResult<Vec<Session>> {
        let org = organization(principal)?;
        require(principal, Capability::Manage)?;
        let mut sessions = self.store.list_sessions(org).await?;
        sessions.retain(|s| principal.can_reach_session(&s.id));
        Ok(sessions)
    }

    /// Creates a `stopped` session in the caller's organization. A key limited to sessions
    /// cannot create more (it could never reach them).
    pub async fn create(
        &self,
        principal: &Principal,
        req: CreateSession,
    ) -> ServiceResult<Session> {
        let org = organization(principal)?.clone();
        require(principal, Capability::Manage)?;
        if principal.session_limit().is_some() {
            return Err(ServiceError::Forbidden(
                "api key is limited to specific sessions and cannot create sessions".into(),
            ));
        }
        if req.label.as_ref().is_some_and(|l| l.chars().count() > 255) {
            return Err(ServiceError::validation(
                "label must be at most 255 characters",
            ));
        }
        let created_by_user_id = match &principal.kind {
            PrincipalKind::User { user_id, .. } => Some(user_id.clone()),
            PrincipalKind::ApiKey { .. } => None,
        };
        let session = NewSession {
            organization_id: org,
            created_by_user_id,
            gateway_id: self.defaults.gateway_id.clone(),
            label: req.label,
            auto_read: req.auto_read.unwrap_or(true),
            presence_typing: req.presence_typing.unwrap_or(false),
            rate_per_min: self.defaults.rate_per_min,
            rate_per_hour: self.defaults.rate_per_hour,
        }
        .into_session(SessionId::generate(), self.clock.now_ms());
        self.store.insert_session(&session).await?;
        Ok(session)
    }

    pub async fn get(&self, principal: &Principal, id: &str) -> ServiceResult<Session> {
        self.access(principal, id, Capability::Manage).await
    }

    pub async fn delete(&self, principal: &Principal, id: &str) -> ServiceResult<()> {
        let session = self.access(principal, id, Capability::Manage).await?;
        if !self
            .store
            .delete_session(&session.organization_id, &session.id)
            .await?
        {
            return Err(ServiceError::session_not_found());
        }
        Ok(())
    }

    /// Sessions per status, every status present (zeros included), for `/metrics`.
    pub async fn counts_by_status(&self) -> ServiceResult<Vec<(SessionStatus, i64)>> {
        let counts = self.store.count_sessions_by_status().await?;
        Ok(SessionStatus::ALL
            .into_iter()
            .map(|st| {
                let n = counts.iter().find(|(s, _)| *s == st).map_or(0, |(_, n)| *n);
                (st, n)
            })
            .collect())
    }
}
