//! The end-of-run summary (SPEC section 6): counts by status, by error code with
//! Meta's message, elapsed time, achieved request rate, the results path. Text
//! for people, JSON (`--summary-json`) for scripts.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::advice;
use crate::results::Tally;
use crate::runner::RunReport;
use crate::schema::Status;
use crate::text::{clip_message, duration, plural};

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
    pub fn of(lines: &[Tally]) -> Self {
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

/// One error code's rows, with what to do.
#[derive(Debug, Serialize)]
pub struct ErrorLine {
    /// `190`, `100/2388012`, `HTTP 503`, `network`.
    pub code: String,
    pub count: usize,
    /// Rows among them never sent (another row met the error).
    pub not_sent: usize,
    pub message: String,
    pub advice: Option<&'static str>,
    /// Meta's page the advice rests on.
    pub source: Option<&'static str>,
}

/// The end of a run, as text for people and as JSON (`--summary-json`).
#[derive(Debug, Serialize)]
pub struct Summary {
    pub results: String,
    /// Rows of the manifest, every one of them, whether or not its line
    /// reached the file.
    pub rows: usize,
    pub created: usize,
    pub code_requested: usize,
    pub verified: usize,
    pub registered: usize,
    pub failed: usize,
    pub invalid: usize,
    pub skipped: usize,
    /// Rows already final in the results file before this run (`--resume`)
    /// or copied unchanged (`retry`).
    pub kept: usize,
    /// Numbers that were already on their WABA (found, not created now).
    pub already_existed: usize,
    /// Rows settled by a lookup after a lost answer or "already exists".
    pub reconciled: usize,
    pub errors: Vec<ErrorLine>,
    /// Rows never sent, by why.
    pub not_sent: BTreeMap<String, usize>,
    /// Rows whose line could not be written (disk full...), and the first error.
    pub unrecorded: usize,
    pub write_error: Option<String>,
    pub requests: u64,
    pub elapsed_secs: f64,
    pub requests_per_sec: f64,
    pub retried_rows: usize,
    pub interrupted: bool,
    pub aborted: Option<String>,
    pub exit_code: u8,
    /// The command that carries the job on, when there is one.
    pub next: Option<String>,
}

/// What the summary is made from.
pub struct Ending<'a> {
    pub report: &'a RunReport,
    pub results: &'a Path,
    /// The line that counts per row, read back from the file.
    pub counts: StatusCounts,
    /// Rows of the manifest.
    pub manifest_rows: usize,
    pub kept: usize,
    pub exit_code: u8,
    /// `--through`, as typed (`create`, `request-code`, `register`).
    pub through: &'a str,
    /// The run was a `--resume` of `results` (the next command says so).
    pub resumable: bool,
}

impl Summary {
    pub fn new(e: &Ending<'_>) -> Self {
        let r = e.report;
        let c = e.counts;
        let results = e.results.display().to_string();
        let errors = r
            .errors
            .iter()
            .map(|(code, ec)| {
                let advice = ec
                    .code
                    .and_then(|c| advice::for_code(c, ec.subcode))
                    .or_else(|| {
                        (ec.message.contains("in doubt")
                            || ec.message.contains("may have succeeded"))
                        .then_some(advice::IN_DOUBT)
                    });
                ErrorLine {
                    code: code.clone(),
                    count: ec.count,
                    not_sent: ec.not_sent,
                    message: clip_message(&ec.message).into_owned(),
                    advice: advice.map(|a| a.text),
                    source: advice.map(|a| a.source),
                }
            })
            .collect();
        let unrecorded = e.manifest_rows.saturating_sub(c.rows).max(r.write_failures);
        let next = next_command(e, &c, unrecorded);
        Summary {
            results,
            rows: e.manifest_rows.max(c.rows),
            created: c.created,
            code_requested: c.code_requested,
            verified: c.verified,
            registered: c.registered,
            failed: c.failed,
            invalid: c.invalid,
            skipped: c.skipped,
            kept: e.kept,
            already_existed: r.existed,
            reconciled: r.reconciled,
            errors,
            not_sent: r.not_sent.clone(),
            unrecorded,
            write_error: r.first_write_error.clone(),
            requests: r.requests,
            elapsed_secs: r.elapsed.as_secs_f64(),
            requests_per_sec: r.request_rate(),
            retried_rows: r.retried_rows,
            interrupted: r.interrupted,
            aborted: r.aborted.clone(),
            exit_code: e.exit_code,
            next,
        }
    }

