//! One test per `SyntaxErrorKind`: the kind, where `range.start()` points (1-based
//! line:column) and what the message says was expected.

use crate::syntax_support::{check_lossless, line_col};
use apimfix::syntax::{
    Limits, SyntaxError, SyntaxErrorKind as Kind, parse, parse_bytes, parse_with,
};

/// The error `text` must produce, with its start as `line:column`.
fn error(text: &str) -> (SyntaxError, String) {
    let e = match parse(text) {
        Ok(_) => panic!("parsed, but should not have:\n{text}"),
        Err(e) => e,
    };
    let at = line_col(text, e.range.start()).to_string();
    (e, at)
}

/// Asserts kind, position, message, and the text the range covers.
fn assert_error(text: &str, kind: Kind, at: &str, message: &str, covers: &str) -> SyntaxError {
    let (e, found_at) = error(text);
    assert_eq!(e.kind, kind, "{}", e.message);
    assert_eq!(found_at, at, "{}", e.message);
    assert_eq!(e.message, message);
    assert_eq!(&text[e.range.to_std()], covers);
    e
}

/// The related location as `line:column` and the text it covers, with its label.
fn related(text: &str, e: &SyntaxError) -> (String, String, String) {
    let (range, label) = e.related.clone().expect("a related location");
    (
        line_col(text, range.start()).to_string(),
        text[range.to_std()].to_owned(),
        label,
    )
}

#[test]
fn not_utf8() {
    let mut bytes = b"<policies>\n  <value>caf".to_vec();
    bytes.push(0xE9); // Latin-1 `é`
    bytes.extend_from_slice(b"</value>\n</policies>");
    let e = parse_bytes(bytes.clone(), &Limits::default()).unwrap_err();
    assert_eq!(e.kind, Kind::NotUtf8);
    assert_eq!(e.range.start(), 23);
    assert_eq!(
        e.message,
        "not UTF-8: the byte 0xE9 at offset 23 is not valid UTF-8; the file must be saved as UTF-8"
    );
    // The position is computed over the valid prefix, as a report does.
    let prefix = std::str::from_utf8(&bytes[..e.range.start()]).unwrap();
    assert_eq!(line_col(prefix, e.range.start()).to_string(), "2:13");
}

#[test]
fn nul_byte() {
    let text = "<policies>\n  <a\0/>\n</policies>";
    let (e, at) = error(text);
    assert_eq!((e.kind, at.as_str()), (Kind::NulByte, "2:5"));
    assert_eq!(
        e.message,
        "a NUL byte: this is binary data (or UTF-16), not a policy file"
    );
    // UTF-16 text is the usual source: every ASCII char has a zero byte beside it.
    let utf16: Vec<u8> = "\u{feff}<policies/>"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let e = parse_bytes(utf16, &Limits::default()).unwrap_err();
    assert_eq!(e.kind, Kind::NulByte);
    assert_eq!(e.range.start(), 3);
}

#[test]
fn too_large() {
    let limits = Limits {
        max_size: 16,
        ..Limits::default()
    };
    let text = "<policies>    </policies>";
    let e = parse_with(text.to_owned(), &limits).unwrap_err();
    assert_eq!(e.kind, Kind::TooLarge);
    assert_eq!(e.range.start(), 0);
    assert_eq!(e.message, "file too large: 25 bytes, the limit is 16 bytes");
    // Raw bytes are checked before decoding: the kind stays TooLarge (it was Empty).
    let e = parse_bytes(text.as_bytes().to_vec(), &limits).unwrap_err();
    assert_eq!(e.kind, Kind::TooLarge);
    assert_eq!(e.message, "file too large: 25 bytes, the limit is 16 bytes");
    // At the limit is fine.
    let exact = "<policies></policies>";
    let limits = Limits {
        max_size: exact.len(),
        ..Limits::default()
    };
    assert!(parse_bytes(exact.as_bytes().to_vec(), &limits).is_ok());
}

