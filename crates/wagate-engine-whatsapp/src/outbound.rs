//! Pure translations from what wagate sends to WhatsApp's protobuf messages: the bodies the
//! crate leaves to callers (text with quote/mentions/link preview, location, contact card,
//! poll, media from an upload, album container and items, status text) and message keys.

use wagate_domain::engine::{LinkPreview, MediaKind, MessageKey, OutgoingMedia, PollSpec, Quote};
use whatsapp_rust::buffa::MessageField;
use whatsapp_rust::upload::UploadResponse;
use whatsapp_rust::wacore::proto_helpers::{MessageExt, wrap_as_album_child};
use whatsapp_rust::waproto::whatsapp as wa;

use wa::message::extended_text_message::FontType;
use wa::message::protocol_message::Type as ProtocolType;

/// What an upload gave, in a form this crate can build (the crate's own type is sealed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Uploaded {
    pub url: String,
    pub direct_path: String,
    pub media_key: Vec<u8>,
    pub file_sha256: Vec<u8>,
    pub file_enc_sha256: Vec<u8>,
    pub file_length: u64,
    pub media_key_timestamp: i64,
    pub streaming_sidecar: Option<Vec<u8>>,
}

impl From<UploadResponse> for Uploaded {
    fn from(upload: UploadResponse) -> Self {
        Self {
            url: upload.url,
            direct_path: upload.direct_path,
            media_key: upload.media_key.to_vec(),
            file_sha256: upload.file_sha256.to_vec(),
            file_enc_sha256: upload.file_enc_sha256.to_vec(),
            file_length: upload.file_length,
            media_key_timestamp: upload.media_key_timestamp,
            streaming_sidecar: upload.streaming_sidecar,
        }
    }
}

/// The context of a reply, mention or forward; `None` when the message has none.
pub(crate) fn context_info(
    reply_to: Option<&Quote>,
    mentions: &[wagate_domain::Jid],
    forwarded: bool,
) -> Option<wa::ContextInfo> {
    if reply_to.is_none() && mentions.is_empty() && !forwarded {
        return None;
    }
    let mut context = wa::ContextInfo {
        mentioned_jid: mentions.iter().map(|j| j.to_string()).collect(),
        ..Default::default()
    };
    if let Some(quote) = reply_to {
        context.stanza_id = Some(quote.id.clone());
        context.participant = quote.participant.as_ref().map(|p| p.to_string());
        // Without the quoted text WhatsApp still links the reply by id.
        if let Some(text) = &quote.text {
            context.quoted_message = MessageField::some(conversation(text));
        }
    }
    if forwarded {
        context.is_forwarded = Some(true);
        context.forwarding_score = Some(1);
    }
    Some(context)
}

/// Attaches `context` to whatever body `message` carries. A bare `conversation` cannot hold
/// one, so it becomes an extended text first (as WhatsApp Web does).
pub(crate) fn with_context(
    mut message: wa::Message,
    context: Option<wa::ContextInfo>,
) -> wa::Message {
    let Some(context) = context else {
        return message;
    };
    if let Some(text) = message.conversation.take() {
        message.extended_text_message = MessageField::some(wa::message::ExtendedTextMessage {
            text: Some(text),
            ..Default::default()
        });
    }
    message.set_context_info(context);
    message
}

pub(crate) fn conversation(text: &str) -> wa::Message {
    wa::Message {
        conversation: Some(text.to_owned()),
        ..Default::default()
    }
}

