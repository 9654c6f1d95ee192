//! The inbound pipeline's batches (issue 4, group commit), in process over the test backend:
//! what a session task hands over together must store and publish exactly what handing the
//! same events over one at a time does.

use std::sync::{Arc, Mutex};

use wagate_domain::engine::{ContactUpdate, HistoryChunk, InboundContent, InboundMessage};
use wagate_domain::{
    Engine as _, EngineClient, EngineEvent, Event, EventPayload, EventPublisher, Jid, MessageStore,
    OpenMode, OrgId, Session, SessionId, SystemClock,
};
use wagate_service::{GroupUpdates, InboundHandler as _, InboundPipeline};
use wagate_test_support::db::TestDatabase;
use wagate_test_support::seed;

const ANN_PHONE: &str = "628111@s.whatsapp.net";
const ANN_LID: &str = "111@lid";
const BOB_PHONE: &str = "628222@s.whatsapp.net";
const BOB_LID: &str = "222@lid";

#[derive(Default)]
struct Published(Mutex<Vec<Event>>);

impl EventPublisher for Published {
    fn publish(&self, event: Event) {
        if let Ok(mut events) = self.0.lock() {
            events.push(event);
        }
    }
}

impl Published {
    /// `(event type, WhatsApp id)` of what `session` published, in order.
    fn of(&self, session: &Session) -> Vec<(String, String)> {
        let events = self.0.lock().unwrap();
        events
            .iter()
            .filter(|e| e.session == session.id)
            .map(|e| match &e.payload {
                EventPayload::Message { kind, body } => {
                    (kind.as_str().to_owned(), body.wa_message_id.clone())
                }
                other => (other.event_type().to_owned(), String::new()),
            })
            .collect()
    }
}

struct Fixture {
    _db: TestDatabase,
    _devices: tempfile::TempDir,
    stores: wagate_store::Stores,
    pipeline: InboundPipeline,
    published: Arc<Published>,
    client: Arc<dyn EngineClient>,
    org: OrgId,
}

impl Fixture {
    async fn new() -> Self {
        let db = TestDatabase::from_env().await;
        let stores = wagate_store::open_stores(db.url()).await.expect("open");
        let org = seed::organization(&stores).await;
        let published = Arc::new(Published::default());
        let events: Arc<dyn EventPublisher> = published.clone();
        let groups = Arc::new(GroupUpdates::new(
            stores.groups.clone(),
            events.clone(),
            Arc::new(SystemClock),
        ));
        let pipeline = InboundPipeline::new(
            stores.messages.clone(),
            groups,
            events,
            Arc::new(SystemClock),
        );
        // Auto-read is off, so the pipeline never calls the client; any live client does.
        let devices = tempfile::tempdir().unwrap();
        let engine = wagate_simnet::SimEngine::new(
            wagate_simnet::Network::new(wagate_simnet::SimTimings::default()),
            devices.path().to_owned(),
        );
        let link = engine
            .open(&SessionId::generate(), OpenMode::PairQr)
            .await
            .unwrap();
        Self {
            _db: db,
            _devices: devices,
            stores,
            pipeline,
            published,
            client: Arc::from(link.client),
            org,
        }
    }

    fn store(&self) -> &dyn MessageStore {
        &*self.stores.messages
    }

    async fn session(&self) -> Session {
        seed::session(&self.stores, &self.org).await
    }

    async fn batch(&self, session: &Session, events: Vec<EngineEvent>) {
        self.pipeline
            .handle_batch(session, &self.client, events)
            .await;
    }

    async fn one_by_one(&self, session: &Session, events: Vec<EngineEvent>) {
        for event in events {
            self.pipeline.handle(session, &self.client, event).await;
        }
    }

    /// `(id, body, edited, deleted)` of a chat's messages, oldest first.
    async fn timeline(&self, session: &Session, chat: &str) -> Vec<(String, String, bool, bool)> {
        let mut page = self
            .store()
            .list_chat_messages(&session.id, &[chat.to_owned()], None, 100)
            .await
            .unwrap();
        page.reverse();
        page.into_iter()
            .map(|m| {
                (
                    m.wa_message_id,
                    m.body.unwrap_or_default(),
                    m.edited,
                    m.deleted,
                )
            })
            .collect()
    }
}

