//! Throttling hints read from response headers: `Retry-After`,
//! `X-Business-Use-Case-Usage`, `X-App-Usage`, `facebook-api-version`.

use std::time::Duration;

/// What one response's headers said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints {
    pub retry_after: Option<Duration>,
    /// Highest percentage in `X-Business-Use-Case-Usage` for the WABA called.
    pub waba_usage_pct: Option<u32>,
    /// `estimated_time_to_regain_access` (minutes in the header) for the WABA.
    pub waba_regain: Option<Duration>,
    /// Highest percentage in `X-App-Usage`.
    pub app_usage_pct: Option<u32>,
    /// `facebook-api-version`: the version that served the call.
    pub api_version: Option<String>,
}
