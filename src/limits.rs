//! The sending limits (SPEC sections 2 and 4) as checked values:
//! `--concurrency`, `--rate`, `--rate-per-waba`, `--max-attempts`, `--timeout`.
//! A leaf: `cli` builds them once from the flags; `plan`, the scheduler and the
//! sandbox read them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// `N/UNIT`: N events per UNIT, the one grammar of every rate and budget
/// (`--rate`, `--rate-per-waba`, the sandbox's budgets). UNIT is `ms`, `s`, `m`
/// or `h` (or `sec`, `min`, `hour`), optionally with a count: `10/s`, `200/h`,
/// `200/1h`, `5/2s`, `3/200ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error(
        "{flag}: `{value}` is not N/UNIT with N a positive whole number and UNIT ms, s, m or h, optionally with a count (e.g. 10/s, 200/h, 5/2s)"
    )]
    BadRate { flag: &'static str, value: String },
    #[error("--timeout: `{0}` must be a positive number of seconds, at most a day")]
    BadTimeout(String),
}

impl Rate {
    pub fn parse(flag: &'static str, value: &str) -> Result<Rate, LimitError> {
        let bad = || LimitError::BadRate {
            flag,
            value: value.to_string(),
        };
        let (n, unit) = value.trim().split_once('/').ok_or_else(bad)?;
        let count = u32::from_str(n.trim()).map_err(|_| bad())?;
        let unit = unit.trim();
        let split = unit.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (times, unit) = unit.split_at(split);
        let times: u32 = if times.is_empty() {
            1
        } else {
            times.parse().map_err(|_| bad())?
        };
        let one = match unit {
            "ms" => Duration::from_millis(1),
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        let per = one.checked_mul(times).ok_or_else(bad)?;
        if count == 0 || per.is_zero() {
            return Err(bad());
        }
        Ok(Rate { count, per })
    }

    /// The even spacing between two events at this rate.
    pub fn interval(&self) -> Duration {
        self.per / self.count
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.per.as_millis();
        match ms {
            1_000 => write!(f, "{}/s", self.count),
            60_000 => write!(f, "{}/m", self.count),
            3_600_000 => write!(f, "{}/h", self.count),
            _ if ms.is_multiple_of(3_600_000) => write!(f, "{}/{}h", self.count, ms / 3_600_000),
            _ if ms.is_multiple_of(60_000) => write!(f, "{}/{}m", self.count, ms / 60_000),
            _ if ms.is_multiple_of(1_000) => write!(f, "{}/{}s", self.count, ms / 1_000),
            _ => write!(f, "{}/{ms}ms", self.count),
        }
    }
}

/// Config files (the sandbox's) write a rate as its text.
impl Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Rate::parse("rate", &text).map_err(serde::de::Error::custom)
    }
}

/// Checked limits for one run (or one plan).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    pub concurrency: usize,
    /// Global, evenly paced; `None` = unlimited.
    pub rate: Option<Rate>,
    /// Rolling-window budget per WABA (bursts allowed).
    pub rate_per_waba: Rate,
    pub max_attempts: u32,
    pub timeout: Duration,
}

impl Limits {
    /// Check the raw values of the limit flags.
    pub fn new(
        concurrency: u32,
        rate: Option<&str>,
        rate_per_waba: &str,
        max_attempts: u32,
        timeout_secs: f64,
    ) -> Result<Limits, LimitError> {
        let rate = rate.map(|r| Rate::parse("--rate", r)).transpose()?;
        let rate_per_waba = Rate::parse("--rate-per-waba", rate_per_waba)?;
        if !(timeout_secs.is_finite() && timeout_secs > 0.0 && timeout_secs <= 86_400.0) {
            return Err(LimitError::BadTimeout(timeout_secs.to_string()));
        }
        Ok(Limits {
            concurrency: concurrency.max(1) as usize,
            rate,
            rate_per_waba,
            max_attempts: max_attempts.max(1),
            timeout: Duration::from_secs_f64(timeout_secs),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(
            Rate::parse("--rate", "10/s").unwrap(),
            Rate {
                count: 10,
                per: Duration::from_secs(1)
            }
        );
        assert_eq!(
            Rate::parse("--rate", "200/h").unwrap().per,
            Duration::from_secs(3600)
        );
        assert_eq!(Rate::parse("--rate", " 5 / m ").unwrap().count, 5);
        assert_eq!(Rate::parse("--rate", "200/h").unwrap().to_string(), "200/h");
    }

    #[test]
    fn counts_and_milliseconds_in_the_unit() {
        let r = Rate::parse("--rate", "200/1h").unwrap();
        assert_eq!((r.count, r.per), (200, Duration::from_secs(3600)));
        assert_eq!(r.to_string(), "200/h");
        let r = Rate::parse("--rate", "3/200ms").unwrap();
        assert_eq!(r.per, Duration::from_millis(200));
        assert_eq!(r.to_string(), "3/200ms");
        assert_eq!(Rate::parse("--rate", "5/2s").unwrap().to_string(), "5/2s");
        // Text round trip, as a config file stores it.
        for text in ["10/s", "200/h", "5/2s", "3/200ms", "7/90m"] {
            let r = Rate::parse("x", text).unwrap();
            assert_eq!(Rate::parse("x", &r.to_string()).unwrap(), r, "{text}");
        }
    }

    #[test]
    fn rejects_bad_rates() {
        for bad in [
            "", "10", "0/s", "-1/s", "10/d", "1.5/s", "x/s", "10/", "5/0s", "5/2d",
        ] {
            assert!(Rate::parse("--rate", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn interval_is_even_spacing() {
        assert_eq!(
            Rate::parse("--rate", "4/s").unwrap().interval(),
            Duration::from_millis(250)
        );
    }
}
