//! Inbound media download over HTTP against simnet (D4): the bytes a phone sent, with their
//! type and file name, and the error paths.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde_json::{Value, json};
use wagate_test_support::node::TestNode;

use crate::messaging::{
    ME, PEER, assert_error, assert_not_live, jid, paired, stop, wait_for_items,
};
use crate::status::PNG;

/// `PEER` sends `body` to the account; answers the WhatsApp id once the session stored it.
async fn receive(node: &TestNode, id: &str, body: Value, stored: usize) -> String {
    let mut body = body;
    body["to"] = jid(ME).into();
    let sent = node
        .sim(
            Method::POST,
            &format!("/_sim/phones/{PEER}/messages"),
            Some(body),
        )
        .await;
    assert_eq!(sent.status, 201, "{sent:?}");
    let chats = wait_for_items(node, &format!("/api/v1/sessions/{id}/chats"), 1).await;
    let cid = chats[0]["jid"].as_str().unwrap().replace('@', "%40");
    wait_for_items(
        node,
        &format!("/api/v1/sessions/{id}/chats/{cid}/messages"),
        stored,
    )
    .await;
    sent.body["id"].as_str().unwrap().to_owned()
}

/// `GET …/messages/{mid}/media`: status, headers and raw bytes.
async fn download(
    node: &TestNode,
    id: &str,
    mid: &str,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let res = node
        .req(
            Method::GET,
            &format!("/api/v1/sessions/{id}/messages/{mid}/media"),
        )
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn inbound_media_downloads_exactly_as_the_phone_sent_it() {
    let (node, id) = paired(|_| {}).await;
    let image = receive(
        &node,
        &id,
        json!({"type": "image", "text": "look",
            "media": {"data": STANDARD.encode(PNG), "mimetype": "image/png"}}),
        1,
    )
    .await;
    let (status, headers, bytes) = download(&node, &id, &image).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, PNG);
    assert_eq!(headers["content-type"], "image/png");
    assert!(headers.get("content-disposition").is_none());

    let pdf = b"%PDF-1.4 quarterly numbers".to_vec();
    let document = receive(
        &node,
        &id,
        json!({"type": "document", "media": {"data": STANDARD.encode(&pdf),
            "mimetype": "application/pdf", "filename": "Q3 report.pdf"}}),
        2,
    )
    .await;
    let (status, headers, bytes) = download(&node, &id, &document).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, pdf);
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"Q3 report.pdf\"; filename*=UTF-8''Q3%20report.pdf"
    );
}

#[tokio::test]
async fn media_of_an_unknown_or_media_less_message_is_404() {
    let (node, id) = paired(|_| {}).await;
    let text = receive(&node, &id, json!({"text": "no media here"}), 1).await;
    let path = |mid: &str| format!("/api/v1/sessions/{id}/messages/{mid}/media");
    let unknown = node.get(&path("3EB0UNKNOWN")).await;
    assert_error(&unknown, 404, "message not found");
    let plain = node.get(&path(&text)).await;
    assert_error(&plain, 404, "message has no downloadable media");

    let image = receive(
        &node,
        &id,
        json!({"type": "image", "media": {"data": STANDARD.encode(PNG), "mimetype": "image/png"}}),
        2,
    )
    .await;
    stop(&node, &id).await;
    assert_not_live(&node.get(&path(&image)).await);
}
