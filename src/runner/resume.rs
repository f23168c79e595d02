//! What a run has left to do, given what its results file already says
//! (`--resume`) and what its journal says may have been sent.
//!
//! A row final in the file is kept and never sent again; a row the journal says
//! was sent but that has no final line is in doubt: looked up before it is sent.

use std::sync::Arc;

use crate::results::Past;
use crate::send::{Job, TokenId};
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

/// What a run still has to do.
#[derive(Debug)]
pub struct Start {
    pub jobs: Vec<Job>,
    /// Rows already final in the results file: neither sent nor written again.
    pub kept: usize,
}

/// One job per row left to do, `tokens[i]` being row `i`'s token. A row final
/// in the file is kept; a row the journal says went out, with no final line,
/// is looked up before it is sent again; the rest start afresh. A results file
/// written for another manifest is refused.
pub fn start(rows: Vec<ValidRow>, tokens: Vec<TokenId>, past: &Past) -> Result<Start, Mismatch> {
    let mut out = Start {
        jobs: Vec::with_capacity(rows.len()),
        kept: 0,
    };
    for (row, token) in rows.into_iter().zip(tokens) {
        if let Some(rec) = past.finals.get(&row.id.row) {
            let ours = key(row.waba_id.as_str(), row.phone.cc(), row.phone.national());
            let theirs = key(&rec.waba_id, &rec.cc, &rec.phone_number);
            if ours != theirs {
                return Err(Mismatch {
                    row: row.id.row,
                    theirs,
                    ours,
                });
            }
            out.kept += 1;
        } else if past.journal_sent.contains(&row.id.row) {
            out.jobs.push(Job::resumed(Arc::new(row), token));
        } else {
            out.jobs.push(Job::new(Arc::new(row), token));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::RowResult;
    use crate::schema::ResultRecord;
    use crate::send::Call;
    use std::collections::{HashMap, HashSet};

    fn row(n: u32, national: &str) -> ValidRow {
        ValidRow::fixture(n, national)
    }

    fn rec(n: u32, national: &str) -> ResultRecord {
        ResultRecord::of(&row(n, national), 1, &RowResult::created("9".into()))
    }

    fn past(finals: HashMap<u32, ResultRecord>, sent: HashSet<u32>) -> Past {
        Past {
            finals,
            journal_sent: sent,
            repaired: None,
        }
    }

    #[test]
    fn final_rows_kept_journal_rows_in_doubt_rest_sent() {
        let rows = vec![
            row(1, "7700900001"),
            row(2, "7700900002"),
            row(3, "7700900003"),
        ];
        let p = past(
            HashMap::from([(1, rec(1, "7700900001"))]),
            HashSet::from([1, 2]),
        );
        let s = start(rows, vec![TokenId(0); 3], &p).unwrap();
        assert_eq!(s.kept, 1);
        let calls: Vec<(u32, bool)> = s
            .jobs
            .iter()
            .map(|j| (j.row.id.row, matches!(j.call, Call::ListNumbers { .. })))
            .collect();
        assert_eq!(calls, [(2, true), (3, false)]);
    }

    #[test]
    fn a_foreign_results_file_is_refused() {
        let rows = vec![row(1, "7700900001")];
        let p = past(HashMap::from([(1, rec(1, "7700900999"))]), HashSet::new());
        let err = start(rows, vec![TokenId(0)], &p).unwrap_err();
        assert_eq!(err.row, 1);
    }
}
