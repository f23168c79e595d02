//! The HTTP side of the Graph API: `POST /{version}/{waba_id}/phone_numbers`
//! (form-encoded), `GET` of the same path for reconciliation, the steps
//! `POST /{version}/{phone_number_id}/request_code`, `/verify_code`,
//! `/register` (form-encoded) and the read `GET /{version}/{phone_number_id}`.
//!
//! The token goes only in `Authorization: Bearer`; `appsecret_proof` (an HMAC,
//! not the token) goes in the form body of a POST and the query of a GET, as
//! Meta documents; the code and the PIN only in the form body. Failures are
//! values: what Meta said ([`Failure::Graph`]) or why nothing usable came back
//! ([`Failure::Network`], with whether the request may have been carried out).
//! Messages are cleaned of secrets and query strings (`redact`) before they
//! leave this module. Every call also reports its [`Exchange`].

use super::config::{ApiVersion, ClientConfig, Credentials, GraphSetupError};
use super::redact::Secrets;
use super::usage::parse_hints;
use super::{Exchange, Failure, GraphError, Hints, ListPage, NumberState, Reply, parse};
use reqwest::header::{AUTHORIZATION, HeaderMap};
use reqwest::{Method, RequestBuilder, Url};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// Connecting should never take long; a separate, shorter connect timeout
/// (half the request timeout, at most this) lets a dead host be reported as
/// "never sent" rather than racing the whole-request timeout into "in doubt".
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The fields the listing asks for, and its page size (Meta's maximum).
const LIST_FIELDS: &str = "id,display_phone_number";
const LIST_LIMIT: &str = "100";

/// The fields a number read asks for (SPEC 7, `status`).
const READ_FIELDS: &str = "id,display_phone_number,verified_name,status,code_verification_status,name_status,new_name_status,quality_rating,platform_type,throughput";

/// Where a call's parameters go: a POST's form body or a GET's query string
/// (`appsecret_proof` is added to them).
enum Params<'a> {
    Form(Vec<(&'static str, &'a str)>),
    Query(Vec<(&'static str, &'a str)>),
}

/// One call before it is sent.
struct Call<'a> {
    method: Method,
    url: Url,
    params: Params<'a>,
    creds: &'a Credentials,
    /// The id the call is about: the WABA key of `X-Business-Use-Case-Usage`
    /// (a phone-number id is not a key there, so every entry counts then).
    hints_key: &'a str,
    secrets: Secrets<'a>,
}

impl<'a> Call<'a> {
    fn new(
        method: Method,
        url: Url,
        params: Params<'a>,
        creds: &'a Credentials,
        hints_key: &'a str,
    ) -> Self {
        Call {
            method,
            url,
            params,
            creds,
            hints_key,
            secrets: Secrets {
                token: creds.token().expose(),
                digits: None,
            },
        }
    }

    fn post(
        url: Url,
        form: Vec<(&'static str, &'a str)>,
        creds: &'a Credentials,
        hints_key: &'a str,
    ) -> Self {
        Call::new(Method::POST, url, Params::Form(form), creds, hints_key)
    }

    fn get(
        url: Url,
        query: Vec<(&'static str, &'a str)>,
        creds: &'a Credentials,
        hints_key: &'a str,
    ) -> Self {
        Call::new(Method::GET, url, Params::Query(query), creds, hints_key)
    }
}

/// One create call's parameters, borrowed from a validated row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateRequest<'a> {
    pub waba_id: &'a str,
    pub cc: &'a str,
    /// The national number, digits only.
    pub phone_number: &'a str,
    pub migrate_phone_number: bool,
    pub preverified_id: Option<&'a str>,
    pub verified_name: Option<&'a str>,
}

impl<'a> CreateRequest<'a> {
    /// The form body, without credentials.
    fn form(&self) -> Vec<(&'static str, &'a str)> {
        let mut form = vec![
            ("cc", self.cc),
            ("phone_number", self.phone_number),
            (
                "migrate_phone_number",
                if self.migrate_phone_number {
                    "true"
                } else {
                    "false"
                },
            ),
        ];
        if let Some(id) = self.preverified_id {
            form.push(("preverified_id", id));
        }
        if let Some(name) = self.verified_name {
            form.push(("verified_name", name));
        }
        form
    }
}

