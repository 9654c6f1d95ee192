//! Realtime streams (events.md §4): the caller's organization (optionally one session), a type
//! filter, and replay after `since` from the log with no gap and no duplicate at the seam.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use tokio::sync::broadcast::{self, error::RecvError};
use wagate_domain::{
    Capability, Event, EventId, EventLog, LoggedEvent, OrgId, Principal, SessionId,
};

use super::InProcessBus;
use crate::api_keys::Revocations;
use crate::{ServiceError, ServiceResult, access};

/// Events replayed at most on one connect (D5).
pub const REPLAY_CAP: u32 = 1000;

/// What a subscriber asks for (query parameters of the NDJSON stream).
#[derive(Debug, Default, Clone)]
pub struct StreamRequest {
    pub session: Option<String>,
    /// Comma-separated type names; `*`, empty or absent means every type.
    pub types: Option<String>,
    pub since: Option<String>,
}

pub struct EventStreams {
    log: Arc<dyn EventLog>,
    bus: InProcessBus,
    revocations: Revocations,
}

/// One open stream: the replay, then live events.
pub struct EventStream {
    replay: VecDeque<LoggedEvent>,
    live: broadcast::Receiver<Arc<Event>>,
    revoked: broadcast::Receiver<String>,
    /// Live events up to the last id the replay read were already sent (or filtered).
    seam: Option<EventId>,
    scope: Scope,
}

struct Scope {
    organization: OrgId,
    session: Option<SessionId>,
    types: Option<HashSet<String>>,
    principal: Principal,
}

impl Scope {
    fn admits(&self, organization: &OrgId, session: &SessionId, event_type: &str) -> bool {
        *organization == self.organization
            && self.session.as_ref().is_none_or(|s| s == session)
            && self.principal.can_reach_session(session)
            && self.types.as_ref().is_none_or(|t| t.contains(event_type))
    }
}

impl EventStreams {
    pub fn new(log: Arc<dyn EventLog>, bus: InProcessBus, revocations: Revocations) -> Self {
        Self {
            log,
            bus,
            revocations,
        }
    }

    /// Opens a stream: subscribes to live events first, then reads the replay, so nothing
    /// published in between is lost (events.md §4.2).
    pub async fn open(&self, p: &Principal, req: StreamRequest) -> ServiceResult<EventStream> {
        let organization = access::organization(p)?.clone();
        access::require(p, Capability::Events)?;
        let types = parse_types(req.types.as_deref())?;
        // Not validated (events.md §4.5): a session out of reach simply yields no events.
        let session = req
            .session
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| SessionId::from_trusted(s.to_owned()));
        let live = self.bus.subscribe();
        let revoked = self.revocations.subscribe();
        let scope = Scope {
            organization,
            session,
            types,
            principal: p.clone(),
        };
        let since = req
            .since
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let (replay, seam) = match since {
            None => (VecDeque::new(), None),
            Some(since) => {
                // An id that does not parse cannot be in the log: replay from the oldest.
                let after = EventId::parse(since).ok();
                let rows = self
                    .log
                    .events_after(
                        &scope.organization,
                        scope.session.as_ref(),
                        after.as_ref(),
                        REPLAY_CAP,
                    )
                    .await?;
                let seam = rows.last().map(|r| r.id.clone());
                let rows = rows
                    .into_iter()
                    .filter(|r| scope.admits(&r.organization, &r.session, &r.event_type))
                    .collect();
                (rows, seam)
            }
        };
        Ok(EventStream {
            replay,
            live,
            revoked,
            seam,
            scope,
        })
    }
}

impl EventStream {
    /// The next envelope line for this subscriber; `None` when the stream must end (the bus
    /// closed, this subscriber fell too far behind and must reconnect with `since`, or its
    /// API key was revoked).
    pub async fn next(&mut self) -> Option<String> {
        let credential = self.scope.principal.credential_id();
        if let Some(row) = self.replay.pop_front() {
            return Some(row.envelope);
        }
        loop {
            let received = tokio::select! {
                revoked = self.revoked.recv() => match revoked {
                    Ok(id) if id != credential => continue,
                    Err(RecvError::Lagged(_)) => continue,
                    // Revoked, or no revocation can be heard any more: close.
                    Ok(_) | Err(RecvError::Closed) => return None,
                },
                received = self.live.recv() => received,
            };
            let event = match received {
                Ok(e) => e,
                Err(RecvError::Lagged(missed)) => {
                    tracing::info!(missed, "realtime subscriber lagged; closing its stream");
                    return None;
                }
                Err(RecvError::Closed) => return None,
            };
            if self.seam.as_ref().is_some_and(|seam| event.id <= *seam) {
                continue;
            }
            if self
                .scope
                .admits(&event.organization, &event.session, event.event_type())
            {
                return Some(event.envelope_json());
            }
        }
    }

    /// The credential this stream was opened with (revocation closes it).
    pub fn principal(&self) -> &Principal {
        &self.scope.principal
    }
}

/// `None` = every type (events.md §4.1); a list resolving to no names is a `400`.
fn parse_types(raw: Option<&str>) -> ServiceResult<Option<HashSet<String>>> {
    let Some(raw) = raw else { return Ok(None) };
    if raw.is_empty() {
        return Ok(None);
    }
    let names: HashSet<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    if names.contains("*") {
        return Ok(None);
    }
    if names.is_empty() {
        return Err(ServiceError::validation(
            "events filter matches no event types",
        ));
    }
    Ok(Some(names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_filters_follow_the_contract() {
        assert_eq!(parse_types(None).unwrap(), None);
        assert_eq!(parse_types(Some("")).unwrap(), None);
        assert_eq!(parse_types(Some("message,*")).unwrap(), None);
        let some = parse_types(Some(" message , ,session.status"))
            .unwrap()
            .unwrap();
        assert_eq!(some.len(), 2);
        assert!(some.contains("message") && some.contains("session.status"));
        assert!(parse_types(Some(",")).is_err());
        assert!(parse_types(Some(" , ")).is_err());
    }
}
