//! The rules of a run in the order they apply to an answer (SPEC section 4):
//! headers first (usage, pauses), then the error's class, read once: throttled
//! (pause, no attempt used), token refused (this row and every row on that
//! token), then the step's own rules (`create`); last, what the row's end
//! means for its WABA (a streak of WABA-level errors stops it) and whether a
//! row going back in the queue has been blocked meanwhile.

use rand::{SeedableRng, rngs::SmallRng};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use super::backoff::Backoff;
use super::blocks::Blocks;
use super::create::{self, Route};
use super::steps::{self, Through};
use super::throttle::{from_hints, requested_wait};
use super::{Call, CallOk, Job, TokenId, read, register, request_code, verify_code};
use crate::graph::{ErrorClass, Failure, Hints, Reply, classify};
use crate::results::RowResult;
use crate::validate::WabaId;

/// The knobs of the rules.
#[derive(Debug, Clone)]
pub struct Rules {
    /// How far each row goes (`--through`).
    pub through: Through,
    /// `retry --through request-code`: rows at `code_requested` get a new code.
    pub rerequest_codes: bool,
    /// Register calls a number may have had in 72 hours before another is sent.
    pub max_register_calls: u32,
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// Throttled answers a row may meet before it is given up.
    pub max_throttles: u32,
    /// Pause of a WABA throttled without saying for how long: the first
    /// time; it doubles for each throttle that follows without a success in
    /// between, up to `max_pause` (people report 30–40 minute cooldowns, and
    /// each refused probe extends Meta's block).
    pub default_waba_pause: Duration,
    pub max_pause: Duration,
    /// Pause of the app throttled without saying for how long.
    pub default_app_pause: Duration,
}

impl Rules {
    pub fn new(max_attempts: u32) -> Self {
        Rules {
            through: Through::Create,
            rerequest_codes: false,
            max_register_calls: 8,
            max_attempts,
            backoff: Backoff::default(),
            max_throttles: 20,
            default_waba_pause: Duration::from_secs(60),
            max_pause: Duration::from_secs(3600),
            default_app_pause: Duration::from_secs(60),
        }
    }
}

/// What happens to the row.
#[derive(Debug)]
pub enum Fate {
    /// Make the job's (possibly new) call again, no earlier than `delay` from now.
    Again { job: Job, delay: Duration },
    /// A step is done: record `line` (so a crash cannot lose it), then make
    /// the job's next call.
    Progress { job: Job, line: RowResult },
    /// verify_code is next and needs the row's code: record `line`, then
    /// find the code (a `--codes` file, a prompt, the sandbox); without one
    /// the row ends as `line` says (`code_requested`).
    NeedCode { job: Job, line: RowResult },
    /// The row is done in this run: record `result`.
    Done { job: Job, result: RowResult },
}

impl Fate {
    pub(super) fn again(job: Job, delay: Duration) -> Fate {
        Fate::Again { job, delay }
    }
    pub(super) fn done(job: Job, result: RowResult) -> Fate {
        let result = job.ended(result);
        Fate::Done { job, result }
    }
}

/// What an answer asks of the schedule, beyond its own row.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Effects {
    /// The call succeeded: a WABA probing after a throttle opens up again.
    pub success: bool,
    /// Usage of the WABA's budget, as Meta reported it.
    pub waba_usage: Option<u32>,
    /// Usage of the app's budget.
    pub app_usage: Option<u32>,
    /// Stop calling the WABA for this long.
    pub pause_waba: Option<Duration>,
    /// Stop every call for this long.
    pub pause_app: Option<Duration>,
    /// A token or WABA was just blocked: queued rows must be asked
    /// [`Policy::blocked`] and ended without being sent.
    pub newly_blocked: bool,
    /// The run cannot go on (every token refused): why.
    pub abort: Option<String>,
    /// The call never reached anyone (it could not connect): give its unit of
    /// the WABA's budget back.
    pub refund: bool,
    /// Something the operator must hear now, once (e.g. cannot connect).
    pub notice: Option<String>,
    /// Stop sending: queued rows are skipped (`--resume` finishes the job).
    pub stop: Option<String>,
}

impl Effects {
    pub(super) fn pause_waba(&mut self, d: Duration) {
        self.pause_waba = Some(self.pause_waba.map_or(d, |p| p.max(d)));
    }
    pub(super) fn pause_app(&mut self, d: Duration) {
        self.pause_app = Some(self.pause_app.map_or(d, |p| p.max(d)));
    }
}

