//! `run` and `retry` (SPEC sections 2–4): validate, open the results session,
//! work out what is left to do, send it, close the record, summarise.
//!
//! `retry RESULTS --results NEW` is `run` on a results file: rows `created`
//! there are copied into NEW unchanged, the others are sent again with their
//! original `row` and `source`, so NEW is again a complete record.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

use crate::audit::AuditLog;
use crate::exit::{Outcome, Refused};
use crate::graph::{ApiVersion, ClientConfig, Credentials, GraphClient};
use crate::limits::Limits;
use crate::results::{self, Closed, OpenMode, Session};
use crate::runner::codes::{Candidate, FileCodes};
use crate::runner::resume;
use crate::runner::tokens::{TokenTable, VarTable};
use crate::runner::{CodeSource, NoCodes, RunReport, Runner};
use crate::sandbox::{FaultRates, Sandbox, SandboxConfig};
use crate::schema::{ResultRecord, Status};
use crate::secret::{AppSecret, Pin, Token};
use crate::send::{Code, PinId, Rules, Through, TokenId};
use crate::ui::diagnostics::print_validation_as;
use crate::ui::print_error;
use crate::ui::prompt::Prompt;
use crate::ui::summary::{Ending, StatusCounts, Summary, one_line, per_waba_table};
use crate::validate::{CheckedRow, ValidRow, ValidateOptions, Validation, load_and_validate};

/// The token the sandbox demo uses when none is set.
const DEMO_TOKEN: &str = "sandbox-demo-token";

/// What a run reads.
#[derive(Debug, Clone)]
pub enum Input {
    /// `run MANIFEST`.
    Manifest(PathBuf),
    /// `retry RESULTS`: a results file, whose `created` rows are copied.
    Retry(PathBuf),
}

impl Input {
    pub fn path(&self) -> &Path {
        match self {
            Input::Manifest(p) | Input::Retry(p) => p,
        }
    }
}

/// Where a run sends.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// Meta, or a sandbox started elsewhere; `from` says which setting gave
    /// the URL (`--graph-url`, `WABA_GRAPH_URL`, the default).
    Graph { url: String, from: &'static str },
    /// `--sandbox`: the built-in fake Graph API, started in-process.
    Sandbox,
}

/// The checked configuration of `run` and `retry`.
#[derive(Debug, Clone)]
pub struct Config {
    pub input: Input,
    pub results: PathBuf,
    pub mode: OpenMode,
    pub endpoint: Endpoint,
    pub api_version: ApiVersion,
    pub token_env: String,
    pub app_secret_env: Option<String>,
    pub limits: Limits,
    pub dry_run: bool,
    pub skip_invalid: bool,
    pub options: ValidateOptions,
    pub summary_json: Option<PathBuf>,
    /// How far each row goes.
    pub through: Through,
    /// `--codes FILE`.
    pub codes: Option<PathBuf>,
    /// `--ask-codes`.
    pub ask_codes: bool,
    /// The variable holding the default two-step PIN.
    pub pin_env: String,
    pub max_register_calls: u32,
    /// `--audit-log FILE` / `WABA_AUDIT_LOG`: one line per HTTP exchange (`crate::audit`).
    pub audit_log: Option<PathBuf>,
    /// `--quiet` / `--verbose` / `--color`.
    pub output: crate::ui::Output,
}

impl Config {
    fn rules(&self) -> Rules {
        Rules {
            through: self.through,
            rerequest_codes: matches!(self.input, Input::Retry(_))
                && self.through == Through::RequestCode,
            max_register_calls: self.max_register_calls,
            ..Rules::new(self.limits.max_attempts)
        }
    }
}

