//! The devops-resource-kit layout: the scope is in the file name's suffix, wherever the file
//! lives (`globalServicePolicy.xml`, `<product>-productPolicy.xml`, `<api>-apiPolicy.xml`,
//! `<api>-<operation>-operationPolicy.xml`).

use std::path::Path;

use super::{LayoutPattern, PolicyLocation};

/// The global policy's file name.
const GLOBAL_FILE: &str = "globalServicePolicy.xml";

/// The file name suffixes after a product, API or `<api>-<operation>` name.
const SUFFIXES: [(&str, LayoutPattern); 3] = [
    ("-apiPolicy.xml", LayoutPattern::KitApi),
    ("-operationPolicy.xml", LayoutPattern::KitOperation),
    ("-productPolicy.xml", LayoutPattern::KitProduct),
];

/// What the resource-kit names say about the file at `path` (whose normal components are
/// `names`), when its file name is one of them.
pub(super) fn locate(path: &Path, names: &[&str]) -> Option<PolicyLocation> {
    let file_name = *names.last()?;
    if file_name == GLOBAL_FILE {
        return Some(PolicyLocation::matched(path, LayoutPattern::KitGlobal));
    }
    for (suffix, pattern) in SUFFIXES {
        let Some(stem) = file_name.strip_suffix(suffix) else {
            continue;
        };
        if stem.is_empty() {
            continue;
        }
        let mut location = PolicyLocation::matched(path, pattern);
        let name = Some(stem.to_owned());
        match pattern {
            LayoutPattern::KitApi => location.api = name,
            LayoutPattern::KitOperation => location.operation = name,
            _ => location.product = name,
        }
        return Some(location);
    }
    None
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::layout::{LayoutPattern, PolicyLocation, Scope, locate};

    fn loc(path: &str) -> PolicyLocation {
        locate(Path::new(path))
    }

    #[test]
    fn resource_kit_names() {
        let l = loc("out/policies/globalServicePolicy.xml");
        assert_eq!(l.scope, Scope::Global);
        assert_eq!(l.pattern, Some(LayoutPattern::KitGlobal));
        assert_eq!(l.artifacts_root, None);

        let l = loc("out/policies/echo-api-apiPolicy.xml");
        assert_eq!(l.scope, Scope::Api);
        assert_eq!(l.api.as_deref(), Some("echo-api"));

        let l = loc("out/policies/starter-productPolicy.xml");
        assert_eq!(l.scope, Scope::Product);
        assert_eq!(l.product.as_deref(), Some("starter"));

        let l = loc("out/policies/echo-api-get-item-operationPolicy.xml");
        assert_eq!(l.scope, Scope::Operation);
        assert_eq!(l.operation.as_deref(), Some("echo-api-get-item"));
        assert_eq!(l.api, None, "the api/operation split is ambiguous");

        assert_eq!(loc("out/-apiPolicy.xml").scope, Scope::Unknown);
    }
}
