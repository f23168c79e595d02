//! Validation (SPEC section 1): every row checked, every problem reported.
//!
//! The only way to get a [`ValidRow`] is through this module, so the sender can
//! never see an unchecked number.

mod duplicates;
mod env_name;
mod fields;
mod findings;
mod intern;
mod name;
mod onboarding;
mod prior;
mod row;
mod telephony;
mod values;

pub use crate::diagnostic::{Diagnostic, Severity, Source};
use crate::manifest::{
    Extra, Manifest, ManifestError, RawRow, ReadOptions, RowSink, read_manifest_with,
};
use crate::schema::ResultRecord;
pub use env_name::VALUE_NOT_SHOWN;
pub use prior::{PhoneNumberId, Prior};
use std::path::Path;
use std::sync::Arc;
pub use values::{CodeMethod, EnvVarName, Language, PhoneNumber, Region, WabaId};

/// The identity a row keeps in the results: its `row` number and `source`
/// (from the original manifest when re-running a results file).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RowId {
    pub row: u32,
    /// `FILE:LINE`: the file name is shared by every row of the file.
    pub source: Source,
}

/// A row that passed validation, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRow {
    pub id: RowId,
    pub waba_id: WabaId,
    pub phone: PhoneNumber,
    pub migrate_phone_number: bool,
    pub preverified_id: Option<Box<str>>,
    /// Trimmed; shared by the rows with the same name.
    pub verified_name: Option<Arc<str>>,
    pub token_env: Option<EnvVarName>,
    /// How the verification code is sent (SPEC 7); `SMS` unless given.
    pub code_method: CodeMethod,
    /// The verification message's locale; `en_US` unless given.
    pub language: Language,
    /// The variable holding the two-step PIN; `None` = the `--pin-env` default.
    pub pin_env: Option<EnvVarName>,
    pub data_localization_region: Option<Region>,
    /// The carried columns' values, in the order of
    /// [`Validation::extra_columns`].
    pub extra: Extra,
    /// When the manifest is a results file: the row's line there, typed.
    pub prior: Option<Box<Prior>>,
}

impl ValidRow {
    /// The environment variable the row's token comes from: its own
    /// `token_env`, else the run's default (`--token-env`).
    pub fn token_var<'a>(&'a self, default: &'a str) -> &'a str {
        self.token_env.as_ref().map_or(default, EnvVarName::as_str)
    }

    /// The environment variable the row's two-step PIN comes from: its own
    /// `pin_env`, else the run's default (`--pin-env`).
    pub fn pin_var<'a>(&'a self, default: &'a str) -> &'a str {
        self.pin_env.as_ref().map_or(default, EnvVarName::as_str)
    }
}

/// Test rows, so adding a field to [`ValidRow`] touches one place: row `n` of
/// `m.csv` (line n+1), WABA `1`, number +44 `national`, nothing optional set.
#[cfg(test)]
impl ValidRow {
    pub(crate) fn fixture(n: u32, national: &str) -> ValidRow {
        ValidRow {
            id: RowId {
                row: n,
                source: Source {
                    file: "m.csv".into(),
                    line: n + 1,
                },
            },
            waba_id: WabaId::new_unchecked("1"),
            phone: PhoneNumber::new_unchecked("44", national),
            migrate_phone_number: false,
            preverified_id: None,
            verified_name: None,
            token_env: None,
            code_method: CodeMethod::Sms,
            language: Language::EN_US,
            pin_env: None,
            data_localization_region: None,
            extra: Extra::default(),
            prior: None,
        }
    }
    pub(crate) fn waba(mut self, id: &str) -> Self {
        self.waba_id = WabaId::new_unchecked(id);
        self
    }
    pub(crate) fn phone(mut self, cc: &str, national: &str) -> Self {
        self.phone = PhoneNumber::new_unchecked(cc, national);
        self
    }
    pub(crate) fn token_env(mut self, name: Option<&str>) -> Self {
        self.token_env = name.map(EnvVarName::new_unchecked);
        self
    }
    pub(crate) fn pin_env(mut self, name: Option<&str>) -> Self {
        self.pin_env = name.map(EnvVarName::new_unchecked);
        self
    }
}

/// A row that failed validation, kept with its fields as written so the results
/// file can still show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRow {
    pub id: RowId,
    pub fields: crate::manifest::RawFields,
    /// The error messages, `FIELD: message`, joined for the results file.
    pub reasons: Vec<String>,
    /// The carried columns' values, as for a valid row.
    pub extra: Extra,
    /// When the manifest is a results file: the row's line there as read
    /// (`None` also when the line itself could not be read).
    pub prior: Option<Box<ResultRecord>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
