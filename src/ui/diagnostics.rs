//! How manifest problems look on stderr (SPEC section 1): first every problem
//! in the one-line form `FILE:LINE: error: FIELD: message`, for scripts and
//! editors; on a terminal, the first few drawn with their source line (miette);
//! then a count line. The same mistake on thousands of rows (a `+44` in every
//! `cc`) is shown on its first [`GROUP_AFTER`] rows, then counted in one line.
//! Write errors (a closed pipe) are ignored: the exit code still tells.

use super::Output;
use crate::diagnostic::Diagnostic;
use crate::text::{plural, thousands};
use crate::validate::{Severity, VALUE_NOT_SHOWN, Validation};
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

/// At most this many problems are drawn with their source line.
const SNIPPETS: usize = 10;

/// Lines shown of one kind of problem before the rest are counted.
const GROUP_AFTER: usize = 20;

/// Every problem, the drawings when stderr is a terminal, then the count line.
/// `path` is the manifest, read again only to draw snippets.
pub fn print_validation(v: &Validation, path: &Path) {
    print_lines(v);
    // The drawings are for people; scripts and pipes get the lines only.
    if !v.diagnostics.is_empty() && std::io::stderr().is_terminal() {
        print_snippets(v, path);
    }
    print_count(v);
}

/// [`print_validation`] under `--quiet` / `--color`: quiet prints only the
/// errors and the count line; without colour the drawings are plain.
pub fn print_validation_as(v: &Validation, path: &Path, output: &Output) {
    if output.quiet() {
        let mut err = std::io::stderr().lock();
        for d in v
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
        {
            let _ = writeln!(err, "{d}");
        }
        drop(err);
        return print_count(v);
    }
    if output.color {
        return print_validation(v, path);
    }
    print_lines(v);
    if !v.diagnostics.is_empty() && std::io::stderr().is_terminal() {
        print_snippets_with(v, path, miette::GraphicalTheme::unicode_nocolor());
    }
    print_count(v);
}

fn print_lines(v: &Validation) {
    let mut err = std::io::stderr().lock();
    for line in one_line_report(&v.diagnostics) {
        let _ = writeln!(err, "{line}");
    }
}

/// The one-line form of every problem, each kind after its first
/// [`GROUP_AFTER`] lines counted in one line of its own, after the others:
/// `FILE: … and N more rows with the same error: FIELD: message`.
///
/// A kind is the severity, the field and the message with its values left
/// out (quoted values, numbers): an operator fixing a column wants "2,980
/// more like this", whichever number each row has.
fn one_line_report(diagnostics: &[Diagnostic]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut seen: HashMap<(Severity, &str, String), usize> = HashMap::new();
    // Each kind with more lines than shown: its first hidden problem.
    let mut hidden: Vec<((Severity, &str, String), &Diagnostic)> = Vec::new();
    for d in diagnostics {
        let kind = (d.severity, d.field.as_str(), shape(&d.message));
        let n = seen.entry(kind.clone()).or_insert(0);
        *n += 1;
        if *n <= GROUP_AFTER {
            lines.push(d.to_string());
        } else if *n == GROUP_AFTER + 1 {
            hidden.push((kind, d));
        }
    }
    for (kind, d) in hidden {
        let more = seen.get(&kind).map_or(0, |n| n - GROUP_AFTER);
        let what = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        lines.push(format!(
            "{}: … and {} more row{} with the same {what}: {}: {}",
            d.source.file,
            thousands(more),
            plural(more),
            d.field,
            d.message
        ));
    }
    lines
}

/// A message without its values: each `quoted` span and each run of digits
/// becomes a placeholder.
fn shape(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    let mut digits = false;
    for c in message.chars() {
        if c == '`' {
            quoted = !quoted;
            if quoted {
                out.push_str("`…`");
            }
            continue;
        }
        if quoted {
            continue;
        }
        if c.is_ascii_digit() {
            if !digits {
                out.push('#');
            }
            digits = true;
            continue;
        }
        digits = false;
        out.push(c);
    }
    out
}

fn print_count(v: &Validation) {
    let _ = writeln!(std::io::stderr().lock(), "{}", summary(v));
}

/// The first few problems drawn by miette with the manifest line they are on.
fn print_snippets(v: &Validation, path: &Path) {
    print_snippets_with(v, path, miette::GraphicalTheme::default());
}

fn print_snippets_with(v: &Validation, path: &Path, theme: miette::GraphicalTheme) {
    // A pasted token or PIN would be drawn with its line: draw nothing then.
    if v.diagnostics
        .iter()
        .any(|d| d.message.contains(VALUE_NOT_SHOWN))
    {
        return;
    }
    let Ok(bytes) = std::fs::read(path) else {
        return;
    };
    let text: Arc<str> = Arc::from(String::from_utf8_lossy(&bytes).into_owned());
    let starts = line_starts(&text);
    let handler = miette::GraphicalReportHandler::new_themed(theme);
    let mut out = String::new();
    for d in v.diagnostics.iter().take(SNIPPETS) {
        let Some(span) = line_span(&text, &starts, d.source.line) else {
            continue;
        };
        let severity = match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        };
        let diag = miette::MietteDiagnostic::new(format!("{}: {}", d.field, d.message))
            .with_severity(severity)
            .with_label(miette::LabeledSpan::at(span, d.field.clone()));
        let report = miette::Report::new(diag)
            .with_source_code(miette::NamedSource::new(&d.source.file, text.clone()));
        let _ = handler.render_report(&mut out, report.as_ref());
    }
    let _ = write!(std::io::stderr().lock(), "{out}");
}

