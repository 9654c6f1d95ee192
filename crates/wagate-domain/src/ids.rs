//! Prefixed ULID identifiers (`sess_…`, `key_…`, `org_…`), parsed once at the edge.

use std::fmt;
use std::sync::Mutex;

/// A ULID that sorts after every ULID this process made before, even within one millisecond
/// (domain.md §0: ids sort in creation order).
pub fn monotonic_ulid() -> ulid::Ulid {
    static GENERATOR: Mutex<ulid::Generator> = Mutex::new(ulid::Generator::new());
    GENERATOR
        .lock()
        .ok()
        .and_then(|mut g| g.generate().ok())
        // `Ulid::default()` would be the all-zero id; a fresh random one is the safe fallback.
        .unwrap_or_else(|| ulid::Ulid::from_datetime(std::time::SystemTime::now()))
}

/// A string that is not a well-formed id of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {kind} id")]
pub struct IdError {
    pub kind: &'static str,
}

macro_rules! prefixed_ulid {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The literal prefix of this id kind.
            pub const PREFIX: &'static str = $prefix;

            /// A new id; ULIDs sort by creation time.
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, monotonic_ulid()))
            }

            /// Parses `<prefix><ULID>`; anything else is an [`IdError`].
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                raw.strip_prefix($prefix)
                    .and_then(|rest| ulid::Ulid::from_string(rest).ok())
                    .map(|_| Self(raw.to_owned()))
                    .ok_or(IdError { kind: $kind })
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Wraps a value read back from our own store, which only ever holds parsed ids.
            pub fn from_trusted(raw: String) -> Self {
                Self(raw)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_ulid!(
    /// A session id, `sess_<ULID>` (api.md §1.8).
    SessionId,
    "sess_",
    "session"
);
prefixed_ulid!(
    /// A stored message row, `msg_<ULID>` (api.md §1.8); the timeline cursor.
    MessageId,
    "msg_",
    "message"
);
prefixed_ulid!(
    /// An outbox entry (async or idempotent send), `out_<ULID>`.
    OutboxId,
    "out_",
    "outbox"
);
prefixed_ulid!(
    /// An event id, `evt_<ULID>` (events.md §1).
    EventId,
    "evt_",
    "event"
);
prefixed_ulid!(
    /// A webhook id, `wh_<ULID>` (api.md §1.8).
    WebhookId,
    "wh_",
    "webhook"
);
prefixed_ulid!(
    /// An API key id, `key_<ULID>`.
    ApiKeyId,
    "key_",
    "api key"
);

/// An organization id. Organizations created by wagate get `org_<ULID>`; organizations named by a
/// JWT keep the identity provider's id (any non-empty string of at most 64 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgId(String);

impl OrgId {
    pub const MAX_LEN: usize = 64;

    pub fn generate() -> Self {
        Self(format!("org_{}", monotonic_ulid()))
    }

    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(IdError {
                kind: "organization",
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_id_round_trips_and_rejects_other_prefixes() {
        let id = SessionId::generate();
        assert!(id.as_str().starts_with("sess_"));
        assert_eq!(id.as_str().len(), 5 + 26);
        assert_eq!(SessionId::parse(id.as_str()).unwrap(), id);
        assert!(SessionId::parse("sess_nope").is_err());
        assert!(SessionId::parse(&id.as_str().replace("sess_", "key_")).is_err());
    }

    #[test]
    fn ids_made_in_one_millisecond_still_sort_in_creation_order() {
        let ids: Vec<SessionId> = (0..1000).map(|_| SessionId::generate()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn org_id_rejects_empty_long_and_whitespace() {
        assert!(OrgId::parse("").is_err());
        assert!(OrgId::parse("a b").is_err());
        assert!(OrgId::parse(&"x".repeat(65)).is_err());
        assert!(OrgId::parse("org-123").is_ok());
    }
}
