//! Configuration: flags win over `WAGATE_*` environment variables, which win over the optional
//! TOML file, which wins over the defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use serde::Deserialize;

/// Which WhatsApp network sessions connect to: the real one, or simnet (a test double).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    Whatsapp,
    Sim,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the data lives; shared by every command.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub data_dir: PathBuf,
    /// `None` = the embedded SQLite file in `data_dir`.
    pub database_url: Option<String>,
}

impl StoreConfig {
    pub fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| wagate_store::sqlite_url_for_data_dir(&self.data_dir))
    }
}

/// JWT verification against a JWKS (api.md §1.3, D2).
#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub jwks_url: String,
    pub issuer: String,
    pub audience: String,
    pub org_claim: String,
    pub org_role_claim: String,
    pub role_claim: String,
}

/// Everything `wagate serve` needs, resolved.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub store: StoreConfig,
    pub engine: EngineKind,
    pub jwt: Option<JwtConfig>,
    pub cors_origins: Vec<String>,
    pub log_format: LogFormat,
    pub node_id: String,
    pub rate_limit_per_second: u32,
    pub rate_limit_burst: u32,
    pub request_timeout: Duration,
    pub shutdown_timeout: Duration,
    pub default_rate_per_min: i32,
    pub default_rate_per_hour: i32,
    /// With `--engine sim`: join a standalone simnet instead of running one in-process.
    pub simnet_url: Option<String>,
    /// Reconnect backoff: first ceiling and cap (D7: 1 s, 2 min).
    pub reconnect_base: Duration,
    pub reconnect_cap: Duration,
    /// Events older than this are pruned (D7: 30 days); zero keeps all.
    pub event_retention: Duration,
    /// How long an `Idempotency-Key` stays bound to its first send (D4: 24 h).
    pub idempotency_key_ttl: Duration,
    /// Sessions connecting at once (boot restore and reconnects).
    pub max_concurrent_connects: usize,
    /// Companion name shown on the phone (domain.md §4.4).
    pub device_name: String,
    /// Public base URL realtime ticket URLs are built on (events.md §4.4).
    pub public_url: Option<String>,
    /// Webhook delivery settings (D5).
    pub webhooks: WebhookSettings,
}

/// `--webhook-*` flags.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Deliver to loopback and private addresses too (tests, trusted networks).
    pub allow_private: bool,
    /// Base64 AES-256 key for secrets at rest; `None`: `<data-dir>/webhook-secret.key`.
    pub secret_key: Option<String>,
    /// Overall limit of one attempt (events.md §5.6: 30 s).
    pub timeout: Duration,
    /// A webhook failing continuously this long is disabled (D5: 24 h).
    pub disable_after: Duration,
    /// Retry policy of webhooks created without one (events.md §5.5: 2 s, 15 attempts).
    pub retry_delay_seconds: i64,
    pub retry_attempts: i64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            secret_key: None,
            timeout: Duration::from_secs(30),
            disable_after: Duration::from_secs(24 * 3600),
            retry_delay_seconds: 2,
            retry_attempts: 15,
        }
    }
}

impl ServeConfig {
    /// Defaults for a node on `data_dir` (used by tests; `serve` resolves flags on top).
    pub fn with_store(store: StoreConfig) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            store,
            engine: EngineKind::Whatsapp,
            jwt: None,
            cors_origins: Vec::new(),
            log_format: LogFormat::Text,
            node_id: "gw-1".into(),
            rate_limit_per_second: 100,
            rate_limit_burst: 200,
            request_timeout: Duration::from_secs(15),
            shutdown_timeout: Duration::from_secs(30),
            default_rate_per_min: 20,
            default_rate_per_hour: 200,
            simnet_url: None,
            reconnect_base: Duration::from_secs(1),
            reconnect_cap: Duration::from_secs(120),
            idempotency_key_ttl: Duration::from_secs(24 * 3600),
            event_retention: Duration::from_secs(30 * 24 * 3600),
            max_concurrent_connects: 32,
            device_name: "wagate".into(),
            webhooks: WebhookSettings::default(),
            public_url: None,
        }
    }
}

/// The optional TOML file: same names as the long flags, with underscores.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub engine: Option<EngineKind>,
    pub jwks_url: Option<String>,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    pub jwt_org_claim: Option<String>,
    pub jwt_org_role_claim: Option<String>,
    pub jwt_role_claim: Option<String>,
    pub cors_origins: Option<Vec<String>>,
    pub log_format: Option<LogFormat>,
    pub node_id: Option<String>,
    pub rate_limit_per_second: Option<u32>,
    pub rate_limit_burst: Option<u32>,
    pub request_timeout: Option<String>,
    pub shutdown_timeout: Option<String>,
    pub default_rate_per_min: Option<i32>,
    pub default_rate_per_hour: Option<i32>,
    pub simnet_url: Option<String>,
    pub reconnect_base: Option<String>,
    pub reconnect_cap: Option<String>,
    pub idempotency_key_ttl: Option<String>,
    pub event_retention: Option<String>,
    pub max_concurrent_connects: Option<usize>,
    pub device_name: Option<String>,
    pub webhook_allow_private: Option<bool>,
    pub webhook_secret_key: Option<String>,
    pub webhook_timeout: Option<String>,
    pub webhook_disable_after: Option<String>,
    pub webhook_retry_delay: Option<i64>,
    pub webhook_retry_attempts: Option<i64>,
    pub public_url: Option<String>,
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))
    }
}

/// Parses `30s`, `15m`, `30d`… (humantime).
pub fn parse_duration(raw: &str) -> anyhow::Result<Duration> {
    humantime::parse_duration(raw).with_context(|| format!("invalid duration {raw:?}"))
}
