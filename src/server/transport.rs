//! The framing of messages on stdin, read here rather than by `lsp_server::Message::read`:
//! that reader fails on a body that is not JSON and on a header block without
//! `Content-Length`, and a failed read ended the session. Here neither does: a body that is
//! not JSON gets a parse error reply (-32700, `id: null`), a body that is JSON but no
//! message an invalid request reply (-32600), and a header block without a length is
//! skipped (with what follows it up to the next `Content-Length` header). Both are said
//! on the log the binary passes (its stderr).

use std::io::{self, BufRead, Read, Write};

use lsp_server::{ErrorCode, Message};
use serde_json::Value;

/// What the reader makes of one framed body.
#[derive(Debug)]
pub enum Incoming {
    /// A message for the session.
    Message(Message),
    /// A reply the reader writes itself: an error about a body that is no message, whose
    /// `id` (often `null`) `lsp_server`'s types cannot carry.
    Reply(Value),
    /// Nothing to do (a response we cannot read: no reply is due to a response).
    Nothing,
}

/// The header that gives a body's length.
const CONTENT_LENGTH: &str = "content-length:";

/// Reads the next framed body: `None` at the end of input. Header blocks without a valid
/// `Content-Length` are skipped; so are lines before a header block that are no header
/// (bytes that followed a skipped block): a `Content-Length` header after such bytes on
/// the same line starts the next block.
pub fn read_body(input: &mut dyn BufRead, log: &mut dyn Write) -> io::Result<Option<Vec<u8>>> {
    loop {
        let mut length: Option<usize> = None;
        let mut headers = 0usize;
        let mut bad_length = None;
        loop {
            let mut line = Vec::new();
            if input.read_until(b'\n', &mut line)? == 0 {
                if headers > 0 || !line.is_empty() {
                    warn(log, "the input ended inside a header block");
                }
                return Ok(None);
            }
            let line = String::from_utf8_lossy(&line);
            let mut line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if headers == 0 {
                    // A stray blank line before any header: nothing to end.
                    continue;
                }
                break;
            }
            // Bytes left over from a skipped block, then the next block's first header.
            if let Some(at) = find_ignore_ascii_case(line, CONTENT_LENGTH)
                && at > 0
            {
                warn(
                    log,
                    &format!("skipped bytes that are no header: {:?}", &line[..at]),
                );
                line = &line[at..];
            }
            headers += 1;
            let Some((name, value)) = line.split_once(':') else {
                warn(log, &format!("skipped a malformed header line: {line:?}"));
                continue;
            };
            if name.trim().eq_ignore_ascii_case("content-length") {
                match value.trim().parse::<usize>() {
                    Ok(n) => length = Some(n),
                    Err(_) => bad_length = Some(value.trim().to_owned()),
                }
            }
        }
        let Some(length) = length else {
            match bad_length {
                Some(value) => warn(
                    log,
                    &format!("skipped a header block whose Content-Length is no length: {value:?}"),
                ),
                None => warn(log, "skipped a header block without Content-Length"),
            }
            continue;
        };
        // Read through `take` rather than into a buffer of the announced size: a huge
        // length must not allocate before the bytes come.
        let mut body = Vec::new();
        input.take(length as u64).read_to_end(&mut body)?;
        if body.len() < length {
            warn(log, "the input ended inside a message body");
            return Ok(None);
        }
        return Ok(Some(body));
    }
}

/// What a body is: a message, or the error reply it gets.
pub fn decode(body: &[u8], log: &mut dyn Write) -> Incoming {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => {
            warn(
                log,
                &format!("a message body is not JSON ({e}): replied with a parse error"),
            );
            return Incoming::Reply(error_reply(
                Value::Null,
                ErrorCode::ParseError,
                &format!("Parse error: the message body is not JSON: {e}"),
            ));
        }
    };
    let id = value
        .get("id")
        .filter(|id| id.is_string() || id.is_number())
        .cloned()
        .unwrap_or(Value::Null);
    let is_response = value.get("method").is_none()
        && (value.get("result").is_some() || value.get("error").is_some());
    match serde_json::from_value::<Message>(value) {
        Ok(message) => Incoming::Message(message),
        Err(e) if is_response => {
            warn(
                log,
                &format!("ignored a response that is not readable: {e}"),
            );
            Incoming::Nothing
        }
        Err(e) => {
            warn(
                log,
                &format!(
                    "a message body is JSON but no message ({e}): replied with an invalid request error"
                ),
            );
            Incoming::Reply(error_reply(
                id,
                ErrorCode::InvalidRequest,
                &format!("Invalid request: {e}"),
            ))
        }
    }
}

