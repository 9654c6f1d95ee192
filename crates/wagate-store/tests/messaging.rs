//! The messaging port on the backend chosen by `WAGATE_TEST_BACKEND`: chats, messages,
//! identities with the DM alias merge, receipts, contacts, polls and the outbox.

use wagate_domain::{
    ChatKind, ChatPatch, ChatTouch, IdentityUpdate, MessageId, MessageStatus, MessageStore,
    NewMessage, OrgId, OutboxEntry, OutboxId, OutboxInsert, OutboxOutcome, OutboxStatus, PollSpec,
    SessionId,
};
use wagate_store::Stores;
use wagate_test_support::db::TestDatabase;
use wagate_test_support::seed;

struct Fixture {
    _db: TestDatabase,
    stores: Stores,
    org: OrgId,
    session: SessionId,
}

impl Fixture {
    async fn new() -> Self {
        let db = TestDatabase::from_env().await;
        let stores = wagate_store::open_stores(db.url()).await.expect("open");
        let org = seed::organization(&stores).await;
        let session = seed::session(&stores, &org).await;
        Self {
            _db: db,
            stores,
            org,
            session: session.id,
        }
    }

    fn m(&self) -> &dyn MessageStore {
        &*self.stores.messages
    }

    fn touch(&self, jid: &str, at: i64, unread: bool) -> ChatTouch {
        ChatTouch {
            session_id: self.session.clone(),
            jid: jid.into(),
            kind: if jid.ends_with("@g.us") {
                ChatKind::Group
            } else {
                ChatKind::Dm
            },
            name: Some("Peer".into()),
            last_message_at: at,
            unread,
        }
    }

    fn message(&self, wa_id: &str, chat: &str, at: i64) -> NewMessage {
        NewMessage {
            id: MessageId::generate(),
            session_id: self.session.clone(),
            wa_message_id: wa_id.into(),
            chat_jid: chat.into(),
            sender_lid: Some("111@lid".into()),
            sender_jid: Some("628111@s.whatsapp.net".into()),
            from_me: false,
            message_type: "text".into(),
            body: Some(format!("body {wa_id}")),
            quoted_message_id: None,
            mentions: Some(vec!["222@lid".into()]),
            media: None,
            media_ref: None,
            status: None,
            timestamp: at,
            created_at: at,
        }
    }

