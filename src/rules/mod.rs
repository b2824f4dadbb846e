//! The rules. Each lives in its own module with its documentation, its check, its fix and
//! its tests; this module holds the registry.

use crate::diagnostic::Severity;

/// Every rule apimfix knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    BaseMissing,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::BaseMissing => "base-missing",
        }
    }

    pub fn default_severity(self) -> Severity {
        Severity::Warning
    }
}
