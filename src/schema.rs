//! The results CSV's vocabulary (SPEC section 3): its columns in order, the
//! statuses, and one line as a record. A leaf shared by the results writer and
//! reader, the manifest reader (a results file is also a manifest) and the
//! summary; the constructors that fill a line from a row are in `results`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The results columns, in the order SPEC section 3 fixes.
pub const COLUMNS: [&str; 19] = [
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
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Failed,
    Invalid,
    Skipped,
}

impl Status {
    /// Final statuses are kept by `--resume`; `skipped` rows are attempted again.
    pub fn is_final(self) -> bool {
        !matches!(self, Status::Skipped)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Failed => "failed",
            Status::Invalid => "invalid",
            Status::Skipped => "skipped",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One results line. Field order = [`COLUMNS`] (serde writes them in this order).
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
}