    async fn record(&self, wa_id: &str, chat: &str, at: i64) -> bool {
        self.m()
            .record_message(&self.touch(chat, at, true), &self.message(wa_id, chat, at))
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_message_is_stored_once_and_counts_unread_once() {
    let f = Fixture::new().await;
    assert!(f.record("W1", "628111@s.whatsapp.net", 10).await);
    assert!(
        !f.record("W1", "628111@s.whatsapp.net", 10).await,
        "same id twice"
    );
    assert!(f.record("W2", "628111@s.whatsapp.net", 20).await);
    let chat = f
        .m()
        .get_chat(&f.session, "628111@s.whatsapp.net")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(chat.unread_count, 2);
    assert_eq!(chat.last_message_at, Some(20));
    let page = f
        .m()
        .list_chat_messages(&f.session, std::slice::from_ref(&chat.jid), None, 10)
        .await
        .unwrap();
    assert_eq!(
        page.iter()
            .map(|m| m.wa_message_id.as_str())
            .collect::<Vec<_>>(),
        ["W2", "W1"]
    );
    // An older message never moves last_message_at back.
    assert!(f.record("W0", "628111@s.whatsapp.net", 5).await);
    let chat = f
        .m()
        .get_chat(&f.session, "628111@s.whatsapp.net")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(chat.last_message_at, Some(20));
}

#[tokio::test]
async fn timeline_pages_newest_first_without_gaps() {
    let f = Fixture::new().await;
    for i in 0..7 {
        f.record(&format!("W{i}"), "9@g.us", i).await;
    }
    let jids = ["9@g.us".to_owned()];
    let first = f
        .m()
        .list_chat_messages(&f.session, &jids, None, 3)
        .await
        .unwrap();
    let second = f
        .m()
        .list_chat_messages(&f.session, &jids, Some(&first[2].id), 3)
        .await
        .unwrap();
    let third = f
        .m()
        .list_chat_messages(&f.session, &jids, Some(&second[2].id), 3)
        .await
        .unwrap();
    let ids: Vec<_> = first
        .iter()
        .chain(&second)
        .chain(&third)
        .map(|m| m.wa_message_id.clone())
        .collect();
    assert_eq!(ids, ["W6", "W5", "W4", "W3", "W2", "W1", "W0"]);
}

#[tokio::test]
async fn receipts_only_move_forward_and_never_leave_failed() {
    let f = Fixture::new().await;
    let mut own = f.message("OUT", "628111@s.whatsapp.net", 1);
    own.from_me = true;
    own.status = Some(MessageStatus::Sent);
    f.m()
        .record_message(&f.touch("628111@s.whatsapp.net", 1, false), &own)
        .await
        .unwrap();
    let ids = vec!["OUT".to_owned(), "UNKNOWN".to_owned()];
    assert_eq!(
        f.m()
            .advance_status(&f.session, &ids, MessageStatus::Read)
            .await
            .unwrap(),
        ["OUT"]
    );
    assert!(
        f.m()
            .advance_status(&f.session, &ids, MessageStatus::Delivered)
            .await
            .unwrap()
            .is_empty()
    );
    let stored = f.m().get_message(&f.session, "OUT").await.unwrap().unwrap();
    assert_eq!(stored.status, Some(MessageStatus::Read));
    // Inbound rows (status NULL = pending) move on read-self receipts.
    f.record("IN", "628111@s.whatsapp.net", 2).await;
    let ids = vec!["IN".to_owned()];
    assert_eq!(
        f.m()
            .advance_status(&f.session, &ids, MessageStatus::Read)
            .await
            .unwrap(),
        ["IN"]
    );
}

/// Receipts for more ids than one statement takes: every stored id moves once, answered in
/// the order asked, whichever chunk it fell in.
#[tokio::test]
async fn a_receipt_batch_larger_than_one_statement_moves_each_message_once() {
    let f = Fixture::new().await;
    let chat = "628111@s.whatsapp.net";
    let rows: Vec<_> = (0..700)
        .map(|i| {
            let mut m = f.message(&format!("S{i}"), chat, i);
            m.from_me = true;
            m.status = Some(MessageStatus::Sent);
            (f.touch(chat, i, false), m)
        })
        .collect();
    f.m().record_messages(&rows).await.unwrap();
    // Newest first, every stored id twice (the second time in another chunk), unknown ids
    // between them.
    let mut ids: Vec<String> = (0..700).rev().map(|i| format!("S{i}")).collect();
    ids.extend((0..300).map(|i| format!("UNKNOWN{i}")));
    ids.extend((0..700).map(|i| format!("S{i}")));
    let moved = f
        .m()
        .advance_status(&f.session, &ids, MessageStatus::Delivered)
        .await
        .unwrap();
    let expected: Vec<String> = (0..700).rev().map(|i| format!("S{i}")).collect();
    assert_eq!(moved, expected);
    let last = f.m().get_message(&f.session, "S0").await.unwrap().unwrap();
    assert_eq!(last.status, Some(MessageStatus::Delivered));
    assert!(
        f.m()
            .advance_status(&f.session, &ids, MessageStatus::Delivered)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn edits_and_revokes_mark_the_row_and_keep_it() {
    let f = Fixture::new().await;
    f.record("W1", "9@g.us", 1).await;
    assert!(
        f.m()
            .mark_edited(&f.session, "W1", "new text")
            .await
            .unwrap()
    );
    assert!(f.m().mark_deleted(&f.session, "W1").await.unwrap());
    assert!(!f.m().mark_deleted(&f.session, "NOPE").await.unwrap());
    let m = f.m().get_message(&f.session, "W1").await.unwrap().unwrap();
    assert!(m.edited && m.deleted);
    assert_eq!(m.body.as_deref(), Some("new text"));
    // A re-recorded copy leaves the flags alone.
    f.record("W1", "9@g.us", 1).await;
    let m = f.m().get_message(&f.session, "W1").await.unwrap().unwrap();
    assert!(m.edited && m.deleted);
}

#[tokio::test]
async fn identities_name_chats_and_learning_a_phone_merges_the_dm() {
    let f = Fixture::new().await;
    let phone = "628111@s.whatsapp.net";
    f.record("P1", phone, 10).await;
    f.m()
        .upsert_identity(
            &IdentityUpdate {
                lid: "111@lid".into(),
                ..Default::default()
            },
            1,
        )
        .await
        .unwrap();
    f.record("L1", "111@lid", 20).await;
    let ann = IdentityUpdate {
        lid: "111@lid".into(),
        phone_jid: Some(phone.into()),
        name: Some("Ann".into()),
        business_name: None,
    };
    f.m().upsert_identity(&ann, 30).await.unwrap();
    // One chat under the LID, both messages in it, name and aliases resolved.
    let by_phone = f.m().get_chat(&f.session, phone).await.unwrap().unwrap();
    assert_eq!(by_phone.jid, "111@lid");
    assert_eq!(by_phone.name.as_deref(), Some("Ann"));
    assert_eq!(by_phone.aliases, ["111@lid", phone]);
    assert_eq!(by_phone.unread_count, 1, "max of the two unread counts");
    let inbox = f.m().list_chats(&f.session, None, 10).await.unwrap();
    assert_eq!(inbox.len(), 1);
    let msgs = f
        .m()
        .list_chat_messages(&f.session, &["111@lid".into()], None, 10)
        .await
        .unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].sender_name.as_deref(), Some("Ann"));
    assert_eq!(f.m().canonical_dm_jid(phone).await.unwrap(), "111@lid");
    // A name is never replaced by null, and fill_identity_name only fills empty ones.
    f.m()
        .upsert_identity(
            &IdentityUpdate {
                lid: "111@lid".into(),
                ..Default::default()
            },
            40,
        )
        .await
        .unwrap();
    f.m().fill_identity_name(phone, "Other", 50).await.unwrap();
    let chat = f
        .m()
        .get_chat(&f.session, "111@lid")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(chat.name.as_deref(), Some("Ann"));
    // Mentions resolve to names.
    f.m()
        .upsert_identity(
            &IdentityUpdate {
                lid: "222@lid".into(),
                name: Some("Bob".into()),
                ..Default::default()
            },
            1,
        )
        .await
        .unwrap();
    let m = f.m().get_message(&f.session, "L1").await.unwrap().unwrap();
    assert_eq!(m.mention_names.get("222").map(String::as_str), Some("Bob"));
}

#[tokio::test]
async fn a_lid_that_changes_phone_takes_the_new_phone_chat_over() {
    let f = Fixture::new().await;
    let (old, new) = ("628111@s.whatsapp.net", "628999@s.whatsapp.net");
    let pair = |phone: &str| IdentityUpdate {
        lid: "111@lid".into(),
        phone_jid: Some(phone.into()),
        name: None,
        business_name: None,
    };
    f.m().upsert_identity(&pair(old), 1).await.unwrap();
    // Learning the same pair again moves nothing and keeps the mapping.
    f.m().upsert_identity(&pair(old), 2).await.unwrap();
    assert_eq!(f.m().canonical_dm_jid(old).await.unwrap(), "111@lid");
    f.record("N1", new, 10).await;
    f.m().upsert_identity(&pair(new), 3).await.unwrap();
    let chat = f.m().get_chat(&f.session, new).await.unwrap().unwrap();
    assert_eq!(chat.jid, "111@lid");
    let msgs = f
        .m()
        .list_chat_messages(&f.session, &["111@lid".into()], None, 10)
        .await
        .unwrap();
    assert_eq!(msgs.len(), 1, "the message moved to the LID");
    assert_eq!(msgs[0].chat_jid, "111@lid");
}

#[tokio::test]
async fn inbox_pages_by_activity_and_chat_flags_apply() {
    let f = Fixture::new().await;
    for (i, jid) in ["1@g.us", "2@g.us", "3@g.us"].iter().enumerate() {
        f.record(&format!("W{i}"), jid, 100 + i as i64).await;
    }
    let first = f.m().list_chats(&f.session, None, 2).await.unwrap();
    assert_eq!(
        first.iter().map(|c| c.jid.as_str()).collect::<Vec<_>>(),
        ["3@g.us", "2@g.us"]
    );
    let last = &first[1];
    let rest = f
        .m()
        .list_chats(
            &f.session,
            Some((last.last_message_at.unwrap(), last.id)),
            2,
        )
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|c| c.jid.as_str()).collect::<Vec<_>>(),
        ["1@g.us"]
    );