fn error_reply(id: Value, code: ErrorCode, message: &str) -> Value {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": code as i32, "message": message },
    })
}

/// Writes `reply`, framed as `Message::write` frames its messages.
pub fn write_reply(out: &mut dyn Write, reply: &Value) -> io::Result<()> {
    let body = reply.to_string();
    write!(out, "Content-Length: {}\r\n\r\n{body}", body.len())?;
    out.flush()
}

/// Reads stdin's messages into `messages` and sends error replies to `replies`, until the
/// `exit` notification, the end of input or a read error (said on stderr), or until a
/// channel is closed.
pub fn read_messages(
    input: &mut dyn BufRead,
    messages: &crossbeam_channel::Sender<Message>,
    replies: &crossbeam_channel::Sender<Value>,
    log: &mut dyn Write,
) {
    loop {
        let body = match read_body(input, log) {
            Ok(Some(body)) => body,
            Ok(None) => return,
            Err(e) => {
                warn(log, &format!("reading the input failed: {e}"));
                return;
            }
        };
        match decode(&body, log) {
            Incoming::Message(message) => {
                let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                if messages.send(message).is_err() || exit {
                    return;
                }
            }
            Incoming::Reply(reply) => {
                if replies.send(reply).is_err() {
                    return;
                }
            }
            Incoming::Nothing => {}
        }
    }
}

fn find_ignore_ascii_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Stdout carries the protocol; what the client got wrong goes to `log` (stderr).
fn warn(log: &mut dyn Write, message: &str) {
    // Nowhere to say that saying it failed.
    let _ = writeln!(log, "apimfix server: {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bodies(input: &str) -> Vec<String> {
        let mut input = input.as_bytes();
        let mut out = Vec::new();
        while let Some(body) = read_body(&mut input, &mut io::sink()).unwrap() {
            out.push(String::from_utf8(body).unwrap());
        }
        out
    }

    #[test]
    fn frames_are_read_whatever_comes_between_them() {
        assert_eq!(
            bodies("Content-Length: 2\r\n\r\n{}content-length:3\r\nContent-Type: x\r\n\r\n[1]"),
            ["{}", "[1]"]
        );
        // A block without a length is skipped, with the bytes after it, and said.
        assert_eq!(
            bodies("Content-Type: foo\r\n\r\n{}Content-Length: 2\r\n\r\nab"),
            ["ab"]
        );
        let mut log = Vec::new();
        let mut input = "Content-Type: foo\r\n\r\n".as_bytes();
        assert!(read_body(&mut input, &mut log).unwrap().is_none());
        let log = String::from_utf8(log).unwrap();
        assert!(log.contains("without Content-Length"), "{log}");
        assert_eq!(
            bodies("Content-Length: x\r\n\r\n{\n\"a\": 1\n}Content-Length: 1\r\n\r\nb"),
            ["b"]
        );
        // Cut short: nothing more.
        assert!(bodies("Content-Length: 10\r\n\r\nabc").is_empty());
        assert!(bodies("Content-Length: 10\r\n").is_empty());
    }

    #[test]
    fn bodies_that_are_no_message_get_error_replies() {
        let Incoming::Reply(reply) = decode(b"{not json", &mut io::sink()) else {
            panic!("a parse error reply")
        };
        assert_eq!(reply["id"], Value::Null);
        assert_eq!(reply["error"]["code"], -32700);
        let Incoming::Reply(reply) = decode(br#"{"jsonrpc":"2.0","id":7}"#, &mut io::sink()) else {
            panic!("an invalid request reply")
        };
        assert_eq!(reply["id"], 7);
        assert_eq!(reply["error"]["code"], -32600);
        assert!(matches!(
            decode(
                br#"{"jsonrpc":"2.0","id":null,"error":{"code":1,"message":"m"}}"#,
                &mut io::sink()
            ),
            Incoming::Nothing
        ));
        assert!(matches!(
            decode(br#"{"jsonrpc":"2.0","method":"exit"}"#, &mut io::sink()),
            Incoming::Message(Message::Notification(_))
        ));
    }
}
