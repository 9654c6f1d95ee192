//! Outbox outcomes (sent, failed, back to queued) stored in group commits ([`GroupCommit`]):
//! the drains of many sessions, and idempotent sync sends, finish their rows together in one
//! transaction instead of one each. Each caller still waits until its own row is committed, so
//! a session's next claim never sees its previous row still `sending`.

use std::sync::Arc;

use wagate_domain::{MessageStore, OutboxOutcome, StoreResult};

use super::group_commit::{Batch, GroupCommit};

/// Cheap to clone; clones share the queue.
#[derive(Clone)]
pub(crate) struct OutboxOutcomes {
    group: GroupCommit<OutcomeBatch>,
}

struct OutcomeBatch {
    store: Arc<dyn MessageStore>,
}

impl OutboxOutcomes {
    pub(crate) fn new(store: Arc<dyn MessageStore>) -> Self {
        Self {
            group: GroupCommit::new(OutcomeBatch { store }),
        }
    }

    /// Records `outcome` in the next group commit.
    pub(crate) async fn record(&self, outcome: OutboxOutcome) -> StoreResult<()> {
        self.group.submit(outcome).await
    }
}

impl Batch for OutcomeBatch {
    type Item = OutboxOutcome;
    type Output = ();

    async fn write(&self, outcomes: Vec<OutboxOutcome>) -> Vec<StoreResult<()>> {
        match self.store.finish_outbox(&outcomes).await {
            Ok(()) => outcomes.iter().map(|_| Ok(())).collect(),
            Err(err) if outcomes.len() == 1 => vec![Err(err)],
            // A failed transaction records none of them: each is tried alone.
            Err(_) => {
                let mut results = Vec::with_capacity(outcomes.len());
                for outcome in outcomes {
                    results.push(self.store.finish_outbox(&[outcome]).await);
                }
                results
            }
        }
    }
}
