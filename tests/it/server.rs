//! `apimfix server` end to end: the binary spawned, the protocol spoken by a client of our
//! own (`server_support`), and what it answers compared with the command line on the same
//! files: `check --output-format json`, `fix --write`, `fmt --write`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::{TestDir, xml_files};
use crate::server_support::{Client, apply, edits_for, uri};

/// The examples, copied: the policy files (relative) and the copy.
fn examples() -> (TestDir, Vec<PathBuf>) {
    let dir = TestDir::copy_of("examples");
    let files = xml_files(dir.path())
        .into_iter()
        .map(|p| p.strip_prefix(dir.path()).unwrap().to_path_buf())
        .collect();
    (dir, files)
}

fn rel_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A finding as `check --output-format json` reports it: rule, start and end (1-based line
/// and char column), message, severity.
type Finding = (String, (u64, u64), (u64, u64), String, String);

fn from_json(finding: &Value) -> Finding {
    let at = |v: &Value| (v["line"].as_u64().unwrap(), v["column"].as_u64().unwrap());
    (
        finding["rule"].as_str().unwrap().to_owned(),
        at(&finding["location"]),
        at(&finding["end_location"]),
        finding["message"].as_str().unwrap().to_owned(),
        finding["severity"].as_str().unwrap().to_owned(),
    )
}

/// A published diagnostic in the same terms (the examples are ASCII, so UTF-16 units are
/// chars).
fn from_lsp(d: &Value) -> Finding {
    let at = |v: &Value| {
        (
            v["line"].as_u64().unwrap() + 1,
            v["character"].as_u64().unwrap() + 1,
        )
    };
    let severity = match d["severity"].as_u64() {
        Some(1) => "error",
        Some(2) => "warning",
        Some(3) => "info",
        other => panic!("severity {other:?}"),
    };
    (
        d["code"].as_str().unwrap().to_owned(),
        at(&d["range"]["start"]),
        at(&d["range"]["end"]),
        d["message"].as_str().unwrap().to_owned(),
        severity.to_owned(),
    )
}

fn check_json(dir: &TestDir, file: &Path) -> Value {
    let run = dir.run(&["check", "--output-format", "json", rel_str(file)]);
    assert!(run.code <= 2, "{run:?}");
    serde_json::from_str(&run.stdout).unwrap()
}

#[test]
fn diagnostics_equal_check_on_the_examples() {
    let (dir, files) = examples();
    let mut client = Client::start(dir.path());
    let mut total = 0;
    for file in &files {
        let path = dir.path().join(file);
        let uri = uri(&path);
        client.open(&uri, &std::fs::read_to_string(&path).unwrap());
        let published = client.diagnostics(&uri);
        for d in &published {
            assert_eq!(d["source"], "apimfix");
            let code = d["code"].as_str().unwrap();
            assert_eq!(
                d["codeDescription"]["href"],
                format!("https://github.com/apimfix/apimfix#{code}"),
            );
        }
        let got: Vec<Finding> = published.iter().map(from_lsp).collect();
        let report = check_json(&dir, file);
        let want: Vec<Finding> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(from_json)
            .collect();
        assert_eq!(got, want, "{}", file.display());
        total += want.len();
    }
    assert!(total >= 5, "the examples have findings to compare: {total}");
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn fix_all_equals_fix_write() {
    let (dir, files) = examples();
    let (fixed_by_cli, _) = examples();
    let mut client = Client::start(dir.path());
    let mut fixed = 0;
    for file in &files {
        let path = dir.path().join(file);
        let uri = uri(&path);
        let text = std::fs::read_to_string(&path).unwrap();
        client.open(&uri, &text);
        client.diagnostics(&uri);
        let response = client.request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": uri },
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 9999, "character": 0 } },
                "context": { "diagnostics": [], "only": ["source.fixAll"] }
            }),
        );
        let actions = response["result"].as_array().cloned().unwrap_or_default();
        assert!(
            actions.iter().all(|a| a["kind"] == "source.fixAll.apimfix"),
            "only fix-all was asked for: {actions:?}"
        );
        let through_server = match actions.first() {
            Some(action) => {
                assert_eq!(action["title"], "Fix all safe fixes in this file");
                fixed += 1;
                apply(&text, edits_for(action, &uri))
            }
            None => text.clone(),
        };
        let run = fixed_by_cli.run(&["fix", "--write", rel_str(file)]);
        assert!(run.code == 0 || run.code == 1, "{run:?}");
        assert_eq!(
            through_server,
            fixed_by_cli.read(rel_str(file)),
            "{}",
            file.display()
        );
    }
    assert!(fixed >= 3, "files with fixes: {fixed}");
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn formatting_equals_fmt_write() {
    let (dir, files) = examples();
    let (formatted_by_cli, _) = examples();
    let mut client = Client::start(dir.path());
    let mut changed = 0;
    for file in &files {
        let path = dir.path().join(file);
        let uri = uri(&path);
        let text = std::fs::read_to_string(&path).unwrap();
        client.open(&uri, &text);
        let response = client.request(
            "textDocument/formatting",
            json!({
                "textDocument": { "uri": uri },
                "options": { "tabSize": 4, "insertSpaces": true }
            }),
        );
        let edits = &response["result"];
        let through_server = apply(&text, edits);
        if through_server != text {
            changed += 1;
        }
        let run = formatted_by_cli.run(&["fmt", "--write", rel_str(file)]);
        assert!(run.code == 0 || run.code == 1, "{run:?}");
        assert_eq!(
            through_server,
            formatted_by_cli.read(rel_str(file)),
            "{}",
            file.display()
        );
        // Range formatting: the whole document formats alike; a part is declined.
        let whole = client.request(
            "textDocument/rangeFormatting",
            json!({
                "textDocument": { "uri": uri },
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 99999, "character": 0 } },
                "options": { "tabSize": 4, "insertSpaces": true }
            }),
        );
        assert_eq!(apply(&text, &whole["result"]), through_server);
        let part = client.request(
            "textDocument/rangeFormatting",
            json!({
                "textDocument": { "uri": uri },
                "range": { "start": { "line": 1, "character": 0 }, "end": { "line": 2, "character": 0 } },
                "options": { "tabSize": 4, "insertSpaces": true }
            }),
        );
        assert_eq!(part["result"], Value::Null, "{part}");
    }
    assert!(changed >= 3, "files the formatter changes: {changed}");
    assert_eq!(client.shutdown(), 0);
}

