//! Meta's wording: every Graph error the sandbox can give (code, subcode,
//! type, message, HTTP status) and the usage headers, in one place so a reader
//! can compare them with `reference/graph-api.md`. Statuses are mostly 400, as
//! Meta's are; a few use 401/403/500 so clients stay status-agnostic.

use serde_json::{Map, Value, json};

/// One Graph error answer, before the per-answer `fbtrace_id` is added.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GraphErr {
    pub status: u16,
    pub code: i64,
    pub subcode: Option<u32>,
    pub kind: &'static str,
    pub message: String,
    pub user_title: Option<&'static str>,
    pub user_msg: Option<&'static str>,
    pub transient: Option<bool>,
    /// OAuth-type errors carry `WWW-Authenticate: OAuth "Facebook Platform" …`.
    pub www_authenticate: Option<WwwAuthenticate>,
    /// WhatsApp errors' `error_data.details`: what to do about it (a boxed
    /// `str`, for the same reason).
    pub details: Option<Box<str>>,
}

/// The kind in `WWW-Authenticate` (a one-byte enum: every check returns a
/// `GraphErr`, so it stays small).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WwwAuthenticate {
    InvalidRequest,
    InvalidToken,
    InsufficientScope,
}

impl WwwAuthenticate {
    fn as_str(self) -> &'static str {
        match self {
            WwwAuthenticate::InvalidRequest => "invalid_request",
            WwwAuthenticate::InvalidToken => "invalid_token",
            WwwAuthenticate::InsufficientScope => "insufficient_scope",
        }
    }
}

const OAUTH: &str = "OAuthException";
const METHOD: &str = "GraphMethodException";

impl GraphErr {
    fn new(status: u16, code: i64, kind: &'static str, message: impl Into<String>) -> Self {
        GraphErr {
            status,
            code,
            subcode: None,
            kind,
            message: message.into(),
            user_title: None,
            user_msg: None,
            transient: None,
            www_authenticate: None,
            details: None,
        }
    }

    /// A WhatsApp-side error: `(#code) title` with `error_data.details`.
    fn whatsapp(code: i64, title: &str, details: impl Into<String>) -> Self {
        let mut e = GraphErr::new(400, code, OAUTH, format!("(#{code}) {title}"));
        e.details = Some(details.into().into_boxed_str());
        e
    }

    pub(crate) fn body(&self, fbtrace_id: &str) -> Value {
        let mut e = Map::new();
        e.insert("message".into(), json!(self.message));
        e.insert("type".into(), json!(self.kind));
        e.insert("code".into(), json!(self.code));
        if let Some(s) = self.subcode {
            e.insert("error_subcode".into(), json!(s));
        }
        if let Some(t) = self.transient {
            e.insert("is_transient".into(), json!(t));
        }
        if let Some(t) = self.user_title {
            e.insert("error_user_title".into(), json!(t));
        }
        if let Some(m) = self.user_msg {
            e.insert("error_user_msg".into(), json!(m));
        }
        if let Some(d) = &self.details {
            e.insert(
                "error_data".into(),
                json!({ "messaging_product": "whatsapp", "details": &**d }),
            );
        }
        e.insert("fbtrace_id".into(), json!(fbtrace_id));
        json!({ "error": e })
    }

    /// The `WWW-Authenticate` value, when this error has one.
    pub(crate) fn www_authenticate_value(&self) -> Option<String> {
        self.www_authenticate.map(|kind| {
            format!(
                "OAuth \"Facebook Platform\" \"{}\" \"{}\"",
                kind.as_str(),
                self.message
            )
        })
    }

    // --- routing -----------------------------------------------------------

    /// Bad version or unknown path (`v99.0`, `/foo`): Meta's 2500.
    pub(crate) fn unknown_path(path: &str) -> Self {
        GraphErr::new(400, 2500, OAUTH, format!("Unknown path components: {path}"))
    }

    pub(crate) fn unsupported_method(method: &str, waba: &str) -> Self {
        let mut e = GraphErr::new(
            400,
            100,
            METHOD,
            format!(
                "Unsupported {} request. Object with ID '{waba}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                method.to_ascii_lowercase()
            ),
        );
        e.subcode = Some(33);
        e
    }

