//! The session: open documents, their last check, and a handler per protocol method.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crossbeam_channel::TryRecvError;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeConfiguration, DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument,
    DidOpenTextDocument, DidSaveTextDocument, LogMessage, Notification as _, PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, Formatting, HoverRequest, RangeFormatting, RegisterCapability, Request as _,
};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CodeDescription,
    DiagnosticRelatedInformation, DiagnosticSeverity, DidChangeTextDocumentParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DocumentFormattingParams,
    DocumentRangeFormattingParams, Hover, HoverContents, HoverParams, InitializeParams, Location,
    LogMessageParams, MarkupContent, MarkupKind, MessageType, NumberOrString, Position,
    PublishDiagnosticsParams, Range, TextEdit, Uri, WorkspaceEdit,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::{CONFIG_FILE_NAMES, ConfigError};
use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::{
    self, DocumentOutcome, FileError, Formatted, Options, check_document, fix_document,
    format_document,
};
use crate::fix::Applicability;
use crate::report::rule_url;
use crate::rules::Rule;
use crate::syntax::SyntaxError;
use crate::text::{Ranged, TextRange};

use super::convert::{Lines, single_edit, uri_to_path};
use super::{Error, FIX_ALL_KIND};

/// Set to a method name, this makes its handler panic: how the tests check that a panic
/// does not end the session.
const PANIC_ENV: &str = "APIMFIX_SERVER_PANIC";

/// An open document.
struct OpenDoc {
    uri: Uri,
    /// `None` for URIs that are not files (`untitled:`): nothing to check them against.
    path: Option<PathBuf>,
    text: String,
    version: i32,
    /// The findings of the last check, for the text of `version`.
    checked: Option<Checked>,
}

/// A check of one version of a document.
struct Checked {
    version: i32,
    /// The engine's findings, ranges into the text of `version`.
    findings: Vec<Diagnostic>,
    /// The same, as published.
    published: Vec<lsp_types::Diagnostic>,
    /// The config governing the document does not load.
    config_error: Option<ConfigError>,
    /// What the repo model could not take into account (bad product metadata).
    warnings: Vec<String>,
}

/// An error reply.
struct Failure {
    code: ErrorCode,
    message: String,
}

impl Failure {
    fn invalid_params(e: impl std::fmt::Display) -> Failure {
        Failure {
            code: ErrorCode::InvalidParams,
            message: e.to_string(),
        }
    }
}

pub struct Session<'a> {
    connection: &'a Connection,
    docs: HashMap<String, OpenDoc>,
    /// Documents to check before the next wait for messages.
    dirty: BTreeSet<String>,
    /// Config files that have a published diagnostic.
    config_diagnostics: BTreeSet<String>,
    options: Options,
    /// The client can register file watchers.
    watch_files: bool,
    /// Warnings already logged.
    logged: BTreeSet<String>,
    next_request: i32,
}

