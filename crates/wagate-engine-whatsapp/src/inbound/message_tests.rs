use super::*;
use whatsapp_rust::buffa::MessageField;
use whatsapp_rust::types::message::MessageSource;
use whatsapp_rust::wacore::chrono::{TimeZone, Utc};

fn wa_jid(text: &str) -> whatsapp_rust::Jid {
    text.parse().unwrap()
}

fn info(chat: &str, sender: &str) -> MessageInfo {
    MessageInfo {
        source: MessageSource {
            chat: wa_jid(chat),
            sender: wa_jid(sender),
            is_from_me: false,
            is_group: chat.ends_with("@g.us"),
            sender_alt: Some(wa_jid("111@lid")),
            ..Default::default()
        },
        id: "3EB0MSG".into(),
        push_name: "Budi".into(),
        timestamp: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
        ..Default::default()
    }
}

fn key(id: &str) -> MessageField<wa::MessageKey> {
    MessageField::some(wa::MessageKey {
        id: Some(id.into()),
        ..Default::default()
    })
}

fn mapped(message: wa::Message) -> InboundMessage {
    live_message(
        &info("120363021234567890@g.us", "6281:3@s.whatsapp.net"),
        &message,
    )
    .expect("a reported message")
}

#[test]
fn text_carries_ids_sender_time_and_push_name() {
    let message = mapped(wa::Message {
        conversation: Some("hello".into()),
        ..Default::default()
    });
    assert_eq!(message.id, "3EB0MSG");
    assert_eq!(message.chat.as_str(), "120363021234567890@g.us");
    assert_eq!(message.sender.as_str(), "6281:3@s.whatsapp.net");
    assert_eq!(message.sender_alt.unwrap().as_str(), "111@lid");
    assert_eq!(message.push_name.as_deref(), Some("Budi"));
    assert_eq!(message.timestamp, 1_700_000_000_000);
    assert!(!message.from_me);
    assert_eq!(
        message.content,
        InboundContent::Text {
            text: "hello".into()
        }
    );
}

