//! Webhooks (api.md §11, D5): CRUD, the delivery log, redelivery and a test send.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use wagate_domain::{Delivery, RetryPolicy, Webhook};
use wagate_service::WebhookFields;
use wagate_service::webhooks::TestDelivery;

use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::ListBody;
use crate::routes::api_keys::PageQuery;
use crate::state::AppState;

/// `RetryPolicy` (api.md §2.11).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryPolicyBody {
    /// `exponential`; any other value means a constant delay.
    #[schema(example = "exponential")]
    policy: String,
    #[schema(example = 2)]
    delay_seconds: i64,
    /// Total attempts before the delivery is dead-lettered.
    #[schema(example = 15)]
    attempts: i64,
}

impl From<RetryPolicy> for RetryPolicyBody {
    fn from(p: RetryPolicy) -> Self {
        Self {
            policy: p.policy,
            delay_seconds: p.delay_seconds,
            attempts: p.attempts,
        }
    }
}

impl From<RetryPolicyBody> for RetryPolicy {
    fn from(p: RetryPolicyBody) -> Self {
        Self {
            policy: p.policy,
            delay_seconds: p.delay_seconds,
            attempts: p.attempts,
        }
    }
}

/// `Webhook` (api.md §2.11). The signing secret is write-only.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookBody {
    #[schema(example = "wh_01JD5Z3V2Q0000000000000000")]
    id: String,
    organization_id: String,
    /// Absent = every session of the organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<String>,
    url: String,
    /// `["*"]` = every type.
    events: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    custom_headers: BTreeMap<String, String>,
    retry_policy: RetryPolicyBody,
    active: bool,
    /// Whether deliveries are signed (the secret itself is never returned).
    has_secret: bool,
    /// Start of the current run of failed attempts (wagate extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    failing_since: Option<i64>,
    /// When the webhook was switched off for failing continuously (D5).
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled_reason: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl From<Webhook> for WebhookBody {
    fn from(w: Webhook) -> Self {
        Self {
            id: w.id.to_string(),
            organization_id: w.organization.to_string(),
            session_id: w.session.map(|s| s.to_string()),
            url: w.url,
            events: w.events,
            custom_headers: w.custom_headers,
            retry_policy: w.retry_policy.into(),
            active: w.active,
            has_secret: w.secret.is_some(),
            failing_since: w.failing_since,
            disabled_at: w.disabled_at,
            disabled_reason: w.disabled_reason,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// `WebhookBody` of the contract: the create and update request. On update every field is
/// optional; `sessionId: null` widens to all sessions, absent leaves it unchanged; `secret: ""`
/// removes signing.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookRequest {
    /// Absolute `http(s)` URL; private and loopback targets are refused (D5).
    url: Option<String>,
    /// Non-empty on create; `["*"]` = every type.
    events: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    session_id: Option<Option<String>>,
    /// HMAC key; stored encrypted, never returned.
    secret: Option<String>,
    /// Extra headers; cannot override `Content-Type` or `X-Webhook-*`.
    custom_headers: Option<BTreeMap<String, String>>,
    retry_policy: Option<RetryPolicyBody>,
    active: Option<bool>,
}

/// Tells an explicit `null` (`Some(None)`) from an absent field (`None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl From<WebhookRequest> for WebhookFields {
    fn from(r: WebhookRequest) -> Self {
        Self {
            url: r.url,
            events: r.events,
            session_id: r.session_id,
            secret: r.secret,
            custom_headers: r.custom_headers,
            retry_policy: r.retry_policy.map(Into::into),
            active: r.active,
        }
    }
}

/// One delivery of an event to the webhook (domain.md §10.2).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryBody {
    /// Decimal id; the `deliveryId` of `:redeliver`.
    id: String,
    webhook_id: String,
    event_id: String,
    event: String,
    /// `pending`, `failed`, `delivered` or `dead`.
    status: &'static str,
    attempts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_code: Option<i32>,
    /// Due time of the next attempt while `pending` or `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_retry_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl From<Delivery> for DeliveryBody {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id.to_string(),
            webhook_id: d.webhook.to_string(),
            event_id: d.event.to_string(),
            event: d.event_type,
            status: d.status.as_str(),
            attempts: d.attempts,
            response_code: d.response_code,
            next_retry_at: d.next_retry_at,
            last_error: d.last_error,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// What a test send observed.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestDeliveryBody {
    /// Whether the receiver answered 2xx.
    delivered: bool,
    /// The `webhook.test` event's id (`X-Webhook-Request-Id`).
    event_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    duration_ms: u64,
}

