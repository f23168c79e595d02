//! Meta's error body and what it means for the runner (SPEC section 4).
//!
//! The type lives here; reading it from a body is in `parse.rs`, deciding what
//! it means (transient, throttled, token, permanent...) is in `classify.rs`.

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
    /// Meta's `message`, with `error_data.details` appended when present
    /// (Meta says to build error handling around `code` and `details`).
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
    /// The token is bad (190, 102): stop every row using it.
    Token,
    /// The number may already exist (2388012, 100/200000 "already registered"):
    /// reconcile through the listing call.
    AlreadyExists,
    /// Never retried (100, 10, 102, 104, 200–299, 368, 200000, 2388xxx, ...).
    Permanent,
}

impl ErrorClass {
    /// Whether sending the same request again may succeed (after a wait for
    /// the throttled classes). `AlreadyExists` is answered by reconciling, not
    /// by re-sending blindly; `Token` and `Permanent` never.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorClass::Transient
                | ErrorClass::ThrottledWaba
                | ErrorClass::ThrottledApp
                | ErrorClass::WaitAtLeast(_)
        )
    }
}

impl GraphError {
    /// One line for the results file and the summary: `(#100/2388012) message`,
    /// `(#190) message`, or the message alone when there is no Graph code.
    /// Meta often starts `message` with `(#code)` itself; it is not repeated.
    pub fn summary(&self) -> String {
        let message = one_line(strip_code_prefix(&self.message, self.code));
        let mut out = match (self.code, self.subcode) {
            (Some(code), Some(sub)) => format!("(#{code}/{sub}) {message}"),
            (Some(code), None) => format!("(#{code}) {message}"),
            (None, _) => message,
        };
        // The user-facing text is often the only actionable part (e.g. 2388001).
        if let Some(user_msg) = self.user_msg.as_deref().map(one_line)
            && !user_msg.is_empty()
            && !out.contains(&user_msg)
        {
            out.push_str(" — ");
            out.push_str(&user_msg);
        }
        out
    }

    /// The answer says the number is already there: reconcile, don't fail.
    pub fn is_already_exists(&self) -> bool {
        self.class() == ErrorClass::AlreadyExists
    }
}

/// `"(#80008) There have been..."` → `"There have been..."` when the prefix
/// repeats the code we print anyway.
fn strip_code_prefix(message: &str, code: Option<i64>) -> &str {
    let Some(code) = code else { return message };
    let prefix = format!("(#{code})");
    match message.strip_prefix(&prefix) {
        Some(rest) => rest.trim_start(),
        None => message,
    }
}

/// Control characters (newlines from an HTML page, tabs) become spaces so a
/// message stays one line in the summary and the results file.
pub(crate) fn one_line(s: &str) -> String {
    let replaced: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    replaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: Option<i64>, subcode: Option<i64>, message: &str) -> GraphError {
        GraphError {
            code,
            subcode,
            message: message.into(),
            ..GraphError::default()
        }
    }

    #[test]
    fn summary_shows_code_and_subcode() {
        let e = err(Some(100), Some(2388012), "This phone number already exists");
        assert_eq!(
            e.summary(),
            "(#100/2388012) This phone number already exists"
        );
        assert_eq!(
            err(Some(190), None, "Bad token").summary(),
            "(#190) Bad token"
        );
    }

    #[test]
    fn summary_does_not_repeat_metas_code_prefix() {
        let e = err(Some(80008), None, "(#80008) There have been too many calls");
        assert_eq!(e.summary(), "(#80008) There have been too many calls");
        // A different code in the prefix is kept: it is information.
        let e = err(Some(100), None, "(#131009) Parameter value is not valid");
        assert_eq!(e.summary(), "(#100) (#131009) Parameter value is not valid");
    }

    #[test]
    fn summary_without_code_is_the_message_on_one_line() {
        let e = err(None, None, "HTTP 503 Service Unavailable\n(non-JSON body)");
        assert_eq!(e.summary(), "HTTP 503 Service Unavailable (non-JSON body)");
    }

    #[test]
    fn summary_appends_user_message_once() {
        let mut e = err(Some(100), Some(2388001), "Cannot Create Certificate");
        e.user_msg = Some("Disconnect it from the existing account.".into());
        assert_eq!(
            e.summary(),
            "(#100/2388001) Cannot Create Certificate — Disconnect it from the existing account."
        );
        e.message = "Disconnect it from the existing account.".into();
        assert_eq!(
            e.summary(),
            "(#100/2388001) Disconnect it from the existing account."
        );
    }

    #[test]
    fn retryable_classes() {
        assert!(ErrorClass::Transient.is_retryable());
        assert!(ErrorClass::ThrottledWaba.is_retryable());
        assert!(ErrorClass::WaitAtLeast(Duration::from_secs(300)).is_retryable());
        assert!(!ErrorClass::Token.is_retryable());
        assert!(!ErrorClass::Permanent.is_retryable());
        assert!(!ErrorClass::AlreadyExists.is_retryable());
    }
}
