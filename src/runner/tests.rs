//! The run loop's rules against a scripted fake API, on tokio's paused clock.

use super::*;
use crate::graph::{GraphError, Hints, ListPage, ListedNumber};
use crate::limits::Rate;

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
enum Scripted {
    Fail(Failure, Hints),
    /// Create the number, then lose the answer.
    DropAfterCreate,
}

#[derive(Default)]
struct FakeState {
    script: HashMap<String, VecDeque<Scripted>>,
    ledger: Vec<(String, String, String)>, // (waba, digits, id)
    creates: Vec<(Duration, String, String)>, // (time, waba, digits)
    lists: usize,
    bad_tokens: HashSet<String>,
    next_id: u64,
}

struct Fake {
    state: Mutex<FakeState>,
    start: Instant,
    latency: Duration,
}

impl Fake {
    fn new() -> Self {
        Fake {
            state: Mutex::new(FakeState::default()),
            start: Instant::now(),
            latency: Duration::from_millis(10),
        }
    }
    fn script(&self, digits: &str, steps: Vec<Scripted>) {
        self.state
            .lock()
            .unwrap()
            .script
            .insert(digits.to_string(), steps.into());
    }
    /// A number already on a WABA before the run.
    fn preload(&self, waba: &str, digits: &str, id: &str) {
        let entry = (waba.to_string(), digits.to_string(), id.to_string());
        self.state.lock().unwrap().ledger.push(entry);
    }
    fn graph(code: i64, subcode: Option<i64>, msg: &str) -> Failure {
        Failure::Graph(GraphError {
            http_status: Some(400),
            code: Some(code),
            subcode,
            message: msg.into(),
            ..Default::default()
        })
    }
}

impl Api for Fake {
    type Creds = String;

    async fn create(&self, creds: &String, row: &ValidRow) -> Reply<String> {
        tokio::time::sleep(self.latency).await;
        let mut st = self.state.lock().unwrap();
        let digits = row.phone.e164_digits();
        let waba = row.waba_id.to_string();
        st.creates
            .push((self.start.elapsed(), waba.clone(), digits.clone()));
        if st.bad_tokens.contains(creds) {
            return Reply {
                result: Err(Fake::graph(190, Some(463), "Error validating access token")),
                hints: Hints::default(),
                exchange: None,
            };
        }
        let step = st.script.get_mut(&digits).and_then(|q| q.pop_front());
        match step {
            Some(Scripted::Fail(f, hints)) => Reply {
                result: Err(f),
                hints,
                exchange: None,
            },
            other => {
                if st.ledger.iter().any(|(_, d, _)| *d == digits) {
                    return Reply {
                        result: Err(Fake::graph(
                            100,
                            Some(2388012),
                            "This phone number already exists",
                        )),
                        hints: Hints::default(),
                        exchange: None,
                    };
                }
                st.next_id += 1;
                let id = format!("10000000000{}", st.next_id);
                st.ledger.push((waba, digits, id.clone()));
                let result = if matches!(other, Some(Scripted::DropAfterCreate)) {
                    Err(Failure::Network {
                        message: "connection closed".into(),
                        in_doubt: true,
                    })
                } else {
                    Ok(id)
                };
                Reply {
                    result,
                    hints: Hints::default(),
                    exchange: None,
                }
            }
        }
    }

    async fn list_page(
        &self,
        _creds: &String,
        waba: &WabaId,
        after: Option<&str>,
    ) -> Reply<ListPage> {
        tokio::time::sleep(self.latency).await;
        let mut st = self.state.lock().unwrap();
        st.lists += 1;
        let all: Vec<_> = st
            .ledger
            .iter()
            .filter(|(w, _, _)| w == waba.as_str())
            .collect();
        let from: usize = after.and_then(|a| a.parse().ok()).unwrap_or(0);
        // Pages of 2, to exercise the cursor.
        let numbers = all
            .iter()
            .skip(from)
            .take(2)
            .map(|(_, d, id)| ListedNumber {
                id: id.clone(),
                display_phone_number: format!("+{} {}", &d[..1], &d[1..]),
            })
            .collect();
        let after = (from + 2 < all.len()).then(|| (from + 2).to_string());
        Reply {
            result: Ok(ListPage { numbers, after }),
            hints: Hints::default(),
            exchange: None,
        }
    }
}

#[derive(Default)]
struct Rec {
    sent: Vec<(u32, u32)>,
    done: Vec<(u32, u32, RowOutcome)>,
}