fn nested(depth: usize) -> String {
    let mut text = String::with_capacity(depth * 8 + 32);
    text.push_str("<policies>");
    for _ in 0..depth {
        text.push_str("<a>");
    }
    for _ in 0..depth {
        text.push_str("</a>");
    }
    text.push_str("</policies>");
    text
}

#[test]
fn too_deep() {
    let text = "<policies>\n<a>\n<b>\n<c/>\n</b>\n</a>\n</policies>";
    let limits = Limits {
        max_depth: 2,
        ..Limits::default()
    };
    let e = parse_with(text.to_owned(), &limits).unwrap_err();
    assert_eq!(e.kind, Kind::TooDeep);
    assert_eq!(line_col(text, e.range.start()).to_string(), "3:1");
    assert_eq!(&text[e.range.to_std()], "<b");
    assert_eq!(e.message, "elements nest deeper than 2 levels, the limit");
    // Self-closing elements add no open level.
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    assert!(parse_with(text.to_owned(), &limits).is_ok());
}

#[test]
fn a_hundred_thousand_levels_error_cleanly() {
    let text = nested(100_000);
    let e = parse(&text).unwrap_err();
    assert_eq!(e.kind, Kind::TooDeep);
    // The root is level 1, so the 256th `<a>` is the 257th element.
    assert_eq!(e.range.start(), "<policies>".len() + 255 * "<a>".len());
    assert_eq!(e.message, "elements nest deeper than 256 levels, the limit");
}

#[test]
fn a_hundred_thousand_levels_parse_without_recursion_when_allowed() {
    let text = nested(100_000);
    let limits = Limits {
        max_depth: 200_000,
        ..Limits::default()
    };
    let doc = parse_with(text.clone(), &limits).unwrap();
    // print, tiling and descendants walk the tree without recursion too.
    check_lossless(&doc, text.as_bytes()).unwrap();
    assert_eq!(doc.root().descendants().count(), 100_000);
}

#[test]
fn two_hundred_levels_parse() {
    let text = nested(200);
    let doc = parse(&text).unwrap();
    check_lossless(&doc, text.as_bytes()).unwrap();
    assert_eq!(doc.root().descendants().count(), 200);
}

#[test]
fn empty_file() {
    assert_error(
        "",
        Kind::Empty,
        "1:1",
        "the file is empty: expected a `<policies>` or `<fragment>` root element",
        "",
    );
    // A BOM alone is still an empty file.
    let (e, _) = error("\u{feff}");
    assert_eq!(e.kind, Kind::Empty);
    assert!(e.message.starts_with("the file is empty"));
}

#[test]
fn whitespace_only_file() {
    assert_error(
        "  \n\t\r\n",
        Kind::Empty,
        "3:1",
        "no root element: the file holds only comments, declarations or whitespace; expected `<policies>` or `<fragment>`",
        "",
    );
}

#[test]
fn comment_only_file() {
    assert_error(
        "<?xml version=\"1.0\"?>\n<!-- <policies/> -->\n",
        Kind::Empty,
        "3:1",
        "no root element: the file holds only comments, declarations or whitespace; expected `<policies>` or `<fragment>`",
        "",
    );
}

#[test]
fn not_a_policy() {
    assert_error(
        "<?xml version=\"1.0\"?>\n<configuration>\n</configuration>",
        Kind::NotAPolicy,
        "2:2",
        "not an APIM policy document: the root element is `<configuration>`, expected `<policies>` or `<fragment>`",
        "configuration",
    );
    // Root names are case-sensitive, as in APIM's schema.
    let (e, _) = error("<Policies/>");
    assert_eq!(e.kind, Kind::NotAPolicy);
}

#[test]
fn mismatched_tag_inner_element_not_closed() {
    let text = "<policies>\n  <inbound>\n    <set-header>\n  </inbound>\n</policies>";
    let e = assert_error(
        text,
        Kind::MismatchedTag,
        "4:3",
        "mismatched closing tag: expected `</set-header>`, found `</inbound>`",
        "</inbound>",
    );
    assert_eq!(
        e.label.as_deref(),
        Some("`<set-header>` must be closed before `</inbound>`")
    );
    assert_eq!(
        related(text, &e),
        (
            "3:5".to_owned(),
            "<set-header>".to_owned(),
            "`<set-header>` opened here".to_owned()
        )
    );
}

