//! Webhooks (api.md §11, events.md §5, D5): the CRUD service, the target policy (SSRF guard),
//! secrets at rest, the signed HTTP attempt and the durable per-target dispatcher.

mod dispatcher;
mod secret_box;
mod sender;
mod service;
mod target;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use wagate_domain::{Clock, RetryPolicy, Store, WebhookStore};

pub use dispatcher::{DispatchConfig, WebhookDispatcher};
pub use secret_box::{KEY_LEN as SECRET_KEY_LEN, SecretBox};
pub use sender::{AttemptResult, contract_signature, standard_signature};
pub use service::{TestDelivery, WebhookFields, WebhookService};
pub use target::{TargetError, TargetPolicy, is_public};

/// A node's webhook settings (flags `--webhook-*`).
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Allow loopback and private targets (tests, trusted networks).
    pub allow_private: bool,
    pub timeout: Duration,
    pub disable_after: Duration,
    /// The policy of webhooks created without one.
    pub default_policy: RetryPolicy,
    /// AES-256-GCM key for secrets at rest.
    pub secret_key: [u8; SECRET_KEY_LEN],
}

/// Builds the webhook service and starts its dispatcher. `due` is the journal's wake-up.
pub fn start(
    webhooks: Arc<dyn WebhookStore>,
    sessions: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    due: Arc<Notify>,
    config: WebhookConfig,
) -> Result<(WebhookService, WebhookDispatcher), reqwest::Error> {
    let policy = TargetPolicy {
        allow_private: config.allow_private,
    };
    let sender = sender::WebhookSender::new(policy, config.timeout)?;
    let secrets = Arc::new(SecretBox::new(&config.secret_key));
    let dispatcher = WebhookDispatcher::start(
        webhooks.clone(),
        sender.clone(),
        secrets.clone(),
        clock.clone(),
        due.clone(),
        DispatchConfig {
            timeout: config.timeout,
            disable_after: config.disable_after,
            ..DispatchConfig::default()
        },
    );
    let service = WebhookService {
        webhooks,
        sessions,
        clock,
        secrets,
        policy,
        sender,
        default_policy: config.default_policy,
        due,
    };
    Ok((service, dispatcher))
}
