//! What the in-process benchmarks (`inbound`, `webhooks`) build before they measure: a fresh
//! SQLite store with one organization and its sessions, and wagate's inbound pipeline wired as
//! a node wires it, with a simulated client per session.

use std::path::Path;
use std::sync::Arc;

use anyhow::bail;
use wagate_domain::{
    Clock as _, Engine as _, EngineClient, EventPublisher, NewSession, OpenMode, OrgId,
    Organization, Session, SessionId, SystemClock,
};
use wagate_service::{GroupUpdates, InboundPipeline};

/// A fresh store in `data_dir` (which must not exist yet).
pub struct FreshStore {
    pub stores: wagate_store::Stores,
    pub url: String,
    pub sessions: Vec<Session>,
}

impl FreshStore {
    /// Creates the database with one organization and `sessions` sessions (at least one) that
    /// never read-receipt or type: the engine is out of these benchmarks.
    pub async fn create(data_dir: &Path, sessions: u64) -> anyhow::Result<Self> {
        if data_dir.exists() {
            bail!("{} exists; give a fresh directory", data_dir.display());
        }
        std::fs::create_dir_all(data_dir)?;
        let url = wagate_store::sqlite_url_for_data_dir(data_dir);
        let stores = wagate_store::open_stores(&url).await?;
        let now = SystemClock.now_ms();
        let org = Organization {
            id: OrgId::generate(),
            name: "bench".into(),
            created_at: now,
        };
        stores.core.insert_organization(&org).await?;
        let mut created = Vec::new();
        for _ in 0..sessions.max(1) {
            let session = NewSession {
                organization_id: org.id.clone(),
                created_by_user_id: None,
                gateway_id: "gw-1".into(),
                label: None,
                auto_read: false,
                presence_typing: false,
                rate_per_min: 0,
                rate_per_hour: 0,
            }
            .into_session(SessionId::generate(), now);
            stores.core.insert_session(&session).await?;
            created.push(session);
        }
        Ok(Self {
            stores,
            url,
            sessions: created,
        })
    }

    /// The inbound pipeline over this store, publishing through `events`.
    pub fn pipeline(&self, events: Arc<dyn EventPublisher>) -> InboundPipeline {
        let groups = Arc::new(GroupUpdates::new(
            self.stores.groups.clone(),
            events.clone(),
            Arc::new(SystemClock),
        ));
        InboundPipeline::new(
            self.stores.messages.clone(),
            groups,
            events,
            Arc::new(SystemClock),
        )
    }
}

/// One simulated client per session. The pipeline's handler wants the session's live client;
/// with auto-read off it is never called, so a pairing connection's client does.
pub async fn clients(
    data_dir: &Path,
    sessions: &[Session],
) -> anyhow::Result<Vec<Arc<dyn EngineClient>>> {
    let engine = wagate_simnet::SimEngine::new(
        wagate_simnet::Network::new(wagate_simnet::SimTimings::default()),
        data_dir.join("sim-devices"),
    );
    let mut out = Vec::new();
    for session in sessions {
        let link = engine.open(&session.id, OpenMode::PairQr).await?;
        out.push(Arc::from(link.client));
    }
    Ok(out)
}