#[test]
fn mismatched_tag_stray_closing_tag() {
    let text = "<policies>\n  <inbound>\n  </outbound>\n</policies>";
    let e = assert_error(
        text,
        Kind::MismatchedTag,
        "3:3",
        "mismatched closing tag: expected `</inbound>`, found `</outbound>`",
        "</outbound>",
    );
    assert_eq!(
        e.label.as_deref(),
        Some("no open element is named `outbound`")
    );
}

/// C# read as markup: the generic `<JObject>` of an unbalanced expression opens an element.
/// The error says so, and where the expression is.
#[test]
fn mismatched_tag_explains_an_unbalanced_expression() {
    let text =
        "<policies>\n  <set-body>@{ var x = a.As<JObject>(; return x]; }</set-body>\n</policies>";
    let e = assert_error(
        text,
        Kind::MismatchedTag,
        "2:52",
        "mismatched closing tag: expected `</JObject>`, found `</set-body>`",
        "</set-body>",
    );
    assert_eq!(
        related(text, &e),
        (
            "2:28".to_owned(),
            "<JObject>".to_owned(),
            "`<JObject>` opened here; it may be C# inside the policy expression at 2:13, which was read as plain XML because its `]` at 2:48 does not match the bracket open before it".to_owned()
        )
    );
}

#[test]
fn unclosed_tag() {
    let text = "<policies>\n  <inbound>\n    <base />\n";
    let e = assert_error(
        text,
        Kind::UnclosedTag,
        "2:3",
        "unclosed element `<inbound>`: expected `</inbound>` before the end of the file",
        "<inbound>",
    );
    assert_eq!(e.label.as_deref(), Some("opened here, never closed"));
}

#[test]
fn unexpected_closing_tag() {
    assert_error(
        "<policies/>\n</policies>\n",
        Kind::UnexpectedClosingTag,
        "2:1",
        "unexpected closing tag `</policies>`: no element is open",
        "</policies>",
    );
}

#[test]
fn unterminated_attribute() {
    let e = assert_error(
        "<policies>\n  <set-variable name=\"a />\n</policies>\n",
        Kind::UnterminatedAttribute,
        "2:22",
        "unterminated value of attribute `name`: expected a closing `\"`",
        "\"",
    );
    assert_eq!(
        e.label.as_deref(),
        Some("the value opens here and never closes")
    );
    let (e, at) = error("<policies a='x\"/>");
    assert_eq!((e.kind, at.as_str()), (Kind::UnterminatedAttribute, "1:13"));
    assert!(e.message.ends_with("expected a closing `'`"));
}

/// A missing closing quote usually shows up one attribute later: the value swallows the
/// next attribute's name and `=`, and its opening quote closes the value.
#[test]
fn missing_closing_quote_points_at_the_value_that_lacks_it() {
    let text = "<policies>\n  <set-variable name=\"a value=\"b\" />\n</policies>";
    let e = assert_error(
        text,
        Kind::MalformedTag,
        "2:33",
        "expected `=` after attribute name `b`, found `\"`",
        "\"",
    );
    assert_eq!(
        related(text, &e),
        (
            "2:23".to_owned(),
            "a value=".to_owned(),
            "the value of `name` ends in `=`: is its closing quote missing?".to_owned()
        )
    );
}

#[test]
fn unterminated_expression() {
    let text = "<policies>\n  <set-body>@{ return Foo(; </set-body>\n</policies>";
    let e = assert_error(
        text,
        Kind::UnterminatedExpression,
        "2:13",
        "unterminated policy expression: `@{` is never closed",
        "@{",
    );
    assert!(e.label.unwrap().contains("never balance"));
    // `@(` too, and a string that never closes.
    let (e, at) = error("<policies><value>@(\"abc)</value></policies>");
    assert_eq!(
        (e.kind, at.as_str()),
        (Kind::UnterminatedExpression, "1:18")
    );
    assert_eq!(
        e.message,
        "unterminated policy expression: `@(` is never closed"
    );
}