// Valid rows are the many: boxing them would cost an allocation per row.
#[allow(clippy::large_enum_variant)]
pub enum CheckedRow {
    Valid(ValidRow),
    /// Boxed: invalid rows are few, and a row is as large as its largest kind.
    Invalid(Box<InvalidRow>),
}

/// How to read and how strictly to check a manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidateOptions {
    /// Possible-but-not-valid numbers are errors, not warnings.
    pub strict_numbers: bool,
    /// Separator, carried columns: how the file is read.
    pub read: ReadOptions,
}

/// The outcome of validating a manifest.
///
/// `rows` has one entry per manifest row, in manifest order. `diagnostics` holds
/// every problem (the reader's and the rows'), sorted by line. An error that is
/// not about a row (an unknown CSV column, a missing `version`) leaves every row
/// as it is but makes the manifest invalid: see [`Validation::has_file_errors`].
#[derive(Debug, Clone, Default)]
pub struct Validation {
    pub rows: Vec<CheckedRow>,
    pub diagnostics: Vec<Diagnostic>,
    /// How many of the errors belong to the file rather than to a row.
    pub file_errors: usize,
    /// The carried columns (`--ignore-column`), in the order of each row's
    /// `extra` values.
    pub extra_columns: Vec<String>,
    /// The manifest was a results file: its rows carry their `prior` line
    /// (`retry` wants one; `run` a manifest).
    pub results_file: bool,
}

impl Validation {
    pub fn error_count(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warning_count(&self) -> usize {
        self.count(Severity::Warning)
    }

    /// The manifest was a results file (its rows have their prior lines).
    pub fn is_results_file(&self) -> bool {
        self.results_file
    }

    /// No error anywhere (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.error_count() == 0
    }

    /// Errors that belong to the file, not to a row: such a manifest cannot be
    /// run even with `--skip-invalid`.
    pub fn has_file_errors(&self) -> bool {
        self.file_errors > 0
    }

    pub fn valid_rows(&self) -> impl Iterator<Item = &ValidRow> {
        self.rows.iter().filter_map(|r| match r {
            CheckedRow::Valid(v) => Some(v),
            CheckedRow::Invalid(_) => None,
        })
    }

    pub fn invalid_rows(&self) -> impl Iterator<Item = &InvalidRow> {
        self.rows.iter().filter_map(|r| match r {
            CheckedRow::Invalid(i) => Some(&**i),
            CheckedRow::Valid(_) => None,
        })
    }

    fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }
}

/// Check every row of a manifest and report every problem.
pub fn validate(manifest: &Manifest, opts: &ValidateOptions) -> Validation {
    let mut run = Run::new(opts);
    run.expect(manifest.rows.len());
    for raw in &manifest.rows {
        run.row(raw.clone());
    }
    run.finish(manifest.clone_info())
}

/// Read the manifest at `path` and check it, each row as soon as it is read,
/// so a large file is never held both raw and checked.
pub fn load_and_validate(path: &Path, opts: &ValidateOptions) -> Result<Validation, ManifestError> {
    let mut run = Run::new(opts);
    let info = read_manifest_with(path, &opts.read, &mut run)?;
    Ok(run.finish(info))
}

/// One validation under way.
struct Run {
    checker: row::RowChecker,
    /// Problems with inherited values already reported (once each).
    reported: findings::Reported,
    rows: Vec<CheckedRow>,
    diagnostics: Vec<Diagnostic>,
}

impl Run {
    fn new(opts: &ValidateOptions) -> Self {
        Run {
            checker: row::RowChecker::new(opts.clone()),
            reported: Default::default(),
            rows: Vec::new(),
            diagnostics: Vec::new(),
        }
    }

    /// `info`: the manifest as read, without its rows.
    fn finish(self, info: Manifest) -> Validation {
        let mut diagnostics = info.diagnostics;
        let file_errors = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        diagnostics.extend(info.row_diagnostics);
        diagnostics.extend(self.diagnostics);
        // Stable: problems on one line keep the order of the checks.
        diagnostics.sort_by_key(|d| d.source.line);
        Validation {
            rows: self.rows,
            diagnostics,
            file_errors,
            extra_columns: info.extra_columns,
            results_file: info.results_file,
        }
    }
}

impl RowSink for Run {
    /// Room for every row at once: growing a table of a million rows by
    /// doubling rebuilds it, and holds the old and the new one for a moment.
    /// The readers' counts are close (a CSV's lines, the numbers a YAML
    /// lists); room no row fills is left untouched, so costs next to nothing.
    fn expect(&mut self, rows: usize) {
        self.rows.reserve(rows);
        self.checker.duplicates.reserve(rows);
    }

    fn row(&mut self, raw: RawRow) {
        let checked = self
            .checker
            .check(raw, &mut self.diagnostics, &mut self.reported);
        self.rows.push(checked);
    }
}

#[cfg(test)]
mod tests;
