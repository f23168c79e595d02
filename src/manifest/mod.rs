//! Manifest reading (SPEC section 1): CSV and YAML files flattened into the same
//! raw rows, numbered 1..N in file order, each remembering `FILE:LINE`.
//!
//! Nothing here judges the values: that is `validate`'s job. A reader only fails
//! as a whole when the file cannot be read as its format at all (not UTF-8,
//! broken structure, empty), with one clear error.

use std::fmt;
use std::sync::Arc;

/// Where a row (or a problem) came from: `FILE:LINE`, line 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Source {
    pub file: Arc<str>,
    pub line: u32,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One field value exactly as the manifest gave it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawValue {
    pub text: String,
    /// YAML gave it as an integer (leading zeros may have been lost).
    pub from_integer: bool,
}

/// The manifest fields of a row, unjudged. `None` = absent or empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawFields {
    pub waba_id: Option<RawValue>,
    pub cc: Option<RawValue>,
    pub phone_number: Option<RawValue>,
    pub migrate_phone_number: Option<RawValue>,
    pub preverified_id: Option<RawValue>,
    pub verified_name: Option<RawValue>,
    pub token_env: Option<RawValue>,
}

/// When the manifest is itself a results file (SPEC 3), the identity and outcome
/// the row had there: `retry` keeps the original `row` and `source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub row: u32,
    pub source: String,
    /// The `status` column as written (`created`, `failed`, `invalid`, `skipped`).
    pub status: String,
    pub phone_number_id: Option<String>,
}

/// One manifest row before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    /// 1-based position in this file.
    pub row: u32,
    /// Where this row is in this file (for YAML: the line of the number's entry).
    pub source: Source,
    pub fields: RawFields,
    pub origin: Option<Origin>,
}
