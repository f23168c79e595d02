//! What the sandbox does, decided once: a JSON/YAML config file (and, through
//! `cli`, the `sandbox` flags on top of it) becomes one checked
//! [`SandboxConfig`]. Nothing after this sees raw strings. Fake tokens, the
//! fake app secret and the configured two-step PINs never print in `Debug`
//! (same rule as real ones).

use crate::limits::Rate;
use crate::secret::SecretError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// Everything the sandbox can be told. `Default` is permissive: any non-empty
/// Bearer token, no app secret, no budgets, no latency, no faults.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seeds the fault draws, the latency jitter and the ids.
    pub seed: u64,
    /// token → WABA ids it may use (`"*"` = all). Empty = any non-empty token, every WABA.
    pub tokens: TokenGrants,
    /// Tokens answered with 190/463 "Session has expired".
    pub expired_tokens: TokenList,
    /// When set, every call must carry a valid `appsecret_proof`.
    pub app_secret: Option<SandboxSecret>,
    /// WABAs no token may touch (code 200).
    pub forbidden_wabas: Vec<String>,
    /// Numbers already on a WABA when the sandbox starts (and after a reset),
    /// to rehearse "already exists" and reconciliation.
    pub existing_numbers: Vec<ExistingNumber>,
    /// Calls per rolling window per WABA (POST and GET), e.g. `"200/1h"`; beyond → 80008.
    pub waba_budget: Option<Rate>,
    /// Calls per rolling window for the whole app; beyond → code 4.
    pub app_budget: Option<Rate>,
    /// Calls refused while throttled still count, so hammering extends the block (Meta's warning).
    pub throttle_extension: bool,
    /// Send `Retry-After: SECS` on throttled answers (and round the minutes down, see `--help`).
    pub retry_after: bool,
    /// Added to every Graph answer.
    pub latency_ms: u64,
    /// Uniform extra delay in 0..=jitter_ms, seeded.
    pub jitter_ms: u64,
    pub faults: FaultRates,
    /// Request-log entries kept (oldest dropped beyond it), default 200,000:
    /// bounds memory in long benchmarks; the ledger itself is never trimmed.
    pub request_log_limit: usize,

    // --- onboarding (SPEC 7) ---------------------------------------------------
    /// How long a code from request_code stays valid, default 10 minutes.
    pub code_ttl_ms: u64,
    /// Register calls allowed per number in a moving window (refused ones
    /// count), default Meta's 10/72h; beyond → 133016 and the number is locked
    /// for one window.
    pub register_limit: Rate,
    /// After this long from creation a number's display name turns from
    /// PENDING_REVIEW to APPROVED, default 30 s.
    pub name_review_delay_ms: u64,
    /// Numbers (E.164 digits, cc + national number) that already have a
    /// two-step PIN: register with another PIN → 133005.
    pub numbers_with_pin: NumberPins,
    /// Numbers (E.164 digits) whose source WABA still has two-step
    /// verification on: a migration of them is refused (2388103).
    pub two_step_on_source: Vec<String>,
    /// `preverified_id`s whose verification has expired: the number is created
    /// EXPIRED (not verified), so register answers 133006.
    pub expired_preverified_ids: Vec<String>,
    /// Numbers a WABA (or a token) may hold; beyond → HTTP 403, 200/1349175.
    pub portfolio_cap: Option<PortfolioCap>,
    /// How a wrong or expired code is refused: 136025, or Meta's documented 100.
    pub rejected_code_answer: RejectedCodeAnswer,
    /// How register on a CONNECTED number is answered.
    pub connected_register_answer: ConnectedRegisterAnswer,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            port: 0,
            seed: 1,
            tokens: TokenGrants::default(),
            expired_tokens: TokenList::default(),
            app_secret: None,
            forbidden_wabas: Vec::new(),
            existing_numbers: Vec::new(),
            waba_budget: None,
            app_budget: None,
            throttle_extension: true,
            retry_after: false,
            latency_ms: 0,
            jitter_ms: 0,
            faults: FaultRates::default(),
            request_log_limit: 200_000,
            code_ttl_ms: 10 * 60 * 1000,
            register_limit: Rate {
                count: 10,
                per: Duration::from_secs(72 * 3600),
            },
            name_review_delay_ms: 30_000,
            numbers_with_pin: NumberPins::default(),
            two_step_on_source: Vec::new(),
            expired_preverified_ids: Vec::new(),
            portfolio_cap: None,
            rejected_code_answer: RejectedCodeAnswer::default(),
            connected_register_answer: ConnectedRegisterAnswer::default(),
        }
    }
}

