//! The per-request handled, without HTTP: given the sandbox's state, one
//! parsed call and the time, what Meta would answer (status, body, headers,
//! delay), what changes in the ledger, and the request-log line. Checks run in
//! Meta's order: path and version, token, appsecret_proof, app budget, WABA
//! budget, permissions, parameters; then the seeded fault; then the create.

use super::budget::{Admission, Window};
use super::config::SandboxConfig;
use super::faults::{Dice, Fault};
use super::ledger::{Ledger, LedgerEntry, RequestLog, RequestLogEntry, display_number};
use super::meta::{self, GraphErr};
use super::params::{self, Params};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One Graph request, as the HTTP layer parsed it.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// The value of `Authorization: Bearer …` (or `OAuth …`), if any.
    pub bearer: Option<String>,
    pub query: Vec<(String, String)>,
    /// Form or JSON body parameters.
    pub body: Vec<(String, String)>,
    /// `http://127.0.0.1:PORT`, for `paging.next` (shared by every request).
    pub base_url: Arc<str>,
}

/// What to send back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    Json {
        status: u16,
        body: Value,
    },
    /// A proxy's 503 page: no Graph headers, HTML body.
    Html503,
    /// Close the connection without answering.
    Drop,
}

#[derive(Debug, Clone)]
pub(crate) struct Handled {
    pub reply: Answer,
    pub headers: Vec<(&'static str, String)>,
    /// Wait this long before answering (latency, jitter, slow fault).
    pub delay: Duration,
}

/// Everything mutable, behind one mutex in the server.
#[derive(Debug)]
pub(crate) struct State {
    config: SandboxConfig,
    started: Instant,
    ledger: Ledger,
    log: RequestLog,
    wabas: HashMap<String, Window>,
    app: Option<Window>,
    dice: Dice,
    next_id: u64,
}

impl State {
    pub(crate) fn new(config: SandboxConfig, started: Instant) -> Self {
        let mut dice = Dice::new(config.seed);
        let next_id = dice.first_id();
        let mut state = State {
            log: RequestLog::new(config.request_log_limit),
            app: config.app_budget.map(Window::new),
            config,
            started,
            ledger: Ledger::default(),
            wabas: HashMap::new(),
            dice,
            next_id,
        };
        for n in state.config.existing_numbers.clone() {
            let create = params::Create {
                cc: n.cc,
                phone_number: n.phone_number,
                migrate_phone_number: false,
                verified_name: None,
                preverified_id: None,
            };
            // A duplicate in the list is simply held once.
            let _ = create_number(&mut state, &n.waba_id, create, 0);
        }
        state
    }

    /// Forget numbers, log and budgets; ids keep counting up so an id is
    /// never handed out twice by one sandbox.
    pub(crate) fn reset(&mut self) {
        let next_id = self.next_id;
        *self = State::new(self.config.clone(), self.started);
        self.next_id = next_id;
    }

    pub(crate) fn ledger(&self) -> Vec<LedgerEntry> {
        self.ledger.entries().to_vec()
    }

    pub(crate) fn requests(&self) -> Vec<RequestLogEntry> {
        self.log.to_vec()
    }
}

/// Why a call stopped before succeeding.
enum Stop {
    Refused(GraphErr),
    Fault(Fault),
}

impl From<GraphErr> for Stop {
    fn from(e: GraphErr) -> Self {
        Stop::Refused(e)
    }
}

/// What the checks learnt on the way, for the headers and the log.
#[derive(Default)]
struct Trace<'a> {
    version: Option<&'a str>,
    waba: Option<&'a str>,
    /// Set when a budget refused the call.
    regain: Option<Duration>,
}

