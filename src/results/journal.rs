//! The in-flight journal (SPEC sections 4 and 7, crash then `--resume`):
//! `FILE.journal` beside the results, one line `send <row> <attempt> <unix_ms>
//! <step>` appended and handed to the OS *before* each state-changing call (a
//! create, request_code, verify_code or register) goes out. A line without its
//! step (written by the first version) is a create.
//!
//! After a crash, a row with a journal line but no final results line may have been
//! created at Meta without us hearing back: it is in doubt, and the runner reconciles
//! it through the listing call before sending it again. A journal line lost to power
//! loss (lines are not fsynced one by one) is covered by Meta refusing a duplicate
//! number, which is also reconciled. The journal is only touched while the results
//! lock is held, and removed once a run has finished.

use super::error::{ResultsError, io_at};
use super::journal_path;
use crate::schema::Step;
use chrono::{DateTime, TimeZone, Utc};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Open `FILE.journal` for appending, creating it if needed. A torn last line
    /// (crash during an append, so its POST never went out) is cut off first, so new
    /// lines start on a line of their own.
    pub fn open(results_path: &Path) -> Result<Journal, ResultsError> {
        let path = journal_path(results_path);
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io_at(&path))?;
        let len = file.metadata().map_err(io_at(&path))?.len();
        let complete = complete_len(&file, len).map_err(io_at(&path))?;
        if complete < len {
            tracing::warn!(path = %path.display(), bytes = len - complete, "removed a torn last journal line");
            file.set_len(complete).map_err(io_at(&path))?;
        }
        Ok(Journal { path, file })
    }

    /// Record that these calls are about to be sent, one line each, in one
    /// write; returns once the lines are with the OS, so a kill -9 right after
    /// keeps them. Returns the time written (the calls' `register_calls` time).
    pub fn record_sends(&mut self, sends: &[Sent]) -> Result<DateTime<Utc>, ResultsError> {
        let now = Utc::now();
        let ms = now.timestamp_millis();
        let mut buf = String::with_capacity(sends.len() * 40);
        for s in sends {
            let _ = writeln!(buf, "send {} {} {ms} {}", s.row, s.attempt, s.step);
        }
        self.file
            .write_all(buf.as_bytes())
            .map_err(io_at(&self.path))?;
        Ok(now)
    }

    /// fsync, alongside the results file's periodic sync.
    pub fn sync(&mut self) -> Result<(), ResultsError> {
        self.file.sync_data().map_err(io_at(&self.path))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What an earlier run (maybe) sent, per row and in order, from its
    /// journal; empty when there is none. A call without a result after it is
    /// in doubt. A torn last line is ignored (its call never went out); a broken
    /// line before it is `Corrupt`.
    pub fn read_sent(results_path: &Path) -> Result<HashMap<u32, Vec<Entry>>, ResultsError> {
        let path = journal_path(results_path);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(HashMap::new()),
            Err(e) => return Err(ResultsError::io(&path, e)),
        };
        let mut rows: HashMap<u32, Vec<Entry>> = HashMap::new();
        let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        // After the last '\n' comes either nothing or a torn line: drop it.
        lines.pop();
        for (i, line) in lines.into_iter().enumerate() {
            let (row, entry) = parse_line(line).ok_or_else(|| ResultsError::Corrupt {
                path: path.clone(),
                line: i as u64 + 1,
                message: format!(
                    "expected `send ROW ATTEMPT UNIX_MS STEP`, found {:?} (this journal lists calls that may have reached Meta)",
                    String::from_utf8_lossy(&line[..line.len().min(80)])
                ),
            })?;
            rows.entry(row).or_default().push(entry);
        }
        Ok(rows)
    }

    /// Delete the journal at the end of a finished run (a missing one is fine).
    pub fn remove(results_path: &Path) -> Result<(), ResultsError> {
        let path = journal_path(results_path);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ResultsError::io(&path, e)),
        }
    }
}

/// The length of `file` (`len` bytes) up to and including its last `'\n'`: only
/// the tail is read, back to the last line break (a torn line is short).
fn complete_len(mut file: &File, len: u64) -> io::Result<u64> {
    let mut buf = [0u8; 4096];
    let mut end = len;
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// A call about to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub row: u32,
    pub step: Step,
    /// 1-based attempt of this step.
    pub attempt: u32,
}

/// One journal line read back: which step went out, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub step: Step,
    pub at: DateTime<Utc>,
}

