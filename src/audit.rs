//! The audit log (`--audit-log FILE`, `WABA_AUDIT_LOG`): one JSON object per
//! HTTP exchange with Meta (NDJSON), for support tickets and post-mortems —
//! what was sent when, what came back, what the runner made of it.
//!
//! It is a record file like the results file, and kept the same way: each
//! line goes to the kernel in one `write_all` of the whole line, earlier lines
//! are never rewritten, a torn last line left by a crash is cut off when the
//! file is opened again, and fsync happens at most once a second and at close
//! (an audit line is worth less than the run's pace).
//!
//! An [`Entry`] has no field for a token, an `appsecret_proof`, a PIN, a
//! verification code, a query string or a body: what cannot be recorded
//! cannot leak. [`assert_no_secrets`] checks files for it in tests.

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// fsync at most this often while recording.
const SYNC_EVERY: Duration = Duration::from_secs(1);

/// How far back the torn-tail repair reads at a time.
const TAIL_CHUNK: u64 = 64 * 1024;

/// One HTTP exchange. Where each field comes from (the runner fills it in):
/// the request and its timing from the Graph client's per-call record
/// (`graph::Reply`'s exchange metadata); error fields from the parsed Graph
/// error body; usage fields from the response headers (`graph::Hints`); `row`,
/// `step` and `attempt` from the `send::Job`; `outcome` from `send::decide`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// When the request left, RFC 3339 UTC with milliseconds ([`timestamp`]).
    pub sent_at: String,
    /// From sending to the whole answer read (or the transport error).
    pub duration_ms: u64,
    /// The manifest row the call was for.
    pub row: u32,
    /// The call: `create`, `request_code`, `verify_code`, `register`, or a
    /// lookup that settles one (`list_numbers`, `read_number`).
    pub step: String,
    /// 1 for the row's first call of this step.
    pub attempt: u32,
    /// `POST`, `GET`.
    pub method: String,
    /// The URL path only, e.g. `/v25.0/1234/phone_numbers`: a query (which
    /// may hold `appsecret_proof`) is cut off when recorded.
    pub path: String,
    /// `None`: no answer (timeout, connection refused or dropped).
    pub http_status: Option<u16>,
    /// Meta's `error.code`, `error.error_subcode`, `error.type`, `error.fbtrace_id`.
    pub graph_code: Option<i64>,
    pub graph_subcode: Option<i64>,
    pub graph_type: Option<String>,
    pub fbtrace_id: Option<String>,
    /// The `x-fb-request-id` response header.
    pub x_fb_request_id: Option<String>,
    /// The `facebook-api-version` response header: the version that served the call.
    pub api_version: Option<String>,
    /// Highest percentage of `X-Business-Use-Case-Usage` for the WABA.
    pub waba_usage_pct: Option<u32>,
    /// Highest percentage of `X-App-Usage`.
    pub app_usage_pct: Option<u32>,
    /// `estimated_time_to_regain_access`, in seconds.
    pub regain_secs: Option<u64>,
    /// `Retry-After`, in seconds.
    pub retry_after_secs: Option<u64>,
    /// What the runner made of the answer.
    pub outcome: Outcome,
}

/// What the runner decided after one exchange (`send::Verdict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The number exists now (created, or found on the WABA's list by a reconcile).
    Created,
    /// An onboarding step is done (or found done by reading the number).
    Done,
    /// The step is sent again after a backoff.
    Retry,
    /// The answer was lost or said "already exists": the WABA's list is read
    /// (also: the next page of that listing).
    Reconcile,
    /// The WABA is throttled: its rows wait.
    PauseWaba,
    /// The app is throttled: every row waits.
    PauseApp,
    /// The token was refused: every row on it fails.
    TokenRefused,
    /// The row failed for good.
    Failed,
}

/// `t` as the audit log writes times: RFC 3339 UTC with milliseconds.
pub fn timestamp(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Why the audit log could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot open the audit log {}: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot repair the torn last line of the audit log {}: {source}", path.display())]
    Repair { path: PathBuf, source: io::Error },
}

