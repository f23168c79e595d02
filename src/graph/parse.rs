//! Reading Graph answers: the created id, a listing page, a step's
//! `{"success":true}`, a number's state, and Meta's error body.
//!
//! Tolerant on purpose (graph-api.md §1): `code` may come as a number or a
//! string, `error_data` as an object or a JSON-encoded string, any field may be
//! missing, and a proxy may answer with HTML or nothing at all. What is *not*
//! tolerated is a success without a usable id: that is never taken as created.

use super::error::one_line;
use super::{Failure, GraphError, ListPage, ListedNumber, NumberState};
use serde_json::{Map, Value};

/// How much of a non-JSON body is kept in the message.
const BODY_EXCERPT_CHARS: usize = 100;

impl GraphError {
    /// Meta's `{"error": {...}}` body, or a description of what came instead.
    pub fn from_body(http_status: u16, body: &[u8]) -> GraphError {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(top)) => match top.get("error") {
                Some(Value::Object(e)) => from_error_object(http_status, e),
                // OAuth-style `{"error": "invalid_request", ...}`: not Graph.
                Some(Value::String(s)) => not_graph(http_status, &format!("error: {s}")),
                _ => not_graph(http_status, &excerpt(body, "unexpected JSON body")),
            },
            Ok(_) => not_graph(http_status, &excerpt(body, "unexpected JSON body")),
            Err(_) if body.iter().all(u8::is_ascii_whitespace) => {
                not_graph(http_status, "empty body")
            }
            Err(_) => not_graph(http_status, &excerpt(body, "non-JSON body")),
        }
    }
}

fn from_error_object(http_status: u16, e: &Map<String, Value>) -> GraphError {
    let text = |key: &str| {
        e.get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|s| !s.is_empty())
    };
    let mut message = text("message").unwrap_or_else(|| "Graph error without a message".into());
    if let Some(details) = e.get("error_data").and_then(details_of)
        && !details.is_empty()
        && !message.contains(&details)
    {
        message = format!("{message} ({details})");
    }
    GraphError {
        http_status: Some(http_status),
        code: e.get("code").and_then(as_integer),
        subcode: e.get("error_subcode").and_then(as_integer),
        error_type: text("type"),
        message,
        user_title: text("error_user_title"),
        user_msg: text("error_user_msg"),
        fbtrace_id: text("fbtrace_id"),
        is_transient: e.get("is_transient").is_some_and(as_bool),
    }
}

/// `error_data.details`, whether `error_data` is an object or a JSON string
/// (as the Python SDK accepts). A plain non-JSON string is itself the detail.
fn details_of(data: &Value) -> Option<String> {
    match data {
        Value::Object(m) => m.get("details").and_then(Value::as_str).map(one_line),
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => m.get("details").and_then(Value::as_str).map(one_line),
            Ok(_) => None,
            Err(_) => Some(one_line(s)),
        },
        _ => None,
    }
}

fn as_integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_bool(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true") || s == "1",
        Value::Number(n) => n.as_i64() == Some(1),
        _ => false,
    }
}

/// An answer that is not Graph JSON: the status is all that can be classified.
fn not_graph(http_status: u16, what: &str) -> GraphError {
    GraphError {
        http_status: Some(http_status),
        message: format!("{} ({what})", status_line(http_status)),
        ..GraphError::default()
    }
}

/// `HTTP 503 Service Unavailable`.
pub(crate) fn status_line(http_status: u16) -> String {
    let reason = reqwest::StatusCode::from_u16(http_status)
        .ok()
        .and_then(|s| s.canonical_reason());
    match reason {
        Some(r) => format!("HTTP {http_status} {r}"),
        None => format!("HTTP {http_status}"),
    }
}

/// `label: <first 100 characters, tags removed, on one line>`.
fn excerpt(body: &[u8], label: &str) -> String {
    let text = String::from_utf8_lossy(body);
    let cleaned = one_line(&strip_tags(&text));
    let cut: String = cleaned.chars().take(BODY_EXCERPT_CHARS).collect();
    let ellipsis = if cleaned.chars().count() > BODY_EXCERPT_CHARS {
        "…"
    } else {
        ""
    };
    format!("{label}: {cut}{ellipsis}")
}

/// Drop `<...>` so an HTML error page reads as its text.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// A 2xx answer's top-level JSON object (`None` when the body is not one). A
/// non-2xx answer, or a 2xx carrying Meta's `{"error": {...}}`, is the Graph error.
#[allow(
    clippy::result_large_err,
    reason = "the error is the shared `Failure` that `Reply` carries by value; failures are the rare path"
)]
fn success_object(http_status: u16, body: &[u8]) -> Result<Option<Map<String, Value>>, Failure> {
    if !(200..300).contains(&http_status) {
        return Err(Failure::Graph(GraphError::from_body(http_status, body)));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(top)) => match top.get("error") {
            Some(Value::Object(e)) => Err(Failure::Graph(from_error_object(http_status, e))),
            _ => Ok(Some(top)),
        },
        _ => Ok(None),
    }
}

