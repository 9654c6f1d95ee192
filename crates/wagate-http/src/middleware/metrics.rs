//! Request metrics by route template and status, and a latency histogram (Prometheus).
//!
//! A route layer (only matched routes know their template). Hand-written rather than `from_fn`,
//! and with the metric handles of each (route, method, status) built once and kept: the
//! `metrics::counter!`/`histogram!` macros would allocate the label strings and look the series
//! up in the recorder on every request.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::Response;
use metrics::{Counter, Histogram};
use tower::{Layer, Service};

pub const REQUESTS: &str = "wagate_http_requests_total";
pub const DURATION: &str = "wagate_http_request_duration_seconds";
pub const SESSIONS: &str = "wagate_sessions";

/// Counts a request no route matched (always answered `404`).
pub fn record_unmatched() {
    metrics::counter!(REQUESTS, "method" => "any", "route" => "unmatched", "status" => "404")
        .increment(1);
}

/// The handles of one (method, status) of a route.
struct Series {
    method: Method,
    status: u16,
    requests: Counter,
    duration: Histogram,
}

/// Handles by route template, then (method, status): a handful per route, so a short list.
#[derive(Default)]
struct Handles {
    by_route: RwLock<HashMap<Arc<str>, Vec<Series>>>,
}

impl Series {
    fn is(&self, method: &Method, status: u16) -> bool {
        self.status == status && self.method == method
    }

    fn record(&self, seconds: f64) {
        self.requests.increment(1);
        self.duration.record(seconds);
    }
}

impl Handles {
    fn record(&self, route: &str, method: &Method, status: u16, seconds: f64) {
        let known = self.by_route.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(series) = known
            .get(route)
            .and_then(|v| v.iter().find(|s| s.is(method, status)))
        {
            series.record(seconds);
            return;
        }
        drop(known);
        // First request of this (route, method, status): register its series once.
        let mut by_route = self
            .by_route
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let all = by_route.entry(Arc::from(route)).or_default();
        if let Some(series) = all.iter().find(|s| s.is(method, status)) {
            series.record(seconds);
            return;
        }
        let (m, r) = (method.to_string(), route.to_owned());
        let series = Series {
            method: method.clone(),
            status,
            requests: metrics::counter!(REQUESTS, "method" => m.clone(), "route" => r.clone(), "status" => status.to_string()),
            duration: metrics::histogram!(DURATION, "method" => m, "route" => r),
        };
        series.record(seconds);
        all.push(series);
    }
}

/// Counts and times every matched request (installed with `route_layer`).
#[derive(Clone, Default)]
pub struct MetricsLayer {
    handles: Arc<Handles>,
}

impl<S> Layer<S> for MetricsLayer {
    type Service = RecordMetrics<S>;

    fn layer(&self, inner: S) -> RecordMetrics<S> {
        RecordMetrics {
            inner,
            handles: self.handles.clone(),
        }
    }
}

#[derive(Clone)]
pub struct RecordMetrics<S> {
    inner: S,
    handles: Arc<Handles>,
}

impl<S> Service<Request> for RecordMetrics<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let started = Instant::now();
        let route = req.extensions().get::<MatchedPath>().cloned();
        let method = req.method().clone();
        ResponseFuture {
            future: self.inner.call(req),
            started,
            route,
            method,
            handles: self.handles.clone(),
        }
    }
}

pin_project_lite::pin_project! {
    pub struct ResponseFuture<F> {
        #[pin]
        future: F,
        started: Instant,
        route: Option<MatchedPath>,
        method: Method,
        handles: Arc<Handles>,
    }
}

impl<F> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(response) = ready!(this.future.poll(cx));
        let route = this.route.as_ref().map_or("unmatched", MatchedPath::as_str);
        this.handles.record(
            route,
            this.method,
            response.status().as_u16(),
            this.started.elapsed().as_secs_f64(),
        );
        Poll::Ready(Ok(response))
    }
}
