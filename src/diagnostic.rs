//! What a rule reports: a [`Diagnostic`] on a range of one file, optionally with a [`Fix`].

use crate::fix::Fix;
pub use crate::registry::{Rule, Severity};
use crate::text::{Ranged, TextRange};

/// One finding of one rule in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub rule: Rule,
    /// States the problem; quotes XML in backticks; no trailing full stop.
    pub message: String,
    pub range: TextRange,
    pub severity: Severity,
    /// Starts with a verb ("Insert `<base />`"). Present whenever `fix` is.
    pub fix_title: Option<String>,
    pub fix: Option<Fix>,
}

impl Diagnostic {
    pub fn new(rule: Rule, range: TextRange, message: impl Into<String>) -> Self {
        Self {
            rule,
            message: message.into(),
            range,
            severity: rule.default_severity(),
            fix_title: None,
            fix: None,
        }
    }

    pub fn with_fix(mut self, title: impl Into<String>, fix: Fix) -> Self {
        self.fix_title = Some(title.into());
        self.fix = Some(fix);
        self
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}

impl Ranged for Diagnostic {
    fn range(&self) -> TextRange {
        self.range
    }
}
