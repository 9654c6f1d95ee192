//! Messaging: the inbound pipeline, sending, chats and contacts (api.md §5–§7, §10).
//! `MessagingService` is one type; its use cases are split by resource: chats, sends and
//! message operations in `service.rs`, contacts, presence, status posts and media downloads in
//! their own files.

mod budget;
mod contacts;
mod group_commit;
mod inbound;
mod media;
mod outbox_outcomes;
mod outbox_worker;
mod presence;
mod send_request;
mod sent_records;
mod service;
mod status;
mod submit;

pub use budget::SendBudget;
pub use contacts::{ContactFilter, ContactSource};
pub use inbound::InboundPipeline;
pub use media::MediaDownload;
pub use outbox_worker::{OutboxConfig, OutboxWorker};
pub use send_request::{ContactCard, MediaPayload, SendRequest};
pub use service::{DEFAULT_KEY_TTL, MessagingService, TargetRef};
pub use status::{StatusKind, StatusRequest};
pub use submit::{SendOutcome, Submission};
