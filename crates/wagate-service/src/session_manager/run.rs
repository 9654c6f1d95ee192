//! One running session: its connection task, the reconnect loop, and what the API reads from it
//! (the current client, the latest QR code).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use wagate_domain::{
    EngineClient, EngineEvent, EngineLink, EventPayload, FatalReason, OpenMode, PairedPayload,
    Session, SessionStatus,
};

use super::{EventQueue, Inner, NextEvents, QrCode};

#[derive(Default)]
struct RunState {
    /// True until the device is paired (QR or code pairing in progress).
    pairing: bool,
    qr: Option<QrCode>,
    client: Option<Arc<dyn EngineClient>>,
}

/// A session's live task.
pub(crate) struct Run {
    cancel: CancellationToken,
    /// Set before a deliberate logout: the connection ending next is ours, not an outage.
    ending: std::sync::atomic::AtomicBool,
    state: Mutex<RunState>,
    qr_ready: Notify,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// How one connection ended.
enum Ended {
    /// Stopped on purpose (stop, logout, shutdown); whoever stopped it sets the status.
    Cancelled,
    /// Ended for good; the status is already set.
    Final,
    /// Dropped; reconnect after backoff. `connected`: it had reached `working`.
    Dropped { reason: String, connected: bool },
}

impl Run {
    pub(crate) fn is_pairing(&self) -> bool {
        self.state.lock().is_ok_and(|s| s.pairing)
    }

    pub(crate) fn client(&self) -> Option<Arc<dyn EngineClient>> {
        self.state.lock().ok().and_then(|s| s.client.clone())
    }

    pub(crate) fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Marks the coming end of the connection as deliberate (logout), so it is not retried.
    pub(crate) fn expect_end(&self) {
        self.ending.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn ending(&self) -> bool {
        self.ending.load(std::sync::atomic::Ordering::SeqCst) || self.cancel.is_cancelled()
    }

    /// Waits for the task to finish, at most `timeout`.
    pub(crate) async fn join(&self, timeout: Duration) {
        self.cancel.cancel();
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task
            && tokio::time::timeout(timeout, task).await.is_err()
        {
            tracing::warn!("session task did not stop in time");
        }
    }

    fn current_qr(&self, now_ms: i64) -> Option<QrCode> {
        self.state
            .lock()
            .ok()
            .and_then(|s| s.qr.clone())
            .filter(|qr| qr.expires_at > now_ms)
    }

    /// The current QR code, waiting up to `wait` for the first one.
    pub(crate) async fn wait_for_qr(&self, now_ms: i64, wait: Duration) -> Option<QrCode> {
        let notified = self.qr_ready.notified();
        if let Some(qr) = self.current_qr(now_ms) {
            return Some(qr);
        }
        let _ = tokio::time::timeout(wait, notified).await;
        self.state.lock().ok().and_then(|s| s.qr.clone())
    }

    fn update(&self, f: impl FnOnce(&mut RunState)) {
        if let Ok(mut s) = self.state.lock() {
            f(&mut s);
        }
    }
}

impl Inner {
    /// Registers and starts the task of `session`. `first` is a connection already opened by
    /// the caller (phone-code pairing returns its code before the task starts).
    pub(super) fn spawn(
        self: &Arc<Self>,
        session: &Session,
        mode: OpenMode,
        first: Option<EngineLink>,
    ) -> Arc<Run> {
        let run = Arc::new(Run {
            cancel: self.shutdown.child_token(),
            ending: std::sync::atomic::AtomicBool::new(false),
            state: Mutex::new(RunState {
                pairing: !matches!(mode, OpenMode::Resume),
                ..RunState::default()
            }),
            qr_ready: Notify::new(),
            task: Mutex::new(None),
        });
        if let Ok(mut runs) = self.runs.lock() {
            runs.insert(session.id.clone(), run.clone());
        }
        let task =
            tokio::spawn(
                self.clone()
                    .reconnect_loop(session.clone(), run.clone(), mode, first),
            );
        if let Ok(mut slot) = run.task.lock() {
            *slot = Some(task);
        }
        run
    }

    async fn reconnect_loop(
        self: Arc<Self>,
        session: Session,
        run: Arc<Run>,
        mut mode: OpenMode,
        mut first: Option<EngineLink>,
    ) {
        let mut attempt: u32 = 0;
        loop {
            let opened = match first.take() {
                Some(link) => Ok(link),
                None => tokio::select! {
                    () = run.cancel.cancelled() => break,
                    r = self.open(&session.id, mode.clone()) => r,
                },
            };
            let ended = match opened {
                Ok(link) => self.drive(&session, &run, link).await,
                Err(err) => Ended::Dropped {
                    reason: format!("connect failed: {err}"),
                    connected: false,
                },
            };
            let (reason, connected) = match ended {
                Ended::Cancelled | Ended::Final => break,
                Ended::Dropped { reason, connected } => (reason, connected),
            };
            if run.is_pairing() {
                // A pairing connection that drops cannot resume: there is no device yet.
                let _ = self
                    .set_status(
                        &session,
                        SessionStatus::Failed,
                        Some("pairing_connection_lost"),
                    )
                    .await;
                break;
            }
            if connected {
                attempt = 0;
            }
            tracing::info!(session = %session.id, %reason, attempt, "connection lost; reconnecting");
            // D7: a dropped connection shows `starting` until the reconnect succeeds.
            if let Err(err) = self
                .set_status(&session, SessionStatus::Starting, Some("reconnecting"))
                .await
            {
                tracing::warn!(session = %session.id, %err, "could not record reconnecting status");
            }
            let delay = self.config.backoff.delay(attempt);
            attempt = attempt.saturating_add(1);
            mode = OpenMode::Resume;
            tokio::select! {
                () = run.cancel.cancelled() => break,
                () = tokio::time::sleep(delay) => {}
            }
        }
        run.update(|s| s.client = None);
        // Leave the map only if this run is still the registered one.
        if let Ok(mut runs) = self.runs.lock()
            && runs.get(&session.id).is_some_and(|r| Arc::ptr_eq(r, &run))
        {
            runs.remove(&session.id);
        }
    }

