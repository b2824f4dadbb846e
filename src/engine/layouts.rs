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
