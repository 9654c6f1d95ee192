//! [`WhatsAppEngine`]: the `Engine` port over whatsapp-rust.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use wagate_domain::{Engine, EngineError, EngineLink, OpenMode, SessionId};
use whatsapp_rust::bot::Bot;
use whatsapp_rust::store::SqliteStore;
use whatsapp_rust::wacore::store::DevicePropsOverride;
use whatsapp_rust::waproto::whatsapp::device_props::PlatformType;

use crate::attempt::Purpose;
use crate::connection::{Connection, SignalForwarder};
use crate::keystore::{self, Keystore};
use crate::transport::{ProbedTransportFactory, TransportProbe};

/// The real WhatsApp network, through whatsapp-rust (decisions.md D6).
///
/// Device keys live in one SQLite keystore per session under the keystore directory. Each
/// [`Engine::open`] starts one client whose stream ends with the connection; reconnecting is
/// the session manager's job, so the crate's own auto-reconnect is off.
#[derive(Debug, Clone)]
pub struct WhatsAppEngine {
    keystore: Keystore,
    device_name: String,
    websocket_url: Option<String>,
    app_version: Option<(u32, u32, u32)>,
}

impl WhatsAppEngine {
    /// An engine keeping keystores in `keystore_dir` (created on first use) and linking devices
    /// as a Chrome companion named `device_name` (shown under WhatsApp → Linked devices).
    pub fn new(keystore_dir: PathBuf, device_name: String) -> Self {
        Self {
            keystore: Keystore::new(keystore_dir),
            device_name,
            websocket_url: None,
            app_version: None,
        }
    }

    /// Dials `url` (`ws://…` or `wss://…`) instead of WhatsApp's websocket: for tests and
    /// relays only.
    pub fn with_websocket_url(mut self, url: impl Into<String>) -> Self {
        self.websocket_url = Some(url.into());
        self
    }

    /// Announces this WhatsApp Web version instead of fetching the current one from
    /// `web.whatsapp.com` (at most once a day per device); tests use it to stay off the network.
    pub fn with_app_version(mut self, primary: u32, secondary: u32, tertiary: u32) -> Self {
        self.app_version = Some((primary, secondary, tertiary));
        self
    }

    /// The keystore file of `session`.
    pub fn keystore_path(&self, session: &SessionId) -> Result<PathBuf, EngineError> {
        self.keystore.path(session)
    }

    async fn start(
        &self,
        session: &SessionId,
        store: SqliteStore,
        purpose: Purpose,
    ) -> Result<Connection, EngineError> {
        let probe = Arc::new(TransportProbe::default());
        let (forwarder, forwarded) = SignalForwarder::new();
        let mut builder = Bot::builder()
            .with_backend(store)
            .with_transport_factory(ProbedTransportFactory::new(
                self.websocket_url.as_deref(),
                Arc::clone(&probe),
            ))
            .with_device_props(
                DevicePropsOverride::new()
                    .with_os(self.device_name.clone())
                    .with_platform_type(PlatformType::CHROME),
            )
            .with_event_handler(forwarder);
        if let Some(version) = self.app_version {
            builder = builder.with_version(version);
        }
        let bot = builder
            .build()
            .await
            .map_err(|e| EngineError::Other(format!("cannot build the WhatsApp client: {e}")))?;
        // The session manager owns reconnects (decisions.md D7): with this off the crate's run
        // loop returns after each connection instead of retrying on its own schedule.
        bot.client()
            .enable_auto_reconnect
            .store(false, std::sync::atomic::Ordering::SeqCst);
        Ok(Connection::start(
            session.to_string(),
            bot,
            purpose,
            forwarded,
            probe,
        ))
    }
}

#[async_trait]
impl Engine for WhatsAppEngine {
    fn name(&self) -> &'static str {
        "whatsapp"
    }

    async fn open(&self, session: &SessionId, mode: OpenMode) -> Result<EngineLink, EngineError> {
        let path = self.keystore.path(session)?;
        // A resume never creates a keystore.
        if mode == OpenMode::Resume && !self.keystore.exists(session).await? {
            return Err(EngineError::NotPaired);
        }
        let store = self.keystore.open(session).await?;
        let paired = keystore::holds_paired_device(&store, &path).await?;
        match (&mode, paired) {
            (OpenMode::Resume, false) => return Err(EngineError::NotPaired),
            (OpenMode::PairQr | OpenMode::PairCode { .. }, true) => {
                return Err(EngineError::Rejected("session is already paired".into()));
            }
            _ => {}
        }
        let mut connection = self.start(session, store, Purpose::from(&mode)).await?;
        let pairing_code = match &mode {
            OpenMode::PairCode { phone } => Some(connection.request_pair_code(phone).await?),
            OpenMode::Resume | OpenMode::PairQr => None,
        };
        Ok(connection.into_link(pairing_code))
    }

    async fn is_paired(&self, session: &SessionId) -> Result<bool, EngineError> {
        self.keystore.is_paired(session).await
    }

    async fn forget(&self, session: &SessionId) -> Result<(), EngineError> {
        self.keystore.forget(session).await
    }
}