    /// Follows one connection until it ends.
    async fn drive(&self, session: &Session, run: &Run, link: EngineLink) -> Ended {
        let client: Arc<dyn EngineClient> = Arc::from(link.client);
        run.update(|s| s.client = Some(client.clone()));
        let mut events = EventQueue::new(link.events);
        let mut connected = false;
        loop {
            let next = tokio::select! {
                () = run.cancel.cancelled() => {
                    client.disconnect().await;
                    return Ended::Cancelled;
                }
                next = events.next() => next,
            };
            let event = match next {
                NextEvents::Connection(event) => event,
                NextEvents::Traffic(batch) => {
                    self.deliver(session, &client, batch).await;
                    continue;
                }
                NextEvents::Closed if run.ending() => return Ended::Cancelled,
                NextEvents::Closed => {
                    return Ended::Dropped {
                        reason: "connection closed".into(),
                        connected,
                    };
                }
            };
            match self.apply(session, run, &client, event).await {
                Ok(Step::Continue) => {}
                Ok(Step::Connected) => connected = true,
                Ok(Step::End(ended)) => {
                    return match ended {
                        Ended::Dropped { reason, .. } => Ended::Dropped { reason, connected },
                        other => other,
                    };
                }
                Err(err) => {
                    tracing::error!(session = %session.id, %err, "could not apply engine event")
                }
            }
        }
    }

    async fn apply(
        &self,
        session: &Session,
        run: &Run,
        client: &Arc<dyn EngineClient>,
        event: EngineEvent,
    ) -> crate::ServiceResult<Step> {
        let now = self.clock.now_ms();
        match event {
            EngineEvent::Qr { code, valid_for } => {
                let timeout_ms = valid_for.as_millis() as i64;
                run.update(|s| {
                    s.qr = Some(QrCode {
                        code: code.clone(),
                        expires_at: now + timeout_ms,
                    })
                });
                run.qr_ready.notify_waiters();
                self.publish(session, EventPayload::AuthQr { code, timeout_ms });
                Ok(Step::Continue)
            }
            EngineEvent::QrTimeout => {
                self.set_status(session, SessionStatus::Failed, Some("qr_timeout"))
                    .await?;
                Ok(Step::End(Ended::Final))
            }
            EngineEvent::Paired(account) => {
                self.store
                    .set_session_account(
                        &session.id,
                        Some(&account.jid),
                        account.lid.as_deref(),
                        account.phone.as_deref(),
                        now,
                    )
                    .await?;
                run.update(|s| {
                    s.pairing = false;
                    s.qr = None;
                });
                self.set_status(session, SessionStatus::Starting, None)
                    .await?;
                self.publish(
                    session,
                    EventPayload::AuthCode(PairedPayload {
                        jid: Some(account.jid),
                        lid: account.lid,
                        business_name: account.business_name,
                        platform: account.platform,
                    }),
                );
                Ok(Step::Continue)
            }
            EngineEvent::Connected => {
                self.store
                    .set_session_connected_at(&session.id, now)
                    .await?;
                self.set_status(session, SessionStatus::Working, None)
                    .await?;
                Ok(Step::Connected)
            }
            EngineEvent::Disconnected { reason } => Ok(Step::End(Ended::Dropped {
                reason,
                connected: false,
            })),
            EngineEvent::Fatal(FatalReason::LoggedOut) => {
                if let Err(err) = self.engine.forget(&session.id).await {
                    tracing::warn!(session = %session.id, %err, "could not delete device keys");
                }
                self.store
                    .set_session_account(&session.id, None, None, None, now)
                    .await?;
                self.set_status(session, SessionStatus::LoggedOut, Some("logged_out"))
                    .await?;
                Ok(Step::End(Ended::Final))
            }
            EngineEvent::Fatal(reason) => {
                self.set_status(session, SessionStatus::Failed, Some(reason.as_str()))
                    .await?;
                Ok(Step::End(Ended::Final))
            }
            // `EventQueue` hands traffic to `deliver`; should some arrive here, it goes there too.
            traffic => {
                self.deliver(session, client, vec![traffic]).await;
                Ok(Step::Continue)
            }
        }
    }

    /// Traffic is handled inline, so one session's events keep their order and a slow store
    /// slows the stream instead of piling events up in memory; what queued up meanwhile is
    /// handled as one batch (group commit).
    async fn deliver(
        &self,
        session: &Session,
        client: &Arc<dyn EngineClient>,
        batch: Vec<EngineEvent>,
    ) {
        match self.inbound.get() {
            Some(handler) => handler.handle_batch(session, client, batch).await,
            None => tracing::debug!(session = %session.id, "no inbound handler; dropped"),
        }
    }
}

enum Step {
    Continue,
    Connected,
    End(Ended),
}
