//! One open connection: the whatsapp-rust client, the task that follows it (its supervisor),
//! and the handle the session manager holds ([`LinkHandle`], the port's `EngineClient`).
//!
//! The crate's own auto-reconnect is switched off, so its run loop returns after each
//! connection; the supervisor turns that, and the crate's events, into the port's one-attempt
//! event stream. The terminal event is sent only after the client has stopped, so a manager
//! reopening the session at once never overlaps two clients on one keystore.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;
use wagate_domain::{EngineError, EngineEvent, EngineLink};
use whatsapp_rust::Client;
use whatsapp_rust::bot::Bot;
use whatsapp_rust::pair_code::{CompanionWebClientType, PairCodeOptions};
use whatsapp_rust::types::events::{Event, EventHandler, EventInterest};

use crate::attempt::{Attempt, Purpose, Reaction, RunEnd};
use crate::inbound::{self, INBOUND_KINDS, Translator};
use crate::mapping::{self, EVENT_KINDS, Signal};
use crate::polls::PollBook;
use crate::transport::TransportProbe;

/// How long stopping a client (flushing keys, closing the socket) may take.
const WIND_DOWN: Duration = Duration::from_secs(15);

/// How long the crate's run loop may take to return once the client is stopped. A connect in
/// flight only notices at its own timeout (20 s), so after this the loop is dropped instead.
const RUN_EXIT_GRACE: Duration = Duration::from_secs(2);

/// How long a phone-number pairing waits for the socket before asking for a code. The crate
/// allows 20 s for the websocket and 20 s for the handshake; its own bot waits 30 s.
const PAIR_CODE_SOCKET_TIMEOUT: Duration = Duration::from_secs(30);

/// Forwards the crate events the adapter cares about, classified, to the supervisor. Runs
/// inline on the crate's dispatch path, so it only classifies and queues.
pub(crate) struct SignalForwarder {
    signals: mpsc::UnboundedSender<Signal>,
    inbound: mpsc::UnboundedSender<Arc<Event>>,
}

/// What the forwarder queues for the supervisor: connection signals, and inbound events to
/// translate (they may need the client, so the supervisor translates them in order).
pub(crate) struct Forwarded {
    pub signals: mpsc::UnboundedReceiver<Signal>,
    pub inbound: mpsc::UnboundedReceiver<Arc<Event>>,
}

impl SignalForwarder {
    pub(crate) fn new() -> (Self, Forwarded) {
        let (signals, signals_rx) = mpsc::unbounded_channel();
        let (inbound, inbound_rx) = mpsc::unbounded_channel();
        (
            Self { signals, inbound },
            Forwarded {
                signals: signals_rx,
                inbound: inbound_rx,
            },
        )
    }
}

impl EventHandler for SignalForwarder {
    fn handle_event(&self, event: Arc<Event>) {
        // The supervisor is gone only once the connection is over.
        if let Some(signal) = mapping::classify(&event) {
            let _ = self.signals.send(signal);
        } else if inbound::is_inbound(&event) {
            let _ = self.inbound.send(event);
        }
    }

    fn interest(&self) -> EventInterest {
        EventInterest::of(EVENT_KINDS).union(EventInterest::of(INBOUND_KINDS))
    }
}

/// The session manager asking a connection to end. Once requested, no further event is
/// reported: the manager knows why the connection ends.
#[derive(Debug, Default)]
struct StopRequest {
    requested: AtomicBool,
    wake: Notify,
}

impl StopRequest {
    /// Marks the connection as ending without waking the supervisor (the caller stops the
    /// client itself, e.g. through the crate's logout).
    fn mark(&self) {
        self.requested.store(true, Ordering::SeqCst);
    }

    /// Marks the connection as ending and wakes the supervisor to stop the client.
    fn request(&self) {
        self.mark();
        self.wake.notify_one();
    }

    fn is_requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }
}

/// The session manager's handle on one connection.
pub(crate) struct LinkHandle {
    session: String,
    client: Arc<Client>,
    stop: Arc<StopRequest>,
    done: watch::Receiver<bool>,
    polls: Arc<PollBook>,
}

impl LinkHandle {
    /// Stops the client (keys are kept) and waits for the supervisor to finish.
    pub(crate) async fn stop(&self) {
        self.stop.request();
        self.wait_done().await;
    }

