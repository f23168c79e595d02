//! `plan` (SPEC section 2): what a run would send, per WABA, and how long it
//! would take under the limits. No network.
//!
//! Each row costs the calls `--through` implies from where it stands (1 to 4:
//! create, request_code, verify_code, register; a pre-verified number skips
//! the code). The time model is the runner's scheduling model (SPEC section 4):
//! - per WABA, a rolling window of N calls per UNIT with bursts allowed: a WABA
//!   with k calls needs `floor((k-1)/N)` full windows, then one request;
//! - the global `--rate` paces every request evenly: `(total-1)/rate`;
//! - `--concurrency` C with an assumed request latency L: `total·L/C`;
//! - WABAs run in parallel, so the run takes the longest of these.
//!
//! Retries, throttling answers and real latencies are not known in advance:
//! the estimate is a lower bound for a healthy run.

use crate::limits::Limits;
use crate::text::{duration, plural};
use crate::validate::{ValidRow, WabaId};
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// The request latency the estimate assumes (Graph API create calls typically
/// answer in a few hundred milliseconds).
pub const ASSUMED_LATENCY: Duration = Duration::from_millis(300);

/// One access-token variable and the rows that will use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUse {
    pub env: String,
    pub rows: usize,
    /// The variable is set and not empty (its value is never read further).
    pub is_set: bool,
}

/// A row of the plan: the calls it needs to get as far as asked (0: it is
/// there already, or final in the results being resumed).
#[derive(Debug, Clone, Copy)]
pub struct PlanRow<'a> {
    pub row: &'a ValidRow,
    pub calls: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WabaPlan {
    pub waba_id: WabaId,
    pub to_send: usize,
    /// Calls its rows need.
    pub calls: usize,
    /// Already `created` in the results being resumed.
    pub skipped: usize,
    /// Variables of the rows to send, in order of first use.
    pub tokens: Vec<TokenUse>,
    /// Time this WABA's own budget needs for its rows.
    pub estimate: Duration,
}

/// What bounds the total estimate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    Nothing,
    WabaBudget(WabaId),
    GlobalRate,
    Concurrency,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// In order of first appearance in the manifest.
    pub wabas: Vec<WabaPlan>,
    pub to_send: usize,
    pub calls: usize,
    pub skipped: usize,
    /// Where a run would send, and from which setting.
    pub endpoint: Option<String>,
    pub estimate: Duration,
    pub bound: Bound,
    pub limits: Limits,
}

impl Plan {
    /// Token variables used by rows to send that are not set.
    pub fn unset_tokens(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for t in self.wabas.iter().flat_map(|w| &w.tokens) {
            if !t.is_set && !out.contains(&t.env.as_str()) {
                out.push(&t.env);
            }
        }
        out
    }
}

/// Group the rows by WABA, count what is left to send and its calls,
/// estimate the time.
pub fn build_plan<'a>(
    rows: impl IntoIterator<Item = PlanRow<'a>>,
    limits: &Limits,
    default_token_env: &str,
) -> Plan {
    // The same reading a run does: set, not blank, UTF-8.
    build_plan_with(rows, limits, default_token_env, |name| {
        crate::secret::Token::from_env(name).is_ok()
    })
}