pub async fn command(config: Config) -> Result<Outcome, Refused> {
    if config.dry_run {
        return super::plan::command(&dry_run_plan(&config));
    }
    let Some(work) = Work::read(&config)? else {
        return Ok(Outcome::Refused);
    };
    let Some(secrets) = Secrets::load(&work.valid, &config)? else {
        return Ok(Outcome::Refused);
    };
    let file_codes = read_codes(&config, &work.valid)?;
    check_paths(&config)?;
    let audit = match &config.audit_log {
        Some(path) => Some(AuditLog::open(path)?),
        None => None,
    };
    // Everything that can refuse is checked before the results file is made.
    let target = Target::start(&config).await?;
    let (mut session, past) = Session::open(&config.results, config.mode, &work.extra_columns)?;
    if let Some(rep) = &past.repaired {
        eprintln!(
            "waba-provision: repaired {}: cut a torn last line at line {} ({} bytes) left by an interrupted run",
            config.results.display(),
            rep.line,
            rep.bytes_removed
        );
    }
    let codes = code_source(&config, file_codes, &target);
    let mut kept = work.write_invalid(&mut session, &past)?;
    let manifest_rows = work.valid.len() + work.invalid.len();
    let rows = work.rows(&secrets);
    let rules = config.rules();
    let start = match resume::start(rows, &past, &rules, codes.as_ref()) {
        Ok(start) => start,
        Err(mismatch) => {
            session.abandon();
            return Err(mismatch.into());
        }
    };
    for line in &start.copy {
        session.write(line)?;
    }
    kept += start.kept;
    let sending = Sending {
        secrets,
        codes: codes.clone(),
        rules: rules.clone(),
        audit,
    };
    let report = send(start, &target, sending, &config, &mut session).await;
    let closed = session.close(report.skipped == 0 && report.aborted.is_none());
    target.stop().await;
    Ok(conclude(&config, &report, closed, kept, manifest_rows))
}

/// The files a run writes, checked before anything is made or started: the
/// results file can be made as `--resume`/`--force` say (checked again under
/// the lock), it is never the manifest itself (`--force` would set the
/// manifest aside and overwrite it), and the `--summary-json` file can be
/// written where it is.
fn check_paths(config: &Config) -> Result<(), Refused> {
    results::precheck(&config.results, config.mode)?;
    let canonical = |p: &Path| -> Option<PathBuf> {
        let dir = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Some(dir.canonicalize().ok()?.join(p.file_name()?))
    };
    let input = config.input.path();
    if canonical(input).is_some() && canonical(input) == canonical(&config.results) {
        return Err(Refused::msg(format!(
            "--results {} is the manifest being read: choose another file for the results",
            config.results.display()
        )));
    }
    if let Some(json) = &config.summary_json {
        let dir = json
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !dir.is_dir() {
            return Err(Refused::msg(format!(
                "--summary-json {}: the directory {} does not exist",
                json.display(),
                dir.display()
            )));
        }
        if json.is_dir() {
            return Err(Refused::msg(format!(
                "--summary-json {}: is a directory, not a file",
                json.display()
            )));
        }
    }
    Ok(())
}

/// `--dry-run` is `plan`, with `--resume` honoured.
fn dry_run_plan(config: &Config) -> super::plan::Config {
    super::plan::Config {
        manifest: config.input.path().to_path_buf(),
        resume: (config.mode == OpenMode::Resume && config.results.exists())
            .then(|| config.results.clone()),
        options: config.options.clone(),
        token_env: config.token_env.clone(),
        limits: config.limits.clone(),
        output: config.output,
        through: config.through,
        endpoint: Some(match &config.endpoint {
            Endpoint::Graph { url, from } => format!("{url}/{} (from {from})", config.api_version),
            Endpoint::Sandbox => "the built-in sandbox (--sandbox)".into(),
        }),
    }
}

/// The manifest's rows: the valid ones (with their line in the results file
/// being retried, if any), and the lines of the invalid ones.
struct Work {
    /// Shared with the jobs: each row is held once (a million rows run in
    /// a few hundred megabytes).
    valid: Vec<(Arc<ValidRow>, Option<Box<ResultRecord>>)>,
    invalid: Vec<ResultRecord>,
    /// The manifest's carried columns, written after the standard ones.
    extra_columns: Vec<String>,
}

impl Work {
    /// Validate everything before anything is sent; `None` when the manifest
    /// is refused (its problems are printed).
    fn read(config: &Config) -> Result<Option<Work>, Refused> {
        let path = config.input.path();
        let validation = load_and_validate(path, &config.options)?;
        print_validation_as(&validation, path, &config.output);
        if validation.has_file_errors() || (!validation.is_valid() && !config.skip_invalid) {
            eprintln!(
                "waba-provision: nothing was sent (use --skip-invalid to send the valid rows and record the others as invalid)"
            );
            return Ok(None);
        }
        if let Input::Retry(p) = &config.input
            && !validation.is_results_file()
        {
            return Err(Refused::msg(format!(
                "{} is a manifest, not a results file: use `waba-provision run {} --results FILE` (retry carries on the rows of a results file)",
                p.display(),
                p.display()
            )));
        }
        Ok(Some(Work::split(validation)))
    }

