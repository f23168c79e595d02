//! Reading a results file, and deciding which of a row's lines counts.
//!
//! [`scan`] is shared by the read-only [`read_results`], the resume path and the
//! compaction of the writer: it parses every line, checks the header, and tells a torn
//! last line (a crash in the middle of an append, the only damage our own writes can
//! leave) from a broken line further up (damage from elsewhere, refused).

use super::error::{ResultsError, io_at};
use crate::schema::{COLUMNS, ResultRecord, Status, V1_COLUMNS, parse_line, results_header};
use csv::{ByteRecord, ReaderBuilder};
use std::collections::HashMap;
use std::path::Path;

/// The header line exactly as the writer puts it, without carried columns.
#[cfg(test)]
pub(super) fn header_line() -> String {
    crate::schema::header_line(&[])
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

/// What a results file holds, each line parsed into a `T`.
#[derive(Debug)]
pub(super) struct Scan<T> {
    /// Every complete line after the header, in file order (a row may appear twice).
    pub records: Vec<T>,
    /// The complete header line is present.
    pub has_header: bool,
    /// Standard columns of the header: [`COLUMNS`], or the first version's
    /// `V1_COLUMNS` (a file that a resumed run upgrades first).
    pub columns: usize,
    /// The carried columns after them (`--ignore-column`).
    pub extra: Vec<String>,
    pub torn: Option<TornTail>,
}

/// What compaction needs of a line: which row, and how much it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Key {
    pub row: u32,
    pub status: Status,
    /// The line has a `phone_number_id`: the number exists at Meta.
    pub has_id: bool,
}

/// Parse `bytes` (the whole file at `path`, which only labels errors) into records.
pub(super) fn scan(path: &Path, bytes: &[u8]) -> Result<Scan<ResultRecord>, ResultsError> {
    scan_with(path, bytes, parse_record)
}

fn scan_with<T>(
    path: &Path,
    bytes: &[u8],
    parse: impl Fn(&ByteRecord, &ByteRecord) -> Result<T, String>,
) -> Result<Scan<T>, ResultsError> {
    let header = crate::schema::header_line(&[]);
    // A header cut short by a crash right after creating the file.
    if bytes.len() < header.len() && header.as_bytes().starts_with(bytes) {
        return Ok(Scan {
            records: Vec::new(),
            has_header: false,
            columns: COLUMNS.len(),
            extra: Vec::new(),
            torn: (!bytes.is_empty()).then(|| TornTail {
                offset: 0,
                line: 1,
                reason: "the header line is incomplete".into(),
            }),
        });
    }

    let len = bytes.len();
    let mut rdr = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rec = ByteRecord::new();

    let first = rdr
        .read_byte_record(&mut rec)
        .map_err(|e| corrupt(path, 1, e.to_string()))?;
    let mut found: Vec<&str> = rec
        .iter()
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect();
    // A spreadsheet that saved the file again may have put a UTF-8 BOM first.
    if let Some(f) = found.first_mut() {
        *f = f.strip_prefix('\u{feff}').unwrap_or(f);
    }
    let extra: Option<Vec<String>> =
        results_header(&found).map(|e| e.iter().map(|c| c.to_string()).collect());
    let Some(extra) = extra.filter(|_| first) else {
        let found = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        return Err(ResultsError::ForeignHeader {
            path: path.to_path_buf(),
            found: String::from_utf8_lossy(&found[..found.len().min(200)]).into_owned(),
        });
    };
    let header = ByteRecord::from(found.clone());
    let columns = if header.len() == V1_COLUMNS {
        V1_COLUMNS
    } else {
        COLUMNS.len()
    };
    let mut records = Vec::new();
    loop {
        // Offsets into a slice held in memory fit in usize. The reader leaves the
        // `\n` of a `\r\n` to the next read: a line starts after it.
        let start = skip_line_ends(bytes, rdr.position().byte() as usize);
        let more = match rdr.read_byte_record(&mut rec) {
            Ok(more) => more,
            // Byte records from a slice: the lenient csv reader has nothing left
            // to fail on, but an error must not be mistaken for the end.
            Err(e) => return Err(corrupt(path, line_at(bytes, start), e.to_string())),
        };
        if !more {
            break;
        }
        let end = rdr.position().byte() as usize;
        let is_last = end == len;
        let parsed = parse(&header, &rec);
        if is_last {
            let reason = if !terminated(bytes, start, end, &rec) {
                Some("no line end".to_string())
            } else {
                parsed.as_ref().err().cloned()
            };
            if let Some(reason) = reason {
                return Ok(Scan {
                    records,
                    has_header: true,
                    columns,
                    extra,
                    torn: Some(TornTail {
                        offset: start as u64,
                        line: line_at(bytes, start),
                        reason,
                    }),
                });
            }
        }
        match parsed {
            Ok(r) => records.push(r),
            Err(message) => return Err(corrupt(path, line_at(bytes, start), message)),
        }
    }
    Ok(Scan {
        records,
        has_header: true,
        columns,
        extra,
        torn: None,
    })
}

