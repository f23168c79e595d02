//! Rows that must not be sent (any more), and why: their token was refused
//! (190), or their WABA was stopped after the same WABA-level error on its
//! first rows. Asked when a queued row would be sent and when a row that was
//! in flight at the time would go back in the queue.

use std::collections::HashMap;

use super::{Job, TokenId};
use crate::graph::Failure;
use crate::results::RowResult;
use crate::validate::WabaId;

/// The same WABA-level error on this many rows of a WABA, before any success
/// there, stops that WABA instead of burning through all its rows.
pub(super) const WABA_STOP_STREAK: u32 = 3;

/// Error codes that speak about the WABA or the app, not the row: the ones a
/// streak may stop a WABA for (100 is about the row's parameters: not here).
fn is_waba_level(code: i64) -> bool {
    matches!(code, 3 | 10 | 33 | 200..=299 | 368 | 803 | 200000)
}

#[derive(Default)]
struct WabaHealth {
    succeeded: bool,
    streak: u32,
    last_code: Option<i64>,
}

#[derive(Default)]
pub(super) struct Blocks {
    tokens: HashMap<TokenId, (Failure, String)>,
    wabas: HashMap<WabaId, (Failure, String)>,
    health: HashMap<WabaId, WabaHealth>,
}

impl Blocks {
    /// How a blocked row ends: failed with the blocking error, not sent.
    pub(super) fn result(&self, job: &Job) -> Option<RowResult> {
        let (failure, reason) = self
            .tokens
            .get(&job.token)
            .or_else(|| self.wabas.get(&job.row.waba_id))?;
        Some(RowResult::not_sent(
            job.step(),
            failure.clone(),
            reason.clone(),
        ))
    }

    /// The token was refused; `name` is its variable. True if newly blocked.
    pub(super) fn refuse_token(&mut self, token: TokenId, name: &str, failure: Failure) -> bool {
        if self.tokens.contains_key(&token) {
            return false;
        }
        let reason = format!("the token in {name} was refused");
        self.tokens.insert(token, (failure, reason));
        true
    }

    pub(super) fn token_refused(&self, token: TokenId) -> bool {
        self.tokens.contains_key(&token)
    }

    /// A call to `waba` succeeded: its streak is over for good.
    pub(super) fn success(&mut self, waba: &WabaId) {
        let h = self.health.entry(waba.clone()).or_default();
        h.succeeded = true;
        h.streak = 0;
    }

    /// Count a failed row; stops the WABA (returns true) after the same
    /// WABA-level error on its first [`WABA_STOP_STREAK`] rows.
    pub(super) fn failure(&mut self, waba: &WabaId, failure: &Failure) -> bool {
        let h = self.health.entry(waba.clone()).or_default();
        let code = match failure {
            Failure::Graph(g) if !h.succeeded && g.code.is_some_and(is_waba_level) => g.code,
            _ => {
                h.streak = 0;
                return false;
            }
        };
        if h.last_code == code {
            h.streak += 1;
        } else {
            h.streak = 1;
            h.last_code = code;
        }
        if h.streak < WABA_STOP_STREAK || self.wabas.contains_key(waba) {
            return false;
        }
        let reason = format!(
            "WABA {waba} stopped after {WABA_STOP_STREAK} rows failed with code {}",
            code.unwrap_or_default()
        );
        self.wabas.insert(waba.clone(), (failure.clone(), reason));
        true
    }
}
