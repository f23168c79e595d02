//! What a run has left to do, given what its results file already says
//! (`--resume`) and what its journal says may have been sent.
//!
//! A row final in the file is kept and never sent again; a row the journal says
//! was sent but that has no final line is in doubt: looked up before it is sent.

use std::collections::{HashMap, HashSet};

use crate::schema::ResultRecord;
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

/// How one row enters the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Already final in the results file: not sent, not written again.
    Kept,
    /// Not sent before (as far as anything knows): send.
    Send,
    /// The journal says a create went out but no final line came: reconcile first.
    InDoubt,
}

fn key(waba: &str, cc: &str, national: &str) -> String {
    format!("WABA {waba} +{cc} {national}")
}

/// Decide each row's entry; refuse a results file written for another manifest.
pub fn plan_entries(
    rows: &[ValidRow],
    finals: &HashMap<u32, ResultRecord>,
    journal_sent: &HashSet<u32>,
) -> Result<Vec<Entry>, Mismatch> {
    rows.iter()
        .map(|row| {
            if let Some(rec) = finals.get(&row.id.row) {
                let ours = key(row.waba_id.as_str(), row.phone.cc(), row.phone.national());
                let theirs = key(&rec.waba_id, &rec.cc, &rec.phone_number);
                if ours != theirs {
                    return Err(Mismatch {
                        row: row.id.row,
                        theirs,
                        ours,
                    });
                }
                Ok(Entry::Kept)
            } else if journal_sent.contains(&row.id.row) {
                Ok(Entry::InDoubt)
            } else {
                Ok(Entry::Send)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: u32, national: &str) -> ValidRow {
        ValidRow::fixture(n, national)
    }

    fn rec(n: u32, national: &str) -> ResultRecord {
        ResultRecord::created(&row(n, national), "9", 1, None)
    }

    #[test]
    fn final_rows_kept_journal_rows_in_doubt_rest_sent() {
        let rows = vec![
            row(1, "7700900001"),
            row(2, "7700900002"),
            row(3, "7700900003"),
        ];
        let finals = HashMap::from([(1, rec(1, "7700900001"))]);
        let sent = HashSet::from([1, 2]);
        assert_eq!(
            plan_entries(&rows, &finals, &sent).unwrap(),
            [Entry::Kept, Entry::InDoubt, Entry::Send]
        );
    }

    #[test]
    fn a_foreign_results_file_is_refused() {
        let rows = vec![row(1, "7700900001")];
        let finals = HashMap::from([(1, rec(1, "7700900999"))]);
        let err = plan_entries(&rows, &finals, &HashSet::new()).unwrap_err();
        assert_eq!(err.row, 1);
    }
}
