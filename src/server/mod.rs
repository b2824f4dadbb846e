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
//! A message the server cannot read does not end it either: a body that is not JSON gets a
//! parse error reply (-32700, `id: null`), a header block without `Content-Length` is
//! skipped; both are said on stderr.

mod convert;
mod session;
mod transport;

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
/// `shutdown` and `exit`. What is wrong with the client's framing goes to `log` (the
/// process's stderr): the protocol has no place for it.
///
/// Messages are written by the calling thread, through `out`: the binary holds the stdout
/// lock for its whole run, so a writer thread of its own (as `Connection::stdio` starts)
/// would wait for it forever. The session runs on a thread of its own; stdin is read by a
/// third (`transport.rs`), which ends with the `exit` notification or the end of input, and
/// which answers a body that is no message with an error reply instead of ending.
pub fn run(out: &mut dyn Write, mut log: Box<dyn Write + Send>) -> Result<(), Error> {
    let (to_client, outgoing) = crossbeam_channel::unbounded::<Message>();
    let (from_client, incoming) = crossbeam_channel::unbounded::<Message>();
    // Error replies to bodies that are no message, written here too.
    let (reply_sender, replies) = crossbeam_channel::unbounded::<serde_json::Value>();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        transport::read_messages(&mut stdin, &from_client, &reply_sender, &mut *log);
    });
    let connection = Connection {
        sender: to_client,
        receiver: incoming,
    };
    std::thread::scope(|scope| {
        let session = scope.spawn(move || serve(connection));
        let written = write_messages(&outgoing, &replies, out);
        // Unread messages are dropped: the client has gone.
        drop(outgoing);
        drop(replies);
        let served = session
            .join()
            .unwrap_or_else(|_| Err("the server's session panicked".into()));
        served.and(written.map_err(Error::from))
    })
}

/// Writes the session's messages and the reader's error replies to `out`, until the
/// session ends and drops its sender (the reader may still be waiting for input).
fn write_messages(
    outgoing: &crossbeam_channel::Receiver<Message>,
    replies: &crossbeam_channel::Receiver<serde_json::Value>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut replies_open = true;
    loop {
        let mut select = crossbeam_channel::Select::new();
        let from_session = select.recv(outgoing);
        let from_reader = replies_open.then(|| select.recv(replies));
        let ready = select.select();
        let index = ready.index();
        if index == from_session {
            let Ok(message) = ready.recv(outgoing) else {
                return Ok(());
            };
            message.write(&mut &mut *out)?;
        } else if Some(index) == from_reader {
            match ready.recv(replies) {
                Ok(reply) => transport::write_reply(out, &reply)?,
                // The reader has ended: the session ends next.
                Err(_) => replies_open = false,
            }
        }
    }
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
