//! Revocation drops (events.md §4.6): open realtime streams of a revoked API key close.
//!
//! A revocation made through this process's REST API is announced at once. One made anywhere
//! else — `wagate keys revoke` in another process, another node of a cluster — only reaches the
//! shared store, so [`spawn_revocation_watcher`] polls the store's revocation times (an indexed
//! read of the few revoked keys) and announces what it finds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use wagate_domain::{ApiKeyId, Clock, Store};

use crate::periodic::spawn_periodic;

/// Revoked API keys as this process learns of them. Cheap to clone.
#[derive(Clone)]
pub struct Revocations {
    tx: broadcast::Sender<String>,
}

impl Default for Revocations {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(64).0,
        }
    }
}

impl Revocations {
    /// Closes the open streams of `id` (announcing a key twice is harmless).
    pub fn announce(&self, id: &ApiKeyId) {
        // No open stream is not an error.
        let _ = self.tx.send(id.to_string());
    }

    /// Credential ids (as [`Principal::credential_id`](wagate_domain::Principal)) revoked from
    /// now on.
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.tx.subscribe()
    }
}

/// How far back each poll looks past the previous one: revocation times are written by other
/// processes' clocks and become visible when their transaction commits, both a little late.
const OVERLAP_MS: i64 = 10_000;

/// Polls `store` every `every` for keys revoked since the last poll and announces them on
/// `revocations`, until `stop`.
pub fn spawn_revocation_watcher(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    revocations: Revocations,
    every: Duration,
    stop: CancellationToken,
) {
    let watcher = Arc::new(Mutex::new(Watcher {
        since: clock.now_ms(),
        announced: HashMap::new(),
    }));
    spawn_periodic(every, stop, move || {
        let (store, clock, revocations, watcher) = (
            store.clone(),
            clock.clone(),
            revocations.clone(),
            watcher.clone(),
        );
        async move {
            let now = clock.now_ms();
            let since = watcher.lock().map_or(now, |w| w.since);
            match store.api_keys_revoked_since(since - OVERLAP_MS).await {
                Ok(revoked) => {
                    let fresh = watcher
                        .lock()
                        .map(|mut w| w.fresh(revoked, now))
                        .unwrap_or_default();
                    for id in fresh {
                        tracing::info!(key = %id, "api key revoked elsewhere; closing its streams");
                        revocations.announce(&id);
                    }
                }
                Err(err) => tracing::warn!(%err, "cannot read revoked api keys"),
            }
        }
    });
}

/// What the watcher has seen, so the overlapping window announces each key once.
struct Watcher {
    since: i64,
    announced: HashMap<ApiKeyId, i64>,
}

impl Watcher {
    /// The keys of `revoked` not announced yet; moves the window to `now`.
    fn fresh(&mut self, revoked: Vec<(ApiKeyId, i64)>, now: i64) -> Vec<ApiKeyId> {
        let fresh = revoked
            .into_iter()
            .filter_map(|(id, at)| {
                self.announced
                    .insert(id.clone(), at)
                    .is_none()
                    .then_some(id)
            })
            .collect();
        self.since = now;
        let horizon = now - 2 * OVERLAP_MS;
        self.announced.retain(|_, at| *at >= horizon);
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overlapping_window_announces_each_key_once() {
        let a = ApiKeyId::generate();
        let b = ApiKeyId::generate();
        let mut w = Watcher {
            since: 0,
            announced: HashMap::new(),
        };
        assert_eq!(w.fresh(vec![(a.clone(), 100)], 1_000), vec![a.clone()]);
        assert_eq!(w.fresh(vec![(a, 100), (b.clone(), 900)], 2_000), vec![b]);
        assert_eq!(w.since, 2_000);
        // Long after, the memory is dropped (the store no longer returns those keys either).
        assert!(w.fresh(Vec::new(), 100_000).is_empty());
        assert!(w.announced.is_empty());
    }
}
