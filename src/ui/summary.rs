//! The end-of-run summary (SPEC section 6): counts by status, by error code with
//! Meta's message, elapsed time, achieved request rate, the results path. Text
//! for people, JSON (`--summary-json`) for scripts.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::runner::{ErrorCount, RunReport};
use crate::schema::{ResultRecord, Status};
use crate::text::duration;

/// Rows by status, as the results file finally says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub rows: usize,
    pub created: usize,
    pub code_requested: usize,
    pub verified: usize,
    pub registered: usize,
    pub failed: usize,
    pub invalid: usize,
    pub skipped: usize,
}

impl StatusCounts {
    pub fn of(lines: &[ResultRecord]) -> Self {
        let mut c = StatusCounts {
            rows: lines.len(),
            ..Default::default()
        };
        for l in lines {
            match l.status {
                Status::Created => c.created += 1,
                Status::CodeRequested => c.code_requested += 1,
                Status::Verified => c.verified += 1,
                Status::Registered => c.registered += 1,
                Status::Failed => c.failed += 1,
                Status::Invalid => c.invalid += 1,
                Status::Skipped => c.skipped += 1,
            }
        }
        c
    }
}

/// The JSON form.
#[derive(Debug, Serialize)]
pub struct Summary<'a> {
    pub results: String,
    /// Rows of the manifest, including rows kept from an earlier run.
    pub rows: usize,
    pub created: usize,
    pub failed: usize,
    pub invalid: usize,
    pub skipped: usize,
    /// Rows already final in the results file before this run (`--resume`) or copied (`retry`).
    pub kept: usize,
    pub errors: &'a BTreeMap<String, ErrorCount>,
    pub requests: u64,
    pub elapsed_secs: f64,
    pub requests_per_sec: f64,
    pub interrupted: bool,
    pub aborted: Option<&'a str>,
    pub exit_code: u8,
    /// The rest of the run's counts, for the text form.
    #[serde(skip)]
    report: &'a RunReport,
}

impl<'a> Summary<'a> {
    pub fn new(
        report: &'a RunReport,
        results: &Path,
        counts: StatusCounts,
        kept: usize,
        exit_code: u8,
    ) -> Self {
        Summary {
            results: results.display().to_string(),
            rows: counts.rows,
            created: counts.created,
            failed: counts.failed,
            invalid: counts.invalid,
            skipped: counts.skipped,
            kept,
            errors: &report.errors,
            requests: report.requests,
            elapsed_secs: report.elapsed.as_secs_f64(),
            requests_per_sec: report.request_rate(),
            interrupted: report.interrupted,
            aborted: report.aborted.as_deref(),
            exit_code,
            report,
        }
    }

    pub fn to_text(&self) -> String {
        let report = self.report;
        let mut t = String::new();
        let _ = writeln!(
            t,
            "summary: {} rows: {} created, {} failed, {} invalid, {} skipped{}",
            self.rows,
            self.created,
            self.failed,
            self.invalid,
            self.skipped,
            if self.kept > 0 {
                format!(", {} kept from before", self.kept)
            } else {
                String::new()
            }
        );
        for (code, e) in self.errors {
            let _ = writeln!(t, "  {:>5} × code {code}: {}", e.count, e.message);
        }
        let _ = writeln!(
            t,
            "  {} requests in {} ({:.1} req/s){}",
            self.requests,
            duration(report.elapsed),
            self.requests_per_sec,
            if report.retried_rows > 0 {
                format!(", {} row(s) needed retries", report.retried_rows)
            } else {
                String::new()
            }
        );
        if report.reconciled > 0 {
            let _ = writeln!(
                t,
                "  {} row(s) reconciled: an answer was lost (or Meta said \"already exists\") and the number was found on the WABA's list instead of being sent again",
                report.reconciled
            );
        }
        if self.interrupted {
            let _ = writeln!(
                t,
                "  interrupted: run again with --resume to finish the job"
            );
        }
        if let Some(why) = self.aborted {
            let _ = writeln!(t, "  aborted: {why}");
        }
        for e in &report.write_errors {
            let _ = writeln!(t, "  could not record {e}");
        }
        let _ = write!(t, "  results: {}", self.results);
        t
    }
}
