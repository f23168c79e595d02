//! `status RESULTS [--results FILE]` (SPEC section 7): read each created
//! number's state from Meta (`GET /{id}?fields=…`) with the same limits,
//! tokens and throttling rules as `run`, and write one CSV line per number:
//! the view an agency checks while display names are in review. Counts by
//! `status` and `name_status` go to stderr.
//!
//! The output is written to `FILE.tmp` and renamed at the end, so a crash or
//! Ctrl-C never leaves half a file under the name asked for.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use tokio::sync::watch;

use super::run::Endpoint;
use crate::audit::AuditLog;
use crate::exit::{Outcome, Refused};
use crate::graph::{ApiVersion, ClientConfig, Credentials, Failure, GraphClient};
use crate::limits::Limits;
use crate::results::{RowResult, Sent};
use crate::runner::tokens::TokenTable;
use crate::runner::{NoCodes, NoProgress, Recorder, Runner};
use crate::send::{Call, Job, Progress, ReadWhy, Rules};
use crate::ui::Output;
use crate::ui::diagnostics::print_validation_as;
use crate::validate::{ValidRow, ValidateOptions, load_and_validate};

/// The CSV's columns (SPEC 7), then the error columns of a number that could
/// not be read.
const COLUMNS: [&str; 17] = [
    "row",
    "source",
    "waba_id",
    "phone_number_id",
    "display_phone_number",
    "verified_name",
    "status",
    "code_verification_status",
    "name_status",
    "quality_rating",
    "platform_type",
    "throughput_level",
    "checked_at",
    "error_code",
    "error_subcode",
    "error_message",
    "fbtrace_id",
];

/// Where calls go and how (as for `run`).
#[derive(Debug, Clone)]
pub struct Connect {
    pub endpoint: Endpoint,
    pub api_version: ApiVersion,
    pub token_env: String,
    pub app_secret_env: Option<String>,
    pub limits: Limits,
    pub audit_log: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The results file whose numbers are read.
    pub input: PathBuf,
    /// Where the CSV goes (stdout when `None`).
    pub results: Option<PathBuf>,
    pub force: bool,
    pub connect: Connect,
    pub output: Output,
}

pub async fn command(config: Config) -> Result<Outcome, Refused> {
    let rows = numbers(&config)?;
    let c = &config.connect;
    let (names, creds, ids) = credentials(c, &rows)?;
    let client = client(c)?;
    let audit = c.audit_log.as_deref().map(AuditLog::open).transpose()?;
    let mut out = Out::open(config.results.as_deref(), config.force)?;
    let jobs: Vec<Job> = rows
        .into_iter()
        .zip(ids)
        .map(|(row, token)| {
            let progress = row_progress(&row);
            Job::new(
                Arc::new(row),
                token,
                Call::ReadNumber(ReadWhy::Status),
                progress,
            )
        })
        .collect();
    let (interrupt_tx, interrupt_rx) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = interrupt_tx.send(true);
        }
    });
    let runner = Runner {
        api: Arc::new(client),
        creds,
        token_names: names,
        pins: Vec::new(),
        codes: Arc::new(NoCodes),
        rules: Rules::new(c.limits.max_attempts),
        limits: c.limits.clone(),
        audit,
        progress_every: Duration::from_millis(250),
        seed: rand::random(),
    };
    let report = runner
        .run(jobs, &mut out, &mut NoProgress, interrupt_rx)
        .await;
    let counts = out.finish()?;
    if !config.output.quiet() {
        eprintln!("{}", counts.text());
    }
    Ok(if report.interrupted || report.aborted.is_some() {
        Outcome::Aborted
    } else if counts.errors > 0 {
        Outcome::Incomplete
    } else {
        Outcome::Done
    })
}

/// Names, credentials and per-row token ids: the tokens the rows use, read
/// once up front, with the app secret's proof.
type Tokens = (Vec<String>, Vec<Credentials>, Vec<crate::send::TokenId>);

fn credentials(c: &Connect, rows: &[ValidRow]) -> Result<Tokens, Refused> {
    let (table, ids) = TokenTable::for_rows(rows.iter(), &c.token_env, None).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        Refused::msg(lines.join("\n"))
    })?;
    let app_secret = match &c.app_secret_env {
        Some(var) => Some(
            crate::secret::AppSecret::from_env(var)
                .map_err(|e| Refused::msg(format!("--app-secret-env: {e}")))?,
        ),
        None => None,
    };
    let creds = table
        .values
        .iter()
        .map(|t| Credentials::new(t.clone(), app_secret.as_ref()))
        .collect();
    Ok((table.names, creds, ids))
}

/// The Graph client, after saying where it reads from.
fn client(c: &Connect) -> Result<GraphClient, Refused> {
    let Endpoint::Graph { url, from } = &c.endpoint else {
        return Err(Refused::msg(
            "status reads from Meta: --sandbox does not apply",
        ));
    };
    eprintln!(
        "waba-provision: reading from {url}/{} (from {from})",
        c.api_version
    );
    Ok(GraphClient::new(ClientConfig {
        graph_url: url.clone(),
        api_version: c.api_version.clone(),
        timeout: c.limits.timeout,
        max_connections: c.limits.concurrency,
    })?)
}