/// The first offset from `pos` that is not a line end.
fn skip_line_ends(bytes: &[u8], mut pos: usize) -> usize {
    while matches!(bytes.get(pos), Some(b'\r' | b'\n')) {
        pos += 1;
    }
    pos
}

/// 1-based line number of `offset` (only computed for errors and repairs).
fn line_at(bytes: &[u8], offset: usize) -> u64 {
    let before = bytes.get(..offset).unwrap_or(bytes);
    before.iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

fn corrupt(path: &Path, line: u64, message: String) -> ResultsError {
    ResultsError::Corrupt {
        path: path.to_path_buf(),
        line,
        message,
    }
}

/// One line into a record, by the header's column names.
fn parse_record(header: &ByteRecord, rec: &ByteRecord) -> Result<ResultRecord, String> {
    parse_line(header, rec)
}

/// One line into its [`Key`] (`row` and `status` checked, the rest only counted).
pub(super) fn parse_key(header: &ByteRecord, rec: &ByteRecord) -> Result<Key, String> {
    if rec.len() != header.len() {
        return Err(format!(
            "expected {} fields, found {}",
            header.len(),
            rec.len()
        ));
    }
    let field = |i: usize| std::str::from_utf8(rec.get(i).unwrap_or_default()).ok();
    let row = field(0)
        .and_then(|r| r.parse().ok())
        .ok_or("row is not a number")?;
    let status = field(9).and_then(Status::parse).ok_or("unknown status")?;
    let has_id = !rec.get(10).unwrap_or_default().is_empty();
    Ok(Key {
        row,
        status,
        has_id,
    })
}

/// What the end of a run needs of each row's counting line: its status (for
/// the counts and the exit code) and its WABA (for the per-WABA table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub row: u32,
    pub status: Status,
    pub waba_id: std::sync::Arc<str>,
}

/// The counting line of each row, as a [`Tally`], ordered by row: read as a
/// stream, keeping a few words per line (WABA ids shared), so reading back a
/// million-row file costs megabytes, not a gigabyte. A torn last line is
/// ignored, as by [`read_results`].
pub fn tally(path: &Path) -> Result<Vec<Tally>, ResultsError> {
    let file = std::fs::File::open(path).map_err(io_at(path))?;
    let mut rdr = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(std::io::BufReader::new(file));
    let mut rec = ByteRecord::new();
    let corrupt_at = |line: u64, e: String| corrupt(path, line, e);
    if !rdr
        .read_byte_record(&mut rec)
        .map_err(|e| corrupt_at(1, e.to_string()))?
    {
        return Ok(Vec::new());
    }
    let header = rec.clone();
    let mut wabas: HashMap<Vec<u8>, std::sync::Arc<str>> = HashMap::new();
    let mut keys = Vec::new();
    let mut lines = Vec::new();
    let mut line = 1;
    loop {
        line += 1;
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(corrupt_at(line, e.to_string())),
        }
        let Ok(key) = parse_key(&header, &rec) else {
            continue; // a torn last line (nothing else can be broken after compaction)
        };
        let raw = rec.get(2).unwrap_or_default();
        let waba = wabas
            .entry(raw.to_vec())
            .or_insert_with(|| std::sync::Arc::from(String::from_utf8_lossy(raw).as_ref()))
            .clone();
        keys.push(key);
        lines.push(Tally {
            row: key.row,
            status: key.status,
            waba_id: waba,
        });
    }
    Ok(counting_lines(keys)
        .into_iter()
        .filter_map(|i| lines.get(i).cloned())
        .collect())
}

