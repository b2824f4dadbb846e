//! Helpers for tests of the repo model: everything the rules say about a whole repo.

use apimfix::repo::Repo;
use apimfix::rules::cors_first::GateOptions;
use apimfix::rules::cors_origins::CorsOriginsOptions;
use apimfix::rules::{Context, RepoFinding, RuleSettings, Toggle};

/// The per-file findings of every file of `repo` (with its facts), then the cross-scope
/// ones, in path and position order: no two of them name the same root cause.
pub fn findings(
    repo: &Repo,
    gates: &GateOptions,
    origins: &CorsOriginsOptions,
) -> Vec<RepoFinding> {
    let settings = RuleSettings {
        cors_first: Toggle::Options(gates.clone()),
        cors_origins: Toggle::Options(origins.clone()),
        ..RuleSettings::default()
    };
    let mut all = apimfix::rules::check_repo(repo, &settings);
    for path in repo.paths() {
        let doc = repo.document(path).unwrap();
        let facts = repo.facts_for(path, &gates.gates());
        let scope = repo.scope(path).unwrap();
        let ctx = Context::new(doc, scope, &settings, &facts);
        all.extend(
            apimfix::rules::check(&ctx)
                .into_iter()
                .map(|diagnostic| RepoFinding {
                    path: path.to_path_buf(),
                    diagnostic,
                }),
        );
    }
    all.sort_by(|a, b| {
        (
            repo.display_path(&a.path),
            a.diagnostic.range.start(),
            a.diagnostic.rule,
        )
            .cmp(&(
                repo.display_path(&b.path),
                b.diagnostic.range.start(),
                b.diagnostic.rule,
            ))
    });
    all
}
