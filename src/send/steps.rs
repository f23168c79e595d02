//! Where a row goes next (SPEC section 7): new number create → request_code →
//! verify_code → register; pre-verified create → register; `--through` says
//! how far. A row never repeats a step it has finished, stops at the first
//! step it cannot take yet (no code for it) or that fails, and never sends a
//! register call that would put its number over `--max-register-calls` in
//! 72 hours.

use chrono::{DateTime, Duration as Span, Utc};
use rand::Rng;
use std::time::Duration;

use super::policy::Rules;
use super::{Call, Fate, Job, Progress};
use crate::graph::Failure;
use crate::results::RowResult;
use crate::schema::{Status, Step};
use crate::validate::ValidRow;

/// How far each row goes (`--through`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Through {
    Create,
    RequestCode,
    Register,
}

impl Through {
    /// Whether a row at `status` has got as far as asked.
    pub fn reached(self, status: Status) -> bool {
        match self {
            Through::Create => status.is_created(),
            Through::RequestCode => matches!(
                status,
                Status::CodeRequested | Status::Verified | Status::Registered
            ),
            Through::Register => status == Status::Registered,
        }
    }
}

/// Meta's moving window for register calls on one number.
pub const REGISTER_WINDOW: Duration = Duration::from_secs(72 * 3600);

/// The step whose success leaves a row at `status`.
fn step_of(status: Status) -> Step {
    match status {
        Status::CodeRequested => Step::RequestCode,
        Status::Verified => Step::VerifyCode,
        Status::Registered => Step::Register,
        _ => Step::Create,
    }
}

/// A pre-verified number needs no code: once created it is verified, as far
/// as a run that goes on from there is concerned.
fn settle(progress: &mut Progress, row: &ValidRow, rules: &Rules) {
    if progress.status == Some(Status::Created)
        && row.preverified_id.is_some()
        && rules.through > Through::Create
    {
        progress.status = Some(Status::Verified);
    }
}

/// What comes after `progress` for this row, in this run.
enum Next {
    Call(Call),
    /// verify_code, once a code is there.
    NeedCode,
    /// As far as it goes in this run.
    Stop,
}

fn next(job: &Job, rules: &Rules) -> Next {
    let through = rules.through;
    let Some(status) = job.progress.status else {
        return Next::Call(Call::Create);
    };
    if rules.rerequest_codes
        && through == Through::RequestCode
        && status == Status::CodeRequested
        && !job.requested_code
    {
        // `retry --through request-code`: codes expire; ask for a new one, once.
        return Next::Call(Call::RequestCode);
    }
    if through.reached(status) {
        return Next::Stop;
    }
    match status {
        Status::Created => Next::Call(Call::RequestCode),
        Status::CodeRequested => Next::NeedCode,
        Status::Verified => Next::Call(Call::Register),
        _ => Next::Stop,
    }
}

/// The first call of a row that starts at `progress`: `None` when it has
/// nothing to do in this run.
pub fn initial_call(row: &ValidRow, progress: &mut Progress, rules: &Rules) -> Option<Call> {
    settle(progress, row, rules);
    let probe = Job::new(
        std::sync::Arc::new(row.clone()),
        super::TokenId(0),
        Call::Create,
        progress.clone(),
    );
    match next(&probe, rules) {
        Next::Call(call) => Some(call),
        Next::NeedCode => Some(Call::VerifyCode),
        Next::Stop => None,
    }
}

/// How many step calls a row at `status` still needs to get as far as
/// `through` (lookups and retries not counted): 0 when it is there.
pub fn calls_left(row: &ValidRow, status: Option<Status>, through: Through) -> u32 {
    let preverified = row.preverified_id.is_some();
    let rank = |s: Option<Status>| match s {
        None => 0,
        Some(Status::Created) => 1,
        Some(Status::CodeRequested) => 2,
        Some(Status::Verified) => 3,
        Some(Status::Registered) => 4,
        Some(_) => 0,
    };
    let at = rank(status);
    let mut calls = u32::from(at < 1);
    if through >= Through::RequestCode && !preverified && at < 2 {
        calls += 1;
    }
    if through == Through::Register {
        if !preverified && at < 3 {
            calls += 1;
        }
        if at < 4 {
            calls += 1;
        }
    }
    calls
}

