//! Sessions that pair and stay connected, over HTTP against the in-process simnet
//! (api.md §4.5–4.11, domain.md §4.3–4.5, D6–D7).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_test_support::node::TestNode;

const PHONE: &str = "628111000001";

async fn session_status(node: &TestNode, id: &str) -> Value {
    node.get(&format!("/api/v1/sessions/{id}")).await.body
}

async fn action(node: &TestNode, id: &str, verb: &str) -> (u16, Value) {
    let reply = node
        .call(
            Some(&node.key),
            Method::POST,
            &format!("/api/v1/sessions/{id}:{verb}"),
            None,
        )
        .await;
    (reply.status, reply.body)
}

#[tokio::test]
async fn pair_by_qr_reaches_working_and_me_shows_the_account() {
    let node = TestNode::start().await;
    let id = node.create_session("qr").await;
    node.pair_by_qr(&id, PHONE).await;
    let s = node.wait_for_status(&id, "working").await;
    assert!(
        s["waJid"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{PHONE}:"))
    );
    assert!(s["lastConnectedAt"].as_i64().is_some());
    let me = node.get(&format!("/api/v1/sessions/{id}/me")).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["connected"], true);
    assert_eq!(me.body["sessionId"], id.as_str());
    assert_eq!(me.body["phoneNumber"], PHONE);
    let again = node.get(&format!("/api/v1/sessions/{id}/qr")).await;
    assert_eq!(
        (again.status, again.message()),
        (409, "session is already paired")
    );
}

#[tokio::test]
async fn pair_by_code_reaches_working() {
    let node = TestNode::start().await;
    node.sim_phone(PHONE).await;
    let id = node.create_session("code").await;
    let reply = node
        .post(
            &format!("/api/v1/sessions/{id}/pairing-code"),
            json!({"phone": PHONE}),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let code = reply.body["code"].as_str().unwrap().to_owned();
    assert_eq!(session_status(&node, &id).await["status"], "scan_qr_code");
    let entered = node
        .sim(
            Method::POST,
            &format!("/_sim/phones/{PHONE}:enter-code"),
            Some(json!({"code": code})),
        )
        .await;
    assert_eq!(entered.status, 204, "{:?}", entered.body);
    node.wait_for_status(&id, "working").await;
}

#[tokio::test]
async fn pairing_code_errors() {
    let node = TestNode::start().await;
    let id = node.create_session("code").await;
    let path = format!("/api/v1/sessions/{id}/pairing-code");
    let missing = node.post(&path, json!({})).await;
    assert_eq!(
        (missing.status, missing.message()),
        (400, "phone is required")
    );
    let bad = node.post(&path, json!({"phone": "12-34"})).await;
    assert_eq!(bad.status, 400);
    let extra = node.post(&path, json!({"phone": PHONE, "x": 1})).await;
    assert_eq!(extra.status, 400);
}

#[tokio::test]
async fn a_dropped_connection_comes_back_by_itself() {
    let node = TestNode::start().await;
    let id = node.create_session("drop").await;
    node.pair_by_qr(&id, PHONE).await;
    let before = node.wait_for_status(&id, "working").await["lastConnectedAt"]
        .as_i64()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let dropped = node
        .sim(Method::POST, &format!("/_sim/sessions/{id}:drop"), None)
        .await;
    assert_eq!(dropped.status, 204);
    let after = node
        .wait_until(&id, |s| {
            s["status"] == "working" && s["lastConnectedAt"].as_i64() > Some(before)
        })
        .await;
    assert!(after["lastConnectedAt"].as_i64().unwrap() > before);
}

#[tokio::test]
async fn unlink_on_the_phone_logs_out_and_the_session_can_pair_again() {
    let node = TestNode::start().await;
    let id = node.create_session("unlink").await;
    node.pair_by_qr(&id, PHONE).await;
    node.wait_for_status(&id, "working").await;
    let unlinked = node
        .sim(
            Method::POST,
            &format!("/_sim/phones/{PHONE}:unlink"),
            Some(json!({"session": id})),
        )
        .await;
    assert_eq!(unlinked.status, 204);
    let s = node.wait_for_status(&id, "logged_out").await;
    assert!(s.get("waJid").is_none(), "pairing cleared");
    assert_eq!(
        node.get(&format!("/api/v1/sessions/{id}/me")).await.status,
        404
    );
    let (status, _) = action(&node, &id, "start").await;
    assert_eq!(status, 400, "no device to start");
    node.pair_by_qr(&id, PHONE).await;
    node.wait_for_status(&id, "working").await;
}

#[tokio::test]
async fn stop_start_restart_logout_are_idempotent() {
    let node = TestNode::start().await;
    let id = node.create_session("cycle").await;
    node.pair_by_qr(&id, PHONE).await;
    node.wait_for_status(&id, "working").await;
    for _ in 0..2 {
        let (status, s) = action(&node, &id, "stop").await;
        assert_eq!((status, s["status"].as_str()), (200, Some("stopped")));
    }
    for _ in 0..2 {
        let (status, _) = action(&node, &id, "start").await;
        assert_eq!(status, 200);
        node.wait_for_status(&id, "working").await;
    }
    let (status, _) = action(&node, &id, "restart").await;
    assert_eq!(status, 200);
    node.wait_for_status(&id, "working").await;
    for _ in 0..2 {
        let (status, s) = action(&node, &id, "logout").await;
        assert_eq!((status, s["status"].as_str()), (200, Some("logged_out")));
        assert!(s.get("waJid").is_none());
    }
    let (status, _) = action(&node, &id, "restart").await;
    assert_eq!(status, 400, "a logged-out session has nothing to restart");
}

#[tokio::test]
async fn start_of_an_unpaired_session_is_400() {
    let node = TestNode::start().await;
    let id = node.create_session("new").await;
    let (status, body) = action(&node, &id, "start").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "session not paired; use QR or pairing code"
    );
}

