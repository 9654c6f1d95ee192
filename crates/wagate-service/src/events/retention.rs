//! Retention (D7, events.md §6): finished webhook deliveries, then events, older than the
//! configured age are deleted in batches, so a large backlog never holds a long write lock.
//! Deliveries go first: an event still owed to a receiver is kept by the log's own rule.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;
use wagate_domain::{Clock, EventLog, StoreResult, WebhookStore};

use crate::periodic::spawn_periodic;

/// Rows deleted per statement.
const BATCH: u32 = 1_000;

/// Prunes every `every` until `stop` (a `max_age` of zero keeps everything: no task runs).
pub fn spawn_retention(
    log: Arc<dyn EventLog>,
    webhooks: Arc<dyn WebhookStore>,
    clock: Arc<dyn Clock>,
    max_age: Duration,
    every: Duration,
    stop: CancellationToken,
) {
    if max_age.is_zero() {
        return;
    }
    let max_age_ms = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
    spawn_periodic(every, stop.clone(), move || {
        let (log, webhooks, clock, stop) =
            (log.clone(), webhooks.clone(), clock.clone(), stop.clone());
        async move {
            let before = clock.now_ms().saturating_sub(max_age_ms);
            prune("webhook deliveries", &stop, || {
                webhooks.prune_deliveries(before, BATCH)
            })
            .await;
            prune("events", &stop, || log.prune_events(before, BATCH)).await;
        }
    });
}

/// Runs one batch delete until a batch comes back short.
async fn prune<'a>(
    what: &str,
    stop: &CancellationToken,
    batch: impl Fn() -> BoxFuture<'a, StoreResult<u64>>,
) {
    let mut total = 0u64;
    loop {
        match batch().await {
            Ok(n) => {
                total += n;
                if n < u64::from(BATCH) || stop.is_cancelled() {
                    break;
                }
                // Let other writers in between batches.
                tokio::task::yield_now().await;
            }
            Err(err) => {
                tracing::warn!(%err, what, "retention failed");
                break;
            }
        }
    }
    if total > 0 {
        tracing::info!(pruned = total, what, "old rows pruned");
    }
}
