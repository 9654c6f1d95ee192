//! Sent messages stored in group commits. Every synchronous send stores its message (and
//! touches its chat) before it answers; with many sends in flight, one transaction per send
//! spends most of its time taking the database's write lock and committing. Sends that arrive
//! while a commit is running wait for the next one, which stores them all together
//! ([`MessageStore::record_messages`]): a lone send is stored at once, as before, and a busy
//! node commits fewer, larger transactions.
//!
//! A DM's chat is stored under its canonical JID (its LID when the phone number maps to
//! exactly one), resolved here once per distinct recipient of a batch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;
use wagate_domain::{ChatKind, ChatTouch, MessageStore, NewMessage, StoreError, StoreResult};

/// The most messages one transaction stores; more wait for the next.
const MAX_BATCH: usize = 256;

/// Cheap to clone; clones share the queue.
#[derive(Clone)]
pub(crate) struct SentRecords {
    shared: Arc<Shared>,
}

struct Shared {
    store: Arc<dyn MessageStore>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    pending: Vec<Pending>,
    /// Whether a writer task is running; it takes whatever is pending until nothing is.
    writing: bool,
}

struct Pending {
    chat: ChatTouch,
    row: NewMessage,
    done: oneshot::Sender<StoreResult<String>>,
}

impl SentRecords {
    pub(crate) fn new(store: Arc<dyn MessageStore>) -> Self {
        Self {
            shared: Arc::new(Shared {
                store,
                state: Mutex::default(),
            }),
        }
    }

    /// Stores `row` and touches `chat` (both under the chat's canonical JID, which is
    /// returned) in the next group commit.
    pub(crate) async fn record(&self, chat: ChatTouch, row: NewMessage) -> StoreResult<String> {
        let (done, answer) = oneshot::channel();
        let start_writer = {
            let mut state = self.shared.lock();
            state.pending.push(Pending { chat, row, done });
            !std::mem::replace(&mut state.writing, true)
        };
        if start_writer {
            // A task, not the caller: a caller that goes away (its client hung up) must not
            // strand the messages of the others.
            tokio::spawn(write_pending(self.shared.clone()));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Backend("sent message writer stopped".into())))
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Nothing runs under the lock that could leave the state half-changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Ends a writer (also by a panic): clears `writing`, or hands what is still pending to a new
/// writer — a send may have queued after the writer's last look and before this.
struct WriterGuard(Arc<Shared>);

impl Drop for WriterGuard {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.writing = !state.pending.is_empty();
        if state.writing {
            tokio::spawn(write_pending(self.0.clone()));
        }
    }
}

async fn write_pending(shared: Arc<Shared>) {
    let guard = WriterGuard(shared);
    loop {
        let batch: Vec<Pending> = {
            let mut state = guard.0.lock();
            if state.pending.is_empty() {
                return;
            }
            let n = state.pending.len().min(MAX_BATCH);
            state.pending.drain(..n).collect()
        };
        write_batch(guard.0.store.as_ref(), batch).await;
    }
}

async fn write_batch(store: &dyn MessageStore, mut batch: Vec<Pending>) {
    if let Err(err) = canonicalize(store, &mut batch).await {
        let message = err.to_string();
        for p in batch {
            let _ = p
                .done
                .send(Err(StoreError::Backend(message.clone().into())));
        }
        return;
    }
    let rows: Vec<(ChatTouch, NewMessage)> = batch
        .iter()
        .map(|p| (p.chat.clone(), p.row.clone()))
        .collect();
    match store.record_messages(&rows).await {
        Ok(_) => {
            for p in batch {
                let _ = p.done.send(Ok(p.row.chat_jid));
            }
        }
        Err(err) if batch.len() == 1 => {
            if let Some(p) = batch.pop() {
                let _ = p.done.send(Err(err));
            }
        }
        // One bad message must not fail the others: each is tried alone.
        Err(_) => {
            for p in batch {
                let result = store.record_message(&p.chat, &p.row).await;
                let _ = p.done.send(result.map(|_| p.row.chat_jid));
            }
        }
    }
}

/// Stores each DM under its canonical JID, looked up once per distinct recipient.
async fn canonicalize(store: &dyn MessageStore, batch: &mut [Pending]) -> StoreResult<()> {
    let mut canonical: HashMap<String, String> = HashMap::new();
    for p in batch.iter_mut().filter(|p| p.chat.kind == ChatKind::Dm) {
        let jid = match canonical.get(&p.chat.jid) {
            Some(jid) => jid.clone(),
            None => {
                let jid = store.canonical_dm_jid(&p.chat.jid).await?;
                canonical.insert(p.chat.jid.clone(), jid.clone());
                jid
            }
        };
        p.row.chat_jid.clone_from(&jid);
        p.chat.jid = jid;
    }
    Ok(())
}
