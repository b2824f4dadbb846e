//! Fixes as text edits: the vocabulary every rule builds its fixes from. The loop that
//! applies them until a file is stable runs rules, so it lives with them
//! (`rules::fix_until_stable`).

mod edit;

pub use edit::{Applicability, Edit, Fix, apply_edits};
