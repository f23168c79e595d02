//! The run loop (SPEC sections 4 and 6): takes the jobs, asks the scheduler what
//! may go, sends it, hands each answer to [`crate::send::decide`], and records
//! each row exactly once as it reaches a final status.
//!
//! Files and terminals stay outside: rows are reported to a [`Recorder`] (the
//! results file and journal in production, a vector in tests) and progress to a
//! [`ProgressSink`].

mod recorder;
mod report;
pub mod resume;
#[cfg(test)]
mod tests;
pub mod tokens;

pub use recorder::FileRecorder;
pub use report::{ErrorCount, RunReport};

use rand::{SeedableRng, rngs::SmallRng};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::graph::{ErrorClass, Failure, Reply, classify};
use crate::limits::Limits;
use crate::schedule::{Dispatch, Scheduler};
use crate::send::decide::Policy;
use crate::send::{Api, Decision, Job, Step, StepOk, StepReply, TokenId, decide};
use crate::validate::{ValidRow, WabaId};

/// How a row ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Created {
        id: String,
        note: Option<String>,
    },
    Failed {
        failure: Failure,
        note: Option<String>,
    },
    Skipped {
        reason: String,
    },
}

/// Where rows go as they finish, and where a send is announced before it goes
/// out (the in-flight journal that lets `--resume` know what may have reached Meta).
pub trait Recorder {
    /// Creates about to go out (row, attempt), recorded together and durable
    /// against a killed process before this returns.
    fn about_to_send(&mut self, sends: &[(&ValidRow, u32)]) -> std::io::Result<()>;
    fn finished(
        &mut self,
        row: &ValidRow,
        attempts: u32,
        outcome: &RowOutcome,
    ) -> std::io::Result<()>;
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
}

impl Snapshot {
    pub fn done(&self) -> usize {
        self.created + self.failed + self.skipped
    }
}

pub trait ProgressSink {
    fn update(&mut self, snap: &Snapshot);
    fn finish(&mut self, snap: &Snapshot);
}

/// Progress nobody watches (tests).
pub struct NoProgress;
impl ProgressSink for NoProgress {
    fn update(&mut self, _: &Snapshot) {}
    fn finish(&mut self, _: &Snapshot) {}
}

/// The same permanent error on this many rows of a WABA, before any success
/// there, stops that WABA instead of burning through all its rows.
const WABA_STOP_STREAK: u32 = 3;

/// Error codes that speak about the WABA or the app, not the row: the ones a
/// streak may stop a WABA for (100 is about the row's parameters: not here).
fn is_waba_level(code: i64) -> bool {
    matches!(code, 3 | 10 | 33 | 200..=299 | 368 | 803 | 200000)
}

#[derive(Default)]
struct WabaHealth {
    created: bool,
    streak: u32,
    last_code: Option<i64>,
}

/// Rows that must not be sent (any more) and why: their token was refused, or
/// their WABA was stopped. Checked when queued rows are drained and when a row
/// that was in flight at the time would go back in the queue.
#[derive(Default)]
struct Blocks {
    tokens: HashMap<TokenId, (Failure, String)>,
    wabas: HashMap<WabaId, (Failure, String)>,
}

impl Blocks {
    fn reason(&self, job: &Job) -> Option<&(Failure, String)> {
        self.tokens
            .get(&job.token)
            .or_else(|| self.wabas.get(&job.row.waba_id))
    }

    /// How a blocked row ends: failed with the blocking error, not sent.
    fn outcome(&self, job: &Job) -> Option<RowOutcome> {
        self.reason(job).map(|(failure, note)| RowOutcome::Failed {
            failure: failure.clone(),
            note: Some(note.clone()),
        })
    }
}

pub struct Runner<'a, A: Api, R: Recorder> {
    api: Arc<A>,
    creds: Arc<Vec<A::Creds>>,
    token_names: Vec<String>,
    limits: Limits,
    recorder: &'a mut R,
    progress: &'a mut dyn ProgressSink,
    /// How often the progress sink is fed.
    pub progress_every: Duration,
    /// Seed for the backoff jitter (fixed in tests).
    pub seed: u64,
}

impl<'a, A: Api, R: Recorder> Runner<'a, A, R> {
    pub fn new(
        api: Arc<A>,
        creds: Vec<A::Creds>,
        token_names: Vec<String>,
        limits: Limits,
        recorder: &'a mut R,
        progress: &'a mut dyn ProgressSink,
    ) -> Self {
        Runner {
            api,
            creds: Arc::new(creds),
            token_names,
            limits,
            recorder,
            progress,
            progress_every: Duration::from_millis(250),
            seed: rand::random(),
        }
    }

