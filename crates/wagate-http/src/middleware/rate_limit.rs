//! The per-credential HTTP rate limit: a token bucket per API key or user (governor).

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{ApiError, ErrorCode};

pub struct CredentialLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl CredentialLimiter {
    /// `None` when `per_second` is 0 (limit disabled).
    pub fn new(per_second: u32, burst: u32) -> Option<Self> {
        let rate = NonZeroU32::new(per_second)?;
        let burst = NonZeroU32::new(burst).unwrap_or(rate);
        Some(Self {
            limiter: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            clock: DefaultClock::default(),
        })
    }

    /// `429 rate_limited` with `Retry-After` when the credential's bucket is empty.
    pub fn check(&self, credential: String) -> Result<(), ApiError> {
        self.limiter.check_key(&credential).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            ApiError::new(ErrorCode::RateLimited, "rate limit exceeded")
                .with_retry_after(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
        })
    }

    /// Forgets idle buckets so memory stays bounded by active credentials.
    pub fn prune(&self) {
        self.limiter.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_per_credential() {
        let l = CredentialLimiter::new(1, 2).unwrap();
        assert!(l.check("a".into()).is_ok());
        assert!(l.check("a".into()).is_ok());
        let err = l.check("a".into()).unwrap_err();
        assert_eq!(err.code, ErrorCode::RateLimited);
        assert_eq!(err.retry_after, Some(1));
        assert!(
            l.check("b".into()).is_ok(),
            "another credential has its own bucket"
        );
        assert!(CredentialLimiter::new(0, 10).is_none());
    }
}
