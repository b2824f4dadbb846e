//! Every fix offered passes its semantic oracle (`apimfix::rules::oracle`), on the examples,
//! every fixture repo and (with `APIMFIX_CORPUS`) the corpus: the engine drops the fix of a
//! finding whose oracle fails, and this test checks each fix it still offers again, from the
//! repo on disk.
//!
//! It also checks what a reviewer accepting one fix alone gets: each fix applied alone leaves a
//! document that parses and keeps every policy statement it had (a move keeps both halves), and
//! adds no trailing whitespace and no whitespace-only line.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use apimfix::engine::{self, Inputs, Options};
use apimfix::fix::apply_edits;
use apimfix::repo::{Repo, find_roots};
use apimfix::rules::oracle;
use apimfix::syntax::{Document, parse};

/// The folders the oracle runs over: the examples, each fixture repo, and the corpus.
fn trees() -> Vec<PathBuf> {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = vec![crate_dir.join("examples")];
    let fixtures = crate_dir.join("tests/fixtures/repo");
    let mut repos: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    repos.sort();
    out.extend(repos);
    if let Some(corpus) = std::env::var_os("APIMFIX_CORPUS") {
        out.push(PathBuf::from(corpus));
    }
    out
}

/// Element names of a document with how often each occurs: what "keeps every statement"
/// compares (a statement lost or doubled changes a count).
pub fn element_counts(doc: &Document) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for el in std::iter::once(doc.root()).chain(doc.root().descendants()) {
        *out.entry(el.name().to_ascii_lowercase()).or_insert(0) += 1;
    }
    out
}

/// Lines that `after` has and `before` lacks which end in whitespace or hold only whitespace.
pub fn new_whitespace_errors(before: &str, after: &str) -> Vec<String> {
    let mut old: HashMap<&str, usize> = HashMap::new();
    for l in before.lines() {
        *old.entry(l).or_insert(0) += 1;
    }
    let mut out = Vec::new();
    for l in after.lines() {
        if let Some(n) = old.get_mut(l).filter(|n| **n > 0) {
            *n -= 1;
            continue;
        }
        let l2 = l.strip_suffix('\r').unwrap_or(l);
        if l2.ends_with([' ', '\t']) || (l2.is_empty() && !l.is_empty()) {
            out.push(format!("{l:?}"));
        }
    }
    out
}

#[test]
fn every_fix_offered_passes_its_oracle_and_stands_alone() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for tree in trees() {
        let run = engine::check(Inputs::Paths(vec![tree.clone()]), &Options::default(), &())
            .expect("the config loads");
        let results: Vec<_> = run.results.iter().flatten().collect();
        let paths: Vec<PathBuf> = results.iter().filter_map(|r| r.path.clone()).collect();
        let repos: Vec<(PathBuf, Repo)> = find_roots(&paths)
            .into_iter()
            .map(|root| {
                let repo = Repo::load(&root).unwrap();
                (root, repo)
            })
            .collect();
        for result in results {
            let Some(path) = &result.path else { continue };
            let Ok(source) = std::fs::read_to_string(path) else {
                continue;
            };
            let Ok(doc) = parse(&source) else { continue };
            let repo = repos
                .iter()
                .filter(|(root, _)| path.starts_with(root))
                .max_by_key(|(root, _)| root.as_os_str().len())
                .map(|(_, r)| r);
            for d in &result.diagnostics {
                let Some(fix) = &d.fix else { continue };
                checked += 1;
                let at = format!("{}: {} ({})", path.display(), d.rule.name(), d.message);
                if let Some(repo) = repo
                    && let Err(why) = oracle::verify(repo, path, &doc, d.rule, fix)
                {
                    failures.push(format!("{at}: oracle: {why}"));
                }
                let edits: Vec<_> = fix.edits().iter().collect();
                let Some(text) = apply_edits(&source, &edits) else {
                    failures.push(format!("{at}: edits overlap"));
                    continue;
                };
                let Ok(fixed) = parse(&text) else {
                    failures.push(format!("{at}: the fix alone does not parse"));
                    continue;
                };
                let (before, after) = (element_counts(&doc), element_counts(&fixed));
                let lost: Vec<_> = before
                    .iter()
                    .filter(|(name, n)| after.get(*name).copied().unwrap_or(0) < **n)
                    .collect();
                if !lost.is_empty() {
                    failures.push(format!("{at}: the fix alone loses {lost:?}"));
                }
                let ws = new_whitespace_errors(&source, &text);
                if !ws.is_empty() {
                    failures.push(format!("{at}: whitespace errors {ws:?}"));
                }
            }
        }
    }
    assert!(checked > 0, "no fix was offered anywhere");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{checked} fixes pass their oracle");
}

