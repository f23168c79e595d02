//! One run's hold on its results file, from start to end, so that no command
//! walks the protocol by hand: [`Session::open`] locks the file, refuses,
//! backs up or repairs it per `--resume`/`--force`, reads what it already
//! says and what the journal says may have been sent; then lines and journal
//! entries are written through it; [`Session::close`] compacts the file
//! (every row once, in row order), removes the journal once nothing is left
//! in doubt, and reads the file back — the file is the system of record, so
//! the counts and the exit code come from it.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::journal::{Entry as JournalEntry, Sent};
use super::{Journal, OpenMode, Repair, ResultsError, ResultsFile, Tally, latest_per_row};
use crate::schema::ResultRecord;

/// fsync the results file and the journal at most this often. Each line is
/// already handed to the OS, which survives a killed process; fsync covers
/// power loss, and once a second bounds what a power cut can take without
/// letting disk flushes throttle a fast run.
const SYNC_EVERY: Duration = Duration::from_secs(1);

/// What the results file already said when the session opened it.
#[derive(Debug, Default)]
pub struct Past {
    /// The line that counts for each row the file has (`--resume`).
    pub lines: HashMap<u32, ResultRecord>,
    /// The calls the journal says an earlier run sent, per row, in order.
    pub journal: HashMap<u32, Vec<JournalEntry>>,
    /// The torn last line that was cut off, if any.
    pub repaired: Option<Repair>,
}

pub struct Session {
    file: ResultsFile,
    journal: Journal,
    last_sync: Instant,
}

/// The file as the session left it.
pub struct Closed {
    pub path: PathBuf,
    /// Compaction failed (the file still holds every line, maybe twice).
    pub compaction: Result<(), ResultsError>,
    /// The line that counts for each row (status and WABA), read back from
    /// the file.
    pub lines: Result<Vec<Tally>, ResultsError>,
}

impl Session {
    /// `extra`: the carried columns of the run's manifest (`--ignore-column`).
    pub fn open(
        path: &Path,
        mode: OpenMode,
        extra: &[String],
    ) -> Result<(Session, Past), ResultsError> {
        let (file, existing) = ResultsFile::open_with(path, mode, extra)?;
        let sent = if mode == OpenMode::Resume {
            Journal::read_sent(path)?
        } else {
            HashMap::new()
        };
        let journal = Journal::open(path)?;
        let past = Past {
            lines: latest_per_row(&existing)
                .into_iter()
                .map(|r| (r.row, r))
                .collect(),
            journal: sent,
            repaired: file.repaired().cloned(),
        };
        let session = Session {
            file,
            journal,
            last_sync: Instant::now(),
        };
        Ok((session, past))
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// One line, with the OS before this returns (a kill -9 keeps it).
    pub fn write(&mut self, rec: &ResultRecord) -> Result<(), ResultsError> {
        self.file.write(rec)?;
        if self.last_sync.elapsed() >= SYNC_EVERY {
            self.last_sync = Instant::now();
            self.journal.sync()?;
            self.file.sync()?;
        }
        Ok(())
    }

    /// Calls about to be sent, in one journal write; the time written.
    pub fn journal_sends(&mut self, sends: &[Sent]) -> Result<DateTime<Utc>, ResultsError> {
        self.journal.record_sends(sends)
    }

    /// Give up before anything was sent (a refusal found after opening):
    /// the journal goes if it holds nothing; the results file is left as it
    /// was found (a fresh one holds only its header).
    pub fn abandon(self) {
        let path = self.file.path().to_path_buf();
        drop(self);
        let journal = super::journal_path(&path);
        if std::fs::metadata(&journal).is_ok_and(|m| m.len() == 0) {
            let _ = std::fs::remove_file(&journal);
        }
    }

    /// End the session. `complete`: no row was left unfinished (skipped) and
    /// the run did not abort, so the journal has nothing more to say.
    pub fn close(self, complete: bool) -> Closed {
        let Session { file, journal, .. } = self;
        drop(journal);
        let path = file.path().to_path_buf();
        let compaction = file.compact();
        if complete && compaction.is_ok() {
            let _ = Journal::remove(&path);
        }
        let lines = super::tally(&path);
        Closed {
            path,
            compaction,
            lines,
        }
    }
}
