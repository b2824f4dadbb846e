//! Fixes as text edits, and applying them.

mod edit;

pub use edit::{Applicability, Edit, Fix, apply_edits};
