//! `run` and `retry` (SPEC sections 2–4): validate, open the results session,
//! work out what is left to do, send it, close the record, summarise.
//!
//! `retry RESULTS --results NEW` is `run` on a results file: rows `created`
//! there are copied into NEW unchanged, the others are sent again with their
//! original `row` and `source`, so NEW is again a complete record.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::watch;

use crate::exit::{Outcome, Refused};
use crate::graph::{ApiVersion, ClientConfig, Credentials, GraphClient};
use crate::limits::Limits;
use crate::results::{self, Closed, OpenMode, Session};
use crate::runner::resume::{self, Start};
use crate::runner::tokens::TokenTable;
use crate::runner::{RunReport, Runner};
use crate::sandbox::{FaultRates, Sandbox, SandboxConfig};
use crate::schema::{ResultRecord, Status};
use crate::secret::{AppSecret, Token};
use crate::ui::diagnostics::print_validation;
use crate::ui::print_error;
use crate::ui::summary::{StatusCounts, Summary};
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
    /// `--graph-url` (Meta, or a sandbox started elsewhere).
    Graph(String),
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
}

pub async fn command(config: Config) -> Result<Outcome, Refused> {
    if config.dry_run {
        return super::plan::command(&dry_run_plan(&config));
    }
    let Some(work) = Work::read(&config)? else {
        return Ok(Outcome::Refused);
    };
    let Some(tokens) = load_tokens(&work.valid, &config)? else {
        return Ok(Outcome::Refused);
    };
    let (mut session, past) = Session::open(&config.results, config.mode)?;
    if let Some(rep) = &past.repaired {
        eprintln!(
            "waba-provision: repaired {}: cut a torn last line at line {} ({} bytes) left by an interrupted run",
            config.results.display(),
            rep.line,
            rep.bytes_removed
        );
    }
    let mut kept = work.write_other_lines(&mut session, &past)?;
    let Start { jobs, kept: k } = resume::start(work.valid, tokens.ids, &past)?;
    kept += k;
    let target = Target::start(&config).await?;
    let report = send(jobs, &target, tokens.table, &config, &mut session).await?;
    let closed = session.close(report.skipped == 0 && report.aborted.is_none());
    target.stop().await;
    Ok(conclude(&config, &report, closed, kept))
}

/// `--dry-run` is `plan`, with `--resume` honoured.
fn dry_run_plan(config: &Config) -> super::plan::Config {
    super::plan::Config {
        manifest: config.input.path().to_path_buf(),
        resume: (config.mode == OpenMode::Resume && config.results.exists())
            .then(|| config.results.clone()),
        options: config.options,
        token_env: config.token_env.clone(),
        limits: config.limits.clone(),
    }
}

/// The manifest's rows, sorted into what is sent, what is recorded invalid,
/// and (for `retry`) what is copied as already created.
struct Work {
    valid: Vec<ValidRow>,
    invalid: Vec<ResultRecord>,
    copied: Vec<ResultRecord>,
}

impl Work {
    /// Validate everything before anything is sent; `None` when the manifest
    /// is refused (its problems are printed).
    fn read(config: &Config) -> Result<Option<Work>, Refused> {
        let path = config.input.path();
        let validation = load_and_validate(path, &config.options)?;
        print_validation(&validation, path);
        if validation.has_file_errors() || (!validation.is_valid() && !config.skip_invalid) {
            eprintln!(
                "waba-provision: nothing was sent (use --skip-invalid to send the valid rows and record the others as invalid)"
            );
            return Ok(None);
        }
        let prior = match &config.input {
            Input::Retry(p) => results::latest_per_row(&results::read_results(p)?),
            Input::Manifest(_) => Vec::new(),
        };
        Ok(Some(Work::split(validation, prior)))
    }

    fn split(v: Validation, prior: Vec<ResultRecord>) -> Work {
        let created: HashMap<u32, ResultRecord> = prior
            .into_iter()
            .filter(|r| r.status == Status::Created)
            .map(|r| (r.row, r))
            .collect();
        let mut w = Work {
            valid: vec![],
            invalid: vec![],
            copied: vec![],
        };
        for row in v.rows {
            let id = match &row {
                CheckedRow::Valid(r) => &r.id,
                CheckedRow::Invalid(r) => &r.id,
            };
            if let Some(rec) = created.get(&id.row) {
                // Created before: copied as it was, never sent again.
                w.copied.push(rec.clone());
                continue;
            }
            match row {
                CheckedRow::Valid(r) => w.valid.push(r),
                CheckedRow::Invalid(r) => w.invalid.push(ResultRecord::invalid(&r)),
            }
        }
        w
    }

