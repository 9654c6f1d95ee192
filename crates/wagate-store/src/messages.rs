//! [`MessageStore`](wagate_domain::MessageStore) on both backends, with the same `$N` SQL
//! (see [`crate::shared`] for the dialect both engines accept). Multi-statement writes run in
//! one transaction, so a failure never leaves half a message or half a merge behind.

/// Chat columns with the read-time name and aliases (domain.md §5): for DMs the identity
/// matched by LID first, then by phone JID; otherwise the stored name.
macro_rules! chat_select {
    () => {
        // SQLite refuses outer columns in a subquery's ORDER BY, so "by LID first, then by
        // phone JID" is spelled as CASE WHEN EXISTS.
        "SELECT c.id, c.session_id, c.chat_jid, c.type, c.last_message_at, c.unread_count, \
         c.archived, c.pinned, c.muted_until, \
         COALESCE(CASE WHEN c.type <> 'dm' THEN NULL \
           WHEN EXISTS (SELECT 1 FROM identities i WHERE i.lid = c.chat_jid) \
           THEN (SELECT COALESCE(i.name, i.business_name, i.phone_number) FROM identities i \
                 WHERE i.lid = c.chat_jid) \
           ELSE (SELECT COALESCE(i.name, i.business_name, i.phone_number) FROM identities i \
                 WHERE i.phone_jid = c.chat_jid ORDER BY i.id LIMIT 1) END, c.name) AS name, \
         CASE WHEN c.type <> 'dm' THEN NULL \
           WHEN EXISTS (SELECT 1 FROM identities i WHERE i.lid = c.chat_jid) THEN c.chat_jid \
           ELSE (SELECT i.lid FROM identities i WHERE i.phone_jid = c.chat_jid \
                 ORDER BY i.id LIMIT 1) END AS alias_lid, \
         CASE WHEN c.type <> 'dm' THEN NULL \
           WHEN EXISTS (SELECT 1 FROM identities i WHERE i.lid = c.chat_jid) \
           THEN (SELECT i.phone_jid FROM identities i WHERE i.lid = c.chat_jid) \
           ELSE (SELECT i.phone_jid FROM identities i WHERE i.phone_jid = c.chat_jid \
                 ORDER BY i.id LIMIT 1) END AS alias_phone \
         FROM chats c "
    };
}

/// Touches a chat for new messages: creates it, or keeps the newest activity, takes a new name
/// and adds to the unread count. Binds: session, JID, type, name, last message at, unread.
macro_rules! chat_touch_sql {
    () => {
        "INSERT INTO chats (session_id, chat_jid, type, name, last_message_at, unread_count) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (session_id, chat_jid) DO UPDATE SET \
         name = COALESCE(excluded.name, chats.name), \
         last_message_at = CASE WHEN chats.last_message_at IS NULL \
           OR excluded.last_message_at > chats.last_message_at \
           THEN excluded.last_message_at ELSE chats.last_message_at END, \
         unread_count = chats.unread_count + excluded.unread_count"
    };
}

/// domain.md §6: a message stored again refreshes its content, never its status or flags.
/// Binds: session, WhatsApp id, chat, sender LID, sender JID, body, quoted id, mentions,
/// has media, media meta, media ref.
macro_rules! message_rewrite_sql {
    () => {
        "UPDATE messages SET chat_jid = $3, sender_lid = COALESCE($4, sender_lid), \
         sender_jid = COALESCE($5, sender_jid), body = COALESCE($6, body), \
         quoted_message_id = COALESCE($7, quoted_message_id), \
         mentions = COALESCE($8, mentions), has_media = $9, \
         media_meta = COALESCE($10, media_meta), media_ref = COALESCE($11, media_ref) \
         WHERE session_id = $1 AND wa_message_id = $2"
    };
}

