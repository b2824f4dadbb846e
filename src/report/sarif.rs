//! SARIF 2.1.0, the format GitHub code scanning ingests (`github/codeql-action/upload-sarif`).
//!
//! The structs below mirror the parts of the spec apimfix writes
//! (<https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>); a test validates the
//! output against the official JSON schema. One log holds one run:
//!
//! - `tool.driver`: name `apimfix`, the crate version, and a `rules` entry for every
//!   [`Rule::ALL`] (then the `syntax-error` pseudo-rule), each with `id` = the rule name, a
//!   PascalCase `name`, the rule summary as `shortDescription` and `fullDescription`, its documentation as `help`, `helpUri`
//!   = [`rule_url`] (the README anchor `#<rule-name>` under the placeholder [`super::HOMEPAGE`])
//!   and `defaultConfiguration.level`.
//! - `results`: one per finding, with `ruleId`, `ruleIndex`, `level` (`error`, `warning`, or
//!   `note` for info), `message.text`, and one location: `artifactLocation.uri` is the display
//!   path as a relative URI reference (percent-encoded, so `my api/policy.xml` becomes
//!   `my%20api/policy.xml`; an absolute path becomes a `file:` URI) and `region` has 1-based
//!   `startLine`, `startColumn`, `endLine`, `endColumn`, the end exclusive as SARIF wants.
//!   Columns count chars, which the run declares with `columnKind: "unicodeCodePoints"`.
//! - Syntax errors are results of the `syntax-error` pseudo-rule, level `error`, not
//!   `toolExecutionNotifications`: code scanning shows results as alerts on the file, but only
//!   logs notifications, and a policy that does not parse is exactly what a reviewer must see.
//!   Files that could not be read, and internal errors, are not findings about the code: they
//!   are `invocations[0].toolExecutionNotifications`. Any file error, a syntax error
//!   included, makes `executionSuccessful` false, as the run then exits 2.
//! - `help.text` is the rule's documentation as plain text, `help.markdown` as Markdown; the
//!   `syntax-error` pseudo-rule has its `help` too (GitHub wants one on every rule).
//!
//! `partialFingerprints` has one entry, `apimfix/v1`: the FNV-1a 64 hash (16 hex digits) of the
//! rule name, the path, the text of the line the finding starts on with XML whitespace trimmed,
//! and the finding's occurrence index among earlier findings of the same rule on lines with the
//! same trimmed text in the same file, the four joined with NUL bytes. It ignores line numbers,
//! so an alert survives lines added above it, and the occurrence index keeps two identical
//! lines apart. The hash is implemented here because `std`'s `DefaultHasher` may change between
//! Rust releases, which would reopen every alert. A change of the recipe gets a new key.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use serde::Serialize;

use super::{FileError, FileReport, HOMEPAGE, markdown_to_plain, pseudo_rule, rule_url};
use crate::diagnostic::Severity;
use crate::rules::Rule;
use crate::text::TextRange;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const SARIF_VERSION: &str = "2.1.0";
/// The `partialFingerprints` key; bump the version when the recipe changes.
pub const FINGERPRINT_KEY: &str = "apimfix/v1";
/// The pseudo-rule of files that do not parse.
pub const SYNTAX_ERROR_ID: &str = "syntax-error";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    invocations: [Invocation; 1],
    column_kind: &'static str,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    name: String,
    short_description: Message,
    full_description: Message,
    /// The rule's whole documentation; code scanning shows it on each alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<Help>,
    help_uri: String,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Message,
    locations: [Location; 1],
    partial_fingerprints: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Message,
    locations: [Location; 1],
    descriptor: DescriptorReference,
}

#[derive(Serialize)]
struct DescriptorReference {
    id: &'static str,
}

