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
    /// One of Meta's messages for this code (the first seen).
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub total: usize,
    pub created: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Rows that needed more than one attempt.
    pub retried_rows: usize,
    /// Rows found on the WABA's list after a lost or "already exists" answer.
    pub reconciled: usize,
    /// HTTP requests sent (creates and listings).
    pub requests: u64,
    /// Failed rows by error code (`190`, `100/2388012`, `network`, `HTTP 503`).
    pub errors: BTreeMap<String, ErrorCount>,
    #[serde(serialize_with = "secs")]
    pub elapsed: Duration,
    pub interrupted: bool,
    /// Why the run aborted, if it did (exit 3).
    pub aborted: Option<String>,
    /// Results lines that could not be written.
    pub write_errors: Vec<String>,
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
            requests: 0,
            errors: BTreeMap::new(),
            elapsed: Duration::ZERO,
            interrupted: false,
            aborted: None,
            write_errors: Vec::new(),
        }
    }

    pub(super) fn count(&mut self, result: &RowResult, attempts: u32) {
        if attempts > 1 {
            self.retried_rows += 1;
        }
        if result.reconciled {
            self.reconciled += 1;
        }
        match (result.status, &result.failure) {
            (Status::Skipped, _) => self.skipped += 1,
            (Status::Failed, failure) => {
                self.failed += 1;
                let (key, message) = failure
                    .as_ref()
                    .map_or_else(|| ("unknown".to_string(), String::new()), error_key);
                self.errors
                    .entry(key)
                    .or_insert(ErrorCount { count: 0, message })
                    .count += 1;
            }
            (_, _) => self.created += 1,
        }
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

fn error_key(f: &Failure) -> (String, String) {
    match f {
        Failure::Graph(g) => {
            let key = match (g.code, g.subcode, g.http_status) {
                (Some(c), Some(s), _) => format!("{c}/{s}"),
                (Some(c), None, _) => c.to_string(),
                (None, _, Some(h)) => format!("HTTP {h}"),
                (None, _, None) => "unknown".to_string(),
            };
            (key, g.message.clone())
        }
        Failure::Network { message, .. } => ("network".to_string(), message.clone()),
    }
}
