//! The per-request handling, without HTTP: given the sandbox's state, one
//! parsed call and the time, what Meta would answer (status, body, headers,
//! delay), what changes in the ledger, and the request-log line. Checks run in
//! Meta's order: path and version, token, appsecret_proof, app budget, the
//! number (for calls on a phone-number id), WABA budget, permissions; then
//! per call: parameters and the seeded fault (a create, a listing, a read), or
//! the fault and the step (request_code, verify_code, register: `onboarding`).
//! A number's calls count against the budget of the WABA that holds it.

use super::budget::{Admission, Window};
use super::config::SandboxConfig;
use super::create::{self, insert_number};
use super::faults::{Dice, Fault};
use super::ledger::{CallKind, Ledger, LedgerEntry, RequestLog, RequestLogEntry};
use super::meta::{self, GraphErr};
use super::number::IssuedCode;
use super::onboarding::{self, Step};
use super::params::{self, Params};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
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
    pub(super) config: SandboxConfig,
    pub(super) started: Instant,
    pub(super) ledger: Ledger,
    log: RequestLog,
    wabas: HashMap<String, Window>,
    app: Option<Window>,
    pub(super) dice: Dice,
    pub(super) next_id: u64,
    /// Numbers created per token, for a portfolio cap per token. Keyed by an
    /// HMAC of the token, never the token itself (`State` is `Debug`).
    pub(super) created_by: HashMap<String, u32>,
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
            created_by: HashMap::new(),
        };
        for n in state.config.existing_numbers.clone() {
            // A duplicate in the list is simply held once.
            if state
                .ledger
                .find_number(&format!("{}{}", n.cc, n.phone_number))
                .is_none()
            {
                let create = params::Create {
                    cc: n.cc,
                    phone_number: n.phone_number,
                    migrate_phone_number: false,
                    verified_name: None,
                    preverified_id: None,
                };
                insert_number(&mut state, &n.waba_id, create, 0, started, None);
            }
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

    /// The numbers held, as at `now` (for the register lock).
    pub(crate) fn ledger(&self, now: Instant) -> Vec<LedgerEntry> {
        self.ledger
            .iter()
            .map(|h| {
                let mut e = h.entry.clone();
                e.register_locked_until_ms =
                    h.private.locked_until(now).map(|t| self.ms_since_start(t));
                e
            })
            .collect()
    }

    pub(crate) fn number(&self, id: &str, now: Instant) -> Option<LedgerEntry> {
        let h = self.ledger.get(id)?;
        let mut e = h.entry.clone();
        e.register_locked_until_ms = h.private.locked_until(now).map(|t| self.ms_since_start(t));
        Some(e)
    }

    pub(crate) fn requests(&self) -> Vec<RequestLogEntry> {
        self.log.to_vec()
    }

    /// The current code of a number (even once expired, until replaced or used).
    pub(crate) fn code_for(&self, id: &str) -> Option<String> {
        Some(self.ledger.get(id)?.private.code.as_ref()?.digits.clone())
    }

    /// Every number's current code with the time it has left at `now`.
    pub(crate) fn codes(&self, now: Instant) -> BTreeMap<String, IssuedCode> {
        self.ledger
            .iter()
            .filter_map(|h| {
                let code = h.private.code.as_ref()?;
                let left = code.expires.saturating_duration_since(now);
                Some((
                    h.entry.id.clone(),
                    IssuedCode {
                        code: code.digits.clone(),
                        expires_in_ms: left.as_millis() as u64,
                        expired: left.is_zero(),
                    },
                ))
            })
            .collect()
    }

    pub(super) fn ms_since_start(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.started).as_millis() as u64
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
    /// The WABA called, or the one holding the number called.
    waba: Option<String>,
    /// Set when a budget refused the call.
    regain: Option<Duration>,
}

