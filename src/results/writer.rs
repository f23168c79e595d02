//! Writing the results file (SPEC sections 2–3): open it under the run lock per
//! `--resume`/`--force`, append one line per finished row, compact it at the end.
//!
//! Crash safety rests on two rules: each line goes to the kernel in one `write_all`
//! of the whole serialized line (so a kill -9 leaves at most one torn last line, which
//! resume cuts off), and the file is only ever appended to or replaced whole by a
//! rename (compaction), never rewritten in place.

use super::error::{ResultsError, io_at};
use super::lock::RunLock;
use super::reader::{Key, Scan, counting_lines, parse_key, scan};
use super::{backup_path, journal_path};
use crate::schema::{COLUMNS, ResultRecord, header_line};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// How `run` treats an existing results file (SPEC section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Refuse if FILE exists, even empty.
    Fresh,
    /// Rename FILE to `FILE.bak` (replacing an older one) and start afresh.
    Force,
    /// Keep the lines already there and append; FILE may not exist yet (then like
    /// `Fresh`).
    Resume,
}

/// A torn last line that `open(Resume)` cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// 1-based line where the torn part started.
    pub line: u64,
    pub bytes_removed: u64,
}

/// The results file of a run, locked for as long as this value lives.
#[derive(Debug)]
pub struct ResultsFile {
    path: PathBuf,
    file: File,
    /// Length of the well-formed content: where a failed append is cut back to.
    len: u64,
    /// Reused buffer for serializing one line.
    line: Vec<u8>,
    repaired: Option<Repair>,
    poisoned: bool,
    /// The header line: the standard columns, then the carried ones.
    header: String,
    _lock: RunLock,
}

impl ResultsFile {
    /// Lock, open per `mode`, repair a torn last line (Resume), and return the lines
    /// already there (in file order; see [`super::final_rows`]).
    ///
    /// `Fresh` and `Force` also set a leftover `FILE.journal` aside as
    /// `FILE.journal.bak`: it describes an earlier run, not this one.
    pub fn open(
        path: &Path,
        mode: OpenMode,
    ) -> Result<(ResultsFile, Vec<ResultRecord>), ResultsError> {
        Self::open_with(path, mode, &[])
    }

    /// [`ResultsFile::open`] for a run whose manifest carries `extra`
    /// columns (`--ignore-column`): they follow the standard ones, and a
    /// resumed file must carry the same.
    pub fn open_with(
        path: &Path,
        mode: OpenMode,
        extra: &[String],
    ) -> Result<(ResultsFile, Vec<ResultRecord>), ResultsError> {
        let header = header_line(extra);
        // Refusals that need no lock come first, so a refused run leaves no
        // lock file behind (the lock file is never removed once made).
        precheck(path, mode)?;
        // The lock comes before the real checks, so two racing runs cannot
        // both pass them.
        let lock = RunLock::acquire(path)?;
        let exists = path.try_exists().map_err(io_at(path))?;
        if path.is_dir() {
            // `--force` would otherwise rename a whole directory to `.bak`.
            return Err(ResultsError::io(
                path,
                io::Error::new(io::ErrorKind::IsADirectory, "is a directory, not a file"),
            ));
        }
        match (mode, exists) {
            (OpenMode::Fresh, true) => Err(ResultsError::Exists {
                path: path.to_path_buf(),
            }),
            (OpenMode::Fresh, false) | (OpenMode::Resume, false) => {
                if mode == OpenMode::Fresh {
                    set_journal_aside(path)?;
                }
                Ok((Self::create(path, lock, header)?, Vec::new()))
            }
            (OpenMode::Force, _) => {
                if exists {
                    let bak = backup_path(path);
                    fs::rename(path, &bak).map_err(io_at(path))?;
                    tracing::info!(from = %path.display(), to = %bak.display(), "kept the previous results file");
                }
                set_journal_aside(path)?;
                Ok((Self::create(path, lock, header)?, Vec::new()))
            }
            (OpenMode::Resume, true) => Self::resume(path, lock, extra),
        }
    }

