//! Messages, receipts, edits, revokes, reactions, votes, media, blocking, status and
//! redelivery.

use wagate_domain::engine::{
    InboundContent, MediaKind, MessageKey, OutgoingContent, OutgoingMedia, OutgoingMessage,
    PollSpec, ReceiptKind, StatusPost,
};
use wagate_domain::jid::STATUS_BROADCAST;
use wagate_domain::{EngineError, EngineEvent};

use super::*;

both_engines!(
    text_reaches_the_phone_with_delivery_then_read_receipts,
    phone_message_reaches_the_session_with_sender_details,
    edits_revokes_reactions_and_votes_reach_the_other_side,
    media_is_stored_and_downloadable,
    blocked_phone_messages_are_not_delivered,
    status_posts_reach_contacts,
    redelivery_repeats_a_message_with_its_id,
    operations_after_disconnect_are_unavailable,
);

fn text(to: &str, text: &str) -> OutgoingMessage {
    OutgoingMessage::new(
        user(to),
        OutgoingContent::Text {
            text: text.to_owned(),
            link_preview: None,
        },
    )
}

async fn text_reaches_the_phone_with_delivery_then_read_receipts(h: Harness) {
    let (_, mut link) = h.pair(ALICE).await;
    let sent = link.client.send(text(BOB, "hello bob")).await.unwrap();
    assert_eq!(sent.id.len(), 22);

    let inbox = h.network.inbox(BOB).unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].id, sent.id);
    assert_eq!(inbox[0].from, format!("{ALICE}@s.whatsapp.net"));
    assert_eq!(inbox[0].chat, format!("{ALICE}@s.whatsapp.net"));
    assert_eq!(inbox[0].text.as_deref(), Some("hello bob"));
    assert_eq!(inbox[0].kind, "text");
    assert_eq!(inbox[0].timestamp, sent.timestamp);
    assert!(!inbox[0].read);

    let delivered = next_receipt(&mut link.events).await;
    assert_eq!(delivered.kind, ReceiptKind::Delivered);
    assert_eq!(delivered.ids, vec![sent.id.clone()]);
    assert_eq!(delivered.sender, user(BOB));
    assert_eq!(delivered.chat, user(BOB));

    h.network
        .read_as_phone(BOB, &user(ALICE), std::slice::from_ref(&sent.id))
        .unwrap();
    let read = next_receipt(&mut link.events).await;
    assert_eq!(read.kind, ReceiptKind::Read);
    assert_eq!(read.ids, vec![sent.id.clone()]);
    assert_eq!(read.sender, user(BOB));
    assert!(h.network.inbox(BOB).unwrap()[0].read);
    assert_eq!(
        h.network.message(&sent.id).unwrap().read_by,
        vec![format!("{BOB}@s.whatsapp.net")]
    );

    let err = h
        .network
        .read_as_phone(BOB, &user(ALICE), &["3EB0NOPE".to_owned()])
        .unwrap_err();
    assert!(matches!(err, SimError::NotFound(_)), "{err:?}");
    let err = link
        .client
        .send(text("6289999999999", "x"))
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Rejected(_)), "{err:?}");
}

async fn phone_message_reaches_the_session_with_sender_details(h: Harness) {
    let (_, mut link) = h.pair(ALICE).await;
    let id = h.phone_says(BOB, &format!("{ALICE}@s.whatsapp.net"), "hi alice");
    let contact = until(&mut link.events, |e| match e {
        EngineEvent::Contact(c) => Some(c),
        _ => None,
    })
    .await;
    let bob = h.network.phone(BOB).unwrap();
    assert_eq!(contact.phone, Some(user(BOB)));
    assert_eq!(
        contact.lid.as_ref().map(|l| l.as_str()),
        Some(bob.lid.as_str())
    );
    assert_eq!(contact.name.as_deref(), Some("Bob"));

    let m = next_message(&mut link.events).await;
    assert_eq!(m.id, id);
    assert_eq!(m.chat, user(BOB));
    assert_eq!(m.sender, user(BOB));
    assert_eq!(
        m.sender_alt.as_ref().map(|l| l.as_str()),
        Some(bob.lid.as_str())
    );
    assert_eq!(m.push_name.as_deref(), Some("Bob"));
    assert!(!m.from_me);
    assert_eq!(m.content, text_content("hi alice"));
    assert_ne!(bob.lid, format!("{BOB}@s.whatsapp.net"));

    // Reading on the device sends Bob a read receipt.
    link.client
        .mark_read(&user(BOB), None, std::slice::from_ref(&id))
        .await
        .unwrap();
    assert_eq!(
        h.network.message(&id).unwrap().read_by,
        vec![format!("{ALICE}@s.whatsapp.net")]
    );

    // What Alice's phone sends shows on her device as her own.
    let mine = h.phone_says(ALICE, &format!("{BOB}@s.whatsapp.net"), "from my phone");
    let echo = next_message(&mut link.events).await;
    assert_eq!(echo.id, mine);
    assert!(echo.from_me);
    assert_eq!(echo.chat, user(BOB));
}

