//! Group commit: writes that arrive while a commit is running wait for the next one, which
//! stores them all together. On SQLite every transaction takes the single write lock and
//! commits once; with many writers in flight, one transaction each spends most of its time
//! doing that. A lone write is stored at once; a busy node commits fewer, larger transactions.
//! Each caller still gets its own answer, after its write is committed.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;
use wagate_domain::{StoreError, StoreResult};

/// The most items one transaction stores; more wait for the next.
const MAX_BATCH: usize = 256;

/// How one kind of write is stored in groups.
pub(crate) trait Batch: Send + Sync + 'static {
    type Item: Send + 'static;
    type Output: Send + 'static;

    /// Stores `items` in one transaction and answers each, in order; on an error none is
    /// stored.
    fn write_all(
        &self,
        items: &mut [Self::Item],
    ) -> impl Future<Output = StoreResult<Vec<Self::Output>>> + Send;

    /// Stores one item alone: after a failed group, so one bad item does not fail the others.
    fn write_one(&self, item: Self::Item)
    -> impl Future<Output = StoreResult<Self::Output>> + Send;
}

/// Cheap to clone; clones share the queue.
pub(crate) struct GroupCommit<B: Batch> {
    shared: Arc<Shared<B>>,
}

impl<B: Batch> Clone for GroupCommit<B> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

struct Shared<B: Batch> {
    batch: B,
    state: Mutex<State<B>>,
}

struct State<B: Batch> {
    pending: Vec<Pending<B>>,
    /// Whether a writer task is running; it takes whatever is pending until nothing is.
    writing: bool,
}

struct Pending<B: Batch> {
    item: B::Item,
    done: oneshot::Sender<StoreResult<B::Output>>,
}

impl<B: Batch> GroupCommit<B> {
    pub(crate) fn new(batch: B) -> Self {
        Self {
            shared: Arc::new(Shared {
                batch,
                state: Mutex::new(State {
                    pending: Vec::new(),
                    writing: false,
                }),
            }),
        }
    }

    /// Stores `item` in the next group commit and answers once it is committed.
    pub(crate) async fn submit(&self, item: B::Item) -> StoreResult<B::Output> {
        let (done, answer) = oneshot::channel();
        let start_writer = {
            let mut state = self.shared.lock();
            state.pending.push(Pending { item, done });
            !std::mem::replace(&mut state.writing, true)
        };
        if start_writer {
            // A task, not the caller: a caller that goes away (its client hung up) must not
            // strand the writes of the others.
            tokio::spawn(write_pending(self.shared.clone()));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Backend("group commit writer stopped".into())))
    }
}

impl<B: Batch> Shared<B> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State<B>> {
        // Nothing runs under the lock that could leave the state half-changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Ends a writer (also by a panic): clears `writing`, or hands what is still pending to a new
/// writer — a write may have queued after the writer's last look and before this.
struct WriterGuard<B: Batch>(Arc<Shared<B>>);

impl<B: Batch> Drop for WriterGuard<B> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.writing = !state.pending.is_empty();
        if state.writing {
            tokio::spawn(write_pending(self.0.clone()));
        }
    }
}

async fn write_pending<B: Batch>(shared: Arc<Shared<B>>) {
    let guard = WriterGuard(shared);
    loop {
        let (items, answers): (Vec<B::Item>, Vec<_>) = {
            let mut state = guard.0.lock();
            if state.pending.is_empty() {
                return;
            }
            let n = state.pending.len().min(MAX_BATCH);
            state.pending.drain(..n).map(|p| (p.item, p.done)).unzip()
        };
        write_group(&guard.0.batch, items, answers).await;
    }
}

/// Stores one group and answers its writers: together, or each alone when the group fails.
async fn write_group<B: Batch>(
    batch: &B,
    mut items: Vec<B::Item>,
    answers: Vec<oneshot::Sender<StoreResult<B::Output>>>,
) {
    let count = answers.len();
    match batch.write_all(&mut items).await {
        Ok(outputs) => {
            let mut outputs = outputs.into_iter();
            for done in answers {
                let output = outputs.next().ok_or_else(|| {
                    StoreError::Backend(format!("a group of {count} got fewer answers").into())
                });
                let _ = done.send(output);
            }
        }
        Err(err) if count == 1 => {
            if let Some(done) = answers.into_iter().next() {
                let _ = done.send(Err(err));
            }
        }
        Err(_) => {
            for (item, done) in items.into_iter().zip(answers) {
                let _ = done.send(batch.write_one(item).await);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts its transactions; a group holding 13 fails, and so does 13 alone.
    struct Doubler {
        commits: AtomicUsize,
    }

    fn double(i: u32) -> StoreResult<u32> {
        if i == 13 {
            Err(StoreError::Backend("unlucky".into()))
        } else {
            Ok(i * 2)
        }
    }

    impl Batch for Doubler {
        type Item = u32;
        type Output = u32;

        async fn write_all(&self, items: &mut [u32]) -> StoreResult<Vec<u32>> {
            self.commits.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            items.iter().map(|&i| double(i)).collect()
        }

        async fn write_one(&self, item: u32) -> StoreResult<u32> {
            double(item)
        }
    }

    #[tokio::test]
    async fn writes_in_flight_together_share_commits_and_each_gets_its_answer() {
        let group = GroupCommit::new(Doubler {
            commits: AtomicUsize::new(0),
        });
        let answers = futures::future::join_all((0..100).map(|i| group.submit(i))).await;
        for (i, answer) in (0..100).zip(answers) {
            match answer {
                Ok(v) => assert_eq!(v, i * 2),
                Err(_) => assert_eq!(i, 13),
            }
        }
        let commits = group.shared.batch.commits.load(Ordering::SeqCst);
        // The first write goes alone; the 99 queued behind it share the next commit, which
        // fails on 13: each of them is then stored alone, and only 13 fails.
        assert!(commits <= 3, "{commits} commits for 100 writes");
        // A lone write later is stored at once, in a commit of its own.
        assert_eq!(group.submit(4).await.unwrap(), 8);
        assert_eq!(
            group.shared.batch.commits.load(Ordering::SeqCst),
            commits + 1
        );
    }
}
