//! Realtime streams (events.md §4): one implementation behind both transports (the NDJSON
//! response and the WebSocket). A stream yields the contract's frames as JSON text — `connected`,
//! the replay after `since` from the log with no gap and no duplicate at the seam, then live
//! events and a `ping` every 20 s — and ends on revocation, shutdown or lag; the transport only
//! writes what it gets.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;
use wagate_domain::{Capability, Clock, Event, EventId, EventLog, Principal, SessionId};

use super::InProcessBus;
use super::subscription::{Reach, Subscription, parse_type_list};
use crate::revocations::Revocations;
use crate::{ServiceResult, access};

/// Events replayed at most on one connect (D5).
pub const REPLAY_CAP: u32 = 1000;

/// Seconds between `ping` frames, announced in `connected` (events.md §4.3).
pub const HEARTBEAT_SECONDS: u64 = 20;

/// What an NDJSON subscriber asks for (its query parameters, events.md §4.5).
#[derive(Debug, Default, Clone)]
pub struct StreamRequest {
    pub session: Option<String>,
    /// Comma-separated type names; `*`, empty or absent means every type.
    pub types: Option<String>,
    pub since: Option<String>,
}

/// Opens realtime streams and ends them all at shutdown.
pub struct EventStreams {
    log: Arc<dyn EventLog>,
    bus: InProcessBus,
    revocations: Revocations,
    clock: Arc<dyn Clock>,
    closing: CancellationToken,
}

/// Where a stream is in the order of events.md §4.2.
enum Phase {
    Connected,
    Replay,
    Live,
    Ended,
}

/// One open stream: frames as JSON text, one object each.
pub struct EventStream {
    phase: Phase,
    subscription: Subscription,
    log: Arc<dyn EventLog>,
    clock: Arc<dyn Clock>,
    replay: VecDeque<String>,
    live: broadcast::Receiver<Arc<Event>>,
    revoked: broadcast::Receiver<String>,
    closing: CancellationToken,
    heartbeat: tokio::time::Interval,
    /// Live events up to the last id the replay read were already sent (or filtered).
    seam: Option<EventId>,
}

impl EventStreams {
    pub fn new(
        log: Arc<dyn EventLog>,
        bus: InProcessBus,
        revocations: Revocations,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            log,
            bus,
            revocations,
            clock,
            closing: CancellationToken::new(),
        }
    }

    /// `GET /api/v1/events`: the caller's organization, with `events`, optionally one session.
    pub fn open(&self, p: &Principal, req: StreamRequest) -> ServiceResult<EventStream> {
        let organization = access::organization(p)?.clone();
        access::require(p, Capability::Events)?;
        let types = parse_type_list(req.types.as_deref())?;
        // Not validated (events.md §4.5): a session out of reach simply yields no events.
        let session = non_blank(req.session).map(SessionId::from_trusted);
        Ok(self.subscribe(Subscription {
            reach: Reach::Organization {
                organization,
                session,
            },
            types,
            since: non_blank(req.since),
            principal: p.clone(),
        }))
    }

    /// Opens a stream for an authorized subscription: subscribes to live events (and to
    /// revocations) now, before the replay is read, so nothing published in between is lost.
    pub fn subscribe(&self, subscription: Subscription) -> EventStream {
        let mut heartbeat = tokio::time::interval(Duration::from_secs(HEARTBEAT_SECONDS));
        heartbeat.reset(); // the first tick would fire at once
        EventStream {
            phase: Phase::Connected,
            subscription,
            log: self.log.clone(),
            clock: self.clock.clone(),
            replay: VecDeque::new(),
            live: self.bus.subscribe(),
            revoked: self.revocations.subscribe(),
            closing: self.closing.child_token(),
            heartbeat,
            seam: None,
        }
    }

    /// Ends every open stream (shutdown): each yields no more frames, and new ones end at once.
    pub fn close_all(&self) {
        self.closing.cancel();
    }
}

impl EventStream {
    /// The next frame for this subscriber; `None` when the stream must end (shutdown, its
    /// credential revoked, the subscriber fell too far behind and must reconnect with `since`,
    /// or the replay failed after its `error` frame).
    ///
    /// Cancel-safe: a call dropped before it returns loses nothing.
    pub async fn next_frame(&mut self) -> Option<String> {
        match self.phase {
            Phase::Connected => {
                self.phase = Phase::Replay;
                return Some(format!(
                    "{{\"event\":\"connected\",\"timestamp\":{},\"heartbeatSeconds\":{HEARTBEAT_SECONDS}}}",
                    self.clock.now_ms()
                ));
            }
            Phase::Replay => match self.read_replay().await {
                Ok(()) => self.phase = Phase::Live,
                Err(err) => {
                    tracing::warn!(%err, "realtime replay failed");
                    self.phase = Phase::Ended;
                    return Some("{\"event\":\"error\",\"error\":\"replay_failed\"}".to_owned());
                }
            },
            Phase::Live => {}
            Phase::Ended => return None,
        }
        if let Some(envelope) = self.replay.pop_front() {
            return Some(envelope);
        }
        let credential = self.subscription.principal.credential_id();
        loop {
            let received = tokio::select! {
                () = self.closing.cancelled() => return None,
                revoked = self.revoked.recv() => match revoked {
                    Ok(id) if id != credential => continue,
                    Err(RecvError::Lagged(_)) => continue,
                    // Revoked, or no revocation can be heard any more: close.
                    Ok(_) | Err(RecvError::Closed) => return None,
                },
                _ = self.heartbeat.tick() => {
                    return Some(format!("{{\"event\":\"ping\",\"timestamp\":{}}}", self.clock.now_ms()));
                }
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
                .subscription
                .admits(&event.organization, &event.session, event.event_type())
            {
                return Some(event.envelope_json());
            }
        }
    }

    /// Reads the log after `since` (events.md §4.2): from the oldest retained event when the
    /// cursor is unknown, at most [`REPLAY_CAP`] rows, never for the firehose.
    async fn read_replay(&mut self) -> ServiceResult<()> {
        let Reach::Organization {
            organization,
            session,
        } = &self.subscription.reach
        else {
            return Ok(());
        };
        let Some(since) = &self.subscription.since else {
            return Ok(());
        };
        // An id that does not parse cannot be in the log: replay from the oldest.
        let after = EventId::parse(since).ok();
        let rows = self
            .log
            .events_after(organization, session.as_ref(), after.as_ref(), REPLAY_CAP)
            .await?;
        self.seam = rows.last().map(|r| r.id.clone());
        self.replay = rows
            .into_iter()
            .filter(|r| {
                self.subscription
                    .admits(&r.organization, &r.session, &r.event_type)
            })
            .map(|r| r.envelope)
            .collect();
        Ok(())
    }

    /// The credential this stream was opened with (revocation closes it).
    pub fn principal(&self) -> &Principal {
        &self.subscription.principal
    }
}

/// A trimmed, non-empty value.
pub(crate) fn non_blank(raw: Option<String>) -> Option<String> {
    raw.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}
