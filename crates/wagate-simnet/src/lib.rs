//! simnet: a **simulated WhatsApp network** — a test double, never the real thing.
//!
//! It holds simulated phones (accounts), the devices linked to them and the live connections of
//! wagate sessions, and behaves like WhatsApp where wagate's contract depends on it (QR codes
//! rotate and time out, phone-number pairing codes, resume with stored device credentials,
//! unlinking, dropped and replaced connections). See `shared/spec/simnet.md` and decisions.md D6.
//!
//! - [`Network`]: the in-memory network; cheap to clone, every clone is the same network.
//! - [`SimEngine`]: implements wagate's [`Engine`](wagate_domain::Engine) port against a
//!   [`Network`], storing each session's device credential in a small JSON file.
//! - [`control_router`]: the control API (`/_sim/…`) through which tests and demos act as the
//!   phones.
//! - [`RemoteSimEngine`] and [`engine_router`]: the same engine across processes, against a
//!   standalone simnet (`wagate simnet`) over HTTP; see [`remote`].
//! - [`action_path`]: the `…/{id}:verb` path rewriting that lets axum 0.8 route action paths.
//!
//! It covers pairing and connections, messages (all content kinds, receipts, edits, revokes,
//! reactions, votes, media), presence, contacts, groups, channels and status posts; a standalone
//! simnet can keep its state in a file ([`StateFile`]).

pub mod action_path;
mod base64_serde;
mod codes;
pub mod control;
pub mod engine;
mod error;
#[cfg(test)]
mod live_tests;
pub mod network;
pub mod remote;
mod state_file;
mod timings;

pub use action_path::{ActionPath, ActionPathLayer, rewrite_action_segment, rewrite_action_uri};
pub use control::{CONTROL_ACTION_VERBS, control_router};
pub use engine::{SimClient, SimEngine};
pub use error::SimError;
pub use network::ops::{Actor, Op, OpResult};
pub use network::views::{ChannelView, GroupView, MessageView, PhoneView};
pub use network::{
    ConnectRequest, ConnectionId, DeviceCredential, LinkedDevice, Network, NetworkConnection,
    NetworkEvent, PhoneAdded, PhoneInfo,
};
pub use remote::{RemoteSimClient, RemoteSimEngine, engine_router};
pub use state_file::{StateFile, StateSaver};
pub use timings::SimTimings;

/// The prefix of every simnet log line, so a simulated network is never mistaken for WhatsApp.
pub(crate) const LOG_LABEL: &str = "simnet (simulated network)";
