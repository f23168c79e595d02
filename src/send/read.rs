//! Reading a number (`GET /{id}`) to settle a step without repeating it: a
//! verify_code or register whose answer was lost, request_code's 136024
//! (already verified), register's "already registered". What Meta reports
//! decides: done (and said so in the line), or the step is taken again.

use rand::Rng;
use std::time::Duration;

use super::policy::Rules;
use super::{Call, Fate, Job, ReadWhy, steps};
use crate::graph::{ErrorClass, Failure, NumberState};
use crate::results::RowResult;
use crate::schema::{Status, Step};

fn is(value: &Option<String>, expected: &str) -> bool {
    value
        .as_deref()
        .is_some_and(|v| v.eq_ignore_ascii_case(expected))
}

pub(super) fn on_state(job: Job, state: NumberState, rules: &Rules) -> Fate {
    let Call::ReadNumber(why) = job.call.clone() else {
        return Fate::again(job, Duration::ZERO);
    };
    let verified = is(&state.code_verification_status, "VERIFIED");
    let connected = is(&state.status, "CONNECTED");
    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not given)".into());
    match why {
        ReadWhy::AlreadyVerified(_) if verified => {
            let note = "already verified: Meta answered 136024 and reports code_verification_status VERIFIED";
            steps::advance(job, Status::Verified, None, Some(note.into()), true, rules)
        }
        ReadWhy::AlreadyVerified(e) => {
            let note = format!(
                "Meta says the number is already verified but reports code_verification_status {}",
                shown(&state.code_verification_status)
            );
            Fate::done(
                job,
                RowResult::failed(Step::RequestCode, Failure::Graph(*e), Some(note)),
            )
        }
        ReadWhy::AlreadyRegistered(_) if connected => {
            let note = "already registered: Meta reports status CONNECTED";
            steps::advance(
                job,
                Status::Registered,
                None,
                Some(note.into()),
                true,
                rules,
            )
        }
        ReadWhy::AlreadyRegistered(e) => {
            let note = format!(
                "Meta says the number is already registered or in an invalid state; it reports status {}",
                shown(&state.status)
            );
            Fate::done(
                job,
                RowResult::failed(Step::Register, Failure::Graph(*e), Some(note)),
            )
        }
        ReadWhy::InDoubt(Step::VerifyCode, _) if verified => {
            let note =
                "reconciled: the answer to verify_code was lost; Meta reports the number VERIFIED";
            steps::advance(job, Status::Verified, None, Some(note.into()), true, rules)
        }
        ReadWhy::InDoubt(Step::Register, _) if connected => {
            let note =
                "reconciled: the answer to register was lost; Meta reports the number CONNECTED";
            steps::advance(
                job,
                Status::Registered,
                None,
                Some(note.into()),
                true,
                rules,
            )
        }
        ReadWhy::Status => {
            let status = job.progress.status.unwrap_or(Status::Created);
            let step = job.row.prior.as_ref().map_or(Step::Create, |p| p.step);
            let result = RowResult {
                number: Some(Box::new(state)),
                ..RowResult::progress(status, step, job.progress.phone_number_id.clone())
            };
            Fate::done(job, result)
        }
        // Not done at Meta: the step is taken again (a register through the guard).
        ReadWhy::InDoubt(..) => {
            let line = steps::progress_line(&job, None, false);
            steps::go_on(job, line, rules)
        }
    }
}

pub(super) fn on_failure(
    job: Job,
    failure: Failure,
    class: ErrorClass,
    retry_after: Option<Duration>,
    rules: &Rules,
    rng: &mut impl Rng,
) -> Fate {
    match class {
        ErrorClass::Transient => {
            steps::retry(job, failure, Duration::ZERO, retry_after, rules, rng)
        }
        ErrorClass::WaitAtLeast(d) => steps::retry(job, failure, d, retry_after, rules, rng),
        _ => {
            let step = job.step();
            let note =
                format!("the earlier {step} may have succeeded: reading the number was refused");
            Fate::done(job, RowResult::failed(step, failure, Some(note)))
        }
    }
}
