//! Groups and channels through the engine port.

use wagate_domain::engine::{
    GroupChange, GroupSettings, MemberRole, OutgoingContent, OutgoingMessage, ParticipantAction,
};
use wagate_domain::{EngineError, EngineEvent};

use super::*;

both_engines!(
    group_lifecycle_follows_whatsapps_rules,
    invite_codes_join_revoke_and_leave,
    linked_devices_get_their_accounts_groups_and_contacts,
    channels_post_follow_and_mute,
);

async fn group_update(events: &mut BoxStream<'static, EngineEvent>) -> GroupChange {
    until(events, |e| match e {
        EngineEvent::Group(g) => Some(g.change),
        _ => None,
    })
    .await
}

async fn group_lifecycle_follows_whatsapps_rules(h: Harness) {
    let (_, mut link) = h.pair(ALICE).await;
    let info = link
        .client
        .create_group("Team", &[user(BOB)])
        .await
        .unwrap();
    assert_eq!(info.subject.as_deref(), Some("Team"));
    assert_eq!(info.owner, Some(user(ALICE)));
    let roles: Vec<_> = info
        .participants
        .iter()
        .map(|p| (p.jid.clone(), p.role))
        .collect();
    assert_eq!(
        roles,
        vec![
            (user(ALICE), MemberRole::Superadmin),
            (user(BOB), MemberRole::Member)
        ]
    );
    let GroupChange::Joined(joined) = group_update(&mut link.events).await else {
        panic!("expected Joined");
    };
    assert_eq!(joined.jid, info.jid);
    let gid = info.jid.clone();

    // Only admins change settings or members.
    let rename = Op::UpdateGroup {
        group: gid.clone(),
        settings: GroupSettings {
            subject: Some("Bob's".to_owned()),
            ..GroupSettings::default()
        },
    };
    assert!(matches!(
        h.as_phone(BOB, rename),
        Err(SimError::Forbidden(_))
    ));
    let add = Op::ChangeParticipants {
        group: gid.clone(),
        action: ParticipantAction::Add,
        members: vec![user(CAROL)],
    };
    assert!(matches!(h.as_phone(BOB, add), Err(SimError::Forbidden(_))));

    let settings = GroupSettings {
        subject: Some("Team 2".to_owned()),
        announce: Some(true),
        ..GroupSettings::default()
    };
    link.client.update_group(&gid, &settings).await.unwrap();
    assert_eq!(
        group_update(&mut link.events).await,
        GroupChange::Subject {
            subject: "Team 2".to_owned()
        }
    );
    assert_eq!(
        group_update(&mut link.events).await,
        GroupChange::Announce { on: true }
    );
    let view = h.network.group(gid.as_str()).unwrap();
    assert_eq!(view.subject, "Team 2");
    assert!(view.announce);

    // Announce mode: only admins send.
    let bob_says = Draft::new(gid.clone(), text_content("me too"));
    let err = h.network.send_as_phone(BOB, bob_says.clone()).unwrap_err();
    assert!(matches!(err, SimError::Forbidden(_)), "{err:?}");

    let outcomes = link
        .client
        .change_participants(
            &gid,
            ParticipantAction::Add,
            &[user(CAROL), user(BOB), user("6289999999999")],
        )
        .await
        .unwrap();
    let errors: Vec<_> = outcomes.iter().map(|o| o.error).collect();
    assert_eq!(errors, vec![None, Some(409), Some(404)]);
    assert_eq!(
        group_update(&mut link.events).await,
        GroupChange::Added {
            members: vec![user(CAROL)]
        }
    );
    link.client
        .change_participants(&gid, ParticipantAction::Promote, &[user(BOB)])
        .await
        .unwrap();
    assert!(h.network.group(gid.as_str()).unwrap().participants[1].admin);

    // Bob, now admin, writes to the group: every member gets it with the group as chat.
    let id = h.network.send_as_phone(BOB, bob_says).unwrap().id;
    let m = next_message(&mut link.events).await;
    assert_eq!(
        (m.id.as_str(), &m.chat, &m.sender),
        (id.as_str(), &gid, &user(BOB))
    );
    assert_eq!(h.network.inbox(CAROL).unwrap()[0].chat, gid.as_str());

    // Alice's message to the group: a delivery receipt per member.
    let message = OutgoingMessage::new(
        gid.clone(),
        OutgoingContent::Text {
            text: "all".to_owned(),
            link_preview: None,
        },
    );
    let sent = link.client.send(message).await.unwrap();
    let mut from = Vec::new();
    for _ in 0..2 {
        let r = next_receipt(&mut link.events).await;
        assert_eq!(r.ids, vec![sent.id.clone()]);
        from.push(r.sender);
    }
    from.sort();
    assert_eq!(from, vec![user(BOB), user(CAROL)]);

    let unknown = jid("120363000000000000@g.us");
    let err = link.client.group_info(&unknown).await.unwrap_err();
    assert!(matches!(err, EngineError::NotFound(_)), "{err:?}");
    let groups = link.client.joined_groups().await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].subject.as_deref(), Some("Team 2"));
}

