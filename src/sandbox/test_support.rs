//! Helpers shared by the sandbox's unit tests: calls built without HTTP, a
//! state on a fake clock, and readers of the answers.

use super::behaviour::{Answer, Call, Handled, State, handle};
use super::config::{FaultRates, SandboxConfig};
use super::ledger::LedgerEntry;
use crate::limits::Rate;
use serde_json::Value;
use std::time::{Duration, Instant};

pub(crate) fn call(method: &str, path: &str, token: Option<&str>, body: &[(&str, &str)]) -> Call {
    Call {
        method: method.into(),
        path: path.into(),
        bearer: token.map(str::to_string),
        query: Vec::new(),
        body: body
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        base_url: "http://127.0.0.1:1".into(),
    }
}

/// `POST /v25.0/{waba}/phone_numbers` for `+1 {number}` with token `tok`.
pub(crate) fn create(waba: &str, number: &str) -> Call {
    call(
        "POST",
        &format!("/v25.0/{waba}/phone_numbers"),
        Some("tok"),
        &[("cc", "1"), ("phone_number", number)],
    )
}

/// `POST /v25.0/{id}/{edge}` with token `tok`.
pub(crate) fn step(id: &str, edge: &str, body: &[(&str, &str)]) -> Call {
    call("POST", &format!("/v25.0/{id}/{edge}"), Some("tok"), body)
}

pub(crate) fn request_code(id: &str) -> Call {
    step(
        id,
        "request_code",
        &[("code_method", "SMS"), ("language", "en_US")],
    )
}

pub(crate) fn verify_code(id: &str, code: &str) -> Call {
    step(id, "verify_code", &[("code", code)])
}

pub(crate) fn register(id: &str, pin: &str) -> Call {
    step(
        id,
        "register",
        &[("messaging_product", "whatsapp"), ("pin", pin)],
    )
}

/// `GET /v25.0/{id}?fields=…`.
pub(crate) fn read(id: &str, fields: &str) -> Call {
    let mut c = call("GET", &format!("/v25.0/{id}"), Some("tok"), &[]);
    c.query = vec![("fields".into(), fields.into())];
    c
}

pub(crate) fn status_code(d: &Handled) -> (u16, Option<i64>) {
    match &d.reply {
        Answer::Json { status, body } => (*status, body["error"]["code"].as_i64()),
        Answer::Html503 => (503, None),
        Answer::Drop => (0, None),
    }
}

/// The JSON body of an answer (panics on HTML or a dropped connection).
pub(crate) fn body(d: &Handled) -> &Value {
    match &d.reply {
        Answer::Json { body, .. } => body,
        other => panic!("not JSON: {other:?}"),
    }
}

pub(crate) fn header<'a>(d: &'a Handled, name: &str) -> Option<&'a str> {
    d.headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

pub(crate) fn budget(count: u32, per: Duration) -> Option<Rate> {
    Some(Rate { count, per })
}

/// Fault rates with one kind at 1.0.
pub(crate) fn only_fault(kind: &str) -> FaultRates {
    let mut f = FaultRates::default();
    match kind {
        "transient" => f.transient = 1.0,
        "html_503" => f.html_503 = 1.0,
        "slow" => f.slow = 1.0,
        _ => f.drop_after_create = 1.0,
    }
    f
}

pub(crate) fn ledger(s: &State) -> Vec<LedgerEntry> {
    s.ledger(Instant::now())
}

pub(crate) fn state(config: SandboxConfig) -> (State, Instant) {
    let t0 = Instant::now();
    (State::new(config, t0), t0)
}

/// Create `+1 {number}` on `waba` and return its id.
pub(crate) fn created(s: &mut State, waba: &str, number: &str, now: Instant) -> String {
    let d = handle(s, &create(waba, number), now);
    body(&d)["id"]
        .as_str()
        .unwrap_or_else(|| panic!("not created: {:?}", d.reply))
        .to_string()
}
