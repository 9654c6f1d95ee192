//! Reconnect backoff: full jitter, `uniform(0, min(cap, base × 2^attempt))` (domain.md §4.5, D7).

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(120),
        }
    }
}

impl Backoff {
    /// The ceiling before attempt `n` (0-based).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// A random delay in `[0, ceiling(attempt)]`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self.ceiling(attempt).as_millis() as u64;
        Duration::from_millis(rand::rng().random_range(0..=ceiling))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_from_one_second_up_to_two_minutes() {
        let b = Backoff::default();
        assert_eq!(b.ceiling(0), Duration::from_secs(1));
        assert_eq!(b.ceiling(3), Duration::from_secs(8));
        assert_eq!(b.ceiling(7), Duration::from_secs(120));
        assert_eq!(b.ceiling(40), Duration::from_secs(120));
    }

    #[test]
    fn delays_stay_within_the_ceiling_and_vary() {
        let b = Backoff::default();
        let delays: Vec<_> = (0..200).map(|_| b.delay(4)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(16)));
        assert!(delays.iter().any(|d| *d != delays[0]), "jittered");
    }
}