/// Did the record that ends at EOF end with a line terminator (rather than being
/// cut off)? A newline at the very end may also sit inside an unclosed quoted field;
/// parsing the line again without its last byte tells the two apart: a terminator
/// changes nothing, a quoted newline changes the last field.
fn terminated(bytes: &[u8], start: usize, end: usize, rec: &ByteRecord) -> bool {
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

/// Whether a later line of a row replaces the one that counted so far. Lines
/// of one row come in the order things happened (a step finished, then the
/// next; a resumed run carrying on a skipped row), so the later one wins, with
/// two exceptions that keep what must not be lost: a `skipped` line never
/// replaces a line that is not, and a line without a `phone_number_id` never
/// replaces one with it (the number exists at Meta and its id is recorded
/// nowhere else).
fn replaces(later: &Key, kept: &Key) -> bool {
    let loses_outcome = later.status == Status::Skipped && kept.status != Status::Skipped;
    let loses_id = kept.has_id && !later.has_id;
    !loses_outcome && !loses_id
}

/// Indices of the lines that count (see [`latest_per_row`]), ordered by row.
pub(super) fn counting_lines(keys: impl IntoIterator<Item = Key>) -> Vec<usize> {
    let mut best: HashMap<u32, (usize, Key)> = HashMap::new();
    for (i, key) in keys.into_iter().enumerate() {
        best.entry(key.row)
            .and_modify(|kept| {
                if replaces(&key, &kept.1) {
                    *kept = (i, key);
                }
            })
            .or_insert((i, key));
    }
    let mut out: Vec<(u32, usize)> = best.into_iter().map(|(row, (i, _))| (row, i)).collect();
    out.sort_unstable();
    out.into_iter().map(|(_, i)| i).collect()
}

/// The line that counts for each row, ordered by row number: what "every row exactly
/// once" means for a file that a resumed run appended to.
pub fn latest_per_row(lines: &[ResultRecord]) -> Vec<ResultRecord> {
    let keys = lines.iter().map(|r| Key {
        row: r.row,
        status: r.status,
        has_id: !r.phone_number_id.is_empty(),
    });
    counting_lines(keys)
        .into_iter()
        .filter_map(|i| lines.get(i).cloned())
        .collect()
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A record with awkward text in it.
    pub(crate) fn rec(row: u32, status: Status, message: &str) -> ResultRecord {
        ResultRecord {
            row,
            source: format!("m.csv:{}", row + 1),
            waba_id: "102290129340398".into(),
            cc: "1".into(),
            phone_number: format!("555010{row:04}"),
            migrate_phone_number: "false".into(),
            preverified_id: String::new(),
            verified_name: "Acme, \"Support\"".into(),
            token_env: String::new(),
            status,
            phone_number_id: if status == Status::Created {
                format!("9{row}")
            } else {
                String::new()
            },
            error_code: String::new(),
            error_subcode: String::new(),
            error_type: String::new(),
            error_message: message.into(),
            fbtrace_id: String::new(),
            http_status: String::new(),
            attempts: 1,
            finished_at: "2026-11-25T15:55:34Z".into(),
            step: Some(crate::schema::Step::Create),
            register_calls: String::new(),
            code_method: String::new(),
            language: String::new(),
            pin_env: String::new(),
            data_localization_region: String::new(),
            extra: Vec::new(),
        }
    }

    pub(crate) fn line(r: &ResultRecord) -> String {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        w.serialize(r).unwrap();
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    fn file_of(records: &[ResultRecord]) -> String {
        let mut s = header_line();
        for r in records {
            s.push_str(&line(r));
        }
        s
    }

    fn p() -> &'static Path {
        Path::new("r.csv")
    }

    #[test]
    fn empty_and_header_only_are_fine() {
        let s = scan(p(), b"").unwrap();
        assert!(s.records.is_empty() && !s.has_header && s.torn.is_none());
        let s = scan(p(), header_line().as_bytes()).unwrap();
        assert!(s.records.is_empty() && s.has_header && s.torn.is_none());
    }

    #[test]
    fn half_a_header_is_torn_not_foreign() {
        let s = scan(p(), b"row,source,wa").unwrap();
        assert!(!s.has_header);
        assert_eq!(s.torn.unwrap().offset, 0);
        // The whole header without its newline is still a torn header.
        let h = header_line();
        let s = scan(p(), h.trim_end().as_bytes()).unwrap();
        assert_eq!(s.torn.unwrap().offset, 0);
    }

    #[test]
    fn foreign_header_is_refused() {
        for text in [
            "waba_id,cc,phone_number\n1,1,5550100\n",
            "hello\n",
            "\u{0}\u{0}\u{0}",
        ] {
            let err = scan(p(), text.as_bytes()).unwrap_err();
            assert!(
                matches!(err, ResultsError::ForeignHeader { .. }),
                "{text:?}: {err:?}"
            );
        }
        // Same columns in another order: not ours either.
        let swapped = header_line().replacen("row,source", "source,row", 1);
        assert!(matches!(
            scan(p(), swapped.as_bytes()),
            Err(ResultsError::ForeignHeader { .. })
        ));
    }

    #[test]
    fn awkward_text_round_trips() {
        let texts = [
            "comma, in it",
            "quote \" in it",
            "\"starts and ends with quotes\"",
            "new\nline and\r\ncrlf",
            "non-ASCII: é ü 日本 🙂",
            "=HYPERLINK(\"http://x\")",
            "+1-2@3",
            "  spaces kept  ",
            "",
        ];
        let records: Vec<_> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut r = rec(i as u32 + 1, Status::Failed, t);
                r.verified_name = (*t).to_string();
                r
            })
            .collect();
        let s = scan(p(), file_of(&records).as_bytes()).unwrap();
        assert!(s.torn.is_none());
        assert_eq!(s.records, records);
    }

    /// Each torn shape: the complete lines come back, the tail is reported torn at the
    /// offset where the complete part ends.
    #[test]
    fn torn_last_line_shapes() {
        let good = vec![
            rec(1, Status::Created, ""),
            rec(2, Status::Failed, "multi\nline, \"quoted\""),
        ];
        let base = file_of(&good);
        let next = line(&rec(3, Status::Failed, "first line\nsecond line"));
        let quote_at = next.find('"').unwrap();
        let newline_in_quote = next.find("line\n").unwrap() + 5;
        let tails: Vec<(&str, String)> = vec![
            ("missing newline", next.trim_end().to_string()),
            ("half a line", next[..20].to_string()),
            ("half a quoted field", next[..quote_at + 3].to_string()),
            (
                "half a multi-line quoted field",
                next[..newline_in_quote].to_string(),
            ),
            ("garbage bytes", "\u{0}\u{0}\u{0}\u{0}".to_string()),
            ("garbage with a newline", "\u{0}\u{0}zz\n".to_string()),
            ("too few fields with a newline", "3,m.csv:4\n".to_string()),
            (
                "bad attempts with a newline",
                next.replace(",1,2026", ",x,2026"),
            ),
            // Every field parses, but the newline is inside an unclosed quote.
            (
                "last field quoted and cut after a newline",
                format!("{}\"\n", next.strip_suffix('\n').unwrap()),
            ),
        ];
        for (name, tail) in tails {
            let text = format!("{base}{tail}");
            let s = scan(p(), text.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(s.records, good, "{name}");
            let torn = s.torn.unwrap_or_else(|| panic!("{name}: not seen as torn"));
            assert_eq!(torn.offset, base.len() as u64, "{name}");
            assert_eq!(torn.line, base.matches('\n').count() as u64 + 1, "{name}");
        }
    }

    #[test]
    fn broken_middle_line_is_corrupt() {
        let base = file_of(&[rec(1, Status::Created, "")]);
        let text = format!("{base}3,m.csv:4\n{}", line(&rec(2, Status::Failed, "x")));
        let err = scan(p(), text.as_bytes()).unwrap_err();
        assert!(
            matches!(err, ResultsError::Corrupt { line: 3, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("--force"), "{err}");
        // Garbage followed by a newline and more lines is not a torn tail either.
        let text = format!("{base}\u{0}\u{0}\n\u{0}\u{0}");
        assert!(matches!(
            scan(p(), text.as_bytes()),
            Err(ResultsError::Corrupt { line: 3, .. })
        ));
    }

    #[test]
    fn a_bom_before_the_header_is_accepted() {
        let records = vec![rec(1, Status::Created, "")];
        let text = format!("\u{feff}{}", file_of(&records));
        assert_eq!(scan(p(), text.as_bytes()).unwrap().records, records);
    }

    #[test]
    fn crlf_and_trailing_blank_lines_are_complete() {
        let records = vec![rec(1, Status::Created, ""), rec(2, Status::Failed, "e")];
        let crlf = file_of(&records).replace('\n', "\r\n");
        let s = scan(p(), crlf.as_bytes()).unwrap();
        assert_eq!((s.records, s.torn), (records.clone(), None));
        let blank = format!("{}\n\n", file_of(&records));
        let s = scan(p(), blank.as_bytes()).unwrap();
        assert_eq!((s.records, s.torn), (records, None));
    }

    #[test]
    fn read_results_ignores_torn_tail_and_reports_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let err = read_results(&path).unwrap_err();
        assert!(matches!(err, ResultsError::Io { ref path, .. } if path.ends_with("r.csv")));
        let good = vec![rec(1, Status::Created, "")];
        std::fs::write(&path, format!("{}2,m.csv", file_of(&good))).unwrap();
        assert_eq!(read_results(&path).unwrap(), good);
        // Read-only: the torn tail is still there.
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("2,m.csv"));
    }

    #[test]
    fn line_that_counts_per_row() {
        let lines = vec![
            rec(3, Status::Skipped, "interrupted"),
            rec(1, Status::Created, ""),
            rec(2, Status::Skipped, "interrupted"),
            rec(3, Status::Failed, "code 100"),
            rec(4, Status::Failed, "code 2"),
            rec(4, Status::Created, "reconciled"),
            // A created row is never outweighed by a later line.
            rec(1, Status::Failed, "already exists"),
            rec(1, Status::Skipped, "interrupted"),
            rec(5, Status::Failed, "first"),
            rec(5, Status::Invalid, "second"),
        ];
        let kept = latest_per_row(&lines);
        let got: Vec<(u32, Status, &str)> = kept
            .iter()
            .map(|r| (r.row, r.status, r.error_message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, Status::Created, ""),
                (2, Status::Skipped, "interrupted"),
                (3, Status::Failed, "code 100"),
                (4, Status::Created, "reconciled"),
                (5, Status::Invalid, "second"),
            ]
        );
        let finals = final_rows(&lines);
        let mut rows: Vec<u32> = finals.keys().copied().collect();
        rows.sort();
        assert_eq!(rows, vec![1, 3, 4, 5]);
        assert_eq!(finals[&1].status, Status::Created);
        assert_eq!(finals[&3].error_message, "code 100");
    }
}
