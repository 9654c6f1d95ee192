//! Events (events.md): what happened to a session, in the contract's catalog. Producers build
//! them; the bus and, later, the event log and webhooks carry them.

use crate::{EventId, OrgId, SessionId, SessionStatus};

/// One event: the envelope's fields (events.md §1) around a typed payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: EventId,
    pub session: SessionId,
    pub organization: OrgId,
    /// Epoch-ms at which wagate created the event.
    pub timestamp: i64,
    pub payload: EventPayload,
}

impl Event {
    /// The envelope's `event` string.
    pub fn event_type(&self) -> &'static str {
        self.payload.event_type()
    }
}

/// `auth.code` when pairing succeeded (events.md §3.1, the documented shape).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PairedPayload {
    pub jid: Option<String>,
    pub lid: Option<String>,
    pub business_name: Option<String>,
    pub platform: Option<String>,
}

/// Typed payloads; each maps to one catalog type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventPayload {
    /// `session.status`; `reason` is our `statusReason` extension (D7).
    SessionStatus {
        status: SessionStatus,
        reason: Option<String>,
    },
    /// `auth.qr` with the code's validity.
    AuthQr { code: String, timeout_ms: i64 },
    /// `auth.code`: pairing succeeded.
    AuthCode(PairedPayload),
    /// `auth.pairing_code`: a linking code was issued for `phone`. The reference overloads
    /// `auth.code` for this; events.md §3.1 lets us give it its own type.
    PairingCodeIssued { code: String, phone: String },
}

impl EventPayload {
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::SessionStatus { .. } => "session.status",
            Self::AuthQr { .. } => "auth.qr",
            Self::AuthCode(_) => "auth.code",
            Self::PairingCodeIssued { .. } => "auth.pairing_code",
        }
    }
}

/// Where producers hand events over (the in-process bus today; the durable log later).
pub trait EventPublisher: Send + Sync + 'static {
    fn publish(&self, event: Event);
}
