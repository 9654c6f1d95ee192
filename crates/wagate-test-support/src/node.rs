//! A real node on 127.0.0.1 over a fresh database, with helpers to mint credentials and call
//! the API.

use std::sync::Arc;

use reqwest::{Method, RequestBuilder};
use serde_json::Value;
use tokio::net::TcpListener;
use wagate::config::{EngineKind, ServeConfig, StoreConfig};
use wagate::node::{BOOTSTRAP_KEY_FILE, Node};
use wagate_domain::{
    CapabilitySet, Clock, Event, EventPayload, OrgId, SessionId, Store, SystemClock,
};
use wagate_service::{ApiKeyService, CreateApiKey, OrganizationService};

use crate::db::TestDatabase;

/// A running node. Dropping it without [`TestNode::stop`] aborts the server task.
pub struct TestNode {
    node: Option<Node>,
    pub db: TestDatabase,
    pub base: String,
    /// The first-run key of organization `default` (every permission).
    pub key: String,
    pub client: reqwest::Client,
    store: Arc<dyn Store>,
    /// The simnet control API's base URL when the node joined a standalone simnet.
    sim_base: Option<String>,
}

/// An answer, read whole: status, headers and the body as JSON (`null` when empty, a string when
/// not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// `error.code` of an error envelope.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// `error.message` of an error envelope.
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }
}

/// A key minted for a test, with its organization.
#[derive(Debug, Clone)]
pub struct TestKey {
    pub org: OrgId,
    pub key: String,
    pub id: String,
}

impl TestNode {
    /// A node with test defaults: no per-credential rate limit.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A node whose configuration `tweak` adjusts before start.
    pub async fn start_with(tweak: impl FnOnce(&mut ServeConfig)) -> Self {
        let db = TestDatabase::from_env().await;
        Self::start_on(db, tweak).await
    }

    /// A node on an existing database (e.g. to restart over the same data).
    pub async fn start_on(db: TestDatabase, tweak: impl FnOnce(&mut ServeConfig)) -> Self {
        let mut config = ServeConfig::with_store(StoreConfig {
            data_dir: db.data_dir().to_path_buf(),
            database_url: Some(db.url().to_owned()),
        });
        config.rate_limit_per_second = 0;
        config.engine = EngineKind::Sim;
        config.reconnect_base = std::time::Duration::from_millis(20);
        tweak(&mut config);
        let sim_base = config.simnet_url.clone();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let node = Node::start(config, listener).await.expect("start node");
        let base = format!("http://{}", node.addr);
        let key = std::fs::read_to_string(db.data_dir().join(BOOTSTRAP_KEY_FILE))
            .expect("bootstrap key file")
            .trim()
            .to_owned();
        let store = wagate_store::open(db.url()).await.expect("open store");
        Self {
            node: Some(node),
            db,
            base,
            key,
            client: reqwest::Client::new(),
            store,
            sim_base,
        }
    }

