//! Asynchronous sends (D4) over HTTP against simnet: queued, dispatched in order by the outbox
//! worker within the send budget, reported by `GET …/outbox/{outboxId}`, and picked up again
//! after a restart in the middle of the queue.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_domain::EventPayload;
use wagate_test_support::node::{StandaloneSimnet, TestNode};

const ME: &str = "628111000001";
const PEER: &str = "628111000002";

fn jid(phone: &str) -> String {
    format!("{phone}@s.whatsapp.net")
}

async fn paired_on(node: &TestNode) -> String {
    let id = node.create_session("outbox").await;
    node.pair_by_qr(&id, ME).await;
    node.wait_for_status(&id, "working").await;
    node.sim_phone(PEER).await;
    id
}

/// Queues a text and returns its outbox id.
async fn queue_text(node: &TestNode, session: &str, text: &str) -> String {
    let reply = node
        .post(
            &format!("/api/v1/sessions/{session}/messages?async=true"),
            json!({"type": "text", "to": jid(PEER), "text": text}),
        )
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    assert_eq!(reply.body["mode"], "async");
    reply.body["outboxId"]
        .as_str()
        .expect("outboxId")
        .to_owned()
}

async fn outbox(node: &TestNode, session: &str, id: &str) -> Value {
    let reply = node
        .get(&format!("/api/v1/sessions/{session}/outbox/{id}"))
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body
}

