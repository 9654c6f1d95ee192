//! History sync blobs as bounded [`HistoryChunk`]s: messages per conversation, and the names
//! and LID ↔ phone pairs the blob carries.

use wagate_domain::Jid;
use wagate_domain::engine::{ContactUpdate, HistoryChunk, InboundMessage};
use whatsapp_rust::waproto::whatsapp as wa;

use super::message::history_message;
use crate::jids::from_text;

/// At most this many messages per chunk (a blob holds thousands).
pub(crate) const CHUNK_MESSAGES: usize = 200;
/// At most this many contacts per chunk.
pub(crate) const CHUNK_CONTACTS: usize = 500;

/// The chunks of one blob; `own` is this account (author of its own messages).
pub(crate) fn chunks(sync: &wa::HistorySync, own: Option<&Jid>) -> Vec<HistoryChunk> {
    let messages = messages(sync, own);
    let contacts = contacts(sync);
    let progress = sync
        .progress
        .map(|p| u8::try_from(p.min(100)).unwrap_or(100));
    let mut messages = messages.chunks(CHUNK_MESSAGES);
    let mut contacts = contacts.chunks(CHUNK_CONTACTS);
    let mut out = Vec::new();
    loop {
        let (batch, people) = (messages.next(), contacts.next());
        if batch.is_none() && people.is_none() {
            break;
        }
        out.push(HistoryChunk {
            messages: batch.map(<[_]>::to_vec).unwrap_or_default(),
            contacts: people.map(<[_]>::to_vec).unwrap_or_default(),
            progress,
        });
    }
    out
}

fn messages(sync: &wa::HistorySync, own: Option<&Jid>) -> Vec<InboundMessage> {
    sync.conversations
        .iter()
        .filter_map(|conversation| Some((from_text(&conversation.id)?, conversation)))
        .flat_map(|(chat, conversation)| {
            conversation
                .messages
                .iter()
                .filter_map(|m| m.message.as_option())
                .filter_map(|info| history_message(&chat, own, info))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn contacts(sync: &wa::HistorySync) -> Vec<ContactUpdate> {
    let pairs = sync.phone_number_to_lid_mappings.iter().filter_map(|m| {
        Some(ContactUpdate {
            lid: Some(from_text(m.lid_jid.as_deref()?)?),
            phone: Some(from_text(m.pn_jid.as_deref()?)?),
            name: None,
            business_name: None,
        })
    });
    let names = sync.pushnames.iter().filter_map(|p| {
        let jid = from_text(p.id.as_deref()?)?;
        let name = p.pushname.clone().filter(|n| !n.is_empty())?;
        Some(named(jid, name))
    });
    let chats = sync.conversations.iter().filter_map(|c| {
        let lid = c.lid_jid.as_deref().and_then(from_text);
        let phone = c.pn_jid.as_deref().and_then(from_text);
        let name = c.name.clone().or_else(|| c.display_name.clone());
        (lid.is_some() && phone.is_some()).then_some(ContactUpdate {
            lid,
            phone,
            name: name.filter(|n| !n.is_empty()),
            business_name: None,
        })
    });
    pairs.chain(names).chain(chats).collect()
}

fn named(jid: Jid, name: String) -> ContactUpdate {
    let (lid, phone) = if jid.is_lid() {
        (Some(jid), None)
    } else {
        (None, Some(jid))
    };
    ContactUpdate {
        lid,
        phone,
        name: Some(name),
        business_name: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use whatsapp_rust::buffa::MessageField;

    fn web_message(id: &str, text: &str, from_me: bool) -> wa::HistorySyncMsg {
        wa::HistorySyncMsg {
            message: MessageField::some(wa::WebMessageInfo {
                key: MessageField::some(wa::MessageKey {
                    remote_jid: Some("6281@s.whatsapp.net".into()),
                    from_me: Some(from_me),
                    id: Some(id.into()),
                    participant: None,
                }),
                message: MessageField::some(wa::Message {
                    conversation: Some(text.into()),
                    ..Default::default()
                }),
                message_timestamp: Some(1_700_000_000),
                push_name: Some("Budi".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn sync(messages: usize) -> wa::HistorySync {
        wa::HistorySync {
            conversations: vec![wa::Conversation {
                id: "6281@s.whatsapp.net".into(),
                lid_jid: Some("111@lid".into()),
                pn_jid: Some("6281@s.whatsapp.net".into()),
                name: Some("Budi Santoso".into()),
                messages: (0..messages)
                    .map(|n| web_message(&format!("M{n}"), "hi", n % 2 == 0))
                    .collect(),
                ..Default::default()
            }],
            pushnames: vec![wa::Pushname {
                id: Some("6282@s.whatsapp.net".into()),
                pushname: Some("Sari".into()),
            }],
            phone_number_to_lid_mappings: vec![wa::PhoneNumberToLIDMapping {
                pn_jid: Some("6283@s.whatsapp.net".into()),
                lid_jid: Some("333@lid".into()),
            }],
            progress: Some(40),
            ..Default::default()
        }
    }

    #[test]
    fn messages_keep_chat_author_and_time() {
        let own = Jid::parse("6289@s.whatsapp.net").unwrap();
        let out = chunks(&sync(2), Some(&own));
        assert_eq!(out.len(), 1);
        let chunk = &out[0];
        assert_eq!(chunk.progress, Some(40));
        let mine = &chunk.messages[0];
        assert_eq!(mine.id, "M0");
        assert!(mine.from_me);
        assert_eq!(mine.sender, own);
        assert_eq!(mine.timestamp, 1_700_000_000_000);
        let theirs = &chunk.messages[1];
        assert!(!theirs.from_me);
        assert_eq!(theirs.sender.as_str(), "6281@s.whatsapp.net");
        assert_eq!(theirs.chat.as_str(), "6281@s.whatsapp.net");
        assert_eq!(theirs.push_name.as_deref(), Some("Budi"));
    }

    #[test]
    fn contacts_come_from_mappings_push_names_and_chats() {
        let out = chunks(&sync(0), None);
        let contacts = &out[0].contacts;
        assert_eq!(contacts.len(), 3);
        assert_eq!(contacts[0].lid.as_ref().unwrap().as_str(), "333@lid");
        assert_eq!(
            contacts[0].phone.as_ref().unwrap().as_str(),
            "6283@s.whatsapp.net"
        );
        assert_eq!(
            contacts[1].phone.as_ref().unwrap().as_str(),
            "6282@s.whatsapp.net"
        );
        assert_eq!(contacts[1].name.as_deref(), Some("Sari"));
        assert_eq!(contacts[2].lid.as_ref().unwrap().as_str(), "111@lid");
        assert_eq!(contacts[2].name.as_deref(), Some("Budi Santoso"));
    }

    #[test]
    fn large_blobs_are_split_into_bounded_chunks() {
        let own = Jid::parse("6289@s.whatsapp.net").unwrap();
        let out = chunks(&sync(CHUNK_MESSAGES * 2 + 1), Some(&own));
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].messages.len(), CHUNK_MESSAGES);
        assert_eq!(out[2].messages.len(), 1);
        // Contacts ride on the first chunk only, every chunk reports progress.
        assert_eq!(out[0].contacts.len(), 3);
        assert!(out[1].contacts.is_empty());
        assert!(out.iter().all(|c| c.progress == Some(40)));
    }
}