    /// Run every job to a final status. `interrupt` turning true stops
    /// dispatching: requests in flight finish, queued rows are skipped.
    pub async fn run(self, jobs: Vec<Job>, mut interrupt: watch::Receiver<bool>) -> RunReport {
        let Runner {
            api,
            creds,
            token_names,
            limits,
            recorder,
            progress,
            progress_every,
            seed,
        } = self;
        let start = Instant::now();
        let mut report = RunReport::new(jobs.len());
        let mut state = Loop {
            sched: Scheduler::new(&limits),
            sink: Sink {
                recorder,
                report: &mut report,
            },
            policy: Policy::new(limits.max_attempts),
            rng: SmallRng::seed_from_u64(seed),
            health: HashMap::new(),
            blocks: Blocks::default(),
            tokens_used: jobs.iter().map(|j| j.token).collect(),
            token_names,
            stopping: None,
        };
        for job in jobs {
            state.sched.push(&job.row.waba_id.clone(), job, None);
        }
        let (tx, mut rx) = mpsc::unbounded_channel::<(Job, StepReply)>();
        let mut next_progress = start;

        loop {
            let wake = state.dispatch(|job| {
                let (api, creds, tx) = (api.clone(), creds.clone(), tx.clone());
                tokio::spawn(async move {
                    let reply = perform(&*api, &creds[job.token.0], &job).await;
                    let _ = tx.send((job, reply));
                });
            });
            if state.sched.in_flight() == 0 && state.sched.queued() == 0 {
                break;
            }
            let now = Instant::now();
            if now >= next_progress {
                progress.update(&snapshot(state.sink.report, &state.sched, start, now));
                next_progress = now + progress_every;
            }
            let sleep_until = wake.map_or(next_progress, |w| w.min(next_progress));
            tokio::select! {
                Some((job, reply)) = rx.recv() => state.on_reply(job, reply),
                changed = interrupt.changed(), if state.stopping.is_none() => {
                    if changed.is_err() || *interrupt.borrow() {
                        state.stopping = Some("not attempted: the run was interrupted".into());
                        state.sink.report.interrupted = true;
                    }
                }
                _ = tokio::time::sleep_until(sleep_until) => {}
            }
        }
        let Loop {
            sched, stopping, ..
        } = state;
        if let Some(reason) = stopping.filter(|_| !report.interrupted) {
            report.aborted.get_or_insert(reason);
        }
        report.elapsed = start.elapsed();
        progress.finish(&snapshot(&report, &sched, start, Instant::now()));
        report
    }
}

/// The run loop's state between two wake-ups.
struct Loop<'r, R: Recorder> {
    sched: Scheduler<Job>,
    sink: Sink<'r, R>,
    policy: Policy,
    rng: SmallRng,
    health: HashMap<WabaId, WabaHealth>,
    blocks: Blocks,
    tokens_used: BTreeSet<TokenId>,
    token_names: Vec<String>,
    /// Set on Ctrl-C or when the journal cannot be written: nothing more is sent.
    stopping: Option<String>,
}

impl<R: Recorder> Loop<'_, R> {
    /// Send all that may go now, journalling its creates in one write before
    /// any of them leaves. Returns when to look again (`None`: on an answer).
    fn dispatch(&mut self, mut send: impl FnMut(Job)) -> Option<Instant> {
        let mut batch: Vec<Job> = Vec::new();
        let wake = loop {
            if self.stopping.is_some() {
                break None;
            }
            match self.sched.next(Instant::now()) {
                Dispatch::Go(mut job) => {
                    if job.step == Step::Create {
                        job.attempts += 1;
                    }
                    batch.push(job);
                }
                Dispatch::WaitUntil(at) => break Some(at),
                Dispatch::WaitForCompletion | Dispatch::Empty => break None,
            }
        };
        let sends: Vec<(&ValidRow, u32)> = batch
            .iter()
            .filter(|j| j.step == Step::Create)
            .map(|j| (&*j.row, j.attempts))
            .collect();
        let journaled = if sends.is_empty() {
            Ok(())
        } else {
            self.sink.recorder.about_to_send(&sends)
        };
        drop(sends);
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
                    if job.step == Step::Create {
                        job.attempts -= 1;
                    }
                    let waba = job.row.waba_id.clone();
                    self.sched.push(&waba, job, None);
                    self.sched.finished(&waba, false);
                }
            }
        }
        if let Some(reason) = &self.stopping {
            for job in self.sched.drain_where(|_, _| true) {
                self.sink.finish(
                    &job,
                    RowOutcome::Skipped {
                        reason: reason.clone(),
                    },
                );
            }
        }
        wake
    }

    /// One answer: update the limits, decide, and record or re-queue the row.
    fn on_reply(&mut self, job: Job, reply: StepReply) {
        let waba = job.row.waba_id.clone();
        self.sched.finished(&waba, reply.result.is_ok());
        apply_hints(&mut self.sched, &waba, &reply);
        match decide(job, reply, &self.policy, &mut self.rng) {
            Decision::Created { job, id, note } => {
                self.health.entry(waba).or_default().created = true;
                self.sink.finish(&job, RowOutcome::Created { id, note });
            }
            Decision::Failed { job, failure, note } => {
                let stop = track_streak(&mut self.health, &waba, &failure);
                self.sink.finish(
                    &job,
                    RowOutcome::Failed {
                        failure: failure.clone(),
                        note,
                    },
                );
                if let Some(code) = stop {
                    let note = format!(
                        "not sent: WABA {waba} stopped after {WABA_STOP_STREAK} rows failed with code {code}"
                    );
                    self.blocks.wabas.insert(waba, (failure, note));
                    self.drain_blocked();
                }
            }
            Decision::TokenDead { job, error } => {
                let failure = Failure::Graph(error);
                self.sink.finish(
                    &job,
                    RowOutcome::Failed {
                        failure: failure.clone(),
                        note: None,
                    },
                );
                let name = self.token_names.get(job.token.0).map_or("", String::as_str);
                let note = format!("not sent: the token in {name} was refused");
                self.blocks
                    .tokens
                    .entry(job.token)
                    .or_insert((failure, note));
                self.drain_blocked();
                if self
                    .tokens_used
                    .iter()
                    .all(|t| self.blocks.tokens.contains_key(t))
                {
                    self.sink.report.aborted = Some("every token was refused (code 190)".into());
                }
            }
            Decision::Requeue { job, delay } => {
                let at = (delay > Duration::ZERO).then(|| Instant::now() + delay);
                self.requeue(job, at);
            }
            Decision::PauseWaba { job, pause } => {
                self.sched.pause_waba(&waba, Instant::now() + pause);
                self.requeue(job, None);
            }
            Decision::PauseApp { job, pause } => {
                self.sched.pause_app(Instant::now() + pause);
                self.requeue(job, None);
            }
        }
    }

    /// Back in the queue, unless the row is blocked (it fails) or the run is
    /// stopping (it is skipped).
    fn requeue(&mut self, job: Job, at: Option<Instant>) {
        if let Some(outcome) = self.blocks.outcome(&job) {
            self.sink.finish(&job, outcome);
        } else if let Some(reason) = self.stopping.clone() {
            self.sink.finish(&job, RowOutcome::Skipped { reason });
        } else {
            self.sched.push(&job.row.waba_id.clone(), job, at);
        }
    }

    /// Fail every queued row that is now blocked, without sending it.
    fn drain_blocked(&mut self) {
        let blocks = &self.blocks;
        for job in self.sched.drain_where(|_, j| blocks.reason(j).is_some()) {
            if let Some(outcome) = self.blocks.outcome(&job) {
                self.sink.finish(&job, outcome);
            }
        }
    }
}

