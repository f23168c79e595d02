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

/// The summary on one line, for `--quiet`: the counts, how the run ended, and
/// the results path.
pub fn one_line(s: &Summary) -> String {
    let kept = if s.kept > 0 {
        format!(", {} kept from before", s.kept)
    } else {
        String::new()
    };
    let ended = match (s.interrupted, s.aborted) {
        (_, Some(why)) => format!("; aborted: {why}"),
        (true, None) => "; interrupted (run again with --resume)".to_string(),
        (false, None) => String::new(),
    };
    format!(
        "summary: {} rows: {} created, {} failed, {} invalid, {} skipped{kept}{ended}; results: {}",
        s.rows, s.created, s.failed, s.invalid, s.skipped, s.results
    )
}

/// Rows per WABA and status, for `--verbose`: one line per WABA (sorted by id)
/// from each row's `(waba_id, status)` as the results file finally says. The
/// onboarding statuses get a column only when some row has them.
pub fn per_waba_table<'a>(rows: impl IntoIterator<Item = (&'a str, Status)>) -> String {
    let mut by_waba: BTreeMap<&str, StatusCounts> = BTreeMap::new();
    for (waba, status) in rows {
        let c = by_waba.entry(waba).or_default();
        c.rows += 1;
        *match status {
            Status::Created => &mut c.created,
            Status::CodeRequested => &mut c.code_requested,
            Status::Verified => &mut c.verified,
            Status::Registered => &mut c.registered,
            Status::Failed => &mut c.failed,
            Status::Invalid => &mut c.invalid,
            Status::Skipped => &mut c.skipped,
        } += 1;
    }
    type Column = (&'static str, fn(&StatusCounts) -> usize);
    let all: [Column; 8] = [
        ("rows", |c| c.rows),
        ("created", |c| c.created),
        ("code_requested", |c| c.code_requested),
        ("verified", |c| c.verified),
        ("registered", |c| c.registered),
        ("failed", |c| c.failed),
        ("invalid", |c| c.invalid),
        ("skipped", |c| c.skipped),
    ];
    let onboarding = ["code_requested", "verified", "registered"];
    let columns: Vec<&Column> = all
        .iter()
        .filter(|(name, get)| !onboarding.contains(name) || by_waba.values().any(|c| get(c) > 0))
        .collect();
    let id_width = by_waba.keys().map(|w| w.len()).max().unwrap_or(0).max(4);
    let mut t = String::new();
    let _ = write!(t, "{:<id_width$}", "WABA");
    for (name, _) in &columns {
        let _ = write!(t, "  {name:>7}");
    }
    for (waba, c) in &by_waba {
        let _ = write!(t, "\n{waba:<id_width$}");
        for (name, get) in &columns {
            let _ = write!(t, "  {:>w$}", get(c), w = name.len().max(7));
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::RunReport;

    #[test]
    fn one_line_has_the_counts_the_end_and_the_path() {
        let mut report = RunReport::new(4);
        let counts = StatusCounts {
            rows: 4,
            created: 2,
            failed: 1,
            skipped: 1,
            ..StatusCounts::default()
        };
        let s = Summary::new(&report, Path::new("out.csv"), counts, 1, 1);
        let line = one_line(&s);
        assert_eq!(
            line,
            "summary: 4 rows: 2 created, 1 failed, 0 invalid, 1 skipped, 1 kept from before; results: out.csv"
        );
        assert!(!line.contains('\n'));

        report.aborted = Some("every token was refused".into());
        let s = Summary::new(&report, Path::new("out.csv"), counts, 0, 3);
        assert!(
            one_line(&s).contains("; aborted: every token was refused; results: out.csv"),
            "{}",
            one_line(&s)
        );
    }

    #[test]
    fn per_waba_table_counts_each_waba_in_id_order() {
        let rows = [
            ("222", Status::Created),
            ("111", Status::Failed),
            ("222", Status::Created),
            ("111", Status::Created),
            ("222", Status::Skipped),
        ];
        let table = per_waba_table(rows);
        let lines: Vec<Vec<&str>> = table
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            lines,
            [
                vec!["WABA", "rows", "created", "failed", "invalid", "skipped"],
                vec!["111", "2", "1", "1", "0", "0"],
                vec!["222", "3", "2", "0", "0", "1"],
            ]
        );
        // Columns line up: every line is as wide as the header.
        let widths: Vec<usize> = table.lines().map(str::len).collect();
        assert!(widths.iter().all(|w| *w == widths[0]), "{table}");
    }

    #[test]
    fn per_waba_table_shows_onboarding_columns_only_when_used() {
        let table = per_waba_table([("1", Status::Registered), ("1", Status::Created)]);
        let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(
            header,
            [
                "WABA",
                "rows",
                "created",
                "registered",
                "failed",
                "invalid",
                "skipped"
            ]
        );
        // No rows: the header alone.
        assert_eq!(per_waba_table([]).lines().count(), 1);
    }
}
