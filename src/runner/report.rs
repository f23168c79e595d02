//! What a run did, counted as rows finish: the source of the end summary.

use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

use crate::graph::Failure;
use crate::results::RowResult;
use crate::schema::Status;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorCount {
    pub count: usize,
    pub code: Option<i64>,
    pub subcode: Option<i64>,
    /// One of Meta's messages for this code (the first seen).
    pub message: String,
    /// Rows among them that were never sent (another row met the error).
    pub not_sent: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub total: usize,
    pub created: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Rows that needed more than one attempt.
    pub retried_rows: usize,
    /// Rows found done after a lost answer or an "already exists" (on the
    /// WABA's list, or by reading the number).
    pub reconciled: usize,
    /// Of the rows created, those that already existed before this run.
    pub existed: usize,
    /// Rows never sent, by why (a refused token, a stopped WABA).
    pub not_sent: BTreeMap<String, usize>,
    /// HTTP requests sent (creates and listings).
    pub requests: u64,
    /// Failed rows by error code (`190`, `100/2388012`, `network`, `HTTP 503`).
    pub errors: BTreeMap<String, ErrorCount>,
    #[serde(serialize_with = "secs")]
    pub elapsed: Duration,
    pub interrupted: bool,
    /// Why the run aborted, if it did (exit 3).
    pub aborted: Option<String>,
    /// Results lines that could not be written, and the first error.
    pub write_failures: usize,
    pub first_write_error: Option<String>,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl RunReport {
    pub fn new(total: usize) -> Self {
        RunReport {
            total,
            created: 0,
            failed: 0,
            skipped: 0,
            retried_rows: 0,
            reconciled: 0,
            existed: 0,
            not_sent: BTreeMap::new(),
            requests: 0,
            errors: BTreeMap::new(),
            elapsed: Duration::ZERO,
            interrupted: false,
            aborted: None,
            write_failures: 0,
            first_write_error: None,
        }
    }

    pub(super) fn count(&mut self, result: &RowResult, attempts: u32) {
        if attempts > 1 {
            self.retried_rows += 1;
        }
        if result.reconciled {
            self.reconciled += 1;
        }
        if result.existed {
            self.existed += 1;
        }
        match result.status {
            Status::Skipped => self.skipped += 1,
            Status::Failed => {
                self.failed += 1;
                let (key, code, subcode, message) = match &result.failure {
                    Some(f) => error_key(f),
                    None => (
                        format!("{} refused", result.step),
                        None,
                        None,
                        String::new(),
                    ),
                };
                let e = self.errors.entry(key).or_insert(ErrorCount {
                    count: 0,
                    code,
                    subcode,
                    message: message.clone(),
                    not_sent: 0,
                });
                e.count += 1;
                if !result.sent {
                    e.not_sent += 1;
                    let why = result.note.clone().unwrap_or(message);
                    *self.not_sent.entry(why).or_default() += 1;
                }
            }
            _ => self.created += 1,
        }
    }

    /// A line that could not be written.
    pub(super) fn write_failed(&mut self, row: u32, e: &std::io::Error) {
        self.write_failures += 1;
        self.first_write_error
            .get_or_insert_with(|| format!("row {row}: {e}"));
    }

    /// Requests per second over the run.
    pub fn request_rate(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.requests as f64 / s
        } else {
            0.0
        }
    }
}

/// `190`, `100/2388012`, `HTTP 503`, `network`; the code, subcode and a message.
fn error_key(f: &Failure) -> (String, Option<i64>, Option<i64>, String) {
    match f {
        Failure::Graph(g) => {
            let key = match (g.code, g.subcode, g.http_status) {
                (Some(c), Some(s), _) => format!("{c}/{s}"),
                (Some(c), None, _) => c.to_string(),
                (None, _, Some(h)) => format!("HTTP {h}"),
                (None, _, None) => "unknown".to_string(),
            };
            (key, g.code, g.subcode, g.summary())
        }
        Failure::Network { message, .. } => ("network".to_string(), None, None, message.clone()),
        Failure::Unreachable { message } => {
            ("unreachable".to_string(), None, None, message.clone())
        }
    }
}
