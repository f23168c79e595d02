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
