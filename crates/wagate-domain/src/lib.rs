//! wagate's domain: the types every layer speaks and the ports (traits) that adapters implement.
//!
//! This crate never depends on a web framework, a database driver or a WhatsApp library.

pub mod api_key;
pub mod capability;
pub mod clock;
pub mod engine;
pub mod event;
pub mod event_log;
pub mod group;
pub mod group_store;
pub mod ids;
pub mod jid;
pub mod message;
pub mod message_store;
pub mod organization;
pub mod outbox;
pub mod principal;
pub mod realtime_ticket;
mod secret;
pub mod session;
pub mod store;
pub mod token;
pub mod webhook;
pub mod webhook_store;

pub use api_key::{ApiKey, ApiKeyState, RawApiKey};
pub use capability::{Capability, CapabilitySet};
pub use clock::{Clock, SystemClock};
pub use engine::{
    Engine, EngineClient, EngineError, EngineEvent, EngineLink, FatalReason, LinkedAccount,
    MediaRef, OpenMode, PollSpec,
};
pub use event::{
    ContactUpdatePayload, Event, EventPayload, EventPublisher, GroupPayload, MentionInfo,
    MessageEventKind, MessagePayload, MessageStatusPayload, NewsletterAction, NewsletterPayload,
    OutboxStatusPayload, PairedPayload, PresencePayload,
};
pub use event_log::{EventLog, LoggedEvent};
pub use group::{Group, GroupMember, GroupMeta, MemberUpsert};
pub use group_store::GroupStore;
pub use ids::{ApiKeyId, EventId, IdError, MessageId, OrgId, OutboxId, SessionId, WebhookId};
pub use jid::{ChatKind, Jid, JidError};
pub use message::{
    Chat, ChatPatch, ChatTouch, Contact, Direction, Identity, IdentityUpdate, MediaMeta,
    MessageStatus, NewMessage, StoredMessage,
};
pub use message_store::MessageStore;
pub use organization::Organization;
pub use outbox::{OutboxEntry, OutboxInsert, OutboxOutcome, OutboxStatus};
pub use principal::{OrgRole, Principal, PrincipalKind};
pub use realtime_ticket::{RawTicket, StoredTicket, TICKET_TTL_SECONDS};
pub use session::{NewSession, Session, SessionStatus};
pub use store::{Store, StoreError, StoreResult};
pub use token::{TokenError, TokenVerifier, UserClaims};
pub use webhook::{
    ClaimedDelivery, Delivery, DeliveryOutcome, DeliveryStatus, RetryPolicy, Webhook, WebhookHealth,
};
pub use webhook_store::WebhookStore;
