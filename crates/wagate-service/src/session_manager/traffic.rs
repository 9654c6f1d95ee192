//! How a session task takes its connection's events (issue 4, group commit): a connection
//! event alone, and traffic together with whatever traffic is already queued behind it, so the
//! inbound handler can store a run of messages in one transaction.

use futures::{FutureExt as _, Stream, StreamExt as _};
use wagate_domain::EngineEvent;

/// At most this many traffic events are taken at once.
pub const MAX_TRAFFIC_BATCH: usize = 256;

/// What [`EventQueue::next`] took.
#[derive(Debug)]
pub enum NextEvents {
    /// Traffic events in arrival order: the first one waited for, the rest already queued.
    Traffic(Vec<EngineEvent>),
    /// A connection event (QR, paired, connected, disconnected, fatal), after the traffic
    /// that arrived before it.
    Connection(EngineEvent),
    /// The connection's event stream ended.
    Closed,
}

/// A connection's events, taken in order.
pub struct EventQueue<S> {
    events: S,
    /// A connection event found while taking traffic; it comes next.
    held: Option<EngineEvent>,
    closed: bool,
}

impl<S: Stream<Item = EngineEvent> + Unpin> EventQueue<S> {
    pub fn new(events: S) -> Self {
        Self {
            events,
            held: None,
            closed: false,
        }
    }

    /// Waits for the next event; traffic comes with the traffic already queued behind it (never
    /// waiting for more). Cancel-safe: nothing is taken before the first event arrives, and
    /// nothing is awaited after it.
    pub async fn next(&mut self) -> NextEvents {
        let first = match self.held.take() {
            Some(event) => event,
            None if self.closed => return NextEvents::Closed,
            None => match self.events.next().await {
                Some(event) => event,
                None => {
                    self.closed = true;
                    return NextEvents::Closed;
                }
            },
        };
        if is_connection(&first) {
            return NextEvents::Connection(first);
        }
        let mut batch = vec![first];
        while batch.len() < MAX_TRAFFIC_BATCH {
            match self.events.next().now_or_never() {
                Some(Some(event)) if is_connection(&event) => {
                    self.held = Some(event);
                    break;
                }
                Some(Some(event)) => batch.push(event),
                Some(None) => {
                    self.closed = true;
                    break;
                }
                None => break,
            }
        }
        NextEvents::Traffic(batch)
    }
}

/// Connection state, applied by the session task itself; everything else is traffic.
fn is_connection(event: &EngineEvent) -> bool {
    matches!(
        event,
        EngineEvent::Qr { .. }
            | EngineEvent::QrTimeout
            | EngineEvent::Paired(_)
            | EngineEvent::Connected
            | EngineEvent::Disconnected { .. }
            | EngineEvent::Fatal(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use wagate_domain::engine::PresenceUpdate;

    fn traffic(n: usize) -> EngineEvent {
        EngineEvent::Presence(PresenceUpdate {
            chat: None,
            from: wagate_domain::Jid::parse(&format!("{n}@lid")).unwrap(),
            state: wagate_domain::engine::PresenceState::Available,
            recording: false,
            last_seen: None,
        })
    }

    fn from(event: &EngineEvent) -> String {
        match event {
            EngineEvent::Presence(p) => p.from.to_string(),
            other => format!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn queued_traffic_comes_in_order_and_stops_at_connection_events() {
        let (tx, rx) = futures::channel::mpsc::unbounded();
        for event in [traffic(1), traffic(2), EngineEvent::Connected, traffic(3)] {
            tx.unbounded_send(event).unwrap();
        }
        let mut queue = EventQueue::new(rx);
        let NextEvents::Traffic(first) = queue.next().await else {
            panic!("traffic first")
        };
        assert_eq!(
            first.iter().map(from).collect::<Vec<_>>(),
            ["1@lid", "2@lid"]
        );
        assert!(matches!(
            queue.next().await,
            NextEvents::Connection(EngineEvent::Connected)
        ));
        let NextEvents::Traffic(last) = queue.next().await else {
            panic!("traffic after the connection event")
        };
        assert_eq!(last.iter().map(from).collect::<Vec<_>>(), ["3@lid"]);
        // Nothing is queued: the next call waits for the next event instead of returning.
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(20), queue.next());
        assert!(waiting.await.is_err());
        drop(tx);
        assert!(matches!(queue.next().await, NextEvents::Closed));
        assert!(matches!(queue.next().await, NextEvents::Closed));
    }

    #[tokio::test]
    async fn a_batch_holds_at_most_the_limit() {
        let events: Vec<_> = (0..MAX_TRAFFIC_BATCH + 5).map(traffic).collect();
        let mut queue = EventQueue::new(futures::stream::iter(events));
        let NextEvents::Traffic(first) = queue.next().await else {
            panic!("traffic")
        };
        assert_eq!(first.len(), MAX_TRAFFIC_BATCH);
        let NextEvents::Traffic(rest) = queue.next().await else {
            panic!("the rest")
        };
        assert_eq!(rest.len(), 5);
        assert!(matches!(queue.next().await, NextEvents::Closed));
    }
}