/// The line a row's progress writes: its status, at the step that got it there.
pub(super) fn progress_line(job: &Job, note: Option<String>, reconciled: bool) -> RowResult {
    let status = job.progress.status.unwrap_or(Status::Created);
    let step = match (status, job.row.preverified_id.is_some()) {
        // A pre-verified number is verified by its create.
        (Status::Verified, true) if job.call.step() == Step::Create => Step::Create,
        _ => step_of(status),
    };
    RowResult {
        note,
        reconciled,
        ..RowResult::progress(status, step, job.progress.phone_number_id.clone())
    }
}

/// The step done: the row is at `status` now (with its id, for a create).
/// Record that, and go on as far as the run goes.
pub(super) fn advance(
    mut job: Job,
    status: Status,
    id: Option<String>,
    note: Option<String>,
    reconciled: bool,
    rules: &Rules,
) -> Fate {
    if let Some(id) = id {
        job.progress.phone_number_id = Some(id);
    }
    job.progress.status = Some(status);
    settle(&mut job.progress, &job.row, rules);
    let line = progress_line(&job, note, reconciled);
    go_on(job, line, rules)
}

/// From the row's progress (`line` says it), the next call, a wait for the
/// code, or the end of the row in this run.
pub(super) fn go_on(mut job: Job, line: RowResult, rules: &Rules) -> Fate {
    match next(&job, rules) {
        Next::Stop => Fate::done(job, line),
        Next::NeedCode => {
            job.next_step(Call::VerifyCode);
            Fate::NeedCode {
                line: job.ended(line),
                job,
            }
        }
        Next::Call(Call::Register) => {
            if let Some(refusal) = register_guard(&job, rules, Utc::now()) {
                return Fate::done(job, refusal);
            }
            job.next_step(Call::Register);
            Fate::Progress {
                line: job.ended(line),
                job,
            }
        }
        Next::Call(call) => {
            job.next_step(call);
            Fate::Progress {
                line: job.ended(line),
                job,
            }
        }
    }
}

/// `None` if one more register call keeps the number within
/// `--max-register-calls` in the last 72 hours; else the row's failure,
/// saying when it may try again.
pub(super) fn register_guard(job: &Job, rules: &Rules, now: DateTime<Utc>) -> Option<RowResult> {
    let window = Span::from_std(REGISTER_WINDOW).unwrap_or(Span::zero());
    let recent: Vec<&DateTime<Utc>> = job
        .progress
        .register_calls
        .iter()
        .filter(|t| **t > now - window)
        .collect();
    if (recent.len() as u32) < rules.max_register_calls {
        return None;
    }
    let oldest = recent.iter().min().map_or(now, |t| **t);
    let again = (oldest + window).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Some(RowResult::refused(
        Step::Register,
        format!(
            "register not sent: {} register calls on this number in the last 72 hours (--max-register-calls {}; Meta locks a number for 72 hours after 10); it may try again after {again}",
            recent.len(),
            rules.max_register_calls
        ),
    ))
}

