//! Verification codes from `--codes FILE` (SPEC section 7): a CSV with a
//! `code` column and, to say which number it is for, `phone_number_id` or
//! `cc` + `phone_number`. `123-456` is accepted. Read and matched to the rows
//! before anything is sent: a line that matches no row, a second line for the
//! same row, or a code that is not six digits is an error at its `FILE:LINE`.
//! A code is never echoed in a message.

use std::collections::HashMap;
use std::path::Path;

use super::CodeSource;
use crate::send::Code;
use crate::validate::ValidRow;

/// The codes of a `--codes` file, by row.
#[derive(Debug, Default)]
pub struct FileCodes {
    by_row: HashMap<u32, Code>,
}

impl CodeSource for FileCodes {
    fn known(&self, row: &ValidRow, _phone_number_id: &str) -> Option<Code> {
        self.by_row.get(&row.id.row).cloned()
    }
}

/// A row the codes may be for: its number, and its id if a results file
/// already gave it one.
pub struct Candidate<'a> {
    pub row: &'a ValidRow,
    pub phone_number_id: Option<&'a str>,
}

#[derive(Default)]
struct Columns {
    code: Option<usize>,
    id: Option<usize>,
    cc: Option<usize>,
    number: Option<usize>,
}

impl FileCodes {
    /// Read `path` and match each line to one of `rows`; every problem found
    /// is returned, one line each, `FILE:LINE: error: FIELD: message`.
    pub fn read(path: &Path, rows: &[Candidate<'_>]) -> Result<FileCodes, Vec<String>> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| vec![format!("{name}: error: cannot read the codes file: {e}")])?;
        let delimiter = if text
            .lines()
            .next()
            .is_some_and(|h| h.contains(';') && !h.contains(','))
        {
            b';'
        } else {
            b','
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_reader(text.as_bytes());
        let header = reader
            .headers()
            .map_err(|e| vec![format!("{name}:1: error: broken CSV: {e}")])?
            .clone();
        let mut errors = Vec::new();
        let cols = columns(&header, &name, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        let by_id: HashMap<&str, u32> = rows
            .iter()
            .filter_map(|c| c.phone_number_id.map(|id| (id, c.row.id.row)))
            .collect();
        let by_number: HashMap<String, u32> = rows
            .iter()
            .map(|c| (c.row.phone.e164_digits(), c.row.id.row))
            .collect();
        let mut out = FileCodes::default();
        let mut first_line: HashMap<u32, u64> = HashMap::new();
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    errors.push(format!("{name}: error: broken CSV: {e}"));
                    break;
                }
            };
            let line = record.position().map_or(0, |p| p.line());
            let at = |field: &str, msg: String| format!("{name}:{line}: error: {field}: {msg}");
            let cell =
                |i: Option<usize>| i.and_then(|i| record.get(i)).map(str::trim).unwrap_or("");
            if record.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let Some(code) = Code::parse(cell(cols.code)) else {
                errors.push(at("code", "not a 6-digit code (value not shown)".into()));
                continue;
            };
            let (id, cc, number) = (cell(cols.id), cell(cols.cc), cell(cols.number));
            let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
            let row = if !id.is_empty() {
                by_id.get(id).copied().ok_or_else(|| {
                    at(
                        "phone_number_id",
                        format!("{id} is the id of no row being run"),
                    )
                })
            } else if !cc.is_empty() && !number.is_empty() {
                let key = format!("{}{}", digits(cc), digits(number));
                by_number.get(&key).copied().ok_or_else(|| {
                    at(
                        "phone_number",
                        format!("+{cc} {number} is the number of no row being run"),
                    )
                })
            } else {
                Err(at(
                    "phone_number_id",
                    "give phone_number_id, or cc and phone_number".into(),
                ))
            };
            match row {
                Err(e) => errors.push(e),
                Ok(row) => match first_line.get(&row) {
                    Some(first) => errors.push(at(
                        "code",
                        format!(
                            "a second code for the row of line {first}: give one code per number"
                        ),
                    )),
                    None => {
                        first_line.insert(row, line);
                        out.by_row.insert(row, code);
                    }
                },
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

fn columns(header: &csv::StringRecord, name: &str, errors: &mut Vec<String>) -> Columns {
    let mut cols = Columns::default();
    for (i, cell) in header.iter().enumerate() {
        let slot = match cell
            .trim()
            .trim_start_matches('\u{feff}')
            .to_ascii_lowercase()
            .as_str()
        {
            "code" => &mut cols.code,
            "phone_number_id" => &mut cols.id,
            "cc" => &mut cols.cc,
            "phone_number" => &mut cols.number,
            other => {
                errors.push(format!(
                    "{name}:1: error: {other}: unknown column (a codes file has code, and phone_number_id or cc and phone_number)"
                ));
                continue;
            }
        };
        *slot = Some(i);
    }
    if cols.code.is_none() {
        errors.push(format!(
            "{name}:1: error: code: the header has no `code` column"
        ));
    }
    if cols.id.is_none() && (cols.cc.is_none() || cols.number.is_none()) {
        errors.push(format!(
            "{name}:1: error: phone_number_id: the header needs phone_number_id, or cc and phone_number"
        ));
    }
    cols
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, rows: &[Candidate<'_>]) -> Result<FileCodes, Vec<String>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("codes.csv");
        std::fs::write(&path, text).unwrap();
        FileCodes::read(&path, rows)
    }

    #[test]
    fn codes_match_rows_by_id_or_number_and_dashes_are_fine() {
        let a = ValidRow::fixture(1, "7700900001");
        let b = ValidRow::fixture(2, "7700900002");
        let rows = [
            Candidate {
                row: &a,
                phone_number_id: Some("901"),
            },
            Candidate {
                row: &b,
                phone_number_id: None,
            },
        ];
        let codes = read(
            "phone_number_id,cc,phone_number,code\n901,,,123-456\n,44,7700 900002,654321\n",
            &rows,
        )
        .unwrap();
        assert_eq!(codes.known(&a, "901").unwrap().expose(), "123456");
        assert_eq!(codes.known(&b, "").unwrap().expose(), "654321");
    }

    #[test]
    fn unknown_duplicate_and_bad_lines_are_errors_that_never_show_a_code() {
        let a = ValidRow::fixture(1, "7700900001");
        let rows = [Candidate {
            row: &a,
            phone_number_id: Some("901"),
        }];
        let errors = read(
            "phone_number_id,code\n901,111111\n901,222222\n999,333333\n901,12345x\n",
            &rows,
        )
        .unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[0].contains(":3: error: code: a second code"),
            "{errors:?}"
        );
        assert!(
            errors[1].contains(":4: error: phone_number_id: 999"),
            "{errors:?}"
        );
        assert!(
            errors[2].contains(":5: error: code: not a 6-digit code"),
            "{errors:?}"
        );
        for code in ["111111", "222222", "333333", "12345x"] {
            assert!(!errors.iter().any(|e| e.contains(code)), "{errors:?}");
        }
        let errors = read("id,code\n", &rows).unwrap_err();
        assert!(errors[0].contains("id: unknown column"), "{errors:?}");
    }
}