impl<'a> Session<'a> {
    pub fn new(connection: &'a Connection, params: &InitializeParams) -> Self {
        let watch_files = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|w| w.dynamic_registration)
            .unwrap_or(false);
        Session {
            connection,
            docs: HashMap::new(),
            dirty: BTreeSet::new(),
            config_diagnostics: BTreeSet::new(),
            // An editor opens any file: the config's `exclude` applies to it, as
            // `--force-exclude` makes it apply to files named on the command line.
            options: Options {
                force_exclude: true,
                ..Options::default()
            },
            watch_files,
            logged: BTreeSet::new(),
            next_request: 0,
        }
    }

    /// Handles messages until `shutdown`. After each burst of messages, checks the
    /// documents that changed (one check per document, however many edits came).
    pub fn run(mut self) -> Result<(), Error> {
        self.register_watchers();
        loop {
            let message = match self.connection.receiver.recv() {
                Ok(m) => m,
                Err(_) => return Ok(()),
            };
            if self.handle(message)? {
                return Ok(());
            }
            loop {
                match self.connection.receiver.try_recv() {
                    Ok(message) => {
                        if self.handle(message)? {
                            return Ok(());
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return Ok(()),
                }
            }
            self.check_dirty();
        }
    }

    /// Handles one message; `true` after `shutdown`.
    fn handle(&mut self, message: Message) -> Result<bool, Error> {
        match message {
            Message::Request(request) => {
                if self.connection.handle_shutdown(&request)? {
                    return Ok(true);
                }
                let id = request.id.clone();
                let method = request.method.clone();
                let result = catch_unwind(AssertUnwindSafe(|| self.request(request)));
                let response = match result {
                    Ok(Ok(value)) => Response::new_ok(id, value),
                    Ok(Err(failure)) => Response::new_err(id, failure.code as i32, failure.message),
                    Err(panic) => {
                        let message = format!(
                            "apimfix: `{method}` failed: {}; the server goes on",
                            panic_message(&*panic)
                        );
                        self.log(MessageType::ERROR, &message);
                        Response::new_err(id, ErrorCode::InternalError as i32, message)
                    }
                };
                self.send(response.into());
            }
            Message::Notification(notification) => {
                let method = notification.method.clone();
                if let Err(panic) =
                    catch_unwind(AssertUnwindSafe(|| self.notification(notification)))
                {
                    let message = format!(
                        "apimfix: `{method}` failed: {}; the server goes on",
                        panic_message(&*panic)
                    );
                    self.log(MessageType::ERROR, &message);
                }
            }
            // Replies to our requests (watcher registration): nothing to do.
            Message::Response(_) => {}
        }
        Ok(false)
    }

    fn request(&mut self, request: Request) -> Result<Value, Failure> {
        maybe_panic(&request.method);
        match request.method.as_str() {
            CodeActionRequest::METHOD => {
                let params = parse(request.params)?;
                self.code_actions(params)
            }
            Formatting::METHOD => {
                let params: DocumentFormattingParams = parse(request.params)?;
                self.format(&params.text_document.uri, None)
            }
            RangeFormatting::METHOD => {
                let params: DocumentRangeFormattingParams = parse(request.params)?;
                self.format(&params.text_document.uri, Some(params.range))
            }
            HoverRequest::METHOD => {
                let params = parse(request.params)?;
                Ok(self.hover(params))
            }
            _ => Err(Failure {
                code: ErrorCode::MethodNotFound,
                message: format!("apimfix does not handle `{}`", request.method),
            }),
        }
    }

    fn notification(&mut self, notification: Notification) {
        maybe_panic(&notification.method);
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(params) = parse::<DidOpenTextDocumentParams>(notification.params) else {
                    return;
                };
                let doc = params.text_document;
                let key = doc.uri.as_str().to_owned();
                if !is_policy_candidate(&doc.uri, &doc.language_id) {
                    return;
                }
                self.docs.insert(
                    key.clone(),
                    OpenDoc {
                        path: uri_to_path(&doc.uri),
                        uri: doc.uri,
                        text: doc.text,
                        version: doc.version,
                        checked: None,
                    },
                );
                self.dirty.insert(key);
            }
            DidChangeTextDocument::METHOD => {
                let Ok(params) = parse::<DidChangeTextDocumentParams>(notification.params) else {
                    return;
                };
                let key = params.text_document.uri.as_str().to_owned();
                let Some(doc) = self.docs.get_mut(&key) else {
                    return;
                };
                for change in params.content_changes {
                    match change.range {
                        Some(range) => {
                            let at = Lines::new(&doc.text).text_range(range);
                            doc.text.replace_range(at.to_std(), &change.text);
                        }
                        None => doc.text = change.text,
                    }
                }
                doc.version = params.text_document.version;
                self.dirty.insert(key);
            }
            DidSaveTextDocument::METHOD
            | DidChangeWatchedFiles::METHOD
            | DidChangeConfiguration::METHOD => {
                // A saved or changed file can be a config, product metadata or another
                // policy of a repo: every open document is checked again.
                self.recheck_all();
            }
            DidCloseTextDocument::METHOD => {
                let Ok(params) = parse::<DidCloseTextDocumentParams>(notification.params) else {
                    return;
                };
                let key = params.text_document.uri.as_str().to_owned();
                if self.docs.remove(&key).is_some() {
                    self.dirty.remove(&key);
                    self.publish(params.text_document.uri, Vec::new(), None);
                    self.publish_config_diagnostics();
                }
            }
            _ => {}
        }
    }

    /// Forgets every check: what is on disk (configs, the repo) has changed.
    fn recheck_all(&mut self) {
        for (key, doc) in &mut self.docs {
            doc.checked = None;
            self.dirty.insert(key.clone());
        }
    }

    /// Checks the documents marked dirty and publishes their diagnostics, then those of
    /// broken configs.
    fn check_dirty(&mut self) {
        if self.dirty.is_empty() {
            return;
        }
        let dirty = std::mem::take(&mut self.dirty);
        for key in dirty {
            let outcome = catch_unwind(AssertUnwindSafe(|| self.check(&key)));
            match outcome {
                Ok(Some((uri, diagnostics, version))) => {
                    self.publish(uri, diagnostics, Some(version));
                }
                Ok(None) => {}
                Err(panic) => self.log(
                    MessageType::ERROR,
                    &format!(
                        "apimfix: checking {key} failed: {}; the server goes on",
                        panic_message(&*panic)
                    ),
                ),
            }
        }
        self.publish_config_diagnostics();
    }

    /// Checks the document `key` (unless its last check is of its current version), and
    /// returns what to publish for it.
    fn check(&mut self, key: &str) -> Option<(Uri, Vec<lsp_types::Diagnostic>, i32)> {
        let doc = self.docs.get(key)?;
        if doc
            .checked
            .as_ref()
            .is_none_or(|c| c.version != doc.version)
        {
            let checked = self.check_text(doc);
            // Said once per session, not at every keystroke.
            for warning in &checked.warnings {
                if self.logged.insert(warning.clone()) {
                    self.log(MessageType::WARNING, warning);
                }
            }
            self.docs.get_mut(key)?.checked = Some(checked);
        }
        let doc = self.docs.get(key)?;
        let checked = doc.checked.as_ref()?;
        Some((doc.uri.clone(), checked.published.clone(), doc.version))
    }

    fn check_text(&self, doc: &OpenDoc) -> Checked {
        let mut checked = Checked {
            version: doc.version,
            findings: Vec::new(),
            published: Vec::new(),
            config_error: None,
            warnings: Vec::new(),
        };
        let Some(path) = &doc.path else {
            return checked;
        };
        let outcome = match check_document(path, &doc.text, &self.options) {
            Ok(DocumentOutcome::Done(outcome)) => outcome,
            Ok(DocumentOutcome::Skipped) => return checked,
            Err(e) => {
                self.log(MessageType::ERROR, &format!("apimfix: {e}"));
                return checked;
            }
        };
        for e in &outcome.errors {
            let at = e.path.as_deref().map(engine::display_path);
            checked
                .warnings
                .push(format!("apimfix: {}: {}", at.unwrap_or_default(), e.error));
        }
        let lines = Lines::new(&doc.text);
        let result = outcome.result;
        match result.error {
            Some(FileError::Config(e)) => checked.config_error = Some(e),
            Some(FileError::Syntax(e)) => {
                checked.published = vec![syntax_diagnostic(&e, &lines, &doc.uri)];
            }
            Some(other) => {
                checked.published = vec![lsp_types::Diagnostic {
                    range: Range::default(),
                    severity: Some(DiagnosticSeverity::ERROR),
                    source: Some("apimfix".to_owned()),
                    message: other.to_string(),
                    ..lsp_types::Diagnostic::default()
                }];
            }
            None => {
                checked.published = result
                    .diagnostics
                    .iter()
                    .map(|d| to_lsp(d, &lines))
                    .collect();
                checked.findings = result.diagnostics;
            }
        }
        checked
    }

    /// One diagnostic on each config file that a open document's check could not load, and
    /// none on those that load again.
    fn publish_config_diagnostics(&mut self) {
        let mut broken: BTreeMap<String, (Uri, &ConfigError)> = BTreeMap::new();
        for doc in self.docs.values() {
            if let Some(e) = doc.checked.as_ref().and_then(|c| c.config_error.as_ref())
                && let Some(uri) = super::path_to_uri(e.path())
            {
                broken.insert(uri.as_str().to_owned(), (uri, e));
            }
        }
        let now: BTreeSet<String> = broken.keys().cloned().collect();
        let mut messages = Vec::new();
        for (uri, e) in broken.values() {
            messages.push((uri.clone(), vec![config_diagnostic(e)]));
        }
        for gone in self.config_diagnostics.difference(&now) {
            if let Ok(uri) = Uri::from_str(gone) {
                messages.push((uri, Vec::new()));
            }
        }
        self.config_diagnostics = now;
        for (uri, diagnostics) in messages {
            self.publish(uri, diagnostics, None);
        }
    }

    /// The findings of `key`'s current text: the last check when it is current.
    fn current(&mut self, key: &str) -> Option<&OpenDoc> {
        self.check(key)?;
        self.docs.get(key)
    }

    fn code_actions(&mut self, params: CodeActionParams) -> Result<Value, Failure> {
        let key = params.text_document.uri.as_str().to_owned();
        let options = self.options.clone();
        let Some(doc) = self.current(&key) else {
            return Ok(Value::Null);
        };
        let Some(checked) = &doc.checked else {
            return Ok(Value::Null);
        };
        let wanted = |kind: &CodeActionKind| {
            params.context.only.as_ref().is_none_or(|only| {
                only.iter().any(|o| {
                    kind.as_str() == o.as_str()
                        || kind.as_str().starts_with(&format!("{}.", o.as_str()))
                })
            })
        };
        let lines = Lines::new(&doc.text);
        let asked = lines.text_range(params.range);
        let mut actions = Vec::new();
        if wanted(&CodeActionKind::QUICKFIX) {
            for (finding, published) in checked.findings.iter().zip(&checked.published) {
                let range = finding.range;
                if range.start() > asked.end() || asked.start() > range.end() {
                    continue;
                }
                if let Some(fix) = &finding.fix
                    && fix.applicability() != Applicability::DisplayOnly
                {
                    let safe = fix.applicability() == Applicability::Safe;
                    let title = finding
                        .fix_title
                        .clone()
                        .unwrap_or_else(|| format!("Fix `{}`", finding.rule.name()));
                    let title = if safe {
                        title
                    } else {
                        format!("{title} (unsafe)")
                    };
                    let edits = fix
                        .edits()
                        .iter()
                        .map(|e| TextEdit::new(lines.range(e.range()), e.content().to_owned()))
                        .collect();
                    actions.push(action(
                        title,
                        CodeActionKind::QUICKFIX,
                        &doc.uri,
                        edits,
                        vec![published.clone()],
                        Some(safe),
                    ));
                }
                if let Some(edit) = suppression_edit(&doc.text, finding) {
                    actions.push(action(
                        format!(
                            "Suppress with `<!-- apimfix-ignore: {} -->`",
                            finding.rule.name()
                        ),
                        CodeActionKind::QUICKFIX,
                        &doc.uri,
                        vec![TextEdit::new(lines.range(edit.0), edit.1)],
                        vec![published.clone()],
                        None,
                    ));
                }
            }
        }
        let fix_all = CodeActionKind::new(FIX_ALL_KIND);
        let fixable = checked.findings.iter().any(|d| {
            d.fix
                .as_ref()
                .is_some_and(|f| f.applicability() != Applicability::DisplayOnly)
        });
        if wanted(&fix_all)
            && fixable
            && let Some(path) = &doc.path
            && let Ok(DocumentOutcome::Done(fixed)) = fix_document(path, &doc.text, &options)
            && let Some(output) = &fixed.output
            && let Some(edit) = single_edit(&doc.text, output)
        {
            let title = if fixed.unsafe_config {
                "Fix all fixes in this file (unsafe ones too, as the config asks)"
            } else {
                "Fix all safe fixes in this file"
            };
            actions.push(action(
                title.to_owned(),
                fix_all,
                &doc.uri,
                vec![edit],
                Vec::new(),
                None,
            ));
        }
        Ok(serde_json::to_value(actions).unwrap_or(Value::Null))
    }

    /// Formats the whole document; a range that does not cover it is declined (no edits):
    /// the formatter lays out whole documents.
    fn format(&mut self, uri: &Uri, range: Option<Range>) -> Result<Value, Failure> {
        let Some(doc) = self.docs.get(uri.as_str()) else {
            return Ok(Value::Null);
        };
        let Some(path) = &doc.path else {
            return Ok(Value::Null);
        };
        if let Some(range) = range {
            let asked = Lines::new(&doc.text).text_range(range);
            let covers = doc.text[..asked.start()].trim().is_empty()
                && doc.text[asked.end()..].trim().is_empty();
            if !covers {
                self.log(
                    MessageType::INFO,
                    "apimfix formats whole documents only: select all to format",
                );
                return Ok(Value::Null);
            }
        }
        let formatted = match format_document(path, &doc.text, &self.options) {
            Ok(DocumentOutcome::Done(formatted)) => formatted,
            Ok(DocumentOutcome::Skipped) => return Ok(Value::Null),
            Err(e) => {
                return Err(Failure {
                    code: ErrorCode::RequestFailed,
                    message: e.to_string(),
                });
            }
        };
        let new_text = match formatted {
            Formatted::Changed {
                output: Some(output),
                ..
            } => String::from_utf8(output).unwrap_or_else(|_| doc.text.clone()),
            Formatted::Changed { output: None, .. } | Formatted::Unchanged { .. } => {
                return Ok(serde_json::json!([]));
            }
            Formatted::Failed(result) => {
                // A syntax error is already a diagnostic: no edits, no error popup.
                let why = result.error.map(|e| e.to_string()).unwrap_or_default();
                self.log(MessageType::INFO, &format!("apimfix: not formatted: {why}"));
                return Ok(Value::Null);
            }
        };
        let edits: Vec<TextEdit> = single_edit(&doc.text, &new_text).into_iter().collect();
        Ok(serde_json::to_value(edits).unwrap_or(Value::Null))
    }

    fn hover(&self, params: HoverParams) -> Value {
        let at = params.text_document_position_params;
        let Some(doc) = self.docs.get(at.text_document.uri.as_str()) else {
            return Value::Null;
        };
        let lines = Lines::new(&doc.text);
        let offset = lines.offset(at.position);
        let Some((rule, range)) = rule_in_ignore_comment(&doc.text, offset) else {
            return Value::Null;
        };
        let hover = Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: rule_docs(rule),
            }),
            range: Some(lines.range(range)),
        };
        serde_json::to_value(hover).unwrap_or(Value::Null)
    }

    fn register_watchers(&mut self) {
        if !self.watch_files {
            return;
        }
        let mut globs: Vec<String> = CONFIG_FILE_NAMES
            .iter()
            .map(|name| format!("**/{name}"))
            .collect();
        // Other policy files and product metadata change the repo model.
        globs.push("**/*.xml".to_owned());
        globs.push("**/*.json".to_owned());
        let watchers: Vec<Value> = globs
            .into_iter()
            .map(|g| serde_json::json!({ "globPattern": g }))
            .collect();
        let params = serde_json::json!({
            "registrations": [{
                "id": "apimfix-watch",
                "method": DidChangeWatchedFiles::METHOD,
                "registerOptions": { "watchers": watchers },
            }]
        });
        self.next_request += 1;
        let id = RequestId::from(format!("apimfix-{}", self.next_request));
        self.send(Request::new(id, RegisterCapability::METHOD.to_owned(), params).into());
    }

    fn publish(&self, uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        self.send(Notification::new(PublishDiagnostics::METHOD.to_owned(), params).into());
    }

    fn log(&self, typ: MessageType, message: &str) {
        let params = LogMessageParams {
            typ,
            message: message.to_owned(),
        };
        self.send(Notification::new(LogMessage::METHOD.to_owned(), params).into());
    }

    fn send(&self, message: Message) {
        // The client went away: the receive loop ends the session.
        let _ = self.connection.sender.send(message);
    }
}