/// Message columns with the sender's name joined from identities.
macro_rules! message_select {
    () => {
        "SELECT m.id, m.session_id, m.wa_message_id, m.chat_jid, m.sender_lid, m.sender_jid, \
         (SELECT i.name FROM identities i WHERE i.lid = m.sender_lid) AS sender_name, \
         m.from_me, m.type, m.body, m.quoted_message_id, m.mentions, m.media_meta, m.media_ref, \
         m.status, m.error, m.edited, m.deleted, m.timestamp, m.created_at FROM messages m "
    };
}

macro_rules! outbox_select {
    () => {
        "SELECT id, organization_id, session_id, idempotency_key, fingerprint, payload, status, \
         attempts, wa_message_id, error, created_at, updated_at FROM outbox "
    };
}

/// Claims a session's next outbox rows, at most $4, in order ($1 session, $2 now, $3 now −
/// lease). Only when none of its rows is being sent: one batch in flight per session keeps sends
/// in order; a claim older than the lease belongs to a worker that died and is taken over. The
/// rows are chosen once, before any is updated (an uncorrelated `IN`), and each branch walks the
/// index (session_id, status, id): a single `status = … OR …` condition made SQLite read and sort
/// every row the session ever queued, sent ones included, on every claim.
macro_rules! outbox_claim_sql {
    () => {
        "UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = $2 \
         WHERE id IN (SELECT id FROM ( \
                        SELECT id FROM (SELECT id FROM outbox \
                          WHERE session_id = $1 AND status = 'queued' ORDER BY id LIMIT $4) AS q \
                        UNION ALL \
                        SELECT id FROM (SELECT id FROM outbox \
                          WHERE session_id = $1 AND status = 'sending' AND updated_at < $3 \
                          ORDER BY id LIMIT $4) AS s \
                      ) AS next \
                      WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.session_id = $1 \
                                        AND o.status = 'sending' AND o.updated_at >= $3) \
                      ORDER BY id LIMIT $4) \
         AND (status = 'queued' OR (status = 'sending' AND updated_at < $3)) \
         RETURNING id, organization_id, session_id, idempotency_key, fingerprint, \
         payload, status, attempts, wa_message_id, error, created_at, updated_at"
    };
}

/// A status's rank in SQL, NULL counting as `pending` (domain.md §6.1).
macro_rules! status_rank {
    () => {
        "(CASE status WHEN 'sent' THEN 2 WHEN 'delivered' THEN 3 WHEN 'read' THEN 4 \
         WHEN 'played' THEN 5 WHEN 'failed' THEN 6 ELSE 1 END)"
    };
}