    /// Each valid row with its line in the results file being retried (read
    /// with the manifest: one reader of the format), and the invalid rows'
    /// lines.
    fn split(v: Validation) -> Work {
        let mut w = Work {
            valid: Vec::with_capacity(v.rows.len()),
            invalid: vec![],
            extra_columns: v.extra_columns.clone(),
        };
        for row in v.rows {
            match row {
                CheckedRow::Valid(mut r) => {
                    let prior = r.prior.take().map(|p| Box::new(p.record));
                    w.valid.push((Arc::new(r), prior));
                }
                CheckedRow::Invalid(r) => w.invalid.push(ResultRecord::invalid(&r)),
            }
        }
        w
    }

    /// The lines of invalid rows, unless the file has them already; returns
    /// how many it had.
    fn write_invalid(&self, session: &mut Session, past: &results::Past) -> Result<usize, Refused> {
        let mut kept = 0;
        for rec in &self.invalid {
            if past.lines.contains_key(&rec.row) {
                kept += 1;
            } else {
                session.write(rec)?;
            }
        }
        Ok(kept)
    }

    /// The valid rows with their token and (when they may register) PIN.
    fn rows(self, secrets: &Secrets) -> Vec<resume::Row> {
        self.valid
            .into_iter()
            .enumerate()
            .map(|(i, (row, prior))| resume::Row {
                row,
                prior,
                token: secrets.token_ids[i],
                pin: secrets.pin_ids[i],
            })
            .collect()
    }
}

/// The run's tokens and two-step PINs (read once, up front), and which one
/// each valid row uses.
struct Secrets {
    tokens: Vec<(String, Credentials)>,
    token_ids: Vec<TokenId>,
    pins: Vec<Pin>,
    /// `None` for a row that will not register in this run.
    pin_ids: Vec<Option<PinId>>,
}

/// The demo's PIN, when `--sandbox` runs without one set.
const DEMO_PIN: &str = "147258";

impl Secrets {
    /// Every token variable the rows need, the PIN of every row that may
    /// register, and the app secret; `None` when one is missing (each missing
    /// variable is printed). The sandbox demo fills in a token and a PIN.
    fn load(
        rows: &[(Arc<ValidRow>, Option<Box<ResultRecord>>)],
        config: &Config,
    ) -> Result<Option<Secrets>, Refused> {
        let sandbox = matches!(config.endpoint, Endpoint::Sandbox);
        let demo = |_: &str| Token::new(DEMO_TOKEN);
        let demo_pin = |_: &str| Pin::new(DEMO_PIN);
        let token_fallback: Option<&dyn Fn(&str) -> Token> = sandbox.then_some(&demo as _);
        let pin_fallback: Option<&dyn Fn(&str) -> Pin> = sandbox.then_some(&demo_pin as _);
        let tokens = TokenTable::for_rows(
            rows.iter().map(|(r, _)| &**r),
            &config.token_env,
            token_fallback,
        );
        // A row registers in this run unless it has already.
        let registers = |prior: &Option<Box<ResultRecord>>| {
            config.through == Through::Register
                && prior
                    .as_ref()
                    .is_none_or(|p| p.status != Status::Registered)
        };
        let pin_uses = rows
            .iter()
            .filter(|(_, p)| registers(p))
            .map(|(r, _)| (r.pin_var(&config.pin_env), &**r));
        let pins = VarTable::load(pin_uses, Pin::from_env, pin_fallback, "PINs");
        let ((token_table, token_ids), (pin_table, pin_index)) = match (tokens, pins) {
            (Ok(t), Ok(p)) => (t, p),
            (t, p) => {
                for e in t.err().into_iter().chain(p.err()).flatten() {
                    print_error(&e);
                }
                return Ok(None);
            }
        };
        let app_secret = app_secret(config)?;
        let tokens = token_table
            .names
            .into_iter()
            .zip(token_table.values)
            .map(|(name, token)| (name, Credentials::new(token, app_secret.as_ref())))
            .collect();
        // The table holds the PINs of registering rows in row order.
        let mut pin_index = pin_index.into_iter();
        let pin_ids = rows
            .iter()
            .map(|(_, p)| {
                let i = registers(p).then(|| pin_index.next()).flatten()?;
                Some(PinId(u32::try_from(i).unwrap_or(u32::MAX)))
            })
            .collect();
        Ok(Some(Secrets {
            tokens,
            token_ids,
            pins: pin_table.values,
            pin_ids,
        }))
    }
}

