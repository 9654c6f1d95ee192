//! The network's state machine, driven through its public operations with tiny timings.

use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use wagate_domain::{EngineEvent, FatalReason, LinkedAccount};

use super::*;

const PHONE: &str = "6281234567890";
const WAIT: Duration = Duration::from_secs(10);

fn timings(first_qr: u64, next_qr: u64, qr_codes: u32) -> SimTimings {
    SimTimings {
        first_qr: Duration::from_millis(first_qr),
        next_qr: Duration::from_millis(next_qr),
        qr_codes,
        connect_delay: Duration::ZERO,
    }
}

/// A network with one phone whose QR codes stay valid for the whole test.
fn network() -> Network {
    let network = Network::new(timings(60_000, 60_000, 6));
    network.add_phone(PHONE, Some("Alice")).unwrap();
    network
}

async fn next(events: &mut UnboundedReceiver<NetworkEvent>) -> Option<NetworkEvent> {
    tokio::time::timeout(WAIT, events.recv())
        .await
        .expect("event within the time limit")
}

async fn next_engine(events: &mut UnboundedReceiver<NetworkEvent>) -> EngineEvent {
    match next(events).await {
        Some(NetworkEvent::Engine(event)) => event,
        other => panic!("expected an engine event, got {other:?}"),
    }
}

async fn next_qr(events: &mut UnboundedReceiver<NetworkEvent>) -> String {
    match next_engine(events).await {
        EngineEvent::Qr { code, .. } => code,
        other => panic!("expected a QR code, got {other:?}"),
    }
}

async fn expect_linked(
    events: &mut UnboundedReceiver<NetworkEvent>,
) -> (LinkedAccount, DeviceCredential) {
    let linked = match next(events).await {
        Some(NetworkEvent::Linked {
            account,
            credential,
        }) => (account, credential),
        other => panic!("expected Linked, got {other:?}"),
    };
    assert_eq!(next_engine(events).await, EngineEvent::Connected);
    linked
}

/// Pairs `session` by QR and returns its open connection and credential.
async fn paired(network: &Network, session: &str) -> (NetworkConnection, DeviceCredential) {
    let mut conn = network
        .connect(session, ConnectRequest::PairQr)
        .await
        .unwrap();
    let qr = next_qr(&mut conn.events).await;
    network.scan(PHONE, &qr).unwrap();
    let (_, credential) = expect_linked(&mut conn.events).await;
    (conn, credential)
}

async fn resume(
    network: &Network,
    session: &str,
    credential: &DeviceCredential,
) -> NetworkConnection {
    let request = ConnectRequest::Resume {
        credential: credential.clone(),
    };
    network.connect(session, request).await.unwrap()
}

#[tokio::test]
async fn qr_codes_rotate_then_time_out() {
    let network = Network::new(timings(40, 20, 3));
    let mut conn = network.connect("s1", ConnectRequest::PairQr).await.unwrap();
    let mut seen = Vec::new();
    for expected in [40, 20, 20] {
        match next_engine(&mut conn.events).await {
            EngineEvent::Qr { code, valid_for } => {
                assert_eq!(valid_for, Duration::from_millis(expected));
                assert!(code.starts_with("2@") && code.split(',').count() == 4);
                seen.push(code);
            }
            other => panic!("expected a QR code, got {other:?}"),
        }
    }
    seen.dedup();
    assert_eq!(seen.len(), 3, "every code is new");
    assert_eq!(next_engine(&mut conn.events).await, EngineEvent::QrTimeout);
    assert_eq!(next(&mut conn.events).await, None, "the connection ended");
    assert_eq!(network.current_qr("s1"), None);
}

