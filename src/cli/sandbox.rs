//! The `sandbox` command's flags and how they combine with `--config FILE`
//! into one checked [`SandboxConfig`]; the long help is in `sandbox_help.rs`.

use crate::limits::Rate;
use crate::sandbox::{PortfolioCap, SandboxConfig, SandboxError, SandboxSecret};
use std::path::PathBuf;
use std::str::FromStr;

/// Behaviour options of `waba-provision sandbox`. A flag given on the command
/// line overrides the same field of `--config`.
#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = super::sandbox_help::SANDBOX_HELP
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
    /// Rate (0..1) at which a POST (create, request_code, verify_code, register) IS carried out and the connection then closes with no answer.
    #[arg(long, value_name = "P")]
    pub drop_after_create_rate: Option<f64>,
    /// Faults also hit GETs, listings and number reads (by default only POSTs).
    #[arg(long)]
    pub faults_on_get: bool,
    /// Request-log entries kept in memory, oldest dropped beyond (default 200000).
    #[arg(long, value_name = "N")]
    pub request_log_limit: Option<usize>,
    /// The onboarding behaviours (boxed: they would make every `Command` large).
    #[command(flatten)]
    pub onboarding: Box<OnboardingArgs>,
}

/// The onboarding behaviours of SPEC 7 (`sandbox` flags).
#[derive(Debug, Clone, clap::Args)]
pub struct OnboardingArgs {
    /// How long a code from request_code stays valid, in milliseconds (default 600000, 10 minutes).
    #[arg(long, value_name = "MS")]
    pub code_ttl_ms: Option<u64>,
    /// Register calls allowed per number in a moving window, refused ones included (default 10/72h, Meta's). Beyond → 133016, number locked for one window.
    #[arg(long, value_name = "N/DURATION")]
    pub register_limit: Option<String>,
    /// Delay from a number's creation until its display name turns from PENDING_REVIEW to APPROVED, in milliseconds (default 30000).
    #[arg(long, value_name = "MS")]
    pub name_review_delay_ms: Option<u64>,
    /// A number (E.164 digits: cc + national number) that already has a two-step PIN: register with another PIN → 133005. Repeatable. A fake PIN; it never appears in the log.
    #[arg(long = "number-pin", value_name = "DIGITS=PIN")]
    pub number_pins: Vec<String>,
    /// A number (E.164 digits) whose source WABA still has two-step verification on: migrating it → 2388103. Repeatable.
    #[arg(long = "two-step-on-source", value_name = "DIGITS")]
    pub two_step_on_source: Vec<String>,
    /// A preverified_id whose verification has expired: the number is created EXPIRED and register → 133006. Repeatable.
    #[arg(long = "expired-preverified-id", value_name = "ID")]
    pub expired_preverified_ids: Vec<String>,
    /// Numbers a WABA (or a token, see --portfolio-cap-scope) may hold; beyond → HTTP 403, 200 / subcode 1349175 "Phone number limit exceeded". Default: no cap.
    #[arg(long, value_name = "N")]
    pub portfolio_cap: Option<u32>,
    /// What the portfolio cap counts: waba (numbers on the WABA, default) or token (numbers created with the token, on any WABA).
    #[arg(long, value_name = "waba|token")]
    pub portfolio_cap_scope: Option<String>,
    /// Answer to a wrong or expired code: 136025 (default) or 100 (Meta's documented "The verification code is invalid or has expired", HTTP 422).
    #[arg(long, value_name = "136025|100")]
    pub rejected_code_answer: Option<String>,
    /// Answer to register on a CONNECTED number: success (default) or already-registered (100 "already registered or in invalid state for registration", HTTP 422).
    #[arg(long, value_name = "success|already-registered")]
    pub connected_register_answer: Option<String>,
}

impl SandboxArgs {
    /// `--config FILE` (if any), then every flag given on top of it.
    pub fn config(&self) -> Result<SandboxConfig, SandboxError> {
        let args = self;
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
            // A name, never a secret pasted in its place (not echoed).
            crate::validate::EnvVarName::parse_flag("--app-secret-env", name).map_err(
                |message| SandboxError::BadFlag {
                    flag: "--app-secret-env",
                    message,
                },
            )?;
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
        self.onboarding(&mut c)?;
        c.check()?;
        Ok(c)
    }

    /// The SPEC 7 behaviours (checked as a whole by `SandboxConfig::check`).
    fn onboarding(&self, c: &mut SandboxConfig) -> Result<(), SandboxError> {
        let args = &self.onboarding;
        set(&mut c.code_ttl_ms, args.code_ttl_ms);
        if let Some(r) = &args.register_limit {
            c.register_limit = parse_budget("--register-limit", r)?;
        }
        set(&mut c.name_review_delay_ms, args.name_review_delay_ms);
        for entry in &args.number_pins {
            let (number, pin) = entry.split_once('=').ok_or_else(|| SandboxError::BadFlag {
                flag: "--number-pin",
                message: "expected DIGITS=PIN, e.g. 15550100001=123456".into(),
            })?;
            c.numbers_with_pin
                .0
                .insert(number.trim().to_string(), pin.trim().to_string());
        }
        c.two_step_on_source
            .extend(args.two_step_on_source.iter().cloned());
        c.expired_preverified_ids
            .extend(args.expired_preverified_ids.iter().cloned());
        if let Some(n) = args.portfolio_cap {
            let scope = c.portfolio_cap.map(|p| p.scope).unwrap_or_default();
            c.portfolio_cap = Some(PortfolioCap { numbers: n, scope });
        }
        if let Some(scope) = &args.portfolio_cap_scope {
            let scope = parse("--portfolio-cap-scope", scope)?;
            match &mut c.portfolio_cap {
                Some(cap) => cap.scope = scope,
                None => {
                    return Err(SandboxError::BadFlag {
                        flag: "--portfolio-cap-scope",
                        message: "needs --portfolio-cap N (or portfolio_cap in --config)".into(),
                    });
                }
            }
        }
        if let Some(a) = &args.rejected_code_answer {
            c.rejected_code_answer = parse("--rejected-code-answer", a)?;
        }
        if let Some(a) = &args.connected_register_answer {
            c.connected_register_answer = parse("--connected-register-answer", a)?;
        }
        Ok(())
    }
}