#[derive(Debug)]
pub struct Verdict {
    pub fate: Fate,
    pub effects: Effects,
}

/// The rules plus what a run has learnt so far (refused tokens, stopped
/// WABAs, streaks) and the jitter's random source.
pub struct Policy {
    rules: Rules,
    rng: SmallRng,
    blocks: Blocks,
    token_names: Vec<String>,
    tokens_used: BTreeSet<TokenId>,
    /// Throttles in a row without a success, per WABA and for the app.
    waba_throttles: HashMap<WabaId, u32>,
    app_throttles: u32,
    /// Calls in a row that could not connect; whether the operator was told.
    unreachable: u32,
    told_unreachable: bool,
}

/// Calls in a row that could not connect (with no answer from anyone in
/// between) before the run stops: the endpoint is wrong, not busy.
const UNREACHABLE_STOP: u32 = 5;

/// `base` doubled for each throttle after the first, at most `max`.
fn grown(base: Duration, streak: u32, max: Duration) -> Duration {
    let doublings = streak.saturating_sub(1).min(16);
    base.saturating_mul(1 << doublings).min(max)
}

impl Policy {
    /// `token_names[i]` names the variable of `TokenId(i)`; `tokens_used` are
    /// the tokens of the rows to send (all refused = abort). `seed` seeds the
    /// backoff jitter (fixed in tests).
    pub fn new(
        rules: Rules,
        token_names: Vec<String>,
        tokens_used: BTreeSet<TokenId>,
        seed: u64,
    ) -> Self {
        Policy {
            rules,
            rng: SmallRng::seed_from_u64(seed),
            blocks: Blocks::default(),
            token_names,
            tokens_used,
            waba_throttles: HashMap::new(),
            app_throttles: 0,
            unreachable: 0,
            told_unreachable: false,
        }
    }

    /// How a queued row ends if it must not be sent any more.
    pub fn blocked(&self, job: &Job) -> Option<RowResult> {
        self.blocks.result(job)
    }

    /// How a row entering the run ends unsent when its first call would break
    /// `--max-register-calls` given the history its results line carries (the
    /// later register calls of a run meet the same guard in `steps::go_on`).
    pub fn refused_at_start(&self, job: &Job) -> Option<RowResult> {
        if job.call != Call::Register {
            return None;
        }
        steps::register_guard(job, &self.rules, chrono::Utc::now()).map(|r| job.ended(r))
    }

    /// What one answer means for its row and for the schedule.
    pub fn on_answer(&mut self, job: Job, reply: Reply<CallOk>) -> Verdict {
        let Reply { result, hints, .. } = reply;
        let class = result.as_ref().err().map(|f| classify(f, &hints));
        let mut effects = Effects {
            success: result.is_ok(),
            ..Effects::default()
        };
        if result.is_ok() {
            self.waba_throttles.remove(&job.row.waba_id);
            self.app_throttles = 0;
        }
        self.connection(&result, &mut effects);
        from_hints(&hints, class, &mut effects);
        let fate = match (result, class) {
            (Ok(ok), _) => self.on_success(job, ok),
            (Err(failure), Some(class)) => {
                let mut job = job;
                job.last_failure = Some(Box::new(failure.clone()));
                self.on_failure(job, failure, class, &hints, &mut effects)
            }
            (Err(failure), None) => unreachable_class(job, failure),
        };
        let fate = self.after(fate, &mut effects);
        Verdict { fate, effects }
    }

    /// Calls that could not connect: refunded, told once, and after a short
    /// streak the run stops instead of retrying into a wrong URL for an hour.
    fn connection(&mut self, result: &Result<CallOk, Failure>, effects: &mut Effects) {
        let Err(Failure::Unreachable { message }) = result else {
            self.unreachable = 0;
            return;
        };
        effects.refund = true;
        self.unreachable += 1;
        if !self.told_unreachable {
            self.told_unreachable = true;
            effects.notice = Some(message.clone());
        }
        if self.unreachable >= UNREACHABLE_STOP {
            effects.stop = Some(format!(
                "not attempted: {message} ({} calls in a row); check --graph-url or WABA_GRAPH_URL, then run again with --resume",
                self.unreachable
            ));
        }
    }

