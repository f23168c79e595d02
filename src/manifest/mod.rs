//! Manifest reading (SPEC section 1): CSV and YAML files flattened into the same
//! raw rows, numbered 1..N in file order, each remembering `FILE:LINE`.
//!
//! Nothing here judges the values: that is `validate`'s job. A reader only fails
//! as a whole when the file cannot be read as its format at all (not UTF-8,
//! broken structure, empty), with one clear error.

use std::sync::Arc;

pub use crate::diagnostic::Source;

/// One field value exactly as the manifest gave it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawValue {
    pub text: String,
    /// YAML gave it as an unquoted number (an integer, or a float such as
    /// `1.5e3`). The reader keeps the text exactly as written, so no leading
    /// zero is lost; the flag lets validation explain why such a value is not
    /// digits ("put it in quotes").
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
    pub code_method: Option<RawValue>,
    pub language: Option<RawValue>,
    pub pin_env: Option<RawValue>,
    pub data_localization_region: Option<RawValue>,
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

mod csv;
mod decode;
pub mod fields;
mod yaml;

pub use fields::Field;

use crate::diagnostic::Diagnostic;
use std::ops::Range;
use std::path::Path;

/// The two manifest formats (SPEC section 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Yaml,
}

impl Format {
    /// `.yaml`/`.yml` (any case) is YAML; anything else is read as CSV.
    pub fn from_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("yaml") || ext.eq_ignore_ascii_case("yml") => {
                Format::Yaml
            }
            _ => Format::Csv,
        }
    }
}

/// A file that cannot be read as a manifest at all. One message per file, naming
/// the file (and the line when known); rows are never half-read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: the file is empty")]
    Empty { file: String },
    #[error("{file}: this looks like a binary file, not a CSV or YAML manifest ({why})")]
    Binary { file: String, why: &'static str },
    #[error("{file}:{line}: the file is not valid UTF-8 (byte offset {offset}); save it as UTF-8")]
    NotUtf8 {
        file: String,
        line: u32,
        offset: usize,
    },
    #[error("{file}: {what}")]
    NoRows { file: String, what: &'static str },
    #[error("{file}:{line}: broken CSV: {message}")]
    Csv {
        file: String,
        line: u32,
        message: String,
    },
    #[error("{file}:{line}: broken YAML: {message}")]
    Yaml {
        file: String,
        line: u32,
        message: String,
    },
    #[error("{file}:{line}: refusing this YAML: {message}")]
    TooComplex {
        file: String,
        line: u32,
        message: String,
    },
    #[error("{file}:{line}: not a manifest: {message}")]
    NotAManifest {
        file: String,
        line: u32,
        message: String,
    },
}

/// A problem found while reading that makes some rows unusable (an unknown key
/// in a number's entry, a CSV record with too many fields, ...). The diagnostic is
/// printed once; every row in `rows` (indexes into [`Manifest::rows`]) is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub rows: Range<usize>,
    pub diagnostic: Diagnostic,
}

/// A manifest read from a file: its rows in file order, plus what the reader
/// noticed on the way.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub rows: Vec<RawRow>,
    /// File-level problems not tied to any row (unknown CSV columns, unknown
    /// top-level YAML keys, missing `version`, ...). Any error here makes the
    /// whole manifest invalid, even with `--skip-invalid`.
    pub diagnostics: Vec<Diagnostic>,
    /// Reader problems tied to rows.
    pub row_problems: Vec<RowProblem>,
}

/// Read a manifest file; the format follows the extension (`.yaml`/`.yml` =
/// YAML, anything else CSV).
pub fn read_manifest(path: &Path) -> Result<Manifest, ManifestError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ManifestError::Io {
        file: name.clone(),
        source,
    })?;
    read_manifest_bytes(&name, &bytes, Format::from_path(path))
}

/// Read a manifest held in memory; `name` is what `source` says (`NAME:LINE`).
/// Never panics, whatever the bytes.
pub fn read_manifest_bytes(
    name: &str,
    bytes: &[u8],
    format: Format,
) -> Result<Manifest, ManifestError> {
    let text = decode::decode(name, bytes)?;
    let file: Arc<str> = Arc::from(name);
    let manifest = match format {
        Format::Csv => csv::read(file, text)?,
        Format::Yaml => yaml::read(file, text)?,
    };
    if manifest.rows.is_empty() && manifest.diagnostics.is_empty() {
        return Err(ManifestError::NoRows {
            file: name.to_string(),
            what: match format {
                Format::Csv => "the CSV has a header but no rows",
                Format::Yaml => "the manifest lists no numbers",
            },
        });
    }
    Ok(manifest)
}

#[cfg(test)]
mod proptests;
