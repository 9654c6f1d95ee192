//! Background upkeep that runs on a timer until shutdown (event retention, expired tickets,
//! revocations made elsewhere): one loop shape for all of them.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Runs `work` every `every` — the first time at once, never two at a time — until `stop`.
pub(crate) fn spawn_periodic<F, Fut>(every: Duration, stop: CancellationToken, mut work: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            work().await;
        }
    });
}
