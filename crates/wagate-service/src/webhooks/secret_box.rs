//! Webhook secrets at rest (D5): AES-256-GCM with a random 12-byte nonce written before the
//! ciphertext, as domain.md §10.1 stores them.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// The key is 32 bytes: AES-256.
pub const KEY_LEN: usize = 32;

/// Encrypts and decrypts webhook secrets with the node's key. `Debug` never shows the key.
pub struct SecretBox {
    key: LessSafeKey,
    random: SystemRandom,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

/// A stored secret that does not open with this key (tampered, or another key).
#[derive(Debug, thiserror::Error)]
#[error("webhook secret cannot be decrypted")]
pub struct SecretError;

impl SecretBox {
    pub fn new(key: &[u8; KEY_LEN]) -> Self {
        let key = UnboundKey::new(&AES_256_GCM, key).expect("AES-256 takes a 32-byte key");
        Self {
            key: LessSafeKey::new(key),
            random: SystemRandom::new(),
        }
    }

    /// A fresh random key, for a node's first start.
    pub fn generate_key() -> Result<[u8; KEY_LEN], SecretError> {
        let mut key = [0u8; KEY_LEN];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| SecretError)?;
        Ok(key)
    }

    pub fn seal(&self, plaintext: &str) -> Result<Vec<u8>, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random.fill(&mut nonce).map_err(|_| SecretError)?;
        let mut sealed = plaintext.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                &mut sealed,
            )
            .map_err(|_| SecretError)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open(&self, stored: &[u8]) -> Result<String, SecretError> {
        if stored.len() < NONCE_LEN {
            return Err(SecretError);
        }
        let (nonce, sealed) = stored.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretError)?;
        let mut buf = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut buf)
            .map_err(|_| SecretError)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SecretError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_with_the_same_key_only() {
        let a = SecretBox::new(&[7; KEY_LEN]);
        let sealed = a.seal("s3cret").unwrap();
        assert!(
            !sealed.windows(6).any(|w| w == b"s3cret"),
            "stored in clear"
        );
        assert_eq!(a.open(&sealed).unwrap(), "s3cret");
        assert!(SecretBox::new(&[8; KEY_LEN]).open(&sealed).is_err());
        // Nonces differ, so equal secrets do not look equal at rest.
        assert_ne!(a.seal("s3cret").unwrap(), sealed);
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(a.open(&tampered).is_err());
    }
}
