use super::*;
use whatsapp_rust::types::message::MessageSource;
use whatsapp_rust::wacore::chrono::{TimeZone, Utc};

fn wa(text: &str) -> WaJid {
    text.parse().unwrap()
}

fn source(chat: &str, sender: &str) -> MessageSource {
    MessageSource {
        chat: wa(chat),
        sender: wa(sender),
        ..Default::default()
    }
}

fn at() -> whatsapp_rust::wacore::chrono::DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000, 0).unwrap()
}

#[test]
fn read_delivered_and_played_receipts_are_reported() {
    for (kind, expected) in [
        (ReceiptType::Delivered, ReceiptKind::Delivered),
        (ReceiptType::Read, ReceiptKind::Read),
        (ReceiptType::ReadSelf, ReceiptKind::Read),
        (ReceiptType::Played, ReceiptKind::Played),
    ] {
        let event = WaReceipt::builder()
            .source(source("6281@s.whatsapp.net", "6281:2@s.whatsapp.net"))
            .message_ids(vec!["A".into(), "B".into()])
            .timestamp(at())
            .r#type(kind)
            .offline(false)
            .build();
        let mapped = receipt(&event).unwrap();
        assert_eq!(mapped.kind, expected);
        assert_eq!(mapped.chat.as_str(), "6281@s.whatsapp.net");
        assert_eq!(mapped.sender.as_str(), "6281:2@s.whatsapp.net");
        assert_eq!(mapped.ids, ["A", "B"]);
        assert_eq!(mapped.timestamp, 1_700_000_000_000);
    }
    let retry = WaReceipt::builder()
        .source(source("6281@s.whatsapp.net", "6281@s.whatsapp.net"))
        .message_ids(vec!["A".into()])
        .timestamp(at())
        .r#type(ReceiptType::Retry)
        .offline(false)
        .build();
    assert_eq!(receipt(&retry), None);
}

#[test]
fn presence_and_typing_map_their_states() {
    let online = WaPresenceUpdate::builder()
        .from(wa("6281@s.whatsapp.net"))
        .unavailable(false)
        .build();
    let mapped = presence(&online).unwrap();
    assert_eq!(mapped.state, PresenceState::Available);
    assert_eq!(mapped.from.as_str(), "6281@s.whatsapp.net");
    let away = WaPresenceUpdate::builder()
        .from(wa("6281@s.whatsapp.net"))
        .unavailable(true)
        .last_seen(at())
        .build();
    let mapped = presence(&away).unwrap();
    assert_eq!(mapped.state, PresenceState::Unavailable);
    assert_eq!(mapped.last_seen, Some(1_700_000_000_000));

    let recording = ChatPresenceUpdate::builder()
        .source(source("120363021234567890@g.us", "6282@s.whatsapp.net"))
        .state(WaChatPresence::Composing)
        .media(ChatPresenceMedia::Audio)
        .build();
    let mapped = chat_presence(&recording).unwrap();
    assert_eq!(mapped.state, PresenceState::Composing);
    assert!(mapped.recording);
    assert_eq!(mapped.from.as_str(), "6282@s.whatsapp.net");
    assert_eq!(mapped.chat.unwrap().as_str(), "120363021234567890@g.us");
    let paused = ChatPresenceUpdate::builder()
        .source(source("6282@s.whatsapp.net", "6282@s.whatsapp.net"))
        .state(WaChatPresence::Paused)
        .media(ChatPresenceMedia::Text)
        .build();
    let mapped = chat_presence(&paused).unwrap();
    assert_eq!(mapped.state, PresenceState::Paused);
    assert!(!mapped.recording);
}

fn participant(jid: &str) -> GroupParticipantInfo {
    GroupParticipantInfo {
        jid: wa(jid),
        phone_number: None,
        display_name: None,
        r#type: None,
        lid: None,
        username: None,
        join_time: None,
        group_history_sent_state: None,
    }
}

fn group_update(action: GroupNotificationAction) -> WaGroupUpdate {
    WaGroupUpdate::builder()
        .group_jid(wa("120363021234567890@g.us"))
        .participant(wa("6289@s.whatsapp.net"))
        .timestamp(at())
        .is_lid_addressing_mode(false)
        .action(action)
        .build()
}

fn own() -> Own {
    Own {
        users: vec!["6280".into(), "999".into()],
    }
}

