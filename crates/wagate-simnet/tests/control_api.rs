//! The control API over real loopback HTTP, with a sim engine attached to the same network.

use std::time::Duration;

use futures::StreamExt as _;
use futures::stream::BoxStream;
use reqwest::StatusCode;
use serde_json::{Value, json};
use wagate_domain::{Engine, EngineEvent, EngineLink, FatalReason, OpenMode, SessionId};
use wagate_simnet::{Network, SimEngine, SimTimings, control_router};

mod support;

const PHONE: &str = "6281234567890";
const WAIT: Duration = Duration::from_secs(10);

/// A control API served on 127.0.0.1, its network, and a sim engine on that network.
struct Sim {
    base: String,
    http: reqwest::Client,
    engine: SimEngine,
    _devices: tempfile::TempDir,
}

impl Sim {
    async fn start() -> Self {
        let network = Network::new(SimTimings {
            first_qr: Duration::from_secs(60),
            next_qr: Duration::from_secs(60),
            qr_codes: 6,
            connect_delay: Duration::ZERO,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = control_router(network.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let devices = tempfile::tempdir().unwrap();
        Self {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            engine: SimEngine::new(network, devices.path().to_path_buf()),
            _devices: devices,
        }
    }

    async fn post(&self, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        support::call(&self.http, reqwest::Method::POST, url, body).await
    }

    async fn add_phone(&self) {
        let body = json!({"phone": PHONE, "name": "Alice"});
        let (status, _) = self.post("/_sim/phones", Some(body)).await;
        assert!(status.is_success());
    }

    /// Opens a QR pairing connection for a new session; returns it with its first code.
    async fn open_qr(&self) -> (SessionId, EngineLink, String) {
        let session = SessionId::generate();
        let mut link = self.engine.open(&session, OpenMode::PairQr).await.unwrap();
        let Some(EngineEvent::Qr { code, .. }) = next(&mut link.events).await else {
            panic!("expected a QR code");
        };
        (session, link, code)
    }

    /// A session paired and connected through `:scan`.
    async fn paired(&self) -> (SessionId, EngineLink) {
        self.add_phone().await;
        let (session, mut link, qr) = self.open_qr().await;
        let path = format!("/_sim/phones/{PHONE}:scan");
        let (status, _) = self.post(&path, Some(json!({"qr": qr}))).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(matches!(
            next(&mut link.events).await,
            Some(EngineEvent::Paired(_))
        ));
        assert_eq!(next(&mut link.events).await, Some(EngineEvent::Connected));
        (session, link)
    }
}

async fn next(events: &mut BoxStream<'static, EngineEvent>) -> Option<EngineEvent> {
    tokio::time::timeout(WAIT, events.next())
        .await
        .expect("event within the time limit")
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}

#[tokio::test]
async fn create_phone_is_201_then_200_with_the_jid() {
    let sim = Sim::start().await;
    let body = json!({"phone": PHONE, "name": "Alice"});
    let (status, created) = sim.post("/_sim/phones", Some(body.clone())).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created, json!({"jid": format!("{PHONE}@s.whatsapp.net")}));
    let (status, again) = sim.post("/_sim/phones", Some(body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, created);
}

#[tokio::test]
async fn create_phone_with_bad_body_is_validation_error() {
    let sim = Sim::start().await;
    for body in [
        json!({"phone": PHONE, "extra": 1}),
        json!({"phone": 628123456}),
        json!({"name": "Alice"}),
        json!({"phone": "+62 812"}),
    ] {
        let (status, error) = sim.post("/_sim/phones", Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_code(&error), "validation_error");
        assert!(error["error"]["message"].is_string());
    }
    let res = sim
        .http
        .post(format!("{}/_sim/phones", sim.base))
        .body(format!(r#"{{"phone":"{PHONE}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "JSON without content type"
    );
}

#[tokio::test]
async fn scan_of_the_current_qr_pairs_the_session() {
    let sim = Sim::start().await;
    let (session, _link) = sim.paired().await;
    assert!(sim.engine.is_paired(&session).await.unwrap());
    assert!(sim.engine.network().is_online(session.as_str()));
}

#[tokio::test]
async fn scan_of_an_unknown_code_is_validation_error() {
    let sim = Sim::start().await;
    sim.add_phone().await;
    let (_session, _link, _qr) = sim.open_qr().await;
    let path = format!("/_sim/phones/{PHONE}:scan");
    let (status, error) = sim.post(&path, Some(json!({"qr": "2@nope,a,b,c"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&error), "validation_error");
}

#[tokio::test]
async fn scan_by_an_unknown_phone_is_not_found() {
    let sim = Sim::start().await;
    let (_session, _link, qr) = sim.open_qr().await;
    let (status, error) = sim
        .post("/_sim/phones/6299999999:scan", Some(json!({"qr": qr})))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&error), "not_found");
}

#[tokio::test]
async fn enter_code_completes_phone_number_pairing() {
    let sim = Sim::start().await;
    sim.add_phone().await;
    let session = SessionId::generate();
    let mode = OpenMode::PairCode {
        phone: PHONE.to_owned(),
    };
    let mut link = sim.engine.open(&session, mode).await.unwrap();
    let code = link.pairing_code.clone().unwrap();
    let path = format!("/_sim/phones/{PHONE}:enter-code");
    let (status, error) = sim.post(&path, Some(json!({"code": "ZZZZ-ZZZZ"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&error), "validation_error");
    let (status, _) = sim.post(&path, Some(json!({"code": code}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(matches!(
        next(&mut link.events).await,
        Some(EngineEvent::Paired(_))
    ));
    assert_eq!(next(&mut link.events).await, Some(EngineEvent::Connected));
}

#[tokio::test]
async fn unlink_logs_the_session_out() {
    let sim = Sim::start().await;
    let (session, mut link) = sim.paired().await;
    let path = format!("/_sim/phones/{PHONE}:unlink");
    let (status, _) = sim
        .post(&path, Some(json!({"session": session.as_str()})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        next(&mut link.events).await,
        Some(EngineEvent::Fatal(FatalReason::LoggedOut))
    );
    assert_eq!(next(&mut link.events).await, None);
    let (status, error) = sim
        .post(&path, Some(json!({"session": session.as_str()})))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&error), "not_found");
}

#[tokio::test]
async fn drop_cuts_the_connection_once() {
    let sim = Sim::start().await;
    let (session, mut link) = sim.paired().await;
    let path = format!("/_sim/sessions/{session}:drop");
    let (status, body) = sim.post(&path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null);
    assert!(matches!(
        next(&mut link.events).await,
        Some(EngineEvent::Disconnected { .. })
    ));
    assert_eq!(next(&mut link.events).await, None);
    let (status, error) = sim.post(&path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&error), "not_found");
}

#[tokio::test]
async fn drop_of_an_unknown_session_is_not_found() {
    let sim = Sim::start().await;
    let (status, error) = sim.post("/_sim/sessions/sess_nobody:drop", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&error), "not_found");
    assert_ne!(error["error"]["message"], "route not found");
}

#[tokio::test]
async fn unknown_routes_and_methods_get_the_error_body() {
    let sim = Sim::start().await;
    let (status, error) = sim.post("/_sim/nothing-here", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["error"]["message"], "route not found");
    let (status, _) = sim.post("/_sim/sessions/sess_1:explode", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let res = sim
        .http
        .get(format!("{}/_sim/phones", sim.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "POST");
    let error: Value = res.json().await.unwrap();
    assert_eq!(error_code(&error), "method_not_allowed");
}

#[tokio::test]
async fn colons_that_are_not_actions_are_left_alone() {
    let sim = Sim::start().await;
    sim.add_phone().await;
    // A device JID as the last segment is not an action, so nothing routes it.
    let jid_path = format!("/_sim/sessions/{PHONE}:12@s.whatsapp.net");
    let (status, error) = sim.post(&jid_path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["error"]["message"], "route not found");
    // A percent-encoded colon is part of the id, not an action.
    let (status, error) = sim.post("/_sim/sessions/sess_x%3Adrop", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["error"]["message"], "route not found");
    // The internal form is routable too (what an outer rewrite would produce).
    let (status, error) = sim.post("/_sim/sessions/sess_x/~drop", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_ne!(error["error"]["message"], "route not found");
}

#[tokio::test]
async fn control_router_merges_into_another_router() {
    let network = Network::default();
    let app = axum::Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .merge(control_router(network.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();
    let res = http
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = http
        .post(format!("http://{addr}/_sim/phones"))
        .json(&json!({"phone": PHONE}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(network.phone(PHONE).is_some());
}
