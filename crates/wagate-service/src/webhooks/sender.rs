//! One HTTP attempt of a delivery (events.md §5.3–5.5, D5): headers in the contract's order,
//! both signature schemes, no redirects, one overall timeout, and the target checked again.

use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use ring::hmac;

use super::target::{self, TargetPolicy};

/// How much of a failed response's body goes into `lastError`.
const ERROR_BODY_BYTES: usize = 4096;
/// How much of any response body is read before the connection is dropped.
const READ_BODY_BYTES: usize = 64 * 1024;

/// What one attempt produced: `error` is `None` exactly when it succeeded (a 2xx answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    pub response_code: Option<i32>,
    pub error: Option<String>,
}

impl AttemptResult {
    fn failed(error: impl Into<String>) -> Self {
        Self {
            response_code: None,
            error: Some(error.into()),
        }
    }
}

/// What to send: the target, the signing secret in clear, and the envelope as logged.
pub struct Request<'a> {
    pub url: &'a str,
    pub custom_headers: &'a std::collections::BTreeMap<String, String>,
    pub secret: Option<&'a str>,
    pub event_id: &'a str,
    pub body: &'a str,
    pub now_ms: i64,
}

/// The delivery client, shared by every webhook (one connection pool per target host).
#[derive(Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    policy: TargetPolicy,
}

impl WebhookSender {
    pub fn new(policy: TargetPolicy, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .dns_resolver(policy.resolver())
            .user_agent(concat!("wagate-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, policy })
    }

    pub async fn send(&self, req: Request<'_>) -> AttemptResult {
        let url = match target::parse(req.url) {
            Ok(url) => url,
            Err(err) => return AttemptResult::failed(err.to_string()),
        };
        // A literal address never reaches the resolver, so it is checked here.
        if let Some(ip) = target::literal_ip(&url)
            && let Err(err) = self.policy.admit(ip)
        {
            return AttemptResult::failed(err.to_string());
        }
        let response = self
            .client
            .post(url)
            .headers(headers(&req))
            .body(req.body.to_owned())
            .send()
            .await;
        let mut response = match response {
            Ok(r) => r,
            Err(err) => return AttemptResult::failed(transport_error(&err)),
        };
        let status = response.status();
        let mut body = Vec::new();
        while body.len() < READ_BODY_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(err) => {
                    return AttemptResult {
                        response_code: Some(i32::from(status.as_u16())),
                        error: Some(transport_error(&err)),
                    };
                }
            }
        }
        let code = Some(i32::from(status.as_u16()));
        if status.is_success() {
            return AttemptResult {
                response_code: code,
                error: None,
            };
        }
        body.truncate(ERROR_BODY_BYTES);
        let text = String::from_utf8_lossy(&body);
        AttemptResult {
            response_code: code,
            error: Some(format!(
                "non-2xx status {}: {}",
                status.as_u16(),
                text.trim()
            )),
        }
    }
}

/// The request's headers; later entries win, so custom headers cannot override ours (§5.3).
fn headers(req: &Request<'_>) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in req.custom_headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            map.insert(n, v);
        }
    }
    let timestamp_s = req.now_ms.div_euclid(1000);
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::try_from(value) {
            map.insert(HeaderName::from_static(name), v);
        }
    };
    set("content-type", "application/json".into());
    set("x-webhook-request-id", req.event_id.to_owned());
    set("x-webhook-timestamp", req.now_ms.to_string());
    set("webhook-id", req.event_id.to_owned());
    set("webhook-timestamp", timestamp_s.to_string());
    if let Some(secret) = req.secret.filter(|s| !s.is_empty()) {
        set("x-webhook-hmac", contract_signature(secret, req.body));
        set("x-webhook-hmac-algorithm", "sha512".into());
        set(
            "webhook-signature",
            standard_signature(secret, req.event_id, timestamp_s, req.body),
        );
    }
    map
}

/// `X-Webhook-Hmac`: lowercase hex HMAC-SHA512 of the raw body (events.md §5.4).
pub fn contract_signature(secret: &str, body: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA512, secret.as_bytes());
    hex(hmac::sign(&key, body.as_bytes()).as_ref())
}

/// `webhook-signature` (Standard Webhooks): `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`,
/// keyed with the secret's UTF-8 bytes (D5).
pub fn standard_signature(secret: &str, id: &str, timestamp_s: i64, body: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let signed = format!("{id}.{timestamp_s}.{body}");
    let tag = hmac::sign(&key, signed.as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
    )
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The transport error with its causes: reqwest's own text alone says only "error sending".
fn transport_error(err: &reqwest::Error) -> String {
    let mut text = if err.is_timeout() {
        "timed out".to_owned()
    } else {
        err.to_string()
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_signature_matches_the_reference_vector() {
        assert_eq!(
            contract_signature("key", "The quick brown fox jumps over the lazy dog"),
            "b42af09057bac1e2d41708e48a902e09b5ff7f12ab428a4fe86653c73dd248fb82f948a549f7b791a5b41915ee4d1ec3935357e4e2317250d0372afa2ebeeb3a"
        );
    }

    #[test]
    fn custom_headers_cannot_override_ours() {
        let custom = [
            ("Content-Type".to_owned(), "text/plain".to_owned()),
            ("X-Webhook-Request-Id".to_owned(), "spoofed".to_owned()),
            ("X-Team".to_owned(), "crm".to_owned()),
        ]
        .into_iter()
        .collect();
        let req = Request {
            url: "http://example.com",
            custom_headers: &custom,
            secret: Some("s"),
            event_id: "evt_1",
            body: "{}",
            now_ms: 1_700_000_000_123,
        };
        let h = headers(&req);
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(h["x-webhook-request-id"], "evt_1");
        assert_eq!(h["x-team"], "crm");
        assert_eq!(h["webhook-timestamp"], "1700000000");
        assert_eq!(h["x-webhook-timestamp"], "1700000000123");
        assert_eq!(h["x-webhook-hmac-algorithm"], "sha512");
        assert!(h["webhook-signature"].to_str().unwrap().starts_with("v1,"));
    }

    #[test]
    fn no_secret_means_no_signature_headers() {
        let custom = Default::default();
        let req = Request {
            url: "http://example.com",
            custom_headers: &custom,
            secret: None,
            event_id: "evt_1",
            body: "{}",
            now_ms: 0,
        };
        let h = headers(&req);
        assert!(h.get("x-webhook-hmac").is_none());
        assert!(h.get("webhook-signature").is_none());
        assert_eq!(h["webhook-id"], "evt_1");
    }
}
