//! The Graph API client: `POST /{version}/{waba_id}/phone_numbers` and the
//! listing call used for reconciliation. Token only in `Authorization: Bearer`.
//!
//! - `config`: API version, client settings, credentials;
//! - `client`: the HTTP calls and transport failures;
//! - `parse`: reading answers (created id, listing page, Meta's error body);
//! - `classify`: what an error means (SPEC section 4);
//! - `usage`: throttling hints from response headers.

pub mod classify;
pub mod client;
pub mod config;
pub mod error;
mod parse;
pub mod usage;

pub use classify::{RECENTLY_DELETED_WAIT, classify};
pub use client::{CreateRequest, GraphClient};
pub use config::{ApiVersion, ClientConfig, Credentials, GraphSetupError};
pub use error::{ErrorClass, GraphError};
pub use usage::{Hints, parse_hints};

/// Why a call did not give an answer the runner can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Meta (or a proxy in front of it) answered with an error.
    Graph(GraphError),
    /// No usable answer came back. `in_doubt`: the request may have reached
    /// Meta and been carried out (timeout after sending, connection dropped
    /// mid-response, a 2xx without a usable id): reconcile before re-sending.
    Network { message: String, in_doubt: bool },
}

/// An answer plus what its headers said about throttling.
#[derive(Debug, Clone)]
pub struct Reply<T> {
    pub result: Result<T, Failure>,
    pub hints: Hints,
}

impl<T> Reply<T> {
    /// The same answer with its success turned into another value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Reply<U> {
        Reply {
            result: self.result.map(f),
            hints: self.hints,
        }
    }
}

/// What `GET /{phone_number_id}?fields=…` reports of a number (fields Meta
/// did not send stay `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberState {
    pub id: Option<String>,
    pub display_phone_number: Option<String>,
    pub verified_name: Option<String>,
    /// `CONNECTED` once registered.
    pub status: Option<String>,
    /// `VERIFIED`, `NOT_VERIFIED`, `EXPIRED`.
    pub code_verification_status: Option<String>,
    pub name_status: Option<String>,
    pub new_name_status: Option<String>,
    pub quality_rating: Option<String>,
    pub platform_type: Option<String>,
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