    /// The lines that are not the run loop's (invalid rows, rows `retry`
    /// copies), unless the file has them already; returns how many it had.
    fn write_other_lines(
        &self,
        session: &mut Session,
        past: &results::Past,
    ) -> Result<usize, Refused> {
        let mut kept = 0;
        for rec in self.invalid.iter().chain(&self.copied) {
            if past.finals.contains_key(&rec.row) {
                kept += 1;
            } else {
                session.write(rec)?;
            }
        }
        Ok(kept)
    }
}

/// The run's tokens (read once, up front) and which one each valid row uses.
struct Tokens {
    table: Vec<(String, Credentials)>,
    ids: Vec<crate::send::TokenId>,
}

/// Every token variable the rows need, and the app secret; `None` when one
/// is missing (each missing variable is printed). The sandbox demo fills in
/// a token where none is set.
fn load_tokens(rows: &[ValidRow], config: &Config) -> Result<Option<Tokens>, Refused> {
    let demo = |_: &str| Token::new(DEMO_TOKEN);
    let fallback: Option<&dyn Fn(&str) -> Token> = match config.endpoint {
        Endpoint::Sandbox => Some(&demo),
        Endpoint::Graph(_) => None,
    };
    let (table, ids) = match TokenTable::load(rows.iter(), &config.token_env, fallback) {
        Ok(t) => t,
        Err(errors) => {
            for e in &errors {
                print_error(e);
            }
            return Ok(None);
        }
    };
    let app_secret = match &config.app_secret_env {
        Some(var) => Some(
            AppSecret::from_env(var).map_err(|e| Refused::msg(format!("--app-secret-env: {e}")))?,
        ),
        None => None,
    };
    let table = table
        .names
        .into_iter()
        .zip(table.tokens)
        .map(|(name, token)| (name, Credentials::new(token, app_secret.as_ref())))
        .collect();
    Ok(Some(Tokens { table, ids }))
}

/// Where the run sends: Meta (or a sandbox elsewhere), or the in-process sandbox.
struct Target {
    client: GraphClient,
    sandbox: Option<Sandbox>,
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
                (s.url(), Some(s))
            }
            Endpoint::Graph(url) => (url.clone(), None),
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
        if let Some(s) = self.sandbox {
            s.shutdown().await;
        }
    }
}

/// Run the jobs to their ends, recording each row in the session; Ctrl-C
/// stops dispatching.
async fn send(
    jobs: Vec<crate::send::Job>,
    target: &Target,
    tokens: Vec<(String, Credentials)>,
    config: &Config,
    session: &mut Session,
) -> Result<RunReport, Refused> {
    let (names, creds): (Vec<String>, Vec<Credentials>) = tokens.into_iter().unzip();
    let (interrupt_tx, interrupt_rx) = watch::channel(false);
    tokio::spawn(watch_ctrl_c(interrupt_tx));
    let mut progress = crate::ui::progress::for_stderr(jobs.len());
    let runner = Runner::new(
        Arc::new(target.client.clone()),
        creds,
        names,
        config.limits.clone(),
        session,
        progress.as_mut(),
    );
    Ok(runner.run(jobs, interrupt_rx).await)
}

/// The summary (text, and JSON with `--summary-json`) and the outcome, both
/// from the file as it was read back.
fn conclude(config: &Config, report: &RunReport, closed: Closed, kept: usize) -> Outcome {
    if let Err(e) = &closed.compaction {
        print_error(e);
    }
    let counts = match &closed.lines {
        Ok(lines) => StatusCounts::of(lines),
        Err(e) => {
            print_error(&format!("cannot read back {}: {e}", closed.path.display()));
            StatusCounts::default()
        }
    };
    let outcome =
        if report.interrupted || report.aborted.is_some() || !report.write_errors.is_empty() {
            Outcome::Aborted
        } else if counts.rows > 0 && counts.created == counts.rows {
            Outcome::Done
        } else {
            Outcome::Incomplete
        };
    let summary = Summary::new(report, &closed.path, counts, kept, outcome.code());
    eprintln!("{}", summary.to_text());
    if let Some(path) = &config.summary_json {
        match serde_json::to_vec_pretty(&summary) {
            Ok(json) => {
                if let Err(e) = std::fs::write(path, json) {
                    print_error(&format!("cannot write {}: {e}", path.display()));
                }
            }
            Err(e) => print_error(&format!("cannot encode the summary: {e}")),
        }
    }
    outcome
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
