//! The webhook operations (api.md §11, D5): CRUD with the contract's validation, the delivery
//! log, redelivery and a test send. All of them need `manage`; another organization's webhook
//! is `404 webhook not found`.

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::header::{HeaderName, HeaderValue};
use tokio::sync::Notify;
use wagate_domain::{
    Capability, Clock, Delivery, EventId, Principal, RetryPolicy, SessionId, Store, Webhook,
    WebhookId, WebhookStore,
};

use super::secret_box::SecretBox;
use super::sender::{AttemptResult, Request, WebhookSender};
use super::target::TargetPolicy;
use crate::access::{organization, require};
use crate::pagination::parse_numeric_cursor;
use crate::{Page, PageRequest, ServiceError, ServiceResult};

/// Limits on what one webhook may hold.
const MAX_EVENTS: usize = 100;
const MAX_HEADERS: usize = 50;
const MAX_SECRET_BYTES: usize = 256;

/// The body of `createWebhook` and `updateWebhook`; every field optional (create requires `url`
/// and `events` itself). `session_id`: absent, explicit `null` (all sessions), or an id.
#[derive(Debug, Default, Clone)]
pub struct WebhookFields {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub session_id: Option<Option<String>>,
    pub secret: Option<String>,
    pub custom_headers: Option<BTreeMap<String, String>>,
    pub retry_policy: Option<RetryPolicy>,
    pub active: Option<bool>,
}

/// What `:test` observed.
#[derive(Debug, Clone)]
pub struct TestDelivery {
    pub event_id: EventId,
    pub result: AttemptResult,
    pub duration_ms: u64,
}

/// Everything the webhook operations need; built once per node.
pub struct WebhookService {
    pub(super) webhooks: Arc<dyn WebhookStore>,
    pub(super) sessions: Arc<dyn Store>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) secrets: Arc<SecretBox>,
    pub(super) policy: TargetPolicy,
    pub(super) sender: WebhookSender,
    /// New webhooks' policy when the body names none (events.md §5.5 server defaults).
    pub(super) default_policy: RetryPolicy,
    /// Wakes the dispatcher after a redelivery.
    pub(super) due: Arc<Notify>,
}

fn not_found() -> ServiceError {
    ServiceError::NotFound("webhook not found".into())
}

impl WebhookService {
    pub async fn list(&self, p: &Principal) -> ServiceResult<Vec<Webhook>> {
        let org = organization(p)?;
        require(p, Capability::Manage)?;
        let all = self.webhooks.list_webhooks(org).await?;
        Ok(all.into_iter().filter(|w| reachable(p, w)).collect())
    }

    pub async fn get(&self, p: &Principal, id: &str) -> ServiceResult<Webhook> {
        let org = organization(p)?;
        let id = WebhookId::parse(id).map_err(|_| not_found())?;
        let webhook = self
            .webhooks
            .get_webhook(Some(org), &id)
            .await?
            .filter(|w| reachable(p, w))
            .ok_or_else(not_found)?;
        require(p, Capability::Manage)?;
        Ok(webhook)
    }

    pub async fn create(&self, p: &Principal, body: WebhookFields) -> ServiceResult<Webhook> {
        let org = organization(p)?.clone();
        require(p, Capability::Manage)?;
        let url = body
            .url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .ok_or_else(|| ServiceError::validation("url is required"))?;
        let url = self.check_url(url).await?;
        let events = body
            .events
            .filter(|e| !e.is_empty())
            .ok_or_else(|| ServiceError::validation("events is required"))?;
        let now = self.clock.now_ms();
        let mut webhook = Webhook {
            id: WebhookId::generate(),
            organization: org,
            session: None,
            url,
            events: check_events(events)?,
            custom_headers: check_headers(body.custom_headers.unwrap_or_default())?,
            retry_policy: body
                .retry_policy
                .unwrap_or_else(|| self.default_policy.clone()),
            active: body.active.unwrap_or(true),
            secret: None,
            failing_since: None,
            disabled_at: None,
            disabled_reason: None,
            created_at: now,
            updated_at: now,
        };
        webhook.session = self.check_session(p, body.session_id.flatten()).await?;
        webhook.secret = self.seal(body.secret.as_deref())?;
        self.webhooks.insert_webhook(&webhook).await?;
        Ok(webhook)
    }

