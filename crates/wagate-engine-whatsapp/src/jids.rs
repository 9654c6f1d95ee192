//! Conversions between the port's [`Jid`] and the crate's. The crate's type never leaves this
//! crate; JIDs it gives that the port cannot represent are dropped, not guessed.

use wagate_domain::{EngineError, Jid};
use whatsapp_rust::Jid as WaJid;

/// The crate's JID for a validated port JID; `Rejected` when the crate refuses its form.
pub(crate) fn to_wa(jid: &Jid) -> Result<WaJid, EngineError> {
    jid.as_str()
        .parse()
        .map_err(|_| EngineError::Rejected(format!("unsupported JID {jid}")))
}

/// Every JID of `jids` in the crate's form.
pub(crate) fn all_to_wa(jids: &[Jid]) -> Result<Vec<WaJid>, EngineError> {
    jids.iter().map(to_wa).collect()
}

/// The port's JID for a crate JID; `None` for the empty JID or forms the port does not know.
pub(crate) fn from_wa(jid: &WaJid) -> Option<Jid> {
    if jid.user.is_empty() {
        return None;
    }
    Jid::parse(&jid.to_string()).ok()
}

/// The port's JID for JID text found in a protobuf field.
pub(crate) fn from_text(text: &str) -> Option<Jid> {
    if text.is_empty() {
        return None;
    }
    Jid::parse(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_users_devices_groups_and_lids() {
        for text in [
            "6281234567890@s.whatsapp.net",
            "6281234567890:12@s.whatsapp.net",
            "205227043110953@lid",
            "120363021234567890@g.us",
            "status@broadcast",
            "120363012345678901@newsletter",
        ] {
            let jid = Jid::parse(text).unwrap();
            let wa = to_wa(&jid).unwrap();
            assert_eq!(from_wa(&wa), Some(jid), "{text}");
        }
    }

    #[test]
    fn empty_and_foreign_jids_are_dropped() {
        assert_eq!(from_wa(&WaJid::default()), None);
        assert_eq!(from_text(""), None);
        assert_eq!(from_text("not a jid"), None);
    }
}
