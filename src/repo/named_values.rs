//! Named values: `named values/<n>/namedValueInformation.json` (apiops-cli: `namedValues/`),
//! with an environment's overrides on top. Policies refer to them as `{{displayName}}`.
//!
//! A secret named value (`secret: true`), a Key Vault reference (`keyVault`) and a value
//! that is a pipeline placeholder (`{#[TOKEN]#}`, `{#name#}`) are never resolved: their
//! value is never copied out of the file it is in, so no output can show it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::layout::apiops::{NAMED_VALUE_DIRS, NAMED_VALUE_FILES};

/// One named value as the repo (and the environment) declares it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamedValue {
    /// `displayName`: how `{{...}}` refers to it (the name when absent).
    pub display_name: Option<String>,
    /// The value, only when it may be shown: `None` for secrets, Key Vault references,
    /// placeholders and values not written.
    value: Option<String>,
    /// `secret: true` or a Key Vault reference: never shown.
    pub hidden: bool,
}

impl NamedValue {
    /// The value, when it is known and may be shown.
    pub fn shown_value(&self) -> Option<&str> {
        if self.hidden {
            return None;
        }
        self.value.as_deref()
    }

    /// Applies the `properties` of a metadata file or of an override.
    pub(crate) fn apply(&mut self, props: &serde_json::Value) {
        if let Some(name) = props.get("displayName").and_then(|v| v.as_str()) {
            self.display_name = Some(name.to_owned());
        }
        if props.get("secret").and_then(|v| v.as_bool()) == Some(true)
            || props.get("keyVault").is_some_and(|v| !v.is_null())
        {
            self.hidden = true;
            self.value = None;
        } else if props.get("secret").and_then(|v| v.as_bool()) == Some(false)
            && props.get("keyVault").is_none()
            && props.get("value").is_some()
        {
            self.hidden = false;
        }
        if self.hidden {
            return;
        }
        if let Some(value) = props.get("value") {
            self.value = value
                .as_str()
                .filter(|v| !is_placeholder(v))
                .map(str::to_owned);
        }
    }
}

/// Whether a value is a pipeline token placeholder, replaced only at publishing time.
pub fn is_placeholder(value: &str) -> bool {
    value.contains("{#")
}

/// The named values of a repo, by resource name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamedValues {
    by_name: BTreeMap<String, NamedValue>,
}

impl NamedValues {
    /// Reads the named-value folders below `root` (every spelling).
    pub fn read(root: &Path) -> NamedValues {
        let mut out = NamedValues::default();
        for dir in NAMED_VALUE_DIRS {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for entry in entries.flatten() {
                if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                    continue;
                }
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some(bytes) = NAMED_VALUE_FILES
                    .iter()
                    .find_map(|f| std::fs::read(entry.path().join(f)).ok())
                else {
                    continue;
                };
                let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
                    continue;
                };
                let props = json
                    .get_mut("properties")
                    .map(serde_json::Value::take)
                    .unwrap_or(json);
                out.entry(&name).apply(&props);
            }
        }
        out
    }

    /// The named value `name` (case-insensitive, as APIM matches names), created when absent.
    pub(crate) fn entry(&mut self, name: &str) -> &mut NamedValue {
        let key = self
            .by_name
            .keys()
            .find(|k| k.eq_ignore_ascii_case(name))
            .cloned()
            .unwrap_or_else(|| name.to_owned());
        self.by_name.entry(key).or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// What `{{reference}}` stands for: the value of the named value whose display name (or,
    /// without one, name) is `reference`, when it may be shown.
    pub fn lookup(&self, reference: &str) -> Option<&NamedValue> {
        self.by_name.iter().find_map(|(name, v)| {
            let shown = v.display_name.as_deref().unwrap_or(name);
            (shown.eq_ignore_ascii_case(reference) || name.eq_ignore_ascii_case(reference))
                .then_some(v)
        })
    }

    /// Each reference a policy can write (`displayName`, and the name) with its value, for
    /// the named values whose value may be shown.
    pub fn resolvable(&self) -> Arc<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        for (name, v) in &self.by_name {
            let Some(value) = v.shown_value() else {
                continue;
            };
            out.insert(name.clone(), value.to_owned());
            if let Some(display) = &v.display_name {
                out.insert(display.clone(), value.to_owned());
            }
        }
        Arc::new(out)
    }
}

/// `text` with every `{{name}}` that `values` knows replaced by its value; the names
/// replaced, in order of appearance (each once).
pub fn substitute(text: &str, values: &BTreeMap<String, String>) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let mut used = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim();
        let value = values.get(name).or_else(|| {
            values
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        });
        out.push_str(&rest[..start]);
        match value {
            Some(value) => {
                out.push_str(value);
                if !used.iter().any(|u: &String| u == name) {
                    used.push(name.to_owned());
                }
            }
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    (out, used)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_key_vault_and_placeholders_are_never_resolvable() {
        let mut values = NamedValues::default();
        values
            .entry("origin")
            .apply(&json!({"displayName": "frontend-origin", "value": "https://a.com"}));
        values
            .entry("key")
            .apply(&json!({"value": "s3cr3t", "secret": true}));
        values
            .entry("vault")
            .apply(&json!({"keyVault": {"secretIdentifier": "https://kv/secrets/x"}}));
        values
            .entry("token")
            .apply(&json!({"value": "{#[TOKEN]#}"}));
        let map = values.resolvable();
        assert_eq!(
            map.get("frontend-origin").map(String::as_str),
            Some("https://a.com")
        );
        assert_eq!(map.get("origin").map(String::as_str), Some("https://a.com"));
        assert_eq!(map.len(), 2, "{map:?}");
        // An override that makes a value secret hides it for good.
        values
            .entry("ORIGIN")
            .apply(&json!({"secret": true, "value": "x"}));
        assert!(values.resolvable().is_empty());
    }

    #[test]
    fn substitution_keeps_unknown_names() {
        let map: BTreeMap<String, String> =
            [("a".to_owned(), "1".to_owned())].into_iter().collect();
        assert_eq!(
            substitute("x{{a}}y{{b}}z{{ A }}", &map),
            (
                "x1y{{b}}z1".to_owned(),
                vec!["a".to_owned(), "A".to_owned()]
            )
        );
        assert_eq!(substitute("{{a", &map).0, "{{a");
    }
}
