//! Invite codes as callers give them (api.md §8.13): the bare code or the whole link.

use crate::{ServiceError, ServiceResult};

/// Where WhatsApp invite links point.
const LINK_PREFIX: &str = "https://chat.whatsapp.com/";

/// A syntactically valid group invite code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteCode(String);

impl InviteCode {
    /// Accepts `CODE`, `https://chat.whatsapp.com/CODE` (also `http://`, without the scheme,
    /// with a trailing slash). A code is 1 to 64 ASCII letters and digits.
    pub fn parse(text: &str) -> ServiceResult<Self> {
        let text = text.trim().trim_end_matches('/');
        let rest = text
            .strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"))
            .unwrap_or(text);
        let code = match rest.split_once('/') {
            Some(("chat.whatsapp.com", code)) => code,
            Some(_) => return Err(invalid()),
            None => rest,
        };
        if code.is_empty() || code.len() > 64 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(invalid());
        }
        Ok(Self(code.to_owned()))
    }

    /// Trusts `code` as given by the network.
    pub fn from_network(code: String) -> Self {
        Self(code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The shareable link (api.md §8.5).
    pub fn link(&self) -> String {
        format!("{LINK_PREFIX}{}", self.0)
    }
}

fn invalid() -> ServiceError {
    ServiceError::validation("invite must be an invite code or a https://chat.whatsapp.com/ link")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_code_and_the_link_forms() {
        for text in [
            "AbC123",
            " AbC123 ",
            "https://chat.whatsapp.com/AbC123",
            "https://chat.whatsapp.com/AbC123/",
            "http://chat.whatsapp.com/AbC123",
            "chat.whatsapp.com/AbC123",
        ] {
            assert_eq!(
                InviteCode::parse(text).unwrap().as_str(),
                "AbC123",
                "{text}"
            );
        }
        assert_eq!(
            InviteCode::parse("AbC123").unwrap().link(),
            "https://chat.whatsapp.com/AbC123"
        );
    }

    #[test]
    fn refuses_anything_else() {
        for text in [
            "",
            "   ",
            "https://chat.whatsapp.com/",
            "https://example.com/AbC123",
            "Ab C1",
            "abc-def",
            "https://chat.whatsapp.com/a/b",
        ] {
            assert!(InviteCode::parse(text).is_err(), "{text:?} was accepted");
        }
    }
}