/// Decide the answer to one call at `now`, updating ledger, budgets and log.
pub(crate) fn handle(state: &mut State, call: &Call, now: Instant) -> Handled {
    let p = Params {
        body: &call.body,
        query: &call.query,
    };
    let mut log = RequestLogEntry {
        method: call.method.clone(),
        path: call.path.clone(),
        waba_id: None,
        token_in_url: call.query.iter().any(|(k, _)| k == "access_token"),
        token_in_body: call.body.iter().any(|(k, _)| k == "access_token"),
        had_bearer: call.bearer.is_some(),
        appsecret_proof_sent: p.get("appsecret_proof").is_some(),
        appsecret_proof_valid: None,
        http_status: 0,
        error_code: None,
        fault: None,
        created_id: None,
        at_ms: now.saturating_duration_since(state.started).as_millis() as u64,
    };
    let mut trace = Trace::default();
    let outcome = answer(state, call, p, now, &mut trace, &mut log);
    let mut delay = state
        .dice
        .latency(state.config.latency_ms, state.config.jitter_ms);
    log.waba_id = trace.waba.map(str::to_string);

    let fbtrace = state.dice.trace_id(11);
    let mut headers = Vec::with_capacity(8);
    let reply = match outcome {
        Ok(body) => Answer::Json { status: 200, body },
        Err(Stop::Refused(err)) => refuse(err, &fbtrace, &mut log, &mut headers),
        Err(Stop::Fault(fault)) => {
            log.fault = Some(fault.name().to_string());
            match fault {
                Fault::Html503 => Answer::Html503,
                Fault::DropAfterCreate => Answer::Drop,
                Fault::Transient(variant) => refuse(
                    GraphErr::transient(variant),
                    &fbtrace,
                    &mut log,
                    &mut headers,
                ),
                Fault::Slow => {
                    // The answer comes too late; by then it is a plain transient error.
                    delay += Duration::from_millis(state.config.faults.slow_ms);
                    refuse(GraphErr::transient(0), &fbtrace, &mut log, &mut headers)
                }
            }
        }
    };
    log.http_status = match &reply {
        Answer::Json { status, .. } => *status,
        Answer::Html503 => 503,
        Answer::Drop => 0,
    };
    if let Answer::Json { .. } = reply {
        graph_headers(state, &trace, now, fbtrace, &mut headers);
    }
    state.log.push(log);
    Handled {
        reply,
        headers,
        delay,
    }
}

/// A Graph error answer: its code goes to the log, its `WWW-Authenticate`
/// (if it has one) to the headers.
fn refuse(
    err: GraphErr,
    fbtrace: &str,
    log: &mut RequestLogEntry,
    headers: &mut Vec<(&'static str, String)>,
) -> Answer {
    log.error_code = Some(err.code);
    if let Some(v) = err.www_authenticate_value() {
        headers.push(("www-authenticate", v));
    }
    Answer::Json {
        status: err.status,
        body: err.body(fbtrace),
    }
}

/// The checks and the effect, in Meta's order.
fn answer<'c>(
    state: &mut State,
    call: &'c Call,
    p: Params<'c>,
    now: Instant,
    trace: &mut Trace<'c>,
    log: &mut RequestLogEntry,
) -> Result<Value, Stop> {
    // Path: /{version}/{waba_id}/phone_numbers.
    let parts: Vec<&str> = call.path.trim_matches('/').split('/').collect();
    let [version, waba, "phone_numbers"] = parts[..] else {
        return Err(GraphErr::unknown_path(&call.path).into());
    };
    if !valid_version(version) {
        return Err(GraphErr::unknown_path(&call.path).into());
    }
    trace.version = Some(version);
    if !params::digits(waba) {
        return Err(GraphErr::unsupported_method(&call.method, waba).into());
    }
    trace.waba = Some(waba);
    let is_create = match call.method.as_str() {
        "POST" => true,
        "GET" => false,
        other => return Err(GraphErr::unsupported_method(other, waba).into()),
    };
    let config = &state.config;

    // Token: the header, or Meta's `access_token` parameter (logged as such).
    let token = call
        .bearer
        .as_deref()
        .or_else(|| p.get("access_token"))
        .unwrap_or("");
    if token.is_empty() {
        return Err(GraphErr::token_missing().into());
    }
    if config.expired_tokens.0.iter().any(|t| t == token) {
        return Err(GraphErr::token_expired().into());
    }
    let grants = &config.tokens.0;
    if !grants.is_empty() && !grants.contains_key(token) {
        return Err(GraphErr::token_invalid().into());
    }

    if let Some(secret) = &config.app_secret {
        let Some(proof) = p.get("appsecret_proof") else {
            return Err(GraphErr::proof_missing().into());
        };
        let valid = proof == crate::secret::appsecret_proof(&secret.0, token);
        log.appsecret_proof_valid = Some(valid);
        if !valid {
            return Err(GraphErr::proof_invalid().into());
        }
    }

    let extend = config.throttle_extension;
    if let Some(app) = &mut state.app
        && let Admission::Throttled { regain } = app.admit(now, extend)
    {
        trace.regain = Some(regain);
        return Err(GraphErr::app_limit().into());
    }
    if let Some(budget) = config.waba_budget {
        let window = state
            .wabas
            .entry(waba.to_string())
            .or_insert_with(|| Window::new(budget));
        if let Admission::Throttled { regain } = window.admit(now, extend) {
            trace.regain = Some(regain);
            return Err(GraphErr::waba_limit().into());
        }
    }

    if config.forbidden_wabas.iter().any(|w| w == waba) {
        return Err(GraphErr::forbidden_waba().into());
    }
    if let Some(allowed) = grants.get(token)
        && !allowed.iter().any(|w| w == waba || w == "*")
    {
        return Err(GraphErr::not_granted().into());
    }

    if is_create {
        let create = params::create(p)?;
        let fault = state.dice.fault(&state.config.faults, true);
        if let Some(f @ (Fault::Transient(_) | Fault::Html503 | Fault::Slow)) = fault {
            return Err(Stop::Fault(f));
        }
        let id = create_number(state, waba, create, log.at_ms)?;
        log.created_id = Some(id.clone());
        if fault == Some(Fault::DropAfterCreate) {
            return Err(Stop::Fault(Fault::DropAfterCreate));
        }
        Ok(json!({ "id": id }))
    } else {
        let list = params::list(p)?;
        if config.faults.on_get
            && let Some(f) = state.dice.fault(&state.config.faults, false)
        {
            return Err(Stop::Fault(f));
        }
        list_numbers(state, call, version, waba, &list)
    }
}