/// Writes the SARIF log of `files`, followed by a newline.
pub fn write(out: &mut dyn Write, files: &[FileReport]) -> io::Result<()> {
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for file in files {
        file_results(file, &mut results);
        match &file.error {
            Some(FileError::Io(e)) => {
                notifications.push(notification(file, "io-error", e.to_string()))
            }
            Some(FileError::Other(message)) => {
                notifications.push(notification(file, "io-error", message.clone()))
            }
            Some(FileError::Internal(message)) => notifications.push(notification(
                file,
                "internal-error",
                format!("{message} (a bug in apimfix; the file was left unchanged)"),
            )),
            Some(FileError::Syntax(_)) | None => {}
        }
    }
    // The run exits 2 when any file has an error, a syntax error included: the log says it
    // did not succeed (the syntax error itself is a result, so code scanning shows it).
    let successful = files.iter().all(|f| f.error.is_none());
    let log = Log {
        schema: SCHEMA,
        version: SARIF_VERSION,
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "apimfix",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: HOMEPAGE,
                    rules: rules(),
                },
            },
            invocations: [Invocation {
                execution_successful: successful,
                tool_execution_notifications: notifications,
            }],
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")
}

fn rules() -> Vec<ReportingDescriptor> {
    let mut rules: Vec<ReportingDescriptor> = Rule::ALL
        .iter()
        .map(|&rule| ReportingDescriptor {
            id: rule.name(),
            name: format!("{rule:?}"),
            short_description: Message {
                text: rule.summary().to_owned(),
            },
            full_description: Message {
                text: rule.summary().to_owned(),
            },
            help: Some(Help {
                text: markdown_to_plain(rule.explain()),
                markdown: rule.explain().to_owned(),
            }),
            help_uri: rule_url(rule.name()),
            default_configuration: Configuration {
                level: level(rule.default_severity()),
            },
        })
        .collect();
    rules.push(ReportingDescriptor {
        id: SYNTAX_ERROR_ID,
        name: "SyntaxError".to_owned(),
        short_description: Message {
            text: "The file does not parse as a policy, so it was neither checked nor fixed"
                .to_owned(),
        },
        full_description: Message {
            text: "The file does not parse as an APIM policy (malformed or unclosed tags, an \
                   unterminated expression, not UTF-8, ...). apimfix checks no rule on it and \
                   never rewrites it."
                .to_owned(),
        },
        help: pseudo_rule(SYNTAX_ERROR_ID).map(|p| Help {
            text: markdown_to_plain(p.doc),
            markdown: p.doc.to_owned(),
        }),
        help_uri: rule_url(SYNTAX_ERROR_ID),
        default_configuration: Configuration { level: "error" },
    });
    rules
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The results of one file: its findings, then its syntax error.
fn file_results(file: &FileReport, results: &mut Vec<SarifResult>) {
    let uri = path_to_uri(&file.display_path);
    let mut fingerprints = Fingerprints::new(file);
    for diagnostic in &file.diagnostics {
        let rule = diagnostic.rule;
        let rule_index = Rule::ALL.iter().position(|&r| r == rule).unwrap_or(0);
        let range = file.clamp(diagnostic.range);
        results.push(SarifResult {
            rule_id: rule.name(),
            rule_index,
            level: level(diagnostic.severity),
            message: Message {
                text: diagnostic.message.clone(),
            },
            locations: [location(file, &uri, Some(range))],
            partial_fingerprints: fingerprints.next(rule.name(), range),
        });
    }
    if let Some(FileError::Syntax(error)) = &file.error {
        let range = file.clamp(error.range);
        let text = match &error.label {
            Some(label) => format!("{} ({label})", error.message),
            None => error.message.clone(),
        };
        results.push(SarifResult {
            rule_id: SYNTAX_ERROR_ID,
            rule_index: Rule::ALL.len(),
            level: "error",
            message: Message { text },
            locations: [location(file, &uri, Some(range))],
            partial_fingerprints: fingerprints.next(SYNTAX_ERROR_ID, range),
        });
    }
}

fn location(file: &FileReport, uri: &str, range: Option<TextRange>) -> Location {
    let region = range.map(|range| {
        let start = file.position(range.start());
        let end = file.position(range.end());
        Region {
            start_line: start.line,
            start_column: start.column,
            end_line: end.line,
            end_column: end.column,
        }
    });
    Location {
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: uri.to_owned(),
            },
            region,
        },
    }
}

