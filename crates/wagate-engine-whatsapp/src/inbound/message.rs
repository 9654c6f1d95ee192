//! Inbound messages (live and from history sync) as the port's [`InboundMessage`]: the body
//! of every kind wagate models, quote, mentions, forward flag, and media locators.

use wagate_domain::Jid;
use wagate_domain::engine::{InboundContent, InboundMessage, MediaKind, MediaRef, PollSpec};
use whatsapp_rust::types::message::MessageInfo;
use whatsapp_rust::wacore::proto_helpers::MessageExt;
use whatsapp_rust::waproto::whatsapp as wa;

use wa::message::protocol_message::Type as ProtocolType;

use crate::jids::{from_text, from_wa};
use crate::locator::MediaLocator;

/// The body and its context, independent of how the message arrived.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Body {
    pub content: InboundContent,
    pub quoted_id: Option<String>,
    pub mentions: Vec<Jid>,
    pub forwarded: bool,
}

/// A live message. `None` for protocol traffic that is not a message to report (key shares,
/// history-sync notices…) and for senders the port cannot address.
pub(crate) fn live_message(info: &MessageInfo, message: &wa::Message) -> Option<InboundMessage> {
    let body = body(message)?;
    let source = &info.source;
    Some(InboundMessage {
        id: info.id.clone(),
        chat: from_wa(&source.chat)?,
        sender: from_wa(&source.sender)?,
        sender_alt: source.sender_alt.as_ref().and_then(from_wa),
        push_name: Some(info.push_name.clone()).filter(|n| !n.is_empty()),
        from_me: source.is_from_me,
        timestamp: info.timestamp.timestamp_millis(),
        content: body.content,
        quoted_id: body.quoted_id,
        mentions: body.mentions,
        forwarded: body.forwarded,
    })
}

/// A message of history sync in chat `chat`; `own` is this account (the author of `fromMe`
/// messages).
pub(crate) fn history_message(
    chat: &Jid,
    own: Option<&Jid>,
    info: &wa::WebMessageInfo,
) -> Option<InboundMessage> {
    let key = info.key.as_option()?;
    let id = key.id.clone().filter(|id| !id.is_empty())?;
    let from_me = key.from_me.unwrap_or(false);
    let sender = if from_me {
        own.cloned()?
    } else {
        key.participant
            .as_deref()
            .or(info.participant.as_deref())
            .and_then(from_text)
            .unwrap_or_else(|| chat.clone())
    };
    let body = body(info.message.as_option()?)?;
    let seconds = info.message_timestamp.unwrap_or(0);
    Some(InboundMessage {
        id,
        chat: chat.clone(),
        sender,
        sender_alt: None,
        push_name: info.push_name.clone().filter(|n| !n.is_empty()),
        from_me,
        timestamp: i64::try_from(seconds).unwrap_or(0).saturating_mul(1000),
        content: body.content,
        quoted_id: body.quoted_id,
        mentions: body.mentions,
        forwarded: body.forwarded,
    })
}

/// The body of a message, unwrapped from ephemeral, view-once, device-sent and album-item
/// envelopes.
pub(crate) fn body(message: &wa::Message) -> Option<Body> {
    let message = unwrap(message);
    let content = content(message)?;
    let context = context(message);
    Some(Body {
        content,
        quoted_id: context
            .and_then(|c| c.stanza_id.clone())
            .filter(|id| !id.is_empty()),
        mentions: context
            .map(|c| {
                c.mentioned_jid
                    .iter()
                    .filter_map(|j| from_text(j))
                    .collect()
            })
            .unwrap_or_default(),
        forwarded: context.and_then(|c| c.is_forwarded).unwrap_or(false),
    })
}

fn unwrap(message: &wa::Message) -> &wa::Message {
    let base = message.get_base_message();
    match base
        .associated_child_message
        .as_option()
        .and_then(|child| child.message.as_option())
    {
        Some(inner) => inner.get_base_message(),
        None => base,
    }
}

