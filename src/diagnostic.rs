//! A problem found in a manifest, printed as `FILE:LINE: error: FIELD: message`
//! (SPEC section 1). A leaf: the manifest reader and the validator both
//! report through it, and the edge renders it.

use std::fmt;
use std::sync::Arc;

/// Where a row (or a problem) came from: `FILE:LINE`, line 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Source {
    pub file: Arc<str>,
    pub line: u32,
}

impl Source {
    /// `FILE:LINE` split at its last colon (a file name may have colons); the
    /// line is a positive number.
    pub fn split(text: &str) -> Option<(&str, u32)> {
        let (file, line) = text.rsplit_once(':')?;
        let line = line.parse::<u32>().ok().filter(|&l| l > 0)?;
        (!file.is_empty()).then_some((file, line))
    }
}

/// Tests write sources as text (`"m.csv:4".into()`).
#[cfg(test)]
impl From<&str> for Source {
    fn from(text: &str) -> Source {
        let (file, line) = Source::split(text).expect("FILE:LINE");
        Source {
            file: file.into(),
            line,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

/// One problem, printed as `FILE:LINE: error: FIELD: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub source: Source,
    pub severity: Severity,
    pub field: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(
            f,
            "{}: {}: {}: {}",
            self.source, sev, self.field, self.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_split_at_the_last_colon() {
        assert_eq!(Source::split("m.csv:12"), Some(("m.csv", 12)));
        assert_eq!(Source::split("C:\\m.csv:3"), Some(("C:\\m.csv", 3)));
        for bad in ["m.csv", "m.csv:", "m.csv:0", "m.csv:x", ":4", ""] {
            assert_eq!(Source::split(bad), None, "{bad}");
        }
        assert_eq!(Source::from("a:b.yaml:7").to_string(), "a:b.yaml:7");
    }
}
