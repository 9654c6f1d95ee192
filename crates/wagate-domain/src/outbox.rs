//! The outbox: durable asynchronous sends and idempotent replays (domain.md §11, D4).

use crate::{OrgId, OutboxId, SessionId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    Queued,
    Sending,
    Sent,
    Failed,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Queued, Self::Sending, Self::Sent, Self::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: OutboxId,
    pub organization_id: OrgId,
    pub session_id: SessionId,
    pub idempotency_key: Option<String>,
    /// Hash of method, path and body: a reused key with another request is a conflict.
    pub fingerprint: Option<String>,
    /// The send request as JSON (inline media dropped once sent).
    pub payload: String,
    pub status: OutboxStatus,
    pub attempts: i64,
    pub wa_message_id: Option<String>,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The outcome of one dispatch of an entry, as [`crate::MessageStore::finish_outbox`] records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxOutcome {
    pub id: OutboxId,
    pub status: OutboxStatus,
    pub wa_message_id: Option<String>,
    pub error: Option<String>,
    /// Replaces the stored request when given (inline media dropped once sent).
    pub payload: Option<String>,
    pub now_ms: i64,
    /// The row was claimed but never dispatched (it was behind one that could not go out):
    /// its claim's attempt is taken back, so `attempts` keeps counting dispatch attempts.
    pub undo_claim: bool,
}

impl OutboxOutcome {
    /// An outcome with only its status (back to `queued`, say).
    pub fn status(id: OutboxId, status: OutboxStatus, now_ms: i64) -> Self {
        Self {
            id,
            status,
            wa_message_id: None,
            error: None,
            payload: None,
            now_ms,
            undo_claim: false,
        }
    }

    /// Back to `queued` without having been dispatched.
    pub fn released(id: OutboxId, now_ms: i64) -> Self {
        Self {
            undo_claim: true,
            ..Self::status(id, OutboxStatus::Queued, now_ms)
        }
    }
}

/// The outcome of recording a new entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxInsert {
    Inserted,
    /// The organization already holds a live entry with this idempotency key.
    Existing(Box<OutboxEntry>),
}
