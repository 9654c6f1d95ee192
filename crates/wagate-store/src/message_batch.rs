//! Group commit for inbound traffic (issue 4): a run of messages of one session stored in one
//! transaction, and the identities of their authors learned once per run. Expanded into both
//! backends by `impl_message_store!`, with the same `$N` SQL.

/// The columns of one message row, in the order [`record_message_run`] binds them.
macro_rules! message_insert_sql {
    () => {
        "INSERT INTO messages (id, session_id, wa_message_id, chat_jid, sender_lid, sender_jid, \
         from_me, type, body, quoted_message_id, mentions, has_media, media_meta, media_ref, \
         status, timestamp, created_at) "
    };
}

/// Rows per multi-row `INSERT` (17 binds each: far below both engines' bind limits).
pub(crate) const INSERT_CHUNK: usize = 500;

/// Writes one identity update inside `$tx` (begun with `begin_identity_write` for its phone
/// JID): the COALESCE upsert, then domain.md §5.1's move of rows under the phone JID to the LID.
macro_rules! identity_write {
    ($tx:ident, $update:expr, $now_ms:expr) => {{
        use $crate::error::map;
        let update: &wagate_domain::IdentityUpdate = $update;
        let now_ms: i64 = $now_ms;
        let phone_number = update
            .phone_jid
            .as_deref()
            .and_then(|j| j.split('@').next())
            .map(str::to_owned);
        sqlx::query(
            "INSERT INTO identities (lid, phone_number, phone_jid, name, business_name, \
             first_seen_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (lid) DO UPDATE SET \
             phone_number = COALESCE(excluded.phone_number, identities.phone_number), \
             phone_jid = COALESCE(excluded.phone_jid, identities.phone_jid), \
             name = COALESCE(excluded.name, identities.name), \
             business_name = COALESCE(excluded.business_name, identities.business_name), \
             updated_at = excluded.updated_at",
        )
        .bind(&update.lid)
        .bind(phone_number)
        .bind(&update.phone_jid)
        .bind(&update.name)
        .bind(&update.business_name)
        .bind(now_ms)
        .execute(&mut *$tx)
        .await
        .map_err(map)?;
        if let Some(phone_jid) = &update.phone_jid {
            // domain.md §5.1: rows stored under the phone JID move to the LID, in every
            // session; a chat that exists in both forms is folded into the LID one.
            // This runs for every message of a contact, so every statement is an index
            // lookup (`chats_chat_jid`, then per session the timeline index): a session's
            // messages under the phone JID always come with its chat under that JID.
            let phone_chats: Vec<(i64, String)> =
                sqlx::query_as("SELECT id, session_id FROM chats WHERE chat_jid = $1")
                    .bind(phone_jid)
                    .fetch_all(&mut *$tx)
                    .await
                    .map_err(map)?;
            for (phone_chat, session) in phone_chats {
                let folded = sqlx::query(
                    "UPDATE chats SET \
                     name = COALESCE(name, (SELECT p.name FROM chats p WHERE p.id = $1)), \
                     last_message_at = (SELECT CASE WHEN p.last_message_at IS NULL \
                       OR (chats.last_message_at IS NOT NULL \
                           AND chats.last_message_at >= p.last_message_at) \
                       THEN chats.last_message_at ELSE p.last_message_at END \
                       FROM chats p WHERE p.id = $1), \
                     unread_count = (SELECT CASE WHEN p.unread_count > chats.unread_count \
                       THEN p.unread_count ELSE chats.unread_count END \
                       FROM chats p WHERE p.id = $1), \
                     archived = (archived OR (SELECT p.archived FROM chats p WHERE p.id = $1)), \
                     pinned = (pinned OR (SELECT p.pinned FROM chats p WHERE p.id = $1)), \
                     muted_until = (SELECT CASE WHEN p.muted_until IS NULL \
                       OR (chats.muted_until IS NOT NULL \
                           AND chats.muted_until >= p.muted_until) \
                       THEN chats.muted_until ELSE p.muted_until END \
                       FROM chats p WHERE p.id = $1) \
                     WHERE session_id = $2 AND chat_jid = $3",
                )
                .bind(phone_chat)
                .bind(&session)
                .bind(&update.lid)
                .execute(&mut *$tx)
                .await
                .map_err(map)?
                .rows_affected();
                let sql = if folded == 1 {
                    "DELETE FROM chats WHERE id = $1 AND chat_jid <> $2"
                } else {
                    "UPDATE chats SET chat_jid = $2 WHERE id = $1"
                };
                sqlx::query(sql)
                    .bind(phone_chat)
                    .bind(&update.lid)
                    .execute(&mut *$tx)
                    .await
                    .map_err(map)?;
                for sql in [
                    "UPDATE messages SET chat_jid = $2 \
                     WHERE session_id = $3 AND chat_jid = $1",
                    "UPDATE polls SET chat_jid = $2 WHERE session_id = $3 AND chat_jid = $1",
                ] {
                    sqlx::query(sql)
                        .bind(phone_jid)
                        .bind(&update.lid)
                        .bind(&session)
                        .execute(&mut *$tx)
                        .await
                        .map_err(map)?;
                }
            }
            // Group memberships under the phone JID move to the LID too (issue 5), so
            // a member is stored once; where a session holds both forms, the one that
            // changed last stays. Index lookups on `group_members_lid` only.
            let doubles: Vec<(i64, String, String)> = sqlx::query_as(
                "SELECT CASE WHEN p.changed_at > l.changed_at THEN l.id ELSE p.id END, \
                 p.session_id, p.group_jid FROM group_members p JOIN group_members l \
                 ON l.session_id = p.session_id AND l.group_jid = p.group_jid \
                 AND l.lid = $2 WHERE p.lid = $1",
            )
            .bind(phone_jid)
            .bind(&update.lid)
            .fetch_all(&mut *$tx)
            .await
            .map_err(map)?;
            for (older, session, group_jid) in &doubles {
                sqlx::query("DELETE FROM group_members WHERE id = $1")
                    .bind(older)
                    .execute(&mut *$tx)
                    .await
                    .map_err(map)?;
                count_members!($tx, session, group_jid, now_ms);
            }
            sqlx::query("UPDATE group_members SET lid = $2 WHERE lid = $1")
                .bind(phone_jid)
                .bind(&update.lid)
                .execute(&mut *$tx)
                .await
                .map_err(map)?;
        }
    }};
}