/// `--app-secret-env`: the app secret that signs every call, if set.
fn app_secret(config: &Config) -> Result<Option<AppSecret>, Refused> {
    let Some(var) = &config.app_secret_env else {
        return Ok(None);
    };
    AppSecret::from_env(var)
        .map(Some)
        .map_err(|e| Refused::msg(format!("--app-secret-env: {e}")))
}

/// `--codes FILE`, read and matched to the rows before anything is sent.
fn read_codes(
    config: &Config,
    rows: &[(Arc<ValidRow>, Option<Box<ResultRecord>>)],
) -> Result<Option<FileCodes>, Refused> {
    let Some(path) = &config.codes else {
        return Ok(None);
    };
    let candidates: Vec<Candidate<'_>> = rows
        .iter()
        .map(|(row, prior)| Candidate {
            row,
            phone_number_id: prior
                .as_ref()
                .map(|p| p.phone_number_id.as_str())
                .filter(|id| !id.is_empty()),
        })
        .collect();
    match FileCodes::read(path, &candidates) {
        Ok(codes) => Ok(Some(codes)),
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            Err(Refused::msg(format!(
                "{}: {} problem(s) in the codes file; nothing was sent",
                path.display(),
                errors.len()
            )))
        }
    }
}

/// Where codes come from: the file, the terminal, the sandbox (`--sandbox`
/// without either), or nowhere.
fn code_source(config: &Config, file: Option<FileCodes>, target: &Target) -> Arc<dyn CodeSource> {
    if let Some(codes) = file {
        return Arc::new(codes);
    }
    if config.ask_codes {
        return Arc::new(Prompt::start(std::io::BufReader::new(std::io::stdin())));
    }
    match &target.sandbox {
        Some(s) => Arc::new(SandboxCodes(s.clone())),
        None => Arc::new(NoCodes),
    }
}

/// `run --sandbox`: the sandbox knows the codes it sent.
struct SandboxCodes(Arc<Sandbox>);

impl CodeSource for SandboxCodes {
    fn known(&self, _row: &ValidRow, phone_number_id: &str) -> Option<Code> {
        self.0
            .code_for(phone_number_id)
            .as_deref()
            .and_then(Code::parse)
    }
}

/// Where the run sends: Meta (or a sandbox elsewhere), or the in-process sandbox.
struct Target {
    client: GraphClient,
    sandbox: Option<Arc<Sandbox>>,
}

impl Target {
    async fn start(config: &Config) -> Result<Target, Refused> {
        let (graph_url, sandbox) = match &config.endpoint {
            Endpoint::Sandbox => {
                let s = Sandbox::start(demo_sandbox())
                    .await
                    .map_err(|e| Refused::msg(format!("cannot start the sandbox: {e}")))?;
                eprintln!(
                    "waba-provision: sandbox: sending to the built-in fake Graph API at {}",
                    s.url()
                );
                (s.url(), Some(Arc::new(s)))
            }
            Endpoint::Graph { url, from } => {
                eprintln!(
                    "waba-provision: sending to {}/{} (from {from})",
                    url.trim_end_matches('/'),
                    config.api_version
                );
                (url.clone(), None)
            }
        };
        let client = GraphClient::new(ClientConfig {
            graph_url,
            api_version: config.api_version.clone(),
            timeout: config.limits.timeout,
            max_connections: config.limits.concurrency,
        })?;
        Ok(Target { client, sandbox })
    }

    async fn stop(self) {
        // The code source may still hold the sandbox; dropping the last
        // handle stops it too.
        if let Some(s) = self.sandbox.and_then(|s| Arc::try_unwrap(s).ok()) {
            s.shutdown().await;
        }
    }
}

/// What the sending needs beyond the jobs and the target.
struct Sending {
    secrets: Secrets,
    codes: Arc<dyn CodeSource>,
    rules: Rules,
    audit: Option<AuditLog>,
}

