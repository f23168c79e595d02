//! The production [`Recorder`]: the results file and the in-flight journal.
//!
//! The journal line is flushed before a create goes out, and the results line
//! as soon as the row is final, so after a crash `--resume` knows exactly which
//! rows are done and which may have reached Meta.

use std::io;

use super::{Recorder, RowOutcome};
use crate::results::{Journal, ResultRecord, ResultsFile};
use crate::validate::ValidRow;

pub struct FileRecorder {
    pub results: ResultsFile,
    pub journal: Journal,
    unsynced: usize,
}

/// fsync the results file every this many lines (each line is already flushed
/// to the OS, which survives a killed process; fsync covers power loss).
const SYNC_EVERY: usize = 64;

impl FileRecorder {
    pub fn new(results: ResultsFile, journal: Journal) -> Self {
        FileRecorder {
            results,
            journal,
            unsynced: 0,
        }
    }

    /// Write a line that does not come from the run loop (invalid rows, rows
    /// copied by `retry`).
    pub fn write(&mut self, rec: &ResultRecord) -> io::Result<()> {
        self.results.write(rec).map_err(io::Error::other)
    }
}

impl Recorder for FileRecorder {
    fn about_to_send(&mut self, row: &ValidRow, attempt: u32) -> io::Result<()> {
        self.journal
            .record_send(row.id.row, attempt)
            .map_err(io::Error::other)
    }

    fn finished(&mut self, row: &ValidRow, attempts: u32, outcome: &RowOutcome) -> io::Result<()> {
        let rec = match outcome {
            RowOutcome::Created { id, note } => {
                ResultRecord::created(row, id, attempts, note.as_deref())
            }
            RowOutcome::Failed { failure, note } => {
                ResultRecord::failed(row, failure, attempts, note.as_deref())
            }
            RowOutcome::Skipped { reason } => ResultRecord::skipped_after(row, reason, attempts),
        };
        self.results.write(&rec).map_err(io::Error::other)?;
        self.unsynced += 1;
        if self.unsynced >= SYNC_EVERY {
            self.unsynced = 0;
            self.results.sync().map_err(io::Error::other)?;
        }
        Ok(())
    }
}
