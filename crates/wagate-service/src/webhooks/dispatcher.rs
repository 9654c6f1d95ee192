//! The `WebhookDispatcher` (events.md §5.5–5.6, D5): delivers what the event log's append
//! enqueued. One worker task per webhook with due deliveries claims a batch, sends it with
//! bounded concurrency and records the outcomes in one transaction, so a slow or dead receiver
//! only ever holds up its own deliveries. Claims are leases: a node that dies mid-batch leaves
//! rows that fall due again when the lease ends, and any node picks them up (at least once).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wagate_domain::{
    ClaimedDelivery, Clock, DeliveryOutcome, DeliveryStatus, Webhook, WebhookHealth, WebhookId,
    WebhookStore,
};

use super::secret_box::SecretBox;
use super::sender::{AttemptResult, Request, WebhookSender};

/// Tuning; the defaults are the contract's where it names one.
#[derive(Debug, Clone)]
pub struct DispatchConfig {
    /// Deliveries one worker claims and sends at once (its concurrency too).
    pub batch: u32,
    /// How often due work is looked for besides the journal's wake-ups (retries fall due).
    pub sweep: Duration,
    /// Overall time limit of one attempt (events.md §5.6: 30 s).
    pub timeout: Duration,
    /// A webhook failing without a single success for this long is switched off (D5: 24 h).
    pub disable_after: Duration,
    /// A worker with nothing due for this long ends.
    pub idle: Duration,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            batch: 32,
            sweep: Duration::from_millis(500),
            timeout: Duration::from_secs(30),
            disable_after: Duration::from_secs(24 * 3600),
            idle: Duration::from_secs(30),
        }
    }
}

impl DispatchConfig {
    /// A claim outlives the batch it covers: every attempt runs at once, each within `timeout`,
    /// and recording follows (30 s attempts → the reference's 60 s lease).
    fn lease_ms(&self) -> i64 {
        (self.timeout * 2 + Duration::from_secs(1)).as_millis() as i64
    }
}

pub struct WebhookDispatcher {
    inner: Arc<Inner>,
    tasks: TaskTracker,
}

struct Inner {
    store: Arc<dyn WebhookStore>,
    sender: WebhookSender,
    secrets: Arc<SecretBox>,
    clock: Arc<dyn Clock>,
    config: DispatchConfig,
    /// The wake-up of each running worker.
    workers: Mutex<HashMap<WebhookId, Arc<Notify>>>,
    cancel: CancellationToken,
}

impl WebhookDispatcher {
    /// Starts the dispatch loop; `due` is woken by the event journal when it enqueued
    /// deliveries (and by redeliveries).
    pub fn start(
        store: Arc<dyn WebhookStore>,
        sender: WebhookSender,
        secrets: Arc<SecretBox>,
        clock: Arc<dyn Clock>,
        due: Arc<Notify>,
        config: DispatchConfig,
    ) -> Self {
        let inner = Arc::new(Inner {
            store,
            sender,
            secrets,
            clock,
            config,
            workers: Mutex::new(HashMap::new()),
            cancel: CancellationToken::new(),
        });
        let tasks = TaskTracker::new();
        tasks.spawn(dispatch(inner.clone(), due, tasks.clone()));
        Self { inner, tasks }
    }

    /// Stops claiming, lets attempts in flight finish for up to `grace`, then returns. What is
    /// left unrecorded falls due again when its lease ends.
    pub async fn shutdown(&self, grace: Duration) {
        self.inner.cancel.cancel();
        self.tasks.close();
        if tokio::time::timeout(grace, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("webhook deliveries still in flight at shutdown; they will be retried");
        }
    }
}

async fn dispatch(inner: Arc<Inner>, due: Arc<Notify>, tasks: TaskTracker) {
    loop {
        tokio::select! {
            () = inner.cancel.cancelled() => return,
            () = due.notified() => {}
            () = tokio::time::sleep(inner.config.sweep) => {}
        }
        let now = inner.clock.now_ms();
        let ids = match inner.store.due_webhooks(now, 1000).await {
            Ok(ids) => ids,
            Err(err) => {
                tracing::warn!(%err, "looking for due webhook deliveries failed");
                continue;
            }
        };
        let mut workers = inner.workers.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            match workers.get(&id) {
                Some(wake) => wake.notify_one(),
                None => {
                    let wake = Arc::new(Notify::new());
                    workers.insert(id.clone(), wake.clone());
                    tasks.spawn(work(inner.clone(), id, wake));
                }
            }
        }
    }
}

