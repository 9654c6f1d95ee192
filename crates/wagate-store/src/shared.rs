//! The [`Store`](wagate_domain::Store) queries both backends run unchanged.
//!
//! The SQL uses `$N` placeholders, which PostgreSQL and sqlx's SQLite driver both bind by
//! number, and only syntax both engines accept (`ON CONFLICT … DO NOTHING`, `LIMIT`). A query
//! that needs backend-specific SQL moves out of this macro into its backend module.
//!
//! `impl_shared_store!(Store)` implements the whole trait on the sqlx pool;
//! `impl_shared_store!(Store, point_reads { … })` takes the backend's own `get_session` and
//! `find_api_key_by_hash` (the two lookups on every authenticated request) and implements the
//! rest, keeping the pool versions of those two at hand as `pool_*` methods.

macro_rules! impl_shared_store {
    // The whole trait on the sqlx pool.
    ($store:ty) => {
        impl_shared_store!($store, point_reads {
            async fn get_session(
                &self,
                org: &wagate_domain::OrgId,
                id: &wagate_domain::SessionId,
            ) -> wagate_domain::StoreResult<Option<wagate_domain::Session>> {
                self.pool_get_session(org, id).await
            }

            async fn find_api_key_by_hash(
                &self,
                key_hash: &str,
            ) -> wagate_domain::StoreResult<Option<wagate_domain::ApiKey>> {
                self.pool_find_api_key_by_hash(key_hash).await
            }
        });
    };
    // The trait with the backend's own `get_session` and `find_api_key_by_hash`, the two point
    // reads every authenticated request makes (SQLite answers them without the pool, see
    // `sqlite_reads`). The pool versions stay available to it as `pool_get_session` and
    // `pool_find_api_key_by_hash`.
    ($store:ty, point_reads { $($point_reads:tt)* }) => {
        impl $store {
            /// `Store::get_session` on the pool.
            pub(crate) async fn pool_get_session(
                &self,
                org: &wagate_domain::OrgId,
                id: &wagate_domain::SessionId,
            ) -> wagate_domain::StoreResult<Option<wagate_domain::Session>> {
                let row: Option<$crate::rows::SessionRow> = sqlx::query_as(
                    "SELECT id, organization_id, created_by_user_id, gateway_id, label, status, \
                     status_reason, wa_jid, wa_lid, phone_number, is_admin_session, auto_read, \
                     presence_typing, rate_per_min, rate_per_hour, last_connected_at, created_at, \
                     updated_at FROM sessions WHERE id = $1 AND organization_id = $2",
                )
                .bind(id.as_str())
                .bind(org.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::error::map)?;
                row.map(TryInto::try_into).transpose()
            }

            /// `Store::find_api_key_by_hash` on the pool.
            pub(crate) async fn pool_find_api_key_by_hash(
                &self,
                key_hash: &str,
            ) -> wagate_domain::StoreResult<Option<wagate_domain::ApiKey>> {
                let row: Option<$crate::rows::ApiKeyRow> = sqlx::query_as(
                    "SELECT id, organization_id, name, key_hash, permissions, sessions, \
                     expires_at, enabled, created_at, last_used_at FROM api_keys \
                     WHERE key_hash = $1",
                )
                .bind(key_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::error::map)?;
                row.map(TryInto::try_into).transpose()
            }
        }

        #[async_trait::async_trait]
        impl wagate_domain::Store for $store {
            $($point_reads)*

            async fn ping(&self) -> wagate_domain::StoreResult<()> {
                sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err($crate::error::map)
            }

            async fn close(&self) {
                self.pool.close().await;
            }

            async fn insert_organization(
                &self,
                org: &wagate_domain::Organization,
            ) -> wagate_domain::StoreResult<()> {
                sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
                    .bind(org.id.as_str())
                    .bind(&org.name)
                    .bind(org.created_at)
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err($crate::error::map)
            }

            async fn ensure_organization(
                &self,
                org: &wagate_domain::Organization,
            ) -> wagate_domain::StoreResult<bool> {
                sqlx::query(
                    "INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(org.id.as_str())
                .bind(&org.name)
                .bind(org.created_at)
                .execute(&self.pool)
                .await
                .map(|r| r.rows_affected() == 1)
                .map_err($crate::error::map)
            }

            async fn find_organization(
                &self,
                id_or_name: &str,
            ) -> wagate_domain::StoreResult<Option<wagate_domain::Organization>> {
                let by_id: Option<$crate::rows::OrganizationRow> = sqlx::query_as(
                    "SELECT id, name, created_at FROM organizations WHERE id = $1",
                )
                .bind(id_or_name)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::error::map)?;
                if let Some(row) = by_id {
                    return Ok(Some(row.into()));
                }
                let mut by_name: Vec<$crate::rows::OrganizationRow> = sqlx::query_as(
                    "SELECT id, name, created_at FROM organizations WHERE name = $1 \
                     ORDER BY id LIMIT 2",
                )
                .bind(id_or_name)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::map)?;
                match by_name.len() {
                    0 => Ok(None),
                    1 => Ok(by_name.pop().map(Into::into)),
                    _ => Err(wagate_domain::StoreError::Conflict(format!(
                        "several organizations are named {id_or_name:?}; use the id"
                    ))),
                }
            }

            async fn list_organizations(
                &self,
            ) -> wagate_domain::StoreResult<Vec<wagate_domain::Organization>> {
                let rows: Vec<$crate::rows::OrganizationRow> = sqlx::query_as(
                    "SELECT id, name, created_at FROM organizations ORDER BY created_at, id",
                )
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::map)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn count_organizations(&self) -> wagate_domain::StoreResult<i64> {
                sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
                    .fetch_one(&self.pool)
                    .await
                    .map_err($crate::error::map)
            }

            async fn insert_session(
                &self,
                s: &wagate_domain::Session,
            ) -> wagate_domain::StoreResult<()> {
                // After the write (also if this future is dropped): cached rows go stale.
                let _changed = self.point_rows_change();
                sqlx::query(
                    "INSERT INTO sessions (id, organization_id, created_by_user_id, gateway_id, \
                     label, status, status_reason, wa_jid, wa_lid, phone_number, is_admin_session, \
                     auto_read, presence_typing, rate_per_min, rate_per_hour, last_connected_at, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
                     $11, $12, $13, $14, $15, $16, $17, $18)",
                )
                .bind(s.id.as_str())
                .bind(s.organization_id.as_str())
                .bind(s.created_by_user_id.as_deref())
                .bind(&s.gateway_id)
                .bind(s.label.as_deref())
                .bind(s.status.as_str())
                .bind(s.status_reason.as_deref())
                .bind(s.wa_jid.as_deref())
                .bind(s.wa_lid.as_deref())
                .bind(s.phone_number.as_deref())
                .bind(s.is_admin_session)
                .bind(s.auto_read)
                .bind(s.presence_typing)
                .bind(s.rate_per_min)
                .bind(s.rate_per_hour)
                .bind(s.last_connected_at)
                .bind(s.created_at)
                .bind(s.updated_at)
                .execute(&self.pool)
                .await
                .map(|_| ())
                .map_err($crate::error::map)
            }

            async fn list_sessions(
                &self,
                org: &wagate_domain::OrgId,
            ) -> wagate_domain::StoreResult<Vec<wagate_domain::Session>> {
                let rows: Vec<$crate::rows::SessionRow> = sqlx::query_as(
                    "SELECT id, organization_id, created_by_user_id, gateway_id, label, status, \
                     status_reason, wa_jid, wa_lid, phone_number, is_admin_session, auto_read, \
                     presence_typing, rate_per_min, rate_per_hour, last_connected_at, created_at, \
                     updated_at FROM sessions WHERE organization_id = $1 \
                     ORDER BY created_at DESC, id DESC",
                )
                .bind(org.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::map)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn delete_session(
                &self,
                org: &wagate_domain::OrgId,
                id: &wagate_domain::SessionId,
            ) -> wagate_domain::StoreResult<bool> {
                // After the write (also if this future is dropped): cached rows go stale.
                let _changed = self.point_rows_change();
                sqlx::query("DELETE FROM sessions WHERE id = $1 AND organization_id = $2")
                    .bind(id.as_str())
                    .bind(org.as_str())
                    .execute(&self.pool)
                    .await
                    .map(|r| r.rows_affected() == 1)
                    .map_err($crate::error::map)
            }

            async fn get_session_by_id(
                &self,
                id: &wagate_domain::SessionId,
            ) -> wagate_domain::StoreResult<Option<wagate_domain::Session>> {
                let row: Option<$crate::rows::SessionRow> = sqlx::query_as(
                    "SELECT id, organization_id, created_by_user_id, gateway_id, label, status, \
                     status_reason, wa_jid, wa_lid, phone_number, is_admin_session, auto_read, \
                     presence_typing, rate_per_min, rate_per_hour, last_connected_at, created_at, \
                     updated_at FROM sessions WHERE id = $1",
                )
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::error::map)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_sessions_on_gateway(
                &self,
                gateway_id: &str,
            ) -> wagate_domain::StoreResult<Vec<wagate_domain::Session>> {
                let rows: Vec<$crate::rows::SessionRow> = sqlx::query_as(
                    "SELECT id, organization_id, created_by_user_id, gateway_id, label, status, \
                     status_reason, wa_jid, wa_lid, phone_number, is_admin_session, auto_read, \
                     presence_typing, rate_per_min, rate_per_hour, last_connected_at, created_at, \
                     updated_at FROM sessions WHERE gateway_id = $1 ORDER BY id",
                )
                .bind(gateway_id)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::map)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn set_session_status(
                &self,
                id: &wagate_domain::SessionId,
                status: wagate_domain::SessionStatus,
                reason: Option<&str>,
                now_ms: i64,
            ) -> wagate_domain::StoreResult<bool> {
                // After the write (also if this future is dropped): cached rows go stale.
                let _changed = self.point_rows_change();
                sqlx::query(
                    "UPDATE sessions SET status = $1, status_reason = $2, updated_at = $3 \
                     WHERE id = $4 AND (status <> $1 OR status_reason IS DISTINCT FROM $2)",
                )
                .bind(status.as_str())
                .bind(reason)
                .bind(now_ms)
                .bind(id.as_str())
                .execute(&self.pool)
                .await
                .map(|r| r.rows_affected() == 1)
                .map_err($crate::error::map)
            }

            async fn set_session_connected_at(
                &self,
                id: &wagate_domain::SessionId,
                now_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                // After the write (also if this future is dropped): cached rows go stale.
                let _changed = self.point_rows_change();
                sqlx::query(
                    "UPDATE sessions SET last_connected_at = $1, updated_at = $1 WHERE id = $2",
                )
                .bind(now_ms)
                .bind(id.as_str())
                .execute(&self.pool)
                .await
                .map(|_| ())
                .map_err($crate::error::map)
            }

            async fn set_session_account(
                &self,
                id: &wagate_domain::SessionId,
                wa_jid: Option<&str>,
                wa_lid: Option<&str>,
                phone_number: Option<&str>,
                now_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                // After the write (also if this future is dropped): cached rows go stale.
                let _changed = self.point_rows_change();
                sqlx::query(
                    "UPDATE sessions SET wa_jid = $1, wa_lid = $2, phone_number = $3, \
                     updated_at = $4 WHERE id = $5",
                )
                .bind(wa_jid)
                .bind(wa_lid)
                .bind(phone_number)
                .bind(now_ms)
                .bind(id.as_str())
                .execute(&self.pool)
                .await
                .map(|_| ())
                .map_err($crate::error::map)
            }

            async fn count_sessions_by_status(
                &self,
            ) -> wagate_domain::StoreResult<Vec<(wagate_domain::SessionStatus, i64)>> {
                let rows: Vec<(String, i64)> =
                    sqlx::query_as("SELECT status, COUNT(*) FROM sessions GROUP BY status")
                        .fetch_all(&self.pool)
                        .await
                        .map_err($crate::error::map)?;
                rows.into_iter().map($crate::rows::status_count).collect()
            }

            async fn insert_api_key(
                &self,
                k: &wagate_domain::ApiKey,
            ) -> wagate_domain::StoreResult<()> {
                // After the write (also if this future is dropped): cached rows go stale.
                let _changed = self.point_rows_change();
                sqlx::query(
                    "INSERT INTO api_keys (id, organization_id, name, key_hash, permissions, \
                     sessions, expires_at, enabled, created_at, last_used_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(k.id.as_str())
                .bind(k.organization_id.as_str())
                .bind(k.name.as_deref())
                .bind(&k.key_hash)
                .bind(k.permissions.to_string())
                .bind($crate::rows::sessions_column(k))
                .bind(k.expires_at)
                .bind(k.enabled)
                .bind(k.created_at)
                .bind(k.last_used_at)
                .execute(&self.pool)
                .await
                .map(|_| ())
                .map_err($crate::error::map)
            }

            async fn get_api_key(
                &self,
                id: &wagate_domain::ApiKeyId,
            ) -> wagate_domain::StoreResult<Option<wagate_domain::ApiKey>> {
                let row: Option<$crate::rows::ApiKeyRow> = sqlx::query_as(
                    "SELECT id, organization_id, name, key_hash, permissions, sessions, \
                     expires_at, enabled, created_at, last_used_at FROM api_keys WHERE id = $1",
                )
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::error::map)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn list_api_keys(
                &self,
                org: Option<&wagate_domain::OrgId>,
                after: Option<&wagate_domain::ApiKeyId>,
                limit: u32,
            ) -> wagate_domain::StoreResult<Vec<wagate_domain::ApiKey>> {
                let rows: Vec<$crate::rows::ApiKeyRow> = sqlx::query_as(
                    "SELECT id, organization_id, name, key_hash, permissions, sessions, \
                     expires_at, enabled, created_at, last_used_at FROM api_keys \
                     WHERE ($1 IS NULL OR organization_id = $1) AND ($2 IS NULL OR id > $2) \
                     ORDER BY id LIMIT $3",
                )
                .bind(org.map(|o| o.as_str()))
                .bind(after.map(|a| a.as_str()))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::map)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn revoke_api_key(
                &self,
                org: Option<&wagate_domain::OrgId>,
                id: &wagate_domain::ApiKeyId,
                at_ms: i64,
            ) -> wagate_domain::StoreResult<bool> {
                // After the write (also if this future is dropped): cached rows go stale.
                let _changed = self.point_rows_change();
                sqlx::query(
                    "UPDATE api_keys SET enabled = $1, revoked_at = $5 \
                     WHERE id = $2 AND ($3 IS NULL OR organization_id = $3) AND enabled = $4",
                )
                .bind(false)
                .bind(id.as_str())
                .bind(org.map(|o| o.as_str()))
                .bind(true)
                .bind(at_ms)
                .execute(&self.pool)
                .await
                .map(|r| r.rows_affected() == 1)
                .map_err($crate::error::map)
            }

            async fn api_keys_revoked_since(
                &self,
                since_ms: i64,
            ) -> wagate_domain::StoreResult<Vec<(wagate_domain::ApiKeyId, i64)>> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT id, revoked_at FROM api_keys \
                     WHERE revoked_at IS NOT NULL AND revoked_at >= $1 ORDER BY revoked_at",
                )
                .bind(since_ms)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::map)?;
                Ok(rows
                    .into_iter()
                    .map(|(id, at)| (wagate_domain::ApiKeyId::from_trusted(id), at))
                    .collect())
            }

            async fn insert_realtime_ticket(
                &self,
                t: &wagate_domain::StoredTicket,
            ) -> wagate_domain::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO realtime_tickets (ticket_hash, subscription, created_at, \
                     expires_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(&t.hash)
                .bind(&t.subscription)
                .bind(t.created_at)
                .bind(t.expires_at)
                .execute(&self.pool)
                .await
                .map(|_| ())
                .map_err($crate::error::map)
            }

            async fn redeem_realtime_ticket(
                &self,
                hash: &str,
                now_ms: i64,
            ) -> wagate_domain::StoreResult<Option<wagate_domain::StoredTicket>> {
                // One statement: of two concurrent redemptions only one gets the row back.
                let row: Option<(String, String, i64, i64)> = sqlx::query_as(
                    "DELETE FROM realtime_tickets WHERE ticket_hash = $1 \
                     RETURNING ticket_hash, subscription, created_at, expires_at",
                )
                .bind(hash)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::error::map)?;
                Ok(row
                    .map(|(hash, subscription, created_at, expires_at)| {
                        wagate_domain::StoredTicket {
                            hash,
                            subscription,
                            created_at,
                            expires_at,
                        }
                    })
                    .filter(|t| t.expires_at > now_ms))
            }

            async fn prune_realtime_tickets(
                &self,
                now_ms: i64,
            ) -> wagate_domain::StoreResult<u64> {
                sqlx::query("DELETE FROM realtime_tickets WHERE expires_at <= $1")
                    .bind(now_ms)
                    .execute(&self.pool)
                    .await
                    .map(|r| r.rows_affected())
                    .map_err($crate::error::map)
            }

            async fn touch_api_key(
                &self,
                id: &wagate_domain::ApiKeyId,
                at_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                    .bind(at_ms)
                    .bind(id.as_str())
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err($crate::error::map)
            }
        }
    };
}
