//! One snapshot per layout rule of the formatter, on small inputs.
//!
//! Snapshots live in `tests/fixtures/format/snapshots/`. Invisible bytes are shown escaped in
//! them (`\r`, `\t`, `\u{feff}`), so a CRLF or a BOM is reviewable. Every helper call also
//! checks that the output parses and that formatting it again changes nothing.
//!
//! To write new snapshots: `INSTA_UPDATE=always cargo test --test format_layout`, then read
//! every changed `.snap` file before committing it.

use apimfix::format::{FormatOptions, IndentStyle, LineEndingOption, format_source};

/// Formats `source`, checking that the output re-parses and is a fixed point.
fn fmt_with(source: &str, options: &FormatOptions) -> String {
    let out = format_source(source, options).expect("input parses");
    let again = format_source(&out, options).expect("output parses");
    assert_eq!(again, out, "not idempotent");
    out
}

fn fmt(source: &str) -> String {
    fmt_with(source, &FormatOptions::default())
}

/// Makes invisible bytes visible for a snapshot.
fn show(text: &str) -> String {
    text.replace('\r', "\\r")
        .replace('\t', "\\t")
        .replace('\u{feff}', "\\u{feff}")
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({
            snapshot_path => "../fixtures/format/snapshots",
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!($name, show(&$value));
        })
    };
}

