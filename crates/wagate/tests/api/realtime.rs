//! The ticketed WebSocket transport (events.md §4.4, D5) with a real WebSocket client over
//! loopback: minting and its refusals, single-use tickets, the frames, replay after `since`,
//! isolation, the origin check, and the close code on revocation and shutdown.

use std::time::Duration;

use futures::StreamExt as _;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use wagate_domain::{ApiKeyId, RawTicket, StoredTicket};
use wagate_test_support::jwt::{SigningKey, claims};
use wagate_test_support::node::{Reply, TestNode};

use crate::events::{
    assert_pairing_and_texts_once, ids, peer_sends, revoke_over_rest, traffic, types,
};
use crate::jwt::{AUD, ISS, node_trusting};

const TICKET: &str = "/api/v1/realtime/ticket";

async fn mint(node: &TestNode, key: &str, body: Value) -> Reply {
    node.call(Some(key), Method::POST, TICKET, Some(&body))
        .await
}

/// A ticket of `key` for `body`, which must be granted.
async fn ticket(node: &TestNode, key: &str, body: Value) -> String {
    let reply = mint(node, key, body).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    reply.body["ticket"].as_str().expect("ticket").to_owned()
}

/// An open WebSocket, read frame by frame.
struct Socket {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// The upgrade of `ticket`, with `origin` if given: the socket, or the refusal's status and body.
async fn dial(node: &TestNode, ticket: &str, origin: Option<&str>) -> Result<Socket, (u16, Value)> {
    let url = format!(
        "{}/api/v1/realtime?ticket={ticket}",
        node.base.replacen("http", "ws", 1)
    );
    let mut request = url.into_client_request().unwrap();
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", HeaderValue::from_str(origin).unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Ok(Socket { ws }),
        Err(WsError::Http(res)) => {
            let body = res
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Null);
            Err((res.status().as_u16(), body))
        }
        Err(other) => panic!("websocket handshake failed: {other}"),
    }
}

impl Socket {
    /// Connects with `ticket` and reads the `connected` frame.
    async fn open(node: &TestNode, ticket: &str) -> Self {
        let mut socket = dial(node, ticket, None).await.expect("upgrade");
        let first = socket
            .next(Duration::from_secs(5))
            .await
            .expect("connected");
        assert_eq!(first["event"], "connected");
        assert_eq!(first["heartbeatSeconds"], 20);
        assert!(first["timestamp"].as_i64().is_some());
        socket
    }

    /// The next text frame within `wait` as JSON, or `None` (timeout or close).
    async fn next(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let msg = tokio::time::timeout(wait, self.ws.next())
                .await
                .ok()??
                .ok()?;
            match msg {
                Message::Text(text) => {
                    return Some(serde_json::from_str(&text).expect("one JSON object per frame"));
                }
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }

    /// Frames until `wait` passes without one.
    async fn drain(&mut self, wait: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(v) = self.next(wait).await {
            out.push(v);
        }
        out
    }

    /// Waits (5 s at most) for the server's close frame and returns its code.
    async fn close_code(&mut self) -> CloseCode {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .expect("the server closes the socket")
                .expect("a close frame before the end")
                .expect("a clean close");
            if let Message::Close(frame) = msg {
                return frame.expect("a close code").code;
            }
        }
    }
}

#[tokio::test]
async fn a_ticket_connects_and_the_socket_sees_lifecycle_and_message_events_once() {
    let node = TestNode::start().await;
    let minted = mint(&node, &node.key, json!({})).await;
    assert_eq!(minted.status, 201, "{minted:?}");
    let ticket = minted.body["ticket"].as_str().unwrap();
    assert!(ticket.starts_with("rt_") && ticket.len() == 35, "{ticket}");
    assert_eq!(minted.body["expiresInSeconds"], 30);
    assert_eq!(
        minted.body["url"],
        format!("/api/v1/realtime?ticket={ticket}")
    );
    let mut socket = Socket::open(&node, ticket).await;
    let id = traffic(&node, 3).await;
    let seen = socket.drain(Duration::from_millis(1500)).await;
    assert_pairing_and_texts_once(&node, &seen, &id).await;
}

