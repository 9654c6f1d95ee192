//! Sessions: the stored resource (api.md §4.1–4.4) and its lifecycle and pairing operations
//! (§4.5–4.11), which the [`SessionManager`] carries out.

use std::sync::Arc;

use wagate_domain::{
    Capability, Clock, NewSession, Principal, PrincipalKind, Session, SessionId, SessionStatus,
    Store,
};

use crate::access::{organization, require};
use crate::{QrCode, ServiceError, ServiceResult, SessionManager};

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
    manager: SessionManager,
}

/// A lifecycle action on a session (api.md §4.5–4.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Start,
    Stop,
    Restart,
    Logout,
}

impl SessionService {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        defaults: SessionDefaults,
        manager: SessionManager,
    ) -> Self {
        Self {
            store,
            clock,
            defaults,
            manager,
        }
    }

    pub fn manager(&self) -> &SessionManager {
        &self.manager
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

    /// Logs the device out first (so no keys or connection outlive the row), then deletes it.
    pub async fn delete(&self, principal: &Principal, id: &str) -> ServiceResult<()> {
        let session = self.access(principal, id, Capability::Manage).await?;
        self.manager.forget(&session).await?;
        if !self
            .store
            .delete_session(&session.organization_id, &session.id)
            .await?
        {
            return Err(ServiceError::session_not_found());
        }
        Ok(())
    }

    /// `:start`, `:stop`, `:restart`, `:logout`; answers the session as it is afterwards.
    pub async fn lifecycle(
        &self,
        principal: &Principal,
        id: &str,
        action: Lifecycle,
    ) -> ServiceResult<Session> {
        let session = self.access(principal, id, Capability::Manage).await?;
        match action {
            Lifecycle::Start => self.manager.start(&session).await?,
            Lifecycle::Stop => self.manager.stop(&session).await?,
            Lifecycle::Restart => self.manager.restart(&session).await?,
            Lifecycle::Logout => self.manager.logout(&session).await?,
        }
        self.reread(&session).await
    }

    /// `sessionMe`: the paired account, or `404 session is not paired`.
    pub async fn me(&self, principal: &Principal, id: &str) -> ServiceResult<Session> {
        let session = self.access(principal, id, Capability::Manage).await?;
        if session.wa_jid.is_none() {
            return Err(ServiceError::NotFound("session is not paired".into()));
        }
        Ok(session)
    }

    /// `sessionQR`: the current QR code, starting QR pairing when nothing runs.
    pub async fn qr(&self, principal: &Principal, id: &str) -> ServiceResult<QrCode> {
        let session = self.access(principal, id, Capability::Manage).await?;
        self.manager.qr(&session).await
    }

    /// `sessionPairingCode`: starts phone-number pairing; `phone` is digits with country code.
    pub async fn pairing_code(
        &self,
        principal: &Principal,
        id: &str,
        phone: Option<&str>,
    ) -> ServiceResult<String> {
        let session = self.access(principal, id, Capability::Manage).await?;
        let phone = parse_phone(phone)?;
        self.manager.pairing_code(&session, &phone).await
    }

    async fn reread(&self, session: &Session) -> ServiceResult<Session> {
        self.store
            .get_session(&session.organization_id, &session.id)
            .await?
            .ok_or_else(ServiceError::session_not_found)
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

/// Digits with country code (a leading `+` is tolerated); `400` otherwise.
fn parse_phone(raw: Option<&str>) -> ServiceResult<String> {
    let phone = raw.map(str::trim).unwrap_or_default();
    if phone.is_empty() {
        return Err(ServiceError::validation("phone is required"));
    }
    let digits = phone.strip_prefix('+').unwrap_or(phone);
    if !(7..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ServiceError::Validation {
            message: "validation failed".into(),
            errors: vec![format!(
                "expected digits with country code, no + (body.phone: {phone})"
            )],
        });
    }
    Ok(digits.to_owned())
}

#[cfg(test)]
mod tests {
    use super::parse_phone;

    #[test]
    fn phone_must_be_digits_with_country_code() {
        assert_eq!(parse_phone(Some("6281234567")).unwrap(), "6281234567");
        assert_eq!(parse_phone(Some(" +6281234567 ")).unwrap(), "6281234567");
        assert!(parse_phone(None).is_err());
        assert!(parse_phone(Some("")).is_err());
        assert!(parse_phone(Some("62-812")).is_err());
        assert!(parse_phone(Some("123")).is_err());
    }
}
