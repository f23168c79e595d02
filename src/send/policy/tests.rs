//! Each rule of the policy, one answer at a time.

use super::*;
use crate::graph::{GraphError, ListPage, ListedNumber};
use crate::schema::Status;
use crate::send::ReconcileWhy;
use crate::validate::ValidRow;
use std::sync::Arc;

fn job() -> Job {
    Job::create(Arc::new(ValidRow::fixture(1, "7700900123")), TokenId(0))
}

fn job_on(row: u32, waba: &str, token: u32) -> Job {
    let national = format!("77009{row:05}");
    Job::create(
        Arc::new(ValidRow::fixture(row, &national).waba(waba)),
        TokenId(token),
    )
}

fn graph(code: i64, subcode: Option<i64>) -> Failure {
    Failure::Graph(GraphError {
        code: Some(code),
        subcode,
        message: "m".into(),
        ..Default::default()
    })
}

fn err(code: i64, subcode: Option<i64>) -> Reply<CallOk> {
    Reply {
        result: Err(graph(code, subcode)),
        hints: Hints::default(),
        exchange: None,
    }
}

fn ok(answer: CallOk) -> Reply<CallOk> {
    Reply {
        result: Ok(answer),
        hints: Hints::default(),
        exchange: None,
    }
}

fn policy() -> Policy {
    let mut rules = Rules::new(3);
    rules.backoff = Backoff {
        base: Duration::from_secs(1),
        cap: Duration::from_secs(10),
    };
    Policy::new(
        rules,
        vec!["TOKEN_A".into(), "TOKEN_B".into()],
        [TokenId(0), TokenId(1)].into(),
        3,
    )
}

fn go(job: Job, reply: Reply<CallOk>) -> Verdict {
    policy().on_answer(job, reply)
}

fn again(v: Verdict) -> (Job, Duration) {
    match v.fate {
        Fate::Again { job, delay } => (job, delay),
        f => panic!("{f:?}"),
    }
}

fn done(v: Verdict) -> RowResult {
    match v.fate {
        Fate::Done { result, .. } => result,
        f => panic!("{f:?}"),
    }
}

#[test]
fn success_is_created() {
    let v = go(job(), ok(CallOk::Created("123".into())));
    assert!(v.effects.success);
    let r = done(v);
    assert_eq!(
        (r.status, r.phone_number_id.as_deref(), r.reconciled),
        (Status::Created, Some("123"), false)
    );
}

#[test]
fn transient_is_again_with_bounded_backoff() {
    let mut j = job();
    j.attempts = 1;
    let (job, delay) = again(go(j, err(2, None)));
    assert_eq!(job.failures, 1);
    assert!(delay <= Duration::from_secs(1));
    assert_eq!(job.call, Call::Create);
}

#[test]
fn attempts_run_out() {
    let mut j = job();
    j.attempts = 3;
    j.failures = 2;
    let r = done(go(j, err(2, None)));
    assert_eq!(r.status, Status::Failed);
    assert!(r.note.unwrap().contains("gave up after 3 attempts"));
}

#[test]
fn is_transient_flag_does_not_rescue_a_permanent_code() {
    let mut reply = err(100, None);
    if let Err(Failure::Graph(g)) = &mut reply.result {
        g.is_transient = true;
    }
    assert_eq!(done(go(job(), reply)).status, Status::Failed);
}

#[test]
fn waba_throttle_pauses_for_the_regain_time() {
    let mut reply = err(80008, None);
    reply.hints.waba_regain = Some(Duration::from_secs(1200));
    let v = go(job(), reply);
    assert_eq!(v.effects.pause_waba, Some(Duration::from_secs(1200)));
    assert_eq!(v.effects.pause_app, None);
    let (job, _) = again(v);
    assert_eq!(job.failures, 0, "a throttle does not use an attempt");
    assert_eq!(job.throttles, 1);
}