    /// "280 created (20 already on their WABA), 3 registered, 10 failed…".
    fn counts(&self) -> String {
        let mut parts = vec![format!("{} created", self.created)];
        if self.already_existed > 0 {
            parts[0].push_str(&format!(
                " ({} already on their WABA)",
                self.already_existed
            ));
        }
        for (n, what) in [
            (self.code_requested, "waiting for a code"),
            (self.verified, "verified"),
            (self.registered, "registered"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        parts.push(format!("{} failed", self.failed));
        parts.push(format!("{} invalid", self.invalid));
        parts.push(format!("{} skipped", self.skipped));
        if self.kept > 0 {
            parts.push(format!("{} kept from before", self.kept));
        }
        parts.join(", ")
    }

    pub fn to_text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(t, "summary: {} rows: {}", self.rows, self.counts());
        for e in &self.errors {
            let not_sent = if e.not_sent > 0 {
                format!(" ({} not sent)", e.not_sent)
            } else {
                String::new()
            };
            let _ = writeln!(
                t,
                "  {:>5} × code {}{not_sent}: {}",
                e.count, e.code, e.message
            );
            if let (Some(advice), Some(source)) = (e.advice, e.source) {
                let _ = writeln!(t, "          what to do: {advice} [{source}]");
            }
        }
        for (why, n) in &self.not_sent {
            let _ = writeln!(t, "  not sent: {n} row{}: {why}", plural(*n));
        }
        let _ = writeln!(
            t,
            "  {} requests in {} ({:.1} req/s){}",
            self.requests,
            duration(std::time::Duration::from_secs_f64(self.elapsed_secs)),
            self.requests_per_sec,
            if self.retried_rows > 0 {
                format!(", {} row(s) needed retries", self.retried_rows)
            } else {
                String::new()
            }
        );
        if self.reconciled > 0 {
            let _ = writeln!(
                t,
                "  {} row(s) reconciled: an answer was lost (or Meta said \"already exists\") and the number was looked up instead of being sent again",
                self.reconciled
            );
        }
        if self.code_requested > 0 {
            let _ = writeln!(
                t,
                "  {} row(s) wait for their verification code: put the codes in a CSV (code, phone_number_id) and continue with --codes FILE",
                self.code_requested
            );
        }
        if self.unrecorded > 0 {
            let first = self
                .write_error
                .as_deref()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default();
            let _ = writeln!(
                t,
                "  {} row(s) could not be recorded in the results file{first}: free space (or fix the file's permissions), then run the same command again with --resume; the journal knows what may have been sent",
                self.unrecorded
            );
        }
        if self.interrupted {
            let _ = writeln!(
                t,
                "  interrupted: run again with --resume to finish the job"
            );
        }
        if let Some(why) = &self.aborted {
            let _ = writeln!(t, "  aborted: {why}");
        }
        if let Some(next) = &self.next {
            let _ = writeln!(t, "  next: {next}");
        }
        let _ = write!(t, "  results: {}", self.results);
        t
    }
}

/// The command that carries the job on: `--resume` of the same file after an
/// interruption or a write failure; `retry` of the results file when rows did
/// not get as far as asked.
fn next_command(e: &Ending<'_>, c: &StatusCounts, unrecorded: usize) -> Option<String> {
    let r = e.report;
    let path = e.results.display().to_string();
    if r.interrupted || unrecorded > 0 || r.aborted.is_some() && r.skipped > 0 {
        return Some(format!("the same command with --resume (results: {path})"));
    }
    if e.exit_code != 1 {
        return None;
    }
    let retry_path = retry_name(e.results);
    let codes = if c.code_requested > 0 {
        " --codes CODES.csv"
    } else {
        ""
    };
    let through = if e.through == "create" {
        String::new()
    } else {
        format!(" --through {}", e.through)
    };
    let _ = e.resumable;
    Some(format!(
        "waba-provision retry {path} --results {retry_path}{through}{codes}"
    ))
}

/// `results.csv` → `results-retry.csv`.
fn retry_name(results: &Path) -> String {
    let stem = results
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("results");
    let ext = results
        .extension()
        .and_then(|s| s.to_str())
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    results
        .with_file_name(format!("{stem}-retry{ext}"))
        .display()
        .to_string()
}

/// The summary on one line, for `--quiet`: the counts, how the run ended, and
/// the results path.
pub fn one_line(s: &Summary) -> String {
    let ended = match (s.interrupted, &s.aborted) {
        (_, Some(why)) => format!("; aborted: {why}"),
        (true, None) => "; interrupted (run again with --resume)".to_string(),
        (false, None) => String::new(),
    };
    format!(
        "summary: {} rows: {}{ended}; results: {}",
        s.rows,
        s.counts(),
        s.results
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

    fn ending<'a>(report: &'a RunReport, counts: StatusCounts, exit_code: u8) -> Ending<'a> {
        Ending {
            report,
            results: Path::new("out.csv"),
            counts,
            manifest_rows: counts.rows,
            kept: 1,
            exit_code,
            through: "create",
            resumable: false,
        }
    }

