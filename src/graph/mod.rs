//! The Graph API client: `POST /{version}/{waba_id}/phone_numbers` and the
//! listing call used for reconciliation. Token only in `Authorization: Bearer`.

pub mod error;
pub mod usage;

pub use error::{ErrorClass, GraphError};
pub use usage::Hints;

/// Why a call did not give an answer the runner can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Meta (or a proxy in front of it) answered with an error.
    Graph(GraphError),
    /// No answer came back. `in_doubt`: the request may have reached Meta
    /// (timeout after sending, connection dropped mid-response).
    Network { message: String, in_doubt: bool },
}

/// An answer plus what its headers said about throttling.
#[derive(Debug, Clone)]
pub struct Reply<T> {
    pub result: Result<T, Failure>,
    pub hints: Hints,
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
