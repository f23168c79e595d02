//! The create call's effect on the ledger: a number already on this WABA
//! (2388012) or on another (2388001, unless migrating), a migration (the
//! number moves here as a fresh, unverified number; refused with 2388103
//! while two-step verification is on at the source), the portfolio cap
//! (403, 200/1349175), then the new number: VERIFIED when created from a
//! valid pre-verified id, with a two-step PIN when configured.

use super::behaviour::State;
use super::config::CapScope;
use super::ledger::{Held, LedgerEntry, display_number};
use super::meta::GraphErr;
use super::number::{CodeVerification, NumberStatus, Private};
use super::params;
use std::time::Instant;

/// The key the per-token cap counts under: an HMAC of the token, so the
/// state never holds the token itself.
fn owner_key(token: &str) -> String {
    crate::secret::appsecret_proof("waba-provision sandbox portfolio", token)
}

/// Refuse a number held anywhere (unless migrating it here) or beyond the
/// cap, else record it and return its new id.
pub(super) fn create(
    state: &mut State,
    waba: &str,
    c: params::Create,
    token: &str,
    now: Instant,
    at_ms: u64,
) -> Result<String, GraphErr> {
    let full = format!("{}{}", c.cc, c.phone_number);
    let moving = match state.ledger.find_number(&full) {
        None => None,
        Some(held) if held.entry.waba_id == waba => return Err(GraphErr::already_here()),
        Some(_) if !c.migrate_phone_number => return Err(GraphErr::already_elsewhere()),
        Some(_) if state.config.two_step_on_source.contains(&full) => {
            return Err(GraphErr::two_step_on_source());
        }
        Some(held) => Some(held.entry.id.clone()),
    };
    let owner = match state.config.portfolio_cap {
        Some(cap) if cap.scope == CapScope::Token => Some(owner_key(token)),
        _ => None,
    };
    check_cap(state, waba, owner.as_deref())?;
    // Meta counts register calls per phone number: they travel with it.
    let carried = moving.and_then(|id| state.ledger.remove(&id));
    let id = insert_number(state, waba, c, at_ms, now, carried);
    if let Some(key) = owner {
        *state.created_by.entry(key).or_default() += 1;
    }
    Ok(id)
}

fn check_cap(state: &State, waba: &str, owner: Option<&str>) -> Result<(), GraphErr> {
    let Some(cap) = state.config.portfolio_cap else {
        return Ok(());
    };
    let (held, what) = match cap.scope {
        CapScope::Waba => (state.ledger.count_on(waba), "WhatsApp Business Account"),
        CapScope::Token => (
            owner
                .and_then(|k| state.created_by.get(k))
                .map_or(0, |&n| n as usize),
            "business portfolio",
        ),
    };
    if held >= cap.numbers as usize {
        return Err(GraphErr::portfolio_cap(what));
    }
    Ok(())
}

/// Record a new number on `waba` and return its id. `moved` is the same
/// phone number leaving another WABA.
pub(super) fn insert_number(
    state: &mut State,
    waba: &str,
    c: params::Create,
    at_ms: u64,
    now: Instant,
    moved: Option<Held>,
) -> String {
    let config = &state.config;
    let full = format!("{}{}", c.cc, c.phone_number);
    let code_verification_status = match &c.preverified_id {
        None => CodeVerification::NotVerified,
        Some(id) if config.expired_preverified_ids.contains(id) => CodeVerification::Expired,
        Some(_) => CodeVerification::Verified,
    };
    let pin = config.numbers_with_pin.0.get(&full).cloned();
    let (private, register_calls) = match &moved {
        Some(old) => (
            old.private.fresh_keeping_register_window(now, pin),
            old.entry.register_calls,
        ),
        None => (Private::new(now, pin), 0),
    };
    let id = state.next_id.to_string();
    state.next_id += 1;
    state.ledger.insert(Held {
        entry: LedgerEntry {
            waba_id: waba.to_string(),
            display_phone_number: display_number(&c.cc, &c.phone_number),
            cc: c.cc,
            phone_number: c.phone_number,
            id: id.clone(),
            verified_name: c.verified_name,
            migrate_phone_number: c.migrate_phone_number,
            preverified_id: c.preverified_id,
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            at_ms,
            code_verification_status,
            status: NumberStatus::Pending,
            register_calls,
            has_pin: private.pin.is_some(),
            register_locked_until_ms: None,
        },
        private,
    });
    id
}

#[cfg(test)]
mod tests;
