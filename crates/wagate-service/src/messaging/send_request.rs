//! `SendRequest` (api.md §5.1): the flat body of `sendMessage`, validated into the engine's
//! [`OutgoingMessage`] with the contract's messages.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use wagate_domain::Jid;
use wagate_domain::engine::{MediaKind, OutgoingContent, OutgoingMedia, OutgoingMessage, PollSpec};

use crate::ServiceError;

pub const MEDIA_LIMIT: usize = 16 * 1024 * 1024;
pub const ALBUM_LIMIT: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactCard {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub vcard: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaPayload {
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mimetype: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentions: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selectable_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_end_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_hide_votes: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactCard>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaPayload>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medias: Option<Vec<MediaPayload>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
}

fn bad(msg: impl Into<String>) -> ServiceError {
    ServiceError::validation(msg)
}

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|v| v.trim().is_empty())
}

/// Media bytes still to be fetched from a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUrl {
    pub url: String,
    pub label: String,
}

/// Where an item's bytes come from, after validation.
pub enum Source {
    Bytes(Vec<u8>, Option<String>),
    Url(PendingUrl),
}

impl SendRequest {
    /// The recipient and the checks that need no I/O. Media from URLs is resolved by the
    /// caller through `fetch` (bounded download).
    pub fn recipient(&self) -> Result<Jid, ServiceError> {
        if blank(&self.kind) {
            return Err(bad("send type is required"));
        }
        let to = self.to.as_deref().map(str::trim).unwrap_or_default();
        if to.is_empty() {
            return Err(bad("recipient 'to' is required"));
        }
        // D3: a malformed recipient is the caller's mistake, not a 500.
        Jid::parse(to).map_err(|e| bad(e.to_string()))
    }

