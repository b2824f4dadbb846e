//! `apimfix effective`: the composed policy of one chain, offline.

use std::io::Write;

use apimfix::repo::named_values::substitute;
use apimfix::repo::{Repo, RepoError};
use apimfix::report::effective::{to_json, to_xml};

use super::Outcome;
use super::args::{EffectiveArgs, EffectiveFormat};

pub fn run(args: &EffectiveArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    // A Terraform module folder: the model its resources make; else an APIOps repo or a
    // resource-kit creator configuration.
    let mut repo = match apimfix::engine::iac_repo(&args.root) {
        Some(repo) => repo,
        None => Repo::open(&args.root)?,
    };
    if let Some(name) = &args.environment {
        repo.use_environment(name, &[]);
        if let Some(e) = repo.errors().iter().find(|e| {
            matches!(
                e,
                RepoError::NoEnvironment { .. } | RepoError::Environment { .. }
            )
        }) {
            anyhow::bail!("{e}");
        }
    }
    let mut effective = repo.effective(
        &args.api,
        args.operation.as_deref(),
        args.product.as_deref(),
    )?;
    // `{{name}}` shown as its value, for the named values whose value may be shown.
    let mut resolved: Vec<String> = Vec::new();
    if !args.keep_named_values {
        let values = repo.resolvable_named_values();
        for section in &mut effective.sections {
            for statement in &mut section.statements {
                let (text, used) = substitute(&statement.source, &values);
                statement.source = text;
                for name in used {
                    if !resolved.contains(&name) {
                        resolved.push(name);
                    }
                }
            }
        }
        resolved.sort();
        resolved.dedup();
    }
    let values = repo.resolvable_named_values();
    match args.format {
        EffectiveFormat::Xml => {
            if let Some(env) = repo.environment() {
                writeln!(out, "<!-- environment {} -->", comment_safe(env))?;
            }
            for name in &resolved {
                let value = values.get(name).map_or("", String::as_str);
                writeln!(
                    out,
                    "<!-- {{{{{}}}}} -> {} -->",
                    comment_safe(name),
                    comment_safe(value)
                )?;
            }
            out.write_all(to_xml(&effective).as_bytes())?;
        }
        EffectiveFormat::Json => {
            let mut json = to_json(&effective);
            if let Some(map) = json.as_object_mut() {
                map.insert("environment".into(), repo.environment().into());
                let named: serde_json::Map<String, serde_json::Value> = resolved
                    .iter()
                    .filter_map(|n| Some((n.clone(), values.get(n)?.clone().into())))
                    .collect();
                map.insert("named_values".into(), named.into());
            }
            serde_json::to_writer_pretty(&mut *out, &json)?;
            writeln!(out)?;
        }
    }
    Ok(if repo.errors().is_empty() {
        Outcome::Clean
    } else {
        Outcome::Error
    })
}

/// Text fit for an XML comment, which may not hold `--`.
fn comment_safe(text: &str) -> String {
    let mut out = text.replace("--", "- -");
    while out.contains("--") {
        out = out.replace("--", "- -");
    }
    out
}
