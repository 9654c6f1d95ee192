//! Inbound media download (D4): the bytes of a stored message's media, fetched live by the
//! session's engine and answered as the response body.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use wagate_domain::Capability;

use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{ApiPath, Caller};
use crate::state::AppState;

/// Download a message's media. `{mid}` is the WhatsApp message id, as in every other
/// `…/messages/{mid}` operation. `Content-Type` is the media's stored mimetype;
/// `Content-Disposition` names the file when the message carries a filename.
///
/// `404` for an unknown message, and also for a message without downloadable media (no media,
/// or one of this account's own sends, whose bytes wagate never keeps): the sub-resource does
/// not exist, the request itself is well formed.
#[utoipa::path(get, path = "/api/v1/sessions/{session}/messages/{mid}/media",
    operation_id = "getMessageMedia", tag = "Messages",
    params(("session" = String, Path), ("mid" = String, Path)),
    responses((status = 200, description = "The media bytes", body = [u8],
            content_type = "application/octet-stream"),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 501, body = ErrorEnvelope),
        (status = 503, body = ErrorEnvelope)))]
pub async fn download_media(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((session, mid)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let s = state
        .services
        .sessions
        .access(&p, &session, Capability::Read)
        .await?;
    let media = state.services.messaging.download_media(&s, &mid).await?;
    let content_type = HeaderValue::from_str(&media.mimetype)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let mut response = (
        [(header::CONTENT_TYPE, content_type)],
        Body::from(media.data),
    )
        .into_response();
    if let Some(disposition) = media.filename.as_deref().and_then(attachment) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266).
fn attachment(filename: &str) -> Option<HeaderValue> {
    let fallback: String = filename
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    ))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_names_the_file_safely() {
        assert_eq!(
            attachment("report.pdf").unwrap(),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        assert_eq!(
            attachment("a \"b\"é.txt").unwrap(),
            "attachment; filename=\"a _b__.txt\"; filename*=UTF-8''a%20%22b%22%C3%A9.txt"
        );
    }
}