    /// Graceful shutdown; returns the database so a test can start again on it.
    pub async fn stop(mut self) -> TestDatabase {
        if let Some(node) = self.node.take() {
            node.shutdown().await.expect("clean shutdown");
        }
        self.store.close().await;
        self.db
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request with no credential.
    pub fn anon(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request with `key` as a Bearer token.
    pub fn with_key(&self, key: &str, method: Method, path: &str) -> RequestBuilder {
        self.anon(method, path).bearer_auth(key)
    }

    /// Sends `method path` with `key` as Bearer (none when `None`) and `body` as JSON.
    pub async fn call(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Reply {
        let mut req = match key {
            Some(k) => self.with_key(k, method, path),
            None => self.anon(method, path),
        };
        if let Some(body) = body {
            req = req.json(body);
        }
        read_reply(req.send().await.expect("request reaches the node")).await
    }

    /// `GET path` with the bootstrap key.
    pub async fn get(&self, path: &str) -> Reply {
        self.call(Some(&self.key), Method::GET, path, None).await
    }

    /// `method path` with the bootstrap key and an optional JSON body.
    pub async fn request(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        self.call(Some(&self.key), method, path, body).await
    }

    /// `POST path` with the bootstrap key and a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Some(&self.key), Method::POST, path, Some(&body))
            .await
    }

    /// A request with the bootstrap (all-permission) key.
    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.with_key(&self.key, method, path)
    }

    /// The store under the node, for arranging data the API cannot create.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// A new organization with a key holding `perms` (e.g. `"read,send"`).
    pub async fn new_org_key(&self, perms: &str) -> TestKey {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let org = OrganizationService::new(self.store.clone(), clock)
            .create(&format!("org-{}", ulid::Ulid::new()))
            .await
            .expect("create org");
        self.key_in(&org.id, perms, None).await
    }

    /// A key in `org` holding `perms`, optionally limited to `sessions`.
    pub async fn key_in(
        &self,
        org: &OrgId,
        perms: &str,
        sessions: Option<Vec<SessionId>>,
    ) -> TestKey {
        let created = ApiKeyService::new(self.store.clone(), Arc::new(SystemClock))
            .create_in(
                org,
                CreateApiKey {
                    name: Some("test".into()),
                    permissions: CapabilitySet::parse_list(perms).expect("perms"),
                    sessions,
                    expires_at: None,
                },
            )
            .await
            .expect("create key");
        TestKey {
            org: org.clone(),
            key: created.raw.expose().to_owned(),
            id: created.key.id.to_string(),
        }
    }

    /// The organization of the bootstrap key.
    pub async fn default_org(&self) -> OrgId {
        self.store
            .find_organization("default")
            .await
            .expect("query")
            .expect("default org")
            .id
    }

    /// A call to the simulated network's control API (no credential): the node's own, or the
    /// standalone simnet's it joined.
    pub async fn sim(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let Some(base) = &self.sim_base else {
            return self.call(None, method, path, body.as_ref()).await;
        };
        let mut req = self.client.request(method, format!("{base}{path}"));
        if let Some(body) = &body {
            req = req.json(body);
        }
        read_reply(req.send().await.expect("request reaches simnet")).await
    }

    /// Creates a simulated phone (idempotent).
    pub async fn sim_phone(&self, phone: &str) {
        let body = serde_json::json!({"phone": phone, "name": format!("Phone {phone}")});
        let reply = self.sim(Method::POST, "/_sim/phones", Some(body)).await;
        assert!(matches!(reply.status, 200 | 201), "create phone: {reply:?}");
    }

    /// Starts QR pairing of `session` and has `phone` scan the code.
    pub async fn pair_by_qr(&self, session: &str, phone: &str) {
        self.sim_phone(phone).await;
        let qr = self.get(&format!("/api/v1/sessions/{session}/qr")).await;
        assert_eq!(qr.status, 200, "qr: {qr:?}");
        let code = qr.body["code"].as_str().expect("qr code");
        let scan = self
            .sim(
                Method::POST,
                &format!("/_sim/phones/{phone}:scan"),
                Some(serde_json::json!({"qr": code})),
            )
            .await;
        assert_eq!(scan.status, 204, "scan: {scan:?}");
    }

    /// Polls the session until `done` holds (10 s at most) and returns it.
    pub async fn wait_until(&self, session: &str, done: impl Fn(&Value) -> bool) -> Value {
        let path = format!("/api/v1/sessions/{session}");
        let mut last = Value::Null;
        for _ in 0..400 {
            last = self.get(&path).await.body;
            if done(&last) {
                return last;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("session {session} never reached the expected state; last: {last}");
    }

    /// Polls until the session's status is `status`.
    pub async fn wait_for_status(&self, session: &str, status: &str) -> Value {
        self.wait_until(session, |s| s["status"] == status).await
    }

    /// Subscribes to the node's event bus.
    pub fn events(&self) -> tokio::sync::broadcast::Receiver<Arc<Event>> {
        self.node.as_ref().expect("node running").bus().subscribe()
    }

    /// The events of `session` received so far (until 300 ms pass without one), as
    /// `(type, status)` pairs (`status` is empty for non-status events).
    pub async fn drain_events(
        &self,
        rx: &mut tokio::sync::broadcast::Receiver<Arc<Event>>,
        session: &str,
    ) -> Vec<(String, String)> {
        let mut seen = Vec::new();
        while let Ok(Ok(event)) =
            tokio::time::timeout(std::time::Duration::from_millis(300), rx.recv()).await
        {
            if event.session.as_str() != session {
                continue;
            }
            let status = match &event.payload {
                EventPayload::SessionStatus { status, .. } => status.as_str().to_owned(),
                _ => String::new(),
            };
            seen.push((event.event_type().to_owned(), status));
        }
        seen
    }

    /// Creates a session with the bootstrap key and returns its id.
    pub async fn create_session(&self, label: &str) -> String {
        let reply = self
            .post("/api/v1/sessions", serde_json::json!({ "label": label }))
            .await;
        assert_eq!(reply.status, 201, "create session: {:?}", reply.body);
        reply.body["id"].as_str().expect("id").to_owned()
    }
}

/// Reads an answer whole.
async fn read_reply(res: reqwest::Response) -> Reply {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.expect("read body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// A standalone simulated network on loopback (what `wagate simnet` serves), for nodes that
/// must outlive each other over the same phones: start nodes with `simnet_url = sim.base`.
pub struct StandaloneSimnet {
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

impl StandaloneSimnet {
    pub async fn start() -> Self {
        let network = wagate_simnet::Network::new(wagate_simnet::SimTimings::default());
        let router = axum::Router::new()
            .merge(wagate_simnet::engine_router(network.clone()))
            .merge(wagate_simnet::control_router(network));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("local addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { base, task }
    }
}

impl Drop for StandaloneSimnet {
    fn drop(&mut self) {
        self.task.abort();
    }
}
