//! `apimfix server`: a Language Server over stdio.
//!
//! Built on `lsp-server` and `lsp-types`, as ruff's server is: a synchronous message loop on
//! crossbeam channels, no async runtime. The engine is synchronous (and parallel inside,
//! on rayon), so an async framework (`tower-lsp-server`) would only wrap each call in a
//! blocking task; the loop here sees the whole queue, which lets it coalesce a burst of
//! edits into one check per document.
//!
//! What it offers, all from the same engine as the command line:
//!
//! - diagnostics on open, change and save of a policy document ([`crate::engine::check_document`]:
//!   the unsaved text stands in for the file on disk, the rest of its APIOps repo is read
//!   from disk); XML that is not a policy is left alone;
//! - code actions: each finding's fix, "fix all" (`source.fixAll.apimfix`, what
//!   `apimfix fix --write` would write) and a suppression comment;
//! - formatting of the whole document (what `apimfix fmt --write` would write); range
//!   formatting only when the range covers the whole document;
//! - hover on a rule name in an `apimfix-ignore` comment: the rule's documentation;
//! - a broken config: one diagnostic on the config file; configs and repos are read again on
//!   save and on watched-file changes.
//!
//! A panic in a handler is caught: the request gets an error reply and the session goes on.

mod convert;
mod session;

use lsp_server::Connection;
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionProviderCapability, HoverProviderCapability,
    InitializeParams, InitializeResult, OneOf, PositionEncodingKind, SaveOptions,
    ServerCapabilities, ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions,
};

pub use convert::{Lines, apply_text_edits, path_to_uri, uri_to_path};

/// The code action kind of "fix all": `source.fixAll` for clients that run every fixer on
/// save, `.apimfix` to pick ours.
pub const FIX_ALL_KIND: &str = "source.fixAll.apimfix";

/// Why the server stopped other than by `shutdown` and `exit`.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Runs the server on stdin and stdout until the client sends `shutdown` and `exit`.
pub fn run() -> Result<(), Error> {
    let (connection, io_threads) = Connection::stdio();
    serve(connection)?;
    io_threads.join()?;
    Ok(())
}

/// The server's capabilities.
fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(PositionEncodingKind::UTF16),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                will_save: None,
                will_save_wait_until: None,
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![
                CodeActionKind::QUICKFIX,
                CodeActionKind::new(FIX_ALL_KIND),
            ]),
            work_done_progress_options: Default::default(),
            resolve_provider: None,
        })),
        document_formatting_provider: Some(OneOf::Left(true)),
        document_range_formatting_provider: Some(OneOf::Left(true)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        ..ServerCapabilities::default()
    }
}

/// Runs the protocol on `connection`: the handshake, then the session until `shutdown`.
pub fn serve(connection: Connection) -> Result<(), Error> {
    let (id, params) = connection.initialize_start()?;
    let params: InitializeParams = serde_json::from_value(params)?;
    let result = InitializeResult {
        capabilities: capabilities(),
        server_info: Some(ServerInfo {
            name: "apimfix".to_owned(),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        }),
    };
    connection.initialize_finish(id, serde_json::to_value(result)?)?;
    session::Session::new(&connection, &params).run()
}
