//! The `sandbox` command's flags and how they combine with `--config FILE`
//! into one checked [`SandboxConfig`]; the long help is in `sandbox_help.rs`.

use crate::limits::Rate;
use crate::sandbox::{SandboxConfig, SandboxError, SandboxSecret};
use std::path::PathBuf;

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
