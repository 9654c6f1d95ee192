//! The session manager: owns each session's live connection and its status machine
//! (domain.md §4.3–4.5, D7). One background task per running session opens engine
//! connections, reacts to their events, and reconnects with jittered backoff.

mod backoff;
mod run;
mod traffic;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use wagate_domain::{
    Clock, Engine, EngineClient, EngineError, EngineEvent, Event, EventId, EventPayload,
    EventPublisher, OpenMode, Session, SessionId, SessionStatus, Store,
};

pub use backoff::Backoff;
use run::Run;
pub use traffic::{EventQueue, MAX_TRAFFIC_BATCH, NextEvents};

use crate::{ServiceError, ServiceResult};

/// Tunables of the manager.
#[derive(Debug, Clone)]
pub struct ManagerConfig {
    /// This node's id: the sessions it restores at boot are those pinned to it.
    pub gateway_id: String,
    pub backoff: Backoff,
    /// At most this many engine connections are being opened at once (no thundering herd).
    pub max_concurrent_connects: usize,
    /// How long `GET /qr` waits for the first code of a pairing it just started.
    pub qr_wait: Duration,
    /// How long stop/shutdown wait for a connection task to finish.
    pub stop_timeout: Duration,
}

impl Default for ManagerConfig {
    fn default() -> Self {
        Self {
            gateway_id: "gw-1".into(),
            backoff: Backoff::default(),
            max_concurrent_connects: 32,
            qr_wait: Duration::from_secs(3),
            stop_timeout: Duration::from_secs(10),
        }
    }
}

/// The latest QR code of a pairing in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrCode {
    pub code: String,
    /// Epoch-ms after which the code is stale.
    pub expires_at: i64,
}

pub(crate) struct Inner {
    store: Arc<dyn Store>,
    engine: Arc<dyn Engine>,
    clock: Arc<dyn Clock>,
    events: Arc<dyn EventPublisher>,
    config: ManagerConfig,
    runs: Mutex<HashMap<SessionId, Arc<Run>>>,
    /// Serializes lifecycle operations per session (start vs stop vs logout…).
    locks: Mutex<HashMap<SessionId, Arc<tokio::sync::Mutex<()>>>>,
    connects: Semaphore,
    shutdown: CancellationToken,
    /// Where message, receipt, presence, group and contact events go (set once at wiring).
    inbound: std::sync::OnceLock<Arc<dyn InboundHandler>>,
}

/// Takes a session's traffic events (everything but connection state) in order.
#[async_trait::async_trait]
pub trait InboundHandler: Send + Sync + 'static {
    async fn handle(&self, session: &Session, client: &Arc<dyn EngineClient>, event: EngineEvent);

    /// Traffic events that were already queued together ([`EventQueue`]), in arrival order;
    /// handling them must give the same results as [`Self::handle`] on each in turn.
    async fn handle_batch(
        &self,
        session: &Session,
        client: &Arc<dyn EngineClient>,
        events: Vec<EngineEvent>,
    ) {
        for event in events {
            self.handle(session, client, event).await;
        }
    }

    /// Messages this node sent were just stored (their transaction committed): receipts for
    /// them that arrived first apply now.
    async fn sent_stored(&self, _session: &Session, _wa_message_ids: &[String]) {}
}

/// Cheap to clone.
#[derive(Clone)]
pub struct SessionManager {
    inner: Arc<Inner>,
}

