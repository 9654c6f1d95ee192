//! `sendMessage` as a whole (api.md §1.10, D4): synchronous sends, `Idempotency-Key` replays and
//! conflicts, and `?async=true` sends queued in the outbox for the worker.

use sha2::{Digest, Sha256};
use wagate_domain::engine::SentMessage;
use wagate_domain::{OutboxEntry, OutboxId, OutboxInsert, OutboxOutcome, OutboxStatus, Session};

use super::send_request::SendRequest;
use crate::{MessagingService, ServiceError, ServiceResult};

/// One `sendMessage` call.
pub struct Submission<'a> {
    pub request: &'a SendRequest,
    /// The body as received: with the method and path it is the key's fingerprint.
    pub raw_body: &'a [u8],
    pub idempotency_key: Option<String>,
    pub queue: bool,
}

/// What a `sendMessage` call did.
#[derive(Debug)]
pub enum SendOutcome {
    /// Sent now; `outbox_id` when the call carried a key.
    Sent {
        sent: SentMessage,
        outbox_id: Option<OutboxId>,
    },
    /// Stored `queued` for the worker (`202`).
    Queued(OutboxId),
    /// The key was used before with the same request: its entry, as it stands.
    Replayed(Box<OutboxEntry>),
}

impl MessagingService {
    /// Validates, then replays, queues or sends. Validation comes first so a bad request never
    /// takes a key; a queued send's URLs are fetched by the worker, not here.
    pub async fn submit(&self, s: &Session, sub: Submission<'_>) -> ServiceResult<SendOutcome> {
        let message = if sub.queue {
            self.validate(sub.request).await?;
            None
        } else {
            Some(self.prepare(sub.request).await?)
        };
        let Some(message) = message else {
            return self.enqueue(s, &sub).await;
        };
        let Some(key) = sub.idempotency_key.clone() else {
            let sent = self.send_prepared(s, message).await?;
            return Ok(SendOutcome::Sent {
                sent,
                outbox_id: None,
            });
        };
        let entry = self.outbox_entry(s, &sub, Some(key), OutboxStatus::Sending);
        if let Some(existing) = self.insert_entry(&entry).await? {
            return Ok(SendOutcome::Replayed(existing));
        }
        let outcome = self.send_prepared(s, message).await;
        let (status, wa_message_id, error) = match &outcome {
            Ok(sent) => (OutboxStatus::Sent, Some(sent.id.clone()), None),
            Err(err) => (OutboxStatus::Failed, None, Some(err.to_string())),
        };
        self.finish_outbox(OutboxOutcome {
            id: entry.id.clone(),
            status,
            wa_message_id,
            error,
            payload: None,
            now_ms: self.now_ms(),
            undo_claim: false,
        })
        .await?;
        Ok(SendOutcome::Sent {
            sent: outcome?,
            outbox_id: Some(entry.id),
        })
    }

    async fn enqueue(&self, s: &Session, sub: &Submission<'_>) -> ServiceResult<SendOutcome> {
        let entry = self.outbox_entry(s, sub, sub.idempotency_key.clone(), OutboxStatus::Queued);
        if let Some(existing) = self.insert_entry(&entry).await? {
            return Ok(SendOutcome::Replayed(existing));
        }
        self.wake_outbox(&s.id);
        Ok(SendOutcome::Queued(entry.id))
    }

    /// Records `entry`, or answers the entry already holding its key (same fingerprint) or a
    /// `409` (another request).
    async fn insert_entry(&self, entry: &OutboxEntry) -> ServiceResult<Option<Box<OutboxEntry>>> {
        match self.store().insert_outbox(entry, self.key_ttl_ms()).await? {
            OutboxInsert::Inserted => Ok(None),
            OutboxInsert::Existing(existing) if existing.fingerprint == entry.fingerprint => {
                Ok(Some(existing))
            }
            OutboxInsert::Existing(_) => Err(ServiceError::Conflict(
                "Idempotency-Key was already used with a different request".into(),
            )),
        }
    }

    fn outbox_entry(
        &self,
        s: &Session,
        sub: &Submission<'_>,
        key: Option<String>,
        status: OutboxStatus,
    ) -> OutboxEntry {
        // A queued send keeps its inline media until it is sent (domain.md §11).
        let payload = if status == OutboxStatus::Queued {
            serde_json::to_string(sub.request)
        } else {
            serde_json::to_string(&sub.request.without_inline_media())
        };
        let now = self.now_ms();
        OutboxEntry {
            id: OutboxId::generate(),
            organization_id: s.organization_id.clone(),
            session_id: s.id.clone(),
            fingerprint: key.as_ref().map(|_| fingerprint(s, sub.raw_body)),
            idempotency_key: key,
            payload: payload.unwrap_or_default(),
            status,
            attempts: i64::from(status == OutboxStatus::Sending),
            wa_message_id: None,
            error: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// An outbox entry of a session the caller may reach (another session's entry is `404`).
    pub async fn outbox_entry_of(&self, s: &Session, id: &str) -> ServiceResult<OutboxEntry> {
        let not_found = || ServiceError::NotFound("outbox entry not found".into());
        let id = OutboxId::parse(id.trim()).map_err(|_| not_found())?;
        self.store()
            .get_outbox(&s.organization_id, &id)
            .await?
            .filter(|e| e.session_id == s.id)
            .ok_or_else(not_found)
    }
}

/// D4: a key is bound to the method, the path and the body.
fn fingerprint(s: &Session, raw_body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(format!("POST /api/v1/sessions/{}/messages\n", s.id).as_bytes());
    h.update(raw_body);
    format!("{:x}", h.finalize())
}
