//! verify_code (SPEC section 7): the code the holder received. A rejected
//! code — 136025, or Meta's documented 100 "invalid or has expired" — fails
//! the row here (a later `retry` with a new code verifies again); an answer
//! that was lost is settled by reading the number before the code is sent
//! again.

use rand::Rng;
use std::time::Duration;

use super::policy::Rules;
use super::{Call, Fate, Job, ReadWhy, steps};
use crate::graph::{ErrorClass, Failure, GraphError};
use crate::results::RowResult;
use crate::schema::{Status, Step};

const CODE_REJECTED: i64 = 136025;

/// The code was refused as wrong or expired, in either of Meta's shapes.
fn is_rejected_code(e: &GraphError) -> bool {
    let m = e.message.to_ascii_lowercase();
    e.code == Some(CODE_REJECTED)
        || (e.code == Some(100)
            && m.contains("code")
            && (m.contains("invalid") || m.contains("expired")))
}

pub(super) fn done(mut job: Job, rules: &Rules) -> Fate {
    job.code = None;
    steps::advance(job, Status::Verified, None, None, false, rules)
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
        && is_rejected_code(e)
    {
        job.code = None;
        let note = "the code was rejected (wrong or expired): give the right code with --codes and retry, or `retry --through request-code` for a new one";
        return Fate::done(
            job,
            RowResult::failed(Step::VerifyCode, failure, Some(note.into())),
        );
    }
    match class {
        ErrorClass::Transient | ErrorClass::WaitAtLeast(_) if failure.in_doubt() => {
            job.call =
                Call::ReadNumber(ReadWhy::InDoubt(Step::VerifyCode, Some(Box::new(failure))));
            Fate::again(job, Duration::ZERO)
        }
        ErrorClass::Transient => {
            steps::retry(job, failure, Duration::ZERO, retry_after, rules, rng)
        }
        ErrorClass::WaitAtLeast(d) => steps::retry(job, failure, d, retry_after, rules, rng),
        _ => Fate::done(job, RowResult::failed(Step::VerifyCode, failure, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_of_a_rejected_code() {
        let e = |code, message: &str| GraphError {
            code: Some(code),
            message: message.into(),
            ..GraphError::default()
        };
        assert!(is_rejected_code(&e(136025, "x")));
        assert!(is_rejected_code(&e(
            100,
            "The verification code is invalid or has expired"
        )));
        assert!(!is_rejected_code(&e(100, "Invalid parameter")));
    }
}
