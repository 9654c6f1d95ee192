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
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::middleware::rate_limit::CredentialLimiter;
use crate::middleware::{auth, cors, guard, metrics, request_id};
use crate::openapi::ApiDoc;
use crate::routes::{api_keys, docs, probes, sessions};
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
        }
    }
}

/// Every documented operation. Adding an operation = one `.routes(routes!(…))` line here.
pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(sessions::list_sessions, sessions::create_session))
        .routes(routes!(sessions::get_session, sessions::delete_session))
        .routes(routes!(api_keys::list_api_keys, api_keys::create_api_key))
        .routes(routes!(api_keys::revoke_api_key))
}

/// The whole HTTP surface of a node.
pub fn router(
    services: Arc<Services>,
    metrics_handle: PrometheusHandle,
    opts: &HttpOptions,
) -> Router {
    let limiter = CredentialLimiter::new(opts.rate_limit.per_second, opts.rate_limit.burst);
    let state = AppState {
        services,
        limiter: limiter.map(Arc::new),
        metrics: metrics_handle,
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
    let probes = Router::new()
        .route("/healthz", get(probes::healthz))
        .route("/readyz", get(probes::readyz))
        .route("/metrics", get(probes::metrics))
        .route_layer(metrics)
        .with_state(state);

    let app = Router::new()
        .merge(api)
        .merge(doc_routes)
        .merge(probes)
        .fallback(|| async {
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
        .layer(request_id::RequestIdLayer)
        .option_layer(cors)
        .layer(guard::GuardLayer::new(opts.request_timeout))
        .service(app);
    Router::new().fallback_service(service)
}
