//! Exit codes (SPEC section 2): the one place outcomes become numbers.

use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every row created (or, for validate/plan/sandbox: success).
    Success = 0,
    /// The run finished and some rows are not `created`.
    SomeNotCreated = 1,
    /// Usage error or invalid manifest: nothing was sent.
    Usage = 2,
    /// The run was aborted (every token invalid, interrupted); the results still map every row.
    Aborted = 3,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}
