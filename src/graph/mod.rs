//! The Graph API client: `POST /{version}/{waba_id}/phone_numbers`, the
//! listing call used for reconciliation, the onboarding steps of SPEC 7
//! (`request_code`, `verify_code`, `register`) and the number read
//! (`GET /{phone_number_id}`). Token only in `Authorization: Bearer`; the code
//! and the PIN only in the form body; neither ever in a failure, a log line or
//! `Debug` output.
//!
//! - `config`: API version, client settings, credentials;
//! - `client`: the HTTP calls, transport failures, each call's [`Exchange`];
//! - `parse`: reading answers (created id, listing page, step success, number
//!   state, Meta's error body);
//! - `classify`: what an error means (SPEC section 4);
//! - `usage`: throttling hints from response headers;
//! - `redact`: secrets out of messages.

pub mod classify;
pub mod client;
pub mod config;
pub mod error;
mod parse;
mod redact;
pub mod usage;

pub use classify::{RECENTLY_DELETED_WAIT, classify};
pub use client::{CreateRequest, GraphClient};
pub use config::{ApiVersion, ClientConfig, Credentials, GraphSetupError};
pub use error::{ErrorClass, GraphError};
pub use usage::{Hints, parse_hints};

use std::time::{Duration, SystemTime};

/// Why a call did not give an answer the runner can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Meta (or a proxy in front of it) answered with an error.
    Graph(GraphError),
    /// No usable answer came back. `in_doubt`: the request may have reached
    /// Meta and been carried out (timeout after sending, connection dropped
    /// mid-response, a 2xx without a usable id): reconcile before re-sending.
    Network { message: String, in_doubt: bool },
    /// The request never left: no connection could be made (refused, DNS,
    /// TLS). It reached no one, so it spent nothing of Meta's budget; when it
    /// repeats on every call the endpoint is wrong, not busy.
    Unreachable { message: String },
}

/// An answer plus what its headers said about throttling, and what went over
/// the wire (for the audit log).
#[derive(Debug, Clone)]
pub struct Reply<T> {
    pub result: Result<T, Failure>,
    pub hints: Hints,
    /// Filled by the client for every call; `None` from test fakes.
    pub exchange: Option<Exchange>,
}

impl<T> Reply<T> {
    /// The same reply with the success value mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Reply<U> {
        Reply {
            result: self.result.map(f),
            hints: self.hints,
            exchange: self.exchange,
        }
    }
}

/// One call as it went over the wire, for an audit log. Never holds a token,
/// an `appsecret_proof`, a code or a PIN: the path is kept without its query
/// string, and the ids from the answer are redacted like failure messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The URL's path, e.g. `/v25.0/1906385232743451/register` (no query).
    pub path: String,
    /// The answer's HTTP status; `None` when none came (lost, refused to connect).
    pub http_status: Option<u16>,
    /// When the request was handed to the connection.
    pub sent_at: SystemTime,
    /// From sending until the whole answer was read (or the call failed).
    pub duration: Duration,
    /// The `x-fb-request-id` header.
    pub request_id: Option<String>,
    /// The error body's `fbtrace_id`, else the `x-fb-trace-id` header.
    pub fbtrace_id: Option<String>,
}

impl Exchange {
    /// `sent_at` in RFC 3339 UTC with milliseconds.
    pub fn sent_at_rfc3339(&self) -> String {
        chrono::DateTime::<chrono::Utc>::from(self.sent_at)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

/// A number as `GET /{phone_number_id}?fields=…` shows it. Every field is
/// optional: Meta omits what it does not know, and unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberState {
    pub id: Option<String>,
    pub display_phone_number: Option<String>,
    pub verified_name: Option<String>,
    /// `CONNECTED` once registered (also e.g. `PENDING`, `DISCONNECTED`).
    pub status: Option<String>,
    /// `VERIFIED`, `NOT_VERIFIED` or `EXPIRED`.
    pub code_verification_status: Option<String>,
    /// `APPROVED`, `PENDING_REVIEW`, `DECLINED`, `NONE`, ...
    pub name_status: Option<String>,
    pub new_name_status: Option<String>,
    pub quality_rating: Option<String>,
    pub platform_type: Option<String>,
    /// `throughput.level`, e.g. `STANDARD`.
    pub throughput_level: Option<String>,
}

/// One number from `GET /{waba_id}/phone_numbers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedNumber {
    pub id: String,
    pub display_phone_number: String,
}

/// One page of the listing; `after` is the cursor of the next page, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    pub numbers: Vec<ListedNumber>,
    pub after: Option<String>,
}

impl ListPage {
    /// The listed number whose digits are `e164_digits` (`cc` + national
    /// number, as `PhoneNumber::e164_digits` gives them).
    pub fn find(&self, e164_digits: &str) -> Option<&ListedNumber> {
        self.numbers
            .iter()
            .find(|n| digits_of(&n.display_phone_number) == e164_digits)
    }
}

/// The digits of a listed `display_phone_number` (`"+1 555-010-0001"` →
/// `"15550100001"`), to compare with a row's `cc` + national number.
pub fn digits_of(display_phone_number: &str) -> String {
    display_phone_number
        .chars()
        .filter(char::is_ascii_digit)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits() {
        assert_eq!(digits_of("+1 555-010-0001"), "15550100001");
        assert_eq!(digits_of("+44 (20) 7946.0000"), "442079460000");
        assert_eq!(digits_of(""), "");
        assert_eq!(digits_of("+٣ 12"), "12");
    }

    #[test]
    fn map_keeps_hints_and_exchange() {
        let exchange = Exchange {
            method: "POST",
            path: "/v25.0/1/register".into(),
            http_status: Some(200),
            sent_at: SystemTime::UNIX_EPOCH + Duration::from_millis(1_500),
            duration: Duration::from_millis(12),
            request_id: Some("r".into()),
            fbtrace_id: None,
        };
        let reply = Reply {
            result: Ok(2),
            hints: Hints {
                app_usage_pct: Some(5),
                ..Hints::default()
            },
            exchange: Some(exchange.clone()),
        }
        .map(|n| n * 10);
        assert_eq!(reply.result, Ok(20));
        assert_eq!(reply.hints.app_usage_pct, Some(5));
        assert_eq!(reply.exchange.as_ref(), Some(&exchange));
        assert_eq!(exchange.sent_at_rfc3339(), "1970-01-01T00:00:01.500Z");
    }

    #[test]
    fn find_in_page() {
        let page = ListPage {
            numbers: vec![
                ListedNumber {
                    id: "1".into(),
                    display_phone_number: "+1 555-010-0001".into(),
                },
                ListedNumber {
                    id: "2".into(),
                    display_phone_number: "+1 555-010-0002".into(),
                },
            ],
            after: None,
        };
        assert_eq!(page.find("15550100002").map(|n| n.id.as_str()), Some("2"));
        assert_eq!(page.find("5550100002"), None);
    }
}
