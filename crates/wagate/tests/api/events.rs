//! The NDJSON event stream over HTTP (events.md §4, D5): every event logged before it is seen,
//! lifecycle and message events once each, replay after `since` with no gap and no duplicate,
//! organization isolation, type filters.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_test_support::node::TestNode;

const ME: &str = "628111000001";
const PEER: &str = "628111000002";

/// An open NDJSON stream, read line by line.
struct Lines {
    res: reqwest::Response,
    buf: Vec<u8>,
}

impl Lines {
    async fn open(node: &TestNode, key: &str, query: &str) -> Self {
        let res = node
            .with_key(key, Method::GET, &format!("/api/v1/events{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/x-ndjson");
        let mut lines = Self {
            res,
            buf: Vec::new(),
        };
        let first = lines.next(Duration::from_secs(5)).await.expect("connected");
        assert_eq!(first["event"], "connected");
        assert_eq!(first["heartbeatSeconds"], 20);
        lines
    }

    /// The next line within `wait`, or `None`.
    async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=end).collect();
                return Some(serde_json::from_slice(&line).expect("one JSON object per line"));
            }
            let chunk = tokio::time::timeout_at(deadline, self.res.chunk())
                .await
                .ok()?;
            self.buf.extend_from_slice(&chunk.ok()??);
        }
    }

    /// Envelopes until `wait` passes without one.
    async fn drain(&mut self, wait: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(v) = self.next(wait).await {
            out.push(v);
        }
        out
    }
}

/// Pairs a session and has `PEER` send it `n` texts; returns the session id.
pub(crate) async fn traffic(node: &TestNode, n: usize) -> String {
    let id = node.create_session("events").await;
    node.pair_by_qr(&id, ME).await;
    node.wait_for_status(&id, "working").await;
    node.sim_phone(PEER).await;
    for i in 0..n {
        peer_sends(node, &format!("m{i}")).await;
    }
    id
}

/// Revokes key `id` through the API with the bootstrap key.
pub(crate) async fn revoke_over_rest(node: &TestNode, id: &str) {
    let revoke = node
        .call(
            Some(&node.key),
            Method::DELETE,
            &format!("/api/v1/api-keys/{id}"),
            None,
        )
        .await;
    assert_eq!(revoke.status, 204, "{revoke:?}");
}

/// `PEER` sends `text` to the paired session.
pub(crate) async fn peer_sends(node: &TestNode, text: &str) {
    let sent = node
        .sim(
            Method::POST,
            &format!("/_sim/phones/{PEER}/messages"),
            Some(json!({"to": format!("{ME}@s.whatsapp.net"), "text": text})),
        )
        .await;
    assert_eq!(sent.status, 201, "{sent:?}");
}

pub(crate) fn types(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["event"].as_str()).collect()
}

pub(crate) fn ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn the_stream_sees_lifecycle_and_message_events_once() {
    let node = TestNode::start().await;
    let mut stream = Lines::open(&node, &node.key, "").await;
    let id = traffic(&node, 3).await;
    let seen = stream.drain(Duration::from_millis(1500)).await;
    assert_pairing_and_texts_once(&node, &seen, &id).await;
}

/// What a stream open while [`traffic`] ran with three texts must have seen: the pairing's
/// lifecycle events, the texts in order, every event once and in id order, as envelopes.
pub(crate) async fn assert_pairing_and_texts_once(node: &TestNode, seen: &[Value], session: &str) {
    let kinds = types(seen);
    for expected in ["session.status", "auth.qr", "auth.code"] {
        assert!(
            kinds.contains(&expected),
            "{expected} missing from {kinds:?}"
        );
    }
    let texts: Vec<&str> = seen
        .iter()
        .filter(|e| e["event"] == "message")
        .filter_map(|e| e["payload"]["body"].as_str())
        .collect();
    assert_eq!(texts, ["m0", "m1", "m2"]);
    let all = ids(seen);
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), all.len(), "an event arrived twice");
    assert_eq!(unique, all, "events arrive in id order");
    let first = &seen[0];
    assert_eq!(first["schema"], "v1");
    assert_eq!(first["session"], session);
    assert_eq!(first["organization"], node.default_org().await.as_str());
    assert!(first["timestamp"].as_i64().is_some());
}

#[tokio::test]
async fn replay_after_a_reconnect_has_no_gap_and_no_duplicate() {
    let node = TestNode::start().await;
    let mut full = Lines::open(&node, &node.key, "").await;
    let mut early = Lines::open(&node, &node.key, "").await;
    traffic(&node, 4).await;
    let everything = full.drain(Duration::from_millis(1500)).await;
    assert!(everything.len() >= 8, "{everything:?}");
    // One subscriber read a few events, then went away.
    let mut read = Vec::new();
    for _ in 0..3 {
        read.push(early.next(Duration::from_secs(2)).await.unwrap());
    }
    drop(early);
    let since = read[2]["id"].as_str().unwrap();
    // More traffic while it is away, then it comes back with `since`.
    peer_sends(&node, "while away").await;
    let later = full.drain(Duration::from_millis(1500)).await;
    let mut back = Lines::open(&node, &node.key, &format!("?since={since}")).await;
    let resumed = back.drain(Duration::from_millis(1500)).await;
    let mut expected = ids(&everything);
    expected.extend(ids(&later));
    let mut got = ids(&read);
    got.extend(ids(&resumed));
    assert_eq!(got, expected);

    // A cursor the log does not hold replays from the oldest event.
    let mut lost = Lines::open(&node, &node.key, "?since=evt_01JAAAAAAAAAAAAAAAAAAAAAAA").await;
    let replayed = lost.drain(Duration::from_millis(1500)).await;
    assert_eq!(ids(&replayed), expected);
}

