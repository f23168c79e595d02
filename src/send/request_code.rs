//! request_code (SPEC section 7): the holder of the number receives a code.
//! An answer that was lost cannot be read back, so the row counts as
//! `code_requested` (a second request would only replace the code); 136024
//! (already verified) is settled by reading `code_verification_status`.

use rand::Rng;
use std::time::Duration;

use super::policy::Rules;
use super::{Call, Fate, Job, ReadWhy, steps};
use crate::graph::{ErrorClass, Failure};
use crate::results::RowResult;
use crate::schema::{Status, Step};

const ALREADY_VERIFIED: i64 = 136024;

pub(super) fn done(job: Job, rules: &Rules) -> Fate {
    steps::advance(job, Status::CodeRequested, None, None, false, rules)
}

pub(super) fn on_failure(
    mut job: Job,
    failure: Failure,
    class: ErrorClass,
    retry_after: Option<Duration>,
    rules: &Rules,
    rng: &mut impl Rng,
) -> Fate {
    if let Failure::Graph(e) = &failure
        && e.code == Some(ALREADY_VERIFIED)
    {
        job.call = Call::ReadNumber(ReadWhy::AlreadyVerified(Box::new(e.clone())));
        return Fate::again(job, Duration::ZERO);
    }
    match class {
        ErrorClass::Transient | ErrorClass::WaitAtLeast(_) if failure.in_doubt() => {
            let note = "the answer to request_code was lost; the code was probably sent (it cannot be checked)";
            steps::advance(
                job,
                Status::CodeRequested,
                None,
                Some(note.into()),
                false,
                rules,
            )
        }
        ErrorClass::Transient => {
            steps::retry(job, failure, Duration::ZERO, retry_after, rules, rng)
        }
        ErrorClass::WaitAtLeast(d) => steps::retry(job, failure, d, retry_after, rules, rng),
        _ => Fate::done(job, RowResult::failed(Step::RequestCode, failure, None)),
    }
}
