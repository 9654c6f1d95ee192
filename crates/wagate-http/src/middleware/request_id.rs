//! `X-Request-Id` (api.md §1.13): a caller's value of 1–128 visible ASCII characters is kept,
//! anything else is replaced by a fresh ULID; the value is echoed on every response.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=128).contains(&bytes.len()) && bytes.iter().all(|b| (0x21..=0x7e).contains(b))
}

pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .filter(|v| acceptable(v))
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&ulid::Ulid::new().to_string())
                .unwrap_or(HeaderValue::from_static("invalid"))
        });
    req.headers_mut().insert(X_REQUEST_ID.clone(), id.clone());
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = %String::from_utf8_lossy(id.as_bytes()),
    );
    let mut response = {
        let _enter = span.enter();
        next.run(req)
    }
    .await;
    response.headers_mut().insert(X_REQUEST_ID.clone(), id);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_visible_ascii_up_to_128() {
        assert!(acceptable(&HeaderValue::from_static("abc-123")));
        assert!(!acceptable(&HeaderValue::from_static("")));
        assert!(!acceptable(&HeaderValue::from_static("has space")));
        assert!(!acceptable(
            &HeaderValue::from_str(&"x".repeat(129)).unwrap()
        ));
    }
}
