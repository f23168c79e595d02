//! What a run has left to do, per row (SPEC sections 3, 4, 7): from the line
//! the results file being resumed has for it (`--resume`), else the line of
//! the results file being retried (`retry`), else from scratch; and from the
//! journal, which says what may have reached Meta since the line.
//!
//! A row final in the file being resumed is kept (never sent again); a row
//! that has reached `--through` (or can go no further) in the file being
//! retried is copied unchanged; a call the journal says went out without a
//! line after it is in doubt: settled by a lookup before anything is re-sent
//! (a request_code, which cannot be looked up, counts as done).

use std::sync::Arc;

use super::CodeSource;
use crate::results::{JournalEntry, Past};
use crate::schema::{ResultRecord, Status, Step};
use crate::send::{
    Call, Job, PinId, Progress, ReadWhy, ReconcileWhy, Rules, TokenId, initial_call,
};
use crate::validate::ValidRow;

#[derive(Debug, thiserror::Error)]
#[error(
    "the results file does not belong to this manifest: row {row} is {theirs} there but {ours} here; \
     use another --results FILE, or --force to set it aside"
)]
pub struct Mismatch {
    pub row: u32,
    pub theirs: String,
    pub ours: String,
}

fn key(waba: &str, cc: &str, national: &str) -> String {
    format!("WABA {waba} +{cc} {national}")
}

/// A row about to enter the run.
#[derive(Debug)]
pub struct Row {
    /// Shared with its job: a row is held once, however many steps it takes.
    pub row: Arc<ValidRow>,
    /// Its line in the results file being retried (boxed: most rows of a
    /// big run have none, and a line is 0.5 kB).
    pub prior: Option<Box<ResultRecord>>,
    pub token: TokenId,
    pub pin: Option<PinId>,
}

/// What a run still has to do: the counts and lines known up front, and the
/// jobs, made one by one as the runner queues them (a million rows are never
/// held twice, as rows and as jobs).
pub struct Start<'a> {
    /// Rows already final in the results file being resumed: neither sent nor
    /// written again.
    pub kept: usize,
    /// Lines of the file being retried for rows with nothing to do: written
    /// unchanged.
    pub copy: Vec<ResultRecord>,
    /// How many jobs [`Start::jobs`] yields, and the tokens they use.
    pub job_count: usize,
    pub tokens_used: std::collections::BTreeSet<TokenId>,
    pub jobs: Jobs<'a>,
}

/// The jobs of a [`Start`], made as they are taken.
pub struct Jobs<'a> {
    rows: std::vec::IntoIter<Row>,
    past: &'a Past,
    rules: &'a Rules,
    codes: &'a dyn CodeSource,
}

impl Iterator for Jobs<'_> {
    type Item = Job;
    fn next(&mut self) -> Option<Job> {
        for row in self.rows.by_ref() {
            // Identity was checked when the Start was made.
            if let Ok(Decision::Job(call, progress)) =
                decide(&row, self.past, self.rules, self.codes)
            {
                let mut job = Job::new(row.row, row.token, call, progress);
                job.pin = row.pin;
                return Some(job);
            }
        }
        None
    }
}

/// What becomes of one row in this run.
enum Decision {
    /// Final in the file being resumed.
    Kept,
    /// Nothing to do: its line in the file being retried is copied.
    Copy,
    Job(Call, Progress),
}

/// Whether a line of the file being resumed ends the row for this run.
fn is_final(line: &ResultRecord, rules: &Rules) -> bool {
    match line.status {
        Status::Failed | Status::Invalid => true,
        Status::Skipped => false,
        s => rules.through.reached(s),
    }
}

/// The order of the steps, to tell which journal lines came after a line.
fn rank(step: Step) -> u8 {
    match step {
        Step::Create => 0,
        Step::RequestCode => 1,
        Step::VerifyCode => 2,
        Step::Register => 3,
    }
}

/// The step that got a row to its progress status (`None`: not created).
fn done_step(status: Option<Status>) -> Option<Step> {
    Some(match status? {
        Status::CodeRequested => Step::RequestCode,
        Status::Verified => Step::VerifyCode,
        Status::Registered => Step::Register,
        _ => Step::Create,
    })
}

/// Calls the journal says went out after the row's progress: the register
/// calls join its history; the latest step beyond its progress is in doubt.
fn in_doubt(progress: &mut Progress, journal: Option<&Vec<JournalEntry>>) -> Option<Step> {
    let journal = journal?;
    let done = done_step(progress.status).map(rank);
    let mut doubt = None;
    for entry in journal {
        if entry.step == Step::Register {
            let second = entry.at.timestamp();
            if !progress
                .register_calls
                .iter()
                .any(|t| t.timestamp() == second)
            {
                progress.register_calls.push(entry.at);
            }
        }
        if done.is_none_or(|d| rank(entry.step) > d) {
            doubt = Some(entry.step);
        }
    }
    progress.register_calls.sort();
    doubt
}

