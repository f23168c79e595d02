//! `run` and `retry` (SPEC sections 2–4): validate, open the results file, work
//! out what is left to do, send it, summarise, and pick the exit code.
//!
//! `retry RESULTS --results NEW` is `run` on a results file: rows `created`
//! there are copied into NEW unchanged, the others are sent again with their
//! original `row` and `source`, so NEW is again a complete record.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::watch;

use crate::exit::{Outcome, Refused};
use crate::graph::{ApiVersion, ClientConfig, Credentials, GraphClient};
use crate::limits::Limits;
use crate::results::{self, Journal, OpenMode, ResultsFile};
use crate::runner::resume::{Entry, plan_entries};
use crate::runner::tokens::TokenTable;
use crate::runner::{FileRecorder, Runner};
use crate::sandbox::{FaultRates, Sandbox, SandboxConfig};
use crate::schema::{ResultRecord, Status};
use crate::secret::{AppSecret, Token};
use crate::send::Job;
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
    /// `--audit-log FILE` / `WABA_AUDIT_LOG`: one line per HTTP exchange (`crate::audit`).
    pub audit_log: Option<PathBuf>,
    /// `--quiet` / `--verbose` / `--color`.
    pub output: crate::ui::Output,
}

pub async fn command(config: Config) -> Result<Outcome, Refused> {
    let send = &config;
    let limits = config.limits.clone();
    let (manifest, retry) = match &config.input {
        Input::Manifest(p) => (p.as_path(), false),
        Input::Retry(p) => (p.as_path(), true),
    };

    // 1. Validate everything before anything is sent.
    let validation = load_and_validate(manifest, &config.options)?;
    print_validation(&validation, manifest);
    if validation.has_file_errors() || (!validation.is_valid() && !send.skip_invalid) {
        eprintln!(
            "waba-provision: nothing was sent (use --skip-invalid to send the valid rows and record the others as invalid)"
        );
        return Ok(Outcome::Refused);
    }
    let prior = if retry {
        Some(results::latest_per_row(&results::read_results(manifest)?))
    } else {
        None
    };
    let Work {
        valid,
        invalid,
        copied,
    } = split(validation, prior);

    if send.dry_run {
        let plan = crate::plan::build_plan(&valid, &HashSet::new(), &limits, &send.token_env);
        println!("{plan}");
        return Ok(Outcome::Done);
    }

    // 2. Tokens, read once; the sandbox demo fills in a token where none is set.
    let sandboxed = matches!(send.endpoint, Endpoint::Sandbox);
    let demo = |_: &str| Token::new(DEMO_TOKEN);
    let fallback: Option<&dyn Fn(&str) -> Token> = if sandboxed { Some(&demo) } else { None };
    let (table, token_ids) = match TokenTable::load(valid.iter(), &send.token_env, fallback) {
        Ok(t) => t,
        Err(errors) => {
            for e in &errors {
                print_error(e);
            }
            return Ok(Outcome::Refused);
        }
    };
    let app_secret = match &send.app_secret_env {
        Some(var) => Some(
            AppSecret::from_env(var).map_err(|e| Refused::msg(format!("--app-secret-env: {e}")))?,
        ),
        None => None,
    };

    // 3. The results file: locked, never overwritten silently.
    let resume = send.mode == OpenMode::Resume;
    let (results_file, existing) = ResultsFile::open(&send.results, send.mode)?;
    if let Some(rep) = results_file.repaired() {
        eprintln!(
            "waba-provision: repaired {}: cut a torn last line at line {} ({} bytes) left by an interrupted run",
            send.results.display(),
            rep.line,
            rep.bytes_removed
        );
    }
    let finals = results::final_rows(&existing);
    let journal_sent = if resume {
        Journal::read_sent(&send.results)?
    } else {
        HashSet::new()
    };
    let entries = plan_entries(&valid, &finals, &journal_sent)?;
    let journal = Journal::open(&send.results)?;
    let mut recorder = FileRecorder::new(results_file, journal);

    // Lines that are not the run loop's: invalid rows and rows `retry` copies.
    let mut kept = 0;
    for rec in invalid.iter().chain(copied.iter()) {
        if finals.contains_key(&rec.row) {
            kept += 1;
            continue;
        }
        recorder.write(rec)?;
    }

    let mut jobs = Vec::new();
    for ((row, entry), token) in valid.into_iter().zip(entries).zip(token_ids) {
        let row = Arc::new(row);
        match entry {
            Entry::Kept => kept += 1,
            Entry::Send => jobs.push(Job::new(row, token)),
            Entry::InDoubt => jobs.push(Job::resumed(row, token)),
        }
    }

    // 4. Where to send: Meta, or the in-process sandbox.
    let (graph_url, sandbox) = match &send.endpoint {
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
        api_version: send.api_version.clone(),
        timeout: limits.timeout,
        max_connections: limits.concurrency,
    })?;
    let creds: Vec<Credentials> = table
        .tokens
        .into_iter()
        .map(|t| Credentials::new(t, app_secret.as_ref()))
        .collect();

    // 5. Send.
    let (interrupt_tx, interrupt_rx) = watch::channel(false);
    tokio::spawn(watch_ctrl_c(interrupt_tx));
    let mut progress = crate::ui::progress::for_stderr(jobs.len());
    let report = {
        let runner = Runner::new(
            Arc::new(client),
            creds,
            table.names,
            limits,
            &mut recorder,
            progress.as_mut(),
        );
        runner.run(jobs, interrupt_rx).await
    };

    // 6. Close the record: one line per row, the journal only while rows remain.
    let FileRecorder {
        results: results_file,
        journal,
        ..
    } = recorder;
    drop(journal);
    let results_path: PathBuf = results_file.path().to_path_buf();
    let compacted = results_file.compact();
    if let Err(e) = &compacted {
        print_error(e);
    }
    if report.skipped == 0 && report.aborted.is_none() && compacted.is_ok() {
        let _ = Journal::remove(&results_path);
    }
    if let Some(s) = sandbox {
        s.shutdown().await;
    }

    // The file is the system of record: the exit code and counts come from it.
    let counts = match results::read_results(&results_path) {
        Ok(lines) => StatusCounts::of(&results::latest_per_row(&lines)),
        Err(e) => {
            print_error(&format!("cannot read back {}: {e}", results_path.display()));
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
    let summary = Summary::new(&report, &results_path, counts, kept, outcome.code());
    eprintln!("{}", summary.to_text());
    if let Some(path) = &send.summary_json {
        match serde_json::to_vec_pretty(&summary) {
            Ok(json) => {
                if let Err(e) = std::fs::write(path, json) {
                    print_error(&format!("cannot write {}: {e}", path.display()));
                }
            }
            Err(e) => print_error(&format!("cannot encode the summary: {e}")),
        }
    }
    Ok(outcome)
}

/// The manifest's rows, sorted into what is sent, what is recorded invalid,
/// and (for `retry`) what is copied as already created.
struct Work {
    valid: Vec<ValidRow>,
    invalid: Vec<ResultRecord>,
    copied: Vec<ResultRecord>,
}

fn split(v: Validation, prior: Option<Vec<ResultRecord>>) -> Work {
    let created: HashMap<u32, ResultRecord> = prior
        .unwrap_or_default()
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
