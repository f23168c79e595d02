//! Seeded randomness: which fault a request suffers, how much jitter it gets,
//! the ids and trace ids it is given, and the verification codes. Each concern
//! has its own stream, so turning jitter on does not change which requests
//! fail, and the codes do not depend on the faults: for a given seed and
//! request sequence the answers are the same.

use super::config::FaultRates;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;

/// What goes wrong with one request, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// HTTP 500, `is_transient`; the variant picks code 2, 1 or 131000.
    Transient(u8),
    Html503,
    Slow,
    /// The POST is carried out (create or step), then the connection closes.
    DropAfterDone,
}

impl Fault {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Fault::Transient(_) => "transient",
            Fault::Html503 => "html_503",
            Fault::Slow => "slow",
            // The config's name, kept although it covers every POST.
            Fault::DropAfterDone => "drop_after_create",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Dice {
    faults: SmallRng,
    jitter: SmallRng,
    ids: SmallRng,
    codes: SmallRng,
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl Dice {
    pub(crate) fn new(seed: u64) -> Self {
        Dice {
            faults: SmallRng::seed_from_u64(seed),
            jitter: SmallRng::seed_from_u64(seed ^ 0x9E37_79B9_7F4A_7C15),
            ids: SmallRng::seed_from_u64(seed ^ 0xD1B5_4A32_D192_ED03),
            codes: SmallRng::seed_from_u64(seed ^ 0x94D0_49BB_1331_11EB),
        }
    }

    /// One draw per eligible request: the rates partition [0, 1), so each
    /// fault happens at exactly its configured rate and at most one applies.
    /// A GET carries nothing out, so it cannot be dropped after: that slice is
    /// no fault for it.
    pub(crate) fn fault(&mut self, rates: &FaultRates, can_drop: bool) -> Option<Fault> {
        if rates.total() <= 0.0 {
            return None;
        }
        let u: f64 = self.faults.random();
        let mut edge = rates.transient;
        if u < edge {
            return Some(Fault::Transient(self.faults.random_range(0..3)));
        }
        edge += rates.html_503;
        if u < edge {
            return Some(Fault::Html503);
        }
        edge += rates.slow;
        if u < edge {
            return Some(Fault::Slow);
        }
        edge += rates.drop_after_create;
        (u < edge && can_drop).then_some(Fault::DropAfterDone)
    }

    /// A 6-digit verification code, leading zeros included.
    pub(crate) fn code(&mut self) -> String {
        format!("{:06}", self.codes.random_range(0..1_000_000u32))
    }

    pub(crate) fn latency(&mut self, base_ms: u64, jitter_ms: u64) -> Duration {
        let extra = if jitter_ms == 0 {
            0
        } else {
            self.jitter.random_range(0..=jitter_ms)
        };
        Duration::from_millis(base_ms + extra)
    }

    /// An opaque trace id like Meta's (`AbC1dEf2GhI`).
    pub(crate) fn trace_id(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| ALNUM[self.ids.random_range(0..ALNUM.len())] as char)
            .collect()
    }

    /// Where the phone-number ids start: 16 digits with room to count up.
    pub(crate) fn first_id(&mut self) -> u64 {
        self.ids
            .random_range(1_000_000_000_000_000..8_000_000_000_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates(transient: f64, html: f64, slow: f64, drop: f64) -> FaultRates {
        FaultRates {
            transient,
            html_503: html,
            slow,
            drop_after_create: drop,
            ..FaultRates::default()
        }
    }

    #[test]
    fn same_seed_same_faults() {
        let r = rates(0.2, 0.1, 0.1, 0.1);
        let mut a = Dice::new(42);
        let mut b = Dice::new(42);
        let fa: Vec<_> = (0..500).map(|_| a.fault(&r, true)).collect();
        let fb: Vec<_> = (0..500).map(|_| b.fault(&r, true)).collect();
        assert_eq!(fa, fb);
        // Jitter draws do not shift the fault sequence.
        let mut c = Dice::new(42);
        let fc: Vec<_> = (0..500)
            .map(|_| {
                c.latency(0, 50);
                c.fault(&r, true)
            })
            .collect();
        assert_eq!(fa, fc);
    }

    #[test]
    fn rates_are_met_over_many_draws() {
        let r = rates(0.2, 0.1, 0.05, 0.15);
        let mut d = Dice::new(7);
        let n = 20_000;
        let mut counts = [0u32; 4];
        for _ in 0..n {
            match d.fault(&r, true) {
                Some(Fault::Transient(_)) => counts[0] += 1,
                Some(Fault::Html503) => counts[1] += 1,
                Some(Fault::Slow) => counts[2] += 1,
                Some(Fault::DropAfterDone) => counts[3] += 1,
                None => {}
            }
        }
        for (count, want) in counts.iter().zip([0.2, 0.1, 0.05, 0.15]) {
            let got = f64::from(*count) / f64::from(n);
            assert!((got - want).abs() < 0.015, "got {got}, want {want}");
        }
    }

    #[test]
    fn listings_are_never_dropped_and_zero_rates_draw_nothing() {
        let mut d = Dice::new(1);
        assert!((0..100).all(|_| d.fault(&rates(0.0, 0.0, 0.0, 1.0), false).is_none()));
        assert!((0..100).all(|_| d.fault(&FaultRates::default(), true).is_none()));
        let id = d.first_id();
        assert_eq!(id.to_string().len(), 16);
    }

    #[test]
    fn codes_are_six_digits_seeded_and_apart_from_faults() {
        let mut a = Dice::new(5);
        let mut b = Dice::new(5);
        let r = rates(0.5, 0.0, 0.0, 0.0);
        let ca: Vec<String> = (0..50).map(|_| a.code()).collect();
        let cb: Vec<String> = (0..50)
            .map(|_| {
                b.fault(&r, true);
                b.code()
            })
            .collect();
        assert_eq!(ca, cb);
        assert!(
            ca.iter()
                .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
        );
    }
}
