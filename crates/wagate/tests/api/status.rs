//! Status posts over HTTP against simnet (api.md §10.1, D4): text and image posts really reach
//! the network's status feed and the account's contacts.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde_json::{Value, json};
use wagate_test_support::node::TestNode;

use crate::messaging::{
    ME, PEER, assert_error, assert_not_live, jid, paired, stop, wait_for_items,
};

/// A few bytes that sniff as PNG.
pub(crate) const PNG: &[u8] = b"\x89PNG\r\n\x1a\nnot really an image";

/// Makes `PEER` a contact of the account (a DM exchanged), so status posts reach it.
async fn befriend(node: &TestNode, id: &str) {
    let reply = node
        .post(
            &format!("/api/v1/sessions/{id}/messages"),
            json!({"type": "text", "to": jid(PEER), "text": "hi"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

/// Posts a status and answers the network's record of it (`GET /_sim/messages/{id}`).
async fn post(node: &TestNode, id: &str, body: Value) -> Value {
    let reply = node
        .post(&format!("/api/v1/sessions/{id}/status"), body.clone())
        .await;
    assert_eq!(reply.status, 200, "{body}: {reply:?}");
    let message_id = reply.body["messageId"].as_str().expect("messageId");
    let seen = node
        .sim(Method::GET, &format!("/_sim/messages/{message_id}"), None)
        .await;
    assert_eq!(seen.status, 200, "{seen:?}");
    assert_eq!(seen.body["chat"], "status@broadcast");
    assert_eq!(seen.body["from"], jid(ME).as_str());
    seen.body
}

#[tokio::test]
async fn a_text_status_reaches_the_feed_and_the_contacts() {
    let (node, id) = paired(|_| {}).await;
    befriend(&node, &id).await;
    let explicit = post(&node, &id, json!({"type": "text", "text": "Out for lunch"})).await;
    assert_eq!(
        (explicit["type"].as_str(), explicit["text"].as_str()),
        (Some("text"), Some("Out for lunch"))
    );
    assert_eq!(explicit["deliveredTo"], json!([jid(PEER)]));
    // `type` defaults to text.
    let implicit = post(&node, &id, json!({"text": "Back"})).await;
    assert_eq!(implicit["text"], "Back");

    let inbox = wait_for_items(&node, &format!("/_sim/phones/{PEER}/inbox"), 3).await;
    let statuses: Vec<_> = inbox
        .iter()
        .filter(|m| m["chat"] == "status@broadcast")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["Out for lunch", "Back"]);
}

#[tokio::test]
async fn an_image_status_carries_the_exact_bytes() {
    let (node, id) = paired(|_| {}).await;
    befriend(&node, &id).await;
    let seen = post(
        &node,
        &id,
        json!({"type": "image", "media": {"data": STANDARD.encode(PNG)}, "caption": "view"}),
    )
    .await;
    assert_eq!(
        (seen["type"].as_str(), seen["text"].as_str()),
        (Some("image"), Some("view"))
    );
    let media = &seen["media"];
    assert_eq!(media["mimetype"], "image/png");
    assert_eq!(media["size"], PNG.len());
    assert_eq!(seen["deliveredTo"], json!([jid(PEER)]));

    // The contact downloads what was posted.
    let download = node
        .sim(
            Method::POST,
            &format!("/_sim/phones/{PEER}/ops"),
            Some(json!({"op": "download", "media": {
                "kind": "image", "mimetype": media["mimetype"], "size": media["size"],
                "filename": null, "locator": media["id"]}})),
        )
        .await;
    assert_eq!(download.status, 200, "{download:?}");
    let bytes = STANDARD
        .decode(download.body["value"].as_str().unwrap())
        .unwrap();
    assert_eq!(bytes, PNG);
}

#[tokio::test]
async fn status_errors_follow_the_contract() {
    let (node, id) = paired(|_| {}).await;
    let path = format!("/api/v1/sessions/{id}/status");
    for (body, message) in [
        (json!({"type": "text"}), "text is required"),
        (json!({"text": "  "}), "text is required"),
        (
            json!({"type": "image"}),
            "media is required for type 'image'",
        ),
        (
            json!({"type": "image", "media": {"data": "!!"}}),
            "media.data must be valid base64",
        ),
    ] {
        let reply = node.post(&path, body.clone()).await;
        assert_error(&reply, 400, message);
    }
    for body in [
        json!({"type": "video", "text": "x"}),
        json!({"text": "x", "extra": 1}),
    ] {
        let reply = node.post(&path, body.clone()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "validation_error"),
            "{body}"
        );
    }

    stop(&node, &id).await;
    assert_not_live(&node.post(&path, json!({"text": "hello"})).await);
}