/// The answer to the create call. A 2xx must carry a non-empty numeric `id`;
/// a 2xx without one leaves the outcome unknown (something answered, but we
/// cannot tell what was created), so it is reported in doubt for the runner
/// to reconcile through the listing rather than recorded as created.
#[allow(
    clippy::result_large_err,
    reason = "the error is the shared `Failure` that `Reply` carries by value; failures are the rare path"
)]
pub(crate) fn created_id(http_status: u16, body: &[u8]) -> Result<String, Failure> {
    let top = success_object(http_status, body)?;
    let id = match top.as_ref().and_then(|top| top.get("id")) {
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(Value::Number(n)) if n.is_u64() => Some(n.to_string()),
        _ => None,
    };
    match id.filter(|id| is_numeric_id(id)) {
        Some(id) => Ok(id),
        None => Err(Failure::Network {
            message: format!(
                "{} without a usable phone number id ({})",
                status_line(http_status),
                excerpt(body, "body")
            ),
            in_doubt: true,
        }),
    }
}

fn is_numeric_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_digit())
}

/// One page of `GET /{waba_id}/phone_numbers`. Meta includes `paging.next`
/// only when there is a next page (`cursors.after` is present on the last page
/// too), so the cursor is followed only when `next` is there.
#[allow(
    clippy::result_large_err,
    reason = "the error is the shared `Failure` that `Reply` carries by value; failures are the rare path"
)]
pub(crate) fn list_page(http_status: u16, body: &[u8]) -> Result<ListPage, Failure> {
    let Some(top) = success_object(http_status, body)? else {
        return Err(unexpected_listing(http_status, body));
    };
    let Some(Value::Array(data)) = top.get("data") else {
        return Err(unexpected_listing(http_status, body));
    };
    let numbers = data
        .iter()
        .filter_map(|item| {
            let id = match item.get("id")? {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            let display_phone_number = item
                .get("display_phone_number")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            Some(ListedNumber {
                id,
                display_phone_number,
            })
        })
        .collect();
    Ok(ListPage {
        numbers,
        after: next_cursor(top.get("paging")),
    })
}

fn next_cursor(paging: Option<&Value>) -> Option<String> {
    let paging = paging?;
    let next = paging.get("next").and_then(Value::as_str)?;
    let from_cursors = paging
        .get("cursors")
        .and_then(|c| c.get("after"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    from_cursors.or_else(|| {
        let url = reqwest::Url::parse(next).ok()?;
        url.query_pairs()
            .find(|(k, _)| k == "after")
            .map(|(_, v)| v.into_owned())
    })
}

/// The answer to a step (request_code, verify_code, register): a 2xx with
/// `"success": true` (other fields, such as an `id`, are fine). A 2xx with
/// `success` false or missing says nothing was confirmed although the call may
/// have been carried out: in doubt, for the runner to settle by reading.
#[allow(
    clippy::result_large_err,
    reason = "the error is the shared `Failure` that `Reply` carries by value; failures are the rare path"
)]
pub(crate) fn step_success(http_status: u16, body: &[u8]) -> Result<(), Failure> {
    let top = success_object(http_status, body)?;
    let success = top.as_ref().and_then(|t| t.get("success"));
    if success.is_some_and(as_bool) {
        return Ok(());
    }
    let what = if success.is_some() {
        "success false"
    } else {
        "no success field"
    };
    Err(Failure::Network {
        message: format!(
            "{} with {what}: the call may or may not have been carried out ({})",
            status_line(http_status),
            excerpt(body, "body")
        ),
        in_doubt: true,
    })
}

/// `GET /{phone_number_id}`: the fields that are there, as text; anything
/// else ignored. A 2xx that is not a JSON object is an unexpected answer.
#[allow(
    clippy::result_large_err,
    reason = "the error is the shared `Failure` that `Reply` carries by value; failures are the rare path"
)]
pub(crate) fn number_state(http_status: u16, body: &[u8]) -> Result<NumberState, Failure> {
    let Some(top) = success_object(http_status, body)? else {
        return Err(unexpected(http_status, body, "number"));
    };
    let text = |key: &str| match top.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let throughput_level = match top.get("throughput") {
        Some(Value::Object(t)) => t.get("level").and_then(Value::as_str).map(str::to_owned),
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    Ok(NumberState {
        id: text("id"),
        display_phone_number: text("display_phone_number"),
        verified_name: text("verified_name"),
        status: text("status"),
        code_verification_status: text("code_verification_status"),
        name_status: text("name_status"),
        new_name_status: text("new_name_status"),
        quality_rating: text("quality_rating"),
        platform_type: text("platform_type"),
        throughput_level,
    })
}

fn unexpected_listing(http_status: u16, body: &[u8]) -> Failure {
    unexpected(http_status, body, "listing")
}

fn unexpected(http_status: u16, body: &[u8], what: &str) -> Failure {
    Failure::Graph(GraphError {
        http_status: Some(http_status),
        message: format!(
            "{} with an unexpected {what} answer ({})",
            status_line(http_status),
            excerpt(body, "body")
        ),
        ..GraphError::default()
    })
}

#[cfg(test)]
mod tests;