/// A text from `phone` (with `lid` as its other address) in their DM, as DMs arrive.
fn text(id: &str, phone: &str, lid: &str, at: i64) -> InboundMessage {
    let phone = Jid::parse(phone).unwrap();
    InboundMessage {
        id: id.into(),
        chat: phone.clone(),
        sender: phone,
        sender_alt: Some(Jid::parse(lid).unwrap()),
        push_name: Some(format!("Peer {}", lid.trim_end_matches("@lid"))),
        from_me: false,
        timestamp: at,
        content: InboundContent::Text {
            text: format!("text {id}"),
        },
        quoted_id: None,
        mentions: Vec::new(),
        forwarded: false,
    }
}

/// A text this account sent from its phone into `peer_phone`'s DM.
fn mine(id: &str, peer_phone: &str, peer_lid: &str, at: i64) -> InboundMessage {
    let mut m = text(id, peer_phone, peer_lid, at);
    m.from_me = true;
    m.sender = Jid::parse("628999@s.whatsapp.net").unwrap();
    m.sender_alt = None;
    m
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// The WhatsApp ids of a timeline.
fn ids(timeline: Vec<(String, String, bool, bool)>) -> Vec<String> {
    timeline.into_iter().map(|(id, ..)| id).collect()
}

fn event(m: InboundMessage) -> EngineEvent {
    EngineEvent::Message(Box::new(m))
}

fn with(mut m: InboundMessage, content: InboundContent) -> EngineEvent {
    m.content = content;
    event(m)
}

#[tokio::test]
async fn a_batch_stores_and_publishes_each_new_message_once_in_arrival_order() {
    let f = Fixture::new().await;
    let s = f.session().await;
    f.batch(&s, vec![event(text("M0", ANN_PHONE, ANN_LID, 10))])
        .await;
    f.batch(
        &s,
        vec![
            event(text("M1", ANN_PHONE, ANN_LID, 20)),
            event(text("M0", ANN_PHONE, ANN_LID, 10)),
            event(text("M2", BOB_PHONE, BOB_LID, 30)),
            event(text("M1", ANN_PHONE, ANN_LID, 20)),
            event(text("M3", ANN_PHONE, ANN_LID, 40)),
            event(mine("M4", ANN_PHONE, ANN_LID, 50)),
        ],
    )
    .await;
    let expected = [
        ("message", "M0"),
        ("message", "M1"),
        ("message", "M2"),
        ("message", "M3"),
        ("message.from_me", "M4"),
    ];
    assert_eq!(f.published.of(&s), owned(&expected));
    // Chats under the LIDs (the authors' identities were learned first), unread counting the
    // new messages from others only.
    let ann = f.store().get_chat(&s.id, ANN_PHONE).await.unwrap().unwrap();
    assert_eq!(ann.jid, ANN_LID);
    assert_eq!(ann.unread_count, 3, "M0, M1, M3; M4 is mine");
    assert_eq!(ann.last_message_at, Some(50));
    assert_eq!(ann.name.as_deref(), Some("Peer 111"));
    let bob = f.store().get_chat(&s.id, BOB_LID).await.unwrap().unwrap();
    assert_eq!((bob.unread_count, bob.last_message_at), (1, Some(30)));
    assert_eq!(ids(f.timeline(&s, ANN_LID).await), ["M0", "M1", "M3", "M4"]);
    assert_eq!(
        f.store().canonical_dm_jid(BOB_PHONE).await.unwrap(),
        BOB_LID
    );
}

#[tokio::test]
async fn a_batch_learning_a_lid_merges_what_was_stored_under_the_phone_jid() {
    let f = Fixture::new().await;
    let s = f.session().await;
    // Ann wrote before her LID was known: her chat is under the phone JID.
    let mut before = text("P1", ANN_PHONE, ANN_LID, 10);
    before.sender_alt = None;
    f.batch(&s, vec![event(before)]).await;
    assert_eq!(
        f.store()
            .get_chat(&s.id, ANN_PHONE)
            .await
            .unwrap()
            .unwrap()
            .jid,
        ANN_PHONE
    );
    f.batch(
        &s,
        vec![
            event(text("L1", ANN_PHONE, ANN_LID, 20)),
            event(text("L2", ANN_PHONE, ANN_LID, 30)),
        ],
    )
    .await;
    let inbox = f.store().list_chats(&s.id, None, 10).await.unwrap();
    assert_eq!(inbox.len(), 1, "one chat for Ann");
    assert_eq!(inbox[0].jid, ANN_LID);
    assert_eq!(inbox[0].unread_count, 3);
    assert_eq!(ids(f.timeline(&s, ANN_LID).await), ["P1", "L1", "L2"]);
}

#[tokio::test]
async fn edits_and_revokes_in_a_batch_end_as_one_at_a_time() {
    let f = Fixture::new().await;
    let (batched, single) = (f.session().await, f.session().await);
    let events = || {
        vec![
            event(text("M1", ANN_PHONE, ANN_LID, 10)),
            with(
                text("E1", ANN_PHONE, ANN_LID, 11),
                InboundContent::Edit {
                    target_id: "M1".into(),
                    text: "M1 edited".into(),
                },
            ),
            event(text("M2", ANN_PHONE, ANN_LID, 12)),
            with(
                text("R2", ANN_PHONE, ANN_LID, 13),
                InboundContent::Revoke {
                    target_id: "M2".into(),
                },
            ),
            event(text("M3", BOB_PHONE, BOB_LID, 14)),
            with(
                text("X1", ANN_PHONE, ANN_LID, 15),
                InboundContent::Other {
                    kind: "unknown".into(),
                },
            ),
            event(text("M4", ANN_PHONE, ANN_LID, 16)),
        ]
    };
    f.batch(&batched, events()).await;
    f.one_by_one(&single, events()).await;
    let ann = f.timeline(&batched, ANN_LID).await;
    assert_eq!(
        ann,
        [
            ("M1".into(), "M1 edited".into(), true, false),
            ("M2".into(), "text M2".into(), false, true),
            ("M4".into(), "text M4".into(), false, false),
        ]
    );
    assert_eq!(ann, f.timeline(&single, ANN_LID).await);
    let kinds = f.published.of(&batched);
    let expected = [
        ("message", "M1"),
        ("message.edited", "E1"),
        ("message", "M2"),
        ("message.revoked", "R2"),
        ("message", "M3"),
        ("message", "M4"),
    ];
    assert_eq!(kinds, owned(&expected));
    assert_eq!(kinds, f.published.of(&single));
    for s in [&batched, &single] {
        let chat = f.store().get_chat(&s.id, ANN_LID).await.unwrap().unwrap();
        assert_eq!(chat.unread_count, 3);
    }
}

/// `(status, message ids)` of the status events `session` published, in order.
fn statuses(f: &Fixture, session: &Session) -> Vec<(String, Vec<String>)> {
    let events = f.published.0.lock().unwrap();
    events
        .iter()
        .filter(|e| e.session == session.id)
        .filter_map(|e| match &e.payload {
            EventPayload::MessageStatus(s) => {
                Some((s.status.as_str().to_owned(), s.message_ids.clone()))
            }
            _ => None,
        })
        .collect()
}

/// A receipt from Ann for `ids`.
fn receipt(ids: &[&str], kind: wagate_domain::engine::ReceiptKind) -> EngineEvent {
    EngineEvent::Receipt(wagate_domain::engine::Receipt {
        chat: Jid::parse(ANN_PHONE).unwrap(),
        sender: Jid::parse(ANN_PHONE).unwrap(),
        ids: ids.iter().map(|id| (*id).to_owned()).collect(),
        kind,
        timestamp: 20,
    })
}

fn status_list(expected: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    expected
        .iter()
        .map(|(status, ids)| {
            (
                (*status).to_owned(),
                ids.iter().map(|id| (*id).to_owned()).collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn receipts_in_a_batch_advance_and_publish_as_one_at_a_time() {
    let f = Fixture::new().await;
    let (batched, single) = (f.session().await, f.session().await);
    use wagate_domain::engine::ReceiptKind::{Delivered, Read};
    let sent = || {
        vec![
            event(mine("S1", ANN_PHONE, ANN_LID, 10)),
            event(mine("S2", ANN_PHONE, ANN_LID, 11)),
            event(mine("S3", ANN_PHONE, ANN_LID, 12)),
        ]
    };
    let receipts = || {
        vec![
            receipt(&["S1"], Delivered),
            // S1 again (redelivered) and S2: only S2 moves on.
            receipt(&["S1", "S2"], Delivered),
            receipt(&["unknown"], Delivered),
            receipt(&["S1"], Read),
            // Delivered after read changes nothing.
            receipt(&["S1", "S3"], Delivered),
        ]
    };
    for (s, events) in [(&batched, receipts()), (&single, receipts())] {
        f.batch(s, sent()).await;
        if s.id == batched.id {
            f.batch(s, events).await;
        } else {
            f.one_by_one(s, events).await;
        }
    }
    let expected = status_list(&[
        ("delivered", &["S1"]),
        ("delivered", &["S2"]),
        ("read", &["S1"]),
        ("delivered", &["S3"]),
    ]);
    assert_eq!(statuses(&f, &batched), expected);
    assert_eq!(statuses(&f, &single), expected);
    for s in [&batched, &single] {
        let stored: Vec<Option<String>> = {
            let mut v = Vec::new();
            for id in ["S1", "S2", "S3"] {
                let m = f.store().get_message(&s.id, id).await.unwrap().unwrap();
                v.push(m.status.map(|st| st.as_str().to_owned()));
            }
            v
        };
        assert_eq!(
            stored,
            [
                Some("read".into()),
                Some("delivered".into()),
                Some("delivered".into())
            ]
        );
    }
}

/// The network can deliver a sent message's receipts before the send has stored the message
/// (simnet does it every time): they wait for the row and apply, once, when the send says it
/// stored it.
#[tokio::test]
async fn receipts_that_arrive_before_their_sent_message_apply_once_it_is_stored() {
    use wagate_domain::engine::ReceiptKind::{Delivered, Read};
    let f = Fixture::new().await;
    let s = f.session().await;
    f.batch(&s, vec![receipt(&["S1"], Delivered)]).await;
    f.one_by_one(&s, vec![receipt(&["S1", "S2"], Read)]).await;
    assert!(statuses(&f, &s).is_empty(), "no row yet");
    // The send stores S1 (S2 never comes: its receipt expires unused).
    f.batch(&s, vec![event(mine("S1", ANN_PHONE, ANN_LID, 10))])
        .await;
    f.pipeline.sent_stored(&s, &["S1".to_owned()]).await;
    let expected = status_list(&[("delivered", &["S1"]), ("read", &["S1"])]);
    assert_eq!(statuses(&f, &s), expected);
    let stored = f.store().get_message(&s.id, "S1").await.unwrap().unwrap();
    assert_eq!(stored.status.map(|st| st.as_str()), Some("read"));
    // Told twice, or the receipt redelivered: nothing more.
    f.pipeline.sent_stored(&s, &["S1".to_owned()]).await;
    f.batch(&s, vec![receipt(&["S1"], Read)]).await;
    assert_eq!(statuses(&f, &s), expected);
    // A receipt after the send stored its message applies at once.
    f.batch(&s, vec![event(mine("S3", ANN_PHONE, ANN_LID, 11))])
        .await;
    f.pipeline.sent_stored(&s, &["S3".to_owned()]).await;
    f.batch(&s, vec![receipt(&["S3"], Delivered)]).await;
    assert_eq!(statuses(&f, &s).len(), 3);
}

#[tokio::test]
async fn history_sync_stores_a_chunk_once_without_events() {
    let f = Fixture::new().await;
    let s = f.session().await;
    f.batch(&s, vec![event(text("H1", ANN_PHONE, ANN_LID, 10))])
        .await;
    let mut other = text("H4", BOB_PHONE, BOB_LID, 40);
    other.content = InboundContent::Other {
        kind: "unknown".into(),
    };
    let mut bob = text("H2", BOB_PHONE, BOB_LID, 20);
    bob.push_name = None;
    let chunk = HistoryChunk {
        messages: vec![
            text("H1", ANN_PHONE, ANN_LID, 10),
            bob.clone(),
            bob,
            mine("H3", BOB_PHONE, BOB_LID, 30),
            other,
        ],
        contacts: vec![ContactUpdate {
            lid: Some(Jid::parse(BOB_LID).unwrap()),
            phone: Some(Jid::parse(BOB_PHONE).unwrap()),
            name: Some("Bob".into()),
            business_name: None,
        }],
        progress: Some(100),
    };
    f.batch(&s, vec![EngineEvent::HistorySync(Box::new(chunk))])
        .await;
    assert_eq!(f.published.of(&s).len(), 1, "only H1's live event");
    let bob = f.store().get_chat(&s.id, BOB_PHONE).await.unwrap().unwrap();
    assert_eq!(bob.jid, BOB_LID);
    assert_eq!(bob.name.as_deref(), Some("Bob"));
    assert_eq!((bob.unread_count, bob.last_message_at), (1, Some(30)));
    assert_eq!(ids(f.timeline(&s, BOB_LID).await), ["H2", "H3"]);
    let ann = f.store().get_chat(&s.id, ANN_LID).await.unwrap().unwrap();
    assert_eq!(ann.unread_count, 1, "H1 again is no new message");
}
