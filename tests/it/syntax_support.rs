//! Helpers shared by the `syntax_*` integration tests.
#![allow(dead_code)] // Each test crate uses a different part of this module.

use std::path::{Path, PathBuf};

use apimfix::syntax::{Document, ElementRef, NodeKind};
use apimfix::text::{LineColumn, LineIndex};

/// The fixture folder of the syntax tests.
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/syntax")
}

pub use crate::common::xml_files;

/// The fixtures' bytes, by file name.
pub fn fixtures() -> Vec<(String, Vec<u8>)> {
    xml_files(&fixture_dir())
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&p).unwrap();
            (name, bytes)
        })
        .collect()
}

/// The root and every element below it, in document order.
pub fn elements(doc: &Document) -> Vec<ElementRef<'_>> {
    std::iter::once(doc.root())
        .chain(doc.root().descendants())
        .collect()
}

/// The element names in document order.
pub fn element_names(doc: &Document) -> Vec<&str> {
    elements(doc).into_iter().map(|e| e.name()).collect()
}

/// The source text of every policy expression, in order.
pub fn expression_texts(doc: &Document) -> Vec<&str> {
    doc.expressions()
        .iter()
        .map(|e| doc.slice(e.range))
        .collect()
}

/// 1-based line and column of `offset`.
pub fn line_col(text: &str, offset: usize) -> LineColumn {
    LineIndex::new(text).line_column(text, offset)
}

/// The checks every parsed file must pass: it prints back byte for byte, its tree tiles the
/// source, its root is a policy root, and each expression is a bracketed span inside an
/// attribute value, text or CDATA.
pub fn check_lossless(doc: &Document, input: &[u8]) -> Result<(), String> {
    if doc.print().as_bytes() != input {
        return Err("print() differs from the input".to_owned());
    }
    doc.check_tiling()?;
    let root = doc.root().name();
    if root != "policies" && root != "fragment" {
        return Err(format!("root is `{root}`"));
    }
    let mut holders = Vec::new();
    for (id, node) in doc.nodes() {
        match &node.kind {
            NodeKind::Element(_) => {
                let el = doc.element(id).expect("an element node");
                holders.extend(el.attributes().iter().map(|a| a.value));
            }
            NodeKind::Text { .. } | NodeKind::CData => holders.push(node.range),
            _ => {}
        }
    }
    let mut previous_end = 0;
    for e in doc.expressions() {
        let text = doc.slice(e.range);
        // An expression read as plain XML may begin or end with a character reference
        // (`&#64;(x&#41;`); its decoded text is what balances.
        let (open, close) = if e.block { ("@{", '}') } else { ("@(", ')') };
        let balanced = (text.starts_with(open) || text.starts_with('&'))
            && (text.ends_with(close) || text.ends_with(';'));
        if !balanced {
            return Err(format!(
                "expression {:?} is not bracketed: {text:?}",
                e.range
            ));
        }
        if e.range.start() < previous_end {
            return Err(format!("expression {:?} is out of order", e.range));
        }
        previous_end = e.range.end();
        if !holders.iter().any(|h| h.contains_range(e.range)) {
            return Err(format!("expression {:?} lies in no value or text", e.range));
        }
    }
    Ok(())
}
