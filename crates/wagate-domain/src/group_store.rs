//! The storage port for groups and memberships. Both store backends implement it next to
//! [`crate::Store`]; the conformance tests hold them to the same semantics.

use async_trait::async_trait;

use crate::{Group, GroupMember, GroupMeta, MemberUpsert, SessionId, StoreResult};

#[async_trait]
pub trait GroupStore: Send + Sync + 'static {
    /// Creates the group row or COALESCEs `meta` into it.
    async fn upsert_group(&self, meta: &GroupMeta, now_ms: i64) -> StoreResult<()>;
    /// Records that the session is in the group (again): its groups list shows it, not left.
    async fn mark_joined(
        &self,
        session: &SessionId,
        group_jid: &str,
        now_ms: i64,
    ) -> StoreResult<()>;
    /// Records that the session left or was removed; the group stays readable.
    async fn mark_left(&self, session: &SessionId, group_jid: &str, now_ms: i64)
    -> StoreResult<()>;
    /// Upserts memberships (role overwritten, tag COALESCEd, first sight kept). With
    /// `replace_all`, members not listed are removed (a full state from the network). The
    /// group's participant count follows the session's member rows.
    async fn put_members(
        &self,
        session: &SessionId,
        group_jid: &str,
        members: &[MemberUpsert],
        replace_all: bool,
        now_ms: i64,
    ) -> StoreResult<()>;
    /// Removes memberships (people who left or were removed).
    async fn remove_members(
        &self,
        session: &SessionId,
        group_jid: &str,
        lids: &[String],
        now_ms: i64,
    ) -> StoreResult<()>;
    /// The groups the session is or was in, by row id.
    async fn list_groups(&self, session: &SessionId) -> StoreResult<Vec<Group>>;
    /// One group, if the session is or was in it.
    async fn get_group(&self, session: &SessionId, group_jid: &str) -> StoreResult<Option<Group>>;
    /// The session's view of the group's members, by row id.
    async fn list_members(
        &self,
        session: &SessionId,
        group_jid: &str,
    ) -> StoreResult<Vec<GroupMember>>;
}