macro_rules! impl_message_store {
    ($store:ty) => {
        impl $store {
            async fn mention_names(
                &self,
                message: &mut wagate_domain::StoredMessage,
            ) -> wagate_domain::StoreResult<()> {
                let Some(mentions) = message.mentions.clone() else {
                    return Ok(());
                };
                for jid in mentions {
                    let name: Option<String> = sqlx::query_scalar(
                        "SELECT name FROM identities WHERE (lid = $1 OR phone_jid = $1) \
                         AND name IS NOT NULL ORDER BY id LIMIT 1",
                    )
                    .bind(&jid)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::error::map)?;
                    if let Some(name) = name {
                        let user = jid.split('@').next().unwrap_or(&jid).to_owned();
                        message.mention_names.insert(user, name);
                    }
                }
                Ok(())
            }

            async fn contacts_where(
                &self,
                session: &wagate_domain::SessionId,
                filter: &'static str,
                after: Option<i64>,
                text: Option<String>,
                limit: i64,
            ) -> wagate_domain::StoreResult<Vec<wagate_domain::Contact>> {
                let sql = format!(
                    "SELECT i.id, i.lid, i.phone_number, i.phone_jid, i.name, i.business_name, \
                     i.first_seen_at, i.updated_at FROM identities i \
                     WHERE EXISTS (SELECT 1 FROM chats c WHERE c.session_id = $1 \
                     AND c.type = 'dm' AND (c.chat_jid = i.lid OR c.chat_jid = i.phone_jid)) \
                     AND {filter} ORDER BY i.id LIMIT $4"
                );
                let rows: Vec<$crate::message_rows::IdentityRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(session.as_str())
                    .bind(after)
                    .bind(text)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::error::map)?;
                Ok(rows
                    .into_iter()
                    .map(|r| wagate_domain::Contact { identity: r.into(), dm: true })
                    .collect())
            }
        }

        #[async_trait::async_trait]
        impl wagate_domain::MessageStore for $store {
            async fn upsert_identity(
                &self,
                update: &wagate_domain::IdentityUpdate,
                now_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                let phones: Vec<&str> = update.phone_jid.as_deref().into_iter().collect();
                let mut tx = self.begin_identity_write(&phones).await?;
                identity_write!(tx, update, now_ms);
                tx.commit().await.map_err($crate::error::map)
            }

            async fn upsert_identities(
                &self,
                updates: &[wagate_domain::IdentityUpdate],
                now_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                self.upsert_changed_identities(updates, now_ms).await
            }

            async fn fill_identity_name(
                &self,
                jid: &str,
                name: &str,
                now_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                sqlx::query(
                    "UPDATE identities SET name = $2, updated_at = $3 \
                     WHERE (lid = $1 OR phone_jid = $1) AND (name IS NULL OR name = '')",
                )
                .bind(jid)
                .bind(name)
                .bind(now_ms)
                .execute(&self.pool)
                .await
                .map(|_| ())
                .map_err($crate::error::map)
            }

            async fn canonical_dm_jid(&self, jid: &str) -> wagate_domain::StoreResult<String> {
                let lids: Vec<String> = sqlx::query_scalar(
                    "SELECT lid FROM identities WHERE phone_jid = $1 LIMIT 2",
                )
                .bind(jid)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::map)?;
                Ok(match lids.as_slice() {
                    [lid] if lid != jid => lid.clone(),
                    _ => jid.to_owned(),
                })
            }

            async fn record_message(
                &self,
                chat: &wagate_domain::ChatTouch,
                m: &wagate_domain::NewMessage,
            ) -> wagate_domain::StoreResult<bool> {
                let new = self.record_message_run(&[(chat, m)]).await?;
                Ok(new.first().copied().unwrap_or(false))
            }

            async fn record_messages(
                &self,
                batch: &[(wagate_domain::ChatTouch, wagate_domain::NewMessage)],
            ) -> wagate_domain::StoreResult<Vec<bool>> {
                let refs: Vec<_> = batch.iter().map(|(chat, m)| (chat, m)).collect();
                self.record_message_run(&refs).await
            }

            async fn get_message(
                &self,
                session: &wagate_domain::SessionId,
                wa_message_id: &str,
            ) -> wagate_domain::StoreResult<Option<wagate_domain::StoredMessage>> {
                let row: Option<$crate::message_rows::MessageRow> = sqlx::query_as(concat!(
                    message_select!(),
                    "WHERE m.session_id = $1 AND m.wa_message_id = $2"
                ))
                .bind(session.as_str())
                .bind(wa_message_id)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::error::map)?;
                let Some(row) = row else { return Ok(None) };
                let mut message: wagate_domain::StoredMessage = row.try_into()?;
                self.mention_names(&mut message).await?;
                Ok(Some(message))
            }

            async fn advance_status(
                &self,
                session: &wagate_domain::SessionId,
                wa_message_ids: &[String],
                status: wagate_domain::MessageStatus,
            ) -> wagate_domain::StoreResult<Vec<String>> {
                // One statement per chunk of ids (a batch of receipts is one round trip and one
                // commit); several chunks share a transaction, so a failure moves none of them
                // and the caller's retry publishes them all. The answer keeps the ids' order,
                // each id once.
                let mut queries: Vec<_> = wa_message_ids
                    .chunks(500)
                    .map(|chunk| {
                        let mut query = sqlx::QueryBuilder::new("UPDATE messages SET status = ");
                        query
                            .push_bind(status.as_str())
                            .push(" WHERE session_id = ")
                            .push_bind(session.as_str())
                            .push(concat!(" AND ", status_rank!(), " < "))
                            .push_bind(i64::from(status.rank()))
                            .push(" AND wa_message_id IN (");
                        let mut ids = query.separated(", ");
                        for id in chunk {
                            ids.push_bind(id.as_str());
                        }
                        query.push(") RETURNING wa_message_id");
                        query
                    })
                    .collect();
                let mut moved = std::collections::HashSet::new();
                if let [query] = queries.as_mut_slice() {
                    let changed: Vec<String> = query
                        .build_query_scalar()
                        .fetch_all(&self.pool)
                        .await
                        .map_err($crate::error::map)?;
                    moved.extend(changed);
                } else if !queries.is_empty() {
                    let mut tx = self.pool.begin().await.map_err($crate::error::map)?;
                    for query in &mut queries {
                        let changed: Vec<String> = query
                            .build_query_scalar()
                            .fetch_all(&mut *tx)
                            .await
                            .map_err($crate::error::map)?;
                        moved.extend(changed);
                    }
                    tx.commit().await.map_err($crate::error::map)?;
                }
                Ok(wa_message_ids
                    .iter()
                    .filter(|id| moved.remove(id.as_str()))
                    .cloned()
                    .collect())
            }

            async fn mark_edited(
                &self,
                session: &wagate_domain::SessionId,
                wa_id: &str,
                body: &str,
            ) -> wagate_domain::StoreResult<bool> {
                sqlx::query(
                    "UPDATE messages SET body = $3, edited = TRUE \
                     WHERE session_id = $1 AND wa_message_id = $2",
                )
                .bind(session.as_str())
                .bind(wa_id)
                .bind(body)
                .execute(&self.pool)
                .await
                .map(|r| r.rows_affected() == 1)
                .map_err($crate::error::map)
            }

            async fn mark_deleted(
                &self,
                session: &wagate_domain::SessionId,
                wa_id: &str,
            ) -> wagate_domain::StoreResult<bool> {
                sqlx::query(
                    "UPDATE messages SET deleted = TRUE \
                     WHERE session_id = $1 AND wa_message_id = $2",
                )
                .bind(session.as_str())
                .bind(wa_id)
                .execute(&self.pool)
                .await
                .map(|r| r.rows_affected() == 1)
                .map_err($crate::error::map)
            }

            async fn list_chat_messages(
                &self,
                session: &wagate_domain::SessionId,
                chat_jids: &[String],
                before: Option<&wagate_domain::MessageId>,
                limit: u32,
            ) -> wagate_domain::StoreResult<Vec<wagate_domain::StoredMessage>> {
                // At most two forms of one chat (LID and phone JID).
                let first = chat_jids.first().map(String::as_str).unwrap_or_default();
                let second = chat_jids.get(1).map(String::as_str).unwrap_or(first);
                // Two statements, not `($4 IS NULL OR m.id < $4)`: SQLite cannot seek the
                // timeline index on that disjunction, so a page deep in a large chat read every
                // newer message first.
                let sql = if before.is_some() {
                    concat!(
                        message_select!(),
                        "WHERE m.session_id = $1 AND m.chat_jid IN ($2, $3) AND m.id < $4 \
                         ORDER BY m.id DESC LIMIT $5"
                    )
                } else {
                    concat!(
                        message_select!(),
                        "WHERE m.session_id = $1 AND m.chat_jid IN ($2, $3) \
                         ORDER BY m.id DESC LIMIT $4"
                    )
                };
                let mut query = sqlx::query_as(sql)
                    .bind(session.as_str())
                    .bind(first)
                    .bind(second);
                if let Some(before) = before {
                    query = query.bind(before.as_str());
                }
                let rows: Vec<$crate::message_rows::MessageRow> = query
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::map)?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let mut message: wagate_domain::StoredMessage = row.try_into()?;
                    self.mention_names(&mut message).await?;
                    out.push(message);
                }
                Ok(out)
            }

            async fn list_chats(
                &self,
                session: &wagate_domain::SessionId,
                after: Option<(i64, i64)>,
                limit: u32,
            ) -> wagate_domain::StoreResult<Vec<wagate_domain::Chat>> {
                let (at, id) = after.map_or((None, None), |(a, i)| (Some(a), Some(i)));
                let rows: Vec<$crate::message_rows::ChatRow> = sqlx::query_as(concat!(
                    chat_select!(),
                    "WHERE c.session_id = $1 AND c.last_message_at IS NOT NULL \
                     AND ($2 IS NULL OR c.last_message_at < $2 \
                          OR (c.last_message_at = $2 AND c.id < $3)) \
                     ORDER BY c.last_message_at DESC, c.id DESC LIMIT $4"
                ))
                .bind(session.as_str())
                .bind(at)
                .bind(id)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::map)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn get_chat(
                &self,
                session: &wagate_domain::SessionId,
                jid: &str,
            ) -> wagate_domain::StoreResult<Option<wagate_domain::Chat>> {
                // Exact match first, then the other form of the same person.
                let row: Option<$crate::message_rows::ChatRow> = sqlx::query_as(concat!(
                    chat_select!(),
                    "WHERE c.session_id = $1 AND (c.chat_jid = $2 OR c.chat_jid IN \
                     (SELECT i.lid FROM identities i WHERE i.phone_jid = $2 \
                      UNION SELECT i.phone_jid FROM identities i WHERE i.lid = $2)) \
                     ORDER BY CASE WHEN c.chat_jid = $2 THEN 0 ELSE 1 END, c.id LIMIT 1"
                ))
                .bind(session.as_str())
                .bind(jid)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::error::map)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn update_chat(
                &self,
                session: &wagate_domain::SessionId,
                chat_id: i64,
                patch: &wagate_domain::ChatPatch,
                read: bool,
            ) -> wagate_domain::StoreResult<()> {
                sqlx::query(
                    "UPDATE chats SET archived = COALESCE($3, archived), \
                     pinned = COALESCE($4, pinned), \
                     muted_until = CASE WHEN $5 THEN $6 ELSE muted_until END, \
                     unread_count = CASE WHEN $7 THEN 0 ELSE unread_count END \
                     WHERE session_id = $1 AND id = $2",
                )
                .bind(session.as_str())
                .bind(chat_id)
                .bind(patch.archived)
                .bind(patch.pinned)
                .bind(patch.muted_until.is_some())
                .bind(patch.muted_until.flatten())
                .bind(read)
                .execute(&self.pool)
                .await
                .map(|_| ())
                .map_err($crate::error::map)
            }

            async fn delete_chat(
                &self,
                session: &wagate_domain::SessionId,
                chat_id: i64,
            ) -> wagate_domain::StoreResult<bool> {
                use $crate::error::map;
                let mut tx = self.pool.begin().await.map_err(map)?;
                let jid: Option<String> = sqlx::query_scalar(
                    "DELETE FROM chats WHERE session_id = $1 AND id = $2 RETURNING chat_jid",
                )
                .bind(session.as_str())
                .bind(chat_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map)?;
                let Some(jid) = jid else { return Ok(false) };
                sqlx::query("DELETE FROM messages WHERE session_id = $1 AND chat_jid = $2")
                    .bind(session.as_str())
                    .bind(&jid)
                    .execute(&mut *tx)
                    .await
                    .map_err(map)?;
                tx.commit().await.map_err(map)?;
                Ok(true)
            }

            async fn list_contacts(
                &self,
                session: &wagate_domain::SessionId,
                q: Option<&str>,
                after: Option<i64>,
                limit: u32,
            ) -> wagate_domain::StoreResult<Vec<wagate_domain::Contact>> {
                let pattern = q.map(|q| {
                    let escaped = q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                    format!("%{escaped}%")
                });
                self.contacts_where(
                    session,
                    "($2 IS NULL OR i.id > $2) AND ($3 IS NULL \
                     OR LOWER(COALESCE(i.name, '')) LIKE $3 ESCAPE '\\' \
                     OR LOWER(COALESCE(i.business_name, '')) LIKE $3 ESCAPE '\\' \
                     OR COALESCE(i.phone_number, '') LIKE $3 ESCAPE '\\' \
                     OR i.lid LIKE $3 ESCAPE '\\')",
                    after,
                    pattern,
                    i64::from(limit),
                )
                .await
            }

            async fn get_contact(
                &self,
                session: &wagate_domain::SessionId,
                jid: &str,
            ) -> wagate_domain::StoreResult<Option<wagate_domain::Contact>> {
                Ok(self
                    .contacts_where(
                        session,
                        "($2 IS NULL OR i.id > $2) AND (i.lid = $3 OR i.phone_jid = $3)",
                        None,
                        Some(jid.to_owned()),
                        1,
                    )
                    .await?
                    .pop())
            }

            async fn upsert_poll(
                &self,
                session: &wagate_domain::SessionId,
                poll_message_id: &str,
                chat_jid: &str,
                spec: &wagate_domain::PollSpec,
                now_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO polls (session_id, poll_message_id, chat_jid, spec, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session_id, poll_message_id) \
                     DO UPDATE SET chat_jid = excluded.chat_jid, spec = excluded.spec",
                )
                .bind(session.as_str())
                .bind(poll_message_id)
                .bind(chat_jid)
                .bind($crate::message_rows::to_json(spec)?)
                .bind(now_ms)
                .execute(&self.pool)
                .await
                .map(|_| ())
                .map_err($crate::error::map)
            }

            async fn get_poll(
                &self,
                session: &wagate_domain::SessionId,
                poll_message_id: &str,
            ) -> wagate_domain::StoreResult<Option<wagate_domain::PollSpec>> {
                let spec: Option<String> = sqlx::query_scalar(
                    "SELECT spec FROM polls WHERE session_id = $1 AND poll_message_id = $2",
                )
                .bind(session.as_str())
                .bind(poll_message_id)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::error::map)?;
                spec.map(|s| {
                    serde_json::from_str(&s).map_err(|e| {
                        wagate_domain::StoreError::Backend(format!("corrupt poll row: {e}").into())
                    })
                })
                .transpose()
            }

            async fn insert_outbox(
                &self,
                e: &wagate_domain::OutboxEntry,
                key_ttl_ms: i64,
            ) -> wagate_domain::StoreResult<wagate_domain::OutboxInsert> {
                use $crate::error::map;
                let mut tx = self.pool.begin().await.map_err(map)?;
                if let Some(key) = &e.idempotency_key {
                    // An expired key is free again; its row stays as history.
                    sqlx::query(
                        "UPDATE outbox SET idempotency_key = NULL WHERE organization_id = $1 \
                         AND idempotency_key = $2 AND created_at < $3",
                    )
                    .bind(e.organization_id.as_str())
                    .bind(key)
                    .bind(e.created_at - key_ttl_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(map)?;
                }
                let inserted = sqlx::query(
                    "INSERT INTO outbox (id, organization_id, session_id, idempotency_key, \
                     fingerprint, payload, status, attempts, wa_message_id, error, created_at, \
                     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                     ON CONFLICT (organization_id, idempotency_key) DO NOTHING",
                )
                .bind(e.id.as_str())
                .bind(e.organization_id.as_str())
                .bind(e.session_id.as_str())
                .bind(&e.idempotency_key)
                .bind(&e.fingerprint)
                .bind(&e.payload)
                .bind(e.status.as_str())
                .bind(e.attempts)
                .bind(&e.wa_message_id)
                .bind(&e.error)
                .bind(e.created_at)
                .bind(e.updated_at)
                .execute(&mut *tx)
                .await
                .map_err(map)?
                .rows_affected()
                    == 1;
                let outcome = if inserted {
                    wagate_domain::OutboxInsert::Inserted
                } else {
                    let row: $crate::message_rows::OutboxRow = sqlx::query_as(concat!(
                        outbox_select!(),
                        "WHERE organization_id = $1 AND idempotency_key = $2"
                    ))
                    .bind(e.organization_id.as_str())
                    .bind(&e.idempotency_key)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map)?;
                    wagate_domain::OutboxInsert::Existing(Box::new(row.try_into()?))
                };
                tx.commit().await.map_err(map)?;
                Ok(outcome)
            }

            async fn get_outbox(
                &self,
                org: &wagate_domain::OrgId,
                id: &wagate_domain::OutboxId,
            ) -> wagate_domain::StoreResult<Option<wagate_domain::OutboxEntry>> {
                let row: Option<$crate::message_rows::OutboxRow> = sqlx::query_as(concat!(
                    outbox_select!(),
                    "WHERE organization_id = $1 AND id = $2"
                ))
                .bind(org.as_str())
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::error::map)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn finish_outbox(
                &self,
                outcomes: &[wagate_domain::OutboxOutcome],
            ) -> wagate_domain::StoreResult<()> {
                use $crate::error::map;
                let finish = |o: &'_ wagate_domain::OutboxOutcome| {
                    sqlx::query(
                        "UPDATE outbox SET status = $2, wa_message_id = COALESCE($3, wa_message_id), \
                         error = $4, payload = COALESCE($5, payload), updated_at = $6, \
                         attempts = attempts - $7 WHERE id = $1",
                    )
                    .bind(o.id.as_str().to_owned())
                    .bind(o.status.as_str())
                    .bind(o.wa_message_id.clone())
                    .bind(o.error.clone())
                    .bind(o.payload.clone())
                    .bind(o.now_ms)
                    .bind(i64::from(o.undo_claim))
                };
                match outcomes {
                    [] => Ok(()),
                    // One statement commits on its own: no BEGIN and COMMIT round trips.
                    [one] => finish(one).execute(&self.pool).await.map(|_| ()).map_err(map),
                    many => {
                        let mut tx = self.pool.begin().await.map_err(map)?;
                        for o in many {
                            finish(o).execute(&mut *tx).await.map_err(map)?;
                        }
                        tx.commit().await.map_err(map)
                    }
                }
            }

            async fn claim_outbox(
                &self,
                session: &wagate_domain::SessionId,
                now_ms: i64,
                lease_ms: i64,
                limit: u32,
            ) -> wagate_domain::StoreResult<Vec<wagate_domain::OutboxEntry>> {
                let rows: Vec<$crate::message_rows::OutboxRow> = sqlx::query_as(
                    outbox_claim_sql!(),
                )
                .bind(session.as_str())
                .bind(now_ms)
                .bind(now_ms - lease_ms)
                .bind(i64::from(limit.max(1)))
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::map)?;
                let mut entries = rows
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect::<wagate_domain::StoreResult<Vec<wagate_domain::OutboxEntry>>>()?;
                // RETURNING follows no ORDER BY.
                entries.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
                Ok(entries)
            }

            async fn sessions_with_queued_outbox(
                &self,
            ) -> wagate_domain::StoreResult<Vec<wagate_domain::SessionId>> {
                let ids: Vec<String> = sqlx::query_scalar(
                    "SELECT DISTINCT session_id FROM outbox WHERE status IN ('queued', 'sending')",
                )
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::map)?;
                Ok(ids.into_iter().map(wagate_domain::SessionId::from_trusted).collect())
            }
        }
    };
}
