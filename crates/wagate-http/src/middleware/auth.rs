//! Authentication for every `/api/v1` operation: credentials → [`Principal`] in the request,
//! then the per-credential rate limit. Runs only on matched API routes (a route layer).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};
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

/// Authenticates before the route's own service runs. Hand-written rather than `from_fn`: one
/// boxed future per request, no boxed `Next`.
#[derive(Clone)]
pub struct AuthLayer {
    state: AppState,
}

impl AuthLayer {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Authenticate<S>;

    fn layer(&self, inner: S) -> Authenticate<S> {
        Authenticate {
            inner,
            state: self.state.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Authenticate<S> {
    inner: S,
    state: AppState,
}

impl<S> Service<Request> for Authenticate<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // The ready service goes into the future; a clone stays for the next request.
        let ready = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, ready);
        Box::pin(authenticate(self.state.clone(), req, inner))
    }
}

async fn authenticate<S>(
    state: AppState,
    mut req: Request,
    mut inner: S,
) -> Result<Response, Infallible>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let creds = credentials(req.headers());
    let principal = match state.services.authenticator.authenticate(&creds).await {
        Ok(p) => p,
        Err(err) => return Ok(ApiError::from(err).into_response()),
    };
    if let Some(limiter) = &state.limiter
        && let Err(retry_after) = limiter.check(principal.credential_id())
    {
        return Ok(retry_after.into_response());
    }
    req.extensions_mut().insert(principal);
    inner.call(req).await
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
