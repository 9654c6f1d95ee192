//! Webhooks and their deliveries (domain.md §10, events.md §5, D5).

use std::collections::BTreeMap;

use crate::{EventId, OrgId, SessionId, WebhookId};

/// When to try again after a failed attempt (api.md §2.11, events.md §5.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// `exponential`; any other value means a constant delay.
    pub policy: String,
    pub delay_seconds: i64,
    /// Total attempts before the delivery is dead-lettered.
    pub attempts: i64,
}

impl RetryPolicy {
    /// Stored values ≤ 0 fall back to these at delivery time (events.md §5.5).
    pub const FALLBACK_DELAY_SECONDS: i64 = 2;
    pub const FALLBACK_ATTEMPTS: i64 = 15;

    pub fn exponential(delay_seconds: i64, attempts: i64) -> Self {
        Self {
            policy: "exponential".into(),
            delay_seconds,
            attempts,
        }
    }

    /// Seconds to wait after the `n`th failed attempt, or `None` when it was the last one.
    pub fn delay_after(&self, n: i64) -> Option<i64> {
        let attempts = if self.attempts > 0 {
            self.attempts
        } else {
            Self::FALLBACK_ATTEMPTS
        };
        if n >= attempts {
            return None;
        }
        let delay = if self.delay_seconds > 0 {
            self.delay_seconds
        } else {
            Self::FALLBACK_DELAY_SECONDS
        };
        Some(if self.policy == "exponential" {
            let exponent = (n - 1).clamp(0, 30) as u32;
            delay.saturating_mul(1_i64 << exponent)
        } else {
            delay
        })
    }
}

/// An organization's delivery target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: WebhookId,
    pub organization: OrgId,
    /// `None`: every session of the organization.
    pub session: Option<SessionId>,
    pub url: String,
    /// `["*"]` or exact type names; an empty list matches nothing.
    pub events: Vec<String>,
    pub custom_headers: BTreeMap<String, String>,
    pub retry_policy: RetryPolicy,
    pub active: bool,
    /// The signing secret, encrypted (AES-256-GCM, nonce first); never leaves the service.
    pub secret: Option<Vec<u8>>,
    /// Start of the current run of failed attempts; `None` after a success.
    pub failing_since: Option<i64>,
    /// Set when the webhook was switched off for failing continuously (D5).
    pub disabled_at: Option<i64>,
    pub disabled_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Webhook {
    /// Whether an event of this scope and type goes to this webhook (events.md §5.1).
    pub fn matches(&self, organization: &OrgId, session: &SessionId, event_type: &str) -> bool {
        self.active
            && self.organization == *organization
            && self.session.as_ref().is_none_or(|s| s == session)
            && self.events.iter().any(|e| e == "*" || e == event_type)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Failed,
    Delivered,
    Dead,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Failed => "failed",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Failed, Self::Delivered, Self::Dead]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// One event on its way to one webhook (domain.md §10.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub webhook: WebhookId,
    pub event: EventId,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub response_code: Option<i32>,
    /// Due time while pending or failed (also the claim lease); `None` once terminal.
    pub next_retry_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A delivery taken by a dispatcher, with the envelope to send (`None`: pruned from the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub event: EventId,
    pub attempts: i64,
    pub envelope: Option<String>,
}

/// What one attempt left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryOutcome {
    pub id: i64,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub response_code: Option<i32>,
    pub next_retry_at: Option<i64>,
    pub last_error: Option<String>,
}

/// How a webhook's failure streak moves after a batch of attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookHealth {
    /// An attempt succeeded: the streak ends.
    Recovered,
    /// Only failures: the streak starts now unless it already runs.
    Failing { since: i64 },
    /// Failing for too long: switched off.
    Disabled { at: i64, reason: String },
}
