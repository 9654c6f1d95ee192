//! What every handler can reach: the services, and the few things middleware needs.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use wagate_domain::{Clock, Store};
use wagate_service::{
    ApiKeyService, Authenticator, ChannelService, EventStreams, GroupService, MessagingService,
    RealtimeTickets, SessionService, WebhookService,
};

use crate::middleware::rate_limit::CredentialLimiter;

/// The services the HTTP layer calls.
pub struct Services {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub authenticator: Authenticator,
    pub sessions: SessionService,
    pub api_keys: ApiKeyService,
    pub messaging: Arc<MessagingService>,
    pub events: EventStreams,
    pub tickets: RealtimeTickets,
    pub groups: GroupService,
    pub channels: ChannelService,
    pub webhooks: WebhookService,
}

/// Cheap to clone; shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub(crate) services: Arc<Services>,
    pub(crate) limiter: Option<Arc<CredentialLimiter>>,
    pub(crate) metrics: PrometheusHandle,
    /// The public base URL realtime ticket URLs are built on (`--public-url`).
    pub(crate) public_url: Option<Arc<str>>,
    /// The CORS allow-list, which the WebSocket origin check also follows.
    pub(crate) cors_origins: Arc<[String]>,
}