/// The call that settles a step in doubt (or goes past it).
fn settle(step: Step, progress: &mut Progress) -> Option<Call> {
    match step {
        Step::Create => Some(Call::ListNumbers {
            after: None,
            why: ReconcileWhy::Resumed,
        }),
        // Cannot be read back: the code was probably sent.
        Step::RequestCode => {
            progress.status = Some(Status::CodeRequested);
            None
        }
        Step::VerifyCode | Step::Register => Some(Call::ReadNumber(ReadWhy::InDoubt(step, None))),
    }
}

/// What each row comes to in this run. A results file written for another
/// manifest is refused.
pub fn start<'a>(
    rows: Vec<Row>,
    past: &'a Past,
    rules: &'a Rules,
    codes: &'a dyn CodeSource,
) -> Result<Start<'a>, Mismatch> {
    let (mut kept, mut copy, mut job_count) = (0, Vec::new(), 0);
    let mut tokens_used = std::collections::BTreeSet::new();
    for row in &rows {
        match decide(row, past, rules, codes)? {
            Decision::Kept => kept += 1,
            Decision::Copy => copy.extend(row.prior.as_deref().cloned()),
            Decision::Job(..) => {
                job_count += 1;
                tokens_used.insert(row.token);
            }
        }
    }
    Ok(Start {
        kept,
        copy,
        job_count,
        tokens_used,
        jobs: Jobs {
            rows: rows.into_iter(),
            past,
            rules,
            codes,
        },
    })
}

/// What becomes of `row`: from its line in the file being resumed (`here`),
/// else its line in the file being retried, else from scratch; and from the
/// journal.
fn decide(
    r: &Row,
    past: &Past,
    rules: &Rules,
    codes: &dyn CodeSource,
) -> Result<Decision, Mismatch> {
    let row = &r.row;
    let here = past.lines.get(&row.id.row);
    if let Some(line) = here {
        check_identity(row, line)?;
        if is_final(line, rules) {
            return Ok(Decision::Kept);
        }
    }
    let from = here.or(r.prior.as_deref());
    let mut progress = from.map(Progress::of_line).unwrap_or_default();
    let doubt = in_doubt(&mut progress, past.journal.get(&row.id.row));
    let call = match doubt.and_then(|step| settle(step, &mut progress)) {
        Some(call) => Some(call),
        None => initial_call(row, &mut progress, rules),
    };
    let waits_for_code = call == Some(Call::VerifyCode) && !codes.can_ask() && {
        let id = progress.phone_number_id.as_deref().unwrap_or("");
        codes.known(row, id).is_none()
    };
    let retried = r.prior.is_some() && here.is_none();
    Ok(match call {
        // Nothing to do for a row of the file being retried: copied as it was.
        None if retried => Decision::Copy,
        Some(_) if waits_for_code && retried => Decision::Copy,
        None => Decision::Kept,
        Some(call) => Decision::Job(call, progress),
    })
}

