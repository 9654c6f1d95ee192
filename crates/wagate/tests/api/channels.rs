//! Channels over HTTP against simnet (issue 5, D4: they work): create, follow, mute,
//! unfollow with `newsletter.update` events, and the stored timeline of a followed channel.

use reqwest::Method;
use serde_json::{Value, json};
use wagate_domain::EventPayload;
use wagate_test_support::node::{Reply, TestNode};

use crate::messaging::{ME, PEER, jid, paired, wait_for_items};

async fn call(node: &TestNode, id: &str, method: Method, rest: &str, body: Option<Value>) -> Reply {
    let path = format!("/api/v1/sessions/{id}{rest}");
    node.call(Some(&node.key), method, &path, body.as_ref())
        .await
}

/// A channel owned by `PEER`; answers its JID.
async fn peer_channel(node: &TestNode) -> String {
    let body = json!({"name": "Peer news"});
    let path = format!("/_sim/phones/{PEER}/channels");
    let reply = node.sim(Method::POST, &path, Some(body)).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    reply.body["jid"].as_str().unwrap().to_owned()
}

async fn sim_channel(node: &TestNode, channel: &str) -> Value {
    let reply = node
        .sim(Method::GET, &format!("/_sim/channels/{channel}"), None)
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body
}

#[tokio::test]
async fn a_created_channel_is_owned_by_the_account() {
    let (node, id) = paired(|_| {}).await;
    let body = json!({"name": "News", "description": "daily"});
    let created = call(&node, &id, Method::POST, "/channels", Some(body)).await;
    assert_eq!(created.status, 201, "{created:?}");
    let channel = created.body["jid"].as_str().unwrap().to_owned();
    assert!(channel.ends_with("@newsletter"), "{channel}");
    let sim = sim_channel(&node, &channel).await;
    assert_eq!(
        (sim["name"].as_str(), sim["owner"].as_str()),
        (Some("News"), Some(jid(ME).as_str()))
    );

    let nameless = call(
        &node,
        &id,
        Method::POST,
        "/channels",
        Some(json!({"name": " "})),
    )
    .await;
    assert_eq!(
        (nameless.status, nameless.message()),
        (400, "name is required")
    );
}

#[tokio::test]
async fn following_muting_and_unfollowing_reach_the_network_and_publish_events() {
    let (node, id) = paired(|_| {}).await;
    let channel = peer_channel(&node).await;
    let enc = channel.replace('@', "%40");
    let mut events = node.events();

    let followed = call(
        &node,
        &id,
        Method::POST,
        &format!("/channels/{enc}:follow"),
        None,
    )
    .await;
    assert_eq!(followed.status, 204, "{followed:?}");
    assert_eq!(
        sim_channel(&node, &channel).await["followers"],
        json!([jid(ME)])
    );
    let muted = call(
        &node,
        &id,
        Method::POST,
        &format!("/channels/{enc}:mute"),
        Some(json!({})),
    )
    .await;
    assert_eq!(muted.status, 204, "{muted:?}");
    assert_eq!(
        sim_channel(&node, &channel).await["muted"],
        json!([jid(ME)])
    );
    let unmuted = call(
        &node,
        &id,
        Method::POST,
        &format!("/channels/{enc}:mute"),
        Some(json!({"mute": false})),
    )
    .await;
    assert_eq!(unmuted.status, 204, "{unmuted:?}");
    assert_eq!(sim_channel(&node, &channel).await["muted"], json!([]));

    // The owner posts; the follower's stored timeline has it.
    let post = json!({"to": channel, "text": "first post"});
    let sent = node
        .sim(
            Method::POST,
            &format!("/_sim/phones/{PEER}/messages"),
            Some(post),
        )
        .await;
    assert_eq!(sent.status, 201, "{sent:?}");
    let timeline = format!("/api/v1/sessions/{id}/channels/{enc}/messages");
    assert_eq!(
        wait_for_items(&node, &timeline, 1).await[0]["body"],
        "first post"
    );

    let unfollowed = call(
        &node,
        &id,
        Method::POST,
        &format!("/channels/{enc}:unfollow"),
        None,
    )
    .await;
    assert_eq!(unfollowed.status, 204, "{unfollowed:?}");
    assert_eq!(sim_channel(&node, &channel).await["followers"], json!([]));

    let mut actions = Vec::new();
    while let Ok(Ok(e)) =
        tokio::time::timeout(std::time::Duration::from_millis(300), events.recv()).await
    {
        if let EventPayload::Newsletter(p) = &e.payload {
            assert_eq!(
                (e.event_type(), p.jid.as_str()),
                ("newsletter.update", channel.as_str())
            );
            actions.push(serde_json::to_value(p.action).unwrap());
        }
    }
    assert_eq!(
        actions,
        [json!("join"), json!("mute"), json!("mute"), json!("leave")]
    );
}

#[tokio::test]
async fn channel_errors_follow_the_contract() {
    let (node, id) = paired(|_| {}).await;
    let unknown = call(
        &node,
        &id,
        Method::POST,
        "/channels/120363999999999999%40newsletter:follow",
        None,
    )
    .await;
    assert_eq!(
        (unknown.status, unknown.message()),
        (404, "channel not found")
    );
    let malformed = call(
        &node,
        &id,
        Method::POST,
        "/channels/628111%40s.whatsapp.net:follow",
        None,
    )
    .await;
    assert_eq!(malformed.status, 400, "{malformed:?}");
    // Muting a channel this account does not follow is WhatsApp's refusal: 400.
    let channel = peer_channel(&node).await.replace('@', "%40");
    let not_followed = call(
        &node,
        &id,
        Method::POST,
        &format!("/channels/{channel}:mute"),
        Some(json!({})),
    )
    .await;
    assert_eq!(not_followed.status, 400, "{not_followed:?}");
    // A channel never seen has an empty timeline.
    let empty = call(
        &node,
        &id,
        Method::GET,
        &format!("/channels/{channel}/messages"),
        None,
    )
    .await;
    assert_eq!((empty.status, &empty.body["data"]), (200, &json!([])));
}

#[tokio::test]
async fn a_stopped_session_lists_channel_messages_and_refuses_live_operations() {
    let (node, id) = paired(|_| {}).await;
    let channel = peer_channel(&node).await.replace('@', "%40");
    let stopped = call(&node, &id, Method::POST, ":stop", Some(json!({}))).await;
    assert_eq!(stopped.status, 200, "{stopped:?}");
    let listed = call(
        &node,
        &id,
        Method::GET,
        &format!("/channels/{channel}/messages"),
        None,
    )
    .await;
    assert_eq!(listed.status, 200, "{listed:?}");
    for (rest, body) in [
        ("/channels".to_owned(), Some(json!({"name": "x"}))),
        (format!("/channels/{channel}:follow"), None),
        (format!("/channels/{channel}:unfollow"), None),
        (format!("/channels/{channel}:mute"), Some(json!({}))),
    ] {
        let reply = call(&node, &id, Method::POST, &rest, body).await;
        assert_eq!(
            (reply.status, reply.code()),
            (501, "not_implemented"),
            "{rest}: {reply:?}"
        );
    }
}
