//! How much to say and whether to colour it (`--quiet`, `--verbose`,
//! `--color`, `NO_COLOR`): one [`Output`] value, decided once by `cli` and
//! carried in each command's `Config`, so no code below asks the terminal or
//! the environment again. Colour is plain ANSI on the `error:` / `warning:`
//! prefixes of stderr, and only ever when [`Output::color`] says so.

use std::fmt::Display;
use std::io::Write;

/// How much a command prints besides its result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Verbosity {
    /// `--quiet`: errors and the one-line summary only (no progress, no warnings).
    Quiet,
    #[default]
    Normal,
    /// `--verbose`: more detail (info log lines, a per-WABA table after a run).
    Verbose,
}

/// The output settings of one command line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Output {
    pub verbosity: Verbosity,
    /// Colour the prefixes on stderr. `false` by default: never colour unasked.
    pub color: bool,
}

const RED_BOLD: &str = "\x1b[1;31m";
const YELLOW_BOLD: &str = "\x1b[1;33m";
const RESET: &str = "\x1b[0m";

impl Output {
    pub fn quiet(&self) -> bool {
        self.verbosity == Verbosity::Quiet
    }

    pub fn verbose(&self) -> bool {
        self.verbosity == Verbosity::Verbose
    }

    /// `waba-provision: error: {e}`, the `error:` red when colour is on.
    pub fn error_line(&self, e: &dyn Display) -> String {
        format!("waba-provision: {} {e}", self.paint("error:", RED_BOLD))
    }

    /// `waba-provision: warning: {w}`, the `warning:` yellow when colour is on.
    pub fn warning_line(&self, w: &dyn Display) -> String {
        format!(
            "waba-provision: {} {w}",
            self.paint("warning:", YELLOW_BOLD)
        )
    }

    /// An error on stderr; printed even under `--quiet`.
    pub fn error(&self, e: &dyn Display) {
        let _ = writeln!(std::io::stderr().lock(), "{}", self.error_line(e));
    }

    /// A warning on stderr; nothing under `--quiet`.
    pub fn warning(&self, w: &dyn Display) {
        if !self.quiet() {
            let _ = writeln!(std::io::stderr().lock(), "{}", self.warning_line(w));
        }
    }

    fn paint(&self, text: &str, style: &str) -> String {
        if self.color {
            format!("{style}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_plain_unless_colour_is_on() {
        let plain = Output::default();
        assert_eq!(plain.error_line(&"boom"), "waba-provision: error: boom");
        assert_eq!(plain.warning_line(&"hm"), "waba-provision: warning: hm");
        assert!(!plain.error_line(&"boom").contains('\x1b'));

        let colour = Output {
            color: true,
            ..Output::default()
        };
        assert_eq!(
            colour.error_line(&"boom"),
            "waba-provision: \x1b[1;31merror:\x1b[0m boom"
        );
        assert!(
            colour
                .warning_line(&"hm")
                .contains("\x1b[1;33mwarning:\x1b[0m")
        );
    }

    #[test]
    fn verbosity_is_one_of_three() {
        let quiet = Output {
            verbosity: Verbosity::Quiet,
            color: false,
        };
        assert!(quiet.quiet() && !quiet.verbose());
        assert!(!Output::default().quiet() && !Output::default().verbose());
    }
}
