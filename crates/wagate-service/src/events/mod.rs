//! Events after their producers: the journal (log first, then the bus), the in-process bus, and
//! realtime streams with replay behind both transports, NDJSON and ticketed WebSocket
//! (events.md §2, §4; D5).

mod bus;
mod journal;
mod retention;
mod stream;
mod subscription;
mod tickets;

pub use bus::InProcessBus;
pub use journal::EventJournal;
pub use retention::spawn_retention;
pub use stream::{EventStream, EventStreams, HEARTBEAT_SECONDS, REPLAY_CAP, StreamRequest};
pub use subscription::{Reach, Subscription};
pub use tickets::{MintedTicket, RealtimeTickets, TicketRequest, spawn_ticket_pruning};
