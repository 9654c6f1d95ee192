//! [`WebhookStore`](wagate_domain::WebhookStore) on both backends. The one backend-specific
//! piece is the claim's row-locking clause: PostgreSQL skips rows another dispatcher holds
//! (events.md §5.6); SQLite has a single writer and needs none.

/// The columns [`WebhookRow`](crate::webhook_rows::WebhookRow) reads, as a literal for `concat!`
/// (sqlx takes only static SQL).
macro_rules! webhook_columns {
    () => {
        "id, organization_id, session_id, url, events, custom_headers, retry_policy, active, \
         secret, failing_since, disabled_at, disabled_reason, created_at, updated_at"
    };
}

/// The columns [`DeliveryRow`](crate::webhook_rows::DeliveryRow) reads.
macro_rules! delivery_columns {
    () => {
        "id, webhook_id, event_id, event_type, status, attempts, response_code, next_retry_at, \
         last_error, created_at, updated_at"
    };
}

macro_rules! impl_webhook_store {
    ($store:ty, claim_lock = $lock:literal) => {
        #[async_trait::async_trait]
        impl wagate_domain::WebhookStore for $store {
            async fn insert_webhook(
                &self,
                w: &wagate_domain::Webhook,
            ) -> wagate_domain::StoreResult<()> {
                let c = $crate::webhook_rows::WebhookColumns::of(w);
                sqlx::query(
                    "INSERT INTO webhooks (id, organization_id, session_id, url, events, \
                     events_match, custom_headers, retry_policy, active, secret, failing_since, \
                     disabled_at, disabled_reason, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                )
                .bind(w.id.as_str())
                .bind(w.organization.as_str())
                .bind(w.session.as_ref().map(|s| s.as_str()))
                .bind(&w.url)
                .bind(&c.events)
                .bind(&c.events_match)
                .bind(&c.custom_headers)
                .bind(&c.retry_policy)
                .bind(w.active)
                .bind(w.secret.as_deref())
                .bind(w.failing_since)
                .bind(w.disabled_at)
                .bind(w.disabled_reason.as_deref())
                .bind(w.created_at)
                .bind(w.updated_at)
                .execute(&self.pool)
                .await
                .map_err($crate::error::map)?;
                Ok(())
            }

            async fn list_webhooks(
                &self,
                org: &wagate_domain::OrgId,
            ) -> wagate_domain::StoreResult<Vec<wagate_domain::Webhook>> {
                let rows: Vec<$crate::webhook_rows::WebhookRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    webhook_columns!(),
                    " FROM webhooks WHERE organization_id = $1 ORDER BY id DESC"
                ))
                .bind(org.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::map)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn get_webhook(
                &self,
                org: Option<&wagate_domain::OrgId>,
                id: &wagate_domain::WebhookId,
            ) -> wagate_domain::StoreResult<Option<wagate_domain::Webhook>> {
                let row: Option<$crate::webhook_rows::WebhookRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    webhook_columns!(),
                    " FROM webhooks WHERE id = $1 \
                     AND ($2 IS NULL OR organization_id = $2)"
                ))
                .bind(id.as_str())
                .bind(org.map(|o| o.as_str()))
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::error::map)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn update_webhook(
                &self,
                w: &wagate_domain::Webhook,
            ) -> wagate_domain::StoreResult<bool> {
                let c = $crate::webhook_rows::WebhookColumns::of(w);
                let done = sqlx::query(
                    "UPDATE webhooks SET session_id = $3, url = $4, events = $5, \
                     events_match = $6, custom_headers = $7, retry_policy = $8, active = $9, \
                     secret = $10, failing_since = $11, disabled_at = $12, \
                     disabled_reason = $13, updated_at = $14 \
                     WHERE id = $1 AND organization_id = $2",
                )
                .bind(w.id.as_str())
                .bind(w.organization.as_str())
                .bind(w.session.as_ref().map(|s| s.as_str()))
                .bind(&w.url)
                .bind(&c.events)
                .bind(&c.events_match)
                .bind(&c.custom_headers)
                .bind(&c.retry_policy)
                .bind(w.active)
                .bind(w.secret.as_deref())
                .bind(w.failing_since)
                .bind(w.disabled_at)
                .bind(w.disabled_reason.as_deref())
                .bind(w.updated_at)
                .execute(&self.pool)
                .await
                .map_err($crate::error::map)?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_webhook(
                &self,
                org: &wagate_domain::OrgId,
                id: &wagate_domain::WebhookId,
                now: i64,
            ) -> wagate_domain::StoreResult<bool> {
                let mut tx = self.pool.begin().await.map_err($crate::error::map)?;
                let done = sqlx::query("DELETE FROM webhooks WHERE id = $1 AND organization_id = $2")
                    .bind(id.as_str())
                    .bind(org.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::error::map)?;
                if done.rows_affected() == 0 {
                    return Ok(false);
                }
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'dead', next_retry_at = NULL, \
                     last_error = $2, updated_at = $3 \
                     WHERE webhook_id = $1 AND status IN ('pending', 'failed')",
                )
                .bind(id.as_str())
                .bind(format!("webhook {id} not found"))
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err($crate::error::map)?;
                tx.commit().await.map_err($crate::error::map)?;
                Ok(true)
            }

            async fn due_webhooks(
                &self,
                now: i64,
                limit: u32,
            ) -> wagate_domain::StoreResult<Vec<wagate_domain::WebhookId>> {
                let ids: Vec<String> = sqlx::query_scalar(
                    "SELECT DISTINCT webhook_id FROM webhook_deliveries \
                     WHERE status IN ('pending', 'failed') AND next_retry_at <= $1 LIMIT $2",
                )
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::map)?;
                Ok(ids
                    .into_iter()
                    .map(wagate_domain::WebhookId::from_trusted)
                    .collect())
            }

            async fn claim_deliveries(
                &self,
                webhook: &wagate_domain::WebhookId,
                now: i64,
                lease_until: i64,
                limit: u32,
            ) -> wagate_domain::StoreResult<Vec<wagate_domain::ClaimedDelivery>> {
                let mut rows: Vec<(i64, String, i64, Option<String>)> = sqlx::query_as(concat!(
                    "UPDATE webhook_deliveries SET next_retry_at = $3 WHERE id IN (\
                     SELECT id FROM webhook_deliveries WHERE webhook_id = $1 \
                     AND status IN ('pending', 'failed') AND next_retry_at <= $2 \
                     ORDER BY next_retry_at, id LIMIT $4 ",
                    $lock,
                    ") RETURNING id, event_id, attempts, (SELECT envelope FROM event_log \
                     WHERE event_log.id = webhook_deliveries.event_id)"
                ))
                .bind(webhook.as_str())
                .bind(now)
                .bind(lease_until)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::map)?;
                rows.sort_by_key(|r| r.0);
                Ok(rows
                    .into_iter()
                    .map(|(id, event, attempts, envelope)| wagate_domain::ClaimedDelivery {
                        id,
                        event: wagate_domain::EventId::from_trusted(event),
                        attempts,
                        envelope,
                    })
                    .collect())
            }

            async fn record_deliveries(
                &self,
                webhook: &wagate_domain::WebhookId,
                outcomes: &[wagate_domain::DeliveryOutcome],
                health: Option<&wagate_domain::WebhookHealth>,
                now: i64,
            ) -> wagate_domain::StoreResult<()> {
                let mut tx = self.pool.begin().await.map_err($crate::error::map)?;
                for o in outcomes {
                    sqlx::query(
                        "UPDATE webhook_deliveries SET status = $2, attempts = $3, \
                         response_code = $4, next_retry_at = $5, last_error = $6, \
                         updated_at = $7 WHERE id = $1",
                    )
                    .bind(o.id)
                    .bind(o.status.as_str())
                    .bind(o.attempts)
                    .bind(o.response_code.map(i64::from))
                    .bind(o.next_retry_at)
                    .bind(o.last_error.as_deref())
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::error::map)?;
                }
                let health = match health {
                    None => None,
                    Some(wagate_domain::WebhookHealth::Recovered) => Some(
                        sqlx::query(
                            "UPDATE webhooks SET failing_since = NULL \
                             WHERE id = $1 AND failing_since IS NOT NULL",
                        )
                        .bind(webhook.as_str()),
                    ),
                    Some(wagate_domain::WebhookHealth::Failing { since }) => Some(
                        sqlx::query(
                            "UPDATE webhooks SET failing_since = COALESCE(failing_since, $2) \
                             WHERE id = $1",
                        )
                        .bind(webhook.as_str())
                        .bind(*since),
                    ),
                    Some(wagate_domain::WebhookHealth::Disabled { at, reason }) => Some(
                        sqlx::query(
                            "UPDATE webhooks SET active = $2, disabled_at = $3, \
                             disabled_reason = $4, updated_at = $3 WHERE id = $1",
                        )
                        .bind(webhook.as_str())
                        .bind(false)
                        .bind(*at)
                        .bind(reason.as_str()),
                    ),
                };
                if let Some(query) = health {
                    query.execute(&mut *tx).await.map_err($crate::error::map)?;
                }
                tx.commit().await.map_err($crate::error::map)
            }

            async fn list_deliveries(
                &self,
                webhook: &wagate_domain::WebhookId,
                before: Option<i64>,
                limit: u32,
            ) -> wagate_domain::StoreResult<Vec<wagate_domain::Delivery>> {
                let rows: Vec<$crate::webhook_rows::DeliveryRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    delivery_columns!(),
                    " FROM webhook_deliveries WHERE webhook_id = $1 \
                     AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
                ))
                .bind(webhook.as_str())
                .bind(before)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::map)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn redeliver(
                &self,
                webhook: &wagate_domain::WebhookId,
                delivery: i64,
                now: i64,
            ) -> wagate_domain::StoreResult<Option<wagate_domain::Delivery>> {
                let row: Option<$crate::webhook_rows::DeliveryRow> = sqlx::query_as(concat!(
                    "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, \
                     response_code = NULL, next_retry_at = $3, last_error = NULL, \
                     updated_at = $3 WHERE webhook_id = $1 AND id = $2 RETURNING ",
                    delivery_columns!(),
                    ""
                ))
                .bind(webhook.as_str())
                .bind(delivery)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::error::map)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn prune_deliveries(
                &self,
                before_ms: i64,
                batch: u32,
            ) -> wagate_domain::StoreResult<u64> {
                let done = sqlx::query(
                    "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM \
                     webhook_deliveries WHERE status IN ('delivered', 'dead') \
                     AND created_at < $1 ORDER BY created_at LIMIT $2)",
                )
                .bind(before_ms)
                .bind(i64::from(batch))
                .execute(&self.pool)
                .await
                .map_err($crate::error::map)?;
                Ok(done.rows_affected())
            }
        }
    };
}