impl Recorder for Rec {
    fn about_to_send(&mut self, sends: &[(&ValidRow, u32)]) -> std::io::Result<()> {
        self.sent
            .extend(sends.iter().map(|(row, attempt)| (row.id.row, *attempt)));
        Ok(())
    }
    fn finished(
        &mut self,
        row: &ValidRow,
        attempts: u32,
        outcome: &RowOutcome,
    ) -> std::io::Result<()> {
        self.done.push((row.id.row, attempts, outcome.clone()));
        Ok(())
    }
}

impl Rec {
    fn outcome(&self, row: u32) -> &RowOutcome {
        let hits: Vec<_> = self.done.iter().filter(|(r, _, _)| *r == row).collect();
        assert_eq!(hits.len(), 1, "row {row} recorded {} times", hits.len());
        &hits[0].2
    }
    fn attempts(&self, row: u32) -> u32 {
        self.done
            .iter()
            .find(|(r, _, _)| *r == row)
            .map(|(_, a, _)| *a)
            .unwrap()
    }
}

fn row(n: u32, waba: &str, national: &str) -> Arc<ValidRow> {
    Arc::new(
        ValidRow::fixture(n, national)
            .waba(waba)
            .phone("1", national)
            .token_env(Some("T")),
    )
}

fn limits() -> Limits {
    Limits {
        concurrency: 4,
        rate: None,
        rate_per_waba: Rate {
            count: 1000,
            per: Duration::from_secs(1),
        },
        max_attempts: 3,
        timeout: Duration::from_secs(5),
    }
}

async fn run_with(
    fake: Arc<Fake>,
    jobs: Vec<Job>,
    tokens: Vec<&str>,
    limits: Limits,
) -> (Rec, RunReport) {
    let mut rec = Rec::default();
    let mut progress = NoProgress;
    let creds = tokens.iter().map(|t| t.to_string()).collect();
    let names = tokens.iter().map(|t| format!("{t}_ENV")).collect();
    let (_tx, rx) = watch::channel(false);
    let mut runner = Runner::new(fake, creds, names, limits, &mut rec, &mut progress);
    runner.seed = 1;
    let report = runner.run(jobs, rx).await;
    (rec, report)
}

/// The common case: one token, default limits.
async fn run_rows(fake: Arc<Fake>, rows: &[Arc<ValidRow>]) -> (Rec, RunReport) {
    run_with(fake, jobs(rows), vec!["tok"], limits()).await
}

