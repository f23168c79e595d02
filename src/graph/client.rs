//! The HTTP side of the Graph API: `POST /{version}/{waba_id}/phone_numbers`
//! (form-encoded) and `GET` of the same path for reconciliation.
//!
//! The token goes only in `Authorization: Bearer`; `appsecret_proof` (an HMAC,
//! not the token) goes in the form body of a POST and the query of a GET, as
//! Meta documents. Failures are values: what Meta said ([`Failure::Graph`]) or
//! why nothing usable came back ([`Failure::Network`], with whether the request
//! may have been carried out). Messages are scrubbed of the token and of query
//! strings before they leave this module.

use super::config::{ApiVersion, ClientConfig, Credentials, GraphSetupError};
use super::usage::parse_hints;
use super::{Failure, GraphError, Hints, ListPage, Reply, parse};
use reqwest::header::AUTHORIZATION;
use reqwest::{RequestBuilder, Url};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Connecting should never take long; a separate, shorter connect timeout
/// (half the request timeout, at most this) lets a dead host be reported as
/// "never sent" rather than racing the whole-request timeout into "in doubt".
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The fields the listing asks for, and its page size (Meta's maximum).
const LIST_FIELDS: &str = "id,display_phone_number";
const LIST_LIMIT: &str = "100";

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
        let mut form = req.form();
        if let Some(proof) = creds.appsecret_proof() {
            form.push(("appsecret_proof", proof));
        }
        let request = authorize(self.http.post(self.endpoint(req.waba_id)), creds).form(&form);
        self.execute(request, creds, req.waba_id, parse::created_id)
            .await
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
        if let Some(proof) = creds.appsecret_proof() {
            query.push(("appsecret_proof", proof));
        }
        let request = authorize(self.http.get(self.endpoint(waba_id)), creds).query(&query);
        self.execute(request, creds, waba_id, parse::list_page)
            .await
    }

    /// `{graph_url}/{version}/{waba_id}/phone_numbers`, each part one path
    /// segment (percent-encoded, so an id can never change the path).
    fn endpoint(&self, waba_id: &str) -> Url {
        let mut url = self.inner.versioned.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.push(waba_id).push("phone_numbers");
        }
        url
    }

    async fn execute<T>(
        &self,
        request: RequestBuilder,
        creds: &Credentials,
        waba_id: &str,
        parse: fn(u16, &[u8]) -> Result<T, Failure>,
    ) -> Reply<T> {
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                return Reply {
                    result: Err(scrub(self.network_failure(e, None), creds)),
                    hints: Hints::default(),
                };
            }
        };
        let status = response.status().as_u16();
        let hints = parse_hints(response.headers(), waba_id);
        self.note_version(&hints);
        let result = match response.bytes().await {
            Ok(body) => parse(status, &body),
            Err(e) => Err(self.network_failure(e, Some(status))),
        };
        Reply {
            result: result.map_err(|f| scrub(f, creds)),
            hints,
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

/// Keep logs and results clean: the token (should anything echo it) and any
/// URL query string (which may hold `appsecret_proof`) are removed.
fn scrub(failure: Failure, creds: &Credentials) -> Failure {
    let token = creds.token().expose();
    let clean = |s: &str| {
        let s = strip_url_queries(s);
        if token.is_empty() {
            s
        } else {
            s.replace(token, "[redacted]")
        }
    };
    match failure {
        Failure::Network { message, in_doubt } => Failure::Network {
            message: clean(&message),
            in_doubt,
        },
        Failure::Graph(e) => Failure::Graph(GraphError {
            message: clean(&e.message),
            user_title: e.user_title.as_deref().map(clean),
            user_msg: e.user_msg.as_deref().map(clean),
            ..e
        }),
    }
}

/// `see https://host/p?x=1 now` → `see https://host/p now`.
fn strip_url_queries(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("://") {
        let end_of_url = rest[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>'))
            .map_or(rest.len(), |i| start + i);
        let url = &rest[..end_of_url];
        match url.find('?') {
            Some(q) => out.push_str(&url[..q]),
            None => out.push_str(url),
        }
        rest = &rest[end_of_url..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
