//! The CSV reader (SPEC section 1): a header row naming the columns in any order
//! and any case; one row per record; `source` is the physical line where the
//! record starts (records may span lines inside quoted fields). A results CSV
//! (SPEC section 3) is a manifest too: its `row`, `source`, `status` and
//! `phone_number_id` columns fill [`Origin`], its other columns are ignored.

use super::fields::{Field, did_you_mean};
use super::{Manifest, ManifestError, Origin, RawRow, RawValue, RowProblem, Source};
use crate::diagnostic::{Diagnostic, Severity};
use crate::schema::{COLUMNS as RESULT_COLUMNS, Status};
use crate::text::clip;
use std::collections::HashMap;
use std::sync::Arc;

/// What a header cell means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Field(Field),
    /// Results-file identity and outcome columns.
    Row,
    Source,
    Status,
    PhoneNumberId,
    /// Another results column: recognised, not used.
    Ignored,
    /// An empty header cell (a spreadsheet's trailing comma).
    Unnamed,
    Unknown,
}

impl Column {
    fn from_name(name: &str) -> Column {
        if name.is_empty() {
            return Column::Unnamed;
        }
        if let Some(f) = Field::from_name(name) {
            return Column::Field(f);
        }
        match name {
            "row" => Column::Row,
            "source" => Column::Source,
            "status" => Column::Status,
            "phone_number_id" => Column::PhoneNumberId,
            n if RESULT_COLUMNS.contains(&n) => Column::Ignored,
            _ => Column::Unknown,
        }
    }
}

const REQUIRED: [Field; 3] = [Field::WabaId, Field::Cc, Field::PhoneNumber];

pub(super) fn read(file: Arc<str>, text: &str) -> Result<Manifest, ManifestError> {
    check_quotes(&file, text)?;
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let csv_error = |e: ::csv::Error| ManifestError::Csv {
        file: file.to_string(),
        line: e.position().map_or(0, |p| line_u32(p.line())),
        message: clip(&e.to_string()).into_owned(),
    };

    let header = match records.next() {
        Some(r) => r.map_err(csv_error)?,
        None => {
            return Err(ManifestError::Empty {
                file: file.to_string(),
            });
        }
    };
    let mut lines = LineCounter::new(text);
    let header_src = Source {
        file: file.clone(),
        line: lines.line_of(&header),
    };
    let (columns, diagnostics) = read_header(&header, &header_src);
    let mut manifest = Manifest {
        diagnostics,
        ..Manifest::default()
    };
    // Without a required column every row would only repeat "required": the
    // header errors say it once.
    let missing_required = REQUIRED
        .iter()
        .any(|f| !columns.contains(&Column::Field(*f)));
    if missing_required {
        return Ok(manifest);
    }
    let has_origin = columns.contains(&Column::Row);

    for record in records {
        let record = record.map_err(csv_error)?;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue; // a blank spreadsheet line is not a row
        }
        let index = manifest.rows.len();
        let source = Source {
            file: file.clone(),
            line: lines.line_of(&record),
        };
        let mut problems = Vec::new();
        let mut row = RawRow {
            row: u32::try_from(index + 1).unwrap_or(u32::MAX),
            source: source.clone(),
            fields: Default::default(),
            origin: None,
        };
        if record.len() != columns.len() {
            problems.push((
                "record".to_string(),
                format!(
                    "has {} fields but the header has {} columns (a missing or extra comma?)",
                    record.len(),
                    columns.len()
                ),
            ));
        }
        let mut origin = OriginCells::default();
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
                Column::Row => origin.row = Some(cell),
                Column::Source => origin.source = Some(cell),
                Column::Status => origin.status = Some(cell),
                Column::PhoneNumberId => origin.phone_number_id = Some(cell),
                Column::Ignored | Column::Unknown => {}
                Column::Unnamed if cell.is_empty() => {}
                Column::Unnamed => problems.push((
                    format!("column {}", i + 1),
                    format!("`{}` is in a column with no name in the header", clip(cell)),
                )),
            }
        }
        if has_origin {
            row.origin = Some(origin.build(&source, &mut problems));
        }
        for (field, message) in problems {
            manifest.row_problems.push(RowProblem {
                rows: index..index + 1,
                diagnostic: Diagnostic {
                    source: source.clone(),
                    severity: Severity::Error,
                    field,
                    message,
                },
            });
        }
        manifest.rows.push(row);
    }
    Ok(manifest)
}

