//! The effective policy of one chain ([`Effective`], composed by the repo model), as a
//! `<policies>` document or as JSON data: what `apimfix effective` prints.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::repo::{Effective, Statement};

/// A `<policies>` document of the composed sections. Each statement is its source text after
/// a `<!-- from <file>:<line> -->` comment, re-indented to fit: the first line, and the later
/// ones by the same shift when all of them start with the element's original indentation
/// (else they stay as written). [`to_json`] keeps text verbatim.
pub fn to_xml(effective: &Effective) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!-- effective policy of {} -->",
        comment_safe(&effective.chain.to_string())
    );
    out.push_str("<policies>\n");
    for section in &effective.sections {
        let tag = section.section.tag();
        if section.statements.is_empty() {
            let _ = writeln!(out, "  <{tag} />");
            continue;
        }
        let _ = writeln!(out, "  <{tag}>");
        for statement in &section.statements {
            let _ = writeln!(
                out,
                "    <!-- from {}:{} -->",
                comment_safe(&statement.file),
                statement.line
            );
            let _ = writeln!(out, "    {}", reindent(statement, "    "));
        }
        let _ = writeln!(out, "  </{tag}>");
    }
    out.push_str("</policies>\n");
    out
}

/// The same as data: the chain, and per section its statements with `name`, `file`, `line`,
/// `scope`, `fragment` and `source`.
pub fn to_json(effective: &Effective) -> Value {
    let mut sections = serde_json::Map::new();
    for section in &effective.sections {
        let statements: Vec<Value> = section
            .statements
            .iter()
            .map(|s| {
                json!({
                    "name": s.name,
                    "file": s.file,
                    "line": s.line,
                    "scope": s.scope.as_str(),
                    "fragment": s.fragment,
                    "source": s.source,
                })
            })
            .collect();
        sections.insert(section.section.tag().to_owned(), Value::Array(statements));
    }
    json!({
        "workspace": effective.chain.workspace,
        "api": effective.chain.api,
        "product": effective.chain.product,
        "operation": effective.chain.operation,
        "sections": sections,
    })
}

/// `statement`'s source with its later lines moved from its original indentation to `to`.
fn reindent(statement: &Statement, to: &str) -> String {
    let Some(from) = statement.indent.as_deref() else {
        return statement.source.clone();
    };
    let mut lines = statement.source.split('\n');
    let first = lines.next().unwrap_or_default();
    let rest: Vec<&str> = lines.collect();
    // Blank lines need no indentation; any other line must carry the original one.
    let shiftable = rest
        .iter()
        .all(|l| l.trim().is_empty() || l.starts_with(from));
    if !shiftable {
        return statement.source.clone();
    }
    let mut out = first.to_owned();
    for line in rest {
        out.push('\n');
        if let Some(tail) = line.strip_prefix(from).filter(|t| !t.trim().is_empty()) {
            out.push_str(to);
            out.push_str(tail);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Text fit for an XML comment, which may not hold `--`.
fn comment_safe(text: &str) -> String {
    let mut out = text.replace("--", "- -");
    while out.contains("--") {
        out = out.replace("--", "- -");
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::layout::Scope;
    use crate::text::TextRange;

    fn statement(source: &str, indent: Option<&str>) -> Statement {
        Statement {
            name: "x".to_owned(),
            path: PathBuf::new(),
            file: String::new(),
            scope: Scope::Api,
            line: 1,
            range: TextRange::default(),
            source: source.to_owned(),
            indent: indent.map(str::to_owned),
            fragment: None,
        }
    }

    #[test]
    fn later_lines_shift_with_the_first() {
        let s = statement("<a>\n\t\t\t<b />\n\n\t\t</a>", Some("\t\t"));
        assert_eq!(reindent(&s, "    "), "<a>\n    \t<b />\n\n    </a>");
    }

    #[test]
    fn lines_outdented_below_the_element_stay_verbatim() {
        // A multi-line expression whose text starts at column 0 cannot be shifted safely.
        let source = "<set-body>@{\nreturn \"x\";\n  }</set-body>";
        let s = statement(source, Some("  "));
        assert_eq!(reindent(&s, "    "), source);
        let s = statement(source, None);
        assert_eq!(reindent(&s, "    "), source);
    }

    #[test]
    fn comments_never_hold_a_double_hyphen() {
        assert_eq!(
            comment_safe("apis/a--b/policy.xml"),
            "apis/a- -b/policy.xml"
        );
        assert!(!comment_safe("a---b----c").contains("--"));
    }
}
