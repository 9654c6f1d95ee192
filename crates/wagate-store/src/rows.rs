//! Row shapes shared by both backends and their conversion to domain types.

use wagate_domain::{
    ApiKey, ApiKeyId, CapabilitySet, OrgId, Organization, Session, SessionId, SessionStatus,
    StoreError,
};

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("corrupt {what} row: {detail}").into())
}

#[derive(sqlx::FromRow)]
pub(crate) struct OrganizationRow {
    id: String,
    name: String,
    created_at: i64,
}

impl From<OrganizationRow> for Organization {
    fn from(r: OrganizationRow) -> Self {
        Organization {
            id: OrgId::from_trusted(r.id),
            name: r.name,
            created_at: r.created_at,
        }
    }
}

/// Fields are crate-visible so SQLite's direct reads (`sqlite_reads`) can fill them too.
#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub(crate) id: String,
    pub(crate) organization_id: String,
    pub(crate) created_by_user_id: Option<String>,
    pub(crate) gateway_id: String,
    pub(crate) label: Option<String>,
    pub(crate) status: String,
    pub(crate) status_reason: Option<String>,
    pub(crate) wa_jid: Option<String>,
    pub(crate) wa_lid: Option<String>,
    pub(crate) phone_number: Option<String>,
    pub(crate) is_admin_session: bool,
    pub(crate) auto_read: bool,
    pub(crate) presence_typing: bool,
    pub(crate) rate_per_min: i32,
    pub(crate) rate_per_hour: i32,
    pub(crate) last_connected_at: Option<i64>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        Ok(Session {
            status: r.status.parse().map_err(|e| corrupt("session", e))?,
            id: SessionId::from_trusted(r.id),
            organization_id: OrgId::from_trusted(r.organization_id),
            created_by_user_id: r.created_by_user_id,
            gateway_id: r.gateway_id,
            label: r.label,
            status_reason: r.status_reason,
            wa_jid: r.wa_jid,
            wa_lid: r.wa_lid,
            phone_number: r.phone_number,
            is_admin_session: r.is_admin_session,
            auto_read: r.auto_read,
            presence_typing: r.presence_typing,
            rate_per_min: r.rate_per_min,
            rate_per_hour: r.rate_per_hour,
            last_connected_at: r.last_connected_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// Fields are crate-visible so SQLite's direct reads (`sqlite_reads`) can fill them too.
#[derive(sqlx::FromRow)]
pub(crate) struct ApiKeyRow {
    pub(crate) id: String,
    pub(crate) organization_id: String,
    pub(crate) name: Option<String>,
    pub(crate) key_hash: String,
    pub(crate) permissions: String,
    pub(crate) sessions: Option<String>,
    pub(crate) expires_at: Option<i64>,
    pub(crate) enabled: bool,
    pub(crate) created_at: i64,
    pub(crate) last_used_at: Option<i64>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StoreError;

    fn try_from(r: ApiKeyRow) -> Result<Self, StoreError> {
        let sessions = r
            .sessions
            .map(|json| serde_json::from_str::<Vec<String>>(&json))
            .transpose()
            .map_err(|e| corrupt("api key", e))?
            .map(|ids| ids.into_iter().map(SessionId::from_trusted).collect());
        Ok(ApiKey {
            permissions: CapabilitySet::parse_list(&r.permissions)
                .map_err(|e| corrupt("api key", e))?,
            id: ApiKeyId::from_trusted(r.id),
            organization_id: OrgId::from_trusted(r.organization_id),
            name: r.name,
            key_hash: r.key_hash,
            sessions,
            expires_at: r.expires_at,
            enabled: r.enabled,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        })
    }
}

/// The `sessions` column: a JSON array of ids, or NULL for "every session".
pub(crate) fn sessions_column(key: &ApiKey) -> Option<String> {
    key.sessions.as_ref().map(|ids| {
        serde_json::Value::from(ids.iter().map(|s| s.as_str()).collect::<Vec<_>>()).to_string()
    })
}

pub(crate) fn status_count(
    (status, count): (String, i64),
) -> Result<(SessionStatus, i64), StoreError> {
    Ok((status.parse().map_err(|e| corrupt("session", e))?, count))
}
