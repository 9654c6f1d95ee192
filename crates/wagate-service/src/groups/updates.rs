//! Keeps stored groups in step with WhatsApp: every group change the network reports for a
//! session updates the store, then is published as `group.update` or `group.participant`
//! (events.md §3.6). Live operations store what they did through the same code, so reads are
//! current before the network's echo arrives.

use std::sync::Arc;

use wagate_domain::engine::{GroupChange, GroupInfo, GroupUpdate, MemberRole};
use wagate_domain::{
    Clock, Event, EventPayload, EventPublisher, GroupMeta, GroupPayload, GroupStore, Jid,
    MemberUpsert, Session, SessionId, StoreResult,
};

pub struct GroupUpdates {
    store: Arc<dyn GroupStore>,
    events: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
}

fn canonical(jids: &[Jid]) -> Vec<String> {
    jids.iter().map(|j| j.canonical().to_string()).collect()
}

/// The session's own account, in the forms group changes may name it.
fn own_jids(session: &Session) -> Vec<String> {
    [&session.wa_jid, &session.wa_lid]
        .into_iter()
        .flatten()
        .filter_map(|j| Jid::parse(j).ok())
        .map(|j| j.canonical().to_string())
        .collect()
}

impl GroupUpdates {
    pub fn new(
        store: Arc<dyn GroupStore>,
        events: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            events,
            clock,
        }
    }

    pub fn store(&self) -> &Arc<dyn GroupStore> {
        &self.store
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Stores the full state of a group the session is in (joined, created, fetched).
    pub async fn store_info(&self, session: &SessionId, info: &GroupInfo) -> StoreResult<()> {
        let now = self.clock.now_ms();
        let gid = info.jid.canonical().to_string();
        self.store.upsert_group(&GroupMeta::of(info), now).await?;
        self.store
            .put_members(session, &gid, &MemberUpsert::all_of(info), true, now)
            .await?;
        self.store.mark_joined(session, &gid, now).await
    }

    /// Merges metadata the session changed or learned.
    pub async fn store_meta(&self, meta: &GroupMeta) -> StoreResult<()> {
        self.store.upsert_group(meta, self.clock.now_ms()).await
    }

    /// Gives `members` `role` in the session's view.
    pub async fn store_role(
        &self,
        session: &SessionId,
        gid: &str,
        members: &[String],
        role: MemberRole,
    ) -> StoreResult<()> {
        let rows: Vec<MemberUpsert> = members
            .iter()
            .map(|lid| MemberUpsert {
                lid: lid.clone(),
                role,
                tag: None,
            })
            .collect();
        self.store
            .put_members(session, gid, &rows, false, self.clock.now_ms())
            .await
    }

    /// Removes `members` from the session's view; the session itself among them has left.
    pub async fn store_removed(
        &self,
        session: &Session,
        gid: &str,
        members: &[String],
    ) -> StoreResult<()> {
        let now = self.clock.now_ms();
        self.store
            .remove_members(&session.id, gid, members, now)
            .await?;
        let own = own_jids(session);
        if members.iter().any(|m| own.contains(m)) {
            self.store.mark_left(&session.id, gid, now).await?;
        }
        Ok(())
    }

    /// Applies one change reported by the network, then publishes it.
    pub async fn apply(&self, session: &Session, update: &GroupUpdate) -> StoreResult<()> {
        let gid = update.group.canonical().to_string();
        let mut payload = GroupPayload {
            group_jid: gid.clone(),
            sender: update.actor.as_ref().map(|a| a.canonical().to_string()),
            timestamp: Some(update.timestamp),
            ..GroupPayload::default()
        };
        let meta = GroupMeta::jid(gid.clone());
        match &update.change {
            GroupChange::Joined(info) => {
                self.store_info(&session.id, info).await?;
                // events.md §3.6: this account added is groupJid, reason and subject only.
                payload = GroupPayload {
                    group_jid: gid,
                    subject: info.subject.clone(),
                    reason: Some("join".into()),
                    ..GroupPayload::default()
                };
            }
            GroupChange::Subject { subject } => {
                let meta = GroupMeta {
                    subject: Some(subject.clone()),
                    ..meta
                };
                self.store_meta(&meta).await?;
                payload.subject = Some(subject.clone());
            }
            GroupChange::Description { description } => {
                let meta = GroupMeta {
                    description: Some(description.clone().unwrap_or_default()),
                    ..meta
                };
                self.store_meta(&meta).await?;
                payload.description = Some(description.clone().unwrap_or_default());
            }
            GroupChange::Announce { on } => {
                let meta = GroupMeta {
                    is_announce: Some(*on),
                    ..meta
                };
                self.store_meta(&meta).await?;
                payload.is_announce = Some(*on);
            }
            GroupChange::Locked { on } => {
                let meta = GroupMeta {
                    is_locked: Some(*on),
                    ..meta
                };
                self.store_meta(&meta).await?;
                payload.is_locked = Some(*on);
            }
            GroupChange::Added { members } => {
                payload.join = canonical(members);
                self.store_role(&session.id, &gid, &payload.join, MemberRole::Member)
                    .await?;
            }
            GroupChange::Removed { members } => {
                payload.leave = canonical(members);
                self.store_removed(session, &gid, &payload.leave).await?;
            }
            GroupChange::Promoted { members } => {
                payload.promote = canonical(members);
                self.store_role(&session.id, &gid, &payload.promote, MemberRole::Admin)
                    .await?;
            }
            GroupChange::Demoted { members } => {
                payload.demote = canonical(members);
                self.store_role(&session.id, &gid, &payload.demote, MemberRole::Member)
                    .await?;
            }
            GroupChange::Left => {
                self.store
                    .mark_left(&session.id, &gid, self.clock.now_ms())
                    .await?;
                payload.leave = own_jids(session).into_iter().take(1).collect();
                if payload.leave.is_empty() {
                    payload.reason = Some("left".into());
                }
            }
        }
        self.publish(session, EventPayload::Group(payload));
        Ok(())
    }

    pub(crate) fn publish(&self, session: &Session, payload: EventPayload) {
        self.events
            .publish(Event::about(session, self.clock.now_ms(), payload));
    }
}
