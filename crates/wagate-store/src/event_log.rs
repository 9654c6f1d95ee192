//! [`EventLog`](wagate_domain::EventLog) on both backends, with the same `$N` SQL but for one
//! fragment: how a webhook's `events_match` (`,a,b,`) is searched for a type, case-sensitively
//! (SQLite's `instr`, PostgreSQL's `strpos`; `LIKE` ignores case on SQLite).

macro_rules! impl_event_log {
    ($store:ty, contains = $contains:literal) => {
        #[async_trait::async_trait]
        impl wagate_domain::EventLog for $store {
            async fn append_events(
                &self,
                events: &[wagate_domain::LoggedEvent],
            ) -> wagate_domain::StoreResult<u64> {
                let mut tx = self.pool.begin().await.map_err($crate::error::map)?;
                let mut deliveries = 0;
                for e in events {
                    let logged = sqlx::query(
                        "INSERT INTO event_log (id, organization_id, session_id, event_type, \
                         created_at, envelope) VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(e.id.as_str())
                    .bind(e.organization.as_str())
                    .bind(e.session.as_str())
                    .bind(&e.event_type)
                    .bind(e.created_at)
                    .bind(&e.envelope)
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::error::map)?;
                    if logged.rows_affected() == 0 {
                        continue;
                    }
                    // One delivery per matching webhook (events.md §5.1–5.2), in the event's
                    // own transaction: an event in the log is never missing its deliveries.
                    let enqueued = sqlx::query(concat!(
                        "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, \
                         status, attempts, next_retry_at, created_at, updated_at) \
                         SELECT id, $1, $2, 'pending', 0, $3, $3, $3 FROM webhooks \
                         WHERE organization_id = $4 AND active \
                         AND (session_id IS NULL OR session_id = $5) AND (",
                        $contains,
                        "(events_match, ',*,') > 0 OR ",
                        $contains,
                        "(events_match, ',' || $2 || ',') > 0) \
                         ON CONFLICT (webhook_id, event_id) DO NOTHING"
                    ))
                    .bind(e.id.as_str())
                    .bind(&e.event_type)
                    .bind(e.created_at)
                    .bind(e.organization.as_str())
                    .bind(e.session.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::error::map)?;
                    deliveries += enqueued.rows_affected();
                }
                tx.commit().await.map_err($crate::error::map)?;
                Ok(deliveries)
            }

            async fn events_after(
                &self,
                org: &wagate_domain::OrgId,
                session: Option<&wagate_domain::SessionId>,
                after: Option<&wagate_domain::EventId>,
                limit: u32,
            ) -> wagate_domain::StoreResult<Vec<wagate_domain::LoggedEvent>> {
                let session = session.map(|s| s.as_str());
                // A cursor the scope's log does not hold replays from its oldest event.
                let known: Option<String> = match after {
                    Some(id) => sqlx::query_scalar(
                        "SELECT id FROM event_log WHERE id = $1 AND organization_id = $2 \
                         AND ($3 IS NULL OR session_id = $3)",
                    )
                    .bind(id.as_str())
                    .bind(org.as_str())
                    .bind(session)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::error::map)?,
                    None => None,
                };
                let rows: Vec<(String, String, String, String, i64, String)> = sqlx::query_as(
                    "SELECT id, organization_id, session_id, event_type, created_at, envelope \
                     FROM event_log WHERE organization_id = $1 \
                     AND ($2 IS NULL OR session_id = $2) AND ($3 IS NULL OR id > $3) \
                     ORDER BY id LIMIT $4",
                )
                .bind(org.as_str())
                .bind(session)
                .bind(known)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::map)?;
                Ok(rows
                    .into_iter()
                    .map(|(id, o, s, t, at, envelope)| wagate_domain::LoggedEvent {
                        id: wagate_domain::EventId::from_trusted(id),
                        organization: wagate_domain::OrgId::from_trusted(o),
                        session: wagate_domain::SessionId::from_trusted(s),
                        event_type: t,
                        created_at: at,
                        envelope,
                    })
                    .collect())
            }

            async fn prune_events(
                &self,
                before_ms: i64,
                batch: u32,
            ) -> wagate_domain::StoreResult<u64> {
                // An event a receiver is still owed stays, so its retries can send it
                // (events.md §6).
                let done = sqlx::query(
                    "DELETE FROM event_log WHERE id IN (SELECT e.id FROM event_log e \
                     WHERE e.created_at < $1 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d \
                     WHERE d.event_id = e.id AND d.status IN ('pending', 'failed')) \
                     ORDER BY e.created_at LIMIT $2)",
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
