//! Generated policy documents, with raw C# policy expressions of every shape the scanner
//! must balance, parse losslessly, and every generated expression is found with its exact
//! range.

use apimfix::syntax::parse;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

// --- C# ------------------------------------------------------------------------------------

fn pieces(list: &'static [&'static str], max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(list), 0..max).prop_map(|v| v.concat())
}

/// A C# string literal whose body holds brackets, quotes and markup.
fn string_literal() -> impl Strategy<Value = String> {
    pieces(
        &[
            ")",
            "}",
            "]",
            "(",
            "{",
            "[",
            "<",
            ">",
            "</set-body>",
            "<?xml ?>",
            "\\\"",
            "\\\\",
            "'",
            "a",
            " ",
            "&&",
            "@(",
            "{{nv}}",
            "é",
            "//",
            "/*",
        ],
        8,
    )
    .prop_map(|body| format!("\"{body}\""))
}

fn csharp() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("context.Request.Method".to_owned()),
        Just("42".to_owned()),
        string_literal(),
        Just(r#"@"C:\dir ""quoted"" )}]""#.to_owned()),
        Just(r#"$"{context.RequestId}-{f("}")}""#.to_owned()),
        Just(r#"$@"{{literal}} ""{x}"" )""#.to_owned()),
        Just(r#"@$"{a["k"]}(""#.to_owned()),
        Just("'\"'".to_owned()),
        Just("')'".to_owned()),
        Just(r"'\''".to_owned()),
        Just("'{'".to_owned()),
        Just("'<'".to_owned()),
        Just(r#"context.Variables.GetValueOrDefault<string>("k", "d")"#.to_owned()),
        Just("body.As<JObject>(preserveContent: true)".to_owned()),
        Just("new List<Dictionary<string, int>>()".to_owned()),
        Just(r#""{{named-value}}""#.to_owned()),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| format!("({e})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("f({a}, {b})")),
            (
                inner.clone(),
                prop::sample::select(&["&&", "||", "<", ">", ">=", "<=", "==", "+", "??"][..]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("x[{a}][{b}]")),
            inner.clone().prop_map(|e| format!("items.Any(i => {e})")),
            inner.prop_map(|e| format!("new[] {{ {e} }}")),
        ]
    })
}

/// A whole policy expression: `@(...)` or a `@{...}` block with comments.
fn expression() -> impl Strategy<Value = String> {
    prop_oneof![
        csharp().prop_map(|e| format!("@({e})")),
        csharp().prop_map(|e| format!("@{{ return {e}; }}")),
        (csharp(), space()).prop_map(|(e, ws)| format!(
            "@{{{ws}var v = {e}; // ) }} \"\n/* ( {{ \" */{ws}return v;{ws}}}"
        )),
    ]
}

// --- XML -----------------------------------------------------------------------------------

fn space() -> impl Strategy<Value = String> {
    pieces(&[" ", "  ", "\t", "\n", "\r\n"], 3)
}

fn some_space() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&[" ", "\t", "\n", "\r\n"][..]),
        space(),
    )
        .prop_map(|(a, b)| format!("{a}{b}"))
}

fn text() -> impl Strategy<Value = String> {
    pieces(
        &[
            "hello",
            " ",
            "{{nv}}",
            "&amp;",
            "&lt;x&gt;",
            "&#xA;",
            "{% if a %}",
            "{% endif %}",
            "${var}",
            "%{ if x }",
            "é",
            "a@b.c",
            "\t",
            "\n",
            "\r\n",
            "日本",
            "]]",
            "--",
            "?>",
            "\"",
            "'",
        ],
        6,
    )
}

#[derive(Clone, Debug)]
enum Value {
    Plain(String),
    /// Text, then an expression that ends the value (maybe followed by spaces).
    Expression(String, String, String),
}

#[derive(Clone, Debug)]
struct Attr {
    before: String,
    name: &'static str,
    around_eq: (String, String),
    quote: char,
    value: Value,
}

#[derive(Clone, Debug)]
enum Child {
    Element(Element),
    Text(String),
    /// `<value>` holding text, then an expression.
    Value(String, String),
    Comment(String),
    CData(String),
    CDataExpression(String),
}

