//! `plan` command: validate the manifest, count what a run would send per WABA
//! (minus rows already `created` in `--resume RESULTS`, or in the manifest itself
//! when it is a results file) and estimate the time
//! under the limits. Never touches the network.

use crate::exit::{Outcome, Refused};
use crate::limits::Limits;
use crate::manifest::{Manifest, ManifestError, ReadOptions, read_manifest};
use crate::plan::build_plan;
use crate::schema::Status;
use crate::ui::Output;
use crate::ui::diagnostics::print_validation_as;
use crate::validate::{Severity, ValidateOptions, validate};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What `plan` reads and the limits it estimates under.
#[derive(Debug, Clone)]
pub struct Config {
    pub manifest: PathBuf,
    /// A results file whose `created` rows are not counted.
    pub resume: Option<PathBuf>,
    pub options: ValidateOptions,
    pub token_env: String,
    pub limits: Limits,
    /// `--quiet`: the plan without the manifest's warnings.
    pub output: Output,
}

pub fn command(config: &Config) -> Result<Outcome, Refused> {
    // Read once: the rows are validated, and a results file's outcomes kept.
    let manifest = read_manifest(&config.manifest, &config.options.read)?;
    let validation = validate(&manifest, &config.options);
    if !validation.diagnostics.is_empty() {
        print_validation_as(&validation, &config.manifest, &config.output);
    }
    if !validation.is_valid() {
        return Ok(Outcome::Refused);
    }
    let created = match &config.resume {
        // A results file given as the manifest: what `retry` would send, so its
        // `created` rows are skipped too.
        None => created_in(&manifest).unwrap_or_default(),
        Some(path) => created_rows(path)?,
    };
    let plan = build_plan(
        validation.valid_rows(),
        &created,
        &config.limits,
        &config.token_env,
    );
    let _ = writeln!(std::io::stdout().lock(), "{plan}");
    Ok(Outcome::Done)
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

/// The `row` numbers the results file at `path` records as `created`. A
/// results file is a manifest too, so the manifest reader reads it.
fn created_rows(path: &Path) -> Result<HashSet<u32>, ResumeError> {
    let m = read_manifest(path, &ReadOptions::default())?;
    if let Some(d) = m.diagnostics.iter().find(|d| d.severity == Severity::Error) {
        return Err(ResumeError::Header(d.to_string()));
    }
    created_in(&m).ok_or_else(|| ResumeError::NotResults(path.display().to_string()))
}

/// The `row` numbers a manifest read from a results file records as
/// `created`; `None` when it is not a results file.
fn created_in(m: &Manifest) -> Option<HashSet<u32>> {
    if !m.is_results_file() {
        return None;
    }
    let created = m.rows.iter().filter_map(|r| r.prior.as_deref());
    Some(
        created
            .filter(|p| p.status == Status::Created)
            .map(|p| p.row)
            .collect(),
    )
}
