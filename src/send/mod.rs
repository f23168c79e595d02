//! What a row goes through and what every answer means (SPEC sections 4, 7):
//! the one place that decides.
//!
//! A row is a [`Job`] making one [`Call`] at a time: a step of Meta's
//! (today `Create`), or a lookup that settles a step whose outcome is in doubt
//! (`ListNumbers`: is the number on the WABA after all?). Each call is one HTTP
//! request, scheduled and counted against its WABA's budget like any other.
//!
//! [`Policy::on_answer`] reads an answer once — classification, throttle
//! hints, the WABA's streak of WABA-level errors, a refused token, reconcile —
//! and returns a [`Verdict`]: the row's fate (call again, or done with its
//! [`RowResult`](crate::results::RowResult)) and the effects on the schedule.
//! The runner only schedules, performs and records.
//!
//! Layout: `api` (the calls, behind a trait), `policy` (the per-run state and
//! the order of the rules), `create` (answers to a create and to the listing
//! that reconciles it), `throttle` (pauses and usage from hints), `blocks`
//! (tokens and WABAs that must not be called any more), `backoff`.

pub mod api;
pub mod backoff;
mod blocks;
mod create;
mod policy;
mod throttle;

use std::sync::Arc;

use crate::graph::{Failure, GraphError};
use crate::schema::Step;
use crate::validate::ValidRow;

pub use api::{Api, CallOk, perform};
pub use policy::{Effects, Fate, Policy, Rules, Verdict};

/// Index of a token in the run's token table (tokens themselves stay there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenId(pub usize);

/// Why a row is being looked up in its WABA's listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReconcileWhy {
    /// The create may have reached Meta but no answer came back.
    InDoubt(Failure),
    /// Meta said the number already exists.
    AlreadyExists(GraphError),
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
}

impl Call {
    /// Whether the call may change something at Meta: such a call is
    /// journalled before it leaves (a lookup is not).
    pub fn changes_state(&self) -> bool {
        matches!(self, Call::Create)
    }
}

/// One row under way.
#[derive(Debug, Clone)]
pub struct Job {
    pub row: Arc<ValidRow>,
    pub token: TokenId,
    pub call: Call,
    /// Create calls sent for this row (the `attempts` column).
    pub attempts: u32,
    /// Answers that used up an attempt's worth of patience (transient errors,
    /// failed listings); compared with `--max-attempts`.
    pub failures: u32,
    /// Throttled answers; they wait for the budget instead of using attempts.
    pub throttles: u32,
    /// The last error seen, for the results line if the row ends failed.
    pub last_failure: Option<Failure>,
}

impl Job {
    pub fn new(row: Arc<ValidRow>, token: TokenId) -> Self {
        Job {
            row,
            token,
            call: Call::Create,
            attempts: 0,
            failures: 0,
            throttles: 0,
            last_failure: None,
        }
    }

    /// A row an interrupted run may already have sent: look before sending.
    pub fn resumed(row: Arc<ValidRow>, token: TokenId) -> Self {
        Job {
            call: Call::ListNumbers {
                after: None,
                why: ReconcileWhy::Resumed,
            },
            ..Job::new(row, token)
        }
    }

    /// The step of Meta's the job is at (a lookup serves the step it settles).
    pub fn step(&self) -> Step {
        match self.call {
            Call::Create | Call::ListNumbers { .. } => Step::Create,
        }
    }

    /// About to go out: a state-changing call is one more attempt.
    pub fn dispatched(&mut self) {
        if self.call.changes_state() {
            self.attempts += 1;
        }
    }

    /// Not sent after all (the journal could not be written).
    pub fn undispatched(&mut self) {
        if self.call.changes_state() {
            self.attempts -= 1;
        }
    }
}
