//! What a row goes through and what every answer means (SPEC sections 4, 7):
//! the one place that decides.
//!
//! A row is a [`Job`] making one [`Call`] at a time: a step of Meta's
//! (create → request_code → verify_code → register), or a lookup that settles
//! a step whose outcome is in doubt (`ListNumbers`: is the number on the WABA
//! after all? `ReadNumber`: is it verified, connected?). Each call is one HTTP
//! request, scheduled and counted against its WABA's budget like any other.
//!
//! [`Policy::on_answer`] reads an answer once — classification, throttle
//! hints, the WABA's streak of WABA-level errors, a refused token, then the
//! step's own rules — and returns a [`Verdict`]: the row's fate (call again,
//! record progress and go on, wait for its code, or done with its
//! [`RowResult`](crate::results::RowResult)) and the effects on the schedule.
//! The runner only schedules, performs and records.
//!
//! Layout: `api` (the calls, behind a trait), `policy` (the per-run state and
//! the order of the rules), `steps` (where a row goes next), one file of rules
//! per step (`create`, `request_code`, `verify_code`, `register`, and `read`
//! for the lookups of a number), `throttle` (pauses and usage from hints),
//! `blocks` (tokens and WABAs that must not be called any more), `backoff`.

pub mod api;
pub mod backoff;
mod blocks;
mod create;
mod policy;
mod read;
mod register;
mod request_code;
mod steps;
mod throttle;
mod verify_code;

use chrono::{DateTime, Utc};
use std::fmt;
use std::sync::Arc;

use crate::graph::{Failure, GraphError};
use crate::results::RowResult;
use crate::schema::{ResultRecord, Status, Step};
use crate::validate::ValidRow;

pub use api::{Api, CallOk, perform};
pub use policy::{Effects, Fate, Policy, Rules, Verdict};
pub use steps::{Through, calls_left, initial_call};

/// Index of a token in the run's token table (tokens themselves stay there).
/// `u32`: a job per row, a million rows: every byte of a job counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenId(pub u32);

impl TokenId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Index of a two-step PIN in the run's PIN table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PinId(pub u32);

impl PinId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A verification code as its holder received it (digits only). A secret:
/// `Debug` never shows it, and it is never written anywhere.
#[derive(Clone, PartialEq, Eq)]
pub struct Code(Box<str>);

impl Code {
    /// `123456` or `123-456`; `None` unless that makes six digits.
    pub fn parse(text: &str) -> Option<Code> {
        let digits: String = text.trim().chars().filter(|c| *c != '-').collect();
        (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()))
            .then_some(Code(digits.into()))
    }
    /// The digits, for the `verify_code` call only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Code([redacted])")
    }
}

/// Why a row is being looked up in its WABA's listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReconcileWhy {
    /// The create may have reached Meta but no answer came back. (Boxed, as
    /// every error a job carries: a million queued jobs stay small.)
    InDoubt(Box<Failure>),
    /// Meta said the number already exists.
    AlreadyExists(Box<GraphError>),
    /// An earlier, interrupted run may have sent it (journal).
    Resumed,
}

impl ReconcileWhy {
    /// Why, in the words of the results line.
    fn cause(&self) -> &'static str {
        match self {
            ReconcileWhy::AlreadyExists(_) => "Meta said it already exists",
            ReconcileWhy::Resumed => "an interrupted run may have sent it",
            ReconcileWhy::InDoubt(_) => "an earlier attempt got no answer",
        }
    }
}

/// Why a number is read (`GET /{id}`): to settle a step without repeating it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadWhy {
    /// request_code answered 136024 (already verified).
    AlreadyVerified(Box<GraphError>),
    /// Register answered "already registered or in invalid state" (100).
    AlreadyRegistered(Box<GraphError>),
    /// The step's answer was lost (or an interrupted run sent it): it may
    /// have been carried out. `None`: we only know from the journal.
    InDoubt(Step, Option<Box<Failure>>),
    /// `waba-provision status`: what Meta says of the number, nothing more.
    Status,
}

impl ReadWhy {
    /// The step the lookup settles.
    pub fn step(&self) -> Step {
        match self {
            ReadWhy::AlreadyVerified(_) => Step::RequestCode,
            ReadWhy::AlreadyRegistered(_) => Step::Register,
            ReadWhy::InDoubt(step, _) => *step,
            ReadWhy::Status => Step::Register,
        }
    }
}

/// The HTTP call a job makes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `POST /{waba_id}/phone_numbers`.
    Create,
    /// One page of `GET /{waba_id}/phone_numbers`, to settle a create.
    ListNumbers {
        after: Option<String>,
        why: ReconcileWhy,
    },
    /// `POST /{id}/request_code`.
    RequestCode,
    /// `POST /{id}/verify_code` with the job's code.
    VerifyCode,
    /// `POST /{id}/register` with the row's PIN.
    Register,
    /// `GET /{id}?fields=…`, to settle a step.
    ReadNumber(ReadWhy),
}

impl Call {
    /// Whether the call may change something at Meta: such a call is
    /// journalled before it leaves (a lookup is not).
    pub fn changes_state(&self) -> bool {
        matches!(
            self,
            Call::Create | Call::RequestCode | Call::VerifyCode | Call::Register
        )
    }

