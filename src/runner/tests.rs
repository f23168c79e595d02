//! The run loop's rules against a scripted fake API, on tokio's paused clock.

use super::*;
use crate::graph::{Failure, GraphError, Hints, ListPage, ListedNumber, NumberState};
use crate::limits::Rate;
use crate::schema::{Status, Step};
use crate::send::{Call, Code, PinId, Progress, Through, TokenId};
use crate::validate::ValidRow;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
enum Scripted {
    Fail(Failure, Hints),
    /// Do the step, then lose the answer.
    DropAfterDone,
}

/// One number the fake holds.
#[derive(Debug, Clone, Default)]
struct Number {
    waba: String,
    digits: String,
    id: String,
    code: Option<String>,
    verified: bool,
    registered: bool,
}

#[derive(Default)]
struct FakeState {
    /// (digits, step) → what the next calls of that step do.
    script: HashMap<(String, Step), VecDeque<Scripted>>,
    ledger: Vec<Number>,
    creates: Vec<(Duration, String, String)>, // (time, waba, digits)
    /// (id, step) of every step call, in order.
    steps: Vec<(String, Step)>,
    lists: usize,
    reads: usize,
    bad_tokens: HashSet<String>,
    next_id: u64,
}

struct Fake {
    state: Mutex<FakeState>,
    start: Instant,
    latency: Duration,
}

fn reply<T>(result: Result<T, Failure>, hints: Hints) -> Reply<T> {
    Reply {
        result,
        hints,
        exchange: None,
    }
}