fn jobs(rows: &[Arc<ValidRow>]) -> Vec<Job> {
    rows.iter()
        .map(|r| Job::new(r.clone(), TokenId(0)))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn every_row_created_once() {
    let fake = Arc::new(Fake::new());
    let rows: Vec<_> = (1..=20)
        .map(|i| row(i, &format!("{}", i % 3 + 1), &format!("55501000{i:02}")))
        .collect();
    let (rec, report) = run_rows(fake.clone(), &rows).await;
    assert_eq!(report.created, 20);
    for i in 1..=20 {
        assert!(matches!(rec.outcome(i), RowOutcome::Created { .. }));
    }
    assert_eq!(fake.state.lock().unwrap().ledger.len(), 20);
    assert_eq!(rec.sent.len(), 20, "one journal line per create");
}

#[tokio::test(start_paused = true)]
async fn transient_errors_are_retried() {
    let fake = Arc::new(Fake::new());
    let r = row(1, "1", "5550100001");
    let transient = Scripted::Fail(
        Fake::graph(2, None, "Service temporarily unavailable"),
        Hints::default(),
    );
    fake.script("15550100001", vec![transient.clone(), transient]);
    let (rec, report) = run_rows(fake, &[r]).await;
    assert!(matches!(rec.outcome(1), RowOutcome::Created { .. }));
    assert_eq!(rec.attempts(1), 3);
    assert_eq!(report.retried_rows, 1);
}

#[tokio::test(start_paused = true)]
async fn attempts_run_out() {
    let fake = Arc::new(Fake::new());
    let t = Scripted::Fail(Fake::graph(1, None, "unknown"), Hints::default());
    fake.script("15550100001", vec![t.clone(), t.clone(), t.clone(), t]);
    let (rec, _) = run_rows(fake.clone(), &[row(1, "1", "5550100001")]).await;
    assert!(matches!(rec.outcome(1), RowOutcome::Failed { .. }));
    assert_eq!(rec.attempts(1), 3);
    assert_eq!(fake.state.lock().unwrap().creates.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn invalid_parameter_is_not_retried() {
    let fake = Arc::new(Fake::new());
    fake.script(
        "15550100001",
        vec![Scripted::Fail(
            Fake::graph(100, None, "Invalid parameter"),
            Hints::default(),
        )],
    );
    let (rec, _) = run_rows(fake.clone(), &[row(1, "1", "5550100001")]).await;
    match rec.outcome(1) {
        RowOutcome::Failed {
            failure: Failure::Graph(g),
            ..
        } => assert_eq!(g.code, Some(100)),
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.state.lock().unwrap().creates.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn throttled_waba_pauses_while_others_finish() {
    let fake = Arc::new(Fake::new());
    let hints = Hints {
        waba_regain: Some(Duration::from_secs(600)),
        waba_usage_pct: Some(100),
        ..Default::default()
    };
    fake.script(
        "15550100001",
        vec![Scripted::Fail(
            Fake::graph(80008, None, "too many calls"),
            hints,
        )],
    );
    let rows = vec![
        row(1, "1", "5550100001"),
        row(2, "1", "5550100002"),
        row(3, "2", "5550100003"),
    ];
    let (rec, report) = run_rows(fake.clone(), &rows).await;
    assert_eq!(report.created, 3);
    assert_eq!(rec.attempts(1), 2);
    let st = fake.state.lock().unwrap();
    // WABA 2 went at once; WABA 1's calls after the 80008 waited the 10 minutes.
    let waba2 = st.creates.iter().find(|c| c.1 == "2").unwrap().0;
    assert!(waba2 < Duration::from_secs(1));
    let after: Vec<_> = st
        .creates
        .iter()
        .filter(|c| c.1 == "1" && c.2 == "15550100001")
        .collect();
    assert_eq!(after.len(), 2);
    assert!(after[1].0 >= Duration::from_secs(600), "{:?}", after[1].0);
}

#[tokio::test(start_paused = true)]
async fn refused_token_fails_its_rows_without_sending_them() {
    let fake = Arc::new(Fake::new());
    fake.state.lock().unwrap().bad_tokens.insert("bad".into());
    let l = Limits {
        concurrency: 1,
        ..limits()
    };
    let mut js = vec![];
    for i in 1..=5 {
        js.push(Job::new(
            row(i, "1", &format!("55501000{i:02}")),
            TokenId(0),
        ));
    }
    for i in 6..=8 {
        js.push(Job::new(
            row(i, "2", &format!("55501000{i:02}")),
            TokenId(1),
        ));
    }
    let (rec, report) = run_with(fake.clone(), js, vec!["bad", "good"], l).await;
    assert_eq!(report.created, 3);
    assert_eq!(report.failed, 5);
    assert!(report.aborted.is_none());
    // Only the first row of the bad token was sent.
    let st = fake.state.lock().unwrap();
    assert_eq!(st.creates.iter().filter(|c| c.1 == "1").count(), 1);
    for i in 1..=5 {
        assert!(matches!(rec.outcome(i), RowOutcome::Failed { .. }));
    }
}

#[tokio::test(start_paused = true)]
async fn every_token_refused_aborts() {
    let fake = Arc::new(Fake::new());
    fake.state.lock().unwrap().bad_tokens.insert("bad".into());
    let rows: Vec<_> = (1..=4)
        .map(|i| row(i, "1", &format!("55501000{i:02}")))
        .collect();
    let (_, report) = run_with(
        fake,
        jobs(&rows),
        vec!["bad"],
        Limits {
            concurrency: 1,
            ..limits()
        },
    )
    .await;
    assert_eq!(report.failed, 4);
    assert!(report.aborted.is_some());
}

#[tokio::test(start_paused = true)]
async fn in_doubt_is_reconciled_not_resent() {
    let fake = Arc::new(Fake::new());
    // Other numbers on the WABA first, so the match is on the second page.
    let mut rows: Vec<_> = (2..=4)
        .map(|i| row(i, "1", &format!("55501000{i:02}")))
        .collect();
    let (_, _) = run_rows(fake.clone(), &rows).await;
    fake.script("15550100001", vec![Scripted::DropAfterCreate]);
    rows = vec![row(1, "1", "5550100001")];
    let (rec, _) = run_rows(fake.clone(), &rows).await;
    match rec.outcome(1) {
        RowOutcome::Created { note, .. } => {
            assert!(note.as_deref().unwrap().contains("reconciled"))
        }
        other => panic!("{other:?}"),
    }
    let st = fake.state.lock().unwrap();
    assert_eq!(
        st.creates.iter().filter(|c| c.2 == "15550100001").count(),
        1,
        "sent once"
    );
    assert_eq!(st.ledger.len(), 4);
    assert!(st.lists >= 2, "paged through the list");
}

#[tokio::test(start_paused = true)]
async fn in_doubt_but_absent_is_sent_again() {
    let fake = Arc::new(Fake::new());
    let lost = Failure::Network {
        message: "timeout".into(),
        in_doubt: true,
    };
    fake.script("15550100001", vec![Scripted::Fail(lost, Hints::default())]);
    let (rec, _) = run_rows(fake.clone(), &[row(1, "1", "5550100001")]).await;
    assert!(matches!(
        rec.outcome(1),
        RowOutcome::Created { note: None, .. }
    ));
    assert_eq!(rec.attempts(1), 2);
    assert_eq!(fake.state.lock().unwrap().lists, 1);
}

#[tokio::test(start_paused = true)]
async fn already_exists_on_this_waba_is_created() {
    let fake = Arc::new(Fake::new());
    fake.preload("1", "15550100001", "999");
    let (rec, _) = run_rows(fake, &[row(1, "1", "5550100001")]).await;
    match rec.outcome(1) {
        RowOutcome::Created { id, note } => {
            assert_eq!(id, "999");
            assert!(note.as_deref().unwrap().contains("already exists"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn already_exists_elsewhere_fails() {
    let fake = Arc::new(Fake::new());
    fake.preload("7", "15550100001", "999");
    let (rec, _) = run_rows(fake, &[row(1, "1", "5550100001")]).await;
    assert!(matches!(rec.outcome(1), RowOutcome::Failed { .. }));
}

#[tokio::test(start_paused = true)]
async fn same_permission_error_stops_the_waba() {
    let fake = Arc::new(Fake::new());
    let denied = Scripted::Fail(
        Fake::graph(200, None, "Permissions error"),
        Hints::default(),
    );
    let mut rows = vec![];
    for i in 1..=10 {
        fake.script(&format!("155501000{i:02}"), vec![denied.clone()]);
        rows.push(row(i, "1", &format!("55501000{i:02}")));
    }
    rows.push(row(11, "2", "5550100011"));
    let (rec, report) = run_with(
        fake.clone(),
        jobs(&rows),
        vec!["tok"],
        Limits {
            concurrency: 1,
            ..limits()
        },
    )
    .await;
    assert_eq!(report.failed, 10);
    assert_eq!(report.created, 1);
    let sent_to_1 = fake
        .state
        .lock()
        .unwrap()
        .creates
        .iter()
        .filter(|c| c.1 == "1")
        .count();
    assert_eq!(sent_to_1, 3);
    assert!(
        matches!(rec.outcome(10), RowOutcome::Failed { note: Some(n), .. } if n.contains("stopped"))
    );
}

#[tokio::test(start_paused = true)]
async fn interrupt_skips_what_is_queued() {
    let fake = Arc::new(Fake::new());
    let rows: Vec<_> = (1..=10)
        .map(|i| row(i, "1", &format!("55501000{i:02}")))
        .collect();
    let mut rec = Rec::default();
    let mut progress = NoProgress;
    // One call per second: interrupt after ~3.
    let l = Limits {
        rate: Some(Rate {
            count: 1,
            per: Duration::from_secs(1),
        }),
        ..limits()
    };
    let (tx, rx) = watch::channel(false);
    let runner = Runner::new(
        fake.clone(),
        vec!["tok".to_string()],
        vec!["T".into()],
        l,
        &mut rec,
        &mut progress,
    );
    let stop = async {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        tx.send(true).unwrap();
    };
    let (report, ()) = tokio::join!(runner.run(jobs(&rows), rx), stop);
    assert!(report.interrupted);
    assert_eq!(report.created + report.skipped, 10);
    assert_eq!(report.created, 3);
    for i in 1..=10 {
        rec.outcome(i);
    }
}

#[tokio::test(start_paused = true)]
async fn a_row_in_flight_when_its_token_dies_is_not_sent_again() {
    let fake = Arc::new(Fake::new());
    fake.script(
        "15550100001",
        vec![Scripted::Fail(
            Fake::graph(190, Some(460), "password changed"),
            Hints::default(),
        )],
    );
    let transient = Scripted::Fail(
        Fake::graph(2, None, "Service temporarily unavailable"),
        Hints::default(),
    );
    fake.script("15550100002", vec![transient]);
    let rows = vec![row(1, "1", "5550100001"), row(2, "2", "5550100002")];
    let (rec, report) = run_with(
        fake.clone(),
        jobs(&rows),
        vec!["tok"],
        Limits {
            concurrency: 2,
            ..limits()
        },
    )
    .await;
    assert_eq!(report.failed, 2);
    assert!(
        matches!(rec.outcome(2), RowOutcome::Failed { note: Some(n), .. } if n.contains("refused"))
    );
    let st = fake.state.lock().unwrap();
    assert_eq!(
        st.creates.iter().filter(|c| c.2 == "15550100002").count(),
        1
    );
    assert!(report.aborted.is_some(), "the only token was refused");
}
