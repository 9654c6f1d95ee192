//! Sessions: one WhatsApp account linked as a companion device (domain.md §4).

use std::fmt;
use std::str::FromStr;

use crate::{OrgId, SessionId};

/// The stored status (domain.md §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionStatus {
    Starting,
    ScanQrCode,
    Working,
    Failed,
    Stopped,
    LoggedOut,
}

impl SessionStatus {
    pub const ALL: [SessionStatus; 6] = [
        Self::Starting,
        Self::ScanQrCode,
        Self::Working,
        Self::Failed,
        Self::Stopped,
        Self::LoggedOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::ScanQrCode => "scan_qr_code",
            Self::Working => "working",
            Self::Failed => "failed",
            Self::Stopped => "stopped",
            Self::LoggedOut => "logged_out",
        }
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status string that is not one of the six statuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown session status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for SessionStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// A stored session row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub organization_id: OrgId,
    pub created_by_user_id: Option<String>,
    /// The node the session is pinned to (the contract's `gatewayId`).
    pub gateway_id: String,
    pub label: Option<String>,
    pub status: SessionStatus,
    /// Why the session is in its status when that is not obvious (decisions.md D7).
    pub status_reason: Option<String>,
    pub wa_jid: Option<String>,
    pub wa_lid: Option<String>,
    pub phone_number: Option<String>,
    pub is_admin_session: bool,
    pub auto_read: bool,
    pub presence_typing: bool,
    pub rate_per_min: i32,
    pub rate_per_hour: i32,
    pub last_connected_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What `createSession` decides; the store fills nothing in.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub organization_id: OrgId,
    pub created_by_user_id: Option<String>,
    pub gateway_id: String,
    pub label: Option<String>,
    pub auto_read: bool,
    pub presence_typing: bool,
    pub rate_per_min: i32,
    pub rate_per_hour: i32,
}

impl NewSession {
    /// The row as first stored: status `stopped`, never connected.
    pub fn into_session(self, id: SessionId, now_ms: i64) -> Session {
        Session {
            id,
            organization_id: self.organization_id,
            created_by_user_id: self.created_by_user_id,
            gateway_id: self.gateway_id,
            label: self.label,
            status: SessionStatus::Stopped,
            status_reason: None,
            wa_jid: None,
            wa_lid: None,
            phone_number: None,
            is_admin_session: false,
            auto_read: self.auto_read,
            presence_typing: self.presence_typing,
            rate_per_min: self.rate_per_min,
            rate_per_hour: self.rate_per_hour,
            last_connected_at: None,
            created_at: now_ms,
            updated_at: now_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_strings_round_trip() {
        for st in SessionStatus::ALL {
            assert_eq!(st.as_str().parse::<SessionStatus>().unwrap(), st);
        }
        assert!("WORKING".parse::<SessionStatus>().is_err());
    }
}