    // --- authentication ------------------------------------------------------

    pub(crate) fn token_missing() -> Self {
        let mut e = GraphErr::new(
            400,
            104,
            OAUTH,
            "An access token is required to request this resource.",
        );
        e.www_authenticate = Some(WwwAuthenticate::InvalidRequest);
        e
    }

    /// A token the sandbox does not know (HTTP 401 as in Meta's OpenAPI example).
    pub(crate) fn token_invalid() -> Self {
        GraphErr::token_190(
            401,
            467,
            "Invalid OAuth access token - Cannot parse access token",
        )
    }

    /// An expired token (observed as HTTP 400).
    pub(crate) fn token_expired() -> Self {
        GraphErr::token_190(
            400,
            463,
            "Error validating access token: Session has expired on Tuesday, 01-Sep-26 12:00:00 PDT. The current time is later.",
        )
    }

    /// Code 190 (a token that cannot be used), with `WWW-Authenticate: … "invalid_token"`.
    fn token_190(status: u16, subcode: u32, message: &'static str) -> Self {
        let mut e = GraphErr::new(status, 190, OAUTH, message);
        e.subcode = Some(subcode);
        e.www_authenticate = Some(WwwAuthenticate::InvalidToken);
        e
    }

    pub(crate) fn proof_missing() -> Self {
        GraphErr::new(
            400,
            100,
            METHOD,
            "API calls from the server require an appsecret_proof argument",
        )
    }

    pub(crate) fn proof_invalid() -> Self {
        GraphErr::new(
            400,
            100,
            METHOD,
            "Invalid appsecret_proof provided in the API argument",
        )
    }

    // --- permissions -----------------------------------------------------------

    /// A WABA no token may use (configured `forbidden_wabas`).
    pub(crate) fn forbidden_waba() -> Self {
        GraphErr::new(
            400,
            200,
            OAUTH,
            "(#200) Requires whatsapp_business_management permission to manage the object",
        )
    }

    /// The token exists but was not granted this WABA (a system user without
    /// access gets 200; HTTP 403 as in Meta's older table).
    pub(crate) fn not_granted() -> Self {
        let mut e = GraphErr::new(
            403,
            200,
            OAUTH,
            "(#200) You do not have the necessary permissions required to manage this WhatsApp Business Account",
        );
        e.www_authenticate = Some(WwwAuthenticate::InsufficientScope);
        e
    }

    // --- budgets ---------------------------------------------------------------

    pub(crate) fn app_limit() -> Self {
        let mut e = GraphErr::new(400, 4, OAUTH, "(#4) Application request limit reached");
        e.transient = Some(true);
        e.www_authenticate = Some(WwwAuthenticate::InvalidRequest);
        e
    }

    pub(crate) fn waba_limit() -> Self {
        GraphErr::new(
            400,
            80008,
            OAUTH,
            "(#80008) There have been too many calls to this WhatsApp Business account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
        )
    }

    // --- parameters ------------------------------------------------------------

    pub(crate) fn param(message: impl Into<String>) -> Self {
        let mut e = GraphErr::new(400, 100, OAUTH, format!("(#100) {}", message.into()));
        e.user_title = Some("Invalid parameter");
        e
    }

    /// The number is already on this WABA (WAERR's 2388012 wording).
    pub(crate) fn already_here() -> Self {
        let mut e = GraphErr::new(400, 100, OAUTH, "(#100) Invalid parameter");
        e.subcode = Some(2388012);
        e.user_title = Some("Phone number already exists");
        e.user_msg = Some("This phone number already exists in your list of phone numbers.");
        e
    }

