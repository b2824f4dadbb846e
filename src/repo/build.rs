//! A repo model built from a layout that is not an APIOps folder tree: the resources of
//! Terraform, Bicep or ARM templates, or a devops-resource-kit configuration. The layout says
//! which APIs, operations, products and fragments exist and which product holds which API;
//! the builder places each policy document at its slot. Everything the model does afterwards
//! (chains, effective policies, cross-scope facts) is the same as for an APIOps repo.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::layout::Slot;
use crate::syntax::Document;

use super::{ApiInfo, FileId, Repo, membership_name, node_mut};

/// Builds a [`Repo`] node by node. Names are resource names as APIM knows them (an API's
/// `name`, not its display name); a revision is its own API, spelled `name;rev=N`.
pub(crate) struct RepoBuilder {
    repo: Repo,
}

impl RepoBuilder {
    /// An empty model rooted at `root`: the folder messages show paths relative to.
    pub(crate) fn new(root: &Path) -> RepoBuilder {
        RepoBuilder {
            repo: Repo::empty(root),
        }
    }

    /// Declares an API (with no policy yet), and its metadata when the layout has some.
    pub(crate) fn api(&mut self, workspace: Option<&str>, api: &str, info: Option<ApiInfo>) {
        let node = node_mut(&mut self.repo.container_mut(workspace).apis, api);
        if info.is_some() {
            node.info = info;
        }
    }

    /// Declares an operation of `api`.
    pub(crate) fn operation(&mut self, workspace: Option<&str>, api: &str, operation: &str) {
        let api = node_mut(&mut self.repo.container_mut(workspace).apis, api);
        node_mut(&mut api.operations, operation);
    }

    /// Declares a product.
    pub(crate) fn product(&mut self, workspace: Option<&str>, product: &str) {
        node_mut(&mut self.repo.container_mut(workspace).products, product);
    }

    /// Puts `api` (its revisions too) in `product`.
    pub(crate) fn product_api(&mut self, workspace: Option<&str>, product: &str, api: &str) {
        node_mut(&mut self.repo.container_mut(workspace).products, product)
            .apis
            .insert(membership_name(api).to_owned());
    }

    /// Declares a fragment by its `fragment-id`.
    pub(crate) fn fragment(&mut self, workspace: Option<&str>, fragment: &str) {
        self.repo
            .container_mut(workspace)
            .fragments
            .entry(fragment.to_owned())
            .or_insert(None);
    }

    /// Places a policy document at `slot`. `path` is the key the engine knows the document
    /// by (a file, or a policy inside a host file); `rel` is how messages name it. A later
    /// document at the same slot takes its place.
    pub(crate) fn policy(
        &mut self,
        slot: Slot,
        workspace: Option<&str>,
        path: PathBuf,
        rel: String,
        doc: Arc<Document>,
    ) -> FileId {
        let id = FileId(self.repo.files.len());
        self.repo.by_path.insert(path.clone(), id);
        self.repo
            .attach(slot, workspace.map(str::to_owned), path, rel, doc);
        id
    }

    /// Says that a policy of the layout could not be read: what runs in its chains is then
    /// not known, and the facts that need all of it ([`crate::repo::RepoFacts::inherited`],
    /// `repo_has_cors`) are left unknown.
    pub(crate) fn incomplete(&mut self) {
        self.repo.incomplete = true;
    }

    pub(crate) fn build(self) -> Repo {
        self.repo
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax;

    fn doc(text: &str) -> Arc<Document> {
        Arc::new(syntax::parse(text).expect("test policy parses"))
    }

    #[test]
    fn a_built_repo_composes_chains_like_a_scanned_one() {
        let mut builder = RepoBuilder::new(Path::new("infra"));
        builder.api(None, "orders", None);
        builder.operation(None, "orders", "get");
        builder.product(None, "starter");
        builder.product_api(None, "starter", "orders");
        builder.policy(
            Slot::Container,
            None,
            PathBuf::from("infra/main.tf#global"),
            "main.tf (global)".into(),
            doc("<policies><inbound><cors /></inbound></policies>"),
        );
        builder.policy(
            Slot::Product("starter".into()),
            None,
            PathBuf::from("infra/main.tf#starter"),
            "main.tf (starter)".into(),
            doc("<policies><inbound><quota /><base /></inbound></policies>"),
        );
        let repo = builder.build();
        let chains: Vec<String> = repo.chains().iter().map(|c| c.to_string()).collect();
        assert_eq!(chains, ["orders/get", "orders/get via starter"]);
        let effective = repo
            .effective("orders", Some("get"), Some("starter"))
            .unwrap();
        let inbound: Vec<&str> = effective.sections[0]
            .statements
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(inbound, ["quota", "cors"]);
        assert!(repo.document(Path::new("infra/main.tf#starter")).is_some());
    }
}
