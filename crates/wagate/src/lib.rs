//! The `wagate` binary's library half: CLI, configuration, and the node that `serve` runs
//! (also started in-process by the tests through [`node::Node::start`]).

pub mod cli;
mod commands;
pub mod config;
mod logging;
pub mod node;
mod secret_key;
mod simnet_cmd;
