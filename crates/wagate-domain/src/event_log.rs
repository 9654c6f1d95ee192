//! The durable event log (events.md §2, D5): every event is appended before anyone sees it, and
//! realtime streams replay it after a reconnect.

use async_trait::async_trait;

use crate::{Event, EventId, OrgId, SessionId, StoreResult};

/// One stored event: its scope and its envelope as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    pub id: EventId,
    pub organization: OrgId,
    pub session: SessionId,
    pub event_type: String,
    pub created_at: i64,
    /// The envelope (events.md §1) as one line of JSON.
    pub envelope: String,
}

impl From<&Event> for LoggedEvent {
    fn from(e: &Event) -> Self {
        Self {
            id: e.id.clone(),
            organization: e.organization.clone(),
            session: e.session.clone(),
            event_type: e.event_type().to_owned(),
            created_at: e.timestamp,
            envelope: e.envelope_json(),
        }
    }
}

#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// Appends events in one transaction (an id already stored is skipped), creating in the
    /// same transaction one pending delivery per matching webhook; returns how many.
    async fn append_events(&self, events: &[LoggedEvent]) -> StoreResult<u64>;
    /// The organization's events (one session's when given), oldest first, strictly after
    /// `after` — or from the oldest retained one when `after` is absent or not in the scope's
    /// log (never existed, or pruned).
    async fn events_after(
        &self,
        org: &OrgId,
        session: Option<&SessionId>,
        after: Option<&EventId>,
        limit: u32,
    ) -> StoreResult<Vec<LoggedEvent>>;
    /// Deletes up to `batch` events created before `before_ms`, except those a pending or failed
    /// webhook delivery still needs; returns how many.
    async fn prune_events(&self, before_ms: i64, batch: u32) -> StoreResult<u64>;
}
