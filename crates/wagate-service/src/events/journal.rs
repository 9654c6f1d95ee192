//! The publisher every producer holds (D5): each event is appended to the durable log first,
//! with its webhook deliveries, then handed to the in-process bus (realtime streams, the outbox
//! worker, tests), and the webhook dispatcher is woken when deliveries were created. One writer
//! task keeps the order producers published in and appends what has piled up in one
//! transaction, so a burst costs one commit instead of one per event.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};
use wagate_domain::{Event, EventId, EventLog, EventPublisher, LoggedEvent};

use super::InProcessBus;

/// Events appended in one transaction at most.
const BATCH: usize = 512;
/// Attempts to append a batch before it is delivered live without being logged.
const APPEND_ATTEMPTS: u32 = 5;

enum Command {
    Publish(Box<Event>),
    Flush(oneshot::Sender<()>),
}

/// Cheap to clone.
#[derive(Clone)]
pub struct EventJournal {
    tx: mpsc::UnboundedSender<Command>,
}

impl EventJournal {
    /// Starts the writer task over `log`, delivering to `bus` after each append and waking
    /// `deliveries_due` when the append created webhook deliveries.
    pub fn start(log: Arc<dyn EventLog>, bus: InProcessBus, deliveries_due: Arc<Notify>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write(log, bus, deliveries_due, rx));
        Self { tx }
    }

    /// Waits until every event published before this call is logged and delivered.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Command::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

impl EventPublisher for EventJournal {
    fn publish(&self, event: Event) {
        if self.tx.send(Command::Publish(Box::new(event))).is_err() {
            tracing::warn!("event journal stopped; event dropped");
        }
    }
}

async fn write(
    log: Arc<dyn EventLog>,
    bus: InProcessBus,
    deliveries_due: Arc<Notify>,
    mut rx: mpsc::UnboundedReceiver<Command>,
) {
    let mut commands = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut commands, BATCH).await > 0 {
        let mut events = Vec::with_capacity(commands.len());
        let mut flushes = Vec::new();
        for command in commands.drain(..) {
            match command {
                Command::Publish(e) => {
                    let mut e = *e;
                    // Ids are given here, by the one writer, so id order is log order and
                    // delivery order: a replay `since` an id never skips a later-logged event.
                    e.id = EventId::generate();
                    events.push(e);
                }
                Command::Flush(done) => flushes.push(done),
            }
        }
        if !events.is_empty() {
            if append(log.as_ref(), &events).await > 0 {
                deliveries_due.notify_one();
            }
            for event in events {
                bus.publish(event);
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Appends with retries; a store that stays down costs replayability and webhook deliveries,
/// never live delivery. Returns how many webhook deliveries the append created.
async fn append(log: &dyn EventLog, events: &[Event]) -> u64 {
    let rows: Vec<LoggedEvent> = events.iter().map(LoggedEvent::from).collect();
    for attempt in 1..=APPEND_ATTEMPTS {
        match log.append_events(&rows).await {
            Ok(deliveries) => return deliveries,
            Err(err) if attempt < APPEND_ATTEMPTS => {
                tracing::warn!(%err, attempt, "event log append failed; retrying");
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
            Err(err) => {
                tracing::error!(%err, count = rows.len(), "events delivered live but not logged");
            }
        }
    }
    0
}
