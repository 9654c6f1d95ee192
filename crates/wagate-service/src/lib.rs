//! Services: the use cases behind every API operation and CLI command.
//!
//! Services take a [`Principal`](wagate_domain::Principal) and domain values, enforce the
//! contract's rules (organization scoping, capabilities, key minting) and call the
//! [`Store`](wagate_domain::Store). They never import a web framework, database driver or
//! WhatsApp crate.

pub mod access;
pub mod api_keys;
pub mod bootstrap;
pub mod error;
pub mod events;
pub mod groups;
pub mod identity;
pub mod messaging;
pub mod organizations;
pub mod pagination;
mod periodic;
pub mod revocations;
pub mod session_manager;
pub mod sessions;
pub mod webhooks;

pub use access::require;
pub use api_keys::{ApiKeyService, CreateApiKey, CreatedApiKey};
pub use bootstrap::{Bootstrap, bootstrap_if_empty};
pub use error::{ServiceError, ServiceResult};
pub use events::{
    EventJournal, EventStream, EventStreams, InProcessBus, MintedTicket, RealtimeTickets,
    StreamRequest, Subscription, TicketRequest, spawn_retention, spawn_ticket_pruning,
};
pub use groups::{ChannelService, GroupService, GroupUpdates, InviteCode, MemberChange};
pub use identity::{Authenticator, Credentials};
pub use messaging::{
    InboundPipeline, MessagingService, OutboxConfig, OutboxWorker, SendOutcome, SendRequest,
    Submission, TargetRef,
};
pub use organizations::OrganizationService;
pub use pagination::{Page, PageRequest};
pub use revocations::{Revocations, spawn_revocation_watcher};
pub use session_manager::{
    Backoff, EventQueue, InboundHandler, MAX_TRAFFIC_BATCH, ManagerConfig, NextEvents, QrCode,
    SessionManager,
};
pub use sessions::{CreateSession, Lifecycle, SessionDefaults, SessionService};
pub use webhooks::{WebhookConfig, WebhookDispatcher, WebhookFields, WebhookService};
