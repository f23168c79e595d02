//! The results CSV's vocabulary (SPEC section 3): its columns in order, the
//! statuses, and one line as a record. A leaf shared by the results writer and
//! reader, the manifest reader (a results file is also a manifest) and the
//! summary; the constructors that fill a line from a row are in `results`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The results columns, in the order SPEC sections 3 and 7 fix: the 19 of
/// the first version, then the onboarding columns appended after `finished_at`.
pub const COLUMNS: [&str; 25] = [
    "row",
    "source",
    "waba_id",
    "cc",
    "phone_number",
    "migrate_phone_number",
    "preverified_id",
    "verified_name",
    "token_env",
    "status",
    "phone_number_id",
    "error_code",
    "error_subcode",
    "error_type",
    "error_message",
    "fbtrace_id",
    "http_status",
    "attempts",
    "finished_at",
    "step",
    "register_calls",
    "code_method",
    "language",
    "pin_env",
    "data_localization_region",
];

/// How many of [`COLUMNS`] a results file of the first version has (before
/// the onboarding steps): such a file is still read, its missing columns empty.
pub const V1_COLUMNS: usize = 19;

/// The carried columns of a results header (those `--ignore-column` kept,
/// after the standard ones), or `None` when the cells are not a results
/// header: the current columns (plus carried ones), or the first version's.
pub fn results_header<'a>(cells: &'a [&'a str]) -> Option<&'a [&'a str]> {
    if cells.len() >= COLUMNS.len() && cells[..COLUMNS.len()] == COLUMNS {
        Some(&cells[COLUMNS.len()..])
    } else if cells == &COLUMNS[..V1_COLUMNS] {
        Some(&[])
    } else {
        None
    }
}

/// The header line of a results file carrying `extra` columns.
pub fn header_line(extra: &[String]) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let cells = COLUMNS
        .iter()
        .copied()
        .chain(extra.iter().map(String::as_str));
    // Writing to memory cannot fail; an empty header would be refused later.
    let _ = w.write_record(cells);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// A row's status, in order of progress for the onboarding ones (SPEC 3, 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Created,
    CodeRequested,
    Verified,
    Registered,
    Failed,
    Invalid,
    Skipped,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Created,
        Status::CodeRequested,
        Status::Verified,
        Status::Registered,
        Status::Failed,
        Status::Invalid,
        Status::Skipped,
    ];

    /// Final statuses are kept by `--resume`; `skipped` rows are attempted again.
    pub fn is_final(self) -> bool {
        !matches!(self, Status::Skipped)
    }

    /// The number exists at Meta (its id is in the line): created or further.
    pub fn is_created(self) -> bool {
        matches!(
            self,
            Status::Created | Status::CodeRequested | Status::Verified | Status::Registered
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::CodeRequested => "code_requested",
            Status::Verified => "verified",
            Status::Registered => "registered",
            Status::Failed => "failed",
            Status::Invalid => "invalid",
            Status::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One of Meta's onboarding steps (SPEC 7), in order: the `step` column says
/// which one a line's status and error columns are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Create,
    RequestCode,
    VerifyCode,
    Register,
}

impl Step {
    pub const ALL: [Step; 4] = [
        Step::Create,
        Step::RequestCode,
        Step::VerifyCode,
        Step::Register,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Create => "create",
            Step::RequestCode => "request_code",
            Step::VerifyCode => "verify_code",
            Step::Register => "register",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One results line. Field order = [`COLUMNS`] (serde writes them in this
/// order, and reads them by header name, so a first-version line leaves the
/// onboarding fields empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultRecord {
    pub row: u32,
    pub source: String,
    pub waba_id: String,
    pub cc: String,
    pub phone_number: String,
    pub migrate_phone_number: String,
    pub preverified_id: String,
    pub verified_name: String,
    pub token_env: String,
    pub status: Status,
    pub phone_number_id: String,
    pub error_code: String,
    pub error_subcode: String,
    pub error_type: String,
    pub error_message: String,
    pub fbtrace_id: String,
    pub http_status: String,
    pub attempts: u32,
    /// RFC 3339 UTC.
    pub finished_at: String,
    /// Empty in a first-version file: there, the step is `create`.
    #[serde(default)]
    pub step: Option<Step>,
    /// RFC 3339 times of every register call sent on the number, space-separated.
    #[serde(default)]
    pub register_calls: String,
    #[serde(default)]
    pub code_method: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub pin_env: String,
    #[serde(default)]
    pub data_localization_region: String,
    /// The carried columns' values (`--ignore-column`), after the others.
    #[serde(skip)]
    pub extra: Vec<String>,
}

impl ResultRecord {
    /// The step the line is about; a first-version line is about the create.
    pub fn step(&self) -> Step {
        self.step.unwrap_or(Step::Create)
    }
}

/// One line of a results file whose header is `header` (the current one or
/// the first version's): the only parser of the format, shared by the results
/// reader and the manifest reader.
pub fn parse_line(
    header: &csv::ByteRecord,
    line: &csv::ByteRecord,
) -> Result<ResultRecord, String> {
    if line.len() != header.len() {
        return Err(format!(
            "expected {} fields, found {}",
            header.len(),
            line.len()
        ));
    }
    let mut rec = line
        .deserialize::<ResultRecord>(Some(header))
        .map_err(|e| e.to_string())?;
    if header.len() > COLUMNS.len() {
        rec.extra = line
            .iter()
            .skip(COLUMNS.len())
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_steps_round_trip_their_names() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for s in Step::ALL {
            assert_eq!(Step::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("code_requested"), Some(Status::CodeRequested));
        assert_eq!(Status::parse("Created"), None);
    }

    #[test]
    fn carried_columns_come_after_the_standard_ones() {
        let extra = vec!["Client".to_string(), "Notes, misc".to_string()];
        let line = header_line(&extra);
        assert!(line.ends_with(",Client,\"Notes, misc\"\n"), "{line}");
        let cells: Vec<&str> = COLUMNS.iter().copied().chain(["Client"]).collect();
        assert_eq!(results_header(&cells), Some(&["Client"][..]));
        assert_eq!(results_header(&COLUMNS[..V1_COLUMNS]), Some(&[][..]));
        assert_eq!(results_header(&["row", "status"]), None);
        let header = csv::ByteRecord::from(cells);
        let mut values = vec![""; COLUMNS.len()];
        values[0] = "1";
        values[9] = "created";
        values[17] = "1";
        values.push("Acme Ltd");
        let rec = parse_line(&header, &csv::ByteRecord::from(values)).unwrap();
        assert_eq!(rec.extra, ["Acme Ltd"]);
    }

    #[test]
    fn a_first_version_line_reads_with_empty_onboarding_fields() {
        let header = csv::ByteRecord::from(COLUMNS[..V1_COLUMNS].to_vec());
        let mut cells = vec![""; V1_COLUMNS];
        cells[0] = "3";
        cells[9] = "created";
        cells[10] = "123";
        cells[17] = "1";
        let line = csv::ByteRecord::from(cells);
        let rec = parse_line(&header, &line).unwrap();
        assert_eq!(
            (rec.row, rec.status, rec.step()),
            (3, Status::Created, Step::Create)
        );
        assert_eq!(rec.register_calls, "");
        let short = csv::ByteRecord::from(vec!["3"; 5]);
        assert!(parse_line(&header, &short).is_err());
    }
}
