//! [`GroupStore`](wagate_domain::GroupStore) on both backends, with the same `$N` SQL (see
//! [`crate::shared`]). Membership writes run in one transaction with the participant count
//! they change, as multi-row statements (a group can have thousands of members).
//!
//! Change times (migration 0009): each group field and each membership keeps when it last
//! changed on WhatsApp; a write older than that is skipped (`ON CONFLICT … WHERE`), so a late
//! echo of an earlier change never brings an older state back. Removed members stay as rows
//! with `removed_at` set, so a late echo of their addition can be recognised as older.

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

/// Rows per multi-row statement: well under SQLite's 32,766 bound parameters.
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

/// Sets the group's participant count to the session's present member rows, inside `$tx`.
macro_rules! count_members {
    ($tx:ident, $session:expr, $group_jid:expr, $now_ms:expr) => {
        sqlx::query(
            "UPDATE groups SET participant_count = (SELECT COUNT(*) FROM group_members \
             WHERE session_id = $1 AND group_jid = $2 AND removed_at IS NULL), updated_at = $3 \
             WHERE group_jid = $2",
        )
        .bind($session)
        .bind($group_jid)
        .bind($now_ms)
        .execute(&mut *$tx)
        .await
        .map_err($crate::error::map)?
    };
}

/// `col = …, at = …` for an upsert of `groups`: the new value of `col` and its change time
/// `at` when a value is given and it is not older than the stored one's, else the stored ones.
#[rustfmt::skip]
macro_rules! newer_field {
    ($col:literal, $at:literal) => {
        concat!(
            $col, " = CASE WHEN excluded.", $col, " IS NOT NULL AND excluded.", $at, " >= groups.",
            $at, " THEN excluded.", $col, " ELSE groups.", $col, " END, ",
            $at, " = CASE WHEN excluded.", $col, " IS NOT NULL AND excluded.", $at, " >= groups.",
            $at, " THEN excluded.", $at, " ELSE groups.", $at, " END, "
        )
    };
}

/// The database type of a store, for code shared by both backends.
pub(crate) trait Backend {
    type Db: sqlx::Database;
}

impl Backend for crate::sqlite::SqliteStore {
    type Db = sqlx::Sqlite;
}

impl Backend for crate::postgres::PostgresStore {
    type Db = sqlx::Postgres;
}

/// Whether a canonical JID is a phone JID (one the identities may map to a LID).
pub(crate) fn is_phone(jid: &str) -> bool {
    jid.ends_with("@s.whatsapp.net")
}

/// The distinct phone JIDs among `jids`.
pub(crate) fn phones<'a>(jids: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = std::collections::HashSet::new();
    jids.filter(|j| is_phone(j) && seen.insert(*j)).collect()
}

/// `members` with phone JIDs replaced by their LID where `lids` has one.
pub(crate) fn by_lid(
    members: &[wagate_domain::MemberUpsert],
    lids: &std::collections::HashMap<String, String>,
) -> Vec<wagate_domain::MemberUpsert> {
    members
        .iter()
        .map(|m| wagate_domain::MemberUpsert {
            lid: lids.get(&m.lid).unwrap_or(&m.lid).clone(),
            ..m.clone()
        })
        .collect()
}

/// `members` without repeats (the last of each LID wins): one statement may not touch a row
/// twice.
pub(crate) fn distinct_members(
    members: &[wagate_domain::MemberUpsert],
) -> Vec<&wagate_domain::MemberUpsert> {
    let mut at = std::collections::HashMap::with_capacity(members.len());
    let mut out: Vec<&wagate_domain::MemberUpsert> = Vec::with_capacity(members.len());
    for m in members {
        match at.get(m.lid.as_str()) {
            Some(&i) => out[i] = m,
            None => {
                at.insert(m.lid.as_str(), out.len());
                out.push(m);
            }
        }
    }
    out
}

