//! Realtime tickets (events.md §4.4): `POST /api/v1/realtime/ticket` decides authorization once
//! and stores the resolved subscription under a 30-second ticket; the WebSocket upgrade redeems
//! it exactly once, on any node sharing the store.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use wagate_domain::{
    Capability, Clock, Principal, PrincipalKind, RawTicket, SessionId, Store, StoredTicket,
    TICKET_TTL_SECONDS,
};

use super::stream::non_blank;
use super::subscription::{Reach, Subscription, parse_types};
use crate::periodic::spawn_periodic;
use crate::{ServiceError, ServiceResult, access};

/// The ticket request body (unknown keys are the transport's to ignore).
#[derive(Debug, Default, Clone)]
pub struct TicketRequest {
    /// `session`, `organization` (default) or `firehose`.
    pub scope: Option<String>,
    /// Required for `scope = session`.
    pub session: Option<String>,
    /// Type filter; absent or empty = every type.
    pub events: Option<Vec<String>>,
    /// Resume cursor; ignored for the firehose.
    pub since: Option<String>,
}

/// A minted ticket: the secret, shown once.
#[derive(Debug)]
pub struct MintedTicket {
    pub ticket: RawTicket,
    pub expires_in_seconds: u32,
}

/// Mints and redeems tickets.
pub struct RealtimeTickets {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl RealtimeTickets {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Authorizes `req` for `p` (the table of events.md §4.4) and stores it under a new ticket.
    pub async fn mint(&self, p: &Principal, req: TicketRequest) -> ServiceResult<MintedTicket> {
        let scope = req.scope.as_deref().unwrap_or("organization");
        let reach = match scope {
            "firehose" => {
                if !p.is_super_admin() {
                    return Err(ServiceError::Forbidden(
                        "firehose requires super_admin".into(),
                    ));
                }
                Reach::Firehose
            }
            "organization" => {
                let organization = active_organization(p)?.clone();
                access::require(p, Capability::Events)?;
                Reach::Organization {
                    organization,
                    session: None,
                }
            }
            "session" => {
                let raw = non_blank(req.session.clone()).ok_or_else(|| {
                    ServiceError::validation("session is required for scope=session")
                })?;
                let session = self.reachable_session(p, &raw).await?;
                access::require(p, Capability::Events)?;
                session
            }
            _ => {
                return Err(ServiceError::validation(
                    "scope must be one of session|organization|firehose",
                ));
            }
        };
        let types = parse_types(req.events.iter().flatten().map(String::as_str))?;
        let since = match reach {
            Reach::Firehose => None,
            Reach::Organization { .. } => non_blank(req.since),
        };
        let subscription = Subscription {
            reach,
            types,
            since,
            principal: p.clone(),
        };
        let ticket = RawTicket::generate();
        let now = self.clock.now_ms();
        self.store
            .insert_realtime_ticket(&StoredTicket {
                hash: ticket.digest(),
                subscription: subscription.to_stored(),
                created_at: now,
                expires_at: now + i64::from(TICKET_TTL_SECONDS) * 1000,
            })
            .await?;
        Ok(MintedTicket {
            ticket,
            expires_in_seconds: TICKET_TTL_SECONDS,
        })
    }

    /// The one session a `scope = session` ticket names: the caller's organization's (any
    /// organization's for a super-admin), reachable by the caller, else `404`.
    async fn reachable_session(&self, p: &Principal, raw: &str) -> ServiceResult<Reach> {
        let id = SessionId::parse(raw).map_err(|_| ServiceError::session_not_found())?;
        let found = if p.is_super_admin() {
            self.store.get_session_by_id(&id).await?
        } else {
            let organization = active_organization(p)?;
            if !p.can_reach_session(&id) {
                return Err(ServiceError::session_not_found());
            }
            self.store.get_session(organization, &id).await?
        };
        let session = found.ok_or_else(ServiceError::session_not_found)?;
        Ok(Reach::Organization {
            organization: session.organization_id,
            session: Some(session.id),
        })
    }

    /// Redeems a presented ticket, once: `401 missing ticket` without one, `401 invalid or
    /// expired ticket` when it is unknown, used, expired, or its API key was revoked since.
    pub async fn redeem(&self, presented: Option<&str>) -> ServiceResult<Subscription> {
        let presented = presented
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ServiceError::Unauthorized("missing ticket"))?;
        let invalid = || ServiceError::Unauthorized("invalid or expired ticket");
        let now = self.clock.now_ms();
        let stored = self
            .store
            .redeem_realtime_ticket(&RawTicket::from_presented(presented).digest(), now)
            .await?
            .ok_or_else(invalid)?;
        let subscription = Subscription::from_stored(&stored.subscription)?;
        if let PrincipalKind::ApiKey { id, .. } = &subscription.principal.kind {
            let usable = self
                .store
                .get_api_key(id)
                .await?
                .is_some_and(|k| k.enabled && k.expires_at.is_none_or(|at| at > now));
            if !usable {
                return Err(invalid());
            }
        }
        Ok(subscription)
    }
}

/// The caller's organization; a ticket without one is `403` (events.md §4.4), unlike the
/// `401` of other operations.
fn active_organization(p: &Principal) -> ServiceResult<&wagate_domain::OrgId> {
    p.organization
        .as_ref()
        .ok_or_else(|| ServiceError::Forbidden("no active organization".into()))
}

/// Deletes expired tickets every `every` until `stop` (redeemed ones are deleted on use).
pub fn spawn_ticket_pruning(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    every: Duration,
    stop: CancellationToken,
) {
    spawn_periodic(every, stop, move || {
        let (store, clock) = (store.clone(), clock.clone());
        async move {
            match store.prune_realtime_tickets(clock.now_ms()).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(pruned = n, "expired realtime tickets deleted"),
                Err(err) => tracing::warn!(%err, "cannot prune realtime tickets"),
            }
        }
    });
}