impl From<TestDelivery> for TestDeliveryBody {
    fn from(t: TestDelivery) -> Self {
        Self {
            delivered: t.result.error.is_none(),
            event_id: t.event_id.to_string(),
            response_code: t.result.response_code,
            error: t.result.error,
            duration_ms: t.duration_ms,
        }
    }
}

/// List the organization's webhooks, newest first, in one page.
#[utoipa::path(get, path = "/api/v1/webhooks", operation_id = "listWebhooks", tag = "Webhooks",
    responses((status = 200, body = ListBody<WebhookBody>),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    Caller(p): Caller,
) -> ApiResult<Json<ListBody<WebhookBody>>> {
    let all = state.services.webhooks.list(&p).await?;
    Ok(Json(ListBody::all(
        all.into_iter().map(Into::into).collect(),
    )))
}

/// Create a webhook.
#[utoipa::path(post, path = "/api/v1/webhooks", operation_id = "createWebhook", tag = "Webhooks",
    request_body = WebhookRequest,
    responses((status = 201, body = WebhookBody),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiJson(body): ApiJson<WebhookRequest>,
) -> ApiResult<(StatusCode, Json<WebhookBody>)> {
    let w = state.services.webhooks.create(&p, body.into()).await?;
    Ok((StatusCode::CREATED, Json(w.into())))
}

/// Read one webhook.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", operation_id = "getWebhook", tag = "Webhooks",
    params(("id" = String, Path, description = "Webhook id (`wh_…`)")),
    responses((status = 200, body = WebhookBody),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn get_webhook(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<WebhookBody>> {
    Ok(Json(state.services.webhooks.get(&p, &id).await?.into()))
}

/// Change a webhook; absent fields stay as they are.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", operation_id = "updateWebhook",
    tag = "Webhooks", request_body = WebhookRequest,
    params(("id" = String, Path, description = "Webhook id (`wh_…`)")),
    responses((status = 200, body = WebhookBody),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn update_webhook(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<WebhookRequest>,
) -> ApiResult<Json<WebhookBody>> {
    let w = state.services.webhooks.update(&p, &id, body.into()).await?;
    Ok(Json(w.into()))
}

/// Delete a webhook; its outstanding deliveries are dead-lettered.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", operation_id = "deleteWebhook",
    tag = "Webhooks",
    params(("id" = String, Path, description = "Webhook id (`wh_…`)")),
    responses((status = 204, description = "Deleted"),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.services.webhooks.delete(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The webhook's deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", operation_id = "listWebhookDeliveries",
    tag = "Webhooks",
    params(("id" = String, Path, description = "Webhook id (`wh_…`)"), PageQuery),
    responses((status = 200, body = ListBody<DeliveryBody>),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list_webhook_deliveries(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<ListBody<DeliveryBody>>> {
    let page = state
        .services
        .webhooks
        .deliveries(&p, &id, query.into())
        .await?;
    let data = page.data.into_iter().map(Into::into).collect();
    Ok(Json(ListBody::page(data, page.next_cursor)))
}

/// Send a delivery again, from a fresh attempt budget, whatever its status.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{deliveryId}:redeliver",
    operation_id = "redeliverWebhookDelivery", tag = "Webhooks",
    params(("id" = String, Path, description = "Webhook id (`wh_…`)"),
        ("deliveryId" = String, Path, description = "Delivery id")),
    responses((status = 202, body = DeliveryBody),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn redeliver_webhook_delivery(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, delivery)): ApiPath<(String, String)>,
) -> ApiResult<(StatusCode, Json<DeliveryBody>)> {
    let d = state
        .services
        .webhooks
        .redeliver(&p, &id, &delivery)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(d.into())))
}

/// Send a signed `webhook.test` event to the webhook now and report the answer.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}:test", operation_id = "testWebhook",
    tag = "Webhooks",
    params(("id" = String, Path, description = "Webhook id (`wh_…`)")),
    responses((status = 200, body = TestDeliveryBody),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn test_webhook(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TestDeliveryBody>> {
    Ok(Json(state.services.webhooks.test(&p, &id).await?.into()))
}