    /// The number is on another WABA: the wording of Meta's OpenAPI example
    /// ("already registered with WhatsApp Business"), with subcode 2388001,
    /// which Meta uses for "registered to an existing WhatsApp account".
    pub(crate) fn already_elsewhere() -> Self {
        let mut e = GraphErr::new(
            400,
            100,
            OAUTH,
            "(#100) Phone number is already registered with WhatsApp Business",
        );
        e.subcode = Some(2388001);
        e.user_title = Some("Phone number already in use");
        e.user_msg = Some(
            "This number is registered to an existing WhatsApp account. To use this number, disconnect it from the existing account.",
        );
        e
    }

    /// The portfolio cap (Meta's OpenAPI example: HTTP 403, 200/1349175).
    pub(crate) fn portfolio_cap(what: &str) -> Self {
        let mut e = GraphErr::new(
            403,
            200,
            OAUTH,
            format!("(#200) Phone number limit exceeded for this {what}"),
        );
        e.subcode = Some(1349175);
        e.user_title = Some("Phone number limit reached");
        e.user_msg = Some(
            "This business portfolio has reached the number of phone numbers it may hold. Business verification raises the limit.",
        );
        e
    }

    /// A migration of a number whose source WABA still has two-step
    /// verification on (WAERR's 2388103 catch-all, with the BM API wording).
    pub(crate) fn two_step_on_source() -> Self {
        let mut e = GraphErr::new(400, 100, OAUTH, "(#100) Invalid parameter");
        e.subcode = Some(2388103);
        e.user_title = Some("Cannot migrate phone number");
        e.user_msg = Some(
            "Two-step authentication must be disabled for this phone number. Turn off two-step verification on the source WhatsApp Business Account in WhatsApp Manager, then migrate again.",
        );
        e
    }

    // --- onboarding steps (SPEC 7) -----------------------------------------------

    /// request_code on a number already verified.
    pub(crate) fn already_verified() -> Self {
        GraphErr::whatsapp(
            136024,
            "Phone number is already verified",
            "This phone number has already been verified; check code_verification_status before requesting a code. Register it instead.",
        )
    }

    /// verify_code with a wrong or expired code (Meta's error tables).
    pub(crate) fn code_rejected() -> Self {
        GraphErr::whatsapp(
            136025,
            "Verify code error",
            "The code you entered is incorrect or has expired. Check the code or request a new one.",
        )
    }

    /// The same, in the shape of Meta's OpenAPI example (HTTP 422, code 100).
    pub(crate) fn code_rejected_100() -> Self {
        let mut e = GraphErr::param("The verification code is invalid or has expired");
        e.status = 422;
        e
    }

    pub(crate) fn code_format() -> Self {
        GraphErr::param("Invalid verification code format")
    }

    pub(crate) fn pin_format() -> Self {
        GraphErr::param("PIN must be exactly 6 digits")
    }

    /// register with a PIN other than the number's two-step PIN.
    pub(crate) fn pin_mismatch() -> Self {
        GraphErr::whatsapp(
            133005,
            "Two step verification PIN Mismatch",
            "The PIN does not match the two-step verification PIN set on this phone number. Register with that PIN, or reset it in WhatsApp Manager.",
        )
    }

    /// register before the number is verified.
    pub(crate) fn not_verified() -> Self {
        GraphErr::whatsapp(
            133006,
            "Phone number re-verification needed",
            "The phone number must be verified before it can be registered: request a code and verify it first.",
        )
    }

    /// Too many register calls: the number is locked for `remaining`.
    pub(crate) fn register_locked(limit: &str, remaining_secs: u64) -> Self {
        GraphErr::whatsapp(
            133016,
            "Registration or Deregistration failed because there were too many attempts for this phone number in a short period of time",
            format!(
                "The phone number is locked: more than {limit} register calls. Try again in {remaining_secs} seconds."
            ),
        )
    }

    /// register on a CONNECTED number, in the shape of Meta's OpenAPI example.
    pub(crate) fn already_registered() -> Self {
        let mut e = GraphErr::param(
            "Phone number is already registered or in invalid state for registration",
        );
        e.status = 422;
        e
    }

    // --- faults ----------------------------------------------------------------

