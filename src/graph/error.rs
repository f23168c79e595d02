//! Meta's error body and what it means for the runner (SPEC section 4).

use std::time::Duration;

/// A Graph API error as Meta sent it (or as the network/proxy produced it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GraphError {
    /// HTTP status of the answer, when there was one.
    pub http_status: Option<u16>,
    pub code: Option<i64>,
    pub subcode: Option<i64>,
    /// `type`, e.g. `OAuthException`.
    pub error_type: Option<String>,
    pub message: String,
    pub user_title: Option<String>,
    pub user_msg: Option<String>,
    pub fbtrace_id: Option<String>,
    pub is_transient: bool,
}

/// What a failure means for the row and its WABA/app/token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Retry with backoff (network errors, 5xx without Graph body, transient codes).
    Transient,
    /// Retry after the WABA's budget comes back (80007/80008): pause that WABA.
    ThrottledWaba,
    /// Retry after the app's budget comes back (4/17/613 with usage at limit): pause everything.
    ThrottledApp,
    /// Retry, but not before this long (133015: at least 5 minutes).
    WaitAtLeast(Duration),
    /// The token is bad (190): stop every row using it.
    Token,
    /// The number may already exist (2388012, 100/200000 "already registered"):
    /// reconcile through the listing call.
    AlreadyExists,
    /// Never retried (100, 10, 102, 104, 200–299, 368, 200000, 2388xxx, ...).
    Permanent,
}
