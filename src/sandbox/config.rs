//! What the sandbox does, decided once: the raw `sandbox` flags
//! ([`SandboxArgs`]) and an optional JSON/YAML config file become one checked
//! [`SandboxConfig`]. Nothing after this sees raw strings. Fake tokens and the
//! fake app secret never print in `Debug` (same rule as real ones).

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
    pub waba_budget: Option<Budget>,
    /// Calls per rolling window for the whole app; beyond → code 4.
    pub app_budget: Option<Budget>,
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
        }
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
    /// The number IS created, then the connection closes without any answer.
    pub drop_after_create: f64,
    /// Faults also hit GET listings (never `drop_after_create`, which needs a create).
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

/// `N/DURATION`: at most N calls in any rolling window of DURATION
/// (`ms`, `s`, `m`, `h`, with an optional count: `200/1h`, `5/2s`, `3/200ms`, `10/m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct Budget {
    pub calls: u32,
    pub window: Duration,
}

impl FromStr for Budget {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not N/DURATION (e.g. 200/1h, 5/2s, 3/200ms)");
        let (n, dur) = s.trim().split_once('/').ok_or_else(bad)?;
        let calls: u32 = n.trim().parse().map_err(|_| bad())?;
        let dur = dur.trim();
        let split = dur.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (count, unit) = dur.split_at(split);
        let count: u64 = if count.is_empty() {
            1
        } else {
            count.parse().map_err(|_| bad())?
        };
        let window = match unit {
            "ms" => Duration::from_millis(count),
            "s" => Duration::from_secs(count),
            "m" => Duration::from_secs(count * 60),
            "h" => Duration::from_secs(count * 3600),
            _ => return Err(bad()),
        };
        if calls == 0 || window.is_zero() {
            return Err(bad());
        }
        Ok(Budget { calls, window })
    }
}

impl From<Budget> for String {
    /// Milliseconds, so any window survives a round trip.
    fn from(b: Budget) -> String {
        format!("{}/{}ms", b.calls, b.window.as_millis())
    }
}

impl TryFrom<String> for Budget {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
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

/// Behaviour options of `waba-provision sandbox`. A flag given on the command
/// line overrides the same field of `--config`.
#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = super::help::SANDBOX_HELP
)]
pub struct SandboxArgs {
    /// Port to listen on (127.0.0.1 only); 0 picks a free one.
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub port: u16,
    /// JSON (.json) or YAML config file with the fields of these flags (see Examples).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Seed of the fault draws, latency jitter and ids: same seed + same request sequence = same answers.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Accept only these tokens, each for the WABAs listed (`*` = all): TOKEN=WABA[,WABA...]. Repeatable. Another token gets 190; a listed token on another WABA gets 200.
    #[arg(long = "token", value_name = "TOKEN=WABAS")]
    pub tokens: Vec<String>,
    /// A token answered with 190 / subcode 463 "Session has expired". Repeatable.
    #[arg(long = "expired-token", value_name = "TOKEN")]
    pub expired_tokens: Vec<String>,
    /// Environment variable holding the app secret: every call must then carry appsecret_proof (else 100).
    #[arg(long, value_name = "NAME")]
    pub app_secret_env: Option<String>,
    /// A WABA every call to is refused with code 200. Repeatable.
    #[arg(long = "forbidden-waba", value_name = "WABA_ID")]
    pub forbidden_wabas: Vec<String>,
    /// Per-WABA budget, N calls per rolling window (POST and GET count): 200/1h, 5/2s, 3/200ms. Beyond → 80008.
    #[arg(long, value_name = "N/DURATION")]
    pub waba_budget: Option<String>,
    /// App-wide budget, N calls per rolling window. Beyond → code 4 "Application request limit reached".
    #[arg(long, value_name = "N/DURATION")]
    pub app_budget: Option<String>,
    /// Calls refused while throttled do NOT count (by default they do and extend the block, as Meta warns).
    #[arg(long)]
    pub no_throttle_extension: bool,
    /// Send `Retry-After: SECS` on throttled answers; estimated_time_to_regain_access is then rounded down.
    #[arg(long)]
    pub retry_after: bool,
    /// Base latency added to every Graph answer, in milliseconds.
    #[arg(long, value_name = "MS")]
    pub latency_ms: Option<u64>,
    /// Extra seeded latency, uniform in 0..=MS.
    #[arg(long, value_name = "MS")]
    pub jitter_ms: Option<u64>,
    /// Rate (0..1) of transient errors: HTTP 500, code 2 (or 1, 131000), is_transient true.
    #[arg(long, value_name = "P")]
    pub transient_rate: Option<f64>,
    /// Rate (0..1) of HTTP 503 answers with an HTML body (a proxy page, not Graph JSON).
    #[arg(long = "html-503-rate", value_name = "P")]
    pub html_503_rate: Option<f64>,
    /// Rate (0..1) of answers delayed by --slow-ms (nothing is created).
    #[arg(long, value_name = "P")]
    pub slow_rate: Option<f64>,
    /// Delay of a slow answer, in milliseconds (default 35000, beyond the runner's 30 s timeout).
    #[arg(long, value_name = "MS")]
    pub slow_ms: Option<u64>,
    /// Rate (0..1) at which the number IS created and the connection then closes with no answer.
    #[arg(long, value_name = "P")]
    pub drop_after_create_rate: Option<f64>,
    /// Faults also hit GET listings (by default only POST creates).
    #[arg(long)]
    pub faults_on_get: bool,
    /// Request-log entries kept in memory, oldest dropped beyond (default 200000).
    #[arg(long, value_name = "N")]
    pub request_log_limit: Option<usize>,
}

