//! Policies in Bicep files and ARM templates, end to end: found (inline, loaded, or written in
//! a module and placed by its caller), checked in place, fixed inside their literals with the
//! host's escaping, and nothing else of the host touched.

use std::path::Path;

use apimfix::host::{arm, bicep};

use crate::common::TestDir;

const FIXTURE: &str = "tests/fixtures/iac/bicep";

/// The text of a host outside its inline policies: what no fix or format may change.
fn outside_policies(path: &str, source: &str) -> String {
    let scan = if path.ends_with(".json") {
        arm::scan(Path::new(path), source, &|_| None)
    } else {
        bicep::scan(Path::new(path), source, &|_| None)
    }
    .expect("host reads");
    let mut contents: Vec<_> = scan.policies.iter().map(|p| p.content.clone()).collect();
    contents.sort_by_key(|c| c.start);
    let mut out = String::new();
    let mut at = 0;
    for content in contents {
        out.push_str(&source[at..content.start]);
        out.push('\u{0}');
        at = content.end;
    }
    out.push_str(&source[at..]);
    out
}

/// `path:line:col: rule` of each finding of a text report.
fn findings(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter(|l| [".bicep:", ".xml:", ".json:"].iter().any(|k| l.contains(k)))
        .filter_map(|l| {
            let (place, rest) = l.split_once(": ")?;
            let rule = rest.split([' ', ':']).next()?;
            Some(format!("{place}: {rule}"))
        })
        .collect()
}