fn parse<P: DeserializeOwned>(params: Value) -> Result<P, Failure> {
    serde_json::from_value(params).map_err(Failure::invalid_params)
}

fn maybe_panic(method: &str) {
    if std::env::var_os(PANIC_ENV).is_some_and(|m| m == method) {
        panic!("{PANIC_ENV} asked `{method}` to panic");
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic".to_owned()
    }
}

/// Whether a document may be a policy: XML by its language or its name. The engine then
/// skips XML whose root is not `<policies>` or `<fragment>`.
fn is_policy_candidate(uri: &Uri, language_id: &str) -> bool {
    language_id == "xml"
        || Path::new(uri.as_str())
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
}

fn action(
    title: String,
    kind: CodeActionKind,
    uri: &Uri,
    edits: Vec<TextEdit>,
    diagnostics: Vec<lsp_types::Diagnostic>,
    is_preferred: Option<bool>,
) -> CodeActionOrCommand {
    CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(kind),
        diagnostics: (!diagnostics.is_empty()).then_some(diagnostics),
        edit: Some(WorkspaceEdit {
            changes: Some(std::collections::HashMap::from([(uri.clone(), edits)])),
            ..WorkspaceEdit::default()
        }),
        is_preferred,
        ..CodeAction::default()
    })
}

