//! The key that encrypts webhook secrets at rest (D5): from configuration, or generated into the
//! data directory on first start and read back on every later one.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;
use wagate_service::webhooks::{SECRET_KEY_LEN, SecretBox};

/// The generated key's file under the data directory (mode 0600).
pub const SECRET_KEY_FILE: &str = "webhook-secret.key";

/// Decodes the configured key, or loads (creating it if missing) the data directory's.
pub fn webhook_secret_key(
    configured: Option<&str>,
    data_dir: &Path,
) -> anyhow::Result<[u8; SECRET_KEY_LEN]> {
    if let Some(raw) = configured {
        return decode(raw).context("--webhook-secret-key must be 32 bytes in base64");
    }
    let path = data_dir.join(SECRET_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => decode(&text).with_context(|| format!("reading {}", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretBox::generate_key().context("generating the webhook secret key")?;
            write_new(&path, &key)?;
            tracing::info!(file = %path.display(), "generated the webhook secret key");
            Ok(key)
        }
        Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
    }
}

fn decode(raw: &str) -> anyhow::Result<[u8; SECRET_KEY_LEN]> {
    let raw = raw.trim();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw))
        .context("not base64")?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| anyhow::anyhow!("{} bytes, expected {SECRET_KEY_LEN}", b.len()))
}

/// Creates the file exclusively, so two nodes starting on one directory cannot both write.
fn write_new(path: &Path, key: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    writeln!(
        file,
        "{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_kept_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = webhook_secret_key(None, dir.path()).unwrap();
        let again = webhook_secret_key(None, dir.path()).unwrap();
        assert_eq!(first, again);
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join(SECRET_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_configured_key_must_be_32_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let key = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
        assert_eq!(webhook_secret_key(Some(&key), dir.path()).unwrap(), [9; 32]);
        assert!(webhook_secret_key(Some("c2hvcnQ="), dir.path()).is_err());
        assert!(!dir.path().join(SECRET_KEY_FILE).exists());
    }
}
