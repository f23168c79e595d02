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
    /// Per field (`field as usize`): the line where a value inherited from a
    /// YAML WABA entry or `defaults` is written, so that a problem with it is
    /// reported once, at that key, not at every number below. `None` for a
    /// row's own value. Set through [`Field::set`] / [`Field::set_at`].
    pub inherited_at: [Option<u32>; Field::ALL.len()],
}

/// One manifest row before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    /// 1-based position in this file.
    pub row: u32,
    /// Where this row is in this file (for YAML: the line of the number's entry).
    pub source: Source,
    pub fields: RawFields,
    /// The values of the columns `--ignore-column` names, in the order of
    /// [`Manifest::extra_columns`] (empty when the row leaves one blank): the
    /// tool does not use them, it carries them into the results.
    pub extra: Extra,
    /// When the manifest is itself a results file (SPEC 3): the row's line
    /// there, as `schema::parse_line` read it. Validation checks and types it.
    pub prior: Option<Box<ResultRecord>>,
    /// `FIELD: message` of each error the reader found in this row (the
    /// diagnostic itself is in [`Manifest::row_diagnostics`], printed once
    /// even when it concerns many rows).
    pub problems: Vec<String>,
}

/// The values of a row's carried columns (`--ignore-column`), in the order
/// of the manifest's `extra_columns`. Most manifests carry none: then this is
/// one null pointer, not the two words of an empty boxed slice, a saving a
/// million rows feel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extra(Option<Box<Box<[Box<str>]>>>);

impl From<Vec<Box<str>>> for Extra {
    fn from(values: Vec<Box<str>>) -> Extra {
        Extra((!values.is_empty()).then(|| Box::new(values.into_boxed_slice())))
    }
}

impl std::ops::Deref for Extra {
    type Target = [Box<str>];
    fn deref(&self) -> &[Box<str>] {
        self.0.as_deref().map_or(&[], |v| &**v)
    }
}

mod csv;
mod decode;
pub mod fields;
mod yaml;

pub use fields::Field;

use crate::diagnostic::{Diagnostic, Severity};
use crate::schema::ResultRecord;
use std::path::Path;

/// How to read a manifest: what the command line says about the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// The CSV field separator; `None` = found from the header line (`,`, `;`
    /// or a tab, whichever separates it).
    pub delimiter: Option<u8>,
    /// Columns (YAML: keys of a number or WABA entry) the tool does not use but
    /// accepts and carries into the results, such as an agency's `Client` or
    /// `Notes`. Matched without regard to case.
    pub ignore_columns: Vec<String>,
}

impl ReadOptions {
    /// `--delimiter CHAR`: one ASCII character (`;`, `|`, ...), or `tab` / `\t`.
    pub fn parse_delimiter(s: &str) -> Result<u8, String> {
        let b = match s {
            "tab" | "TAB" | "\\t" | "\t" => b'\t',
            _ => match s.as_bytes() {
                [b] if b.is_ascii() => *b,
                _ => {
                    return Err(format!(
                        "`{}` is not one character: give the separator itself, like `;` or `tab`",
                        crate::text::clip(s)
                    ));
                }
            },
        };
        if matches!(b, b'"' | b'\n' | b'\r') || b.is_ascii_alphanumeric() {
            return Err(format!(
                "`{}` cannot separate fields: use `,`, `;`, `tab`, `|` or similar",
                b.escape_ascii()
            ));
        }
        Ok(b)
    }

    /// The column `name` is one to carry, not to read: its position in
    /// [`ReadOptions::ignore_columns`].
    fn ignored(&self, name: &str) -> Option<usize> {
        let name = name.trim();
        self.ignore_columns
            .iter()
            .position(|c| c.trim().eq_ignore_ascii_case(name))
    }
}

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

