//! What wagate asks an engine to send. Validated before it gets here (the HTTP and service
//! layers enforce the contract's limits); engines only translate.

use serde::{Deserialize, Serialize};

use crate::Jid;

/// The kinds of media a message can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    /// Audio shown as a push-to-talk voice note.
    VoiceNote,
    Document,
    Sticker,
}

impl MediaKind {
    /// The contract's message `type` for this kind (a voice note is `audio`).
    pub fn message_type(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio | Self::VoiceNote => "audio",
            Self::Document => "document",
            Self::Sticker => "sticker",
        }
    }
}

/// Media bytes to upload, already decoded and size-checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutgoingMedia {
    pub kind: MediaKind,
    #[serde(with = "crate::engine::base64_bytes")]
    pub data: Vec<u8>,
    pub mimetype: String,
    pub caption: Option<String>,
    pub filename: Option<String>,
}

/// A poll to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollSpec {
    pub name: String,
    pub options: Vec<String>,
    /// `0` = any number of options; `1` = single choice.
    pub selectable_count: u32,
    /// Epoch-ms when the poll closes.
    pub end_time: Option<i64>,
    pub hide_votes: bool,
}

/// A link preview attached to a text message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkPreview {
    pub url: String,
    pub title: Option<String>,
    pub description: Option<String>,
}

/// The body of an outgoing message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// Tagged `content`, not `kind`: `OutgoingMedia` has a `kind` field of its own.
#[serde(tag = "content", rename_all = "snake_case")]
pub enum OutgoingContent {
    Text {
        text: String,
        link_preview: Option<LinkPreview>,
    },
    Poll(PollSpec),
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
    },
    Contact {
        display_name: String,
        vcard: String,
    },
    Media(OutgoingMedia),
    /// 2–10 images/videos; the caption rides on the first item.
    Album {
        items: Vec<OutgoingMedia>,
        caption: Option<String>,
    },
}

impl OutgoingContent {
    /// The contract's message `type`.
    pub fn message_type(&self) -> &'static str {
        match self {
            Self::Text { .. } => "text",
            Self::Poll(_) => "poll",
            Self::Location { .. } => "location",
            Self::Contact { .. } => "contact",
            Self::Media(media) => media.kind.message_type(),
            Self::Album { .. } => "album",
        }
    }

    /// The text stored as the message `body`: text, caption, poll question, location label or
    /// contact name.
    pub fn body(&self) -> Option<&str> {
        match self {
            Self::Text { text, .. } => Some(text),
            Self::Poll(poll) => Some(&poll.name),
            Self::Location { name, .. } => name.as_deref(),
            Self::Contact { display_name, .. } => Some(display_name),
            Self::Media(media) => media.caption.as_deref(),
            Self::Album { caption, .. } => caption.as_deref(),
        }
    }
}

/// The message a reply quotes. `participant` and `text` enrich the quote when known locally.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Quote {
    pub id: String,
    pub participant: Option<Jid>,
    pub text: Option<String>,
}

/// One message to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    pub to: Jid,
    pub content: OutgoingContent,
    pub reply_to: Option<Quote>,
    pub mentions: Vec<Jid>,
    /// Marked "forwarded" (forwardMessage sends the original content with this flag).
    pub forwarded: bool,
}

impl OutgoingMessage {
    pub fn new(to: Jid, content: OutgoingContent) -> Self {
        Self {
            to,
            content,
            reply_to: None,
            mentions: Vec::new(),
            forwarded: false,
        }
    }
}

/// The network's acknowledgement of a send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMessage {
    /// WhatsApp's id of the new message (for albums: the album container).
    pub id: String,
    /// Server time of the send, epoch-ms.
    pub timestamp: i64,
}

/// Addresses an existing message: its chat, its id, and its author when it is not our own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageKey {
    pub chat: Jid,
    pub id: String,
    /// The author; `None` = a message this account sent.
    pub sender: Option<Jid>,
}

/// A status (story) post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// Tagged `content`, not `kind`: `OutgoingMedia` has a `kind` field of its own.
#[serde(tag = "content", rename_all = "snake_case")]
pub enum StatusPost {
    Text {
        text: String,
        /// ARGB background colour.
        background: Option<u32>,
        font: Option<u32>,
    },
    Image(OutgoingMedia),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_content_and_status_round_trip_through_json() {
        let media = OutgoingMedia {
            kind: MediaKind::Image,
            data: vec![1, 2, 3],
            mimetype: "image/png".into(),
            caption: Some("c".into()),
            filename: None,
        };
        let content = OutgoingContent::Media(media.clone());
        let json = serde_json::to_string(&content).unwrap();
        assert_eq!(
            serde_json::from_str::<OutgoingContent>(&json).unwrap(),
            content
        );
        let status = StatusPost::Image(media);
        let json = serde_json::to_string(&status).unwrap();
        assert_eq!(serde_json::from_str::<StatusPost>(&json).unwrap(), status);
    }
}
