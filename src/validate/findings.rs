//! What the checks of one row report into: every problem becomes a diagnostic
//! (`FILE:LINE: error: FIELD: message`) and every error also a reason on the row.

use super::{Diagnostic, Severity};
use crate::manifest::{Field, Source};

pub(super) struct Findings<'a> {
    source: &'a Source,
    diagnostics: &'a mut Vec<Diagnostic>,
    /// `FIELD: message` of each error, for [`super::InvalidRow::reasons`].
    pub(super) errors: Vec<String>,
}

impl<'a> Findings<'a> {
    pub(super) fn new(source: &'a Source, diagnostics: &'a mut Vec<Diagnostic>) -> Self {
        Findings {
            source,
            diagnostics,
            errors: Vec::new(),
        }
    }

    pub(super) fn error(&mut self, field: Field, message: String) {
        self.report(Severity::Error, field.name(), message);
    }

    pub(super) fn warning(&mut self, field: Field, message: String) {
        self.report(Severity::Warning, field.name(), message);
    }

    /// An error the reader already printed: only the row's reason is added.
    pub(super) fn reader_error(&mut self, reason: String) {
        self.errors.push(reason);
    }

    fn report(&mut self, severity: Severity, field: &str, message: String) {
        if severity == Severity::Error {
            self.errors.push(format!("{field}: {message}"));
        }
        self.diagnostics.push(Diagnostic {
            source: self.source.clone(),
            severity,
            field: field.to_string(),
            message,
        });
    }
}
