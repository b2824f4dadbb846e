//! One test per construct the parser must read: the 13 tricky inputs of the policy reference
//! (§6.4), XML's own corners, templating languages, encodings and line endings, and the
//! `Document` helpers. Each asserts the tree, not just that parsing succeeds.

use crate::syntax_support::{check_lossless, element_names, expression_texts};
use apimfix::syntax::{
    Document, ElementRef, Expression, LineEnding, NodeId, NodeKind, RootKind, parse,
};
use apimfix::text::{Ranged, TextRange};

/// Parses `text`, which must succeed and round-trip.
fn parse_ok(text: &str) -> Document {
    let doc = parse(text).unwrap_or_else(|e| panic!("{:?}: {}\n{text}", e.kind, e.message));
    check_lossless(&doc, text.as_bytes()).unwrap();
    doc
}

/// `inner` inside `<policies><inbound>`.
fn inbound(inner: &str) -> String {
    format!("<policies>\n  <inbound>\n    {inner}\n  </inbound>\n</policies>\n")
}

/// The first element named `name`.
fn el<'a>(doc: &'a Document, name: &str) -> ElementRef<'a> {
    std::iter::once(doc.root())
        .chain(doc.root().descendants())
        .find(|e| e.name() == name)
        .unwrap_or_else(|| panic!("no <{name}> in {:?}", element_names(doc)))
}

/// The range of the first occurrence of `needle` in `text`.
fn range_of(text: &str, needle: &str) -> TextRange {
    let start = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in text"));
    TextRange::new(start, start + needle.len())
}

fn kind_name(kind: &NodeKind) -> &'static str {
    match kind {
        NodeKind::Bom => "bom",
        NodeKind::Element(_) => "element",
        NodeKind::Text {
            whitespace_only: true,
        } => "space",
        NodeKind::Text { .. } => "text",
        NodeKind::Comment => "comment",
        NodeKind::CData => "cdata",
        NodeKind::ProcessingInstruction => "pi",
        NodeKind::Doctype => "doctype",
    }
}

fn kinds(doc: &Document, ids: &[NodeId]) -> Vec<&'static str> {
    ids.iter()
        .map(|&id| kind_name(&doc.node(id).kind))
        .collect()
}

/// The one expression of `doc`, which must span `expected` exactly.
fn only_expression(doc: &Document, expected: &str) -> Expression {
    assert_eq!(expression_texts(doc), [expected]);
    let e = doc.expressions()[0];
    assert_eq!(e.range, range_of(doc.source(), expected));
    assert_eq!(e.block, expected.starts_with("@{"));
    e
}

// --- The 13 tricky inputs of apim-policy-reference.md §6.4 -------------------------------