    /// A call answered: the step is done, or a lookup tells what to do.
    fn on_success(&mut self, job: Job, ok: CallOk) -> Fate {
        let rules = &self.rules;
        match (ok, &job.call) {
            (CallOk::Created(id), _) => create::created(job, id, rules),
            (CallOk::Page(page), _) => create::on_page(job, page, rules, &mut self.rng),
            (CallOk::Number(state), _) => read::on_state(job, state, rules),
            (CallOk::Done, Call::RequestCode) => request_code::done(job, rules),
            (CallOk::Done, Call::VerifyCode) => verify_code::done(job, rules),
            (CallOk::Done, Call::Register) => register::done(job, rules),
            // A success that answers no step of this job: nothing learnt.
            (CallOk::Done, _) => Fate::again(job, Duration::ZERO),
        }
    }

    fn on_failure(
        &mut self,
        mut job: Job,
        failure: Failure,
        class: ErrorClass,
        hints: &Hints,
        effects: &mut Effects,
    ) -> Fate {
        let wait = requested_wait(hints);
        match class {
            ErrorClass::ThrottledWaba | ErrorClass::ThrottledApp => {
                job.throttles += 1;
                if job.throttles > self.rules.max_throttles {
                    let note = format!("still throttled after {} pauses", self.rules.max_throttles);
                    let step = job.step();
                    return Fate::done(job, RowResult::failed(step, failure, Some(note)));
                }
                let max = self.rules.max_pause;
                if class == ErrorClass::ThrottledWaba {
                    let streak = self
                        .waba_throttles
                        .entry(job.row.waba_id.clone())
                        .or_default();
                    *streak += 1;
                    let pause = grown(self.rules.default_waba_pause, *streak, max);
                    effects.pause_waba(wait.unwrap_or(pause));
                } else {
                    self.app_throttles += 1;
                    let pause = grown(self.rules.default_app_pause, self.app_throttles, max);
                    effects.pause_app(wait.unwrap_or(pause));
                }
                Fate::again(job, Duration::ZERO)
            }
            ErrorClass::Token => {
                let name = self
                    .token_names
                    .get(job.token.index())
                    .map_or("", String::as_str);
                if self.blocks.refuse_token(job.token, name, failure.clone()) {
                    effects.newly_blocked = true;
                }
                if self
                    .tokens_used
                    .iter()
                    .all(|t| self.blocks.token_refused(*t))
                {
                    effects.abort = Some("every token was refused (code 190)".into());
                }
                let step = job.step();
                Fate::done(job, RowResult::failed(step, failure, None))
            }
            other => {
                let (rules, rng, retry_after) = (&self.rules, &mut self.rng, hints.retry_after);
                match job.call {
                    Call::Create | Call::ListNumbers { .. } => {
                        let reconciling = matches!(job.call, Call::ListNumbers { .. });
                        match (create::route(other, reconciling), failure) {
                            (Route::Transient(floor), f) => {
                                create::on_transient(job, f, floor, retry_after, rules, rng)
                            }
                            (Route::AlreadyExists, Failure::Graph(e)) => {
                                create::on_already_exists(job, e)
                            }
                            (_, f) => create::on_permanent(job, f),
                        }
                    }
                    Call::RequestCode => {
                        request_code::on_failure(job, failure, other, retry_after, rules, rng)
                    }
                    Call::VerifyCode => {
                        verify_code::on_failure(job, failure, other, retry_after, rules, rng)
                    }
                    Call::Register => {
                        register::on_failure(job, failure, other, retry_after, rules, rng)
                    }
                    Call::ReadNumber(_) => {
                        read::on_failure(job, failure, other, retry_after, rules, rng)
                    }
                }
            }
        }
    }

    /// What a row's end means for its WABA, and a row going back in the
    /// queue that was blocked meanwhile ends instead.
    fn after(&mut self, fate: Fate, effects: &mut Effects) -> Fate {
        match fate {
            Fate::Done { job, result } => {
                let waba = &job.row.waba_id;
                if result.status.is_created() {
                    self.blocks.success(waba);
                } else if let Some(f) = &result.failure
                    && self.blocks.failure(waba, f)
                {
                    effects.newly_blocked = true;
                }
                Fate::Done { job, result }
            }
            Fate::Again { job, delay } => match self.blocks.result(&job) {
                Some(result) => Fate::done(job, result),
                None => Fate::Again { job, delay },
            },
            // A step done is recorded even if the row cannot go on: the
            // runner ends a blocked row after recording its progress.
            other => other,
        }
    }
}

/// A failure always has a class; kept total rather than panicking.
fn unreachable_class(job: Job, failure: Failure) -> Fate {
    let step = job.step();
    Fate::done(job, RowResult::failed(step, failure, None))
}

#[cfg(test)]
mod tests;
