//! Throttling obeyed, not just retried (SPEC section 4): what the headers of
//! any answer say (usage near 100 %, a regain time, `Retry-After`), and how
//! long a throttled WABA or app pauses.

use std::time::Duration;

use crate::graph::{ErrorClass, Hints};

/// The wait the headers asked for, if any (the longer of the two).
pub(super) fn requested_wait(h: &Hints) -> Option<Duration> {
    match (h.retry_after, h.waba_regain) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// What the headers of one answer (success or not) ask of the schedule.
/// `class` is the answer's error class, if it failed: a `Retry-After` on an
/// app-level throttle pauses the app, otherwise the WABA.
pub(super) fn from_hints(h: &Hints, class: Option<ErrorClass>, effects: &mut super::Effects) {
    effects.waba_usage = h.waba_usage_pct;
    effects.app_usage = h.app_usage_pct;
    if let Some(regain) = h.waba_regain.filter(|d| !d.is_zero()) {
        effects.pause_waba(regain);
    }
    if let Some(wait) = h.retry_after.filter(|d| !d.is_zero()) {
        if class == Some(ErrorClass::ThrottledApp) {
            effects.pause_app(wait);
        } else {
            effects.pause_waba(wait);
        }
    }
}
