//! What an answer means for its row: the retry, reconcile and throttle rules of
//! SPEC section 4 as one pure function, so each rule is a unit test.

use rand::Rng;
use std::time::Duration;

use super::backoff::Backoff;
use super::{Job, ReconcileWhy, Step, StepOk, StepReply};
use crate::graph::{ErrorClass, Failure, GraphError, Hints, ListPage, classify};

/// The knobs of the decisions.
#[derive(Debug, Clone)]
pub struct Policy {
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// Throttled answers a row may meet before it is given up.
    pub max_throttles: u32,
    /// Pause of a WABA throttled without saying for how long.
    pub default_waba_pause: Duration,
    /// Pause of the app throttled without saying for how long.
    pub default_app_pause: Duration,
}

impl Policy {
    pub fn new(max_attempts: u32) -> Self {
        Policy {
            max_attempts,
            backoff: Backoff::default(),
            max_throttles: 20,
            default_waba_pause: Duration::from_secs(60),
            default_app_pause: Duration::from_secs(60),
        }
    }
}

#[derive(Debug)]
pub enum Decision {
    Created {
        job: Job,
        id: String,
        note: Option<String>,
    },
    Failed {
        job: Job,
        failure: Failure,
        note: Option<String>,
    },
    /// Run the job's (possibly new) step again after `delay`.
    Requeue { job: Job, delay: Duration },
    /// The WABA is throttled: pause it, then run the job again.
    PauseWaba { job: Job, pause: Duration },
    /// The app is throttled: pause everything, then run the job again.
    PauseApp { job: Job, pause: Duration },
    /// The token was refused: this row and every queued row on it fail.
    TokenDead { job: Job, error: GraphError },
}

/// The wait the headers asked for, if any (the longer of the two).
pub fn requested_wait(h: &Hints) -> Option<Duration> {
    match (h.retry_after, h.waba_regain) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

pub fn decide(job: Job, reply: StepReply, policy: &Policy, rng: &mut impl Rng) -> Decision {
    let hints = reply.hints;
    match reply.result {
        Ok(StepOk::Created(id)) => Decision::Created {
            job,
            id,
            note: None,
        },
        Ok(StepOk::Page(page)) => on_page(job, page, policy, rng),
        Err(failure) => on_failure(job, failure, &hints, policy, rng),
    }
}

/// One page of the WABA's phone numbers, read to settle a row in doubt.
fn on_page(mut job: Job, page: ListPage, policy: &Policy, rng: &mut impl Rng) -> Decision {
    let Step::Reconcile { why, .. } = &job.step else {
        // A listing answers only a reconcile step; nothing to settle.
        return Decision::Requeue {
            job,
            delay: Duration::ZERO,
        };
    };
    if let Some(found) = page.find(&job.row.phone.e164_digits()) {
        let cause = match why {
            ReconcileWhy::AlreadyExists(_) => "Meta said it already exists",
            ReconcileWhy::Resumed => "an interrupted run may have sent it",
            ReconcileWhy::InDoubt(_) => "an earlier attempt got no answer",
        };
        let note = format!("reconciled: found on the WABA's phone number list ({cause})");
        return Decision::Created {
            id: found.id.clone(),
            job,
            note: Some(note),
        };
    }
    match (page.after, why.clone()) {
        (Some(after), why) => {
            job.step = Step::Reconcile {
                after: Some(after),
                why,
            };
            Decision::Requeue {
                job,
                delay: Duration::ZERO,
            }
        }
        (None, ReconcileWhy::AlreadyExists(err)) => Decision::Failed {
            job,
            failure: Failure::Graph(err),
            note: Some("the number exists but is not on this WABA's phone number list".into()),
        },
        (None, ReconcileWhy::InDoubt(_) | ReconcileWhy::Resumed) => {
            // Not there: the earlier attempt did not create it, so sending is safe.
            if job.attempts >= policy.max_attempts {
                let failure = job.last_failure.clone().unwrap_or(Failure::Network {
                    message: "attempts ran out".into(),
                    in_doubt: false,
                });
                let note =
                    Some("attempts ran out; the number is not on the WABA's list".to_string());
                return Decision::Failed { job, failure, note };
            }
            job.step = Step::Create;
            let delay = if job.failures > 0 {
                policy.backoff.delay(job.failures, rng)
            } else {
                Duration::ZERO
            };
            Decision::Requeue { job, delay }
        }
    }
}

fn on_failure(
    mut job: Job,
    failure: Failure,
    hints: &Hints,
    policy: &Policy,
    rng: &mut impl Rng,
) -> Decision {
    let class = classify(&failure, hints);
    let in_doubt = failure.in_doubt();
    job.last_failure = Some(failure.clone());
    let reconciling = matches!(job.step, Step::Reconcile { .. });

    match class {
        ErrorClass::ThrottledWaba | ErrorClass::ThrottledApp => {
            job.throttles += 1;
            if job.throttles > policy.max_throttles {
                let note = format!("still throttled after {} pauses", policy.max_throttles);
                return Decision::Failed {
                    job,
                    failure,
                    note: Some(note),
                };
            }
            if class == ErrorClass::ThrottledWaba {
                let pause = requested_wait(hints).unwrap_or(policy.default_waba_pause);
                Decision::PauseWaba { job, pause }
            } else {
                let pause = requested_wait(hints).unwrap_or(policy.default_app_pause);
                Decision::PauseApp { job, pause }
            }
        }
        ErrorClass::Token => match failure {
            Failure::Graph(error) => Decision::TokenDead { job, error },
            other => Decision::Failed {
                job,
                failure: other,
                note: None,
            },
        },
        ErrorClass::Transient | ErrorClass::WaitAtLeast(_) => {
            job.failures += 1;
            let floor = match class {
                ErrorClass::WaitAtLeast(d) => d,
                _ => Duration::ZERO,
            };
            let delay = policy
                .backoff
                .delay(job.failures, rng)
                .max(floor)
                .max(hints.retry_after.unwrap_or_default());
            if !reconciling && in_doubt {
                // Never send twice: look first (immediately, the listing has its own budget).
                job.step = Step::Reconcile {
                    after: None,
                    why: ReconcileWhy::InDoubt(failure),
                };
                return Decision::Requeue {
                    job,
                    delay: Duration::ZERO,
                };
            }
            if job.failures >= policy.max_attempts
                || (!reconciling && job.attempts >= policy.max_attempts)
            {
                let note = if reconciling {
                    Some("an earlier attempt may have succeeded: the phone number list could not be read".to_string())
                } else {
                    Some(format!("gave up after {} attempts", job.attempts))
                };
                return Decision::Failed { job, failure, note };
            }
            Decision::Requeue { job, delay }
        }
        ErrorClass::AlreadyExists if !reconciling => match failure {
            Failure::Graph(err) => {
                job.step = Step::Reconcile {
                    after: None,
                    why: ReconcileWhy::AlreadyExists(err),
                };
                Decision::Requeue {
                    job,
                    delay: Duration::ZERO,
                }
            }
            other => Decision::Failed {
                job,
                failure: other,
                note: None,
            },
        },
        ErrorClass::AlreadyExists | ErrorClass::Permanent => {
            let note = if reconciling
                && !matches!(
                    job.step,
                    Step::Reconcile {
                        why: ReconcileWhy::AlreadyExists(_),
                        ..
                    }
                ) {
                Some(
                    "an earlier attempt may have succeeded: listing the WABA's numbers was refused"
                        .to_string(),
                )
            } else {
                None
            };
            Decision::Failed { job, failure, note }
        }
    }
}

#[cfg(test)]
mod tests;
