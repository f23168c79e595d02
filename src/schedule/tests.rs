//! Scheduler rules, on tokio's paused clock.

use super::*;
use crate::limits::Rate;

fn limits(concurrency: usize, per_waba: u32, per: Duration, rate: Option<Rate>) -> Limits {
    Limits {
        concurrency,
        rate,
        rate_per_waba: Rate {
            count: per_waba,
            per,
        },
        max_attempts: 5,
        timeout: Duration::from_secs(30),
    }
}

fn w(s: &str) -> WabaId {
    WabaId::new_unchecked(s)
}

/// Drain the scheduler with requests that finish instantly; returns (time, job) pairs.
async fn drain(s: &mut Scheduler<(String, u32)>) -> Vec<(Duration, (String, u32))> {
    let start = Instant::now();
    let mut out = vec![];
    loop {
        match s.next(Instant::now()) {
            Dispatch::Go(job) => {
                let waba = w(&job.0);
                out.push((Instant::now() - start, job));
                s.finished(&waba, true);
            }
            Dispatch::WaitUntil(at) => tokio::time::sleep_until(at).await,
            Dispatch::WaitForCompletion => panic!("nothing in flight to wait for"),
            Dispatch::Empty => return out,
        }
    }
}

#[tokio::test(start_paused = true)]
async fn round_robin_interleaves_wabas() {
    let mut s = Scheduler::new(&limits(8, 1000, Duration::from_secs(1), None));
    for i in 0..3 {
        s.push(&w("1"), ("1".into(), i), None);
    }
    s.push(&w("2"), ("2".into(), 0), None);
    s.push(&w("3"), ("3".into(), 0), None);
    let order: Vec<String> = drain(&mut s)
        .await
        .into_iter()
        .map(|(_, (w, _))| w)
        .collect();
    assert_eq!(order, ["1", "2", "3", "1", "1"]);
}

#[tokio::test(start_paused = true)]
async fn a_big_waba_does_not_hold_back_small_ones() {
    // 2 calls per 10 s per WABA: the big WABA needs 50 s, the small ones finish at once.
    let mut s = Scheduler::new(&limits(4, 2, Duration::from_secs(10), None));
    for i in 0..10 {
        s.push(&w("big"), ("big".into(), i), None);
    }
    for k in 0..20 {
        s.push(&w(&format!("s{k}")), (format!("s{k}"), 0), None);
    }
    let done = drain(&mut s).await;
    let small_last = done
        .iter()
        .filter(|(_, (w, _))| w != "big")
        .map(|(t, _)| *t)
        .max()
        .unwrap();
    let big_last = done
        .iter()
        .filter(|(_, (w, _))| w == "big")
        .map(|(t, _)| *t)
        .max()
        .unwrap();
    assert_eq!(small_last, Duration::ZERO);
    assert_eq!(big_last, Duration::from_secs(40));
}

#[tokio::test(start_paused = true)]
async fn per_waba_budget_is_a_rolling_window() {
    let mut s = Scheduler::new(&limits(8, 3, Duration::from_secs(60), None));
    for i in 0..7 {
        s.push(&w("1"), ("1".into(), i), None);
    }
    let times: Vec<u64> = drain(&mut s)
        .await
        .iter()
        .map(|(t, _)| t.as_secs())
        .collect();
    assert_eq!(times, [0, 0, 0, 60, 60, 60, 120]);
}

#[tokio::test(start_paused = true)]
async fn concurrency_caps_in_flight() {
    let mut s = Scheduler::new(&limits(2, 1000, Duration::from_secs(1), None));
    for i in 0..5 {
        s.push(&w(&i.to_string()), (i.to_string(), i), None);
    }
    let now = Instant::now();
    assert!(matches!(s.next(now), Dispatch::Go(_)));
    assert!(matches!(s.next(now), Dispatch::Go(_)));
    assert!(matches!(s.next(now), Dispatch::WaitForCompletion));
    s.finished(&w("0"), true);
    assert!(matches!(s.next(now), Dispatch::Go(_)));
    assert_eq!(s.in_flight(), 2);
}

#[tokio::test(start_paused = true)]
async fn global_rate_is_evenly_paced() {
    let rate = Rate {
        count: 10,
        per: Duration::from_secs(1),
    };
    let mut s = Scheduler::new(&limits(64, 10_000, Duration::from_secs(1), Some(rate)));
    for i in 0..30 {
        s.push(&w(&(i % 3).to_string()), ((i % 3).to_string(), i), None);
    }
    let done = drain(&mut s).await;
    for pair in done.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(gap >= Duration::from_millis(100), "{gap:?}");
    }
    // Never more than 10 in any one-second window.
    for (i, (t, _)) in done.iter().enumerate() {
        let n = done[i..]
            .iter()
            .take_while(|(u, _)| *u < *t + Duration::from_secs(1))
            .count();
        assert!(n <= 10);
    }
}

#[tokio::test(start_paused = true)]
async fn paused_waba_waits_while_others_go() {
    let mut s = Scheduler::new(&limits(8, 1000, Duration::from_secs(1), None));
    let now = Instant::now();
    s.pause_waba(&w("1"), now + Duration::from_secs(300));
    for i in 0..3 {
        s.push(&w("1"), ("1".into(), i), None);
        s.push(&w("2"), ("2".into(), i), None);
    }
    assert_eq!(s.paused(now).len(), 1);
    let done = drain(&mut s).await;
    for (t, (waba, _)) in &done {
        if waba == "1" {
            assert!(*t >= Duration::from_secs(300));
        } else {
            assert_eq!(*t, Duration::ZERO);
        }
    }
}