impl SessionManager {
    pub fn new(
        store: Arc<dyn Store>,
        engine: Arc<dyn Engine>,
        clock: Arc<dyn Clock>,
        events: Arc<dyn EventPublisher>,
        config: ManagerConfig,
    ) -> Self {
        let connects = Semaphore::new(config.max_concurrent_connects.max(1));
        Self {
            inner: Arc::new(Inner {
                store,
                engine,
                clock,
                events,
                config,
                runs: Mutex::default(),
                locks: Mutex::default(),
                connects,
                shutdown: CancellationToken::new(),
                inbound: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Installs the inbound pipeline; the first call wins.
    pub fn set_inbound(&self, handler: Arc<dyn InboundHandler>) {
        let _ = self.inner.inbound.set(handler);
    }

    /// Tells the inbound pipeline that messages this node sent were just stored
    /// ([`InboundHandler::sent_stored`]).
    pub async fn sent_stored(&self, session: &Session, wa_message_ids: &[String]) {
        if let Some(inbound) = self.inner.inbound.get() {
            inbound.sent_stored(session, wa_message_ids).await;
        }
    }

    /// The live client of a session that is `working` on this node. `Err` carries the status
    /// to report with `501 not_implemented` (api.md §1.9, D3). `session` is the row the caller
    /// just read for this request (its access check): its status is the stored one, so no
    /// second read is needed.
    pub fn live_client(&self, session: &Session) -> Result<Arc<dyn EngineClient>, SessionStatus> {
        match self.inner.run(&session.id).and_then(|run| run.client()) {
            Some(client) if session.status == SessionStatus::Working => Ok(client),
            _ => Err(session.status),
        }
    }

    /// [`Self::live_client`] in the caller's terms: `501 not_implemented` with the session's
    /// status when it has no connected client (api.md §1.9, D3).
    pub fn require_live(&self, session: &Session) -> ServiceResult<Arc<dyn EngineClient>> {
        self.live_client(session)
            .map_err(|status| ServiceError::NotImplemented {
                message: "live WhatsApp client is not available for this session".into(),
                status: Some(status.as_str().to_owned()),
            })
    }

    pub fn engine_name(&self) -> &'static str {
        self.inner.engine.name()
    }

    async fn lock(&self, id: &SessionId) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self
            .inner
            .locks
            .lock()
            .map(|mut m| m.entry(id.clone()).or_default().clone())
            .unwrap_or_default();
        lock.lock_owned().await
    }

    /// Whether a connection task is running for `id`.
    pub fn is_running(&self, id: &SessionId) -> bool {
        self.inner.run(id).is_some()
    }

    /// `:start` — connects a paired session; a no-op when it already runs.
    pub async fn start(&self, session: &Session) -> ServiceResult<()> {
        let _guard = self.lock(&session.id).await;
        if self.is_running(&session.id) {
            return Ok(());
        }
        if !self
            .inner
            .engine
            .is_paired(&session.id)
            .await
            .map_err(engine_error)?
        {
            return Err(ServiceError::validation(
                "session not paired; use QR or pairing code",
            ));
        }
        self.inner
            .set_status(session, SessionStatus::Starting, None)
            .await?;
        self.inner.spawn(session, OpenMode::Resume, None);
        Ok(())
    }

    /// `:stop` — disconnects and stops reconnecting; keeps the pairing. Idempotent.
    pub async fn stop(&self, session: &Session) -> ServiceResult<()> {
        let _guard = self.lock(&session.id).await;
        self.inner.halt(&session.id).await;
        self.inner
            .set_status(session, SessionStatus::Stopped, None)
            .await
    }

    /// `:restart` — `:stop` then `:start`.
    pub async fn restart(&self, session: &Session) -> ServiceResult<()> {
        self.stop(session).await?;
        self.start(session).await
    }

    /// `:logout` — unlinks the device (best effort), deletes its keys, clears the linked
    /// account so the session can be paired again. Repeating it is harmless.
    pub async fn logout(&self, session: &Session) -> ServiceResult<()> {
        let _guard = self.lock(&session.id).await;
        self.inner.unlink(session).await?;
        self.inner
            .set_status(session, SessionStatus::LoggedOut, Some("logout"))
            .await
    }

    /// Before `deleteSession`: log the device out and forget the session.
    pub async fn forget(&self, session: &Session) -> ServiceResult<()> {
        let _guard = self.lock(&session.id).await;
        self.inner.unlink(session).await?;
        if let Ok(mut locks) = self.inner.locks.lock() {
            locks.remove(&session.id);
        }
        Ok(())
    }

    /// `GET /qr` — the current code of a QR pairing, starting one when nothing runs.
    pub async fn qr(&self, session: &Session) -> ServiceResult<QrCode> {
        let not_ready = || {
            ServiceError::NotFound("qr code not ready yet; subscribe to events (auth.qr)".into())
        };
        let run = {
            let _guard = self.lock(&session.id).await;
            if session.wa_jid.is_some() {
                return Err(ServiceError::Conflict("session is already paired".into()));
            }
            match self.inner.run(&session.id) {
                Some(run) if run.is_pairing() => run,
                Some(_) => return Err(ServiceError::Conflict("session already running".into())),
                None => {
                    self.inner
                        .set_status(session, SessionStatus::ScanQrCode, None)
                        .await?;
                    self.inner.spawn(session, OpenMode::PairQr, None)
                }
            }
        };
        let now = self.inner.clock.now_ms();
        run.wait_for_qr(now, self.inner.config.qr_wait)
            .await
            .ok_or_else(not_ready)
    }

    /// `POST /pairing-code` — starts phone-number pairing and returns the linking code.
    pub async fn pairing_code(&self, session: &Session, phone: &str) -> ServiceResult<String> {
        let _guard = self.lock(&session.id).await;
        if session.wa_jid.is_some() {
            return Err(ServiceError::Conflict("session is already paired".into()));
        }
        if self.is_running(&session.id) {
            return Err(ServiceError::Conflict("session already running".into()));
        }
        self.inner
            .set_status(session, SessionStatus::ScanQrCode, None)
            .await?;
        let mode = OpenMode::PairCode {
            phone: phone.to_owned(),
        };
        let link = match self.inner.open(&session.id, mode.clone()).await {
            Ok(link) => link,
            Err(err) => {
                self.inner
                    .set_status(session, SessionStatus::Failed, Some("pairing_code_refused"))
                    .await?;
                return Err(engine_error(err));
            }
        };
        let Some(code) = link.pairing_code.clone() else {
            link.client.disconnect().await;
            return Err(ServiceError::Internal(
                "engine returned no pairing code".into(),
            ));
        };
        self.inner.publish(
            session,
            EventPayload::PairingCodeIssued {
                code: code.clone(),
                phone: phone.to_owned(),
            },
        );
        self.inner.spawn(session, mode, Some(link));
        Ok(code)
    }

    /// Boot: reconnect every paired session of this node that should run; sessions whose
    /// pairing was interrupted by the restart go to `stopped`. Returns how many were resumed.
    pub async fn restore(&self) -> ServiceResult<usize> {
        let sessions = self
            .inner
            .store
            .list_sessions_on_gateway(&self.inner.config.gateway_id)
            .await?;
        let mut resumed = 0;
        for session in sessions {
            if matches!(
                session.status,
                SessionStatus::Stopped | SessionStatus::LoggedOut | SessionStatus::Failed
            ) {
                continue;
            }
            if self
                .inner
                .engine
                .is_paired(&session.id)
                .await
                .unwrap_or(false)
            {
                self.inner
                    .set_status(
                        &session,
                        SessionStatus::Starting,
                        session.status_reason.as_deref(),
                    )
                    .await?;
                self.inner.spawn(&session, OpenMode::Resume, None);
                resumed += 1;
            } else {
                self.inner
                    .set_status(
                        &session,
                        SessionStatus::Stopped,
                        Some("pairing_interrupted"),
                    )
                    .await?;
            }
        }
        tracing::info!(resumed, engine = self.engine_name(), "sessions restored");
        Ok(resumed)
    }

    /// Node shutdown: disconnect every session without changing stored statuses, so they
    /// resume on the next boot.
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        let runs: Vec<Arc<Run>> = self
            .inner
            .runs
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        for run in runs {
            run.join(self.inner.config.stop_timeout).await;
        }
    }
}

impl Inner {
    fn run(&self, id: &SessionId) -> Option<Arc<Run>> {
        self.runs.lock().ok().and_then(|m| m.get(id).cloned())
    }

