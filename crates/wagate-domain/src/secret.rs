//! Bearer secrets we mint (API keys, realtime tickets): a prefix plus random bytes in base64url,
//! stored only as a digest, never shown by `Debug`. One definition for every kind.

/// Declares a secret type: `secret!(/// doc, Name, "prefix_", random byte count)`.
macro_rules! secret {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $bytes:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh secret from the OS random source.
            pub fn generate() -> Self {
                use base64::Engine as _;
                use rand::RngCore as _;
                let mut bytes = [0u8; $bytes];
                rand::rng().fill_bytes(&mut bytes);
                Self(format!(
                    "{}{}",
                    Self::PREFIX,
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
                ))
            }

            pub fn from_presented(raw: &str) -> Self {
                Self(raw.to_owned())
            }

            pub fn expose(&self) -> &str {
                &self.0
            }

            /// `base64url_nopad(sha256(utf8(secret)))`: the stored lookup value, so a database
            /// read never yields a usable secret (api.md §1.3).
            pub fn digest(&self) -> String {
                use base64::Engine as _;
                use sha2::Digest as _;
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(sha2::Sha256::digest(self.0.as_bytes()))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

pub(crate) use secret;
