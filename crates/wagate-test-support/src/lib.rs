//! Shared fixtures for wagate's tests: a fresh database per test, a node on loopback, a JWKS
//! server with locally generated keys.

pub mod db;
pub mod jwt;
pub mod node;
pub mod receiver;
pub mod seed;
