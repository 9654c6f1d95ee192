//! The sim engine over a real network and real files in a temporary directory.

use std::time::Duration;

use futures::StreamExt as _;
use futures::stream::BoxStream;
use wagate_domain::{Engine, EngineError, EngineEvent, FatalReason, OpenMode, SessionId};

use super::*;
use crate::SimTimings;

const PHONE: &str = "6281234567890";
const WAIT: Duration = Duration::from_secs(10);

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

/// Pairs `session` by QR through the engine; returns the open link.
async fn pair(engine: &SimEngine, session: &SessionId) -> EngineLink {
    let mut link = engine.open(session, OpenMode::PairQr).await.unwrap();
    let Some(EngineEvent::Qr { code, .. }) = next(&mut link.events).await else {
        panic!("expected a QR code");
    };
    engine.network().scan(PHONE, &code).unwrap();
    let Some(EngineEvent::Paired(account)) = next(&mut link.events).await else {
        panic!("expected Paired");
    };
    assert_eq!(account.jid, format!("{PHONE}:1@s.whatsapp.net"));
    assert_eq!(next(&mut link.events).await, Some(EngineEvent::Connected));
    link
}

fn dir_entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn paired_device_is_stored_and_resumes_after_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sim-devices");
    let network = network();
    let session = SessionId::generate();
    let engine = SimEngine::new(network.clone(), dir.clone());
    assert!(!engine.is_paired(&session).await.unwrap());
    let link = pair(&engine, &session).await;
    assert!(engine.is_paired(&session).await.unwrap());
    assert_eq!(
        dir_entries(&dir),
        vec![format!("{session}.json")],
        "no temp files left"
    );
    link.client.disconnect().await;
    drop(engine);

    let restarted = SimEngine::new(network.clone(), dir);
    assert!(restarted.is_paired(&session).await.unwrap());
    let mut link = restarted.open(&session, OpenMode::Resume).await.unwrap();
    assert_eq!(next(&mut link.events).await, Some(EngineEvent::Connected));
    assert!(network.is_online(session.as_str()));
}

#[tokio::test]
async fn resume_without_a_device_file_is_not_paired() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = SimEngine::new(network(), tmp.path().to_path_buf());
    let err = engine
        .open(&SessionId::generate(), OpenMode::Resume)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, EngineError::NotPaired));
}

#[tokio::test]
async fn resume_of_an_unlinked_device_is_logged_out() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = SimEngine::new(network(), tmp.path().to_path_buf());
    let session = SessionId::generate();
    let mut link = pair(&engine, &session).await;
    engine.network().unlink(PHONE, session.as_str()).unwrap();
    assert_eq!(
        next(&mut link.events).await,
        Some(EngineEvent::Fatal(FatalReason::LoggedOut))
    );
    assert_eq!(next(&mut link.events).await, None);
    let mut again = engine.open(&session, OpenMode::Resume).await.unwrap();
    assert_eq!(
        next(&mut again.events).await,
        Some(EngineEvent::Fatal(FatalReason::LoggedOut))
    );
    assert_eq!(next(&mut again.events).await, None);
}

#[tokio::test]
async fn forget_removes_the_device_file() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = SimEngine::new(network(), tmp.path().to_path_buf());
    let session = SessionId::generate();
    pair(&engine, &session).await;
    engine.forget(&session).await.unwrap();
    assert!(!engine.is_paired(&session).await.unwrap());
    engine.forget(&session).await.unwrap();
}

#[tokio::test]
async fn logout_unlinks_the_device_and_ends_the_stream() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = SimEngine::new(network(), tmp.path().to_path_buf());
    let session = SessionId::generate();
    let mut link = pair(&engine, &session).await;
    link.client.logout().await.unwrap();
    assert_eq!(next(&mut link.events).await, None);
    assert!(engine.network().linked_devices(PHONE).is_empty());
}

#[tokio::test]
async fn dropped_connection_reports_disconnected_then_ends() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = SimEngine::new(network(), tmp.path().to_path_buf());
    let session = SessionId::generate();
    let mut link = pair(&engine, &session).await;
    engine.network().drop_connection(session.as_str()).unwrap();
    assert!(matches!(
        next(&mut link.events).await,
        Some(EngineEvent::Disconnected { .. })
    ));
    assert_eq!(next(&mut link.events).await, None);
    let mut again = engine.open(&session, OpenMode::Resume).await.unwrap();
    assert_eq!(next(&mut again.events).await, Some(EngineEvent::Connected));
}

#[tokio::test]
async fn pair_code_returns_the_code_and_unknown_phone_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = SimEngine::new(network(), tmp.path().to_path_buf());
    let session = SessionId::generate();
    let mode = OpenMode::PairCode {
        phone: PHONE.to_owned(),
    };
    let mut link = engine.open(&session, mode).await.unwrap();
    let code = link.pairing_code.clone().unwrap();
    engine.network().enter_code(PHONE, &code).unwrap();
    assert!(matches!(
        next(&mut link.events).await,
        Some(EngineEvent::Paired(_))
    ));
    assert_eq!(next(&mut link.events).await, Some(EngineEvent::Connected));
    assert!(engine.is_paired(&session).await.unwrap());

    for phone in ["6299999999", "+62 812"] {
        let mode = OpenMode::PairCode {
            phone: phone.to_owned(),
        };
        let err = engine
            .open(&SessionId::generate(), mode)
            .await
            .err()
            .unwrap();
        assert!(matches!(err, EngineError::Rejected(_)), "{phone}: {err}");
    }
}

#[tokio::test]
async fn unwritable_device_dir_ends_pairing_with_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let engine = SimEngine::new(network(), blocker);
    let session = SessionId::generate();
    let mut link = engine.open(&session, OpenMode::PairQr).await.unwrap();
    let Some(EngineEvent::Qr { code, .. }) = next(&mut link.events).await else {
        panic!("expected a QR code");
    };
    engine.network().scan(PHONE, &code).unwrap();
    assert_eq!(
        next(&mut link.events).await,
        Some(EngineEvent::Fatal(FatalReason::Refused))
    );
    assert_eq!(next(&mut link.events).await, None);
    assert!(engine.network().linked_devices(PHONE).is_empty());
}

#[tokio::test]
async fn corrupt_device_file_is_an_engine_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = SimEngine::new(network(), tmp.path().to_path_buf());
    let session = SessionId::generate();
    std::fs::write(tmp.path().join(format!("{session}.json")), b"{not json").unwrap();
    let err = engine.open(&session, OpenMode::Resume).await.err().unwrap();
    assert!(matches!(err, EngineError::Other(_)));
}
