//! Presence (api.md §6.4, §6.5, §10.2): the account's availability, typing indicators in a
//! chat, and subscribing to a contact's presence. All live; none is budgeted (api.md §1.11
//! budgets sends and message operations only).

use wagate_domain::engine::{ChatPresence, OwnPresence, PresenceState};
use wagate_domain::{Jid, PresencePayload, Session};

use super::service::parse_jid;
use crate::session_manager::engine_error;
use crate::{MessagingService, ServiceError, ServiceResult};

/// A chat JID from the path: required, then well formed.
fn chat_jid(cid: &str) -> ServiceResult<Jid> {
    if cid.trim().is_empty() {
        return Err(ServiceError::validation("chat jid is required"));
    }
    parse_jid(cid)
}

impl MessagingService {
    /// Subscribes the session to `cid`'s presence and answers a snapshot (api.md §6.4): the
    /// state is `unknown` here; the real one arrives as a `presence.update` event.
    pub async fn chat_presence(&self, s: &Session, cid: &str) -> ServiceResult<PresencePayload> {
        let jid = chat_jid(cid)?;
        let client = self.live(s).await?;
        client
            .subscribe_presence(&jid.canonical())
            .await
            .map_err(engine_error)?;
        Ok(PresencePayload {
            chat_jid: Some(cid.to_owned()),
            from: jid.canonical().to_string(),
            state: PresenceState::Unknown,
            media: None,
            unavailable: None,
            last_seen: None,
        })
    }

    /// Shows a typing (or recording, or paused) indicator in `cid` (api.md §6.5).
    pub async fn set_chat_presence(
        &self,
        s: &Session,
        cid: &str,
        state: ChatPresence,
    ) -> ServiceResult<()> {
        let jid = chat_jid(cid)?;
        let client = self.live(s).await?;
        client
            .set_chat_presence(&jid, state)
            .await
            .map_err(engine_error)
    }

    /// The account's availability, online or offline (api.md §10.2).
    pub async fn set_presence(&self, s: &Session, presence: OwnPresence) -> ServiceResult<()> {
        let client = self.live(s).await?;
        client.set_presence(presence).await.map_err(engine_error)
    }
}
