//! Messaging: the inbound pipeline, sending, chats and contacts (api.md §5–§7, §10).

mod budget;
mod inbound;
mod outbox_worker;
mod send_request;
mod service;
mod submit;

pub use budget::SendBudget;
pub use inbound::InboundPipeline;
pub use outbox_worker::{OutboxConfig, OutboxWorker};
pub use send_request::{ContactCard, MediaPayload, SendRequest};
pub use service::{DEFAULT_KEY_TTL, MessagingService, TargetRef};
pub use submit::{SendOutcome, Submission};
