//! `plan` command: validate the manifest and count, per WABA, the rows a run
//! would take on and the calls `--through` implies for them (rows already as
//! far as asked — in `--resume RESULTS`, or in the manifest itself when it is a
//! results file — are skipped), then estimate the time under the limits.
//! Never touches the network.

use crate::exit::{Outcome, Refused};
use crate::limits::Limits;
use crate::plan::{PlanRow, build_plan};
use crate::results::read_results;
use crate::schema::{ResultRecord, Status};
use crate::send::{Progress, Through, calls_left};
use crate::ui::Output;
use crate::ui::diagnostics::print_validation_as;
use crate::validate::{ValidRow, ValidateOptions, load_and_validate};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

/// What `plan` reads and the limits it estimates under.
#[derive(Debug, Clone)]
pub struct Config {
    pub manifest: PathBuf,
    /// A results file being resumed: its final rows are not counted.
    pub resume: Option<PathBuf>,
    pub options: ValidateOptions,
    pub token_env: String,
    pub limits: Limits,
    /// `--quiet`: the plan without the manifest's warnings.
    pub output: Output,
    /// How far a run would take each row.
    pub through: Through,
    /// Where a run would send, and from which setting.
    pub endpoint: Option<String>,
}

pub fn command(config: &Config) -> Result<Outcome, Refused> {
    let validation = load_and_validate(&config.manifest, &config.options)?;
    if !validation.diagnostics.is_empty() {
        print_validation_as(&validation, &config.manifest, &config.output);
    }
    if !validation.is_valid() {
        return Ok(Outcome::Refused);
    }
    let resumed: HashMap<u32, ResultRecord> = match &config.resume {
        Some(path) => {
            let lines = read_results(path).map_err(|e| Refused::msg(format!("--resume: {e}")))?;
            crate::results::latest_per_row(&lines)
                .into_iter()
                .map(|l| (l.row, l))
                .collect()
        }
        None => HashMap::new(),
    };
    let rows = validation.valid_rows().map(|row| PlanRow {
        row,
        calls: calls(row, resumed.get(&row.id.row), config.through),
    });
    let mut plan = build_plan(rows, &config.limits, &config.token_env);
    plan.endpoint = config.endpoint.clone();
    let _ = writeln!(std::io::stdout().lock(), "{plan}");
    Ok(Outcome::Done)
}

/// The calls a row needs, from its line in the results being resumed (a
/// final line needs none), else its own line when the manifest is a results
/// file (as `retry` carries it on), else from scratch.
fn calls(row: &ValidRow, resumed: Option<&ResultRecord>, through: Through) -> u32 {
    if let Some(line) = resumed {
        let done = match line.status {
            Status::Failed | Status::Invalid => true,
            Status::Skipped => false,
            s => through.reached(s),
        };
        if done {
            return 0;
        }
        return calls_left(row, Progress::of_line(line).status, through);
    }
    let status = row
        .prior
        .as_ref()
        .and_then(|p| Progress::of_line(&p.record).status);
    calls_left(row, status, through)
}
