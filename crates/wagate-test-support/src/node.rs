//! A real node on 127.0.0.1 over a fresh database, with helpers to mint credentials and call
//! the API.

use std::sync::Arc;

use reqwest::{Method, RequestBuilder};
use tokio::net::TcpListener;
use wagate::config::{ServeConfig, StoreConfig};
use wagate::node::{BOOTSTRAP_KEY_FILE, Node};
use wagate_domain::{CapabilitySet, Clock, OrgId, SessionId, Store, SystemClock};
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
        tweak(&mut config);
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

    /// Creates a session with the bootstrap key and returns its id.
    pub async fn create_session(&self, label: &str) -> String {
        let res = self
            .req(Method::POST, "/api/v1/sessions")
            .json(&serde_json::json!({ "label": label }))
            .send()
            .await
            .expect("create session");
        assert_eq!(res.status(), 201, "create session");
        let body: serde_json::Value = res.json().await.expect("json");
        body["id"].as_str().expect("id").to_owned()
    }
}
