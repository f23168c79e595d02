//! The global `--rate`: requests evenly paced across the whole run.
//!
//! A fixed cadence: slot k is `start + k·T`, and a request goes at its slot or as
//! soon after as the timer wakes us. Keeping the cadence (rather than restarting
//! the interval from each late wake-up, as a GCRA bucket with a burst of one —
//! governor's — does) is what makes the achieved rate the asked one: tokio's
//! timer wakes up to a millisecond late, which at 200/s alone costs 17 % of the
//! rate. After an idle gap longer than one interval the cadence restarts, so an
//! idle run never bursts to "catch up".

use std::time::Duration;
use tokio::time::Instant;

use crate::limits::Rate;

#[derive(Debug, Clone)]
pub struct Pacer {
    interval: Duration,
    next: Option<Instant>,
}

impl Pacer {
    pub fn new(rate: Rate) -> Pacer {
        // A hair slower than asked, so that no one-second window observed by the
        // server (which sees our requests with a little jitter) holds more than N.
        let interval = rate.interval().mul_f64(1.01).max(Duration::from_nanos(1));
        Pacer {
            interval,
            next: None,
        }
    }

    /// When the next slot is, without taking it.
    pub fn next_at(&self, _now: Instant) -> Option<Instant> {
        self.next
    }

    /// Take the slot due now, or say when the next one is.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Instant> {
        match self.next {
            Some(next) if now < next => Err(next),
            Some(next) if now - next < self.interval => {
                self.next = Some(next + self.interval);
                Ok(())
            }
            _ => {
                self.next = Some(now + self.interval);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pacer(per_sec: u32) -> Pacer {
        Pacer::new(Rate {
            count: per_sec,
            per: Duration::from_secs(1),
        })
    }

    #[test]
    fn late_wake_ups_do_not_lose_the_rate() {
        let mut p = pacer(200);
        let start = Instant::now();
        let mut now = start;
        let mut sent = vec![];
        while sent.len() < 400 {
            match p.try_take(now) {
                Ok(()) => sent.push(now),
                // The timer wakes up to 1 ms after the slot, as tokio's does.
                Err(at) => now = at + Duration::from_micros(900),
            }
        }
        let secs = (*sent.last().unwrap() - start).as_secs_f64();
        let rate = (sent.len() - 1) as f64 / secs;
        assert!(rate > 0.98 * 200.0 && rate <= 200.0, "{rate}");
        // Never more than 200 in any one-second window.
        for (i, &t) in sent.iter().enumerate() {
            let n = sent[i..]
                .iter()
                .take_while(|&&u| u < t + Duration::from_secs(1))
                .count();
            assert!(n <= 200, "{n}");
        }
    }

    #[test]
    fn an_idle_gap_does_not_turn_into_a_burst() {
        let mut p = pacer(10);
        let t0 = Instant::now();
        assert!(p.try_take(t0).is_ok());
        let later = t0 + Duration::from_secs(5);
        assert!(p.try_take(later).is_ok());
        assert!(p.try_take(later).is_err());
    }
}
