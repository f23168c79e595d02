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

    /// Take back the last call recorded: it never reached anyone (it could
    /// not connect), so it spent nothing of Meta's budget.
    pub fn refund(&mut self) {
        self.calls.pop_back();
    }

    /// How long until `n` more calls have all been allowed to go, if each
    /// goes as soon as the window lets it.
    pub fn time_for(&mut self, n: usize, now: Instant) -> Duration {
        self.expire(now);
        let free = self.limit - self.calls.len().min(self.limit);
        if n <= free {
            return Duration::ZERO;
        }
        // Slots free up as the calls in the window (and the `free` ones
        // taken now) leave it, one window after each.
        let k = n - free - 1;
        let base = if k % self.limit < self.calls.len() {
            self.calls[k % self.limit]
        } else {
            now
        };
        let windows = u32::try_from(k / self.limit + 1).unwrap_or(u32::MAX);
        (base + self.window.saturating_mul(windows)).saturating_duration_since(now)
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
    fn time_for_counts_whole_windows_beyond_the_burst() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut w = RollingWindow::new(3, s(60));
        assert_eq!(w.time_for(3, t0), Duration::ZERO);
        // The 4th waits for the first window, the 7th for the second.
        assert_eq!(w.time_for(4, t0), s(60));
        assert_eq!(w.time_for(7, t0), s(120));
        w.record(t0);
        w.record(t0 + s(10));
        let now = t0 + s(20);
        assert_eq!(w.time_for(1, now), Duration::ZERO);
        // Next slots: when t0's call leaves (t0+60), then t0+10's (t0+70).
        assert_eq!(w.time_for(2, now), s(40));
        assert_eq!(w.time_for(3, now), s(50));
        w.refund();
        assert_eq!(w.time_for(2, now), Duration::ZERO);
    }

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
