//! Realtime tickets (events.md §4.4): a browser cannot set `Authorization` on a WebSocket, so
//! an authenticated `POST` mints a short-lived ticket the upgrade presents instead. Tickets live
//! in the store (by digest, like API keys) so any node of a cluster can redeem them.

use crate::secret::secret;

/// How long a minted ticket can be redeemed (events.md §4.4: 30 s).
pub const TICKET_TTL_SECONDS: u32 = 30;

secret!(
    /// The ticket a caller presents: `rt_` + base64url (no padding) of 24 random bytes.
    /// Never logged: `Debug` is redacted.
    RawTicket,
    "rt_",
    24
);

/// A minted ticket as stored: the resolved subscription is opaque here (the service owns its
/// format), the store only keys, expires and deletes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTicket {
    /// [`RawTicket::digest`].
    pub hash: String,
    /// The subscription the ticket grants, serialized by the service.
    pub subscription: String,
    pub created_at: i64,
    /// Epoch-ms after which the ticket is refused (and may be deleted).
    pub expires_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tickets_have_prefix_and_length() {
        let t = RawTicket::generate();
        assert!(t.expose().starts_with("rt_"));
        assert_eq!(t.expose().len(), 3 + 32);
        assert_ne!(t, RawTicket::generate());
        assert_eq!(t.digest().len(), 43);
        assert_eq!(format!("{t:?}"), "RawTicket(<redacted>)");
    }
}
