//! Validation (SPEC section 1): every row checked, every problem reported.
//!
//! The only way to get a [`ValidRow`] is through this module, so the sender can
//! never see an unchecked number.

use crate::manifest::Source;
use std::fmt;

/// A WABA id: digits only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WabaId(String);

impl WabaId {
    /// Only validation (and tests) construct ids.
    pub(crate) fn new_unchecked(s: impl Into<String>) -> Self {
        WabaId(s.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WabaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number that passed validation: `cc` 1–3 digits, national number digits
/// only, at most 15 digits together, possible for its country.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    cc: String,
    national: String,
}

impl PhoneNumber {
    pub(crate) fn new_unchecked(cc: impl Into<String>, national: impl Into<String>) -> Self {
        PhoneNumber {
            cc: cc.into(),
            national: national.into(),
        }
    }
    pub fn cc(&self) -> &str {
        &self.cc
    }
    pub fn national(&self) -> &str {
        &self.national
    }
    /// `cc` followed by the national number: the key for duplicates and reconciliation.
    pub fn e164_digits(&self) -> String {
        format!("{}{}", self.cc, self.national)
    }
}

/// A valid environment variable name (`[A-Za-z_][A-Za-z0-9_]*`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnvVarName(String);

impl EnvVarName {
    pub(crate) fn new_unchecked(s: impl Into<String>) -> Self {
        EnvVarName(s.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvVarName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The identity a row keeps in the results: its `row` number and `source`
/// (from the original manifest when re-running a results file).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RowId {
    pub row: u32,
    pub source: String,
}

/// A row that passed validation, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRow {
    pub id: RowId,
    pub waba_id: WabaId,
    pub phone: PhoneNumber,
    pub migrate_phone_number: bool,
    pub preverified_id: Option<String>,
    /// Trimmed.
    pub verified_name: Option<String>,
    pub token_env: Option<EnvVarName>,
}

/// A row that failed validation, kept with its fields as written so the results
/// file can still show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRow {
    pub id: RowId,
    pub fields: crate::manifest::RawFields,
    /// The error messages, `FIELD: message`, joined for the results file.
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckedRow {
    Valid(ValidRow),
    Invalid(InvalidRow),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One problem, printed as `FILE:LINE: error: FIELD: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub source: Source,
    pub severity: Severity,
    pub field: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(
            f,
            "{}: {}: {}: {}",
            self.source, sev, self.field, self.message
        )
    }
}
