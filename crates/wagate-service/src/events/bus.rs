//! The in-process event bus: the journal publishes here once an event is logged; realtime
//! streams, the outbox worker and tests subscribe.

use std::sync::Arc;

use tokio::sync::broadcast;
use wagate_domain::{Event, EventPublisher};

/// A broadcast channel of events; slow subscribers lose the oldest events, never block producers.
#[derive(Clone)]
pub struct InProcessBus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl InProcessBus {
    pub fn new(capacity: usize) -> Self {
        Self {
            tx: broadcast::channel(capacity).0,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self::new(4096)
    }
}

impl EventPublisher for InProcessBus {
    fn publish(&self, event: Event) {
        tracing::debug!(event = event.event_type(), id = %event.id, session = %event.session, "event");
        // No subscriber is not an error: the event is in the log already.
        let _ = self.tx.send(Arc::new(event));
    }
}
