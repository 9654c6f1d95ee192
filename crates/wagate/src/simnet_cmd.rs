//! `wagate simnet`: a standalone simulated WhatsApp network (a test double) on its own listener:
//! `/healthz`, the control API under `/_sim/`, and the engine endpoint that
//! `wagate serve --engine sim --simnet-url …` nodes connect to. State lives in memory, so it
//! outlives node restarts.

use std::net::SocketAddr;

use anyhow::Context as _;
use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;

/// Runs the network on `listen` until SIGTERM or SIGINT.
pub async fn run(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let network = wagate_simnet::Network::new(wagate_simnet::SimTimings::default());
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
    tracing::info!("simnet: stopped");
    Ok(())
}

/// `/healthz`, the control API and the engine endpoint over `network`.
pub fn router(network: wagate_simnet::Network) -> Router {
    Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
        )
        .merge(wagate_simnet::engine_router(network.clone()))
        .merge(wagate_simnet::control_router(network))
}