/// A finding as the protocol shows it: the rule name as its code, with a link to the rule's
/// documentation.
fn to_lsp(d: &Diagnostic, lines: &Lines<'_>) -> lsp_types::Diagnostic {
    lsp_types::Diagnostic {
        range: lines.range(d.range),
        severity: Some(severity(d.severity)),
        code: Some(NumberOrString::String(d.rule.name().to_owned())),
        code_description: Uri::from_str(&rule_url(d.rule.name()))
            .ok()
            .map(|href| CodeDescription { href }),
        source: Some("apimfix".to_owned()),
        message: d.message.clone(),
        ..lsp_types::Diagnostic::default()
    }
}

fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

fn syntax_diagnostic(e: &SyntaxError, lines: &Lines<'_>, uri: &Uri) -> lsp_types::Diagnostic {
    let message = match &e.label {
        Some(label) if !label.is_empty() => format!("{}: {label}", e.message),
        _ => e.message.clone(),
    };
    lsp_types::Diagnostic {
        range: lines.range(e.range),
        severity: Some(DiagnosticSeverity::ERROR),
        code: Some(NumberOrString::String("syntax-error".to_owned())),
        source: Some("apimfix".to_owned()),
        message,
        related_information: e.related.as_ref().map(|(range, message)| {
            vec![DiagnosticRelatedInformation {
                location: Location::new(uri.clone(), lines.range(*range)),
                message: message.clone(),
            }]
        }),
        ..lsp_types::Diagnostic::default()
    }
}

