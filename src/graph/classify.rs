//! What an error means (SPEC section 4, graph-api.md §2 and §9.1): by Graph
//! `code` first, then `is_transient`, and by HTTP status only when the body
//! was not Graph JSON (Meta sends most errors as HTTP 400 whatever they mean).
//!
//! `is_transient: true` only decides for codes this table does not know: a
//! known permanent code stays permanent (graph-api.md §9.1).
//!
//! 102 ("session key invalid") is classed with 190 as a token problem: it says
//! the credential itself is no longer accepted, so every row sent with that
//! token would fail the same way; stopping that token's rows saves the calls
//! and still never retries (SPEC lists 102 as never retried).

use super::{ErrorClass, Failure, GraphError, Hints};
use std::time::Duration;

/// 133015: "wait 5 minutes before re-trying".
pub const RECENTLY_DELETED_WAIT: Duration = Duration::from_secs(5 * 60);

/// Subcode of "this phone number already exists in your list of phone numbers".
const ALREADY_EXISTS_SUBCODE: i64 = 2388012;
/// "not eligible ... since it is not being migrated": the number is on an
/// account already, so the list is looked at before the row is called failed.
const NOT_BEING_MIGRATED_SUBCODE: i64 = 2388093;
/// 200000 with this subcode is a partner-permission refusal, not a duplicate.
const NOT_A_PARTNER_SUBCODE: i64 = 3095008;

/// Codes that are temporary by Meta's documentation.
fn is_transient_code(code: i64) -> bool {
    matches!(
        code,
        1 | 2 | 4 | 17 | 32 | 341 | 613 | 131000 | 131016 | 131057 | 133004 | 2494100
    )
}

/// Throttling codes that mean the app (or user) is over its limit.
fn is_app_throttle_code(code: i64) -> bool {
    matches!(code, 4 | 17 | 32 | 341 | 613)
}

/// Business-use-case throttling: 80007 (WABA), 80008 (WhatsApp Business
/// Management API) and the other 8000x BUC types.
fn is_buc_code(code: i64) -> bool {
    (80000..=80014).contains(&code)
}

/// Codes (or subcodes) known to be permanent for this input or credential:
/// `is_transient` must not turn them into retries. The onboarding codes are
/// here too (136024/136025 request/verify code, 133005 PIN mismatch, 133006
/// not verified, 133008/133009 PIN guesses, 133010 not registered, 133016
/// register limit, 1349175 portfolio cap): what each means for a row is
/// decided by the step's rules, not here.
fn is_known_permanent(code: i64) -> bool {
    matches!(
        code,
        3 | 10
            | 33
            | 100
            | 104
            | 200..=299
            | 300
            | 368
            | 803
            | 2500
            | 131005
            | 131008
            | 131009
            | 131031
            | 133000
            | 133005
            | 133006
            | 133008
            | 133009
            | 133010
            | 133016
            | 136024
            | 136025
            | 200000
            | 1349175
            | 2388000..=2388999
    )
}

/// The words of an error say the number is already there.
fn says_already_exists(text: &str) -> bool {
    let m = text.to_ascii_lowercase();
    m.contains("already")
        && [
            "registered",
            "exists",
            "in use",
            "added",
            "your list",
            "belongs",
        ]
        .iter()
        .any(|w| m.contains(w))
}

