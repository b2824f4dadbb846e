//! `apimfix rule NAME` and `apimfix rules`.

use std::io::Write;

use apimfix::rules::{FixAvailability, Kind, Rule};

use super::Outcome;

pub fn rule(name: &str, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    if let Some(pseudo) = apimfix::report::pseudo_rule(name) {
        writeln!(out, "# {}\n", pseudo.id)?;
        writeln!(out, "{}\n", pseudo.summary)?;
        writeln!(
            out,
            "Not a rule: the id reports (SARIF, rdjson, GitHub) give a file that could not be \
             checked. Always an error; it cannot be turned off.\n"
        )?;
        write!(out, "{}", pseudo.doc)?;
        return Ok(Outcome::Clean);
    }
    let rule: Rule = name.parse().map_err(|e: apimfix::rules::UnknownRule| {
        anyhow::anyhow!("{e}; the reports also use `syntax-error`, `io-error` and `internal-error`")
    })?;
    writeln!(out, "# {}\n", rule.name())?;
    writeln!(out, "{}\n", rule.summary())?;
    writeln!(
        out,
        "Default severity: {}. {}\n",
        rule.default_severity().as_str(),
        match rule.kind() {
            Kind::PerFile => "Checked per file.",
            Kind::CrossScope => "Checked across scopes when a whole repo is given.",
        }
    )?;
    write!(out, "{}", rule.explain())?;
    Ok(Outcome::Clean)
}

pub fn rules(out: &mut dyn Write) -> anyhow::Result<Outcome> {
    writeln!(out, "{:<26} {:<8} {:<9} SUMMARY", "RULE", "SEVERITY", "FIX")?;
    for &rule in Rule::ALL {
        let fix = match rule.fix_availability() {
            FixAvailability::Sometimes => "yes",
            FixAvailability::None => "-",
        };
        writeln!(
            out,
            "{:<26} {:<8} {:<9} {}",
            rule.name(),
            rule.default_severity().as_str(),
            fix,
            rule.summary()
        )?;
    }
    Ok(Outcome::Clean)
}
