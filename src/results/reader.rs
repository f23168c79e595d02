//! Reading a results file, and deciding which of a row's lines counts.
//!
//! [`scan`] is shared by the read-only [`read_results`] and by the resume path of the
//! writer: it parses every line, checks the header, and tells a torn last line (a
//! crash in the middle of an append, the only damage our own writes can leave) from
//! a broken line further up (damage from elsewhere, refused).

use super::error::{ResultsError, io_at};
use super::{COLUMNS, ResultRecord, Status};
use csv::{ByteRecord, ReaderBuilder};
use std::collections::HashMap;
use std::path::Path;

/// The header line exactly as the writer puts it.
pub(super) fn header_line() -> String {
    let mut s = COLUMNS.join(",");
    s.push('\n');
    s
}

/// A last line cut short by a crash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TornTail {
    /// Where the complete part of the file ends (the file is cut back to this).
    pub offset: u64,
    /// 1-based line where the torn part starts.
    pub line: u64,
    /// Why it counts as torn, for the log.
    pub reason: String,
}

/// What a results file holds.
#[derive(Debug)]
pub(super) struct Scan {
    /// Every complete line after the header, in file order (a row may appear twice).
    pub records: Vec<ResultRecord>,
    /// The complete header line is present.
    pub has_header: bool,
    pub torn: Option<TornTail>,
}

/// Parse `bytes` (the whole file at `path`, which only labels errors).
pub(super) fn scan(path: &Path, bytes: &[u8]) -> Result<Scan, ResultsError> {
    let header = header_line();
    // A header cut short by a crash right after creating the file.
    if bytes.len() < header.len() && header.as_bytes().starts_with(bytes) {
        return Ok(Scan {
            records: Vec::new(),
            has_header: false,
            torn: (!bytes.is_empty()).then(|| TornTail {
                offset: 0,
                line: 1,
                reason: "the header line is incomplete".into(),
            }),
        });
    }

    let len = bytes.len() as u64;
    let mut rdr = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rec = ByteRecord::new();

    let first = rdr
        .read_byte_record(&mut rec)
        .map_err(|e| corrupt(path, 1, e.to_string()))?;
    let expected: Vec<&[u8]> = COLUMNS.iter().map(|c| c.as_bytes()).collect();
    if !first || rec.iter().collect::<Vec<_>>() != expected {
        let found = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        return Err(ResultsError::ForeignHeader {
            path: path.to_path_buf(),
            found: String::from_utf8_lossy(&found[..found.len().min(200)]).into_owned(),
        });
    }

    let mut records = Vec::new();
    loop {
        let start = rdr.position().clone();
        let more = match rdr.read_byte_record(&mut rec) {
            Ok(more) => more,
            // Byte records from a slice: the lenient csv reader has nothing left
            // to fail on, but an error must not be mistaken for the end.
            Err(e) => return Err(corrupt(path, start.line(), e.to_string())),
        };
        if !more {
            break;
        }
        let end = rdr.position().byte();
        let is_last = end == len;
        let parsed = parse_record(&rec);
        if is_last {
            let reason = if !terminated(bytes, start.byte(), end, &rec) {
                Some("no line end".to_string())
            } else {
                parsed.as_ref().err().cloned()
            };
            if let Some(reason) = reason {
                return Ok(Scan {
                    records,
                    has_header: true,
                    torn: Some(TornTail {
                        offset: start.byte(),
                        line: start.line(),
                        reason,
                    }),
                });
            }
        }
        match parsed {
            Ok(r) => records.push(r),
            Err(message) => return Err(corrupt(path, start.line(), message)),
        }
    }
    Ok(Scan {
        records,
        has_header: true,
        torn: None,
    })
}

fn corrupt(path: &Path, line: u64, message: String) -> ResultsError {
    ResultsError::Corrupt {
        path: path.to_path_buf(),
        line,
        message,
    }
}

/// One line into a record: exactly the 19 columns, each of the right type.
fn parse_record(rec: &ByteRecord) -> Result<ResultRecord, String> {
    if rec.len() != COLUMNS.len() {
        return Err(format!(
            "expected {} fields, found {}",
            COLUMNS.len(),
            rec.len()
        ));
    }
    rec.deserialize::<ResultRecord>(None)
        .map_err(|e| e.to_string())
}

/// Did the record that ends at EOF end with a line terminator (rather than being
/// cut off)? A newline at the very end may also sit inside an unclosed quoted field;
/// parsing the line again without its last byte tells the two apart: a terminator
/// changes nothing, a quoted newline changes the last field.
fn terminated(bytes: &[u8], start: u64, end: u64, rec: &ByteRecord) -> bool {
    let (Ok(start), Ok(end)) = (usize::try_from(start), usize::try_from(end)) else {
        return false;
    };
    let Some(body) = bytes.get(start..end) else {
        return false;
    };
    let Some((&last, without)) = body.split_last() else {
        return false;
    };
    if last != b'\n' && last != b'\r' {
        return false;
    }
    let mut again = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(without);
    let mut other = ByteRecord::new();
    matches!(again.read_byte_record(&mut other), Ok(true)) && other == *rec
}

/// Every complete line of a results file, in file order (a row may appear more than
/// once after a resume; see [`latest_per_row`]). Read-only and lock-free, so it works
/// while a run holds the file; a torn last line is ignored. A missing file is an
/// `Io` error (NotFound).
pub fn read_results(path: &Path) -> Result<Vec<ResultRecord>, ResultsError> {
    let bytes = std::fs::read(path).map_err(io_at(path))?;
    Ok(scan(path, &bytes)?.records)
}

/// How much a line says about its row: a `created` line is never outweighed (the
/// number exists at Meta and its id is recorded nowhere else), a final line outweighs
/// a `skipped` one. Among equals the later line wins.
fn weight(status: Status) -> u8 {
    match status {
        Status::Created => 2,
        Status::Failed | Status::Invalid => 1,
        Status::Skipped => 0,
    }
}

/// The line that counts for each row, ordered by row number: what "every row exactly
/// once" means for a file that a resumed run appended to.
pub fn latest_per_row(lines: &[ResultRecord]) -> Vec<ResultRecord> {
    let mut best: HashMap<u32, &ResultRecord> = HashMap::new();
    for line in lines {
        best.entry(line.row)
            .and_modify(|kept| {
                if weight(line.status) >= weight(kept.status) {
                    *kept = line;
                }
            })
            .or_insert(line);
    }
    let mut out: Vec<ResultRecord> = best.into_values().cloned().collect();
    out.sort_by_key(|r| r.row);
    out
}

/// Rows that `--resume` keeps and does not send again: those whose counting line
/// ([`latest_per_row`]) is final (`created`, `failed`, `invalid`). `skipped` rows are
/// attempted again.
pub fn final_rows(existing: &[ResultRecord]) -> HashMap<u32, ResultRecord> {
    latest_per_row(existing)
        .into_iter()
        .filter(|r| r.status.is_final())
        .map(|r| (r.row, r))
        .collect()
}