#[tokio::test]
async fn a_ticket_is_redeemed_once() {
    let node = TestNode::start().await;
    let ticket = ticket(&node, &node.key, json!({})).await;
    let _first = Socket::open(&node, &ticket).await;
    let (status, body) = dial(&node, &ticket, None).await.err().expect("refused");
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    assert_eq!(body["error"]["message"], "invalid or expired ticket");
}

#[tokio::test]
async fn missing_unknown_and_expired_tickets_are_401() {
    let node = TestNode::start().await;
    let missing = node.call(None, Method::GET, "/api/v1/realtime", None).await;
    assert_eq!((missing.status, missing.message()), (401, "missing ticket"));
    let (status, body) = dial(&node, "", None).await.err().expect("refused");
    assert_eq!(
        (status, &body["error"]["message"]),
        (401, &json!("missing ticket"))
    );

    let unknown = RawTicket::generate();
    let (status, body) = dial(&node, unknown.expose(), None)
        .await
        .err()
        .expect("refused");
    assert_eq!(status, 401);
    assert_eq!(body["error"]["message"], "invalid or expired ticket");

    // A ticket past its 30 seconds, as another node would have stored it.
    let expired = RawTicket::generate();
    let now = wagate_test_support::jwt::unix_now() as i64 * 1000;
    node.store()
        .insert_realtime_ticket(&StoredTicket {
            hash: expired.digest(),
            subscription: "{}".into(),
            created_at: now - 60_000,
            expires_at: now - 30_000,
        })
        .await
        .unwrap();
    let (status, body) = dial(&node, expired.expose(), None)
        .await
        .err()
        .expect("refused");
    assert_eq!(status, 401);
    assert_eq!(body["error"]["message"], "invalid or expired ticket");
}

#[tokio::test]
async fn minting_refuses_what_the_caller_may_not_see() {
    let node = TestNode::start().await;
    let org = node.default_org().await;
    let ours = node.create_session("ours").await;
    let stranger = node.new_org_key("events").await;
    let no_events = node.key_in(&org, "read,send,manage", None).await;
    let refusals = [
        (
            &node.key,
            json!({"scope": "everything"}),
            400,
            "scope must be one of session|organization|firehose",
        ),
        (
            &node.key,
            json!({"scope": "session"}),
            400,
            "session is required for scope=session",
        ),
        (
            &node.key,
            json!({"scope": "session", "session": " "}),
            400,
            "session is required for scope=session",
        ),
        (
            &stranger.key,
            json!({"scope": "session", "session": ours}),
            404,
            "session not found",
        ),
        (
            &node.key,
            json!({"scope": "session", "session": "sess_01JAAAAAAAAAAAAAAAAAAAAAAA"}),
            404,
            "session not found",
        ),
        (
            &no_events.key,
            json!({}),
            403,
            "missing required capability: events",
        ),
        (
            &no_events.key,
            json!({"scope": "session", "session": ours}),
            403,
            "missing required capability: events",
        ),
        (
            &node.key,
            json!({"scope": "firehose"}),
            403,
            "firehose requires super_admin",
        ),
        (
            &node.key,
            json!({"events": [" ", ""]}),
            400,
            "events filter matches no event types",
        ),
        (
            &node.key,
            json!({"events": "message"}),
            400,
            "invalid ticket request body",
        ),
    ];
    for (key, body, status, message) in refusals {
        let reply = mint(&node, key, body.clone()).await;
        assert_eq!((reply.status, reply.message()), (status, message), "{body}");
    }
    let unparsable = node
        .req(Method::POST, TICKET)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(unparsable.status(), 400);
    let body: Value = unparsable.json().await.unwrap();
    assert_eq!(body["error"]["message"], "invalid ticket request body");
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(70 * 1024));
    let too_large = node
        .req(Method::POST, TICKET)
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(too_large.status(), 413);
    let unauthenticated = node.call(None, Method::POST, TICKET, None).await;
    assert_eq!(unauthenticated.status, 401);

    // Empty body, unknown keys and a session of one's own are all fine.
    let empty = node.req(Method::POST, TICKET).send().await.unwrap();
    assert_eq!(empty.status(), 201);
    for body in [
        json!({"unknown": true, "gateway": "x"}),
        json!({"scope": "session", "session": ours, "events": ["*"]}),
        Value::Null,
    ] {
        assert_eq!(
            mint(&node, &node.key, body.clone()).await.status,
            201,
            "{body}"
        );
    }
}

