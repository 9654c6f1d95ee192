//! The cached key set and its refresh rules (`api.md` §1.3).
//!
//! * Fetched on first use, refreshed lazily once older than `refresh_after`.
//! * An unknown `kid` triggers a refresh, at most one per `min_refresh_interval`.
//! * After a failed fetch, further attempts wait `min_refresh_interval`; meanwhile a previously
//!   cached set keeps being used, and without one every lookup is `KeysUnavailable`.
//! * One fetch at a time: callers queue on a gate and, once through, re-read the state, so they
//!   reuse what the fetch before them produced instead of fetching again.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use wagate_domain::TokenError;

use crate::fetch::JwksFetcher;
use crate::key_set::KeySet;

/// Holds the current key set and decides when to fetch a new one.
pub(crate) struct KeyCache {
    fetcher: JwksFetcher,
    refresh_after: Duration,
    min_refresh_interval: Duration,
    state: Mutex<State>,
    /// Held for the duration of a fetch so that only one runs at a time.
    fetch_gate: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    current: Option<Cached>,
    /// When the last refresh caused by an unknown `kid` started.
    last_kid_refresh: Option<Instant>,
    /// When the last fetch failed, and why; cleared by a successful fetch.
    last_failure: Option<(Instant, String)>,
}

struct Cached {
    keys: Arc<KeySet>,
    fetched_at: Instant,
}

/// What a lookup should do given the current state.
enum Plan {
    Use(Arc<KeySet>),
    Unavailable(String),
    Fetch { unknown_kid: bool },
}

impl KeyCache {
    /// An empty cache; nothing is fetched until the first lookup.
    pub(crate) fn new(
        fetcher: JwksFetcher,
        refresh_after: Duration,
        min_refresh_interval: Duration,
    ) -> Self {
        Self {
            fetcher,
            refresh_after,
            min_refresh_interval,
            state: Mutex::new(State::default()),
            fetch_gate: tokio::sync::Mutex::new(()),
        }
    }

    /// The key set to verify a token whose header names `kid` (if any), fetching or refreshing
    /// it first when the rules call for it. The returned set may still lack `kid` (refresh
    /// throttled, or the key really is unknown); the caller rejects the token then.
    pub(crate) async fn keys_for(&self, kid: Option<&str>) -> Result<Arc<KeySet>, TokenError> {
        match self.plan(kid) {
            Plan::Use(keys) => return Ok(keys),
            Plan::Unavailable(reason) => return Err(TokenError::KeysUnavailable(reason)),
            Plan::Fetch { .. } => {}
        }
        let _gate = self.fetch_gate.lock().await;
        // Another caller may have fetched while we waited: decide again on the fresh state.
        match self.plan(kid) {
            Plan::Use(keys) => Ok(keys),
            Plan::Unavailable(reason) => Err(TokenError::KeysUnavailable(reason)),
            Plan::Fetch { unknown_kid } => {
                if unknown_kid {
                    self.lock_state().last_kid_refresh = Some(Instant::now());
                }
                self.refresh().await
            }
        }
    }

    /// Fetches now (the caller holds the gate) and records the outcome.
    async fn refresh(&self) -> Result<Arc<KeySet>, TokenError> {
        let outcome = self.fetcher.fetch().await;
        let mut state = self.lock_state();
        match outcome {
            Ok(keys) => {
                let keys = Arc::new(keys);
                state.current = Some(Cached {
                    keys: Arc::clone(&keys),
                    fetched_at: Instant::now(),
                });
                state.last_failure = None;
                tracing::debug!(url = %self.fetcher.url(), keys = keys.keys().len(), "JWKS refreshed");
                Ok(keys)
            }
            Err(error) => {
                let reason = format!("fetching JWKS failed: {error}");
                state.last_failure = Some((Instant::now(), reason.clone()));
                match &state.current {
                    Some(cached) => {
                        tracing::warn!(url = %self.fetcher.url(), %error, "JWKS refresh failed; keeping the cached key set");
                        Ok(Arc::clone(&cached.keys))
                    }
                    None => {
                        tracing::warn!(url = %self.fetcher.url(), %error, "JWKS fetch failed; no signing keys available");
                        Err(TokenError::KeysUnavailable(reason))
                    }
                }
            }
        }
    }

    fn plan(&self, kid: Option<&str>) -> Plan {
        let now = Instant::now();
        let state = self.lock_state();
        let within_interval =
            |at: Instant| now.saturating_duration_since(at) < self.min_refresh_interval;
        let retry_throttled = state
            .last_failure
            .as_ref()
            .is_some_and(|(at, _)| within_interval(*at));
        let Some(cached) = &state.current else {
            return match &state.last_failure {
                Some((_, reason)) if retry_throttled => Plan::Unavailable(reason.clone()),
                _ => Plan::Fetch { unknown_kid: false },
            };
        };
        let stale = now.saturating_duration_since(cached.fetched_at) >= self.refresh_after;
        if stale && !retry_throttled {
            return Plan::Fetch { unknown_kid: false };
        }
        let kid_unknown = kid.is_some_and(|kid| !cached.keys.has_kid(kid));
        let kid_refresh_throttled = state.last_kid_refresh.is_some_and(within_interval);
        if kid_unknown && !kid_refresh_throttled {
            return Plan::Fetch { unknown_kid: true };
        }
        Plan::Use(Arc::clone(&cached.keys))
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        // The state is a few plain fields updated in one step each; a panic elsewhere cannot
        // leave it half-written, so a poisoned lock is still safe to use.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