async fn edits_revokes_reactions_and_votes_reach_the_other_side(h: Harness) {
    let (_, mut link) = h.pair(ALICE).await;
    let sent = link.client.send(text(BOB, "typo")).await.unwrap();
    let mine = MessageKey {
        chat: user(BOB),
        id: sent.id.clone(),
        sender: None,
    };
    link.client.edit(&mine, "fixed").await.unwrap();
    let entry = &h.network.inbox(BOB).unwrap()[0];
    assert_eq!(entry.text.as_deref(), Some("fixed"));
    assert!(entry.edited);

    // Bob reacts from his phone: the device gets the reaction as inbound content.
    let react = Op::React {
        target: MessageKey {
            chat: user(ALICE),
            id: sent.id.clone(),
            sender: Some(user(ALICE)),
        },
        emoji: "👍".to_owned(),
    };
    h.as_phone(BOB, react).unwrap();
    let reaction = until(&mut link.events, |e| match e {
        EngineEvent::Message(m) if !m.from_me => Some(*m),
        _ => None,
    })
    .await;
    assert_eq!(
        reaction.content,
        InboundContent::Reaction {
            target_id: sent.id.clone(),
            emoji: "👍".to_owned()
        }
    );
    assert_eq!(
        h.network.message(&sent.id).unwrap().reactions[&format!("{BOB}@s.whatsapp.net")],
        "👍"
    );

    link.client.revoke(&mine).await.unwrap();
    let entry = &h.network.inbox(BOB).unwrap()[0];
    assert!(entry.deleted);
    assert_eq!(entry.text, None);

    // Bob's poll; Alice votes from her device.
    let poll = PollSpec {
        name: "Lunch?".to_owned(),
        options: vec!["pizza".to_owned(), "sushi".to_owned()],
        selectable_count: 1,
        end_time: None,
        hide_votes: false,
    };
    let draft = Draft::new(user(ALICE), InboundContent::Poll(poll.clone()));
    let poll_id = h.network.send_as_phone(BOB, draft).unwrap().id;
    let theirs = MessageKey {
        chat: user(BOB),
        id: poll_id.clone(),
        sender: Some(user(BOB)),
    };
    link.client
        .vote(&theirs, &poll, &["sushi".to_owned()])
        .await
        .unwrap();
    let view = h.network.message(&poll_id).unwrap();
    assert_eq!(
        view.votes[&format!("{ALICE}@s.whatsapp.net")],
        vec!["sushi".to_owned()]
    );

    let err = link
        .client
        .vote(&theirs, &poll, &["pasta".to_owned()])
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Rejected(_)), "{err:?}");
    let err = link
        .client
        .vote(&theirs, &poll, &["pizza".to_owned(), "sushi".to_owned()])
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Rejected(_)), "{err:?}");
    let err = link.client.edit(&theirs, "mine now").await.unwrap_err();
    assert!(matches!(err, EngineError::Forbidden(_)), "{err:?}");
    let unknown = MessageKey {
        chat: user(BOB),
        id: "3EB0UNKNOWN".to_owned(),
        sender: None,
    };
    let err = link.client.react(&unknown, "❤").await.unwrap_err();
    assert!(matches!(err, EngineError::NotFound(_)), "{err:?}");
}