#[tokio::test]
async fn replay_after_a_reconnect_with_since_has_no_gap() {
    let node = TestNode::start().await;
    let mut full = Socket::open(&node, &ticket(&node, &node.key, json!({})).await).await;
    let mut early = Socket::open(&node, &ticket(&node, &node.key, json!({})).await).await;
    traffic(&node, 4).await;
    let everything = full.drain(Duration::from_millis(1500)).await;
    assert!(everything.len() >= 8, "{everything:?}");
    let mut read = Vec::new();
    for _ in 0..3 {
        read.push(early.next(Duration::from_secs(2)).await.unwrap());
    }
    drop(early);
    let since = read[2]["id"].as_str().unwrap().to_owned();
    peer_sends(&node, "while away").await;
    let later = full.drain(Duration::from_millis(1500)).await;
    let resumed_ticket = ticket(&node, &node.key, json!({"since": since})).await;
    let mut back = Socket::open(&node, &resumed_ticket).await;
    let resumed = back.drain(Duration::from_millis(1500)).await;
    let mut expected = ids(&everything);
    expected.extend(ids(&later));
    let mut got = ids(&read);
    got.extend(ids(&resumed));
    assert_eq!(got, expected);
}

#[tokio::test]
async fn another_organizations_events_never_reach_the_socket() {
    let node = TestNode::start().await;
    let stranger = node.new_org_key("events").await;
    let theirs = ticket(&node, &stranger.key, json!({})).await;
    let mut theirs = Socket::open(&node, &theirs).await;
    let messages = ticket(&node, &node.key, json!({"events": ["message"]})).await;
    let mut messages = Socket::open(&node, &messages).await;
    traffic(&node, 2).await;
    assert_eq!(
        types(&messages.drain(Duration::from_millis(1500)).await),
        ["message", "message"]
    );
    let foreign = theirs.drain(Duration::from_millis(300)).await;
    assert!(
        foreign.is_empty(),
        "another organization's events: {foreign:?}"
    );
    // Nor through a replay.
    let replay = ticket(
        &node,
        &stranger.key,
        json!({"since": "evt_01JAAAAAAAAAAAAAAAAAAAAAAA"}),
    )
    .await;
    let mut replay = Socket::open(&node, &replay).await;
    assert!(replay.drain(Duration::from_millis(300)).await.is_empty());
}

#[tokio::test]
async fn a_session_ticket_sees_only_that_session() {
    let node = TestNode::start().await;
    let quiet = node.create_session("quiet").await;
    let only_quiet = ticket(
        &node,
        &node.key,
        json!({"scope": "session", "session": quiet}),
    )
    .await;
    let mut socket = Socket::open(&node, &only_quiet).await;
    traffic(&node, 1).await;
    let seen = socket.drain(Duration::from_millis(1000)).await;
    assert!(seen.is_empty(), "another session's events: {seen:?}");
}

#[tokio::test]
async fn cross_origin_upgrades_need_the_cors_allow_list() {
    let node = TestNode::start_with(|c| c.cors_origins = vec!["https://app.example".into()]).await;
    let refused = ticket(&node, &node.key, json!({})).await;
    let (status, body) = dial(&node, &refused, Some("https://evil.example"))
        .await
        .err()
        .expect("refused");
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "forbidden");
    for origin in ["https://app.example", node.base.as_str()] {
        let ticket = ticket(&node, &node.key, json!({})).await;
        let mut socket = dial(&node, &ticket, Some(origin)).await.expect(origin);
        let first = socket.next(Duration::from_secs(5)).await.unwrap();
        assert_eq!(first["event"], "connected", "{origin}");
    }
}

#[tokio::test]
async fn the_ticket_url_follows_the_public_url() {
    let node = TestNode::start_with(|c| c.public_url = Some("http://gw.example:8080".into())).await;
    let minted = mint(&node, &node.key, json!({})).await;
    let ticket = minted.body["ticket"].as_str().unwrap();
    assert_eq!(
        minted.body["url"],
        format!("ws://gw.example:8080/api/v1/realtime?ticket={ticket}")
    );
}

