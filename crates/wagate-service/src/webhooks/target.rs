//! Where a webhook may point (D5): absolute http(s) URLs whose addresses are public. Loopback,
//! private, link-local (cloud metadata lives there), shared, multicast and unspecified addresses
//! are refused at creation and again at delivery, after DNS resolution, unless the operator
//! allows private targets.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Longest a creation-time DNS lookup may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a URL is not a webhook target; the text is the API's error message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("url must be an absolute http or https URL")]
    NotHttp,
    #[error("url must not carry credentials")]
    Credentials,
    #[error("url points to a private, loopback or link-local address ({0})")]
    Private(IpAddr),
}

/// Whether delivery targets may be private addresses (`--webhook-allow-private`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TargetPolicy {
    pub allow_private: bool,
}

impl TargetPolicy {
    /// Parses and checks a URL at creation: the scheme, and every address its host resolves to.
    /// A host that does not resolve yet is accepted; delivery checks it again.
    pub async fn check(&self, raw: &str) -> Result<Url, TargetError> {
        let url = parse(raw)?;
        if self.allow_private {
            return Ok(url);
        }
        if let Some(ip) = literal_ip(&url) {
            return self.admit(ip).map(|_| url);
        }
        let host = url.host_str().unwrap_or_default().to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        let lookup = tokio::net::lookup_host((host.as_str(), port));
        if let Ok(Ok(addrs)) = tokio::time::timeout(LOOKUP_TIMEOUT, lookup).await {
            for addr in addrs {
                self.admit(addr.ip())?;
            }
        }
        Ok(url)
    }

    /// Refuses a forbidden address unless private targets are allowed.
    pub fn admit(&self, ip: IpAddr) -> Result<(), TargetError> {
        if self.allow_private || is_public(ip) {
            Ok(())
        } else {
            Err(TargetError::Private(ip))
        }
    }

    /// The resolver the delivery client connects through: it drops forbidden addresses, so a
    /// name that changed its answer since creation (DNS rebinding) still cannot reach them.
    pub(super) fn resolver(self) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver { policy: self })
    }
}

/// An absolute http(s) URL with a host and no credentials.
pub fn parse(raw: &str) -> Result<Url, TargetError> {
    let url = Url::parse(raw.trim()).map_err(|_| TargetError::NotHttp)?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(TargetError::NotHttp);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Credentials);
    }
    Ok(url)
}

/// The host as an address when the URL names one directly (no resolver is asked then).
pub fn literal_ip(url: &Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // Benchmarking 198.18.0.0/15 and reserved 240.0.0.0/4.
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // Unique local fc00::/7 (AWS metadata fd00:ec2::254 is one) and link-local fe80::/10.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80)
}

/// A resolver that only answers with addresses the policy admits.
pub(super) struct GuardedResolver {
    policy: TargetPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.admit(a.ip()).is_ok())
                .collect();
            if allowed.is_empty() {
                let shown = found
                    .first()
                    .map(|a| a.ip().to_string())
                    .unwrap_or_default();
                return Err(format!(
                    "{} resolves only to refused addresses ({shown})",
                    name.as_str()
                )
                .into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(raw: &str) -> bool {
        let ip: IpAddr = raw.parse().unwrap();
        !is_public(ip)
    }

    #[test]
    fn private_and_metadata_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
        ] {
            assert!(refused(ip), "{ip} should be refused");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(!refused(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn only_absolute_http_urls_parse() {
        assert!(parse("https://example.com/hook").is_ok());
        assert!(parse("http://example.com:8080").is_ok());
        assert_eq!(parse("ftp://example.com"), Err(TargetError::NotHttp));
        assert_eq!(parse("/relative"), Err(TargetError::NotHttp));
        assert_eq!(parse("example.com"), Err(TargetError::NotHttp));
        assert_eq!(
            parse("https://user:pw@example.com"),
            Err(TargetError::Credentials)
        );
    }

    #[tokio::test]
    async fn literal_private_urls_are_refused_without_lookup() {
        let policy = TargetPolicy::default();
        assert!(matches!(
            policy
                .check("http://169.254.169.254/latest/meta-data")
                .await,
            Err(TargetError::Private(_))
        ));
        assert!(matches!(
            policy.check("http://[::1]:8080/").await,
            Err(TargetError::Private(_))
        ));
        let open = TargetPolicy {
            allow_private: true,
        };
        assert!(open.check("http://127.0.0.1:9/").await.is_ok());
    }

    #[tokio::test]
    async fn names_resolving_to_loopback_are_refused() {
        let policy = TargetPolicy::default();
        assert!(matches!(
            policy.check("http://localhost:8080/").await,
            Err(TargetError::Private(_))
        ));
    }
}