impl SandboxConfig {
    pub fn code_ttl(&self) -> Duration {
        Duration::from_millis(self.code_ttl_ms)
    }
    pub fn name_review_delay(&self) -> Duration {
        Duration::from_millis(self.name_review_delay_ms)
    }
}

/// Probabilities (0..=1) that a request suffers each fault. They are exclusive
/// (one seeded draw per request picks at most one), so each rate is exact and
/// their sum must be ≤ 1.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRates {
    /// HTTP 500 with code 2 / 1 / 131000 and `is_transient: true`; nothing created.
    pub transient: f64,
    /// HTTP 503 with an HTML page (a proxy); nothing created.
    pub html_503: f64,
    /// Answer only after `slow_ms` (then a transient code 2); nothing created.
    pub slow: f64,
    pub slow_ms: u64,
    /// The call IS carried out, then the connection closes without any answer.
    /// Despite the name it covers every POST: a create, request_code,
    /// verify_code or register (the name is kept for existing configs).
    pub drop_after_create: f64,
    /// Faults also hit GETs, listings and number reads (never
    /// `drop_after_create`, which needs a POST that does something).
    pub on_get: bool,
}

impl Default for FaultRates {
    fn default() -> Self {
        FaultRates {
            transient: 0.0,
            html_503: 0.0,
            slow: 0.0,
            slow_ms: 35_000,
            drop_after_create: 0.0,
            on_get: false,
        }
    }
}

impl FaultRates {
    pub fn total(&self) -> f64 {
        self.transient + self.html_503 + self.slow + self.drop_after_create
    }
}

/// A number the sandbox holds from the start (no request created it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExistingNumber {
    pub waba_id: String,
    pub cc: String,
    pub phone_number: String,
}

/// E.164 digits (cc + national number) → the number's two-step PIN (6
/// digits). `Debug` shows only the count: a PIN is a secret like a token.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct NumberPins(pub BTreeMap<String, String>);

impl fmt::Debug for NumberPins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NumberPins({} numbers, [redacted])", self.0.len())
    }
}

/// The portfolio cap: at most `numbers` per WABA, or per token (the token
/// standing for its business portfolio).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PortfolioCap {
    pub numbers: u32,
    #[serde(default)]
    pub scope: CapScope,
}

/// What the portfolio cap counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CapScope {
    /// Numbers held on the WABA the create is for.
    #[default]
    Waba,
    /// Numbers created through the same token, on any WABA.
    Token,
}

/// The answer to a wrong or expired code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
pub enum RejectedCodeAnswer {
    /// `136025`, the code of Meta's error tables.
    #[default]
    #[serde(rename = "136025")]
    Code136025,
    /// `100` "The verification code is invalid or has expired" (Meta's OpenAPI example).
    #[serde(rename = "100")]
    Invalid100,
}

/// The answer to register on a number already CONNECTED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectedRegisterAnswer {
    /// `{"success":true}`: registering again changes nothing.
    #[default]
    Success,
    /// `100` "already registered or in invalid state for registration" (Meta's
    /// OpenAPI example), for clients that settle it by reading the number.
    AlreadyRegistered,
}

impl FromStr for CapScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "waba" => Ok(CapScope::Waba),
            "token" => Ok(CapScope::Token),
            _ => Err(format!("`{s}`: expected waba or token")),
        }
    }
}

impl FromStr for RejectedCodeAnswer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "136025" => Ok(RejectedCodeAnswer::Code136025),
            "100" => Ok(RejectedCodeAnswer::Invalid100),
            _ => Err(format!("`{s}`: expected 136025 or 100")),
        }
    }
}

impl FromStr for ConnectedRegisterAnswer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.replace('-', "_").as_str() {
            "success" => Ok(ConnectedRegisterAnswer::Success),
            "already_registered" => Ok(ConnectedRegisterAnswer::AlreadyRegistered),
            _ => Err(format!("`{s}`: expected success or already-registered")),
        }
    }
}

/// A fake secret from the config file or an env var; `Debug` shows `[redacted]`.
#[derive(Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct SandboxSecret(pub String);

impl fmt::Debug for SandboxSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// token → WABA ids (`"*"` = every WABA). `Debug` shows only the count.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct TokenGrants(pub BTreeMap<String, Vec<String>>);

