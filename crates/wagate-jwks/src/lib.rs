//! JWKS adapter: verifies bearer JWTs against a key set fetched over HTTP(S) and implements
//! [`wagate_domain::TokenVerifier`] (`api.md` §1.3, `decisions.md` D2).
//!
//! Code map:
//! * [`config`] — [`JwksConfig`]: URL, expected issuer/audience, claim names, refresh timing.
//! * `key_set` — turns a JWKS document into verification keys (JWK → key + algorithm).
//! * `fetch` — the HTTP client that downloads the JWKS document.
//! * `cache` — the cached key set and its refresh rules (lazy, throttled, no stampede).
//! * [`verifier`] — [`JwksVerifier`]: header → key selection → signature and claim checks.

pub mod config;
pub mod verifier;

mod cache;
mod fetch;
mod key_set;

pub use config::JwksConfig;
pub use verifier::{JwksSetupError, JwksVerifier};
