//! Group use cases on a session the caller may reach (the HTTP layer resolves it with
//! [`crate::SessionService::access`] first): stored reads, live changes through the engine
//! client, whose results are stored at once — as of the moment the request left, so
//! WhatsApp's echo of an earlier change, arriving later, is recognised as older.

use std::sync::Arc;

use wagate_domain::engine::{
    GroupInfo, GroupSettings, MemberRole, ParticipantAction, ParticipantOutcome,
};
use wagate_domain::{ChatKind, EngineError, Group, GroupMember, GroupMeta, Jid, Session};

use super::invite::InviteCode;
use super::updates::GroupUpdates;
use crate::session_manager::engine_error;
use crate::{ServiceError, ServiceResult, SessionManager};

/// A change to one member of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    Remove,
    Promote,
    Demote,
}

pub struct GroupService {
    updates: Arc<GroupUpdates>,
    manager: SessionManager,
}

/// A group JID from a path or body, or `400 invalid jid: …`.
fn group_jid(text: &str) -> ServiceResult<Jid> {
    match Jid::parse(text.trim()) {
        Ok(jid) if jid.kind() == ChatKind::Group => Ok(jid),
        _ => Err(ServiceError::validation(format!("invalid jid: {text}"))),
    }
}

/// A person's JID (phone or LID), canonical, or `400 invalid jid: …`.
fn member_jid(text: &str) -> ServiceResult<Jid> {
    match Jid::parse(text.trim()) {
        Ok(jid) if jid.is_phone() || jid.is_lid() => Ok(jid.canonical()),
        _ => Err(ServiceError::validation(format!("invalid jid: {text}"))),
    }
}

/// Engine failures on an existing group: an unknown group reads as the contract's 404.
fn group_error(err: EngineError) -> ServiceError {
    match err {
        EngineError::NotFound(_) => ServiceError::NotFound("group not found".into()),
        other => engine_error(other),
    }
}

/// The per-member answers of a membership change in the caller's terms; the members changed.
fn changed(
    action: ParticipantAction,
    outcomes: Vec<ParticipantOutcome>,
) -> ServiceResult<Vec<String>> {
    let mut done = Vec::new();
    for o in outcomes {
        let jid = o.jid.canonical().to_string();
        match (o.error, action) {
            (None, _) => done.push(jid),
            // Already a member, or removing someone absent: WhatsApp's no-ops.
            (Some(409), ParticipantAction::Add) | (Some(404), ParticipantAction::Remove) => {}
            (Some(403), _) => {
                return Err(ServiceError::Forbidden(format!(
                    "WhatsApp does not allow this change for {jid}"
                )));
            }
            (Some(404), ParticipantAction::Add) => {
                return Err(ServiceError::validation(format!("not on WhatsApp: {jid}")));
            }
            (Some(404), _) => {
                return Err(ServiceError::NotFound("group member not found".into()));
            }
            (Some(code), _) => {
                return Err(ServiceError::validation(format!(
                    "WhatsApp refused the change for {jid} ({code})"
                )));
            }
        }
    }
    Ok(done)
}

impl GroupService {
    pub fn new(updates: Arc<GroupUpdates>, manager: SessionManager) -> Self {
        Self { updates, manager }
    }

    // ---- Stored ----

    /// The groups the session is or was in, by row id (api.md §8.1).
    pub async fn list_groups(&self, s: &Session) -> ServiceResult<Vec<Group>> {
        Ok(self.updates.store().list_groups(&s.id).await?)
    }

    /// One group the session is or was in (api.md §8.3, restricted as it SHOULD be).
    pub async fn get_group(&self, s: &Session, gid: &str) -> ServiceResult<Group> {
        let gid = group_jid(gid)?;
        self.updates
            .store()
            .get_group(&s.id, gid.as_str())
            .await?
            .ok_or_else(|| ServiceError::NotFound("group not found".into()))
    }

    /// The session's view of the members; an unknown group has none (api.md §8.7).
    pub async fn list_members(&self, s: &Session, gid: &str) -> ServiceResult<Vec<GroupMember>> {
        let gid = group_jid(gid)?;
        Ok(self
            .updates
            .store()
            .list_members(&s.id, gid.as_str())
            .await?)
    }

    // ---- Live ----

    pub async fn create_group(
        &self,
        s: &Session,
        name: Option<&str>,
        participants: &[String],
    ) -> ServiceResult<GroupInfo> {
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        let name = name.ok_or_else(|| ServiceError::validation("name is required"))?;
        let participants = participants
            .iter()
            .map(|p| member_jid(p))
            .collect::<ServiceResult<Vec<_>>>()?;
        let client = self.manager.require_live(s)?;
        let at = self.updates.now_ms();
        let info = client
            .create_group(name, &participants)
            .await
            .map_err(engine_error)?;
        self.updates.store_info(&s.id, &info, at).await?;
        Ok(info)
    }