/// The Graph call a path and method name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route<'a> {
    Create { waba: &'a str },
    List { waba: &'a str },
    Step { id: &'a str, step: Step },
    Read { id: &'a str },
}

impl<'a> Route<'a> {
    /// The phone-number id of a step or a read.
    fn number_id(self) -> Option<&'a str> {
        match self {
            Route::Step { id, .. } | Route::Read { id } => Some(id),
            Route::Create { .. } | Route::List { .. } => None,
        }
    }

    fn kind(self) -> CallKind {
        match self {
            Route::Create { .. } => CallKind::Create,
            Route::List { .. } => CallKind::List,
            Route::Step { step, .. } => step.kind(),
            Route::Read { .. } => CallKind::Read,
        }
    }
}

/// `/{version}/{id}/{edge}` or `/{version}/{id}`: 2500 for an unknown path or
/// version, 100/33 for a method the object does not support or an id that
/// cannot be one.
fn route<'c>(method: &str, path: &'c str) -> Result<(&'c str, Route<'c>), GraphErr> {
    let unknown = || GraphErr::unknown_path(path);
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (version, object, edge) = match parts[..] {
        [v, o] => (v, o, None),
        [v, o, e] => (v, o, Some(e)),
        _ => return Err(unknown()),
    };
    if !valid_version(version) {
        return Err(unknown());
    }
    let step = match edge {
        None | Some("phone_numbers") => None,
        Some(e) => Some(Step::from_edge(e).ok_or_else(unknown)?),
    };
    if !params::digits(object) {
        return Err(GraphErr::unsupported_method(method, object));
    }
    let route = match (edge, step, method) {
        (Some(_), None, "POST") => Route::Create { waba: object },
        (Some(_), None, "GET") => Route::List { waba: object },
        (_, Some(step), "POST") => Route::Step { id: object, step },
        (None, _, "GET") => Route::Read { id: object },
        _ => return Err(GraphErr::unsupported_method(method, object)),
    };
    Ok((version, route))
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
        kind: None,
        waba_id: None,
        phone_number_id: None,
        token_in_url: call.query.iter().any(|(k, _)| k == "access_token"),
        token_in_body: call.body.iter().any(|(k, _)| k == "access_token"),
        had_bearer: call.bearer.is_some(),
        appsecret_proof_sent: p.get("appsecret_proof").is_some(),
        appsecret_proof_valid: None,
        http_status: 0,
        error_code: None,
        fault: None,
        created_id: None,
        at_ms: state.ms_since_start(now),
    };
    let mut trace = Trace::default();
    let outcome = answer(state, call, p, now, &mut trace, &mut log);
    let mut delay = state
        .dice
        .latency(state.config.latency_ms, state.config.jitter_ms);

    let fbtrace = state.dice.trace_id(11);
    let mut headers = Vec::with_capacity(8);
    let reply = match outcome {
        Ok(body) => Answer::Json { status: 200, body },
        Err(Stop::Refused(err)) => refuse(err, &fbtrace, &mut log, &mut headers),
        Err(Stop::Fault(fault)) => {
            log.fault = Some(fault.name().to_string());
            match fault {
                Fault::Html503 => Answer::Html503,
                Fault::DropAfterDone => Answer::Drop,
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
    log.waba_id = trace.waba;
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
    let (version, route) = route(&call.method, &call.path)?;
    trace.version = Some(version);
    log.kind = Some(route.kind());
    // The WABA whose budget and headers apply: the path's, or the number's
    // (looked up now for the headers; an unknown number is refused after auth).
    trace.waba = match route {
        Route::Create { waba } | Route::List { waba } => Some(waba.to_string()),
        Route::Step { id, .. } | Route::Read { id } => {
            log.phone_number_id = Some(id.to_string());
            state.ledger.get(id).map(|h| h.entry.waba_id.clone())
        }
    };

    let token = authenticate(&state.config, call, p, log)?;

    let extend = state.config.throttle_extension;
    if let Some(app) = &mut state.app
        && let Admission::Throttled { regain } = app.admit(now, extend)
    {
        trace.regain = Some(regain);
        return Err(GraphErr::app_limit().into());
    }
    let Some(waba) = trace.waba.as_deref() else {
        // Only a number can be unknown: a create or a listing names its WABA.
        let id = route.number_id().unwrap_or_default();
        return Err(GraphErr::unsupported_method(&call.method, id).into());
    };
    if let Some(budget) = state.config.waba_budget {
        let window = state
            .wabas
            .entry(waba.to_string())
            .or_insert_with(|| Window::new(budget));
        if let Admission::Throttled { regain } = window.admit(now, extend) {
            trace.regain = Some(regain);
            return Err(GraphErr::waba_limit().into());
        }
    }
    permitted(&state.config, waba, token)?;

    match route {
        Route::Create { waba } => {
            let c = params::create(p)?;
            let drop = post_fault(state)?;
            let id = create::create(state, waba, c, token, now, log.at_ms)?;
            log.created_id = Some(id.clone());
            log.phone_number_id = Some(id.clone());
            if drop {
                return Err(Stop::Fault(Fault::DropAfterDone));
            }
            Ok(json!({ "id": id }))
        }
        Route::List { waba } => {
            let list = params::list(p)?;
            get_fault(state)?;
            list_numbers(state, call, version, waba, &list, now)
        }
        Route::Step { id, step } => {
            let drop = post_fault(state)?;
            let done = onboarding::step(state, id, step, p, now)?;
            if drop {
                return Err(Stop::Fault(Fault::DropAfterDone));
            }
            Ok(done)
        }
        Route::Read { id } => {
            let fields = params::fields(p)?;
            get_fault(state)?;
            let review = state.config.name_review_delay();
            let held = state
                .ledger
                .get(id)
                .ok_or_else(|| GraphErr::unsupported_method(&call.method, id))?;
            Ok(held.view().fields(&fields, now, review))
        }
    }
}

/// Token (the header, or Meta's `access_token` parameter, logged as such),
/// then `appsecret_proof` when an app secret is configured.
fn authenticate<'c>(
    config: &SandboxConfig,
    call: &'c Call,
    p: Params<'c>,
    log: &mut RequestLogEntry,
) -> Result<&'c str, GraphErr> {
    let token = call
        .bearer
        .as_deref()
        .or_else(|| p.get("access_token"))
        .unwrap_or("");
    if token.is_empty() {
        return Err(GraphErr::token_missing());
    }
    if config.expired_tokens.0.iter().any(|t| t == token) {
        return Err(GraphErr::token_expired());
    }
    let grants = &config.tokens.0;
    if !grants.is_empty() && !grants.contains_key(token) {
        return Err(GraphErr::token_invalid());
    }
    if let Some(secret) = &config.app_secret {
        let Some(proof) = p.get("appsecret_proof") else {
            return Err(GraphErr::proof_missing());
        };
        let valid = proof == crate::secret::appsecret_proof(&secret.0, token);
        log.appsecret_proof_valid = Some(valid);
        if !valid {
            return Err(GraphErr::proof_invalid());
        }
    }
    Ok(token)
}

/// Forbidden WABAs, then the token's grants.
fn permitted(config: &SandboxConfig, waba: &str, token: &str) -> Result<(), GraphErr> {
    if config.forbidden_wabas.iter().any(|w| w == waba) {
        return Err(GraphErr::forbidden_waba());
    }
    if let Some(allowed) = config.tokens.0.get(token)
        && !allowed.iter().any(|w| w == waba || w == "*")
    {
        return Err(GraphErr::not_granted());
    }
    Ok(())
}

/// A POST's seeded fault: a transient, 503 or slow one stops it before
/// anything is done; `Ok(true)` when the connection is to be dropped once the
/// call is carried out (a refused call is still answered).
fn post_fault(state: &mut State) -> Result<bool, Stop> {
    match state.dice.fault(&state.config.faults, true) {
        None => Ok(false),
        Some(Fault::DropAfterDone) => Ok(true),
        Some(f) => Err(Stop::Fault(f)),
    }
}

/// GETs suffer faults only when configured to.
fn get_fault(state: &mut State) -> Result<(), Stop> {
    if state.config.faults.on_get
        && let Some(f) = state.dice.fault(&state.config.faults, false)
    {
        return Err(Stop::Fault(f));
    }
    Ok(())
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

fn list_numbers(
    state: &State,
    call: &Call,
    version: &str,
    waba: &str,
    list: &params::List,
    now: Instant,
) -> Result<Value, Stop> {
    let review = state.config.name_review_delay();
    let (items, more) = state
        .ledger
        .page(waba, list.after.as_deref(), list.limit)
        .ok_or_else(|| GraphErr::param("Param after is not a valid cursor"))?;
    let data: Vec<Value> = items
        .iter()
        .map(|h| h.view().fields(&list.fields, now, review))
        .collect();
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return Ok(json!({ "data": [] }));
    };
    let after = params::encode_cursor(&last.entry.id);
    let mut paging = json!({ "cursors": {
        "before": params::encode_cursor(&first.entry.id),
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
    if let Some(waba) = trace.waba.as_deref() {
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