    fn counts(created: usize, failed: usize, skipped: usize) -> StatusCounts {
        StatusCounts {
            rows: created + failed + skipped,
            created,
            failed,
            skipped,
            ..StatusCounts::default()
        }
    }

    #[test]
    fn one_line_has_the_counts_the_end_and_the_path() {
        let mut report = RunReport::new(4);
        let s = Summary::new(&ending(&report, counts(2, 1, 1), 1));
        let line = one_line(&s);
        assert_eq!(
            line,
            "summary: 4 rows: 2 created, 1 failed, 0 invalid, 1 skipped, 1 kept from before; results: out.csv"
        );
        assert!(!line.contains('\n'));

        report.aborted = Some("every token was refused".into());
        let s = Summary::new(&ending(&report, counts(2, 1, 1), 3));
        assert!(
            one_line(&s).contains("; aborted: every token was refused; results: out.csv"),
            "{}",
            one_line(&s)
        );
    }

    #[test]
    fn every_manifest_row_is_counted_and_unrecorded_ones_in_one_line() {
        let mut report = RunReport::new(2000);
        report.write_failures = 1517;
        report.first_write_error = Some("row 484: No space left on device".into());
        report.aborted = Some("not attempted: the results file cannot be written".into());
        let mut e = ending(&report, counts(483, 0, 0), 3);
        e.manifest_rows = 2000;
        let s = Summary::new(&e);
        assert_eq!((s.rows, s.unrecorded), (2000, 1517));
        let text = s.to_text();
        assert!(text.starts_with("summary: 2000 rows:"), "{text}");
        let mentions: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("could not be recorded"))
            .collect();
        assert_eq!(mentions.len(), 1, "{text}");
        assert!(
            mentions[0].contains("1517 row(s)") && mentions[0].contains("--resume"),
            "{text}"
        );
        assert!(mentions[0].contains("free space"), "{text}");
    }

    #[test]
    fn failures_come_with_advice_and_not_sent_rows_are_explained() {
        let mut report = RunReport::new(5);
        report.errors.insert(
            "190".into(),
            crate::runner::ErrorCount {
                count: 3,
                code: Some(190),
                subcode: None,
                message: "(#190) Error validating access token".into(),
                not_sent: 2,
            },
        );
        report
            .not_sent
            .insert("the token in CLIENT_A_TOKEN was refused".into(), 2);
        let s = Summary::new(&ending(&report, counts(2, 3, 0), 1));
        let text = s.to_text();
        assert!(text.contains("3 × code 190 (2 not sent)"), "{text}");
        assert!(
            text.contains("what to do: the access token was refused"),
            "{text}"
        );
        assert!(
            text.contains("not sent: 2 rows: the token in CLIENT_A_TOKEN was refused"),
            "{text}"
        );
        assert_eq!(
            s.next.as_deref(),
            Some("waba-provision retry out.csv --results out-retry.csv")
        );
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(
            json["errors"][0]["advice"]
                .as_str()
                .map(|a| a.contains("token")),
            Some(true)
        );
    }

    #[test]
    fn rows_already_on_their_waba_are_counted_apart() {
        let mut report = RunReport::new(300);
        report.existed = 20;
        let s = Summary::new(&ending(&report, counts(300, 0, 0), 0));
        assert!(
            s.to_text()
                .contains("300 created (20 already on their WABA)")
        );
        assert_eq!(s.next, None);
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