fn notification(file: &FileReport, id: &'static str, text: String) -> Notification {
    Notification {
        level: "error",
        message: Message { text },
        locations: [location(file, &path_to_uri(&file.display_path), None)],
        descriptor: DescriptorReference { id },
    }
}

/// Computes the `partialFingerprints` of one file's results, in order.
struct Fingerprints<'a> {
    file: &'a FileReport,
    seen: HashMap<(&'static str, &'a str), usize>,
}

impl<'a> Fingerprints<'a> {
    fn new(file: &'a FileReport) -> Self {
        Fingerprints {
            file,
            seen: HashMap::new(),
        }
    }

    fn next(&mut self, rule: &'static str, range: TextRange) -> BTreeMap<&'static str, String> {
        let line = self
            .file
            .line_text(range.start())
            .trim_matches([' ', '\t', '\r', '\n']);
        let occurrence = self.seen.entry((rule, line)).or_insert(0);
        let hash = fingerprint(rule, &self.file.display_path, line, *occurrence);
        *occurrence += 1;
        BTreeMap::from([(FINGERPRINT_KEY, format!("{hash:016x}"))])
    }
}

/// The `apimfix/v1` fingerprint: FNV-1a 64 of the four parts joined with NUL bytes.
pub fn fingerprint(rule: &str, path: &str, trimmed_line: &str, occurrence: usize) -> u64 {
    let occurrence = occurrence.to_string();
    let mut hash = Fnv1a64::new();
    for (i, part) in [rule, path, trimmed_line, occurrence.as_str()]
        .iter()
        .enumerate()
    {
        if i > 0 {
            hash.write(&[0]);
        }
        hash.write(part.as_bytes());
    }
    hash.finish()
}

/// FNV-1a, 64-bit (<http://www.isthe.com/chongo/tech/comp/fnv/>): tiny, and fixed forever.
struct Fnv1a64(u64);

impl Fnv1a64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Self {
        Fnv1a64(Self::OFFSET_BASIS)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The display path as a URI reference: relative paths stay relative (resolved against the
/// repository root by code scanning), absolute ones become `file:` URIs. Every byte outside
/// RFC 3986's unreserved characters, sub-delimiters, `@` and `/` is percent-encoded; `:` is
/// encoded too, so a relative path never reads as a scheme.
pub fn path_to_uri(path: &str) -> String {
    let bytes = path.as_bytes();
    let is_drive =
        bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && bytes[2] == b'/';
    let (prefix, rest) = if path.starts_with('/') {
        ("file://", path)
    } else if is_drive {
        // `C:/x` keeps its colon: `file:///C:/x`.
        let (drive, rest) = path.split_at(2);
        return format!("file:///{drive}{}", percent_encode(rest));
    } else {
        ("", path)
    };
    format!("{prefix}{}", percent_encode(rest))
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@/".contains(&byte);
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_reference_vectors() {
        let hash = |s: &str| {
            let mut h = Fnv1a64::new();
            h.write(s.as_bytes());
            h.finish()
        };
        assert_eq!(hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(path_to_uri("apis/echo/policy.xml"), "apis/echo/policy.xml");
        assert_eq!(
            path_to_uri("apis/my api;rev=2/pölicy.xml"),
            "apis/my%20api;rev=2/p%C3%B6licy.xml"
        );
        assert_eq!(path_to_uri("a:b/100%.xml"), "a%3Ab/100%25.xml");
        assert_eq!(path_to_uri("/tmp/x y.xml"), "file:///tmp/x%20y.xml");
        assert_eq!(path_to_uri("C:/x y.xml"), "file:///C:/x%20y.xml");
    }
}