/// The line in the file being resumed must be about the same number.
fn check_identity(row: &ValidRow, line: &ResultRecord) -> Result<(), Mismatch> {
    let ours = key(row.waba_id.as_str(), row.phone.cc(), row.phone.national());
    let theirs = key(&line.waba_id, &line.cc, &line.phone_number);
    if ours == theirs {
        Ok(())
    } else {
        Err(Mismatch {
            row: row.id.row,
            theirs,
            ours,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::RowResult;
    use crate::send::Through;
    use chrono::{TimeZone, Utc};
    use std::collections::HashMap;

    struct Codes(bool);
    impl CodeSource for Codes {
        fn known(&self, _: &ValidRow, _: &str) -> Option<crate::send::Code> {
            self.0.then(|| crate::send::Code::parse("123456").unwrap())
        }
    }

    fn row(n: u32) -> ValidRow {
        ValidRow::fixture(n, &format!("77009000{n:02}"))
    }

    fn line(n: u32, status: Status, step: Step) -> ResultRecord {
        let mut r = RowResult::progress(status, step, Some(format!("9{n}")));
        if status == Status::Failed {
            r.failure = None;
        }
        ResultRecord::of(&row(n), 1, &r)
    }

    fn rows(n: u32, prior: Option<ResultRecord>) -> Vec<Row> {
        vec![Row {
            row: Arc::new(row(n)),
            prior: prior.map(Box::new),
            token: TokenId(0),
            pin: None,
        }]
    }

    fn rules(through: Through) -> Rules {
        Rules {
            through,
            ..Rules::new(5)
        }
    }

    fn past(lines: Vec<ResultRecord>, journal: Vec<(u32, Step)>) -> Past {
        let mut j: HashMap<u32, Vec<JournalEntry>> = HashMap::new();
        for (i, (row, step)) in journal.into_iter().enumerate() {
            let at = Utc.timestamp_opt(1_800_000_000 + i as i64, 0).unwrap();
            j.entry(row).or_default().push(JournalEntry { step, at });
        }
        Past {
            lines: lines.into_iter().map(|l| (l.row, l)).collect(),
            journal: j,
            repaired: None,
        }
    }

    /// What `start` decided, with its jobs made.
    struct Out {
        kept: usize,
        copy: Vec<ResultRecord>,
        jobs: Vec<Job>,
    }

    fn go(rows: Vec<Row>, past: &Past, through: Through, codes: bool) -> Out {
        let (rules, codes) = (rules(through), Codes(codes));
        let s = start(rows, past, &rules, &codes).unwrap();
        let jobs: Vec<Job> = s.jobs.collect();
        assert_eq!(jobs.len(), s.job_count);
        Out {
            kept: s.kept,
            copy: s.copy,
            jobs,
        }
    }

    #[test]
    fn a_fresh_row_is_created() {
        let s = go(rows(1, None), &Past::default(), Through::Register, false);
        assert_eq!(s.jobs[0].call, Call::Create);
    }

    #[test]
    fn a_final_line_is_kept_and_an_unfinished_one_goes_on() {
        let created = line(1, Status::Created, Step::Create);
        let p = past(vec![created.clone()], vec![]);
        let s = go(rows(1, None), &p, Through::Create, false);
        assert_eq!((s.kept, s.jobs.len()), (1, 0));
        let s = go(rows(1, None), &p, Through::Register, false);
        assert_eq!(s.jobs[0].call, Call::RequestCode);
        assert_eq!(s.jobs[0].progress.phone_number_id.as_deref(), Some("91"));
        let failed = line(1, Status::Failed, Step::Register);
        let s = go(
            rows(1, None),
            &past(vec![failed], vec![]),
            Through::Register,
            false,
        );
        assert_eq!(
            s.kept, 1,
            "a failed row is final for --resume (retry takes it)"
        );
    }

    #[test]
    fn journal_calls_after_the_line_are_in_doubt() {
        // A create sent, no line: looked up on the list.
        let s = go(
            rows(1, None),
            &past(vec![], vec![(1, Step::Create)]),
            Through::Create,
            false,
        );
        assert!(matches!(s.jobs[0].call, Call::ListNumbers { .. }));
        // A register sent after `verified`: the number is read first, and the
        // call counts in its history.
        let verified = line(1, Status::Verified, Step::VerifyCode);
        let p = past(
            vec![verified],
            vec![
                (1, Step::Create),
                (1, Step::RequestCode),
                (1, Step::Register),
            ],
        );
        let s = go(rows(1, None), &p, Through::Register, false);
        assert_eq!(
            s.jobs[0].call,
            Call::ReadNumber(ReadWhy::InDoubt(Step::Register, None))
        );
        assert_eq!(s.jobs[0].progress.register_calls.len(), 1);
        // A request_code sent after `created` counts as done: the code is awaited.
        let created = line(1, Status::Created, Step::Create);
        let p = past(vec![created], vec![(1, Step::RequestCode)]);
        let s = go(rows(1, None), &p, Through::Register, true);
        assert_eq!(s.jobs[0].call, Call::VerifyCode);
        assert_eq!(s.jobs[0].progress.status, Some(Status::CodeRequested));
    }

    #[test]
    fn retry_copies_rows_with_nothing_to_do() {
        let registered = line(1, Status::Registered, Step::Register);
        let s = go(
            rows(1, Some(registered.clone())),
            &Past::default(),
            Through::Register,
            false,
        );
        assert_eq!(s.copy, vec![registered]);
        // Waiting for a code that nobody can give: copied, not requested again.
        let waiting = line(2, Status::CodeRequested, Step::RequestCode);
        let s = go(
            rows(2, Some(waiting.clone())),
            &Past::default(),
            Through::Register,
            false,
        );
        assert_eq!(s.copy, vec![waiting.clone()]);
        // With a code for it: verified.
        let s = go(
            rows(2, Some(waiting)),
            &Past::default(),
            Through::Register,
            true,
        );
        assert_eq!(s.jobs[0].call, Call::VerifyCode);
        // Failed at register: registers again.
        let failed = line(3, Status::Failed, Step::Register);
        let s = go(
            rows(3, Some(failed)),
            &Past::default(),
            Through::Register,
            false,
        );
        assert_eq!(s.jobs[0].call, Call::Register);
    }

    #[test]
    fn a_foreign_results_file_is_refused() {
        let mut other = line(1, Status::Created, Step::Create);
        other.phone_number = "7700900999".into();
        let (past, rules) = (past(vec![other], vec![]), rules(Through::Create));
        match start(rows(1, None), &past, &rules, &Codes(false)) {
            Err(err) => assert_eq!(err.row, 1),
            Ok(_) => panic!("a foreign results file is refused"),
        }
    }
}