macro_rules! impl_message_batch {
    ($store:ty) => {
        impl $store {
            /// `MessageStore::upsert_identities`: updates that would change nothing are read,
            /// not written; the others are written in one transaction.
            async fn upsert_changed_identities(
                &self,
                updates: &[wagate_domain::IdentityUpdate],
                now_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                use $crate::error::map;
                let mut changed = Vec::new();
                for update in updates {
                    // Current when the identity already says all of it and nothing is stored
                    // under its phone JID (so the merge would move nothing). A read outside a
                    // transaction: on SQLite a transaction that reads before it writes cannot
                    // take the write lock once another connection has committed.
                    let current: bool = sqlx::query_scalar(
                        "SELECT EXISTS (SELECT 1 FROM identities WHERE lid = $1 \
                           AND ($2 IS NULL OR phone_jid = $2) AND ($3 IS NULL OR name = $3) \
                           AND ($4 IS NULL OR business_name = $4)) \
                         AND ($2 IS NULL OR (NOT EXISTS (SELECT 1 FROM chats WHERE chat_jid = $2) \
                           AND NOT EXISTS (SELECT 1 FROM group_members WHERE lid = $2)))",
                    )
                    .bind(&update.lid)
                    .bind(&update.phone_jid)
                    .bind(&update.name)
                    .bind(&update.business_name)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(map)?;
                    if !current {
                        changed.push(update);
                    }
                }
                if changed.is_empty() {
                    return Ok(());
                }
                let phones: Vec<&str> =
                    changed.iter().filter_map(|u| u.phone_jid.as_deref()).collect();
                let mut tx = self.begin_identity_write(&phones).await?;
                for update in changed {
                    identity_write!(tx, update, now_ms);
                }
                tx.commit().await.map_err(map)
            }

            /// `MessageStore::record_messages`: one transaction; the rows in multi-row
            /// `INSERT … ON CONFLICT DO NOTHING RETURNING id`, so a message already stored (or
            /// earlier in the run) is told apart and only has its content refreshed; then each
            /// chat touched once for its new messages.
            async fn record_message_run(
                &self,
                batch: &[(&wagate_domain::ChatTouch, &wagate_domain::NewMessage)],
            ) -> wagate_domain::StoreResult<Vec<bool>> {
                use $crate::error::map;
                use $crate::message_rows::to_json;
                if batch.is_empty() {
                    return Ok(Vec::new());
                }
                let mut json = Vec::with_capacity(batch.len());
                for (_, m) in batch {
                    json.push((
                        m.mentions.as_ref().map(to_json).transpose()?,
                        m.media.as_ref().map(to_json).transpose()?,
                        m.media_ref.as_ref().map(to_json).transpose()?,
                    ));
                }
                let mut tx = self.pool.begin().await.map_err(map)?;
                let mut inserted = std::collections::HashSet::new();
                for (rows, json) in batch
                    .chunks($crate::message_batch::INSERT_CHUNK)
                    .zip(json.chunks($crate::message_batch::INSERT_CHUNK))
                {
                    let mut query = sqlx::QueryBuilder::new(message_insert_sql!());
                    query.push_values(rows.iter().zip(json), |mut row, ((_, m), json)| {
                        row.push_bind(m.id.as_str())
                            .push_bind(m.session_id.as_str())
                            .push_bind(m.wa_message_id.as_str())
                            .push_bind(m.chat_jid.as_str())
                            .push_bind(m.sender_lid.as_deref())
                            .push_bind(m.sender_jid.as_deref())
                            .push_bind(m.from_me)
                            .push_bind(m.message_type.as_str())
                            .push_bind(m.body.as_deref())
                            .push_bind(m.quoted_message_id.as_deref())
                            .push_bind(json.0.as_deref())
                            .push_bind(m.media.is_some())
                            .push_bind(json.1.as_deref())
                            .push_bind(json.2.as_deref())
                            .push_bind(m.status.map(|s| s.as_str()))
                            .push_bind(m.timestamp)
                            .push_bind(m.created_at);
                    });
                    query.push(" ON CONFLICT (session_id, wa_message_id) DO NOTHING RETURNING id");
                    let ids: Vec<String> = query
                        .build_query_scalar()
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(map)?;
                    inserted.extend(ids);
                }
                let new: Vec<bool> = batch
                    .iter()
                    .map(|(_, m)| inserted.contains(m.id.as_str()))
                    .collect();
                // Chats in first-touch order, each with what its new messages add up to.
                let mut chats: Vec<$crate::message_batch::ChatSum> = Vec::new();
                for (((chat, m), json), new) in batch.iter().zip(&json).zip(&new) {
                    if *new {
                        $crate::message_batch::ChatSum::add(&mut chats, chat);
                        continue;
                    }
                    sqlx::query(message_rewrite_sql!())
                        .bind(m.session_id.as_str())
                        .bind(&m.wa_message_id)
                        .bind(&m.chat_jid)
                        .bind(&m.sender_lid)
                        .bind(&m.sender_jid)
                        .bind(&m.body)
                        .bind(&m.quoted_message_id)
                        .bind(&json.0)
                        .bind(m.media.is_some())
                        .bind(&json.1)
                        .bind(&json.2)
                        .execute(&mut *tx)
                        .await
                        .map_err(map)?;
                }
                for chat in &chats {
                    sqlx::query(chat_touch_sql!())
                        .bind(chat.touch.session_id.as_str())
                        .bind(&chat.touch.jid)
                        .bind(chat.touch.kind.as_str())
                        .bind(&chat.touch.name)
                        .bind(chat.touch.last_message_at)
                        .bind(chat.unread)
                        .execute(&mut *tx)
                        .await
                        .map_err(map)?;
                }
                tx.commit().await.map_err(map)?;
                Ok(new)
            }
        }
    };
}

/// What a run's new messages do to one chat: the same as touching it once per message (the
/// newest activity, the last name given, one unread per unread message).
pub(crate) struct ChatSum {
    pub(crate) touch: wagate_domain::ChatTouch,
    pub(crate) unread: i64,
}

impl ChatSum {
    pub(crate) fn add(chats: &mut Vec<ChatSum>, touch: &wagate_domain::ChatTouch) {
        let same =
            |c: &&mut ChatSum| c.touch.session_id == touch.session_id && c.touch.jid == touch.jid;
        match chats.iter_mut().find(same) {
            Some(sum) => {
                sum.touch.last_message_at = sum.touch.last_message_at.max(touch.last_message_at);
                if touch.name.is_some() {
                    sum.touch.name.clone_from(&touch.name);
                }
                sum.unread += i64::from(touch.unread);
            }
            None => chats.push(ChatSum {
                touch: touch.clone(),
                unread: i64::from(touch.unread),
            }),
        }
    }
}
