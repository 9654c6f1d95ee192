//! `postStatus` (api.md §10.1, D4): text and image posts to the account's status feed, really
//! posted (the reference answers `501`).

use wagate_domain::Session;
use wagate_domain::engine::{OutgoingContent, SentMessage, StatusPost};
use wagate_domain::jid::STATUS_BROADCAST;

use super::send_request::{MediaPayload, SendRequest};
use crate::session_manager::engine_error;
use crate::{MessagingService, ServiceError, ServiceResult};

/// The kinds of status post (`type`; absent = text).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StatusKind {
    #[default]
    Text,
    Image,
}

/// A status post as the caller described it, not yet validated.
#[derive(Debug, Clone, Default)]
pub struct StatusRequest {
    pub kind: StatusKind,
    /// The text of a text post.
    pub text: Option<String>,
    /// The image of an image post: `data` or `url`, as in `sendMessage`.
    pub media: Option<MediaPayload>,
    /// The caption of an image post (else `media.caption`).
    pub caption: Option<String>,
}

impl MessagingService {
    /// Validates and posts a status. Validation comes before the live check, as in the
    /// contract's order ("session and text checks, then …"). Not budgeted: api.md §1.11
    /// budgets `sendMessage` and the message operations only.
    pub async fn post_status(&self, s: &Session, req: StatusRequest) -> ServiceResult<SentMessage> {
        let post = self.status_post(req).await?;
        let client = self.live(s).await?;
        client.post_status(post).await.map_err(engine_error)
    }

    async fn status_post(&self, req: StatusRequest) -> ServiceResult<StatusPost> {
        match req.kind {
            StatusKind::Text => {
                let text = req.text.unwrap_or_default();
                if text.trim().is_empty() {
                    return Err(ServiceError::validation("text is required"));
                }
                Ok(StatusPost::Text {
                    text,
                    background: None,
                    font: None,
                })
            }
            StatusKind::Image => {
                // The image goes through sendMessage's validation and bounded download.
                let mut media = req.media;
                if let Some(m) = media.as_mut() {
                    m.caption = req.caption.or(m.caption.take());
                }
                let send = SendRequest {
                    kind: Some("image".into()),
                    to: Some(STATUS_BROADCAST.into()),
                    media,
                    ..Default::default()
                };
                match self.prepare(&send).await?.content {
                    OutgoingContent::Media(image) => Ok(StatusPost::Image(image)),
                    _ => Err(ServiceError::validation(
                        "media is required for type 'image'",
                    )),
                }
            }
        }
    }
}