#[test]
fn tricky_01_double_quotes_inside_a_double_quoted_attribute() {
    let expr = r#"@(context.Request.Headers.GetValueOrDefault("X-Tenant", "none"))"#;
    let text = inbound(&format!(r#"<set-variable name="tenant" value="{expr}" />"#));
    let doc = parse_ok(&text);
    let set = el(&doc, "set-variable");
    assert_eq!(set.attr("name"), Some("tenant"));
    assert_eq!(set.attr("value"), Some(expr));
    assert!(set.is_self_closing());
    assert!(only_expression(&doc, expr).in_attribute);
    assert_eq!(element_names(&doc), ["policies", "inbound", "set-variable"]);
}

#[test]
fn tricky_02_comparison_and_logical_operators_in_an_attribute() {
    let expr = "@(context.Response.StatusCode >= 400 && context.Response.StatusCode < 500)";
    let text = inbound(&format!(
        r#"<choose><when condition="{expr}"><set-status code="502" /></when></choose>"#
    ));
    let doc = parse_ok(&text);
    assert_eq!(el(&doc, "when").attr("condition"), Some(expr));
    assert!(only_expression(&doc, expr).in_attribute);
    assert_eq!(
        element_names(&doc),
        ["policies", "inbound", "choose", "when", "set-status"]
    );
}

#[test]
fn tricky_03_generic_type_argument_is_not_a_tag() {
    let expr = r#"@(context.Variables.GetValueOrDefault<string>("cacheKey", "all"))"#;
    let text = inbound(&format!(
        r#"<cache-lookup-value key="{expr}" variable-name="hit" />"#
    ));
    let doc = parse_ok(&text);
    let lookup = el(&doc, "cache-lookup-value");
    assert_eq!(lookup.attr("key"), Some(expr));
    assert_eq!(lookup.attr("variable-name"), Some("hit"));
    only_expression(&doc, expr);
    assert_eq!(
        element_names(&doc),
        ["policies", "inbound", "cache-lookup-value"]
    );
}

#[test]
fn tricky_04_block_in_text_with_generics_lambda_and_markup_in_strings() {
    let expr = r#"@{
    var body = context.Request.Body.As<JObject>(preserveContent: true);
    var ok = body["items"]?.Any(i => (int)i["qty"] > 0) ?? false;
    return ok ? "<ok/>" : "</set-body>";   // string literal containing a closing tag
}"#;
    let text = inbound(&format!("<set-body>{expr}</set-body>"));
    let doc = parse_ok(&text);
    let body = el(&doc, "set-body");
    assert_eq!(kinds(&doc, body.children()), ["text"]);
    assert_eq!(doc.slice(body.inner_range()), expr);
    let e = only_expression(&doc, expr);
    assert!(e.block && !e.in_attribute);
    assert_eq!(element_names(&doc), ["policies", "inbound", "set-body"]);
}

#[test]
fn tricky_05_verbatim_string_with_named_group_and_doubled_quote() {
    let expr = r#"@(Regex.Match(context.Response.Headers.GetValueOrDefault("Cache-Control",""), @"max-age=(?<age>\d+)""?").Groups["age"]?.Value)"#;
    let text = inbound(&format!(r#"<set-variable name="age" value="{expr}" />"#));
    let doc = parse_ok(&text);
    assert_eq!(el(&doc, "set-variable").attr("value"), Some(expr));
    only_expression(&doc, expr);
}

#[test]
fn tricky_06_single_quoted_attribute_holding_double_quotes() {
    let expr = r#"@(context.Api.ServiceUrl.ToString().Replace("https", "http"))"#;
    let text = inbound(&format!("<set-backend-service base-url='{expr}' />"));
    let doc = parse_ok(&text);
    let backend = el(&doc, "set-backend-service");
    assert_eq!(backend.attr("base-url"), Some(expr));
    assert_eq!(backend.attributes()[0].quote, b'\'');
    only_expression(&doc, expr);
}

#[test]
fn tricky_07_entity_escaped_expression_is_kept_as_written() {
    let expr =
        "@(context.Request.Body.As&lt;JObject&gt;(preserveContent: true)[&quot;a&quot;] != null)";
    let text = inbound(&format!(
        r#"<choose><when condition="{expr}"><base /></when></choose>"#
    ));
    let doc = parse_ok(&text);
    assert_eq!(el(&doc, "when").attr("condition"), Some(expr));
    assert!(only_expression(&doc, expr).in_attribute);
}

#[test]
fn tricky_08_char_literals_holding_a_quote_and_a_paren() {
    let expr = r#"@(context.Request.Url.Path.Trim('"').Split(')').Last())"#;
    let text = inbound(&format!(r#"<set-variable name="p" value="{expr}" />"#));
    let doc = parse_ok(&text);
    assert_eq!(el(&doc, "set-variable").attr("value"), Some(expr));
    only_expression(&doc, expr);
}

#[test]
fn tricky_09_csharp_comments_holding_brackets() {
    let expr = "@{ /* } ) */ return \"x\"; // )\n}";
    let text = inbound(&format!(
        r#"<set-header name="a" exists-action="override"><value>{expr}</value></set-header>"#
    ));
    let doc = parse_ok(&text);
    assert_eq!(doc.slice(el(&doc, "value").inner_range()), expr);
    let e = only_expression(&doc, expr);
    assert!(e.block && !e.in_attribute);
}

#[test]
fn tricky_10_named_values_inside_an_expression() {
    let expr = r#"@("{{env}}" == "prod" && context.Request.Method != "OPTIONS")"#;
    let text = inbound(&format!(
        r#"<choose><when condition="{expr}"><base /></when></choose>"#
    ));
    let doc = parse_ok(&text);
    assert_eq!(el(&doc, "when").attr("condition"), Some(expr));
    only_expression(&doc, expr);
}

#[test]
fn tricky_11_commented_out_policies_are_one_comment() {
    let comment =
        "<!-- <base /> <cors><allowed-origins><origin>*</origin></allowed-origins></cors> -->";
    let text = inbound(comment);
    let doc = parse_ok(&text);
    assert_eq!(element_names(&doc), ["policies", "inbound"]);
    let inbound = el(&doc, "inbound");
    assert_eq!(
        kinds(&doc, inbound.children()),
        ["space", "comment", "space"]
    );
    assert_eq!(
        doc.node(inbound.children()[1]).range,
        range_of(&text, comment)
    );
}

#[test]
fn tricky_12_interpolated_string_with_braces() {
    let expr = r#"@($"{context.RequestId}-{context.Api.Name}")"#;
    let text = inbound(&format!(
        r#"<set-header name="x-id" exists-action="override"><value>{expr}</value></set-header>"#
    ));
    let doc = parse_ok(&text);
    assert_eq!(doc.slice(el(&doc, "value").inner_range()), expr);
    only_expression(&doc, expr);
}

#[test]
fn tricky_13_liquid_template_is_plain_text() {
    let body = r#"{"user":"{{context.User.Email}}"{% if body.x %},"x":{{body.x}}{% endif %}}"#;
    let text = inbound(&format!(r#"<set-body template="liquid">{body}</set-body>"#));
    let doc = parse_ok(&text);
    let set_body = el(&doc, "set-body");
    assert_eq!(set_body.attr("template"), Some("liquid"));
    assert_eq!(kinds(&doc, set_body.children()), ["text"]);
    assert_eq!(doc.slice(set_body.inner_range()), body);
    assert!(doc.expressions().is_empty());
}

// --- XML corners ---------------------------------------------------------------------------

#[test]
fn xml_declaration_is_a_top_level_processing_instruction() {
    let decl = r#"<?xml version="1.0" encoding="utf-8"?>"#;
    let text = format!("{decl}\n<policies />\n");
    let doc = parse_ok(&text);
    assert_eq!(
        kinds(&doc, doc.top_level()),
        ["pi", "space", "element", "space"]
    );
    assert_eq!(doc.node(doc.top_level()[0]).range, range_of(&text, decl));
    assert_eq!(doc.root().range(), range_of(&text, "<policies />"));
}

#[test]
fn xml_declaration_inside_a_csharp_string_is_part_of_the_expression() {
    let expr = r#"@{
        var xml = "<?xml version=\"1.0\"?><soap:Envelope><soap:Body/></soap:Envelope>";
        return xml;
    }"#;
    let text = inbound(&format!("<set-body>{expr}</set-body>"));
    let doc = parse_ok(&text);
    only_expression(&doc, expr);
    assert!(
        !doc.nodes()
            .any(|(_, n)| n.kind == NodeKind::ProcessingInstruction)
    );
    assert_eq!(element_names(&doc), ["policies", "inbound", "set-body"]);
}

#[test]
fn comment_may_hold_double_hyphens() {
    let comment = "<!-- old -- new --- <base /> -->";
    let text = format!("<policies>{comment}</policies>");
    let doc = parse_ok(&text);
    assert_eq!(kinds(&doc, doc.root().children()), ["comment"]);
    assert_eq!(
        doc.node(doc.root().children()[0]).range,
        range_of(&text, comment)
    );
}

#[test]
fn cdata_holds_markup_and_expressions_as_text() {
    let cdata = r#"<![CDATA[<raw a="1"> if (a < b && c) </raw>]]>"#;
    let text = inbound(&format!("<set-body>{cdata}</set-body>"));
    let doc = parse_ok(&text);
    let body = el(&doc, "set-body");
    assert_eq!(kinds(&doc, body.children()), ["cdata"]);
    assert_eq!(doc.node(body.children()[0]).range, range_of(&text, cdata));
    assert_eq!(element_names(&doc), ["policies", "inbound", "set-body"]);
    assert!(doc.expressions().is_empty());

    // APIM sees the text of a CDATA section, so an expression there is an expression.
    let expr = r#"@{ return "<x>" + (1 < 2); }"#;
    let text = inbound(&format!("<set-body><![CDATA[{expr}]]></set-body>"));
    let doc = parse_ok(&text);
    let e = only_expression(&doc, expr);
    assert!(e.block && !e.in_attribute);
}

#[test]
fn processing_instructions_stand_anywhere() {
    let text = "<?a x?><policies><?b y?><inbound><?c?></inbound></policies><?d?>";
    let doc = parse_ok(text);
    assert_eq!(kinds(&doc, doc.top_level()), ["pi", "element", "pi"]);
    assert_eq!(kinds(&doc, doc.root().children()), ["pi", "element"]);
    assert_eq!(kinds(&doc, el(&doc, "inbound").children()), ["pi"]);
    assert_eq!(
        doc.node(el(&doc, "inbound").children()[0]).range,
        range_of(text, "<?c?>")
    );
}

#[test]
fn entity_and_character_references_stay_raw() {
    let text = inbound(
        r#"<set-header name="a&amp;b" exists-action="override"><value>&lt;x&gt; &#xA; &#169; &quot;q&quot; &apos;</value></set-header>"#,
    );
    let doc = parse_ok(&text);
    assert_eq!(el(&doc, "set-header").attr("name"), Some("a&amp;b"));
    let value = el(&doc, "value");
    assert_eq!(
        doc.slice(value.inner_range()),
        "&lt;x&gt; &#xA; &#169; &quot;q&quot; &apos;"
    );
    assert_eq!(kinds(&doc, value.children()), ["text"]);
}

#[test]
fn single_and_double_quoted_attributes_keep_their_quote() {
    let text = r#"<policies a='say "hi"' b="it's" c=''/>"#;
    let doc = parse_ok(text);
    let attrs = doc.root().attributes();
    let read: Vec<(&str, &str, u8)> = attrs
        .iter()
        .map(|a| (doc.slice(a.name), doc.slice(a.value), a.quote))
        .collect();
    assert_eq!(
        read,
        [
            ("a", r#"say "hi""#, b'\''),
            ("b", "it's", b'"'),
            ("c", "", b'\'')
        ]
    );
    assert_eq!(attrs[0].range, range_of(text, r#"a='say "hi"'"#));
}

#[test]
fn whitespace_and_newlines_inside_tags() {
    let tag = "<set-header\n\tname = \"a\"\r\n    exists-action=\n'override'\n  >";
    let text = inbound(&format!("{tag}<value>v</value></set-header\n >"));
    let doc = parse_ok(&text);
    let header = el(&doc, "set-header");
    assert_eq!(header.start_tag(), range_of(&text, tag));
    assert_eq!(header.attr("name"), Some("a"));
    assert_eq!(header.attr("exists-action"), Some("override"));
    let name_attr = &header.attributes()[0];
    assert_eq!(doc.slice(name_attr.range), "name = \"a\"");
    assert_eq!(header.end_tag(), Some(range_of(&text, "</set-header\n >")));
}

#[test]
fn self_closing_elements_have_no_end_tag_and_an_empty_inner_range() {
    let text = "<policies><inbound><base/><base /><base\n/></inbound></policies>";
    let doc = parse_ok(text);
    let bases: Vec<_> = el(&doc, "inbound").child_elements().collect();
    assert_eq!(bases.len(), 3);
    for base in bases {
        assert!(base.is_self_closing());
        assert_eq!(base.end_tag(), None);
        assert!(base.children().is_empty());
        assert_eq!(base.inner_range(), TextRange::empty(base.start_tag().end()));
        assert_eq!(base.range(), base.start_tag());
    }
    assert_eq!(
        el(&doc, "inbound").inner_range(),
        range_of(text, "<base/><base /><base\n/>")
    );
}

#[test]
fn named_values_in_attributes_and_text_are_opaque() {
    let text = inbound(
        r#"<set-header name="{{header-name}}" exists-action="override"><value>{{secret-value}}</value></set-header>"#,
    );
    let doc = parse_ok(&text);
    assert_eq!(el(&doc, "set-header").attr("name"), Some("{{header-name}}"));
    assert_eq!(
        doc.slice(el(&doc, "value").inner_range()),
        "{{secret-value}}"
    );
    assert!(doc.expressions().is_empty());
}

#[test]
fn liquid_control_flow_in_set_body() {
    let body = "\n{% if context.Request.Headers.Accept == \"a<b\" %}\n  {\"a\": \"{{body.a}}\"}\n{% else %}{}{% endif %}\n";
    // A Liquid `<` must be escaped in XML text; the `<` above would open a tag.
    let body = body.replace('<', "&lt;");
    let text = inbound(&format!(r#"<set-body template="liquid">{body}</set-body>"#));
    let doc = parse_ok(&text);
    let set_body = el(&doc, "set-body");
    assert_eq!(doc.slice(set_body.inner_range()), body);
    assert_eq!(kinds(&doc, set_body.children()), ["text"]);
    assert!(doc.expressions().is_empty());
}

#[test]
fn terraform_template_syntax_is_text_and_attribute_values() {
    let text = "<policies>\n  <inbound>\n%{ if enable_cors }\n    <cors><allowed-origins><origin>${origin}</origin></allowed-origins></cors>\n%{ endif }\n    <set-backend-service base-url=\"${backend_url}\" />\n  </inbound>\n</policies>";
    let doc = parse_ok(text);
    assert_eq!(
        element_names(&doc),
        [
            "policies",
            "inbound",
            "cors",
            "allowed-origins",
            "origin",
            "set-backend-service"
        ]
    );
    let inbound = el(&doc, "inbound");
    let first = doc.node(inbound.children()[0]);
    assert_eq!(
        first.kind,
        NodeKind::Text {
            whitespace_only: false
        }
    );
    assert_eq!(doc.slice(first.range), "\n%{ if enable_cors }\n    ");
    assert_eq!(doc.slice(el(&doc, "origin").inner_range()), "${origin}");
    assert_eq!(
        el(&doc, "set-backend-service").attr("base-url"),
        Some("${backend_url}")
    );
    assert!(doc.expressions().is_empty());
}

#[test]
fn utf8_bom_is_the_first_node() {
    let text = "\u{feff}<policies>é</policies>";
    let doc = parse_ok(text);
    assert!(doc.has_bom());
    assert_eq!(kinds(&doc, doc.top_level()), ["bom", "element"]);
    assert_eq!(doc.node(doc.top_level()[0]).range, TextRange::new(0, 3));
    assert_eq!(doc.root().start_tag(), TextRange::new(3, 13));
    assert!(!parse_ok("<policies/>").has_bom());
}

#[test]
fn line_endings_lf_crlf_and_mixed() {
    let lf = parse_ok("<policies>\n<inbound>\n</inbound>\n</policies>\n");
    assert_eq!(lf.line_ending(), LineEnding::Lf);
    let crlf = parse_ok("<policies>\r\n<inbound>\r\n</inbound>\r\n</policies>\r\n");
    assert_eq!(crlf.line_ending(), LineEnding::CrLf);
    assert_eq!(
        kinds(&crlf, crlf.root().children()),
        ["space", "element", "space"]
    );
    // Two CRLF against one LF: CRLF wins; one against two: LF.
    let mostly_crlf = parse_ok("<policies>\r\n<inbound>\r\n</inbound>\n</policies>");
    assert_eq!(mostly_crlf.line_ending(), LineEnding::CrLf);
    let mostly_lf = parse_ok("<policies>\r\n<inbound>\n</inbound>\n</policies>");
    assert_eq!(mostly_lf.line_ending(), LineEnding::Lf);
    // A tie goes to CRLF, and no line break at all is LF.
    assert_eq!(
        parse_ok("<policies>\r\n<a/>\n</policies>").line_ending(),
        LineEnding::CrLf
    );
    assert_eq!(parse_ok("<policies/>").line_ending(), LineEnding::Lf);
    assert_eq!(LineEnding::CrLf.as_str(), "\r\n");
}

#[test]
fn tabs_indent_and_separate() {
    let text =
        "<policies>\n\t<inbound>\n\t\t<base\t/>\n  \t<x\ta=\"1\"\t/>\n\t</inbound>\n</policies>";
    let doc = parse_ok(text);
    let base = el(&doc, "base");
    assert_eq!(doc.indent_of_line(base.start_tag().start()), "\t\t");
    let x = el(&doc, "x");
    assert_eq!(doc.indent_of_line(x.start_tag().start()), "  \t");
    assert_eq!(x.attr("a"), Some("1"));
    assert!(doc.starts_line(x.start_tag().start()));
}

#[test]
fn doctype_with_internal_subset_before_the_root() {
    let doctype = "<!DOCTYPE policies [\n  <!ELEMENT policies ANY>\n  <!ENTITY e \"<x>\">\n]>";
    let text = format!("{doctype}\n<policies/>");
    let doc = parse_ok(&text);
    assert_eq!(
        kinds(&doc, doc.top_level()),
        ["doctype", "space", "element"]
    );
    assert_eq!(doc.node(doc.top_level()[0]).range, range_of(&text, doctype));
    assert_eq!(doc.root_kind(), RootKind::Policies);
}

#[test]
fn attributes_run_together() {
    let text = r#"<policies><set-header name="a"exists-action='override'/></policies>"#;
    let doc = parse_ok(text);
    let header = el(&doc, "set-header");
    assert_eq!(header.attr("name"), Some("a"));
    assert_eq!(header.attr("exists-action"), Some("override"));
    let attrs = header.attributes();
    assert_eq!(attrs[0].range.end(), attrs[1].range.start());
}

#[test]
fn escaped_expressions_in_attributes_and_text() {
    let attr_expr = "@(context.Request.Headers.GetValueOrDefault(&quot;X-A&quot;, &quot;&quot;).Length &lt; 3 &amp;&amp; true)";
    let text_expr = "@{ return context.Variables.GetValueOrDefault&lt;string&gt;(&quot;a&quot;); }";
    let text = inbound(&format!(
        r#"<choose><when condition="{attr_expr}"><set-body>{text_expr}</set-body></when></choose>"#
    ));
    let doc = parse_ok(&text);
    assert_eq!(expression_texts(&doc), [attr_expr, text_expr]);
    assert!(doc.expressions()[0].in_attribute);
    assert!(!doc.expressions()[1].in_attribute && doc.expressions()[1].block);
    assert_eq!(doc.expressions()[1].range, range_of(&text, text_expr));
    assert_eq!(el(&doc, "when").attr("condition"), Some(attr_expr));
}

/// `&quot;)&quot;` is a string holding `)`. Read raw, the `)` closes the expression early;
/// read as plain XML (the first `"` closes the value) the decoded C# balances, so that
/// reading wins and the expression spans the whole value.
#[test]
fn escaped_expression_with_a_paren_in_a_string_is_read_as_plain_xml() {
    let expr =
        "@(context.Variables.GetValueOrDefault&lt;string&gt;(&quot;a&quot;) == &quot;)&quot;)";
    let text = inbound(&format!(
        r#"<choose><when condition="{expr}"><base /></when></choose>"#
    ));
    let doc = parse_ok(&text);
    assert_eq!(el(&doc, "when").attr("condition"), Some(expr));
    only_expression(&doc, expr);

    // In text, the same, with an opening paren: read raw it would never close.
    let expr = "@(&quot;(&quot; + context.Request.Method)";
    let text = inbound(&format!("<set-body>{expr}</set-body>"));
    let doc = parse_ok(&text);
    only_expression(&doc, expr);
}

/// Read raw, `@(&quot;(&quot;)` runs on through the next tag's quote to the `)` in `x)`,
/// swallowing `<b>` into the value of `a`. The plain-XML reading keeps both elements.
#[test]
fn escaped_expression_does_not_swallow_the_next_element() {
    let text = r#"<policies><a v="@(&quot;(&quot;)"/><b w="x)"/></policies>"#;
    let doc = parse_ok(text);
    assert_eq!(element_names(&doc), ["policies", "a", "b"]);
    assert_eq!(el(&doc, "a").attr("v"), Some("@(&quot;(&quot;)"));
    assert_eq!(el(&doc, "b").attr("w"), Some("x)"));
    assert_eq!(expression_texts(&doc), ["@(&quot;(&quot;)"]);
}

/// Real files hold C# that does not compile, e.g. a `[` never closed before the `}` that
/// ends the block. The tolerant scan lets the `}` close it, since the closing quote follows.
#[test]
fn broken_csharp_in_an_attribute_is_tolerated() {
    let expr = r#"@{ var x = int.Parse((string)context.Variables["a";}"#;
    let text = inbound(&format!(
        r#"<set-variable name="id" value="{expr} " /><set-variable name="n" value="1" />"#
    ));
    let doc = parse_ok(&text);
    let vars: Vec<_> = el(&doc, "inbound").child_elements().collect();
    assert_eq!(vars.len(), 2);
    assert_eq!(vars[0].attr("value"), Some(format!("{expr} ").as_str()));
    assert_eq!(vars[1].attr("name"), Some("n"));
    let e = only_expression(&doc, expr);
    assert!(e.block && e.in_attribute);
}

#[test]
fn expression_after_plain_text_in_a_value_and_in_text() {
    let text = inbound(
        r#"<set-header name="Authorization" exists-action="override"><value>Bearer @(context.Variables["token"])</value></set-header><set-variable name="u" value="https://x/@(context.Api.Path)" />"#,
    );
    let doc = parse_ok(&text);
    assert_eq!(
        expression_texts(&doc),
        [r#"@(context.Variables["token"])"#, "@(context.Api.Path)"]
    );
    // An `@` that starts no expression is text.
    let doc = parse_ok(&inbound(
        r#"<set-variable name="m" value="ops@example.com" />"#,
    ));
    assert!(doc.expressions().is_empty());
}

#[test]
fn non_ascii_names_and_values() {
    let text = "<policies><vär ä=\"ü\">日本語 @(\"é\")</vär></policies>";
    let doc = parse_ok(text);
    let v = el(&doc, "vär");
    assert_eq!(v.attr("ä"), Some("ü"));
    assert_eq!(expression_texts(&doc), ["@(\"é\")"]);
}

#[test]
fn fragment_root() {
    let doc = parse_ok("<fragment><set-variable name=\"a\" value=\"b\" /></fragment>");
    assert_eq!(doc.root_kind(), RootKind::Fragment);
    assert_eq!(doc.root().name(), "fragment");
}

// --- Document helpers -----------------------------------------------------------------------

#[test]
fn indent_of_line_and_starts_line() {
    let text = "<policies>\n    <inbound><base />\n\t  <x/>  <y/>\n</inbound></policies>";
    let doc = parse_ok(text);
    let inbound = el(&doc, "inbound").start_tag().start();
    let base = el(&doc, "base").start_tag().start();
    let x = el(&doc, "x").start_tag().start();
    let y = el(&doc, "y").start_tag().start();
    assert_eq!(doc.indent_of_line(inbound), "    ");
    assert_eq!(doc.indent_of_line(base), "    ");
    assert_eq!(doc.indent_of_line(x), "\t  ");
    assert_eq!(doc.indent_of_line(y), "\t  ");
    assert_eq!(doc.indent_of_line(0), "");
    assert!(doc.starts_line(inbound));
    assert!(!doc.starts_line(base));
    assert!(doc.starts_line(x));
    assert!(!doc.starts_line(y));
    assert!(doc.starts_line(0));
    let closing = range_of(text, "</inbound>").start();
    assert!(doc.starts_line(closing));
}

#[test]
fn descendants_are_in_document_order() {
    let text = "<policies><a><b><c/></b><d/></a><e><f/></e></policies>";
    let doc = parse_ok(text);
    let names: Vec<_> = doc.root().descendants().map(|e| e.name()).collect();
    assert_eq!(names, ["a", "b", "c", "d", "e", "f"]);
    let under_a: Vec<_> = el(&doc, "a").descendants().map(|e| e.name()).collect();
    assert_eq!(under_a, ["b", "c", "d"]);
    assert_eq!(el(&doc, "c").descendants().count(), 0);
    let starts: Vec<_> = doc
        .root()
        .descendants()
        .map(|e| e.start_tag().start())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(el(&doc, "c").parent().map(|p| p.name()), Some("b"));
    assert_eq!(doc.root().parent().map(|p| p.name()), None);
}

#[test]
fn inner_range_is_between_the_tags() {
    let text = "<policies><inbound>\n  <base />\n</inbound><outbound></outbound></policies>";
    let doc = parse_ok(text);
    assert_eq!(
        doc.slice(el(&doc, "inbound").inner_range()),
        "\n  <base />\n"
    );
    let outbound = el(&doc, "outbound");
    assert!(outbound.inner_range().is_empty());
    assert_eq!(outbound.inner_range().start(), outbound.start_tag().end());
    assert_eq!(
        doc.slice(doc.root().inner_range()),
        "<inbound>\n  <base />\n</inbound><outbound></outbound>"
    );
}

#[test]
fn element_lookup_helpers() {
    let doc = parse_ok("<policies><Inbound><base/></Inbound><outbound/></policies>");
    let inbound = doc.root().child("inbound").expect("case-insensitive child");
    assert_eq!(inbound.name(), "Inbound");
    assert!(inbound.is("INBOUND"));
    assert!(doc.root().child("backend").is_none());
    assert_eq!(inbound.attr("missing"), None);
}

/// XML character references are the characters they name, in expressions too.
#[test]
fn character_references_in_an_expression_are_decoded_for_scanning() {
    let expr = "@(context.Variables[&#34;a&#x22;].ToString(&#39;x&#39;&#41;)";
    let text = inbound(&format!(r#"<set-variable name="v" value="{expr}" />"#));
    let doc = parse_ok(&text);
    assert_eq!(expression_texts(&doc), [expr]);
}
