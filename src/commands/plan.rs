//! `plan` command: validate the manifest, count what a run would send per WABA
//! (minus rows already `created` in `--resume RESULTS`, or in the manifest itself
//! when it is a results file) and estimate the time
//! under the limits. Never touches the network.

use super::validate::{print_diagnostics, print_error};
use crate::cli::PlanArgs;
use crate::exit::Exit;
use crate::limits::Limits;
use crate::manifest::{ManifestError, read_manifest};
use crate::plan::build_plan;
use crate::results::Status;
use crate::validate::{Severity, ValidRow, ValidateOptions, load_and_validate};
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

pub fn command(args: PlanArgs) -> Exit {
    let limits = match Limits::from_args(&args.limits) {
        Ok(l) => l,
        Err(e) => {
            print_error(&e);
            return Exit::Usage;
        }
    };
    let opts = ValidateOptions {
        strict_numbers: args.strict_numbers,
    };
    let validation = match load_and_validate(&args.manifest, &opts) {
        Ok(v) => v,
        Err(e) => {
            print_error(&e);
            return Exit::Usage;
        }
    };
    if !validation.diagnostics.is_empty() {
        print_diagnostics(&validation);
    }
    if !validation.is_valid() {
        return Exit::Usage;
    }
    let created = match &args.resume {
        // A results file given as the manifest: what `retry` would send, so its
        // `created` rows are skipped too.
        None => created_rows(&args.manifest).unwrap_or_default(),
        Some(path) => match created_rows(path) {
            Ok(c) => c,
            Err(e) => {
                print_error(&e);
                return Exit::Usage;
            }
        },
    };
    let rows: Vec<ValidRow> = validation.valid_rows().cloned().collect();
    let plan = build_plan(&rows, &created, &limits, &args.token_env);
    let _ = write!(std::io::stdout().lock(), "{plan}");
    Exit::Success
}

#[derive(Debug, thiserror::Error)]
enum ResumeError {
    #[error("--resume: {0}")]
    Read(#[from] ManifestError),
    #[error("--resume: {0} is not a results file (it has no `row` and `status` columns)")]
    NotResults(String),
    #[error("--resume: {0}")]
    Header(String),
}

/// The `row` numbers a results file records as `created`. A results file is a
/// manifest too, so the manifest reader reads it.
fn created_rows(path: &Path) -> Result<HashSet<u32>, ResumeError> {
    let m = read_manifest(path)?;
    if let Some(d) = m.diagnostics.iter().find(|d| d.severity == Severity::Error) {
        return Err(ResumeError::Header(d.to_string()));
    }
    if m.rows.iter().any(|r| r.origin.is_none()) {
        return Err(ResumeError::NotResults(path.display().to_string()));
    }
    Ok(m.rows
        .iter()
        .filter_map(|r| r.origin.as_ref())
        .filter(|o| o.status == Status::Created.as_str())
        .map(|o| o.row)
        .collect())
}