/// A text message; with a link preview it is an extended text naming the link.
pub(crate) fn text(text: &str, preview: Option<&LinkPreview>) -> wa::Message {
    let Some(preview) = preview else {
        return conversation(text);
    };
    wa::Message {
        extended_text_message: MessageField::some(wa::message::ExtendedTextMessage {
            text: Some(text.to_owned()),
            matched_text: Some(preview.url.clone()),
            title: preview.title.clone(),
            description: preview.description.clone(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(crate) fn location(latitude: f64, longitude: f64, name: Option<&str>) -> wa::Message {
    wa::Message {
        location_message: MessageField::some(wa::message::LocationMessage {
            degrees_latitude: Some(latitude),
            degrees_longitude: Some(longitude),
            name: name.map(str::to_owned),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(crate) fn contact(display_name: &str, vcard: &str) -> wa::Message {
    wa::Message {
        contact_message: MessageField::some(wa::message::ContactMessage {
            display_name: Some(display_name.to_owned()),
            vcard: Some(vcard.to_owned()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A poll carrying `secret` (voters derive their vote key from it). Single-choice polls use
/// the v3 field and multi-choice the v1 field, as WhatsApp Web does.
pub(crate) fn poll(spec: &PollSpec, secret: Vec<u8>) -> wa::Message {
    let creation = wa::message::PollCreationMessage {
        name: Some(spec.name.clone()),
        options: spec
            .options
            .iter()
            .map(|name| wa::message::poll_creation_message::Option {
                option_name: Some(name.clone()),
                ..Default::default()
            })
            .collect(),
        selectable_options_count: Some(spec.selectable_count),
        end_time: spec.end_time,
        hide_participant_name: spec.hide_votes.then_some(true),
        ..Default::default()
    };
    let mut message = wa::Message {
        message_context_info: MessageField::some(wa::MessageContextInfo {
            message_secret: Some(secret),
            ..Default::default()
        }),
        ..Default::default()
    };
    if spec.selectable_count == 1 {
        message.poll_creation_message_v3 = MessageField::some(creation);
    } else {
        message.poll_creation_message = MessageField::some(creation);
    }
    message
}

/// A media body of type `$kind` carrying the upload's CDN fields (the same names in every
/// media message) plus the given kind-specific fields.
macro_rules! uploaded {
    ($kind:ident, $upload:expr, { $($field:ident: $value:expr),* $(,)? }) => {{
        let upload: Uploaded = $upload;
        MessageField::some($kind {
            url: Some(upload.url),
            direct_path: Some(upload.direct_path),
            media_key: Some(upload.media_key),
            file_sha256: Some(upload.file_sha256),
            file_enc_sha256: Some(upload.file_enc_sha256),
            file_length: Some(upload.file_length),
            media_key_timestamp: Some(upload.media_key_timestamp),
            $($field: $value,)*
            ..Default::default()
        })
    }};
}

/// A media message for an uploaded attachment of `media`.
pub(crate) fn media(media: &OutgoingMedia, mut upload: Uploaded) -> wa::Message {
    use wa::message::{AudioMessage, DocumentMessage, ImageMessage, StickerMessage, VideoMessage};
    let mimetype = Some(media.mimetype.clone());
    let caption = media.caption.clone();
    let sidecar = upload.streaming_sidecar.take();
    let mut message = wa::Message::default();
    match media.kind {
        MediaKind::Image => {
            message.image_message = uploaded!(ImageMessage, upload, {
                mimetype: mimetype,
                caption: caption,
            });
        }
        MediaKind::Video => {
            message.video_message = uploaded!(VideoMessage, upload, {
                streaming_sidecar: sidecar,
                mimetype: mimetype,
                caption: caption,
            });
        }
        MediaKind::Audio | MediaKind::VoiceNote => {
            message.audio_message = uploaded!(AudioMessage, upload, {
                streaming_sidecar: sidecar,
                mimetype: mimetype,
                ptt: Some(media.kind == MediaKind::VoiceNote),
            });
        }
        MediaKind::Document => {
            message.document_message = uploaded!(DocumentMessage, upload, {
                mimetype: mimetype,
                caption: caption,
                title: media.filename.clone(),
                file_name: media.filename.clone(),
            });
        }
        MediaKind::Sticker => {
            message.sticker_message = uploaded!(StickerMessage, upload, {
                mimetype: mimetype,
            });
        }
    }
    message
}

/// The album container announcing how many images and videos follow.
pub(crate) fn album(items: &[OutgoingMedia]) -> wa::Message {
    let count = |kind| {
        let n = items.iter().filter(|item| item.kind == kind).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    };
    wa::Message {
        album_message: MessageField::some(wa::message::AlbumMessage {
            expected_image_count: Some(count(MediaKind::Image)),
            expected_video_count: Some(count(MediaKind::Video)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// One album item, tied to its container `album_id` in `chat`.
pub(crate) fn album_item(item: wa::Message, chat: &str, album_id: &str) -> wa::Message {
    wrap_as_album_child(item, own_key(chat, album_id))
}

/// The key of a message this account sent.
pub(crate) fn own_key(chat: &str, id: &str) -> wa::MessageKey {
    wa::MessageKey {
        remote_jid: Some(chat.to_owned()),
        from_me: Some(true),
        id: Some(id.to_owned()),
        participant: None,
    }
}

/// The key addressing `target`. The author is only named where WhatsApp needs it (groups
/// and status, whose chat is not the author).
pub(crate) fn message_key(target: &MessageKey) -> wa::MessageKey {
    use wagate_domain::ChatKind;
    let shared = matches!(target.chat.kind(), ChatKind::Group | ChatKind::Status);
    wa::MessageKey {
        remote_jid: Some(target.chat.to_string()),
        from_me: Some(target.sender.is_none()),
        id: Some(target.id.clone()),
        participant: target
            .sender
            .as_ref()
            .filter(|_| shared)
            .map(|s| s.canonical().to_string()),
    }
}

/// "Delete for everyone" of this account's own message.
pub(crate) fn revoke(key: wa::MessageKey) -> wa::Message {
    wa::Message {
        protocol_message: MessageField::some(wa::message::ProtocolMessage {
            key: MessageField::some(key),
            r#type: Some(ProtocolType::REVOKE),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A text status: `background` is ARGB, `font` WhatsApp's font number (unknown → default).
pub(crate) fn status_text(text: &str, background: Option<u32>, font: Option<u32>) -> wa::Message {
    use whatsapp_rust::buffa::Enumeration as _;
    let font = font
        .and_then(|f| i32::try_from(f).ok())
        .and_then(FontType::from_i32);
    wa::Message {
        extended_text_message: MessageField::some(wa::message::ExtendedTextMessage {
            text: Some(text.to_owned()),
            background_argb: background,
            font,
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wagate_domain::Jid;

    fn jid(text: &str) -> Jid {
        Jid::parse(text).unwrap()
    }

    fn upload() -> Uploaded {
        Uploaded {
            url: "https://mmg.whatsapp.net/x".into(),
            direct_path: "/v/t62/x".into(),
            media_key: vec![7; 32],
            file_sha256: vec![8; 32],
            file_enc_sha256: vec![9; 32],
            file_length: 1234,
            media_key_timestamp: 1_700_000_000,
            streaming_sidecar: Some(vec![1, 2]),
        }
    }

    fn outgoing(kind: MediaKind) -> OutgoingMedia {
        OutgoingMedia {
            kind,
            data: vec![0; 4],
            mimetype: "application/x-test".into(),
            caption: Some("look".into()),
            filename: Some("a.pdf".into()),
        }
    }

    #[test]
    fn plain_text_is_a_conversation() {
        let message = text("hello", None);
        assert_eq!(message.conversation.as_deref(), Some("hello"));
        assert!(!message.extended_text_message.is_set());
    }

    #[test]
    fn link_preview_makes_an_extended_text_naming_the_link() {
        let preview = LinkPreview {
            url: "https://example.com".into(),
            title: Some("Example".into()),
            description: Some("An example".into()),
        };
        let message = text("see https://example.com", Some(&preview));
        let ext = message.extended_text_message.as_option().unwrap();
        assert_eq!(ext.text.as_deref(), Some("see https://example.com"));
        assert_eq!(ext.matched_text.as_deref(), Some("https://example.com"));
        assert_eq!(ext.title.as_deref(), Some("Example"));
        assert_eq!(ext.description.as_deref(), Some("An example"));
    }

    #[test]
    fn reply_mentions_and_forward_fill_the_context() {
        let quote = Quote {
            id: "3EB0QUOTED".into(),
            participant: Some(jid("6281111@s.whatsapp.net")),
            text: Some("original".into()),
        };
        let mentions = [jid("6282222@s.whatsapp.net")];
        let context = context_info(Some(&quote), &mentions, true).unwrap();
        assert_eq!(context.stanza_id.as_deref(), Some("3EB0QUOTED"));
        assert_eq!(
            context.participant.as_deref(),
            Some("6281111@s.whatsapp.net")
        );
        assert_eq!(
            context
                .quoted_message
                .as_option()
                .and_then(|m| m.conversation.as_deref()),
            Some("original")
        );
        assert_eq!(context.mentioned_jid, vec!["6282222@s.whatsapp.net"]);
        assert_eq!(context.is_forwarded, Some(true));
        assert_eq!(context.forwarding_score, Some(1));
        assert_eq!(context_info(None, &[], false), None);
    }

    #[test]
    fn context_turns_plain_text_into_extended_text() {
        let context = context_info(None, &[jid("6282222@s.whatsapp.net")], false);
        let message = with_context(text("hi @6282222", None), context);
        assert_eq!(message.conversation, None);
        let ext = message.extended_text_message.as_option().unwrap();
        assert_eq!(ext.text.as_deref(), Some("hi @6282222"));
        assert_eq!(
            ext.context_info.as_option().unwrap().mentioned_jid,
            vec!["6282222@s.whatsapp.net"]
        );
    }

    #[test]
    fn context_rides_on_media_too() {
        let context = context_info(None, &[], true);
        let message = with_context(media(&outgoing(MediaKind::Image), upload()), context);
        let image = message.image_message.as_option().unwrap();
        assert_eq!(
            image.context_info.as_option().and_then(|c| c.is_forwarded),
            Some(true)
        );
    }

    #[test]
    fn location_and_contact_carry_their_fields() {
        let message = location(-6.2, 106.8, Some("Monas"));
        let loc = message.location_message.as_option().unwrap();
        assert_eq!(loc.degrees_latitude, Some(-6.2));
        assert_eq!(loc.degrees_longitude, Some(106.8));
        assert_eq!(loc.name.as_deref(), Some("Monas"));
        let card = "BEGIN:VCARD\nVERSION:3.0\nFN:Budi\nEND:VCARD";
        let message = contact("Budi", card);
        let contact = message.contact_message.as_option().unwrap();
        assert_eq!(contact.display_name.as_deref(), Some("Budi"));
        assert_eq!(contact.vcard.as_deref(), Some(card));
    }

    #[test]
    fn polls_carry_options_limits_and_their_secret() {
        let spec = PollSpec {
            name: "Lunch?".into(),
            options: vec!["Rice".into(), "Noodles".into()],
            selectable_count: 0,
            end_time: Some(1_800_000_000_000),
            hide_votes: true,
        };
        let message = poll(&spec, vec![5; 32]);
        let creation = message.poll_creation_message.as_option().unwrap();
        assert!(!message.poll_creation_message_v3.is_set());
        assert_eq!(creation.name.as_deref(), Some("Lunch?"));
        let names: Vec<_> = creation
            .options
            .iter()
            .map(|o| o.option_name.as_deref().unwrap_or_default())
            .collect();
        assert_eq!(names, ["Rice", "Noodles"]);
        assert_eq!(creation.selectable_options_count, Some(0));
        assert_eq!(creation.end_time, Some(1_800_000_000_000));
        assert_eq!(creation.hide_participant_name, Some(true));
        assert_eq!(
            message
                .message_context_info
                .as_option()
                .and_then(|c| c.message_secret.clone()),
            Some(vec![5; 32])
        );
        let single = poll(
            &PollSpec {
                selectable_count: 1,
                ..spec
            },
            vec![5; 32],
        );
        assert!(single.poll_creation_message_v3.is_set());
        assert!(!single.poll_creation_message.is_set());
    }

    #[test]
    fn each_media_kind_lands_in_its_field_with_the_upload() {
        let image = media(&outgoing(MediaKind::Image), upload());
        let image = image.image_message.as_option().unwrap();
        assert_eq!(image.direct_path.as_deref(), Some("/v/t62/x"));
        assert_eq!(image.media_key.as_deref(), Some(&[7; 32][..]));
        assert_eq!(image.file_sha256.as_deref(), Some(&[8; 32][..]));
        assert_eq!(image.file_enc_sha256.as_deref(), Some(&[9; 32][..]));
        assert_eq!(image.file_length, Some(1234));
        assert_eq!(image.caption.as_deref(), Some("look"));
        assert_eq!(image.mimetype.as_deref(), Some("application/x-test"));

        let video = media(&outgoing(MediaKind::Video), upload());
        let video = video.video_message.as_option().unwrap();
        assert_eq!(video.streaming_sidecar.as_deref(), Some(&[1, 2][..]));
        assert_eq!(video.caption.as_deref(), Some("look"));

        let audio = media(&outgoing(MediaKind::Audio), upload());
        assert_eq!(audio.audio_message.as_option().unwrap().ptt, Some(false));
        let note = media(&outgoing(MediaKind::VoiceNote), upload());
        assert_eq!(note.audio_message.as_option().unwrap().ptt, Some(true));

        let document = media(&outgoing(MediaKind::Document), upload());
        let document = document.document_message.as_option().unwrap();
        assert_eq!(document.file_name.as_deref(), Some("a.pdf"));
        assert_eq!(document.caption.as_deref(), Some("look"));

        let sticker = media(&outgoing(MediaKind::Sticker), upload());
        let sticker = sticker.sticker_message.as_option().unwrap();
        assert_eq!(sticker.direct_path.as_deref(), Some("/v/t62/x"));
    }

    #[test]
    fn album_counts_images_and_videos_and_items_point_at_it() {
        let items = [
            outgoing(MediaKind::Image),
            outgoing(MediaKind::Video),
            outgoing(MediaKind::Image),
        ];
        let container = album(&items);
        let album = container.album_message.as_option().unwrap();
        assert_eq!(album.expected_image_count, Some(2));
        assert_eq!(album.expected_video_count, Some(1));

        let item = album_item(
            media(&items[0], upload()),
            "6281@s.whatsapp.net",
            "3EBALBUM",
        );
        let parent = item
            .message_context_info
            .as_option()
            .and_then(|c| c.message_association.as_option())
            .and_then(|a| a.parent_message_key.as_option())
            .unwrap();
        assert_eq!(parent.id.as_deref(), Some("3EBALBUM"));
        assert_eq!(parent.from_me, Some(true));
        let inner = item
            .associated_child_message
            .as_option()
            .and_then(|f| f.message.as_option())
            .unwrap();
        assert!(inner.image_message.is_set());
    }

    #[test]
    fn keys_name_the_author_only_in_groups_and_status() {
        let own = MessageKey {
            chat: jid("6281@s.whatsapp.net"),
            id: "A".into(),
            sender: None,
        };
        let key = message_key(&own);
        assert_eq!(key.from_me, Some(true));
        assert_eq!(key.participant, None);
        assert_eq!(key.remote_jid.as_deref(), Some("6281@s.whatsapp.net"));

        let theirs = MessageKey {
            chat: jid("120363021234567890@g.us"),
            id: "B".into(),
            sender: Some(jid("6282:3@s.whatsapp.net")),
        };
        let key = message_key(&theirs);
        assert_eq!(key.from_me, Some(false));
        assert_eq!(key.participant.as_deref(), Some("6282@s.whatsapp.net"));
        assert_eq!(key.id.as_deref(), Some("B"));

        let dm_peer = MessageKey {
            chat: jid("6282@s.whatsapp.net"),
            id: "C".into(),
            sender: Some(jid("6282@s.whatsapp.net")),
        };
        assert_eq!(message_key(&dm_peer).participant, None);
    }

    #[test]
    fn revoke_is_a_protocol_message_for_the_key() {
        let message = revoke(own_key("6281@s.whatsapp.net", "GONE"));
        let protocol = message.protocol_message.as_option().unwrap();
        assert_eq!(protocol.r#type, Some(ProtocolType::REVOKE));
        assert_eq!(
            protocol.key.as_option().and_then(|k| k.id.as_deref()),
            Some("GONE")
        );
    }

    #[test]
    fn status_text_keeps_colour_and_font() {
        let message = status_text("hi all", Some(0xFF1E_6E4F), Some(2));
        let ext = message.extended_text_message.as_option().unwrap();
        assert_eq!(ext.text.as_deref(), Some("hi all"));
        assert_eq!(ext.background_argb, Some(0xFF1E_6E4F));
        assert_eq!(ext.font, Some(FontType::FB_SCRIPT));
        let unknown_font = status_text("x", None, Some(999));
        assert_eq!(
            unknown_font.extended_text_message.as_option().unwrap().font,
            None
        );
    }
}