/// Run the jobs to their ends, recording each row in the session; Ctrl-C
/// stops dispatching.
async fn send(
    start: resume::Start<'_>,
    target: &Target,
    sending: Sending,
    config: &Config,
    session: &mut Session,
) -> RunReport {
    let Sending {
        secrets,
        codes,
        rules,
        audit,
    } = sending;
    let (names, creds): (Vec<String>, Vec<Credentials>) = secrets.tokens.into_iter().unzip();
    let (interrupt_tx, interrupt_rx) = watch::channel(false);
    tokio::spawn(watch_ctrl_c(interrupt_tx));
    let total = start.job_count;
    let mut progress = crate::ui::progress::for_output(total, &config.output, config.ask_codes);
    let runner = Runner {
        api: Arc::new(target.client.clone()),
        creds,
        token_names: names,
        pins: secrets.pins,
        codes,
        rules,
        limits: config.limits.clone(),
        audit,
        progress_every: Duration::from_millis(250),
        seed: rand::random(),
    };
    runner
        .run_jobs(
            start.jobs,
            total,
            start.tokens_used,
            session,
            progress.as_mut(),
            interrupt_rx,
        )
        .await
}

/// The summary (text, and JSON with `--summary-json`) and the outcome, both
/// from the file as it was read back.
fn conclude(
    config: &Config,
    report: &RunReport,
    closed: Closed,
    kept: usize,
    manifest_rows: usize,
) -> Outcome {
    if let Err(e) = &closed.compaction {
        print_error(e);
    }
    let (counts, outcome) = outcome(config, report, &closed);
    let summary = Summary::new(&Ending {
        report,
        results: &closed.path,
        counts,
        manifest_rows,
        kept,
        exit_code: outcome.code(),
        through: match config.through {
            Through::Create => "create",
            Through::RequestCode => "request-code",
            Through::Register => "register",
        },
        resumable: config.mode == OpenMode::Resume,
    });
    if config.output.quiet() {
        eprintln!("{}", one_line(&summary));
    } else {
        eprintln!("{}", summary.to_text());
    }
    if config.output.verbose()
        && let Ok(lines) = &closed.lines
    {
        eprint!(
            "{}",
            per_waba_table(lines.iter().map(|l| (&*l.waba_id, l.status)))
        );
    }
    if let Some(path) = &config.summary_json {
        write_json(path, &summary);
    }
    outcome
}

/// The counts and the outcome from the file as read back: done only when
/// every row reached `--through`.
fn outcome(config: &Config, report: &RunReport, closed: &Closed) -> (StatusCounts, Outcome) {
    let (counts, reached) = match &closed.lines {
        Ok(lines) => (
            StatusCounts::of(lines),
            lines.iter().all(|l| config.through.reached(l.status)) && !lines.is_empty(),
        ),
        Err(e) => {
            print_error(&format!("cannot read back {}: {e}", closed.path.display()));
            (StatusCounts::default(), false)
        }
    };
    let outcome = if report.interrupted || report.aborted.is_some() || report.write_failures > 0 {
        Outcome::Aborted
    } else if reached {
        Outcome::Done
    } else {
        Outcome::Incomplete
    };
    (counts, outcome)
}

/// `--summary-json PATH` (its directory was checked at the start).
fn write_json(path: &Path, summary: &Summary) {
    match serde_json::to_vec_pretty(summary) {
        Ok(json) => {
            if let Err(e) = std::fs::write(path, json) {
                print_error(&format!("cannot write {}: {e}", path.display()));
            }
        }
        Err(e) => print_error(&format!("cannot encode the summary: {e}")),
    }
}

/// The sandbox of `run --sandbox`: a rehearsal, so it behaves like a mildly
/// unreliable Meta (latency, a few transient errors, the odd answer lost after
/// the number was created) and the summary shows retries and reconciliation.
fn demo_sandbox() -> SandboxConfig {
    SandboxConfig {
        seed: 3,
        latency_ms: 40,
        jitter_ms: 60,
        faults: FaultRates {
            transient: 0.04,
            html_503: 0.01,
            drop_after_create: 0.02,
            ..FaultRates::default()
        },
        ..SandboxConfig::default()
    }
}

/// First Ctrl-C: stop dispatching and finish cleanly. Second: exit at once
/// (`--resume` finishes the job; the journal says what may have been sent).
async fn watch_ctrl_c(tx: watch::Sender<bool>) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    eprintln!(
        "\nwaba-provision: interrupted: letting requests in flight finish, the rest will be recorded as skipped (Ctrl-C again to exit now; --resume finishes the job)"
    );
    let _ = tx.send(true);
    if tokio::signal::ctrl_c().await.is_ok() {
        eprintln!("waba-provision: exiting now; continue with --resume");
        std::process::exit(i32::from(Outcome::Aborted.code()));
    }
}
