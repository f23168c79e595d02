//! Command-line interface (SPEC section 2), clap derive, in two stages as in
//! ripgrep: the raw flags below, then [`execute`], which turns them once into
//! each command's checked configuration (`commands::*::Config`) and runs it.
//! Nothing after this module sees a raw flag.
//!
//! Conventions: the `///` comment on each field is its `--help` text; value
//! names in capitals; no short flags except `-h`/`-V` and the global
//! `-q`/`-v` (these runs touch production accounts, so every option that
//! changes what is sent is spelled out; quiet/verbose change only what is
//! shown). Global options (`--quiet`, `--verbose`, `--color`) are accepted
//! before or after the command and become one [`Output`], decided here once.

mod sandbox;
mod sandbox_help;

pub use sandbox::SandboxArgs;

use crate::commands::{self, completions, man, plan, run, status, validate};
use crate::exit::{Outcome, Refused};
use crate::graph::ApiVersion;
use crate::limits::Limits;
use crate::manifest::ReadOptions;
use crate::results::OpenMode;
use crate::send::Through;
use crate::ui::{Output, Verbosity};
use crate::validate::{EnvVarName, ValidateOptions};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::LazyLock;

/// The Graph API version this build sends to unless `--api-version` says
/// otherwise: the flag's default and part of `--version`.
pub const DEFAULT_API_VERSION: &str = "v25.0";

/// `--version`: the crate version and the Graph API version it was built for.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} (Graph API {DEFAULT_API_VERSION} by default)",
        env!("CARGO_PKG_VERSION")
    )
});

#[derive(Debug, Parser)]
#[command(
    name = "waba-provision",
    version = VERSION.as_str(),
    about = "Declarative batch provisioning of WhatsApp Business phone numbers",
    long_about = "Reads a YAML or CSV manifest of phone numbers per WhatsApp Business Account (WABA), \
validates every row, then takes each number through Meta's Graph API as far as --through says \
(create, request the verification code, verify it, register with the two-step PIN) under rate \
limits and retries, and writes a results CSV mapping every row to its phone-number id, how far \
it got, or its error.",
    after_help = "Examples:\n  waba-provision validate numbers.yaml\n  waba-provision plan numbers.yaml --rate-per-waba 200/h\n  waba-provision run numbers.yaml --results results.csv\n  waba-provision retry results.csv --results retry.csv\n  waba-provision run examples/agency.yaml --sandbox --results demo.csv\n  waba-provision completions bash > ~/.local/share/bash-completion/completions/waba-provision\n  waba-provision run examples/agency.yaml --sandbox --results demo.csv --through register\n  waba-provision status results.csv\n\nExit codes: 0 every row reached --through; 1 some did not; 2 usage error or invalid manifest (nothing sent); 3 run aborted."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// What every command accepts: how much to print, and in colour or not.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Print only errors and the one-line summary: no progress, no warnings.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more: info log lines, and a table per WABA at the end of a run.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Colour on stderr: auto (when stderr is a terminal and NO_COLOR is unset or empty), always, never.
    #[arg(
        long,
        value_name = "WHEN",
        value_enum,
        default_value_t = ColorChoice::Auto,
        global = true
    )]
    pub color: ColorChoice,
}

