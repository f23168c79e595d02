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

use crate::graph::{Failure, GraphError, Reply};
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
    /// WABAs (or "(app)") paused now, and for how much longer.
    pub paused: Vec<(WabaId, Duration)>,
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

pub struct Runner<'a, A: Api, R: Recorder> {
    api: Arc<A>,
    creds: Arc<Vec<A::Creds>>,
    token_names: Vec<String>,
    limits: Limits,
    policy: Policy,
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
        let policy = Policy::new(limits.max_attempts);
        Runner {
            api,
            creds: Arc::new(creds),
            token_names,
            limits,
            policy,
            recorder,
            progress,
            progress_every: Duration::from_millis(250),
            seed: rand::random(),
        }
    }

    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Run every job to a final status. `interrupt` turning true stops
    /// dispatching: requests in flight finish, queued rows are skipped.
    pub async fn run(self, jobs: Vec<Job>, mut interrupt: watch::Receiver<bool>) -> RunReport {
        let start = Instant::now();
        let mut rng = SmallRng::seed_from_u64(self.seed);
        let mut sched: Scheduler<Job> = Scheduler::new(&self.limits);
        let mut report = RunReport::new(jobs.len());
        let tokens_used: BTreeSet<TokenId> = jobs.iter().map(|j| j.token).collect();
        for job in jobs {
            sched.push(&job.row.waba_id.clone(), job, None);
        }
        let mut dead_tokens: HashMap<TokenId, GraphError> = HashMap::new();
        let mut stopped_wabas: HashMap<WabaId, (Failure, String)> = HashMap::new();
        let mut health: HashMap<WabaId, WabaHealth> = HashMap::new();
        let (tx, mut rx) = mpsc::unbounded_channel::<(Job, StepReply)>();
        let mut stopping: Option<String> = None;
        let mut next_progress = start;
        let Runner {
            api,
            creds,
            token_names,
            policy,
            recorder,
            progress,
            progress_every,
            ..
        } = self;
        let mut sink = Sink {
            recorder,
            report: &mut report,
        };

        loop {
            // Take all that may go now; journal the creates among them in one
            // write (before any of them leaves), then send them.
            let mut batch: Vec<Job> = Vec::new();
            let wake = loop {
                if stopping.is_some() {
                    break None;
                }
                match sched.next(Instant::now()) {
                    Dispatch::Go(mut job) => {
                        if job.step == Step::Create {
                            job.attempts += 1;
                        }
                        batch.push(job);
                    }
                    Dispatch::WaitUntil(at) => break Some(at),
                    Dispatch::WaitForCompletion => break None,
                    Dispatch::Empty => break None,
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
                sink.recorder.about_to_send(&sends)
            };
            drop(sends);
            match journaled {
                Err(e) => {
                    // Without the journal a crash could send twice: send nothing more.
                    stopping = Some(format!("not attempted: cannot write the journal: {e}"));
                    for mut job in batch {
                        if job.step == Step::Create {
                            job.attempts -= 1;
                        }
                        let waba = job.row.waba_id.clone();
                        sched.push(&waba, job, None);
                        sched.finished(&waba, false);
                    }
                }
                Ok(()) => {
                    for job in batch {
                        sink.report.requests += 1;
                        let (api, creds, tx) = (api.clone(), creds.clone(), tx.clone());
                        tokio::spawn(async move {
                            let reply = perform(&*api, &creds[job.token.0], &job).await;
                            let _ = tx.send((job, reply));
                        });
                    }
                }
            }
            if let Some(reason) = &stopping {
                for job in sched.drain_where(|_, _| true) {
                    sink.finish(
                        &job,
                        RowOutcome::Skipped {
                            reason: reason.clone(),
                        },
                    );
                }
            }
            if sched.in_flight() == 0 && sched.queued() == 0 {
                break;
            }
            let now = Instant::now();
            if now >= next_progress {
                progress.update(&snapshot(sink.report, &sched, start, now));
                next_progress = now + progress_every;
            }
            let sleep_until = wake.map_or(next_progress, |w| w.min(next_progress));
            tokio::select! {
                Some((job, reply)) = rx.recv() => {
                    let waba = job.row.waba_id.clone();
                    sched.finished(&waba, reply.result.is_ok());
                    apply_hints(&mut sched, &waba, &reply);
                    let interrupted = stopping.is_some();
                    let decision = decide(job, reply, &policy, &mut rng);
                    match gate(decision, &dead_tokens, &stopped_wabas, &token_names) {
                        Err(blocked) => {
                            let (job, outcome) = *blocked;
                            sink.finish(&job, outcome);
                        }
                        Ok(decision) => match decision {
                        Decision::Created { job, id, note } => {
                            health.entry(waba).or_default().created = true;
                            sink.finish(&job, RowOutcome::Created { id, note });
                        }
                        Decision::Failed { job, failure, note } => {
                            let stop = track_streak(&mut health, &waba, &failure);
                            sink.finish(&job, RowOutcome::Failed { failure: failure.clone(), note });
                            if let Some(code) = stop {
                                let note = format!(
                                    "not sent: WABA {waba} stopped after {WABA_STOP_STREAK} rows failed with code {code}"
                                );
                                stopped_wabas.insert(waba.clone(), (failure.clone(), note.clone()));
                                for j in sched.drain_where(|w, _| *w == waba) {
                                    sink.finish(&j, RowOutcome::Failed { failure: failure.clone(), note: Some(note.clone()) });
                                }
                            }
                        }
                        Decision::TokenDead { job, error } => {
                            let name = token_names.get(job.token.0).cloned().unwrap_or_default();
                            let failure = Failure::Graph(error.clone());
                            sink.finish(&job, RowOutcome::Failed { failure: failure.clone(), note: None });
                            let token = job.token;
                            dead_tokens.entry(token).or_insert(error);
                            let note = format!("not sent: the token in {name} was refused");
                            for j in sched.drain_where(|_, j| j.token == token) {
                                sink.finish(&j, RowOutcome::Failed { failure: failure.clone(), note: Some(note.clone()) });
                            }
                            if tokens_used.iter().all(|t| dead_tokens.contains_key(t)) {
                                sink.report.aborted = Some("every token was refused (code 190)".into());
                            }
                        }
                        Decision::Requeue { job, delay } if !interrupted => {
                            let at = (delay > Duration::ZERO).then(|| Instant::now() + delay);
                            sched.push(&waba, job, at);
                        }
                        Decision::PauseWaba { job, pause } if !interrupted => {
                            let until = Instant::now() + pause;
                            sched.pause_waba(&waba, until);
                            sched.push(&waba, job, None);
                        }
                        Decision::PauseApp { job, pause } if !interrupted => {
                            sched.pause_app(Instant::now() + pause);
                            sched.push(&waba, job, None);
                        }
                        Decision::Requeue { job, .. } | Decision::PauseWaba { job, .. } | Decision::PauseApp { job, .. } => {
                            let reason = stopping.clone().unwrap_or_default();
                            sink.finish(&job, RowOutcome::Skipped { reason });
                        }
                    }
                    }
                }
                changed = interrupt.changed(), if stopping.is_none() => {
                    if changed.is_err() || *interrupt.borrow() {
                        stopping = Some("not attempted: the run was interrupted".into());
                        sink.report.interrupted = true;
                    }
                }
                _ = tokio::time::sleep_until(sleep_until) => {}
            }
        }
        if let Some(reason) = stopping.filter(|_| !report.interrupted) {
            report.aborted.get_or_insert(reason);
        }
        report.elapsed = start.elapsed();
        progress.finish(&snapshot(&report, &sched, start, Instant::now()));
        report
    }
}

