//! Live operations through the engine port, run twice: against the in-process [`SimEngine`]
//! and against the [`RemoteSimEngine`] over loopback HTTP, so both behave the same.
//!
//! [`SimEngine`]: crate::SimEngine
//! [`RemoteSimEngine`]: crate::RemoteSimEngine

mod contacts;
mod groups;
mod messages;

use std::time::Duration;

use futures::StreamExt as _;
use futures::stream::BoxStream;
use wagate_domain::engine::{InboundContent, InboundMessage, Receipt};
use wagate_domain::{Engine, EngineEvent, EngineLink, Jid, OpenMode, SessionId};

use crate::network::state::Draft;
use crate::{
    Actor, Network, Op, OpResult, RemoteSimEngine, SimEngine, SimError, SimTimings, control_router,
    engine_router,
};

/// The session's account.
pub(crate) const ALICE: &str = "6281111111111";
pub(crate) const BOB: &str = "6282222222222";
pub(crate) const CAROL: &str = "6283333333333";
const WAIT: Duration = Duration::from_secs(10);

/// A network with Alice, Bob and Carol, and an engine attached to it.
pub(crate) struct Harness {
    pub(crate) network: Network,
    engine: Box<dyn Engine>,
    _devices: tempfile::TempDir,
}

impl Harness {
    pub(crate) async fn start(remote: bool) -> Self {
        let network = Network::new(SimTimings {
            first_qr: Duration::from_secs(60),
            next_qr: Duration::from_secs(60),
            qr_codes: 6,
            connect_delay: Duration::ZERO,
        });
        for (phone, name) in [(ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol")] {
            network.add_phone(phone, Some(name)).unwrap();
        }
        let devices = tempfile::tempdir().unwrap();
        let engine: Box<dyn Engine> = if remote {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let router = control_router(network.clone()).merge(engine_router(network.clone()));
            tokio::spawn(async move { axum::serve(listener, router).await });
            Box::new(RemoteSimEngine::new(
                format!("http://{addr}"),
                devices.path().to_path_buf(),
            ))
        } else {
            Box::new(SimEngine::new(
                network.clone(),
                devices.path().to_path_buf(),
            ))
        };
        Self {
            network,
            engine,
            _devices: devices,
        }
    }

    /// A session paired to `phone` by QR and connected.
    pub(crate) async fn pair(&self, phone: &str) -> (SessionId, EngineLink) {
        let session = SessionId::generate();
        let mut link = self.engine.open(&session, OpenMode::PairQr).await.unwrap();
        let code = until(&mut link.events, |e| match e {
            EngineEvent::Qr { code, .. } => Some(code),
            _ => None,
        })
        .await;
        self.network.scan(phone, &code).unwrap();
        until(&mut link.events, |e| {
            matches!(e, EngineEvent::Connected).then_some(())
        })
        .await;
        (session, link)
    }

    /// The phone sends `text` to `to`.
    pub(crate) fn phone_says(&self, phone: &str, to: &str, text: &str) -> String {
        let draft = Draft::new(jid(to), text_content(text));
        self.network.send_as_phone(phone, draft).unwrap().id
    }

    /// The phone runs a live operation.
    pub(crate) fn as_phone(&self, phone: &str, op: Op) -> Result<OpResult, SimError> {
        self.network.perform(&Actor::Phone(phone.to_owned()), op)
    }
}

pub(crate) fn jid(text: &str) -> Jid {
    Jid::parse(text).unwrap()
}

pub(crate) fn user(phone: &str) -> Jid {
    Jid::from_phone(phone).unwrap()
}

pub(crate) fn text_content(text: &str) -> InboundContent {
    InboundContent::Text {
        text: text.to_owned(),
    }
}

/// Reads events until `pick` takes one, skipping the others.
pub(crate) async fn until<T>(
    events: &mut BoxStream<'static, EngineEvent>,
    mut pick: impl FnMut(EngineEvent) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("the expected event within the time limit")
            .expect("the stream is still open");
        if let Some(picked) = pick(event) {
            return picked;
        }
    }
}

pub(crate) async fn next_message(events: &mut BoxStream<'static, EngineEvent>) -> InboundMessage {
    until(events, |e| match e {
        EngineEvent::Message(m) => Some(*m),
        _ => None,
    })
    .await
}

pub(crate) async fn next_receipt(events: &mut BoxStream<'static, EngineEvent>) -> Receipt {
    until(events, |e| match e {
        EngineEvent::Receipt(r) => Some(r),
        _ => None,
    })
    .await
}

/// One test per engine for each scenario: `<name>::in_process` and `<name>::remote`.
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn in_process() {
                    super::$name(super::super::Harness::start(false).await).await;
                }

                #[tokio::test]
                async fn remote() {
                    super::$name(super::super::Harness::start(true).await).await;
                }
            }
        )*
    };
}
pub(crate) use both_engines;