/// A Graph API client; cheap to clone (connections are pooled and shared).
#[derive(Clone, Debug)]
pub struct GraphClient {
    http: reqwest::Client,
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// `{graph_url}/{version}` (path prefix kept, no query): each call's URL
    /// is this plus two segments.
    versioned: Url,
    version: ApiVersion,
    timeout: Duration,
    /// `facebook-api-version` logged once, and warned about once.
    version_logged: AtomicBool,
    version_warned: AtomicBool,
}

impl GraphClient {
    pub fn new(cfg: ClientConfig) -> Result<Self, GraphSetupError> {
        let mut versioned = check_graph_url(&cfg.graph_url)?;
        if let Ok(mut segments) = versioned.path_segments_mut() {
            segments.pop_if_empty().push(cfg.api_version.as_str());
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("waba-provision/", env!("CARGO_PKG_VERSION")))
            .timeout(cfg.timeout)
            .connect_timeout((cfg.timeout / 2).min(MAX_CONNECT_TIMEOUT))
            .pool_max_idle_per_host(cfg.max_connections.max(1))
            .tcp_nodelay(true)
            // Graph does not redirect these calls; following one could carry
            // the form (and proof) somewhere unexpected.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| GraphSetupError::Http(e.without_url().to_string()))?;
        Ok(GraphClient {
            http,
            inner: Arc::new(Inner {
                versioned,
                version: cfg.api_version,
                timeout: cfg.timeout,
                version_logged: AtomicBool::new(false),
                version_warned: AtomicBool::new(false),
            }),
        })
    }

    /// `POST /{version}/{waba_id}/phone_numbers`; the new phone number id.
    pub async fn create_phone_number(
        &self,
        creds: &Credentials,
        req: &CreateRequest<'_>,
    ) -> Reply<String> {
        let url = self.endpoint(req.waba_id, Some("phone_numbers"));
        let call = Call::post(url, req.form(), creds, req.waba_id);
        self.execute(call, parse::created_id).await
    }

    /// One page of `GET /{version}/{waba_id}/phone_numbers`
    /// (`fields=id,display_phone_number&limit=100`, then `after=` the cursor).
    pub async fn list_phone_numbers_page(
        &self,
        creds: &Credentials,
        waba_id: &str,
        after: Option<&str>,
    ) -> Reply<ListPage> {
        let mut query = vec![("fields", LIST_FIELDS), ("limit", LIST_LIMIT)];
        if let Some(cursor) = after {
            query.push(("after", cursor));
        }
        let url = self.endpoint(waba_id, Some("phone_numbers"));
        let call = Call::get(url, query, creds, waba_id);
        self.execute(call, parse::list_page).await
    }

    /// `POST /{version}/{phone_number_id}/request_code` with `code_method`
    /// (`SMS` or `VOICE`) and `language` (e.g. `en_US`).
    pub async fn request_code(
        &self,
        creds: &Credentials,
        phone_number_id: &str,
        code_method: &str,
        language: &str,
    ) -> Reply<()> {
        let form = vec![("code_method", code_method), ("language", language)];
        let url = self.endpoint(phone_number_id, Some("request_code"));
        let call = Call::post(url, form, creds, phone_number_id);
        self.execute(call, parse::step_success).await
    }

    /// `POST /{version}/{phone_number_id}/verify_code` with the 6-digit `code`
    /// (without the `-` of `123-456`). The code is a secret like the token.
    pub async fn verify_code(
        &self,
        creds: &Credentials,
        phone_number_id: &str,
        code: &str,
    ) -> Reply<()> {
        let url = self.endpoint(phone_number_id, Some("verify_code"));
        let mut call = Call::post(url, vec![("code", code)], creds, phone_number_id);
        call.secrets.digits = Some(code);
        self.execute(call, parse::step_success).await
    }

