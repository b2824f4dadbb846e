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

use std::io::Write;

use lsp_server::{Connection, Message};
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

/// Runs the server on stdin and `out` (the process's stdout) until the client sends
/// `shutdown` and `exit`.
///
/// Messages are written by the calling thread, through `out`: the binary holds the stdout
/// lock for its whole run, so a writer thread of its own (as `Connection::stdio` starts)
/// would wait for it forever. The session runs on a thread of its own; stdin is read by a
/// third, which ends with the `exit` notification or the end of input.
pub fn run(out: &mut dyn Write) -> Result<(), Error> {
    let (to_client, outgoing) = crossbeam_channel::unbounded::<Message>();
    let (from_client, incoming) = crossbeam_channel::unbounded::<Message>();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        while let Ok(Some(message)) = Message::read(&mut stdin) {
            let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
            if from_client.send(message).is_err() || exit {
                break;
            }
        }
    });
    let connection = Connection {
        sender: to_client,
        receiver: incoming,
    };
    std::thread::scope(|scope| {
        let session = scope.spawn(move || serve(connection));
        let mut written = Ok(());
        // Ends when the session ends and drops its sender.
        for message in &outgoing {
            if let Err(e) = message.write(&mut &mut *out) {
                written = Err(e);
                break;
            }
        }
        // Unread messages are dropped: the client has gone.
        drop(outgoing);
        let served = session
            .join()
            .unwrap_or_else(|_| Err("the server's session panicked".into()));
        served.and(written.map_err(Error::from))
    })
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
