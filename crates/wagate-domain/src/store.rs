//! The storage port. Each backend (SQLite, PostgreSQL) implements [`Store`] with the same
//! semantics; the conformance tests in `wagate-store` hold them to it.

use async_trait::async_trait;

use crate::{
    ApiKey, ApiKeyId, OrgId, Organization, Session, SessionId, SessionStatus, StoredTicket,
};

/// The two outcomes a caller can act on, plus everything else.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("store failure: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Every persistent operation wagate needs. Methods that take an organization never return
/// another organization's rows.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Cheap round trip for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;
    /// Closes the pool after in-flight queries finish.
    async fn close(&self);

    // Organizations
    async fn insert_organization(&self, org: &Organization) -> StoreResult<()>;
    /// Creates the organization if it does not exist yet; returns whether it was created.
    async fn ensure_organization(&self, org: &Organization) -> StoreResult<bool>;
    /// Finds by id first, then by name.
    async fn find_organization(&self, id_or_name: &str) -> StoreResult<Option<Organization>>;
    async fn list_organizations(&self) -> StoreResult<Vec<Organization>>;
    async fn count_organizations(&self) -> StoreResult<i64>;

    // Sessions
    async fn insert_session(&self, session: &Session) -> StoreResult<()>;
    async fn get_session(&self, org: &OrgId, id: &SessionId) -> StoreResult<Option<Session>>;
    /// Newest `created_at` first.
    async fn list_sessions(&self, org: &OrgId) -> StoreResult<Vec<Session>>;
    /// Returns whether a row was deleted.
    async fn delete_session(&self, org: &OrgId, id: &SessionId) -> StoreResult<bool>;
    /// A session by id alone, for node-internal work (the session manager).
    async fn get_session_by_id(&self, id: &SessionId) -> StoreResult<Option<Session>>;
    /// Every session pinned to `gateway_id` (boot restore).
    async fn list_sessions_on_gateway(&self, gateway_id: &str) -> StoreResult<Vec<Session>>;
    /// Sets status and reason when either differs from the stored ones; returns whether the row
    /// changed (so a repeated transition publishes nothing).
    async fn set_session_status(
        &self,
        id: &SessionId,
        status: SessionStatus,
        reason: Option<&str>,
        now_ms: i64,
    ) -> StoreResult<bool>;
    /// Stamps a successful (re)connect.
    async fn set_session_connected_at(&self, id: &SessionId, now_ms: i64) -> StoreResult<()>;
    /// Records (or, with `None`s, clears) the linked account after pairing or logout.
    async fn set_session_account(
        &self,
        id: &SessionId,
        wa_jid: Option<&str>,
        wa_lid: Option<&str>,
        phone_number: Option<&str>,
        now_ms: i64,
    ) -> StoreResult<()>;
    /// Sessions per status over every organization (for `/metrics`).
    async fn count_sessions_by_status(&self) -> StoreResult<Vec<(SessionStatus, i64)>>;

    // API keys
    async fn insert_api_key(&self, key: &ApiKey) -> StoreResult<()>;
    async fn find_api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>>;
    async fn get_api_key(&self, id: &ApiKeyId) -> StoreResult<Option<ApiKey>>;
    /// Keys ordered by id; `org = None` lists every organization's keys. `after` is an exclusive
    /// id bound for pagination.
    async fn list_api_keys(
        &self,
        org: Option<&OrgId>,
        after: Option<&ApiKeyId>,
        limit: u32,
    ) -> StoreResult<Vec<ApiKey>>;
    /// Disables the key and records when (`at_ms`); `org = Some` restricts to that
    /// organization. Returns whether a row changed.
    async fn revoke_api_key(
        &self,
        org: Option<&OrgId>,
        id: &ApiKeyId,
        at_ms: i64,
    ) -> StoreResult<bool>;
    /// Keys revoked at or after `since_ms`, with their revocation time, oldest first: how a
    /// server learns of revocations made by another process (events.md §4.6).
    async fn api_keys_revoked_since(&self, since_ms: i64) -> StoreResult<Vec<(ApiKeyId, i64)>>;
    /// Records use, best effort (callers throttle it).
    async fn touch_api_key(&self, id: &ApiKeyId, at_ms: i64) -> StoreResult<()>;

    // Realtime tickets (events.md §4.4)
    async fn insert_realtime_ticket(&self, ticket: &StoredTicket) -> StoreResult<()>;
    /// Deletes the ticket and returns it, in one statement, when it exists and has not expired
    /// at `now_ms`: two concurrent redemptions never both succeed.
    async fn redeem_realtime_ticket(
        &self,
        hash: &str,
        now_ms: i64,
    ) -> StoreResult<Option<StoredTicket>>;
    /// Deletes tickets expired at `now_ms`; returns how many.
    async fn prune_realtime_tickets(&self, now_ms: i64) -> StoreResult<u64>;
}
