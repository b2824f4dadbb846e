//! The Bicep and ARM readers on the IaC hosts of the corpus (`APIMFIX_CORPUS` names it; the
//! tests return early when it is unset): every host scans without error, and the policy
//! files and inline policies they place are those the corpus's STATS.md counts
//! ("Infrastructure-as-Code hosts").

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use apimfix::host::{HostScan, InlinePolicy, Literal, arm, bicep};

fn corpus() -> Option<PathBuf> {
    std::env::var_os("APIMFIX_CORPUS").map(PathBuf::from)
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

fn load(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// Every host of one extension, scanned; panics on the first that does not read.
fn scan_all(root: &Path, ext: &str) -> Vec<(PathBuf, String, HostScan)> {
    let mut paths = Vec::new();
    files(root, ext, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let source = std::fs::read_to_string(&path).unwrap();
            let scan = match ext {
                "bicep" => bicep::scan(&path, &source, &load),
                _ => arm::scan(&path, &source, &load),
            };
            let scan = scan.unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            (path, source, scan)
        })
        .collect()
}

/// Each decoded character of an inline policy maps into its literal, onto host bytes that
/// encode back to it (the corpus's literals use the escapes the encoders write).
fn assert_maps_back(path: &Path, host: &str, p: &InlinePolicy) {
    for (at, c) in p.text.char_indices() {
        let from = p.host_offset(at);
        let to = p.host_offset(at + c.len_utf8());
        assert!(p.content.start <= from && to <= p.content.end);
        let mut buf = [0; 4];
        let encoded = match p.literal {
            Literal::JsonString => arm::encode(p.literal, c.encode_utf8(&mut buf)),
            _ => bicep::encode(p.literal, c.encode_utf8(&mut buf)),
        };
        assert_eq!(
            encoded.unwrap(),
            &host[from..to],
            "{} at {at}",
            path.display()
        );
    }
}

#[test]
fn bicep_hosts_place_the_files_and_inline_policies_stats_counts() {
    let Some(root) = corpus() else { return };
    let scans = scan_all(&root, "bicep");
    assert_eq!(scans.len(), 136);

    let mut by_scope: BTreeMap<&str, BTreeSet<&Path>> = BTreeMap::new();
    let mut via_module = BTreeSet::new();
    let mut replaced = BTreeSet::new();
    for (_, _, scan) in &scans {
        for r in &scan.references {
            assert!(r.path.is_file(), "{} does not exist", r.path.display());
            assert_eq!(r.via, "loadTextContent");
            by_scope
                .entry(r.placement.scope.as_str())
                .or_default()
                .insert(&r.path);
            // A module parameter's resource is labelled `module.resource`.
            if r.placement.resource.contains('.') {
                via_module.insert(&r.path);
            }
            if !r.replaced.is_empty() {
                replaced.insert(&r.path);
            }
        }
    }
    let counts: BTreeMap<&str, usize> = by_scope.iter().map(|(k, v)| (*k, v.len())).collect();
    // STATS: 113 Bicep-loaded files; one of them (GPT-4o-inferencing) goes to a module file
    // that does not exist. Its other scopes: global 2 (Apim-Samples), product 3 (AI-Gateway
    // 1, landing zone 2), fragment 6, operation 13, API 88 (of the 91: 2 are resource-kit
    // YAML, 1 AI-Gateway Terraform).
    assert_eq!(
        counts,
        BTreeMap::from([
            ("api", 88),
            ("fragment", 6),
            ("global", 2),
            ("operation", 13),
            ("product", 3)
        ])
    );
    let all: BTreeSet<&Path> = by_scope.values().flatten().copied().collect();
    assert_eq!(all.len(), 112, "no file is placed under two scopes");
    assert_eq!(via_module.len(), 33);
    assert_eq!(replaced.len(), 39);

    let unresolved: Vec<_> = scans
        .iter()
        .flat_map(|(path, source, scan)| {
            scan.notes
                .iter()
                .filter(|n| n.message.starts_with("module file"))
                .map(move |n| (path, &source[n.site.clone()]))
        })
        .collect();
    assert_eq!(unresolved.len(), 1, "{unresolved:?}");
    assert!(
        unresolved[0]
            .0
            .ends_with("labs/_deprecated/GPT-4o-inferencing/main.bicep")
    );
    assert_eq!(unresolved[0].1, "'../../modules/apim/v1/openai-api.bicep'");

    // Named only in a commented-out loadTextContent.
    assert!(
        !all.iter()
            .any(|p| p.ends_with("mcp_sk_servers/apim-mcp/mcp-api.policy.xml"))
    );

    // Inline: 4 single-quoted `xml` (API 3, product 1) and 1 `'''` `rawxml` (API).
    let inline: Vec<_> = scans
        .iter()
        .flat_map(|(path, source, scan)| scan.policies.iter().map(move |p| (path, source, p)))
        .collect();
    let mut kinds = BTreeMap::new();
    for (path, source, p) in &inline {
        assert_maps_back(path, source, p);
        let key = (
            format!("{:?}", p.literal),
            p.format.clone().unwrap_or_default(),
            p.placement.scope.as_str(),
        );
        *kinds.entry(key).or_insert(0) += 1;
    }
    let key = |l: &str, f: &str, s: &'static str| (l.to_owned(), f.to_owned(), s);
    assert_eq!(
        kinds,
        BTreeMap::from([
            (key("BicepQuoted", "xml", "api"), 3),
            (key("BicepQuoted", "xml", "product"), 1),
            (key("BicepMultiline", "rawxml", "api"), 1),
        ])
    );

    // Product membership: `service/products/apis` resources. The landing zone links its
    // `hello` API to a new product and to the built-in `starter`.
    let (_, _, config) = scans
        .iter()
        .find(|(p, _, _)| p.ends_with("workload-functions/bicep/apim/config.bicep"))
        .unwrap();
    for product in ["hellobasic", "starter"] {
        assert!(
            config
                .declared
                .contains(&apimfix::host::Declared::ProductApi {
                    workspace: None,
                    product: product.to_owned(),
                    api: "hello".to_owned(),
                })
        );
    }
}

#[test]
fn arm_templates_hold_two_inline_policies_and_three_expressions() {
    let Some(root) = corpus() else { return };
    let scans = scan_all(&root, "json");
    let inline: Vec<_> = scans
        .iter()
        .flat_map(|(path, source, scan)| scan.policies.iter().map(move |p| (path, source, p)))
        .collect();
    for (path, source, p) in &inline {
        assert_maps_back(path, source, p);
    }
    let kinds: BTreeSet<_> = inline
        .iter()
        .map(|(_, _, p)| {
            (
                p.format.clone().unwrap_or_default(),
                p.placement.scope.as_str(),
            )
        })
        .collect();
    assert_eq!(inline.len(), 2);
    assert_eq!(
        kinds,
        BTreeSet::from([("rawxml".to_owned(), "product"), ("xml".to_owned(), "api")])
    );
    let notes: Vec<_> = scans
        .iter()
        .flat_map(|(path, _, scan)| scan.notes.iter().map(move |n| (path, &n.message)))
        .collect();
    let expressions: Vec<_> = notes
        .iter()
        .filter(|(_, m)| m.contains("ARM expression"))
        .collect();
    assert_eq!(expressions.len(), 3);
    assert!(
        expressions
            .iter()
            .all(|(p, _)| p.to_string_lossy().contains("example/api-httpbin/"))
    );
    let links: Vec<_> = notes.iter().filter(|(_, m)| m.contains("-link")).collect();
    assert_eq!(links.len(), 1);
    assert!(
        links[0]
            .1
            .contains("/products/product-unlimited.policy.xml")
    );
    assert_eq!(notes.len(), 4);
    let with_links = scans
        .iter()
        .filter(|(_, _, s)| {
            s.declared
                .iter()
                .any(|d| matches!(d, apimfix::host::Declared::ProductApi { .. }))
        })
        .count();
    assert_eq!(with_links, 3);
    // The APIOps information files are JSON that is no template.
    let apiops = scans
        .iter()
        .filter(|(p, _, _)| p.to_string_lossy().contains("apimartifacts"))
        .count();
    assert!(apiops > 0);
    assert!(
        scans
            .iter()
            .filter(|(p, _, _)| p.to_string_lossy().contains("apimartifacts"))
            .all(|(_, _, s)| s.policies.is_empty() && s.declared.is_empty())
    );
}

/// The Bicep fixture repos (`tests/fixtures/iac/bicep`, see their expected.md) place each
/// policy where the scenarios need it.
#[test]
fn bicep_fixture_repos_place_every_policy() {
    use apimfix::layout::Scope;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/iac/bicep");
    let scan_of = |repo: &str| {
        let path = fixtures.join(repo).join("main.bicep");
        let source = std::fs::read_to_string(&path).unwrap();
        (bicep::scan(&path, &source, &load).unwrap(), source)
    };

    let (contoso, source) = scan_of("contoso");
    assert!(contoso.notes.is_empty(), "{:?}", contoso.notes);
    type Where = (Scope, Option<String>, Option<String>, Vec<String>);
    let placed: BTreeMap<String, Where> = contoso
        .references
        .iter()
        .map(|r| {
            let p = &r.placement;
            let name = p.fragment.clone().or(p.product.clone());
            (
                r.path.file_name().unwrap().to_string_lossy().into_owned(),
                (
                    p.scope,
                    p.api.clone(),
                    p.operation.clone().or(name),
                    r.replaced.clone(),
                ),
            )
        })
        .collect();
    assert_eq!(
        placed,
        BTreeMap::from([
            (
                "global.xml".into(),
                (Scope::Global, None, None, vec!["{region}".into()])
            ),
            (
                "jwt-check.xml".into(),
                (Scope::Fragment, None, Some("jwt-check".into()), vec![])
            ),
            (
                "get-order.xml".into(),
                (
                    Scope::Operation,
                    Some("orders".into()),
                    Some("get-order".into()),
                    vec![]
                )
            ),
        ])
    );
    for r in &contoso.references {
        assert!(r.path.is_file(), "{}", r.path.display());
    }
    // Inline: echo (healthy) and the starter product here; the orders API's `'''` policy is
    // in the module file and is that file's to report.
    let inline: Vec<_> = contoso
        .policies
        .iter()
        .map(|p| (p.placement.scope, p.literal, p.format.clone().unwrap()))
        .collect();
    assert_eq!(
        inline,
        [
            (Scope::Api, Literal::BicepQuoted, "rawxml".to_owned()),
            (Scope::Product, Literal::BicepQuoted, "xml".to_owned()),
        ]
    );
    assert!(contoso.policies[1].text.contains("<rate-limit calls=\"5\""));
    for p in &contoso.policies {
        assert_maps_back(Path::new("contoso/main.bicep"), &source, p);
    }
    for link in ["echo", "orders"] {
        assert!(
            contoso
                .declared
                .contains(&apimfix::host::Declared::ProductApi {
                    workspace: None,
                    product: "starter".into(),
                    api: link.into(),
                })
        );
    }

    let module = fixtures.join("contoso/modules/api.bicep");
    let text = std::fs::read_to_string(&module).unwrap();
    let alone = bicep::scan(&module, &text, &load).unwrap();
    assert_eq!(alone.policies.len(), 1);
    assert_eq!(alone.policies[0].placement.scope, Scope::Api);
    assert_eq!(alone.policies[0].literal, Literal::BicepMultiline);
    let text = &alone.policies[0].text;
    let inbound = &text[text.find("<inbound>").unwrap()..text.find("</inbound>").unwrap()];
    assert!(!inbound.contains("<base"), "scenario 2 lost its <base />");
    assert!(alone.references.is_empty());

    let (no_cors, _) = scan_of("no-cors");
    assert_eq!(no_cors.policies.len(), 1);
    assert_eq!(no_cors.policies[0].placement.scope, Scope::Global);
    assert!(!no_cors.policies[0].text.contains("<cors"));
    assert_eq!(no_cors.references.len(), 1);
    assert_eq!(
        no_cors.references[0].placement.api.as_deref(),
        Some("inventory")
    );
}

/// Every prefix of every corpus host (cut every 199 bytes) reads or fails with an error,
/// never a panic: a file being edited is cut anywhere.
#[test]
fn cut_hosts_never_panic() {
    let Some(root) = corpus() else { return };
    for ext in ["bicep", "json"] {
        let mut paths = Vec::new();
        files(&root, ext, &mut paths);
        for path in paths {
            let source = std::fs::read_to_string(&path).unwrap();
            for cut in (0..source.len()).step_by(199) {
                if !source.is_char_boundary(cut) {
                    continue;
                }
                let text = &source[..cut];
                let _ = match ext {
                    "bicep" => bicep::scan(&path, text, &load),
                    _ => arm::scan(&path, text, &load),
                };
            }
        }
    }
}