    /// The step of Meta's the call is (or settles).
    pub fn step(&self) -> Step {
        match self {
            Call::Create | Call::ListNumbers { .. } => Step::Create,
            Call::RequestCode => Step::RequestCode,
            Call::VerifyCode => Step::VerifyCode,
            Call::Register => Step::Register,
            Call::ReadNumber(why) => why.step(),
        }
    }
}

/// Where a row stands at Meta, as far as this tool knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Set once the number is created.
    pub phone_number_id: Option<String>,
    /// The furthest step done: `created` .. `registered`; `None` before the
    /// create.
    pub status: Option<Status>,
    /// Every register call this tool sent on the number (carried from results
    /// file to results file), oldest first.
    pub register_calls: Vec<DateTime<Utc>>,
}

impl Progress {
    /// Where a row stood after a results line: its progress status, or for a
    /// `failed` / `skipped` line the status before the step it is about.
    pub fn of_line(rec: &ResultRecord) -> Progress {
        let id = Some(rec.phone_number_id.clone()).filter(|i| !i.is_empty());
        let status = match rec.status {
            s if s.is_created() => Some(s),
            _ if id.is_none() => None,
            _ => match rec.step() {
                Step::Create | Step::RequestCode => Some(Status::Created),
                Step::VerifyCode => Some(Status::CodeRequested),
                Step::Register => Some(Status::Verified),
            },
        };
        Progress {
            phone_number_id: id,
            status,
            register_calls: parse_times(&rec.register_calls),
        }
    }
}

/// `register_calls` as written: RFC 3339 times, space-separated (an unreadable
/// one is skipped: it can only make the guard more lenient by one call, and
/// validation reports it).
pub fn parse_times(text: &str) -> Vec<DateTime<Utc>> {
    text.split_whitespace()
        .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .collect()
}

/// One row under way.
#[derive(Debug, Clone)]
pub struct Job {
    pub row: Arc<ValidRow>,
    pub token: TokenId,
    /// The row's two-step PIN, when it will register.
    pub pin: Option<PinId>,
    pub call: Call,
    pub progress: Progress,
    /// The verification code, between its arrival and `verify_code`.
    pub code: Option<Code>,
    /// A new code was requested in this run (`retry --through request-code`
    /// asks once, not in a loop).
    pub requested_code: bool,
    /// Calls of the current step sent (the `attempts` column).
    pub attempts: u32,
    /// Answers that used up an attempt's worth of patience (transient errors,
    /// failed lookups); compared with `--max-attempts`.
    pub failures: u32,
    /// Throttled answers; they wait for the budget instead of using attempts.
    pub throttles: u32,
    /// The last error seen, for the results line if the row ends failed.
    pub last_failure: Option<Box<Failure>>,
}

impl Job {
    /// A row starting from `progress` with `call`.
    pub fn new(row: Arc<ValidRow>, token: TokenId, call: Call, progress: Progress) -> Self {
        Job {
            row,
            token,
            pin: None,
            call,
            progress,
            code: None,
            requested_code: false,
            attempts: 0,
            failures: 0,
            throttles: 0,
            last_failure: None,
        }
    }

    /// A fresh row: create it.
    pub fn create(row: Arc<ValidRow>, token: TokenId) -> Self {
        Job::new(row, token, Call::Create, Progress::default())
    }

    /// The step of Meta's the job is at (a lookup serves the step it settles).
    pub fn step(&self) -> Step {
        self.call.step()
    }

    /// About to go out at `now`: a state-changing call is one more attempt,
    /// and a register call joins the number's history.
    pub fn dispatched(&mut self, now: DateTime<Utc>) {
        if self.call.changes_state() {
            self.attempts += 1;
        }
        if self.call == Call::Register {
            self.progress.register_calls.push(now);
        }
        if self.call == Call::RequestCode {
            self.requested_code = true;
        }
    }

    /// Not sent after all (the journal could not be written).
    pub fn undispatched(&mut self) {
        if self.call.changes_state() {
            self.attempts -= 1;
        }
        if self.call == Call::Register {
            self.progress.register_calls.pop();
        }
    }

    /// `result` completed with what the job knows of the number: its id and
    /// its register calls, whatever the line's status.
    pub fn ended(&self, mut result: RowResult) -> RowResult {
        if result.phone_number_id.is_none() {
            result.phone_number_id = self.progress.phone_number_id.clone();
        }
        result.register_calls = self.progress.register_calls.clone();
        result
    }

    /// Moving to another step: its attempts start again.
    fn next_step(&mut self, call: Call) {
        self.call = call;
        self.attempts = 0;
        self.failures = 0;
        self.throttles = 0;
    }
}
#[cfg(test)]
mod tests {
    /// A run holds one job per row it has left: a million queued jobs must
    /// stay small (errors and rare payloads are boxed).
    #[test]
    fn a_job_stays_small() {
        assert!(
            std::mem::size_of::<super::Job>() <= 192,
            "{}",
            std::mem::size_of::<super::Job>()
        );
        assert!(std::mem::size_of::<super::Call>() <= 48);
    }
}
