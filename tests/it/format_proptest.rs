//! Property tests of the formatter on generated policy documents: nested elements with
//! attributes, policy expressions in attributes and text (with `<`, `"`, generics and
//! multi-line blocks), comments, mixed content, blank lines and random indentation, under
//! random options. For each: the output parses, formatting it again changes nothing, the
//! expressions keep every byte, only XML whitespace differs from the input, and the line
//! endings are the forced one outside expressions, or the file's own when it had only one.

use apimfix::format::{FormatOptions, IndentStyle, LineEndingOption, format};
use apimfix::syntax::{Document, parse};
use proptest::prelude::*;

fn pick(options: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    prop::sample::select(options).prop_map(str::to_owned)
}

/// Stands for a line break in layout whitespace; each document resolves it to LF or CRLF
/// (see [`LineBreaks`]), while text, values and comments keep their own `\n`.
const BR: char = '\u{1}';

/// Whitespace between items: nothing, spaces, tabs, runs of line breaks.
fn gap() -> impl Strategy<Value = String> + Clone {
    pick(&[
        "",
        " ",
        "\u{1}",
        "\u{1}    ",
        "\u{1}\u{1}",
        "\u{1}\u{1}\u{1}\t\t",
        "\u{1}  ",
        "\u{1}\u{1}",
        "\u{1}\u{1}\u{1}\u{1}    ",
        "\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}",
        "   \u{1} \t ",
        "\t",
    ])
}

fn element_name() -> impl Strategy<Value = String> + Clone {
    pick(&[
        "inbound",
        "choose",
        "when",
        "set-header",
        "value",
        "set-body",
        "send-request",
        "x:item",
        "a",
    ])
}

/// An attribute, with random space around `=` and before it. Values never hold `'`, so
/// either quote character works.
fn attribute() -> impl Strategy<Value = String> + Clone {
    let name = pick(&[
        "name",
        "condition",
        "key",
        "exists-action",
        "template",
        "x-long-attribute-name",
    ]);
    let value = pick(&[
        "plain",
        "",
        "a &amp; b &quot;c&quot;",
        "{{named-value}}",
        r#"@(context.Request.Headers.GetValueOrDefault("X-Tenant", "<none>"))"#,
        "@(context.Variables.GetValueOrDefault<string>(\"k\") != null && 1 < 2)",
        "@{\n    var b = context.Request.Body.As<JObject>(true);\n      return b[\"a\"] > 3 ? \"<x/>\" : \"y\";   \n}",
        "@(context.Request.Body.As&lt;JObject&gt;()[&quot;a&quot;])",
    ]);
    let eq = pick(&["=", " = ", "=\u{1}  "]);
    let lead = pick(&[" ", "  ", "\u{1}      ", "\t"]);
    (lead, name, eq, prop::bool::ANY, value).prop_map(|(lead, name, eq, single, value)| {
        let q = if single && !value.contains('"') {
            '\''
        } else {
            '"'
        };
        format!("{lead}{name}{eq}{q}{value}{q}")
    })
}

fn attributes() -> impl Strategy<Value = String> + Clone {
    (
        prop::collection::vec(attribute(), 0..4),
        pick(&["", " ", "\u{1}  "]),
    )
        .prop_map(|(attrs, tail)| attrs.concat() + &tail)
}

/// Element text: plain, entities, named values, Liquid, inline and multi-line expressions.
fn text() -> impl Strategy<Value = String> + Clone {
    pick(&[
        "text",
        "  spaced   text  ",
        "a &lt; b &#x41;",
        "{{named-value}}",
        "{% if body.x %}{{body.x}}{% endif %}",
        r#"@(context.Variables.GetValueOrDefault<string>("a", "<b>"))"#,
        "@{\n    var x = \"</value>\";\n        return x.Length < 3 ? \"a\" : $\"{x}\";\n}",
        "\n   @(\"indented\")\n",
        "@{\n\n    return \"many lines\";\n\n\n}",
        "@{\n\n\n\n\n\n\n\n    return \"more lines\";\n\n\n\n\n\n\n\n}",
    ])
}

/// Text beside child elements (mixed content). No expressions here: the parser reads an
/// expression as one only when a tag follows it, which mixed text does not promise.
fn mixed_text() -> impl Strategy<Value = String> + Clone {
    pick(&["words", " a &amp; b ", "\n  line\n", "{{named-value}}"])
}

fn comment() -> impl Strategy<Value = String> + Clone {
    pick(&[
        "<!-- note -->",
        "<!--\n   multi   \n  line\n-->",
        "<!-- <base /> -->",
    ])
}

fn element() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        (element_name(), attributes(), pick(&["/>", "/>"]))
            .prop_map(|(n, a, end)| format!("<{n}{a}{end}")),
        (element_name(), attributes(), text()).prop_map(|(n, a, t)| format!("<{n}{a}>{t}</{n}>")),
        (
            element_name(),
            attributes(),
            pick(&["", " ", "\u{1}  \u{1}"])
        )
            .prop_map(|(n, a, ws)| format!("<{n}{a}>{ws}</{n}>")),
        comment(),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        let child = prop_oneof![9 => inner, 1 => mixed_text()];
        (
            element_name(),
            attributes(),
            prop::collection::vec((gap(), child), 0..6),
            gap(),
            pick(&["", " "]),
        )
            .prop_map(|(n, a, children, end_gap, end_space)| {
                let mut s = format!("<{n}{a}>");
                for (gap, child) in children {
                    s.push_str(&gap);
                    s.push_str(&child);
                }
                s.push_str(&end_gap);
                s.push_str(&format!("</{n}{end_space}>"));
                s
            })
    })
}

