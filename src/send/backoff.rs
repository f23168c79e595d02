//! Exponential backoff with full jitter (AWS's "full jitter": a uniform draw in
//! [0, min(cap, base·2^n)]), so many rows failing together do not retry together.
//!
//! Not backon: its `Retryable` sleeps inside the request future, which would
//! hold a concurrency slot while waiting and cannot see WABA pauses; here the
//! scheduler requeues the row with a not-before time instead.

use rand::Rng;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The ceiling for the `failures`-th retry (1-based).
    pub fn ceiling(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(30);
        self.base.saturating_mul(1u32 << exp).min(self.cap)
    }

    /// A full-jitter delay before the `failures`-th retry.
    pub fn delay(&self, failures: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(failures);
        ceiling.mul_f64(rng.random::<f64>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::SmallRng};

    #[test]
    fn ceiling_doubles_then_caps() {
        let b = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        assert_eq!(b.ceiling(1), Duration::from_millis(100));
        assert_eq!(b.ceiling(2), Duration::from_millis(200));
        assert_eq!(b.ceiling(4), Duration::from_millis(800));
        assert_eq!(b.ceiling(5), Duration::from_secs(1));
        assert_eq!(b.ceiling(500), Duration::from_secs(1));
    }

    #[test]
    fn delays_spread_over_the_whole_range() {
        let b = Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(8),
        };
        let mut rng = SmallRng::seed_from_u64(7);
        let delays: Vec<Duration> = (0..1000).map(|_| b.delay(4, &mut rng)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(8)));
        // Full jitter: some near zero, some near the ceiling.
        assert!(delays.iter().any(|d| *d < Duration::from_millis(500)));
        assert!(delays.iter().any(|d| *d > Duration::from_millis(7500)));
    }
}
