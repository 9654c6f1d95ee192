//! A running node: store, services and HTTP server, with first-run bootstrap and graceful
//! shutdown. `serve` runs one until SIGTERM/SIGINT; tests start them on loopback.

use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use anyhow::Context as _;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use wagate_domain::{Clock, Engine, RetryPolicy, Store, SystemClock, TokenVerifier};
use wagate_http::{ExtraRoutes, HttpOptions, RateLimit, Services};
use wagate_jwks::{JwksConfig, JwksVerifier};
use wagate_service::{
    ApiKeyService, Authenticator, Backoff, ChannelService, EventJournal, EventStreams,
    GroupService, GroupUpdates, InProcessBus, InboundPipeline, ManagerConfig, MessagingService,
    OrganizationService, OutboxConfig, OutboxWorker, RealtimeTickets, Revocations, SessionDefaults,
    SessionManager, SessionService, WebhookConfig, WebhookDispatcher, bootstrap_if_empty,
    spawn_retention, spawn_revocation_watcher, spawn_ticket_pruning,
};

use crate::config::{EngineKind, ServeConfig};
use crate::secret_key::webhook_secret_key;

/// Name of the file the first-run key is written to (D2).
pub const BOOTSTRAP_KEY_FILE: &str = "bootstrap-api-key";

/// How often old events are pruned.
const RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// How often the store is asked for keys revoked by another process (their streams close).
const REVOCATION_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// How often expired realtime tickets are deleted.
const TICKET_PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// How long shutdown lets asynchronous sends in flight finish.
const OUTBOX_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// The process-wide Prometheus recorder (metrics macros need a global one).
fn metrics_handle() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets(&[
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0,
        ])
        .context("configuring metrics buckets")?
        .install_recorder()
        .context("installing the metrics recorder")?;
    Ok(HANDLE.get_or_init(|| handle).clone())
}

fn write_bootstrap_key(data_dir: &Path, key: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = data_dir.join(BOOTSTRAP_KEY_FILE);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    writeln!(file, "{key}")?;
    Ok(())
}

fn webhook_config(config: &ServeConfig) -> anyhow::Result<WebhookConfig> {
    let w = &config.webhooks;
    Ok(WebhookConfig {
        allow_private: w.allow_private,
        timeout: w.timeout,
        disable_after: w.disable_after,
        default_policy: RetryPolicy::exponential(w.retry_delay_seconds, w.retry_attempts),
        secret_key: webhook_secret_key(w.secret_key.as_deref(), &config.store.data_dir)?,
    })
}

fn verifier(config: &ServeConfig) -> anyhow::Result<Option<Arc<dyn TokenVerifier>>> {
    let Some(jwt) = &config.jwt else {
        return Ok(None);
    };
    let mut jwks = JwksConfig::new(&jwt.jwks_url, &jwt.issuer, &jwt.audience);
    jwks.org_claim = jwt.org_claim.clone();
    jwks.org_role_claim = jwt.org_role_claim.clone();
    jwks.role_claim = jwt.role_claim.clone();
    let v = JwksVerifier::new(jwks).context("configuring JWT verification")?;
    Ok(Some(Arc::new(v)))
}

/// The engine a node's sessions connect through, and the simnet control routes when the
/// engine is simulated (never mounted with the real engine, D6).
fn engine(config: &ServeConfig) -> anyhow::Result<(Arc<dyn Engine>, Option<ExtraRoutes>)> {
    let data_dir = &config.store.data_dir;
    match config.engine {
        EngineKind::Whatsapp => {
            let engine = wagate_engine_whatsapp::WhatsAppEngine::new(
                data_dir.join("keystore"),
                config.device_name.clone(),
            );
            Ok((Arc::new(engine), None))
        }
        EngineKind::Sim => {
            if let Some(url) = &config.simnet_url {
                tracing::warn!(
                    simnet = %url,
                    "engine `sim`: sessions connect to a standalone simnet, a SIMULATED WhatsApp network"
                );
                // The control API is served by the standalone simnet, not by this node.
                let engine =
                    wagate_simnet::RemoteSimEngine::new(url.clone(), data_dir.join("sim-devices"));
                return Ok((Arc::new(engine), None));
            }
            tracing::warn!(
                "engine `sim`: sessions connect to simnet, a SIMULATED WhatsApp network"
            );
            let network = wagate_simnet::Network::new(wagate_simnet::SimTimings::default());
            let engine =
                wagate_simnet::SimEngine::new(network.clone(), data_dir.join("sim-devices"));
            let routes = ExtraRoutes {
                router: wagate_simnet::control_router(network),
                action_verbs: wagate_simnet::CONTROL_ACTION_VERBS,
            };
            Ok((Arc::new(engine), Some(routes)))
        }
    }
}

