//! Channels (WhatsApp newsletters, api.md §9): live create/follow/unfollow/mute through the
//! engine client (D4: they work), each follow or mute change published as
//! `newsletter.update`; the timeline is the stored chat of the channel.

use std::sync::Arc;

use wagate_domain::{
    ChatKind, Clock, EngineError, Event, EventPayload, EventPublisher, Jid, NewsletterAction,
    NewsletterPayload, Session, StoredMessage,
};

use crate::session_manager::engine_error;
use crate::{MessagingService, Page, PageRequest, ServiceError, ServiceResult, SessionManager};

pub struct ChannelService {
    manager: SessionManager,
    messaging: Arc<MessagingService>,
    events: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
}

/// A channel JID from a path, or `400 invalid jid: …`.
fn channel_jid(text: &str) -> ServiceResult<Jid> {
    match Jid::parse(text.trim()) {
        Ok(jid) if jid.kind() == ChatKind::Newsletter => Ok(jid),
        _ => Err(ServiceError::validation(format!("invalid jid: {text}"))),
    }
}

fn channel_error(err: EngineError) -> ServiceError {
    match err {
        EngineError::NotFound(_) => ServiceError::NotFound("channel not found".into()),
        other => engine_error(other),
    }
}

impl ChannelService {
    pub fn new(
        manager: SessionManager,
        messaging: Arc<MessagingService>,
        events: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            manager,
            messaging,
            events,
            clock,
        }
    }

    /// Creates a channel owned by the session's account; answers its JID (api.md §9.1).
    pub async fn create(
        &self,
        s: &Session,
        name: Option<&str>,
        description: Option<&str>,
    ) -> ServiceResult<Jid> {
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        let name = name.ok_or_else(|| ServiceError::validation("name is required"))?;
        let client = self.manager.require_live(s)?;
        let info = client
            .create_channel(name, description)
            .await
            .map_err(engine_error)?;
        Ok(info.jid)
    }

    /// The channel's stored timeline, newest first; a channel never seen has none.
    pub async fn messages(
        &self,
        s: &Session,
        jid: &str,
        page: PageRequest,
    ) -> ServiceResult<Page<StoredMessage>> {
        let jid = channel_jid(jid)?;
        match self
            .messaging
            .list_chat_messages(s, jid.as_str(), page)
            .await
        {
            Err(ServiceError::NotFound(_)) => Ok(Page {
                data: Vec::new(),
                next_cursor: None,
            }),
            other => other,
        }
    }

    pub async fn follow(&self, s: &Session, jid: &str, follow: bool) -> ServiceResult<()> {
        let jid = channel_jid(jid)?;
        let client = self.manager.require_live(s)?;
        client
            .follow_channel(&jid, follow)
            .await
            .map_err(channel_error)?;
        let action = if follow {
            NewsletterAction::Join
        } else {
            NewsletterAction::Leave
        };
        self.publish(s, jid, action);
        Ok(())
    }

    pub async fn mute(&self, s: &Session, jid: &str, mute: bool) -> ServiceResult<()> {
        let jid = channel_jid(jid)?;
        let client = self.manager.require_live(s)?;
        client
            .mute_channel(&jid, mute)
            .await
            .map_err(channel_error)?;
        self.publish(s, jid, NewsletterAction::Mute);
        Ok(())
    }

    fn publish(&self, s: &Session, jid: Jid, action: NewsletterAction) {
        let payload = EventPayload::Newsletter(NewsletterPayload {
            jid: jid.to_string(),
            action,
        });
        self.events
            .publish(Event::about(s, self.clock.now_ms(), payload));
    }
}