/// `send <row> <attempt> <unix_ms> [<step>]` → (row, entry).
fn parse_line(line: &[u8]) -> Option<(u32, Entry)> {
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.trim_end_matches('\r').split(' ');
    let (verb, row, attempt, ms) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let step = match parts.next() {
        None => Step::Create,
        Some(s) => Step::parse(s)?,
    };
    if verb != "send" || parts.next().is_some() {
        return None;
    }
    attempt.parse::<u32>().ok()?;
    let at = Utc.timestamp_millis_opt(ms.parse::<i64>().ok()?).single()?;
    Some((row.parse().ok()?, Entry { step, at }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn sent(row: u32, attempt: u32) -> Sent {
        Sent {
            row,
            step: Step::Create,
            attempt,
        }
    }

    fn rows(results: &Path) -> HashSet<u32> {
        Journal::read_sent(results).unwrap().into_keys().collect()
    }

    #[test]
    fn records_read_back_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("r.csv");
        assert!(Journal::read_sent(&results).unwrap().is_empty());
        let mut j = Journal::open(&results).unwrap();
        assert_eq!(j.path(), dir.path().join("r.csv.journal"));
        j.record_sends(&[sent(3, 1)]).unwrap();
        j.record_sends(&[sent(9, 1)]).unwrap();
        let at = j
            .record_sends(&[Sent {
                row: 3,
                step: Step::Register,
                attempt: 1,
            }])
            .unwrap();
        j.sync().unwrap();
        // Read while still open: every line is with the OS already.
        let read = Journal::read_sent(&results).unwrap();
        assert_eq!(
            read.keys().copied().collect::<HashSet<_>>(),
            HashSet::from([3, 9])
        );
        let steps: Vec<Step> = read[&3].iter().map(|e| e.step).collect();
        assert_eq!(steps, [Step::Create, Step::Register]);
        assert_eq!(read[&3][1].at.timestamp_millis(), at.timestamp_millis());
        let text = fs::read_to_string(j.path()).unwrap();
        let first = text.lines().next().unwrap();
        let parts: Vec<&str> = first.split(' ').collect();
        assert_eq!(&parts[..3], &["send", "3", "1"]);
        assert!(parts[3].parse::<u128>().unwrap() > 1_600_000_000_000);
        assert_eq!(parts[4], "create");
        drop(j);

        // A second open appends rather than truncates.
        let mut j = Journal::open(&results).unwrap();
        j.record_sends(&[sent(11, 1)]).unwrap();
        assert_eq!(rows(&results), HashSet::from([3, 9, 11]));

        Journal::remove(&results).unwrap();
        assert!(!journal_path(&results).exists());
        Journal::remove(&results).unwrap();
        assert!(Journal::read_sent(&results).unwrap().is_empty());
    }

    #[test]
    fn a_first_version_line_is_a_create() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("r.csv");
        fs::write(journal_path(&results), "send 1 1 1700000000000\n").unwrap();
        let read = Journal::read_sent(&results).unwrap();
        assert_eq!(read[&1][0].step, Step::Create);
        assert_eq!(read[&1][0].at.timestamp_millis(), 1_700_000_000_000);
    }

    #[test]
    fn a_batch_of_sends_is_one_line_per_row() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("r.csv");
        let mut j = Journal::open(&results).unwrap();
        j.record_sends(&[sent(4, 1), sent(5, 2), sent(6, 1)])
            .unwrap();
        assert_eq!(rows(&results), HashSet::from([4, 5, 6]));
        let text = fs::read_to_string(j.path()).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.lines().nth(1).unwrap().starts_with("send 5 2 "));
    }

    #[test]
    fn torn_last_line_is_ignored_then_cut_off_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("r.csv");
        fs::write(
            journal_path(&results),
            "send 1 1 1700000000000 create\nsend 2 1 17",
        )
        .unwrap();
        assert_eq!(rows(&results), HashSet::from([1]));
        let mut j = Journal::open(&results).unwrap();
        j.record_sends(&[sent(5, 1)]).unwrap();
        let text = fs::read_to_string(journal_path(&results)).unwrap();
        assert!(
            text.starts_with("send 1 1 1700000000000 create\nsend 5 1 "),
            "{text}"
        );
        assert_eq!(rows(&results), HashSet::from([1, 5]));
    }

    #[test]
    fn a_torn_tail_longer_than_one_read_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("r.csv");
        let torn = "7".repeat(10_000);
        fs::write(
            journal_path(&results),
            format!("send 1 1 17\nsend 2 1 {torn}"),
        )
        .unwrap();
        drop(Journal::open(&results).unwrap());
        assert_eq!(
            fs::read_to_string(journal_path(&results)).unwrap(),
            "send 1 1 17\n"
        );
        // Nothing but a torn line: nothing is kept.
        fs::write(journal_path(&results), &torn).unwrap();
        drop(Journal::open(&results).unwrap());
        assert_eq!(fs::read(journal_path(&results)).unwrap(), b"");
    }

    #[test]
    fn broken_middle_line_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("r.csv");
        for middle in ["send x 1 2", "send 2 1 2 teleport"] {
            fs::write(
                journal_path(&results),
                format!("send 1 1 1700000000000\n{middle}\nsend 2 1 1700000000001\n"),
            )
            .unwrap();
            let err = Journal::read_sent(&results).unwrap_err();
            assert!(
                matches!(err, ResultsError::Corrupt { line: 2, .. }),
                "{err:?}"
            );
        }
    }
}
