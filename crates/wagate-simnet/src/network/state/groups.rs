//! Groups: creation, settings and membership (admins only), invite codes, joining and leaving.
//! Every change reaches the connected devices of every member as a `GroupUpdate`.

use wagate_domain::Jid;
use wagate_domain::engine::{
    EngineEvent, GroupChange, GroupInfo, GroupParticipant, GroupSettings, GroupUpdate, MemberRole,
    ParticipantAction, ParticipantOutcome,
};

use super::State;
use super::accounts::{Acting, known_jid, phone_jid};
use super::records::{Group, Member};
use crate::codes;
use crate::network::views::GroupView;
use crate::{LOG_LABEL, SimError};

impl State {
    pub(crate) fn group(&self, gid: &str) -> Result<&Group, SimError> {
        self.groups
            .get(gid)
            .ok_or_else(|| SimError::NotFound(format!("no group {gid}")))
    }

    pub(crate) fn group_info_of(&self, g: &Group) -> GroupInfo {
        GroupInfo {
            jid: known_jid(&g.jid),
            subject: Some(g.subject.clone()),
            description: g.description.clone(),
            owner: Some(phone_jid(&g.owner)),
            announce: g.announce,
            locked: g.locked,
            created_at: Some(g.created_at),
            participants: g
                .members
                .iter()
                .map(|m| GroupParticipant {
                    jid: phone_jid(&m.phone),
                    phone: None,
                    role: m.role,
                })
                .collect(),
        }
    }

    /// The group as the control API shows it.
    pub(crate) fn group_view(&self, gid: &str) -> Result<GroupView, SimError> {
        self.group(gid).map(GroupView::of)
    }

    /// The group for a member; a non-member may not look.
    fn member_group(&self, phone: &str, gid: &Jid) -> Result<&Group, SimError> {
        let group = self.group(gid.as_str())?;
        if group.member(phone).is_none() {
            return Err(SimError::Forbidden(format!("not a participant of {gid}")));
        }
        Ok(group)
    }

    fn admin_group(&self, phone: &str, gid: &Jid) -> Result<&Group, SimError> {
        let group = self.member_group(phone, gid)?;
        if !group.is_admin(phone) {
            return Err(SimError::Forbidden(format!("not an admin of {gid}")));
        }
        Ok(group)
    }

    /// Sends `change` to the devices of `to`.
    fn announce(&mut self, gid: &str, actor: Option<&str>, to: &[String], change: GroupChange) {
        let update = GroupUpdate {
            group: known_jid(gid),
            actor: actor.map(phone_jid),
            timestamp: codes::now_ms(),
            change,
        };
        let event = EngineEvent::Group(Box::new(update));
        for phone in to {
            self.notify_account(phone, &event, None);
        }
    }

    /// Tells `joined` they are in the group (full state) and makes them contacts of everyone.
    fn welcome(&mut self, gid: &str, actor: &str, joined: &[String]) {
        let Some(group) = self.groups.get(gid) else {
            return;
        };
        let info = self.group_info_of(group);
        let members = group.phones();
        for phone in joined {
            for other in &members {
                self.add_contacts(phone, other);
            }
        }
        self.announce(gid, Some(actor), joined, GroupChange::Joined(info));
    }

    pub(crate) fn create_group(
        &mut self,
        acting: &Acting,
        subject: &str,
        participants: &[Jid],
    ) -> Result<GroupInfo, SimError> {
        let subject = valid_subject(subject)?;
        let creator = acting.phone.clone();
        let mut members = vec![Member {
            phone: creator.clone(),
            role: MemberRole::Superadmin,
        }];
        for jid in participants {
            let phone = self.resolve_user(jid)?;
            if members.iter().all(|m| m.phone != phone) {
                members.push(Member {
                    phone,
                    role: MemberRole::Member,
                });
            }
        }
        let gid = loop {
            let gid = codes::group_jid();
            if !self.groups.contains_key(&gid) {
                break gid;
            }
        };
        let group = Group {
            jid: gid.clone(),
            subject,
            description: None,
            owner: creator.clone(),
            announce: false,
            locked: false,
            created_at: codes::now_ms(),
            members,
            invite: None,
            revoked_invites: Vec::new(),
        };
        let everyone = group.phones();
        let info = self.group_info_of(&group);
        self.groups.insert(gid.clone(), group);
        tracing::info!(gid, creator, "{LOG_LABEL}: group created");
        self.welcome(&gid, &creator, &everyone);
        Ok(info)
    }

