//! What can go wrong while loading a repo or asking it about a chain.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::syntax::SyntaxError;

/// An error of the repo model. Load problems with single files are collected in
/// [`crate::repo::Repo::errors`] and the file counts as absent; only an unreadable artifacts
/// root makes loading fail.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A policy file that does not parse; the repo treats it as absent.
    #[error("`{}` does not parse: {source}", path.display())]
    Syntax {
        path: PathBuf,
        #[source]
        source: SyntaxError,
    },
    /// A metadata file (e.g. `products/<p>/apis.json`) that is not the expected JSON.
    #[error("`{}` is not the expected JSON: {source}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// No `configuration.<env>.yaml` for the environment asked for.
    #[error(
        "no `configuration.{name}.yaml` for environment `{name}` in the artifacts root or the three folders above it"
    )]
    NoEnvironment { path: PathBuf, name: String },
    /// An environment's `configuration.<env>.yaml` that is not YAML.
    #[error("`{}` is not YAML: {message}", path.display())]
    Environment { path: PathBuf, message: String },
    /// A YAML file given as a repo that is no devops-resource-kit creator configuration.
    #[error(
        "`{}` is not a resource-kit creator configuration (`apimServiceName` and a `policy` reference)",
        path.display()
    )]
    NotACreatorConfig { path: PathBuf },
    #[error(
        "unknown API `{name}`; {}",
        known_list("known APIs", "the repo has no APIs", known)
    )]
    UnknownApi { name: String, known: Vec<String> },
    #[error(
        "API `{api}` has no operation `{name}`; {}",
        known_list("its operations", "it has no operation folders", known)
    )]
    UnknownOperation {
        api: String,
        name: String,
        known: Vec<String>,
    },
    /// The product does not exist, or does not hold the API; `known` lists the products that
    /// hold it.
    #[error(
        "no product `{name}` holds API `{api}`; {}",
        known_list("products holding it", "no product holds it", known)
    )]
    UnknownProduct {
        api: String,
        name: String,
        known: Vec<String>,
    },
}

fn known_list(label: &str, none: &str, known: &[String]) -> String {
    if known.is_empty() {
        return none.to_owned();
    }
    let mut out = format!("{label}: ");
    for (i, name) in known.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "`{name}`");
    }
    out
}
