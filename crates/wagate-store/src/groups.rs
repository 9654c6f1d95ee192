//! [`GroupStore`](wagate_domain::GroupStore) on both backends, with the same `$N` SQL (see
//! [`crate::shared`]). Membership writes run in one transaction with the participant count
//! they change.

use wagate_domain::engine::MemberRole;
use wagate_domain::{Group, GroupMember, SessionId, StoreError};

/// The columns of a group as one session sees it (`gs` = its `group_sessions` row).
macro_rules! group_select {
    () => {
        "SELECT g.id, g.group_jid, g.subject, NULLIF(g.description, '') AS description, \
         g.owner_jid, g.participant_count, g.is_announce, g.is_locked, g.created_at_wa, \
         g.first_seen_at, g.updated_at, gs.left_at \
         FROM group_sessions gs JOIN groups g ON g.group_jid = gs.group_jid "
    };
}

#[derive(sqlx::FromRow)]
pub(crate) struct GroupRow {
    id: i64,
    group_jid: String,
    subject: Option<String>,
    description: Option<String>,
    owner_jid: Option<String>,
    participant_count: Option<i64>,
    is_announce: Option<bool>,
    is_locked: Option<bool>,
    created_at_wa: Option<i64>,
    first_seen_at: i64,
    updated_at: i64,
    left_at: Option<i64>,
}