    async fn wait_done(&self) {
        if tokio::time::timeout(WIND_DOWN, finished(self.done.clone()))
            .await
            .is_err()
        {
            tracing::warn!(session = %self.session, "whatsapp connection did not wind down in time");
        }
    }
}

impl LinkHandle {
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn polls(&self) -> &PollBook {
        &self.polls
    }

    /// Unlinks the device (best effort) and waits for the connection to end.
    pub(crate) async fn unlink(&self) -> Result<(), EngineError> {
        // Not `request`: the supervisor must not close the socket under the unlink request.
        self.stop.mark();
        // The crate's logout is infallible: it sends the unlink request only when it can and
        // logs a failure. Say so when it certainly could not.
        let reachable = self.client.is_connected() && self.client.is_logged_in();
        self.client.logout().await;
        self.wait_done().await;
        if reachable {
            Ok(())
        } else {
            Err(EngineError::Unavailable(
                "not logged in to WhatsApp; the device was not unlinked on the phone".into(),
            ))
        }
    }
}

/// Resolves once the supervisor has finished (or is gone).
async fn finished(mut done: watch::Receiver<bool>) {
    let _ = done.wait_for(|done| *done).await;
}

/// A started connection, before it is handed to the session manager.
pub(crate) struct Connection {
    handle: LinkHandle,
    events: mpsc::UnboundedReceiver<EngineEvent>,
}

impl Connection {
    /// Starts `bot` (built with `signals`' forwarder and auto-reconnect off) and its supervisor.
    pub(crate) fn start(
        session: String,
        bot: Bot,
        purpose: Purpose,
        forwarded: Forwarded,
        probe: Arc<TransportProbe>,
    ) -> Self {
        let client = bot.client();
        let polls = Arc::new(PollBook::default());
        let stop = Arc::new(StopRequest::default());
        let (done_tx, done) = watch::channel(false);
        let (events_tx, events) = mpsc::unbounded_channel();
        let supervisor = Supervisor {
            session: session.clone(),
            client: Arc::clone(&client),
            attempt: Attempt::new(purpose),
            signals: forwarded.signals,
            inbound: forwarded.inbound,
            translator: Translator::new(Arc::clone(&client), Arc::clone(&polls)),
            events: events_tx,
            probe,
            stop: Arc::clone(&stop),
            done: done_tx,
        };
        tokio::spawn(supervisor.follow_to_end(Box::pin(bot.run())));
        Self {
            handle: LinkHandle {
                session,
                client,
                stop,
                done,
                polls,
            },
            events,
        }
    }

    /// Waits for the socket, then asks WhatsApp for a phone-number linking code for `phone`
    /// (digits). On failure the connection is stopped.
    pub(crate) async fn request_pair_code(&mut self, phone: &str) -> Result<String, EngineError> {
        let client = Arc::clone(&self.handle.client);
        let socket = tokio::select! {
            ready = client.wait_for_socket(PAIR_CODE_SOCKET_TIMEOUT) => Some(ready),
            () = finished(self.handle.done.clone()) => None,
        };
        match socket {
            Some(Ok(())) => {}
            Some(Err(error)) => {
                self.handle.stop().await;
                return Err(EngineError::Unavailable(format!(
                    "WhatsApp did not answer: {error}"
                )));
            }
            None => {
                let last = std::iter::from_fn(|| self.events.try_recv().ok()).last();
                return Err(mapping::ended_before_code(last.as_ref()));
            }
        }
        let options = PairCodeOptions {
            phone_number: phone.to_owned(),
            platform_id: Some(CompanionWebClientType::Chrome),
            ..PairCodeOptions::default()
        };
        match client.pair_with_code(options).await {
            Ok(code) => Ok(code),
            Err(error) => {
                tracing::info!(session = %self.handle.session, %error, "pairing code request failed");
                self.handle.stop().await;
                Err(mapping::pair_code_error(&error))
            }
        }
    }

    pub(crate) fn into_link(self, pairing_code: Option<String>) -> EngineLink {
        let mut events = self.events;
        EngineLink {
            client: Box::new(self.handle),
            events: Box::pin(futures::stream::poll_fn(move |cx| events.poll_recv(cx))),
            pairing_code,
        }
    }
}

/// Follows one connection from the crate's run loop and events to the port's event stream.
struct Supervisor {
    session: String,
    client: Arc<Client>,
    attempt: Attempt,
    signals: mpsc::UnboundedReceiver<Signal>,
    inbound: mpsc::UnboundedReceiver<Arc<Event>>,
    translator: Translator,
    events: mpsc::UnboundedSender<EngineEvent>,
    probe: Arc<TransportProbe>,
    stop: Arc<StopRequest>,
    done: watch::Sender<bool>,
}

