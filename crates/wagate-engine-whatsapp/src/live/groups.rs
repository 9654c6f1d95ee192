//! Groups: create, describe, list, change settings and members, invites, join, leave.

use wagate_domain::Jid;
use wagate_domain::engine::{
    EngineError, GroupInfo, GroupParticipant, GroupSettings, MemberRole, ParticipantAction,
    ParticipantOutcome,
};
use whatsapp_rust::Client;
use whatsapp_rust::features::{
    GroupCreateOptions, GroupDescription, GroupMetadata, GroupParticipantOptions, GroupSubject,
    ParticipantType, PreviousDescription,
};

use crate::errors::engine_error;
use crate::jids::{all_to_wa, from_wa, to_wa};

pub(super) async fn create(
    client: &Client,
    subject: &str,
    participants: &[Jid],
) -> Result<GroupInfo, EngineError> {
    let options = GroupCreateOptions::builder()
        .subject(subject)
        .participants(
            all_to_wa(participants)?
                .into_iter()
                .map(GroupParticipantOptions::new)
                .collect(),
        )
        .finish();
    let created = client
        .groups()
        .create_group(options)
        .await
        .map_err(|e| engine_error(&e))?;
    group_info(&created.metadata)
}

pub(super) async fn info(client: &Client, group: &Jid) -> Result<GroupInfo, EngineError> {
    let metadata = client
        .groups()
        .get_metadata(&to_wa(group)?)
        .await
        .map_err(|e| engine_error(&e))?;
    group_info(&metadata)
}

pub(super) async fn joined(client: &Client) -> Result<Vec<GroupInfo>, EngineError> {
    let groups = client
        .groups()
        .get_participating()
        .await
        .map_err(|e| engine_error(&e))?;
    // A group whose JID the port cannot represent is left out rather than failing the list.
    Ok(groups.values().filter_map(|m| group_info(m).ok()).collect())
}

pub(super) async fn update(
    client: &Client,
    group: &Jid,
    settings: &GroupSettings,
) -> Result<(), EngineError> {
    let jid = to_wa(group)?;
    let groups = client.groups();
    let refused = |e: whatsapp_rust::anyhow::Error| EngineError::Rejected(e.to_string());
    if let Some(subject) = &settings.subject {
        let subject = GroupSubject::new(subject.as_str()).map_err(refused)?;
        groups
            .set_subject(jid.clone(), subject)
            .await
            .map_err(|e| engine_error(&e))?;
    }
    if let Some(description) = &settings.description {
        let description = match description.as_str() {
            "" => None,
            text => Some(GroupDescription::new(text).map_err(refused)?),
        };
        groups
            .set_description(jid.clone(), description, PreviousDescription::Resolve)
            .await
            .map_err(|e| engine_error(&e))?;
    }
    if let Some(announce) = settings.announce {
        groups
            .set_announce(jid.clone(), announce)
            .await
            .map_err(|e| engine_error(&e))?;
    }
    if let Some(locked) = settings.locked {
        groups
            .set_locked(jid.clone(), locked)
            .await
            .map_err(|e| engine_error(&e))?;
    }
    Ok(())
}

pub(super) async fn invite(
    client: &Client,
    group: &Jid,
    reset: bool,
) -> Result<String, EngineError> {
    let link = client
        .groups()
        .get_invite_link(to_wa(group)?, reset)
        .await
        .map_err(|e| engine_error(&e))?;
    Ok(invite_code(&link))
}

/// The code of an invite link (`https://chat.whatsapp.com/<code>`), or the text itself.
pub(crate) fn invite_code(link: &str) -> String {
    link.rsplit('/').next().unwrap_or(link).to_owned()
}

pub(super) async fn change_participants(
    client: &Client,
    group: &Jid,
    action: ParticipantAction,
    members: &[Jid],
) -> Result<Vec<ParticipantOutcome>, EngineError> {
    let jid = to_wa(group)?;
    let members = all_to_wa(members)?;
    let groups = client.groups();
    let answers = match action {
        ParticipantAction::Add => groups.add_participants(jid, &members).await,
        ParticipantAction::Remove => groups.remove_participants(jid, &members).await,
        ParticipantAction::Promote => groups.promote_participants(jid, &members).await,
        ParticipantAction::Demote => groups.demote_participants(jid, &members).await,
    }
    .map_err(|e| engine_error(&e))?;
    Ok(answers
        .iter()
        .filter_map(|a| participant_outcome(&a.jid, a.error.as_deref()))
        .collect())
}

/// One member's answer; WhatsApp's error is a numeric code (403, 404, 409…).
pub(crate) fn participant_outcome(
    jid: &whatsapp_rust::Jid,
    error: Option<&str>,
) -> Option<ParticipantOutcome> {
    Some(ParticipantOutcome {
        jid: from_wa(jid)?,
        error: error.map(|code| code.trim().parse::<u16>().unwrap_or(500)),
    })
}

