//! Exit codes (SPEC section 2): the one place where what a command ended with
//! becomes a number, for every command.

use std::process::ExitCode;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for was done: the manifest is valid, the plan printed,
    /// every row reached `--through`, the sandbox stopped cleanly.
    Done,
    /// The run finished and some rows did not reach `--through`.
    Incomplete,
    /// Usage error or invalid manifest: nothing was sent.
    Refused,
    /// The run was aborted (every token refused, interrupted, the results file
    /// could not be written); the results still map every row.
    Aborted,
}

impl Outcome {
    /// 0 / 1 / 2 / 3.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Incomplete => 1,
            Outcome::Refused => 2,
            Outcome::Aborted => 3,
        }
    }
}

/// Why a command refused to start (exit 2, nothing sent): a usage error, an
/// unreadable manifest, a missing token. Printed once, at the edge. Like
/// `anyhow::Error` it is not itself an `Error`, so `?` converts any error.
#[derive(Debug)]
pub struct Refused(String);

impl Refused {
    pub fn msg(message: impl std::fmt::Display) -> Refused {
        Refused(message.to_string())
    }
}

impl<E: std::error::Error> From<E> for Refused {
    fn from(e: E) -> Refused {
        Refused(e.to_string())
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> Self {
        ExitCode::from(o.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_codes_of_the_spec() {
        let codes = [
            Outcome::Done,
            Outcome::Incomplete,
            Outcome::Refused,
            Outcome::Aborted,
        ]
        .map(Outcome::code);
        assert_eq!(codes, [0, 1, 2, 3]);
    }
}
