//! The storage port for webhooks and their deliveries. Deliveries are created by the event log's
//! append, in the same transaction as the events (see [`crate::EventLog::append_events`]).

use async_trait::async_trait;

use crate::{
    ClaimedDelivery, Delivery, DeliveryOutcome, OrgId, StoreResult, Webhook, WebhookHealth,
    WebhookId,
};

#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    async fn insert_webhook(&self, webhook: &Webhook) -> StoreResult<()>;
    /// The organization's webhooks, newest first.
    async fn list_webhooks(&self, org: &OrgId) -> StoreResult<Vec<Webhook>>;
    /// One webhook; any organization's when `org` is `None` (the dispatcher's view).
    async fn get_webhook(
        &self,
        org: Option<&OrgId>,
        id: &WebhookId,
    ) -> StoreResult<Option<Webhook>>;
    /// Replaces every mutable field; `false` when the webhook is gone.
    async fn update_webhook(&self, webhook: &Webhook) -> StoreResult<bool>;
    /// Deletes the webhook and dead-letters its outstanding deliveries (events.md §5.7);
    /// `false` when it does not exist in `org`.
    async fn delete_webhook(&self, org: &OrgId, id: &WebhookId, now: i64) -> StoreResult<bool>;

    /// Webhooks with a pending or failed delivery due at `now`.
    async fn due_webhooks(&self, now: i64, limit: u32) -> StoreResult<Vec<WebhookId>>;
    /// Takes up to `limit` due deliveries of one webhook, oldest due first, and moves their due
    /// time to `lease_until` so no other dispatcher takes them meanwhile (events.md §5.6).
    async fn claim_deliveries(
        &self,
        webhook: &WebhookId,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedDelivery>>;
    /// Records a batch of attempts and the webhook's failure streak in one transaction.
    async fn record_deliveries(
        &self,
        webhook: &WebhookId,
        outcomes: &[DeliveryOutcome],
        health: Option<&WebhookHealth>,
        now: i64,
    ) -> StoreResult<()>;
    /// A webhook's deliveries, newest first, with ids below `before` when given.
    async fn list_deliveries(
        &self,
        webhook: &WebhookId,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>>;
    /// Makes a delivery due now with a fresh attempt budget; `None` when it does not exist.
    async fn redeliver(
        &self,
        webhook: &WebhookId,
        delivery: i64,
        now: i64,
    ) -> StoreResult<Option<Delivery>>;
    /// Deletes up to `batch` delivered or dead deliveries created before `before_ms`.
    async fn prune_deliveries(&self, before_ms: i64, batch: u32) -> StoreResult<u64>;
}