/// The results-file cells of one record.
#[derive(Default)]
struct OriginCells<'a> {
    row: Option<&'a str>,
    source: Option<&'a str>,
    status: Option<&'a str>,
    phone_number_id: Option<&'a str>,
}

impl OriginCells<'_> {
    fn build(self, here: &Source, problems: &mut Vec<(String, String)>) -> Origin {
        let row = match self.row.map(str::parse::<u32>) {
            Some(Ok(n)) if n > 0 => n,
            _ => {
                problems.push((
                    "row".into(),
                    format!(
                        "`{}` is not a row number (a positive whole number)",
                        clip(self.row.unwrap_or(""))
                    ),
                ));
                0
            }
        };
        let status = self.status.unwrap_or("");
        let known = [
            Status::Created,
            Status::Failed,
            Status::Invalid,
            Status::Skipped,
        ];
        if !known.iter().any(|s| s.as_str() == status) {
            problems.push((
                "status".into(),
                format!(
                    "`{}` is not one of created, failed, invalid, skipped",
                    clip(status)
                ),
            ));
        }
        Origin {
            row,
            // A results line without `source` still points somewhere useful.
            source: self.source.map_or_else(|| here.to_string(), str::to_string),
            status: status.to_string(),
            phone_number_id: self.phone_number_id.map(str::to_string),
        }
    }
}

fn read_header(header: &::csv::StringRecord, src: &Source) -> (Vec<Column>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut error = |field: String, message: String| {
        diags.push(Diagnostic {
            source: src.clone(),
            severity: Severity::Error,
            field,
            message,
        })
    };
    let mut known: Vec<&str> = RESULT_COLUMNS.to_vec();
    known.retain(|c| Field::from_name(c).is_none());
    known.splice(0..0, Field::ALL.iter().map(|f| f.name()));
    let mut columns: Vec<Column> = Vec::with_capacity(header.len());
    // First position of each column: a map, so a hostile header is not n².
    let mut first_at: HashMap<Column, usize> = HashMap::new();
    for (i, cell) in header.iter().enumerate() {
        let name = cell.trim().to_lowercase();
        let column = Column::from_name(&name);
        if column == Column::Unknown {
            let hint = if name.contains(';') || name.contains('\t') {
                " (the header looks separated by `;` or tabs: this tool reads comma-separated CSV)"
                    .to_string()
            } else {
                did_you_mean(&name, &known)
            };
            error(
                clip(cell.trim()).into_owned(),
                format!("unknown column{hint}"),
            );
        } else if !matches!(column, Column::Unnamed | Column::Ignored)
            && let Some(&first) = first_at.get(&column)
        {
            error(
                clip(&name).into_owned(),
                format!("column given twice (columns {} and {})", first + 1, i + 1),
            );
        }
        first_at.entry(column).or_insert(i);
        columns.push(column);
    }
    for f in REQUIRED {
        if !columns.contains(&Column::Field(f)) {
            error(f.name().to_string(), "required column is missing".into());
        }
    }
    if columns.contains(&Column::Row) != columns.contains(&Column::Status) {
        error(
            "row".into(),
            "a results file needs both `row` and `status` columns".into(),
        );
    }
    (columns, diags)
}

/// The csv crate reads an unterminated quoted field silently to the end of the
/// file; catch it first and point at the line where the quote opened. Follows
/// csv-core's rules: only a quote at the start of a field opens a quoted field.
fn check_quotes(file: &Arc<str>, text: &str) -> Result<(), ManifestError> {
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
        let end_of_field = matches!(b, b',' | b'\n' | b'\r');
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