#[test]
fn unterminated_comment() {
    let e = assert_error(
        "<policies>\n  <!-- <base />\n</policies>",
        Kind::UnterminatedComment,
        "2:3",
        "unterminated comment: expected `-->`",
        "<!--",
    );
    assert_eq!(e.label.as_deref(), Some("comment opened here"));
}

#[test]
fn unterminated_cdata() {
    assert_error(
        "<policies>\n  <set-body><![CDATA[ x ]]</set-body>\n</policies>",
        Kind::UnterminatedCData,
        "2:13",
        "unterminated CDATA section: expected `]]>`",
        "<![CDATA[",
    );
}

#[test]
fn unterminated_declaration() {
    assert_error(
        "<?xml version=\"1.0\"\n<policies/>",
        Kind::UnterminatedDeclaration,
        "1:1",
        "unterminated XML declaration: expected `?>`",
        "<?",
    );
    assert_error(
        "<policies>\n<?pi data\n</policies>",
        Kind::UnterminatedDeclaration,
        "2:1",
        "unterminated processing instruction: expected `?>`",
        "<?",
    );
    assert_error(
        "<!DOCTYPE policies [\n<!ELEMENT policies ANY>\n<policies/>",
        Kind::UnterminatedDeclaration,
        "1:1",
        "unterminated `<!DOCTYPE` declaration: expected `>`",
        "<!DOCTYPE",
    );
}

#[test]
fn malformed_tag_less_than_in_text() {
    let text = "<policies>\n  <value>a < 2</value>\n</policies>";
    let e = assert_error(
        text,
        Kind::MalformedTag,
        "2:12",
        "expected an element name after `<`, found a space",
        "<",
    );
    assert_eq!(
        e.label.as_deref(),
        Some("a `<` in text must be written `&lt;`, or stand inside a policy expression `@(...)`")
    );
    assert!(e.related.is_none());
}

#[test]
fn malformed_tag_less_than_inside_an_unbalanced_expression() {
    let text = "<policies>\n  <value>@(a < b]</value>\n</policies>";
    let e = assert_error(
        text,
        Kind::MalformedTag,
        "2:14",
        "expected an element name after `<`, found a space",
        "<",
    );
    assert_eq!(
        related(text, &e),
        (
            "2:10".to_owned(),
            "@(".to_owned(),
            "this policy expression was read as plain XML because its `]` at 2:17 does not match the bracket open before it".to_owned()
        )
    );
}

#[test]
fn malformed_tag_missing_equals() {
    let text = "<policies>\n  <set-header name\"x\" />\n</policies>";
    let e = assert_error(
        text,
        Kind::MalformedTag,
        "2:19",
        "expected `=` after attribute name `name`, found `\"`",
        "\"",
    );
    assert_eq!(
        related(text, &e),
        (
            "2:3".to_owned(),
            "<set-header".to_owned(),
            "in this tag".to_owned()
        )
    );
    // A name with no value at all.
    let (e, at) = error("<policies>\n<base disabled />\n</policies>");
    assert_eq!((e.kind, at.as_str()), (Kind::MalformedTag, "2:16"));
    assert_eq!(
        e.message,
        "expected `=` after attribute name `disabled`, found `/`"
    );
}

#[test]
fn malformed_tag_missing_quote() {
    let e = assert_error(
        "<policies>\n  <set-header name=x />\n</policies>",
        Kind::MalformedTag,
        "2:20",
        "expected a quoted value for attribute `name`, found `x`",
        "x",
    );
    assert_eq!(
        e.label.as_deref(),
        Some("attribute values must be in `\"` or `'` quotes")
    );
}