#[tokio::test]
async fn scan_of_current_qr_links_a_device_and_connects() {
    let network = network();
    let mut conn = network.connect("s1", ConnectRequest::PairQr).await.unwrap();
    let qr = next_qr(&mut conn.events).await;
    assert_eq!(network.current_qr("s1").as_deref(), Some(qr.as_str()));
    network.scan(PHONE, &qr).unwrap();
    let (account, _) = expect_linked(&mut conn.events).await;
    assert_eq!(account.jid, format!("{PHONE}:1@s.whatsapp.net"));
    assert_eq!(account.phone.as_deref(), Some(PHONE));
    assert_eq!(account.platform.as_deref(), Some("android"));
    let lid = network.phone(PHONE).unwrap().lid;
    assert_eq!(account.lid, Some(lid));
    assert!(network.is_online("s1"));
    let devices = network.linked_devices(PHONE);
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].session, "s1");
    assert!(devices[0].online);
}

#[tokio::test]
async fn scan_of_stale_qr_is_rejected() {
    let network = Network::new(timings(30, 60_000, 6));
    network.add_phone(PHONE, None).unwrap();
    let mut conn = network.connect("s1", ConnectRequest::PairQr).await.unwrap();
    let first = next_qr(&mut conn.events).await;
    let second = next_qr(&mut conn.events).await;
    let err = network.scan(PHONE, &first).unwrap_err();
    assert_eq!(
        err,
        SimError::Invalid("this QR code has expired".to_owned())
    );
    network.scan(PHONE, &second).unwrap();
    expect_linked(&mut conn.events).await;
}

#[tokio::test]
async fn scan_of_unknown_qr_or_by_unknown_phone_is_refused() {
    let network = network();
    let mut conn = network.connect("s1", ConnectRequest::PairQr).await.unwrap();
    let qr = next_qr(&mut conn.events).await;
    assert!(matches!(
        network.scan(PHONE, "2@nope,a,b,c"),
        Err(SimError::Invalid(_))
    ));
    assert!(matches!(
        network.scan("6299999999", &qr),
        Err(SimError::NotFound(_))
    ));
    assert!(matches!(
        network.scan("not-a-phone", &qr),
        Err(SimError::Invalid(_))
    ));
    assert!(!network.is_online("s1"));
}

#[tokio::test]
async fn device_numbers_count_up_per_account() {
    let network = network();
    paired(&network, "s1").await;
    let mut conn = network.connect("s2", ConnectRequest::PairQr).await.unwrap();
    let qr = next_qr(&mut conn.events).await;
    network.scan(PHONE, &qr).unwrap();
    let (account, _) = expect_linked(&mut conn.events).await;
    assert_eq!(account.jid, format!("{PHONE}:2@s.whatsapp.net"));
}

#[tokio::test]
async fn pairing_code_links_the_device_when_entered_on_the_phone() {
    let network = network();
    let request = ConnectRequest::PairCode {
        phone: PHONE.to_owned(),
    };
    let mut conn = network.connect("s1", request).await.unwrap();
    let code = conn.pairing_code.clone().unwrap();
    assert_eq!(code.len(), 9);
    assert!(matches!(
        network.enter_code("6299999999", &code),
        Err(SimError::NotFound(_))
    ));
    assert!(matches!(
        network.enter_code(PHONE, "ABCD-EFGH"),
        Err(SimError::Invalid(_))
    ));
    network.enter_code(PHONE, &code.to_lowercase()).unwrap();
    let (account, _) = expect_linked(&mut conn.events).await;
    assert_eq!(account.jid, format!("{PHONE}:1@s.whatsapp.net"));
}

#[tokio::test]
async fn pairing_code_for_unknown_phone_is_not_found() {
    let network = network();
    let request = ConnectRequest::PairCode {
        phone: "6299999999".to_owned(),
    };
    let err = network.connect("s1", request).await.unwrap_err();
    assert!(matches!(err, SimError::NotFound(_)));
}

