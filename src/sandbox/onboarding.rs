//! The three steps after the create (SPEC 7), on one held number:
//! request_code (a seeded 6-digit code, valid for the configured time; 136024
//! once verified), verify_code (VERIFIED, or 136025 / 100 for a wrong or
//! expired code) and register (the 10-per-72-h window and its lock, 133016;
//! 133006 before verification; 133005 for a PIN other than the number's; then
//! CONNECTED, the PIN becoming the number's). Every register call that reaches
//! a number counts, refused ones included.

use super::behaviour::State;
use super::config::{ConnectedRegisterAnswer, RejectedCodeAnswer};
use super::ledger::CallKind;
use super::meta::GraphErr;
use super::number::{CodeVerification, NumberStatus, PendingCode};
use super::params::{self, Params};
use serde_json::{Value, json};
use std::time::Instant;

/// A step's edge on `/{version}/{phone_number_id}/…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    RequestCode,
    VerifyCode,
    Register,
}

impl Step {
    pub(crate) fn from_edge(edge: &str) -> Option<Step> {
        match edge {
            "request_code" => Some(Step::RequestCode),
            "verify_code" => Some(Step::VerifyCode),
            "register" => Some(Step::Register),
            _ => None,
        }
    }

    pub(crate) fn kind(self) -> CallKind {
        match self {
            Step::RequestCode => CallKind::RequestCode,
            Step::VerifyCode => CallKind::VerifyCode,
            Step::Register => CallKind::Register,
        }
    }
}

fn success() -> Value {
    json!({ "success": true })
}

/// Carry out `step` on the number `id` (known to be held) at `now`.
pub(super) fn step(
    state: &mut State,
    id: &str,
    step: Step,
    p: Params<'_>,
    now: Instant,
) -> Result<Value, GraphErr> {
    let State {
        config,
        ledger,
        dice,
        ..
    } = state;
    let held = ledger
        .get_mut(id)
        .ok_or_else(|| GraphErr::unsupported_method("POST", id))?;
    let (entry, private) = (&mut held.entry, &mut held.private);
    match step {
        Step::RequestCode => {
            params::request_code(p)?;
            if entry.verified() {
                return Err(GraphErr::already_verified());
            }
            // A new request replaces the old code.
            private.code = Some(PendingCode {
                digits: dice.code(),
                expires: now + config.code_ttl(),
            });
            Ok(success())
        }
        Step::VerifyCode => {
            let code = params::verify_code(p)?;
            let good = private
                .code
                .as_ref()
                .is_some_and(|c| c.digits == code && now < c.expires);
            if !good {
                return Err(match config.rejected_code_answer {
                    RejectedCodeAnswer::Code136025 => GraphErr::code_rejected(),
                    RejectedCodeAnswer::Invalid100 => GraphErr::code_rejected_100(),
                });
            }
            private.code = None;
            entry.code_verification_status = CodeVerification::Verified;
            Ok(success())
        }
        Step::Register => {
            entry.register_calls += 1;
            let limit = config.register_limit;
            if let Err(remaining) = private.admit_register(now, limit) {
                let secs = remaining.as_millis().div_ceil(1000) as u64;
                return Err(GraphErr::register_locked(&limit.to_string(), secs));
            }
            let pin = params::register(p)?;
            if !entry.verified() {
                return Err(GraphErr::not_verified());
            }
            if private.pin.as_deref().is_some_and(|set| set != pin) {
                return Err(GraphErr::pin_mismatch());
            }
            if entry.status == NumberStatus::Connected {
                return match config.connected_register_answer {
                    ConnectedRegisterAnswer::Success => Ok(success()),
                    ConnectedRegisterAnswer::AlreadyRegistered => {
                        Err(GraphErr::already_registered())
                    }
                };
            }
            entry.status = NumberStatus::Connected;
            private.pin = Some(pin.to_string());
            entry.has_pin = true;
            Ok(success())
        }
    }
}

#[cfg(test)]
mod tests;
