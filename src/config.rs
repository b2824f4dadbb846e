//! `rules.yaml`: which rules run, with which options, on which files.
//!
//! The types here are the schema. Unknown keys are rejected, so a typo never silently turns
//! into a default.

use serde::Deserialize;

use crate::format::FormatOptions;
use crate::scope::Scope;

/// A whole configuration file.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Config {
    pub rules: RulesConfig,
    pub format: FormatOptions,
    /// Globs (gitignore-style, relative to the config file's folder) of files never read.
    pub exclude: Vec<String>,
    /// Globs mapped to rule names that are not reported for matching files.
    pub per_file_ignores: std::collections::BTreeMap<String, Vec<String>>,
    /// Globs mapped to the scope of matching files, for layouts the path rules do not know.
    pub scopes: std::collections::BTreeMap<String, Scope>,
    /// Apply fixes that change what the gateway does (see each rule's "Fix safety").
    pub unsafe_fixes: bool,
}

/// A rule turned on (`true`), off (`false`), or on with options (a map).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Toggle<T> {
    Enabled(bool),
    Options(T),
}

impl<T: Default + Clone> Toggle<T> {
    pub fn is_enabled(&self) -> bool {
        !matches!(self, Toggle::Enabled(false))
    }

    /// The options, defaults when given as `true`/`false`.
    pub fn options(&self) -> T {
        match self {
            Toggle::Enabled(_) => T::default(),
            Toggle::Options(options) => options.clone(),
        }
    }
}

impl<T> Default for Toggle<T> {
    fn default() -> Self {
        Toggle::Enabled(true)
    }
}

/// No options: the rule is only turned on or off.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoOptions {}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct RulesConfig {
    pub base_missing: Toggle<NoOptions>,
    pub base_forbidden: Toggle<NoOptions>,
    pub base_duplicate: Toggle<NoOptions>,
    pub base_first: Toggle<BaseFirstOptions>,
    pub cors_first: Toggle<GateOptions>,
    pub cors_origins: Toggle<CorsOriginsOptions>,
    pub cors_wildcard_credentials: Toggle<NoOptions>,
    pub cors_duplicate: Toggle<NoOptions>,
    pub cors_outside_inbound: Toggle<NoOptions>,
    pub cors_shadowed: Toggle<NoOptions>,
    pub cors_product_scope: Toggle<NoOptions>,
}

/// The default gate policies: the ones that reject calls with their own response.
pub const DEFAULT_GATES: [&str; 4] = ["rate-limit", "rate-limit-by-key", "quota", "quota-by-key"];

/// Options of `cors-first`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct GateOptions {
    /// Policies that must not run before `<cors>` (replaces the default list).
    pub gates: Vec<String>,
    /// Added to `gates` (e.g. `validate-jwt`, `ip-filter`, `check-header`).
    pub extend_gates: Vec<String>,
}

impl Default for GateOptions {
    fn default() -> Self {
        Self {
            gates: DEFAULT_GATES.iter().map(|g| (*g).to_owned()).collect(),
            extend_gates: Vec::new(),
        }
    }
}

impl GateOptions {
    /// Whether element `name` is a gate (ASCII case-insensitive).
    pub fn is_gate(&self, name: &str) -> bool {
        self.gates
            .iter()
            .chain(&self.extend_gates)
            .any(|g| g.eq_ignore_ascii_case(name))
    }
}

/// Options of `base-first`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct BaseFirstOptions {
    /// Say that the global policy has `<cors>`, for runs on single files where the repo is
    /// not known. When the repo is known, its global policy decides.
    pub global_has_cors: bool,
}

/// Options of `cors-origins`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct CorsOriginsOptions {
    /// Origins the front ends call from, e.g. `https://portal.contoso.com`.
    pub origins: Vec<String>,
    /// The `<cors>` created at global scope when no scope has one.
    pub template: CorsTemplate,
}

/// What a newly created `<cors>` allows besides the declared origins.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct CorsTemplate {
    pub allow_credentials: bool,
    pub methods: Vec<String>,
    pub headers: Vec<String>,
    pub expose_headers: Vec<String>,
    /// `preflight-result-max-age` in seconds; omitted when `None`.
    pub preflight_result_max_age: Option<u32>,
}

impl Default for CorsTemplate {
    fn default() -> Self {
        Self {
            allow_credentials: false,
            methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
                .map(str::to_owned)
                .to_vec(),
            headers: vec!["*".to_owned()],
            expose_headers: Vec::new(),
            preflight_result_max_age: Some(300),
        }
    }
}