/// The diagnostic of a config file that does not load: at its line and column when the
/// error has one (to the end of that line), else at its start.
fn config_diagnostic(e: &ConfigError) -> lsp_types::Diagnostic {
    let range = match e.location() {
        Some(at) => {
            let line = at.line.saturating_sub(1);
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            let line_text = text.lines().nth(line).unwrap_or("");
            let column: usize = line_text
                .chars()
                .take(at.column.saturating_sub(1))
                .map(char::len_utf16)
                .sum();
            let end: usize = line_text.chars().map(char::len_utf16).sum();
            Range::new(
                Position::new(line as u32, column as u32),
                Position::new(line as u32, end.max(column) as u32),
            )
        }
        None => Range::default(),
    };
    lsp_types::Diagnostic {
        range,
        severity: Some(DiagnosticSeverity::ERROR),
        source: Some("apimfix".to_owned()),
        message: format!("apimfix cannot use this config: {}", e.message()),
        ..lsp_types::Diagnostic::default()
    }
}

/// The edit that silences `finding` with an `apimfix-ignore` comment before the innermost
/// element holding its start: on a line of its own, indented like the element, when the
/// element starts its line.
fn suppression_edit(text: &str, finding: &Diagnostic) -> Option<(TextRange, String)> {
    let doc = crate::syntax::parse(text).ok()?;
    let start = finding.range.start();
    let root = doc.root();
    let element = std::iter::once(root)
        .chain(root.descendants())
        .filter(|e| e.range().contains(start) || e.range().start() == start)
        .min_by_key(|e| e.range().len())?;
    let at = element.range().start();
    let comment = format!("<!-- apimfix-ignore: {} -->", finding.rule.name());
    let inserted = if doc.starts_line(at) {
        format!(
            "{comment}{}{}",
            doc.line_ending().as_str(),
            doc.indent_of_line(at)
        )
    } else {
        format!("{comment} ")
    };
    Some((TextRange::empty(at), inserted))
}

