//! What a realtime connection may see (events.md §4.1), resolved once — from the NDJSON query at
//! connect, or from a ticket request at mint time — and then served by one implementation
//! ([`EventStreams::subscribe`](super::EventStreams::subscribe)) whatever the transport.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use wagate_domain::{ApiKeyId, CapabilitySet, OrgId, OrgRole, Principal, PrincipalKind, SessionId};

use crate::{ServiceError, ServiceResult};

/// The events a subscription reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// One organization, optionally one of its sessions.
    Organization {
        organization: OrgId,
        session: Option<SessionId>,
    },
    /// Every organization (super-admins only; never replayed).
    Firehose,
}

/// A resolved, authorized subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub(crate) reach: Reach,
    /// `None` = every type.
    pub(crate) types: Option<HashSet<String>>,
    /// Resume cursor (ignored for the firehose).
    pub(crate) since: Option<String>,
    /// Who authorized it: revocation of this credential closes the stream.
    pub(crate) principal: Principal,
}

impl Subscription {
    /// Whether an event of `organization`/`session`/`event_type` belongs on this stream.
    pub(crate) fn admits(
        &self,
        organization: &OrgId,
        session: &SessionId,
        event_type: &str,
    ) -> bool {
        let reached = match &self.reach {
            Reach::Firehose => true,
            Reach::Organization {
                organization: ours,
                session: one,
            } => {
                organization == ours
                    && one.as_ref().is_none_or(|s| s == session)
                    && self.principal.can_reach_session(session)
            }
        };
        reached && self.types.as_ref().is_none_or(|t| t.contains(event_type))
    }

    /// The form a ticket stores (the store keeps it opaque).
    pub(crate) fn to_stored(&self) -> String {
        let (organization, session) = match &self.reach {
            Reach::Organization {
                organization,
                session,
            } => (
                Some(organization.to_string()),
                session.as_ref().map(ToString::to_string),
            ),
            Reach::Firehose => (None, None),
        };
        let stored = StoredSubscription {
            firehose: matches!(self.reach, Reach::Firehose),
            organization,
            session,
            types: self.types.as_ref().map(|t| {
                let mut t: Vec<String> = t.iter().cloned().collect();
                t.sort();
                t
            }),
            since: self.since.clone(),
            principal: StoredPrincipal::from(&self.principal),
        };
        serde_json::to_string(&stored).unwrap_or_default()
    }