#[tokio::test]
async fn pairing_code_expires_after_the_pairing_window() {
    let network = Network::new(timings(30, 10, 2));
    network.add_phone(PHONE, None).unwrap();
    let request = ConnectRequest::PairCode {
        phone: PHONE.to_owned(),
    };
    let mut conn = network.connect("s1", request).await.unwrap();
    let code = conn.pairing_code.clone().unwrap();
    assert_eq!(next_engine(&mut conn.events).await, EngineEvent::QrTimeout);
    assert_eq!(next(&mut conn.events).await, None);
    assert!(matches!(
        network.enter_code(PHONE, &code),
        Err(SimError::Invalid(_))
    ));
}

#[tokio::test]
async fn resume_with_valid_credential_connects() {
    let network = network();
    let (conn, credential) = paired(&network, "s1").await;
    network.close("s1", conn.id);
    assert!(!network.is_online("s1"));
    let mut again = resume(&network, "s1", &credential).await;
    assert_eq!(next_engine(&mut again.events).await, EngineEvent::Connected);
    assert!(network.is_online("s1"));
}

#[tokio::test]
async fn resume_of_unknown_or_unlinked_device_is_logged_out() {
    let network = network();
    let (mut conn, credential) = paired(&network, "s1").await;
    network.unlink(PHONE, "s1").unwrap();
    assert_eq!(
        next_engine(&mut conn.events).await,
        EngineEvent::Fatal(FatalReason::LoggedOut)
    );
    assert_eq!(next(&mut conn.events).await, None);
    assert!(network.linked_devices(PHONE).is_empty());

    let mut again = resume(&network, "s1", &credential).await;
    assert_eq!(
        next_engine(&mut again.events).await,
        EngineEvent::Fatal(FatalReason::LoggedOut)
    );
    assert_eq!(next(&mut again.events).await, None);

    let forged = DeviceCredential {
        token: "forged".to_owned(),
        ..credential
    };
    let mut forged = resume(&network, "s2", &forged).await;
    assert_eq!(
        next_engine(&mut forged.events).await,
        EngineEvent::Fatal(FatalReason::LoggedOut)
    );
}

#[tokio::test]
async fn unlink_of_unknown_session_is_not_found() {
    let network = network();
    paired(&network, "s1").await;
    assert!(matches!(
        network.unlink(PHONE, "s2"),
        Err(SimError::NotFound(_))
    ));
    assert!(matches!(
        network.unlink("6299999999", "s1"),
        Err(SimError::NotFound(_))
    ));
}

#[tokio::test]
async fn drop_connection_disconnects_once_and_ends_the_stream() {
    let network = network();
    let (mut conn, credential) = paired(&network, "s1").await;
    network.drop_connection("s1").unwrap();
    assert!(matches!(
        next_engine(&mut conn.events).await,
        EngineEvent::Disconnected { .. }
    ));
    assert_eq!(next(&mut conn.events).await, None);
    assert!(matches!(
        network.drop_connection("s1"),
        Err(SimError::NotFound(_))
    ));
    let mut again = resume(&network, "s1", &credential).await;
    assert_eq!(next_engine(&mut again.events).await, EngineEvent::Connected);
}

#[tokio::test]
async fn second_connection_of_a_device_replaces_the_first() {
    let network = network();
    let (mut first, credential) = paired(&network, "s1").await;
    let mut second = resume(&network, "s1", &credential).await;
    assert_eq!(
        next_engine(&mut first.events).await,
        EngineEvent::Fatal(FatalReason::Replaced)
    );
    assert_eq!(next(&mut first.events).await, None);
    assert_eq!(
        next_engine(&mut second.events).await,
        EngineEvent::Connected
    );
    assert!(network.is_online("s1"));
}

#[tokio::test]
async fn new_connection_for_a_session_supersedes_its_pairing_attempt() {
    let network = network();
    let mut first = network.connect("s1", ConnectRequest::PairQr).await.unwrap();
    let stale = next_qr(&mut first.events).await;
    let mut second = network.connect("s1", ConnectRequest::PairQr).await.unwrap();
    assert!(matches!(
        next_engine(&mut first.events).await,
        EngineEvent::Disconnected { .. }
    ));
    assert_eq!(next(&mut first.events).await, None);
    assert!(matches!(
        network.scan(PHONE, &stale),
        Err(SimError::Invalid(_))
    ));
    let qr = next_qr(&mut second.events).await;
    network.scan(PHONE, &qr).unwrap();
}

