//! Assembles the router: API routes (documented), probes, docs, and the cross-cutting layers.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use tower::ServiceBuilder;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::router::UtoipaMethodRouter;
use utoipa_axum::routes;

use crate::action_path;
use crate::error::ApiError;
use crate::middleware::rate_limit::CredentialLimiter;
use crate::middleware::{auth, cors, guard, metrics, request_id};
use crate::openapi::ApiDoc;
use crate::routes::{
    api_keys, channels, chats, contacts, docs, events, groups, media, messages, presence, probes,
    realtime, session_lifecycle, sessions, status, webhooks,
};
use crate::state::{AppState, Services};

/// The per-credential HTTP rate limit; `per_second = 0` disables it.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

/// Transport settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub cors_origins: Vec<String>,
    pub request_timeout: Duration,
    pub rate_limit: RateLimit,
    /// Largest JSON body accepted (api.md §1.12: 1 MiB).
    pub body_limit: usize,
    /// The gateway's public base URL (`https://gw.example`), for realtime ticket URLs.
    pub public_url: Option<String>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            cors_origins: Vec::new(),
            request_timeout: Duration::from_secs(15),
            rate_limit: RateLimit {
                per_second: 100,
                burst: 200,
            },
            body_limit: 1024 * 1024,
            public_url: None,
        }
    }
}

/// The `:verb` suffixes routed as actions (see [`crate::action_path`]).
pub const ACTION_VERBS: &[&str] = &[
    "start",
    "stop",
    "restart",
    "logout",
    "join",
    "leave",
    "approve",
    "follow",
    "unfollow",
    "mute",
    "test",
    "redeliver",
];

/// Registers an action operation: axum gets the internal `…/~verb` path, the OpenAPI document
/// the public `…:verb` path from the handler's annotation.
fn action<S: Clone + Send + Sync + 'static>(
    router: OpenApiRouter<S>,
    (schemas, paths, method_router): UtoipaMethodRouter<S>,
) -> OpenApiRouter<S> {
    let mut router = paths.paths.keys().fold(router, |r, public| {
        let internal = action_path::rewrite(public, ACTION_VERBS)
            .unwrap_or_else(|| panic!("{public} is not an action path with a known verb"));
        r.route(&internal, method_router.clone())
    });
    let doc = router.get_openapi_mut();
    doc.paths.paths.extend(paths.paths);
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .extend(schemas);
    router
}

/// Every documented operation. Adding an operation = one line here.
pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(sessions::list_sessions, sessions::create_session))
        .routes(routes!(sessions::get_session, sessions::delete_session))
        .routes(routes!(session_lifecycle::session_me))
        .routes(routes!(session_lifecycle::session_qr))
        .routes(routes!(session_lifecycle::session_pairing_code))
        .routes(routes!(api_keys::list_api_keys, api_keys::create_api_key))
        .routes(routes!(api_keys::revoke_api_key))
        .routes(routes!(chats::list_chats))
        .routes(routes!(
            chats::get_chat,
            chats::update_chat,
            chats::delete_chat
        ))
        .routes(routes!(chats::list_chat_messages))
        .routes(routes!(chats::read_chat))
        .routes(routes!(messages::send_message))
        .routes(routes!(messages::get_outbox_entry))
        .routes(routes!(events::stream_events))
        .routes(routes!(realtime::create_realtime_ticket))
        .routes(routes!(messages::edit_message, messages::revoke_message))
        .routes(routes!(messages::add_reaction, messages::remove_reaction))
        .routes(routes!(messages::forward_message))
        .routes(routes!(messages::vote_message))
        .routes(routes!(
            presence::get_chat_presence,
            presence::set_chat_presence
        ))
        .routes(routes!(presence::set_presence))
        .routes(routes!(contacts::list_contacts))
        .routes(routes!(contacts::check_contact))
        .routes(routes!(contacts::get_contact))
        .routes(routes!(contacts::get_contact_picture))
        .routes(routes!(contacts::get_contact_about))
        .routes(routes!(contacts::block_contact))
        .routes(routes!(contacts::unblock_contact))
        .routes(routes!(status::post_status))
        .routes(routes!(media::download_media))
        .routes(routes!(groups::list_groups, groups::create_group))
        .routes(routes!(groups::get_group, groups::update_group))
        .routes(routes!(
            groups::get_group_invite,
            groups::revoke_group_invite
        ))
        .routes(routes!(
            groups::list_group_members,
            groups::add_group_members
        ))
        .routes(routes!(groups::remove_group_member))
        .routes(routes!(groups::promote_group_member))
        .routes(routes!(groups::demote_group_member))
        .routes(routes!(channels::create_channel))
        .routes(routes!(channels::list_channel_messages))
        .routes(routes!(webhooks::list_webhooks, webhooks::create_webhook))
        .routes(routes!(
            webhooks::get_webhook,
            webhooks::update_webhook,
            webhooks::delete_webhook
        ))
        .routes(routes!(webhooks::list_webhook_deliveries));
    [
        routes!(session_lifecycle::start_session),
        routes!(session_lifecycle::stop_session),
        routes!(session_lifecycle::restart_session),
        routes!(session_lifecycle::logout_session),
        routes!(groups::approve_group_members),
        routes!(groups::join_group),
        routes!(groups::leave_group),
        routes!(channels::follow_channel),
        routes!(channels::unfollow_channel),
        routes!(channels::mute_channel),
        routes!(webhooks::test_webhook),
        routes!(webhooks::redeliver_webhook_delivery),
    ]
    .into_iter()
    .fold(router, action)
}

