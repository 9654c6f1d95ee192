//! Inbound media download (D4: "inbound media is downloadable through the API"): the stored
//! message names the media, the session's engine fetches the bytes (they are never stored).

use wagate_domain::Session;

use crate::session_manager::engine_error;
use crate::{MessagingService, ServiceError, ServiceResult};

/// The bytes of a message's media, with what the message says about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDownload {
    pub data: Vec<u8>,
    /// `application/octet-stream` when the message did not say.
    pub mimetype: String,
    pub filename: Option<String>,
}

impl MessagingService {
    /// The media of message `mid` (its WhatsApp id, as everywhere under `…/messages/{mid}`).
    ///
    /// An unknown message is `404 message not found`. A message without downloadable media
    /// (no media at all, or this account's own send, whose bytes wagate never keeps) is
    /// `404 message has no downloadable media`: the `…/media` sub-resource does not exist,
    /// which is what 404 means in the contract (api.md §1.6), not a malformed request (400).
    /// Live: the engine fetches the bytes, so a session without a client is `501`.
    pub async fn download_media(&self, s: &Session, mid: &str) -> ServiceResult<MediaDownload> {
        let message = self
            .store()
            .get_message(&s.id, mid.trim())
            .await?
            .ok_or_else(|| ServiceError::NotFound("message not found".into()))?;
        let media = message
            .media_ref
            .ok_or_else(|| ServiceError::NotFound("message has no downloadable media".into()))?;
        let meta = message.media.unwrap_or_default();
        let client = self.live(s).await?;
        let data = client.download(&media).await.map_err(engine_error)?;
        Ok(MediaDownload {
            data,
            mimetype: media
                .mimetype
                .or(meta.mimetype)
                .filter(|m| !m.trim().is_empty())
                .unwrap_or_else(|| "application/octet-stream".into()),
            filename: media.filename.or(meta.filename),
        })
    }
}