    /// `POST /{version}/{phone_number_id}/register` with
    /// `messaging_product=whatsapp`, the 6-digit two-step `pin` (a secret like
    /// the token) and, when given, `data_localization_region`.
    pub async fn register(
        &self,
        creds: &Credentials,
        phone_number_id: &str,
        pin: &str,
        data_localization_region: Option<&str>,
    ) -> Reply<()> {
        let mut form = vec![("messaging_product", "whatsapp"), ("pin", pin)];
        if let Some(region) = data_localization_region {
            form.push(("data_localization_region", region));
        }
        let url = self.endpoint(phone_number_id, Some("register"));
        let mut call = Call::post(url, form, creds, phone_number_id);
        call.secrets.digits = Some(pin);
        self.execute(call, parse::step_success).await
    }

    /// `GET /{version}/{phone_number_id}?fields=…`: the number's state
    /// (status, code verification, name review, quality, platform, throughput).
    pub async fn read_number(
        &self,
        creds: &Credentials,
        phone_number_id: &str,
    ) -> Reply<NumberState> {
        let url = self.endpoint(phone_number_id, None);
        let call = Call::get(url, vec![("fields", READ_FIELDS)], creds, phone_number_id);
        self.execute(call, parse::number_state).await
    }

    /// `{graph_url}/{version}/{object}[/{edge}]`, each part one path segment
    /// (percent-encoded, so an id can never change the path).
    fn endpoint(&self, object: &str, edge: Option<&str>) -> Url {
        let mut url = self.inner.versioned.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.push(object);
            if let Some(edge) = edge {
                segments.push(edge);
            }
        }
        url
    }

    /// Send one call and read its answer with `parse`; whatever happens, the
    /// reply carries the hints, the exchange and only cleaned messages.
    async fn execute<T>(
        &self,
        call: Call<'_>,
        parse: fn(u16, &[u8]) -> Result<T, Failure>,
    ) -> Reply<T> {
        let Call {
            method,
            url,
            params,
            creds,
            hints_key,
            secrets,
        } = call;
        let path = url.path().to_owned();
        let mut request = authorize(self.http.request(method.clone(), url), creds);
        let proof = creds.appsecret_proof().map(|p| ("appsecret_proof", p));
        request = match params {
            Params::Form(mut form) => {
                form.extend(proof);
                request.form(&form)
            }
            Params::Query(mut query) => {
                query.extend(proof);
                request.query(&query)
            }
        };
        let mut exchange = Exchange {
            method: if method == Method::GET { "GET" } else { "POST" },
            path,
            http_status: None,
            sent_at: SystemTime::now(),
            duration: Duration::ZERO,
            request_id: None,
            fbtrace_id: None,
        };
        let started = Instant::now();
        let (result, hints) = match request.send().await {
            Err(e) => (Err(self.network_failure(e, None)), Hints::default()),
            Ok(response) => {
                let status = response.status().as_u16();
                exchange.http_status = Some(status);
                let hints = parse_hints(response.headers(), hints_key);
                self.note_version(&hints);
                exchange.request_id = header(response.headers(), "x-fb-request-id");
                exchange.fbtrace_id = header(response.headers(), "x-fb-trace-id");
                let result = match response.bytes().await {
                    Ok(body) => parse(status, &body),
                    Err(e) => Err(self.network_failure(e, Some(status))),
                };
                (result, hints)
            }
        };
        exchange.duration = started.elapsed();
        if let Err(Failure::Graph(GraphError {
            fbtrace_id: Some(id),
            ..
        })) = &result
        {
            exchange.fbtrace_id = Some(id.clone());
        }
        exchange.request_id = exchange.request_id.map(|s| secrets.clean(&s));
        exchange.fbtrace_id = exchange.fbtrace_id.map(|s| secrets.clean(&s));
        Reply {
            result: result.map_err(|f| scrub(f, &secrets)),
            hints,
            exchange: Some(exchange),
        }
    }

    /// A transport error as a [`Failure::Network`]. Not in doubt only when
    /// the request certainly never left (could not connect, could not be
    /// built) or a 4xx status already said it was refused; a timeout, a
    /// connection dropped after sending, or an answer cut off mid-body may
    /// have followed a successful create.
    fn network_failure(&self, e: reqwest::Error, status: Option<u16>) -> Failure {
        let refused = status.is_some_and(|s| (400..500).contains(&s));
        let never_sent = e.is_connect() || e.is_builder();
        let what = if e.is_connect() && e.is_timeout() {
            "timed out connecting".to_owned()
        } else if e.is_connect() {
            "could not connect".to_owned()
        } else if e.is_timeout() {
            format!("no answer within {:?}", self.inner.timeout)
        } else if e.is_body() || e.is_decode() || status.is_some() {
            "answer cut off".to_owned()
        } else if e.is_builder() {
            "could not build the request".to_owned()
        } else {
            "connection lost before the answer".to_owned()
        };
        if e.is_connect() {
            // In plain words, once: where, and the innermost cause.
            let root = root_cause(&e.without_url());
            let origin = self.inner.versioned.origin().ascii_serialization();
            return Failure::Unreachable {
                message: format!("cannot connect to {origin}: {root}"),
            };
        }
        let in_doubt = !never_sent && !refused;
        let status = status.map(|s| format!(" after {}", parse::status_line(s)));
        Failure::Network {
            message: format!(
                "{what}{}: {}",
                status.unwrap_or_default(),
                error_chain(&e.without_url())
            ),
            in_doubt,
        }
    }

    fn note_version(&self, hints: &Hints) {
        let Some(served) = hints.api_version.as_deref() else {
            return;
        };
        let inner = &self.inner;
        if !inner.version_logged.swap(true, Ordering::Relaxed) {
            tracing::debug!(
                served,
                requested = inner.version.as_str(),
                "facebook-api-version"
            );
        }
        if served != inner.version.as_str() && !inner.version_warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                served,
                requested = inner.version.as_str(),
                "Graph served a different API version than requested \
                 (the requested one may be deprecated)"
            );
        }
    }
}