fn parse<T: FromStr<Err = String>>(flag: &'static str, value: &str) -> Result<T, SandboxError> {
    value
        .parse()
        .map_err(|message| SandboxError::BadFlag { flag, message })
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

fn parse_budget(flag: &'static str, value: &str) -> Result<Rate, SandboxError> {
    Rate::parse(flag, value).map_err(|e| SandboxError::BadFlag {
        flag,
        message: e.to_string(),
    })
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

    fn args(flags: &[&str]) -> Result<SandboxConfig, SandboxError> {
        let mut argv = vec!["sandbox"];
        argv.extend_from_slice(flags);
        Wrap::parse_from(argv).args.config()
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
        let c = args(&[
            "--config",
            file.to_str().unwrap(),
            "--seed",
            "9",
            "--token",
            "tokB=*",
        ])
        .unwrap();
        assert_eq!(c.seed, 9);
        assert_eq!(c.waba_budget.unwrap().count, 5);
        assert_eq!(c.faults.transient, 0.25);
        assert_eq!(c.tokens.0.len(), 2);
        assert_eq!(c.tokens.0["tokB"], vec!["*".to_string()]);
    }

    #[test]
    fn onboarding_flags_and_file_fields() {
        use crate::sandbox::{CapScope, ConnectedRegisterAnswer, RejectedCodeAnswer};
        let d = SandboxConfig::default();
        assert_eq!((d.code_ttl_ms, d.name_review_delay_ms), (600_000, 30_000));
        assert_eq!(d.register_limit.to_string(), "10/72h");
        assert_eq!(d.portfolio_cap, None);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.yaml");
        std::fs::write(
            &file,
            "register_limit: 10/2s\nportfolio_cap: { numbers: 5, scope: token }\nnumbers_with_pin: { '15550100001': '111111' }\nrejected_code_answer: '100'\n",
        )
        .unwrap();
        let c = args(&[
            "--config",
            file.to_str().unwrap(),
            "--code-ttl-ms",
            "500",
            "--name-review-delay-ms",
            "200",
            "--number-pin",
            "447700900123=654321",
            "--two-step-on-source",
            "15550100009",
            "--expired-preverified-id",
            "pv-old",
            "--portfolio-cap",
            "2",
            "--connected-register-answer",
            "already-registered",
        ])
        .unwrap();
        assert_eq!(c.register_limit.per, std::time::Duration::from_secs(2));
        assert_eq!((c.code_ttl_ms, c.name_review_delay_ms), (500, 200));
        assert_eq!(c.numbers_with_pin.0.len(), 2);
        assert!(!format!("{c:?}").contains("654321"), "PINs never print");
        assert_eq!(c.two_step_on_source, vec!["15550100009".to_string()]);
        assert_eq!(c.expired_preverified_ids, vec!["pv-old".to_string()]);
        // The flag sets the count, the file's scope stays.
        assert_eq!(
            c.portfolio_cap,
            Some(PortfolioCap {
                numbers: 2,
                scope: CapScope::Token
            })
        );
        assert_eq!(c.rejected_code_answer, RejectedCodeAnswer::Invalid100);
        assert_eq!(
            c.connected_register_answer,
            ConnectedRegisterAnswer::AlreadyRegistered
        );

        for bad in [
            &["--number-pin", "15550100001"][..],
            &["--number-pin", "15550100001=12345"],
            &["--number-pin", "+1555=123456"],
            &["--two-step-on-source", "1-555"],
            &["--portfolio-cap-scope", "token"],
            &["--portfolio-cap", "2", "--portfolio-cap-scope", "app"],
            &["--rejected-code-answer", "136026"],
            &["--connected-register-answer", "maybe"],
            &["--register-limit", "10"],
            &["--code-ttl-ms", "0"],
        ] {
            assert!(args(bad).is_err(), "{bad:?}");
        }
        let e = args(&["--number-pin", "15550100001=98765"]).unwrap_err();
        assert!(!e.to_string().contains("98765"), "{e}");
    }

    #[test]
    fn rates_must_be_probabilities_summing_to_at_most_one() {
        assert!(args(&["--transient-rate", "1.5"]).is_err());
        assert!(args(&["--transient-rate", "0.6", "--slow-rate", "0.6"]).is_err());
        assert!(args(&["--token", "nowabas"]).is_err());
        assert!(args(&["--waba-budget", "5/2d"]).is_err());
        assert_eq!(
            args(&["--waba-budget", "3/200ms"])
                .unwrap()
                .waba_budget
                .map(|r| r.per),
            Some(std::time::Duration::from_millis(200))
        );
    }
}
