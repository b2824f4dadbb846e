//! Layouts beside the APIOps extractor tree, end to end: the apiops-cli tree, the
//! devops-resource-kit creator configuration, environments and named values.

use std::path::{Path, PathBuf};

use crate::common::{TestDir, apimfix};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/repo")
        .join(name)
}

/// `apimfix ARGS` run in the fixture folder `name`.
fn run_in(name: &str, args: &[&str]) -> crate::common::Run {
    let output = apimfix()
        .current_dir(fixture(name))
        .args(args)
        .output()
        .unwrap();
    crate::common::Run::from(output)
}

/// The `path:line:col: rule` heads of the findings in a text report.
fn heads(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| !l.starts_with(' ') && l.contains(": ") && l.matches(':').count() >= 4)
        .map(|l| {
            let mut parts = l.splitn(5, ':');
            let path = parts.next().unwrap();
            let line = parts.next().unwrap();
            let col = parts.next().unwrap();
            let rule = parts.next().unwrap().trim();
            let rule = rule.trim_end_matches(" [*]");
            format!("{path}:{line}:{col}: {rule}")
        })
        .collect()
}

#[test]
fn apiops_cli_tree_is_a_repo() {
    let run = run_in("apiops-cli", &["check", "-v", "."]);
    let mut heads = heads(&run.stdout);
    heads.sort();
    assert_eq!(
        heads,
        [
            // The API's `<cors>` runs first, so the operation's never applies.
            "apim-artifacts/apis/books/operations/list/policy.xml:4:9: cors-shadowed",
            // The product's fragment rate-limits before the API's `<cors>`, found through
            // `products/starter/apis.json` and `policyFragments/`.
            "apim-artifacts/apis/books/policy.xml:4:9: base-first",
        ],
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("apim-artifacts/policyFragments/limits/policy.xml: scope fragment"),
        "{}",
        run.stderr
    );
    // The resolver's data source is no policy document: left alone, not a syntax error and
    // not a file of unknown scope.
    assert!(
        run.stderr
            .contains("apim-artifacts/apis/books/resolvers/book-author/policy.xml: skipped"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("unknown scope"), "{}", run.stderr);
    assert_eq!(run.code, 1);
}

#[test]
fn resolver_policies_have_their_own_scope() {
    let t = TestDir::new();
    t.write("a/apis/g/apiInformation.json", "{}");
    t.write(
        "a/apis/g/resolvers/q/policy.xml",
        "<policies>\n    <inbound>\n        <base />\n    </inbound>\n</policies>\n",
    );
    let run = t.run(&["check", "-v", "a"]);
    assert!(
        run.stderr.contains(
            "a/apis/g/resolvers/q/policy.xml: scope resolver (path pattern apiops-cli `apis/<api>/resolvers/<resolver>/policy.xml`)"
        ),
        "{}",
        run.stderr
    );
    // No parent: `<base />` is flagged, and no section asks for one.
    assert_eq!(
        heads(&run.stdout),
        ["a/apis/g/resolvers/q/policy.xml:3:9: base-forbidden"],
        "{}",
        run.stdout
    );
}

#[test]
fn resource_kit_creator_configuration_is_a_repo() {
    let run = run_in("resource-kit", &["check", "-v", "."]);
    let mut heads = heads(&run.stdout);
    heads.sort();
    assert_eq!(
        heads,
        [
            // The API's `<cors>` runs first: the operation's is dead.
            "Input/get-order.xml:4:9: cors-shadowed",
            // Product `Gold Tier` (linked by display name) quotas before the API's `<cors>`.
            "Input/orders-api.xml:4:9: base-first",
        ],
        "{}",
        run.stdout
    );
    for (file, scope) in [
        ("global.xml", "global"),
        ("gold.xml", "product"),
        ("orders-api.xml", "api"),
        ("get-order.xml", "operation"),
    ] {
        assert!(
            run.stderr.contains(&format!(
                "Input/{file}: scope {scope} (the resource-kit creator configuration that names the file)"
            )),
            "{file}: {}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("unknown scope"), "{}", run.stderr);
}

#[test]
fn resource_kit_effective_policy() {
    let run = run_in(
        "resource-kit",
        &[
            "effective",
            "Input/creator.yml",
            "--api",
            "orders",
            "--operation",
            "getOrder",
            "--product",
            "Gold Tier",
        ],
    );
    // A product is named by its `name`; the display name is no product.
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("`gold`"), "{}", run.stderr);

    let run = run_in(
        "resource-kit",
        &[
            "effective",
            "Input/creator.yml",
            "--api",
            "orders",
            "--operation",
            "getOrder",
            "--product",
            "gold",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let origins: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("<!-- from "))
        .map(str::trim)
        .collect();
    assert_eq!(
        origins,
        [
            // The global policy is named by an absolute Windows path of another machine.
            "<!-- from Input/global.xml:3 -->",
            "<!-- from Input/gold.xml:4 -->",
            "<!-- from Input/orders-api.xml:4 -->",
            "<!-- from Input/get-order.xml:4 -->",
            "<!-- from Input/global.xml:8 -->",
        ],
        "{}",
        run.stdout
    );
}

#[test]
fn each_environment_gives_its_own_findings() {
    // No environment, and `dev`: `{{frontend-origin}}` is the declared origin; the API
    // policy is the file's.
    for args in [
        &["check", "."][..],
        &["check", "--environment", "dev", "."][..],
    ] {
        let run = run_in("environments", args);
        assert_eq!(
            heads(&run.stdout),
            Vec::<String>::new(),
            "{args:?}: {}",
            run.stdout
        );
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    }
    // `prod`: another origin, and an API policy override that rate-limits before `<base />`,
    // reported at its lines of the YAML file, naming the environment, with no fix.
    let run = run_in("environments", &["check", "--environment", "prod", "."]);
    let mut heads = heads(&run.stdout);
    heads.sort();
    assert_eq!(
        heads,
        [
            "artifacts/policy.xml:3:9: cors-origins",
            "configuration.prod.yaml:21:21: base-first",
        ],
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("(environment `prod`: the override of `apis/orders`)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("named value `{{frontend-origin}}`, resolved for environment `prod`"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("fixable"), "{}", run.stdout);
    // The same environment from the config file.
    let t = TestDir::copy_of("tests/fixtures/repo/environments");
    t.write(
        ".apimfix.yaml",
        "environment: prod\nrules:\n  cors-origins:\n    origins: [https://shop.contoso.com]\n",
    );
    let run = t.run(&["check", "."]);
    assert_eq!(
        crate::layouts::heads(&run.stdout).len(),
        2,
        "{}",
        run.stdout
    );
    // An environment with no configuration file is an error.
    let run = run_in("environments", &["check", "--environment", "qa", "."]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("no `configuration.qa.yaml` for environment `qa`"),
        "{}",
        run.stderr
    );
}

#[test]
fn effective_policy_per_environment() {
    let lines = |env: Option<&str>, keep: bool| {
        let mut args = vec![
            "effective",
            "artifacts",
            "--api",
            "orders",
            "--operation",
            "get-order",
        ];
        if let Some(env) = env {
            args.extend(["--environment", env]);
        }
        if keep {
            args.push("--keep-named-values");
        }
        let run = run_in("environments", &args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    let default = lines(None, false);
    assert!(
        default.contains("<origin>https://shop.contoso.com</origin>"),
        "{default}"
    );
    assert!(!default.contains("rate-limit"), "{default}");
    let prod = lines(Some("prod"), false);
    assert!(prod.contains("<!-- environment prod -->"), "{prod}");
    assert!(
        prod.contains("<!-- {{frontend-origin}} -> https://www.contoso.com -->"),
        "{prod}"
    );
    assert!(
        prod.contains("<origin>https://www.contoso.com</origin>"),
        "{prod}"
    );
    assert!(
        prod.contains("<!-- from configuration.prod.yaml#apis/orders:21 -->\n    <rate-limit"),
        "{prod}"
    );
    let kept = lines(Some("prod"), true);
    assert!(
        kept.contains("<origin>{{frontend-origin}}</origin>"),
        "{kept}"
    );
    assert!(!kept.contains("https://www.contoso.com"), "{kept}");
    // Secrets stay references.
    assert!(prod.contains("<value>{{backend-key}}</value>"), "{prod}");
}

/// Every value of a secret or Key Vault named value in the fixture, and the placeholder
/// token names.
const SECRETS: [&str; 4] = [
    "SUPERSECRET-backend-0001",
    "VAULTSECRET-0002",
    "SUPERSECRET-prod-0003",
    "DEV_BACKEND_KEY",
];

#[test]
fn secret_named_values_reach_no_output() {
    let mut outputs = Vec::new();
    for env in [None, Some("dev"), Some("prod")] {
        let env_args: Vec<&str> = env.map(|e| vec!["--environment", e]).unwrap_or_default();
        for format in ["text", "json", "sarif", "github", "rdjson"] {
            let mut args = vec!["check", "-v", "--output-format", format, "--statistics"];
            args.extend(&env_args);
            args.push(".");
            outputs.push((
                format!("check {format} {env:?}"),
                run_in("environments", &args),
            ));
        }
        let mut args = vec!["fix", "-v", "--show-fixes"];
        args.extend(&env_args);
        args.push(".");
        outputs.push((format!("fix diff {env:?}"), run_in("environments", &args)));
        for api_args in [
            &["--api", "orders"][..],
            &["--api", "orders", "--operation", "get-order"][..],
        ] {
            for format in ["xml", "json"] {
                let mut args = vec!["effective", "artifacts", "--format", format];
                args.extend(api_args);
                args.extend(&env_args);
                outputs.push((
                    format!("effective {format} {env:?}"),
                    run_in("environments", &args),
                ));
            }
        }
    }
    // A fix that writes: the files on disk and the report after it.
    let t = TestDir::copy_of("tests/fixtures/repo/environments");
    let run = t.run(&[
        "fix",
        "--write",
        "--environment",
        "prod",
        "--output-format",
        "json",
        ".",
    ]);
    outputs.push(("fix --write".to_owned(), run));
    for (what, run) in &outputs {
        for secret in SECRETS {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "{what} shows `{secret}`:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        }
    }
    // The runs did something: prod has findings in every format.
    assert!(outputs.iter().any(
        |(w, r)| w.starts_with("check sarif Some(\"prod\")") && r.stdout.contains("base-first")
    ));
    for xml in crate::common::xml_files(t.path()) {
        let text = std::fs::read_to_string(&xml).unwrap();
        for secret in SECRETS {
            assert!(!text.contains(secret), "{} holds `{secret}`", xml.display());
        }
    }
}

#[test]
fn unknown_scopes_are_counted_and_explained() {
    let t = TestDir::new();
    let policy = "<policies>\n    <inbound />\n    <backend />\n    <outbound />\n    <on-error />\n</policies>\n";
    t.write("misc/a.xml", policy);
    t.write("misc/b.xml", policy);
    // Named by a creator configuration: not unknown.
    t.write(
        "kit/Input/creator.yml",
        "apimServiceName: svc\npolicy: ./Input/global.xml\n",
    );
    t.write("kit/Input/global.xml", policy);
    let run = t.run(&["check", "-v", "."]);
    assert!(
        run.stdout
            .lines()
            .any(|l| l == "No findings; 2 files of unknown scope"),
        "{}",
        run.stdout
    );
    for file in ["misc/a.xml", "misc/b.xml"] {
        assert!(
            run.stderr.contains(&format!(
                "{file}: scope unknown (no layout places it: no APIOps or apiops-cli folder"
            )),
            "{}",
            run.stderr
        );
    }
    assert!(
        run.stderr
            .contains("kit/Input/global.xml: scope global (the resource-kit creator configuration"),
        "{}",
        run.stderr
    );
}

#[test]
fn secret_named_values_reach_no_language_server_message() {
    use crate::server_support::{Client, uri};
    let t = TestDir::copy_of("tests/fixtures/repo/environments");
    t.write(
        ".apimfix.yaml",
        "environment: prod\nrules:\n  cors-origins:\n    origins: [https://shop.contoso.com]\n",
    );
    let mut client = Client::start(t.path());
    let mut published = Vec::new();
    for file in [
        "artifacts/policy.xml",
        "artifacts/apis/orders/policy.xml",
        "artifacts/apis/orders/operations/get-order/policy.xml",
    ] {
        let path = t.path().join(file);
        let uri = uri(&path);
        client.open(&uri, &std::fs::read_to_string(&path).unwrap());
        let diagnostics = client.diagnostics(&uri);
        let actions = client.request(
            "textDocument/codeAction",
            serde_json::json!({
                "textDocument": { "uri": uri },
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 40, "character": 0 } },
                "context": { "diagnostics": diagnostics },
            }),
        );
        published.push((file, serde_json::to_string(&diagnostics).unwrap()));
        published.push((file, actions.to_string()));
    }
    client.shutdown();
    for (file, text) in &published {
        for secret in SECRETS {
            assert!(!text.contains(secret), "{file}: `{secret}` in {text}");
        }
    }
    // The global policy's `<cors>` reads `{{frontend-origin}}`: what the server says of it
    // is the same as `check` in that environment.
    let check = t.run(&["check", "artifacts/policy.xml"]);
    let said_by_check = check.stdout.contains("cors-origins");
    assert_eq!(
        published[0].1.contains("cors-origins"),
        said_by_check,
        "{}\n{}",
        published[0].1,
        check.stdout
    );
}
