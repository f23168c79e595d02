//! register (SPEC section 7, graph-api.md §2.3): connect the number with its
//! two-step PIN. Each refusal that needs a person says what to do; an answer
//! that was lost, or "already registered", is settled by reading the number
//! before anything is sent again; every call counts in the number's 72-hour
//! history, and none is sent past `--max-register-calls`.

use chrono::{Duration as Span, SecondsFormat, Utc};
use rand::Rng;
use std::time::Duration;

use super::policy::Rules;
use super::{Call, Fate, Job, ReadWhy, steps};
use crate::graph::{ErrorClass, Failure, GraphError};
use crate::results::RowResult;
use crate::schema::{Status, Step};

pub(super) fn done(job: Job, rules: &Rules) -> Fate {
    steps::advance(job, Status::Registered, None, None, false, rules)
}

/// Meta's words for "already registered or in invalid state for registration".
fn says_already_registered(e: &GraphError) -> bool {
    let m = e.message.to_ascii_lowercase();
    e.code == Some(100) && m.contains("already registered")
}

/// "Try again in 3600 seconds" (or minutes, hours) in Meta's words, if said.
fn wait_said(message: &str) -> Option<Span> {
    let words: Vec<&str> = message.split_whitespace().collect();
    words.windows(2).find_map(|w| {
        let n: i64 = w[0]
            .trim_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .ok()?;
        let unit = w[1].trim_end_matches(|c: char| !c.is_ascii_alphabetic());
        match unit.trim_end_matches('s') {
            "second" => Some(Span::seconds(n)),
            "minute" => Some(Span::minutes(n)),
            "hour" => Some(Span::hours(n)),
            _ => None,
        }
    })
}

/// What a person has to do about a register refusal, for the results line.
fn advice(e: &GraphError) -> Option<String> {
    let code = e.code?;
    // Meta locks a number for 72 hours, unless its answer says otherwise.
    let lock_end = || {
        let wait = wait_said(&e.message).unwrap_or(Span::hours(72));
        (Utc::now() + wait).to_rfc3339_opts(SecondsFormat::Secs, true)
    };
    Some(match code {
        133005 => "the PIN differs from the number's two-step verification PIN: set pin_env to its current PIN, or turn two-step verification off in WhatsApp Manager (a migration needs it off at the source)".into(),
        133008 | 133009 => "too many or too fast PIN attempts: wait as Meta's message says, then retry".into(),
        133010 => "Meta says the number is not registered: check it in WhatsApp Manager, then retry".into(),
        133016 => format!("Meta locked the number after too many register calls in 72 hours: do not retry before {}", lock_end()),
        _ => return None,
    })
}

pub(super) fn on_failure(
    mut job: Job,
    failure: Failure,
    class: ErrorClass,
    retry_after: Option<Duration>,
    rules: &Rules,
    rng: &mut impl Rng,
) -> Fate {
    if let Failure::Graph(e) = &failure {
        if e.code == Some(133006) && !job.requested_code {
            // Not verified (a pre-verified id that expired, a stale record):
            // back to request_code, once.
            job.progress.status = Some(Status::Created);
            let note = "Meta says the number is not verified (133006): requesting a code";
            let line = steps::progress_line(&job, Some(note.into()), false);
            job.call = Call::RequestCode;
            job.attempts = 0;
            job.failures = 0;
            return Fate::Progress {
                line: job.ended(line),
                job,
            };
        }
        if says_already_registered(e) {
            job.call = Call::ReadNumber(ReadWhy::AlreadyRegistered(Box::new(e.clone())));
            return Fate::again(job, Duration::ZERO);
        }
        if let Some(note) = advice(e) {
            return Fate::done(job, RowResult::failed(Step::Register, failure, Some(note)));
        }
    }
    match class {
        ErrorClass::Transient | ErrorClass::WaitAtLeast(_) if failure.in_doubt() => {
            job.call = Call::ReadNumber(ReadWhy::InDoubt(Step::Register, Some(Box::new(failure))));
            Fate::again(job, Duration::ZERO)
        }
        ErrorClass::Transient | ErrorClass::WaitAtLeast(_) => {
            if let Some(refusal) = steps::register_guard(&job, rules, Utc::now()) {
                return Fate::done(job, refusal);
            }
            let floor = match class {
                ErrorClass::WaitAtLeast(d) => d,
                _ => Duration::ZERO,
            };
            steps::retry(job, failure, floor, retry_after, rules, rng)
        }
        _ => Fate::done(job, RowResult::failed(Step::Register, failure, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_ends_when_meta_says_or_after_72_hours() {
        assert_eq!(
            wait_said("Try again in 3600 seconds."),
            Some(Span::seconds(3600))
        );
        assert_eq!(
            wait_said("locked; retry in 5 minutes"),
            Some(Span::minutes(5))
        );
        assert_eq!(wait_said("too many attempts"), None);
        let e = GraphError {
            code: Some(133016),
            message: "Registration failed: too many attempts".into(),
            ..GraphError::default()
        };
        let note = advice(&e).unwrap();
        let in_72h = (Utc::now() + Span::hours(72)).to_rfc3339_opts(SecondsFormat::Secs, true);
        assert!(note.contains(&in_72h[..13]), "{note}");
    }
}
