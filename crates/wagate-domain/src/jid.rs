//! WhatsApp JIDs (api.md §1.8): `user@server`, optionally `user:device@server` for one linked
//! device. Parsed once at the edge so every layer below works with a valid, typed value.

use std::fmt;

use serde::{Deserialize, Serialize};

pub const USER_SERVER: &str = "s.whatsapp.net";
pub const LID_SERVER: &str = "lid";
pub const GROUP_SERVER: &str = "g.us";
pub const NEWSLETTER_SERVER: &str = "newsletter";
pub const BROADCAST_SERVER: &str = "broadcast";
/// The status (stories) feed.
pub const STATUS_BROADCAST: &str = "status@broadcast";

/// What a chat is, derived from the server part only (api.md §1.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatKind {
    Dm,
    Group,
    Newsletter,
    Broadcast,
    Status,
}

impl ChatKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dm => "dm",
            Self::Group => "group",
            Self::Newsletter => "newsletter",
            Self::Broadcast => "broadcast",
            Self::Status => "status",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid jid: {0}")]
pub struct JidError(pub String);

/// A syntactically valid JID. Stored as its text; the accessors split it on demand.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Jid(String);

impl Jid {
    /// Parses `text`. Accepted servers: `s.whatsapp.net`, `lid`, `g.us`, `newsletter`,
    /// `broadcast`; the user part is digits (groups also allow the older `<creator>-<ts>`
    /// form); a `:device` suffix is allowed on user JIDs only.
    pub fn parse(text: &str) -> Result<Self, JidError> {
        let bad = || JidError(text.to_owned());
        let (user, server) = text.split_once('@').ok_or_else(bad)?;
        let (name, device) = match user.split_once(':') {
            Some((name, device)) => (name, Some(device)),
            None => (user, None),
        };
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_digit());
        let ok = match server {
            USER_SERVER | LID_SERVER => {
                digits(name) && device.is_none_or(|d| d.len() <= 4 && digits(d))
            }
            GROUP_SERVER => {
                device.is_none()
                    && match name.split_once('-') {
                        Some((creator, ts)) => digits(creator) && digits(ts),
                        None => digits(name),
                    }
            }
            NEWSLETTER_SERVER => device.is_none() && digits(name),
            BROADCAST_SERVER => device.is_none() && (name == "status" || digits(name)),
            _ => false,
        };
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(bad())
        }
    }

    /// The phone JID of `digits` (a leading `+` is tolerated).
    pub fn from_phone(digits: &str) -> Result<Self, JidError> {
        Self::parse(&format!("{}@{USER_SERVER}", digits.trim_start_matches('+')))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before `@`, without a `:device` suffix.
    pub fn user(&self) -> &str {
        let user = self.0.split_once('@').map_or(self.0.as_str(), |(u, _)| u);
        user.split_once(':').map_or(user, |(u, _)| u)
    }

    pub fn server(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, s)| s)
    }

    /// The JID without its `:device` part (what the system stores).
    pub fn canonical(&self) -> Jid {
        if self.0.split_once('@').is_some_and(|(u, _)| u.contains(':')) {
            Jid(format!("{}@{}", self.user(), self.server()))
        } else {
            self.clone()
        }
    }

    pub fn kind(&self) -> ChatKind {
        match self.server() {
            GROUP_SERVER => ChatKind::Group,
            NEWSLETTER_SERVER => ChatKind::Newsletter,
            BROADCAST_SERVER if self.0 == STATUS_BROADCAST => ChatKind::Status,
            BROADCAST_SERVER => ChatKind::Broadcast,
            _ => ChatKind::Dm,
        }
    }

    /// A person addressed by phone number.
    pub fn is_phone(&self) -> bool {
        self.server() == USER_SERVER
    }

    pub fn is_lid(&self) -> bool {
        self.server() == LID_SERVER
    }
}

impl fmt::Display for Jid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Jid {
    type Error = JidError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Jid> for String {
    fn from(value: Jid) -> Self {
        value.0
    }
}

impl std::str::FromStr for Jid {
    type Err = JidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_contract_forms_and_derives_kinds() {
        for (text, kind) in [
            ("6281234567890@s.whatsapp.net", ChatKind::Dm),
            ("205227043110953@lid", ChatKind::Dm),
            ("6281234567890:12@s.whatsapp.net", ChatKind::Dm),
            ("120363021234567890@g.us", ChatKind::Group),
            ("6281234567890-1600000000@g.us", ChatKind::Group),
            ("120363012345678901@newsletter", ChatKind::Newsletter),
            ("status@broadcast", ChatKind::Status),
            ("1234567@broadcast", ChatKind::Broadcast),
        ] {
            assert_eq!(Jid::parse(text).unwrap().kind(), kind, "{text}");
        }
    }

    #[test]
    fn refuses_malformed_text() {
        for text in [
            "",
            "628",
            "@s.whatsapp.net",
            "abc@s.whatsapp.net",
            "628@example.com",
            "628@s.whatsapp.net@x",
            "628:ab@s.whatsapp.net",
            "1:2@g.us",
            "x@broadcast",
            "628 1@s.whatsapp.net",
        ] {
            assert!(Jid::parse(text).is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn canonical_strips_the_device_only() {
        let jid = Jid::parse("628123:7@s.whatsapp.net").unwrap();
        assert_eq!(jid.canonical().as_str(), "628123@s.whatsapp.net");
        assert_eq!(jid.user(), "628123");
        let group = Jid::parse("6281-1600@g.us").unwrap();
        assert_eq!(group.canonical(), group);
        assert_eq!(
            Jid::from_phone("+628123").unwrap().as_str(),
            "628123@s.whatsapp.net"
        );
    }
}
