//! The storage port for groups and memberships. Both store backends implement it next to
//! [`crate::Store`]; the conformance tests hold them to the same semantics.
//!
//! Every write carries `at`, when the change happened on WhatsApp (epoch-ms). The store keeps
//! it per group field and per member and skips a change older than the one it holds for the
//! same field or member: WhatsApp's echo of an earlier change, arriving after a later change
//! was stored, must not bring the older state back.
//!
//! Member JIDs may come in phone form: the store keeps them as the LID of the single identity
//! with that phone JID when there is one (domain.md §7.1), in the same transaction as the
//! write, so one person is one member row whichever form the network used.

use async_trait::async_trait;

use crate::{Group, GroupMember, GroupMeta, MemberUpsert, SessionId, StoreResult};

#[async_trait]
pub trait GroupStore: Send + Sync + 'static {
    /// Creates the group row or COALESCEs `meta` into it; a field (subject, description,
    /// announce, locked) changed later than `at` keeps its stored value.
    async fn upsert_group(&self, meta: &GroupMeta, at: i64, now_ms: i64) -> StoreResult<()>;
    /// Records that the session is in the group (again): its groups list shows it, not left.
    /// Skipped when the session's record changed later than `at`.
    async fn mark_joined(
        &self,
        session: &SessionId,
        group_jid: &str,
        at: i64,
        now_ms: i64,
    ) -> StoreResult<()>;
    /// Records that the session left or was removed; the group stays readable. Skipped when
    /// the session's record changed later than `at`.
    async fn mark_left(
        &self,
        session: &SessionId,
        group_jid: &str,
        at: i64,
        now_ms: i64,
    ) -> StoreResult<()>;
    /// Upserts memberships (role overwritten, tag COALESCEd, first sight kept), by LID. With
    /// `replace_all`, members not listed are removed (a full state from the network). Members
    /// changed later than `at` are left as they are. The group's participant count follows
    /// the session's member rows.
    async fn put_members(
        &self,
        session: &SessionId,
        group_jid: &str,
        members: &[MemberUpsert],
        replace_all: bool,
        at: i64,
        now_ms: i64,
    ) -> StoreResult<()>;
    /// Removes memberships (people who left or were removed), remembering when: a member
    /// changed later than `at` stays.
    async fn remove_members(
        &self,
        session: &SessionId,
        group_jid: &str,
        lids: &[String],
        at: i64,
        now_ms: i64,
    ) -> StoreResult<()>;
    /// Records that `lid` wrote in the group at `at` (group traffic): a new member, or a
    /// removed one back unless removed after `at`; a known member keeps its role.
    async fn observe_member(
        &self,
        session: &SessionId,
        group_jid: &str,
        lid: &str,
        at: i64,
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