    let chat = &first[0];
    let patch = ChatPatch {
        archived: Some(true),
        pinned: None,
        muted_until: Some(Some(999)),
    };
    f.m()
        .update_chat(&f.session, chat.id, &patch, true)
        .await
        .unwrap();
    let got = f.m().get_chat(&f.session, "3@g.us").await.unwrap().unwrap();
    assert!(got.archived && !got.pinned);
    assert_eq!((got.muted_until, got.unread_count), (Some(999), 0));
    let unmute = ChatPatch {
        muted_until: Some(None),
        ..Default::default()
    };
    f.m()
        .update_chat(&f.session, chat.id, &unmute, false)
        .await
        .unwrap();
    assert_eq!(
        f.m()
            .get_chat(&f.session, "3@g.us")
            .await
            .unwrap()
            .unwrap()
            .muted_until,
        None
    );

    assert!(f.m().delete_chat(&f.session, chat.id).await.unwrap());
    assert!(!f.m().delete_chat(&f.session, chat.id).await.unwrap());
    assert!(
        f.m()
            .get_chat(&f.session, "3@g.us")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        f.m().get_message(&f.session, "W2").await.unwrap().is_none(),
        "messages go too"
    );
}

#[tokio::test]
async fn contacts_are_dm_identities_filtered_by_name_or_number() {
    let f = Fixture::new().await;
    for (lid, phone, name) in [
        ("111@lid", "628111", "Ann Lee"),
        ("222@lid", "628222", "Bob"),
        ("333@lid", "628333", "Cy"),
    ] {
        let update = IdentityUpdate {
            lid: lid.into(),
            phone_jid: Some(format!("{phone}@s.whatsapp.net")),
            name: Some(name.into()),
            business_name: None,
        };
        f.m().upsert_identity(&update, 1).await.unwrap();
    }
    f.record("A", "111@lid", 1).await;
    f.record("B", "628222@s.whatsapp.net", 2).await;
    let all = f
        .m()
        .list_contacts(&f.session, None, None, 10)
        .await
        .unwrap();
    assert_eq!(
        all.iter()
            .map(|c| c.identity.lid.as_str())
            .collect::<Vec<_>>(),
        ["111@lid", "222@lid"]
    );
    let by_name = f
        .m()
        .list_contacts(&f.session, Some("ann"), None, 10)
        .await
        .unwrap();
    assert_eq!(by_name.len(), 1);
    let by_number = f
        .m()
        .list_contacts(&f.session, Some("8222"), None, 10)
        .await
        .unwrap();
    assert_eq!(by_number[0].identity.lid, "222@lid");
    let after = f
        .m()
        .list_contacts(&f.session, None, Some(all[0].identity.id), 10)
        .await
        .unwrap();
    assert_eq!(after.len(), 1);
    assert!(
        f.m()
            .list_contacts(&f.session, Some("%"), None, 10)
            .await
            .unwrap()
            .is_empty(),
        "LIKE wildcards are literal"
    );
    assert!(
        f.m()
            .get_contact(&f.session, "628222@s.whatsapp.net")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        f.m()
            .get_contact(&f.session, "333@lid")
            .await
            .unwrap()
            .is_none(),
        "no DM with Cy"
    );
}

