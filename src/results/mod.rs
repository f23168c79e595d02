//! The results CSV (SPEC section 3): the system of record of a run.
//!
//! One line per manifest row, columns in [`COLUMNS`] order, written and flushed as
//! each row finishes.
//!
//! - [`ResultsFile`] (`writer.rs`): open per [`OpenMode`] under a lock, repair a torn
//!   last line on resume, append one flushed line per finished row, compact at the end.
//! - [`read_results`], [`final_rows`], [`latest_per_row`] (`reader.rs`): reading and
//!   which line of a row counts.
//! - [`Journal`] (`journal.rs`): the in-flight journal telling a resumed run which
//!   rows may have reached Meta.
//! - `lock.rs`: the advisory lock on `FILE.lock`; `record.rs`: the only way the runner
//!   builds a line.
//!
//! A run uses them in this order: `ResultsFile::open(path, mode)` (lock; on resume,
//! `final_rows` of the lines returned are not sent again); on resume,
//! `Journal::read_sent(path)` (rows sent but not final are in doubt: reconcile them
//! before sending); `Journal::open(path)`; per attempt `record_sends` *then* the POST;
//! per finished row `write`; `sync` both now and then; at the end `compact` (every
//! row exactly once, in row order) and `Journal::remove(path)`.
//!
//! Values are written verbatim (no spreadsheet formula neutralising such as a `'`
//! before `=`, `+`, `-`, `@`): the file is a machine-readable record and the manifest
//! of `retry`, and altering cells would corrupt ids, names and messages.

mod error;
mod journal;
mod lock;
mod reader;
mod record;
mod session;
mod writer;

pub use error::ResultsError;
pub use journal::{Entry as JournalEntry, Journal, Sent};
pub use reader::{Tally, final_rows, latest_per_row, read_results, tally};
pub use record::RowResult;
pub use session::{Closed, Past, Session};
pub use writer::{OpenMode, Repair, ResultsFile, precheck};

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// `FILE` with `suffix` appended to its name (`results.csv` → `results.csv.lock`), so
/// sidecars sit in the same directory (same filesystem: renames stay atomic).
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name: OsString = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Where `--force` keeps the previous results file: `FILE.bak`.
pub fn backup_path(results: &Path) -> PathBuf {
    sidecar(results, ".bak")
}

/// The lock file beside the results: `FILE.lock` (kept; only its lock matters).
pub fn lock_path(results: &Path) -> PathBuf {
    sidecar(results, ".lock")
}

/// The in-flight journal beside the results: `FILE.journal`.
pub fn journal_path(results: &Path) -> PathBuf {
    sidecar(results, ".journal")
}
