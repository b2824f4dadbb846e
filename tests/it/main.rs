//! The integration tests, in one binary (as ripgrep does): one link step instead of one per
//! file, and shared helpers compiled once.

mod cli_commands;
mod cli_errors;
mod cli_fix;
mod cli_review;
mod common;
mod config_load;
mod corpus_fix;
mod discover_walk;
mod format_invariants;
mod format_layout;
mod format_limits;
mod format_proptest;
mod integrations;
mod paths_display;
mod repo_corpus;
mod repo_findings;
mod repo_model;
mod report_diff;
mod report_github;
mod report_json;
mod report_rdjson;
mod report_sarif;
mod report_support;
mod report_text;
mod resource_bounds;
mod rules_proptest;
mod syntax_constructs;
mod syntax_errors;
mod syntax_mutations;
mod syntax_proptest;
mod syntax_roundtrip;
mod syntax_support;
mod write_atomic;
mod write_concurrent;
mod write_interrupted;
