//! The production [`Recorder`]: the results file and the in-flight journal.
//!
//! The journal line is flushed before a create goes out, and the results line
//! as soon as the row is final, so after a crash `--resume` knows exactly which
//! rows are done and which may have reached Meta.

use std::io;
use std::time::{Duration, Instant};

use super::{Recorder, RowOutcome};
use crate::results::{Journal, ResultsFile};
use crate::schema::ResultRecord;
use crate::validate::ValidRow;

pub struct FileRecorder {
    pub results: ResultsFile,
    pub journal: Journal,
    last_sync: Instant,
}

/// fsync the results file and the journal at most this often. Each line is
/// already handed to the OS, which survives a killed process; fsync covers
/// power loss, and once a second bounds what a power cut can take without
/// letting disk flushes throttle a fast run.
const SYNC_EVERY: Duration = Duration::from_secs(1);

impl FileRecorder {
    pub fn new(results: ResultsFile, journal: Journal) -> Self {
        FileRecorder {
            results,
            journal,
            last_sync: Instant::now(),
        }
    }

    /// Write a line that does not come from the run loop (invalid rows, rows
    /// copied by `retry`).
    pub fn write(&mut self, rec: &ResultRecord) -> io::Result<()> {
        self.results.write(rec).map_err(io::Error::other)
    }
}

impl Recorder for FileRecorder {
    fn about_to_send(&mut self, sends: &[(&ValidRow, u32)]) -> io::Result<()> {
        let rows: Vec<(u32, u32)> = sends
            .iter()
            .map(|(row, attempt)| (row.id.row, *attempt))
            .collect();
        self.journal.record_sends(&rows).map_err(io::Error::other)
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
        if self.last_sync.elapsed() >= SYNC_EVERY {
            self.last_sync = Instant::now();
            self.journal.sync().map_err(io::Error::other)?;
            self.results.sync().map_err(io::Error::other)?;
        }
        Ok(())
    }
}