#[test]
fn extended_text_brings_quote_mentions_and_forward_flag() {
    let message = mapped(wa::Message {
        extended_text_message: MessageField::some(wa::message::ExtendedTextMessage {
            text: Some("@6282 look".into()),
            context_info: MessageField::some(wa::ContextInfo {
                stanza_id: Some("QUOTED".into()),
                mentioned_jid: vec!["6282@s.whatsapp.net".into(), "junk".into()],
                is_forwarded: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(
        message.content,
        InboundContent::Text {
            text: "@6282 look".into()
        }
    );
    assert_eq!(message.quoted_id.as_deref(), Some("QUOTED"));
    assert_eq!(message.mentions.len(), 1);
    assert_eq!(message.mentions[0].as_str(), "6282@s.whatsapp.net");
    assert!(message.forwarded);
}

#[test]
fn media_gets_a_locator_a_download_can_use() {
    let message = mapped(wa::Message {
        document_message: MessageField::some(wa::message::DocumentMessage {
            mimetype: Some("application/pdf".into()),
            file_name: Some("invoice.pdf".into()),
            caption: Some("the invoice".into()),
            direct_path: Some("/v/t62/doc".into()),
            media_key: Some(vec![1; 32]),
            file_sha256: Some(vec![2; 32]),
            file_enc_sha256: Some(vec![3; 32]),
            file_length: Some(2048),
            ..Default::default()
        }),
        ..Default::default()
    });
    let InboundContent::Media { media, caption } = message.content else {
        panic!("media expected");
    };
    assert_eq!(caption.as_deref(), Some("the invoice"));
    assert_eq!(media.kind, MediaKind::Document);
    assert_eq!(media.mimetype.as_deref(), Some("application/pdf"));
    assert_eq!(media.filename.as_deref(), Some("invoice.pdf"));
    assert_eq!(media.size, Some(2048));
    let params = MediaLocator::decode(&media.locator)
        .unwrap()
        .download_params()
        .unwrap();
    assert_eq!(params.direct_path, "/v/t62/doc");
    assert_eq!(params.media_key, Some(vec![1; 32]));
    assert_eq!(params.file_length, 2048);
}

#[test]
fn voice_notes_and_stickers_keep_their_kind() {
    let note = mapped(wa::Message {
        audio_message: MessageField::some(wa::message::AudioMessage {
            ptt: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert!(
        matches!(note.content, InboundContent::Media { media, .. } if media.kind == MediaKind::VoiceNote)
    );
    let sticker = mapped(wa::Message {
        sticker_message: MessageField::some(wa::message::StickerMessage::default()),
        ..Default::default()
    });
    assert!(
        matches!(sticker.content, InboundContent::Media { media, .. } if media.kind == MediaKind::Sticker)
    );
}

#[test]
fn album_items_are_unwrapped_to_their_media() {
    let item = wa::Message {
        associated_child_message: MessageField::some(wa::message::FutureProofMessage {
            message: MessageField::some(wa::Message {
                image_message: MessageField::some(wa::message::ImageMessage {
                    caption: Some("first".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        }),
        ..Default::default()
    };
    let message = mapped(item);
    assert!(matches!(
        message.content,
        InboundContent::Media { media, caption } if media.kind == MediaKind::Image && caption.as_deref() == Some("first")
    ));
}

#[test]
fn location_contact_and_poll_map_their_fields() {
    let location = mapped(wa::Message {
        location_message: MessageField::some(wa::message::LocationMessage {
            degrees_latitude: Some(-6.2),
            degrees_longitude: Some(106.8),
            name: Some("Monas".into()),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(
        location.content,
        InboundContent::Location {
            latitude: -6.2,
            longitude: 106.8,
            name: Some("Monas".into())
        }
    );
    let contact = mapped(wa::Message {
        contact_message: MessageField::some(wa::message::ContactMessage {
            display_name: Some("Sari".into()),
            vcard: Some("BEGIN:VCARD".into()),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(
        contact.content,
        InboundContent::Contact {
            display_name: "Sari".into(),
            vcard: "BEGIN:VCARD".into()
        }
    );
    let poll = wa::Message {
        poll_creation_message_v3: MessageField::some(wa::message::PollCreationMessage {
            name: Some("Lunch?".into()),
            options: ["Rice", "Soup"]
                .iter()
                .map(|o| wa::message::poll_creation_message::Option {
                    option_name: Some((*o).into()),
                    ..Default::default()
                })
                .collect(),
            selectable_options_count: Some(1),
            end_time: Some(9),
            ..Default::default()
        }),
        message_context_info: MessageField::some(wa::MessageContextInfo {
            message_secret: Some(vec![4; 32]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let expected = PollSpec {
        name: "Lunch?".into(),
        options: vec!["Rice".into(), "Soup".into()],
        selectable_count: 1,
        end_time: Some(9),
        hide_votes: false,
    };
    assert_eq!(
        mapped(poll.clone()).content,
        InboundContent::Poll(expected.clone())
    );
    assert_eq!(created_poll(&poll), Some(expected));
    assert_eq!(message_secret(&poll), Some(vec![4; 32]));
}

#[test]
fn reactions_votes_edits_and_revokes_name_their_target() {
    let reaction = mapped(wa::Message {
        reaction_message: MessageField::some(wa::message::ReactionMessage {
            key: key("TARGET"),
            text: Some("👍".into()),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(
        reaction.content,
        InboundContent::Reaction {
            target_id: "TARGET".into(),
            emoji: "👍".into()
        }
    );
    let vote = mapped(wa::Message {
        poll_update_message: MessageField::some(wa::message::PollUpdateMessage {
            poll_creation_message_key: key("POLL"),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(
        vote.content,
        InboundContent::PollVote {
            poll_id: "POLL".into(),
            selected: vec![]
        }
    );
    let edit = mapped(wa::Message {
        protocol_message: MessageField::some(wa::message::ProtocolMessage {
            key: key("OLD"),
            r#type: Some(ProtocolType::MESSAGE_EDIT),
            edited_message: MessageField::some(wa::Message {
                conversation: Some("fixed".into()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(
        edit.content,
        InboundContent::Edit {
            target_id: "OLD".into(),
            text: "fixed".into()
        }
    );
    let revoke = mapped(wa::Message {
        protocol_message: MessageField::some(wa::message::ProtocolMessage {
            key: key("GONE"),
            r#type: Some(ProtocolType::REVOKE),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(
        revoke.content,
        InboundContent::Revoke {
            target_id: "GONE".into()
        }
    );
}

#[test]
fn device_traffic_is_not_reported_and_unknown_bodies_are_other() {
    let history_notice = wa::Message {
        protocol_message: MessageField::some(wa::message::ProtocolMessage {
            r#type: Some(ProtocolType::HISTORY_SYNC_NOTIFICATION),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert!(
        live_message(
            &info("6281@s.whatsapp.net", "6281@s.whatsapp.net"),
            &history_notice
        )
        .is_none()
    );
    let album = mapped(wa::Message {
        album_message: MessageField::some(wa::message::AlbumMessage::default()),
        ..Default::default()
    });
    assert_eq!(
        album.content,
        InboundContent::Other {
            kind: "album".into()
        }
    );
}
