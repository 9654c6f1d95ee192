//! The outbox worker (D4, domain.md §11): dispatches `?async=true` sends one at a time and in
//! order per session, within the session's send budget (a queued send waits for budget instead
//! of failing), and picks queued rows up again after a restart.
//!
//! Each node works the sessions it runs: a row whose session has no live client here is put
//! back to `queued` and waits until the session connects (a `session.status` of `working`) or
//! the next sweep. A claim is a compare-and-set in the store, so two nodes never send one row
//! twice while its lease holds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use wagate_domain::{
    Clock, Event, EventId, EventPayload, EventPublisher, MessageStatus, MessageStatusPayload,
    OutboxEntry, OutboxOutcome, OutboxStatus, OutboxStatusPayload, Session, SessionId,
    SessionStatus, Store,
};

use super::send_request::SendRequest;
use crate::{MessagingService, ServiceError};

#[derive(Debug, Clone)]
pub struct OutboxConfig {
    /// A `sending` claim older than this belongs to a worker that died and is taken over.
    pub lease: Duration,
    /// How often every session with queued rows is looked at (rows of sessions that connected
    /// without an event, leases that ran out, other nodes' rows).
    pub sweep_every: Duration,
    /// Dispatches that found the network unavailable before the row fails for good.
    pub max_attempts: i64,
    /// The wait after such a dispatch.
    pub retry_delay: Duration,
    /// One dispatch, media downloads included (domain.md §11: 4 min).
    pub dispatch_timeout: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(300),
            sweep_every: Duration::from_secs(2),
            max_attempts: 5,
            retry_delay: Duration::from_secs(2),
            dispatch_timeout: Duration::from_secs(240),
        }
    }
}

/// Cheap to clone.
#[derive(Clone)]
pub struct OutboxWorker {
    inner: Arc<Inner>,
}

struct Inner {
    messaging: Arc<MessagingService>,
    sessions: Arc<dyn Store>,
    events: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
    config: OutboxConfig,
    /// Sessions with a drain task; `true` when woken again while it drains.
    draining: Mutex<HashMap<SessionId, bool>>,
    tasks: Mutex<JoinSet<()>>,
    stop: CancellationToken,
}

/// Rows claimed at once per session. Each is sent only after the one before it; the batch
/// bounds how many a crash can leave `sending` until their lease runs out.
const CLAIM_BATCH: u32 = 32;

/// A batch's sent rows whose message and outcome are being stored.
#[derive(Default)]
struct InFlight {
    stores: JoinSet<Result<(), ServiceError>>,
    sent: Vec<(OutboxEntry, SendRequest, String)>,
}

/// What one step of a session's drain did.
enum Step {
    /// A batch was sent or failed: look for the next.
    Done,
    /// Nothing to claim (or another worker's claim is in flight).
    Idle,
    /// The session has no live client on this node.
    NotLive,
    /// Try again after this long (budget spent, network unavailable).
    Wait(Duration),
}

impl OutboxWorker {
    /// Starts the worker: it listens for new queued sends and for sessions coming up on
    /// `status`, and sweeps every [`OutboxConfig::sweep_every`].
    pub fn start(
        messaging: Arc<MessagingService>,
        sessions: Arc<dyn Store>,
        events: Arc<dyn EventPublisher>,
        status: broadcast::Receiver<Arc<Event>>,
        clock: Arc<dyn Clock>,
        config: OutboxConfig,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        messaging.set_outbox_waker(tx);
        let worker = Self {
            inner: Arc::new(Inner {
                messaging,
                sessions,
                events,
                clock,
                config,
                draining: Mutex::new(HashMap::new()),
                tasks: Mutex::new(JoinSet::new()),
                stop: CancellationToken::new(),
            }),
        };
        worker.spawn(worker.clone().listen(rx, status));
        worker
    }

