//! The scope a policy file applies at, which decides the rules that hold for it.
//!
//! APIM composes policies from broad to narrow: global -> workspace -> product -> API ->
//! operation. Fragments stand outside that chain and are pulled in by `include-fragment`.

use std::fmt;

/// Where in APIM's scope hierarchy a policy file applies.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// "All APIs": the service policy. Has no parent, so `<base />` is forbidden.
    Global,
    Workspace,
    Product,
    Api,
    Operation,
    /// A `<fragment>`: no sections and no `<base />`.
    Fragment,
    /// Not inferable from the path or the content. Scope-dependent rules stay silent.
    Unknown,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::Global,
        Scope::Workspace,
        Scope::Product,
        Scope::Api,
        Scope::Operation,
        Scope::Fragment,
        Scope::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Workspace => "workspace",
            Scope::Product => "product",
            Scope::Api => "api",
            Scope::Operation => "operation",
            Scope::Fragment => "fragment",
            Scope::Unknown => "unknown",
        }
    }

    /// Whether the scope has a parent whose sections `<base />` pulls in.
    pub fn has_parent(self) -> bool {
        matches!(
            self,
            Scope::Workspace | Scope::Product | Scope::Api | Scope::Operation
        )
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown scope `{s}`; expected one of: {}", known.join(", "))
            })
    }
}
