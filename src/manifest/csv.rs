//! The CSV reader (SPEC section 1): a header row naming the columns in any order
//! and any case; one row per record; `source` is the physical line where the
//! record starts (records may span lines inside quoted fields). The separator
//! is `--delimiter`, or found from the header line: `,`, or `;` (Excel's in
//! much of Europe), or a tab. A results CSV (SPEC section 3) is a manifest
//! too: its manifest columns are read as such, and its whole line, parsed by
//! `schema::parse_line` (the one parser of the format), is the row's
//! [`RawRow::prior`].

mod header;

mod prior;

use super::{Extra, Manifest, ManifestError, RawRow, RawValue, ReadOptions, RowSink, Source};
use crate::diagnostic::{Diagnostic, Severity};
use crate::text::clip;
use header::Column;
use std::sync::Arc;

pub(super) fn read(
    file: Arc<str>,
    text: &str,
    options: &ReadOptions,
    sink: &mut dyn RowSink,
) -> Result<Manifest, ManifestError> {
    let delimiter = options
        .delimiter
        .unwrap_or_else(|| header::detect_delimiter(text));
    check_quotes(&file, text, delimiter)?;
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let csv_error = |e: ::csv::Error| ManifestError::Csv {
        file: file.to_string(),
        line: e.position().map_or(0, |p| line_u32(p.line())),
        message: clip(&e.to_string()).into_owned(),
    };

    // One record, read into again and again: no allocation per row.
    let mut record = ::csv::StringRecord::new();
    if !reader.read_record(&mut record).map_err(csv_error)? {
        return Err(ManifestError::Empty {
            file: file.to_string(),
        });
    }
    let header = record.clone();
    let mut lines = LineCounter::new(text);
    let header_src = Source {
        file: file.clone(),
        line: lines.line_of(&header),
    };
    let header = header::read(&header, &header_src, options, delimiter);
    let has_required = header.has_required();
    let mut manifest = Manifest {
        diagnostics: header.diagnostics,
        extra_columns: header.extra_columns,
        results_file: header.results.is_some(),
        ..Manifest::default()
    };
    if !has_required {
        return Ok(manifest);
    }
    let columns = header.columns;
    let results = header.results;
    // A row per line at most (a quoted field may span lines).
    sink.expect(text.bytes().filter(|&b| b == b'\n').count());
    let extras = manifest.extra_columns.len();

    let mut index = 0usize;
    while reader.read_record(&mut record).map_err(csv_error)? {
        if record.iter().all(|c| c.trim().is_empty()) {
            continue; // a blank spreadsheet line is not a row
        }
        index += 1;
        let source = Source {
            file: file.clone(),
            line: lines.line_of(&record),
        };
        let mut problems = Vec::new();
        let mut row = RawRow {
            row: u32::try_from(index).unwrap_or(u32::MAX),
            source: source.clone(),
            fields: Default::default(),
            extra: Extra::default(),
            prior: None,
            problems: Vec::new(),
        };
        if record.len() != columns.len() {
            problems.push((
                "record".to_string(),
                format!(
                    "has {} fields but the header has {} columns (a missing or extra {}?)",
                    record.len(),
                    columns.len(),
                    match delimiter {
                        b',' => "comma".to_string(),
                        b';' => "semicolon".to_string(),
                        b'\t' => "tab".to_string(),
                        d => format!("`{}`", char::from(d)),
                    }
                ),
            ));
        }
        let mut extra: Vec<Box<str>> = vec![Box::default(); extras];
        for (i, cell) in record.iter().enumerate() {
            // An empty cell is absent; a cell of spaces is given, blank (only
            // `verified_name` minds the difference).
            if cell.is_empty() {
                continue;
            }
            let cell = cell.trim();
            let Some(column) = columns.get(i) else {
                break; // extra fields: reported above
            };
            match *column {
                Column::Field(f) => f.set(
                    &mut row.fields,
                    Some(RawValue {
                        text: cell.to_string(),
                        from_integer: false,
                    }),
                ),
                Column::Extra(n) => {
                    if let Some(slot) = extra.get_mut(n) {
                        *slot = cell.into();
                    }
                }
                Column::Result(_) | Column::Unknown => {}
                Column::Unnamed if cell.is_empty() => {}
                Column::Unnamed => problems.push((
                    format!("column {}", i + 1),
                    format!("`{}` is in a column with no name in the header", clip(cell)),
                )),
            }
        }
        row.extra = extra.into();
        // A record of the wrong length is refused above already.
        if let Some(header) = &results
            && record.len() == header.len()
        {
            match prior::read(header, &record, &columns) {
                Ok(line) => row.prior = Some(Box::new(line)),
                Err(errors) => problems.extend(errors),
            }
        }
        for (field, message) in problems {
            row.problems.push(format!("{field}: {message}"));
            manifest.row_diagnostics.push(Diagnostic {
                source: source.clone(),
                severity: Severity::Error,
                field,
                message,
            });
        }
        sink.row(row);
    }
    Ok(manifest)
}

/// The csv crate reads an unterminated quoted field silently to the end of the
/// file; catch it first and point at the line where the quote opened. Follows
/// csv-core's rules: only a quote at the start of a field opens a quoted field.
fn check_quotes(file: &Arc<str>, text: &str, delimiter: u8) -> Result<(), ManifestError> {
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    let mut line = 1u32;
    let mut opened_at = 0u32;
    for b in text.bytes() {
        let end_of_field = b == delimiter || matches!(b, b'\n' | b'\r');
        state = match state {
            State::FieldStart if b == b'"' => {
                opened_at = line;
                State::Quoted
            }
            State::FieldStart | State::Unquoted if end_of_field => State::FieldStart,
            State::FieldStart | State::Unquoted => State::Unquoted,
            State::Quoted if b == b'"' => State::QuoteInQuoted,
            State::Quoted => State::Quoted,
            State::QuoteInQuoted if b == b'"' => State::Quoted,
            State::QuoteInQuoted if end_of_field => State::FieldStart,
            State::QuoteInQuoted => State::Unquoted,
        };
        if b == b'\n' {
            line = line.saturating_add(1);
        }
    }
    if state == State::Quoted {
        return Err(ManifestError::Csv {
            file: file.to_string(),
            line: opened_at,
            message: "a quoted field opens here and is never closed".into(),
        });
    }
    Ok(())
}

/// The physical line where a record starts. The csv crate's own position is
/// where it began reading, before the line ends and blank lines it skips, so
/// count from the byte offset instead; records come in order, so the count
/// moves forward only and the whole file is scanned once.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u32,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    fn line_of(&mut self, record: &::csv::StringRecord) -> u32 {
        let mut start = record
            .position()
            .map_or(self.offset, |p| {
                usize::try_from(p.byte()).unwrap_or(usize::MAX)
            })
            .min(self.text.len());
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start >= self.offset {
            let newlines = self.text[self.offset..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.line = self
                .line
                .saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
            self.offset = start;
        }
        self.line
    }
}

fn line_u32(line: u64) -> u32 {
    u32::try_from(line).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
