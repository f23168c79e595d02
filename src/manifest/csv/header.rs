//! The CSV header: what each column means. Names are matched without regard
//! to case or surrounding spaces. An unknown column is an error (usually a
//! typo of a real one), with "did you mean" for typos and for the names
//! spreadsheets commonly use (`Phone Number`, `country_code`, ...), unless
//! `--ignore-column` names it: then its values are carried to the results.

use super::super::fields::{Field, suggest_field};
use super::super::{ReadOptions, Source};
use crate::diagnostic::{Diagnostic, Severity};
use crate::schema::{COLUMNS as RESULT_COLUMNS, V1_COLUMNS};
use crate::text::clip;
use std::collections::HashMap;

/// What a header cell means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Column {
    Field(Field),
    /// The n-th carried column (`--ignore-column`).
    Extra(usize),
    /// A results column that is no manifest field (`row`, `status`, ...), by
    /// its position in the results columns: read with the whole line by
    /// `schema::parse_line`.
    Result(usize),
    /// An empty header cell (a spreadsheet's trailing comma).
    Unnamed,
    Unknown,
}

pub(super) const REQUIRED: [Field; 3] = [Field::WabaId, Field::Cc, Field::PhoneNumber];

/// The header, understood.
pub(super) struct Header {
    pub(super) columns: Vec<Column>,
    /// The carried columns' names as the header writes them.
    pub(super) extra_columns: Vec<String>,
    /// When the file is a results file (it has `row` and `status`): the
    /// column names as `schema::parse_line` matches them.
    pub(super) results: Option<::csv::ByteRecord>,
    pub(super) diagnostics: Vec<Diagnostic>,
}

impl Header {
    /// Every required column is there (else every row would only repeat
    /// "required": the header's errors say it once).
    pub(super) fn has_required(&self) -> bool {
        REQUIRED
            .iter()
            .all(|f| self.columns.contains(&Column::Field(*f)))
    }
}

fn column(name: &str) -> Column {
    if name.is_empty() {
        return Column::Unnamed;
    }
    if let Some(f) = Field::from_name(name) {
        return Column::Field(f);
    }
    match RESULT_COLUMNS.iter().position(|c| *c == name) {
        Some(i) => Column::Result(i),
        None => Column::Unknown,
    }
}

/// The columns every results file has: those of the first version.
fn results_columns() -> &'static [&'static str] {
    &RESULT_COLUMNS[..V1_COLUMNS]
}

/// The other separators a header may use: a name containing one of them is a
/// header split on the wrong character.
const SEPARATORS: [(u8, &str); 3] = [(b',', "`,`"), (b';', "`;`"), (b'\t', "tabs")];