/// `Authorization: Bearer <token>`, from the header value built once with the
/// credentials. A token that cannot be a header value goes through
/// `bearer_auth`, so reqwest refuses the request before anything is sent.
fn authorize(request: RequestBuilder, creds: &Credentials) -> RequestBuilder {
    match creds.authorization() {
        Some(value) => request.header(AUTHORIZATION, value.clone()),
        None => request.bearer_auth(creds.token().expose()),
    }
}

/// An http(s) URL without query or fragment; a trailing slash is fine.
fn check_graph_url(graph_url: &str) -> Result<Url, GraphSetupError> {
    let bad = |reason: &str| GraphSetupError::GraphUrl {
        url: graph_url.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(graph_url).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) || url.cannot_be_a_base() {
        return Err(bad("no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("no query or fragment allowed"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("no credentials allowed in the URL"));
    }
    Ok(url)
}

/// The innermost error of a chain ("Connection refused (os error 111)").
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut last = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

/// `outer: inner: innermost`, each level once.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// A header's text, if present and printable.
fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Keep logs and results clean: every text of a failure goes through
/// [`Secrets::clean`] (query strings cut, token, code and PIN redacted where
/// they can appear).
fn scrub(failure: Failure, secrets: &Secrets<'_>) -> Failure {
    let clean = |s: &str| secrets.clean(s);
    match failure {
        Failure::Network { message, in_doubt } => Failure::Network {
            message: clean(&message),
            in_doubt,
        },
        Failure::Unreachable { message } => Failure::Unreachable {
            message: clean(&message),
        },
        Failure::Graph(e) => Failure::Graph(GraphError {
            message: clean(&e.message),
            user_title: e.user_title.as_deref().map(clean),
            user_msg: e.user_msg.as_deref().map(clean),
            fbtrace_id: e.fbtrace_id.as_deref().map(clean),
            ..e
        }),
    }
}

#[cfg(test)]
mod tests;
