//! The run loop (SPEC sections 4 and 6): it schedules, performs and records,
//! and decides nothing. It asks the scheduler what may go, journals and sends
//! it, hands each answer to the [`Policy`] (the one place that decides what an
//! answer means), applies the verdict's effects to the schedule, and records
//! each row exactly once as it ends.
//!
//! Files and terminals stay outside: rows are reported to a [`Recorder`] (the
//! results file and journal in production, a vector in tests) and progress to a
//! [`ProgressSink`].

mod audit;
pub mod codes;
mod recorder;
mod report;
pub mod resume;
#[cfg(test)]
mod tests;
pub mod tokens;

pub use report::{ErrorCount, RunReport};

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::audit::AuditLog;
use crate::graph::Reply;
use crate::limits::Limits;
use crate::results::{RowResult, Sent};
use crate::schedule::{Dispatch, Scheduler, Wait};
use crate::secret::Pin;
use crate::send::{Api, CallOk, Code, Effects, Fate, Job, Policy, Rules, Verdict, perform};
use crate::validate::{ValidRow, WabaId};

/// Where rows go as they progress and end, and where a call is announced
/// before it goes out (the in-flight journal that lets `--resume` know what
/// may have reached Meta).
pub trait Recorder {
    /// State-changing calls about to go out, recorded together and durable
    /// against a killed process before this returns.
    fn about_to_send(&mut self, sends: &[Sent]) -> std::io::Result<()>;
    /// A results line: a step done (the row goes on) or the row's end.
    fn record(&mut self, row: &ValidRow, attempts: u32, result: &RowResult) -> std::io::Result<()>;
}

/// Where verification codes come from (SPEC 7): a `--codes` file, the person
/// at the terminal (`--ask-codes`), the sandbox, or nowhere.
pub trait CodeSource: Send + Sync + 'static {
    /// A code known now, without asking anyone.
    fn known(&self, row: &ValidRow, phone_number_id: &str) -> Option<Code>;
    /// Whether [`CodeSource::ask`] asks a person.
    fn can_ask(&self) -> bool {
        false
    }
    /// Ask for the code (a prompt); `None` leaves the row waiting.
    fn ask(
        &self,
        _row: Arc<ValidRow>,
        _phone_number_id: String,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<Code>> + Send>> {
        Box::pin(std::future::ready(None))
    }
}

/// No codes at all: rows that need one stay at `code_requested`.
pub struct NoCodes;
impl CodeSource for NoCodes {
    fn known(&self, _: &ValidRow, _: &str) -> Option<Code> {
        None
    }
}

/// A moment of the run, for the progress display.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub total: usize,
    pub created: usize,
    pub failed: usize,
    pub skipped: usize,
    pub in_flight: usize,
    pub requests: u64,
    pub elapsed: Duration,
    /// WABAs paused now, and for how much longer.
    pub paused: Vec<(WabaId, Duration)>,
    /// How much longer the whole app is paused, if it is.
    pub app_paused: Option<Duration>,
    /// Nothing in flight and nothing may go now: what the queue waits for,
    /// and for how long.
    pub waiting: Option<(Wait, Duration)>,
    /// The least time the per-WABA budgets (and pauses) need for what is queued.
    pub budget_eta: Duration,
    /// `--rate-per-waba`, to say what a budget wait is.
    pub per_waba: Option<crate::limits::Rate>,
}

impl Snapshot {
    pub fn done(&self) -> usize {
        self.created + self.failed + self.skipped
    }
}

pub trait ProgressSink {
    fn update(&mut self, snap: &Snapshot);
    fn finish(&mut self, snap: &Snapshot);
    /// Something the operator must hear now (shown even under `--quiet`).
    fn notice(&mut self, text: &str) {
        eprintln!("waba-provision: {text}");
    }
}

/// Progress nobody watches (tests).
pub struct NoProgress;
impl ProgressSink for NoProgress {
    fn update(&mut self, _: &Snapshot) {}
    fn finish(&mut self, _: &Snapshot) {}
}

