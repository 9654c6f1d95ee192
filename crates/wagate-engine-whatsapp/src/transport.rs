//! The crate's websocket transport, watched: whatsapp-rust logs a failed connect and emits no
//! event (decisions.md D6), so this wrapper records what became of each dial for the
//! `Disconnected { reason: "unreachable: …" }` the adapter reports instead.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use whatsapp_rust::anyhow;
use whatsapp_rust::async_channel;
use whatsapp_rust::transport::{
    TokioWebSocketTransportFactory, Transport, TransportEvent, TransportFactory,
};

use crate::mapping::TransportOutcome;

/// The outcome of the latest dial, shared between the transport factory and the connection's
/// supervisor.
#[derive(Debug, Default)]
pub(crate) struct TransportProbe(Mutex<TransportOutcome>);

impl TransportProbe {
    pub(crate) fn outcome(&self) -> TransportOutcome {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn reset(&self) {
        self.set(TransportOutcome::NotDialled);
    }

    fn set(&self, outcome: TransportOutcome) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = outcome;
    }
}

/// [`TokioWebSocketTransportFactory`] reporting into a [`TransportProbe`].
pub(crate) struct ProbedTransportFactory {
    inner: TokioWebSocketTransportFactory,
    probe: Arc<TransportProbe>,
}

impl ProbedTransportFactory {
    /// Dials WhatsApp's websocket, or `url` when set (tests and relays).
    pub(crate) fn new(url: Option<&str>, probe: Arc<TransportProbe>) -> Self {
        let inner = match url {
            Some(url) => TokioWebSocketTransportFactory::new().with_url(url),
            None => TokioWebSocketTransportFactory::new(),
        };
        Self { inner, probe }
    }
}

#[async_trait]
impl TransportFactory for ProbedTransportFactory {
    async fn create_transport(
        &self,
    ) -> Result<(Arc<dyn Transport>, async_channel::Receiver<TransportEvent>), anyhow::Error> {
        // Stays `Pending` if the crate's connect timeout drops this future.
        self.probe.set(TransportOutcome::Pending);
        match self.inner.create_transport().await {
            Ok(transport) => {
                self.probe.set(TransportOutcome::Opened);
                Ok(transport)
            }
            Err(error) => {
                self.probe
                    .set(TransportOutcome::Failed(format!("{error:#}")));
                Err(error)
            }
        }
    }
}
