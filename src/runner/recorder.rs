//! The production [`Recorder`]: the run's results [`Session`] (results file and
//! in-flight journal). The journal line is with the OS before a state-changing
//! call goes out, and the results line as soon as the row ends, so after a
//! crash `--resume` knows exactly which rows are done and which may have
//! reached Meta.

use std::io;

use super::Recorder;
use crate::results::{RowResult, Sent, Session};
use crate::schema::ResultRecord;
use crate::validate::ValidRow;

impl Recorder for Session {
    fn about_to_send(&mut self, sends: &[Sent]) -> io::Result<()> {
        self.journal_sends(sends)
            .map(drop)
            .map_err(io::Error::other)
    }

    fn record(&mut self, row: &ValidRow, attempts: u32, result: &RowResult) -> io::Result<()> {
        self.write(&ResultRecord::of(row, attempts, result))
            .map_err(io::Error::other)
    }
}
