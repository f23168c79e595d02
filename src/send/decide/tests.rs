//! Each rule of `decide`, one answer at a time.

use super::*;
use crate::graph::{ListPage, ListedNumber, Reply};
use crate::send::TokenId;
use crate::validate::ValidRow;
use rand::{SeedableRng, rngs::SmallRng};
use std::sync::Arc;

fn job() -> Job {
    Job::new(Arc::new(ValidRow::fixture(1, "7700900123")), TokenId(0))
}

fn err(code: i64, subcode: Option<i64>) -> StepReply {
    Reply {
        result: Err(Failure::Graph(GraphError {
            code: Some(code),
            subcode,
            message: "m".into(),
            ..Default::default()
        })),
        hints: Hints::default(),
        exchange: None,
    }
}

fn go(job: Job, reply: StepReply) -> Decision {
    let mut policy = Policy::new(3);
    policy.backoff = Backoff {
        base: Duration::from_secs(1),
        cap: Duration::from_secs(10),
    };
    decide(job, reply, &policy, &mut SmallRng::seed_from_u64(3))
}

#[test]
fn success_is_created() {
    let d = go(
        job(),
        Reply {
            result: Ok(StepOk::Created("123".into())),
            hints: Hints::default(),
            exchange: None,
        },
    );
    assert!(matches!(d, Decision::Created { id, note: None, .. } if id == "123"));
}

#[test]
fn transient_is_requeued_with_bounded_backoff() {
    let mut j = job();
    j.attempts = 1;
    match go(j, err(2, None)) {
        Decision::Requeue { job, delay } => {
            assert_eq!(job.failures, 1);
            assert!(delay <= Duration::from_secs(1));
            assert_eq!(job.step, Step::Create);
        }
        d => panic!("{d:?}"),
    }
}

#[test]
fn is_transient_flag_does_not_rescue_a_permanent_code() {
    let mut reply = err(100, None);
    if let Err(Failure::Graph(g)) = &mut reply.result {
        g.is_transient = true;
    }
    assert!(matches!(go(job(), reply), Decision::Failed { .. }));
}

#[test]
fn waba_throttle_pauses_for_the_regain_time() {
    let mut reply = err(80008, None);
    reply.hints.waba_regain = Some(Duration::from_secs(1200));
    match go(job(), reply) {
        Decision::PauseWaba { job, pause } => {
            assert_eq!(pause, Duration::from_secs(1200));
            assert_eq!(job.failures, 0, "a throttle does not use an attempt");
        }
        d => panic!("{d:?}"),
    }
}

#[test]
fn waba_throttle_without_a_time_uses_the_default_pause() {
    assert!(
        matches!(go(job(), err(80007, None)), Decision::PauseWaba { pause, .. } if pause == Duration::from_secs(60))
    );
}

#[test]
fn app_throttle_with_usage_at_limit_pauses_the_app() {
    let mut reply = err(4, None);
    reply.hints.app_usage_pct = Some(100);
    reply.hints.retry_after = Some(Duration::from_secs(30));
    assert!(
        matches!(go(job(), reply), Decision::PauseApp { pause, .. } if pause == Duration::from_secs(30))
    );
}

#[test]
fn recently_deleted_waits_at_least_five_minutes() {
    match go(job(), err(133015, None)) {
        Decision::Requeue { delay, .. } => assert!(delay >= Duration::from_secs(300)),
        d => panic!("{d:?}"),
    }
}

#[test]
fn token_error_kills_the_token() {
    assert!(matches!(
        go(job(), err(190, Some(463))),
        Decision::TokenDead { .. }
    ));
}

#[test]
fn in_doubt_goes_to_reconcile_first() {
    let mut j = job();
    j.attempts = 1;
    let reply = Reply {
        result: Err(Failure::Network {
            message: "timed out".into(),
            in_doubt: true,
        }),
        hints: Hints::default(),
        exchange: None,
    };
    match go(j, reply) {
        Decision::Requeue { job, .. } => {
            assert!(matches!(
                job.step,
                Step::Reconcile {
                    after: None,
                    why: ReconcileWhy::InDoubt(_)
                }
            ))
        }
        d => panic!("{d:?}"),
    }
}

#[test]
fn connect_error_is_retried_without_reconcile() {
    let mut j = job();
    j.attempts = 1;
    let reply = Reply {
        result: Err(Failure::Network {
            message: "connection refused".into(),
            in_doubt: false,
        }),
        hints: Hints::default(),
        exchange: None,
    };
    assert!(matches!(go(j, reply), Decision::Requeue { job, .. } if job.step == Step::Create));
}

#[test]
fn already_exists_reconciles_then_matches_by_digits() {
    let d = go(job(), err(100, Some(2388012)));
    let Decision::Requeue { job, .. } = d else {
        panic!("{d:?}")
    };
    let page = ListPage {
        numbers: vec![
            ListedNumber {
                id: "1".into(),
                display_phone_number: "+44 7700 900124".into(),
            },
            ListedNumber {
                id: "2".into(),
                display_phone_number: "+44 7700 900123".into(),
            },
        ],
        after: None,
    };
    let d = go(
        job,
        Reply {
            result: Ok(StepOk::Page(page)),
            hints: Hints::default(),
            exchange: None,
        },
    );
    assert!(matches!(d, Decision::Created { id, note: Some(_), .. } if id == "2"));
}

#[test]
fn listing_refused_fails_with_a_warning_that_it_may_exist() {
    let mut j = job();
    j.step = Step::Reconcile {
        after: None,
        why: ReconcileWhy::Resumed,
    };
    match go(j, err(200, None)) {
        Decision::Failed { note: Some(n), .. } => assert!(n.contains("may have succeeded")),
        d => panic!("{d:?}"),
    }
}

#[test]
fn next_page_is_followed() {
    let mut j = job();
    j.step = Step::Reconcile {
        after: None,
        why: ReconcileWhy::Resumed,
    };
    let page = ListPage {
        numbers: vec![],
        after: Some("cursor".into()),
    };
    match go(
        j,
        Reply {
            result: Ok(StepOk::Page(page)),
            hints: Hints::default(),
            exchange: None,
        },
    ) {
        Decision::Requeue { job, .. } => {
            assert!(matches!(job.step, Step::Reconcile { after: Some(ref a), .. } if a == "cursor"))
        }
        d => panic!("{d:?}"),
    }
}