    /// Validates and builds the message; `fetch` downloads a media URL (already checked to be
    /// http(s) with a host) into at most `limit` bytes and its content type.
    pub async fn build<F, Fut>(&self, fetch: F) -> Result<OutgoingMessage, ServiceError>
    where
        F: Fn(PendingUrl, usize) -> Fut,
        Fut: std::future::Future<Output = Result<(Vec<u8>, Option<String>), ServiceError>>,
    {
        let to = self.recipient()?;
        let kind = self.kind.as_deref().unwrap_or_default().trim();
        let content = match kind {
            "text" => {
                let text = self.text.clone().unwrap_or_default();
                if text.trim().is_empty() {
                    return Err(bad("text is required for type 'text'"));
                }
                OutgoingContent::Text {
                    link_preview: link_preview(&text),
                    text,
                }
            }
            "poll" => OutgoingContent::Poll(self.poll()?),
            "location" => {
                let (lat, lon) = (self.latitude.unwrap_or(0.0), self.longitude.unwrap_or(0.0));
                if !(-90.0..=90.0).contains(&lat) || lat.is_nan() {
                    return Err(bad("latitude must be between -90 and 90"));
                }
                if !(-180.0..=180.0).contains(&lon) || lon.is_nan() {
                    return Err(bad("longitude must be between -180 and 180"));
                }
                OutgoingContent::Location {
                    latitude: lat,
                    longitude: lon,
                    name: self.name.clone().filter(|n| !n.is_empty()),
                }
            }
            "contact" => self.contact_card()?,
            "image" | "video" | "audio" | "document" | "sticker" => {
                let media = self
                    .media
                    .as_ref()
                    .ok_or_else(|| bad(format!("media is required for type '{kind}'")))?;
                let source = media_source(media, kind, None)?;
                let (data, sniffed) = resolve(source, MEDIA_LIMIT, &fetch).await?;
                if data.len() > MEDIA_LIMIT {
                    return Err(bad(format!("media exceeds the {MEDIA_LIMIT} byte limit")));
                }
                let media_kind = match kind {
                    "image" => MediaKind::Image,
                    "video" => MediaKind::Video,
                    "audio" => MediaKind::Audio,
                    "document" => MediaKind::Document,
                    _ => MediaKind::Sticker,
                };
                let mimetype = media
                    .mimetype
                    .clone()
                    .filter(|m| !m.is_empty())
                    .or(sniffed)
                    .unwrap_or_else(|| sniff(&data, media_kind));
                // A voice note is audio sent as push-to-talk (ogg/opus).
                let media_kind = if media_kind == MediaKind::Audio && mimetype.contains("ogg") {
                    MediaKind::VoiceNote
                } else {
                    media_kind
                };
                OutgoingContent::Media(OutgoingMedia {
                    kind: media_kind,
                    data,
                    mimetype,
                    caption: media
                        .caption
                        .clone()
                        .filter(|_| matches!(kind, "image" | "video" | "document")),
                    filename: media.filename.clone().filter(|_| kind == "document"),
                })
            }
            "album" => self.album(&fetch).await?,
            other => return Err(bad(format!("unknown send type \"{other}\""))),
        };
        let mentions = self
            .mentions
            .iter()
            .flatten()
            .map(|m| Jid::parse(m.trim()).map_err(|e| bad(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let mut message = OutgoingMessage::new(to, content);
        message.mentions = mentions;
        Ok(message)
    }

    fn poll(&self) -> Result<PollSpec, ServiceError> {
        if blank(&self.name) {
            return Err(bad("name is required for type 'poll'"));
        }
        let options = self.options.clone().unwrap_or_default();
        if options.len() < 2 {
            return Err(bad("poll requires at least 2 options"));
        }
        let count = self.selectable_count.unwrap_or(0);
        if count < 0 || count > options.len() as i64 {
            return Err(bad(
                "selectableCount must be between 0 and the number of options",
            ));
        }
        if self.poll_end_time.is_some_and(|t| t < 0) {
            return Err(bad(
                "pollEndTime must be a positive epoch millisecond timestamp",
            ));
        }
        Ok(PollSpec {
            name: self.name.clone().unwrap_or_default(),
            options,
            selectable_count: count as u32,
            end_time: self.poll_end_time,
            hide_votes: self.poll_hide_votes.unwrap_or(false),
        })
    }

    fn contact_card(&self) -> Result<OutgoingContent, ServiceError> {
        let card = self
            .contact
            .as_ref()
            .ok_or_else(|| bad("contact is required for type 'contact'"))?;
        if let Some(vcard) = card.vcard.clone().filter(|v| !v.trim().is_empty()) {
            let display_name = card
                .name
                .clone()
                .filter(|n| !n.is_empty())
                .or_else(|| vcard_name(&vcard))
                .unwrap_or_default();
            return Ok(OutgoingContent::Contact {
                display_name,
                vcard,
            });
        }
        match (
            card.name.as_deref().map(str::trim),
            card.phone.as_deref().map(str::trim),
        ) {
            (Some(name), Some(phone)) if !name.is_empty() && !phone.is_empty() => {
                let digits = phone.trim_start_matches('+');
                let vcard = format!(
                    "BEGIN:VCARD\nVERSION:3.0\nFN:{name}\nTEL;type=CELL;type=VOICE;waid={digits}:+{digits}\nEND:VCARD"
                );
                Ok(OutgoingContent::Contact {
                    display_name: name.to_owned(),
                    vcard,
                })
            }
            _ => Err(bad(
                "contact requires either a vcard or both name and phone",
            )),
        }
    }

    async fn album<F, Fut>(&self, fetch: &F) -> Result<OutgoingContent, ServiceError>
    where
        F: Fn(PendingUrl, usize) -> Fut,
        Fut: std::future::Future<Output = Result<(Vec<u8>, Option<String>), ServiceError>>,
    {
        let medias = self.medias.clone().unwrap_or_default();
        if !(2..=10).contains(&medias.len()) {
            return Err(bad("album requires between 2 and 10 medias"));
        }
        let mut items = Vec::with_capacity(medias.len());
        let mut total = 0usize;
        for (i, m) in medias.iter().enumerate() {
            let kind = match m.kind.as_deref().unwrap_or("image") {
                "image" => MediaKind::Image,
                "video" => MediaKind::Video,
                _ => return Err(bad(format!("medias[{i}].type must be image or video"))),
            };
            let source = media_source(m, "", Some(i))?;
            let (data, sniffed) = resolve(source, MEDIA_LIMIT, fetch).await?;
            if data.len() > MEDIA_LIMIT {
                return Err(bad(format!(
                    "medias[{i}] exceeds the {MEDIA_LIMIT} byte item limit"
                )));
            }
            total += data.len();
            if total > ALBUM_LIMIT {
                return Err(bad(format!(
                    "album exceeds the {ALBUM_LIMIT} byte aggregate limit"
                )));
            }
            let mimetype = m
                .mimetype
                .clone()
                .filter(|t| !t.is_empty())
                .or(sniffed)
                .unwrap_or_else(|| sniff(&data, kind));
            items.push(OutgoingMedia {
                kind,
                data,
                mimetype,
                caption: None,
                filename: None,
            });
        }
        Ok(OutgoingContent::Album {
            items,
            caption: self.caption.clone().filter(|c| !c.is_empty()),
        })
    }

    /// A copy without inline media bytes (what the outbox keeps once a send succeeded).
    pub fn without_inline_media(&self) -> SendRequest {
        let mut copy = self.clone();
        if let Some(m) = copy.media.as_mut() {
            m.data = None;
        }
        for m in copy.medias.iter_mut().flatten() {
            m.data = None;
        }
        copy
    }
}

/// Exactly one of `data`/`url`, checked and decoded (a `data:` URI's mime is kept).
fn media_source(m: &MediaPayload, kind: &str, item: Option<usize>) -> Result<Source, ServiceError> {
    let exactly_one = || match item {
        Some(i) => bad(format!(
            "provide exactly one of medias[{i}].data or medias[{i}].url"
        )),
        None => bad(format!(
            "provide exactly one of media.data or media.url for type '{kind}'"
        )),
    };
    match (blank(&m.data), blank(&m.url)) {
        (false, true) => {
            let raw = m.data.as_deref().unwrap_or_default().trim();
            let (mime, b64) = match raw
                .strip_prefix("data:")
                .and_then(|r| r.split_once(";base64,"))
            {
                Some((mime, rest)) => (Some(mime.to_owned()).filter(|m| !m.is_empty()), rest),
                None => (None, raw),
            };
            let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(b64.trim_end_matches('='))
                .map_err(|_| bad("media.data must be valid base64"))?;
            if bytes.is_empty() {
                return Err(bad("media.data decoded to empty"));
            }
            Ok(Source::Bytes(bytes, mime))
        }
        (true, false) => {
            let url = m.url.as_deref().unwrap_or_default().trim().to_owned();
            let valid = reqwest::Url::parse(&url).ok().is_some_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host_str().is_some_and(|h| !h.is_empty())
            });
            if !valid {
                return Err(bad("media.url must be a valid http(s) URL"));
            }
            Ok(Source::Url(PendingUrl {
                url,
                label: item.map_or("media.url".into(), |i| format!("medias[{i}].url")),
            }))
        }
        _ => Err(exactly_one()),
    }
}

async fn resolve<F, Fut>(
    source: Source,
    limit: usize,
    fetch: &F,
) -> Result<(Vec<u8>, Option<String>), ServiceError>
where
    F: Fn(PendingUrl, usize) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<u8>, Option<String>), ServiceError>>,
{
    match source {
        Source::Bytes(bytes, mime) => Ok((bytes, mime)),
        Source::Url(url) => fetch(url, limit).await,
    }
}

