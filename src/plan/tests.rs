//! Unit tests of the plan: grouping, resume, tokens, the time model.

use super::*;
use crate::limits::Rate;
use std::collections::HashSet;

fn limits(per_waba: &str, rate: Option<&str>, concurrency: usize) -> Limits {
    Limits {
        concurrency,
        rate: rate.map(|r| Rate::parse("--rate", r).unwrap()),
        rate_per_waba: Rate::parse("--rate-per-waba", per_waba).unwrap(),
        max_attempts: 5,
        timeout: Duration::from_secs(30),
    }
}

fn row(n: u32, waba: &str, token: Option<&str>) -> ValidRow {
    ValidRow::fixture(n, &format!("79123{n:05}"))
        .waba(waba)
        .token_env(token)
}

/// The plan of `rows` at one call each but those in `done` (nothing to do).
fn plan_of(
    rows: &[ValidRow],
    done: &HashSet<u32>,
    limits: &Limits,
    default: &str,
    is_set: impl Fn(&str) -> bool,
) -> Plan {
    let plan_rows = rows.iter().map(|row| PlanRow {
        row,
        calls: u32::from(!done.contains(&row.id.row)),
    });
    build_plan_with(plan_rows, limits, default, is_set)
}

/// The plan of `rows`, none already created, every token variable set.
fn plan_fresh(rows: &[ValidRow], limits: &Limits) -> Plan {
    plan_of(rows, &HashSet::new(), limits, "T", |_| true)
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[test]
fn per_waba_window_allows_a_burst_then_waits_whole_windows() {
    let l = limits("200/h", None, 8);
    assert_eq!(waba_time(0, &l), Duration::ZERO);
    assert_eq!(waba_time(1, &l), ASSUMED_LATENCY);
    assert_eq!(waba_time(200, &l), ASSUMED_LATENCY, "one burst");
    assert_eq!(waba_time(201, &l), secs(3600.0) + ASSUMED_LATENCY);
    assert_eq!(waba_time(401, &l), secs(7200.0) + ASSUMED_LATENCY);
}

#[test]
fn groups_by_waba_counts_skipped_and_tokens() {
    let rows = vec![
        row(1, "111", None),
        row(2, "222", Some("B_TOKEN")),
        row(3, "111", Some("A_TOKEN")),
        row(4, "111", None),
        row(5, "222", Some("B_TOKEN")),
    ];
    let created: HashSet<u32> = [2, 4].into();
    let p = plan_of(&rows, &created, &limits("200/h", None, 8), "DEFAULT", |n| {
        n == "A_TOKEN"
    });
    assert_eq!((p.to_send, p.skipped), (3, 2));
    let w: Vec<(&str, usize, usize)> = p
        .wabas
        .iter()
        .map(|w| (w.waba_id.as_str(), w.to_send, w.skipped))
        .collect();
    assert_eq!(w, [("111", 2, 1), ("222", 1, 1)]);
    assert_eq!(
        p.wabas[0].tokens,
        [
            TokenUse {
                env: "DEFAULT".into(),
                rows: 1,
                is_set: false
            },
            TokenUse {
                env: "A_TOKEN".into(),
                rows: 1,
                is_set: true
            },
        ]
    );
    assert_eq!(p.unset_tokens(), ["DEFAULT", "B_TOKEN"]);
}

#[test]
fn wabas_run_in_parallel_so_the_largest_bounds() {
    // 450 rows on one WABA, 10 on each of 20 others: 2 windows for the big one.
    let mut rows: Vec<ValidRow> = (0..450).map(|i| row(i, "big", None)).collect();
    for w in 0..20 {
        rows.extend((0..10).map(|i| row(1000 + w * 10 + i, &format!("w{w}"), None)));
    }
    let p = plan_fresh(&rows, &limits("200/h", None, 8));
    assert_eq!(p.estimate, secs(7200.0) + ASSUMED_LATENCY);
    assert_eq!(p.bound, Bound::WabaBudget(WabaId::new_unchecked("big")));
}

#[test]
fn global_rate_and_concurrency_can_bound_instead() {
    let rows: Vec<ValidRow> = (0..100)
        .map(|i| row(i, &format!("w{}", i % 10), None))
        .collect();
    let p = plan_fresh(&rows, &limits("1000/s", Some("1/s"), 8));
    assert_eq!(p.bound, Bound::GlobalRate);
    assert_eq!(p.estimate, secs(99.0) + ASSUMED_LATENCY);

    let rows: Vec<ValidRow> = (0..1000)
        .map(|i| row(i, &format!("w{}", i % 100), None))
        .collect();
    let p = plan_fresh(&rows, &limits("1000/s", None, 8));
    assert_eq!(p.bound, Bound::Concurrency);
    assert_eq!(p.estimate, secs(1000.0 * 0.3 / 8.0));
}

#[test]
fn nothing_to_send_takes_no_time() {
    let rows = vec![row(1, "111", None)];
    let p = plan_of(&rows, &[1].into(), &limits("200/h", None, 8), "T", |_| true);
    assert_eq!((p.to_send, p.skipped, p.estimate), (0, 1, Duration::ZERO));
    assert!(p.to_string().contains("Estimated time: under 1s"));
}

#[test]
fn display_shows_each_waba_and_the_totals() {
    let rows = vec![row(1, "111", Some("A_TOKEN")), row(2, "222", None)];
    let p = plan_of(
        &rows,
        &HashSet::new(),
        &limits("200/h", None, 8),
        "WABA_ACCESS_TOKEN",
        |n| n == "A_TOKEN",
    );
    let s = p.to_string();
    assert!(
        s.contains("111         1      1        0    under 1s  A_TOKEN (set)"),
        "{s}"
    );
    assert!(
        s.contains("222         1      1        0    under 1s  WABA_ACCESS_TOKEN (NOT SET)"),
        "{s}"
    );
    assert!(
        s.contains("Total: 2 rows to send to 2 WABAs in 2 calls, 0 skipped"),
        "{s}"
    );
    assert!(
        s.contains("--rate-per-waba 200/h, --rate unlimited, --concurrency 8; assuming 300 ms"),
        "{s}"
    );
    assert!(s.contains("Not set: WABA_ACCESS_TOKEN"), "{s}");
    assert!(
        s.contains("Estimated time: under 1s, without"),
        "one burst waits for nothing: {s}"
    );
}

#[test]
fn the_calls_through_implies_count_in_the_estimate() {
    // 150 rows at 4 calls each on one WABA at 200/h: 600 calls, 3 full windows.
    let rows: Vec<ValidRow> = (1..=150).map(|n| row(n, "111", None)).collect();
    let plan_rows = rows.iter().map(|row| PlanRow { row, calls: 4 });
    let p = build_plan_with(plan_rows, &limits("200/h", None, 8), "T", |_| true);
    assert_eq!((p.to_send, p.calls), (150, 600));
    assert_eq!(p.estimate, secs(2.0 * 3600.0) + ASSUMED_LATENCY);
    assert!(p.to_string().contains("in 600 calls"), "{p}");
}