impl SandboxConfig {
    /// `--config FILE` (if any), then every flag given on top of it.
    pub fn from_args(args: &SandboxArgs) -> Result<Self, SandboxError> {
        let mut c = match &args.config {
            Some(path) => SandboxConfig::from_file(path)?,
            None => SandboxConfig::default(),
        };
        if args.port != 0 {
            c.port = args.port;
        }
        if let Some(seed) = args.seed {
            c.seed = seed;
        }
        for grant in &args.tokens {
            let (token, wabas) = grant.split_once('=').ok_or_else(|| SandboxError::BadFlag {
                flag: "--token",
                message: "expected TOKEN=WABA[,WABA...] (WABA `*` = all)".into(),
            })?;
            let wabas: Vec<String> = wabas.split(',').map(|w| w.trim().to_string()).collect();
            if token.is_empty() || wabas.iter().any(String::is_empty) {
                return Err(SandboxError::BadFlag {
                    flag: "--token",
                    message: "empty token or WABA id".into(),
                });
            }
            c.tokens.0.insert(token.to_string(), wabas);
        }
        c.expired_tokens
            .0
            .extend(args.expired_tokens.iter().cloned());
        if let Some(name) = &args.app_secret_env {
            // Same checks (set, non-empty, UTF-8) as the runner's; the sandbox then
            // needs the raw value to verify proofs.
            crate::secret::AppSecret::from_env(name)?;
            c.app_secret = std::env::var(name)
                .ok()
                .map(|v| SandboxSecret(v.trim().to_string()));
        }
        c.forbidden_wabas
            .extend(args.forbidden_wabas.iter().cloned());
        if let Some(b) = &args.waba_budget {
            c.waba_budget = Some(parse_budget("--waba-budget", b)?);
        }
        if let Some(b) = &args.app_budget {
            c.app_budget = Some(parse_budget("--app-budget", b)?);
        }
        if args.no_throttle_extension {
            c.throttle_extension = false;
        }
        if args.retry_after {
            c.retry_after = true;
        }
        set(&mut c.latency_ms, args.latency_ms);
        set(&mut c.jitter_ms, args.jitter_ms);
        set(&mut c.faults.transient, args.transient_rate);
        set(&mut c.faults.html_503, args.html_503_rate);
        set(&mut c.faults.slow, args.slow_rate);
        set(&mut c.faults.slow_ms, args.slow_ms);
        set(&mut c.faults.drop_after_create, args.drop_after_create_rate);
        if args.faults_on_get {
            c.faults.on_get = true;
        }
        set(&mut c.request_log_limit, args.request_log_limit);
        c.check()?;
        Ok(c)
    }

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
        Ok(())
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

fn parse_budget(flag: &'static str, value: &str) -> Result<Budget, SandboxError> {
    value
        .parse()
        .map_err(|message| SandboxError::BadFlag { flag, message })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        args: SandboxArgs,
    }

    fn args(flags: &[&str]) -> SandboxArgs {
        let mut argv = vec!["sandbox"];
        argv.extend_from_slice(flags);
        Wrap::parse_from(argv).args
    }

    #[test]
    fn budgets_parse_with_and_without_count() {
        assert_eq!(
            "200/1h".parse::<Budget>().unwrap(),
            Budget {
                calls: 200,
                window: Duration::from_secs(3600)
            }
        );
        assert_eq!(
            "3/200ms".parse::<Budget>().unwrap().window,
            Duration::from_millis(200)
        );
        assert_eq!(
            "10/m".parse::<Budget>().unwrap().window,
            Duration::from_secs(60)
        );
        for bad in ["0/1s", "5", "5/0s", "5/2d", "x/1s", "5/"] {
            assert!(bad.parse::<Budget>().is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_override_the_file_and_default_is_permissive() {
        let d = SandboxConfig::default();
        assert!(d.tokens.0.is_empty() && d.app_secret.is_none() && d.waba_budget.is_none());
        assert_eq!(d.faults.total(), 0.0);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.yaml");
        std::fs::write(
            &file,
            "seed: 7\nwaba_budget: 5/2s\nfaults:\n  transient: 0.25\ntokens:\n  tokA: ['1', '2']\n",
        )
        .unwrap();
        let c = SandboxConfig::from_args(&args(&[
            "--config",
            file.to_str().unwrap(),
            "--seed",
            "9",
            "--token",
            "tokB=*",
        ]))
        .unwrap();
        assert_eq!(c.seed, 9);
        assert_eq!(c.waba_budget.unwrap().calls, 5);
        assert_eq!(c.faults.transient, 0.25);
        assert_eq!(c.tokens.0.len(), 2);
        assert_eq!(c.tokens.0["tokB"], vec!["*".to_string()]);
    }

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
            waba_budget: Some("5/2s".parse().unwrap()),
            app_secret: Some(SandboxSecret("s".into())),
            ..SandboxConfig::default()
        };
        let text = serde_json::to_string(&c).unwrap();
        let back: SandboxConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(back.waba_budget, c.waba_budget);
        assert_eq!(back.app_secret, c.app_secret);
    }

    #[test]
    fn rates_must_be_probabilities_summing_to_at_most_one() {
        assert!(SandboxConfig::from_args(&args(&["--transient-rate", "1.5"])).is_err());
        assert!(
            SandboxConfig::from_args(&args(&["--transient-rate", "0.6", "--slow-rate", "0.6"]))
                .is_err()
        );
        assert!(SandboxConfig::from_args(&args(&["--token", "nowabas"])).is_err());
    }
}
