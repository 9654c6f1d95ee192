//! wagate's real engine: [`WhatsAppEngine`] implements the `wagate_domain::Engine` port over
//! [whatsapp-rust](https://github.com/jlucaso1/whatsapp-rust) 0.7.0 (decisions.md D6).
//!
//! This crate is the only place in wagate that imports whatsapp-rust; no type of it crosses the
//! port. Module map:
//!
//! - `engine`: [`WhatsAppEngine`] (open, is_paired, forget) and how a client is built.
//! - `connection`: one open connection, its supervisor task and the handle the manager holds.
//! - `live`: the handle's `EngineClient` operations (messages, people, groups, channels).
//! - `outbound`: the protobuf bodies those operations send (pure).
//! - `inbound`: crate messages, receipts, presence, group, contact and history-sync events
//!   as port events (pure mappings plus the `Translator` that needs the client).
//! - `attempt`: the I/O-free rules of one connection (what is reported, what ends it).
//! - `mapping`: the crate's connection events, reasons and pairing failures as the port's.
//! - `errors`: the one mapping from crate failures of live operations to `EngineError`.
//! - `jids`, `locator`, `polls`: JID conversion, the inbound media locator, known polls.
//! - `keystore`: the per-session SQLite keystore files.
//! - `transport`: the crate's websocket transport, watched for connect failures.

mod attempt;
mod connection;
mod engine;
mod errors;
mod inbound;
mod jids;
mod keystore;
mod live;
mod locator;
mod mapping;
mod outbound;
mod polls;
mod transport;

pub use engine::WhatsAppEngine;