#[test]
fn malformed_tag_attribute_with_unbalanced_expression() {
    let text = "<policies>\n  <set-variable name=\"a\" value=\"@(x.Contains(\"a)\" />\n</policies>";
    let e = assert_error(
        text,
        Kind::MalformedTag,
        "2:48",
        "expected `=` after attribute name `a`, found `)`",
        ")",
    );
    assert_eq!(
        related(text, &e),
        (
            "2:33".to_owned(),
            "@(".to_owned(),
            "this policy expression was read as plain XML because its brackets never close"
                .to_owned()
        )
    );
}

#[test]
fn malformed_tag_missing_gt_in_end_tag() {
    let text = "<policies>\n  <inbound>\n  </inbound\n</policies>";
    let e = assert_error(
        text,
        Kind::MalformedTag,
        "4:1",
        "expected `>` to end the closing tag `</inbound`, found `<`",
        "<",
    );
    assert_eq!(
        related(text, &e),
        (
            "3:3".to_owned(),
            "</inbound".to_owned(),
            "the closing tag starts here".to_owned()
        )
    );
    let (e, at) = error("<policies></policies x>");
    assert_eq!((e.kind, at.as_str()), (Kind::MalformedTag, "1:22"));
    assert_eq!(
        e.message,
        "expected `>` to end the closing tag `</policies`, found `x`"
    );
}

#[test]
fn malformed_tag_other_shapes() {
    let cases = [
        (
            "<policies>\n  </ inbound>\n</policies>",
            "2:5",
            "expected an element name after `</`, found a space",
        ),
        (
            "<policies>\n  <base a=\"1\" %/>\n</policies>",
            "2:15",
            "expected an attribute, `>` or `/>` in the start tag of `<base>`, found `%`",
        ),
        (
            "<policies>\n  <base",
            "2:8",
            "expected an attribute, `>` or `/>` in the start tag of `<base>`, found the end of the file",
        ),
        (
            "<policies>\n  <\n</policies>",
            "2:3",
            "expected an element name after `<`, found a line break",
        ),
        (
            "<policies>\n\t<\t</policies>",
            "2:2",
            "expected an element name after `<`, found a tab",
        ),
        (
            "<policies>\n  <!- comment -->\n</policies>",
            "2:3",
            "expected `<!--`, `<![CDATA[` or `<!DOCTYPE` after `<!`, found `-`",
        ),
        (
            "<policies><!DOCTYPE x></policies>",
            "1:11",
            "a `<!DOCTYPE>` declaration inside an element: it may only stand before the root element",
        ),
    ];
    for (text, at, message) in cases {
        let (e, found_at) = error(text);
        assert_eq!(e.kind, Kind::MalformedTag, "{text:?}: {}", e.message);
        assert_eq!(
            (found_at.as_str(), e.message.as_str()),
            (at, message),
            "{text:?}"
        );
    }
}

#[test]
fn content_outside_root_text() {
    let e = assert_error(
        "<policies/>\ntrailing text\n",
        Kind::ContentOutsideRoot,
        "2:1",
        "text outside the root element",
        "trailing text",
    );
    assert_eq!(
        e.label.as_deref(),
        Some("only comments and whitespace may stand here")
    );
    assert_error(
        "<![CDATA[x]]><policies/>",
        Kind::ContentOutsideRoot,
        "1:1",
        "a CDATA section outside the root element",
        "<![CDATA[x]]>",
    );
}

#[test]
fn content_outside_root_second_root() {
    let text = "<policies/>\n<fragment>\n</fragment>\n";
    let e = assert_error(
        text,
        Kind::ContentOutsideRoot,
        "2:1",
        "a second root element; a policy document has exactly one",
        "<fragment>",
    );
    assert_eq!(
        related(text, &e),
        (
            "1:1".to_owned(),
            "<policies/>".to_owned(),
            "the root element".to_owned()
        )
    );
}

/// Errors are found in one pass, so the first one in the file is reported, whatever its kind.
#[test]
fn the_first_error_in_the_file_wins() {
    let (e, at) = error("<policies>\n<a b=c>\n</x>\n<!--");
    assert_eq!((e.kind, at.as_str()), (Kind::MalformedTag, "2:6"));
}
