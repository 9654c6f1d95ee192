//! Events after their producers: the journal (log first, then the bus), the in-process bus, and
//! realtime streams with replay (events.md §2, §4; D5).

mod bus;
mod journal;
mod retention;
mod stream;

pub use bus::InProcessBus;
pub use journal::EventJournal;
pub use retention::spawn_retention;
pub use stream::{EventStream, EventStreams, REPLAY_CAP, StreamRequest};
