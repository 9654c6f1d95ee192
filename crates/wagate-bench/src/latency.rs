//! Latency samples and their percentiles (every sample kept and sorted: a few hundred thousand
//! at most, so no histogram is needed and the percentiles are exact).

use std::fmt;
use std::time::Duration;

/// Recorded latencies, in microseconds.
#[derive(Debug, Default, Clone)]
pub struct Latencies(Vec<u64>);

/// Percentiles of a set of latencies, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latencies {
    pub fn record(&mut self, latency: Duration) {
        self.0
            .push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
    }

    pub fn append(&mut self, other: &mut Latencies) {
        self.0.append(&mut other.0);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Nearest-rank percentiles (p99 of 1,000 samples is the 990th smallest).
    pub fn summary(&mut self) -> Summary {
        self.0.sort_unstable();
        let n = self.0.len();
        let at = |p: f64| -> f64 {
            if n == 0 {
                return 0.0;
            }
            let rank = ((p / 100.0) * n as f64).ceil() as usize;
            self.0[rank.clamp(1, n) - 1] as f64 / 1000.0
        };
        Summary {
            count: n,
            p50: at(50.0),
            p90: at(90.0),
            p99: at(99.0),
            max: at(100.0),
        }
    }
}

impl fmt::Display for Summary {
    /// `p50_ms=… p90_ms=… p99_ms=… max_ms=…`, for the driver scripts to read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} max_ms={:.2}",
            self.p50, self.p90, self.p99, self.max
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut l = Latencies::default();
        for ms in (1..=100).rev() {
            l.record(Duration::from_millis(ms));
        }
        let s = l.summary();
        assert_eq!(s.count, 100);
        assert_eq!((s.p50, s.p90, s.p99, s.max), (50.0, 90.0, 99.0, 100.0));
        assert_eq!(Latencies::default().summary().p99, 0.0);
    }
}
