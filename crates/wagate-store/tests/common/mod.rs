//! Fixtures the store's test binaries share.

use wagate_domain::{EventId, LoggedEvent, OrgId, SessionId};

/// An event of `kind` in `org`/`session`, created at `at`, with a small envelope.
pub fn event(org: &OrgId, session: &SessionId, kind: &str, at: i64) -> LoggedEvent {
    let id = EventId::generate();
    LoggedEvent {
        envelope: format!("{{\"id\":\"{id}\",\"event\":\"{kind}\"}}"),
        id,
        organization: org.clone(),
        session: session.clone(),
        event_type: kind.to_owned(),
        created_at: at,
    }
}