    /// Reads what [`Subscription::to_stored`] wrote; `500` when the row is corrupt.
    pub(crate) fn from_stored(raw: &str) -> ServiceResult<Self> {
        let corrupt = |detail: String| {
            ServiceError::Internal(format!("corrupt realtime ticket: {detail}").into())
        };
        let s: StoredSubscription =
            serde_json::from_str(raw).map_err(|e| corrupt(e.to_string()))?;
        let reach = if s.firehose {
            Reach::Firehose
        } else {
            Reach::Organization {
                organization: OrgId::from_trusted(
                    s.organization
                        .ok_or_else(|| corrupt("no organization".into()))?,
                ),
                session: s.session.map(SessionId::from_trusted),
            }
        };
        Ok(Self {
            reach,
            types: s.types.map(|t| t.into_iter().collect()),
            since: s.since,
            principal: s.principal.into_principal().map_err(corrupt)?,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct StoredSubscription {
    firehose: bool,
    organization: Option<String>,
    session: Option<String>,
    types: Option<Vec<String>>,
    since: Option<String>,
    principal: StoredPrincipal,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredPrincipal {
    organization: Option<String>,
    capabilities: String,
    api_key: Option<String>,
    sessions: Option<Vec<String>>,
    user_id: Option<String>,
    org_role: Option<String>,
    super_admin: bool,
}

impl From<&Principal> for StoredPrincipal {
    fn from(p: &Principal) -> Self {
        let mut stored = Self {
            organization: p.organization.as_ref().map(ToString::to_string),
            capabilities: p.capabilities.to_string(),
            api_key: None,
            sessions: None,
            user_id: None,
            org_role: None,
            super_admin: false,
        };
        match &p.kind {
            PrincipalKind::ApiKey { id, sessions } => {
                stored.api_key = Some(id.to_string());
                stored.sessions = sessions
                    .as_ref()
                    .map(|s| s.iter().map(ToString::to_string).collect());
            }
            PrincipalKind::User {
                user_id,
                org_role,
                super_admin,
            } => {
                stored.user_id = Some(user_id.clone());
                stored.org_role = org_role.map(|r| r.as_str().to_owned());
                stored.super_admin = *super_admin;
            }
        }
        stored
    }
}

impl StoredPrincipal {
    fn into_principal(self) -> Result<Principal, String> {
        let kind = match (self.api_key, self.user_id) {
            (Some(id), None) => PrincipalKind::ApiKey {
                id: ApiKeyId::from_trusted(id),
                sessions: self
                    .sessions
                    .map(|s| s.into_iter().map(SessionId::from_trusted).collect()),
            },
            (None, Some(user_id)) => PrincipalKind::User {
                user_id,
                org_role: self.org_role.as_deref().and_then(OrgRole::parse),
                super_admin: self.super_admin,
            },
            _ => return Err("principal is neither a key nor a user".into()),
        };
        Ok(Principal {
            organization: self.organization.map(OrgId::from_trusted),
            capabilities: CapabilitySet::parse_list(&self.capabilities)
                .map_err(|e| e.to_string())?,
            kind,
        })
    }
}

/// The type filter of events.md §4.1: `None` = every type (`*` anywhere, or no names at all);
/// names are trimmed and blanks ignored; a non-empty list of only blanks is a `400`.
pub(crate) fn parse_types<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> ServiceResult<Option<HashSet<String>>> {
    let mut listed = false;
    let mut set = HashSet::new();
    for name in names {
        listed = true;
        let name = name.trim();
        if !name.is_empty() {
            set.insert(name.to_owned());
        }
    }
    if !listed || set.contains("*") {
        return Ok(None);
    }
    if set.is_empty() {
        return Err(ServiceError::validation(
            "events filter matches no event types",
        ));
    }
    Ok(Some(set))
}

/// The NDJSON form of the filter: one comma-separated string, where an empty string means all.
pub(crate) fn parse_type_list(raw: Option<&str>) -> ServiceResult<Option<HashSet<String>>> {
    match raw {
        None | Some("") => Ok(None),
        Some(raw) => parse_types(raw.split(',')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wagate_domain::Capability;

    #[test]
    fn type_filters_follow_the_contract() {
        assert_eq!(parse_type_list(None).unwrap(), None);
        assert_eq!(parse_type_list(Some("")).unwrap(), None);
        assert_eq!(parse_type_list(Some("message,*")).unwrap(), None);
        let some = parse_type_list(Some(" message , ,session.status"))
            .unwrap()
            .unwrap();
        assert_eq!(some.len(), 2);
        assert!(some.contains("message") && some.contains("session.status"));
        assert!(parse_type_list(Some(",")).is_err());
        assert!(parse_type_list(Some(" , ")).is_err());
        // The ticket's array form: empty means all, only blanks is invalid.
        assert_eq!(parse_types([]).unwrap(), None);
        assert_eq!(parse_types([" * ", "message"]).unwrap(), None);
        assert!(parse_types([" "]).is_err());
    }

    #[test]
    fn a_stored_subscription_reads_back_the_same() {
        let key = Subscription {
            reach: Reach::Organization {
                organization: OrgId::from_trusted("org_a".into()),
                session: Some(SessionId::from_trusted("sess_b".into())),
            },
            types: Some(["message".to_owned()].into_iter().collect()),
            since: Some("evt_x".into()),
            principal: Principal {
                organization: Some(OrgId::from_trusted("org_a".into())),
                capabilities: [Capability::Events].into_iter().collect(),
                kind: PrincipalKind::ApiKey {
                    id: ApiKeyId::generate(),
                    sessions: Some(vec![SessionId::from_trusted("sess_b".into())]),
                },
            },
        };
        assert_eq!(Subscription::from_stored(&key.to_stored()).unwrap(), key);
        let admin = Subscription {
            reach: Reach::Firehose,
            types: None,
            since: None,
            principal: Principal {
                organization: None,
                capabilities: CapabilitySet::ALL,
                kind: PrincipalKind::User {
                    user_id: "u1".into(),
                    org_role: Some(OrgRole::Admin),
                    super_admin: true,
                },
            },
        };
        assert_eq!(
            Subscription::from_stored(&admin.to_stored()).unwrap(),
            admin
        );
        assert!(Subscription::from_stored("{").is_err());
    }
}
