//! The real engine against loopback endpoints that are not WhatsApp: connections that cannot be
//! established must end the event stream with `Disconnected { reason: "unreachable: …" }`
//! quickly (decisions.md D6), so the session manager's backoff runs. No test here reaches the
//! network: the websocket URL points at 127.0.0.1 and the app version is fixed.

use std::time::Duration;

use futures::StreamExt;
use tokio::net::TcpListener;
use wagate_domain::{Engine, EngineError, EngineEvent, EngineLink, OpenMode, SessionId};
use wagate_engine_whatsapp::WhatsAppEngine;

/// Far below the crate's 20 s connect timeout: a refused or closed connection must not wait it.
const QUICKLY: Duration = Duration::from_secs(10);

fn engine(dir: &tempfile::TempDir, url: &str) -> WhatsAppEngine {
    WhatsAppEngine::new(dir.path().join("keys"), "wagate-test".into())
        .with_websocket_url(url)
        .with_app_version(2, 3000, 1)
}

/// A loopback address nothing listens on.
async fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("ws://{addr}/ws/chat")
}

/// A loopback listener that accepts every connection and closes it at once.
async fn hang_up_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    format!("ws://{addr}/ws/chat")
}

/// A loopback listener that accepts every connection and never answers.
async fn silent_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("ws://{addr}/ws/chat")
}

/// Every event of `link` until its stream ends; fails if that takes longer than [`QUICKLY`].
async fn all_events(link: EngineLink) -> Vec<EngineEvent> {
    tokio::time::timeout(QUICKLY, link.events.collect::<Vec<_>>())
        .await
        .expect("the event stream should end quickly")
}

fn assert_unreachable(events: &[EngineEvent]) {
    match events {
        [EngineEvent::Disconnected { reason }] => {
            assert!(reason.starts_with("unreachable: "), "reason: {reason}");
        }
        other => panic!("expected one Disconnected, got {other:?}"),
    }
}

#[tokio::test]
async fn qr_pairing_against_a_closed_port_ends_with_unreachable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(&dir, &closed_port_url().await);
    let link = engine
        .open(&SessionId::generate(), OpenMode::PairQr)
        .await
        .expect("open");
    assert_unreachable(&all_events(link).await);
}

#[tokio::test]
async fn qr_pairing_against_a_listener_that_hangs_up_ends_with_unreachable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(&dir, &hang_up_url().await);
    let link = engine
        .open(&SessionId::generate(), OpenMode::PairQr)
        .await
        .expect("open");
    assert_unreachable(&all_events(link).await);
}

#[tokio::test]
async fn pairing_code_against_a_closed_port_is_unavailable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(&dir, &closed_port_url().await);
    let opened = tokio::time::timeout(
        QUICKLY,
        engine.open(
            &SessionId::generate(),
            OpenMode::PairCode {
                phone: "15551234567".into(),
            },
        ),
    )
    .await
    .expect("open should fail quickly");
    match opened {
        Err(EngineError::Unavailable(reason)) => {
            assert!(reason.starts_with("unreachable: "), "reason: {reason}");
        }
        Err(other) => panic!("expected Unavailable, got {other:?}"),
        Ok(_) => panic!("expected Unavailable, got a link"),
    }
}

#[tokio::test]
async fn disconnect_while_connecting_ends_the_stream_without_an_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(&dir, &silent_url().await);
    let link = engine
        .open(&SessionId::generate(), OpenMode::PairQr)
        .await
        .expect("open");
    tokio::time::timeout(QUICKLY, link.client.disconnect())
        .await
        .expect("disconnect should return quickly");
    assert_eq!(all_events(link).await, Vec::<EngineEvent>::new());
}

#[tokio::test]
async fn resuming_an_unpaired_session_is_not_paired() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(&dir, &closed_port_url().await);
    let session = SessionId::generate();
    assert!(!engine.is_paired(&session).await.expect("is_paired"));
    match engine.open(&session, OpenMode::Resume).await {
        Err(EngineError::NotPaired) => {}
        Err(other) => panic!("expected NotPaired, got {other:?}"),
        Ok(_) => panic!("expected NotPaired, got a link"),
    }
    assert!(!engine.keystore_path(&session).expect("path").exists());
}

#[tokio::test]
async fn resuming_a_keystore_without_a_device_is_not_paired() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(&dir, &closed_port_url().await);
    let session = SessionId::generate();
    let link = engine.open(&session, OpenMode::PairQr).await.expect("open");
    all_events(link).await;
    assert!(!engine.is_paired(&session).await.expect("is_paired"));
    assert!(matches!(
        engine.open(&session, OpenMode::Resume).await,
        Err(EngineError::NotPaired)
    ));
}

#[tokio::test]
async fn forget_removes_the_keystore_of_an_opened_session() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(&dir, &closed_port_url().await);
    let session = SessionId::generate();
    let link = engine.open(&session, OpenMode::PairQr).await.expect("open");
    all_events(link).await;
    let keystore = engine.keystore_path(&session).expect("path");
    assert!(keystore.exists());
    engine.forget(&session).await.expect("forget");
    assert!(!keystore.exists());
    assert!(!engine.is_paired(&session).await.expect("is_paired"));
}