/// The recorder plus the counts; a row finishes through here exactly once.
struct Sink<'r, R: Recorder> {
    recorder: &'r mut R,
    report: &'r mut RunReport,
}

impl<R: Recorder> Sink<'_, R> {
    fn finish(&mut self, job: &Job, outcome: RowOutcome) {
        self.report.count(&outcome, job.attempts);
        if let Err(e) = self.recorder.finished(&job.row, job.attempts, &outcome) {
            self.report
                .write_errors
                .push(format!("row {}: {e}", job.row.id.row));
        }
    }
}

async fn perform<A: Api>(api: &A, creds: &A::Creds, job: &Job) -> StepReply {
    match &job.step {
        Step::Create => Reply::map(api.create(creds, &job.row).await, StepOk::Created),
        Step::Reconcile { after, .. } => Reply::map(
            api.list_page(creds, &job.row.waba_id, after.as_deref())
                .await,
            StepOk::Page,
        ),
    }
}

/// Usage headers and regain times act on every answer, success or not: Meta
/// says how close we are, and we slow down or stop before it throttles.
fn apply_hints(sched: &mut Scheduler<Job>, waba: &WabaId, reply: &StepReply) {
    let h = &reply.hints;
    if let Some(pct) = h.waba_usage_pct {
        sched.observe_waba_usage(waba, pct);
    }
    if let Some(pct) = h.app_usage_pct {
        sched.observe_app_usage(pct, Duration::from_secs(3600));
    }
    if let Some(regain) = h.waba_regain.filter(|d| !d.is_zero()) {
        sched.pause_waba(waba, Instant::now() + regain);
    }
    if let Some(wait) = h.retry_after.filter(|d| !d.is_zero()) {
        let app_level =
            matches!(&reply.result, Err(f) if classify(f, h) == ErrorClass::ThrottledApp);
        if app_level {
            sched.pause_app(Instant::now() + wait);
        } else {
            sched.pause_waba(waba, Instant::now() + wait);
        }
    }
}

/// Count same-code WABA-level failures before any success; returns the code
/// when the WABA should stop.
fn track_streak(
    health: &mut HashMap<WabaId, WabaHealth>,
    waba: &WabaId,
    failure: &Failure,
) -> Option<i64> {
    let h = health.entry(waba.clone()).or_default();
    let code = match failure {
        Failure::Graph(g) if !h.created && g.code.is_some_and(is_waba_level) => g.code,
        _ => {
            h.streak = 0;
            return None;
        }
    };
    if h.last_code == code {
        h.streak += 1;
    } else {
        h.streak = 1;
        h.last_code = code;
    }
    (h.streak >= WABA_STOP_STREAK).then_some(code).flatten()
}

fn snapshot(report: &RunReport, sched: &Scheduler<Job>, start: Instant, now: Instant) -> Snapshot {
    Snapshot {
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
