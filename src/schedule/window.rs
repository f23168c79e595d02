//! The per-WABA budget: at most N calls in any rolling window of length W.
//!
//! This is how Meta counts (200 calls per hour per app per WABA, rolling), so
//! it is kept as an exact log of call times rather than a token bucket: a GCRA
//! bucket (governor) with burst N lets up to 2N−1 calls into one rolling window,
//! which is exactly the overshoot that earns an 80008. The log holds at most N
//! instants.

use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Clone)]
pub struct RollingWindow {
    limit: usize,
    window: Duration,
    calls: VecDeque<Instant>,
}

impl RollingWindow {
    pub fn new(limit: u32, window: Duration) -> Self {
        RollingWindow {
            limit: limit.max(1) as usize,
            window,
            calls: VecDeque::new(),
        }
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&first) = self.calls.front() {
            if now.saturating_duration_since(first) >= self.window {
                self.calls.pop_front();
            } else {
                break;
            }
        }
    }

    /// Whether one more call may go now.
    pub fn allows(&mut self, now: Instant) -> bool {
        self.expire(now);
        self.calls.len() < self.limit
    }

    /// When the next call may go (now, if it may).
    pub fn next_free(&mut self, now: Instant) -> Instant {
        self.expire(now);
        if self.calls.len() < self.limit {
            now
        } else {
            // The oldest call in the window leaves it first.
            self.calls[self.calls.len() - self.limit] + self.window
        }
    }

    pub fn record(&mut self, now: Instant) {
        self.calls.push_back(now);
    }

    /// Calls counted in the current window.
    #[cfg(test)]
    pub fn used(&mut self, now: Instant) -> usize {
        self.expire(now);
        self.calls.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_burst_then_waits_for_oldest_to_leave() {
        let t0 = Instant::now();
        let mut w = RollingWindow::new(3, Duration::from_secs(10));
        for i in 0..3 {
            let t = t0 + Duration::from_secs(i);
            assert!(w.allows(t));
            w.record(t);
        }
        let t = t0 + Duration::from_secs(3);
        assert!(!w.allows(t));
        assert_eq!(w.next_free(t), t0 + Duration::from_secs(10));
        assert!(w.allows(t0 + Duration::from_secs(10)));
        assert_eq!(w.used(t0 + Duration::from_secs(11)), 1);
    }

    #[test]
    fn never_more_than_limit_in_any_window() {
        // Greedy use of the window: count calls in every window of length W.
        let t0 = Instant::now();
        let win = Duration::from_millis(1000);
        let mut w = RollingWindow::new(5, win);
        let mut times = vec![];
        let mut now = t0;
        while times.len() < 50 {
            if w.allows(now) {
                w.record(now);
                times.push(now);
            } else {
                now = w.next_free(now);
            }
        }
        for (i, &start) in times.iter().enumerate() {
            let n = times[i..].iter().take_while(|&&t| t < start + win).count();
            assert!(n <= 5, "{n} calls in one window");
        }
    }
}