pub(super) fn read(
    cells: &::csv::StringRecord,
    src: &Source,
    options: &ReadOptions,
    delimiter: u8,
) -> Header {
    let mut diags = Vec::new();
    let mut error = |field: &str, message: String| {
        diags.push(Diagnostic {
            source: src.clone(),
            severity: Severity::Error,
            field: clip(field).into_owned(),
            message,
        })
    };
    let names: Vec<String> = cells.iter().map(|c| c.trim().to_lowercase()).collect();
    let has = |name: &str| names.iter().any(|n| n == name);
    // A results file (SPEC 3) is a manifest too: `row` and `status` say so.
    let results_file = has("row") && has("status");
    let mut columns: Vec<Column> = Vec::with_capacity(cells.len());
    let mut extra_columns = Vec::new();
    // First position of each column: a map, so a hostile header is not n².
    let mut first_at: HashMap<Column, usize> = HashMap::new();
    // --ignore-column position → header position, to catch a repeat.
    let mut carried: HashMap<usize, usize> = HashMap::new();
    for (i, (cell, name)) in cells.iter().zip(&names).enumerate() {
        let written = cell.trim();
        let mut column = column(name);
        if results_file && column == Column::Unknown && options.ignored(written).is_none() {
            // A results file carries the columns its manifest carried.
            column = Column::Extra(extra_columns.len());
            extra_columns.push(written.to_string());
        } else if let Some(wanted) = options.ignored(written) {
            match column {
                Column::Unknown => {
                    if let Some(&first) = carried.get(&wanted) {
                        error(
                            written,
                            format!("column given twice (columns {} and {})", first + 1, i + 1),
                        );
                    } else {
                        carried.insert(wanted, i);
                        column = Column::Extra(extra_columns.len());
                        extra_columns.push(written.to_string());
                    }
                }
                _ => error(
                    written,
                    "--ignore-column names a column this tool reads: it cannot be ignored".into(),
                ),
            }
        } else if matches!(column, Column::Result(_)) && !results_file {
            error(
                written,
                "is a results column, but this file has no `row` and `status` columns: it is not a results file"
                    .into(),
            );
            column = Column::Unknown;
        } else if column == Column::Unknown {
            let hint = match SEPARATORS
                .iter()
                .find(|(b, _)| *b != delimiter && name.contains(char::from(*b)))
            {
                Some((b, what)) => format!(
                    " (the header looks separated by {what}: try --delimiter '{}')",
                    if *b == b'\t' {
                        "tab".to_string()
                    } else {
                        char::from(*b).to_string()
                    }
                ),
                None => match suggest_field(name, &Field::ALL) {
                    Some(f) => format!(" (did you mean `{f}`?)"),
                    None => format!(
                        " (a column of your own? carry it into the results with --ignore-column '{}')",
                        clip(written)
                    ),
                },
            };
            error(written, format!("unknown column{hint}"));
        } else if column != Column::Unnamed
            && let Some(&first) = first_at.get(&column)
        {
            error(
                name,
                format!("column given twice (columns {} and {})", first + 1, i + 1),
            );
        }
        first_at.entry(column).or_insert(i);
        columns.push(column);
    }
    for f in REQUIRED {
        if !columns.contains(&Column::Field(f)) {
            error(f.name(), "required column is missing".into());
        }
    }
    let mut results = None;
    if results_file {
        let missing: Vec<String> = results_columns()
            .iter()
            .filter(|c| !has(c))
            .map(|c| format!("`{c}`"))
            .collect();
        if missing.is_empty() {
            results = Some(::csv::ByteRecord::from(names.clone()));
        } else {
            error(
                "row",
                format!(
                    "a results file (it has `row` and `status`) has every results column; missing: {}",
                    missing.join(", ")
                ),
            );
        }
    }
    // A misspelt --ignore-column would otherwise go unnoticed (the column it
    // meant is reported unknown above, but not why).
    for name in &options.ignore_columns {
        let name = name.trim();
        if !cells.iter().any(|c| c.trim().eq_ignore_ascii_case(name)) {
            diags.push(Diagnostic {
                source: src.clone(),
                severity: Severity::Warning,
                field: clip(name).into_owned(),
                message: "--ignore-column names no column of this header".into(),
            });
        }
    }
    Header {
        columns,
        extra_columns,
        results,
        diagnostics: diags,
    }
}

/// The separator of a file, from its header line: whichever of `,` `;` and
/// tab occurs most outside quotes (a comma when none does).
pub(super) fn detect_delimiter(text: &str) -> u8 {
    let mut counts = [0usize; SEPARATORS.len()];
    let mut quoted = false;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                if let Some(i) = SEPARATORS.iter().position(|(s, _)| *s == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let mut best = 0;
    for (i, &n) in counts.iter().enumerate() {
        if n > counts[best] {
            best = i;
        }
    }
    SEPARATORS[best].0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_separator_is_the_header_s() {
        assert_eq!(
            detect_delimiter("waba_id,cc,phone_number\n1;2;3;4;5\n"),
            b','
        );
        assert_eq!(detect_delimiter("waba_id;cc;phone_number\n1,2\n"), b';');
        assert_eq!(detect_delimiter("waba_id\tcc\tphone_number"), b'\t');
        assert_eq!(
            detect_delimiter("\"a;b\",c\n"),
            b',',
            "quoted ; do not count"
        );
        assert_eq!(detect_delimiter("waba_id\n"), b',');
        assert_eq!(detect_delimiter(""), b',');
    }
}