#[test]
fn a_fix_that_changes_the_winning_cors_is_not_offered() {
    // Issue #12: global `<cors>` allows app; product `starter` runs `<quota/>`, `<base />`,
    // then its own `<cors>`. Hoisting the product's `<cors>` above `<base />` would make it
    // win over the global one on `orders via starter`.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/repo/cors-winner");
    let run = engine::check(Inputs::Paths(vec![root]), &Options::default(), &()).unwrap();
    let product = run
        .results
        .iter()
        .flatten()
        .find(|r| r.display_path.ends_with("products/starter/policy.xml"))
        .expect("the product has findings");
    let cors_first = product
        .diagnostics
        .iter()
        .find(|d| d.rule.name() == "cors-first")
        .expect("cors-first reports the quota");
    assert!(cors_first.fix.is_none(), "{cors_first:?}");
    assert!(
        cors_first.message.contains("the winning `<cors>` changes"),
        "{}",
        cors_first.message
    );
    // The fix goes where the gate is: `base-first` moves `<base />` (and with it the global
    // `<cors>`) above the product's `<quota>`; app.contoso.com keeps its CORS on the product.
    let t = crate::common::TestDir::copy_of("tests/fixtures/repo/cors-winner");
    let fix = t.run(&["fix", "--write", "."]);
    assert_ne!(fix.code, 2, "{}", fix.stderr);
    let effective = t.run(&["effective", ".", "--api", "orders", "--product", "starter"]);
    assert_eq!(effective.code, 0, "{}", effective.stderr);
    let out = &effective.stdout;
    let first_origin = out.find("<origin>").unwrap();
    assert!(
        out[first_origin..].starts_with("<origin>https://app.contoso.com</origin>"),
        "{out}"
    );
    assert!(
        out.find("<cors").unwrap() < out.find("<quota").unwrap(),
        "{out}"
    );
}

const ALL_BASE_BUT_INBOUND: &str = "<policies>\n    <inbound>\n        <set-header name=\"x\" exists-action=\"override\"><value>1</value></set-header>\n    </inbound>\n    <backend>\n        <base />\n    </backend>\n    <outbound>\n        <base />\n    </outbound>\n    <on-error>\n        <base />\n    </on-error>\n</policies>\n";