    fn create(path: &Path, lock: RunLock, header: String) -> Result<ResultsFile, ResultsError> {
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(path)
            .map_err(|e| match e.kind() {
                // Appeared since the check: someone outside our lock made it.
                io::ErrorKind::AlreadyExists => ResultsError::Exists {
                    path: path.to_path_buf(),
                },
                _ => ResultsError::io(path, e),
            })?;
        let mut this = Self::new(path, file, 0, lock, header);
        let line = this.header.clone();
        this.append(line.as_bytes())?;
        this.file.sync_all().map_err(io_at(path))?;
        sync_dir(path)?;
        Ok(this)
    }

    fn resume(
        path: &Path,
        lock: RunLock,
        extra: &[String],
    ) -> Result<(ResultsFile, Vec<ResultRecord>), ResultsError> {
        let bytes = fs::read(path).map_err(io_at(path))?;
        let Scan {
            records,
            has_header,
            torn,
            columns,
            extra: theirs,
            ..
        } = scan(path, &bytes)?;
        if has_header && columns < COLUMNS.len() {
            // A first-version file: rewritten once in the current columns, so the
            // lines this run appends match its header.
            upgrade(path, &records, extra)?;
            return Self::resume(path, lock, extra);
        }
        if has_header && theirs != extra {
            return Err(ResultsError::Carried {
                path: path.to_path_buf(),
                theirs: theirs.join(", "),
                ours: extra.join(", "),
            });
        }
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io_at(path))?;
        let mut len = bytes.len() as u64;
        let mut repaired = None;
        if let Some(t) = torn {
            // Only the last line can be torn by our own writes, and it never
            // reached a caller as written: cutting it off loses nothing.
            tracing::warn!(
                path = %path.display(),
                line = t.line,
                bytes = len - t.offset,
                reason = %t.reason,
                "removed a torn last line left by an interrupted run"
            );
            file.set_len(t.offset).map_err(io_at(path))?;
            file.sync_all().map_err(io_at(path))?;
            repaired = Some(Repair {
                line: t.line,
                bytes_removed: len - t.offset,
            });
            len = t.offset;
        }
        let mut this = Self::new(path, file, len, lock, header_line(extra));
        this.repaired = repaired;
        if !has_header {
            let line = this.header.clone();
            this.append(line.as_bytes())?;
            this.file.sync_all().map_err(io_at(path))?;
        }
        Ok((this, records))
    }

    fn new(path: &Path, file: File, len: u64, lock: RunLock, header: String) -> ResultsFile {
        ResultsFile {
            header,
            path: path.to_path_buf(),
            file,
            len,
            line: Vec::with_capacity(512),
            repaired: None,
            poisoned: false,
            _lock: lock,
        }
    }

    /// Append one line and hand it to the OS before returning: a kill -9 after this
    /// loses nothing (power loss needs [`ResultsFile::sync`]).
    pub fn write(&mut self, rec: &ResultRecord) -> Result<(), ResultsError> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        serialize_line(&mut line, rec).map_err(io_at(&self.path))?;
        let result = self.append(&line);
        // Keep the buffer so its capacity is reused.
        self.line = line;
        result
    }

    /// One `write_all` of a whole line. If it fails part-way, cut the partial line
    /// off again; if even that fails, refuse every later write (appending after a
    /// partial line would bury a broken line in the middle of the file).
    fn append(&mut self, bytes: &[u8]) -> Result<(), ResultsError> {
        if self.poisoned {
            return Err(ResultsError::Poisoned {
                path: self.path.clone(),
            });
        }
        match self.file.write_all(bytes) {
            Ok(()) => {
                self.len += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                if self.file.set_len(self.len).is_err() {
                    self.poisoned = true;
                }
                Err(ResultsError::io(&self.path, e))
            }
        }
    }

    /// fsync: at the end of the run and periodically, so power loss costs little.
    pub fn sync(&mut self) -> Result<(), ResultsError> {
        self.file.sync_data().map_err(io_at(&self.path))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The torn last line `open(Resume)` removed, if any (also logged as a warning).
    pub fn repaired(&self) -> Option<&Repair> {
        self.repaired.as_ref()
    }

    /// Make every row appear exactly once, ordered by row number: keep the line that
    /// counts for each row ([`latest_per_row`]) and replace the file atomically
    /// (`FILE.tmp` in the same directory, fsync, rename, fsync the directory). A file
    /// already in that shape is left as it is. The lock is held until the rename is
    /// done. If the new file cannot be written, FILE is left unchanged.
    pub fn compact(mut self) -> Result<(), ResultsError> {
        self.sync()?;
        // Streamed, never the whole file in memory: a million-row file is
        // compacted in tens of megabytes (a few words per line).
        let (keys, spans) = line_keys(&self.path)?;
        if keys.windows(2).all(|w| w[0].row < w[1].row) {
            return Ok(());
        }
        let kept: Vec<Range<u64>> = counting_lines(keys)
            .into_iter()
            .filter_map(|i| spans.get(i).cloned())
            .collect();
        let tmp = super::sidecar(&self.path, ".tmp");
        let written = copy_lines(&self.path, &tmp, &self.header, &kept).and_then(|()| {
            fs::rename(&tmp, &self.path).map_err(io_at(&self.path))?;
            sync_dir(&self.path)
        });
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }
}

