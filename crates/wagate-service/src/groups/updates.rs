//! Keeps stored groups in step with WhatsApp: every group change the network reports for a
//! session updates the store, then is published as `group.update` or `group.participant`
//! (events.md §3.6). Live operations store what they did through the same code, so reads are
//! current before the network's echo arrives.
//!
//! Every write carries when the change happened: the network's timestamp for its updates, the
//! moment the request left for our own live changes (so the echo of a change is never older
//! than the change itself, while the echo of an earlier change is). The store skips what is
//! older than the state it holds, and names members by LID where the identities know it
//! (domain.md §7.1), so one person is one member row. WhatsApp's timestamps are whole seconds
//! and the node's clock is compared with WhatsApp's: a change someone else makes within that
//! second after one of ours can be taken for an older echo and skipped until the group's next
//! full state.

use std::sync::Arc;

use wagate_domain::engine::{GroupChange, GroupInfo, GroupUpdate, MemberRole};
use wagate_domain::{
    Clock, EngineClient, Event, EventPayload, EventPublisher, GroupMeta, GroupPayload, GroupStore,
    Jid, MemberUpsert, Session, SessionId, StoreResult,
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

    /// Stores the full state of a group the session is in (joined, created, fetched) as of
    /// `at`.
    pub async fn store_info(
        &self,
        session: &SessionId,
        info: &GroupInfo,
        at: i64,
    ) -> StoreResult<()> {
        let now = self.clock.now_ms();
        let gid = info.jid.canonical().to_string();
        self.store
            .upsert_group(&GroupMeta::of(info), at, now)
            .await?;
        self.store
            .put_members(session, &gid, &MemberUpsert::all_of(info), true, at, now)
            .await?;
        self.store.mark_joined(session, &gid, at, now).await
    }

    /// Merges metadata the session changed or learned at `at`.
    pub async fn store_meta(&self, meta: &GroupMeta, at: i64) -> StoreResult<()> {
        self.store.upsert_group(meta, at, self.clock.now_ms()).await
    }

    /// Gives `members` `role` in the session's view as of `at`.
    pub async fn store_role(
        &self,
        session: &SessionId,
        gid: &str,
        members: &[String],
        role: MemberRole,
        at: i64,
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
            .put_members(session, gid, &rows, false, at, self.clock.now_ms())
            .await
    }

    /// Removes `members` from the session's view as of `at`; the session itself among them
    /// has left.
    pub async fn store_removed(
        &self,
        session: &Session,
        gid: &str,
        members: &[String],
        at: i64,
    ) -> StoreResult<()> {
        let now = self.clock.now_ms();
        let own = own_jids(session);
        self.store
            .remove_members(&session.id, gid, members, at, now)
            .await?;
        if members.iter().any(|m| own.contains(m)) {
            self.store.mark_left(&session.id, gid, at, now).await?;
        }
        Ok(())
    }

    /// A message in a group (domain.md §8): its sender (`None` for this account) is a member
    /// as of the message's time `at`, and a group the session has no record of is stored —
    /// its state from the network when `client` can fetch it, else its JID only.
    pub async fn on_message(
        &self,
        session: &Session,
        client: &Arc<dyn EngineClient>,
        group: &Jid,
        sender: Option<String>,
        at: i64,
    ) -> StoreResult<()> {
        let gid = group.canonical().to_string();
        if self.store.get_group(&session.id, &gid).await?.is_none() {
            let fetched_at = self.clock.now_ms();
            match client.group_info(group).await {
                Ok(info) => self.store_info(&session.id, &info, fetched_at).await?,
                Err(err) => {
                    tracing::debug!(session = %session.id, %gid, %err, "group of a message not described");
                    // Known by its JID only: any later change of the record wins.
                    self.store
                        .mark_joined(&session.id, &gid, 0, fetched_at)
                        .await?;
                }
            }
        }
        let Some(sender) = sender else { return Ok(()) };
        self.store
            .observe_member(&session.id, &gid, &sender, at, self.clock.now_ms())
            .await
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
        let at = update.timestamp;
        match &update.change {
            GroupChange::Joined(info) => {
                self.store_info(&session.id, info, at).await?;
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
                self.store_meta(&meta, at).await?;
                payload.subject = Some(subject.clone());
            }
            GroupChange::Description { description } => {
                let meta = GroupMeta {
                    description: Some(description.clone().unwrap_or_default()),
                    ..meta
                };
                self.store_meta(&meta, at).await?;
                payload.description = Some(description.clone().unwrap_or_default());
            }
            GroupChange::Announce { on } => {
                let meta = GroupMeta {
                    is_announce: Some(*on),
                    ..meta
                };
                self.store_meta(&meta, at).await?;
                payload.is_announce = Some(*on);
            }
            GroupChange::Locked { on } => {
                let meta = GroupMeta {
                    is_locked: Some(*on),
                    ..meta
                };
                self.store_meta(&meta, at).await?;
                payload.is_locked = Some(*on);
            }
            GroupChange::Added { members } => {
                payload.join = canonical(members);
                self.store_role(&session.id, &gid, &payload.join, MemberRole::Member, at)
                    .await?;
            }
            GroupChange::Removed { members } => {
                payload.leave = canonical(members);
                self.store_removed(session, &gid, &payload.leave, at)
                    .await?;
            }
            GroupChange::Promoted { members } => {
                payload.promote = canonical(members);
                self.store_role(&session.id, &gid, &payload.promote, MemberRole::Admin, at)
                    .await?;
            }
            GroupChange::Demoted { members } => {
                payload.demote = canonical(members);
                self.store_role(&session.id, &gid, &payload.demote, MemberRole::Member, at)
                    .await?;
            }
            GroupChange::Left => {
                self.store
                    .mark_left(&session.id, &gid, at, self.clock.now_ms())
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
