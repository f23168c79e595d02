//! The global `--rate`: requests evenly paced across the whole run.
//!
//! governor's GCRA with a burst of one is exactly "evenly paced"; it runs on
//! tokio's clock so the scheduler's tests can use paused time.

use governor::clock::Clock;
use governor::{
    Quota, RateLimiter, middleware::NoOpMiddleware, state::InMemoryState, state::NotKeyed,
};
use std::num::NonZeroU32;
use std::time::Duration;
use tokio::time::Instant;

use crate::limits::Rate;

/// governor clock reading tokio's (pausable) time.
#[derive(Debug, Clone, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    type Instant = std::time::Instant;
    fn now(&self) -> std::time::Instant {
        Instant::now().into_std()
    }
}

pub struct Pacer {
    limiter: RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<std::time::Instant>>,
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pacer")
    }
}

impl Pacer {
    pub fn new(rate: Rate) -> Pacer {
        // A hair slower than asked, so that no window observed by the server
        // (which sees our requests with some jitter) ever holds more than N.
        let interval = rate.interval().mul_f64(1.005).max(Duration::from_nanos(1));
        let quota = Quota::with_period(interval)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::MIN);
        Pacer {
            limiter: RateLimiter::direct_with_clock(quota, TokioClock),
        }
    }

    /// Take a slot now, or say when the next one is.
    pub fn try_take(&self) -> Result<(), Instant> {
        match self.limiter.check() {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let now = TokioClock.now();
                let wait = not_until.earliest_possible().duration_since(now);
                Err(Instant::from_std(now) + wait)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn paces_evenly() {
        let p = Pacer::new(Rate {
            count: 10,
            per: Duration::from_secs(1),
        });
        let start = Instant::now();
        let mut n = 0;
        while Instant::now() < start + Duration::from_secs(2) {
            match p.try_take() {
                Ok(()) => n += 1,
                Err(at) => tokio::time::sleep_until(at).await,
            }
        }
        // 10/s over 2 s, first one immediate, a hair slower than asked.
        assert!((19..=20).contains(&n), "{n}");
    }
}