#[test]
fn bicep_fixture_is_repaired_by_one_fix_write_and_a_second_run_is_clean() {
    let t = TestDir::copy_of(FIXTURE);
    let hosts = [
        "contoso/main.bicep",
        "contoso/modules/api.bicep",
        "no-cors/main.bicep",
    ];
    let before: Vec<String> = hosts.iter().map(|h| t.read(h)).collect();
    let check = t.run(&["check", "."]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    assert_eq!(
        findings(&check.stdout),
        [
            // Scenario 4: the product throttles before <base /> (a one-line quoted string),
            // seen through the model the resources make.
            "contoso/main.bicep:69:48: base-first",
            // Scenario 2: the orders API lost its <base />; its `'''` string is written in
            // a module, and the caller's `apiName: 'orders'` places it.
            "contoso/modules/api.bicep:29:2: base-missing",
            // Scenario 3: a global file loaded through replace(loadTextContent(...)).
            "contoso/policies/global.xml:3:9: cors-first",
            "contoso/policies/global.xml:4:9: cors-origins",
            // Scenario 1: no <cors> anywhere.
            "no-cors/main.bicep:16:3: cors-origins",
        ],
        "{}",
        check.stdout
    );
    // Bringing the parents' rate limits into the API is a change of who may call: unsafe.
    assert!(
        check
            .stdout
            .contains("`<base />` turns on rate-limit-by-key"),
        "{}",
        check.stdout
    );

    let fix = t.run(&["fix", "--unsafe-fixes", "--write", "."]);
    assert_eq!(fix.code, 0, "{}\n{}", fix.stdout, fix.stderr);
    for (host, old) in hosts.iter().zip(&before) {
        let new = t.read(host);
        assert_ne!(&new, old, "{host} was not fixed");
        assert_eq!(
            outside_policies(host, &new),
            outside_policies(host, old),
            "{host}"
        );
    }
    let main = t.read("contoso/main.bicep");
    // The quoted string keeps its escapes: the moved <base /> is written with `\n`.
    assert!(
        main.contains(
            r#"value: '<policies>\n    <inbound>\n        <base />\n        <rate-limit calls="5""#
        ),
        "{main}"
    );
    // The `'''` string is written verbatim, with the file's tabs.
    assert!(
        t.read("contoso/modules/api.bicep")
            .contains("<policies>\n\t<inbound>\n\t\t<base />\n\t\t<set-header"),
    );
    let again = t.run(&["check", "."]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    let second = t.run(&["fix", "--unsafe-fixes", "."]);
    assert_eq!((second.code, second.stdout.as_str()), (0, ""));
}

#[test]
fn bicep_hosts_with_nothing_to_fix_round_trip_byte_for_byte() {
    let t = TestDir::copy_of(FIXTURE);
    // Repair everything once; then `fmt --write` and `fix --write` leave every byte alone.
    t.run(&["fix", "--unsafe-fixes", "--write", "."]);
    let before = t.snapshot_bytes();
    let run = t.run(&["fix", "--unsafe-fixes", "--write", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(t.snapshot_bytes(), before);
}

/// An ARM template: a product policy in a JSON string throttles before `<base />`, and the
/// global policy holds the `<cors>`. The fix is written back with JSON escapes, and the
/// template is still JSON with the same structure.
#[test]
fn arm_template_policies_are_fixed_inside_their_json_strings() {
    let t = TestDir::new();
    let global = "<policies>\r\n  <inbound>\r\n    <cors>\r\n      <allowed-origins>\r\n        <origin>https://app.contoso.com</origin>\r\n      </allowed-origins>\r\n      <allowed-methods>\r\n        <method>GET</method>\r\n      </allowed-methods>\r\n      <allowed-headers>\r\n        <header>content-type</header>\r\n      </allowed-headers>\r\n    </cors>\r\n  </inbound>\r\n  <backend>\r\n    <forward-request />\r\n  </backend>\r\n  <outbound />\r\n  <on-error />\r\n</policies>";
    let product = "<policies>\r\n  <inbound>\r\n    <rate-limit calls=\"5\" renewal-period=\"60\" />\r\n    <base />\r\n  </inbound>\r\n  <backend>\r\n    <base />\r\n  </backend>\r\n  <outbound>\r\n    <base />\r\n  </outbound>\r\n  <on-error>\r\n    <base />\r\n  </on-error>\r\n</policies>";
    let template = serde_json::json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [
            {
                "type": "Microsoft.ApiManagement/service/policies",
                "apiVersion": "2022-08-01",
                "name": "apim/policy",
                "properties": { "format": "rawxml", "value": global }
            },
            {
                "type": "Microsoft.ApiManagement/service/products",
                "apiVersion": "2022-08-01",
                "name": "apim/starter",
                "properties": { "displayName": "Starter" }
            },
            {
                "type": "Microsoft.ApiManagement/service/apis",
                "apiVersion": "2022-08-01",
                "name": "apim/orders",
                "properties": { "path": "orders" }
            },
            {
                "type": "Microsoft.ApiManagement/service/products/apis",
                "apiVersion": "2022-08-01",
                "name": "apim/starter/orders"
            },
            {
                "type": "Microsoft.ApiManagement/service/products/policies",
                "apiVersion": "2022-08-01",
                "name": "apim/starter/policy",
                "properties": { "format": "rawxml", "value": product }
            }
        ]
    });
    let text = serde_json::to_string_pretty(&template).unwrap() + "\n";
    t.write("azuredeploy.json", &text);
    // APIOps metadata beside it is no template: never read as one.
    t.write(
        "apiInformation.json",
        "{\"properties\": {\"path\": \"x\"}}\n",
    );

    let check = t.run(&["check", "."]);
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    let found = findings(&check.stdout);
    assert_eq!(found.len(), 1, "{}", check.stdout);
    assert!(found[0].starts_with("azuredeploy.json:"), "{found:?}");
    assert!(found[0].ends_with(": base-first"), "{found:?}");

    let fix = t.run(&["fix", "--write", "."]);
    assert_eq!(fix.code, 0, "{}\n{}", fix.stdout, fix.stderr);
    let after = t.read("azuredeploy.json");
    assert_eq!(
        outside_policies("azuredeploy.json", &after),
        outside_policies("azuredeploy.json", &text)
    );
    let mut parsed: serde_json::Value = serde_json::from_str(&after).expect("still JSON");
    let value = parsed["resources"][4]["properties"]["value"].take();
    assert_eq!(
        value.as_str().unwrap(),
        product.replace(
            "    <rate-limit calls=\"5\" renewal-period=\"60\" />\r\n    <base />\r\n",
            "    <base />\r\n    <rate-limit calls=\"5\" renewal-period=\"60\" />\r\n"
        )
    );
    parsed["resources"][4]["properties"]["value"] = serde_json::Value::Null;
    let mut original = template.clone();
    original["resources"][4]["properties"]["value"] = serde_json::Value::Null;
    assert_eq!(parsed, original, "nothing else of the template changed");
    assert_eq!(t.run(&["check", "."]).code, 0);
}

/// `effective` on a Bicep folder composes the chain from its resources, module literals
/// included (placed by the caller's `apiName: 'orders'`), and sees the fix reach the chain.
#[test]
fn effective_composes_a_chain_from_the_bicep_resources() {
    let t = TestDir::copy_of(FIXTURE);
    let effective = |t: &TestDir| {
        let run = t.run(&[
            "effective",
            "contoso",
            "--api",
            "orders",
            "--product",
            "starter",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    let before = effective(&t);
    assert!(
        before.contains("<!-- from modules/api.bicep (orders.apiPolicy):3 -->"),
        "{before}"
    );
    assert!(
        before.contains("<!-- from policies/jwt-check.xml:2 -->"),
        "{before}"
    );
    // The API lost its <base />: neither the product's limits nor the global <cors> run.
    assert!(
        !before.contains("<cors") && !before.contains("<rate-limit"),
        "{before}"
    );
    assert_eq!(t.run(&["fix", "--unsafe-fixes", "--write", "."]).code, 0);
    let after = effective(&t);
    let at = |name: &str| {
        after
            .find(name)
            .unwrap_or_else(|| panic!("{name}: {after}"))
    };
    // The product's <base /> now leads: the global policy runs first, its <cors> before its
    // rate limit, then the product's limits, then the API's own statements.
    assert!(
        at("<cors") < at("<rate-limit-by-key") && at("<rate-limit-by-key") < at("<rate-limit ")
    );
    assert!(at("<rate-limit ") < at("x-request-id"));
}

/// `fmt` keeps the end of a multi-line string as written: a newline added before the closing
/// `'''` would change the value Bicep deploys.
#[test]
fn fmt_keeps_the_ends_of_a_multiline_string() {
    let t = TestDir::new();
    t.write(
        "main.bicep",
        "resource apim 'Microsoft.ApiManagement/service@2023-05-01-preview' existing = {\n  name: 'apim'\n}\nresource pol 'Microsoft.ApiManagement/service/policies@2023-05-01-preview' = {\n  parent: apim\n  name: 'policy'\n  properties: {\n    format: 'rawxml'\n    value: '''\n<policies>\n<inbound><base/></inbound>\n<backend><forward-request /></backend><outbound/><on-error/></policies>'''\n  }\n}\n",
    );
    let run = t.run(&["fmt", "--write", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let after = t.read("main.bicep");
    assert!(
        after.contains("    <on-error />\n</policies>'''\n"),
        "{after}"
    );
    assert!(
        after.contains("value: '''\n<policies>\n    <inbound>\n"),
        "{after}"
    );
    assert_eq!(t.run(&["fmt", "--check", "."]).code, 0, "fmt is idempotent");
}
