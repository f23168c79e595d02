//! Rolling-window call budgets (per WABA → 80008, app-wide → 4), as Meta
//! counts them: at most N calls in any window of W, bursts allowed. Time is
//! passed in (`now`), so the rules are unit-tested with a fake clock.

use crate::limits::Rate;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The outcome of asking a window for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    Allowed,
    /// Over budget; access comes back after `regain`.
    Throttled {
        regain: Duration,
    },
}

/// The last `budget.count` counted calls. Only the N most recent matter: the
/// window is full exactly when the N-th most recent call is younger than W, so
/// memory stays bounded even when a client hammers a throttled WABA.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    budget: Rate,
    recent: VecDeque<Instant>,
}

impl Window {
    pub(crate) fn new(budget: Rate) -> Self {
        Window {
            budget,
            recent: VecDeque::with_capacity(budget.count.min(1024) as usize),
        }
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&oldest) = self.recent.front() {
            if oldest + self.budget.per <= now {
                self.recent.pop_front();
            } else {
                break;
            }
        }
    }

    /// Count one call at `now`. A refused call still counts when `extend`
    /// (Meta: "continuing to make calls will … increase the time before calls
    /// will be successful again").
    pub(crate) fn admit(&mut self, now: Instant, extend: bool) -> Admission {
        self.expire(now);
        let cap = self.budget.count as usize;
        if self.recent.len() < cap {
            self.recent.push_back(now);
            return Admission::Allowed;
        }
        if extend {
            self.recent.push_back(now);
            while self.recent.len() > cap {
                self.recent.pop_front();
            }
        }
        Admission::Throttled {
            regain: self.regain(now),
        }
    }

    /// Time until one more call would be allowed (zero when it is now).
    pub(crate) fn regain(&self, now: Instant) -> Duration {
        let cap = self.budget.count as usize;
        let live = self
            .recent
            .iter()
            .filter(|&&t| t + self.budget.per > now)
            .count();
        if live < cap {
            return Duration::ZERO;
        }
        // The oldest live call frees the slot when it leaves the window.
        self.recent
            .iter()
            .find(|&&t| t + self.budget.per > now)
            .map_or(Duration::ZERO, |&t| (t + self.budget.per) - now)
    }

    /// Calls in the window as a whole percentage of the budget (100 = full).
    pub(crate) fn usage_pct(&self, now: Instant) -> u32 {
        let live = self
            .recent
            .iter()
            .rev()
            .take_while(|&&t| t + self.budget.per > now)
            .count() as u64;
        (live * 100 / u64::from(self.budget.count)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(calls: u32, ms: u64) -> Window {
        Window::new(Rate {
            count: calls,
            per: Duration::from_millis(ms),
        })
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn bursts_up_to_n_then_throttled_until_the_oldest_leaves() {
        let t0 = Instant::now();
        let mut w = window(3, 1000);
        for i in 0..3 {
            assert_eq!(w.admit(t0 + i * 10 * MS, true), Admission::Allowed);
        }
        assert_eq!(w.usage_pct(t0 + 30 * MS), 100);
        // Without extension the regain is when the first call (t0) expires.
        let mut plain = w.clone();
        assert_eq!(
            plain.admit(t0 + 500 * MS, false),
            Admission::Throttled { regain: 500 * MS }
        );
        assert_eq!(plain.admit(t0 + 1000 * MS, false), Admission::Allowed);
        // At 1000 ms only t0 has left: calls at 10, 20 and 1000 ms fill it again.
        assert!(matches!(
            plain.admit(t0 + 1001 * MS, false),
            Admission::Throttled { .. }
        ));
    }

    #[test]
    fn calls_while_throttled_extend_the_block() {
        let t0 = Instant::now();
        let mut w = window(2, 1000);
        w.admit(t0, true);
        w.admit(t0, true);
        // Hammering at 400, 800 and 1200 ms: each refused call counts.
        assert_eq!(
            w.admit(t0 + 400 * MS, true),
            Admission::Throttled { regain: 600 * MS }
        );
        assert_eq!(
            w.admit(t0 + 800 * MS, true),
            Admission::Throttled { regain: 600 * MS }
        );
        assert!(matches!(
            w.admit(t0 + 1200 * MS, true),
            Admission::Throttled { .. }
        ));
        // Left alone for a whole window, it opens again.
        assert_eq!(w.admit(t0 + 2200 * MS, true), Admission::Allowed);
    }

    #[test]
    fn usage_is_a_percentage_and_regain_zero_when_open() {
        let t0 = Instant::now();
        let mut w = window(4, 1000);
        assert_eq!(w.usage_pct(t0), 0);
        w.admit(t0, true);
        assert_eq!(w.usage_pct(t0), 25);
        assert_eq!(w.regain(t0), Duration::ZERO);
        assert_eq!(w.usage_pct(t0 + 1000 * MS), 0);
    }
}
