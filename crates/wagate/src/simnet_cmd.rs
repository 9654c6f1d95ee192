//! `wagate simnet`: a standalone simulated WhatsApp network (a test double) on its own listener:
//! `/healthz`, the control API under `/_sim/`, and the engine endpoint that
//! `wagate serve --engine sim --simnet-url …` nodes connect to. State lives in memory, so it
//! outlives node restarts, and with `--state FILE` also simnet restarts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;
use wagate_simnet::{Network, SimTimings, StateFile};

/// How long after a change the state file is saved (changes in a burst are saved once).
const SAVE_DEBOUNCE: Duration = Duration::from_millis(500);

/// Runs the network on `listen` until SIGTERM or SIGINT, keeping it in `state` when given.
pub async fn run(
    listen: SocketAddr,
    state: Option<PathBuf>,
    timings: SimTimings,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let (network, saver) = match state {
        Some(path) => {
            let file = StateFile::new(path);
            let network = file
                .load(timings)
                .await
                .with_context(|| format!("loading simnet state {}", file.path().display()))?;
            tracing::info!(state = %file.path().display(), "simnet: state file loaded");
            let saver = file.keep_saved(network.clone(), SAVE_DEBOUNCE);
            (network, Some(saver))
        }
        None => (Network::new(timings), None),
    };
    tracing::warn!(
        listen = %listener.local_addr()?,
        "simnet serving: a SIMULATED WhatsApp network (test double), not WhatsApp"
    );
    axum::serve(listener, router(network))
        .with_graceful_shutdown(async {
            crate::node::shutdown_signal().await;
            tracing::info!("simnet: shutting down");
        })
        .await
        .context("serving simnet")?;
    if let Some(saver) = saver {
        saver.finish().await.context("saving simnet state")?;
    }
    tracing::info!("simnet: stopped");
    Ok(())
}

/// `/healthz`, the control API and the engine endpoint over `network`.
pub fn router(network: Network) -> Router {
    Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
        )
        .merge(wagate_simnet::engine_router(network.clone()))
        .merge(wagate_simnet::control_router(network))
}