    /// Stops claiming; lets sends in flight finish for up to `grace`. Rows still `sending` after
    /// that are taken over when their lease runs out.
    pub async fn shutdown(&self, grace: Duration) {
        self.inner.stop.cancel();
        let mut tasks = match self.inner.tasks.lock() {
            Ok(mut t) => std::mem::take(&mut *t),
            Err(_) => return,
        };
        if tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} })
            .await
            .is_err()
        {
            tasks.abort_all();
        }
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        if let Ok(mut tasks) = self.inner.tasks.lock() {
            // Finished drains are reaped here so the set does not grow.
            while tasks.try_join_next().is_some() {}
            tasks.spawn(task);
        }
    }

    async fn listen(
        self,
        mut wakes: mpsc::UnboundedReceiver<SessionId>,
        mut status: broadcast::Receiver<Arc<Event>>,
    ) {
        let mut sweep = tokio::time::interval(self.inner.config.sweep_every);
        let mut bus_open = true;
        loop {
            tokio::select! {
                () = self.inner.stop.cancelled() => return,
                Some(id) = wakes.recv() => self.wake(id),
                event = status.recv(), if bus_open => match event {
                    Ok(e) if matches!(e.payload, EventPayload::SessionStatus {
                        status: SessionStatus::Working, ..
                    }) => self.wake(e.session.clone()),
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => bus_open = false,
                },
                _ = sweep.tick() => self.sweep().await,
            }
        }
    }

    async fn sweep(&self) {
        match self
            .inner
            .messaging
            .store()
            .sessions_with_queued_outbox()
            .await
        {
            Ok(ids) => ids.into_iter().for_each(|id| self.wake(id)),
            Err(err) => tracing::warn!(%err, "outbox sweep failed"),
        }
    }

    /// Makes sure a drain task runs for `session`.
    fn wake(&self, session: SessionId) {
        let Ok(mut draining) = self.inner.draining.lock() else {
            return;
        };
        if let Some(again) = draining.get_mut(&session) {
            *again = true;
            return;
        }
        draining.insert(session.clone(), false);
        drop(draining);
        self.spawn(self.clone().drain(session));
    }

    /// Whether the drain of `session` should look again (it was woken while draining);
    /// otherwise it is forgotten, atomically with the decision.
    fn woken_again(&self, session: &SessionId) -> bool {
        let Ok(mut draining) = self.inner.draining.lock() else {
            return false;
        };
        match draining.get_mut(session) {
            Some(again) if *again => {
                *again = false;
                true
            }
            _ => {
                draining.remove(session);
                false
            }
        }
    }

    async fn drain(self, session: SessionId) {
        loop {
            if self.inner.stop.is_cancelled() {
                self.forget(&session);
                return;
            }
            match self.step(&session).await {
                Ok(Step::Done) => {}
                Ok(Step::Idle | Step::NotLive) => {
                    if !self.woken_again(&session) {
                        return;
                    }
                }
                Ok(Step::Wait(d)) => {
                    tokio::select! {
                        () = self.inner.stop.cancelled() => {}
                        () = tokio::time::sleep(d) => {}
                    }
                }
                Err(err) => {
                    tracing::warn!(%session, %err, "outbox step failed");
                    self.forget(&session);
                    return;
                }
            }
        }
    }

    fn forget(&self, session: &SessionId) {
        if let Ok(mut draining) = self.inner.draining.lock() {
            draining.remove(session);
        }
    }

    /// Claims up to [`CLAIM_BATCH`] rows of the session and sends them one after the other. A
    /// sent row's message and outcome are stored while the next row is on the wire (its record
    /// is built first, so the timeline keeps the send order); the batch ends when every one is
    /// committed, before the next claim.
    async fn step(&self, id: &SessionId) -> Result<Step, ServiceError> {
        let inner = &self.inner;
        let messaging = &inner.messaging;
        let store = messaging.store();
        let lease = i64::try_from(inner.config.lease.as_millis()).unwrap_or(i64::MAX);
        // No claim for a session this node does not run: its rows stay queued for its owner.
        let Some(session) = inner.sessions.get_session_by_id(id).await? else {
            return Ok(Step::NotLive);
        };
        let Ok(client) = messaging.live(&session).await else {
            return Ok(Step::NotLive);
        };
        let entries = store
            .claim_outbox(id, inner.clock.now_ms(), lease, CLAIM_BATCH)
            .await?;
        if entries.is_empty() {
            return Ok(Step::Idle);
        }
        let mut batch = InFlight::default();
        let mut rows = entries.into_iter();
        while let Some(entry) = rows.next() {
            if inner.stop.is_cancelled() {
                // Shutting down: what is on the wire finishes, the rest goes back to the queue.
                self.settle(&session, &mut batch).await?;
                self.requeue(None, std::iter::once(entry).chain(rows))
                    .await?;
                return Ok(Step::Done);
            }
            let request: SendRequest = match serde_json::from_str(&entry.payload) {
                Ok(r) => r,
                Err(err) => {
                    self.settle(&session, &mut batch).await?;
                    self.fail(&session, &entry, &format!("stored request: {err}"))
                        .await?;
                    continue;
                }
            };
            if let Err(ServiceError::RateLimited { retry_after }) =
                messaging.consume_budget(&session)
            {
                self.settle(&session, &mut batch).await?;
                self.requeue(None, std::iter::once(entry).chain(rows))
                    .await?;
                return Ok(Step::Wait(Duration::from_secs(retry_after.max(1))));
            }
            if request.reply_to.is_some() {
                // The quoted message may be one of this batch, still being stored.
                self.settle(&session, &mut batch).await?;
            }
            let send = async {
                let mut message = messaging.prepare(&request).await?;
                messaging.enrich_quote(&session, &mut message).await?;
                let sent = messaging.send_only(&client, &message).await?;
                Ok::<_, ServiceError>((message, sent))
            };
            let outcome = tokio::time::timeout(inner.config.dispatch_timeout, send)
                .await
                .unwrap_or_else(|_| Err(ServiceError::Unavailable("dispatch timed out".into())));
            match outcome {
                Ok((message, sent)) => {
                    let record = messaging.outgoing_record(&session, &message, &sent);
                    let outcome = OutboxOutcome {
                        id: entry.id.clone(),
                        status: OutboxStatus::Sent,
                        wa_message_id: Some(sent.id.clone()),
                        error: None,
                        payload: serde_json::to_string(&request.without_inline_media()).ok(),
                        now_ms: inner.clock.now_ms(),
                        undo_claim: false,
                    };
                    let (messaging, s) = (messaging.clone(), session.clone());
                    batch.stores.spawn(async move {
                        messaging.store_outgoing(&s, record).await;
                        messaging.finish_outbox(outcome).await
                    });
                    batch.sent.push((entry, request, sent.id));
                }
                Err(ServiceError::Unavailable(msg))
                    if entry.attempts < inner.config.max_attempts =>
                {
                    tracing::info!(session = %id, outbox = %entry.id, %msg, "async send deferred");
                    self.settle(&session, &mut batch).await?;
                    self.requeue(Some(entry), rows).await?;
                    return Ok(Step::Wait(inner.config.retry_delay));
                }
                Err(err) => {
                    self.settle(&session, &mut batch).await?;
                    self.fail(&session, &entry, &err.to_string()).await?;
                }
            }
        }
        self.settle(&session, &mut batch).await?;
        Ok(Step::Done)
    }

    /// Waits until the batch's sent rows are stored, then publishes their events in send
    /// order.
    async fn settle(&self, session: &Session, batch: &mut InFlight) -> Result<(), ServiceError> {
        let mut failed = None;
        while let Some(done) = batch.stores.join_next().await {
            match done {
                Ok(Ok(())) => {}
                Ok(Err(err)) => failed = Some(err),
                Err(join) => failed = Some(ServiceError::Internal(join.to_string().into())),
            }
        }
        if let Some(err) = failed {
            // Rows whose outcome was not recorded stay `sending` until their lease runs out.
            batch.sent.clear();
            return Err(err);
        }
        for (entry, request, wa_id) in batch.sent.drain(..) {
            self.publish_sent(session, &entry, &request, &wa_id);
        }
        Ok(())
    }

    /// Puts claimed rows back to `queued`: `tried` was dispatched (network unavailable), the
    /// `untried` were not (they were behind it, or the budget was spent, or the node stops) and
    /// get their claim's attempt back.
    async fn requeue(
        &self,
        tried: Option<OutboxEntry>,
        untried: impl Iterator<Item = OutboxEntry>,
    ) -> Result<(), ServiceError> {
        let now = self.inner.clock.now_ms();
        let outcomes: Vec<_> = tried
            .map(|e| OutboxOutcome::status(e.id, OutboxStatus::Queued, now))
            .into_iter()
            .chain(untried.map(|e| OutboxOutcome::released(e.id, now)))
            .collect();
        Ok(self
            .inner
            .messaging
            .store()
            .finish_outbox(&outcomes)
            .await?)
    }

    async fn fail(
        &self,
        session: &Session,
        entry: &OutboxEntry,
        error: &str,
    ) -> Result<Step, ServiceError> {
        tracing::info!(session = %session.id, outbox = %entry.id, error, "async send failed");
        let now = self.inner.clock.now_ms();
        self.inner
            .messaging
            .finish_outbox(OutboxOutcome {
                error: Some(error.to_owned()),
                ..OutboxOutcome::status(entry.id.clone(), OutboxStatus::Failed, now)
            })
            .await?;
        self.publish(
            session,
            EventPayload::OutboxStatus(OutboxStatusPayload {
                outbox_id: entry.id.to_string(),
                status: OutboxStatus::Failed.as_str(),
                wa_message_id: None,
                error: Some(error.to_owned()),
                attempts: entry.attempts,
            }),
        );
        Ok(Step::Done)
    }

    fn publish_sent(&self, session: &Session, entry: &OutboxEntry, req: &SendRequest, id: &str) {
        self.publish(
            session,
            EventPayload::OutboxStatus(OutboxStatusPayload {
                outbox_id: entry.id.to_string(),
                status: OutboxStatus::Sent.as_str(),
                wa_message_id: Some(id.to_owned()),
                error: None,
                attempts: entry.attempts,
            }),
        );
        if let Ok(to) = req.recipient() {
            self.publish(
                session,
                EventPayload::MessageStatus(MessageStatusPayload {
                    chat_jid: to.canonical().to_string(),
                    sender_jid: None,
                    message_ids: vec![id.to_owned()],
                    status: MessageStatus::Sent,
                    timestamp: self.inner.clock.now_ms(),
                }),
            );
        }
    }

    fn publish(&self, session: &Session, payload: EventPayload) {
        self.inner.events.publish(Event {
            id: EventId::generate(),
            session: session.id.clone(),
            organization: session.organization_id.clone(),
            timestamp: self.inner.clock.now_ms(),
            payload,
        });
    }
}
