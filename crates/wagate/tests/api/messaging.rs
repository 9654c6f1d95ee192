//! Messaging over HTTP against simnet (issue 4): inbound messages stored once and listed,
//! sends reaching the phone, and the error paths of the contract.

use reqwest::Method;
use serde_json::{Value, json};
use wagate_domain::EventPayload;
use wagate_test_support::node::{Reply, TestNode};

pub(crate) const ME: &str = "628111000001";
pub(crate) const PEER: &str = "628111000002";

pub(crate) fn jid(phone: &str) -> String {
    format!("{phone}@s.whatsapp.net")
}

/// A node with one session paired to `ME` and a second phone `PEER`.
pub(crate) async fn paired(
    tweak: impl FnOnce(&mut wagate::config::ServeConfig),
) -> (TestNode, String) {
    let node = TestNode::start_with(tweak).await;
    let id = node.create_session("messaging").await;
    node.pair_by_qr(&id, ME).await;
    node.wait_for_status(&id, "working").await;
    node.sim_phone(PEER).await;
    (node, id)
}

/// Stops the session: from then on it has no live client.
pub(crate) async fn stop(node: &TestNode, id: &str) {
    let reply = node
        .post(&format!("/api/v1/sessions/{id}:stop"), json!({}))
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

/// An error envelope with this status and message.
pub(crate) fn assert_error(reply: &Reply, status: u16, message: &str) {
    assert_eq!(
        (reply.status, reply.message()),
        (status, message),
        "{reply:?}"
    );
}

/// A live operation's answer on a stopped session: `501` with the session's status (api.md
/// §1.9, D3).
pub(crate) fn assert_not_live(reply: &Reply) {
    assert_eq!(reply.status, 501, "{reply:?}");
    assert_eq!(reply.code(), "not_implemented");
    assert_eq!(
        reply.body["error"]["details"]["status"], "stopped",
        "{reply:?}"
    );
}

/// Polls `path` until its `data` has `n` items.
pub(crate) async fn wait_for_items(node: &TestNode, path: &str, n: usize) -> Vec<Value> {
    let mut last = Value::Null;
    for _ in 0..200 {
        let reply = node.get(path).await;
        assert_eq!(reply.status, 200, "{path}: {reply:?}");
        if let Some(items) = reply.body["data"].as_array()
            && items.len() >= n
        {
            return items.clone();
        }
        last = reply.body;
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{path} never had {n} items; last: {last}");
}

#[tokio::test]
async fn an_inbound_message_is_stored_listed_and_published_once() {
    let (node, id) = paired(|_| {}).await;
    let mut events = node.events();
    let sent = node
        .sim(
            Method::POST,
            &format!("/_sim/phones/{PEER}/messages"),
            Some(json!({"to": jid(ME), "text": "hello"})),
        )
        .await;
    assert_eq!(sent.status, 201, "{sent:?}");
    let wa_id = sent.body["id"].as_str().unwrap().to_owned();

    let chats = wait_for_items(&node, &format!("/api/v1/sessions/{id}/chats"), 1).await;
    assert_eq!(chats[0]["type"], "dm");
    assert_eq!(chats[0]["unreadCount"], 1);
    let cid = chats[0]["jid"].as_str().unwrap().replace('@', "%40");
    let msgs = wait_for_items(
        &node,
        &format!("/api/v1/sessions/{id}/chats/{cid}/messages"),
        1,
    )
    .await;
    assert_eq!(msgs[0]["waMessageId"], wa_id.as_str());
    assert_eq!(msgs[0]["body"], "hello");
    assert_eq!(
        (msgs[0]["fromMe"].as_bool(), msgs[0]["direction"].as_str()),
        (Some(false), Some("in"))
    );

    // The same message delivered again: nothing new stored, nothing published twice.
    let again = node
        .sim(
            Method::POST,
            &format!("/_sim/sessions/{id}:redeliver"),
            Some(json!({"id": wa_id})),
        )
        .await;
    assert_eq!(again.status, 204, "{again:?}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let msgs = node
        .get(&format!("/api/v1/sessions/{id}/chats/{cid}/messages"))
        .await;
    assert_eq!(msgs.body["data"].as_array().unwrap().len(), 1);
    let chat = node
        .get(&format!("/api/v1/sessions/{id}/chats/{cid}"))
        .await;
    assert_eq!(
        chat.body["unreadCount"], 1,
        "a redelivery is not a new unread message"
    );
    let mut published = 0;
    while let Ok(Ok(e)) =
        tokio::time::timeout(std::time::Duration::from_millis(300), events.recv()).await
    {
        if let EventPayload::Message { body, .. } = &e.payload
            && body.wa_message_id == wa_id
        {
            assert_eq!(e.event_type(), "message");
            published += 1;
        }
    }
    assert_eq!(published, 1);

    // readChat zeroes the unread count; unknown chats are 404.
    let read = node
        .post(
            &format!("/api/v1/sessions/{id}/chats/{cid}/read"),
            json!({}),
        )
        .await;
    assert_eq!(
        (read.status, read.body["unreadCount"].as_i64()),
        (200, Some(0))
    );
    let unknown = node
        .get(&format!(
            "/api/v1/sessions/{id}/chats/999%40s.whatsapp.net/messages"
        ))
        .await;
    assert_eq!(
        (unknown.status, unknown.body["error"]["message"].as_str()),
        (404, Some("chat not found"))
    );
}

#[tokio::test]
async fn a_sent_text_reaches_the_phone_and_is_stored_as_outgoing() {
    let (node, id) = paired(|_| {}).await;
    let reply = node
        .post(
            &format!("/api/v1/sessions/{id}/messages"),
            json!({"type": "text", "to": jid(PEER), "text": "hi there"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        (reply.body["mode"].as_str(), reply.body["status"].as_str()),
        (Some("sync"), Some("sent"))
    );
    let wa_id = reply.body["waMessageId"].as_str().unwrap().to_owned();

    let inbox = wait_for_items(&node, &format!("/_sim/phones/{PEER}/inbox"), 1).await;
    assert!(
        inbox
            .iter()
            .any(|m| m["id"] == wa_id.as_str() && m["text"] == "hi there"),
        "{inbox:?}"
    );
    let cid = jid(PEER).replace('@', "%40");
    let msgs = wait_for_items(
        &node,
        &format!("/api/v1/sessions/{id}/chats/{cid}/messages"),
        1,
    )
    .await;
    assert_eq!(msgs[0]["waMessageId"], wa_id.as_str());
    assert_eq!(
        (msgs[0]["fromMe"].as_bool(), msgs[0]["direction"].as_str()),
        (Some(true), Some("out"))
    );
    assert!(matches!(
        msgs[0]["status"].as_str(),
        Some("sent" | "delivered" | "read")
    ));
}

#[tokio::test]
async fn send_errors_follow_the_contract() {
    let (node, id) = paired(|c| c.default_rate_per_min = 3).await;
    let path = format!("/api/v1/sessions/{id}/messages");
    for (body, message) in [
        (json!({"to": jid(PEER)}), "send type is required"),
        (json!({"type": "text"}), "recipient 'to' is required"),
        (
            json!({"type": "text", "to": jid(PEER)}),
            "text is required for type 'text'",
        ),
        (
            json!({"type": "poll", "to": jid(PEER), "name": "q", "options": ["a"]}),
            "poll requires at least 2 options",
        ),
        (
            json!({"type": "location", "to": jid(PEER), "latitude": 91}),
            "latitude must be between -90 and 90",
        ),
        (
            json!({"type": "image", "to": jid(PEER)}),
            "media is required for type 'image'",
        ),
        (
            json!({"type": "image", "to": jid(PEER), "media": {"data": "!!"}}),
            "media.data must be valid base64",
        ),
        (
            json!({"type": "text", "to": "not-a-jid", "text": "x"}),
            "invalid jid: not-a-jid",
        ),
    ] {
        let reply = node.post(&path, body.clone()).await;
        assert_eq!(reply.status, 400, "{body}: {reply:?}");
        assert_eq!(reply.body["error"]["message"], message, "{body}");
    }

    // Idempotency: same key and body → replay; same key, other body → 409.
    let text = json!({"type": "text", "to": jid(PEER), "text": "once"});
    let keyed = |body: &Value| {
        node.req(Method::POST, &path)
            .header("Idempotency-Key", "k-1")
            .json(body)
            .send()
    };
    let first: Value = keyed(&text).await.unwrap().json().await.unwrap();
    let replay = keyed(&text).await.unwrap();
    assert_eq!(replay.status(), 200);
    let replay: Value = replay.json().await.unwrap();
    assert_eq!(replay["replayed"], true);
    assert_eq!(replay["waMessageId"], first["waMessageId"]);
    let conflict = keyed(&json!({"type": "text", "to": jid(PEER), "text": "other"}))
        .await
        .unwrap();
    assert_eq!(conflict.status(), 409);

    // The budget: 3 per minute; the replay above did not spend any.
    for _ in 0..2 {
        assert_eq!(node.post(&path, text.clone()).await.status, 200);
    }
    let limited = node.post(&path, text.clone()).await;
    assert_eq!(limited.status, 429, "{limited:?}");
    assert_eq!(limited.body["error"]["code"], "rate_limited");
    assert!(
        limited.body["error"]["details"]["retryAfterSeconds"]
            .as_u64()
            .is_some_and(|s| (1..=60).contains(&s))
    );
    assert!(limited.headers.contains_key("retry-after"));

    // A stopped session has no live client: 501 with its status.
    stop(&node, &id).await;
    assert_not_live(&node.post(&path, text).await);
}

/// Sends in flight together are stored in shared transactions (group commit): each is stored
/// exactly once, under the right chat, before its `200`; the delivery receipts that come back
/// together advance every one of them and publish one status event per message.
#[tokio::test]
async fn concurrent_sends_are_each_stored_before_their_answer_and_advanced_once() {
    const SENDS: usize = 40;
    let (node, id) = paired(|c| {
        c.default_rate_per_min = 1000;
        c.default_rate_per_hour = 1000;
    })
    .await;
    let other = "628111000003";
    node.sim_phone(other).await;
    let mut events = node.events();
    let path = format!("/api/v1/sessions/{id}/messages");
    let replies = futures::future::join_all((0..SENDS).map(|i| {
        let to = jid(if i % 2 == 0 { PEER } else { other });
        node.post(
            &path,
            json!({"type": "text", "to": to, "text": format!("m{i}")}),
        )
    }))
    .await;
    let mut sent = std::collections::HashMap::new();
    for (i, reply) in replies.iter().enumerate() {
        assert_eq!(reply.status, 200, "{reply:?}");
        sent.insert(reply.body["waMessageId"].as_str().unwrap().to_owned(), i);
    }
    assert_eq!(sent.len(), SENDS, "distinct WhatsApp ids");
    // Every send answered, so every one is stored now, without waiting.
    for peer in [PEER, other] {
        let cid = jid(peer).replace('@', "%40");
        let reply = node
            .get(&format!(
                "/api/v1/sessions/{id}/chats/{cid}/messages?limit=100"
            ))
            .await;
        let stored = reply.body["data"].as_array().unwrap();
        assert_eq!(stored.len(), SENDS / 2, "{reply:?}");
        for m in stored {
            let i = sent[m["waMessageId"].as_str().unwrap()];
            assert_eq!(jid(if i % 2 == 0 { PEER } else { other }), jid(peer));
            assert_eq!(m["body"], format!("m{i}").as_str(), "{m}");
        }
    }
    // One `delivered` status event per message, none twice.
    let mut delivered = std::collections::HashSet::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while delivered.len() < SENDS {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("every message delivered")
            .unwrap();
        if let EventPayload::MessageStatus(s) = &event.payload {
            assert_eq!(s.status.as_str(), "delivered");
            for m in &s.message_ids {
                assert!(sent.contains_key(m), "{m}");
                assert!(delivered.insert(m.clone()), "{m} published twice");
            }
        }
    }
}