fn content(m: &wa::Message) -> Option<InboundContent> {
    if let Some(protocol) = m.protocol_message.as_option() {
        return protocol_content(protocol);
    }
    if let Some(reaction) = m.reaction_message.as_option() {
        return Some(InboundContent::Reaction {
            target_id: key_id(&reaction.key)?,
            emoji: reaction.text.clone().unwrap_or_default(),
        });
    }
    if let Some(update) = m.poll_update_message.as_option() {
        // The selection is encrypted; the translator decrypts it when it can.
        return Some(InboundContent::PollVote {
            poll_id: key_id(&update.poll_creation_message_key)?,
            selected: Vec::new(),
        });
    }
    if let Some(poll) = poll_creation(m) {
        return Some(InboundContent::Poll(poll_spec(poll)));
    }
    if let Some(text) = m.text_content() {
        return Some(InboundContent::Text {
            text: text.to_owned(),
        });
    }
    if let Some(media) = media(m) {
        return Some(InboundContent::Media {
            caption: m.get_caption().map(str::to_owned).filter(|c| !c.is_empty()),
            media,
        });
    }
    if let Some(location) = m.location_message.as_option() {
        return Some(InboundContent::Location {
            latitude: location.degrees_latitude.unwrap_or(0.0),
            longitude: location.degrees_longitude.unwrap_or(0.0),
            name: location.name.clone(),
        });
    }
    if let Some(contact) = m.contact_message.as_option() {
        return Some(InboundContent::Contact {
            display_name: contact.display_name.clone().unwrap_or_default(),
            vcard: contact.vcard.clone().unwrap_or_default(),
        });
    }
    let kind = if m.album_message.is_set() {
        "album"
    } else if m.live_location_message.is_set() {
        "live_location"
    } else if m.contacts_array_message.is_set() {
        "contacts"
    } else if m.sender_key_distribution_message.is_set() || m.message_context_info.is_set() {
        // Key distribution or metadata with no body: nothing to report.
        return None;
    } else {
        "unknown"
    };
    Some(InboundContent::Other { kind: kind.into() })
}

fn protocol_content(protocol: &wa::message::ProtocolMessage) -> Option<InboundContent> {
    let target_id = key_id(&protocol.key);
    match protocol.r#type {
        Some(ProtocolType::REVOKE) => Some(InboundContent::Revoke {
            target_id: target_id?,
        }),
        Some(ProtocolType::MESSAGE_EDIT) => {
            let edited = protocol.edited_message.as_option()?;
            let text = edited
                .text_content()
                .or_else(|| edited.get_caption())
                .unwrap_or_default();
            Some(InboundContent::Edit {
                target_id: target_id?,
                text: text.to_owned(),
            })
        }
        // Key shares, history-sync notices, app-state and similar device traffic.
        _ => None,
    }
}

fn key_id(key: &whatsapp_rust::buffa::MessageField<wa::MessageKey>) -> Option<String> {
    key.as_option()
        .and_then(|k| k.id.clone())
        .filter(|id| !id.is_empty())
}

fn poll_creation(m: &wa::Message) -> Option<&wa::message::PollCreationMessage> {
    m.poll_creation_message
        .as_option()
        .or(m.poll_creation_message_v2.as_option())
        .or(m.poll_creation_message_v3.as_option())
}

pub(crate) fn poll_spec(poll: &wa::message::PollCreationMessage) -> PollSpec {
    PollSpec {
        name: poll.name.clone().unwrap_or_default(),
        options: poll
            .options
            .iter()
            .filter_map(|o| o.option_name.clone())
            .collect(),
        selectable_count: poll.selectable_options_count.unwrap_or(0),
        end_time: poll.end_time,
        hide_votes: poll.hide_participant_name.unwrap_or(false),
    }
}