impl From<GroupRow> for Group {
    fn from(r: GroupRow) -> Self {
        Group {
            id: r.id,
            jid: r.group_jid,
            subject: r.subject,
            description: r.description,
            owner_jid: r.owner_jid,
            participant_count: r.participant_count,
            is_announce: r.is_announce,
            is_locked: r.is_locked,
            created_at_wa: r.created_at_wa,
            first_seen_at: r.first_seen_at,
            updated_at: r.updated_at,
            left_at: r.left_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MemberRow {
    id: i64,
    session_id: String,
    group_jid: String,
    lid: String,
    tag: Option<String>,
    role: String,
    first_seen_at: i64,
    last_seen_at: i64,
}

impl TryFrom<MemberRow> for GroupMember {
    type Error = StoreError;
    fn try_from(r: MemberRow) -> Result<Self, StoreError> {
        let role = match r.role.as_str() {
            "member" => MemberRole::Member,
            "admin" => MemberRole::Admin,
            "superadmin" => MemberRole::Superadmin,
            other => {
                return Err(StoreError::Backend(
                    format!("corrupt group member row: role {other:?}").into(),
                ));
            }
        };
        Ok(GroupMember {
            id: r.id,
            session_id: SessionId::from_trusted(r.session_id),
            group_jid: r.group_jid,
            lid: r.lid,
            tag: r.tag,
            role,
            first_seen_at: r.first_seen_at,
            last_seen_at: r.last_seen_at,
        })
    }
}

/// Sets the group's participant count to the session's member rows, inside `$tx`.
macro_rules! count_members {
    ($tx:ident, $session:expr, $group_jid:expr, $now_ms:expr) => {
        sqlx::query(
            "UPDATE groups SET participant_count = (SELECT COUNT(*) FROM group_members \
             WHERE session_id = $1 AND group_jid = $2), updated_at = $3 WHERE group_jid = $2",
        )
        .bind($session.as_str())
        .bind($group_jid)
        .bind($now_ms)
        .execute(&mut *$tx)
        .await
        .map_err($crate::error::map)?
    };
}

macro_rules! impl_group_store {
    ($store:ty) => {
        impl $store {
            /// The group row (JID only) unless it exists, then the session's record of it.
            async fn set_session_group(
                &self,
                session: &wagate_domain::SessionId,
                group_jid: &str,
                now_ms: i64,
                left: bool,
            ) -> wagate_domain::StoreResult<()> {
                use $crate::error::map;
                let mut tx = self.pool.begin().await.map_err(map)?;
                sqlx::query(
                    "INSERT INTO groups (group_jid, first_seen_at, updated_at) \
                     VALUES ($1, $2, $2) ON CONFLICT (group_jid) DO NOTHING",
                )
                .bind(group_jid)
                .bind(now_ms)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
                let left_at = left.then_some(now_ms);
                // A rejoin starts a new membership; a repeated join keeps the first, and a
                // repeated leave (ours, then WhatsApp's echo of it) keeps the first time.
                sqlx::query(
                    "INSERT INTO group_sessions (session_id, group_jid, joined_at, left_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (session_id, group_jid) DO UPDATE SET \
                     joined_at = CASE WHEN group_sessions.left_at IS NULL \
                       THEN group_sessions.joined_at ELSE excluded.joined_at END, \
                     left_at = CASE WHEN excluded.left_at IS NULL THEN NULL \
                       ELSE COALESCE(group_sessions.left_at, excluded.left_at) END",
                )
                .bind(session.as_str())
                .bind(group_jid)
                .bind(now_ms)
                .bind(left_at)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
                tx.commit().await.map_err(map)
            }
        }

        #[async_trait::async_trait]
        impl wagate_domain::GroupStore for $store {
            async fn upsert_group(
                &self,
                meta: &wagate_domain::GroupMeta,
                now_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO groups (group_jid, subject, description, owner_jid, \
                     participant_count, is_announce, is_locked, created_at_wa, first_seen_at, \
                     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
                     ON CONFLICT (group_jid) DO UPDATE SET \
                     subject = COALESCE(excluded.subject, groups.subject), \
                     description = COALESCE(excluded.description, groups.description), \
                     owner_jid = COALESCE(excluded.owner_jid, groups.owner_jid), \
                     participant_count = COALESCE(excluded.participant_count, groups.participant_count), \
                     is_announce = COALESCE(excluded.is_announce, groups.is_announce), \
                     is_locked = COALESCE(excluded.is_locked, groups.is_locked), \
                     created_at_wa = COALESCE(excluded.created_at_wa, groups.created_at_wa), \
                     updated_at = excluded.updated_at",
                )
                .bind(&meta.jid)
                .bind(&meta.subject)
                .bind(&meta.description)
                .bind(&meta.owner_jid)
                .bind(meta.participant_count)
                .bind(meta.is_announce)
                .bind(meta.is_locked)
                .bind(meta.created_at_wa)
                .bind(now_ms)
                .execute(&self.pool)
                .await
                .map_err($crate::error::map)?;
                Ok(())
            }

            async fn mark_joined(
                &self,
                session: &wagate_domain::SessionId,
                group_jid: &str,
                now_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                self.set_session_group(session, group_jid, now_ms, false).await
            }

            async fn mark_left(
                &self,
                session: &wagate_domain::SessionId,
                group_jid: &str,
                now_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                self.set_session_group(session, group_jid, now_ms, true).await
            }

            async fn put_members(
                &self,
                session: &wagate_domain::SessionId,
                group_jid: &str,
                members: &[wagate_domain::MemberUpsert],
                replace_all: bool,
                now_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                use $crate::error::map;
                // Writes first: a SQLite transaction that reads before its first write cannot
                // wait for a concurrent writer (the inbound echo of the same change).
                let mut tx = self.pool.begin().await.map_err(map)?;
                for m in members {
                    sqlx::query(
                        "INSERT INTO group_members (session_id, group_jid, lid, tag, role, \
                         first_seen_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
                         ON CONFLICT (session_id, group_jid, lid) DO UPDATE SET \
                         tag = COALESCE(excluded.tag, group_members.tag), role = excluded.role, \
                         last_seen_at = excluded.last_seen_at",
                    )
                    .bind(session.as_str())
                    .bind(group_jid)
                    .bind(&m.lid)
                    .bind(&m.tag)
                    .bind(m.role.as_str())
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(map)?;
                }
                if replace_all {
                    let stored: Vec<String> = sqlx::query_scalar(
                        "SELECT lid FROM group_members WHERE session_id = $1 AND group_jid = $2",
                    )
                    .bind(session.as_str())
                    .bind(group_jid)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map)?;
                    for gone in stored.iter().filter(|l| members.iter().all(|m| &m.lid != *l)) {
                        sqlx::query(
                            "DELETE FROM group_members \
                             WHERE session_id = $1 AND group_jid = $2 AND lid = $3",
                        )
                        .bind(session.as_str())
                        .bind(group_jid)
                        .bind(gone)
                        .execute(&mut *tx)
                        .await
                        .map_err(map)?;
                    }
                }
                count_members!(tx, session, group_jid, now_ms);
                tx.commit().await.map_err(map)
            }

            async fn remove_members(
                &self,
                session: &wagate_domain::SessionId,
                group_jid: &str,
                lids: &[String],
                now_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                use $crate::error::map;
                let mut tx = self.pool.begin().await.map_err(map)?;
                for lid in lids {
                    sqlx::query(
                        "DELETE FROM group_members \
                         WHERE session_id = $1 AND group_jid = $2 AND lid = $3",
                    )
                    .bind(session.as_str())
                    .bind(group_jid)
                    .bind(lid)
                    .execute(&mut *tx)
                    .await
                    .map_err(map)?;
                }
                count_members!(tx, session, group_jid, now_ms);
                tx.commit().await.map_err(map)
            }

            async fn list_groups(
                &self,
                session: &wagate_domain::SessionId,
            ) -> wagate_domain::StoreResult<Vec<wagate_domain::Group>> {
                let rows: Vec<$crate::groups::GroupRow> =
                    sqlx::query_as(concat!(group_select!(), "WHERE gs.session_id = $1 ORDER BY g.id"))
                        .bind(session.as_str())
                        .fetch_all(&self.pool)
                        .await
                        .map_err($crate::error::map)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn get_group(
                &self,
                session: &wagate_domain::SessionId,
                group_jid: &str,
            ) -> wagate_domain::StoreResult<Option<wagate_domain::Group>> {
                let row: Option<$crate::groups::GroupRow> = sqlx::query_as(concat!(
                    group_select!(),
                    "WHERE gs.session_id = $1 AND gs.group_jid = $2"
                ))
                .bind(session.as_str())
                .bind(group_jid)
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::error::map)?;
                Ok(row.map(Into::into))
            }

            async fn list_members(
                &self,
                session: &wagate_domain::SessionId,
                group_jid: &str,
            ) -> wagate_domain::StoreResult<Vec<wagate_domain::GroupMember>> {
                let rows: Vec<$crate::groups::MemberRow> = sqlx::query_as(
                    "SELECT id, session_id, group_jid, lid, tag, role, first_seen_at, \
                     last_seen_at FROM group_members WHERE session_id = $1 AND group_jid = $2 \
                     ORDER BY id",
                )
                .bind(session.as_str())
                .bind(group_jid)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::map)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }
        }
    };
}
