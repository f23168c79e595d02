//! Command-line interface (SPEC section 2), clap derive, in two stages as in
//! ripgrep: the raw flags below, then [`execute`], which turns them once into
//! each command's checked configuration (`commands::*::Config`) and runs it.
//! Nothing after this module sees a raw flag.
//!
//! Conventions: the `///` comment on each field is its `--help` text; value
//! names in capitals; no short flags except `-h`/`-V` (these runs touch
//! production accounts, so every option is spelled out).

mod sandbox;
mod sandbox_help;

pub use sandbox::SandboxArgs;

use crate::commands::{self, plan, run, validate};
use crate::exit::{Outcome, Refused};
use crate::graph::ApiVersion;
use crate::limits::Limits;
use crate::manifest::ReadOptions;
use crate::results::OpenMode;
use crate::validate::ValidateOptions;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "waba-provision",
    version,
    about = "Declarative batch provisioning of WhatsApp Business phone numbers",
    long_about = "Reads a YAML or CSV manifest of phone numbers per WhatsApp Business Account (WABA), \
validates every row, creates each number with POST /{version}/{waba_id}/phone_numbers \
under rate limits and retries, and writes a results CSV mapping every row to its new \
phone-number id or its error.",
    after_help = "Examples:\n  waba-provision validate numbers.yaml\n  waba-provision plan numbers.yaml --rate-per-waba 200/h\n  waba-provision run numbers.yaml --results results.csv\n  waba-provision retry results.csv --results retry.csv\n  waba-provision run examples/agency.yaml --sandbox --results demo.csv\n\nExit codes: 0 every row created; 1 some rows not created; 2 usage error or invalid manifest (nothing sent); 3 run aborted."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a manifest and report every problem as FILE:LINE (nothing is sent).
    #[command(
        after_help = "Examples:\n  waba-provision validate numbers.yaml\n  waba-provision validate numbers.csv --strict-numbers\n\nExit codes: 0 valid (warnings may be printed), 2 invalid."
    )]
    Validate(ValidateArgs),
    /// Show what would be sent, per WABA, and how long it would take under the limits (no network).
    #[command(
        after_help = "Examples:\n  waba-provision plan numbers.yaml\n  waba-provision plan numbers.yaml --rate 10/s --rate-per-waba 5000/h\n  waba-provision plan numbers.yaml --resume results.csv"
    )]
    Plan(PlanArgs),
    /// Create every number of a manifest and write the results CSV.
    #[command(
        after_help = "Examples:\n  WABA_ACCESS_TOKEN=... waba-provision run numbers.yaml --results results.csv\n  waba-provision run numbers.csv --results results.csv --rate-per-waba 5000/h --concurrency 16\n  waba-provision run numbers.yaml --results results.csv --resume      # after a crash or Ctrl-C\n  waba-provision run examples/agency.yaml --sandbox --results demo.csv  # rehearse locally"
    )]
    Run(RunArgs),
    /// Re-run the rows of a results file whose status is not `created`.
    #[command(
        after_help = "Examples:\n  waba-provision retry results.csv --results retry-1.csv\n  waba-provision retry results.csv --results retry-1.csv --max-attempts 8"
    )]
    Retry(RetryArgs),
    /// Serve a local fake Graph API on loopback, for rehearsals and tests.
    Sandbox(SandboxArgs),
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Manifest file: YAML (.yaml/.yml) or CSV (.csv, or anything else).
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,
    /// Numbers that are possible but not valid for their country (e.g. fictional 555 ranges) are errors, not warnings.
    #[arg(long)]
    pub strict_numbers: bool,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// How a manifest file is read, shared by `validate`, `plan`, `run` and `retry`.
#[derive(Debug, Args, Clone)]
pub struct ReadArgs {
    /// CSV field separator: one character such as ';' or '|', or 'tab'. Default: found from the header line (',', ';' or tab).
    #[arg(long, value_name = "CHAR", value_parser = ReadOptions::parse_delimiter)]
    pub delimiter: Option<u8>,
    /// A column of your own (e.g. Client, Notes) to accept and carry into the results; repeatable. Other unknown columns are errors.
    #[arg(long = "ignore-column", value_name = "NAME")]
    pub ignore_columns: Vec<String>,
}