impl Supervisor {
    async fn follow_to_end(mut self, run: BoxFuture<'static, ()>) {
        let mut run = Some(run);
        let last = self.follow(&mut run).await;
        self.stop_client(run).await;
        if let Some(event) = last
            && !self.stopped()
        {
            tracing::info!(session = %self.session, ?event, "whatsapp connection ended");
            let _ = self.events.send(event);
        }
        let _ = self.done.send(true);
    }

    /// Stops the client for good through `disconnect` (it flushes the keys pairing wrote and
    /// closes the socket), polling the run loop meanwhile so it can return.
    async fn stop_client(&self, run: Option<BoxFuture<'static, ()>>) {
        let disconnect = tokio::time::timeout(WIND_DOWN, self.client.disconnect());
        let stopped = match run {
            None => disconnect.await,
            Some(mut run) => {
                tokio::pin!(disconnect);
                tokio::select! {
                    stopped = &mut disconnect => {
                        let _ = tokio::time::timeout(RUN_EXIT_GRACE, run).await;
                        stopped
                    }
                    () = &mut run => disconnect.await,
                }
            }
        };
        if stopped.is_err() {
            tracing::warn!(session = %self.session, "whatsapp client did not stop in time");
        }
    }

    /// Runs until the connection is over; returns the event to report last, if any.
    async fn follow(&mut self, run: &mut Option<BoxFuture<'static, ()>>) -> Option<EngineEvent> {
        let mut code_deadline: Option<Instant> = None;
        loop {
            // Nothing left to follow once the run loop is gone and was not restarted.
            let running = run.as_mut()?;
            tokio::select! {
                Some(signal) = self.signals.recv() => {
                    if self.stopped() {
                        return None;
                    }
                    if let Some(last) = self.apply(signal, &mut code_deadline) {
                        return Some(last);
                    }
                }
                Some(event) = self.inbound.recv() => {
                    if self.stopped() {
                        return None;
                    }
                    for event in self.translator.translate(&event).await {
                        let _ = self.events.send(event);
                    }
                }
                () = running => {
                    *run = None;
                    if self.stopped() {
                        return None;
                    }
                    // Events dispatched just before the run loop returned are still queued.
                    while let Ok(signal) = self.signals.try_recv() {
                        if let Some(last) = self.apply(signal, &mut code_deadline) {
                            return Some(last);
                        }
                    }
                    match self.attempt.on_run_ended(&self.probe.outcome()) {
                        RunEnd::Restart => {
                            tracing::debug!(session = %self.session, "restarting after pairing");
                            self.probe.reset();
                            let client = Arc::clone(&self.client);
                            *run = Some(Box::pin(async move { client.run().await }));
                        }
                        RunEnd::Finish(last) => return Some(last),
                    }
                }
                () = tokio::time::sleep_until(code_deadline.unwrap_or_else(Instant::now)),
                    if code_deadline.is_some() =>
                {
                    code_deadline = None;
                    if let Reaction::Finish(last) = self.attempt.on_code_deadline() {
                        return Some(last);
                    }
                }
                () = self.stop.wake.notified() => return None,
                () = self.events.closed() => {
                    // Nobody listens any more: the manager let the connection go.
                    self.stop.mark();
                    return None;
                }
            }
        }
    }

    /// Applies one signal; returns the event to finish with, if the connection is over.
    fn apply(
        &mut self,
        signal: Signal,
        code_deadline: &mut Option<Instant>,
    ) -> Option<EngineEvent> {
        match &signal {
            Signal::PairFailed(error) | Signal::PairCodeFailed(error) => {
                tracing::warn!(session = %self.session, %error, "whatsapp pairing failed");
            }
            Signal::Dropped(reason) => {
                tracing::info!(session = %self.session, %reason, "whatsapp connection dropped");
            }
            _ => {}
        }
        match self.attempt.on_signal(signal) {
            Reaction::Nothing => None,
            Reaction::Report(event) => {
                let _ = self.events.send(event);
                None
            }
            Reaction::ArmCodeDeadline(valid_for) => {
                *code_deadline = Some(Instant::now() + valid_for);
                None
            }
            Reaction::Finish(last) => Some(last),
        }
    }

    fn stopped(&self) -> bool {
        self.stop.is_requested()
    }
}