/// A content type from the first bytes, else a default for the kind.
fn sniff(data: &[u8], kind: MediaKind) -> String {
    let known: &[(&[u8], &str)] = &[
        (b"\x89PNG", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF8", "image/gif"),
        (b"%PDF", "application/pdf"),
        (b"OggS", "audio/ogg"),
        (b"ID3", "audio/mpeg"),
    ];
    if let Some((_, mime)) = known.iter().find(|(magic, _)| data.starts_with(magic)) {
        return (*mime).to_owned();
    }
    if data.len() > 12 && &data[0..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        return "image/webp".into();
    }
    if data.len() > 8 && &data[4..8] == b"ftyp" {
        return "video/mp4".into();
    }
    match kind {
        MediaKind::Image => "image/jpeg",
        MediaKind::Video => "video/mp4",
        MediaKind::Audio | MediaKind::VoiceNote => "audio/mpeg",
        MediaKind::Sticker => "image/webp",
        MediaKind::Document => "application/octet-stream",
    }
    .into()
}

fn vcard_name(vcard: &str) -> Option<String> {
    vcard
        .lines()
        .find_map(|l| l.strip_prefix("FN:"))
        .map(|n| n.trim().to_owned())
}

/// A preview for the first http(s) link of a text (D4: link previews work). Title and
/// description stay empty: fetching pages on the caller's behalf is left to a later change.
fn link_preview(text: &str) -> Option<wagate_domain::engine::LinkPreview> {
    text.split_whitespace()
        .find(|w| w.starts_with("https://") || w.starts_with("http://"))
        .map(|url| wagate_domain::engine::LinkPreview {
            url: url.to_owned(),
            title: None,
            description: None,
        })
}