/// What a run sends with: the API, the tokens and PINs (by index, as the jobs
/// refer to them), where codes come from, the rules and the limits.
pub struct Runner<A: Api> {
    pub api: Arc<A>,
    /// `creds[TokenId]`.
    pub creds: Vec<A::Creds>,
    /// `token_names[TokenId]`: the variables, for messages.
    pub token_names: Vec<String>,
    /// `pins[PinId]`.
    pub pins: Vec<Pin>,
    pub codes: Arc<dyn CodeSource>,
    pub rules: Rules,
    pub limits: Limits,
    /// `--audit-log`: one line per HTTP exchange.
    pub audit: Option<AuditLog>,
    /// How often the progress sink is fed.
    pub progress_every: Duration,
    /// Seed for the backoff jitter (fixed in tests).
    pub seed: u64,
}

impl<A: Api> Runner<A> {
    /// Run every job to its end in this run, recording each row's progress
    /// and end. `interrupt` turning true stops dispatching: requests in flight
    /// finish, queued rows are skipped.
    pub async fn run<R: Recorder>(
        self,
        jobs: impl IntoIterator<Item = Job>,
        recorder: &mut R,
        progress: &mut dyn ProgressSink,
        interrupt: watch::Receiver<bool>,
    ) -> RunReport {
        let jobs: Vec<Job> = jobs.into_iter().collect();
        let tokens_used = jobs.iter().map(|j| j.token).collect();
        let total = jobs.len();
        self.run_jobs(jobs, total, tokens_used, recorder, progress, interrupt)
            .await
    }

    /// [`Runner::run`] for jobs made as they are queued (`total` of them,
    /// using `tokens_used`): a big run never holds them twice.
    pub async fn run_jobs<R: Recorder>(
        self,
        jobs: impl IntoIterator<Item = Job>,
        total: usize,
        tokens_used: std::collections::BTreeSet<crate::send::TokenId>,
        recorder: &mut R,
        progress: &mut dyn ProgressSink,
        mut interrupt: watch::Receiver<bool>,
    ) -> RunReport {
        let start = Instant::now();
        let mut report = RunReport::new(total);
        let creds = Arc::new(self.creds);
        let pins = Arc::new(self.pins);
        let (tx, mut rx) = mpsc::unbounded_channel::<(Job, Reply<CallOk>)>();
        let (code_tx, mut code_rx) = mpsc::unbounded_channel::<(u64, Option<Code>)>();
        let mut state = Loop {
            sched: Scheduler::new(&self.limits),
            policy: Policy::new(self.rules, self.token_names, tokens_used, self.seed),
            sink: Sink {
                recorder,
                report: &mut report,
            },
            codes: self.codes,
            audit: self.audit,
            code_tx,
            asking: Vec::new(),
            next_ticket: 0,
            stopping: None,
            notices: Vec::new(),
        };
        for job in jobs {
            state.enter(job);
        }
        let mut next_progress = start;
        let api = self.api;

        loop {
            let wake = state.dispatch(|job| {
                let (api, creds, pins, tx) = (api.clone(), creds.clone(), pins.clone(), tx.clone());
                tokio::spawn(async move {
                    let pin = job.pin.and_then(|p| pins.get(p.index()));
                    let reply = perform(&*api, &creds[job.token.index()], pin, &job).await;
                    let _ = tx.send((job, reply));
                });
            });
            if state.sched.in_flight() == 0 && state.sched.queued() == 0 && state.asking.is_empty()
            {
                break;
            }
            for text in std::mem::take(&mut state.notices) {
                progress.notice(&text);
            }
            let now = Instant::now();
            if now >= next_progress {
                progress.update(&snapshot(
                    state.sink.report,
                    &mut state.sched,
                    &self.limits,
                    start,
                    now,
                ));
                next_progress = now + self.progress_every;
            }
            let sleep_until = wake.map_or(next_progress, |w| w.min(next_progress));
            tokio::select! {
                Some((job, reply)) = rx.recv() => state.on_reply(job, reply),
                Some((ticket, code)) = code_rx.recv() => state.on_code(ticket, code),
                changed = interrupt.changed(), if state.stopping.is_none() => {
                    if changed.is_err() || *interrupt.borrow() {
                        state.stopping = Some("not attempted: the run was interrupted".into());
                        state.sink.report.interrupted = true;
                        state.stop_asking();
                    }
                }
                _ = tokio::time::sleep_until(sleep_until) => {}
            }
        }
        let Loop {
            mut sched,
            stopping,
            ..
        } = state;
        if let Some(reason) = stopping.filter(|_| !report.interrupted) {
            report.aborted.get_or_insert(reason);
        }
        report.elapsed = start.elapsed();
        progress.finish(&snapshot(
            &report,
            &mut sched,
            &self.limits,
            start,
            Instant::now(),
        ));
        report
    }
}

