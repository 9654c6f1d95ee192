//! Outbox outcomes (sent, failed, back to queued) stored in group commits
//! ([`super::group_commit::GroupCommit`]): the drains of many sessions, and idempotent sync
//! sends, finish their rows together in one transaction instead of one each. Each caller still
//! waits until its own row is committed, so a session's next claim never sees its previous row
//! still `sending`.

use std::sync::Arc;

use wagate_domain::{MessageStore, OutboxOutcome, StoreResult};

use super::group_commit::Batch;

pub(crate) struct OutcomeBatch {
    pub(crate) store: Arc<dyn MessageStore>,
}

impl Batch for OutcomeBatch {
    type Item = OutboxOutcome;
    type Output = ();

    async fn write_all(&self, outcomes: &mut [OutboxOutcome]) -> StoreResult<Vec<()>> {
        self.store.finish_outbox(outcomes).await?;
        Ok(vec![(); outcomes.len()])
    }

    async fn write_one(&self, outcome: OutboxOutcome) -> StoreResult<()> {
        self.store.finish_outbox(&[outcome]).await
    }
}
