//! Policies in Terraform files, end to end: found, checked in place (`main.tf:line:col`),
//! fixed and formatted inside their literals, and nothing else of the host touched.

use std::path::{Path, PathBuf};
use std::process::Command;

use apimfix::host::terraform;

use crate::common::{TestDir, copy_tree};

/// The bundled example is the fixture: the four scenarios in every form Terraform allows.
const FIXTURE: &str = "examples/terraform";

/// The text of a host outside its inline policies: what no fix or format may change.
fn outside_policies(source: &str) -> String {
    let scan = terraform::scan(Path::new("main.tf"), source, &|_| None).expect("host reads");
    let mut out = String::new();
    let mut at = 0;
    for policy in &scan.policies {
        out.push_str(&source[at..policy.content.start]);
        out.push('\u{0}');
        at = policy.content.end;
    }
    out.push_str(&source[at..]);
    out
}

/// `path:line:col: rule` of each finding of a text report.
fn findings(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.contains(".tf:") || l.contains(".xml:"))
        .filter_map(|l| {
            let (place, rest) = l.split_once(": ")?;
            let rule = rest.split([' ', ':']).next()?;
            Some(format!("{place}: {rule}"))
        })
        .collect()
}

#[test]
fn terraform_fixture_is_repaired_by_one_fix_write_and_a_second_run_is_clean() {
    let t = TestDir::copy_of(FIXTURE);
    let before = t.read("contoso/main.tf");
    let before_no_cors = t.read("no-cors/main.tf");
    let check = t.run(&["check", "."]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    assert_eq!(
        findings(&check.stdout),
        [
            // Scenario 3: the global rate limit before <cors> (a `<<-` heredoc).
            "contoso/main.tf:25:13: cors-first",
            "contoso/main.tf:26:13: cors-origins",
            // Scenario 2: the API lost its <base /> (a `<<XML` heredoc with tabs).
            "contoso/main.tf:77:2: base-missing",
            // Scenario 4: the product throttles before <base /> (a quoted string): seen
            // only through the repo model the resources make (the global has the <cors>).
            "contoso/main.tf:155:55: base-first",
            // Scenario 1: no <cors> anywhere.
            "no-cors/main.tf:8:7: cors-origins",
        ],
        "{}",
        check.stdout
    );

    let fix = t.run(&["fix", "--unsafe-fixes", "--write", "."]);
    assert_eq!(fix.code, 0, "{}\n{}", fix.stdout, fix.stderr);
    let after = t.read("contoso/main.tf");
    assert_ne!(after, before);
    assert_eq!(outside_policies(&after), outside_policies(&before));
    assert_eq!(
        outside_policies(&t.read("no-cors/main.tf")),
        outside_policies(&before_no_cors)
    );
    // Each fix is in its literal, with the literal's escaping and indent.
    assert!(after.contains(
        "\\n  <inbound>\\n    <base />\\n    <rate-limit calls=\\\"5\\\" renewal-period=\\\"60\\\" />"
    ));
    assert!(after.contains("<policies>\n\t<inbound>\n\t\t<base />\n\t\t<set-header"));
    assert!(after.contains("                    <origin>https://portal.contoso.com</origin>\n"));
    assert!(
        t.read("no-cors/main.tf")
            .contains("      <inbound>\n        <cors allow-credentials=\"false\">\n")
    );
    // The placeholder of the healthy API is as it was.
    assert!(after.contains("base-url=\"${var.echo_url}\""));

    let again = t.run(&["check", "."]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    let second = t.run(&["fix", "--unsafe-fixes", "."]);
    assert_eq!((second.code, second.stdout.as_str()), (0, ""));
}

#[test]
fn fix_without_write_prints_a_diff_of_the_host_and_writes_nothing() {
    let t = TestDir::copy_of(FIXTURE);
    let before = t.snapshot_bytes();
    let run = t.run(&["fix", "--unsafe-fixes", "."]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .starts_with("diff --git a/contoso/main.tf b/contoso/main.tf\n--- a/contoso/main.tf\n+++ b/contoso/main.tf\n"),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stdout.matches("diff --git").count(),
        2,
        "one diff per host: {}",
        run.stdout
    );
    assert_eq!(t.snapshot_bytes(), before);
}

#[test]
fn fixed_terraform_still_parses_with_python_hcl2() {
    let probe = Command::new("python3").args(["-c", "import hcl2"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: python3 with python-hcl2 (`pip install python-hcl2`) is not available");
        return;
    }
    let t = TestDir::copy_of(FIXTURE);
    let fix = t.run(&["fix", "--unsafe-fixes", "--write", "."]);
    assert_eq!(fix.code, 0, "{}", fix.stderr);
    let fmt = t.run(&["fmt", "--write", "."]);
    assert!(fmt.code == 0, "{}", fmt.stderr);
    for host in ["contoso/main.tf", "no-cors/main.tf"] {
        let path = t.path().join(host);
        // The fixed policies read back from the HCL as apimfix decoded them.
        let script = "import hcl2, json, sys\n\
             doc = hcl2.load(open(sys.argv[1]))\n\
             print(json.dumps(doc))";
        let out = Command::new("python3")
            .args(["-c", script])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{host} does not parse with python-hcl2: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(json["resource"].is_array(), "{json}");
    }
}

#[test]
fn hosts_with_nothing_to_fix_round_trip_byte_for_byte() {
    let t = TestDir::new();
    let host = "resource \"azurerm_api_management_api_policy\" \"a\" {\n  api_name = \"a\"\n  xml_content = \"<policies><inbound><base /><set-variable name=\\\"x\\\" value=\\\"$${literal}\\\" /><set-header name=\\\"h\\\"><value>${var.h}</value></set-header></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>\"\n}\n\n# a comment\nresource \"azurerm_api_management_product_policy\" \"p\" {\n  product_id  = \"p\"\n  xml_content = <<-EOT\n\t<policies>\n\t    <inbound>\n\t        <base />\n\t    </inbound>\n\t    <backend>\n\t        <base />\n\t    </backend>\n\t    <outbound>\n\t        <base />\n\t    </outbound>\n\t    <on-error>\n\t        <base />\n\t    </on-error>\n\t</policies>\n\tEOT\n}\n";
    t.write("main.tf", host);
    let check = t.run(&["check", "-v", "."]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stderr.contains(
            "main.tf: scope api (resource `azurerm_api_management_api_policy.a` of `main.tf`)"
        ),
        "{}",
        check.stderr
    );
    for args in [["fix", "--write", "."], ["fmt", "--write", "."]] {
        let run = t.run(&args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_eq!(t.read("main.tf"), host, "{args:?} changed the host");
    }
}

#[test]
fn an_unreadable_host_is_an_error_at_its_line_and_the_rest_is_still_checked() {
    let t = TestDir::copy_of(FIXTURE);
    t.write(
        "contoso/broken.tf",
        "resource \"azurerm_api_management_api_policy\" \"b\" {\n  x = \"unclosed\n}\n",
    );
    // A file that names no APIM resource is not apimfix's business, even unreadable.
    t.write(
        "contoso/other.tf",
        "resource \"a\" \"b\" {\n  x = \"unclosed\n}\n",
    );
    let run = t.run(&["check", "."]);
    assert_eq!(run.code, 2);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        all.contains("contoso/broken.tf:2:7: error: unclosed string"),
        "{all}"
    );
    assert!(all.contains("contoso/main.tf:77:2: base-missing"), "{all}");
    assert!(!all.contains("other.tf"), "{all}");
}

#[test]
fn files_a_host_loads_take_the_scope_of_its_resource() {
    let t = TestDir::copy_of(FIXTURE);
    let run = t.run(&["check", "-v", "contoso"]);
    assert!(
        run.stderr.contains(
            "contoso/policies/get-order.xml: scope operation (loaded with `file()` by resource \
             `azurerm_api_management_api_operation_policy.get_order` of `contoso/main.tf`)"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "contoso/policies/jwt-check.xml: scope fragment (loaded with `file()` by resource \
             `azurerm_api_management_policy_fragment.jwt_check` of `contoso/main.tf`)"
        ),
        "{}",
        run.stderr
    );
    // The loaded operation policy is fixed in its own file, in the same rounds.
    t.write(
        "contoso/policies/get-order.xml",
        "<policies><inbound><rate-limit calls=\"1\" renewal-period=\"1\" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>",
    );
    let check = t.run(&["check", "contoso"]);
    assert!(
        check
            .stdout
            .contains("contoso/policies/get-order.xml:1:11: base-missing"),
        "{}",
        check.stdout
    );
}

/// The Terraform files of the corpus: each reads, and a run with nothing to fix in it
/// leaves it byte for byte.
#[test]
fn corpus_terraform_files_read_and_round_trip() {
    let Some(corpus) = std::env::var_os("APIMFIX_CORPUS") else {
        return;
    };
    let mut hosts = Vec::new();
    collect_tf(Path::new(&corpus), &mut hosts);
    assert!(!hosts.is_empty(), "the corpus holds Terraform files");
    for host in &hosts {
        let source = std::fs::read_to_string(host).unwrap();
        if let Err(e) = terraform::scan(host, &source, &|p| std::fs::read_to_string(p).ok()) {
            panic!("{}: {e:?}", host.display());
        }
        let t = TestDir::new();
        copy_tree(host.parent().unwrap(), t.path());
        let name = host.file_name().unwrap().to_str().unwrap();
        let before = t.read(name);
        let run = t.run(&["fix", "--write", "--exit-zero", name]);
        assert_ne!(run.code, 2, "{}: {}", host.display(), run.stderr);
        assert_eq!(t.read(name), before, "{}", host.display());
    }
}

fn collect_tf(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_tf(&path, out);
        } else if path.extension().is_some_and(|e| e == "tf") {
            out.push(path);
        }
    }
}

#[test]
fn effective_composes_a_chain_from_the_terraform_resources() {
    let t = TestDir::copy_of(FIXTURE);
    let run = t.run(&[
        "effective",
        "contoso",
        "--api",
        "orders",
        "--operation",
        "get-order",
        "--product",
        "starter",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The API policy lost its <base />: the global and product inbound never run, and the
    // fragment it includes and the operation's file policy come in.
    assert!(
        run.stdout
            .contains("<!-- from main.tf (azurerm_api_management_api_policy.orders):3 -->"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("<!-- from policies/jwt-check.xml:2 -->"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("<!-- from policies/get-order.xml:4 -->"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("<cors"), "{}", run.stdout);
    // Fixed, the global <cors> reaches the chain, after the product's <base />.
    assert_eq!(t.run(&["fix", "--unsafe-fixes", "--write", "."]).code, 0);
    let run = t.run(&[
        "effective",
        "contoso",
        "--api",
        "orders",
        "--operation",
        "get-order",
        "--product",
        "starter",
    ]);
    let cors = run
        .stdout
        .find("<cors")
        .expect("the global <cors> composes in");
    let limit = run
        .stdout
        .find("<rate-limit ")
        .expect("the product's rate limit");
    assert!(cors < limit, "{}", run.stdout);
}

#[test]
fn names_resolve_across_the_files_of_a_module_and_through_variables() {
    let t = TestDir::new();
    t.write(
        "infra/apis.tf",
        "variable \"product\" {\n  default = \"gold\"\n}\n\nresource \"azurerm_api_management_api\" \"orders\" {\n  name     = \"orders-api\"\n  revision = \"1\"\n}\n\nresource \"azurerm_api_management_product_api\" \"link\" {\n  product_id = var.product\n  api_name   = azurerm_api_management_api.orders.name\n}\n",
    );
    t.write(
        "infra/policies.tf",
        "resource \"azurerm_api_management_api_policy\" \"orders\" {\n  api_name    = azurerm_api_management_api.orders.name\n  xml_content = \"<policies><inbound><base /><set-header name=\\\"from-api\\\" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>\"\n}\n\nresource \"azurerm_api_management_product_policy\" \"gold\" {\n  product_id  = var.product\n  xml_content = \"<policies><inbound><base /><set-header name=\\\"from-product\\\" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>\"\n}\n",
    );
    let run = t.run(&[
        "effective",
        "infra",
        "--api",
        "orders-api",
        "--product",
        "gold",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let product = run.stdout.find("from-product").expect(&run.stdout);
    let api = run.stdout.find("from-api").expect(&run.stdout);
    assert!(product < api, "{}", run.stdout);
}

#[test]
fn verbose_notes_a_policy_the_host_computes() {
    let t = TestDir::new();
    t.write(
        "main.tf",
        "resource \"azurerm_api_management_product_policy\" \"p\" {\n  product_id  = \"p\"\n  xml_content = var.product_policy\n}\n",
    );
    let run = t.run(&["check", "-v", "."]);
    assert!(
        run.stderr.contains(
            "main.tf:3:17: note: the policy of `azurerm_api_management_product_policy.p` is \
             computed (`var.product_policy`): not analysed"
        ),
        "{}",
        run.stderr
    );
    let quiet = t.run(&["check", "."]);
    assert!(
        !quiet.stderr.contains("note: the policy"),
        "{}",
        quiet.stderr
    );
}

#[test]
fn fmt_formats_heredocs_in_place_and_leaves_quoted_strings() {
    let t = TestDir::new();
    let quoted = "  xml_content = \"<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>\"\n";
    let host = format!(
        "resource \"azurerm_api_management_policy\" \"g\" {{\n  xml_content = <<-XML\n    <policies>\n    <inbound><set-header name=\"a\" exists-action=\"override\"><value>${{var.a}}</value></set-header></inbound>\n    <backend><forward-request /></backend>\n    <outbound />\n    <on-error />\n    </policies>\n  XML\n}}\n\nresource \"azurerm_api_management_api_policy\" \"a\" {{\n  api_name = \"a\"\n{quoted}}}\n"
    );
    t.write("main.tf", &host);
    let check = t.run(&["fmt", "--check", "."]);
    assert_eq!(check.code, 1);
    assert_eq!(check.stdout.trim(), "main.tf");
    let run = t.run(&["fmt", "--write", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let after = t.read("main.tf");
    assert!(
        after.contains(
            "  xml_content = <<-XML\n    <policies>\n        <inbound>\n            <set-header name=\"a\" exists-action=\"override\">\n                <value>${var.a}</value>\n"
        ),
        "{after}"
    );
    assert!(
        after.contains(quoted),
        "the quoted policy is left as written"
    );
    assert_eq!(outside_policies(&after), outside_policies(&host));
    assert_eq!(t.run(&["fmt", "--check", "."]).code, 0);
}

#[test]
fn a_templatefile_policy_is_fixed_around_its_template_sequences() {
    let t = TestDir::new();
    t.write(
        "main.tf",
        "module \"api\" {\n  source      = \"./modules/api\"\n  api_name    = \"orders\"\n  xml_content = templatefile(\"${path.module}/api.xml.tftpl\", { origin = var.origin })\n}\n",
    );
    let template = "<policies>\n  <inbound>\n    <set-header name=\"x-origin\" exists-action=\"override\"><value>${origin}</value></set-header>\n    <rate-limit calls=\"%{ if strict }5%{ else }50%{ endif }\" renewal-period=\"60\" />\n  </inbound>\n  <backend><base /></backend>\n  <outbound><base /></outbound>\n  <on-error><base /></on-error>\n</policies>\n";
    t.write("api.xml.tftpl", template);
    let check = t.run(&["check", "-v", "."]);
    assert!(
        check.stdout.contains("api.xml.tftpl:2:3: base-missing"),
        "{}",
        check.stdout
    );
    assert!(
        check.stderr.contains(
            "api.xml.tftpl: scope api (loaded with `templatefile()` by resource `module.api.xml_content` of `main.tf`)"
        ),
        "{}",
        check.stderr
    );
    let fix = t.run(&["fix", "--unsafe-fixes", "--write", "."]);
    assert_eq!(fix.code, 0, "{}{}", fix.stdout, fix.stderr);
    assert_eq!(
        t.read("api.xml.tftpl"),
        template.replace("<inbound>\n", "<inbound>\n    <base />\n")
    );
}

/// Issue 13's last layout: an operation `<cors>` that its API's `<cors>` shadows is reported
/// when both are Terraform resources, through the model the resources make.
#[test]
fn a_cors_shadowed_by_the_api_is_reported_in_terraform() {
    let t = TestDir::new();
    t.write(
        "main.tf",
        include_str!("../fixtures/iac/terraform-shadow/main.tf"),
    );
    let run = t.run(&["check", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "main.tf:45:5: cors-shadowed: `<cors>` never applies: the `<cors>` of API `orders`"
        ),
        "{}",
        run.stdout
    );
}

/// A move across a line holding `${...}`: the character diff of the old and new policy
/// aligned a deletion inside the placeholder and the fix failed with an internal error;
/// whole lines are used then, and the placeholder line stays as it is.
#[test]
fn a_move_across_a_placeholder_line_is_written() {
    let t = TestDir::copy_of("tests/fixtures/iac/terraform-placeholder-move");
    let run = t.run(&["fix", "--write", "."]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let after = t.read("main.tf");
    let cors = after.find("<cors>").unwrap();
    assert!(cors < after.find("<rate-limit").unwrap(), "{after}");
    assert!(after.contains("<value>${var.origin}</value>"), "{after}");
    assert_eq!(t.run(&["check", "."]).code, 0);
}

/// A parent policy the host computes (`xml_content = local.x`) is not known to be empty: the
/// `<base />` that base-missing would restore may turn on anything, so its fix is unsafe (it
/// was offered as safe, as if the global policy ran nothing).
#[test]
fn a_computed_parent_policy_makes_base_missing_unsafe() {
    let t = TestDir::copy_of("tests/fixtures/iac/terraform-computed");
    let run = t.run(&["check", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("main.tf:24:3: base-missing:"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("base-missing [*]"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("(unsafe fix: enable it with `--unsafe-fixes`)")
    );
    let before = t.snapshot_bytes();
    assert_eq!(t.run(&["fix", "--write", "."]).code, 1);
    assert_eq!(t.snapshot_bytes(), before, "a safe run changes nothing");
}

/// `fmt` of a `<<-` heredoc with a blank line: the formatted first line landed on the blank
/// line without the heredoc's indent, which lowered the indent `<<-` strips (an internal
/// error, the host left unchanged). Now formatted, and formatted again changes nothing.
#[test]
fn fmt_formats_an_indented_heredoc_with_a_blank_line() {
    let t = TestDir::copy_of("tests/fixtures/iac/terraform-blank-line");
    let run = t.run(&["fmt", "--write", "."]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let after = t.read("main.tf");
    assert!(
        after.contains(
            "    <policies>\n        <inbound>\n            <base />\n        </inbound>\n"
        ),
        "{after}"
    );
    assert!(
        !after.lines().any(|l| l.ends_with(' ')),
        "no trailing whitespace: {after}"
    );
    assert_eq!(t.run(&["fmt", "--check", "."]).code, 0);
}