/// The run loop's state between two wake-ups.
struct Loop<'r, R: Recorder> {
    sched: Scheduler<Job>,
    policy: Policy,
    sink: Sink<'r, R>,
    codes: Arc<dyn CodeSource>,
    audit: Option<AuditLog>,
    code_tx: mpsc::UnboundedSender<(u64, Option<Code>)>,
    /// Rows waiting for a person to give their code, by ticket.
    asking: Vec<(u64, Job, RowResult)>,
    next_ticket: u64,
    /// Set on Ctrl-C or when the journal cannot be written: nothing more is sent.
    stopping: Option<String>,
    /// What the operator must hear, shown by the loop as soon as it can.
    notices: Vec<String>,
}

impl<R: Recorder> Loop<'_, R> {
    /// A job at the start of the run: queued, or (verify_code first) off to
    /// find its code.
    fn enter(&mut self, job: Job) {
        if let Some(refusal) = self.policy.refused_at_start(&job) {
            self.sink.finish(&job, refusal);
        } else if job.call == crate::send::Call::VerifyCode && job.code.is_none() {
            let line = waiting_line(&job);
            self.need_code(job, line, false);
        } else {
            self.sched.push(&job.row.waba_id.clone(), job, None);
        }
    }

    /// Send all that may go now, journalling its state-changing calls in one
    /// write before any of them leaves. Returns when to look again (`None`: on
    /// an answer).
    fn dispatch(&mut self, mut send: impl FnMut(Job)) -> Option<Instant> {
        if self.sink.report.write_failures > 0 && self.stopping.is_none() {
            // A row whose line cannot be written is a row whose outcome may
            // be lost: send nothing more (the journal lets --resume settle it).
            self.stopping = Some("not attempted: the results file cannot be written".into());
        }
        let mut batch: Vec<Job> = Vec::new();
        let now_utc = chrono::Utc::now();
        let wake = loop {
            if self.stopping.is_some() {
                break None;
            }
            match self.sched.next(Instant::now()) {
                Dispatch::Go(mut job) => {
                    job.dispatched(now_utc);
                    batch.push(job);
                }
                Dispatch::WaitUntil(at) => break Some(at),
                Dispatch::WaitForCompletion | Dispatch::Empty => break None,
            }
        };
        let sends: Vec<Sent> = batch
            .iter()
            .filter(|j| j.call.changes_state())
            .map(|j| Sent {
                row: j.row.id.row,
                step: j.step(),
                attempt: j.attempts,
            })
            .collect();
        let journaled = if sends.is_empty() {
            Ok(())
        } else {
            self.sink.recorder.about_to_send(&sends)
        };
        match journaled {
            Ok(()) => {
                for job in batch {
                    self.sink.report.requests += 1;
                    send(job);
                }
            }
            Err(e) => {
                // Without the journal a crash could send twice: send nothing more.
                self.stopping = Some(format!("not attempted: cannot write the journal: {e}"));
                for mut job in batch {
                    job.undispatched();
                    let waba = job.row.waba_id.clone();
                    self.sched.push(&waba, job, None);
                    self.sched.finished(&waba, false);
                }
            }
        }
        if let Some(reason) = &self.stopping {
            for job in self.sched.drain_where(|_, _| true) {
                let result = skipped(&job, reason.clone());
                self.sink.finish(&job, result);
            }
        }
        wake
    }

    /// One answer: the policy's verdict, applied.
    fn on_reply(&mut self, job: Job, mut reply: Reply<CallOk>) {
        let waba = job.row.waba_id.clone();
        let audit = self
            .audit
            .as_ref()
            .and_then(|_| audit::entry(&job, &mut reply));
        let call_before = job.call.clone();
        let Verdict { fate, effects } = self.policy.on_answer(job, reply);
        if let (Some(entry), Some(log)) = (audit, self.audit.as_mut()) {
            let entry = audit::finish(entry, &call_before, &fate, &effects);
            if let Err(e) = log.record(&entry) {
                tracing::warn!("cannot write the audit log {}: {e}", log.path().display());
            }
        }
        self.apply(&waba, &effects);
        match fate {
            Fate::Done { job, result } => self.sink.finish(&job, result),
            Fate::Again { job, delay } => {
                let at = (delay > Duration::ZERO).then(|| Instant::now() + delay);
                self.requeue(job, at);
            }
            Fate::Progress { job, line } => {
                self.sink.progress(&job, &line);
                self.requeue(job, None);
            }
            Fate::NeedCode { job, line } => self.need_code(job, line, true),
        }
    }

    /// verify_code is next: with the code (known, or asked for), queued; else
    /// the row ends waiting at `code_requested`. `recorded`: whether `line`
    /// (its progress) still has to be written first.
    fn need_code(&mut self, mut job: Job, line: RowResult, record: bool) {
        if record {
            self.sink.progress(&job, &line);
        }
        let id = job.progress.phone_number_id.clone().unwrap_or_default();
        if job.code.is_none() {
            job.code = self.codes.known(&job.row, &id);
        }
        if job.code.is_some() {
            self.requeue(job, None);
        } else if self.codes.can_ask() && self.stopping.is_none() {
            let ticket = self.next_ticket;
            self.next_ticket += 1;
            let (ask, tx) = (self.codes.ask(job.row.clone(), id), self.code_tx.clone());
            tokio::spawn(async move {
                let _ = tx.send((ticket, ask.await));
            });
            self.asking.push((ticket, job, line));
        } else {
            let end = waiting(line);
            self.sink.finish(&job, end);
        }
    }

    /// A person answered the prompt for a row's code (or left it empty).
    fn on_code(&mut self, ticket: u64, code: Option<Code>) {
        let Some(i) = self.asking.iter().position(|(t, ..)| *t == ticket) else {
            return; // the row was already ended (Ctrl-C)
        };
        let (_, mut job, line) = self.asking.swap_remove(i);
        match code {
            Some(code) if self.stopping.is_none() => {
                job.code = Some(code);
                self.requeue(job, None);
            }
            _ => self.sink.finish(&job, waiting(line)),
        }
    }

    /// Ctrl-C: rows waiting for a code end where they are.
    fn stop_asking(&mut self) {
        for (_, job, line) in std::mem::take(&mut self.asking) {
            self.sink.finish(&job, waiting(line));
        }
    }

    /// The effects of an answer on the schedule.
    fn apply(&mut self, waba: &WabaId, e: &Effects) {
        self.sched.finished(waba, e.success);
        if e.refund {
            self.sched.refund(waba);
        }
        if let Some(text) = &e.notice {
            self.notices.push(text.clone());
        }
        if let Some(why) = &e.stop
            && self.stopping.is_none()
        {
            self.stopping = Some(why.clone());
        }
        if let Some(pct) = e.waba_usage {
            self.sched.observe_waba_usage(waba, pct);
        }
        if let Some(pct) = e.app_usage {
            self.sched.observe_app_usage(pct, Duration::from_secs(3600));
        }
        if let Some(d) = e.pause_waba {
            self.sched.pause_waba(waba, Instant::now() + d);
        }
        if let Some(d) = e.pause_app {
            self.sched.pause_app(Instant::now() + d);
        }
        if let Some(why) = &e.abort {
            self.sink.report.aborted.get_or_insert(why.clone());
        }
        if e.newly_blocked {
            let policy = &self.policy;
            for job in self.sched.drain_where(|_, j| policy.blocked(j).is_some()) {
                if let Some(result) = self.policy.blocked(&job) {
                    self.sink.finish(&job, result);
                }
            }
        }
    }

    /// Back in the queue, unless it is blocked meanwhile (it ends, not sent)
    /// or the run is stopping (it is skipped).
    fn requeue(&mut self, job: Job, at: Option<Instant>) {
        if let Some(result) = self.policy.blocked(&job) {
            self.sink.finish(&job, result);
        } else if let Some(reason) = self.stopping.clone() {
            let result = skipped(&job, reason);
            self.sink.finish(&job, result);
        } else {
            self.sched.push(&job.row.waba_id.clone(), job, at);
        }
    }
}