impl fmt::Debug for TokenGrants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenGrants({} tokens, [redacted])", self.0.len())
    }
}

/// A list of fake tokens; `Debug` shows only the count.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct TokenList(pub Vec<String>);

impl fmt::Debug for TokenList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenList({} tokens, [redacted])", self.0.len())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot read sandbox config {path}: {source}")]
    ConfigRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("sandbox config {path}: {message}")]
    ConfigParse { path: PathBuf, message: String },
    #[error("{flag}: {message}")]
    BadFlag { flag: &'static str, message: String },
    #[error("fault rates add up to {0}, more than 1 (each request suffers at most one fault)")]
    FaultRatesOverOne(f64),
    #[error("--app-secret-env: {0}")]
    AppSecret(#[from] SecretError),
}

impl SandboxConfig {
    /// Read a JSON (`.json`) or YAML (anything else) config file.
    pub fn from_file(path: &Path) -> Result<Self, SandboxError> {
        let text = std::fs::read_to_string(path).map_err(|source| SandboxError::ConfigRead {
            path: path.to_path_buf(),
            source,
        })?;
        let parse_err = |message: String| SandboxError::ConfigParse {
            path: path.to_path_buf(),
            message,
        };
        let config: SandboxConfig = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| parse_err(e.to_string()))?
        } else {
            serde_saphyr::from_str(&text).map_err(|e| parse_err(e.to_string()))?
        };
        config.check()?;
        Ok(config)
    }

    /// Rates are probabilities and exclusive, so their sum is at most 1.
    pub fn check(&self) -> Result<(), SandboxError> {
        let f = &self.faults;
        for (flag, p) in [
            ("transient rate", f.transient),
            ("html 503 rate", f.html_503),
            ("slow rate", f.slow),
            ("drop-after-create rate", f.drop_after_create),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(SandboxError::BadFlag {
                    flag: "faults",
                    message: format!("{flag} {p} is not a probability in 0..1"),
                });
            }
        }
        if f.total() > 1.0 + 1e-9 {
            return Err(SandboxError::FaultRatesOverOne(f.total()));
        }
        self.check_onboarding()
    }

    fn check_onboarding(&self) -> Result<(), SandboxError> {
        let bad =
            |flag: &'static str, message: String| Err(SandboxError::BadFlag { flag, message });
        let six_digits = |s: &str| s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit());
        let e164 = |s: &str| (2..=15).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        if self.code_ttl_ms == 0 {
            return bad("code TTL", "must be more than 0 ms".into());
        }
        for (number, pin) in &self.numbers_with_pin.0 {
            if !e164(number) {
                return bad(
                    "numbers with a PIN",
                    format!("`{number}` is not E.164 digits (cc + national number)"),
                );
            }
            if !six_digits(pin) {
                // The PIN itself is not echoed: it is a secret.
                return bad(
                    "numbers with a PIN",
                    format!("the PIN of {number} is not exactly 6 digits"),
                );
            }
        }
        if let Some(n) = self.two_step_on_source.iter().find(|n| !e164(n)) {
            return bad(
                "two-step on source",
                format!("`{n}` is not E.164 digits (cc + national number)"),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_config_and_unknown_fields() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("s.json");
        std::fs::write(&good, r#"{"app_secret":"shh","forbidden_wabas":["9"]}"#).unwrap();
        let c = SandboxConfig::from_file(&good).unwrap();
        assert_eq!(c.app_secret, Some(SandboxSecret("shh".into())));
        assert!(!format!("{c:?}").contains("shh"));
        let bad = dir.path().join("b.json");
        std::fs::write(&bad, r#"{"tokenz":{}}"#).unwrap();
        assert!(matches!(
            SandboxConfig::from_file(&bad),
            Err(SandboxError::ConfigParse { .. })
        ));
    }

    #[test]
    fn config_round_trips_through_json_for_a_spawned_sandbox() {
        let c = SandboxConfig {
            waba_budget: Some(Rate::parse("t", "5/2s").unwrap()),
            app_secret: Some(SandboxSecret("s".into())),
            ..SandboxConfig::default()
        };
        let text = serde_json::to_string(&c).unwrap();
        let back: SandboxConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(back.waba_budget, c.waba_budget);
        assert_eq!(back.app_secret, c.app_secret);
    }
}
