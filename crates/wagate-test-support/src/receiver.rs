//! A webhook receiver on `127.0.0.1:<random port>` that records every request (headers, raw
//! body, arrival time) and answers as told: fail the first N attempts, always fail, or hold each
//! answer for a while.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;
use tokio::task::JoinHandle;

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub at: Instant,
    /// The status it was answered with.
    pub status: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    /// `X-Webhook-Request-Id`: the event id.
    pub fn event_id(&self) -> String {
        self.header("x-webhook-request-id")
            .unwrap_or_default()
            .to_owned()
    }
}

#[derive(Default)]
struct Behaviour {
    /// Attempts answered 500 before the receiver starts answering 200, per event id.
    fail_first: usize,
    always_fail: bool,
    delay: Duration,
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    behaviour: Mutex<Behaviour>,
    hits: AtomicUsize,
}

/// Stops serving when dropped.
pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Receiver {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let addr = listener.local_addr().expect("receiver address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, shared, task }
    }

    /// `http://127.0.0.1:<port>/hook`.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Answer 500 to the first `n` attempts of every event, then 200.
    pub fn fail_first(&self, n: usize) {
        self.behaviour().fail_first = n;
    }

    /// Answer 500 to everything while `on`.
    pub fn always_fail(&self, on: bool) {
        self.behaviour().always_fail = on;
    }

    /// Hold every answer for `delay`.
    pub fn delay(&self, delay: Duration) {
        self.behaviour().delay = delay;
    }

    /// How many requests reached the receiver.
    pub fn hits(&self) -> usize {
        self.shared.hits.load(Ordering::SeqCst)
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until `done` holds for what was received, or panics after `wait`.
    pub async fn wait_for(
        &self,
        wait: Duration,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + wait;
        loop {
            let got = self.received();
            if done(&got) {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "receiver: condition not met within {wait:?}; got {} requests",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    fn behaviour(&self) -> std::sync::MutexGuard<'_, Behaviour> {
        self.shared
            .behaviour
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    shared.hits.fetch_add(1, Ordering::SeqCst);
    let at = Instant::now();
    let headers: HashMap<String, String> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let (delay, status) = {
        let b = shared
            .behaviour
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let id = headers
            .get("x-webhook-request-id")
            .cloned()
            .unwrap_or_default();
        let earlier = shared
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|r| r.event_id() == id)
            .count();
        let fail = b.always_fail || earlier < b.fail_first;
        (
            b.delay,
            if fail {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::OK
            },
        )
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    shared
        .received
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Received {
            headers,
            body: body.to_vec(),
            at,
            status: status.as_u16(),
        });
    status
}