/// One webhook's worker: claim, send, record, until nothing is due for a while.
async fn work(inner: Arc<Inner>, id: WebhookId, wake: Arc<Notify>) {
    loop {
        if inner.cancel.is_cancelled() {
            break;
        }
        match run_batch(&inner, &id).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(err) => tracing::warn!(%err, webhook = %id, "webhook delivery batch failed"),
        }
        tokio::select! {
            () = wake.notified() => continue,
            () = inner.cancel.cancelled() => break,
            () = tokio::time::sleep(inner.config.idle) => break,
        }
    }
    inner
        .workers
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id);
}

/// Sends one claimed batch; `Ok(false)` when nothing was due.
async fn run_batch(inner: &Inner, id: &WebhookId) -> wagate_domain::StoreResult<bool> {
    let now = inner.clock.now_ms();
    // URL, secret, headers and policy are read at each attempt (events.md §5.7). A deleted
    // webhook's deliveries were dead-lettered with it.
    let Some(webhook) = inner.store.get_webhook(None, id).await? else {
        return Ok(false);
    };
    let claimed = inner
        .store
        .claim_deliveries(id, now, now + inner.config.lease_ms(), inner.config.batch)
        .await?;
    if claimed.is_empty() {
        return Ok(false);
    }
    let secret = match webhook.secret.as_deref() {
        None => Ok(None),
        Some(sealed) => inner.secrets.open(sealed).map(Some),
    };
    let secret = secret.as_ref().map(Option::as_deref);
    let results: Vec<(ClaimedDelivery, Option<AttemptResult>)> =
        futures::stream::iter(claimed.into_iter().map(|c| async {
            let result = match (&c.envelope, secret) {
                // Pruned from the log: nothing to send, ever (events.md §5.5).
                (None, _) => None,
                (Some(_), Err(err)) => Some(AttemptResult {
                    response_code: None,
                    error: Some(err.to_string()),
                }),
                (Some(body), Ok(secret)) => Some(
                    inner
                        .sender
                        .send(Request {
                            url: &webhook.url,
                            custom_headers: &webhook.custom_headers,
                            secret,
                            event_id: c.event.as_str(),
                            body,
                            now_ms: inner.clock.now_ms(),
                        })
                        .await,
                ),
            };
            (c, result)
        }))
        .buffer_unordered(inner.config.batch as usize)
        .collect()
        .await;
    let now = inner.clock.now_ms();
    let outcomes: Vec<DeliveryOutcome> = results
        .iter()
        .map(|(c, r)| outcome(&webhook, c, r.as_ref(), now))
        .collect();
    let health = health(&webhook, &results, now, &inner.config);
    inner
        .store
        .record_deliveries(id, &outcomes, health.as_ref(), now)
        .await?;
    if let Some(WebhookHealth::Disabled { reason, .. }) = &health {
        tracing::warn!(webhook = %id, reason, "webhook disabled");
    }
    Ok(true)
}

/// Where one attempt leaves its delivery (events.md §5.5).
fn outcome(
    webhook: &Webhook,
    c: &ClaimedDelivery,
    result: Option<&AttemptResult>,
    now: i64,
) -> DeliveryOutcome {
    let Some(result) = result else {
        return DeliveryOutcome {
            id: c.id,
            status: DeliveryStatus::Dead,
            attempts: c.attempts,
            response_code: None,
            next_retry_at: None,
            last_error: Some(format!("event {} not found", c.event)),
        };
    };
    let attempts = c.attempts + 1;
    let Some(error) = &result.error else {
        return DeliveryOutcome {
            id: c.id,
            status: DeliveryStatus::Delivered,
            attempts,
            response_code: result.response_code,
            next_retry_at: None,
            last_error: None,
        };
    };
    let retry = webhook.retry_policy.delay_after(attempts);
    DeliveryOutcome {
        id: c.id,
        status: if retry.is_some() {
            DeliveryStatus::Failed
        } else {
            DeliveryStatus::Dead
        },
        attempts,
        response_code: result.response_code,
        next_retry_at: retry.map(|s| now.saturating_add(s.saturating_mul(1000))),
        last_error: Some(error.clone()),
    }
}