#[tokio::test]
async fn me_of_an_unpaired_session_is_404() {
    let node = TestNode::start().await;
    let id = node.create_session("new").await;
    let me = node.get(&format!("/api/v1/sessions/{id}/me")).await;
    assert_eq!((me.status, me.message()), (404, "session is not paired"));
}

#[tokio::test]
async fn qr_png_decodes_to_the_same_code_as_the_json() {
    let node = TestNode::start().await;
    let id = node.create_session("png").await;
    let json = node.get(&format!("/api/v1/sessions/{id}/qr")).await;
    assert_eq!(json.status, 200);
    let code = json.body["code"].as_str().unwrap();
    assert!(json.body["expiresAt"].as_i64().unwrap() > 0);
    let png = node
        .req(Method::GET, &format!("/api/v1/sessions/{id}/qr?format=png"))
        .send()
        .await
        .unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    let bytes = png.bytes().await.unwrap();
    assert_eq!(decode_qr_png(&bytes), code);
    let svg = node
        .req(Method::GET, &format!("/api/v1/sessions/{id}/qr?format=svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<svg"));
    let bad = node
        .get(&format!("/api/v1/sessions/{id}/qr?format=gif"))
        .await;
    assert_eq!(bad.status, 400);
}

fn decode_qr_png(bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().unwrap().1
}

#[tokio::test]
async fn lifecycle_events_are_published_once_each() {
    let node = TestNode::start().await;
    let mut events = node.events();
    let id = node.create_session("events").await;
    node.pair_by_qr(&id, PHONE).await;
    node.wait_for_status(&id, "working").await;
    let seen = node.drain_events(&mut events, &id).await;
    let kinds: Vec<String> = seen.iter().map(|(t, p)| format!("{t}:{p}")).collect();
    let count = |k: &str| kinds.iter().filter(|x| x.as_str() == k).count();
    assert_eq!(count("session.status:scan_qr_code"), 1, "{kinds:?}");
    assert_eq!(count("auth.qr:"), 1, "{kinds:?}");
    assert_eq!(count("auth.code:"), 1, "{kinds:?}");
    assert_eq!(count("session.status:starting"), 1, "{kinds:?}");
    assert_eq!(count("session.status:working"), 1, "{kinds:?}");
    let order: Vec<&str> = kinds.iter().map(String::as_str).collect();
    assert_eq!(
        order,
        vec![
            "session.status:scan_qr_code",
            "auth.qr:",
            "session.status:starting",
            "auth.code:",
            "session.status:working"
        ]
    );
}

#[tokio::test]
async fn a_node_restart_with_a_standalone_simnet_resumes_without_pairing_again() {
    let sim = wagate_test_support::node::StandaloneSimnet::start().await;
    let joined = |c: &mut wagate::config::ServeConfig| c.simnet_url = Some(sim.base.clone());
    let node = TestNode::start_with(joined).await;
    let id = node.create_session("resumes").await;
    node.pair_by_qr(&id, PHONE).await;
    let before = node.wait_for_status(&id, "working").await;
    let db = node.stop().await;

    let node = TestNode::start_on(db, joined).await;
    let mut events = node.events();
    let after = node.wait_for_status(&id, "working").await;
    assert_eq!(after["waJid"], before["waJid"], "the same linked device");
    let me = node.get(&format!("/api/v1/sessions/{id}/me")).await;
    assert_eq!(
        (me.status, me.body["connected"].as_bool()),
        (200, Some(true))
    );
    // No QR was involved: the stored device credentials were enough.
    let seen = node.drain_events(&mut events, &id).await;
    assert!(
        seen.iter().all(|(kind, _)| kind != "auth.qr"),
        "a restored session asked for a QR: {seen:?}"
    );
}