#[tokio::test]
async fn logout_removes_the_device_and_ends_the_stream_silently() {
    let network = network();
    let (mut conn, credential) = paired(&network, "s1").await;
    network.logout("s1", conn.id, None);
    assert_eq!(next(&mut conn.events).await, None);
    assert!(network.linked_devices(PHONE).is_empty());
    let mut again = resume(&network, "s1", &credential).await;
    assert_eq!(
        next_engine(&mut again.events).await,
        EngineEvent::Fatal(FatalReason::LoggedOut)
    );
}

#[tokio::test]
async fn logout_after_the_connection_dropped_uses_the_credential() {
    let network = network();
    let (conn, credential) = paired(&network, "s1").await;
    network.drop_connection("s1").unwrap();
    network.logout("s1", conn.id, Some(&credential));
    assert!(network.linked_devices(PHONE).is_empty());
}

#[tokio::test]
async fn close_ends_the_stream_and_keeps_the_device() {
    let network = network();
    let (mut conn, _) = paired(&network, "s1").await;
    network.close("s1", conn.id);
    assert_eq!(next(&mut conn.events).await, None);
    assert_eq!(network.linked_devices(PHONE).len(), 1);
    assert!(!network.linked_devices(PHONE)[0].online);
}

#[tokio::test]
async fn a_connection_nobody_listens_to_is_forgotten() {
    let network = network();
    let conn = network.connect("s1", ConnectRequest::PairQr).await.unwrap();
    drop(conn);
    assert!(matches!(
        network.drop_connection("s1"),
        Err(SimError::NotFound(_))
    ));
}

#[tokio::test]
async fn add_phone_is_idempotent_and_validates() {
    let network = Network::default();
    let added = network.add_phone(PHONE, Some("Alice")).unwrap();
    assert_eq!(added.jid, format!("{PHONE}@s.whatsapp.net"));
    assert!(added.created);
    let again = network.add_phone(PHONE, Some("Bob")).unwrap();
    assert!(!again.created);
    assert_eq!(network.phone(PHONE).unwrap().name, "Alice");
    assert!(network.add_phone("+62", None).is_err());
    assert!(network.add_phone("6281111111", Some("  ")).is_err());
    assert_eq!(network.phone("6281111112"), None);
    network.add_phone("6281111112", None).unwrap();
    assert_eq!(network.phone("6281111112").unwrap().name, "6281111112");
}

#[tokio::test]
async fn a_forced_id_sent_twice_is_listed_once_in_the_inbox() {
    use crate::network::state::Draft;
    use wagate_domain::Jid;
    use wagate_domain::engine::InboundContent;

    let network = network();
    network.add_phone("6281234567891", Some("Bob")).unwrap();
    let to = Jid::parse("6281234567891@s.whatsapp.net").unwrap();
    let text = |t: &str| InboundContent::Text { text: t.into() };
    let mut forced = Draft::new(to.clone(), text("twice"));
    forced.id = Some("DUP1".into());
    network.send_as_phone(PHONE, forced.clone()).unwrap();
    network.send_as_phone(PHONE, forced).unwrap();
    network
        .send_as_phone(PHONE, Draft::new(to, text("new")))
        .unwrap();
    let inbox = network.inbox("6281234567891").unwrap();
    assert_eq!(inbox.len(), 2, "{inbox:?}");
}

#[tokio::test]
async fn connect_waits_for_the_connect_delay() {
    let mut slow = timings(60_000, 60_000, 6);
    slow.connect_delay = Duration::from_millis(50);
    let network = Network::new(slow);
    let started = tokio::time::Instant::now();
    let _conn = network.connect("s1", ConnectRequest::PairQr).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(50));
}