/// A node serving on a bound listener.
pub struct Node {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
    bus: InProcessBus,
}

impl Node {
    /// Opens the store, bootstraps an empty one, and serves on `listener` until
    /// [`Node::shutdown`].
    pub async fn start(config: ServeConfig, listener: TcpListener) -> anyhow::Result<Self> {
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let prepared = prepare(&config).await?;
        let bus = prepared.bus.clone();
        let task = tokio::spawn(run(config, prepared, listener, async {
            let _ = rx.await;
        }));
        Ok(Self {
            addr,
            shutdown: Some(tx),
            task,
            bus,
        })
    }

    /// The node's event bus (tests subscribe to it).
    pub fn bus(&self) -> &InProcessBus {
        &self.bus
    }

    /// Stops accepting, finishes in-flight requests, closes the store.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.await.context("node task panicked")?
    }
}

struct Prepared {
    store: Arc<dyn Store>,
    router: axum::Router,
    /// Kept to end realtime streams when shutdown begins.
    services: Arc<Services>,
    manager: SessionManager,
    outbox: OutboxWorker,
    dispatcher: WebhookDispatcher,
    journal: EventJournal,
    /// Cancelled at shutdown: background work that owns no state (event retention).
    background: CancellationToken,
    bus: InProcessBus,
}

async fn prepare(config: &ServeConfig) -> anyhow::Result<Prepared> {
    std::fs::create_dir_all(&config.store.data_dir).with_context(|| {
        format!(
            "creating data directory {}",
            config.store.data_dir.display()
        )
    })?;
    let url = config.store.url();
    let stores = wagate_store::open_stores(&url)
        .await
        .context("opening the store")?;
    let store = stores.core.clone();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let orgs = OrganizationService::new(store.clone(), clock.clone());
    let revocations = Revocations::default();
    let api_keys =
        ApiKeyService::new(store.clone(), clock.clone()).with_revocations(revocations.clone());
    if let Some(boot) = bootstrap_if_empty(&orgs, &api_keys, store.as_ref()).await? {
        write_bootstrap_key(&config.store.data_dir, boot.key.raw.expose())?;
        tracing::info!(
            organization = %boot.organization.id,
            file = %config.store.data_dir.join(BOOTSTRAP_KEY_FILE).display(),
            "first run: created organization `default` and an API key with every permission"
        );
        println!("{}", boot.key.raw.expose());
    }
    let (engine, extra_routes) = engine(config)?;
    let bus = InProcessBus::default();
    // Producers publish through the journal: logged first with their webhook deliveries, then
    // on the bus; the dispatcher wakes when deliveries were created (D5).
    let deliveries_due = Arc::new(Notify::new());
    let journal = EventJournal::start(stores.events.clone(), bus.clone(), deliveries_due.clone());
    let (webhooks, dispatcher) = wagate_service::webhooks::start(
        stores.webhooks.clone(),
        store.clone(),
        clock.clone(),
        deliveries_due,
        webhook_config(config)?,
    )
    .context("starting webhook delivery")?;
    let background = CancellationToken::new();
    spawn_retention(
        stores.events.clone(),
        stores.webhooks.clone(),
        clock.clone(),
        config.event_retention,
        RETENTION_EVERY,
        background.clone(),
    );
    spawn_revocation_watcher(
        store.clone(),
        clock.clone(),
        revocations.clone(),
        REVOCATION_POLL,
        background.clone(),
    );
    spawn_ticket_pruning(
        store.clone(),
        clock.clone(),
        TICKET_PRUNE_EVERY,
        background.clone(),
    );
    let manager = SessionManager::new(
        store.clone(),
        engine,
        clock.clone(),
        Arc::new(journal.clone()),
        ManagerConfig {
            gateway_id: config.node_id.clone(),
            backoff: Backoff {
                base: config.reconnect_base,
                cap: config.reconnect_cap,
            },
            max_concurrent_connects: config.max_concurrent_connects,
            ..ManagerConfig::default()
        },
    );
    let messaging = Arc::new(
        MessagingService::new(stores.messages.clone(), manager.clone(), clock.clone())
            .with_key_ttl(config.idempotency_key_ttl),
    );
    let group_updates = Arc::new(GroupUpdates::new(
        stores.groups.clone(),
        Arc::new(journal.clone()),
        clock.clone(),
    ));
    let groups = GroupService::new(group_updates.clone(), manager.clone());
    let channels = ChannelService::new(
        manager.clone(),
        messaging.clone(),
        Arc::new(journal.clone()),
        clock.clone(),
    );
    let services = Arc::new(Services {
        store: store.clone(),
        clock: clock.clone(),
        authenticator: Authenticator::new(store.clone(), verifier(config)?, clock.clone()),
        sessions: SessionService::new(
            store.clone(),
            clock.clone(),
            SessionDefaults {
                gateway_id: config.node_id.clone(),
                rate_per_min: config.default_rate_per_min,
                rate_per_hour: config.default_rate_per_hour,
            },
            manager.clone(),
        ),
        api_keys,
        messaging: messaging.clone(),
        events: EventStreams::new(
            stores.events.clone(),
            bus.clone(),
            revocations,
            clock.clone(),
        ),
        tickets: RealtimeTickets::new(store.clone(), clock.clone()),
        groups,
        channels,
        webhooks,
    });
    manager.set_inbound(Arc::new(InboundPipeline::new(
        stores.messages.clone(),
        group_updates,
        Arc::new(journal.clone()),
        clock.clone(),
    )));
    let options = HttpOptions {
        cors_origins: config.cors_origins.clone(),
        request_timeout: config.request_timeout,
        rate_limit: RateLimit {
            per_second: config.rate_limit_per_second,
            burst: config.rate_limit_burst,
        },
        public_url: config.public_url.clone(),
        ..HttpOptions::default()
    };
    let router = wagate_http::router(services.clone(), metrics_handle()?, &options, extra_routes);
    let outbox = OutboxWorker::start(
        messaging,
        store.clone(),
        Arc::new(journal.clone()),
        bus.subscribe(),
        clock.clone(),
        OutboxConfig::default(),
    );
    manager.restore().await.context("restoring sessions")?;
    Ok(Prepared {
        store,
        router,
        services,
        manager,
        outbox,
        dispatcher,
        journal,
        background,
        bus,
    })
}