/// The webhook's failure streak after a batch: any success ends it; a streak older than
/// `disable_after` switches an active webhook off (D5).
fn health(
    webhook: &Webhook,
    results: &[(ClaimedDelivery, Option<AttemptResult>)],
    now: i64,
    config: &DispatchConfig,
) -> Option<WebhookHealth> {
    let attempted = results.iter().filter_map(|(_, r)| r.as_ref());
    let (mut ok, mut failed) = (false, false);
    for r in attempted {
        if r.error.is_none() {
            ok = true;
        } else {
            failed = true;
        }
    }
    if ok {
        return webhook
            .failing_since
            .is_some()
            .then_some(WebhookHealth::Recovered);
    }
    if !failed {
        return None;
    }
    let limit = config.disable_after.as_millis() as i64;
    match webhook.failing_since {
        Some(since) if webhook.active && now - since >= limit => Some(WebhookHealth::Disabled {
            at: now,
            reason: format!(
                "disabled after failing continuously for {}",
                humanize(config.disable_after)
            ),
        }),
        Some(_) => None,
        None => Some(WebhookHealth::Failing { since: now }),
    }
}

fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s.is_multiple_of(3600) {
        format!("{} h", s / 3600)
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wagate_domain::{EventId, OrgId, RetryPolicy};

    fn webhook(failing_since: Option<i64>) -> Webhook {
        Webhook {
            id: WebhookId::generate(),
            organization: OrgId::generate(),
            session: None,
            url: "http://example.com".into(),
            events: vec!["*".into()],
            custom_headers: Default::default(),
            retry_policy: RetryPolicy::exponential(2, 3),
            active: true,
            secret: None,
            failing_since,
            disabled_at: None,
            disabled_reason: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn claimed(attempts: i64) -> ClaimedDelivery {
        ClaimedDelivery {
            id: 1,
            event: EventId::generate(),
            attempts,
            envelope: Some("{}".into()),
        }
    }

    fn failure() -> AttemptResult {
        AttemptResult {
            response_code: Some(500),
            error: Some("non-2xx status 500: boom".into()),
        }
    }

    #[test]
    fn failures_back_off_then_dead_letter() {
        let w = webhook(None);
        let first = outcome(&w, &claimed(0), Some(&failure()), 1_000);
        assert_eq!(first.status, DeliveryStatus::Failed);
        assert_eq!(first.next_retry_at, Some(3_000));
        let second = outcome(&w, &claimed(1), Some(&failure()), 1_000);
        assert_eq!(second.next_retry_at, Some(5_000));
        let last = outcome(&w, &claimed(2), Some(&failure()), 1_000);
        assert_eq!(last.status, DeliveryStatus::Dead);
        assert_eq!(last.attempts, 3);
        assert_eq!(last.next_retry_at, None);
    }

    #[test]
    fn a_pruned_event_is_dead_at_once() {
        let mut c = claimed(0);
        c.envelope = None;
        let o = outcome(&webhook(None), &c, None, 0);
        assert_eq!(o.status, DeliveryStatus::Dead);
        assert!(o.last_error.unwrap().ends_with("not found"));
    }

    #[test]
    fn a_long_failure_streak_disables_the_webhook() {
        let config = DispatchConfig {
            disable_after: Duration::from_secs(10),
            ..DispatchConfig::default()
        };
        let failed = vec![(claimed(0), Some(failure()))];
        assert_eq!(
            health(&webhook(None), &failed, 5_000, &config),
            Some(WebhookHealth::Failing { since: 5_000 })
        );
        assert_eq!(health(&webhook(Some(0)), &failed, 9_999, &config), None);
        assert!(matches!(
            health(&webhook(Some(0)), &failed, 10_000, &config),
            Some(WebhookHealth::Disabled { at: 10_000, .. })
        ));
        let ok = vec![(
            claimed(0),
            Some(AttemptResult {
                response_code: Some(204),
                error: None,
            }),
        )];
        assert_eq!(
            health(&webhook(Some(0)), &ok, 10_000, &config),
            Some(WebhookHealth::Recovered)
        );
    }
}