#[tokio::test(start_paused = true)]
async fn app_pause_stops_everything() {
    let mut s = Scheduler::new(&limits(8, 1000, Duration::from_secs(1), None));
    s.pause_app(Instant::now() + Duration::from_secs(5));
    s.push(&w("1"), ("1".into(), 0), None);
    s.push(&w("2"), ("2".into(), 0), None);
    let done = drain(&mut s).await;
    assert!(done.iter().all(|(t, _)| *t == Duration::from_secs(5)));
}

#[tokio::test(start_paused = true)]
async fn delayed_jobs_wait_but_others_of_the_waba_go() {
    let mut s = Scheduler::new(&limits(8, 1000, Duration::from_secs(1), None));
    s.push(
        &w("1"),
        ("1".into(), 0),
        Some(Instant::now() + Duration::from_secs(2)),
    );
    s.push(&w("1"), ("1".into(), 1), None);
    let done = drain(&mut s).await;
    assert_eq!(done[0], (Duration::ZERO, ("1".into(), 1)));
    assert_eq!(done[1], (Duration::from_secs(2), ("1".into(), 0)));
}

#[tokio::test(start_paused = true)]
async fn high_usage_slows_a_waba_down() {
    let mut s = Scheduler::new(&limits(8, 100, Duration::from_secs(100), None));
    s.observe_waba_usage(&w("1"), 100);
    for i in 0..3 {
        s.push(&w("1"), ("1".into(), i), None);
    }
    let times: Vec<Duration> = drain(&mut s).await.iter().map(|(t, _)| *t).collect();
    // Even pace is 1 s; at 100 % usage the spacing is 5 s.
    assert_eq!(
        times,
        [
            Duration::ZERO,
            Duration::from_secs(5),
            Duration::from_secs(10)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn drain_where_takes_matching_jobs_only() {
    let mut s: Scheduler<(String, u32)> =
        Scheduler::new(&limits(8, 1000, Duration::from_secs(1), None));
    s.push(&w("1"), ("a".into(), 0), None);
    s.push(
        &w("1"),
        ("b".into(), 1),
        Some(Instant::now() + Duration::from_secs(9)),
    );
    s.push(
        &w("2"),
        ("a".into(), 2),
        Some(Instant::now() + Duration::from_secs(9)),
    );
    let taken = s.drain_where(|_, j| j.0 == "a");
    assert_eq!(taken.len(), 2);
    assert_eq!(s.queued(), 1);
}

#[tokio::test(start_paused = true)]
async fn after_a_pause_one_probe_goes_before_the_rest() {
    let mut s: Scheduler<(String, u32)> =
        Scheduler::new(&limits(8, 1000, Duration::from_secs(1), None));
    let now = Instant::now();
    s.pause_waba(&w("1"), now + Duration::from_secs(1));
    for i in 0..3 {
        s.push(&w("1"), ("1".into(), i), None);
    }
    let later = now + Duration::from_secs(1);
    tokio::time::sleep_until(later).await;
    assert!(matches!(s.next(later), Dispatch::Go(_)));
    // The probe is in flight: nothing else of this WABA goes.
    assert!(matches!(s.next(later), Dispatch::WaitForCompletion));
    // A throttled probe keeps probing; a successful one opens up.
    s.finished(&w("1"), false);
    assert!(matches!(s.next(later), Dispatch::Go(_)));
    s.finished(&w("1"), true);
    assert!(matches!(s.next(later), Dispatch::Go(_)));
    assert!(matches!(
        s.next(later),
        Dispatch::Empty | Dispatch::WaitForCompletion
    ));
}

#[test]
fn the_outlook_says_what_the_queue_waits_for_and_how_long_the_budgets_need() {
    let t0 = Instant::now();
    let limits = Limits {
        rate_per_waba: Rate {
            count: 2,
            per: Duration::from_secs(60),
        },
        ..Limits::new(8, None, "2/m", 5, 30.0).unwrap()
    };
    let mut s: Scheduler<u32> = Scheduler::new(&limits);
    let a = WabaId::new_unchecked("111");
    for i in 0..5 {
        s.push(&a, i, None);
    }
    assert!(matches!(s.next(t0), Dispatch::Go(_)));
    assert!(matches!(s.next(t0), Dispatch::Go(_)));
    s.finished(&a, true);
    s.finished(&a, true);
    let o = s.outlook(t0);
    assert_eq!(
        o.next,
        Some((t0 + Duration::from_secs(60), Wait::Budget(a.clone())))
    );
    // Three more at 2 a minute: the 3rd waits two windows.
    assert_eq!(o.drain, Duration::from_secs(120));
    s.pause_waba(&a, t0 + Duration::from_secs(300));
    let o = s.outlook(t0);
    assert_eq!(
        o.next,
        Some((t0 + Duration::from_secs(300), Wait::Paused(a)))
    );
    assert_eq!(o.drain, Duration::from_secs(300));
}