/// Each line's [`Key`] and byte range, read as a stream. The file is ours and
/// well formed (a failed append is cut back, a torn line was repaired on
/// opening), so anything unreadable is corruption: compaction is not done.
fn line_keys(path: &Path) -> Result<(Vec<Key>, Vec<Range<u64>>), ResultsError> {
    let file = File::open(path).map_err(io_at(path))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(io::BufReader::with_capacity(1 << 16, file));
    let mut rec = csv::ByteRecord::new();
    let corrupt = |line: u64, message: String| ResultsError::Corrupt {
        path: path.to_path_buf(),
        line,
        message: format!("{message}; compaction not done"),
    };
    if !rdr
        .read_byte_record(&mut rec)
        .map_err(|e| corrupt(1, e.to_string()))?
    {
        return Ok((Vec::new(), Vec::new()));
    }
    let header = rec.clone();
    let (mut keys, mut spans) = (Vec::new(), Vec::new());
    loop {
        let start = rdr.position().byte();
        let line = rdr.position().line();
        if !rdr
            .read_byte_record(&mut rec)
            .map_err(|e| corrupt(line, e.to_string()))?
        {
            break;
        }
        keys.push(parse_key(&header, &rec).map_err(|e| corrupt(line, e))?);
        spans.push(start..rdr.position().byte());
    }
    Ok((keys, spans))
}

/// Write `header` and the lines at `spans` of `from` (in that order, byte for
/// byte: no re-serialization can alter them) to `to`, and fsync it. Lines
/// come nearly in file order, so most moves stay inside the read buffer.
fn copy_lines(
    from: &Path,
    to: &Path,
    header: &str,
    spans: &[Range<u64>],
) -> Result<(), ResultsError> {
    let mut src = io::BufReader::with_capacity(1 << 16, File::open(from).map_err(io_at(from))?);
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(to)
        .map_err(io_at(to))?;
    let mut out = io::BufWriter::new(file);
    out.write_all(header.as_bytes()).map_err(io_at(to))?;
    let mut at: u64 = 0;
    let mut line = Vec::with_capacity(512);
    for span in spans {
        let offset = i64::try_from(span.start).unwrap_or(i64::MAX) - i64::try_from(at).unwrap_or(0);
        src.seek_relative(offset).map_err(io_at(from))?;
        line.resize(usize::try_from(span.end - span.start).unwrap_or(0), 0);
        src.read_exact(&mut line).map_err(io_at(from))?;
        at = span.end;
        // The line without the line end the reader may have left around it
        // (a file once saved with CRLF), then one `\n`.
        let is_end = |b: &u8| *b == b'\r' || *b == b'\n';
        let first = line.iter().position(|b| !is_end(b)).unwrap_or(line.len());
        let last = line
            .iter()
            .rposition(|b| !is_end(b))
            .map_or(first, |i| i + 1);
        let body = &line[first..last.max(first)];
        out.write_all(body).map_err(io_at(to))?;
        out.write_all(b"\n").map_err(io_at(to))?;
    }
    let file = out
        .into_inner()
        .map_err(|e| ResultsError::io(to, e.into_error()))?;
    file.sync_all().map_err(io_at(to))
}