/// `--color WHEN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
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
    /// Take every number of a manifest as far as --through (create by default) and write the results CSV.
    #[command(
        after_help = "Examples:\n  WABA_ACCESS_TOKEN=... waba-provision run numbers.yaml --results results.csv\n  waba-provision run numbers.csv --results results.csv --rate-per-waba 5000/h --concurrency 16\n  waba-provision run numbers.yaml --results results.csv --resume      # after a crash or Ctrl-C\n  waba-provision run examples/agency.yaml --sandbox --results demo.csv  # rehearse locally\n  waba-provision run numbers.yaml --results r.csv --through request-code  # and text each holder a code\n\nExit codes: 0 every row reached --through; 1 some did not (the summary prints the retry command); 2 nothing was sent; 3 aborted."
    )]
    Run(RunArgs),
    /// Carry on the rows of a results file that did not reach --through; the others are copied unchanged.
    #[command(
        after_help = "Examples:\n  waba-provision retry results.csv --results retry-1.csv\n  waba-provision retry results.csv --results retry-1.csv --max-attempts 8\n  waba-provision retry r1.csv --results r2.csv --through register --codes codes.csv\n  waba-provision retry r1.csv --results r2.csv --through request-code   # new codes (they expire)"
    )]
    Retry(RetryArgs),
    /// Read each created number's state from Meta (status, verification, display-name review) into a CSV.
    #[command(
        after_help = "Examples:\n  waba-provision status results.csv                       # CSV on stdout, counts on stderr\n  waba-provision status results.csv --results status.csv\n\nExit codes: 0 every number read; 1 some could not be read; 2 usage error; 3 aborted."
    )]
    Status(StatusArgs),
    /// Serve a local fake Graph API on loopback, for rehearsals and tests.
    Sandbox(SandboxArgs),
    /// Print the shell completion script for bash, zsh, fish, powershell or elvish.
    #[command(
        after_help = "Examples:\n  waba-provision completions bash > ~/.local/share/bash-completion/completions/waba-provision\n  waba-provision completions zsh > ~/.zfunc/_waba-provision      # with fpath+=(~/.zfunc) in .zshrc\n  waba-provision completions fish > ~/.config/fish/completions/waba-provision.fish"
    )]
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write one page per command with --out DIR.
    #[command(
        after_help = "Examples:\n  waba-provision man | man -l -\n  waba-provision man --out ~/.local/share/man/man1"
    )]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_name = "SHELL", value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write every page (waba-provision.1, waba-provision-run.1, ...) into DIR, created if missing, instead of the main page to stdout.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
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
    /// A results file being resumed: rows `run --resume` would keep (final there, or already as far as --through) are skipped.
    #[arg(long, value_name = "RESULTS")]
    pub resume: Option<PathBuf>,
    /// Numbers that are possible but not valid for their country are errors.
    #[arg(long)]
    pub strict_numbers: bool,
    /// Environment variable holding the default access token (as for `run`); only whether it is set is shown.
    #[arg(long, value_name = "NAME", default_value = "WABA_ACCESS_TOKEN")]
    pub token_env: String,
    /// How far a run would take each row (create, request-code, register): each row costs the calls that implies.
    #[arg(long, value_name = "STEP", value_enum, default_value_t = ThroughArg::Create)]
    pub through: ThroughArg,
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
    #[command(flatten)]
    pub connect: ConnectArgs,
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
    /// How far each row goes: create (the number exists), request-code (its holder was sent a code), or register (verified and connected, ready to send).
    #[arg(long, value_name = "STEP", value_enum, default_value_t = ThroughArg::Create)]
    pub through: ThroughArg,
    /// CSV of verification codes: a `code` column (123456 or 123-456) and `phone_number_id`, or `cc` and `phone_number`.
    #[arg(long, value_name = "FILE", conflicts_with = "ask_codes")]
    pub codes: Option<PathBuf>,
    /// On a terminal: ask for each row's code as soon as it was requested (empty input leaves the row waiting).
    #[arg(long)]
    pub ask_codes: bool,
    /// Environment variable holding the two-step PIN for register; a row's pin_env overrides it.
    #[arg(long, value_name = "NAME", default_value = "WABA_REGISTER_PIN")]
    pub pin_env: String,
    /// Register calls allowed per number in any 72 hours (Meta locks a number after 10).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub max_register_calls: u32,
}

/// Where calls go and how: shared by `run`, `retry` and `status`.
#[derive(Debug, Args, Clone)]
pub struct ConnectArgs {
    /// Graph API base URL [default: https://graph.facebook.com; env: WABA_GRAPH_URL]. The run says where it sends, and from which setting, before anything else.
    #[arg(long, value_name = "URL")]
    pub graph_url: Option<String>,
    /// Graph API version in the path, like v25.0.
    #[arg(
        long,
        value_name = "V",
        env = "WABA_API_VERSION",
        default_value = DEFAULT_API_VERSION
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
    /// Append one JSON line per HTTP exchange to FILE (times, status, Graph codes, fbtrace_id, usage headers, outcome; never a token or proof).
    #[arg(long, value_name = "FILE", env = "WABA_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,
}

