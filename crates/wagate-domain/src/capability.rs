//! Capabilities (api.md §1.4): what a principal may do.

use std::fmt;
use std::str::FromStr;

/// One capability; every operation requires exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    Read,
    Send,
    Manage,
    Events,
}

impl Capability {
    pub const ALL: [Capability; 4] = [Self::Read, Self::Send, Self::Manage, Self::Events];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Send => "send",
            Self::Manage => "manage",
            Self::Events => "events",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Self::Read => 1,
            Self::Send => 2,
            Self::Manage => 4,
            Self::Events => 8,
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of `read`, `send`, `manage`, `events`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown permission {0:?}; expected read, send, manage or events")]
pub struct UnknownCapability(pub String);

impl FromStr for Capability {
    type Err = UnknownCapability;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim())
            .ok_or_else(|| UnknownCapability(s.to_owned()))
    }
}

/// A set of capabilities, kept as bits so checks on the request path cost nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct CapabilitySet(u8);

impl CapabilitySet {
    pub const NONE: Self = Self(0);
    pub const ALL: Self = Self(0b1111);

    pub fn contains(self, cap: Capability) -> bool {
        self.0 & cap.bit() != 0
    }

    pub fn with(self, cap: Capability) -> Self {
        Self(self.0 | cap.bit())
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when every capability of `self` is also in `other`.
    pub fn is_subset_of(self, other: Self) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL
            .into_iter()
            .filter(move |c| self.contains(*c))
    }

    /// Names in canonical order, e.g. `["read", "send"]`.
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Capability::as_str).collect()
    }

    /// Parses a comma-separated list such as `read,send`; an empty list is an empty set.
    pub fn parse_list(raw: &str) -> Result<Self, UnknownCapability> {
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .try_fold(Self::NONE, |set, name| Ok(set.with(name.parse()?)))
    }
}

impl FromIterator<Capability> for CapabilitySet {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        iter.into_iter().fold(Self::NONE, Self::with)
    }
}

impl fmt::Display for CapabilitySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_rejects_unknown_names() {
        let set = CapabilitySet::parse_list("read, send").unwrap();
        assert!(set.contains(Capability::Read) && set.contains(Capability::Send));
        assert!(!set.contains(Capability::Manage));
        assert_eq!(set.to_string(), "read,send");
        assert!(CapabilitySet::parse_list("read,admin").is_err());
    }

    #[test]
    fn subset_relation() {
        let rs = CapabilitySet::parse_list("read,send").unwrap();
        assert!(rs.is_subset_of(CapabilitySet::ALL));
        assert!(!CapabilitySet::ALL.is_subset_of(rs));
        assert!(CapabilitySet::NONE.is_subset_of(rs));
    }
}
