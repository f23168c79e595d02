//! The per-row pipeline: what one row goes through to reach a final status.
//!
//! A row is a [`Job`] moving through [`Step`]s — today `Create`, and
//! `Reconcile` (the listing call that settles an in-doubt or "already exists"
//! outcome). Each step is one HTTP call, so every step is scheduled and counted
//! against its WABA's budget like any other. Later onboarding steps
//! (`request_code`, `verify_code`, `register`: SPEC section 7) are new variants
//! here, not a new runner.

pub mod api;
pub mod backoff;
pub mod decide;

use std::sync::Arc;

use crate::graph::{Failure, GraphError};
use crate::validate::ValidRow;

pub use api::{Api, StepOk, StepReply};
pub use decide::{Decision, decide};

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Create,
    Reconcile {
        after: Option<String>,
        why: ReconcileWhy,
    },
}

/// One row under way.
#[derive(Debug, Clone)]
pub struct Job {
    pub row: Arc<ValidRow>,
    pub token: TokenId,
    pub step: Step,
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
            step: Step::Create,
            attempts: 0,
            failures: 0,
            throttles: 0,
            last_failure: None,
        }
    }

    /// A row an interrupted run may already have sent: look before sending.
    pub fn resumed(row: Arc<ValidRow>, token: TokenId) -> Self {
        Job {
            step: Step::Reconcile {
                after: None,
                why: ReconcileWhy::Resumed,
            },
            ..Job::new(row, token)
        }
    }
}
