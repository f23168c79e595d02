//! What the checks of one row report into: every problem becomes a diagnostic
//! (`FILE:LINE: error: FIELD: message`) and every error also a reason on the row.
//!
//! A problem with a value the row inherits (a YAML WABA's `waba_id`, a key of
//! `defaults`) is about the line where that value is written: it is reported
//! there, once for all the rows that share it, and each row keeps the reason.

use super::{Diagnostic, Severity};
use crate::manifest::{Field, Source};
use std::collections::HashSet;

/// Per field, the line of an inherited value (see `RawFields::inherited_at`).
pub(super) type InheritedAt = [Option<u32>; Field::ALL.len()];

/// The (line, field) problems already reported for inherited values.
pub(super) type Reported = HashSet<(u32, Field)>;

pub(super) struct Findings<'a> {
    source: &'a Source,
    diagnostics: &'a mut Vec<Diagnostic>,
    inherited: Option<(&'a InheritedAt, &'a mut Reported)>,
    /// `FIELD: message` of each error, for [`super::InvalidRow::reasons`].
    pub(super) errors: Vec<String>,
}

impl<'a> Findings<'a> {
    pub(super) fn new(source: &'a Source, diagnostics: &'a mut Vec<Diagnostic>) -> Self {
        Findings {
            source,
            diagnostics,
            inherited: None,
            errors: Vec::new(),
        }
    }

    /// Problems with inherited values go to their own line, once.
    pub(super) fn with_inherited(
        mut self,
        at: &'a InheritedAt,
        reported: &'a mut Reported,
    ) -> Self {
        self.inherited = Some((at, reported));
        self
    }

    /// A problem with the field's value (wherever that value is written).
    pub(super) fn error(&mut self, field: Field, message: String) {
        self.report(Severity::Error, field.name(), Some(field), message);
    }

    /// A remark on the field's value (wherever that value is written).
    pub(super) fn warning(&mut self, field: Field, message: String) {
        self.report(Severity::Warning, field.name(), Some(field), message);
    }

    /// A remark about this row as a whole, filed under `field`: at the row,
    /// even when the field's value is inherited.
    pub(super) fn row_warning(&mut self, field: Field, message: String) {
        self.report(Severity::Warning, field.name(), None, message);
    }

    /// A problem in a column that is no manifest field (a results file's
    /// `row`, `phone_number_id`, ...): at the row.
    pub(super) fn column_error(&mut self, column: &str, message: String) {
        self.report(Severity::Error, column, None, message);
    }

    /// An error the reader already printed: only the row's reason is added.
    pub(super) fn reader_error(&mut self, reason: String) {
        self.errors.push(reason);
    }

    /// `value_of`: the field whose value the problem is about, if any (then
    /// it goes where that value is written).
    fn report(&mut self, severity: Severity, name: &str, value_of: Option<Field>, message: String) {
        if severity == Severity::Error {
            self.errors.push(format!("{name}: {message}"));
        }
        let inherited = match (&mut self.inherited, value_of) {
            (Some((at, reported)), Some(field)) => {
                at[field as usize].map(|line| (line, reported, field))
            }
            _ => None,
        };
        let source = match inherited {
            Some((line, reported, field)) => {
                if !reported.insert((line, field)) {
                    return; // said once already, for an earlier row sharing the value
                }
                Source {
                    file: self.source.file.clone(),
                    line,
                }
            }
            None => self.source.clone(),
        };
        self.diagnostics.push(Diagnostic {
            source,
            severity,
            field: name.to_string(),
            message,
        });
    }
}