fn valid_version(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let Some((major, minor)) = rest.split_once('.') else {
        return false;
    };
    params::digits(major) && params::digits(minor)
}

/// Refuse a number held anywhere, else record it and return its new id.
fn create_number(
    state: &mut State,
    waba: &str,
    c: params::Create,
    at_ms: u64,
) -> Result<String, GraphErr> {
    let full = format!("{}{}", c.cc, c.phone_number);
    if let Some(existing) = state.ledger.find_number(&full) {
        return Err(if existing.waba_id == waba {
            GraphErr::already_here()
        } else {
            GraphErr::already_elsewhere()
        });
    }
    let id = state.next_id.to_string();
    state.next_id += 1;
    state.ledger.insert(LedgerEntry {
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
    });
    Ok(id)
}

fn list_numbers(
    state: &State,
    call: &Call,
    version: &str,
    waba: &str,
    list: &params::List,
) -> Result<Value, Stop> {
    let (items, more) = state
        .ledger
        .page(waba, list.after.as_deref(), list.limit)
        .ok_or_else(|| GraphErr::param("Param after is not a valid cursor"))?;
    let data: Vec<Value> = items
        .iter()
        .map(|e| {
            let mut o = Map::new();
            o.insert("id".into(), json!(e.id));
            for f in &list.fields {
                let v = match f.as_str() {
                    "display_phone_number" => json!(e.display_phone_number),
                    "verified_name" => json!(e.verified_name.clone().unwrap_or_default()),
                    "code_verification_status" => json!("NOT_VERIFIED"),
                    "status" => json!("PENDING"),
                    _ => continue,
                };
                o.insert(f.clone(), v);
            }
            Value::Object(o)
        })
        .collect();
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return Ok(json!({ "data": [] }));
    };
    let after = params::encode_cursor(&last.id);
    let mut paging = json!({ "cursors": {
        "before": params::encode_cursor(&first.id),
        "after": after,
    }});
    if more {
        paging["next"] = json!(format!(
            "{}/{version}/{waba}/phone_numbers?fields={}&limit={}&after={after}",
            call.base_url,
            list.fields.join(","),
            list.limit
        ));
    }
    Ok(json!({ "data": data, "paging": paging }))
}

/// Headers on every Graph JSON answer: version, trace ids, usage.
fn graph_headers(
    state: &mut State,
    trace: &Trace<'_>,
    now: Instant,
    fbtrace: String,
    headers: &mut Vec<(&'static str, String)>,
) {
    if let Some(v) = trace.version {
        headers.push(("facebook-api-version", v.to_string()));
    }
    headers.push(("x-fb-request-id", state.dice.trace_id(22)));
    headers.push(("x-fb-trace-id", fbtrace));
    let retry_after = state.config.retry_after;
    // With Retry-After carrying the exact wait, the minutes are rounded down
    // (0 for sub-minute windows); otherwise up, never inviting an early call.
    let minutes = |d: Duration| {
        if retry_after {
            d.as_secs() / 60
        } else {
            d.as_millis().div_ceil(60_000) as u64
        }
    };
    if let Some(waba) = trace.waba {
        let window = state.wabas.get(waba);
        let pct = window.map_or(0, |w| w.usage_pct(now));
        let regain = window.map_or(Duration::ZERO, |w| w.regain(now));
        headers.push((
            "x-business-use-case-usage",
            meta::buc_usage(waba, pct, minutes(regain)),
        ));
    }
    let app_pct = state.app.as_ref().map_or(0, |w| w.usage_pct(now));
    headers.push(("x-app-usage", meta::app_usage(app_pct)));
    if let Some(regain) = trace.regain
        && retry_after
    {
        let secs = regain.as_millis().div_ceil(1000).max(1);
        headers.push(("retry-after", secs.to_string()));
    }
}

#[cfg(test)]
mod tests;