/// The phone JIDs among `pairs` (phone JID, LID) that name exactly one LID.
pub(crate) fn single_lids(
    pairs: Vec<(String, String)>,
) -> std::collections::HashMap<String, String> {
    let mut lids: std::collections::HashMap<String, Option<String>> =
        std::collections::HashMap::with_capacity(pairs.len());
    for (phone, lid) in pairs {
        lids.entry(phone)
            .and_modify(|known| {
                if known.as_deref() != Some(lid.as_str()) {
                    *known = None;
                }
            })
            .or_insert(Some(lid));
    }
    lids.into_iter()
        .filter_map(|(phone, lid)| lid.map(|l| (phone, l)))
        .collect()
}

macro_rules! impl_group_store {
    ($store:ty) => {
        impl $store {
            /// The group row (JID only) unless it exists, then the session's record of it.
            async fn set_session_group(
                &self,
                session: &wagate_domain::SessionId,
                group_jid: &str,
                at: i64,
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
                // repeated leave (ours, then WhatsApp's echo of it) keeps the first time. A
                // late echo of an earlier join or leave changes nothing.
                sqlx::query(
                    "INSERT INTO group_sessions (session_id, group_jid, joined_at, left_at, \
                     changed_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (session_id, group_jid) DO UPDATE SET \
                     joined_at = CASE WHEN group_sessions.left_at IS NULL \
                       THEN group_sessions.joined_at ELSE excluded.joined_at END, \
                     left_at = CASE WHEN excluded.left_at IS NULL THEN NULL \
                       ELSE COALESCE(group_sessions.left_at, excluded.left_at) END, \
                     changed_at = excluded.changed_at \
                     WHERE group_sessions.changed_at <= excluded.changed_at",
                )
                .bind(session.as_str())
                .bind(group_jid)
                .bind(now_ms)
                .bind(left_at)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
                tx.commit().await.map_err(map)
            }

            /// `jids` with each phone JID replaced by the LID of its single identity, read in
            /// `tx` (begun with `begin_identity_write` for those phone JIDs).
            async fn lids_in<'c>(
                tx: &mut sqlx::Transaction<'c, <Self as $crate::groups::Backend>::Db>,
                jids: impl Iterator<Item = &str>,
            ) -> wagate_domain::StoreResult<std::collections::HashMap<String, String>> {
                let phones: Vec<&str> = jids.filter(|j| $crate::groups::is_phone(j)).collect();
                let mut pairs: Vec<(String, String)> = Vec::new();
                for chunk in phones.chunks($crate::groups::ROWS_PER_STATEMENT) {
                    let mut q = sqlx::QueryBuilder::new(
                        "SELECT phone_jid, lid FROM identities WHERE phone_jid IN (",
                    );
                    let mut list = q.separated(", ");
                    for phone in chunk {
                        list.push_bind(*phone);
                    }
                    q.push(")");
                    pairs.extend(
                        q.build_query_as::<(String, String)>()
                            .fetch_all(&mut **tx)
                            .await
                            .map_err($crate::error::map)?,
                    );
                }
                Ok($crate::groups::single_lids(pairs))
            }
        }

        #[async_trait::async_trait]
        impl wagate_domain::GroupStore for $store {
            async fn upsert_group(
                &self,
                meta: &wagate_domain::GroupMeta,
                at: i64,
                now_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                // A field not given is "never changed" (0), so any later value replaces it.
                let at_if = |given: bool| if given { at } else { 0 };
                sqlx::query(concat!(
                    "INSERT INTO groups (group_jid, subject, description, owner_jid, \
                     participant_count, is_announce, is_locked, created_at_wa, first_seen_at, \
                     updated_at, subject_changed_at, description_changed_at, \
                     announce_changed_at, locked_changed_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13) \
                     ON CONFLICT (group_jid) DO UPDATE SET ",
                    newer_field!("subject", "subject_changed_at"),
                    newer_field!("description", "description_changed_at"),
                    newer_field!("is_announce", "announce_changed_at"),
                    newer_field!("is_locked", "locked_changed_at"),
                    "owner_jid = COALESCE(excluded.owner_jid, groups.owner_jid), \
                     participant_count = COALESCE(excluded.participant_count, groups.participant_count), \
                     created_at_wa = COALESCE(excluded.created_at_wa, groups.created_at_wa), \
                     updated_at = excluded.updated_at"
                ))
                .bind(&meta.jid)
                .bind(&meta.subject)
                .bind(&meta.description)
                .bind(&meta.owner_jid)
                .bind(meta.participant_count)
                .bind(meta.is_announce)
                .bind(meta.is_locked)
                .bind(meta.created_at_wa)
                .bind(now_ms)
                .bind(at_if(meta.subject.is_some()))
                .bind(at_if(meta.description.is_some()))
                .bind(at_if(meta.is_announce.is_some()))
                .bind(at_if(meta.is_locked.is_some()))
                .execute(&self.pool)
                .await
                .map_err($crate::error::map)?;
                Ok(())
            }

            async fn mark_joined(
                &self,
                session: &wagate_domain::SessionId,
                group_jid: &str,
                at: i64,
                now_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                self.set_session_group(session, group_jid, at, now_ms, false).await
            }

            async fn mark_left(
                &self,
                session: &wagate_domain::SessionId,
                group_jid: &str,
                at: i64,
                now_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                self.set_session_group(session, group_jid, at, now_ms, true).await
            }

            async fn put_members(
                &self,
                session: &wagate_domain::SessionId,
                group_jid: &str,
                members: &[wagate_domain::MemberUpsert],
                replace_all: bool,
                at: i64,
                now_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                use $crate::error::map;
                let session = session.as_str();
                let phones = $crate::groups::phones(members.iter().map(|m| m.lid.as_str()));
                let mut tx = self.begin_identity_write(&phones).await?;
                let lids = Self::lids_in(&mut tx, phones.iter().copied()).await?;
                let members = $crate::groups::by_lid(members, &lids);
                let members = $crate::groups::distinct_members(&members);
                for chunk in members.chunks($crate::groups::ROWS_PER_STATEMENT) {
                    let mut q = sqlx::QueryBuilder::new(
                        "INSERT INTO group_members (session_id, group_jid, lid, tag, role, \
                         first_seen_at, last_seen_at, changed_at) ",
                    );
                    q.push_values(chunk, |mut row, m| {
                        row.push_bind(session)
                            .push_bind(group_jid)
                            .push_bind(&m.lid)
                            .push_bind(&m.tag)
                            .push_bind(m.role.as_str())
                            .push_bind(now_ms)
                            .push_bind(now_ms)
                            .push_bind(at);
                    });
                    q.push(
                        " ON CONFLICT (session_id, group_jid, lid) DO UPDATE SET \
                         tag = COALESCE(excluded.tag, group_members.tag), role = excluded.role, \
                         last_seen_at = excluded.last_seen_at, \
                         changed_at = excluded.changed_at, removed_at = NULL \
                         WHERE group_members.changed_at <= excluded.changed_at",
                    );
                    q.build().execute(&mut *tx).await.map_err(map)?;
                }
                if replace_all {
                    let stored: Vec<String> = sqlx::query_scalar(
                        "SELECT lid FROM group_members WHERE session_id = $1 AND group_jid = $2 \
                         AND removed_at IS NULL AND changed_at <= $3",
                    )
                    .bind(session)
                    .bind(group_jid)
                    .bind(at)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map)?;
                    let listed: std::collections::HashSet<&str> =
                        members.iter().map(|m| m.lid.as_str()).collect();
                    let gone: Vec<&String> = stored
                        .iter()
                        .filter(|l| !listed.contains(l.as_str()))
                        .collect();
                    for chunk in gone.chunks($crate::groups::ROWS_PER_STATEMENT) {
                        let mut q = sqlx::QueryBuilder::new("UPDATE group_members SET removed_at = ");
                        q.push_bind(now_ms)
                            .push(", changed_at = ")
                            .push_bind(at)
                            .push(" WHERE session_id = ")
                            .push_bind(session)
                            .push(" AND group_jid = ")
                            .push_bind(group_jid)
                            .push(" AND lid IN (");
                        let mut lids = q.separated(", ");
                        for lid in chunk {
                            lids.push_bind(lid.as_str());
                        }
                        q.push(")");
                        q.build().execute(&mut *tx).await.map_err(map)?;
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
                at: i64,
                now_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                use $crate::error::map;
                let session = session.as_str();
                let phones = $crate::groups::phones(lids.iter().map(String::as_str));
                let mut tx = self.begin_identity_write(&phones).await?;
                let known = Self::lids_in(&mut tx, phones.iter().copied()).await?;
                let lids: Vec<&String> = {
                    let mut seen = std::collections::HashSet::with_capacity(lids.len());
                    lids.iter()
                        .map(|l| known.get(l).unwrap_or(l))
                        .filter(|l| seen.insert(l.as_str()))
                        .collect()
                };
                // Someone never seen gets a removed row too: a late echo of their addition is
                // then older than the removal.
                for chunk in lids.chunks($crate::groups::ROWS_PER_STATEMENT) {
                    let mut q = sqlx::QueryBuilder::new(
                        "INSERT INTO group_members (session_id, group_jid, lid, role, \
                         first_seen_at, last_seen_at, changed_at, removed_at) ",
                    );
                    q.push_values(chunk, |mut row, lid| {
                        row.push_bind(session)
                            .push_bind(group_jid)
                            .push_bind(lid.as_str())
                            .push_bind("member")
                            .push_bind(now_ms)
                            .push_bind(now_ms)
                            .push_bind(at)
                            .push_bind(now_ms);
                    });
                    q.push(
                        " ON CONFLICT (session_id, group_jid, lid) DO UPDATE SET \
                         changed_at = excluded.changed_at, \
                         removed_at = COALESCE(group_members.removed_at, excluded.removed_at) \
                         WHERE group_members.changed_at <= excluded.changed_at",
                    );
                    q.build().execute(&mut *tx).await.map_err(map)?;
                }
                count_members!(tx, session, group_jid, now_ms);
                tx.commit().await.map_err(map)
            }

            async fn observe_member(
                &self,
                session: &wagate_domain::SessionId,
                group_jid: &str,
                lid: &str,
                at: i64,
                now_ms: i64,
            ) -> wagate_domain::StoreResult<()> {
                use $crate::error::map;
                let session = session.as_str();
                // The usual case, a known member writing again (by LID), is one statement; by
                // phone JID, the member is found after resolving it to the LID.
                let seen = sqlx::query(
                    "UPDATE group_members SET last_seen_at = $4 WHERE session_id = $1 \
                     AND group_jid = $2 AND lid = $3 AND removed_at IS NULL",
                )
                .bind(session)
                .bind(group_jid)
                .bind(lid)
                .bind(now_ms)
                .execute(&self.pool)
                .await
                .map_err(map)?;
                if seen.rows_affected() > 0 {
                    return Ok(());
                }
                let phones = $crate::groups::phones(std::iter::once(lid));
                let mut tx = self.begin_identity_write(&phones).await?;
                let known = Self::lids_in(&mut tx, phones.iter().copied()).await?;
                let lid = known.get(lid).map_or(lid, String::as_str);
                sqlx::query(
                    "INSERT INTO group_members (session_id, group_jid, lid, role, \
                     first_seen_at, last_seen_at, changed_at) \
                     VALUES ($1, $2, $3, 'member', $5, $5, $4) \
                     ON CONFLICT (session_id, group_jid, lid) DO UPDATE SET \
                     role = CASE WHEN group_members.removed_at IS NULL \
                       THEN group_members.role ELSE excluded.role END, \
                     changed_at = CASE WHEN group_members.removed_at IS NULL \
                       THEN group_members.changed_at ELSE excluded.changed_at END, \
                     last_seen_at = excluded.last_seen_at, removed_at = NULL \
                     WHERE group_members.removed_at IS NULL \
                       OR group_members.changed_at <= excluded.changed_at",
                )
                .bind(session)
                .bind(group_jid)
                .bind(lid)
                .bind(at)
                .bind(now_ms)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
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
                     AND removed_at IS NULL ORDER BY id",
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
