//! API keys (D2): `GET/POST /api/v1/api-keys`, `DELETE /api/v1/api-keys/{id}`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wagate_domain::{ApiKey, CapabilitySet, SessionId};
use wagate_service::{CreateApiKey, PageRequest};

use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::ListBody;
use crate::state::AppState;

/// A stored key. The secret is never returned after creation.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyBody {
    #[schema(example = "key_01JD5Z3V2Q0000000000000000")]
    id: String,
    organization_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// Subset of `read`, `send`, `manage`, `events`.
    permissions: Vec<&'static str>,
    /// The sessions the key is limited to; absent = every session of the organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    sessions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    /// `active`, `expired` or `revoked`.
    state: &'static str,
    created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_used_at: Option<i64>,
}

impl ApiKeyBody {
    fn new(k: ApiKey, now_ms: i64) -> Self {
        Self {
            state: k.state(now_ms).as_str(),
            id: k.id.to_string(),
            organization_id: k.organization_id.to_string(),
            name: k.name,
            permissions: k.permissions.names(),
            sessions: k
                .sessions
                .map(|ids| ids.iter().map(ToString::to_string).collect()),
            expires_at: k.expires_at,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
        }
    }
}

/// The created key with its secret, shown this once.
#[derive(Serialize, ToSchema)]
pub struct CreatedApiKeyBody {
    #[serde(flatten)]
    key: ApiKeyBody,
    /// The secret (`wa_…`). Store it now: it cannot be read again.
    #[serde(rename = "key")]
    secret: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateApiKeyBody {
    name: Option<String>,
    /// Non-empty subset of the caller's own permissions.
    permissions: Vec<String>,
    /// Limit the key to these sessions (must be within the caller's own limit).
    sessions: Option<Vec<String>>,
    /// Epoch-ms; must not be later than the calling key's own expiry.
    expires_at: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1–200, default 50.
    pub(crate) limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub(crate) cursor: Option<String>,
}

impl From<PageQuery> for PageRequest {
    fn from(q: PageQuery) -> Self {
        PageRequest::new(q.limit, q.cursor)
    }
}

/// List the organization's API keys.
#[utoipa::path(get, path = "/api/v1/api-keys", operation_id = "listApiKeys", tag = "API keys",
    params(PageQuery),
    responses(
        (status = 200, body = ListBody<ApiKeyBody>),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
    ))]
pub async fn list_api_keys(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<ListBody<ApiKeyBody>>> {
    let page = state.services.api_keys.list(&p, query.into()).await?;
    let now = state.services.clock.now_ms();
    let data = page
        .data
        .into_iter()
        .map(|k| ApiKeyBody::new(k, now))
        .collect();
    Ok(Json(ListBody::page(data, page.next_cursor)))
}

/// Create an API key. Needs `manage`; never grants more than the caller holds.
#[utoipa::path(post, path = "/api/v1/api-keys", operation_id = "createApiKey", tag = "API keys",
    request_body = CreateApiKeyBody,
    responses(
        (status = 201, body = CreatedApiKeyBody),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
    ))]
pub async fn create_api_key(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiJson(body): ApiJson<CreateApiKeyBody>,
) -> ApiResult<(StatusCode, Json<CreatedApiKeyBody>)> {
    let req = parse_create(body)?;
    let created = state.services.api_keys.create(&p, req).await?;
    let body = CreatedApiKeyBody {
        key: ApiKeyBody::new(created.key, state.services.clock.now_ms()),
        secret: created.raw.expose().to_owned(),
    };
    Ok((StatusCode::CREATED, Json(body)))
}

fn parse_create(body: CreateApiKeyBody) -> ApiResult<CreateApiKey> {
    let mut errors = Vec::new();
    let permissions = CapabilitySet::parse_list(&body.permissions.join(",")).unwrap_or_else(|e| {
        errors.push(format!("{e} (body.permissions)"));
        CapabilitySet::NONE
    });
    let sessions = body.sessions.map(|ids| {
        ids.iter()
            .filter_map(|id| {
                SessionId::parse(id)
                    .inspect_err(|_| errors.push(format!("unknown session (body.sessions: {id})")))
                    .ok()
            })
            .collect()
    });
    if !errors.is_empty() {
        return Err(ApiError::validation("validation failed", errors));
    }
    Ok(CreateApiKey {
        name: body.name,
        permissions,
        sessions,
        expires_at: body.expires_at,
    })
}

/// Revoke an API key; it stops working on the very next request.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", operation_id = "revokeApiKey",
    tag = "API keys", params(("id" = String, Path, description = "Key id, `key_<ULID>`")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
    ))]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.services.api_keys.revoke(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