impl GraphError {
    /// The class from the error alone. Throttling codes 4/17/32/341/613 are
    /// `Transient` here; [`classify`] upgrades them to `ThrottledApp` when the
    /// response's headers show the app at its limit.
    pub fn class(&self) -> ErrorClass {
        let Some(code) = self.code else {
            return self.class_without_code();
        };
        if matches!(
            self.subcode,
            Some(ALREADY_EXISTS_SUBCODE | NOT_BEING_MIGRATED_SUBCODE)
        ) {
            return ErrorClass::AlreadyExists;
        }
        // 100 and 200000 ("Cannot add phone number…") are generic: the words
        // (message, or the user-facing title and text) or a 409 say which.
        let says = [
            Some(&self.message),
            self.user_title.as_ref(),
            self.user_msg.as_ref(),
        ]
        .into_iter()
        .flatten()
        .any(|t| says_already_exists(t));
        if (code == 100 || code == 200000)
            && self.subcode != Some(NOT_A_PARTNER_SUBCODE)
            && (says || self.http_status == Some(409))
        {
            return ErrorClass::AlreadyExists;
        }
        match code {
            190 | 102 => ErrorClass::Token,
            133015 => ErrorClass::WaitAtLeast(RECENTLY_DELETED_WAIT),
            c if is_buc_code(c) => ErrorClass::ThrottledWaba,
            c if is_transient_code(c) => ErrorClass::Transient,
            c if is_known_permanent(c) => ErrorClass::Permanent,
            _ if self.subcode.is_some_and(is_known_permanent) => ErrorClass::Permanent,
            _ if self.is_transient => ErrorClass::Transient,
            _ => ErrorClass::Permanent,
        }
    }

    /// No Graph body: a proxy page, an empty answer. The status is all we have.
    fn class_without_code(&self) -> ErrorClass {
        match self.http_status {
            // Conflict: the thing to create is there already.
            Some(409) => ErrorClass::AlreadyExists,
            Some(429) | Some(500..=599) => ErrorClass::Transient,
            _ if self.is_transient => ErrorClass::Transient,
            _ => ErrorClass::Permanent,
        }
    }

    /// Whether the request may have been carried out although this error came
    /// back: a non-Graph 5xx other than 503 comes from something in front of
    /// Meta (a gateway) that may have forwarded it. 503 and 429 are refusals.
    pub fn in_doubt(&self) -> bool {
        self.code.is_none()
            && matches!(self.http_status, Some(s) if (500..=599).contains(&s) && s != 503)
    }
}

impl Failure {
    /// The class from the failure alone; network failures are transient.
    pub fn class(&self) -> ErrorClass {
        match self {
            Failure::Graph(e) => e.class(),
            Failure::Network { .. } | Failure::Unreachable { .. } => ErrorClass::Transient,
        }
    }

    /// The request may have reached Meta and been carried out: reconcile
    /// through the listing call before sending it again (SPEC section 4).
    pub fn in_doubt(&self) -> bool {
        match self {
            Failure::Graph(e) => e.in_doubt(),
            Failure::Network { in_doubt, .. } => *in_doubt,
            Failure::Unreachable { .. } => false,
        }
    }

    /// Meta's error code, when Meta answered with one (for counts by code).
    pub fn code(&self) -> Option<i64> {
        match self {
            Failure::Graph(e) => e.code,
            Failure::Network { .. } | Failure::Unreachable { .. } => None,
        }
    }

    /// One line for the results file and the summary.
    pub fn summary(&self) -> String {
        match self {
            Failure::Graph(e) => e.summary(),
            Failure::Network { message, .. } | Failure::Unreachable { message } => message.clone(),
        }
    }
}

/// The class with the response's headers taken into account: an app-level
/// throttling code (4/17/32/341/613) with `X-App-Usage` at 100 % or more, a
/// `Retry-After`, or a regain time in `X-Business-Use-Case-Usage` pauses the
/// app rather than being retried with backoff.
pub fn classify(failure: &Failure, hints: &Hints) -> ErrorClass {
    let class = failure.class();
    let Failure::Graph(e) = failure else {
        return class;
    };
    let app_throttle = e.code.is_some_and(is_app_throttle_code);
    let app_at_limit = hints.app_usage_pct.is_some_and(|p| p >= 100)
        || hints.retry_after.is_some()
        || hints.waba_regain.is_some();
    if class == ErrorClass::Transient && app_throttle && app_at_limit {
        ErrorClass::ThrottledApp
    } else {
        class
    }
}

#[cfg(test)]
mod tests;
