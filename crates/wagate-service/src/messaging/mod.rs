//! Messaging: the inbound pipeline, sending, chats and contacts (api.md §5–§7, §10).

mod budget;
mod inbound;
mod send_request;
mod service;

pub use budget::SendBudget;
pub use inbound::InboundPipeline;
pub use send_request::{ContactCard, MediaPayload, SendRequest};
pub use service::{MessagingService, TargetRef};
