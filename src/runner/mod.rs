//! The run loop (SPEC sections 4 and 6): it schedules, performs and records,
//! and decides nothing. It asks the scheduler what may go, journals and sends
//! it, hands each answer to the [`Policy`] (the one place that decides what an
//! answer means), applies the verdict's effects to the schedule, and records
//! each row exactly once as it ends.
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

pub use report::{ErrorCount, RunReport};

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::graph::Reply;
use crate::limits::Limits;
use crate::results::RowResult;
use crate::schedule::{Dispatch, Scheduler};
use crate::send::{Api, CallOk, Effects, Fate, Job, Policy, Rules, Verdict, perform};
use crate::validate::{ValidRow, WabaId};

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
        result: &RowResult,
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

    /// Run every job to its end. `interrupt` turning true stops dispatching:
    /// requests in flight finish, queued rows are skipped.
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
        let tokens_used = jobs.iter().map(|j| j.token).collect();
        let mut state = Loop {
            sched: Scheduler::new(&limits),
            policy: Policy::new(
                Rules::new(limits.max_attempts),
                token_names,
                tokens_used,
                seed,
            ),
            sink: Sink {
                recorder,
                report: &mut report,
            },
            stopping: None,
        };
        for job in jobs {
            state.sched.push(&job.row.waba_id.clone(), job, None);
        }
        let (tx, mut rx) = mpsc::unbounded_channel::<(Job, Reply<CallOk>)>();
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
    policy: Policy,
    sink: Sink<'r, R>,
    /// Set on Ctrl-C or when the journal cannot be written: nothing more is sent.
    stopping: Option<String>,
}

impl<R: Recorder> Loop<'_, R> {
    /// Send all that may go now, journalling its state-changing calls in one
    /// write before any of them leaves. Returns when to look again (`None`: on
    /// an answer).
    fn dispatch(&mut self, mut send: impl FnMut(Job)) -> Option<Instant> {
        let mut batch: Vec<Job> = Vec::new();
        let wake = loop {
            if self.stopping.is_some() {
                break None;
            }
            match self.sched.next(Instant::now()) {
                Dispatch::Go(mut job) => {
                    job.dispatched();
                    batch.push(job);
                }
                Dispatch::WaitUntil(at) => break Some(at),
                Dispatch::WaitForCompletion | Dispatch::Empty => break None,
            }
        };
        let sends: Vec<(&ValidRow, u32)> = batch
            .iter()
            .filter(|j| j.call.changes_state())
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
                    job.undispatched();
                    let waba = job.row.waba_id.clone();
                    self.sched.push(&waba, job, None);
                    self.sched.finished(&waba, false);
                }
            }
        }
        if let Some(reason) = &self.stopping {
            for job in self.sched.drain_where(|_, _| true) {
                let result =
                    RowResult::skipped(job.step(), reason.clone(), job.last_failure.clone());
                self.sink.finish(&job, result);
            }
        }
        wake
    }

    /// One answer: the policy's verdict, applied.
    fn on_reply(&mut self, job: Job, reply: Reply<CallOk>) {
        let waba = job.row.waba_id.clone();
        let Verdict { fate, effects } = self.policy.on_answer(job, reply);
        self.apply(&waba, &effects);
        match fate {
            Fate::Done { job, result } => self.sink.finish(&job, result),
            Fate::Again { job, delay } => {
                let at = (delay > Duration::ZERO).then(|| Instant::now() + delay);
                self.requeue(job, at);
            }
        }
    }

    /// The effects of an answer on the schedule.
    fn apply(&mut self, waba: &WabaId, e: &Effects) {
        self.sched.finished(waba, e.success);
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

    /// Back in the queue, unless the run is stopping (then it is skipped).
    fn requeue(&mut self, job: Job, at: Option<Instant>) {
        if let Some(reason) = self.stopping.clone() {
            let result = RowResult::skipped(job.step(), reason, job.last_failure.clone());
            self.sink.finish(&job, result);
        } else {
            self.sched.push(&job.row.waba_id.clone(), job, at);
        }
    }
}

/// The recorder plus the counts; a row ends through here exactly once.
struct Sink<'r, R: Recorder> {
    recorder: &'r mut R,
    report: &'r mut RunReport,
}

impl<R: Recorder> Sink<'_, R> {
    fn finish(&mut self, job: &Job, result: RowResult) {
        self.report.count(&result, job.attempts);
        if let Err(e) = self.recorder.finished(&job.row, job.attempts, &result) {
            self.report
                .write_errors
                .push(format!("row {}: {e}", job.row.id.row));
        }
    }
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