/// Routes mounted beside the API without authentication (the simnet control API, D6), with
/// the action verbs they use.
pub struct ExtraRoutes {
    pub router: Router,
    pub action_verbs: &'static [&'static str],
}

/// The whole HTTP surface of a node.
pub fn router(
    services: Arc<Services>,
    metrics_handle: PrometheusHandle,
    opts: &HttpOptions,
    extra: Option<ExtraRoutes>,
) -> Router {
    let limiter = CredentialLimiter::new(opts.rate_limit.per_second, opts.rate_limit.burst);
    let state = AppState {
        services,
        limiter: limiter.map(Arc::new),
        metrics: metrics_handle,
        public_url: opts.public_url.as_deref().map(Arc::from),
        cors_origins: opts.cors_origins.clone().into(),
    };
    let (api, doc) = api_routes().split_for_parts();
    // Only matched routes know their template; unmatched requests are counted by the fallback.
    let metrics = metrics::MetricsLayer::default();
    let api = api
        .route_layer(
            ServiceBuilder::new()
                .layer(metrics.clone())
                .layer(auth::AuthLayer::new(state.clone()))
                .layer(DefaultBodyLimit::max(opts.body_limit)),
        )
        .with_state(state.clone());
    let doc_routes = Router::new()
        .route("/api/v1/openapi.json", get(docs::openapi_json))
        .route("/api/v1/openapi.yaml", get(docs::openapi_yaml))
        .route_layer(metrics.clone())
        .with_state(Arc::new(doc));
    // The realtime upgrade's only credential is its ticket (events.md §4.4): no auth layer.
    let realtime = Router::new()
        .route("/api/v1/realtime", get(realtime::connect))
        .route_layer(metrics.clone())
        .with_state(state.clone());
    let probes = Router::new()
        .route("/healthz", get(probes::healthz))
        .route("/readyz", get(probes::readyz))
        .route("/metrics", get(probes::metrics))
        .route_layer(metrics)
        .with_state(state);

    let mut verbs: Vec<&'static str> = ACTION_VERBS.to_vec();
    let mut app = Router::new()
        .merge(api)
        .merge(realtime)
        .merge(doc_routes)
        .merge(probes);
    if let Some(extra) = extra {
        verbs.extend(extra.action_verbs);
        app = app.merge(extra.router);
    }
    let app = app.fallback(|| async {
        metrics::record_unmatched();
        ApiError::route_not_found().into_response()
    });
    // The cross-cutting layers wrap the router once, as one service: `Router::layer` would wrap
    // every route separately, and each layer would cost boxing and clones on every request.
    let cors = cors::layer(&opts.cors_origins).map(|cors| {
        ServiceBuilder::new()
            .layer(from_fn(cors::preflight_no_content))
            .layer(cors)
    });
    let service = ServiceBuilder::new()
        // Action suffixes are rewritten before the router sees the path.
        .map_request(move |req| action_path::rewrite_request(req, &verbs))
        .layer(request_id::RequestIdLayer)
        .option_layer(cors)
        .layer(guard::GuardLayer::new(opts.request_timeout))
        .service(app);
    Router::new().fallback_service(service)
}
