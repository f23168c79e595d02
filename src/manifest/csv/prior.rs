//! The line of a results file, read as a whole by `schema::parse_line` (the
//! one parser of the format, shared with the results reader). When it cannot
//! be read, say which column is wrong rather than pass on serde's message.

use super::header::Column;
use crate::schema::{COLUMNS as RESULT_COLUMNS, ResultRecord, Status, Step, parse_line};
use crate::text::clip;

/// The record, or the (column, message) of each typed cell that stops it.
pub(super) fn read(
    header: &::csv::ByteRecord,
    record: &::csv::StringRecord,
    columns: &[Column],
) -> Result<ResultRecord, Vec<(String, String)>> {
    let error = match parse_line(header, record.as_byte_record()) {
        Ok(line) => return Ok(line),
        Err(e) => e,
    };
    let mut problems = Vec::new();
    for (cell, column) in record.iter().zip(columns) {
        let Column::Result(i) = *column else {
            continue;
        };
        let Some(&name) = RESULT_COLUMNS.get(i) else {
            continue;
        };
        let message = match name {
            "row" if cell.parse::<u32>().is_err() => {
                format!(
                    "`{}` is not a row number (a positive whole number)",
                    clip(cell)
                )
            }
            "attempts" if cell.parse::<u32>().is_err() => {
                format!(
                    "`{}` is not a number of attempts (a whole number)",
                    clip(cell)
                )
            }
            "status" if Status::parse(cell).is_none() => format!(
                "`{}` is not a status: one of {}",
                clip(cell),
                names(Status::ALL.iter().map(|s| s.as_str()))
            ),
            "step" if !cell.is_empty() && Step::parse(cell).is_none() => format!(
                "`{}` is not a step: one of {}",
                clip(cell),
                names(Step::ALL.iter().map(|s| s.as_str()))
            ),
            _ => continue,
        };
        problems.push((name.to_string(), message));
    }
    if problems.is_empty() {
        // Nothing typed is wrong: pass on what the parser said.
        problems.push((
            "record".into(),
            format!("not a results line: {}", clip(&error)),
        ));
    }
    Err(problems)
}

fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}