/// [`build_plan`] with the "is this variable set" test given (for tests).
fn build_plan_with<'a>(
    rows: impl IntoIterator<Item = PlanRow<'a>>,
    limits: &Limits,
    default_token_env: &str,
    is_set: impl Fn(&str) -> bool,
) -> Plan {
    let mut wabas: Vec<WabaPlan> = Vec::new();
    let mut index: HashMap<&'a WabaId, usize> = HashMap::new();
    for PlanRow { row, calls } in rows {
        let i = *index.entry(&row.waba_id).or_insert_with(|| {
            wabas.push(WabaPlan {
                waba_id: row.waba_id.clone(),
                to_send: 0,
                calls: 0,
                skipped: 0,
                tokens: Vec::new(),
                estimate: Duration::ZERO,
            });
            wabas.len() - 1
        });
        let w = &mut wabas[i];
        if calls == 0 {
            w.skipped += 1;
            continue;
        }
        w.to_send += 1;
        w.calls += calls as usize;
        let env = row.token_var(default_token_env);
        match w.tokens.iter_mut().find(|t| t.env == env) {
            Some(t) => t.rows += 1,
            None => w.tokens.push(TokenUse {
                env: env.to_string(),
                rows: 1,
                is_set: is_set(env),
            }),
        }
    }
    let mut bound = Bound::Nothing;
    let mut estimate = Duration::ZERO;
    for w in &mut wabas {
        w.estimate = waba_time(w.calls, limits);
        if w.estimate > estimate {
            estimate = w.estimate;
            // One burst waits for no window: nothing bounds it but latency.
            bound = if estimate > ASSUMED_LATENCY {
                Bound::WabaBudget(w.waba_id.clone())
            } else {
                Bound::Nothing
            };
        }
    }
    let to_send: usize = wabas.iter().map(|w| w.to_send).sum();
    let calls: usize = wabas.iter().map(|w| w.calls).sum();
    let skipped = wabas.iter().map(|w| w.skipped).sum();
    if let Some(rate) = limits.rate
        && calls > 0
    {
        let t = rate.interval().saturating_mul(count_u32(calls - 1)) + ASSUMED_LATENCY;
        if t > estimate {
            estimate = t;
            bound = Bound::GlobalRate;
        }
    }
    let concurrency = count_u32(limits.concurrency.max(1));
    let t = ASSUMED_LATENCY.saturating_mul(count_u32(calls)) / concurrency;
    if t > estimate {
        estimate = t;
        bound = Bound::Concurrency;
    }
    Plan {
        wabas,
        to_send,
        calls,
        skipped,
        endpoint: None,
        estimate,
        bound,
        limits: limits.clone(),
    }
}

/// One WABA's calls under its rolling window (bursts allowed): full windows for
/// all but the last burst, then one request.
pub fn waba_time(calls: usize, limits: &Limits) -> Duration {
    if calls == 0 {
        return Duration::ZERO;
    }
    let per = limits.rate_per_waba;
    let windows = (calls - 1) / usize::try_from(per.count.max(1)).unwrap_or(usize::MAX);
    per.per.saturating_mul(count_u32(windows)) + ASSUMED_LATENCY
}

fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id_w = self
            .wabas
            .iter()
            .map(|w| w.waba_id.as_str().len())
            .max()
            .unwrap_or(0)
            .max(4);
        writeln!(
            f,
            "{:<id_w$}  {:>7}  {:>5}  {:>7}  {:>10}  token",
            "WABA", "to send", "calls", "skipped", "est. time"
        )?;
        for w in &self.wabas {
            let tokens: Vec<String> = w
                .tokens
                .iter()
                .map(|t| {
                    let state = if t.is_set { "set" } else { "NOT SET" };
                    if w.tokens.len() > 1 {
                        format!("{} ({state}, {} rows)", t.env, t.rows)
                    } else {
                        format!("{} ({state})", t.env)
                    }
                })
                .collect();
            let tokens = if tokens.is_empty() {
                "-".to_string()
            } else {
                tokens.join(", ")
            };
            let time = if w.to_send == 0 {
                "-".to_string()
            } else {
                duration(w.estimate)
            };
            writeln!(
                f,
                "{:<id_w$}  {:>7}  {:>5}  {:>7}  {:>10}  {tokens}",
                w.waba_id.as_str(),
                w.to_send,
                w.calls,
                w.skipped,
                time,
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "Total: {} row{} to send to {} WABA{} in {} call{}, {} skipped (already as far as asked)",
            self.to_send,
            plural(self.to_send),
            self.wabas.len(),
            plural(self.wabas.len()),
            self.calls,
            plural(self.calls),
            self.skipped
        )?;
        if let Some(endpoint) = &self.endpoint {
            writeln!(f, "A run would send to {endpoint}")?;
        }
        let l = &self.limits;
        writeln!(
            f,
            "Limits: --rate-per-waba {}, --rate {}, --concurrency {}; assuming {} ms per request",
            l.rate_per_waba,
            l.rate.map_or("unlimited".to_string(), |r| r.to_string()),
            l.concurrency,
            ASSUMED_LATENCY.as_millis()
        )?;
        let why = match &self.bound {
            Bound::Nothing => String::new(),
            Bound::WabaBudget(id) => format!(" (bound by the per-WABA budget of WABA {id})"),
            Bound::GlobalRate => " (bound by --rate)".into(),
            Bound::Concurrency => " (bound by --concurrency and request latency)".into(),
        };
        writeln!(
            f,
            "Estimated time: {}{why}, without retries or throttling",
            duration(self.estimate)
        )?;
        let unset = self.unset_tokens();
        if !unset.is_empty() {
            writeln!(
                f,
                "Not set: {} (a run needs these variables for the rows that use them)",
                unset.join(", ")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
