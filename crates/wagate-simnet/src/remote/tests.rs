//! The remote sim engine against an engine endpoint served on loopback.

use std::time::Duration;

use futures::StreamExt as _;
use futures::stream::BoxStream;
use wagate_domain::{Engine, EngineError, EngineEvent, OpenMode, SessionId};

use super::*;
use crate::{Network, SimTimings, control_router};

const PHONE: &str = "6281234567890";
const WAIT: Duration = Duration::from_secs(10);

/// A network served with the control API and the engine endpoint; returns its base URL.
async fn serve(network: &Network) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = control_router(network.clone()).merge(engine_router(network.clone()));
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

fn network() -> Network {
    let network = Network::new(SimTimings {
        first_qr: Duration::from_secs(60),
        next_qr: Duration::from_secs(60),
        qr_codes: 6,
        connect_delay: Duration::ZERO,
    });
    network.add_phone(PHONE, Some("Alice")).unwrap();
    network
}

async fn next(events: &mut BoxStream<'static, EngineEvent>) -> Option<EngineEvent> {
    tokio::time::timeout(WAIT, events.next())
        .await
        .expect("event within the time limit")
}

async fn eventually(what: &str, check: impl Fn() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("never: {what}");
}

#[tokio::test]
async fn pairs_by_qr_over_http_and_resumes_after_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sim-devices");
    let network = network();
    let url = serve(&network).await;
    let session = SessionId::generate();
    let engine = RemoteSimEngine::new(format!("{url}/"), dir.clone());
    assert!(!engine.is_paired(&session).await.unwrap());
    assert!(matches!(
        engine.open(&session, OpenMode::Resume).await,
        Err(EngineError::NotPaired)
    ));

    let mut link = engine.open(&session, OpenMode::PairQr).await.unwrap();
    let Some(EngineEvent::Qr { code, valid_for }) = next(&mut link.events).await else {
        panic!("expected a QR code");
    };
    assert_eq!(valid_for, Duration::from_secs(60));
    network.scan(PHONE, &code).unwrap();
    let Some(EngineEvent::Paired(account)) = next(&mut link.events).await else {
        panic!("expected Paired");
    };
    assert_eq!(account.jid, format!("{PHONE}:1@s.whatsapp.net"));
    assert_eq!(next(&mut link.events).await, Some(EngineEvent::Connected));
    assert!(engine.is_paired(&session).await.unwrap());
    assert!(network.is_online(session.as_str()));

    link.client.disconnect().await;
    assert_eq!(next(&mut link.events).await, None, "stream ends on close");
    assert!(!network.is_online(session.as_str()));
    drop(engine);

    let restarted = RemoteSimEngine::new(url, dir);
    let mut link = restarted.open(&session, OpenMode::Resume).await.unwrap();
    assert_eq!(next(&mut link.events).await, Some(EngineEvent::Connected));
    assert!(network.is_online(session.as_str()));

    // The caller going away closes the connection on the network.
    drop(link);
    eventually("the dropped stream closes the connection", || {
        !network.is_online(session.as_str())
    })
    .await;

    restarted.forget(&session).await.unwrap();
    assert!(!restarted.is_paired(&session).await.unwrap());
}

#[tokio::test]
async fn drop_logout_and_refusals_cross_the_wire() {
    let tmp = tempfile::tempdir().unwrap();
    let network = network();
    let url = serve(&network).await;
    let engine = RemoteSimEngine::new(url, tmp.path().join("d"));
    let session = SessionId::generate();

    let err = engine
        .open(
            &session,
            OpenMode::PairCode {
                phone: "6289999999999".into(),
            },
        )
        .await
        .err()
        .expect("unknown phone is refused");
    assert!(matches!(err, EngineError::Rejected(_)), "{err:?}");

    let mut link = engine
        .open(
            &session,
            OpenMode::PairCode {
                phone: PHONE.into(),
            },
        )
        .await
        .unwrap();
    let code = link.pairing_code.clone().expect("a pairing code");
    network.enter_code(PHONE, &code).unwrap();
    assert!(matches!(
        next(&mut link.events).await,
        Some(EngineEvent::Paired(_))
    ));
    assert_eq!(next(&mut link.events).await, Some(EngineEvent::Connected));

    network.drop_connection(session.as_str()).unwrap();
    assert!(matches!(
        next(&mut link.events).await,
        Some(EngineEvent::Disconnected { .. })
    ));
    assert_eq!(next(&mut link.events).await, None);

    let mut link = engine.open(&session, OpenMode::Resume).await.unwrap();
    assert_eq!(next(&mut link.events).await, Some(EngineEvent::Connected));
    link.client.logout().await.unwrap();
    assert_eq!(next(&mut link.events).await, None);
    assert!(network.linked_devices(PHONE).is_empty());
}

#[tokio::test]
async fn an_unreachable_simnet_is_unavailable() {
    let tmp = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let engine = RemoteSimEngine::new(format!("http://127.0.0.1:{port}"), tmp.path().into());
    let err = engine
        .open(&SessionId::generate(), OpenMode::PairQr)
        .await
        .err()
        .expect("no simnet");
    assert!(matches!(err, EngineError::Unavailable(_)), "{err:?}");
}
