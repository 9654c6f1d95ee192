//! Authentication for every `/api/v1` operation: credentials → [`Principal`] in the request,
//! then the per-credential rate limit. Runs only on matched API routes.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use wagate_service::Credentials;

use crate::error::ApiError;
use crate::state::AppState;

/// Reads `Authorization: Bearer …` (scheme case-insensitive, token trimmed) and `x-api-key`.
fn credentials(headers: &HeaderMap) -> Credentials {
    let non_empty = |s: &str| {
        let t = s.trim();
        (!t.is_empty()).then(|| t.to_owned())
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim_start().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(token)
        })
        .and_then(non_empty);
    let api_key_header = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .and_then(non_empty);
    Credentials {
        bearer,
        api_key_header,
    }
}

pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let creds = credentials(req.headers());
    let principal = match state.services.authenticator.authenticate(&creds).await {
        Ok(p) => p,
        Err(err) => return ApiError::from(err).into_response(),
    };
    if let Some(limiter) = &state.limiter
        && let Err(retry_after) = limiter.check(&principal.credential_id())
    {
        return retry_after.into_response();
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_scheme_is_case_insensitive_and_empty_is_absent() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bEaReR  wa_x  "),
        );
        assert_eq!(credentials(&h).bearer.as_deref(), Some("wa_x"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer   "));
        assert_eq!(credentials(&h).bearer, None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(credentials(&h).bearer, None);
        h.insert("x-api-key", HeaderValue::from_static(" wa_y "));
        assert_eq!(credentials(&h).api_key_header.as_deref(), Some("wa_y"));
    }
}
