//! TEMPORARY: classification stand-in until the Graph error model lands.
use crate::graph::{ErrorClass, Failure, Hints};

pub trait FailureExt {
    fn class_with(&self, hints: &Hints) -> ErrorClass;
    fn in_doubt(&self) -> bool;
}

impl FailureExt for Failure {
    fn class_with(&self, hints: &Hints) -> ErrorClass {
        match self {
            Failure::Network { .. } => ErrorClass::Transient,
            Failure::Graph(g) => match g.code {
                Some(190) => ErrorClass::Token,
                Some(80007 | 80008) => ErrorClass::ThrottledWaba,
                Some(4 | 17 | 613) if hints.app_usage_pct.is_some_and(|p| p >= 100) => {
                    ErrorClass::ThrottledApp
                }
                Some(
                    1 | 2 | 4 | 17 | 32 | 341 | 613 | 131000 | 131016 | 131057 | 133004 | 2494100,
                ) => ErrorClass::Transient,
                Some(133015) => ErrorClass::WaitAtLeast(std::time::Duration::from_secs(300)),
                Some(100) if g.subcode == Some(2388012) => ErrorClass::AlreadyExists,
                None if g.http_status.is_some_and(|s| s >= 500 || s == 429) => {
                    ErrorClass::Transient
                }
                _ if g.is_transient && g.code.is_none() => ErrorClass::Transient,
                _ => ErrorClass::Permanent,
            },
        }
    }
    fn in_doubt(&self) -> bool {
        matches!(self, Failure::Network { in_doubt: true, .. })
    }
}