#[test]
fn base_missing_says_what_it_turns_on_and_restoring_an_ip_filter_is_unsafe() {
    // Issue #12 (Azure__apiops): the global policy holds an `ip-filter`; restoring `<base />`
    // in an API turns it on for every caller of that API.
    let t = crate::common::TestDir::new();
    t.write(
        "policy.xml",
        "<policies>\n    <inbound>\n        <ip-filter action=\"allow\">\n            <address>10.0.0.1</address>\n        </ip-filter>\n        <cors>\n            <allowed-origins>\n                <origin>https://app.contoso.com</origin>\n            </allowed-origins>\n        </cors>\n    </inbound>\n    <backend>\n        <forward-request />\n    </backend>\n    <outbound />\n    <on-error />\n</policies>\n",
    );
    t.write("apis/orders/policy.xml", ALL_BASE_BUT_INBOUND);
    let check = t.run(&["check", "--select", "base-missing", "."]);
    assert!(
        check
            .stdout
            .contains("`<base />` turns on ip-filter (policy.xml:3), cors (policy.xml:6)"),
        "{}",
        check.stdout
    );
    assert!(
        check
            .stdout
            .contains("Insert `<base />` (unsafe: it turns on `ip-filter` (policy.xml:3)"),
        "{}",
        check.stdout
    );
    let safe = t.run(&["fix", "--write", "--select", "base-missing", "."]);
    assert_eq!(safe.code, 1, "{}", safe.stderr);
    assert_eq!(t.read("apis/orders/policy.xml"), ALL_BASE_BUT_INBOUND);
    let forced = t.run(&[
        "fix",
        "--write",
        "--unsafe-fixes",
        "--select",
        "base-missing",
        ".",
    ]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert!(
        t.read("apis/orders/policy.xml")
            .contains("<inbound>\n        <base />\n")
    );
}

#[test]
fn base_missing_leaves_a_commented_out_base_and_a_backend_that_forwards_nothing() {
    let t = crate::common::TestDir::new();
    t.write("policy.xml", "<policies>\n    <inbound />\n    <backend>\n        <forward-request />\n    </backend>\n    <outbound />\n    <on-error />\n</policies>\n");
    let token = "<policies>\n    <inbound>\n        <base />\n        <set-variable name=\"state\" value=\"1\" />\n    </inbound>\n    <backend />\n    <outbound>\n        <base />\n        <return-response>\n            <set-status code=\"200\" />\n        </return-response>\n    </outbound>\n    <on-error>\n        <!-- <base /> --> <!-- removed on purpose: errors stay local -->\n    </on-error>\n</policies>\n";
    t.write("apis/oauth/operations/token/policy.xml", token);
    let check = t.run(&["check", "--select", "base-missing", "."]);
    assert!(
        check.stdout.contains("forwards nothing on purpose: no fix"),
        "{}",
        check.stdout
    );
    assert!(
        check
            .stdout
            .contains("an explicit opt-out (\"removed on purpose: errors stay local\"): no fix"),
        "{}",
        check.stdout
    );
    let fix = t.run(&[
        "fix",
        "--write",
        "--unsafe-fixes",
        "--select",
        "base-missing",
        ".",
    ]);
    assert_eq!(fix.code, 1, "{}", fix.stderr);
    assert_eq!(t.read("apis/oauth/operations/token/policy.xml"), token);
}

#[test]
fn base_first_over_a_validate_jwt_whose_token_the_parent_reads_is_unsafe() {
    let t = crate::common::TestDir::new();
    t.write(
        "policy.xml",
        "<policies>\n    <inbound>\n        <cors>\n            <allowed-origins>\n                <origin>https://app.contoso.com</origin>\n            </allowed-origins>\n        </cors>\n        <set-header name=\"x-user\" exists-action=\"override\">\n            <value>@(((Jwt)context.Variables[\"jwt\"]).Subject)</value>\n        </set-header>\n    </inbound>\n    <backend>\n        <forward-request />\n    </backend>\n    <outbound />\n    <on-error />\n</policies>\n",
    );
    let api = "<policies>\n    <inbound>\n        <validate-jwt header-name=\"Authorization\" output-token-variable-name=\"jwt\" />\n        <base />\n    </inbound>\n    <backend>\n        <base />\n    </backend>\n    <outbound>\n        <base />\n    </outbound>\n    <on-error>\n        <base />\n    </on-error>\n</policies>\n";
    t.write("apis/orders/policy.xml", api);
    let check = t.run(&["check", "--select", "base-first", "."]);
    assert!(
        check.stdout.contains(
            "(unsafe: `<validate-jwt>` sets the variable `jwt`, which the parent's `<set-header>` (policy.xml:8) reads)"
        ),
        "{}",
        check.stdout
    );
    let safe = t.run(&["fix", "--write", "--select", "base-first", "."]);
    assert_eq!(safe.code, 1, "{}", safe.stderr);
    assert_eq!(t.read("apis/orders/policy.xml"), api);
}

#[test]
fn declared_origins_are_checked_at_the_configs_line_and_column() {
    let t = crate::common::TestDir::new();
    t.write(
        "rules.yaml",
        "rules:\n  cors-origins:\n    origins:\n      - https://ok.contoso.com\n      - portal.contoso.com\n",
    );
    t.write("policy.xml", "<policies>\n    <inbound />\n</policies>\n");
    let run = t.run(&["check", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("rules.yaml:5:9: error: rules.cors-origins.origins[1]: `portal.contoso.com` is not an origin: it has no scheme"),
        "{}",
        run.stderr
    );
    t.write(
        "rules.yaml",
        "rules:\n  cors-origins:\n    origins: [https://x.com/]\n",
    );
    let run = t.run(&["check", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("rules.yaml:3:15: error:") && run.stderr.contains("ends with `/`"),
        "{}",
        run.stderr
    );
}

const API_ALL_BASE: &str = "<policies>\n    <inbound>\n        <base />\n    </inbound>\n    <backend>\n        <base />\n    </backend>\n    <outbound>\n        <base />\n    </outbound>\n    <on-error>\n        <base />\n    </on-error>\n</policies>\n";

fn global_with_origin(origin: &str) -> String {
    format!(
        "<policies>\n    <inbound>\n        <cors>\n            <allowed-origins>\n                <origin>{origin}</origin>\n            </allowed-origins>\n            <allowed-headers>\n                <header>*</header>\n            </allowed-headers>\n        </cors>\n    </inbound>\n    <backend>\n        <forward-request />\n    </backend>\n    <outbound />\n    <on-error />\n</policies>\n"
    )
}

#[test]
fn cors_origins_adds_a_quoted_origin_once_and_only_to_the_winning_cors() {
    let t = crate::common::TestDir::new();
    t.write(
        "rules.yaml",
        "rules:\n  cors-origins:\n    origins: [https://q.com]\n",
    );
    // Issue #12: `https://q.com` was appended beside `'https://q.com'`, which
    // `cors-origin-invalid` then unquoted.
    t.write("policy.xml", global_with_origin("'https://q.com'"));
    // A `<cors>` after `<base />`: the global one wins, this one never does.
    let shadowed = "<policies>\n    <inbound>\n        <base />\n        <cors>\n            <allowed-origins>\n                <origin>https://other.com</origin>\n            </allowed-origins>\n            <allowed-headers>\n                <header>*</header>\n            </allowed-headers>\n        </cors>\n    </inbound>\n    <backend>\n        <base />\n    </backend>\n    <outbound>\n        <base />\n    </outbound>\n    <on-error>\n        <base />\n    </on-error>\n</policies>\n";
    t.write("apis/orders/policy.xml", shadowed);
    let check = t.run(&["check", "--select", "cors-origins", "."]);
    assert!(
        check.stdout.contains("wins in no chain"),
        "{}",
        check.stdout
    );
    let fix = t.run(&["fix", "--write", "--unsafe-fixes", "."]);
    assert_ne!(fix.code, 2, "{}", fix.stderr);
    let global = t.read("policy.xml");
    assert_eq!(global.matches("https://q.com").count(), 1, "{global}");
    assert!(
        global.contains("<origin>https://q.com</origin>"),
        "{global}"
    );
    assert_eq!(t.read("apis/orders/policy.xml"), shadowed);
}

#[test]
fn cors_origins_never_edits_a_template() {
    let t = crate::common::TestDir::new();
    t.write(
        "rules.yaml",
        "rules:\n  cors-origins:\n    origins: [https://portal.contoso.com]\n",
    );
    let global = global_with_origin("https://admin.contoso.com").replace(
        "                <origin>https://admin.contoso.com</origin>\n",
        "%{ for o in origins ~}\n                <origin>${o}</origin>\n%{ endfor ~}\n",
    );
    t.write("policy.xml", &global);
    t.write("apis/orders/policy.xml", API_ALL_BASE);
    let check = t.run(&["check", "--select", "cors-origins", "."]);
    assert!(check.stdout.contains("check by hand"), "{}", check.stdout);
    let fix = t.run(&["fix", "--write", "--unsafe-fixes", "."]);
    assert_ne!(fix.code, 2, "{}", fix.stderr);
    assert_eq!(t.read("policy.xml"), global);
}

#[test]
fn a_missing_section_is_reported_when_the_parents_run_something_there_and_effective_agrees() {
    let t = crate::common::TestDir::new();
    t.write(
        "policy.xml",
        "<policies>\n    <inbound />\n    <backend>\n        <forward-request />\n    </backend>\n    <outbound />\n    <on-error>\n        <set-header name=\"x-error\" exists-action=\"override\">\n            <value>1</value>\n        </set-header>\n    </on-error>\n</policies>\n",
    );
    let api = "<policies>\n    <inbound>\n        <base />\n    </inbound>\n    <backend>\n        <base />\n    </backend>\n    <outbound>\n        <base />\n    </outbound>\n</policies>\n";
    t.write("apis/orders/policy.xml", api);
    // What `effective` composes: nothing runs in the missing `<on-error>`.
    let effective = t.run(&["effective", ".", "--api", "orders"]);
    assert_eq!(effective.code, 0, "{}", effective.stderr);
    assert!(
        !effective.stdout.contains("x-error"),
        "{}",
        effective.stdout
    );
    // And `base-missing` says so, with the fix that adds the section.
    let check = t.run(&["check", "--select", "base-missing", "."]);
    assert!(
        check.stdout.contains("`<policies>` has no `<on-error>` section, so none of the parent scopes' `<on-error>` policies run; `<base />` turns on set-header (policy.xml:8)"),
        "{}",
        check.stdout
    );
    let fix = t.run(&["fix", "--write", "--select", "base-missing", "."]);
    assert_eq!(fix.code, 0, "{}", fix.stderr);
    assert_eq!(
        t.read("apis/orders/policy.xml"),
        api.replace(
            "    </outbound>\n",
            "    </outbound>\n    <on-error>\n        <base />\n    </on-error>\n"
        )
    );
    let effective = t.run(&["effective", ".", "--api", "orders"]);
    assert!(effective.stdout.contains("x-error"), "{}", effective.stdout);
}

/// Byte offset of a 1-based (line, byte column) position in `source`.
fn offset_of(source: &str, position: &serde_json::Value) -> usize {
    let line = position["line"].as_u64().unwrap() as usize;
    let column = position["column"].as_u64().unwrap() as usize;
    let start: usize = source
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    start + column - 1
}

/// Whether `text` parses and holds at least every element `before` held.
fn keeps_everything(before: &Document, text: &str) -> Result<(), String> {
    let after = parse(text).map_err(|e| format!("does not parse: {}", e.message))?;
    let (b, a) = (element_counts(before), element_counts(&after));
    let lost: Vec<_> = b
        .iter()
        .filter(|(name, n)| a.get(*name).copied().unwrap_or(0) < **n)
        .collect();
    if lost.is_empty() {
        Ok(())
    } else {
        Err(format!("loses {lost:?}"))
    }
}

/// The policy texts of a file: the file itself, or the inline policies of a host.
fn policy_texts(path: &Path, text: &str) -> Result<Vec<String>, String> {
    let Some(kind) = apimfix::host::HostKind::of_path(path) else {
        return Ok(vec![text.to_owned()]);
    };
    match apimfix::host::scan(kind, path, text, &|_| None) {
        Some(Ok(scan)) => Ok(scan.policies.into_iter().map(|p| p.text).collect()),
        Some(Err(e)) => Err(format!("the host does not read: {}", e.message)),
        None => Ok(Vec::new()),
    }
}

/// [`keeps_everything`] for each policy of a file or host: `text` replaces `source`.
fn keeps_all(path: &Path, source: &str, text: &str) -> Result<(), String> {
    let before = policy_texts(path, source)?;
    let after = policy_texts(path, text)?;
    if before.len() != after.len() {
        return Err(format!(
            "holds {} policies instead of {}",
            after.len(),
            before.len()
        ));
    }
    for (b, a) in before.iter().zip(&after) {
        let b = parse(b).map_err(|e| format!("did not parse before: {}", e.message))?;
        keeps_everything(&b, a)?;
    }
    Ok(())
}

/// What a reviewer may accept alone: each rdjson suggestion (on the lines of its comment, as
/// reviewdog requires) and each hunk of `fix`'s diff leaves a document that parses and keeps
/// every element, and adds no trailing whitespace or whitespace-only line.
#[test]
fn each_suggestion_and_each_hunk_accepted_alone_keeps_the_document_whole() {
    let mut failures = Vec::new();
    let (mut suggestions, mut hunks) = (0, 0);
    for tree in trees() {
        let run = crate::common::apimfix()
            .current_dir(&tree)
            .args(["check", "--exit-zero", "--output-format", "rdjson", "."])
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        for d in report["diagnostics"].as_array().unwrap() {
            let Some(list) = d["suggestions"].as_array() else {
                continue;
            };
            let path = tree.join(d["location"]["path"].as_str().unwrap());
            let source = std::fs::read_to_string(&path).unwrap();
            for s in list {
                suggestions += 1;
                let at = format!("{}: {}", path.display(), d["code"]["value"]);
                for end in ["start", "end"] {
                    if s["range"][end]["line"] != d["location"]["range"][end]["line"] {
                        failures.push(format!("{at}: suggestion lines differ from the comment's"));
                    }
                }
                let (from, to) = (
                    offset_of(&source, &s["range"]["start"]),
                    offset_of(&source, &s["range"]["end"]),
                );
                let text = format!(
                    "{}{}{}",
                    &source[..from],
                    s["text"].as_str().unwrap(),
                    &source[to..]
                );
                if let Err(why) = keeps_all(&path, &source, &text) {
                    failures.push(format!("{at}: the suggestion alone {why}"));
                }
                let ws = new_whitespace_errors(&source, &text);
                if !ws.is_empty() {
                    failures.push(format!("{at}: whitespace errors {ws:?}"));
                }
            }
        }
        for unsafe_fixes in [false, true] {
            let mut args = vec!["fix", "--exit-zero", "."];
            if unsafe_fixes {
                args.push("--unsafe-fixes");
            }
            let run = crate::common::apimfix()
                .current_dir(&tree)
                .args(&args)
                .output()
                .unwrap();
            let diff = String::from_utf8(run.stdout).unwrap();
            for (file, hunk_list) in split_diff(&diff) {
                let path = tree.join(&file);
                let source = std::fs::read_to_string(&path).unwrap();
                let old: Vec<&str> = source.split_inclusive('\n').collect();
                for (old_start, old_len, new_lines) in hunk_list {
                    hunks += 1;
                    let from = old_start.saturating_sub(1).min(old.len());
                    let from = if old_len == 0 {
                        old_start.min(old.len())
                    } else {
                        from
                    };
                    let text: String = old[..from]
                        .iter()
                        .map(|l| (*l).to_owned())
                        .chain(new_lines.iter().cloned())
                        .chain(
                            old[(from + old_len).min(old.len())..]
                                .iter()
                                .map(|l| (*l).to_owned()),
                        )
                        .collect();
                    if let Err(why) = keeps_all(&path, &source, &text) {
                        failures.push(format!(
                            "{}: a hunk at -{old_start} alone {why}",
                            path.display()
                        ));
                    }
                }
            }
        }
    }
    assert!(
        suggestions > 0 && hunks > 0,
        "{suggestions} suggestions, {hunks} hunks"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The hunks of a unified diff by file: (old start, old length, the hunk's new lines).
type Hunk = (usize, usize, Vec<String>);

fn split_diff(diff: &str) -> Vec<(String, Vec<Hunk>)> {
    let mut out: Vec<(String, Vec<Hunk>)> = Vec::new();
    for line in diff.split_inclusive('\n') {
        if let Some(path) = line.strip_prefix("+++ b/") {
            out.push((path.trim_end_matches(['\n', '\t']).to_owned(), Vec::new()));
        } else if line.starts_with("--- ") || line.starts_with("diff --git") {
        } else if let Some(header) = line.strip_prefix("@@ -") {
            let old = header.split(' ').next().unwrap();
            let (start, len) = match old.split_once(',') {
                Some((s, l)) => (s.parse().unwrap(), l.parse().unwrap()),
                None => (old.parse().unwrap(), 1),
            };
            out.last_mut().unwrap().1.push((start, len, Vec::new()));
        } else if line.starts_with("\\ No newline") {
            if let Some(last) = out
                .last_mut()
                .and_then(|f| f.1.last_mut())
                .and_then(|h| h.2.last_mut())
            {
                last.pop();
            }
        } else if let Some(hunk) = out.last_mut().and_then(|f| f.1.last_mut()) {
            if let Some(kept) = line.strip_prefix(' ').or_else(|| line.strip_prefix('+')) {
                hunk.2.push(kept.to_owned());
            }
        }
    }
    out
}

/// `git diff --check` (what `git apply --whitespace=error` also refuses) is clean after
/// `fix --write --unsafe-fixes` on the examples, every fixture repo and the corpus.
#[test]
fn fixed_trees_pass_git_diff_check() {
    use crate::common::{copy_tree, git};
    let mut failures = Vec::new();
    for tree in trees() {
        let t = crate::common::TestDir::new();
        copy_tree(&tree, t.path());
        git(t.path(), &["init", "-q"]);
        git(t.path(), &["add", "-A"]);
        git(
            t.path(),
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "commit",
                "-q",
                "-m",
                "before",
            ],
        );
        // Exit 2 is fine here: some fixtures hold policies broken on purpose (left alone).
        t.run(&["fix", "--write", "--unsafe-fixes", "--exit-zero", "."]);
        let check = std::process::Command::new("git")
            .current_dir(t.path())
            // CRLF files keep their line endings: a CR before LF is the line's terminator,
            // not trailing whitespace (git's `cr-at-eol`, as a CRLF repo sets it).
            .args(["-c", "core.whitespace=cr-at-eol", "diff", "--check"])
            .output()
            .unwrap();
        if !check.status.success() {
            failures.push(format!(
                "{}:\n{}",
                tree.display(),
                String::from_utf8_lossy(&check.stdout)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_global_cors_that_no_chain_runs_is_not_created_silently() {
    // Issue #12: cors-origins created a global `<cors>` while the API lacks `<base />` in its
    // inbound, so the new `<cors>` could never run, and said nothing.
    let t = crate::common::TestDir::new();
    t.write(
        "rules.yaml",
        "rules:\n  cors-origins:\n    origins: [https://portal.contoso.com]\n",
    );
    let global = "<policies>\n    <inbound />\n    <backend>\n        <forward-request />\n    </backend>\n    <outbound />\n    <on-error />\n</policies>\n";
    t.write("policy.xml", global);
    t.write(
        "apis/orders/policy.xml",
        "<policies>\n    <inbound>\n        <set-header name=\"x\" exists-action=\"override\"><value>1</value></set-header>\n    </inbound>\n    <backend>\n        <base />\n    </backend>\n    <outbound>\n        <base />\n    </outbound>\n    <on-error>\n        <base />\n    </on-error>\n</policies>\n",
    );
    let check = t.run(&["check", "--select", "cors-origins", "."]);
    assert!(
        check.stdout.contains("wins in no chain") && check.stdout.contains("lack `<base />`"),
        "{}",
        check.stdout
    );
    t.run(&["fix", "--write", "--select", "cors-origins", "."]);
    assert_eq!(t.read("policy.xml"), global);
}