fn document() -> impl Strategy<Value = String> {
    (
        pick(&[
            "",
            "\u{feff}",
            "<?xml version=\"1.0\"?>\u{1}",
            "<!-- header -->\u{1}\u{1}",
            "\u{1} \u{1}",
        ]),
        prop::collection::vec((gap(), element()), 0..5),
        gap(),
        pick(&["", "\u{1}", "\u{1}\u{1}\u{1}", " <!-- end -->"]),
        prop::sample::select(vec![
            LineBreaks::Lf,
            LineBreaks::Crlf,
            LineBreaks::CrlfLayout,
            LineBreaks::Mixed,
        ]),
    )
        .prop_map(|(prolog, children, end_gap, epilog, breaks)| {
            let mut s = prolog + "<policies>";
            for (gap, child) in children {
                s.push_str(&gap);
                s.push_str(&child);
            }
            s.push_str(&end_gap);
            s.push_str("</policies>");
            s.push_str(&epilog);
            breaks.resolve(&s)
        })
}

/// How a generated document writes its line breaks.
#[derive(Clone, Copy, Debug)]
enum LineBreaks {
    Lf,
    /// CRLF everywhere, inside text and values too.
    Crlf,
    /// CRLF between tags, LF inside text, values and comments: extractor output edited on
    /// Windows, the common kind of mixed file.
    CrlfLayout,
    /// Layout breaks alternate between CRLF and LF.
    Mixed,
}

impl LineBreaks {
    fn resolve(self, text: &str) -> String {
        match self {
            LineBreaks::Lf => text.replace(BR, "\n"),
            LineBreaks::Crlf => text.replace(BR, "\n").replace('\n', "\r\n"),
            LineBreaks::CrlfLayout => text.replace(BR, "\r\n"),
            LineBreaks::Mixed => {
                let mut crlf = false;
                text.chars()
                    .map(|c| match c {
                        BR => {
                            crlf = !crlf;
                            if crlf {
                                "\r\n".to_owned()
                            } else {
                                "\n".to_owned()
                            }
                        }
                        c => c.to_string(),
                    })
                    .collect()
            }
        }
    }
}

fn options() -> impl Strategy<Value = FormatOptions> {
    (
        prop::bool::ANY,
        0usize..6,
        prop::sample::select(vec![20usize, 60, 120]),
        prop::sample::select(vec![
            LineEndingOption::Auto,
            LineEndingOption::Lf,
            LineEndingOption::Crlf,
        ]),
    )
        .prop_map(
            |(tabs, indent_width, line_width, line_ending)| FormatOptions {
                indent_style: if tabs {
                    IndentStyle::Tabs
                } else {
                    IndentStyle::Spaces
                },
                indent_width,
                line_width,
                line_ending,
            },
        )
}

fn expressions(doc: &Document) -> Vec<&str> {
    doc.expressions()
        .iter()
        .map(|e| doc.slice(e.range))
        .collect()
}

/// The text with every policy expression cut out.
fn outside_expressions(doc: &Document) -> String {
    let mut ranges: Vec<_> = doc.expressions().iter().map(|e| e.range).collect();
    ranges.sort();
    let mut out = String::new();
    let mut cursor = 0;
    for range in ranges {
        out.push_str(&doc.source()[cursor..range.start()]);
        cursor = range.end();
    }
    out.push_str(&doc.source()[cursor..]);
    out
}

fn without_whitespace(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn formatting_is_safe_and_idempotent(source in document(), options in options()) {
        let doc = parse(&source).expect("generated documents parse");
        let out = format(&doc, &options);
        let again = parse(&out).map_err(|e| TestCaseError::fail(format!("output does not parse: {e:?}\n{out}")))?;
        prop_assert_eq!(&format(&again, &options), &out, "not idempotent");
        prop_assert_eq!(expressions(&doc), expressions(&again));
        prop_assert_eq!(without_whitespace(&source), without_whitespace(&out));
        prop_assert_eq!(doc.has_bom(), again.has_bom());
        prop_assert!(out.ends_with('\n') && !out.ends_with("\n\n") && !out.ends_with("\n\r\n"));
        let outside = outside_expressions(&again);
        let outside_crlf = outside.matches("\r\n").count();
        match options.line_ending {
            LineEndingOption::Auto => {}
            LineEndingOption::Lf => prop_assert_eq!(outside_crlf, 0),
            LineEndingOption::Crlf => prop_assert_eq!(outside_crlf, outside.matches('\n').count()),
        }
        // A mixed file may settle on its other ending (see `format`); a uniform one never.
        let crlf = source.matches("\r\n").count();
        let uniform = crlf == 0 || crlf == source.matches('\n').count();
        if options.line_ending == LineEndingOption::Auto && uniform {
            prop_assert_eq!(doc.line_ending(), again.line_ending());
        }
    }
}