#[test]
fn group_notifications_map_to_changes() {
    let added = group(
        &group_update(GroupNotificationAction::Add {
            participants: vec![participant("6281@s.whatsapp.net")],
            reason: None,
        }),
        &own(),
    )
    .unwrap();
    assert_eq!(added.group.as_str(), "120363021234567890@g.us");
    assert_eq!(added.actor.unwrap().as_str(), "6289@s.whatsapp.net");
    assert_eq!(added.timestamp, 1_700_000_000_000);
    assert!(
        matches!(&added.change, GroupChange::Added { members } if members[0].as_str() == "6281@s.whatsapp.net")
    );

    let cases = [
        (
            GroupNotificationAction::Subject {
                subject: "New name".into(),
                subject_owner: None,
                subject_time: None,
            },
            GroupChange::Subject {
                subject: "New name".into(),
            },
        ),
        (
            GroupNotificationAction::Description {
                id: "d1".into(),
                description: None,
            },
            GroupChange::Description { description: None },
        ),
        (
            GroupNotificationAction::Announce,
            GroupChange::Announce { on: true },
        ),
        (
            GroupNotificationAction::NotAnnounce,
            GroupChange::Announce { on: false },
        ),
        (
            GroupNotificationAction::Locked { threshold: None },
            GroupChange::Locked { on: true },
        ),
        (
            GroupNotificationAction::Unlocked,
            GroupChange::Locked { on: false },
        ),
    ];
    for (action, expected) in cases {
        assert_eq!(
            group(&group_update(action), &own()).unwrap().change,
            expected
        );
    }
    let promoted = group(
        &group_update(GroupNotificationAction::Promote {
            participants: vec![participant("111@lid")],
        }),
        &own(),
    )
    .unwrap();
    assert!(
        matches!(&promoted.change, GroupChange::Promoted { members } if members[0].as_str() == "111@lid")
    );
}

#[test]
fn being_added_is_joined_and_being_removed_is_left() {
    let joined = group(
        &group_update(GroupNotificationAction::Add {
            participants: vec![participant("6280@s.whatsapp.net")],
            reason: None,
        }),
        &own(),
    )
    .unwrap();
    assert!(
        matches!(&joined.change, GroupChange::Joined(info) if info.jid.as_str() == "120363021234567890@g.us")
    );
    let left = group(
        &group_update(GroupNotificationAction::Remove {
            participants: vec![participant("999@lid")],
            reason: None,
        }),
        &own(),
    )
    .unwrap();
    assert_eq!(left.change, GroupChange::Left);
    let removed = group(
        &group_update(GroupNotificationAction::Remove {
            participants: vec![participant("6281@s.whatsapp.net")],
            reason: None,
        }),
        &own(),
    )
    .unwrap();
    assert!(matches!(removed.change, GroupChange::Removed { .. }));
}

#[test]
fn contacts_give_names_and_lid_phone_pairs() {
    let saved = WaContactUpdate::builder()
        .jid(wa("6281@s.whatsapp.net"))
        .timestamp(at())
        .action(Box::new(
            whatsapp_rust::waproto::whatsapp::sync_action_value::ContactAction {
                full_name: Some("Budi Santoso".into()),
                lid_jid: Some("111@lid".into()),
                ..Default::default()
            },
        ))
        .from_full_sync(false)
        .build();
    let mapped = contact(&saved).unwrap();
    assert_eq!(mapped.phone.unwrap().as_str(), "6281@s.whatsapp.net");
    assert_eq!(mapped.lid.unwrap().as_str(), "111@lid");
    assert_eq!(mapped.name.as_deref(), Some("Budi Santoso"));

    let moved = ContactNumberChanged::builder()
        .old_jid(wa("6281@s.whatsapp.net"))
        .new_jid(wa("6287@s.whatsapp.net"))
        .new_lid(wa("777@lid"))
        .timestamp(at())
        .build();
    let mapped = number_changed(&moved).unwrap();
    assert_eq!(mapped.phone.unwrap().as_str(), "6287@s.whatsapp.net");
    assert_eq!(mapped.lid.unwrap().as_str(), "777@lid");

    let pair = sender_mapping(&wa("111:4@lid"), Some(&wa("6281@s.whatsapp.net"))).unwrap();
    assert_eq!(pair.lid.unwrap().as_str(), "111@lid");
    assert_eq!(pair.phone.unwrap().as_str(), "6281@s.whatsapp.net");
    assert_eq!(sender_mapping(&wa("6281@s.whatsapp.net"), None), None);
}

#[test]
fn push_names_use_the_alternate_address_of_their_message() {
    let message = whatsapp_rust::types::message::MessageInfo {
        source: MessageSource {
            sender_alt: Some(wa("6281@s.whatsapp.net")),
            ..source("111@lid", "111@lid")
        },
        ..Default::default()
    };
    let update = PushNameUpdate::builder()
        .jid(wa("111@lid"))
        .message(Box::new(message))
        .old_push_name("Old".into())
        .new_push_name("Budi".into())
        .build();
    let mapped = push_name(&update).unwrap();
    assert_eq!(mapped.lid.unwrap().as_str(), "111@lid");
    assert_eq!(mapped.phone.unwrap().as_str(), "6281@s.whatsapp.net");
    assert_eq!(mapped.name.as_deref(), Some("Budi"));
}
