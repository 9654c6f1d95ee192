//! `X-Request-Id` (api.md §1.13): a caller's value of 1–128 visible ASCII characters is kept,
//! anything else is replaced by a fresh ULID; the value is echoed on every response and names the
//! request's log span (5xx answers are logged at `error`, the rest at `debug`).
//!
//! The outermost layer, wrapped around the whole router (see `router.rs`). Hand-written rather
//! than `from_fn`: no boxed future, no per-request clone of the inner service.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use tower::{Layer, Service};
use tracing::Span;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=128).contains(&bytes.len()) && bytes.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// A fresh ULID, formatted without an intermediate `String`.
fn fresh_id() -> HeaderValue {
    let mut buf = [0u8; ulid::ULID_LEN];
    let text = ulid::Ulid::new().array_to_str(&mut buf);
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("invalid"))
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RequestIdLayer;

impl<S> Layer<S> for RequestIdLayer {
    type Service = RequestId<S>;

    fn layer(&self, inner: S) -> RequestId<S> {
        RequestId { inner }
    }
}

#[derive(Debug, Clone)]
pub struct RequestId<S> {
    inner: S,
}

impl<S> Service<Request> for RequestId<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let id = match req.headers().get(&X_REQUEST_ID) {
            Some(value) if acceptable(value) => value.clone(),
            _ => fresh_id(),
        };
        req.headers_mut().insert(X_REQUEST_ID.clone(), id.clone());
        let span = tracing::info_span!(
            "request",
            method = %req.method(),
            path = %req.uri().path(),
            // Visible ASCII (checked above, or a ULID), so always valid UTF-8.
            request_id = %id.to_str().unwrap_or_default(),
        );
        let started = Instant::now();
        let future = span.in_scope(|| self.inner.call(req));
        ResponseFuture {
            future,
            span,
            id: Some(id),
            started,
        }
    }
}

pin_project_lite::pin_project! {
    /// Runs the inner future inside the request's span; logs and echoes the id when it ends.
    pub struct ResponseFuture<F> {
        #[pin]
        future: F,
        span: Span,
        id: Option<HeaderValue>,
        started: Instant,
    }
}

impl<F> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let Ok(mut response) = ready!(this.future.poll(cx));
        let status = response.status().as_u16();
        let elapsed_ms = this.started.elapsed().as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::error!(status, elapsed_ms, "request failed");
        } else {
            tracing::debug!(status, elapsed_ms, "request");
        }
        if let Some(id) = this.id.take() {
            response.headers_mut().insert(X_REQUEST_ID.clone(), id);
        }
        Poll::Ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt as _;

    #[test]
    fn accepts_only_visible_ascii_up_to_128() {
        assert!(acceptable(&HeaderValue::from_static("abc-123")));
        assert!(!acceptable(&HeaderValue::from_static("")));
        assert!(!acceptable(&HeaderValue::from_static("has space")));
        assert!(!acceptable(
            &HeaderValue::from_str(&"x".repeat(129)).unwrap()
        ));
    }

    /// The handler sees the same id the caller gets back.
    async fn call(header: Option<&str>) -> (String, String) {
        let app =
            Router::new().route(
                "/",
                get(|req: Request| async move {
                    req.headers()[&X_REQUEST_ID].to_str().unwrap().to_owned()
                }),
            );
        let svc = RequestIdLayer.layer(app);
        let mut req = Request::builder().uri("/");
        if let Some(h) = header {
            req = req.header(&X_REQUEST_ID, h);
        }
        let res = svc.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        let echoed = res.headers()[&X_REQUEST_ID].to_str().unwrap().to_owned();
        let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
        (echoed, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_valid_id_is_kept_otherwise_a_fresh_ulid_is_used_and_echoed() {
        assert_eq!(
            call(Some("abc-123")).await,
            ("abc-123".into(), "abc-123".into())
        );
        for header in [None, Some("has space")] {
            let (echoed, seen) = call(header).await;
            assert_eq!(echoed, seen);
            assert!(echoed.parse::<ulid::Ulid>().is_ok(), "{echoed}");
        }
    }
}
