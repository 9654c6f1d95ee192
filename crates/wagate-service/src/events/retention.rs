//! Event retention (D7): events older than the configured age are deleted in batches, so a
//! large backlog never holds a long write lock.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use wagate_domain::{Clock, EventLog};

use crate::periodic::spawn_periodic;

/// Events deleted per statement.
const BATCH: u32 = 1_000;

/// Prunes every `every` until `stop` (a `max_age` of zero keeps everything: no task runs).
pub fn spawn_retention(
    log: Arc<dyn EventLog>,
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
        let (log, clock, stop) = (log.clone(), clock.clone(), stop.clone());
        async move {
            let before = clock.now_ms().saturating_sub(max_age_ms);
            let mut total = 0u64;
            loop {
                match log.prune_events(before, BATCH).await {
                    Ok(n) => {
                        total += n;
                        if n < u64::from(BATCH) || stop.is_cancelled() {
                            break;
                        }
                        // Let other writers in between batches.
                        tokio::task::yield_now().await;
                    }
                    Err(err) => {
                        tracing::warn!(%err, "event retention failed");
                        break;
                    }
                }
            }
            if total > 0 {
                tracing::info!(pruned = total, "old events pruned");
            }
        }
    });
}