async fn media_is_stored_and_downloadable(h: Harness) {
    let (_, mut link) = h.pair(ALICE).await;
    let media = OutgoingMedia {
        kind: MediaKind::Image,
        data: vec![0xFF, 0xD8, 0xFF, 1, 2, 3],
        mimetype: "image/jpeg".to_owned(),
        caption: Some("look".to_owned()),
        filename: None,
    };
    let message = OutgoingMessage::new(user(BOB), OutgoingContent::Media(media));
    let sent = link.client.send(message).await.unwrap();
    let entry = &h.network.inbox(BOB).unwrap()[0];
    assert_eq!(entry.id, sent.id);
    assert_eq!(entry.kind, "image");
    assert_eq!(entry.text.as_deref(), Some("look"));
    let stored = entry.media.clone().expect("media");
    assert_eq!(stored.size, Some(6));
    assert_eq!(stored.mimetype.as_deref(), Some("image/jpeg"));

    // Bob sends a document back; the device downloads it by its locator.
    let content = h.network.store_media(OutgoingMedia {
        kind: MediaKind::Document,
        data: b"%PDF-1.7".to_vec(),
        mimetype: "application/pdf".to_owned(),
        caption: None,
        filename: Some("a.pdf".to_owned()),
    });
    h.network
        .send_as_phone(BOB, Draft::new(user(ALICE), content))
        .unwrap();
    let inbound = next_message(&mut link.events).await;
    let InboundContent::Media { media, .. } = inbound.content else {
        panic!("expected media, got {:?}", inbound.content);
    };
    assert_eq!(media.kind, MediaKind::Document);
    assert_eq!(media.filename.as_deref(), Some("a.pdf"));
    assert_eq!(link.client.download(&media).await.unwrap(), b"%PDF-1.7");

    let mut unknown = media.clone();
    unknown.locator = "simmedia_nothing".to_owned();
    let err = link.client.download(&unknown).await.unwrap_err();
    assert!(matches!(err, EngineError::NotFound(_)), "{err:?}");
}

async fn blocked_phone_messages_are_not_delivered(h: Harness) {
    let (_, mut link) = h.pair(ALICE).await;
    link.client.set_blocked(&user(BOB), true).await.unwrap();
    let blocked = h.phone_says(BOB, &format!("{ALICE}@s.whatsapp.net"), "let me in");
    assert!(h.network.inbox(ALICE).unwrap().is_empty());
    assert!(h.network.message(&blocked).unwrap().delivered_to.is_empty());
    assert_eq!(
        h.network.phone_view(ALICE).unwrap().blocked,
        vec![format!("{BOB}@s.whatsapp.net")]
    );

    link.client.set_blocked(&user(BOB), false).await.unwrap();
    let allowed = h.phone_says(BOB, &format!("{ALICE}@s.whatsapp.net"), "thanks");
    let first = next_message(&mut link.events).await;
    assert_eq!(first.id, allowed, "the blocked message never arrived");
}

async fn status_posts_reach_contacts(h: Harness) {
    let (_, mut link) = h.pair(ALICE).await;
    link.client.send(text(BOB, "hi")).await.unwrap();
    let post = StatusPost::Text {
        text: "on holiday".to_owned(),
        background: None,
        font: None,
    };
    let sent = link.client.post_status(post).await.unwrap();
    let inbox = h.network.inbox(BOB).unwrap();
    let status = inbox.iter().find(|m| m.id == sent.id).expect("status");
    assert_eq!(status.chat, STATUS_BROADCAST);
    assert_eq!(status.text.as_deref(), Some("on holiday"));
    assert!(h.network.inbox(CAROL).unwrap().is_empty(), "not a contact");

    let bobs = Draft::new(jid(STATUS_BROADCAST), text_content("bob's story"));
    let id = h.network.send_as_phone(BOB, bobs).unwrap().id;
    let seen = until(&mut link.events, |e| match e {
        EngineEvent::Message(m) if m.id == id => Some(*m),
        _ => None,
    })
    .await;
    assert_eq!(seen.chat.as_str(), STATUS_BROADCAST);
}

async fn redelivery_repeats_a_message_with_its_id(h: Harness) {
    let (session, mut link) = h.pair(ALICE).await;
    let mut draft = Draft::new(user(ALICE), text_content("once"));
    draft.id = Some("FORCEDID1".to_owned());
    h.network.send_as_phone(BOB, draft.clone()).unwrap();
    assert_eq!(next_message(&mut link.events).await.id, "FORCEDID1");
    h.network.redeliver(session.as_str(), "FORCEDID1").unwrap();
    let again = next_message(&mut link.events).await;
    assert_eq!(again.id, "FORCEDID1");
    assert_eq!(again.content, text_content("once"));
    h.network.send_as_phone(BOB, draft).unwrap();
    assert_eq!(next_message(&mut link.events).await.id, "FORCEDID1");
    assert_eq!(h.network.inbox(ALICE).unwrap().len(), 1, "one inbox entry");

    let err = h.network.redeliver(session.as_str(), "NOPE").unwrap_err();
    assert!(matches!(err, SimError::NotFound(_)));
}

async fn operations_after_disconnect_are_unavailable(h: Harness) {
    let (_, link) = h.pair(ALICE).await;
    link.client.disconnect().await;
    let err = link.client.send(text(BOB, "late")).await.unwrap_err();
    assert!(matches!(err, EngineError::Unavailable(_)), "{err:?}");
}
