//! Groups and memberships as stored (domain.md §8): group metadata is global, keyed by JID;
//! memberships and whether the session is (still) in the group are per session.

use crate::SessionId;
use crate::engine::{GroupInfo, MemberRole};

/// A stored group as one session sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: i64,
    pub jid: String,
    pub subject: Option<String>,
    pub description: Option<String>,
    pub owner_jid: Option<String>,
    pub participant_count: Option<i64>,
    pub is_announce: Option<bool>,
    pub is_locked: Option<bool>,
    pub created_at_wa: Option<i64>,
    pub first_seen_at: i64,
    pub updated_at: i64,
    /// When this session left or was removed (epoch-ms); `None` while it is a member.
    pub left_at: Option<i64>,
}

/// One member of a group as observed by one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMember {
    pub id: i64,
    pub session_id: SessionId,
    pub group_jid: String,
    /// The member's canonical JID (its LID when the network addresses members by LID).
    pub lid: String,
    pub tag: Option<String>,
    pub role: MemberRole,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
}

/// Group metadata to merge into the stored row; `None` keeps what is stored (COALESCE).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupMeta {
    pub jid: String,
    pub subject: Option<String>,
    /// `Some("")` clears the description.
    pub description: Option<String>,
    pub owner_jid: Option<String>,
    pub participant_count: Option<i64>,
    pub is_announce: Option<bool>,
    pub is_locked: Option<bool>,
    pub created_at_wa: Option<i64>,
}

impl GroupMeta {
    /// Only the JID: a group seen in traffic.
    pub fn jid(jid: impl Into<String>) -> Self {
        Self {
            jid: jid.into(),
            ..Self::default()
        }
    }

    /// Everything the network told about the group (the description cleared when absent).
    pub fn of(info: &GroupInfo) -> Self {
        Self {
            jid: info.jid.canonical().to_string(),
            subject: info.subject.clone(),
            description: Some(info.description.clone().unwrap_or_default()),
            owner_jid: info.owner.as_ref().map(|o| o.canonical().to_string()),
            participant_count: i64::try_from(info.participants.len()).ok(),
            is_announce: Some(info.announce),
            is_locked: Some(info.locked),
            created_at_wa: info.created_at,
        }
    }
}

/// A membership to record: `role` overwrites, `tag` COALESCEs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberUpsert {
    pub lid: String,
    pub role: MemberRole,
    pub tag: Option<String>,
}

impl MemberUpsert {
    /// The members of `info`, canonical.
    pub fn all_of(info: &GroupInfo) -> Vec<Self> {
        info.participants
            .iter()
            .map(|p| Self {
                lid: p.jid.canonical().to_string(),
                role: p.role,
                tag: None,
            })
            .collect()
    }
}
