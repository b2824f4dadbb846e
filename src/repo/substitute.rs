//! The repo with one policy file's document replaced: what a fix would make of the repo, for
//! the semantic check of fixes (`crate::rules::oracle`).

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use super::Repo;
use crate::syntax::Document;

impl Repo {
    /// A copy of the repo in which the policy file at `path` holds `doc`. `None` when `path`
    /// is not one of the repo's parsed policy files. Documents are shared, not copied.
    pub fn with_document(&self, path: &Path, doc: Arc<Document>) -> Option<Repo> {
        let id = self.file_id(path)?;
        let mut files = self.files.clone();
        files[id.0].doc = doc;
        Some(Repo {
            root: self.root.clone(),
            files,
            by_path: self.by_path.clone(),
            by_rel: self.by_rel.clone(),
            service: self.service.clone(),
            workspaces: self.workspaces.clone(),
            errors: Vec::new(),
            has_cors: OnceLock::new(),
            inbound_cors: OnceLock::new(),
            fragment_sets: Mutex::default(),
            named_values: self.named_values.clone(),
            resolvable: self.resolvable.clone(),
            environment: self.environment.clone(),
            incomplete: self.incomplete,
        })
    }

    /// The chains whose levels hold the file at `path`, or that may include it (a fragment):
    /// the chains a change of that file can change.
    pub fn chains_through(&self, path: &Path) -> Vec<super::Chain> {
        let Some(id) = self.file_id(path) else {
            return Vec::new();
        };
        let fragment = self.file(id).doc.root_kind() == crate::syntax::RootKind::Fragment;
        self.chains()
            .into_iter()
            .filter(|c| fragment || self.levels(c).iter().any(|l| l.file == Some(id)))
            .collect()
    }
}
