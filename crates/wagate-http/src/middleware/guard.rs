//! The layer between the request id (and CORS) and the router: catches panics (`500
//! internal`, see [`envelope::panic_response`]), enforces the deadline (`503`, see
//! [`deadline::timed_out`]) and gives axum's bare `405` the envelope
//! ([`envelope::method_not_allowed`]), in that order from the outside in.
//!
//! One hand-written layer wrapped around the whole router instead of three `from_fn` /
//! `CatchPanicLayer` layers on every route: no boxed future, no boxed body, no per-request
//! clones of the inner service.

use std::any::Any;
use std::convert::Infallible;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::response::Response;
use tokio::time::Timeout;
use tower::{Layer, Service};

use super::{deadline, envelope};

#[derive(Debug, Clone, Copy)]
pub struct GuardLayer {
    deadline: Duration,
}

impl GuardLayer {
    pub fn new(deadline: Duration) -> Self {
        Self { deadline }
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Guard<S> {
        Guard {
            inner,
            deadline: self.deadline,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Guard<S> {
    inner: S,
    deadline: Duration,
}

impl<S> Service<Request> for Guard<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = GuardFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        match catch_unwind(AssertUnwindSafe(|| self.inner.call(req))) {
            Ok(future) => GuardFuture::Running {
                future: tokio::time::timeout(self.deadline, future),
            },
            Err(panic) => GuardFuture::Panicked { panic: Some(panic) },
        }
    }
}

pin_project_lite::pin_project! {
    #[project = GuardProj]
    pub enum GuardFuture<F> {
        Running { #[pin] future: Timeout<F> },
        Panicked { panic: Option<Box<dyn Any + Send + 'static>> },
    }
}

impl<F> Future for GuardFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let response = match self.project() {
            GuardProj::Running { future } => {
                match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(Ok(Ok(response)))) => envelope::method_not_allowed(response),
                    Ok(Poll::Ready(Err(_elapsed))) => deadline::timed_out(),
                    Err(panic) => envelope::panic_response(panic),
                }
            }
            GuardProj::Panicked { panic } => {
                envelope::panic_response(panic.take().expect("polled after completion"))
            }
        };
        Poll::Ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::{get, post};
    use serde_json::Value;
    use tower::ServiceExt as _;

    fn app(deadline: Duration) -> Guard<Router> {
        let app = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    "done"
                }),
            )
            .route(
                "/panic",
                get(|| async {
                    if true {
                        panic!("boom");
                    }
                    "unreachable"
                }),
            )
            .route("/post-only", post(|| async { "posted" }));
        GuardLayer::new(deadline).layer(app)
    }

    async fn call(svc: Guard<Router>, path: &str) -> (Response, Value) {
        let req = Request::builder().uri(path).body(Body::empty()).unwrap();
        let res = svc.oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        let body = axum::body::to_bytes(body, 1024).await.unwrap();
        let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        (Response::from_parts(parts, Body::empty()), value)
    }

    #[tokio::test]
    async fn past_the_deadline_is_503_request_timed_out() {
        let (res, v) = call(app(Duration::from_millis(20)), "/slow").await;
        assert_eq!(res.status(), 503);
        assert!(res.headers().contains_key("retry-after"));
        assert_eq!(v["error"]["code"], "gateway_unavailable");
        assert_eq!(v["error"]["message"], "request timed out");
    }

    #[tokio::test]
    async fn within_the_deadline_passes_through() {
        let (res, _) = call(app(Duration::from_secs(5)), "/slow").await;
        assert_eq!(res.status(), 200);
    }

    #[tokio::test]
    async fn a_panicking_handler_is_500_internal() {
        let (res, v) = call(app(Duration::from_secs(5)), "/panic").await;
        assert_eq!(res.status(), 500);
        assert_eq!(v["error"]["code"], "internal");
    }

    #[tokio::test]
    async fn a_bare_405_gets_the_envelope_and_keeps_allow() {
        let (res, v) = call(app(Duration::from_secs(5)), "/post-only").await;
        assert_eq!(res.status(), 405);
        assert_eq!(res.headers()["allow"], "POST");
        assert_eq!(v["error"]["code"], "method_not_allowed");
    }
}