    pub(crate) fn group_info(&self, acting: &Acting, gid: &Jid) -> Result<GroupInfo, SimError> {
        self.member_group(&acting.phone, gid)
            .map(|g| self.group_info_of(g))
    }

    pub(crate) fn joined_groups(&self, acting: &Acting) -> Vec<GroupInfo> {
        self.groups
            .values()
            .filter(|g| g.member(&acting.phone).is_some())
            .map(|g| self.group_info_of(g))
            .collect()
    }

    /// Applies settings in the contract's order (subject, description, announce, locked);
    /// admins only.
    pub(crate) fn update_group(
        &mut self,
        acting: &Acting,
        gid: &Jid,
        settings: &GroupSettings,
    ) -> Result<(), SimError> {
        let subject = settings.subject.as_deref().map(valid_subject).transpose()?;
        let members = self.admin_group(&acting.phone, gid)?.phones();
        let gid = gid.as_str();
        let mut changes = Vec::new();
        if let Some(group) = self.groups.get_mut(gid) {
            if let Some(subject) = subject {
                group.subject.clone_from(&subject);
                changes.push(GroupChange::Subject { subject });
            }
            if let Some(description) = &settings.description {
                let description = Some(description.clone()).filter(|d| !d.is_empty());
                group.description.clone_from(&description);
                changes.push(GroupChange::Description { description });
            }
            if let Some(on) = settings.announce {
                group.announce = on;
                changes.push(GroupChange::Announce { on });
            }
            if let Some(on) = settings.locked {
                group.locked = on;
                changes.push(GroupChange::Locked { on });
            }
        }
        for change in changes {
            self.announce(gid, Some(&acting.phone), &members, change);
        }
        Ok(())
    }

    /// The group's invite code (created if none); `reset` revokes the old one first.
    pub(crate) fn invite(&mut self, gid: &str, reset: bool) -> Result<String, SimError> {
        let group = self
            .groups
            .get_mut(gid)
            .ok_or_else(|| SimError::NotFound(format!("no group {gid}")))?;
        if reset && let Some(old) = group.invite.take() {
            group.revoked_invites.push(old);
        }
        Ok(group.invite.get_or_insert_with(codes::invite_code).clone())
    }

    pub(crate) fn group_invite(
        &mut self,
        acting: &Acting,
        gid: &Jid,
        reset: bool,
    ) -> Result<String, SimError> {
        self.admin_group(&acting.phone, gid)?;
        self.invite(gid.as_str(), reset)
    }

    /// Adds, removes, promotes or demotes members (admins only). Per member: `None` done, 403
    /// not allowed (the creator), 404 not on WhatsApp / not a member, 409 already a member.
    pub(crate) fn change_participants(
        &mut self,
        acting: &Acting,
        gid: &Jid,
        action: ParticipantAction,
        jids: &[Jid],
    ) -> Result<Vec<ParticipantOutcome>, SimError> {
        let actor = acting.phone.clone();
        self.admin_group(&actor, gid)?;
        let gid = gid.as_str();
        let mut outcomes = Vec::new();
        let mut done = Vec::new();
        for jid in jids {
            let phone = self.resolve_user(jid).ok();
            let error = match (self.groups.get_mut(gid), phone) {
                (Some(group), Some(phone)) => {
                    let error = change_member(group, &actor, &phone, action);
                    if error.is_none() {
                        done.push(phone);
                    }
                    error
                }
                (_, None) => Some(404),
                (None, _) => Some(404),
            };
            outcomes.push(ParticipantOutcome {
                jid: jid.clone(),
                error,
            });
        }
        let members = self.groups.get(gid).map(Group::phones).unwrap_or_default();
        let jids = done.iter().map(|p| phone_jid(p)).collect::<Vec<_>>();
        if !done.is_empty() {
            match action {
                ParticipantAction::Add => {
                    let others: Vec<String> = members
                        .iter()
                        .filter(|m| !done.contains(m))
                        .cloned()
                        .collect();
                    self.announce(
                        gid,
                        Some(&actor),
                        &others,
                        GroupChange::Added { members: jids },
                    );
                    self.welcome(gid, &actor, &done);
                }
                ParticipantAction::Remove => {
                    self.announce(
                        gid,
                        Some(&actor),
                        &members,
                        GroupChange::Removed { members: jids },
                    );
                    self.announce(gid, Some(&actor), &done, GroupChange::Left);
                }
                ParticipantAction::Promote => {
                    self.announce(
                        gid,
                        Some(&actor),
                        &members,
                        GroupChange::Promoted { members: jids },
                    );
                }
                ParticipantAction::Demote => {
                    self.announce(
                        gid,
                        Some(&actor),
                        &members,
                        GroupChange::Demoted { members: jids },
                    );
                }
            }
        }
        Ok(outcomes)
    }