/// Rewrite a first-version results file in the current columns (temp file,
/// rename). Its torn last line, if any, is dropped with it, as resume would.
fn upgrade(path: &Path, records: &[ResultRecord], extra: &[String]) -> Result<(), ResultsError> {
    let mut lines = Vec::with_capacity(records.len());
    for rec in records {
        let mut line = Vec::new();
        serialize_line(&mut line, rec).map_err(io_at(path))?;
        lines.push(line);
    }
    let lines: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    let tmp = super::sidecar(path, ".tmp");
    let written = write_whole(&tmp, &header_line(extra), &lines).and_then(|()| {
        fs::rename(&tmp, path).map_err(io_at(path))?;
        sync_dir(path)
    });
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    tracing::info!(path = %path.display(), "rewrote a first-version results file in the current columns");
    written
}

/// Serialize one record as one complete line (ending in `\n`) into `buf`:
/// the standard columns, then the carried ones (none in the common case).
fn serialize_line(buf: &mut Vec<u8>, rec: &ResultRecord) -> io::Result<()> {
    {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .buffer_capacity(1024)
            .from_writer(&mut *buf);
        w.serialize(rec).map_err(io::Error::other)?;
        w.flush()?;
    }
    if rec.extra.is_empty() {
        return Ok(());
    }
    // The carried values continue the same line.
    if buf.last() == Some(&b'\n') {
        buf.pop();
    }
    buf.push(b',');
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(&mut *buf);
    w.write_record(&rec.extra).map_err(io::Error::other)?;
    w.flush()
}

/// Write a complete results file (header and `lines`) to `path` and fsync it.
fn write_whole(path: &Path, header: &str, lines: &[&[u8]]) -> Result<(), ResultsError> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(io_at(path))?;
    let mut out = io::BufWriter::new(file);
    write_lines(&mut out, header, lines).map_err(io_at(path))?;
    let file = out
        .into_inner()
        .map_err(|e| ResultsError::io(path, e.into_error()))?;
    file.sync_all().map_err(io_at(path))
}

fn write_lines(out: &mut impl Write, header: &str, lines: &[&[u8]]) -> io::Result<()> {
    out.write_all(header.as_bytes())?;
    for line in lines {
        out.write_all(line)?;
        // A line kept from a file saved with bare `\r` line ends.
        if !line.ends_with(b"\n") {
            out.write_all(b"\n")?;
        }
    }
    out.flush()
}

/// What can be refused before the lock is taken: a missing directory (named
/// by the results path the user typed, not the lock file's), a directory in
/// the way, an existing file without `--resume`/`--force`.
pub fn precheck(path: &Path, mode: OpenMode) -> Result<(), ResultsError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(ResultsError::NoDirectory {
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
        });
    }
    if path.is_dir() {
        return Err(ResultsError::io(
            path,
            io::Error::new(io::ErrorKind::IsADirectory, "is a directory, not a file"),
        ));
    }
    // With a lock file there, the lock says more ("in use by another run").
    let lock_exists = super::lock_path(path).exists();
    if mode == OpenMode::Fresh && !lock_exists && path.try_exists().map_err(io_at(path))? {
        return Err(ResultsError::Exists {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// Move a journal left by an earlier run out of the way of a fresh start.
fn set_journal_aside(results: &Path) -> Result<(), ResultsError> {
    let journal = journal_path(results);
    if journal.try_exists().map_err(io_at(&journal))? {
        let bak = super::sidecar(&journal, ".bak");
        fs::rename(&journal, &bak).map_err(io_at(&journal))?;
        tracing::warn!(from = %journal.display(), to = %bak.display(), "set aside the in-flight journal of an earlier run");
    }
    Ok(())
}

/// fsync the directory holding `path`, so a create or rename survives power loss.
fn sync_dir(path: &Path) -> Result<(), ResultsError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_at(dir))
}

#[cfg(test)]
mod tests;