    /// Stops a session's task (if any) and waits for it.
    async fn halt(&self, id: &SessionId) {
        let run = self.runs.lock().ok().and_then(|mut m| m.remove(id));
        if let Some(run) = run {
            run.cancel();
            run.join(self.config.stop_timeout).await;
        }
    }

    /// Logs the device out on the network (best effort) and deletes its keys and account.
    async fn unlink(&self, session: &Session) -> ServiceResult<()> {
        let run = self.run(&session.id);
        if let Some(run) = &run {
            run.expect_end();
        }
        if let Some(client) = run.and_then(|r| r.client())
            && let Err(err) = client.logout().await
        {
            tracing::warn!(session = %session.id, %err, "logout on the network failed; keys are deleted anyway");
        }
        self.halt(&session.id).await;
        self.engine
            .forget(&session.id)
            .await
            .map_err(engine_error)?;
        self.store
            .set_session_account(&session.id, None, None, None, self.clock.now_ms())
            .await?;
        Ok(())
    }

    async fn open(
        &self,
        id: &SessionId,
        mode: OpenMode,
    ) -> Result<wagate_domain::EngineLink, EngineError> {
        let _permit = self
            .connects
            .acquire()
            .await
            .map_err(|_| EngineError::Unavailable("node is shutting down".into()))?;
        self.engine.open(id, mode).await
    }

    /// Persists a status change and publishes `session.status` when it really changed.
    async fn set_status(
        &self,
        session: &Session,
        status: SessionStatus,
        reason: Option<&str>,
    ) -> ServiceResult<()> {
        let changed = self
            .store
            .set_session_status(&session.id, status, reason, self.clock.now_ms())
            .await?;
        if changed {
            self.publish(
                session,
                EventPayload::SessionStatus {
                    status,
                    reason: reason.map(str::to_owned),
                },
            );
        }
        Ok(())
    }

    fn publish(&self, session: &Session, payload: EventPayload) {
        self.events.publish(Event {
            id: EventId::generate(),
            session: session.id.clone(),
            organization: session.organization_id.clone(),
            timestamp: self.clock.now_ms(),
            payload,
        });
    }
}

/// Engine failures in the caller's terms (D3).
pub(crate) fn engine_error(err: EngineError) -> ServiceError {
    match err {
        EngineError::Rejected(msg) => ServiceError::validation(msg),
        EngineError::Forbidden(msg) => ServiceError::Forbidden(msg),
        EngineError::NotFound(msg) => ServiceError::NotFound(msg),
        EngineError::NotPaired => {
            ServiceError::validation("session not paired; use QR or pairing code")
        }
        EngineError::Unavailable(msg) => ServiceError::Unavailable(msg),
        EngineError::Other(msg) => ServiceError::Internal(msg.into()),
    }
}
