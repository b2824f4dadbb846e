//! Fixes as text edits, and the loop that applies them until the file is stable.

mod edit;
mod engine;

pub use edit::{Applicability, Edit, Fix, apply_edits};
pub use engine::{FixError, FixMode, FixOutcome, MAX_PASSES, fix_until_stable};
