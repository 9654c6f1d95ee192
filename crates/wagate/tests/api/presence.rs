//! Presence over HTTP against simnet (api.md §6.4, §6.5, §10.2): the snapshot and subscription,
//! typing indicators and availability as the network sees them.

use reqwest::Method;
use serde_json::{Value, json};
use wagate_domain::EventPayload;
use wagate_domain::engine::PresenceState;
use wagate_test_support::node::{Reply, TestNode};

use crate::messaging::{ME, PEER, assert_error, assert_not_live, jid, paired, stop};

async fn put(node: &TestNode, path: &str, body: Value) -> Reply {
    node.call(Some(&node.key), Method::PUT, path, Some(&body))
        .await
}

/// What the simulated network shows of `phone`.
async fn sim_phone(node: &TestNode, phone: &str) -> Value {
    node.sim(Method::GET, &format!("/_sim/phones/{phone}"), None)
        .await
        .body
}

#[tokio::test]
async fn chat_presence_answers_a_snapshot_and_subscribes_to_the_contact() {
    let (node, id) = paired(|_| {}).await;
    let mut events = node.events();
    let reply = node
        .get(&format!(
            "/api/v1/sessions/{id}/chats/{PEER}%40s.whatsapp.net/presence"
        ))
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        reply.body,
        json!({"chatJid": jid(PEER), "from": jid(PEER), "state": "unknown"})
    );
    // The subscription works: the contact's real state follows as `presence.update`.
    let update = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            let event = events.recv().await.unwrap();
            if let EventPayload::Presence(p) = &event.payload
                && p.from == jid(PEER)
            {
                return p.clone();
            }
        }
    })
    .await
    .expect("a presence.update for the contact");
    assert_eq!(update.state, PresenceState::Available);

    let malformed = node
        .get(&format!("/api/v1/sessions/{id}/chats/nope/presence"))
        .await;
    assert_error(&malformed, 400, "invalid jid: nope");
}

#[tokio::test]
async fn typing_indicators_reach_the_peer() {
    let (node, id) = paired(|_| {}).await;
    let path = format!("/api/v1/sessions/{id}/chats/{PEER}%40s.whatsapp.net/presence");
    for (state, seen, recording) in [
        ("composing", "composing", false),
        ("recording", "composing", true),
        ("paused", "paused", false),
    ] {
        let reply = put(&node, &path, json!({"state": state})).await;
        assert_eq!(reply.status, 204, "{state}: {reply:?}");
        let peer = sim_phone(&node, PEER).await;
        let shown = &peer["presences"][jid(ME)];
        assert_eq!(
            (shown["state"].as_str(), shown["recording"].as_bool()),
            (Some(seen), Some(recording)),
            "{state}: {peer}"
        );
        assert_eq!(shown["chat"], jid(ME).as_str());
    }

    let missing = put(&node, &path, json!({})).await;
    assert_error(
        &missing,
        400,
        "state must be one of composing, paused, recording",
    );
    let unknown = put(&node, &path, json!({"state": "dancing"})).await;
    assert_eq!((unknown.status, unknown.code()), (400, "validation_error"));
    let malformed = put(
        &node,
        &format!("/api/v1/sessions/{id}/chats/nope/presence"),
        json!({"state": "paused"}),
    )
    .await;
    assert_error(&malformed, 400, "invalid jid: nope");
}

#[tokio::test]
async fn availability_is_set_on_the_network() {
    let (node, id) = paired(|_| {}).await;
    let path = format!("/api/v1/sessions/{id}/presence");
    for (state, available) in [("offline", false), ("online", true)] {
        let reply = put(&node, &path, json!({"state": state})).await;
        assert_eq!(reply.status, 204, "{state}: {reply:?}");
        assert_eq!(
            sim_phone(&node, ME).await["available"],
            available,
            "{state}"
        );
    }
    let missing = put(&node, &path, json!({})).await;
    assert_error(&missing, 400, "state must be online or offline");
    let unknown = put(&node, &path, json!({"state": "away"})).await;
    assert_eq!((unknown.status, unknown.code()), (400, "validation_error"));
}

#[tokio::test]
async fn presence_needs_a_running_session() {
    let (node, id) = paired(|_| {}).await;
    stop(&node, &id).await;
    let chat = format!("/api/v1/sessions/{id}/chats/{PEER}%40s.whatsapp.net/presence");
    assert_not_live(&node.get(&chat).await);
    assert_not_live(&put(&node, &chat, json!({"state": "composing"})).await);
    assert_not_live(
        &put(
            &node,
            &format!("/api/v1/sessions/{id}/presence"),
            json!({"state": "online"}),
        )
        .await,
    );
}