    /// A transient server error; `variant` rotates Meta's three kinds.
    pub(crate) fn transient(variant: u8) -> Self {
        let mut e = match variant % 3 {
            0 => GraphErr::new(500, 2, OAUTH, "(#2) Service temporarily unavailable"),
            1 => GraphErr::new(500, 1, OAUTH, "An unknown error occurred"),
            _ => GraphErr::new(500, 131000, OAUTH, "(#131000) Something went wrong"),
        };
        e.transient = Some(true);
        e
    }
}

/// The HTML page a proxy in front of Graph answers with (not Graph JSON).
pub(crate) const HTML_503: &str = "<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>\n<body><h1>503 Service Unavailable</h1><p>No server is available to handle this request.</p></body></html>\n";

/// `X-Business-Use-Case-Usage` for one WABA. Written directly (it goes on
/// every answer, under the state lock) rather than built as a `Value`; the
/// key is a WABA id, which the checks have already found to be all digits,
/// so it needs no JSON escaping.
pub(crate) fn buc_usage(waba: &str, pct: u32, regain_minutes: u64) -> String {
    debug_assert!(waba.bytes().all(|b| b.is_ascii_digit()));
    format!(
        "{{\"{waba}\":[{{\"call_count\":{pct},\"estimated_time_to_regain_access\":{regain_minutes},\"total_cputime\":{pct},\"total_time\":{pct},\"type\":\"whatsapp_business_management\"}}]}}"
    )
}

/// `X-App-Usage`.
pub(crate) fn app_usage(pct: u32) -> String {
    format!("{{\"call_count\":{pct},\"total_cputime\":{pct},\"total_time\":{pct}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_meta_shape_and_omits_absent_fields() {
        let b = GraphErr::waba_limit().body("AbC123");
        let e = &b["error"];
        assert_eq!(e["code"], 80008);
        assert_eq!(e["type"], "OAuthException");
        assert_eq!(e["fbtrace_id"], "AbC123");
        assert!(e.get("error_subcode").is_none() && e.get("is_transient").is_none());
        let t = GraphErr::transient(0).body("x");
        assert_eq!(t["error"]["is_transient"], true);
        assert_eq!(t["error"]["code"], 2);
        assert_eq!(
            GraphErr::already_here().body("x")["error"]["error_subcode"],
            2388012
        );
        assert!(
            GraphErr::already_here().body("x")["error"]
                .get("error_data")
                .is_none()
        );
    }

    #[test]
    fn onboarding_errors_carry_whatsapp_details() {
        let b = GraphErr::register_locked("10/72h", 60).body("x");
        let e = &b["error"];
        assert_eq!(
            (e["code"].as_i64(), e["type"].as_str()),
            (Some(133016), Some("OAuthException"))
        );
        assert!(e["message"].as_str().unwrap().starts_with("(#133016) "));
        assert_eq!(e["error_data"]["messaging_product"], "whatsapp");
        assert!(
            e["error_data"]["details"]
                .as_str()
                .unwrap()
                .contains("locked")
        );
        let cap = GraphErr::portfolio_cap("WhatsApp Business Account");
        assert_eq!(
            (cap.status, cap.code, cap.subcode),
            (403, 200, Some(1349175))
        );
        assert!(cap.message.contains("Phone number limit exceeded"));
        assert_eq!(GraphErr::code_rejected_100().code, 100);
        assert_eq!(GraphErr::two_step_on_source().subcode, Some(2388103));
    }

    #[test]
    fn usage_headers_are_json_keyed_by_waba() {
        let v: Value = serde_json::from_str(&buc_usage("123", 100, 3)).unwrap();
        assert_eq!(v["123"][0]["call_count"], 100);
        assert_eq!(v["123"][0]["estimated_time_to_regain_access"], 3);
        assert_eq!(v["123"][0]["type"], "whatsapp_business_management");
        let a: Value = serde_json::from_str(&app_usage(42)).unwrap();
        assert_eq!(a["call_count"], 42);
        assert_eq!(
            GraphErr::token_invalid().www_authenticate_value().unwrap(),
            "OAuth \"Facebook Platform\" \"invalid_token\" \"Invalid OAuth access token - Cannot parse access token\""
        );
    }
}
