//! Contacts and presence through the engine port.

use wagate_domain::engine::{ChatPresence, OwnPresence, PresenceState, PresenceUpdate};
use wagate_domain::{EngineError, EngineEvent};

use super::*;

both_engines!(
    contacts_are_checked_pictured_and_described,
    presence_is_subscribed_and_typing_is_seen,
);

async fn contacts_are_checked_pictured_and_described(h: Harness) {
    let (_, link) = h.pair(ALICE).await;
    let checked = link
        .client
        .check_phones(&[
            format!("+{BOB}"),
            "6289999999999".to_owned(),
            "x".to_owned(),
        ])
        .await
        .unwrap();
    let answers: Vec<_> = checked
        .iter()
        .map(|c| (c.query.as_str(), c.jid.clone(), c.is_on_whatsapp))
        .collect();
    let plus_bob = format!("+{BOB}");
    assert_eq!(
        answers,
        vec![
            (plus_bob.as_str(), Some(user(BOB)), true),
            ("6289999999999", None, false),
            ("x", None, false)
        ]
    );

    let picture = link.client.profile_picture(&user(BOB)).await.unwrap();
    let id = picture.id.clone().expect("a picture id");
    assert_eq!(picture.url, Some(crate::codes::picture_url(BOB, &id)));
    h.network
        .update_phone(BOB, None, Some(None), Some(false))
        .unwrap();
    let none = link.client.profile_picture(&user(BOB)).await.unwrap();
    assert_eq!((none.id, none.url), (None, None));
    assert_eq!(link.client.about(&user(BOB)).await.unwrap(), None);
    assert_eq!(
        link.client.about(&user(CAROL)).await.unwrap().as_deref(),
        Some("Hey there! I am using WhatsApp.")
    );
    // The LID names the same account.
    let lid = jid(&h.network.phone(CAROL).unwrap().lid);
    assert!(link.client.about(&lid).await.unwrap().is_some());

    let err = link.client.about(&user("6289999999999")).await.unwrap_err();
    assert!(matches!(err, EngineError::Rejected(_)), "{err:?}");
}

async fn presence(events: &mut BoxStream<'static, EngineEvent>) -> PresenceUpdate {
    until(events, |e| match e {
        EngineEvent::Presence(p) => Some(p),
        _ => None,
    })
    .await
}

async fn presence_is_subscribed_and_typing_is_seen(h: Harness) {
    let (_, mut link) = h.pair(ALICE).await;
    link.client.subscribe_presence(&user(BOB)).await.unwrap();
    let now = presence(&mut link.events).await;
    assert_eq!(
        (now.from.clone(), now.state),
        (user(BOB), PresenceState::Available)
    );

    h.as_phone(
        BOB,
        Op::SetPresence {
            presence: OwnPresence::Unavailable,
        },
    )
    .unwrap();
    let away = presence(&mut link.events).await;
    assert_eq!(away.state, PresenceState::Unavailable);
    assert!(away.last_seen.is_some());

    h.as_phone(
        BOB,
        Op::SetChatPresence {
            chat: user(ALICE),
            state: ChatPresence::Recording,
        },
    )
    .unwrap();
    let typing = presence(&mut link.events).await;
    assert_eq!(typing.state, PresenceState::Composing);
    assert!(typing.recording);
    assert_eq!(typing.chat, Some(user(BOB)));

    link.client
        .set_chat_presence(&user(BOB), ChatPresence::Composing)
        .await
        .unwrap();
    let seen = &h.network.phone_view(BOB).unwrap().presences[&format!("{ALICE}@s.whatsapp.net")];
    assert_eq!(seen.state, PresenceState::Composing);
    assert_eq!(
        seen.chat.as_deref(),
        Some(format!("{ALICE}@s.whatsapp.net").as_str())
    );
    link.client
        .set_presence(OwnPresence::Unavailable)
        .await
        .unwrap();
    assert!(!h.network.phone_view(ALICE).unwrap().available);

    let group = jid("120363000000000000@g.us");
    let err = link
        .client
        .set_chat_presence(&group, ChatPresence::Paused)
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::NotFound(_)), "{err:?}");
}
