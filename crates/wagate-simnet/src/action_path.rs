//! Action paths (`…/{id}:verb`) for axum 0.8, which cannot route a parameter and a literal in
//! one path segment (its router panics: "Only one parameter is allowed per path segment").
//!
//! Before routing, the **last** segment `x:verb` — only for the listed verbs — becomes `x/~verb`,
//! and routes are registered under that internal form. Device JIDs
//! (`628…:12@s.whatsapp.net`) contain colons too, which is why only known verbs are rewritten;
//! a percent-encoded `%3A` is never an action. The internal form is the same as wagate-http's.

use std::task::{Context, Poll};

use http::uri::PathAndQuery;
use http::{Request, Uri};
use tower::{Layer, Service};

/// `/a/b/x:verb` → `/a/b/x/~verb` when `verb` is one of `verbs`; `None` when the path is not an
/// action path (no colon in the last segment, an unknown verb, or nothing before the colon).
pub fn rewrite_action_segment(path: &str, verbs: &[&str]) -> Option<String> {
    let (head, last) = path.rsplit_once('/')?;
    let (target, verb) = last.rsplit_once(':')?;
    (!target.is_empty() && verbs.contains(&verb)).then(|| format!("{head}/{target}/~{verb}"))
}

/// [`rewrite_action_segment`] applied to a URI's path; the query string is kept.
pub fn rewrite_action_uri(uri: &Uri, verbs: &[&str]) -> Option<Uri> {
    let path = rewrite_action_segment(uri.path(), verbs)?;
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(path_and_query).ok()?);
    Uri::from_parts(parts).ok()
}

/// A [`Layer`] that rewrites action paths before the wrapped service (a router) sees them.
/// Apply it around the whole router (not with `Router::layer`, which runs after routing).
#[derive(Debug, Clone, Copy)]
pub struct ActionPathLayer {
    verbs: &'static [&'static str],
}

impl ActionPathLayer {
    /// Rewrites actions named in `verbs` (without the colon: `"scan"`, `"enter-code"`, …).
    pub fn new(verbs: &'static [&'static str]) -> Self {
        Self { verbs }
    }
}

impl<S> Layer<S> for ActionPathLayer {
    type Service = ActionPath<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ActionPath {
            inner,
            verbs: self.verbs,
        }
    }
}

/// The service made by [`ActionPathLayer`].
#[derive(Debug, Clone)]
pub struct ActionPath<S> {
    inner: S,
    verbs: &'static [&'static str],
}

impl<S, B> Service<Request<B>> for ActionPath<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        if let Some(uri) = rewrite_action_uri(req.uri(), self.verbs) {
            *req.uri_mut() = uri;
        }
        self.inner.call(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERBS: &[&str] = &["scan", "enter-code", "unlink", "drop"];

    #[test]
    fn known_verb_on_last_segment_is_rewritten() {
        assert_eq!(
            rewrite_action_segment("/_sim/phones/628123:scan", VERBS).as_deref(),
            Some("/_sim/phones/628123/~scan")
        );
        assert_eq!(
            rewrite_action_segment("/phones/628123:enter-code", VERBS).as_deref(),
            Some("/phones/628123/~enter-code")
        );
    }

    #[test]
    fn unknown_verbs_and_other_segments_are_left_alone() {
        assert_eq!(
            rewrite_action_segment("/phones/628123:explode", VERBS),
            None
        );
        assert_eq!(rewrite_action_segment("/phones:scan/628123", VERBS), None);
        assert_eq!(rewrite_action_segment("/phones/:scan", VERBS), None);
        assert_eq!(rewrite_action_segment("/phones/628123:scan/", VERBS), None);
        assert_eq!(rewrite_action_segment("no-slash:scan", VERBS), None);
    }

    #[test]
    fn device_jids_and_encoded_colons_are_not_actions() {
        assert_eq!(
            rewrite_action_segment("/chats/628123:12@s.whatsapp.net", VERBS),
            None
        );
        assert_eq!(rewrite_action_segment("/sessions/s1%3Adrop", VERBS), None);
        assert_eq!(
            rewrite_action_segment("/devices/628123:12@s.whatsapp.net:unlink", VERBS).as_deref(),
            Some("/devices/628123:12@s.whatsapp.net/~unlink")
        );
    }

    #[test]
    fn query_string_survives_the_rewrite() {
        let uri: Uri = "http://h/sessions/s1:drop?now=1".parse().unwrap();
        let rewritten = rewrite_action_uri(&uri, VERBS).unwrap();
        assert_eq!(rewritten, "http://h/sessions/s1/~drop?now=1");
    }
}
