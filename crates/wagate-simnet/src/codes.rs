//! The shapes of WhatsApp's identifiers and codes, imitated: QR codes, phone-number pairing
//! codes, LIDs, and the simulated device credentials.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::Rng as _;
use sha2::{Digest as _, Sha256};

use crate::SimError;

/// WhatsApp's pairing-code alphabet: no `0`, `I`, `O` or `U`, so a code read aloud is unambiguous.
const PAIRING_ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTVWXYZ";

/// Checks a phone number as simnet accepts it: 5 to 15 digits (E.164 without `+`).
pub(crate) fn validate_phone(raw: &str) -> Result<&str, SimError> {
    let ok = (5..=15).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(raw)
    } else {
        Err(SimError::Invalid(format!(
            "phone must be 5 to 15 digits, got {raw:?}"
        )))
    }
}

/// The account JID of a phone number.
pub(crate) fn account_jid(phone: &str) -> String {
    format!("{phone}@s.whatsapp.net")
}

/// A stable fake LID (`<15 digits>@lid`) derived from the phone number, so the same phone gets
/// the same LID in every simulated network.
pub(crate) fn lid_for(phone: &str) -> String {
    let digest = Sha256::digest(format!("simnet lid {phone}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let n = u64::from_be_bytes(first) % 900_000_000_000_000 + 100_000_000_000_000;
    format!("{n}@lid")
}

/// A QR code shaped like WhatsApp's: `2@<ref>,<noise key>,<identity key>,<adv secret>`.
pub(crate) fn qr_code() -> String {
    let mut rng = rand::rng();
    let reference: [u8; 36] = rng.random();
    let keys: [[u8; 32]; 3] = rng.random();
    format!(
        "2@{},{},{},{}",
        STANDARD.encode(reference),
        STANDARD.encode(keys[0]),
        STANDARD.encode(keys[1]),
        STANDARD.encode(keys[2])
    )
}

/// A phone-number pairing code shaped like WhatsApp's: `XXXX-XXXX`.
pub(crate) fn pairing_code() -> String {
    let mut rng = rand::rng();
    let mut code = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            code.push('-');
        }
        let idx = rng.random_range(0..PAIRING_ALPHABET.len());
        code.push(char::from(PAIRING_ALPHABET[idx]));
    }
    code
}

/// The canonical `XXXX-XXXX` form of a typed pairing code (case, spaces and the dash are
/// forgiven, as on a phone's keypad); `None` when it cannot be a pairing code.
pub(crate) fn normalize_pairing_code(typed: &str) -> Option<String> {
    let chars: Vec<char> = typed
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid = chars.len() == 8
        && chars
            .iter()
            .all(|c| c.is_ascii() && PAIRING_ALPHABET.contains(&(*c as u8)));
    valid.then(|| {
        let (a, b) = chars.split_at(4);
        format!(
            "{}-{}",
            a.iter().collect::<String>(),
            b.iter().collect::<String>()
        )
    })
}

/// A new device id (`simdev_<hex>`).
pub(crate) fn device_id() -> String {
    let bytes: [u8; 12] = rand::rng().random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("simdev_{hex}")
}

/// A new message id shaped like WhatsApp's: `3EB0` and 18 upper-case hex digits.
pub(crate) fn message_id() -> String {
    let bytes: [u8; 9] = rand::rng().random();
    let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    format!("3EB0{hex}")
}

/// A new group JID: `120363` and 12 random digits, `@g.us`.
pub(crate) fn group_jid() -> String {
    format!(
        "120363{:012}@g.us",
        rand::rng().random_range(0..1_000_000_000_000u64)
    )
}

/// A new channel (newsletter) JID: `120363` and 12 random digits, `@newsletter`.
pub(crate) fn channel_jid() -> String {
    format!(
        "120363{:012}@newsletter",
        rand::rng().random_range(0..1_000_000_000_000u64)
    )
}

/// A new group or channel invite code: 22 letters and digits, like WhatsApp's.
pub(crate) fn invite_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..22)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// The code of an invite link (`https://chat.whatsapp.com/<code>`) or of a bare code.
pub(crate) fn invite_code_of(text: &str) -> &str {
    let text = text.trim().trim_end_matches('/');
    text.rsplit_once('/').map_or(text, |(_, code)| code)
}

/// A new media blob id (`simmedia_<hex>`).
pub(crate) fn blob_id() -> String {
    let bytes: [u8; 12] = rand::rng().random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("simmedia_{hex}")
}

/// A new profile picture id (10 digits, like WhatsApp's).
pub(crate) fn picture_id() -> String {
    format!(
        "{}",
        rand::rng().random_range(1_000_000_000u64..10_000_000_000)
    )
}

/// Where a profile picture would be fetched from (never served: simnet stores no pictures).
pub(crate) fn picture_url(phone: &str, id: &str) -> String {
    format!("https://pps.simnet.invalid/v/t61/{phone}/{id}.jpg")
}

/// The network's clock: epoch milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A new secret device token (32 random bytes, base64url).
pub(crate) fn device_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_codes_look_like_whatsapps() {
        let code = qr_code();
        let rest = code.strip_prefix("2@").unwrap();
        let parts: Vec<&str> = rest.split(',').collect();
        assert_eq!(parts.len(), 4);
        for part in parts {
            assert!(STANDARD.decode(part).is_ok(), "{part} is base64");
        }
        assert_ne!(qr_code(), code);
    }

    #[test]
    fn pairing_codes_are_eight_unambiguous_characters() {
        for _ in 0..200 {
            let code = pairing_code();
            assert_eq!(code.len(), 9);
            assert_eq!(code.as_bytes()[4], b'-');
            assert!(!code.contains(['0', 'I', 'O', 'U']));
            assert_eq!(normalize_pairing_code(&code), Some(code.clone()));
        }
    }

    #[test]
    fn typed_pairing_codes_are_normalized() {
        assert_eq!(
            normalize_pairing_code(" abcd efgh ").as_deref(),
            Some("ABCD-EFGH")
        );
        assert_eq!(normalize_pairing_code("ABCDEFG"), None);
        assert_eq!(normalize_pairing_code("ABCD-EFG0"), None);
        assert_eq!(normalize_pairing_code("ÄBCD-EFGH"), None);
    }

    #[test]
    fn lid_is_stable_and_fifteen_digits() {
        let lid = lid_for("6281234567890");
        assert_eq!(lid, lid_for("6281234567890"));
        assert_ne!(lid, lid_for("6281234567891"));
        let digits = lid.strip_suffix("@lid").unwrap();
        assert_eq!(digits.len(), 15);
        assert!(digits.bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn generated_ids_have_whatsapps_shapes() {
        let id = message_id();
        assert_eq!(id.len(), 22);
        assert!(id.starts_with("3EB0"));
        assert_ne!(message_id(), id);
        let gid = group_jid();
        assert!(wagate_domain::Jid::parse(&gid).is_ok(), "{gid}");
        assert_eq!(gid.len(), "@g.us".len() + 18);
        assert!(wagate_domain::Jid::parse(&channel_jid()).is_ok());
        assert_eq!(invite_code().len(), 22);
        assert_eq!(invite_code_of("https://chat.whatsapp.com/AbC123"), "AbC123");
        assert_eq!(invite_code_of(" AbC123 "), "AbC123");
    }

    #[test]
    fn phone_numbers_are_digits_only() {
        assert!(validate_phone("6281234567890").is_ok());
        assert!(validate_phone("+6281234567890").is_err());
        assert!(validate_phone("1234").is_err());
        assert!(validate_phone("1234567890123456").is_err());
        assert!(validate_phone("62812a").is_err());
    }
}