/// A row not sent any more (interrupted, aborted): skipped at its step, with
/// what it already reached and its last error.
fn skipped(job: &Job, reason: String) -> RowResult {
    job.ended(RowResult::skipped(
        job.step(),
        reason,
        job.last_failure.as_deref().cloned(),
    ))
}

/// The progress line of a row that will verify its code next.
fn waiting_line(job: &Job) -> RowResult {
    job.ended(RowResult::progress(
        crate::schema::Status::CodeRequested,
        crate::schema::Step::RequestCode,
        job.progress.phone_number_id.clone(),
    ))
}

/// A row that ends waiting for its code.
fn waiting(mut line: RowResult) -> RowResult {
    line.note = Some(
        "waiting for its verification code: give it with --codes FILE (or --ask-codes), then run `waba-provision retry`"
            .into(),
    );
    line
}

/// The recorder plus the counts; a row ends through here exactly once.
struct Sink<'r, R: Recorder> {
    recorder: &'r mut R,
    report: &'r mut RunReport,
}

impl<R: Recorder> Sink<'_, R> {
    fn finish(&mut self, job: &Job, result: RowResult) {
        self.report.count(&result, job.attempts);
        self.write(job, &result);
    }

    /// A step done: its line, so a crash cannot lose it; not an end.
    fn progress(&mut self, job: &Job, line: &RowResult) {
        self.write(job, line);
    }

    fn write(&mut self, job: &Job, result: &RowResult) {
        if let Err(e) = self.recorder.record(&job.row, job.attempts, result) {
            self.report.write_failed(job.row.id.row, &e);
        }
    }
}

fn snapshot(
    report: &RunReport,
    sched: &mut Scheduler<Job>,
    limits: &Limits,
    start: Instant,
    now: Instant,
) -> Snapshot {
    let outlook = sched.outlook(now);
    let waiting = outlook
        .next
        .filter(|_| sched.in_flight() == 0)
        .map(|(at, why)| (why, at.saturating_duration_since(now)));
    Snapshot {
        waiting,
        budget_eta: outlook.drain,
        per_waba: Some(limits.rate_per_waba),
        total: report.total,
        created: report.created,
        failed: report.failed,
        skipped: report.skipped,
        in_flight: sched.in_flight(),
        requests: report.requests,
        elapsed: now - start,
        paused: sched
            .paused(now)
            .into_iter()
            .map(|(w, u)| (w, u - now))
            .collect(),
        app_paused: sched.app_paused(now).map(|u| u - now),
    }
}