/// The audit log of a run, open for appending.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: File,
    /// Length of the well-formed content: where a failed append is cut back to.
    len: u64,
    /// Reused buffer for serializing one line.
    line: Vec<u8>,
    /// Bytes of a torn last line cut off by `open`.
    repaired: Option<u64>,
    last_sync: Instant,
    /// Lines written since the last fsync.
    dirty: bool,
    /// A failed append could not be cut back: later lines would follow a torn one.
    poisoned: bool,
    syncs: u64,
}

impl AuditLog {
    /// Open `path` for appending, creating it if missing; a torn last line (no
    /// newline at the end, left by a crash) is cut off. Earlier lines, from
    /// earlier runs, stay.
    pub fn open(path: &Path) -> Result<AuditLog, AuditError> {
        let open_err = |source| AuditError::Open {
            path: path.to_path_buf(),
            source,
        };
        let existed = path.try_exists().map_err(open_err)?;
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(open_err)?;
        let len = file.metadata().map_err(open_err)?.len();
        let repair_err = |source| AuditError::Repair {
            path: path.to_path_buf(),
            source,
        };
        let keep = complete_len(&mut file, len, TAIL_CHUNK).map_err(repair_err)?;
        let repaired = (keep < len).then(|| len - keep);
        if repaired.is_some() {
            file.set_len(keep).map_err(repair_err)?;
            file.sync_all().map_err(repair_err)?;
        }
        if !existed {
            // The new name must survive a crash too (as for the results file).
            file.sync_all().map_err(open_err)?;
            sync_dir(path);
        }
        Ok(AuditLog {
            path: path.to_path_buf(),
            file,
            len: keep,
            line: Vec::with_capacity(512),
            repaired,
            last_sync: Instant::now(),
            dirty: false,
            poisoned: false,
            syncs: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of a torn last line that `open` cut off, if any.
    pub fn repaired(&self) -> Option<u64> {
        self.repaired
    }

    /// Append one entry as one line, handed to the OS before returning (a
    /// kill -9 after this loses nothing; power loss at most the last second).
    pub fn record(&mut self, entry: &Entry) -> io::Result<()> {
        self.record_at(entry, Instant::now())
    }

    fn record_at(&mut self, entry: &Entry, now: Instant) -> io::Result<()> {
        if self.poisoned {
            return Err(io::Error::other(format!(
                "{}: an earlier write failed and could not be undone",
                self.path.display()
            )));
        }
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        let path = without_query(&entry.path);
        let written = if path.len() == entry.path.len() {
            serde_json::to_writer(&mut line, entry)
        } else {
            let entry = Entry {
                path: path.to_string(),
                ..entry.clone()
            };
            serde_json::to_writer(&mut line, &entry)
        };
        let result = written.map_err(io::Error::other).and_then(|()| {
            line.push(b'\n');
            self.append(&line)
        });
        // Keep the buffer so its capacity is reused.
        self.line = line;
        result?;
        self.dirty = true;
        if now.saturating_duration_since(self.last_sync) >= SYNC_EVERY {
            self.sync_at(now)?;
        }
        Ok(())
    }

    /// One `write_all` of a whole line; a partial line is cut off again, and if
    /// even that fails every later write is refused.
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self.file.write_all(bytes) {
            Ok(()) => {
                self.len += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                if self.file.set_len(self.len).is_err() {
                    self.poisoned = true;
                }
                Err(e)
            }
        }
    }

    /// fsync now (the runner calls it at the end; `record` every second).
    pub fn sync(&mut self) -> io::Result<()> {
        self.sync_at(Instant::now())
    }

    fn sync_at(&mut self, now: Instant) -> io::Result<()> {
        self.file.sync_data()?;
        self.last_sync = now;
        self.dirty = false;
        self.syncs += 1;
        Ok(())
    }

    /// The final fsync, with its error (dropping the log syncs too, silently).
    pub fn close(mut self) -> io::Result<()> {
        self.sync()
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        if self.dirty {
            let _ = self.file.sync_data();
        }
    }
}

/// The length of `file` up to and including its last newline: what is left
/// once a torn last line is cut off (`len` when the file ends with a newline
/// or is empty). Reads backwards `chunk` bytes at a time, so a long log costs
/// only its tail.
fn complete_len(file: &mut File, len: u64, chunk: u64) -> io::Result<u64> {
    let mut end = len;
    let mut buf = vec![0; chunk as usize];
    while end > 0 {
        let start = end.saturating_sub(chunk);
        let part = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(part)?;
        if let Some(i) = part.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// Make a newly created file's directory entry durable (best effort: some
/// platforms cannot open a directory).
fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A URL path without its query or fragment.
fn without_query(path: &str) -> &str {
    path.split(['?', '#']).next().unwrap_or(path)
}

/// The entries of an audit log's text, in order (tests and tools read it back).
pub fn read_entries(text: &str) -> Result<Vec<Entry>, serde_json::Error> {
    text.lines().map(serde_json::from_str).collect()
}

/// Panic if `text` contains any of `secrets` as written, JSON-escaped or
/// percent-encoded (how a secret would appear in a log line, a body or a
/// URL). The message names the secret's index and the line, never the secret.
/// For tests: the unit tests here, and the end-to-end tests on real files.
pub fn assert_no_secrets(text: &str, secrets: &[&str]) {
    for (i, secret) in secrets.iter().enumerate() {
        assert!(
            !secret.is_empty(),
            "secret #{i} is empty: it is in every text"
        );
        let json = serde_json::to_string(secret).unwrap_or_default();
        let forms = [
            secret.to_string(),
            json.trim_matches('"').to_string(),
            percent_encoded(secret),
        ];
        for (n, line) in text.lines().enumerate() {
            if forms.iter().any(|f| line.contains(f.as_str())) {
                panic!("secret #{i} leaked on line {}", n + 1);
            }
        }
    }
}

/// Every byte but the unreserved ones (RFC 3986) as `%XX`.
fn percent_encoded(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(row: u32, outcome: Outcome) -> Entry {
        Entry {
            sent_at: timestamp(SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)),
            duration_ms: 42,
            row,
            step: "create".into(),
            attempt: 1,
            method: "POST".into(),
            path: "/v25.0/1234/phone_numbers".into(),
            http_status: Some(400),
            graph_code: Some(80008),
            graph_subcode: Some(2494055),
            graph_type: Some("OAuthException".into()),
            fbtrace_id: Some("AbCdEf123".into()),
            x_fb_request_id: Some("req-1".into()),
            api_version: Some("v25.0".into()),
            waba_usage_pct: Some(100),
            app_usage_pct: Some(12),
            regain_secs: Some(300),
            retry_after_secs: None,
            outcome,
        }
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn entries_round_trip_one_json_object_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.ndjson");
        let written = [entry(1, Outcome::PauseWaba), entry(2, Outcome::Created)];
        let mut log = AuditLog::open(&path).unwrap();
        for e in &written {
            log.record(e).unwrap();
        }
        log.close().unwrap();
        let text = read(&path);
        assert_eq!(text.lines().count(), 2);
        assert!(text.ends_with('\n'));
        assert_eq!(read_entries(&text).unwrap(), written);
        // The field names and values a reader greps for.
        let first = text.lines().next().unwrap();
        assert!(
            first.starts_with(
                r#"{"sent_at":"2023-11-14T22:13:20.123Z","duration_ms":42,"row":1,"step":"create""#
            ),
            "{first}"
        );
        assert!(first.contains(r#""outcome":"pause_waba""#), "{first}");
        assert!(first.contains(r#""retry_after_secs":null"#), "{first}");
    }

    #[test]
    fn reopening_appends_after_earlier_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.ndjson");
        AuditLog::open(&path)
            .unwrap()
            .record(&entry(1, Outcome::Retry))
            .unwrap();
        let mut log = AuditLog::open(&path).unwrap();
        assert_eq!(log.repaired(), None);
        log.record(&entry(1, Outcome::Created)).unwrap();
        drop(log);
        let rows: Vec<Outcome> = read_entries(&read(&path))
            .unwrap()
            .iter()
            .map(|e| e.outcome)
            .collect();
        assert_eq!(rows, [Outcome::Retry, Outcome::Created]);
    }

    #[test]
    fn a_torn_last_line_is_cut_off_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.ndjson");
        let mut log = AuditLog::open(&path).unwrap();
        log.record(&entry(1, Outcome::Created)).unwrap();
        drop(log);
        let good = read(&path);
        // A crash in the middle of the second line's write.
        let torn = r#"{"sent_at":"2023-11-14T22:13:21.000Z","duration_ms":7,"ro"#;
        std::fs::write(&path, format!("{good}{torn}")).unwrap();

        let mut log = AuditLog::open(&path).unwrap();
        assert_eq!(log.repaired(), Some(torn.len() as u64));
        log.record(&entry(2, Outcome::Failed)).unwrap();
        drop(log);
        let entries = read_entries(&read(&path)).unwrap();
        assert_eq!(entries.iter().map(|e| e.row).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn a_file_of_one_torn_line_is_emptied() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.ndjson");
        std::fs::write(&path, "{\"sent_at\":").unwrap();
        let log = AuditLog::open(&path).unwrap();
        assert_eq!(log.repaired(), Some(11));
        assert_eq!(read(&path), "");
    }

    #[test]
    fn the_tail_is_found_across_read_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t");
        std::fs::write(&path, "ab\ncdefghij-torn-past-several-chunks").unwrap();
        let mut f = File::open(&path).unwrap();
        let len = f.metadata().unwrap().len();
        for chunk in [1, 3, 4, 64] {
            assert_eq!(
                complete_len(&mut f, len, chunk).unwrap(),
                3,
                "chunk {chunk}"
            );
        }
        assert_eq!(complete_len(&mut f, 3, 2).unwrap(), 3);
        assert_eq!(complete_len(&mut f, 0, 2).unwrap(), 0);
    }

    #[test]
    fn fsync_at_most_once_a_second() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = AuditLog::open(&dir.path().join("a")).unwrap();
        let t0 = log.last_sync;
        let e = entry(1, Outcome::Created);
        log.record_at(&e, t0 + Duration::from_millis(10)).unwrap();
        log.record_at(&e, t0 + Duration::from_millis(900)).unwrap();
        assert_eq!(log.syncs, 0);
        assert!(log.dirty);
        log.record_at(&e, t0 + Duration::from_millis(1000)).unwrap();
        assert_eq!(log.syncs, 1);
        log.record_at(&e, t0 + Duration::from_millis(1500)).unwrap();
        assert_eq!(log.syncs, 1);
        log.record_at(&e, t0 + Duration::from_millis(2100)).unwrap();
        assert_eq!(log.syncs, 2);
        assert!(!log.dirty);
    }

    #[test]
    fn a_query_never_reaches_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.ndjson");
        let proof = "3f1c0ffee";
        let mut e = entry(1, Outcome::Reconcile);
        e.method = "GET".into();
        e.path = format!("/v25.0/1234/phone_numbers?appsecret_proof={proof}&after=QVFI#x");
        let mut log = AuditLog::open(&path).unwrap();
        log.record(&e).unwrap();
        drop(log);
        let text = read(&path);
        assert_no_secrets(&text, &[proof, "QVFI"]);
        assert_eq!(
            read_entries(&text).unwrap()[0].path,
            "/v25.0/1234/phone_numbers"
        );
    }

    #[test]
    fn a_directory_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let err = AuditLog::open(dir.path()).unwrap_err();
        assert!(matches!(err, AuditError::Open { .. }), "{err:?}");
        assert!(
            err.to_string().contains(&dir.path().display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn the_leak_check_finds_every_form_of_a_secret() {
        let secret = "tok en/+\"x";
        assert_no_secrets("nothing here\n", &[secret]);
        for text in [
            "a\nBearer tok en/+\"x\n".to_string(),
            format!("{{\"m\":{}}}", serde_json::to_string(secret).unwrap()),
            "GET /x?access_token=tok%20en%2F%2B%22x".to_string(),
        ] {
            let caught = std::panic::catch_unwind(|| assert_no_secrets(&text, &["other", secret]));
            let message = *caught.expect_err(&text).downcast::<String>().unwrap();
            assert!(
                message.starts_with("secret #1 leaked on line "),
                "{message}"
            );
            assert!(
                !message.contains("tok"),
                "the message must not repeat the secret"
            );
        }
    }
}