#[test]
fn waba_throttle_without_a_time_uses_the_default_pause() {
    let v = go(job(), err(80007, None));
    assert_eq!(v.effects.pause_waba, Some(Duration::from_secs(60)));
}

#[test]
fn app_throttle_with_usage_at_limit_pauses_the_app() {
    let mut reply = err(4, None);
    reply.hints.app_usage_pct = Some(100);
    reply.hints.retry_after = Some(Duration::from_secs(30));
    let v = go(job(), reply);
    assert_eq!(v.effects.pause_app, Some(Duration::from_secs(30)));
    assert_eq!(
        v.effects.pause_waba, None,
        "Retry-After of an app throttle pauses the app"
    );
    assert_eq!(v.effects.app_usage, Some(100));
}

#[test]
fn usage_and_regain_act_on_successes_too() {
    let mut reply = ok(CallOk::Created("1".into()));
    reply.hints.waba_usage_pct = Some(85);
    reply.hints.waba_regain = Some(Duration::from_secs(90));
    let v = go(job(), reply);
    assert_eq!(v.effects.waba_usage, Some(85));
    assert_eq!(v.effects.pause_waba, Some(Duration::from_secs(90)));
}

#[test]
fn recently_deleted_waits_at_least_five_minutes() {
    let (_, delay) = again(go(job(), err(133015, None)));
    assert!(delay >= Duration::from_secs(300));
}

#[test]
fn a_refused_token_blocks_its_rows_and_all_refused_aborts() {
    let mut p = policy();
    let v = p.on_answer(job_on(1, "1", 0), err(190, Some(463)));
    assert!(v.effects.newly_blocked);
    assert_eq!(v.effects.abort, None, "TOKEN_B still works");
    assert_eq!(done(v).status, Status::Failed);
    let queued = job_on(2, "1", 0);
    let r = p.blocked(&queued).expect("same token: blocked");
    assert!(!r.sent);
    assert!(r.note.unwrap().contains("TOKEN_A"));
    assert!(p.blocked(&job_on(3, "1", 1)).is_none());
    let v = p.on_answer(job_on(3, "1", 1), err(190, None));
    assert!(v.effects.abort.is_some());
}

#[test]
fn a_row_in_flight_when_its_token_dies_is_not_sent_again() {
    let mut p = policy();
    p.on_answer(job_on(1, "1", 0), err(190, None));
    // Row 2 was in flight on the same token and meets a transient error.
    let r = done(p.on_answer(job_on(2, "1", 0), err(2, None)));
    assert!(!r.sent && r.status == Status::Failed);
}

#[test]
fn the_same_waba_level_error_on_three_rows_stops_the_waba() {
    let mut p = policy();
    for row in 1..=2 {
        let v = p.on_answer(job_on(row, "9", 0), err(200, None));
        assert!(!v.effects.newly_blocked);
    }
    let v = p.on_answer(job_on(3, "9", 0), err(200, None));
    assert!(v.effects.newly_blocked);
    let r = p.blocked(&job_on(4, "9", 1)).expect("WABA 9 stopped");
    assert!(r.note.unwrap().contains("WABA 9 stopped"));
    assert!(p.blocked(&job_on(5, "8", 0)).is_none());
}

#[test]
fn a_success_on_the_waba_ends_its_streak_for_good() {
    let mut p = policy();
    p.on_answer(job_on(1, "9", 0), err(200, None));
    p.on_answer(job_on(2, "9", 0), ok(CallOk::Created("5".into())));
    for row in 3..=6 {
        let v = p.on_answer(job_on(row, "9", 0), err(200, None));
        assert!(!v.effects.newly_blocked);
    }
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
    let (job, delay) = again(go(j, reply));
    assert_eq!(delay, Duration::ZERO);
    assert!(matches!(
        job.call,
        Call::ListNumbers {
            after: None,
            why: ReconcileWhy::InDoubt(_)
        }
    ));
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
    assert_eq!(again(go(j, reply)).0.call, Call::Create);
}

