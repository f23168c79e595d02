//! What people see: manifest problems (`diagnostics`), the progress display
//! (`progress`), the end-of-run summary (`summary`), one-line errors, and the
//! output settings every command is given (`output`: quiet, verbose, colour). The
//! edge of the pipeline: it reads the pipeline's values, nothing reads it.

pub mod advice;
pub mod diagnostics;
pub mod output;
pub mod progress;
pub mod prompt;
pub mod summary;

pub use output::{Output, Verbosity};

use std::io::Write;

/// An error that stops a command, on one line of stderr, never coloured
/// ([`Output::error`] colours it when asked).
pub fn print_error(e: &dyn std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "waba-provision: error: {e}");
}
