//! `apimfix effective`: the composed policy of one chain, offline.

use std::io::Write;

use apimfix::repo::Repo;
use apimfix::report::effective::{to_json, to_xml};

use super::Outcome;
use super::args::{EffectiveArgs, EffectiveFormat};

pub fn run(args: &EffectiveArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    // A Terraform module folder: the model its resources make; else an APIOps repo.
    let repo = match apimfix::engine::iac_repo(&args.root) {
        Some(repo) => repo,
        None => Repo::load(&args.root)?,
    };
    let effective = repo.effective(
        &args.api,
        args.operation.as_deref(),
        args.product.as_deref(),
    )?;
    match args.format {
        EffectiveFormat::Xml => out.write_all(to_xml(&effective).as_bytes())?,
        EffectiveFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &to_json(&effective))?;
            writeln!(out)?;
        }
    }
    Ok(if repo.errors().is_empty() {
        Outcome::Clean
    } else {
        Outcome::Error
    })
}