#[tokio::test]
async fn polls_round_trip() {
    let f = Fixture::new().await;
    let spec = PollSpec {
        name: "Lunch?".into(),
        options: vec!["a".into(), "b".into()],
        selectable_count: 1,
        end_time: Some(5),
        hide_votes: false,
    };
    f.m()
        .upsert_poll(&f.session, "P", "9@g.us", &spec, 1)
        .await
        .unwrap();
    assert_eq!(f.m().get_poll(&f.session, "P").await.unwrap(), Some(spec));
    assert_eq!(f.m().get_poll(&f.session, "Q").await.unwrap(), None);
}

fn entry(f: &Fixture, key: Option<&str>, status: OutboxStatus, at: i64) -> OutboxEntry {
    OutboxEntry {
        id: OutboxId::generate(),
        organization_id: f.org.clone(),
        session_id: f.session.clone(),
        idempotency_key: key.map(str::to_owned),
        fingerprint: Some("fp".into()),
        payload: "{}".into(),
        status,
        attempts: 0,
        wa_message_id: None,
        error: None,
        created_at: at,
        updated_at: at,
    }
}

#[tokio::test]
async fn idempotency_keys_answer_the_first_entry_until_they_expire() {
    let f = Fixture::new().await;
    let first = entry(&f, Some("k"), OutboxStatus::Sending, 1_000);
    assert_eq!(
        f.m().insert_outbox(&first, 500).await.unwrap(),
        OutboxInsert::Inserted
    );
    let second = entry(&f, Some("k"), OutboxStatus::Sending, 1_400);
    match f.m().insert_outbox(&second, 500).await.unwrap() {
        OutboxInsert::Existing(e) => assert_eq!(e.id, first.id),
        other => panic!("expected a replay, got {other:?}"),
    }
    let later = entry(&f, Some("k"), OutboxStatus::Sending, 1_600);
    assert_eq!(
        f.m().insert_outbox(&later, 500).await.unwrap(),
        OutboxInsert::Inserted
    );
    // Entries without a key never collide.
    for _ in 0..2 {
        assert_eq!(
            f.m()
                .insert_outbox(&entry(&f, None, OutboxStatus::Queued, 1), 500)
                .await
                .unwrap(),
            OutboxInsert::Inserted
        );
    }
    // Two outcomes recorded together (one transaction): each row gets its own.
    f.m()
        .finish_outbox(&[
            OutboxOutcome {
                id: first.id.clone(),
                status: OutboxStatus::Sent,
                wa_message_id: Some("WA".into()),
                error: None,
                payload: Some("{\"x\":1}".into()),
                now_ms: 2_000,
                undo_claim: false,
            },
            OutboxOutcome {
                error: Some("boom".into()),
                ..OutboxOutcome::status(later.id.clone(), OutboxStatus::Failed, 2_001)
            },
        ])
        .await
        .unwrap();
    let got = f.m().get_outbox(&f.org, &first.id).await.unwrap().unwrap();
    assert_eq!(
        (
            got.status,
            got.wa_message_id.as_deref(),
            got.payload.as_str(),
            got.updated_at
        ),
        (OutboxStatus::Sent, Some("WA"), "{\"x\":1}", 2_000)
    );
    let got = f.m().get_outbox(&f.org, &later.id).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.error.as_deref(), got.payload.as_str()),
        (OutboxStatus::Failed, Some("boom"), "{}"),
        "no payload given: the stored one stays"
    );
    assert!(
        f.m()
            .get_outbox(&OrgId::generate(), &first.id)
            .await
            .unwrap()
            .is_none(),
        "other org"
    );
}