    pub async fn update(
        &self,
        p: &Principal,
        id: &str,
        body: WebhookFields,
    ) -> ServiceResult<Webhook> {
        let mut w = self.get(p, id).await?;
        if let Some(url) = body.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            w.url = self.check_url(url).await?;
        }
        if let Some(events) = body.events {
            w.events = check_events(events)?;
        }
        if let Some(session) = body.session_id {
            w.session = self.check_session(p, session).await?;
        }
        if let Some(headers) = body.custom_headers {
            w.custom_headers = check_headers(headers)?;
        }
        if let Some(policy) = body.retry_policy {
            w.retry_policy = policy;
        }
        if let Some(secret) = body.secret.as_deref() {
            w.secret = self.seal(Some(secret))?;
        }
        if let Some(active) = body.active {
            // Switching a webhook back on starts it with a clean record.
            if active && !w.active {
                w.failing_since = None;
                w.disabled_at = None;
                w.disabled_reason = None;
            }
            w.active = active;
        }
        w.updated_at = self.clock.now_ms();
        if !self.webhooks.update_webhook(&w).await? {
            return Err(not_found());
        }
        Ok(w)
    }

    pub async fn delete(&self, p: &Principal, id: &str) -> ServiceResult<()> {
        let w = self.get(p, id).await?;
        let now = self.clock.now_ms();
        if !self
            .webhooks
            .delete_webhook(&w.organization, &w.id, now)
            .await?
        {
            return Err(not_found());
        }
        Ok(())
    }

    /// The webhook's deliveries, newest first; the cursor is the last delivery id of a page.
    pub async fn deliveries(
        &self,
        p: &Principal,
        id: &str,
        page: PageRequest,
    ) -> ServiceResult<Page<Delivery>> {
        let w = self.get(p, id).await?;
        let before = page
            .cursor
            .as_deref()
            .map(parse_numeric_cursor)
            .transpose()?;
        let rows = self
            .webhooks
            .list_deliveries(&w.id, before, page.limit)
            .await?;
        Ok(Page::new(rows, page.limit, |d| d.id.to_string()))
    }

    /// Sends a delivery again from a fresh attempt budget, whatever its status.
    pub async fn redeliver(
        &self,
        p: &Principal,
        id: &str,
        delivery: &str,
    ) -> ServiceResult<Delivery> {
        let w = self.get(p, id).await?;
        let missing = || ServiceError::NotFound("delivery not found".into());
        let delivery: i64 = delivery.parse().map_err(|_| missing())?;
        let now = self.clock.now_ms();
        let d = self
            .webhooks
            .redeliver(&w.id, delivery, now)
            .await?
            .ok_or_else(missing)?;
        self.due.notify_one();
        Ok(d)
    }

    /// Sends a `webhook.test` envelope now, signed like any delivery, and reports the answer.
    /// Nothing is logged: the test event is not part of the organization's stream.
    pub async fn test(&self, p: &Principal, id: &str) -> ServiceResult<TestDelivery> {
        let w = self.get(p, id).await?;
        let event_id = EventId::generate();
        let now = self.clock.now_ms();
        let body = serde_json::json!({
            "schema": "v1",
            "id": event_id.as_str(),
            "event": "webhook.test",
            "session": w.session.as_ref().map(SessionId::as_str).unwrap_or_default(),
            "organization": w.organization.as_str(),
            "timestamp": now,
            "payload": { "webhookId": w.id.as_str() },
        })
        .to_string();
        let secret = match w.secret.as_deref() {
            None => None,
            Some(sealed) => Some(
                self.secrets
                    .open(sealed)
                    .map_err(|e| ServiceError::Internal(Box::new(e)))?,
            ),
        };
        let started = std::time::Instant::now();
        let result = self
            .sender
            .send(Request {
                url: &w.url,
                custom_headers: &w.custom_headers,
                secret: secret.as_deref(),
                event_id: event_id.as_str(),
                body: &body,
                now_ms: now,
            })
            .await;
        Ok(TestDelivery {
            event_id,
            result,
            duration_ms: started.elapsed().as_millis() as u64,
        })
    }

    async fn check_url(&self, raw: &str) -> ServiceResult<String> {
        self.policy
            .check(raw)
            .await
            .map(|u| u.to_string())
            .map_err(|e| ServiceError::validation(e.to_string()))
    }

    /// A named session must be the caller's (else 404, api.md §11.2); a key limited to some
    /// sessions must name one of them.
    async fn check_session(
        &self,
        p: &Principal,
        raw: Option<String>,
    ) -> ServiceResult<Option<SessionId>> {
        let org = organization(p)?;
        let Some(raw) = raw.filter(|s| !s.trim().is_empty()) else {
            if p.session_limit().is_some() {
                return Err(ServiceError::Forbidden(
                    "this key is limited to sessions: the webhook must name one".into(),
                ));
            }
            return Ok(None);
        };
        let id = SessionId::parse(raw.trim()).map_err(|_| ServiceError::session_not_found())?;
        if !p.can_reach_session(&id) || self.sessions.get_session(org, &id).await?.is_none() {
            return Err(ServiceError::session_not_found());
        }
        Ok(Some(id))
    }

    fn seal(&self, secret: Option<&str>) -> ServiceResult<Option<Vec<u8>>> {
        match secret.filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) if s.len() > MAX_SECRET_BYTES => Err(ServiceError::validation(format!(
                "secret must be at most {MAX_SECRET_BYTES} bytes"
            ))),
            Some(s) => self
                .secrets
                .seal(s)
                .map(Some)
                .map_err(|e| ServiceError::Internal(Box::new(e))),
        }
    }
}

/// A key limited to sessions sees only webhooks scoped to one of them.
fn reachable(p: &Principal, w: &Webhook) -> bool {
    match &w.session {
        Some(s) => p.can_reach_session(s),
        None => p.session_limit().is_none(),
    }
}

fn check_events(events: Vec<String>) -> ServiceResult<Vec<String>> {
    if events.len() > MAX_EVENTS {
        return Err(ServiceError::validation(format!(
            "events must list at most {MAX_EVENTS} types"
        )));
    }
    if events.iter().any(|e| e.trim().is_empty() || e.len() > 64) {
        return Err(ServiceError::validation(
            "events entries must be non-empty type names of at most 64 characters",
        ));
    }
    Ok(events.into_iter().map(|e| e.trim().to_owned()).collect())
}

fn check_headers(headers: BTreeMap<String, String>) -> ServiceResult<BTreeMap<String, String>> {
    if headers.len() > MAX_HEADERS {
        return Err(ServiceError::validation(format!(
            "customHeaders must hold at most {MAX_HEADERS} entries"
        )));
    }
    for (name, value) in &headers {
        if HeaderName::try_from(name.as_str()).is_err() {
            return Err(ServiceError::validation(format!(
                "customHeaders: invalid header name {name:?}"
            )));
        }
        if HeaderValue::try_from(value.as_str()).is_err() {
            return Err(ServiceError::validation(format!(
                "customHeaders: invalid value for {name:?}"
            )));
        }
    }
    Ok(headers)
}
