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

/// What a person has to do about a register refusal, for the results line.
fn advice(code: i64) -> Option<String> {
    let lock_end = || (Utc::now() + Span::hours(72)).to_rfc3339_opts(SecondsFormat::Secs, true);
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
            job.call = Call::ReadNumber(ReadWhy::AlreadyRegistered(e.clone()));
            return Fate::again(job, Duration::ZERO);
        }
        if let Some(note) = e.code.and_then(advice) {
            return Fate::done(job, RowResult::failed(Step::Register, failure, Some(note)));
        }
    }
    match class {
        ErrorClass::Transient | ErrorClass::WaitAtLeast(_) if failure.in_doubt() => {
            job.call = Call::ReadNumber(ReadWhy::InDoubt(Step::Register, Some(failure)));
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