#[tokio::test]
async fn revoking_the_key_closes_its_socket_with_1000() {
    let node = TestNode::start().await;
    let org = node.default_org().await;
    let doomed = node.key_in(&org, "events", None).await;
    let kept = node.key_in(&org, "events", None).await;
    let mut closing = Socket::open(&node, &ticket(&node, &doomed.key, json!({})).await).await;
    let mut staying = Socket::open(&node, &ticket(&node, &kept.key, json!({})).await).await;
    revoke_over_rest(&node, &doomed.id).await;
    assert_eq!(closing.close_code().await, CloseCode::Normal);
    traffic(&node, 1).await;
    assert!(!staying.drain(Duration::from_millis(1000)).await.is_empty());
}

#[tokio::test]
async fn a_revocation_made_by_another_process_closes_the_socket() {
    let node = TestNode::start().await;
    let org = node.default_org().await;
    let doomed = node.key_in(&org, "events", None).await;
    let mut socket = Socket::open(&node, &ticket(&node, &doomed.key, json!({})).await).await;
    // Straight into the shared store, as `wagate keys revoke` or another node does.
    let now = wagate_test_support::jwt::unix_now() as i64 * 1000;
    let id = ApiKeyId::parse(&doomed.id).unwrap();
    assert!(node.store().revoke_api_key(None, &id, now).await.unwrap());
    assert_eq!(socket.close_code().await, CloseCode::Normal);
}

#[tokio::test]
async fn a_ticket_of_a_key_revoked_before_it_is_used_is_refused() {
    let node = TestNode::start().await;
    let org = node.default_org().await;
    let doomed = node.key_in(&org, "events", None).await;
    let ticket = ticket(&node, &doomed.key, json!({})).await;
    let id = ApiKeyId::parse(&doomed.id).unwrap();
    assert!(node.store().revoke_api_key(None, &id, 1).await.unwrap());
    let (status, body) = dial(&node, &ticket, None).await.err().expect("refused");
    assert_eq!(
        (status, &body["error"]["message"]),
        (401, &json!("invalid or expired ticket"))
    );
}

#[tokio::test]
async fn shutdown_closes_the_socket_with_1000() {
    let node = TestNode::start().await;
    let mut socket = Socket::open(&node, &ticket(&node, &node.key, json!({})).await).await;
    let stopped = tokio::time::timeout(Duration::from_secs(10), node.stop())
        .await
        .expect("an open socket does not hold shutdown up");
    drop(stopped);
    assert_eq!(socket.close_code().await, CloseCode::Normal);
}

#[tokio::test]
async fn the_firehose_is_for_super_admins_and_sees_every_organization() {
    let key = SigningKey::ed25519("k1");
    let (_jwks, node) = node_trusting(&key).await;
    let mut c = claims(ISS, AUD, "root", None, None);
    c["role"] = json!("super_admin");
    let token = key.sign(&c);
    let firehose = ticket(
        &node,
        &token,
        json!({"scope": "firehose", "since": "evt_01JAAAAAAAAAAAAAAAAAAAAAAA"}),
    )
    .await;
    let mut socket = Socket::open(&node, &firehose).await;
    let member = key.sign(&claims(ISS, AUD, "m", Some("org-m"), Some("member")));
    let refused = mint(&node, &member, json!({"scope": "firehose"})).await;
    assert_eq!(
        (refused.status, refused.message()),
        (403, "firehose requires super_admin")
    );
    let no_org = mint(&node, &token, json!({})).await;
    assert_eq!(
        (no_org.status, no_org.message()),
        (403, "no active organization")
    );

    let id = traffic(&node, 1).await;
    let seen = socket.drain(Duration::from_millis(1500)).await;
    assert!(
        seen.iter()
            .any(|e| e["event"] == "message" && e["session"] == id.as_str()),
        "{seen:?}"
    );
    // The default organization is not the super-admin's own: the firehose reaches it anyway.
    assert_eq!(seen[0]["organization"], node.default_org().await.as_str());
}
