//! Where syntax errors point (issue 16 item 7): at the place the parser gave up, with where
//! the unterminated thing opened as the related place; CR-only line endings count as lines.

use apimfix::syntax::parse;
use apimfix::text::LineIndex;

/// The 1-based line of the error's primary range, and of its related one.
fn lines(src: &str) -> (usize, Option<usize>) {
    let e = parse(src).expect_err("does not parse");
    let index = LineIndex::new(src);
    (
        index.line_column(src, e.range.start()).line,
        e.related
            .as_ref()
            .map(|(r, _)| index.line_column(src, r.start()).line),
    )
}

/// Over every cut of each file named in `APIMFIX_TRUNCATION_FILES` (`:`-separated), the
/// share of errors on the line of the cut or the line before. Prints the figures; run with
/// `cargo test --release --test it truncation_share -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement over corpus files, not a check"]
fn truncation_share() {
    let Ok(files) = std::env::var("APIMFIX_TRUNCATION_FILES") else {
        return;
    };
    let (mut all, mut near) = (0usize, 0usize);
    for file in files.split(':') {
        let text = std::fs::read_to_string(file).expect("read");
        let (mut f_all, mut f_near) = (0usize, 0usize);
        for cut in (1..text.len()).filter(|&k| text.is_char_boundary(k)) {
            let src = &text[..cut];
            let Err(e) = parse(src) else { continue };
            let index = LineIndex::new(src);
            let line = index.line_column(src, e.range.start()).line;
            let last = index.line_column(src, cut).line;
            f_all += 1;
            if line + 1 >= last {
                f_near += 1;
            } else if std::env::var("APIMFIX_TRUNCATION_KINDS").is_ok() {
                println!(
                    "far {:?}: {}",
                    e.kind,
                    e.message.chars().take(90).collect::<String>()
                );
            }
        }
        println!(
            "{file}: {f_near}/{f_all} = {:.1}% near the cut",
            100.0 * f_near as f64 / f_all.max(1) as f64
        );
        all += f_all;
        near += f_near;
    }
    println!(
        "all: {near}/{all} = {:.1}% near the cut",
        100.0 * near as f64 / all.max(1) as f64
    );
}

/// The issue's case: the closing quote of an attribute is missing after a multi-line
/// `@{...}`. The error pointed at a `"` inside the expression, two lines too early.
#[test]
fn a_missing_quote_after_a_multiline_expression_points_at_its_end() {
    let text = "<policies>\n    <inbound>\n        <set-variable name=\"x\" value=\"@{\n            var s = \"abc\";\n            return s + \"d\";\n        }/>\n        <base />\n    </inbound>\n</policies>\n";
    let e = parse(text).expect_err("broken");
    assert_eq!(
        e.kind,
        apimfix::syntax::SyntaxErrorKind::UnterminatedAttribute
    );
    assert!(
        e.message.contains("is the closing quote missing?"),
        "{}",
        e.message
    );
    assert_eq!(lines(text), (6, Some(3)));
}

/// Cut inside a multi-line expression in an attribute: the error is where the file ends,
/// and the related place where the expression opened.
#[test]
fn a_cut_inside_an_attribute_expression_points_at_the_cut() {
    let text = "<policies>\n    <inbound>\n        <set-variable name=\"x\" value=\"@{\n            var s = \"abc\";\n            var t = s.Sub";
    let e = parse(text).expect_err("broken");
    assert_eq!(
        e.kind,
        apimfix::syntax::SyntaxErrorKind::UnterminatedExpression
    );
    assert!(
        e.message
            .contains("never closed before the end of the file"),
        "{}",
        e.message
    );
    assert_eq!(lines(text), (5, Some(3)));
}

/// Unclosed things keep pointing where they opened, and now say where the file ended too.
#[test]
fn unclosed_elements_name_the_end_of_the_file_too() {
    let text = "<policies>\n  <inbound>\n    <base />\n";
    let e = parse(text).expect_err("broken");
    let (range, label) = e.related.expect("the end of the file");
    assert_eq!(
        (range.start(), label.as_str()),
        (text.len(), "the file ends here")
    );
}

/// A file saved with old Mac line endings: the error was on line 1, column 42.
#[test]
fn cr_only_line_endings_count_as_lines() {
    let text = "<policies>\r<inbound>\r<base />\r</inbound>\r</policies2>\r";
    let e = parse(text).expect_err("broken");
    let index = LineIndex::new(text);
    let at = index.line_column(text, e.range.start());
    assert_eq!((at.line, at.column), (5, 1));
}

#[test]
fn cr_only_snippets_show_the_right_line() {
    let t = crate::common::TestDir::new();
    t.write(
        "cr.xml",
        "<policies>\r<inbound>\r<base />\r</inbound>\r</policies2>\r",
    );
    let run = t.run(&["check", "cr.xml"]);
    assert!(
        run.stderr
            .contains("cr.xml:5:1: error: mismatched closing tag"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("5 | </policies2>"), "{}", run.stderr);
}