/// (id, attempts) of claimed entries.
fn claimed(entries: &[OutboxEntry]) -> Vec<(OutboxId, i64)> {
    entries.iter().map(|e| (e.id.clone(), e.attempts)).collect()
}

#[tokio::test]
async fn claims_go_in_order_one_batch_at_a_time_and_take_over_stale_ones() {
    let f = Fixture::new().await;
    let [a, b, c] = [1, 2, 3].map(|at| entry(&f, None, OutboxStatus::Queued, at));
    for e in [&a, &b, &c] {
        f.m().insert_outbox(e, 0).await.unwrap();
    }
    assert_eq!(
        f.m().sessions_with_queued_outbox().await.unwrap(),
        std::slice::from_ref(&f.session)
    );
    let first = f.m().claim_outbox(&f.session, 100, 50, 2).await.unwrap();
    assert_eq!(claimed(&first), [(a.id.clone(), 1), (b.id.clone(), 1)]);
    assert!(
        f.m()
            .claim_outbox(&f.session, 120, 50, 2)
            .await
            .unwrap()
            .is_empty(),
        "a batch is in flight: c waits"
    );
    // The claim went stale (worker died): it is taken over, in order, with what is queued.
    let again = f.m().claim_outbox(&f.session, 200, 50, 3).await.unwrap();
    assert_eq!(
        claimed(&again),
        [(a.id.clone(), 2), (b.id.clone(), 2), (c.id.clone(), 1)]
    );
    f.m()
        .finish_outbox(&[
            OutboxOutcome {
                wa_message_id: Some("W".into()),
                ..OutboxOutcome::status(a.id.clone(), OutboxStatus::Sent, 210)
            },
            OutboxOutcome {
                error: Some("boom".into()),
                ..OutboxOutcome::status(b.id.clone(), OutboxStatus::Failed, 210)
            },
            // Back in the queue without a dispatch (behind one that could not go out): its
            // claim's attempt is taken back.
            OutboxOutcome::released(c.id.clone(), 210),
        ])
        .await
        .unwrap();
    let last = f.m().claim_outbox(&f.session, 220, 50, 2).await.unwrap();
    assert_eq!(claimed(&last), [(c.id.clone(), 1)]);
    // Dispatched and deferred (network unavailable): the attempt counts.
    f.m()
        .finish_outbox(&[OutboxOutcome::status(
            c.id.clone(),
            OutboxStatus::Queued,
            225,
        )])
        .await
        .unwrap();
    let last = f.m().claim_outbox(&f.session, 226, 50, 2).await.unwrap();
    assert_eq!(claimed(&last), [(c.id.clone(), 2)]);
    f.m()
        .finish_outbox(&[OutboxOutcome::status(c.id.clone(), OutboxStatus::Sent, 230)])
        .await
        .unwrap();
    assert!(
        f.m()
            .claim_outbox(&f.session, 240, 50, 2)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        f.m()
            .sessions_with_queued_outbox()
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn deleting_a_session_deletes_its_chats_and_messages() {
    let f = Fixture::new().await;
    f.record("W1", "9@g.us", 1).await;
    assert!(
        f.stores
            .core
            .delete_session(&f.org, &f.session)
            .await
            .unwrap()
    );
    assert!(f.m().get_message(&f.session, "W1").await.unwrap().is_none());
}

#[tokio::test]
async fn a_run_stores_each_message_once_and_touches_chats_as_one_at_a_time() {
    let f = Fixture::new().await;
    let (a, b) = ("628111@s.whatsapp.net", "628222@s.whatsapp.net");
    assert!(f.record("W1", a, 10).await);
    let row = |wa_id: &str, chat: &str, at: i64, unread: bool, body: &str| {
        let mut m = f.message(wa_id, chat, at);
        m.body = Some(body.into());
        m.from_me = !unread;
        let mut touch = f.touch(chat, at, unread);
        touch.name = unread.then(|| format!("Name at {at}"));
        (touch, m)
    };
    let run = [
        row("W1", a, 11, true, "W1 again"),
        row("W2", a, 30, true, "W2 first"),
        row("W2", a, 31, true, "W2 again"),
        row("W3", a, 20, false, "mine"),
        row("W4", b, 40, true, "other chat"),
    ];
    let new = f.m().record_messages(&run).await.unwrap();
    assert_eq!(new, [false, true, false, true, true]);
    let chat = f.m().get_chat(&f.session, a).await.unwrap().unwrap();
    assert_eq!(
        chat.unread_count, 2,
        "W1 before the run, W2 once; W3 is mine"
    );
    assert_eq!(chat.last_message_at, Some(30));
    let page = f
        .m()
        .list_chat_messages(&f.session, std::slice::from_ref(&chat.jid), None, 10)
        .await
        .unwrap();
    let bodies: Vec<_> = page
        .iter()
        .map(|m| (m.wa_message_id.as_str(), m.body.as_deref().unwrap_or("")))
        .collect();
    // Newest id first; repeats refresh the content, as recording them one at a time does.
    assert_eq!(
        bodies,
        [("W3", "mine"), ("W2", "W2 again"), ("W1", "W1 again")]
    );
    let other = f.m().get_chat(&f.session, b).await.unwrap().unwrap();
    assert_eq!((other.unread_count, other.last_message_at), (1, Some(40)));
    assert_eq!(other.name.as_deref(), Some("Name at 40"));
    assert_eq!(
        f.m().record_messages(&[]).await.unwrap(),
        Vec::<bool>::new()
    );
}

#[tokio::test]
async fn identities_learned_in_a_run_merge_like_one_at_a_time() {
    let f = Fixture::new().await;
    let (ann_phone, bob_phone) = ("628111@s.whatsapp.net", "628222@s.whatsapp.net");
    f.record("P1", ann_phone, 10).await;
    f.record("P2", bob_phone, 11).await;
    let update = |lid: &str, phone: &str, name: Option<&str>| IdentityUpdate {
        lid: lid.into(),
        phone_jid: Some(phone.into()),
        name: name.map(Into::into),
        business_name: None,
    };
    let run = [
        update("111@lid", ann_phone, Some("Ann")),
        update("222@lid", bob_phone, None),
    ];
    f.m().upsert_identities(&run, 20).await.unwrap();
    for (phone, lid) in [(ann_phone, "111@lid"), (bob_phone, "222@lid")] {
        let chat = f.m().get_chat(&f.session, phone).await.unwrap().unwrap();
        assert_eq!(chat.jid, lid, "the phone JID's chat moved to the LID");
        assert_eq!(f.m().canonical_dm_jid(phone).await.unwrap(), lid);
    }
    // Already known: nothing to write. A chat stored under the phone JID since (as before the
    // mapping was known) is still merged, and a new name still applies.
    f.m().upsert_identities(&run, 30).await.unwrap();
    f.record("P3", ann_phone, 40).await;
    f.m()
        .upsert_identities(&[update("111@lid", ann_phone, Some("Ann"))], 50)
        .await
        .unwrap();
    let inbox = f.m().list_chats(&f.session, None, 10).await.unwrap();
    assert_eq!(inbox.len(), 2, "one chat per person");
    let ann = f
        .m()
        .get_chat(&f.session, "111@lid")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ann.last_message_at, Some(40));
    f.m()
        .upsert_identities(&[update("222@lid", bob_phone, Some("Bob"))], 60)
        .await
        .unwrap();
    let bob = f
        .m()
        .get_chat(&f.session, "222@lid")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob.name.as_deref(), Some("Bob"));
}