/// A transient failure of a step: again after a backoff (at least `floor`
/// and any `Retry-After`), or failed once attempts run out.
pub(super) fn retry(
    mut job: Job,
    failure: Failure,
    floor: Duration,
    retry_after: Option<Duration>,
    rules: &Rules,
    rng: &mut impl Rng,
) -> Fate {
    job.failures += 1;
    if job.failures >= rules.max_attempts || job.attempts >= rules.max_attempts {
        let note = format!("gave up after {} attempts", job.attempts.max(job.failures));
        let step = job.step();
        return Fate::done(job, RowResult::failed(step, failure, Some(note)));
    }
    let delay = rules
        .backoff
        .delay(job.failures, rng)
        .max(floor)
        .max(retry_after.unwrap_or_default());
    Fate::again(job, delay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn rules(through: Through) -> Rules {
        Rules {
            through,
            ..Rules::new(5)
        }
    }

    fn at(status: Option<Status>) -> Progress {
        Progress {
            phone_number_id: status.map(|_| "77".into()),
            status,
            register_calls: Vec::new(),
        }
    }

    fn first(row: &ValidRow, status: Option<Status>, through: Through) -> Option<Call> {
        initial_call(row, &mut at(status), &rules(through))
    }

    #[test]
    fn each_status_goes_to_its_next_step_as_far_as_through() {
        let row = ValidRow::fixture(1, "7700900001");
        use Status::*;
        assert_eq!(first(&row, None, Through::Create), Some(Call::Create));
        assert_eq!(first(&row, Some(Created), Through::Create), None);
        assert_eq!(
            first(&row, Some(Created), Through::RequestCode),
            Some(Call::RequestCode)
        );
        assert_eq!(first(&row, Some(CodeRequested), Through::RequestCode), None);
        assert_eq!(
            first(&row, Some(CodeRequested), Through::Register),
            Some(Call::VerifyCode)
        );
        assert_eq!(
            first(&row, Some(Verified), Through::Register),
            Some(Call::Register)
        );
        assert_eq!(first(&row, Some(Registered), Through::Register), None);
    }

    #[test]
    fn calls_left_counts_the_steps_to_through() {
        let row = ValidRow::fixture(1, "7700900001");
        let mut pre = row.clone();
        pre.preverified_id = Some("5".into());
        use Status::*;
        assert_eq!(calls_left(&row, None, Through::Create), 1);
        assert_eq!(calls_left(&row, None, Through::RequestCode), 2);
        assert_eq!(calls_left(&row, None, Through::Register), 4);
        assert_eq!(calls_left(&pre, None, Through::Register), 2);
        assert_eq!(calls_left(&row, Some(Created), Through::Register), 3);
        assert_eq!(calls_left(&row, Some(CodeRequested), Through::Register), 2);
        assert_eq!(calls_left(&row, Some(Registered), Through::Register), 0);
        assert_eq!(
            calls_left(&row, Some(CodeRequested), Through::RequestCode),
            0
        );
    }

    #[test]
    fn a_pre_verified_number_skips_the_code() {
        let mut row = ValidRow::fixture(1, "7700900001");
        row.preverified_id = Some("555".into());
        assert_eq!(
            first(&row, Some(Status::Created), Through::Register),
            Some(Call::Register)
        );
        let mut p = at(Some(Status::Created));
        assert_eq!(
            initial_call(&row, &mut p, &rules(Through::RequestCode)),
            None
        );
        assert_eq!(p.status, Some(Status::Verified));
    }

    #[test]
    fn retry_through_request_code_asks_again_once() {
        let row = ValidRow::fixture(1, "7700900001");
        let r = Rules {
            rerequest_codes: true,
            ..rules(Through::RequestCode)
        };
        let mut job = Job::new(
            Arc::new(row),
            super::super::TokenId(0),
            Call::RequestCode,
            at(Some(Status::CodeRequested)),
        );
        assert!(matches!(next(&job, &r), Next::Call(Call::RequestCode)));
        job.requested_code = true;
        assert!(matches!(next(&job, &r), Next::Stop));
    }

    #[test]
    fn the_register_guard_counts_calls_in_the_last_72_hours() {
        let now = Utc::now();
        let hours = |h: i64| now - Span::hours(h);
        let mut job = Job::create(
            Arc::new(ValidRow::fixture(1, "7700900001")),
            super::super::TokenId(0),
        );
        let r = Rules {
            max_register_calls: 3,
            ..rules(Through::Register)
        };
        job.progress.register_calls = vec![hours(80), hours(50), hours(10)];
        assert!(
            register_guard(&job, &r, now).is_none(),
            "one is older than 72 h"
        );
        job.progress.register_calls.push(hours(1));
        let refused = register_guard(&job, &r, now).unwrap();
        let note = refused.note.unwrap();
        assert!(note.contains("3 register calls"), "{note}");
        // The oldest call in the window (50 h ago) leaves it 22 h from now.
        let again =
            (hours(50) + Span::hours(72)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        assert!(note.contains(&again), "{note}");
    }
}