/// `waba-provision status RESULTS`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// A results file: every row with a phone_number_id is read from Meta.
    #[arg(value_name = "RESULTS")]
    pub previous: PathBuf,
    /// Write the status CSV to FILE (default: stdout); an existing FILE needs --force.
    #[arg(long, value_name = "FILE")]
    pub results: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl ConnectArgs {
    fn config(self) -> Result<status::Connect, Refused> {
        Ok(status::Connect {
            endpoint: graph_endpoint(self.graph_url)?,
            api_version: ApiVersion::parse(&self.api_version)?,
            token_env: var_name("--token-env", &self.token_env)?,
            app_secret_env: self
                .app_secret_env
                .as_deref()
                .map(|v| var_name("--app-secret-env", v))
                .transpose()?,
            limits: self.limits.limits()?,
            audit_log: self.audit_log,
        })
    }
}

/// `--through`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ThroughArg {
    Create,
    RequestCode,
    Register,
}

impl From<ThroughArg> for Through {
    fn from(t: ThroughArg) -> Through {
        match t {
            ThroughArg::Create => Through::Create,
            ThroughArg::RequestCode => Through::RequestCode,
            ThroughArg::Register => Through::Register,
        }
    }
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

/// Parse the process's command line. clap's own help and errors follow
/// `--color` too, so it is looked at before clap draws anything.
pub fn parse() -> Result<Cli, clap::Error> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let color = match color_flag(&args) {
        Some(ColorChoice::Always) => clap::ColorChoice::Always,
        Some(ColorChoice::Never) => clap::ColorChoice::Never,
        // clap's auto honours NO_COLOR and the terminal, as ours does.
        _ => clap::ColorChoice::Auto,
    };
    let matches = Cli::command().color(color).try_get_matches_from(args)?;
    Cli::from_arg_matches(&matches)
}

/// The last `--color WHEN` / `--color=WHEN` before a `--`, if valid.
fn color_flag(args: &[OsString]) -> Option<ColorChoice> {
    let mut found = None;
    let mut args = args.iter().map(|a| a.to_str().unwrap_or(""));
    while let Some(arg) = args.next() {
        let value = match arg {
            "--" => break,
            "--color" => args.next(),
            _ => arg.strip_prefix("--color="),
        };
        if let Some(choice) = value.and_then(|v| ColorChoice::from_str(v, false).ok()) {
            found = Some(choice);
        }
    }
    found
}

impl Cli {
    /// The output settings of this command line: the flags, `NO_COLOR`, and
    /// whether stderr is a terminal. Called once (by `main`).
    pub fn output(&self) -> Output {
        self.global.output(
            std::env::var_os("NO_COLOR").as_deref(),
            std::io::stderr().is_terminal(),
        )
    }
}

impl GlobalArgs {
    /// The output settings, given `NO_COLOR` and whether stderr is a terminal.
    pub fn output(&self, no_color: Option<&OsStr>, stderr_terminal: bool) -> Output {
        let verbosity = match (self.quiet, self.verbose) {
            (true, _) => Verbosity::Quiet,
            (_, true) => Verbosity::Verbose,
            _ => Verbosity::Normal,
        };
        // no-color.org: an empty NO_COLOR counts as unset; --color always wins.
        let color = match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stderr_terminal && no_color.is_none_or(OsStr::is_empty),
        };
        Output { verbosity, color }
    }
}