/// A row that would go back in the queue after its token was refused or its
/// WABA stopped (it was in flight then) fails here instead of being sent.
fn gate(
    decision: Decision,
    dead_tokens: &HashMap<TokenId, GraphError>,
    stopped_wabas: &HashMap<WabaId, (Failure, String)>,
    token_names: &[String],
) -> Result<Decision, Box<(Job, RowOutcome)>> {
    match decision {
        Decision::Requeue { job, .. }
        | Decision::PauseWaba { job, .. }
        | Decision::PauseApp { job, .. }
            if dead_tokens.contains_key(&job.token)
                || stopped_wabas.contains_key(&job.row.waba_id) =>
        {
            let outcome = if let Some(err) = dead_tokens.get(&job.token) {
                let name = token_names.get(job.token.0).map_or("", String::as_str);
                RowOutcome::Failed {
                    failure: Failure::Graph(err.clone()),
                    note: Some(format!("not sent again: the token in {name} was refused")),
                }
            } else {
                let (failure, note) = stopped_wabas[&job.row.waba_id].clone();
                RowOutcome::Failed {
                    failure,
                    note: Some(note),
                }
            };
            Err(Box::new((job, outcome)))
        }
        d => Ok(d),
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
        Step::Create => {
            let Reply { result, hints } = api.create(creds, &job.row).await;
            Reply {
                result: result.map(StepOk::Created),
                hints,
            }
        }
        Step::Reconcile { after, .. } => {
            let Reply { result, hints } = api
                .list_page(creds, &job.row.waba_id, after.as_deref())
                .await;
            Reply {
                result: result.map(StepOk::Page),
                hints,
            }
        }
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
        let app_level = matches!(
            &reply.result,
            Err(Failure::Graph(GraphError {
                code: Some(4 | 17 | 32 | 613),
                ..
            }))
        );
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
    }
}
