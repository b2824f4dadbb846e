//! The formatter never fails on valid input (issue 16 item 6): its output may be many times
//! larger than the input, and is bounded in proportion to it rather than by the input limit.

use crate::common::TestDir;

/// About 1 MB: 250,000 empty elements inside 10 nested `<choose><when>`. Each gets a line
/// and an indentation of 24 levels, so the output is about 25 MB.
fn deep_and_wide() -> String {
    let mut doc = String::from("<policies><inbound>");
    for _ in 0..10 {
        doc.push_str("<choose><when condition=\"true\">");
    }
    doc.push_str(&"<a/>".repeat(250_000));
    for _ in 0..10 {
        doc.push_str("</when></choose>");
    }
    doc.push_str("</inbound></policies>\n");
    doc
}

#[test]
fn output_many_times_the_input_is_not_an_error() {
    let t = TestDir::new();
    let source = deep_and_wide();
    assert!(source.len() > 1_000_000 && source.len() < 1_100_000);
    t.write("policy.xml", &source);
    let run = t.run(&["fmt", "--write", "-q", "policy.xml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = t.read("policy.xml");
    assert!(out.len() > 8 * 1024 * 1024, "{} bytes", out.len());
    // Past the input limit, the output cannot be read back by a later run; with a larger
    // limit it formats to itself.
    let limits = apimfix::syntax::Limits {
        max_size: out.len(),
        ..Default::default()
    };
    let doc = apimfix::syntax::parse_with(out.clone(), &limits).expect("the output parses");
    assert!(apimfix::format::format(&doc, &Default::default()) == out);
}

#[test]
fn the_output_bound_grows_with_the_input() {
    let doc = apimfix::syntax::parse(&deep_and_wide()).expect("parses");
    let out = apimfix::format::format(&doc, &Default::default());
    let limit = apimfix::format::max_output_len(&doc);
    assert!(out.len() <= limit, "{} > {limit}", out.len());
    // Loose (any indentation width, every line at the deepest level), but in proportion.
    assert!(limit < 400 * doc.source().len(), "{limit}");
}
