//! The OpenAPI document's fixed parts; the paths come from the handlers' `#[utoipa::path]`
//! annotations as routes are registered, so the document lists exactly what is served.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "wagate",
        description = "Multi-tenant WhatsApp HTTP gateway. Every operation needs a credential: \
            `Authorization: Bearer <JWT or API key>` or `x-api-key: <API key>`.",
    ),
    security(("bearer" = []), ("apiKey" = [])),
    modifiers(&SecuritySchemes),
    components(schemas(crate::error::ErrorEnvelope, crate::error::ErrorCode)),
    tags(
        (name = "Sessions", description = "WhatsApp numbers attached to the gateway"),
        (name = "API keys", description = "Programmatic credentials of an organization"),
        (name = "Groups", description = "WhatsApp groups: stored reads, live changes"),
        (name = "Channels", description = "WhatsApp channels (newsletters)"),
        (name = "Webhooks", description = "Signed, retried event delivery to your endpoints"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-api-key"))),
        );
    }
}

/// The full document, as served at `/api/v1/openapi.{json,yaml}`.
pub fn document() -> utoipa::openapi::OpenApi {
    crate::router::api_routes().into_openapi()
}