#[test]
fn indents_one_unit_per_level_and_aligns_end_tags() {
    let out = fmt(r#"<policies>
<inbound>
      <base />
  <choose>
<when condition="@(true)">
          <return-response>
<set-status code="403" />
     </return-response>
</when>
    </choose>
</inbound>
</policies>"#);
    snapshot!("indent_spaces", out);
}

#[test]
fn indents_with_tabs_or_another_width() {
    let source = r#"<policies>
  <inbound>
    <base />
    <set-header name="a" exists-action="override">
      <value>1</value>
    </set-header>
  </inbound>
</policies>
"#;
    let tabs = FormatOptions {
        indent_style: IndentStyle::Tabs,
        ..FormatOptions::default()
    };
    snapshot!("indent_tabs", fmt_with(source, &tabs));
    let two = FormatOptions {
        indent_width: 2,
        ..FormatOptions::default()
    };
    snapshot!("indent_two_spaces", fmt_with(source, &two));
}

#[test]
fn puts_every_child_on_its_own_line() {
    let out = fmt(concat!(
        r#"<policies><inbound><base /><set-header name="a" exists-action="override">"#,
        r#"<value>1</value><value>2</value></set-header></inbound><backend><base/></backend>"#,
        r#"<outbound/><on-error/></policies>"#,
    ));
    snapshot!("own_lines", out);
}

#[test]
fn normalises_space_inside_tags_but_not_values_or_quotes() {
    let out = fmt(r#"<policies>
<inbound>
<base/>
<set-header   name = "X-A"
      exists-action='override' ><value>a  b</value></set-header >
<check-header name="h" failed-check-httpcode="401"failed-check-error-message="Not &quot;allowed&quot; &amp; logged" ignore-case="true"/>
</inbound>
</policies>"#);
    snapshot!("inside_tags", out);
}

#[test]
fn wraps_long_start_tags_one_attribute_per_line() {
    let narrow = FormatOptions {
        line_width: 60,
        ..FormatOptions::default()
    };
    let out = fmt_with(
        r#"<policies>
<inbound>
<send-request mode="new" response-variable-name="token" timeout="20" ignore-error="true">
<set-url>https://login.example/token</set-url>
</send-request>
<cache-lookup-value key="@(context.Variables.GetValueOrDefault<string>("k"))" variable-name="hit" />
<when condition="@(context.Request.Headers.GetValueOrDefault("Authorization", "") != null)">
<base />
</when>
<set-variable name="fits" value="@(1 + 2)" />
</inbound>
</policies>
"#,
        &narrow,
    );
    snapshot!("long_attributes", out);
}

#[test]
fn keeps_multi_line_attribute_values_verbatim_in_both_layouts() {
    let source = r#"<policies>
<inbound>
        <set-variable name="body" value="@{
    var b = context.Request.Body.As<JObject>(true);
      return b["a"] < 3 ? "<x/>" : "y";
}" />
</inbound>
</policies>
"#;
    snapshot!("multi_line_attribute_one_line", fmt(source));
    let narrow = FormatOptions {
        line_width: 30,
        ..FormatOptions::default()
    };
    snapshot!("multi_line_attribute_wrapped", fmt_with(source, &narrow));
}

#[test]
fn keeps_at_most_one_blank_line_and_none_at_block_edges() {
    let out = fmt(r#"

<policies>


    <inbound>

        <base />



        <set-variable name="a" value="1" />
    <set-variable name="b" value="2" />
        
    </inbound>
      
    <outbound />

</policies>


"#);
    snapshot!("blank_lines", out);
}

#[test]
fn removes_trailing_whitespace_and_ends_with_one_newline() {
    let out = fmt("<policies>   \n\t<inbound>  \t\n<base />   \n</inbound>\t\n</policies>");
    snapshot!("trailing_whitespace", out);
    assert!(out.ends_with("</policies>\n"));
    assert_eq!(fmt("<policies />\n\n\n"), "<policies />\n");
}

#[test]
fn lays_out_comments_and_keeps_their_text() {
    let out = fmt(r#"<policies>
<inbound><!-- first, moved to its own line -->
        <base />    <!-- trailing: stays -->
<!--   own line,
   multi-line:   kept as written   
       -->
<set-variable name="a" value="1" /><!-- glued: stays, after one space -->
<!-- a --><!-- b -->
</inbound>
</policies>
"#);
    snapshot!("comments", out);
    assert!(out.contains("multi-line:   kept as written   \n"));
}

#[test]
fn keeps_content_outside_the_root_one_item_per_line() {
    let out = fmt(
        r#"  <?xml version="1.0" encoding="utf-8"?>  <!-- licence header -->


<!-- second -->
<fragment>
<base />
</fragment>   <!-- after the root -->

<!-- last -->
"#,
    );
    snapshot!("outside_root", out);
}

#[test]
fn keeps_crlf_and_the_bytes_of_verbatim_lf_lines() {
    // Majority CRLF, with an expression written with LF (common in extractor output): layout
    // lines get CRLF, the expression keeps its own bytes.
    let source = concat!(
        "<policies>\r\n<inbound>\r\n<base />\r\n\r\n\r\n",
        "<set-body>@{\n    return \"a\";\n}</set-body>\r\n</inbound>\r\n</policies>\r\n",
    );
    let out = fmt(source);
    snapshot!("crlf_auto", out);
    assert!(out.contains("@{\n    return \"a\";\n}"));
}

#[test]
fn takes_the_output_majority_when_dropped_blank_lines_would_flip_it() {
    // Six CRLF (five of them blank lines) against four LF inside the expression. With CRLF
    // layout the output would hold three CRLF and four LF, and read as an LF file the next
    // time round; so the layout is written in LF, and the expression keeps its bytes.
    let source = "<policies>\r\n\r\n\r\n\r\n\r\n<set-body>@{\n\n\n\n}</set-body>\r\n</policies>";
    let out = fmt(source);
    assert_eq!(
        out,
        "<policies>\n    <set-body>@{\n\n\n\n}</set-body>\n</policies>\n"
    );
}

#[test]
fn forces_one_line_ending_everywhere_but_inside_expressions() {
    let source = concat!(
        "<policies>\r\n<inbound>\n<!-- one\r\ntwo -->\r\n",
        "<set-variable name=\"a\r\nb\" value=\"@{\r\n  return 1;\n}\" />\n",
        "<set-body>@{\n    return \"a\";\r\n}</set-body>\r\n</inbound>\n</policies>",
    );
    let lf = FormatOptions {
        line_ending: LineEndingOption::Lf,
        ..FormatOptions::default()
    };
    let crlf = FormatOptions {
        line_ending: LineEndingOption::Crlf,
        ..FormatOptions::default()
    };
    let expressions = ["@{\r\n  return 1;\n}", "@{\n    return \"a\";\r\n}"];
    let out_lf = fmt_with(source, &lf);
    snapshot!("line_ending_lf", out_lf);
    let mut rest = out_lf.clone();
    for expression in expressions {
        assert!(rest.contains(expression), "expression kept: {expression:?}");
        rest = rest.replace(expression, "");
    }
    assert!(
        !rest.contains('\r'),
        "a CR outside the expressions: {rest:?}"
    );
    let out_crlf = fmt_with(source, &crlf);
    snapshot!("line_ending_crlf", out_crlf);
    let mut rest = out_crlf.clone();
    for expression in expressions {
        assert!(rest.contains(expression), "expression kept: {expression:?}");
        rest = rest.replace(expression, "");
    }
    assert_eq!(rest.matches('\n').count(), rest.matches("\r\n").count());
}

#[test]
fn keeps_the_bom() {
    let out = fmt("\u{feff}<?xml version=\"1.0\"?>\n<policies>\n<inbound />\n</policies>");
    assert!(out.starts_with('\u{feff}'));
    assert_eq!(out.matches('\u{feff}').count(), 1);
    snapshot!("bom", out);
    assert!(!fmt("<policies />").starts_with('\u{feff}'));
}

#[test]
fn keeps_empty_and_self_closing_sections_apart() {
    let out = fmt(r#"<policies>
<inbound></inbound>
<backend>

   </backend>
<outbound/>
<on-error />
</policies>"#);
    snapshot!("empty_sections", out);
}

#[test]
fn leaves_text_only_elements_on_one_line() {
    let out = fmt(r#"<policies>
<inbound>
<cors>
<allowed-origins>
<origin>https://a.example</origin>
<origin>{{frontend-origin}}</origin>
</allowed-origins>
</cors>
<set-header name="h" exists-action="override">
<value>@(context.Variables.GetValueOrDefault<string>("a", "<b>"))</value>
</set-header>
<set-method>POST</set-method>
<set-header name="s" exists-action="override"><value> </value></set-header>
<message>  spaced  text  </message>
<empty> </empty>
</inbound>
</policies>
"#);
    snapshot!("text_elements", out);
}

#[test]
fn leaves_mixed_content_as_written() {
    let out = fmt(r#"<policies>
<inbound>
<note>before <b>bold</b>
      after <i/>   end</note>
  <set-status code="200">  <x/>ok</set-status>
    <cdata-holder>
  <![CDATA[ a < b ]]>
</cdata-holder>
</inbound>
</policies>
"#);
    snapshot!("mixed_content", out);
}

#[test]
fn never_reindents_multi_line_expressions() {
    let out = fmt(r#"<policies>
  <inbound>
    <choose>
      <when condition="@(context.Request.Method == &quot;POST&quot;)">
<set-body>@{
    var body = context.Request.Body.As<JObject>(preserveContent: true);
            var ok = body["items"]?.Any(i => (int)i["qty"] > 0) ?? false;   
  return ok ? "<ok/>" : "</set-body>";   // a closing tag in a string
}</set-body>
<set-header name="x" exists-action="override"><value>@{
  var d = new Dictionary<string, List<int>>();
  return d.Count < 1 && true ? "a" : $"{d.Count}";
}</value></set-header>
      </when>
    </choose>
  </inbound>
</policies>
"#);
    snapshot!("multi_line_expressions", out);
    assert!(
        out.contains("true);\n            var ok = body[\"items\"]?.Any(i => (int)i[\"qty\"] > 0) ?? false;   \n  return"),
        "expression lines kept as written"
    );
}

#[test]
fn keeps_payloads_and_preserved_space_verbatim() {
    let out = fmt(r#"<policies>
<inbound>
<set-body template="liquid">
  <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
<soap:Body><Get>{{body.id}}</Get></soap:Body>
  </soap:Envelope>
</set-body>
<doc xml:space="preserve">
  <a>  </a>
     <b/>
</doc>
</inbound>
</policies>
"#);
    snapshot!("payloads", out);
}

#[test]
fn formats_every_fixture() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/format");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("fixtures folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 8, "fixtures missing: {paths:?}");
    for path in paths {
        let source = std::fs::read_to_string(&path).expect("fixture is UTF-8");
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file name");
        snapshot!(format!("fixture_{stem}"), fmt(&source));
    }
}
