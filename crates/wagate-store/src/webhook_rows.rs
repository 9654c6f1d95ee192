//! Webhook and delivery rows, and their conversion to domain types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use wagate_domain::{
    Delivery, DeliveryStatus, EventId, OrgId, RetryPolicy, SessionId, StoreError, Webhook,
    WebhookId,
};

fn corrupt(detail: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("corrupt webhook row: {detail}").into())
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PolicyJson {
    policy: String,
    delay_seconds: i64,
    attempts: i64,
}

/// The serialized forms a webhook is stored with.
pub(crate) struct WebhookColumns {
    pub(crate) events: String,
    pub(crate) events_match: String,
    pub(crate) custom_headers: String,
    pub(crate) retry_policy: String,
}

impl WebhookColumns {
    pub(crate) fn of(w: &Webhook) -> Self {
        // A name holding a comma can never be an event type, so it is left out of the match
        // column (where commas separate names).
        let names: Vec<&str> = w
            .events
            .iter()
            .map(String::as_str)
            .filter(|e| !e.contains(','))
            .collect();
        Self {
            events: serde_json::to_string(&w.events).unwrap_or_else(|_| "[]".into()),
            events_match: format!(",{},", names.join(",")),
            custom_headers: serde_json::to_string(&w.custom_headers)
                .unwrap_or_else(|_| "{}".into()),
            retry_policy: serde_json::to_string(&PolicyJson {
                policy: w.retry_policy.policy.clone(),
                delay_seconds: w.retry_policy.delay_seconds,
                attempts: w.retry_policy.attempts,
            })
            .unwrap_or_else(|_| "{}".into()),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct WebhookRow {
    id: String,
    organization_id: String,
    session_id: Option<String>,
    url: String,
    events: String,
    custom_headers: String,
    retry_policy: String,
    active: bool,
    secret: Option<Vec<u8>>,
    failing_since: Option<i64>,
    disabled_at: Option<i64>,
    disabled_reason: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = StoreError;

    fn try_from(r: WebhookRow) -> Result<Self, StoreError> {
        let events: Vec<String> = serde_json::from_str(&r.events).map_err(corrupt)?;
        let custom_headers: BTreeMap<String, String> =
            serde_json::from_str(&r.custom_headers).map_err(corrupt)?;
        let policy: PolicyJson = serde_json::from_str(&r.retry_policy).map_err(corrupt)?;
        Ok(Webhook {
            id: WebhookId::from_trusted(r.id),
            organization: OrgId::from_trusted(r.organization_id),
            session: r.session_id.map(SessionId::from_trusted),
            url: r.url,
            events,
            custom_headers,
            retry_policy: RetryPolicy {
                policy: policy.policy,
                delay_seconds: policy.delay_seconds,
                attempts: policy.attempts,
            },
            active: r.active,
            secret: r.secret,
            failing_since: r.failing_since,
            disabled_at: r.disabled_at,
            disabled_reason: r.disabled_reason,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DeliveryRow {
    id: i64,
    webhook_id: String,
    event_id: String,
    event_type: String,
    status: String,
    attempts: i64,
    response_code: Option<i64>,
    next_retry_at: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;

    fn try_from(r: DeliveryRow) -> Result<Self, StoreError> {
        Ok(Delivery {
            id: r.id,
            webhook: WebhookId::from_trusted(r.webhook_id),
            event: EventId::from_trusted(r.event_id),
            event_type: r.event_type,
            status: DeliveryStatus::parse(&r.status)
                .ok_or_else(|| corrupt(format!("delivery status {}", r.status)))?,
            attempts: r.attempts,
            response_code: r.response_code.and_then(|c| i32::try_from(c).ok()),
            next_retry_at: r.next_retry_at,
            last_error: r.last_error,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}
