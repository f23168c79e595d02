//! What people see: manifest problems (`diagnostics`), the progress display
//! (`progress`), the end-of-run summary (`summary`), and one-line errors. The
//! edge of the pipeline: it reads the pipeline's values, nothing reads it.

pub mod diagnostics;
pub mod progress;
pub mod prompt;
pub mod summary;

use std::io::Write;

/// An error that stops a command, on one line of stderr.
pub fn print_error(e: &dyn std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "waba-provision: error: {e}");
}