#[test]
fn already_exists_reconciles_then_matches_by_digits() {
    let (job, _) = again(go(job(), err(100, Some(2388012))));
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
    let r = done(go(job, ok(CallOk::Page(page))));
    assert_eq!(r.phone_number_id.as_deref(), Some("2"));
    assert!(r.reconciled);
    assert!(r.note.unwrap().contains("already exists"));
}

#[test]
fn already_exists_but_not_listed_fails() {
    let (job, _) = again(go(job(), err(100, Some(2388012))));
    let page = ListPage {
        numbers: vec![],
        after: None,
    };
    let r = done(go(job, ok(CallOk::Page(page))));
    assert_eq!(r.status, Status::Failed);
    assert!(r.note.unwrap().contains("not on this WABA"));
}

#[test]
fn listing_refused_fails_with_a_warning_that_it_may_exist() {
    let mut j = job();
    j.call = Call::ListNumbers {
        after: None,
        why: ReconcileWhy::Resumed,
    };
    let r = done(go(j, err(200, None)));
    assert!(r.note.unwrap().contains("may have succeeded"));
}

#[test]
fn next_page_is_followed() {
    let mut j = job();
    j.call = Call::ListNumbers {
        after: None,
        why: ReconcileWhy::Resumed,
    };
    let page = ListPage {
        numbers: vec![],
        after: Some("cursor".into()),
    };
    let (job, _) = again(go(j, ok(CallOk::Page(page))));
    assert!(matches!(job.call, Call::ListNumbers { after: Some(ref a), .. } if a == "cursor"));
}

#[test]
fn a_throttle_without_a_time_grows_until_a_success() {
    let mut p = policy();
    let pauses: Vec<u64> = (1..=8)
        .map(|row| {
            let v = p.on_answer(job_on(row, "5", 0), err(80008, None));
            v.effects.pause_waba.unwrap().as_secs()
        })
        .collect();
    assert_eq!(pauses, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
    // Another WABA starts from the beginning.
    let v = p.on_answer(job_on(20, "6", 0), err(80008, None));
    assert_eq!(v.effects.pause_waba, Some(Duration::from_secs(60)));
    // A success on WABA 5 resets it.
    p.on_answer(job_on(9, "5", 0), ok(CallOk::Created("1".into())));
    let v = p.on_answer(job_on(10, "5", 0), err(80008, None));
    assert_eq!(v.effects.pause_waba, Some(Duration::from_secs(60)));
    // A regain time from Meta is obeyed as it is.
    let mut reply = err(80008, None);
    reply.hints.waba_regain = Some(Duration::from_secs(1200));
    let v = p.on_answer(job_on(11, "5", 0), reply);
    assert_eq!(v.effects.pause_waba, Some(Duration::from_secs(1200)));
}

#[test]
fn calls_that_cannot_connect_are_refunded_told_once_and_stop_the_run_after_a_streak() {
    let mut p = policy();
    let unreachable = || Reply {
        result: Err(Failure::Unreachable {
            message: "cannot connect to http://127.0.0.1:9: Connection refused".into(),
        }),
        hints: Hints::default(),
        exchange: None,
    };
    let v = p.on_answer(job_on(1, "1", 0), unreachable());
    assert!(v.effects.refund);
    assert!(
        v.effects
            .notice
            .as_deref()
            .unwrap()
            .contains("cannot connect to http://127.0.0.1:9")
    );
    assert_eq!(v.effects.stop, None);
    // An answer from Meta in between ends the streak.
    p.on_answer(job_on(2, "1", 0), err(2, None));
    for row in 3..=6 {
        let v = p.on_answer(job_on(row, "1", 0), unreachable());
        assert_eq!(v.effects.notice, None, "told once");
        assert_eq!(v.effects.stop, None, "row {row}");
    }
    let v = p.on_answer(job_on(7, "1", 0), unreachable());
    let stop = v.effects.stop.unwrap();
    assert!(
        stop.contains("--resume") && stop.contains("5 calls in a row"),
        "{stop}"
    );
}