#[derive(Clone, Debug)]
struct Element {
    name: &'static str,
    attrs: Vec<Attr>,
    before_close: String,
    /// `None`: self-closing.
    children: Option<Vec<Child>>,
}

fn attr() -> impl Strategy<Value = Attr> {
    let plain = pieces(
        &["v", " ", "{{nv}}", "&amp;", "&quot;", "${x}", "a@b", "é"],
        4,
    )
    .prop_map(Value::Plain);
    let expr = (
        pieces(&["Bearer ", "x", "{{nv}}/"], 2),
        expression(),
        pieces(&[" ", "\n"], 2),
    )
        .prop_map(|(p, e, s)| Value::Expression(p, e, s));
    (
        some_space(),
        prop::sample::select(&["name", "value", "condition", "key", "soap:id", "a-b.c"][..]),
        (space(), space()),
        prop::sample::select(&['"', '\''][..]),
        prop_oneof![plain, expr],
    )
        .prop_map(|(before, name, around_eq, quote, value)| Attr {
            before,
            name,
            around_eq,
            quote,
            value,
        })
}

fn leaf_child() -> impl Strategy<Value = Child> {
    prop_oneof![
        text().prop_map(Child::Text),
        (pieces(&["Bearer ", "x "], 1), expression()).prop_map(|(p, e)| Child::Value(p, e)),
        pieces(&["c", " ", "-", "<base />", "{{nv}}", "é"], 5).prop_map(Child::Comment),
        pieces(&["<raw>", "&", "\"", "a < b", "]]", "@", " "], 5).prop_map(Child::CData),
        expression().prop_map(Child::CDataExpression),
    ]
}

fn element(depth: u32) -> BoxedStrategy<Element> {
    let children = if depth == 0 {
        prop::collection::vec(leaf_child(), 0..4).boxed()
    } else {
        prop::collection::vec(
            prop_oneof![
                2 => leaf_child(),
                1 => element(depth - 1).prop_map(Child::Element),
            ],
            0..4,
        )
        .boxed()
    };
    (
        prop::sample::select(
            &[
                "set-variable",
                "set-header",
                "choose",
                "when",
                "set-body",
                "base",
                "soap:Envelope",
            ][..],
        ),
        prop::collection::vec(attr(), 0..3),
        space(),
        prop::option::weighted(0.8, children),
    )
        .prop_map(|(name, attrs, before_close, children)| Element {
            name,
            attrs,
            before_close,
            children,
        })
        .boxed()
}

#[derive(Clone, Debug)]
struct Doc {
    bom: bool,
    declaration: bool,
    leading: String,
    root: &'static str,
    sections: Vec<(&'static str, Vec<Element>, String)>,
    trailing: String,
}

fn document() -> impl Strategy<Value = Doc> {
    (
        any::<bool>(),
        any::<bool>(),
        space(),
        prop::sample::select(&["policies", "fragment"][..]),
        prop::collection::vec(
            (
                prop::sample::select(&["inbound", "backend", "outbound", "on-error"][..]),
                prop::collection::vec(element(2), 0..4),
                space(),
            ),
            0..4,
        ),
        space(),
    )
        .prop_map(
            |(bom, declaration, leading, root, sections, trailing)| Doc {
                bom,
                declaration,
                leading,
                root,
                sections,
                trailing,
            },
        )
}

// --- Rendering, with the range of every expression -------------------------------------------

#[derive(Debug, PartialEq, Eq)]
struct Expected {
    range: (usize, usize),
    block: bool,
    in_attribute: bool,
}

#[derive(Default)]
struct Out {
    text: String,
    expressions: Vec<Expected>,
}

impl Out {
    fn expression(&mut self, e: &str, in_attribute: bool) {
        let start = self.text.len();
        self.text.push_str(e);
        self.expressions.push(Expected {
            range: (start, self.text.len()),
            block: e.starts_with("@{"),
            in_attribute,
        });
    }

