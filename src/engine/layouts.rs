//! The layouts the engine finds beside the APIOps tree before reading: which loose files a
//! devops-resource-kit creator configuration names (they then form one unit, whose repo is
//! that configuration's model).

use std::path::PathBuf;

use crate::layout::{LayoutPattern, PolicyLocation};
use crate::repo::resource_kit;

use super::pipeline::Input;

/// Gives each file on disk that no APIOps root holds and that a creator configuration near
/// it names the scope of its slot, and that configuration as its repo root.
pub(super) fn place_in_creator_configs(inputs: &[Input], locations: &mut [PolicyLocation]) {
    let loose: Vec<PathBuf> = inputs
        .iter()
        .zip(locations.iter())
        .filter(|(input, location)| input.path.is_some() && location.artifacts_root.is_none())
        .map(|(input, _)| input.logical_path.clone())
        .collect();
    if loose.is_empty() {
        return;
    }
    let configs = resource_kit::discover(&loose);
    if configs.is_empty() {
        return;
    }
    for config in &configs {
        let scopes = config.scopes(&loose);
        for (input, location) in inputs.iter().zip(locations.iter_mut()) {
            if input.path.is_none() || location.artifacts_root.is_some() {
                continue;
            }
            let Some(scope) = scopes.get(&input.logical_path) else {
                continue;
            };
            location.scope = *scope;
            location.pattern = Some(LayoutPattern::KitConfig);
            location.artifacts_root = Some(config.path.clone());
        }
    }
}

/// A policy that an environment's `configuration.<env>.yaml` overrides, read as an input of
/// its own: its findings point into the YAML file and name the environment.
#[derive(Debug)]
pub struct OverrideSource {
    /// The policy text, placed at its lines of the YAML file.
    pub text: String,
    /// The artifacts root whose repo it overrides.
    pub root: PathBuf,
    pub scope: crate::layout::Scope,
    pub environment: String,
    /// Where it applies, e.g. `apis/orders`.
    pub label: String,
}

/// Adds an input for each policy override of the environment that applies to each APIOps
/// repo among `inputs` (`--environment`, else the `environment:` of the config governing the
/// repo's root), keeping them sorted by shown path. Environment files that cannot be read
/// are returned as errors (the repo model reports a missing one).
pub(super) fn add_environment_overrides(
    inputs: &mut Vec<Input>,
    options: &super::Options,
    resolver: &crate::config::ConfigResolver,
) -> Vec<super::error::PathError> {
    let mut roots: Vec<PathBuf> = inputs
        .iter()
        .filter(|i| {
            i.path.is_some()
                && i.logical_path.file_name() == Some(crate::layout::apiops::POLICY_FILE.as_ref())
        })
        .filter_map(|i| crate::layout::locate(&i.logical_path).artifacts_root)
        .collect();
    roots.sort();
    roots.dedup();
    let mut errors = Vec::new();
    let mut added = Vec::new();
    for root in roots {
        let name = options.environment.clone().or_else(|| {
            resolver
                .for_path(&root.join(crate::layout::apiops::POLICY_FILE))
                .ok()
                .and_then(|c| c.config.environment.clone())
        });
        let Some(name) = name else { continue };
        let Some(path) = crate::repo::environment::find(&root, &name) else {
            continue;
        };
        let env = match crate::repo::environment::Environment::load(&path, &name) {
            Ok(env) => env,
            Err(e) => {
                errors.push(super::error::PathError::new(
                    Some(&path),
                    super::error::FileError::RepoModel(e.to_string()),
                ));
                continue;
            }
        };
        for o in env.policy_overrides() {
            added.push(Input {
                display_path: crate::paths::display_path(&path),
                path: None,
                logical_path: o.virtual_path(&env),
                explicit: true,
                config: None,
                override_source: Some(std::sync::Arc::new(OverrideSource {
                    text: o.source.clone(),
                    root: root.clone(),
                    scope: o.scope(),
                    environment: name.clone(),
                    label: o.label.clone(),
                })),
                iac: None,
                host_error: None,
            });
        }
    }
    if !added.is_empty() {
        inputs.extend(added);
        inputs.sort_by(|a, b| a.display_path.cmp(&b.display_path));
    }
    errors
}

/// Gives each override input the scope of the policy it replaces.
pub(super) fn place_overrides(inputs: &[Input], locations: &mut [PolicyLocation]) {
    for (input, location) in inputs.iter().zip(locations.iter_mut()) {
        if let Some(o) = &input.override_source {
            location.scope = o.scope;
            location.pattern = Some(LayoutPattern::EnvOverride);
            location.artifacts_root = Some(o.root.clone());
        }
    }
}