/// The rows of the results file that have a number at Meta.
fn numbers(config: &Config) -> Result<Vec<ValidRow>, Refused> {
    let validation = load_and_validate(&config.input, &ValidateOptions::default())?;
    if !validation.is_results_file() {
        return Err(Refused::msg(format!(
            "{} is not a results file: status reads the numbers a run created (give its --results file)",
            config.input.display()
        )));
    }
    if validation.has_file_errors() {
        print_validation_as(&validation, &config.input, &config.output);
        return Err(Refused::msg("the results file cannot be read"));
    }
    let rows: Vec<ValidRow> = validation
        .rows
        .into_iter()
        .filter_map(|r| match r {
            crate::validate::CheckedRow::Valid(v) => Some(v),
            crate::validate::CheckedRow::Invalid(_) => None,
        })
        .filter(|r| {
            r.prior
                .as_ref()
                .is_some_and(|p| p.phone_number_id.is_some())
        })
        .collect();
    if rows.is_empty() {
        return Err(Refused::msg(format!(
            "{}: no row has a phone_number_id yet: nothing to read",
            config.input.display()
        )));
    }
    Ok(rows)
}

fn row_progress(row: &ValidRow) -> Progress {
    row.prior
        .as_ref()
        .map(|p| Progress::of_line(&p.record))
        .unwrap_or_default()
}

/// The CSV being written, and the counts.
struct Out {
    writer: csv::Writer<Box<dyn Write>>,
    /// `(FILE.tmp, FILE)` when writing a file.
    rename: Option<(PathBuf, PathBuf)>,
    counts: Counts,
}

#[derive(Default)]
struct Counts {
    by_status: BTreeMap<String, usize>,
    by_name_status: BTreeMap<String, usize>,
    errors: usize,
}

impl Counts {
    fn text(&self) -> String {
        let list = |m: &BTreeMap<String, usize>| {
            m.iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut t = format!(
            "status: {}\nname_status: {}",
            list(&self.by_status),
            list(&self.by_name_status)
        );
        if self.errors > 0 {
            t.push_str(&format!(
                "\n{} number(s) could not be read (see the error columns)",
                self.errors
            ));
        }
        t
    }
}

impl Out {
    fn open(path: Option<&Path>, force: bool) -> Result<Out, Refused> {
        let (sink, rename): (Box<dyn Write>, _) = match path {
            None => (Box::new(std::io::stdout()), None),
            Some(p) => {
                if p.exists() && !force {
                    return Err(Refused::msg(format!(
                        "{} already exists: choose another --results FILE, or --force to replace it",
                        p.display()
                    )));
                }
                let mut tmp = p.as_os_str().to_owned();
                tmp.push(".tmp");
                let tmp = PathBuf::from(tmp);
                let file = std::fs::File::create(&tmp)
                    .map_err(|e| Refused::msg(format!("cannot write {}: {e}", tmp.display())))?;
                (
                    Box::new(std::io::BufWriter::new(file)),
                    Some((tmp, p.to_path_buf())),
                )
            }
        };
        let mut writer = csv::Writer::from_writer(sink);
        writer
            .write_record(COLUMNS)
            .map_err(|e| Refused::msg(format!("cannot write the status CSV: {e}")))?;
        Ok(Out {
            writer,
            rename,
            counts: Counts::default(),
        })
    }

    fn finish(mut self) -> Result<Counts, Refused> {
        self.writer
            .flush()
            .map_err(|e| Refused::msg(format!("cannot write the status CSV: {e}")))?;
        drop(self.writer);
        if let Some((tmp, path)) = self.rename {
            std::fs::rename(&tmp, &path)
                .map_err(|e| Refused::msg(format!("cannot write {}: {e}", path.display())))?;
        }
        Ok(self.counts)
    }
}

impl Recorder for Out {
    fn about_to_send(&mut self, _: &[Sent]) -> std::io::Result<()> {
        Ok(())
    }

    fn record(
        &mut self,
        row: &ValidRow,
        _attempts: u32,
        result: &RowResult,
    ) -> std::io::Result<()> {
        let mut line = vec![
            row.id.row.to_string(),
            row.id.source.to_string(),
            row.waba_id.to_string(),
            result.phone_number_id.clone().unwrap_or_default(),
        ];
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        match &result.number {
            Some(n) => {
                let s = |v: &Option<String>| v.clone().unwrap_or_default();
                *self.counts.by_status.entry(s(&n.status)).or_default() += 1;
                *self
                    .counts
                    .by_name_status
                    .entry(s(&n.name_status))
                    .or_default() += 1;
                line.extend([
                    s(&n.display_phone_number),
                    s(&n.verified_name),
                    s(&n.status),
                    s(&n.code_verification_status),
                    s(&n.name_status),
                    s(&n.quality_rating),
                    s(&n.platform_type),
                    s(&n.throughput_level),
                    now,
                ]);
                line.extend(std::iter::repeat_n(String::new(), 4));
            }
            None => {
                self.counts.errors += 1;
                line.extend(std::iter::repeat_n(String::new(), 8));
                line.push(now);
                line.extend(error_cells(result));
            }
        }
        self.writer
            .write_record(&line)
            .map_err(std::io::Error::other)
    }
}

/// `error_code, error_subcode, error_message, fbtrace_id` of a number that
/// could not be read.
fn error_cells(result: &RowResult) -> [String; 4] {
    let (code, subcode, message, trace) = match &result.failure {
        Some(Failure::Graph(g)) => (
            g.code.map(|c| c.to_string()).unwrap_or_default(),
            g.subcode.map(|c| c.to_string()).unwrap_or_default(),
            g.summary(),
            g.fbtrace_id.clone().unwrap_or_default(),
        ),
        Some(other) => (String::new(), String::new(), other.summary(), String::new()),
        None => {
            let why = result
                .note
                .clone()
                .unwrap_or_else(|| result.status.to_string());
            (String::new(), String::new(), why, String::new())
        }
    };
    let message = crate::text::clip_message(&message).into_owned();
    [code, subcode, message, trace]
}
