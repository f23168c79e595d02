//! The sending limits (SPEC section 2 and 4), turned once from raw flags into
//! checked values: `--concurrency`, `--rate`, `--rate-per-waba`,
//! `--max-attempts`, `--timeout`. `plan` and the scheduler both read these.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// `N/UNIT`: N events per one second, minute or hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error(
        "{flag}: `{value}` is not N/UNIT with N a positive whole number and UNIT s, m or h (e.g. 10/s, 200/h)"
    )]
    BadRate { flag: &'static str, value: String },
    #[error("--timeout: `{0}` must be a positive number of seconds")]
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
        if count == 0 {
            return Err(bad());
        }
        let per = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        Ok(Rate { count, per })
    }

    /// The even spacing between two events at this rate.
    pub fn interval(&self) -> Duration {
        self.per / self.count
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s",
            60 => "m",
            _ => "h",
        };
        write!(f, "{}/{}", self.count, unit)
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
    pub fn from_args(a: &crate::cli::LimitArgs) -> Result<Limits, LimitError> {
        let rate = a
            .rate
            .as_deref()
            .map(|r| Rate::parse("--rate", r))
            .transpose()?;
        let rate_per_waba = Rate::parse("--rate-per-waba", &a.rate_per_waba)?;
        if !(a.timeout.is_finite() && a.timeout > 0.0 && a.timeout <= 86_400.0) {
            return Err(LimitError::BadTimeout(a.timeout.to_string()));
        }
        Ok(Limits {
            concurrency: a.concurrency as usize,
            rate,
            rate_per_waba,
            max_attempts: a.max_attempts,
            timeout: Duration::from_secs_f64(a.timeout),
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
    fn rejects_bad_rates() {
        for bad in ["", "10", "0/s", "-1/s", "10/d", "1.5/s", "x/s", "10/"] {
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
