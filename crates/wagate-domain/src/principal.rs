//! Who is calling, in which organization, with which capabilities (api.md §1.3–1.5).

use crate::{ApiKeyId, Capability, CapabilitySet, OrgId, SessionId};

/// A user's role inside the active organization (`orgRole` claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgRole {
    Owner,
    Admin,
    Member,
}

impl OrgRole {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "owner" => Some(Self::Owner),
            "admin" => Some(Self::Admin),
            "member" => Some(Self::Member),
            _ => None,
        }
    }

    /// The claim value [`OrgRole::parse`] reads.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }

    /// The capability table of api.md §1.4.
    pub fn capabilities(self) -> CapabilitySet {
        match self {
            Self::Owner | Self::Admin => CapabilitySet::ALL,
            Self::Member => [Capability::Read, Capability::Send, Capability::Events]
                .into_iter()
                .collect(),
        }
    }
}

/// How the caller proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    ApiKey {
        id: ApiKeyId,
        /// The sessions the key is limited to, if any.
        sessions: Option<Vec<SessionId>>,
    },
    User {
        user_id: String,
        org_role: Option<OrgRole>,
        super_admin: bool,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The organization the caller acts in; `None` for a JWT without an active organization.
    pub organization: Option<OrgId>,
    pub capabilities: CapabilitySet,
    pub kind: PrincipalKind,
}

impl Principal {
    /// A stable name for per-credential limits and logs (never the secret).
    pub fn credential_id(&self) -> String {
        match &self.kind {
            PrincipalKind::ApiKey { id, .. } => id.to_string(),
            PrincipalKind::User { user_id, .. } => format!("user:{user_id}"),
        }
    }

    /// False when the caller is an API key limited to other sessions.
    pub fn can_reach_session(&self, session: &SessionId) -> bool {
        match &self.kind {
            PrincipalKind::ApiKey {
                sessions: Some(list),
                ..
            } => list.contains(session),
            _ => true,
        }
    }

    /// A user with the platform role `super_admin` (JWT `role` claim).
    pub fn is_super_admin(&self) -> bool {
        matches!(
            self.kind,
            PrincipalKind::User {
                super_admin: true,
                ..
            }
        )
    }

    /// The session list the caller is limited to, if any.
    pub fn session_limit(&self) -> Option<&[SessionId]> {
        match &self.kind {
            PrincipalKind::ApiKey {
                sessions: Some(list),
                ..
            } => Some(list),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_lacks_manage_but_has_events() {
        let caps = OrgRole::Member.capabilities();
        assert!(!caps.contains(Capability::Manage));
        assert!(caps.contains(Capability::Events));
        assert_eq!(OrgRole::Admin.capabilities(), CapabilitySet::ALL);
        assert_eq!(OrgRole::parse("guest"), None);
    }
}
