//! `validate` command: read and check a manifest, print every problem, exit 0
//! when it is valid (warnings allowed) and 2 when not. Also the user-facing
//! rendering of diagnostics, shared with `plan` (and `run`).

use crate::cli::ValidateArgs;
use crate::exit::Exit;
use crate::validate::{ValidateOptions, Validation, load_and_validate};
use std::io::Write;

pub fn command(args: ValidateArgs) -> Exit {
    let opts = ValidateOptions {
        strict_numbers: args.strict_numbers,
    };
    match load_and_validate(&args.manifest, &opts) {
        Err(e) => {
            print_error(&e);
            Exit::Usage
        }
        Ok(v) => {
            print_diagnostics(&v);
            if v.is_valid() {
                Exit::Success
            } else {
                Exit::Usage
            }
        }
    }
}

/// Every problem on stderr in the one-line form `FILE:LINE: error: FIELD:
/// message` (sorted by line), then a count line. Write errors (a closed pipe)
/// are ignored: the exit code still tells.
pub fn print_diagnostics(v: &Validation) {
    let mut err = std::io::stderr().lock();
    for d in &v.diagnostics {
        let _ = writeln!(err, "{d}");
    }
    let _ = writeln!(err, "{}", summary(v));
}

/// "2 errors, 1 warning; 97 of 100 rows valid".
pub fn summary(v: &Validation) -> String {
    let (errors, warnings) = (v.error_count(), v.warning_count());
    let valid = v.valid_rows().count();
    let total = v.rows.len();
    let problems = match (errors, warnings) {
        (0, 0) => "no problems".to_string(),
        _ => format!(
            "{} error{}, {} warning{}",
            errors,
            plural(errors),
            warnings,
            plural(warnings)
        ),
    };
    let verdict = if v.is_valid() { "valid" } else { "INVALID" };
    format!("{problems}; {valid} of {total} rows valid; manifest {verdict}")
}

/// A file that could not be read as a manifest: one line.
pub fn print_error(e: &dyn std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "waba-provision: error: {e}");
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