#[tokio::test]
async fn filters_and_isolation() {
    let node = TestNode::start().await;
    let stranger = node.new_org_key("events").await;
    let mut theirs = Lines::open(&node, &stranger.key, "").await;
    let mut messages = Lines::open(&node, &node.key, "?types=message").await;
    let mut aliased = Lines::open(&node, &node.key, "?events=auth.code").await;
    let id = traffic(&node, 2).await;
    let mut other_session = Lines::open(
        &node,
        &node.key,
        "?session=sess_01JAAAAAAAAAAAAAAAAAAAAAAA&since=evt_01JAAAAAAAAAAAAAAAAAAAAAAA",
    )
    .await;

    assert_eq!(
        types(&messages.drain(Duration::from_millis(1500)).await),
        ["message", "message"]
    );
    assert_eq!(
        types(&aliased.drain(Duration::from_millis(1000)).await),
        ["auth.code"]
    );
    let foreign = theirs.drain(Duration::from_millis(300)).await;
    assert!(
        foreign.is_empty(),
        "another organization's events: {foreign:?}"
    );
    assert!(
        other_session
            .drain(Duration::from_millis(300))
            .await
            .is_empty(),
        "events of {id} leaked into another session's stream"
    );
    // Replays stay in the organization too.
    let mut their_replay = Lines::open(
        &node,
        &stranger.key,
        "?since=evt_01JAAAAAAAAAAAAAAAAAAAAAAA",
    )
    .await;
    assert!(
        their_replay
            .drain(Duration::from_millis(300))
            .await
            .is_empty()
    );

    let bad = node.get("/api/v1/events?types=,%20").await;
    assert_eq!(
        (bad.status, bad.message()),
        (400, "events filter matches no event types")
    );
    let weak = node.new_org_key("read").await;
    let denied = node
        .call(Some(&weak.key), Method::GET, "/api/v1/events", None)
        .await;
    assert_eq!(denied.status, 403);
}

#[tokio::test]
async fn the_log_outlives_a_restart() {
    let node = TestNode::start().await;
    let mut stream = Lines::open(&node, &node.key, "").await;
    traffic(&node, 2).await;
    let before = stream.drain(Duration::from_millis(1500)).await;
    drop(stream);
    let db = node.stop().await;
    let node = TestNode::start_on(db, |_| {}).await;
    let first = before[0]["id"].as_str().unwrap();
    let mut replay = Lines::open(&node, &node.key, &format!("?since={first}")).await;
    let replayed = replay.drain(Duration::from_millis(1500)).await;
    let replayed_ids = ids(&replayed);
    assert_eq!(
        replayed_ids[..before.len() - 1],
        ids(&before)[1..],
        "the log kept every event of the first run, in order"
    );
}

#[tokio::test]
async fn retention_prunes_events_past_their_age() {
    let node = TestNode::start().await;
    let mut stream = Lines::open(&node, &node.key, "").await;
    traffic(&node, 1).await;
    let old = ids(&stream.drain(Duration::from_millis(500)).await);
    assert!(!old.is_empty());
    drop(stream);
    let db = node.stop().await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let node = TestNode::start_on(db, |c| c.event_retention = Duration::from_millis(10)).await;
    let mut left = old.clone();
    for _ in 0..40 {
        let mut replay =
            Lines::open(&node, &node.key, "?since=evt_01JAAAAAAAAAAAAAAAAAAAAAAA").await;
        let replayed = ids(&replay.drain(Duration::from_millis(100)).await);
        left = old
            .iter()
            .filter(|id| replayed.contains(id))
            .cloned()
            .collect();
        if left.is_empty() {
            break;
        }
    }
    assert!(
        left.is_empty(),
        "events past the retention age are still replayed: {left:?}"
    );
}

#[tokio::test]
async fn revoking_a_key_closes_its_streams() {
    let node = TestNode::start().await;
    let org = node.default_org().await;
    let doomed = node.key_in(&org, "events", None).await;
    let kept = node.key_in(&org, "events", None).await;
    let mut closing = Lines::open(&node, &doomed.key, "").await;
    let mut staying = Lines::open(&node, &kept.key, "").await;
    revoke_over_rest(&node, &doomed.id).await;
    let ended = tokio::time::timeout(Duration::from_secs(5), closing.res.chunk())
        .await
        .expect("the revoked key's stream ends");
    assert!(matches!(ended, Ok(None)), "{ended:?}");
    // Another key's stream goes on receiving events.
    traffic(&node, 1).await;
    assert!(!staying.drain(Duration::from_millis(1000)).await.is_empty());
}