/// Check the flags of the command line and run its command, printing as
/// `output` says.
pub async fn execute(cli: Cli, output: Output) -> Result<Outcome, Refused> {
    match cli.command {
        Command::Validate(a) => validate::command(&validate::Config {
            manifest: a.manifest,
            options: ValidateOptions {
                strict_numbers: a.strict_numbers,
                read: a.read.options(),
            },
            output,
        }),
        Command::Plan(a) => plan::command(&plan::Config {
            manifest: a.manifest,
            resume: a.resume,
            options: ValidateOptions {
                strict_numbers: a.strict_numbers,
                read: a.read.options(),
            },
            token_env: var_name("--token-env", &a.token_env)?,
            limits: a.limits.limits()?,
            output,
            through: a.through.into(),
            endpoint: Some(match graph_endpoint(None)? {
                run::Endpoint::Graph { url, from } => {
                    format!("{url}/{DEFAULT_API_VERSION} (from {from})")
                }
                run::Endpoint::Sandbox => "the sandbox".into(),
            }),
        }),
        Command::Run(a) => {
            run::command(a.send.config(run::Input::Manifest(a.manifest), output)?).await
        }
        Command::Retry(a) => {
            run::command(a.send.config(run::Input::Retry(a.previous), output)?).await
        }
        Command::Status(a) => {
            status::command(status::Config {
                input: a.previous,
                results: a.results,
                force: a.force,
                connect: a.connect.config()?,
                output,
            })
            .await
        }
        Command::Sandbox(a) => commands::sandbox::command(a.config()?).await,
        Command::Completions(a) => completions::command(&completions::Config {
            shell: a.shell,
            command: Cli::command(),
        }),
        Command::Man(a) => man::command(&man::Config {
            command: Cli::command(),
            out: a.out,
            output,
        }),
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

/// An option that names an environment variable: a variable name, never a
/// secret pasted in its place (which is refused without being echoed).
fn var_name(flag: &str, value: &str) -> Result<String, Refused> {
    EnvVarName::parse_flag(flag, value)
        .map(|n| n.as_str().to_string())
        .map_err(Refused::msg)
}

/// Meta's Graph API, where a run sends unless told otherwise.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com";

/// `--graph-url`, else `WABA_GRAPH_URL`, else Meta; checked before any file is
/// made, and remembered with where it came from (an exported
/// `WABA_GRAPH_URL` left over from a rehearsal must not go unnoticed).
fn graph_endpoint(flag: Option<String>) -> Result<run::Endpoint, Refused> {
    let env = std::env::var("WABA_GRAPH_URL")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let (url, from) = match (flag, env) {
        (Some(url), _) => (url, "--graph-url"),
        (None, Some(url)) => (url, "WABA_GRAPH_URL"),
        (None, None) => (DEFAULT_GRAPH_URL.to_string(), "the default"),
    };
    check_graph_url(url.trim(), from)?;
    Ok(run::Endpoint::Graph {
        url: url.trim().trim_end_matches('/').to_string(),
        from,
    })
}

/// A base URL the way the Graph client wants it, or the fix.
fn check_graph_url(url: &str, from: &str) -> Result<(), Refused> {
    let bad = |why: String| Refused::msg(format!("{from}: `{}` {why}", crate::text::clip(url)));
    if !url.contains("://") {
        return Err(bad(format!(
            "has no scheme: write it as https://{url} (or http:// for a local sandbox)"
        )));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(format!("is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad(
            "must start with https:// (or http:// for a local sandbox)".into(),
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || !parsed.username().is_empty() {
        return Err(bad(
            "must not carry a query, a fragment or credentials".into()
        ));
    }
    let last = parsed
        .path()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("");
    if ApiVersion::parse(last).is_ok() {
        let base = url
            .trim_end_matches('/')
            .trim_end_matches(last)
            .trim_end_matches('/');
        return Err(bad(format!(
            "ends in an API version: give the base ({base}) and the version with --api-version {last}"
        )));
    }
    Ok(())
}

impl SendArgs {
    /// The checked configuration of `run` / `retry`.
    pub fn config(self, input: run::Input, output: Output) -> Result<run::Config, Refused> {
        if self.resume && self.force {
            return Err(Refused::msg("--resume and --force contradict each other"));
        }
        if self.ask_codes && !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            return Err(Refused::msg(
                "--ask-codes needs a terminal to ask on; give the codes with --codes FILE instead",
            ));
        }
        let mode = match (self.resume, self.force) {
            (true, _) => OpenMode::Resume,
            (_, true) => OpenMode::Force,
            _ => OpenMode::Fresh,
        };
        let connect = self.connect.config()?;
        Ok(run::Config {
            input,
            results: self.results,
            mode,
            endpoint: if self.sandbox {
                run::Endpoint::Sandbox
            } else {
                connect.endpoint
            },
            api_version: connect.api_version,
            token_env: connect.token_env,
            app_secret_env: connect.app_secret_env,
            limits: connect.limits,
            dry_run: self.dry_run,
            skip_invalid: self.skip_invalid,
            options: ValidateOptions {
                strict_numbers: self.strict_numbers,
                read: self.read.options(),
            },
            summary_json: self.summary_json,
            through: self.through.into(),
            codes: self.codes,
            ask_codes: self.ask_codes,
            pin_env: var_name("--pin-env", &self.pin_env)?,
            max_register_calls: self.max_register_calls,
            audit_log: connect.audit_log,
            output,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("waba-provision").chain(args.iter().copied()))
    }

    #[test]
    fn global_options_go_before_or_after_the_command() {
        for args in [
            &["-q", "validate", "m.csv"][..],
            &["validate", "m.csv", "--quiet"],
        ] {
            let cli = parse(args).unwrap();
            assert_eq!(
                cli.global.output(None, true).verbosity,
                Verbosity::Quiet,
                "{args:?}"
            );
        }
        let cli = parse(&["plan", "m.csv", "-v", "--color", "never"]).unwrap();
        assert_eq!(
            cli.global.output(None, true),
            Output {
                verbosity: Verbosity::Verbose,
                color: false
            }
        );
        let err = parse(&["validate", "m.csv", "-q", "-v"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn colour_follows_the_flag_then_no_color_then_the_terminal() {
        let colour = |flag: &str, no_color: Option<&str>, terminal: bool| {
            let cli = parse(&["--color", flag, "validate", "m.csv"]).unwrap();
            cli.global.output(no_color.map(OsStr::new), terminal).color
        };
        assert!(colour("auto", None, true));
        assert!(colour("auto", Some(""), true), "an empty NO_COLOR is unset");
        assert!(!colour("auto", Some("1"), true));
        assert!(!colour("auto", None, false));
        assert!(colour("always", Some("1"), false));
        assert!(!colour("never", None, true));
    }

    #[test]
    fn color_flag_is_found_before_clap_parses() {
        let os = |args: &[&str]| args.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            color_flag(&os(&["w", "--color", "never", "run"])),
            Some(ColorChoice::Never)
        );
        assert_eq!(
            color_flag(&os(&["w", "run", "--color=always"])),
            Some(ColorChoice::Always)
        );
        assert_eq!(color_flag(&os(&["w", "--color", "bogus"])), None);
        assert_eq!(color_flag(&os(&["w", "--", "--color=never"])), None);
    }

    #[test]
    fn the_default_api_version_is_the_flag_default_and_in_the_version() {
        let cli = parse(&["run", "m.csv", "--results", "r.csv"]).unwrap();
        let Command::Run(a) = cli.command else {
            panic!("not run")
        };
        assert_eq!(a.send.connect.api_version, DEFAULT_API_VERSION);
        assert!(VERSION.starts_with(env!("CARGO_PKG_VERSION")));
        assert!(VERSION.contains(DEFAULT_API_VERSION));
        assert!(ApiVersion::parse(DEFAULT_API_VERSION).is_ok());
    }

    #[test]
    fn audit_log_reaches_the_run_config() {
        let cli = parse(&[
            "retry",
            "old.csv",
            "--results",
            "r.csv",
            "--audit-log",
            "a.ndjson",
            "-q",
        ])
        .unwrap();
        let output = cli.global.output(None, false);
        let Command::Retry(a) = cli.command else {
            panic!("not retry")
        };
        let config = a
            .send
            .config(run::Input::Retry(a.previous), output)
            .unwrap();
        assert_eq!(config.audit_log, Some(PathBuf::from("a.ndjson")));
        assert!(config.output.quiet());
    }
}