/// A manifest read from a file: its rows in file order, plus what the reader
/// noticed on the way.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub rows: Vec<RawRow>,
    /// File-level problems not tied to any row (unknown CSV columns, unknown
    /// top-level YAML keys, missing `version`, ...). Any error here makes the
    /// whole manifest invalid, even with `--skip-invalid`.
    pub diagnostics: Vec<Diagnostic>,
    /// Reader problems tied to rows, each printed once; the rows they concern
    /// carry the reason in [`RawRow::problems`].
    pub row_diagnostics: Vec<Diagnostic>,
    /// The names of the columns `--ignore-column` carries, in the order of
    /// each row's [`RawRow::extra`]: as the CSV header writes them, or (YAML)
    /// as the command line does.
    pub extra_columns: Vec<String>,
    /// The file is a results file (it has the results columns): each row has
    /// its [`RawRow::prior`] line, unless that line could not be read.
    pub results_file: bool,
}

impl Manifest {
    /// Everything but the rows.
    pub fn clone_info(&self) -> Manifest {
        Manifest {
            rows: Vec::new(),
            diagnostics: self.diagnostics.clone(),
            row_diagnostics: self.row_diagnostics.clone(),
            extra_columns: self.extra_columns.clone(),
            results_file: self.results_file,
        }
    }

    /// Whether the file is a results file, not a manifest as written by hand.
    pub fn is_results_file(&self) -> bool {
        self.results_file
    }

    /// Any file-level error (the manifest cannot run even with `--skip-invalid`).
    pub fn has_file_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Where a reader hands its rows, one at a time, in file order.
pub trait RowSink {
    /// At most about this many rows will follow: room may be reserved.
    fn expect(&mut self, rows: usize) {
        let _ = rows;
    }
    fn row(&mut self, row: RawRow);
}

impl RowSink for Vec<RawRow> {
    fn row(&mut self, row: RawRow) {
        self.push(row);
    }
}

/// Counts what it passes on (a file without rows is an error).
struct Counting<'a> {
    sink: &'a mut dyn RowSink,
    rows: usize,
}

impl RowSink for Counting<'_> {
    fn expect(&mut self, rows: usize) {
        self.sink.expect(rows);
    }
    fn row(&mut self, row: RawRow) {
        self.rows += 1;
        self.sink.row(row);
    }
}

/// Read a manifest file; the format follows the extension (`.yaml`/`.yml` =
/// YAML, anything else CSV).
pub fn read_manifest(path: &Path, options: &ReadOptions) -> Result<Manifest, ManifestError> {
    let mut rows = Vec::new();
    let mut manifest = read_manifest_with(path, options, &mut rows)?;
    manifest.rows = rows;
    Ok(manifest)
}

/// Read a manifest file, handing each row to `sink` as soon as it is read
/// (the returned manifest has every field but `rows`), so that a large file
/// is never held twice, once raw and once checked.
pub fn read_manifest_with(
    path: &Path,
    options: &ReadOptions,
    sink: &mut dyn RowSink,
) -> Result<Manifest, ManifestError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ManifestError::Io {
        file: name.clone(),
        source,
    })?;
    read_bytes_with(&name, &bytes, Format::from_path(path), options, sink)
}

/// Read a manifest held in memory; `name` is what `source` says (`NAME:LINE`).
/// Never panics, whatever the bytes.
pub fn read_manifest_bytes(
    name: &str,
    bytes: &[u8],
    format: Format,
    options: &ReadOptions,
) -> Result<Manifest, ManifestError> {
    let mut rows = Vec::new();
    let mut manifest = read_bytes_with(name, bytes, format, options, &mut rows)?;
    manifest.rows = rows;
    Ok(manifest)
}

fn read_bytes_with(
    name: &str,
    bytes: &[u8],
    format: Format,
    options: &ReadOptions,
    sink: &mut dyn RowSink,
) -> Result<Manifest, ManifestError> {
    let text = decode::decode(name, bytes)?;
    let file: Arc<str> = Arc::from(name);
    let mut counting = Counting { sink, rows: 0 };
    let manifest = match format {
        Format::Csv => csv::read(file, text, options, &mut counting)?,
        Format::Yaml => yaml::read(file, text, options, &mut counting)?,
    };
    if counting.rows == 0 && manifest.diagnostics.is_empty() {
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
