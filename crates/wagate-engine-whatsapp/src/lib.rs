//! wagate's real engine: [`WhatsAppEngine`] implements the `wagate_domain::Engine` port over
//! [whatsapp-rust](https://github.com/jlucaso1/whatsapp-rust) 0.7.0 (decisions.md D6).
//!
//! This crate is the only place in wagate that imports whatsapp-rust; no type of it crosses the
//! port. Module map:
//!
//! - `engine`: [`WhatsAppEngine`] (open, is_paired, forget) and how a client is built.
//! - `connection`: one open connection, its supervisor task and the `EngineClient` handle.
//! - `attempt`: the I/O-free rules of one connection (what is reported, what ends it).
//! - `mapping`: every translation from the crate's events, reasons and JIDs to the port's.
//! - `keystore`: the per-session SQLite keystore files.
//! - `transport`: the crate's websocket transport, watched for connect failures.

mod attempt;
mod connection;
mod engine;
mod keystore;
mod mapping;
mod transport;

pub use engine::WhatsAppEngine;