/// The poll a message creates, if any (its options resolve later votes).
pub(crate) fn created_poll(message: &wa::Message) -> Option<PollSpec> {
    poll_creation(unwrap(message)).map(poll_spec)
}

/// The secret a poll message carries (voters encrypt with it).
pub(crate) fn message_secret(message: &wa::Message) -> Option<Vec<u8>> {
    message
        .message_context_info
        .as_option()
        .and_then(|c| c.message_secret.clone())
        .filter(|s| !s.is_empty())
}

/// The CDN fields every media message has, under the same names.
macro_rules! fields {
    ($media:expr) => {
        MediaFields {
            direct_path: &$media.direct_path,
            media_key: &$media.media_key,
            file_sha256: &$media.file_sha256,
            file_enc_sha256: &$media.file_enc_sha256,
            file_length: $media.file_length,
        }
    };
}

fn media(m: &wa::Message) -> Option<MediaRef> {
    if let Some(image) = m.image_message.as_option() {
        return media_ref(MediaKind::Image, &image.mimetype, None, fields!(image));
    }
    if let Some(video) = m.video_message.as_option() {
        return media_ref(MediaKind::Video, &video.mimetype, None, fields!(video));
    }
    if let Some(audio) = m.audio_message.as_option() {
        let kind = if audio.ptt == Some(true) {
            MediaKind::VoiceNote
        } else {
            MediaKind::Audio
        };
        return media_ref(kind, &audio.mimetype, None, fields!(audio));
    }
    if let Some(document) = m.document_message.as_option() {
        return media_ref(
            MediaKind::Document,
            &document.mimetype,
            document.file_name.clone(),
            fields!(document),
        );
    }
    if let Some(sticker) = m.sticker_message.as_option() {
        return media_ref(
            MediaKind::Sticker,
            &sticker.mimetype,
            None,
            fields!(sticker),
        );
    }
    None
}

/// The CDN fields of one media message.
struct MediaFields<'a> {
    direct_path: &'a Option<String>,
    media_key: &'a Option<Vec<u8>>,
    file_sha256: &'a Option<Vec<u8>>,
    file_enc_sha256: &'a Option<Vec<u8>>,
    file_length: Option<u64>,
}

fn media_ref(
    kind: MediaKind,
    mimetype: &Option<String>,
    filename: Option<String>,
    fields: MediaFields<'_>,
) -> Option<MediaRef> {
    // Without a path and key the media cannot be fetched; report it all the same, with an
    // empty locator a download refuses.
    let locator = MediaLocator::new(
        kind,
        fields.direct_path.as_deref(),
        fields.media_key.as_deref(),
        fields.file_sha256.as_deref(),
        fields.file_enc_sha256.as_deref(),
        fields.file_length,
    )
    .map(|l| l.encode())
    .unwrap_or_default();
    Some(MediaRef {
        kind,
        mimetype: mimetype.clone(),
        size: fields.file_length,
        filename,
        locator,
    })
}

fn context(m: &wa::Message) -> Option<&wa::ContextInfo> {
    [
        m.extended_text_message
            .as_option()
            .and_then(|x| x.context_info.as_option()),
        m.image_message
            .as_option()
            .and_then(|x| x.context_info.as_option()),
        m.video_message
            .as_option()
            .and_then(|x| x.context_info.as_option()),
        m.audio_message
            .as_option()
            .and_then(|x| x.context_info.as_option()),
        m.document_message
            .as_option()
            .and_then(|x| x.context_info.as_option()),
        m.sticker_message
            .as_option()
            .and_then(|x| x.context_info.as_option()),
        m.location_message
            .as_option()
            .and_then(|x| x.context_info.as_option()),
        m.contact_message
            .as_option()
            .and_then(|x| x.context_info.as_option()),
        poll_creation(m).and_then(|x| x.context_info.as_option()),
    ]
    .into_iter()
    .flatten()
    .next()
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