async fn invite_codes_join_revoke_and_leave(h: Harness) {
    let (_, mut link) = h.pair(ALICE).await;
    let gid = link.client.create_group("Club", &[]).await.unwrap().jid;
    let code = link.client.group_invite(&gid, false).await.unwrap();
    assert_eq!(code.len(), 22);
    assert_eq!(link.client.group_invite(&gid, false).await.unwrap(), code);

    let join = |code: &str| Op::JoinGroup {
        code: code.to_owned(),
    };
    let joined = h.as_phone(BOB, join(&format!("https://chat.whatsapp.com/{code}")));
    assert_eq!(joined, Ok(OpResult::Jid(gid.clone())));
    assert_eq!(
        until(&mut link.events, |e| match e {
            EngineEvent::Group(g) if matches!(g.change, GroupChange::Added { .. }) =>
                Some(g.change),
            _ => None,
        })
        .await,
        GroupChange::Added {
            members: vec![user(BOB)]
        }
    );
    // A member joining again gets the same group back.
    assert_eq!(link.client.join_group(&code).await.unwrap(), gid);

    let err = h.as_phone(
        BOB,
        Op::GroupInvite {
            group: gid.clone(),
            reset: true,
        },
    );
    assert!(matches!(err, Err(SimError::Forbidden(_))), "{err:?}");
    let fresh = link.client.group_invite(&gid, true).await.unwrap();
    assert_ne!(fresh, code);
    assert!(matches!(
        h.as_phone(CAROL, join(&code)),
        Err(SimError::NotFound(_))
    ));
    assert!(matches!(
        h.as_phone(CAROL, join("NoSuchCode")),
        Err(SimError::NotFound(_))
    ));
    assert_eq!(
        h.as_phone(CAROL, join(&fresh)),
        Ok(OpResult::Jid(gid.clone()))
    );

    // The creator leaves: the longest member becomes admin.
    link.client.leave_group(&gid).await.unwrap();
    let left = until(&mut link.events, |e| match e {
        EngineEvent::Group(g) if g.change == GroupChange::Left => Some(g.group),
        _ => None,
    })
    .await;
    assert_eq!(left, gid);
    let view = h.network.group(gid.as_str()).unwrap();
    let members: Vec<_> = view
        .participants
        .iter()
        .map(|p| (p.jid.as_str(), p.admin))
        .collect();
    let bob = format!("{BOB}@s.whatsapp.net");
    let carol = format!("{CAROL}@s.whatsapp.net");
    assert_eq!(members, vec![(bob.as_str(), true), (carol.as_str(), false)]);
    let err = link.client.leave_group(&gid).await.unwrap_err();
    assert!(matches!(err, EngineError::NotFound(_)), "{err:?}");
    let err = link.client.group_info(&gid).await.unwrap_err();
    assert!(matches!(err, EngineError::Forbidden(_)), "{err:?}");
}

