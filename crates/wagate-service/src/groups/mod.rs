//! Groups and channels (api.md §8–§9): stored groups that follow WhatsApp, live group and
//! channel operations through the session's engine client.

mod channels;
mod invite;
mod service;
mod updates;

pub use channels::ChannelService;
pub use invite::InviteCode;
pub use service::{GroupService, MemberChange};
pub use updates::GroupUpdates;