/// The rule named at `offset` inside an `apimfix-ignore` or `apimfix-ignore-file` comment,
/// with the range of its name.
fn rule_in_ignore_comment(text: &str, offset: usize) -> Option<(Rule, TextRange)> {
    let offset = offset.min(text.len());
    let open = text[..offset].rfind("<!--")?;
    let close = open + text[open..].find("-->")?;
    if offset > close {
        return None;
    }
    let body = &text[open + 4..close];
    let directive = body.trim_start();
    if !directive.starts_with("apimfix-ignore") {
        return None;
    }
    let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
    let bytes = text.as_bytes();
    let mut start = offset;
    while start > open + 4 && is_name(bytes[start - 1]) {
        start -= 1;
    }
    let mut end = offset;
    while end < close && is_name(bytes[end]) {
        end += 1;
    }
    let rule = Rule::from_str(&text[start..end]).ok()?;
    Some((rule, TextRange::new(start, end)))
}

/// A rule's documentation as hover text: its name and summary, its docs, and a link.
fn rule_docs(rule: Rule) -> String {
    format!(
        "**{}**: {}\n\n{}\n\n[Documentation]({})",
        rule.name(),
        rule.summary(),
        rule.explain().trim(),
        rule_url(rule.name())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_name_in_an_ignore_comment_is_found() {
        let text = "<policies>\n  <!-- apimfix-ignore: cors-first, base-missing -->\n</policies>";
        let at = text.find("base-missing").unwrap() + 3;
        let (rule, range) = rule_in_ignore_comment(text, at).unwrap();
        assert_eq!(rule.name(), "base-missing");
        assert_eq!(&text[range.to_std()], "base-missing");
        // The directive itself is no rule; outside the comment, nothing.
        assert!(rule_in_ignore_comment(text, text.find("ignore").unwrap()).is_none());
        assert!(rule_in_ignore_comment(text, 3).is_none());
        let other = "<!-- cors-first -->";
        assert!(rule_in_ignore_comment(other, 8).is_none());
    }
}
