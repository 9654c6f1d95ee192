//! Sent messages stored in group commits ([`GroupCommit`]). Every synchronous send stores its
//! message (and touches its chat) before it answers; sends in flight together are stored in one
//! transaction ([`MessageStore::record_messages`]).
//!
//! A DM's chat is stored under its canonical JID (its LID when the phone number maps to
//! exactly one), resolved here once per distinct recipient of a batch.

use std::collections::HashMap;
use std::sync::Arc;

use wagate_domain::{ChatKind, ChatTouch, MessageStore, NewMessage, StoreResult};

use super::group_commit::{Batch, GroupCommit};

/// Cheap to clone; clones share the queue.
#[derive(Clone)]
pub(crate) struct SentRecords {
    group: GroupCommit<SentBatch>,
}

struct SentBatch {
    store: Arc<dyn MessageStore>,
}

impl SentRecords {
    pub(crate) fn new(store: Arc<dyn MessageStore>) -> Self {
        Self {
            group: GroupCommit::new(SentBatch { store }),
        }
    }

    /// Stores `row` and touches `chat` (both under the chat's canonical JID, which is
    /// returned) in the next group commit.
    pub(crate) async fn record(&self, chat: ChatTouch, row: NewMessage) -> StoreResult<String> {
        self.group.submit((chat, row)).await
    }
}

impl Batch for SentBatch {
    type Item = (ChatTouch, NewMessage);
    type Output = String;

    async fn write_all(&self, batch: &mut [(ChatTouch, NewMessage)]) -> StoreResult<Vec<String>> {
        canonicalize(self.store.as_ref(), batch).await?;
        self.store.record_messages(batch).await?;
        Ok(batch.iter().map(|(_, row)| row.chat_jid.clone()).collect())
    }

    async fn write_one(&self, mut item: (ChatTouch, NewMessage)) -> StoreResult<String> {
        canonicalize(self.store.as_ref(), std::slice::from_mut(&mut item)).await?;
        let (chat, row) = item;
        self.store.record_message(&chat, &row).await?;
        Ok(row.chat_jid)
    }
}

/// Stores each DM under its canonical JID, looked up once per distinct recipient.
async fn canonicalize(
    store: &dyn MessageStore,
    batch: &mut [(ChatTouch, NewMessage)],
) -> StoreResult<()> {
    let mut canonical: HashMap<String, String> = HashMap::new();
    for (chat, row) in batch
        .iter_mut()
        .filter(|(chat, _)| chat.kind == ChatKind::Dm)
    {
        let jid = match canonical.get(&chat.jid) {
            Some(jid) => jid.clone(),
            None => {
                let jid = store.canonical_dm_jid(&chat.jid).await?;
                canonical.insert(chat.jid.clone(), jid.clone());
                jid
            }
        };
        row.chat_jid.clone_from(&jid);
        chat.jid = jid;
    }
    Ok(())
}