    fn element(&mut self, el: &Element) {
        self.text.push('<');
        self.text.push_str(el.name);
        for (i, a) in el.attrs.iter().enumerate() {
            // Attributes may run together after a value, never after the name.
            if i == 0 || a.before.len() % 2 == 0 {
                self.text.push_str(&a.before);
            }
            self.text.push_str(a.name);
            self.text.push_str(&a.around_eq.0);
            self.text.push('=');
            self.text.push_str(&a.around_eq.1);
            self.text.push(a.quote);
            match &a.value {
                // A plain value holds no quote of its own kind.
                Value::Plain(v) => self.text.push_str(&v.replace(a.quote, "")),
                Value::Expression(prefix, e, after) => {
                    self.text.push_str(prefix);
                    self.expression(e, true);
                    self.text.push_str(after);
                }
            }
            self.text.push(a.quote);
        }
        self.text.push_str(&el.before_close);
        match &el.children {
            None => self.text.push_str("/>"),
            Some(children) => {
                self.text.push('>');
                for child in children {
                    self.child(child);
                }
                self.text.push_str("</");
                self.text.push_str(el.name);
                self.text.push('>');
            }
        }
    }

    fn child(&mut self, child: &Child) {
        match child {
            Child::Element(el) => self.element(el),
            Child::Text(t) => self.text.push_str(t),
            Child::Value(prefix, e) => {
                self.text.push_str("<value>");
                self.text.push_str(prefix);
                self.expression(e, false);
                self.text.push_str("</value>");
            }
            Child::Comment(c) => {
                self.text.push_str("<!--");
                self.text.push_str(c);
                self.text.push_str("-->");
            }
            Child::CData(c) => {
                self.text.push_str("<![CDATA[");
                self.text.push_str(c);
                self.text.push_str("]]>");
            }
            // `]]>` would end the section inside the C#: write such an expression as text.
            Child::CDataExpression(e) if e.contains("]]>") => {
                self.child(&Child::Value(String::new(), e.clone()))
            }
            Child::CDataExpression(e) => {
                self.text.push_str("<![CDATA[");
                self.expression(e, false);
                self.text.push_str("]]>");
            }
        }
    }

    fn document(doc: &Doc) -> Out {
        let mut out = Out::default();
        if doc.bom {
            out.text.push('\u{feff}');
        }
        if doc.declaration {
            out.text
                .push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
        }
        out.text.push_str(&doc.leading);
        out.text.push_str(&format!("<{}>", doc.root));
        for (name, elements, ws) in &doc.sections {
            out.text.push_str(ws);
            out.element(&Element {
                name,
                attrs: Vec::new(),
                before_close: String::new(),
                children: Some(elements.iter().cloned().map(Child::Element).collect()),
            });
        }
        out.text.push_str(&format!("</{}>", doc.root));
        out.text.push_str(&doc.trailing);
        out
    }
}

fn check(out: &Out) -> Result<(), TestCaseError> {
    let doc = parse(&out.text).map_err(|e| {
        TestCaseError::fail(format!(
            "{:?} at {:?}: {}\n{}",
            e.kind, e.range, e.message, out.text
        ))
    })?;
    prop_assert_eq!(doc.print(), out.text.as_str());
    prop_assert_eq!(doc.check_tiling(), Ok(()));
    let found: Vec<Expected> = doc
        .expressions()
        .iter()
        .map(|e| Expected {
            range: (e.range.start(), e.range.end()),
            block: e.block,
            in_attribute: e.in_attribute,
        })
        .collect();
    prop_assert_eq!(&found, &out.expressions, "in\n{}", out.text);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn generated_documents_parse_losslessly_with_every_expression(doc in document()) {
        check(&Out::document(&doc))?;
    }

    /// Each expression alone, in each place it may stand, so shrinking finds the culprit.
    #[test]
    fn every_expression_shape_is_balanced(e in expression(), quote in prop::sample::select(&['"', '\''][..])) {
        let mut out = Out::default();
        out.text.push_str("<policies><inbound><set-variable name=\"v\" value=");
        out.text.push(quote);
        out.expression(&e, true);
        out.text.push(quote);
        out.text.push_str(" /><set-body>");
        out.expression(&e, false);
        out.text.push_str("</set-body></inbound></policies>");
        check(&out)?;
    }
}
