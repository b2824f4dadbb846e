//! The last check before any output: a rewritten file must parse, and must keep every policy
//! expression byte for byte. A rewrite that fails this is an apimfix bug; the file is then
//! reported and left untouched.

use crate::syntax::{Document, Limits, parse_with};

pub fn verify(before: &Document, after: String) -> Result<Document, String> {
    // The output may be many times the input (indentation): bounded in proportion to it.
    let limits = Limits::default();
    let limits = Limits {
        max_size: limits.max_size.max(crate::format::max_output_len(before)),
        ..limits
    };
    let doc = parse_with(after, &limits)
        .map_err(|e| format!("the rewritten file does not parse ({})", e.message))?;
    let expressions = |d: &Document| {
        let mut v: Vec<String> = d
            .expressions()
            .iter()
            .map(|e| d.slice(e.range).to_owned())
            .collect();
        v.sort();
        v
    };
    if expressions(before) != expressions(&doc) {
        return Err("the rewrite changed a policy expression".to_owned());
    }
    if before.has_bom() != doc.has_bom() {
        return Err("the rewrite changed the byte order mark".to_owned());
    }
    Ok(doc)
}