pub(super) async fn join(client: &Client, code: &str) -> Result<Jid, EngineError> {
    let joined = client
        .groups()
        .join_with_invite_code(code)
        .await
        .map_err(|e| engine_error(&e))?;
    from_wa(joined.group_jid())
        .ok_or_else(|| EngineError::Other("WhatsApp answered an unreadable group JID".into()))
}

pub(super) async fn leave(client: &Client, group: &Jid) -> Result<(), EngineError> {
    client
        .groups()
        .leave(to_wa(group)?)
        .await
        .map_err(|e| engine_error(&e))
}

/// The port's view of the crate's group metadata.
pub(crate) fn group_info(metadata: &GroupMetadata) -> Result<GroupInfo, EngineError> {
    let jid = from_wa(&metadata.id)
        .ok_or_else(|| EngineError::Other(format!("unreadable group JID {}", metadata.id)))?;
    Ok(GroupInfo {
        jid,
        subject: Some(metadata.subject.clone()).filter(|s| !s.is_empty()),
        description: metadata.description.clone().filter(|d| !d.is_empty()),
        owner: metadata.creator.as_ref().and_then(from_wa),
        announce: metadata.is_announcement,
        locked: metadata.is_locked,
        created_at: metadata
            .creation_time
            .and_then(|secs| i64::try_from(secs).ok())
            .map(|secs| secs.saturating_mul(1000)),
        participants: metadata
            .participants
            .iter()
            .filter_map(|p| {
                Some(GroupParticipant {
                    jid: from_wa(&p.jid)?,
                    phone: p.phone_number.as_ref().and_then(from_wa),
                    role: role(p.participant_type),
                })
            })
            .collect(),
    })
}

pub(crate) fn role(kind: ParticipantType) -> MemberRole {
    match kind {
        ParticipantType::SuperAdmin => MemberRole::Superadmin,
        ParticipantType::Admin => MemberRole::Admin,
        _ => MemberRole::Member,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use whatsapp_rust::features::GroupParticipant as WaParticipant;

    fn wa(text: &str) -> whatsapp_rust::Jid {
        text.parse().unwrap()
    }

    #[test]
    fn metadata_becomes_group_info_with_roles_and_ms_times() {
        let metadata = GroupMetadata {
            id: wa("120363021234567890@g.us"),
            subject: "Team".into(),
            description: Some("Our team".into()),
            creator: Some(wa("6281@s.whatsapp.net")),
            creation_time: Some(1_700_000_000),
            is_announcement: true,
            is_locked: false,
            participants: vec![
                WaParticipant {
                    jid: wa("111@lid"),
                    phone_number: Some(wa("6281@s.whatsapp.net")),
                    lid: None,
                    username: None,
                    participant_type: ParticipantType::SuperAdmin,
                    details: None,
                },
                WaParticipant {
                    jid: wa("6282@s.whatsapp.net"),
                    phone_number: None,
                    lid: None,
                    username: None,
                    participant_type: ParticipantType::Member,
                    details: None,
                },
            ],
            ..Default::default()
        };
        let info = group_info(&metadata).unwrap();
        assert_eq!(info.jid.as_str(), "120363021234567890@g.us");
        assert_eq!(info.subject.as_deref(), Some("Team"));
        assert_eq!(info.description.as_deref(), Some("Our team"));
        assert_eq!(info.owner.unwrap().as_str(), "6281@s.whatsapp.net");
        assert!(info.announce);
        assert!(!info.locked);
        assert_eq!(info.created_at, Some(1_700_000_000_000));
        assert_eq!(info.participants.len(), 2);
        assert_eq!(info.participants[0].jid.as_str(), "111@lid");
        assert_eq!(
            info.participants[0].phone.as_ref().unwrap().as_str(),
            "6281@s.whatsapp.net"
        );
        assert_eq!(info.participants[0].role, MemberRole::Superadmin);
        assert_eq!(info.participants[1].role, MemberRole::Member);
    }

    #[test]
    fn participant_errors_are_numeric_codes() {
        let jid = wa("6283@s.whatsapp.net");
        let outcome = participant_outcome(&jid, Some("403")).unwrap();
        assert_eq!(outcome.jid.as_str(), "6283@s.whatsapp.net");
        assert_eq!(outcome.error, Some(403));
        assert_eq!(participant_outcome(&jid, None).unwrap().error, None);
    }

    #[test]
    fn invite_links_give_their_code() {
        assert_eq!(invite_code("https://chat.whatsapp.com/AbC123"), "AbC123");
        assert_eq!(invite_code("AbC123"), "AbC123");
    }
}
