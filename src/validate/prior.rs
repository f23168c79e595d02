//! A results file given as the manifest (SPEC 3, 7): each row's line there,
//! checked and typed into a [`Prior`], so that `retry` and `plan` know where
//! the row got to without reading the line again. Problems in those columns
//! are errors at the line, like any other.

use super::findings::Findings;
use super::intern::Interner;
use crate::diagnostic::Source;
use crate::schema::{ResultRecord, Status, Step};
use crate::text::clip;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::fmt;

/// The id Meta gave a created number: digits only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumberId(Box<str>);

impl PhoneNumberId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a row of a results file got to, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prior {
    pub status: Status,
    /// The step the status and the error columns are about (`create` for a
    /// first-version line).
    pub step: Step,
    /// The number's id when it was created (required then).
    pub phone_number_id: Option<PhoneNumberId>,
    /// Every register call this tool sent on the number, oldest first.
    pub register_calls: Vec<DateTime<Utc>>,
    /// The line as it was, so `retry` can copy it unchanged.
    pub record: ResultRecord,
}

/// The row numbers seen so far in a results file, and the line of each.
#[derive(Default)]
pub(super) struct RowNumbers {
    first: HashMap<u32, u32>,
}

/// Check a results line; `None` after reporting what is wrong with it.
pub(super) fn check(
    record: &ResultRecord,
    line: u32,
    rows: &mut RowNumbers,
    f: &mut Findings,
) -> Option<Prior> {
    let mut ok = true;
    if record.row == 0 {
        f.column_error(
            "row",
            "`0` is not a row number (a positive whole number)".into(),
        );
        ok = false;
    } else if let Some(first) = rows.first.get(&record.row) {
        f.column_error(
            "row",
            format!(
                "row {} is also at line {first}: a results file has one line per row",
                record.row
            ),
        );
        ok = false;
    } else {
        rows.first.insert(record.row, line);
    }
    let id = record.phone_number_id.trim();
    let phone_number_id = if id.is_empty() {
        if record.status.is_created() {
            f.column_error(
                "phone_number_id",
                format!(
                    "status `{}` needs the id the API returned, and it is empty",
                    record.status
                ),
            );
            ok = false;
        }
        None
    } else if id.bytes().all(|b| b.is_ascii_digit()) {
        Some(PhoneNumberId(id.into()))
    } else {
        f.column_error(
            "phone_number_id",
            format!("`{}` is not a phone number id: digits only", clip(id)),
        );
        ok = false;
        None
    };
    let mut register_calls = Vec::new();
    for t in record.register_calls.split_whitespace() {
        match DateTime::parse_from_rfc3339(t) {
            Ok(t) => register_calls.push(t.with_timezone(&Utc)),
            Err(_) => {
                f.column_error(
                    "register_calls",
                    format!(
                        "`{}` is not an RFC 3339 time (like 2026-01-31T09:30:00Z)",
                        clip(t)
                    ),
                );
                ok = false;
            }
        }
    }
    register_calls.sort_unstable();
    ok.then(|| Prior {
        status: record.status,
        step: record.step(),
        phone_number_id,
        register_calls,
        record: record.clone(),
    })
}

/// Where the row was first read, from the line's `source` (`FILE:LINE`); a
/// line without one points `here`.
pub(super) fn source(
    record: &ResultRecord,
    here: &Source,
    files: &mut Interner,
    f: &mut Findings,
) -> Source {
    if record.source.is_empty() {
        return here.clone();
    }
    match Source::split(&record.source) {
        Some((file, line)) => Source {
            file: files.get(file),
            line,
        },
        None => {
            f.column_error(
                "source",
                format!(
                    "`{}` is not FILE:LINE (where the row was first read)",
                    clip(&record.source)
                ),
            );
            here.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Source;
    use crate::schema::{COLUMNS, parse_line};
    use crate::validate::Diagnostic;

    fn record(cells: &[(&str, &str)]) -> ResultRecord {
        let header = csv::ByteRecord::from(COLUMNS.to_vec());
        let mut line = vec![""; COLUMNS.len()];
        for (name, value) in [("row", "3"), ("status", "failed"), ("attempts", "1")]
            .iter()
            .chain(cells)
        {
            let i = COLUMNS.iter().position(|c| c == name).unwrap();
            line[i] = value;
        }
        parse_line(&header, &csv::ByteRecord::from(line)).unwrap()
    }

    fn run(r: &ResultRecord, rows: &mut RowNumbers) -> (Option<Prior>, Vec<String>) {
        let src = Source {
            file: "r.csv".into(),
            line: 4,
        };
        let mut diags: Vec<Diagnostic> = Vec::new();
        let out = check(r, 4, rows, &mut Findings::new(&src, &mut diags));
        (out, diags.into_iter().map(|d| d.to_string()).collect())
    }

    #[test]
    fn a_line_becomes_a_typed_prior() {
        let r = record(&[
            ("status", "registered"),
            ("step", "register"),
            ("phone_number_id", "1234567890"),
            (
                "register_calls",
                "2026-01-02T10:00:00Z 2026-01-01T09:00:00+02:00",
            ),
        ]);
        let (p, d) = run(&r, &mut RowNumbers::default());
        assert!(d.is_empty(), "{d:?}");
        let p = p.unwrap();
        assert_eq!((p.status, p.step), (Status::Registered, Step::Register));
        assert_eq!(p.phone_number_id.unwrap().as_str(), "1234567890");
        let calls: Vec<String> = p.register_calls.iter().map(|t| t.to_rfc3339()).collect();
        assert_eq!(
            calls,
            ["2026-01-01T07:00:00+00:00", "2026-01-02T10:00:00+00:00"]
        );
        assert_eq!(p.record, r, "the line as it was");
    }

    #[test]
    fn a_first_version_line_is_about_the_create() {
        let (p, _) = run(&record(&[]), &mut RowNumbers::default());
        assert_eq!(p.unwrap().step, Step::Create);
    }

    #[test]
    fn bad_columns_are_errors_at_the_line() {
        let r = record(&[
            ("row", "0"),
            ("phone_number_id", "12a"),
            ("register_calls", "yesterday 2026-01-01T00:00:00Z"),
        ]);
        let (p, d) = run(&r, &mut RowNumbers::default());
        assert!(p.is_none());
        assert_eq!(
            d,
            [
                "r.csv:4: error: row: `0` is not a row number (a positive whole number)",
                "r.csv:4: error: phone_number_id: `12a` is not a phone number id: digits only",
                "r.csv:4: error: register_calls: `yesterday` is not an RFC 3339 time (like 2026-01-31T09:30:00Z)",
            ]
        );
        let (_, d) = run(
            &record(&[("status", "created")]),
            &mut RowNumbers::default(),
        );
        assert_eq!(
            d,
            [
                "r.csv:4: error: phone_number_id: status `created` needs the id the API returned, and it is empty"
            ]
        );
    }

    #[test]
    fn a_row_number_twice_is_refused() {
        let mut rows = RowNumbers::default();
        assert!(run(&record(&[]), &mut rows).0.is_some());
        let (p, d) = run(&record(&[]), &mut rows);
        assert!(p.is_none());
        assert_eq!(
            d,
            ["r.csv:4: error: row: row 3 is also at line 4: a results file has one line per row"]
        );
    }
}