/// An API policy without `<base />` in `<inbound>`, non-ASCII text before the finding on its
/// line: `é` is one UTF-16 unit in two bytes, `😀` two units in four bytes.
const NON_ASCII: &str = "<policies>\n  <!-- café 😀 --><inbound>\n    <set-header name=\"x-é\" exists-action=\"override\"><value>😀</value></set-header>\n  </inbound>\n  <backend>\n    <base />\n  </backend>\n  <outbound>\n    <base />\n  </outbound>\n  <on-error>\n    <base />\n  </on-error>\n</policies>\n";

#[test]
fn positions_are_utf16_and_quick_fixes_apply_through_incremental_changes() {
    let dir = TestDir::new();
    let rel = "apis/echo/policy.xml";
    let path = dir.write(rel, NON_ASCII);
    let uri = uri(&path);
    let mut client = Client::start(dir.path());
    client.open(&uri, NON_ASCII);
    let published = client.diagnostics(&uri);
    assert_eq!(published.len(), 1, "{published:?}");
    let d = &published[0];
    assert_eq!(d["code"], "base-missing");
    let before = "  <!-- café 😀 -->";
    let utf16 = before.encode_utf16().count() as u64;
    assert_ne!(utf16, before.chars().count() as u64);
    assert_eq!(
        d["range"]["start"],
        json!({ "line": 1, "character": utf16 })
    );
    // The same finding as `check`, whose columns count chars.
    let report = check_json(&dir, Path::new(rel));
    let want = from_json(&report["findings"][0]);
    assert_eq!(want.1, (2, before.chars().count() as u64 + 1));

    // Code actions on the finding: its fix (safe, preferred) and a suppression.
    let response = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": uri },
            "range": d["range"],
            "context": { "diagnostics": [d] }
        }),
    );
    let actions = response["result"].as_array().unwrap().clone();
    let quick: Vec<&Value> = actions.iter().filter(|a| a["kind"] == "quickfix").collect();
    assert_eq!(quick.len(), 2, "{actions:?}");
    let fix = quick.iter().find(|a| a["isPreferred"] == true).unwrap();
    let suppress = quick
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .unwrap()
                .starts_with("Suppress with `<!-- apimfix-ignore: base-missing -->`")
        })
        .unwrap();
    assert!(
        actions.iter().any(|a| a["kind"] == "source.fixAll.apimfix"),
        "{actions:?}"
    );

    // The fix, sent back as incremental changes (last edit first, so positions hold): the
    // finding goes, and the text equals `fix --write`.
    let edits = edits_for(fix, &uri).as_array().unwrap().clone();
    let mut sorted = edits.clone();
    sorted.sort_by_key(|e| {
        let s = &e["range"]["start"];
        (s["line"].as_u64(), s["character"].as_u64())
    });
    let changes: Vec<Value> = sorted
        .iter()
        .rev()
        .map(|e| json!({ "range": e["range"], "text": e["newText"] }))
        .collect();
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": changes }),
    );
    assert_eq!(client.diagnostics(&uri), Vec::<Value>::new());
    let fixed = apply(NON_ASCII, &Value::Array(edits));
    let run = dir.run(&["fix", "--write", rel]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(fixed, dir.read(rel));

    // Back to the original text (a full change), then the suppression comment.
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 3 }, "contentChanges": [{ "text": NON_ASCII }] }),
    );
    assert_eq!(client.diagnostics(&uri).len(), 1);
    let suppressed = apply(NON_ASCII, edits_for(suppress, &uri));
    assert!(suppressed.contains("<!-- apimfix-ignore: base-missing --> <inbound>"));
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 4 }, "contentChanges": [{ "text": suppressed }] }),
    );
    assert_eq!(client.diagnostics(&uri), Vec::<Value>::new());
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn unsaved_text_wins_over_the_disk() {
    let dir = TestDir::copy_of("examples/contoso");
    let rel = "apis/echo/policy.xml";
    let path = dir.path().join(rel);
    let uri = uri(&path);
    let mut client = Client::start(dir.path());
    let disk = dir.read(rel);
    client.open(&uri, &disk);
    let on_disk = client.diagnostics(&uri);
    // The buffer loses its `<base />` in `<inbound>`: a finding the disk does not have.
    let edited = NON_ASCII;
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": edited }] }),
    );
    let in_buffer = client.diagnostics(&uri);
    assert!(
        in_buffer.iter().any(|d| d["code"] == "base-missing"),
        "{in_buffer:?}"
    );
    assert!(on_disk.iter().all(|d| d["code"] != "base-missing"));
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn a_syntax_error_is_one_diagnostic_and_the_server_stays_up() {
    let dir = TestDir::new();
    let rel = "apis/broken/policy.xml";
    let text = "<policies>\n  <inbound>\n    <base />\n  </outbound>\n</policies>\n";
    let path = dir.write(rel, text);
    let uri = uri(&path);
    let mut client = Client::start(dir.path());
    client.open(&uri, text);
    let published = client.diagnostics(&uri);
    assert_eq!(published.len(), 1, "{published:?}");
    assert_eq!(published[0]["code"], "syntax-error");
    assert_eq!(published[0]["severity"], 1);
    let report = check_json(&dir, Path::new(rel));
    let error = &report["errors"][0];
    assert_eq!(error["kind"], "syntax");
    assert!(
        published[0]["message"]
            .as_str()
            .unwrap()
            .starts_with(error["message"].as_str().unwrap()),
        "{published:?} {error}"
    );
    assert_eq!(
        published[0]["range"]["start"],
        json!({
            "line": error["location"]["line"].as_u64().unwrap() - 1,
            "character": error["location"]["column"].as_u64().unwrap() - 1,
        })
    );
    // Formatting a broken document: no edits, no error; the session goes on.
    let response = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert!(response.get("error").is_none(), "{response}");
    assert_eq!(response["result"], Value::Null);
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn xml_that_is_not_a_policy_is_left_alone() {
    let dir = TestDir::new();
    let text = "<project><modelVersion>4.0.0</modelVersion></project>\n";
    let path = dir.write("pom.xml", text);
    let uri = uri(&path);
    let mut client = Client::start(dir.path());
    client.open(&uri, text);
    assert_eq!(client.diagnostics(&uri), Vec::<Value>::new());
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn a_broken_config_is_one_diagnostic_on_the_config_file_until_fixed() {
    let dir = TestDir::new();
    let config = dir.write("rules.yaml", "rules:\n  base-missing: [oops\n");
    let rel = "apis/echo/policy.xml";
    let path = dir.write(rel, NON_ASCII);
    let (policy_uri, config_uri) = (uri(&path), uri(&config));
    let mut client = Client::start(dir.path());
    client.open(&policy_uri, NON_ASCII);
    assert_eq!(client.diagnostics(&policy_uri), Vec::<Value>::new());
    let on_config = client.diagnostics(&config_uri);
    assert_eq!(on_config.len(), 1, "{on_config:?}");
    assert!(
        on_config[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("apimfix cannot use this config"),
        "{on_config:?}"
    );
    // Fixed on disk, as the client's file watcher reports it: the config's diagnostic goes
    // and the policy is checked with it.
    std::fs::write(&config, "rules:\n  base-missing: true\n").unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": config_uri, "type": 2 }] }),
    );
    let policy = client.diagnostics(&policy_uri);
    assert_eq!(policy.len(), 1, "{policy:?}");
    assert_eq!(client.diagnostics(&config_uri), Vec::<Value>::new());
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn hover_on_a_rule_in_an_ignore_comment_shows_its_docs() {
    let dir = TestDir::new();
    let text = NON_ASCII.replace(
        "  <!-- café 😀 --><inbound>",
        "  <!-- apimfix-ignore: base-missing -->\n  <inbound>",
    );
    let path = dir.write("apis/echo/policy.xml", &text);
    let uri = uri(&path);
    let mut client = Client::start(dir.path());
    client.open(&uri, &text);
    assert_eq!(client.diagnostics(&uri), Vec::<Value>::new(), "suppressed");
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 1, "character": 26 } }),
    );
    let value = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(value.starts_with("**base-missing**"), "{value}");
    assert!(value.contains("## What it does"), "{value}");
    assert_eq!(
        hover["result"]["range"],
        json!({ "start": { "line": 1, "character": 23 }, "end": { "line": 1, "character": 35 } })
    );
    // Elsewhere: nothing.
    let none = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 0, "character": 3 } }),
    );
    assert_eq!(none["result"], Value::Null);
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn a_panic_in_a_request_is_an_error_reply_and_the_session_goes_on() {
    let dir = TestDir::new();
    let path = dir.write("apis/echo/policy.xml", NON_ASCII);
    let uri = uri(&path);
    let mut client = Client::start_with_env(
        dir.path(),
        &[("APIMFIX_SERVER_PANIC", "textDocument/hover")],
    );
    client.open(&uri, NON_ASCII);
    assert_eq!(client.diagnostics(&uri).len(), 1);
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 0, "character": 0 } }),
    );
    assert_eq!(hover["error"]["code"], -32603, "{hover}");
    let formatting = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert!(formatting.get("error").is_none(), "{formatting}");
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn a_panic_in_a_notification_leaves_the_session_up() {
    let dir = TestDir::new();
    let path = dir.write("apis/echo/policy.xml", NON_ASCII);
    let uri = uri(&path);
    let mut client = Client::start_with_env(
        dir.path(),
        &[("APIMFIX_SERVER_PANIC", "textDocument/didOpen")],
    );
    client.open(&uri, NON_ASCII);
    let message = client.wait_for("window/logMessage", |p| {
        p["message"]
            .as_str()
            .is_some_and(|m| m.contains("textDocument/didOpen"))
    });
    assert_eq!(message["type"], 1, "an error: {message}");
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 0, "character": 0 } }),
    );
    assert!(hover.get("error").is_none(), "{hover}");
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn a_malformed_message_is_an_error_reply_and_the_session_goes_on() {
    let dir = TestDir::new();
    let path = dir.write("apis/echo/policy.xml", NON_ASCII);
    let uri = uri(&path);
    let mut client = Client::start(dir.path());
    client.open(&uri, NON_ASCII);
    assert_eq!(client.diagnostics(&uri).len(), 1);
    // A body that is not JSON: a parse error, `id: null`.
    client.send_raw(b"Content-Length: 9\r\n\r\n{not json");
    let reply = client.response(&Value::Null);
    assert_eq!(reply["error"]["code"], -32700, "{reply}");
    // JSON but no message: an invalid request, with the id it has.
    let body = r#"{"jsonrpc":"2.0","id":77}"#;
    client.send_raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    let reply = client.response(&json!(77));
    assert_eq!(reply["error"]["code"], -32600, "{reply}");
    // A header block without Content-Length: skipped, with the bytes after it.
    client.send_raw(b"Content-Type: foo\r\n\r\n{}");
    let formatting = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert!(formatting.get("error").is_none(), "{formatting}");
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 0, "character": 0 } }),
    );
    assert!(hover.get("error").is_none(), "{hover}");
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn a_file_the_config_excludes_gets_no_diagnostics() {
    let dir = TestDir::new();
    dir.write("rules.yaml", "exclude:\n  - apis/generated/\n");
    let skipped = dir.write("apis/generated/policy.xml", NON_ASCII);
    let checked = dir.write("apis/echo/policy.xml", NON_ASCII);
    let mut client = Client::start(dir.path());
    client.open(&uri(&skipped), NON_ASCII);
    assert_eq!(client.diagnostics(&uri(&skipped)), Vec::<Value>::new());
    client.open(&uri(&checked), NON_ASCII);
    assert_eq!(client.diagnostics(&uri(&checked)).len(), 1);
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn bad_repo_metadata_is_a_logged_warning() {
    let dir = TestDir::new();
    dir.write("products/starter/policy.xml", NON_ASCII);
    dir.write("products/starter/apis.json", "[oops");
    let path = dir.write("apis/echo/policy.xml", NON_ASCII);
    let uri = uri(&path);
    let mut client = Client::start(dir.path());
    client.open(&uri, NON_ASCII);
    let warning = client.wait_for("window/logMessage", |p| p["type"] == 2);
    assert!(
        warning["message"].as_str().unwrap().contains("apis.json"),
        "{warning}"
    );
    assert_eq!(client.diagnostics(&uri).len(), 1);
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn a_change_on_disk_to_another_scope_changes_the_findings() {
    // The product throttles before `<base />`: a finding while the global policy has
    // `<cors>`, none once the global `<cors>` is gone. The server keeps the repo's parsed
    // files between checks, and must see the change.
    let dir = TestDir::copy_of("examples/contoso");
    let product = "products/starter/policy.xml";
    let uri = uri(&dir.path().join(product));
    let mut client = Client::start(dir.path());
    client.open(&uri, &dir.read(product));
    let before: Vec<Finding> = client.diagnostics(&uri).iter().map(from_lsp).collect();
    assert!(before.iter().any(|f| f.0 == "base-first"), "{before:?}");
    let global = dir.read("policy.xml");
    let start = global.find("<cors").unwrap();
    let end = global.find("</cors>").unwrap() + "</cors>".len();
    dir.write(
        "policy.xml",
        format!("{}{}", &global[..start], &global[end..]),
    );
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": crate::server_support::uri(&dir.path().join("policy.xml")), "type": 2 }] }),
    );
    let after: Vec<Finding> = client.diagnostics(&uri).iter().map(from_lsp).collect();
    let want: Vec<Finding> = check_json(&dir, Path::new(product))["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(from_json)
        .collect();
    assert_eq!(after, want);
    assert!(after.iter().all(|f| f.0 != "base-first"), "{after:?}");
    assert_eq!(client.shutdown(), 0);
}
