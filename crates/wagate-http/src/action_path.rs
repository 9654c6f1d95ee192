//! Action routes (`…/{id}:start`, api.md §1.1). axum 0.8 cannot route a parameter and a literal
//! in one segment, so before routing the last segment `x:verb` — only for known verbs — becomes
//! `x/~verb`, which the router registers. Device JIDs (`628…:12@s.whatsapp.net`) also contain
//! colons, which is why only the listed verbs are rewritten, and a percent-encoded `%3A` never is.

use axum::extract::Request;
use axum::http::Uri;

/// The internal path segment an action is registered under.
pub fn internal_segment(verb: &str) -> String {
    format!("~{verb}")
}

/// `/a/b/x:verb` → `/a/b/x/~verb` when `verb` is one of `verbs`; `None` otherwise.
pub fn rewrite(path: &str, verbs: &[&str]) -> Option<String> {
    let (head, last) = path.rsplit_once('/')?;
    let (target, verb) = last.rsplit_once(':')?;
    (!target.is_empty() && verbs.contains(&verb))
        .then(|| format!("{head}/{target}/{}", internal_segment(verb)))
}

/// Rewrites the request's URI in place (query string kept).
pub fn rewrite_request(mut req: Request, verbs: &[&str]) -> Request {
    let Some(path) = rewrite(req.uri().path(), verbs) else {
        return req;
    };
    let path_and_query = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let mut parts = req.uri().clone().into_parts();
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERBS: &[&str] = &["start", "leave"];

    #[test]
    fn rewrites_only_known_verbs_on_the_last_segment() {
        assert_eq!(
            rewrite("/api/v1/sessions/sess_1:start", VERBS).as_deref(),
            Some("/api/v1/sessions/sess_1/~start")
        );
        assert_eq!(rewrite("/api/v1/sessions/sess_1:explode", VERBS), None);
        assert_eq!(rewrite("/api/v1/sessions:start/x", VERBS), None);
        assert_eq!(rewrite("/api/v1/sessions/:start", VERBS), None);
    }

    #[test]
    fn device_jids_and_encoded_colons_are_left_alone() {
        assert_eq!(rewrite("/c/628123:12@s.whatsapp.net", VERBS), None);
        assert_eq!(rewrite("/g/120363@g.us%3Aleave", VERBS), None);
        assert_eq!(
            rewrite("/g/120363@g.us:leave", VERBS).as_deref(),
            Some("/g/120363@g.us/~leave")
        );
    }

    #[test]
    fn query_string_survives() {
        let req = Request::builder()
            .uri("/s/x:start?a=1")
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(rewrite_request(req, VERBS).uri(), "/s/x/~start?a=1");
    }
}
