//! Channels (newsletters): create, read messages, follow, mute.

use wagate_domain::Jid;
use wagate_domain::engine::{ChannelInfo, ChannelMessage, EngineError};
use whatsapp_rust::Client;
use whatsapp_rust::features::{NewsletterMessage, NewsletterMetadata};
use whatsapp_rust::wacore::proto_helpers::MessageExt;

use crate::errors::engine_error;
use crate::jids::{from_wa, to_wa};

pub(super) async fn create(
    client: &Client,
    name: &str,
    description: Option<&str>,
) -> Result<ChannelInfo, EngineError> {
    let created = client
        .newsletter()
        .create(name, description)
        .await
        .map_err(|e| engine_error(&e))?;
    channel_info(&created)
}

pub(super) async fn messages(
    client: &Client,
    channel: &Jid,
    count: u32,
    before: Option<u64>,
) -> Result<Vec<ChannelMessage>, EngineError> {
    let mut messages = client
        .newsletter()
        .get_messages(to_wa(channel)?, count, before)
        .await
        .map_err(|e| engine_error(&e))?;
    messages.sort_by_key(|m| std::cmp::Reverse(m.server_id));
    Ok(messages.iter().map(channel_message).collect())
}

pub(super) async fn follow(
    client: &Client,
    channel: &Jid,
    follow: bool,
) -> Result<(), EngineError> {
    let jid = to_wa(channel)?;
    let newsletter = client.newsletter();
    if follow {
        newsletter.join(&jid).await.map(|_| ())
    } else {
        newsletter.leave(&jid).await
    }
    .map_err(|e| engine_error(&e))
}

pub(super) async fn mute(client: &Client, channel: &Jid, mute: bool) -> Result<(), EngineError> {
    client
        .newsletter()
        .set_follower_mute(&to_wa(channel)?, mute)
        .await
        .map_err(|e| engine_error(&e))
}

pub(crate) fn channel_info(metadata: &NewsletterMetadata) -> Result<ChannelInfo, EngineError> {
    Ok(ChannelInfo {
        jid: from_wa(&metadata.jid).ok_or_else(|| {
            EngineError::Other(format!("unreadable channel JID {}", metadata.jid))
        })?,
        name: metadata.name.clone(),
        description: metadata.description.clone().filter(|d| !d.is_empty()),
        invite: metadata.invite_code.clone(),
        subscribers: Some(metadata.subscriber_count),
    })
}

pub(crate) fn channel_message(message: &NewsletterMessage) -> ChannelMessage {
    let body = message.message.as_ref().map(|m| m.get_base_message());
    ChannelMessage {
        server_id: message.server_id,
        id: Some(message.message_id.clone()).filter(|id| !id.is_empty()),
        timestamp: i64::try_from(message.timestamp)
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000),
        message_type: message.message_type.to_string(),
        text: body
            .and_then(|m| m.text_content().or_else(|| m.get_caption()))
            .map(str::to_owned),
        views: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use whatsapp_rust::features::{NewsletterMessageType, NewsletterState, NewsletterVerification};
    use whatsapp_rust::waproto::whatsapp as wa;

    #[test]
    fn metadata_becomes_channel_info() {
        let metadata = NewsletterMetadata {
            jid: "120363012345678901@newsletter".parse().unwrap(),
            name: "News".into(),
            description: Some("Daily".into()),
            subscriber_count: 42,
            verification: NewsletterVerification::Unverified,
            state: NewsletterState::Active,
            picture_url: None,
            preview_url: None,
            invite_code: Some("0029Va".into()),
            role: None,
            creation_time: None,
        };
        let info = channel_info(&metadata).unwrap();
        assert_eq!(info.jid.as_str(), "120363012345678901@newsletter");
        assert_eq!(info.name, "News");
        assert_eq!(info.description.as_deref(), Some("Daily"));
        assert_eq!(info.invite.as_deref(), Some("0029Va"));
        assert_eq!(info.subscribers, Some(42));
    }

    #[test]
    fn channel_messages_keep_server_id_type_and_text() {
        let message = NewsletterMessage {
            message_id: "ABC".into(),
            server_id: 117,
            timestamp: 1_700_000_000,
            message_type: NewsletterMessageType::Text,
            is_sender: false,
            message: Some(wa::Message {
                conversation: Some("hello followers".into()),
                ..Default::default()
            }),
            reactions: Vec::new(),
        };
        let mapped = channel_message(&message);
        assert_eq!(mapped.server_id, 117);
        assert_eq!(mapped.id.as_deref(), Some("ABC"));
        assert_eq!(mapped.timestamp, 1_700_000_000_000);
        assert_eq!(mapped.message_type, "text");
        assert_eq!(mapped.text.as_deref(), Some("hello followers"));
    }
}
