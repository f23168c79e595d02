//! `run` and `retry` (SPEC sections 2–4): validate, open the results file, work
//! out what is left to do, send it, summarise, and pick the exit code.
//!
//! `retry RESULTS --results NEW` is `run` on a results file: rows `created`
//! there are copied into NEW unchanged, the others are sent again with their
//! original `row` and `source`, so NEW is again a complete record.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::watch;

use super::validate::{print_diagnostics, print_error};
use crate::cli::{RetryArgs, RunArgs, SendArgs};
use crate::exit::Exit;
use crate::graph::{ApiVersion, ClientConfig, Credentials, GraphClient};
use crate::limits::Limits;
use crate::results::{self, Journal, OpenMode, ResultRecord, ResultsFile, Status};
use crate::runner::resume::{Entry, plan_entries};
use crate::runner::tokens::TokenTable;
use crate::runner::{FileRecorder, Runner};
use crate::sandbox::{FaultRates, Sandbox, SandboxConfig};
use crate::secret::{AppSecret, Token};
use crate::send::Job;
use crate::summary::{StatusCounts, Summary};
use crate::validate::{CheckedRow, ValidRow, ValidateOptions, Validation, load_and_validate};

/// The token the sandbox demo uses when none is set.
const DEMO_TOKEN: &str = "sandbox-demo-token";

pub async fn run(args: RunArgs) -> Exit {
    execute(&args.manifest, false, args.send).await
}

pub async fn retry(args: RetryArgs) -> Exit {
    execute(&args.previous, true, args.send).await
}

fn usage(msg: impl std::fmt::Display) -> Exit {
    print_error(&msg);
    Exit::Usage
}

async fn execute(manifest: &Path, retry: bool, send: SendArgs) -> Exit {
    let limits = match Limits::from_args(&send.limits) {
        Ok(l) => l,
        Err(e) => return usage(e),
    };
    let api_version = match ApiVersion::parse(&send.api_version) {
        Ok(v) => v,
        Err(e) => return usage(e),
    };
    if send.resume && send.force {
        return usage("--resume and --force contradict each other");
    }

    // 1. Validate everything before anything is sent.
    let opts = ValidateOptions {
        strict_numbers: send.strict_numbers,
    };
    let validation = match load_and_validate(manifest, &opts) {
        Ok(v) => v,
        Err(e) => return usage(e),
    };
    print_diagnostics(&validation);
    if validation.has_file_errors() || (!validation.is_valid() && !send.skip_invalid) {
        eprintln!(
            "waba-provision: nothing was sent (use --skip-invalid to send the valid rows and record the others as invalid)"
        );
        return Exit::Usage;
    }
    let prior = if retry {
        match results::read_results(manifest) {
            Ok(lines) => Some(results::latest_per_row(&lines)),
            Err(e) => return usage(e),
        }
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
        return Exit::Success;
    }

    // 2. Tokens, read once; the sandbox demo fills in a token where none is set.
    let demo = |_: &str| Token::new(DEMO_TOKEN);
    let fallback: Option<&dyn Fn(&str) -> Token> = if send.sandbox { Some(&demo) } else { None };
    let (table, token_ids) = match TokenTable::load(valid.iter(), &send.token_env, fallback) {
        Ok(t) => t,
        Err(errors) => {
            for e in &errors {
                print_error(e);
            }
            return Exit::Usage;
        }
    };
    let app_secret = match &send.app_secret_env {
        Some(var) => match AppSecret::from_env(var) {
            Ok(s) => Some(s),
            Err(e) => return usage(format!("--app-secret-env: {e}")),
        },
        None => None,
    };

    // 3. The results file: locked, never overwritten silently.
    let mode = if send.resume {
        OpenMode::Resume
    } else if send.force {
        OpenMode::Force
    } else {
        OpenMode::Fresh
    };
    let (results_file, existing) = match ResultsFile::open(&send.results, mode) {
        Ok(r) => r,
        Err(e) => return usage(e),
    };
    if let Some(rep) = results_file.repaired() {
        eprintln!(
            "waba-provision: repaired {}: cut a torn last line at line {} ({} bytes) left by an interrupted run",
            send.results.display(),
            rep.line,
            rep.bytes_removed
        );
    }
    let finals = results::final_rows(&existing);
    let journal_sent = if send.resume {
        match Journal::read_sent(&send.results) {
            Ok(s) => s,
            Err(e) => return usage(e),
        }
    } else {
        HashSet::new()
    };
    let entries = match plan_entries(&valid, &finals, &journal_sent) {
        Ok(e) => e,
        Err(e) => return usage(e),
    };
    let journal = match Journal::open(&send.results) {
        Ok(j) => j,
        Err(e) => return usage(e),
    };
    let mut recorder = FileRecorder::new(results_file, journal);

    // Lines that are not the run loop's: invalid rows and rows `retry` copies.
    let mut kept = 0;
    for rec in invalid.iter().chain(copied.iter()) {
        if finals.contains_key(&rec.row) {
            kept += 1;
            continue;
        }
        if let Err(e) = recorder.write(rec) {
            return usage(e);
        }
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
    let (graph_url, sandbox) = if send.sandbox {
        match Sandbox::start(demo_sandbox()).await {
            Ok(s) => {
                eprintln!(
                    "waba-provision: sandbox: sending to the built-in fake Graph API at {}",
                    s.url()
                );
                (s.url(), Some(s))
            }
            Err(e) => return usage(format!("cannot start the sandbox: {e}")),
        }
    } else {
        (send.graph_url.clone(), None)
    };
    let client = match GraphClient::new(ClientConfig {
        graph_url,
        api_version,
        timeout: limits.timeout,
        max_connections: limits.concurrency,
    }) {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let creds: Vec<Credentials> = table
        .tokens
        .into_iter()
        .map(|t| Credentials::new(t, app_secret.as_ref()))
        .collect();

    // 5. Send.
    let (interrupt_tx, interrupt_rx) = watch::channel(false);
    tokio::spawn(watch_ctrl_c(interrupt_tx));
    let mut progress = crate::progress::for_stderr(jobs.len());
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
    let exit = if report.interrupted || report.aborted.is_some() || !report.write_errors.is_empty()
    {
        Exit::Aborted
    } else if counts.rows > 0 && counts.created == counts.rows {
        Exit::Success
    } else {
        Exit::SomeNotCreated
    };
    let summary = Summary::new(&report, &results_path, counts, kept, exit as u8);
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
    exit
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
        std::process::exit(Exit::Aborted as i32);
    }
}
