//! A JWKS document turned into verification keys: one JWK → one key with one algorithm.
//!
//! Only the algorithms `api.md` §1.3 accepts exist here: OKP/Ed25519 → EdDSA, EC/P-256 → ES256,
//! RSA → RS256. A JWK that is anything else, or whose `alg` disagrees with its type, is skipped
//! (the rest of the set stays usable).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

/// The algorithms a key may carry; everything else (HS*, `none`, PS*, …) is rejected.
pub(crate) const SUPPORTED_ALGORITHMS: [Algorithm; 3] =
    [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256];

/// Smallest RSA modulus accepted, in bytes (2048 bits; ring refuses smaller keys anyway).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// One public key usable for verification.
pub(crate) struct VerificationKey {
    /// The JWK's `kid`, if it has one.
    pub(crate) kid: Option<String>,
    /// The only algorithm this key verifies.
    pub(crate) algorithm: Algorithm,
    /// The key material in jsonwebtoken's form.
    pub(crate) key: DecodingKey,
}

/// Why a JWKS document yielded no usable key set.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeySetError {
    #[error("JWKS document is not an object with a `keys` array")]
    NotAJwks,
    #[error("JWKS contains no usable key ({total} key(s) present)")]
    NoUsableKey { total: usize },
}

/// A non-empty set of verification keys.
pub(crate) struct KeySet {
    keys: Vec<VerificationKey>,
}

impl KeySet {
    /// Parses a JWKS document. Unusable keys are skipped; a set without any usable key is an
    /// error, so an empty fetched set counts as a failed fetch (§1.3).
    pub(crate) fn from_jwks(document: &Value) -> Result<Self, KeySetError> {
        let jwks = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(KeySetError::NotAJwks)?;
        let keys: Vec<VerificationKey> = jwks
            .iter()
            .filter_map(|jwk| match parse_jwk(jwk) {
                Ok(key) => Some(key),
                Err(reason) => {
                    let kid = jwk.get("kid").and_then(Value::as_str).unwrap_or("");
                    tracing::debug!(kid, reason, "skipping unusable JWK");
                    None
                }
            })
            .collect();
        if keys.is_empty() {
            return Err(KeySetError::NoUsableKey { total: jwks.len() });
        }
        Ok(Self { keys })
    }

    /// Whether some key carries this `kid`.
    pub(crate) fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// Every key, in document order.
    pub(crate) fn keys(&self) -> &[VerificationKey] {
        &self.keys
    }
}

/// One JWK → key, or the reason it is unusable.
fn parse_jwk(jwk: &Value) -> Result<VerificationKey, &'static str> {
    if jwk.get("use").is_some_and(|u| u.as_str() != Some("sig")) {
        return Err("`use` is not `sig`");
    }
    let kty = str_field(jwk, "kty").ok_or("missing `kty`")?;
    let (algorithm, key) = match kty {
        "OKP" => {
            if str_field(jwk, "crv") != Some("Ed25519") {
                return Err("OKP key is not Ed25519");
            }
            let x = coordinate(jwk, "x", 32)?;
            (Algorithm::EdDSA, DecodingKey::from_ed_components(x))
        }
        "EC" => {
            if str_field(jwk, "crv") != Some("P-256") {
                return Err("EC key is not P-256");
            }
            let x = coordinate(jwk, "x", 32)?;
            let y = coordinate(jwk, "y", 32)?;
            (Algorithm::ES256, DecodingKey::from_ec_components(x, y))
        }
        "RSA" => {
            let n = str_field(jwk, "n").ok_or("missing `n`")?;
            let e = str_field(jwk, "e").ok_or("missing `e`")?;
            let modulus = decode_b64(n)?;
            let significant = modulus.iter().skip_while(|b| **b == 0).count();
            if significant < MIN_RSA_MODULUS_BYTES {
                return Err("RSA modulus shorter than 2048 bits");
            }
            decode_b64(e)?;
            (Algorithm::RS256, DecodingKey::from_rsa_components(n, e))
        }
        _ => return Err("unsupported `kty`"),
    };
    let key = key.map_err(|_| "malformed key material")?;
    if jwk
        .get("alg")
        .is_some_and(|alg| alg.as_str() != Some(algorithm_name(algorithm)))
    {
        return Err("`alg` does not match the key type or is not accepted");
    }
    let kid = match jwk.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err("`kid` is not a string"),
    };
    Ok(VerificationKey {
        kid,
        algorithm,
        key,
    })
}

/// The JOSE name of an accepted algorithm.
pub(crate) fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::EdDSA => "EdDSA",
        Algorithm::ES256 => "ES256",
        Algorithm::RS256 => "RS256",
        _ => "unsupported",
    }
}

fn str_field<'a>(jwk: &'a Value, name: &str) -> Option<&'a str> {
    jwk.get(name).and_then(Value::as_str)
}

/// A base64url field that must decode to exactly `len` bytes (curve coordinates).
fn coordinate<'a>(jwk: &'a Value, name: &str, len: usize) -> Result<&'a str, &'static str> {
    let encoded = str_field(jwk, name).ok_or("missing curve coordinate")?;
    if decode_b64(encoded)?.len() != len {
        return Err("curve coordinate has the wrong length");
    }
    Ok(encoded)
}

fn decode_b64(encoded: &str) -> Result<Vec<u8>, &'static str> {
    URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| "field is not base64url without padding")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const X32: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    #[test]
    fn ed25519_jwk_maps_to_eddsa() {
        let set = KeySet::from_jwks(&json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": X32, "kid": "a"}
        ]}))
        .expect("usable set");
        assert_eq!(set.keys()[0].algorithm, Algorithm::EdDSA);
        assert!(set.has_kid("a"));
        assert!(!set.has_kid("b"));
    }

    #[test]
    fn unsupported_and_mismatched_keys_are_skipped() {
        let document = json!({"keys": [
            {"kty": "oct", "k": X32, "kid": "hmac"},
            {"kty": "OKP", "crv": "Ed25519", "x": X32, "alg": "ES256"},
            {"kty": "OKP", "crv": "Ed448", "x": X32},
            {"kty": "EC", "crv": "P-384", "x": X32, "y": X32},
            {"kty": "OKP", "crv": "Ed25519", "x": X32, "use": "enc"},
            {"kty": "OKP", "crv": "Ed25519", "x": "short"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        ]});
        assert!(matches!(
            KeySet::from_jwks(&document),
            Err(KeySetError::NoUsableKey { total: 7 })
        ));
    }

    #[test]
    fn empty_or_malformed_document_is_an_error() {
        assert!(KeySet::from_jwks(&json!({"keys": []})).is_err());
        assert!(KeySet::from_jwks(&json!({"nokeys": 1})).is_err());
        assert!(KeySet::from_jwks(&json!([])).is_err());
    }
}