    /// Applies the settings in the contract's order; the first refusal stops the rest.
    pub async fn update_group(
        &self,
        s: &Session,
        gid: &str,
        settings: GroupSettings,
    ) -> ServiceResult<()> {
        if settings == GroupSettings::default() {
            return Err(ServiceError::validation("no group settings to update"));
        }
        let gid = group_jid(gid)?;
        let client = self.manager.require_live(s)?;
        let at = self.updates.now_ms();
        client
            .update_group(&gid, &settings)
            .await
            .map_err(group_error)?;
        let meta = GroupMeta {
            subject: settings.subject.map(|s| s.trim().to_owned()),
            description: settings.description,
            is_announce: settings.announce,
            is_locked: settings.locked,
            ..GroupMeta::jid(gid.as_str())
        };
        Ok(self.updates.store_meta(&meta, at).await?)
    }

    /// The invite link; `reset` revokes the current one first (api.md §8.5–§8.6).
    pub async fn invite(&self, s: &Session, gid: &str, reset: bool) -> ServiceResult<String> {
        let gid = group_jid(gid)?;
        let client = self.manager.require_live(s)?;
        let code = client
            .group_invite(&gid, reset)
            .await
            .map_err(group_error)?;
        Ok(InviteCode::from_network(code).link())
    }

    pub async fn add_members(
        &self,
        s: &Session,
        gid: &str,
        participants: &[String],
    ) -> ServiceResult<()> {
        if participants.is_empty() {
            return Err(ServiceError::validation(
                "at least one participant is required",
            ));
        }
        let gid = group_jid(gid)?;
        let members = participants
            .iter()
            .map(|p| member_jid(p))
            .collect::<ServiceResult<Vec<_>>>()?;
        let client = self.manager.require_live(s)?;
        let action = ParticipantAction::Add;
        let at = self.updates.now_ms();
        let outcomes = client
            .change_participants(&gid, action, &members)
            .await
            .map_err(group_error)?;
        let done = changed(action, outcomes)?;
        Ok(self
            .updates
            .store_role(&s.id, gid.as_str(), &done, MemberRole::Member, at)
            .await?)
    }

    /// Removes, promotes or demotes one member (api.md §8.9–§8.11).
    pub async fn change_member(
        &self,
        s: &Session,
        gid: &str,
        jid: &str,
        change: MemberChange,
    ) -> ServiceResult<()> {
        let gid = group_jid(gid)?;
        let member = member_jid(jid)?;
        let client = self.manager.require_live(s)?;
        let action = match change {
            MemberChange::Remove => ParticipantAction::Remove,
            MemberChange::Promote => ParticipantAction::Promote,
            MemberChange::Demote => ParticipantAction::Demote,
        };
        let at = self.updates.now_ms();
        let outcomes = client
            .change_participants(&gid, action, &[member])
            .await
            .map_err(group_error)?;
        let done = changed(action, outcomes)?;
        let gid = gid.as_str();
        match change {
            MemberChange::Remove => self.updates.store_removed(s, gid, &done, at).await?,
            MemberChange::Promote => {
                self.updates
                    .store_role(&s.id, gid, &done, MemberRole::Admin, at)
                    .await?;
            }
            MemberChange::Demote => {
                self.updates
                    .store_role(&s.id, gid, &done, MemberRole::Member, at)
                    .await?;
            }
        }
        Ok(())
    }

    /// D4's seed decision: after the capability and session checks, always `501`.
    pub fn approve_members(&self, _s: &Session) -> ServiceResult<()> {
        Err(ServiceError::NotImplemented {
            message: "group membership approval is not implemented yet".into(),
            status: None,
        })
    }

    /// Joins by invite code or link and stores the group at once (api.md §8.13).
    pub async fn join(&self, s: &Session, invite: &str) -> ServiceResult<Jid> {
        let code = InviteCode::parse(invite)?;
        let client = self.manager.require_live(s)?;
        let at = self.updates.now_ms();
        let gid = client
            .join_group(code.as_str())
            .await
            .map_err(|err| match err {
                EngineError::NotFound(_) | EngineError::Rejected(_) => {
                    ServiceError::validation("invite is invalid, revoked or expired")
                }
                other => engine_error(other),
            })?;
        match client.group_info(&gid).await {
            Ok(info) => self.updates.store_info(&s.id, &info, at).await?,
            Err(err) => {
                tracing::warn!(session = %s.id, %gid, %err, "joined group not described");
                let now = self.updates.now_ms();
                self.updates
                    .store()
                    .mark_joined(&s.id, gid.as_str(), at, now)
                    .await?;
            }
        }
        Ok(gid)
    }

    /// Leaves the group; its stored data stays readable and shows the session left.
    pub async fn leave(&self, s: &Session, gid: &str) -> ServiceResult<()> {
        let gid = group_jid(gid)?;
        let client = self.manager.require_live(s)?;
        let at = self.updates.now_ms();
        client.leave_group(&gid).await.map_err(group_error)?;
        let now = self.updates.now_ms();
        Ok(self
            .updates
            .store()
            .mark_left(&s.id, gid.as_str(), at, now)
            .await?)
    }
}
