//! A small LSP client for the server tests: spawns `apimfix server`, frames JSON-RPC over
//! its stdin and stdout, answers the server's own requests, and keeps notifications until a
//! test waits for them.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long a test waits for one message before failing.
pub const TIMEOUT: Duration = Duration::from_secs(120);

pub struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    messages: Receiver<Value>,
    /// Notifications received while waiting for something else.
    pending: VecDeque<Value>,
    next_id: i64,
}

/// The `file:` URI of `path`, as the server spells it (percent-encoded).
pub fn uri(path: &Path) -> String {
    apimfix::server::path_to_uri(path)
        .expect("an absolute UTF-8 path")
        .as_str()
        .to_owned()
}

impl Client {
    /// Starts `apimfix server` in `cwd` and completes the handshake.
    pub fn start(cwd: &Path) -> Client {
        Self::start_with_env(cwd, &[])
    }

    pub fn start_with_env(cwd: &Path, env: &[(&str, &str)]) -> Client {
        let mut command = Command::new(assert_cmd::cargo::cargo_bin("apimfix"));
        command
            .arg("server")
            .current_dir(cwd)
            .env_remove("APIMFIX_CORPUS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("apimfix server starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if tx.send(message).is_err() {
                    break;
                }
            }
        });
        let mut client = Client {
            stdin: child.stdin.take(),
            child,
            messages: rx,
            pending: VecDeque::new(),
            next_id: 0,
        };
        let root = uri(cwd);
        let result = client.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root,
                "workspaceFolders": [{ "uri": root, "name": "test" }],
                "capabilities": {
                    "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } },
                    "textDocument": { "publishDiagnostics": { "relatedInformation": true } }
                }
            }),
        );
        assert!(
            result["result"]["capabilities"]["documentFormattingProvider"] == json!(true),
            "{result}"
        );
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        let stdin = self.stdin.as_mut().expect("stdin open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    }

    /// Writes `bytes` to the server as they are: framing of the test's own, right or wrong.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    /// Waits for the response whose `id` is `id` (`null` for the reply to a message the
    /// server could not read).
    pub fn response(&mut self, id: &Value) -> Value {
        loop {
            let message = self.receive();
            if message.get("method").is_none() && message["id"] == *id {
                return message;
            }
            self.keep(message);
        }
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and waits for its response (the whole message: `result` or `error`).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.receive();
            if message.get("method").is_none() && message["id"] == json!(id) {
                return message;
            }
            self.keep(message);
        }
    }

    fn receive(&mut self) -> Value {
        match self.messages.recv_timeout(TIMEOUT) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => panic!("no message from the server in {TIMEOUT:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the server closed its output"),
        }
    }

    /// Answers the server's requests (watcher registration) and keeps notifications.
    fn keep(&mut self, message: Value) {
        if message.get("method").is_some() && message.get("id").is_some() {
            let id = message["id"].clone();
            self.send(json!({ "jsonrpc": "2.0", "id": id, "result": null }));
        } else if message.get("method").is_some() {
            self.pending.push_back(message);
        }
    }

    /// Waits for the next `method` notification whose params satisfy `matches`; earlier
    /// ones that do not are dropped.
    pub fn wait_for(&mut self, method: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            while let Some(message) = self.pending.pop_front() {
                if message["method"] == method && matches(&message["params"]) {
                    return message["params"].clone();
                }
            }
            assert!(
                Instant::now() < deadline,
                "no `{method}` notification in {TIMEOUT:?}"
            );
            let message = self.receive();
            self.keep(message);
        }
    }

    /// The next diagnostics published for `uri`.
    pub fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let params = self.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == uri);
        params["diagnostics"].as_array().unwrap().clone()
    }

    pub fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "xml", "version": 1, "text": text } }),
        );
    }

    /// Ends the session as a client does; returns the exit code.
    pub fn shutdown(mut self) -> i32 {
        let response = self.request("shutdown", Value::Null);
        assert!(response.get("error").is_none(), "{response}");
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// Applies LSP text edits (UTF-16 positions, all relative to `text`) to `text`. Written
/// apart from the server's own conversion, so that the two check each other.
pub fn apply(text: &str, edits: &Value) -> String {
    let offset = |position: &Value| -> usize {
        let line = position["line"].as_u64().unwrap() as usize;
        let character = position["character"].as_u64().unwrap() as usize;
        let mut start = 0;
        for _ in 0..line {
            start += text[start..].find('\n').expect("line in range") + 1;
        }
        let mut units = 0;
        for (i, c) in text[start..].char_indices() {
            if units >= character || c == '\n' {
                return start + i;
            }
            units += c.len_utf16();
        }
        text.len()
    };
    let mut edits: Vec<(usize, usize, String)> = edits
        .as_array()
        .expect("an array of edits")
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    edits.sort();
    let mut out = String::new();
    let mut at = 0;
    for (start, end, new_text) in edits {
        assert!(start >= at, "overlapping edits");
        out.push_str(&text[at..start]);
        out.push_str(&new_text);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// The edits a code action or workspace edit makes to `uri`.
pub fn edits_for<'a>(action: &'a Value, uri: &str) -> &'a Value {
    &action["edit"]["changes"][uri]
}