impl Fake {
    fn new() -> Self {
        Fake {
            state: Mutex::new(FakeState::default()),
            start: Instant::now(),
            latency: Duration::from_millis(10),
        }
    }
    /// What the next creates of this number do.
    fn script(&self, digits: &str, steps: Vec<Scripted>) {
        self.script_step(digits, Step::Create, steps);
    }
    fn script_step(&self, digits: &str, step: Step, steps: Vec<Scripted>) {
        self.state
            .lock()
            .unwrap()
            .script
            .insert((digits.to_string(), step), steps.into());
    }
    /// A number already on a WABA before the run.
    fn preload(&self, waba: &str, digits: &str, id: &str) {
        self.state.lock().unwrap().ledger.push(Number {
            waba: waba.into(),
            digits: digits.into(),
            id: id.into(),
            ..Number::default()
        });
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
    fn code_of(&self, id: &str) -> Option<String> {
        let st = self.state.lock().unwrap();
        st.ledger.iter().find(|n| n.id == id)?.code.clone()
    }
    fn calls(&self, step: Step) -> usize {
        let st = self.state.lock().unwrap();
        st.steps.iter().filter(|(_, s)| *s == step).count()
    }

    /// A step call on number `id`: the token, the script, then `act`.
    #[allow(clippy::result_large_err)]
    async fn step(
        &self,
        creds: &str,
        id: &str,
        step: Step,
        act: impl FnOnce(&mut Number) -> Result<(), Box<Failure>>,
    ) -> Reply<()> {
        tokio::time::sleep(self.latency).await;
        let mut st = self.state.lock().unwrap();
        st.steps.push((id.to_string(), step));
        if st.bad_tokens.contains(creds) {
            return reply(Err(Fake::graph(190, None, "bad token")), Hints::default());
        }
        let Some(i) = st.ledger.iter().position(|n| n.id == id) else {
            return reply(
                Err(Fake::graph(100, Some(33), "no such number")),
                Hints::default(),
            );
        };
        let digits = st.ledger[i].digits.clone();
        let scripted = st
            .script
            .get_mut(&(digits, step))
            .and_then(|q| q.pop_front());
        match scripted {
            Some(Scripted::Fail(f, hints)) => reply(Err(f), hints),
            other => {
                let done = act(&mut st.ledger[i]).map_err(|e| *e);
                match (done, other) {
                    (Ok(()), Some(Scripted::DropAfterDone)) => reply(
                        Err(Failure::Network {
                            message: "connection closed".into(),
                            in_doubt: true,
                        }),
                        Hints::default(),
                    ),
                    (done, _) => reply(done, Hints::default()),
                }
            }
        }
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
            return reply(
                Err(Fake::graph(190, Some(463), "Error validating access token")),
                Hints::default(),
            );
        }
        let scripted = st
            .script
            .get_mut(&(digits.clone(), Step::Create))
            .and_then(|q| q.pop_front());
        match scripted {
            Some(Scripted::Fail(f, hints)) => reply(Err(f), hints),
            other => {
                if st.ledger.iter().any(|n| n.digits == digits) {
                    return reply(
                        Err(Fake::graph(
                            100,
                            Some(2388012),
                            "This phone number already exists",
                        )),
                        Hints::default(),
                    );
                }
                st.next_id += 1;
                let id = format!("10000000000{}", st.next_id);
                st.ledger.push(Number {
                    waba,
                    digits,
                    id: id.clone(),
                    verified: row.preverified_id.is_some(),
                    ..Number::default()
                });
                let result = if matches!(other, Some(Scripted::DropAfterDone)) {
                    Err(Failure::Network {
                        message: "connection closed".into(),
                        in_doubt: true,
                    })
                } else {
                    Ok(id)
                };
                reply(result, Hints::default())
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
            .filter(|n| n.waba == waba.as_str())
            .collect();
        let from: usize = after.and_then(|a| a.parse().ok()).unwrap_or(0);
        // Pages of 2, to exercise the cursor.
        let numbers = all
            .iter()
            .skip(from)
            .take(2)
            .map(|n| ListedNumber {
                id: n.id.clone(),
                display_phone_number: format!("+{} {}", &n.digits[..1], &n.digits[1..]),
            })
            .collect();
        let after = (from + 2 < all.len()).then(|| (from + 2).to_string());
        reply(Ok(ListPage { numbers, after }), Hints::default())
    }

    async fn request_code(&self, creds: &String, id: &str, _row: &ValidRow) -> Reply<()> {
        self.step(creds, id, Step::RequestCode, |n| {
            if n.verified {
                return Err(Box::new(Fake::graph(136024, None, "already verified")));
            }
            n.code = Some(format!("{:06}", n.id.len() * 111_111 % 1_000_000));
            Ok(())
        })
        .await
    }

    async fn verify_code(&self, creds: &String, id: &str, code: &str) -> Reply<()> {
        let code = code.to_string();
        self.step(creds, id, Step::VerifyCode, move |n| {
            if n.code.as_deref() == Some(code.as_str()) {
                n.verified = true;
                Ok(())
            } else {
                Err(Box::new(Fake::graph(136025, None, "wrong code")))
            }
        })
        .await
    }

    async fn register(&self, creds: &String, id: &str, pin: &Pin, _row: &ValidRow) -> Reply<()> {
        let good_pin = pin.expose() == "123456";
        self.step(creds, id, Step::Register, move |n| {
            if !n.verified {
                return Err(Box::new(Fake::graph(133006, None, "not verified")));
            }
            if !good_pin {
                return Err(Box::new(Fake::graph(133005, None, "PIN mismatch")));
            }
            n.registered = true;
            Ok(())
        })
        .await
    }

    async fn read_number(&self, _creds: &String, id: &str) -> Reply<NumberState> {
        tokio::time::sleep(self.latency).await;
        let mut st = self.state.lock().unwrap();
        st.reads += 1;
        let Some(n) = st.ledger.iter().find(|n| n.id == id) else {
            return reply(
                Err(Fake::graph(100, Some(33), "no such number")),
                Hints::default(),
            );
        };
        let state = NumberState {
            id: Some(n.id.clone()),
            status: Some(if n.registered { "CONNECTED" } else { "PENDING" }.into()),
            code_verification_status: Some(
                if n.verified {
                    "VERIFIED"
                } else {
                    "NOT_VERIFIED"
                }
                .into(),
            ),
            ..NumberState::default()
        };
        reply(Ok(state), Hints::default())
    }
}

/// Codes as the fake sent them (the holder's phone).
struct FakeCodes(Arc<Fake>);
impl CodeSource for FakeCodes {
    fn known(&self, _: &ValidRow, id: &str) -> Option<Code> {
        self.0.code_of(id).as_deref().and_then(Code::parse)
    }
}

/// Every line recorded, in order: a row's progress lines, then its end.
#[derive(Default)]
struct Rec {
    sent: Vec<(u32, u32)>,
    lines: Vec<(u32, u32, RowResult)>,
}

impl Recorder for Rec {
    fn about_to_send(&mut self, sends: &[Sent]) -> std::io::Result<()> {
        self.sent.extend(sends.iter().map(|s| (s.row, s.attempt)));
        Ok(())
    }
    fn record(&mut self, row: &ValidRow, attempts: u32, result: &RowResult) -> std::io::Result<()> {
        self.lines.push((row.id.row, attempts, result.clone()));
        Ok(())
    }
}

impl Rec {
    /// The row's last line (its end).
    fn outcome(&self, row: u32) -> &RowResult {
        &self
            .lines
            .iter()
            .rev()
            .find(|(r, _, _)| *r == row)
            .unwrap_or_else(|| panic!("row {row} never recorded"))
            .2
    }
    fn count(&self, row: u32) -> usize {
        self.lines.iter().filter(|(r, _, _)| *r == row).count()
    }
    fn attempts(&self, row: u32) -> u32 {
        self.lines
            .iter()
            .rev()
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
    run_full(fake, jobs, tokens, limits, Rules::new(3), Arc::new(NoCodes)).await
}

fn runner(
    fake: Arc<Fake>,
    tokens: Vec<&str>,
    limits: Limits,
    rules: Rules,
    codes: Arc<dyn CodeSource>,
) -> Runner<Fake> {
    Runner {
        api: fake,
        creds: tokens.iter().map(|t| t.to_string()).collect(),
        token_names: tokens.iter().map(|t| format!("{t}_ENV")).collect(),
        pins: vec![Pin::new("123456"), Pin::new("999999")],
        codes,
        rules,
        limits,
        audit: None,
        progress_every: Duration::from_millis(250),
        seed: 1,
    }
}

async fn run_full(
    fake: Arc<Fake>,
    jobs: Vec<Job>,
    tokens: Vec<&str>,
    limits: Limits,
    rules: Rules,
    codes: Arc<dyn CodeSource>,
) -> (Rec, RunReport) {
    let mut rec = Rec::default();
    let mut progress = NoProgress;
    let (_tx, rx) = watch::channel(false);
    let report = runner(fake, tokens, limits, rules, codes)
        .run(jobs, &mut rec, &mut progress, rx)
        .await;
    (rec, report)
}

/// The common case: one token, default limits.
async fn run_rows(fake: Arc<Fake>, rows: &[Arc<ValidRow>]) -> (Rec, RunReport) {
    run_with(fake, jobs(rows), vec!["tok"], limits()).await
}

fn jobs(rows: &[Arc<ValidRow>]) -> Vec<Job> {
    rows.iter()
        .map(|r| Job::create(r.clone(), TokenId(0)))
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
        assert!(rec.outcome(i).status == Status::Created);
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
    assert!(rec.outcome(1).status == Status::Created);
    assert_eq!(rec.attempts(1), 3);
    assert_eq!(report.retried_rows, 1);
}

#[tokio::test(start_paused = true)]
async fn attempts_run_out() {
    let fake = Arc::new(Fake::new());
    let t = Scripted::Fail(Fake::graph(1, None, "unknown"), Hints::default());
    fake.script("15550100001", vec![t.clone(), t.clone(), t.clone(), t]);
    let (rec, _) = run_rows(fake.clone(), &[row(1, "1", "5550100001")]).await;
    assert!(rec.outcome(1).status == Status::Failed);
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
    match &rec.outcome(1).failure {
        Some(Failure::Graph(g)) => assert_eq!(g.code, Some(100)),
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
        js.push(Job::create(
            row(i, "1", &format!("55501000{i:02}")),
            TokenId(0),
        ));
    }
    for i in 6..=8 {
        js.push(Job::create(
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
        assert!(rec.outcome(i).status == Status::Failed);
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
    fake.script("15550100001", vec![Scripted::DropAfterDone]);
    rows = vec![row(1, "1", "5550100001")];
    let (rec, _) = run_rows(fake.clone(), &rows).await;
    let r = rec.outcome(1);
    assert_eq!(r.status, Status::Created);
    assert!(r.reconciled);
    assert!(r.note.as_deref().unwrap().contains("reconciled"));
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
    let r = rec.outcome(1);
    assert!(r.status == Status::Created && r.note.is_none() && !r.reconciled);
    assert_eq!(rec.attempts(1), 2);
    assert_eq!(fake.state.lock().unwrap().lists, 1);
}

#[tokio::test(start_paused = true)]
async fn already_exists_on_this_waba_is_created() {
    let fake = Arc::new(Fake::new());
    fake.preload("1", "15550100001", "999");
    let (rec, _) = run_rows(fake, &[row(1, "1", "5550100001")]).await;
    let r = rec.outcome(1);
    assert_eq!(r.phone_number_id.as_deref(), Some("999"));
    assert!(r.note.as_deref().unwrap().contains("already exists"));
}

#[tokio::test(start_paused = true)]
async fn already_exists_elsewhere_fails() {
    let fake = Arc::new(Fake::new());
    fake.preload("7", "15550100001", "999");
    let (rec, _) = run_rows(fake, &[row(1, "1", "5550100001")]).await;
    assert!(rec.outcome(1).status == Status::Failed);
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
        matches!(rec.outcome(10), RowResult { status: Status::Failed, note: Some(n), sent: false, .. } if n.contains("stopped"))
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
    let runner = runner(
        fake.clone(),
        vec!["tok"],
        l,
        Rules::new(3),
        Arc::new(NoCodes),
    );
    let stop = async {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        tx.send(true).unwrap();
    };
    let (report, ()) = tokio::join!(runner.run(jobs(&rows), &mut rec, &mut progress, rx), stop);
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
        matches!(rec.outcome(2), RowResult { status: Status::Failed, note: Some(n), .. } if n.contains("refused"))
    );
    let st = fake.state.lock().unwrap();
    assert_eq!(
        st.creates.iter().filter(|c| c.2 == "15550100002").count(),
        1
    );
    assert!(report.aborted.is_some(), "the only token was refused");
}

// ---- Onboarding (SPEC 7) ----

fn through(t: Through) -> Rules {
    Rules {
        through: t,
        ..Rules::new(3)
    }
}

/// Rows to take all the way, each with PIN 0 (the fake's right PIN).
fn onboarding_jobs(rows: &[Arc<ValidRow>]) -> Vec<Job> {
    rows.iter()
        .map(|r| {
            let mut j = Job::create(r.clone(), TokenId(0));
            j.pin = Some(PinId(0));
            j
        })
        .collect()
}

async fn onboard(fake: &Arc<Fake>, rows: &[Arc<ValidRow>], codes: bool) -> (Rec, RunReport) {
    let source: Arc<dyn CodeSource> = if codes {
        Arc::new(FakeCodes(fake.clone()))
    } else {
        Arc::new(NoCodes)
    };
    run_full(
        fake.clone(),
        onboarding_jobs(rows),
        vec!["tok"],
        limits(),
        through(Through::Register),
        source,
    )
    .await
}

#[tokio::test(start_paused = true)]
async fn through_register_takes_every_row_to_registered_recording_each_step() {
    let fake = Arc::new(Fake::new());
    let rows: Vec<_> = (1..=6)
        .map(|i| row(i, &format!("{}", i % 2), &format!("55501000{i:02}")))
        .collect();
    let (rec, report) = onboard(&fake, &rows, true).await;
    for i in 1..=6 {
        let end = rec.outcome(i);
        assert_eq!((end.status, end.step), (Status::Registered, Step::Register));
        assert!(end.phone_number_id.is_some());
        assert_eq!(end.register_calls.len(), 1);
        // created, code_requested, verified, registered: a line per step.
        let statuses: Vec<Status> = rec
            .lines
            .iter()
            .filter(|(r, _, _)| *r == i)
            .map(|(_, _, l)| l.status)
            .collect();
        assert_eq!(
            statuses,
            [
                Status::Created,
                Status::CodeRequested,
                Status::Verified,
                Status::Registered
            ]
        );
    }
    assert_eq!(report.created, 6, "ends counted once per row");
    for step in [Step::RequestCode, Step::VerifyCode, Step::Register] {
        assert_eq!(fake.calls(step), 6, "{step}");
    }
}

#[tokio::test(start_paused = true)]
async fn without_a_code_a_row_waits_at_code_requested() {
    let fake = Arc::new(Fake::new());
    let (rec, _) = onboard(&fake, &[row(1, "1", "5550100001")], false).await;
    let end = rec.outcome(1);
    assert_eq!(end.status, Status::CodeRequested);
    assert!(end.note.as_deref().unwrap().contains("--codes"));
    assert_eq!(fake.calls(Step::VerifyCode), 0);
    assert_eq!(fake.calls(Step::Register), 0);
}

#[tokio::test(start_paused = true)]
async fn a_rejected_code_fails_at_verify_code() {
    let fake = Arc::new(Fake::new());
    fake.script_step(
        "15550100001",
        Step::VerifyCode,
        vec![Scripted::Fail(
            Fake::graph(136025, None, "wrong"),
            Hints::default(),
        )],
    );
    let (rec, _) = onboard(&fake, &[row(1, "1", "5550100001")], true).await;
    let end = rec.outcome(1);
    assert_eq!((end.status, end.step), (Status::Failed, Step::VerifyCode));
    assert!(end.phone_number_id.is_some(), "a failed row keeps its id");
    assert!(end.note.as_deref().unwrap().contains("request-code"));
    assert_eq!(
        fake.calls(Step::VerifyCode),
        1,
        "a rejected code is not retried"
    );
}

#[tokio::test(start_paused = true)]
async fn lost_answers_to_verify_and_register_are_read_back_not_resent() {
    let fake = Arc::new(Fake::new());
    fake.script_step(
        "15550100001",
        Step::VerifyCode,
        vec![Scripted::DropAfterDone],
    );
    fake.script_step("15550100001", Step::Register, vec![Scripted::DropAfterDone]);
    let (rec, _) = onboard(&fake, &[row(1, "1", "5550100001")], true).await;
    let end = rec.outcome(1);
    assert_eq!(end.status, Status::Registered);
    assert!(end.reconciled);
    assert_eq!(fake.calls(Step::VerifyCode), 1);
    assert_eq!(fake.calls(Step::Register), 1, "registered once");
    assert_eq!(fake.state.lock().unwrap().reads, 2);
}

#[tokio::test(start_paused = true)]
async fn a_lost_register_answer_that_did_not_register_is_sent_again() {
    let fake = Arc::new(Fake::new());
    let lost = Failure::Network {
        message: "timed out".into(),
        in_doubt: true,
    };
    fake.script_step(
        "15550100001",
        Step::Register,
        vec![Scripted::Fail(lost, Hints::default())],
    );
    let (rec, _) = onboard(&fake, &[row(1, "1", "5550100001")], true).await;
    let end = rec.outcome(1);
    assert_eq!(end.status, Status::Registered);
    assert_eq!(fake.calls(Step::Register), 2);
    assert_eq!(
        end.register_calls.len(),
        2,
        "both calls count in the history"
    );
}

#[tokio::test(start_paused = true)]
async fn already_verified_is_settled_by_reading_the_number() {
    let fake = Arc::new(Fake::new());
    let mut r = ValidRow::fixture(1, "5550100001").phone("1", "5550100001");
    r.preverified_id = None;
    fake.preload("1", "15550100001", "777");
    fake.state.lock().unwrap().ledger[0].verified = true;
    let mut job = Job::new(
        Arc::new(r),
        TokenId(0),
        Call::RequestCode,
        Progress {
            phone_number_id: Some("777".into()),
            status: Some(Status::Created),
            register_calls: vec![],
        },
    );
    job.pin = Some(PinId(0));
    let (rec, _) = run_full(
        fake.clone(),
        vec![job],
        vec!["tok"],
        limits(),
        through(Through::Register),
        Arc::new(NoCodes),
    )
    .await;
    let end = rec.outcome(1);
    assert_eq!(end.status, Status::Registered);
    assert_eq!(fake.calls(Step::VerifyCode), 0, "no code needed");
}

#[tokio::test(start_paused = true)]
async fn a_pin_mismatch_fails_with_advice_and_is_not_retried() {
    let fake = Arc::new(Fake::new());
    let mut jobs = onboarding_jobs(&[row(1, "1", "5550100001")]);
    jobs[0].pin = Some(PinId(1)); // the wrong one
    let (rec, _) = run_full(
        fake.clone(),
        jobs,
        vec!["tok"],
        limits(),
        through(Through::Register),
        Arc::new(FakeCodes(fake.clone())),
    )
    .await;
    let end = rec.outcome(1);
    assert_eq!((end.status, end.step), (Status::Failed, Step::Register));
    assert!(end.note.as_deref().unwrap().contains("two-step"));
    assert_eq!(fake.calls(Step::Register), 1);
}

#[tokio::test(start_paused = true)]
async fn the_register_guard_refuses_before_sending() {
    let fake = Arc::new(Fake::new());
    fake.preload("1", "15550100001", "777");
    fake.state.lock().unwrap().ledger[0].verified = true;
    let recent = chrono::Utc::now() - chrono::Duration::hours(1);
    let mut job = Job::new(
        row(1, "1", "5550100001"),
        TokenId(0),
        Call::Register,
        Progress {
            phone_number_id: Some("777".into()),
            status: Some(Status::Verified),
            register_calls: vec![recent; 7],
        },
    );
    job.pin = Some(PinId(0));
    // Seven recent calls: the eighth goes out (the limit is 8) and meets a
    // transient error; the guard refuses a ninth instead of retrying.
    fake.script_step(
        "15550100001",
        Step::Register,
        vec![Scripted::Fail(
            Fake::graph(2, None, "temporary"),
            Hints::default(),
        )],
    );
    let (rec, _) = run_full(
        fake.clone(),
        vec![job],
        vec!["tok"],
        limits(),
        through(Through::Register),
        Arc::new(NoCodes),
    )
    .await;
    let end = rec.outcome(1);
    assert_eq!((end.status, end.step), (Status::Failed, Step::Register));
    assert!(end.note.as_deref().unwrap().contains("register not sent"));
    assert_eq!(fake.calls(Step::Register), 1);
}

#[tokio::test(start_paused = true)]
async fn a_row_whose_first_call_is_register_meets_the_guard_before_sending() {
    // A results line (retry) already shows 8 register calls in 72 hours: the
    // register this run would start with is not sent.
    let fake = Arc::new(Fake::new());
    fake.preload("1", "15550100001", "777");
    fake.state.lock().unwrap().ledger[0].verified = true;
    let recent = chrono::Utc::now() - chrono::Duration::hours(1);
    let mut job = Job::new(
        row(1, "1", "5550100001"),
        TokenId(0),
        Call::Register,
        Progress {
            phone_number_id: Some("777".into()),
            status: Some(Status::Verified),
            register_calls: vec![recent; 8],
        },
    );
    job.pin = Some(PinId(0));
    let (rec, _) = run_full(
        fake.clone(),
        vec![job],
        vec!["tok"],
        limits(),
        through(Through::Register),
        Arc::new(NoCodes),
    )
    .await;
    let end = rec.outcome(1);
    assert_eq!((end.status, end.step), (Status::Failed, Step::Register));
    assert!(end.note.as_deref().unwrap().contains("register not sent"));
    assert_eq!(end.phone_number_id.as_deref(), Some("777"));
    assert_eq!(end.register_calls.len(), 8, "the history is kept");
    assert_eq!(fake.calls(Step::Register), 0);
}

#[tokio::test(start_paused = true)]
async fn a_pre_verified_number_goes_from_create_to_register() {
    let fake = Arc::new(Fake::new());
    let mut r = ValidRow::fixture(1, "5550100001").phone("1", "5550100001");
    r.preverified_id = Some("42".into());
    let (rec, _) = onboard(&fake, &[Arc::new(r)], false).await;
    assert_eq!(rec.outcome(1).status, Status::Registered);
    assert_eq!(fake.calls(Step::RequestCode), 0);
    assert_eq!(rec.count(1), 2, "verified by its create, then registered");
}

#[tokio::test(start_paused = true)]
async fn not_verified_at_register_goes_back_to_request_code_once() {
    let fake = Arc::new(Fake::new());
    let mut r = ValidRow::fixture(1, "5550100001").phone("1", "5550100001");
    r.preverified_id = Some("42".into());
    // The pre-verified id has expired: the fake creates it unverified.
    fake.script_step(
        "15550100001",
        Step::Register,
        vec![Scripted::Fail(
            Fake::graph(133006, None, "not verified"),
            Hints::default(),
        )],
    );
    let (rec, _) = onboard(&fake, &[Arc::new(r)], true).await;
    assert_eq!(rec.outcome(1).status, Status::Registered);
    assert_eq!(fake.calls(Step::RequestCode), 1);
    assert_eq!(fake.calls(Step::Register), 2);
}

/// A recorder on a disk that fills up after `room` lines.
struct FullDisk {
    inner: Rec,
    room: usize,
}

impl Recorder for FullDisk {
    fn about_to_send(&mut self, sends: &[Sent]) -> std::io::Result<()> {
        self.inner.about_to_send(sends)
    }
    fn record(&mut self, row: &ValidRow, attempts: u32, result: &RowResult) -> std::io::Result<()> {
        if self.inner.lines.len() >= self.room {
            return Err(std::io::Error::other("No space left on device"));
        }
        self.inner.record(row, attempts, result)
    }
}

#[tokio::test(start_paused = true)]
async fn a_results_file_that_cannot_be_written_stops_the_sending() {
    let fake = Arc::new(Fake::new());
    let rows: Vec<_> = (1..=40)
        .map(|i| row(i, "1", &format!("55501000{i:02}")))
        .collect();
    let mut rec = FullDisk {
        inner: Rec::default(),
        room: 5,
    };
    let mut progress = NoProgress;
    let (_tx, rx) = watch::channel(false);
    let l = Limits {
        concurrency: 1,
        ..limits()
    };
    let report = runner(
        fake.clone(),
        vec!["tok"],
        l,
        Rules::new(3),
        Arc::new(NoCodes),
    )
    .run(jobs(&rows), &mut rec, &mut progress, rx)
    .await;
    assert_eq!(
        report.created + report.failed + report.skipped,
        40,
        "every row ends"
    );
    assert_eq!(report.write_failures, 35);
    assert!(
        report
            .first_write_error
            .as_deref()
            .unwrap()
            .contains("No space")
    );
    assert_eq!(
        report.aborted.as_deref(),
        Some("not attempted: the results file cannot be written")
    );
    // One call was in flight when the first write failed; nothing after it.
    assert_eq!(fake.state.lock().unwrap().creates.len(), 6);
}

/// Each shape of "already exists" Meta may answer a create with.
fn already_shapes() -> Vec<Failure> {
    let g = |code, subcode, msg: &str, user: Option<&str>, http| {
        Failure::Graph(GraphError {
            http_status: Some(http),
            code: Some(code),
            subcode,
            message: msg.into(),
            user_msg: user.map(String::from),
            ..Default::default()
        })
    };
    vec![
        g(100, Some(2388012), "already exists in your list", None, 400),
        g(100, Some(2388093), "not being migrated", None, 400),
        g(
            200000,
            None,
            "Cannot add phone number to WhatsApp Business Account",
            Some("This number is already registered."),
            400,
        ),
        g(100, None, "Conflict", None, 409),
    ]
}

#[tokio::test(start_paused = true)]
async fn every_already_exists_shape_is_looked_up_found_or_not() {
    for (i, shape) in already_shapes().into_iter().enumerate() {
        let fake = Arc::new(Fake::new());
        let national = format!("55501000{i:02}");
        let digits = format!("1{national}");
        // Found: the number is on the WABA's list.
        fake.preload("1", &digits, "4242");
        fake.script(
            &digits,
            vec![Scripted::Fail(shape.clone(), Hints::default())],
        );
        let (rec, report) = run_rows(fake.clone(), &[row(1, "1", &national)]).await;
        let end = rec.outcome(1);
        assert_eq!(end.status, Status::Created, "shape {i}");
        assert_eq!(end.phone_number_id.as_deref(), Some("4242"), "shape {i}");
        assert!(end.existed && end.reconciled, "shape {i}");
        assert_eq!(report.existed, 1);
        // Not found: failed with Meta's answer, after one listing.
        let fake = Arc::new(Fake::new());
        fake.script(&digits, vec![Scripted::Fail(shape, Hints::default())]);
        let (rec, _) = run_rows(fake.clone(), &[row(1, "1", &national)]).await;
        let end = rec.outcome(1);
        assert_eq!(end.status, Status::Failed, "shape {i}");
        assert!(
            end.note.as_deref().unwrap().contains("not on this WABA"),
            "shape {i}"
        );
        assert_eq!(fake.state.lock().unwrap().lists, 1, "shape {i}");
    }
}