impl ReadArgs {
    fn options(&self) -> ReadOptions {
        ReadOptions {
            delimiter: self.delimiter,
            ignore_columns: self.ignore_columns.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Manifest file: YAML (.yaml/.yml) or CSV.
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,
    /// A results file of an earlier run: rows already `created` there are counted as skipped.
    #[arg(long, value_name = "RESULTS")]
    pub resume: Option<PathBuf>,
    /// Numbers that are possible but not valid for their country are errors.
    #[arg(long)]
    pub strict_numbers: bool,
    /// Environment variable holding the default access token (as for `run`); only whether it is set is shown.
    #[arg(long, value_name = "NAME", default_value = "WABA_ACCESS_TOKEN")]
    pub token_env: String,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// The limits shared by `plan`, `run` and `retry`.
#[derive(Debug, Args, Clone)]
pub struct LimitArgs {
    /// Requests in flight at most.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// Global request rate, evenly paced, as N/UNIT with UNIT s, m or h (e.g. 10/s). Default: unlimited.
    #[arg(long, value_name = "N/UNIT")]
    pub rate: Option<String>,
    /// Per-WABA budget: at most N calls to one WABA in any rolling window of one UNIT (bursts allowed, as Meta counts).
    #[arg(long, value_name = "N/UNIT", default_value = "200/h")]
    pub rate_per_waba: String,
    /// Attempts per row, the first one included.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// Per-request timeout in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub timeout: f64,
}

/// Options shared by `run` and `retry`.
#[derive(Debug, Args, Clone)]
pub struct SendArgs {
    /// Results CSV to write (one line per manifest row).
    #[arg(long, value_name = "FILE")]
    pub results: PathBuf,
    /// Graph API base URL.
    #[arg(
        long,
        value_name = "URL",
        env = "WABA_GRAPH_URL",
        default_value = "https://graph.facebook.com"
    )]
    pub graph_url: String,
    /// Graph API version in the path, like v25.0.
    #[arg(
        long,
        value_name = "V",
        env = "WABA_API_VERSION",
        default_value = "v25.0"
    )]
    pub api_version: String,
    /// Environment variable holding the default access token; a row's token_env overrides it.
    #[arg(long, value_name = "NAME", default_value = "WABA_ACCESS_TOKEN")]
    pub token_env: String,
    /// Environment variable holding the app secret: every call then carries appsecret_proof.
    #[arg(long, value_name = "NAME")]
    pub app_secret_env: Option<String>,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Continue an interrupted run: rows already final in FILE are kept and not re-sent.
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
    /// Start afresh even though FILE exists (the old file is kept as FILE.bak).
    #[arg(long)]
    pub force: bool,
    /// Do everything but send (same as `plan`).
    #[arg(long)]
    pub dry_run: bool,
    /// Record invalid rows as `invalid` in the results and send the rest.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Numbers that are possible but not valid for their country are errors.
    #[arg(long)]
    pub strict_numbers: bool,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Start the built-in fake Graph API in-process and run against it (demo; a demo token is used when none is set).
    #[arg(long)]
    pub sandbox: bool,
    /// Write the end-of-run summary as JSON to PATH.
    #[arg(long, value_name = "PATH")]
    pub summary_json: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Manifest file: YAML (.yaml/.yml) or CSV.
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,
    #[command(flatten)]
    pub send: SendArgs,
}

#[derive(Debug, Args)]
pub struct RetryArgs {
    /// Results file of an earlier run; its rows not `created` are sent again.
    #[arg(value_name = "RESULTS")]
    pub previous: PathBuf,
    #[command(flatten)]
    pub send: SendArgs,
}

/// Check the flags of the command line and run its command.
pub async fn execute(cli: Cli) -> Result<Outcome, Refused> {
    match cli.command {
        Command::Validate(a) => validate::command(&validate::Config {
            manifest: a.manifest,
            options: ValidateOptions {
                strict_numbers: a.strict_numbers,
                read: a.read.options(),
            },
        }),
        Command::Plan(a) => plan::command(&plan::Config {
            manifest: a.manifest,
            resume: a.resume,
            options: ValidateOptions {
                strict_numbers: a.strict_numbers,
                read: a.read.options(),
            },
            token_env: a.token_env,
            limits: a.limits.limits()?,
        }),
        Command::Run(a) => run::command(a.send.config(run::Input::Manifest(a.manifest))?).await,
        Command::Retry(a) => run::command(a.send.config(run::Input::Retry(a.previous))?).await,
        Command::Sandbox(a) => commands::sandbox::command(a.config()?).await,
    }
}

impl LimitArgs {
    pub fn limits(&self) -> Result<Limits, Refused> {
        Ok(Limits::new(
            self.concurrency,
            self.rate.as_deref(),
            &self.rate_per_waba,
            self.max_attempts,
            self.timeout,
        )?)
    }
}

impl SendArgs {
    /// The checked configuration of `run` / `retry`.
    pub fn config(self, input: run::Input) -> Result<run::Config, Refused> {
        if self.resume && self.force {
            return Err(Refused::msg("--resume and --force contradict each other"));
        }
        let mode = match (self.resume, self.force) {
            (true, _) => OpenMode::Resume,
            (_, true) => OpenMode::Force,
            _ => OpenMode::Fresh,
        };
        Ok(run::Config {
            input,
            results: self.results,
            mode,
            endpoint: if self.sandbox {
                run::Endpoint::Sandbox
            } else {
                run::Endpoint::Graph(self.graph_url)
            },
            api_version: ApiVersion::parse(&self.api_version)?,
            token_env: self.token_env,
            app_secret_env: self.app_secret_env,
            limits: self.limits.limits()?,
            dry_run: self.dry_run,
            skip_invalid: self.skip_invalid,
            options: ValidateOptions {
                strict_numbers: self.strict_numbers,
                read: self.read.options(),
            },
            summary_json: self.summary_json,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
