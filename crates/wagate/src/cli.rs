//! Command-line interface (clap). Every command works on `--data-dir` or `--database-url`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::config::{
    EngineKind, FileConfig, JwtConfig, LogFormat, ServeConfig, StoreConfig, WebhookSettings,
    parse_duration,
};
use crate::{commands, logging, node, simnet_cmd};

#[derive(Debug, Parser)]
#[command(name = "wagate", version, about = "Multi-tenant WhatsApp HTTP gateway")]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Optional TOML configuration file (flags and environment win over it).
    #[arg(long, global = true, env = "WAGATE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Directory for the embedded database and node-local files [default: ./wagate-data].
    #[arg(long, global = true, env = "WAGATE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` to share one database between nodes, or `sqlite://…` [default: SQLite in
    /// the data directory].
    #[arg(
        long,
        global = true,
        env = "WAGATE_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway.
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage organizations.
    #[command(subcommand)]
    Orgs(OrgsCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Work with a running node's sessions.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Run a standalone simnet: a SIMULATED WhatsApp network (test double) that nodes join with
    /// `serve --engine sim --simnet-url http://ADDR`.
    Simnet(SimnetArgs),
}

#[derive(Debug, Args)]
pub struct SimnetArgs {
    /// Address to listen on (loopback: the control API has no authentication).
    #[arg(long, env = "WAGATE_SIMNET_LISTEN", default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// File keeping the network's phones, groups and linked devices across restarts (loaded at
    /// start when present, saved shortly after changes and at shutdown).
    #[arg(long, env = "WAGATE_SIMNET_STATE")]
    pub state: Option<PathBuf>,
    /// How long the first QR code of a pairing attempt is valid, in milliseconds.
    #[arg(long, env = "WAGATE_SIMNET_QR_FIRST_MS", default_value_t = 60_000)]
    pub qr_first_ms: u64,
    /// How long each following QR code is valid, in milliseconds.
    #[arg(long, env = "WAGATE_SIMNET_QR_NEXT_MS", default_value_t = 20_000)]
    pub qr_next_ms: u64,
    /// How many QR codes a pairing attempt shows before it times out.
    #[arg(long, env = "WAGATE_SIMNET_QR_COUNT", default_value_t = 6)]
    pub qr_count: u32,
    /// How long opening a connection takes, in milliseconds.
    #[arg(long, env = "WAGATE_SIMNET_CONNECT_DELAY_MS", default_value_t = 0)]
    pub connect_delay_ms: u64,
    /// Log format [default: text].
    #[arg(long, env = "WAGATE_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// Show the session's current pairing QR code in the terminal (starts QR pairing if needed).
    Qr {
        /// Session id (`sess_…`).
        id: String,
        /// Base URL of the running node.
        #[arg(long, env = "WAGATE_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        /// API key with `manage` [default: the data directory's bootstrap key].
        #[arg(long, env = "WAGATE_API_KEY", hide_env_values = true)]
        key: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "WAGATE_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// WhatsApp engine [default: whatsapp].
    #[arg(long, env = "WAGATE_ENGINE", value_enum)]
    pub engine: Option<EngineKind>,
    /// JWKS URL for verifying bearer JWTs (enables JWT authentication).
    #[arg(long, env = "WAGATE_JWKS_URL")]
    pub jwks_url: Option<String>,
    /// Required `iss` of JWTs.
    #[arg(long, env = "WAGATE_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Required `aud` of JWTs.
    #[arg(long, env = "WAGATE_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Claim holding the active organization [default: activeOrganizationId].
    #[arg(long, env = "WAGATE_JWT_ORG_CLAIM")]
    pub jwt_org_claim: Option<String>,
    /// Claim holding the organization role [default: orgRole].
    #[arg(long, env = "WAGATE_JWT_ORG_ROLE_CLAIM")]
    pub jwt_org_role_claim: Option<String>,
    /// Claim holding the platform role [default: role].
    #[arg(long, env = "WAGATE_JWT_ROLE_CLAIM")]
    pub jwt_role_claim: Option<String>,
    /// Allowed browser origin (repeatable; `*` reflects any origin).
    #[arg(
        long = "cors-origin",
        env = "WAGATE_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
    /// Log format [default: text].
    #[arg(long, env = "WAGATE_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// This node's id, shown as a session's `gatewayId` [default: gw-1].
    #[arg(long, env = "WAGATE_NODE_ID")]
    pub node_id: Option<String>,
    /// Per-credential HTTP requests per second; 0 disables the limit [default: 100].
    #[arg(long, env = "WAGATE_RATE_LIMIT_PER_SECOND")]
    pub rate_limit_per_second: Option<u32>,
    /// Per-credential burst size [default: 200].
    #[arg(long, env = "WAGATE_RATE_LIMIT_BURST")]
    pub rate_limit_burst: Option<u32>,
    /// Deadline of one request, e.g. `15s` [default: 15s].
    #[arg(long, env = "WAGATE_REQUEST_TIMEOUT")]
    pub request_timeout: Option<String>,
    /// How long shutdown waits for in-flight requests [default: 30s].
    #[arg(long, env = "WAGATE_SHUTDOWN_TIMEOUT")]
    pub shutdown_timeout: Option<String>,
    /// Send budget per minute of new sessions [default: 20].
    #[arg(long, env = "WAGATE_DEFAULT_RATE_PER_MIN")]
    pub default_rate_per_min: Option<i32>,
    /// Send budget per hour of new sessions [default: 200].
    #[arg(long, env = "WAGATE_DEFAULT_RATE_PER_HOUR")]
    pub default_rate_per_hour: Option<i32>,
    /// With `--engine sim`: URL of a standalone `wagate simnet` to join.
    #[arg(long, env = "WAGATE_SIMNET_URL")]
    pub simnet_url: Option<String>,
    /// First reconnect backoff ceiling, e.g. `1s` [default: 1s].
    #[arg(long, env = "WAGATE_RECONNECT_BASE")]
    pub reconnect_base: Option<String>,
    /// Largest reconnect backoff, e.g. `2m` [default: 2m].
    #[arg(long, env = "WAGATE_RECONNECT_CAP")]
    pub reconnect_cap: Option<String>,
    /// How long an `Idempotency-Key` stays bound to its first send, e.g. `24h` [default: 24h].
    #[arg(long, env = "WAGATE_IDEMPOTENCY_KEY_TTL")]
    pub idempotency_key_ttl: Option<String>,
    /// Age past which events are pruned from the event log, e.g. `30d`; `0` keeps all
    /// [default: 30d].
    #[arg(long, env = "WAGATE_EVENT_RETENTION")]
    pub event_retention: Option<String>,
    /// Sessions connecting at once [default: 32].
    #[arg(long, env = "WAGATE_MAX_CONCURRENT_CONNECTS")]
    pub max_concurrent_connects: Option<usize>,
    /// Companion device name shown on the phone [default: wagate].
    #[arg(long, env = "WAGATE_DEVICE_NAME")]
    pub device_name: Option<String>,
    /// Let webhooks target loopback, private and link-local addresses (refused by default).
    #[arg(long, env = "WAGATE_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,
    /// Base64 32-byte key encrypting webhook secrets at rest; every node of a cluster needs the
    /// same one [default: generated into <data-dir>/webhook-secret.key].
    #[arg(long, env = "WAGATE_WEBHOOK_SECRET_KEY", hide_env_values = true)]
    pub webhook_secret_key: Option<String>,
    /// Time limit of one webhook attempt [default: 30s].
    #[arg(long, env = "WAGATE_WEBHOOK_TIMEOUT")]
    pub webhook_timeout: Option<String>,
    /// Disable a webhook that fails continuously for this long [default: 24h].
    #[arg(long, env = "WAGATE_WEBHOOK_DISABLE_AFTER")]
    pub webhook_disable_after: Option<String>,
    /// First retry delay, in seconds, of webhooks created without a policy [default: 2].
    #[arg(long, env = "WAGATE_WEBHOOK_RETRY_DELAY")]
    pub webhook_retry_delay: Option<i64>,
    /// Attempts before dead-lettering, for webhooks created without a policy [default: 15].
    #[arg(long, env = "WAGATE_WEBHOOK_RETRY_ATTEMPTS")]
    pub webhook_retry_attempts: Option<i64>,
    /// Public base URL of this gateway, e.g. `https://gw.example`; realtime tickets carry a
    /// `wss://` (or `ws://`) URL built on it [default: none, a relative path].
    #[arg(long, env = "WAGATE_PUBLIC_URL")]
    pub public_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum OrgsCommand {
    /// Create an organization.
    Create { name: String },
    /// List organizations (id, name).
    List,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; the key itself is printed alone on the last line.
    Create {
        /// Organization id or name.
        #[arg(long)]
        org: String,
        /// Comma-separated subset of read,send,manage,events.
        #[arg(long)]
        perms: String,
        #[arg(long)]
        name: Option<String>,
        /// Limit the key to these session ids (comma-separated).
        #[arg(long, value_delimiter = ',')]
        sessions: Option<Vec<String>>,
        /// Lifetime, e.g. `30d`.
        #[arg(long)]
        expires_in: Option<String>,
    },
    /// List keys: id, name, permissions, sessions, expiry, state.
    List {
        /// Organization id or name.
        #[arg(long)]
        org: Option<String>,
    },
    /// Revoke a key; it stops working on the next request.
    Revoke { id: String },
}

fn store_config(global: &GlobalArgs, file: &FileConfig) -> StoreConfig {
    StoreConfig {
        data_dir: global
            .data_dir
            .clone()
            .or_else(|| file.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from("./wagate-data")),
        database_url: global
            .database_url
            .clone()
            .or_else(|| file.database_url.clone()),
    }
}

/// Flags/env over file over defaults.
fn serve_config(
    args: ServeArgs,
    store: StoreConfig,
    file: FileConfig,
) -> anyhow::Result<ServeConfig> {
    let d = ServeConfig::with_store(store);
    let duration = |flag: Option<String>, file: Option<String>, default| {
        flag.or(file)
            .map_or(Ok(default), |raw| parse_duration(&raw))
    };
    let jwks_url = args.jwks_url.or(file.jwks_url);
    let jwt = match jwks_url {
        None => None,
        Some(jwks_url) => Some(JwtConfig {
            jwks_url,
            issuer: args
                .jwt_issuer
                .or(file.jwt_issuer)
                .context("--jwt-issuer is required with --jwks-url")?,
            audience: args
                .jwt_audience
                .or(file.jwt_audience)
                .context("--jwt-audience is required with --jwks-url")?,
            org_claim: args
                .jwt_org_claim
                .or(file.jwt_org_claim)
                .unwrap_or_else(|| "activeOrganizationId".into()),
            org_role_claim: args
                .jwt_org_role_claim
                .or(file.jwt_org_role_claim)
                .unwrap_or_else(|| "orgRole".into()),
            role_claim: args
                .jwt_role_claim
                .or(file.jwt_role_claim)
                .unwrap_or_else(|| "role".into()),
        }),
    };
    Ok(ServeConfig {
        listen: args.listen.or(file.listen).unwrap_or(d.listen),
        engine: args.engine.or(file.engine).unwrap_or(d.engine),
        jwt,
        cors_origins: if args.cors_origins.is_empty() {
            file.cors_origins.unwrap_or_default()
        } else {
            args.cors_origins
        },
        log_format: args.log_format.or(file.log_format).unwrap_or(d.log_format),
        node_id: args.node_id.or(file.node_id).unwrap_or(d.node_id),
        rate_limit_per_second: args
            .rate_limit_per_second
            .or(file.rate_limit_per_second)
            .unwrap_or(d.rate_limit_per_second),
        rate_limit_burst: args
            .rate_limit_burst
            .or(file.rate_limit_burst)
            .unwrap_or(d.rate_limit_burst),
        request_timeout: duration(
            args.request_timeout,
            file.request_timeout,
            d.request_timeout,
        )?,
        shutdown_timeout: duration(
            args.shutdown_timeout,
            file.shutdown_timeout,
            d.shutdown_timeout,
        )?,
        default_rate_per_min: args
            .default_rate_per_min
            .or(file.default_rate_per_min)
            .unwrap_or(d.default_rate_per_min),
        default_rate_per_hour: args
            .default_rate_per_hour
            .or(file.default_rate_per_hour)
            .unwrap_or(d.default_rate_per_hour),
        simnet_url: args.simnet_url.or(file.simnet_url),
        reconnect_base: duration(args.reconnect_base, file.reconnect_base, d.reconnect_base)?,
        reconnect_cap: duration(args.reconnect_cap, file.reconnect_cap, d.reconnect_cap)?,
        event_retention: duration(
            args.event_retention,
            file.event_retention,
            d.event_retention,
        )?,
        idempotency_key_ttl: duration(
            args.idempotency_key_ttl,
            file.idempotency_key_ttl,
            d.idempotency_key_ttl,
        )?,
        max_concurrent_connects: args
            .max_concurrent_connects
            .or(file.max_concurrent_connects)
            .unwrap_or(d.max_concurrent_connects),
        device_name: args
            .device_name
            .or(file.device_name)
            .unwrap_or(d.device_name),
        webhooks: WebhookSettings {
            allow_private: args.webhook_allow_private
                || file
                    .webhook_allow_private
                    .unwrap_or(d.webhooks.allow_private),
            secret_key: args.webhook_secret_key.or(file.webhook_secret_key),
            timeout: duration(
                args.webhook_timeout,
                file.webhook_timeout,
                d.webhooks.timeout,
            )?,
            disable_after: duration(
                args.webhook_disable_after,
                file.webhook_disable_after,
                d.webhooks.disable_after,
            )?,
            retry_delay_seconds: args
                .webhook_retry_delay
                .or(file.webhook_retry_delay)
                .unwrap_or(d.webhooks.retry_delay_seconds),
            retry_attempts: args
                .webhook_retry_attempts
                .or(file.webhook_retry_attempts)
                .unwrap_or(d.webhooks.retry_attempts),
        },
        public_url: public_url(args.public_url.or(file.public_url))?,
        store: d.store,
    })
}

/// An http(s) base URL, without a trailing slash.
fn public_url(raw: Option<String>) -> anyhow::Result<Option<String>> {
    let Some(raw) = raw.filter(|u| !u.trim().is_empty()) else {
        return Ok(None);
    };
    let url = raw.trim().trim_end_matches('/');
    anyhow::ensure!(
        url.starts_with("http://") || url.starts_with("https://"),
        "public_url must be an http:// or https:// URL, got {raw:?}"
    );
    Ok(Some(url.to_owned()))
}

/// Runs one parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let file = FileConfig::load(cli.global.config.as_deref())?;
    let store = store_config(&cli.global, &file);
    match cli.command {
        Command::Serve(args) => {
            let config = serve_config(*args, store, file)?;
            logging::init(config.log_format);
            node::serve(config).await
        }
        Command::Migrate => {
            logging::init(LogFormat::Text);
            commands::migrate(&store).await
        }
        Command::Orgs(cmd) => commands::orgs(&store, cmd).await,
        Command::Keys(cmd) => commands::keys(&store, cmd).await,
        Command::Sessions(cmd) => commands::sessions(&store, cmd).await,
        Command::Simnet(args) => {
            logging::init(
                args.log_format
                    .or(file.log_format)
                    .unwrap_or(LogFormat::Text),
            );
            let timings = wagate_simnet::SimTimings {
                first_qr: std::time::Duration::from_millis(args.qr_first_ms),
                next_qr: std::time::Duration::from_millis(args.qr_next_ms),
                qr_codes: args.qr_count,
                connect_delay: std::time::Duration::from_millis(args.connect_delay_ms),
            };
            simnet_cmd::run(args.listen, args.state, timings).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(args).unwrap()
    }

    #[test]
    fn flags_win_over_file_and_file_over_defaults() {
        let cli = parse(&["wagate", "serve", "--listen", "127.0.0.1:9000"]);
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        let file: FileConfig = toml::from_str(
            "listen = \"127.0.0.1:7000\"\nnode_id = \"n7\"\nrequest_timeout = \"3s\"",
        )
        .unwrap();
        let store = store_config(&cli.global, &file);
        let cfg = serve_config(*args, store, file).unwrap();
        assert_eq!(cfg.listen.port(), 9000);
        assert_eq!(cfg.node_id, "n7");
        assert_eq!(cfg.request_timeout.as_secs(), 3);
        assert_eq!(cfg.rate_limit_per_second, 100);
    }

    #[test]
    fn jwks_url_needs_issuer_and_audience() {
        let cli = parse(&["wagate", "serve", "--jwks-url", "http://127.0.0.1:1/jwks"]);
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        let store = store_config(&cli.global, &FileConfig::default());
        let err = serve_config(*args, store, FileConfig::default()).unwrap_err();
        assert!(err.to_string().contains("--jwt-issuer"));
    }

    #[test]
    fn public_url_must_be_http_and_loses_its_trailing_slash() {
        let serve = |flags: &[&str]| {
            let cli = parse(&[&["wagate", "serve"], flags].concat());
            let Command::Serve(args) = cli.command else {
                panic!("not serve")
            };
            let store = store_config(&cli.global, &FileConfig::default());
            serve_config(*args, store, FileConfig::default())
        };
        let cfg = serve(&["--public-url", "https://gw.example/"]).unwrap();
        assert_eq!(cfg.public_url.as_deref(), Some("https://gw.example"));
        assert_eq!(serve(&[]).unwrap().public_url, None);
        let err = serve(&["--public-url", "gw.example"]).unwrap_err();
        assert!(err.to_string().contains("public_url"), "{err}");
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        assert!(toml::from_str::<FileConfig>("lisen = \"x\"").is_err());
    }
}