/// Byte offset where each line starts.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// The byte range of line `line` (1-based) without its line end.
fn line_span(text: &str, starts: &[usize], line: u32) -> Option<(usize, usize)> {
    let index = usize::try_from(line).ok()?.checked_sub(1)?;
    let start = *starts.get(index)?;
    let end = starts
        .get(index + 1)
        .map_or(text.len(), |&e| e.saturating_sub(1));
    let body = text.get(start..end)?.trim_end_matches('\r');
    Some((start, body.len()))
}

/// "2 errors, 1 warning; 97 of 100 rows valid".
pub fn summary(v: &Validation) -> String {
    let (errors, warnings) = (v.error_count(), v.warning_count());
    let valid = v.valid_rows().count();
    let total = v.rows.len();
    let problems = match (errors, warnings) {
        (0, 0) => "no problems".to_string(),
        _ => format!(
            "{} error{}, {} warning{}",
            errors,
            plural(errors),
            warnings,
            plural(warnings)
        ),
    };
    let verdict = if v.is_valid() { "valid" } else { "INVALID" };
    format!("{problems}; {valid} of {total} rows valid; manifest {verdict}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Source;

    fn diag(line: u32, severity: Severity, field: &str, message: &str) -> Diagnostic {
        Diagnostic {
            source: Source {
                file: "m.csv".into(),
                line,
            },
            severity,
            field: field.into(),
            message: message.into(),
        }
    }

    #[test]
    fn the_same_mistake_on_thousands_of_rows_is_counted_after_twenty() {
        let plus = "`+44`: write the country code without `+` (`44`)";
        let mut ds: Vec<Diagnostic> = (2..3002)
            .map(|line| diag(line, Severity::Error, "cc", plus))
            .collect();
        ds.insert(
            5,
            diag(
                6,
                Severity::Error,
                "waba_id",
                "`1x` is not an id: digits only",
            ),
        );
        ds.push(diag(3002, Severity::Warning, "cc", plus));
        let lines = one_line_report(&ds);
        assert_eq!(lines.len(), 20 + 1 + 1 + 1, "{lines:#?}");
        assert_eq!(lines[0], format!("m.csv:2: error: cc: {plus}"));
        assert_eq!(
            lines[5],
            "m.csv:6: error: waba_id: `1x` is not an id: digits only"
        );
        assert_eq!(lines[20], format!("m.csv:21: error: cc: {plus}"));
        assert_eq!(
            lines[21],
            format!("m.csv:3002: warning: cc: {plus}"),
            "another kind"
        );
        assert_eq!(
            lines[22],
            format!("m.csv: … and 2,980 more rows with the same error: cc: {plus}")
        );
    }

    #[test]
    fn values_do_not_split_a_kind_but_messages_do() {
        let mut ds: Vec<Diagnostic> = (1..=25)
            .map(|i| {
                let m = format!("+44 0791234{i:04} is not a possible number for +44 (GB): it has 11 digits after the country code, numbers there have 7, 9 or 10 (drop the leading trunk prefix 0)");
                diag(i, Severity::Error, "phone_number", &m)
            })
            .collect();
        ds.extend((26..=46).map(|i| {
            diag(
                i,
                Severity::Error,
                "phone_number",
                &format!("`7{i}x` contains `x` (only digits, spaces, - . ( ) are allowed)"),
            )
        }));
        let lines = one_line_report(&ds);
        assert_eq!(lines.len(), 20 + 20 + 2, "{lines:#?}");
        assert!(
            lines[40].starts_with(
                "m.csv: … and 5 more rows with the same error: phone_number: +44 07912340021 "
            ),
            "{}",
            lines[40]
        );
        assert!(
            lines[41].starts_with(
                "m.csv: … and 1 more row with the same error: phone_number: `746x` contains"
            ),
            "{}",
            lines[41]
        );
    }

    #[test]
    fn shapes_leave_values_out() {
        assert_eq!(
            shape("`+44`: write it without `+` (`44`)"),
            "`…`: write it without `…` (`…`)"
        );
        assert_eq!(shape("+44 07912 has 11 digits"), "+# # has # digits");
    }

    #[test]
    fn line_spans_skip_line_ends() {
        let text = "a,b\r\nccc\n\nlast";
        let starts = line_starts(text);
        assert_eq!(line_span(text, &starts, 1), Some((0, 3)));
        assert_eq!(line_span(text, &starts, 2), Some((5, 3)));
        assert_eq!(line_span(text, &starts, 3), Some((9, 0)));
        assert_eq!(line_span(text, &starts, 4), Some((10, 4)));
        assert_eq!(line_span(text, &starts, 5), None);
        assert_eq!(line_span(text, &starts, 0), None);
    }
}