async fn run(
    config: ServeConfig,
    prepared: Prepared,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stopping_tx, stopping_rx) = oneshot::channel::<()>();
    let services = prepared.services.clone();
    let signal = async move {
        shutdown.await;
        // Open realtime streams end now (WebSockets with close code 1000), so they neither hold
        // the graceful shutdown up nor outlive it.
        services.events.close_all();
        let _ = stopping_tx.send(());
        tracing::info!("shutting down: finishing in-flight requests");
    };
    let server = axum::serve(listener, prepared.router).with_graceful_shutdown(signal);
    let mut server = std::pin::pin!(server.into_future());
    // Past the grace period after shutdown begins, stop waiting for stragglers.
    let result = tokio::select! {
        r = &mut server => r.map_err(anyhow::Error::from),
        () = async {
            let _ = stopping_rx.await;
            tokio::time::sleep(config.shutdown_timeout).await;
        } => {
            tracing::warn!("shutdown grace period over; dropping remaining connections");
            Ok(())
        }
    };
    // Disconnect sessions without changing their stored status, so they resume on next boot.
    prepared.outbox.shutdown(OUTBOX_GRACE).await;
    prepared.manager.shutdown().await;
    prepared.background.cancel();
    prepared.journal.flush().await;
    // Attempts in flight get a moment; unrecorded ones are retried after their lease.
    prepared.dispatcher.shutdown(OUTBOX_GRACE).await;
    prepared.store.close().await;
    tracing::info!("stopped");
    result
}

/// `wagate serve`: runs until SIGTERM or SIGINT.
pub async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    tracing::info!(listen = %listener.local_addr()?, backend = ?wagate_store::Backend::of_url(&config.store.url()).ok(), "wagate serving");
    let prepared = prepare(&config).await?;
    run(config, prepared, listener, shutdown_signal()).await
}

/// Resolves on SIGTERM or SIGINT.
pub(crate) async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = int.recv() => tracing::info!("SIGINT received"),
    }
}