    /// Joins by invite code (or link); a member gets the group back unchanged. Unknown and
    /// revoked codes are not found.
    pub(crate) fn join_group(&mut self, acting: &Acting, code: &str) -> Result<Jid, SimError> {
        let code = codes::invite_code_of(code);
        let Some(group) = self
            .groups
            .values_mut()
            .find(|g| g.invite.as_deref() == Some(code))
        else {
            let revoked = self
                .groups
                .values()
                .any(|g| g.revoked_invites.iter().any(|c| c == code));
            let why = if revoked { "was revoked" } else { "is unknown" };
            return Err(SimError::NotFound(format!("invite code {code:?} {why}")));
        };
        let gid = group.jid.clone();
        if group.member(&acting.phone).is_some() {
            return Ok(known_jid(&gid));
        }
        let others = group.phones();
        group.members.push(Member {
            phone: acting.phone.clone(),
            role: MemberRole::Member,
        });
        let me = vec![acting.phone.clone()];
        let joined = vec![phone_jid(&acting.phone)];
        self.announce(
            &gid,
            Some(&acting.phone),
            &others,
            GroupChange::Added { members: joined },
        );
        self.welcome(&gid, &acting.phone, &me);
        Ok(known_jid(&gid))
    }

    /// Leaves a group; when the last admin leaves, the longest member becomes admin.
    pub(crate) fn leave_group(&mut self, acting: &Acting, gid: &Jid) -> Result<(), SimError> {
        let me = acting.phone.clone();
        let group = self
            .groups
            .get_mut(gid.as_str())
            .filter(|g| g.member(&me).is_some())
            .ok_or_else(|| SimError::NotFound(format!("{me} is not in group {gid}")))?;
        group.members.retain(|m| m.phone != me);
        let headless = !group.members.iter().any(Member::is_admin);
        let promoted = match group.members.first_mut() {
            Some(first) if headless => {
                first.role = MemberRole::Admin;
                Some(first.phone.clone())
            }
            _ => None,
        };
        let others = group.phones();
        let gid = gid.as_str();
        self.announce(
            gid,
            Some(&me),
            &others,
            GroupChange::Removed {
                members: vec![phone_jid(&me)],
            },
        );
        self.announce(gid, Some(&me), std::slice::from_ref(&me), GroupChange::Left);
        if let Some(p) = promoted {
            self.announce(
                gid,
                None,
                &others,
                GroupChange::Promoted {
                    members: vec![phone_jid(&p)],
                },
            );
        }
        Ok(())
    }
}

/// One membership change; `None` when done, else WhatsApp's error code.
fn change_member(
    group: &mut Group,
    actor: &str,
    phone: &str,
    action: ParticipantAction,
) -> Option<u16> {
    let position = group.members.iter().position(|m| m.phone == phone);
    let protected = phone == group.owner && actor != group.owner;
    match (action, position) {
        (ParticipantAction::Add, Some(_)) => Some(409),
        (ParticipantAction::Add, None) => {
            group.members.push(Member {
                phone: phone.to_owned(),
                role: MemberRole::Member,
            });
            None
        }
        (_, None) => Some(404),
        (ParticipantAction::Remove | ParticipantAction::Demote, Some(_)) if protected => Some(403),
        (ParticipantAction::Remove, Some(i)) => {
            group.members.remove(i);
            None
        }
        (ParticipantAction::Promote, Some(i)) => {
            if group.members[i].role == MemberRole::Member {
                group.members[i].role = MemberRole::Admin;
            }
            None
        }
        (ParticipantAction::Demote, Some(i)) => {
            group.members[i].role = MemberRole::Member;
            None
        }
    }
}

fn valid_subject(subject: &str) -> Result<String, SimError> {
    let subject = subject.trim();
    if subject.is_empty() || subject.chars().count() > 100 {
        return Err(SimError::Invalid(
            "a group subject is 1 to 100 characters".to_owned(),
        ));
    }
    Ok(subject.to_owned())
}