async fn linked_devices_get_their_accounts_groups_and_contacts(h: Harness) {
    let create = Op::CreateGroup {
        subject: "Family".to_owned(),
        participants: vec![user(ALICE)],
    };
    let Ok(OpResult::Group(info)) = h.as_phone(BOB, create) else {
        panic!("group created");
    };
    h.phone_says(BOB, &format!("{ALICE}@s.whatsapp.net"), "before you linked");
    let (_, mut link) = h.pair(ALICE).await;
    let chunk = until(&mut link.events, |e| match e {
        EngineEvent::HistorySync(c) => Some(*c),
        _ => None,
    })
    .await;
    assert_eq!(chunk.messages.len(), 1);
    assert_eq!(chunk.messages[0].content, text_content("before you linked"));
    assert_eq!(chunk.contacts.len(), 1);
    assert_eq!(chunk.contacts[0].phone, Some(user(BOB)));
    let GroupChange::Joined(joined) = group_update(&mut link.events).await else {
        panic!("expected Joined");
    };
    assert_eq!(joined.jid, info.jid);

    // Bob renames himself: Alice's device learns the new name.
    h.network
        .update_phone(BOB, Some("Robert".to_owned()), None, None)
        .unwrap();
    let contact = until(&mut link.events, |e| match e {
        EngineEvent::Contact(c) => Some(c),
        _ => None,
    })
    .await;
    assert_eq!(contact.name.as_deref(), Some("Robert"));
}

async fn channels_post_follow_and_mute(h: Harness) {
    let (_, link) = h.pair(ALICE).await;
    let channel = link
        .client
        .create_channel("News", Some("daily"))
        .await
        .unwrap();
    assert_eq!(channel.name, "News");
    assert_eq!(channel.description.as_deref(), Some("daily"));
    assert_eq!(channel.subscribers, Some(0));
    let cj = channel.jid.clone();
    let follow = Op::FollowChannel {
        channel: cj.clone(),
        follow: true,
    };
    assert_eq!(h.as_phone(BOB, follow), Ok(OpResult::Done));
    for text in ["one", "two", "three"] {
        let message = OutgoingMessage::new(
            cj.clone(),
            OutgoingContent::Text {
                text: text.to_owned(),
                link_preview: None,
            },
        );
        link.client.send(message).await.unwrap();
    }
    let inbox = h.network.inbox(BOB).unwrap();
    assert_eq!(inbox.len(), 3);
    assert_eq!(inbox[0].chat, cj.as_str());

    let newest = link.client.channel_messages(&cj, 2, None).await.unwrap();
    let texts: Vec<_> = newest.iter().map(|m| m.text.clone().unwrap()).collect();
    assert_eq!(texts, vec!["three", "two"]);
    assert_eq!(newest[0].server_id, 3);
    let older = link
        .client
        .channel_messages(&cj, 10, Some(2))
        .await
        .unwrap();
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].text.as_deref(), Some("one"));

    let err = link.client.mute_channel(&cj, true).await.unwrap_err();
    assert!(
        matches!(err, EngineError::Rejected(_)),
        "not followed: {err:?}"
    );
    link.client.follow_channel(&cj, true).await.unwrap();
    link.client.mute_channel(&cj, true).await.unwrap();
    let view = h.network.channel(cj.as_str()).unwrap();
    assert_eq!(view.followers.len(), 2);
    assert_eq!(view.muted, vec![format!("{ALICE}@s.whatsapp.net")]);

    let bob_posts = Draft::new(cj.clone(), text_content("hijack"));
    assert!(matches!(
        h.network.send_as_phone(BOB, bob_posts),
        Err(SimError::Forbidden(_))
    ));
    let unknown = jid("120363000000000000@newsletter");
    let err = link
        .client
        .follow_channel(&unknown, true)
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::NotFound(_)), "{err:?}");
}
