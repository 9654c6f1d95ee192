//! The `MediaRef.locator` of inbound media: everything a later download needs (CDN direct
//! path, media key, hashes, length, kind), as compact JSON with base64 byte fields. Opaque to
//! the rest of wagate; only this crate writes and reads it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use wagate_domain::engine::{EngineError, MediaKind};
use whatsapp_rust::download::DownloadParams;
use whatsapp_rust::wacore::download::MediaType;

/// The CDN fields of one media attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MediaLocator {
    #[serde(rename = "k")]
    pub kind: MediaKind,
    #[serde(rename = "p")]
    pub direct_path: String,
    #[serde(rename = "mk")]
    pub media_key: String,
    #[serde(rename = "sha")]
    pub file_sha256: String,
    #[serde(rename = "esha")]
    pub file_enc_sha256: String,
    #[serde(rename = "len")]
    pub file_length: u64,
}

impl MediaLocator {
    /// `None` when the message lacks what a download needs (no path or no key).
    pub(crate) fn new(
        kind: MediaKind,
        direct_path: Option<&str>,
        media_key: Option<&[u8]>,
        file_sha256: Option<&[u8]>,
        file_enc_sha256: Option<&[u8]>,
        file_length: Option<u64>,
    ) -> Option<Self> {
        let direct_path = direct_path.filter(|p| !p.is_empty())?;
        let media_key = media_key.filter(|k| !k.is_empty())?;
        Some(Self {
            kind,
            direct_path: direct_path.to_owned(),
            media_key: STANDARD.encode(media_key),
            file_sha256: STANDARD.encode(file_sha256.unwrap_or_default()),
            file_enc_sha256: STANDARD.encode(file_enc_sha256.unwrap_or_default()),
            file_length: file_length.unwrap_or(0),
        })
    }

    pub(crate) fn encode(&self) -> String {
        // Serializing plain strings and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a locator back; `Rejected` when it is not one of ours.
    pub(crate) fn decode(text: &str) -> Result<Self, EngineError> {
        serde_json::from_str(text)
            .map_err(|_| EngineError::Rejected("not a WhatsApp media locator".into()))
    }

    /// The crate's download request for this media.
    pub(crate) fn download_params(&self) -> Result<DownloadParams, EngineError> {
        let bytes = |field: &str| {
            STANDARD
                .decode(field)
                .map_err(|_| EngineError::Rejected("corrupt WhatsApp media locator".into()))
        };
        Ok(DownloadParams::encrypted(
            self.direct_path.clone(),
            &bytes(&self.media_key)?,
            &bytes(&self.file_sha256)?,
            &bytes(&self.file_enc_sha256)?,
            self.file_length,
            media_type(self.kind),
        ))
    }
}

/// The crate's media type (it picks the encryption keys and CDN path) for a kind.
pub(crate) fn media_type(kind: MediaKind) -> MediaType {
    match kind {
        MediaKind::Image => MediaType::Image,
        MediaKind::Video => MediaType::Video,
        MediaKind::Audio | MediaKind::VoiceNote => MediaType::Audio,
        MediaKind::Document => MediaType::Document,
        MediaKind::Sticker => MediaType::Sticker,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locator_round_trips_into_download_params() {
        let locator = MediaLocator::new(
            MediaKind::VoiceNote,
            Some("/v/t62/abc"),
            Some(&[1; 32]),
            Some(&[2; 32]),
            Some(&[3; 32]),
            Some(4096),
        )
        .unwrap();
        let text = locator.encode();
        let back = MediaLocator::decode(&text).unwrap();
        assert_eq!(back, locator);
        let params = back.download_params().unwrap();
        assert_eq!(params.direct_path, "/v/t62/abc");
        assert_eq!(params.media_key, Some(vec![1; 32]));
        assert_eq!(params.file_sha256, vec![2; 32]);
        assert_eq!(params.file_enc_sha256, Some(vec![3; 32]));
        assert_eq!(params.file_length, 4096);
        assert_eq!(params.media_type, MediaType::Audio);
    }

    #[test]
    fn media_without_path_or_key_has_no_locator() {
        assert!(MediaLocator::new(MediaKind::Image, None, Some(&[1]), None, None, None).is_none());
        assert!(MediaLocator::new(MediaKind::Image, Some("/p"), None, None, None, None).is_none());
    }

    #[test]
    fn foreign_locators_are_rejected() {
        assert!(matches!(
            MediaLocator::decode("sim:123"),
            Err(EngineError::Rejected(_))
        ));
    }
}