/// Polls the entry until its status is `status` (10 s at most).
async fn wait_outbox(node: &TestNode, session: &str, id: &str, status: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..400 {
        last = outbox(node, session, id).await;
        if last["status"] == status {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("outbox entry {id} never became {status}; last: {last}");
}

/// The texts `PEER` received, in arrival order.
async fn peer_texts(node: &TestNode) -> Vec<String> {
    let inbox = node
        .sim(Method::GET, &format!("/_sim/phones/{PEER}/inbox"), None)
        .await;
    assert_eq!(inbox.status, 200, "{inbox:?}");
    inbox.body["data"]
        .as_array()
        .or(inbox.body.as_array())
        .expect("inbox list")
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn async_sends_wait_for_the_session_then_go_out_in_order() {
    let node = TestNode::start().await;
    let id = paired_on(&node).await;
    let mut events = node.events();
    let stop = node
        .post(&format!("/api/v1/sessions/{id}:stop"), json!({}))
        .await;
    assert_eq!(stop.status, 200, "{stop:?}");

    // Accepted while the session is stopped, and left queued.
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(queue_text(&node, &id, &format!("async {i}")).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let first = outbox(&node, &id, &ids[0]).await;
    assert_eq!(first["status"], "queued", "{first}");
    assert!(peer_texts(&node).await.is_empty());

    let start = node
        .post(&format!("/api/v1/sessions/{id}:start"), json!({}))
        .await;
    assert_eq!(start.status, 200, "{start:?}");
    let mut wa_ids = Vec::new();
    for oid in &ids {
        let entry = wait_outbox(&node, &id, oid, "sent").await;
        assert_eq!(entry["sessionId"], id.as_str());
        wa_ids.push(
            entry["waMessageId"]
                .as_str()
                .expect("waMessageId")
                .to_owned(),
        );
    }
    assert_eq!(
        peer_texts(&node).await,
        ["async 0", "async 1", "async 2", "async 3"]
    );

    // Each outcome was published, and the sent rows are stored as outgoing messages.
    let mut outcomes = Vec::new();
    while let Ok(Ok(e)) = tokio::time::timeout(Duration::from_millis(300), events.recv()).await {
        if let EventPayload::OutboxStatus(p) = &e.payload {
            outcomes.push((p.outbox_id.clone(), p.status, p.wa_message_id.clone()));
        }
    }
    let expected: Vec<_> = ids
        .iter()
        .zip(&wa_ids)
        .map(|(o, w)| (o.clone(), "sent", Some(w.clone())))
        .collect();
    assert_eq!(outcomes, expected);
    let cid = jid(PEER).replace('@', "%40");
    let msgs = node
        .get(&format!("/api/v1/sessions/{id}/chats/{cid}/messages"))
        .await;
    // Sent as one claimed batch, stored while the next went out: the timeline (newest first)
    // still has them in the order they were sent.
    let bodies: Vec<_> = msgs.body["data"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["body"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(bodies, ["async 3", "async 2", "async 1", "async 0"]);
}

#[tokio::test]
async fn async_errors_replays_and_failures() {
    let node = TestNode::start().await;
    let id = paired_on(&node).await;
    let path = format!("/api/v1/sessions/{id}/messages");

    // Validated at once: a bad request is never queued.
    let bad = node
        .post(
            &format!("{path}?async=true"),
            json!({"type": "text", "to": jid(PEER)}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.message()),
        (400, "text is required for type 'text'")
    );
    let flag = node
        .post(
            &format!("{path}?async=maybe"),
            json!({"type": "text", "to": jid(PEER), "text": "x"}),
        )
        .await;
    assert_eq!((flag.status, flag.code()), (400, "validation_error"));

    // An unknown or malformed outbox id is 404, as is another session's entry.
    for missing in ["out_01JAAAAAAAAAAAAAAAAAAAAAAA", "nope"] {
        let reply = node
            .get(&format!("/api/v1/sessions/{id}/outbox/{missing}"))
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (404, "not_found"),
            "{missing}"
        );
    }
    let oid = queue_text(&node, &id, "mine").await;
    let other = node.create_session("other").await;
    let foreign = node
        .get(&format!("/api/v1/sessions/{other}/outbox/{oid}"))
        .await;
    assert_eq!(foreign.status, 404, "{foreign:?}");

    // A key replays the queued entry instead of queueing again; another body conflicts.
    let keyed = |body: Value| {
        node.req(Method::POST, &format!("{path}?async=true"))
            .header("Idempotency-Key", "async-key")
            .json(&body)
            .send()
    };
    let body = json!({"type": "text", "to": jid(PEER), "text": "keyed"});
    let first: Value = keyed(body.clone()).await.unwrap().json().await.unwrap();
    let kid = first["outboxId"].as_str().unwrap().to_owned();
    wait_outbox(&node, &id, &kid, "sent").await;
    let replay = keyed(body).await.unwrap();
    assert_eq!(replay.status(), 200);
    let replay: Value = replay.json().await.unwrap();
    assert_eq!(
        (replay["replayed"].as_bool(), replay["outboxId"].as_str()),
        (Some(true), Some(kid.as_str()))
    );
    let conflict = keyed(json!({"type": "text", "to": jid(PEER), "text": "other"}))
        .await
        .unwrap();
    assert_eq!(conflict.status(), 409);
    let texts = peer_texts(&node).await;
    assert_eq!(
        texts.iter().filter(|t| *t == "keyed").count(),
        1,
        "{texts:?}"
    );

    // Media that cannot be fetched when the worker sends it fails the entry, with the reason.
    let failing = node
        .post(
            &format!("{path}?async=true"),
            json!({"type": "image", "to": jid(PEER),
                   "media": {"url": "http://127.0.0.1:9/gone.png"}}),
        )
        .await;
    assert_eq!(failing.status, 202, "{failing:?}");
    let fid = failing.body["outboxId"].as_str().unwrap();
    let failed = wait_outbox(&node, &id, fid, "failed").await;
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("could not be downloaded")),
        "{failed}"
    );
    assert!(failed.get("waMessageId").is_none());
}

#[tokio::test]
async fn a_restart_in_the_middle_of_the_queue_delivers_the_rest_once() {
    let sim = StandaloneSimnet::start().await;
    let joined = |c: &mut wagate::config::ServeConfig| {
        c.simnet_url = Some(sim.base.clone());
        c.default_rate_per_min = 2;
    };
    let node = TestNode::start_with(joined).await;
    let id = paired_on(&node).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(queue_text(&node, &id, &format!("q{i}")).await);
    }
    // The budget (2 a minute) lets two out; the rest wait for it rather than failing.
    wait_outbox(&node, &id, &ids[1], "sent").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(outbox(&node, &id, &ids[2]).await["status"], "queued");
    assert_eq!(peer_texts(&node).await, ["q0", "q1"]);

    let db = node.stop().await;
    let node = TestNode::start_on(db, joined).await;
    node.wait_for_status(&id, "working").await;
    // The new node's budget lets two more out, in order; the last still waits.
    wait_outbox(&node, &id, &ids[3], "sent").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(peer_texts(&node).await, ["q0", "q1", "q2", "q3"]);
    let last = outbox(&node, &id, &ids[4]).await;
    assert_eq!(last["status"], "queued", "{last}");
    for oid in &ids[..4] {
        assert_eq!(outbox(&node, &id, oid).await["status"], "sent");
    }
}
