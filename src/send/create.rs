//! The create step and the listing that settles it (SPEC section 4): a lost
//! answer or an "already exists" is looked up on the WABA's phone number list
//! before anything is sent again, so no number is created twice by our fault.

use rand::Rng;
use std::time::Duration;

use super::policy::Rules;
use super::{Call, Fate, Job, ReconcileWhy, steps};
use crate::graph::{ErrorClass, Failure, GraphError, ListPage};
use crate::results::RowResult;
use crate::schema::{Status, Step};

/// The create answered with the new id.
pub(super) fn created(job: Job, id: String, rules: &Rules) -> Fate {
    steps::advance(job, Status::Created, Some(id), None, false, rules)
}

/// One page of the WABA's phone numbers, read to settle a row in doubt.
pub(super) fn on_page(mut job: Job, page: ListPage, rules: &Rules, rng: &mut impl Rng) -> Fate {
    let Call::ListNumbers { why, .. } = &job.call else {
        // A listing answers only a listing call; nothing to settle.
        return Fate::again(job, Duration::ZERO);
    };
    if let Some(found) = page.find(&job.row.phone.e164_digits()) {
        let note = format!(
            "reconciled: found on the WABA's phone number list ({})",
            why.cause()
        );
        let id = found.id.clone();
        let existed = matches!(why, ReconcileWhy::AlreadyExists(_));
        return match steps::advance(job, Status::Created, Some(id), Some(note), true, rules) {
            Fate::Done { job, mut result } => {
                result.existed = existed;
                Fate::Done { job, result }
            }
            Fate::Progress { job, mut line } => {
                line.existed = existed;
                Fate::Progress { job, line }
            }
            other => other,
        };
    }
    match (page.after, why.clone()) {
        (Some(after), why) => {
            job.call = Call::ListNumbers {
                after: Some(after),
                why,
            };
            Fate::again(job, Duration::ZERO)
        }
        (None, ReconcileWhy::AlreadyExists(err)) => Fate::done(
            job,
            RowResult::failed(
                Step::Create,
                Failure::Graph(*err),
                Some("the number exists but is not on this WABA's phone number list".into()),
            ),
        ),
        (None, ReconcileWhy::InDoubt(_) | ReconcileWhy::Resumed) => {
            // Not there: the earlier attempt did not create it, so sending is safe.
            if job.attempts >= rules.max_attempts {
                let failure = job
                    .last_failure
                    .as_deref()
                    .cloned()
                    .unwrap_or(Failure::Network {
                        message: "attempts ran out".into(),
                        in_doubt: false,
                    });
                let note = "attempts ran out; the number is not on the WABA's list";
                return Fate::done(
                    job,
                    RowResult::failed(Step::Create, failure, Some(note.into())),
                );
            }
            job.call = Call::Create;
            let delay = if job.failures > 0 {
                rules.backoff.delay(job.failures, rng)
            } else {
                Duration::ZERO
            };
            Fate::again(job, delay)
        }
    }
}

/// A transient failure (or one that must wait): a create that may have
/// landed is looked up first; otherwise retried with backoff until attempts
/// run out.
pub(super) fn on_transient(
    mut job: Job,
    failure: Failure,
    floor: Duration,
    retry_after: Option<Duration>,
    rules: &Rules,
    rng: &mut impl Rng,
) -> Fate {
    let reconciling = matches!(job.call, Call::ListNumbers { .. });
    job.failures += 1;
    if !reconciling && failure.in_doubt() {
        // Never send twice: look first (now: the listing has its own budget).
        job.call = Call::ListNumbers {
            after: None,
            why: ReconcileWhy::InDoubt(Box::new(failure)),
        };
        return Fate::again(job, Duration::ZERO);
    }
    if job.failures >= rules.max_attempts || (!reconciling && job.attempts >= rules.max_attempts) {
        let note = if reconciling {
            "an earlier attempt may have succeeded: the phone number list could not be read"
                .to_string()
        } else {
            format!("gave up after {} attempts", job.attempts)
        };
        return Fate::done(job, RowResult::failed(Step::Create, failure, Some(note)));
    }
    let delay = rules
        .backoff
        .delay(job.failures, rng)
        .max(floor)
        .max(retry_after.unwrap_or_default());
    Fate::again(job, delay)
}

/// "Already exists": look the number up before calling the row failed.
pub(super) fn on_already_exists(mut job: Job, error: GraphError) -> Fate {
    job.call = Call::ListNumbers {
        after: None,
        why: ReconcileWhy::AlreadyExists(Box::new(error)),
    };
    Fate::again(job, Duration::ZERO)
}

/// Refused for good. A refused listing says the create may have succeeded.
pub(super) fn on_permanent(job: Job, failure: Failure) -> Fate {
    let note = match &job.call {
        Call::ListNumbers {
            why: ReconcileWhy::InDoubt(_) | ReconcileWhy::Resumed,
            ..
        } => Some(
            "an earlier attempt may have succeeded: listing the WABA's numbers was refused"
                .to_string(),
        ),
        _ => None,
    };
    Fate::done(job, RowResult::failed(Step::Create, failure, note))
}

/// Which rule a failure of this step goes to.
pub(super) fn route(class: ErrorClass, reconciling: bool) -> Route {
    match class {
        ErrorClass::Transient => Route::Transient(Duration::ZERO),
        ErrorClass::WaitAtLeast(d) => Route::Transient(d),
        ErrorClass::AlreadyExists if !reconciling => Route::AlreadyExists,
        _ => Route::Permanent,
    }
}

pub(super) enum Route {
    Transient(Duration),
    AlreadyExists,
    Permanent,
}
