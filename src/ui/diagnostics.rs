//! How manifest problems look on stderr (SPEC section 1): first every problem
//! in the one-line form `FILE:LINE: error: FIELD: message`, for scripts and
//! editors; on a terminal, the first few drawn with their source line (miette);
//! then a count line. Write errors (a closed pipe) are ignored: the exit code
//! still tells.

use crate::text::plural;
use crate::validate::{Severity, VALUE_NOT_SHOWN, Validation};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

/// At most this many problems are drawn with their source line.
const SNIPPETS: usize = 10;

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

fn print_lines(v: &Validation) {
    let mut err = std::io::stderr().lock();
    for d in &v.diagnostics {
        let _ = writeln!(err, "{d}");
    }
}

fn print_count(v: &Validation) {
    let _ = writeln!(std::io::stderr().lock(), "{}", summary(v));
}

/// The first few problems drawn by miette with the manifest line they are on.
fn print_snippets(v: &Validation, path: &Path) {
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
    let handler = miette::GraphicalReportHandler::new();
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
