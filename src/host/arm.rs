//! ARM JSON deployment templates: the APIM policy resources they declare, the policies they
//! hold as JSON strings, and the resources that tie products, APIs, operations and fragments
//! together.
//!
//! A `.json` file is read only when it is a template: a `$schema` naming
//! `deploymentTemplate`, or a `resources` array (an object in `languageVersion` 2.0); any
//! other JSON gives an empty scan. The reader is a small lossless JSON scanner of its own:
//! it keeps the byte range of every string, which `serde_json` does not, so that a policy's
//! diagnostics and edits map back into the template. It accepts `//` and `/* */` comments
//! and trailing commas, as the ARM engine does.
//!
//! Resources are found at the top level, in nested `resources` arrays (type and name
//! relative to the parent) and in the inline `template` of nested deployments. A policy's
//! `properties.value` (or the older `policyContent`) that is a literal JSON string is an
//! [`InlinePolicy`]; an ARM expression (`"[concat(...)]"`) is a note, since its value is
//! only known at deployment; a `-link` format is a note too (the policy lives at a URL).
//! Resource names are read from literal strings and from the parts of `concat`, `format`,
//! `parameters` (their literal default) and `variables` the reader can evaluate; the rest is
//! kept as written.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

pub use super::bicep::Decoded;
use super::bicep::{apim_segments, declared_of, placement_of};
use super::{Break, HostError, HostNote, HostScan, InlinePolicy, Literal, Placement};

/// Decodes the JSON string whose content (inside the quotes) is `host[content]`.
pub fn decode(literal: Literal, host: &str, content: Range<usize>) -> Result<Decoded, String> {
    if literal != Literal::JsonString {
        return Err(format!("{literal:?} is not a JSON string"));
    }
    // Nothing past the content is read: an escape cut by its end does not decode.
    let host = &host[..content.end];
    let b = host.as_bytes();
    let mut text = String::with_capacity(content.len());
    let mut breaks = vec![Break {
        text: 0,
        host: content.start,
    }];
    let push_break = |breaks: &mut Vec<Break>, text: usize, host: usize| match breaks.last_mut() {
        Some(last) if last.text == text => last.host = host,
        _ => breaks.push(Break { text, host }),
    };
    let hex4 = |at: usize| -> Option<u32> {
        let digits = host.get(at..at + 4)?;
        u32::from_str_radix(digits, 16)
            .ok()
            .filter(|_| digits.bytes().all(|c| c.is_ascii_hexdigit()))
    };
    let mut i = content.start;
    let mut run = i;
    while i < content.end {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        text.push_str(&host[run..i]);
        let (c, len) = match b.get(i + 1) {
            Some(b'"') => ('"', 2),
            Some(b'\\') => ('\\', 2),
            Some(b'/') => ('/', 2),
            Some(b'b') => ('\u{8}', 2),
            Some(b'f') => ('\u{c}', 2),
            Some(b'n') => ('\n', 2),
            Some(b'r') => ('\r', 2),
            Some(b't') => ('\t', 2),
            Some(b'u') => {
                let high = hex4(i + 2).ok_or_else(|| format!("invalid `\\u` escape at {i}"))?;
                if (0xD800..0xDC00).contains(&high) {
                    let low = (host.get(i + 6..i + 8) == Some("\\u"))
                        .then(|| hex4(i + 8))
                        .flatten()
                        .filter(|low| (0xDC00..0xE000).contains(low))
                        .ok_or_else(|| format!("lone surrogate at {i}"))?;
                    let c = char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
                        .ok_or_else(|| format!("invalid surrogate pair at {i}"))?;
                    (c, 12)
                } else {
                    let c = char::from_u32(high).ok_or_else(|| format!("lone surrogate at {i}"))?;
                    (c, 6)
                }
            }
            _ => return Err(format!("unknown escape at {i}")),
        };
        push_break(&mut breaks, text.len(), i);
        text.push(c);
        i += len;
        push_break(&mut breaks, text.len(), i);
        run = i;
    }
    text.push_str(&host[run..content.end]);
    Ok(Decoded {
        text,
        breaks,
        opaque: Vec::new(),
    })
}

/// The host text for `replacement` inside a JSON string, char by char: `"`, `\` and control
/// characters escaped (`\n`, `\r`, `\t`, `\b`, `\f`, else `\u00XX`), everything else as is.
/// A replacement that puts `[` first in a string whose value would then end in `]` turns it
/// into an ARM expression; that one position is the caller's to avoid.
pub fn encode(literal: Literal, replacement: &str) -> Result<String, String> {
    if literal != Literal::JsonString {
        return Err(format!("{literal:?} is not a JSON string"));
    }
    let mut out = String::with_capacity(replacement.len() + 8);
    for c in replacement.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// A lossless JSON reader

#[derive(Clone, Debug)]
enum Json {
    Object(Vec<(String, Json)>, Range<usize>),
    Array(Vec<Json>, Range<usize>),
    /// `content`: the bytes inside the quotes.
    Str {
        content: Range<usize>,
        span: Range<usize>,
    },
    Other(Range<usize>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members, _) => members
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    fn span(&self) -> Range<usize> {
        match self {
            Json::Object(_, s) | Json::Array(_, s) | Json::Other(s) => s.clone(),
            Json::Str { span, .. } => span.clone(),
        }
    }
}

struct Reader<'a> {
    src: &'a str,
    at: usize,
}

fn err(at: usize, message: impl Into<String>) -> HostError {
    HostError {
        at,
        message: message.into(),
    }
}

impl Reader<'_> {
    fn skip_space(&mut self) -> Result<(), HostError> {
        let b = self.src.as_bytes();
        loop {
            match b.get(self.at) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.at += 1,
                Some(b'/') if b.get(self.at + 1) == Some(&b'/') => {
                    self.at = self.src[self.at..]
                        .find('\n')
                        .map_or(self.src.len(), |n| self.at + n);
                }
                Some(b'/') if b.get(self.at + 1) == Some(&b'*') => {
                    let close = self.src[self.at + 2..]
                        .find("*/")
                        .ok_or_else(|| err(self.at, "unterminated comment"))?;
                    self.at += 2 + close + 2;
                }
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, HostError> {
        if depth > 256 {
            return Err(err(self.at, "nested too deeply"));
        }
        self.skip_space()?;
        let b = self.src.as_bytes();
        let start = self.at;
        match b.get(self.at) {
            Some(b'{') => {
                self.at += 1;
                let mut members = Vec::new();
                loop {
                    self.skip_space()?;
                    match b.get(self.at) {
                        Some(b'}') => {
                            self.at += 1;
                            return Ok(Json::Object(members, start..self.at));
                        }
                        Some(b',') => self.at += 1,
                        Some(b'"') => {
                            let Json::Str { content, .. } = self.string()? else {
                                unreachable!("string() reads a string");
                            };
                            let key = decode(Literal::JsonString, self.src, content)
                                .map_err(|m| err(self.at, m))?
                                .text;
                            self.skip_space()?;
                            if b.get(self.at) != Some(&b':') {
                                return Err(err(self.at, "expected `:`"));
                            }
                            self.at += 1;
                            let value = self.value(depth + 1)?;
                            members.push((key, value));
                        }
                        _ => return Err(err(self.at, "expected a key or `}`")),
                    }
                }
            }
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_space()?;
                    match b.get(self.at) {
                        Some(b']') => {
                            self.at += 1;
                            return Ok(Json::Array(items, start..self.at));
                        }
                        Some(b',') => self.at += 1,
                        _ => items.push(self.value(depth + 1)?),
                    }
                }
            }
            Some(b'"') => self.string(),
            Some(c) if c.is_ascii_alphanumeric() || *c == b'-' || *c == b'+' => {
                while b
                    .get(self.at)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c))
                {
                    self.at += 1;
                }
                Ok(Json::Other(start..self.at))
            }
            _ => Err(err(self.at, "expected a JSON value")),
        }
    }

    fn string(&mut self) -> Result<Json, HostError> {
        let b = self.src.as_bytes();
        let start = self.at;
        self.at += 1;
        loop {
            match b.get(self.at) {
                None => return Err(err(start, "unterminated string")),
                Some(b'\\') => self.at += 2,
                Some(b'"') => {
                    self.at += 1;
                    return Ok(Json::Str {
                        content: start + 1..self.at - 1,
                        span: start..self.at,
                    });
                }
                _ => self.at += 1,
            }
        }
    }
}

fn parse(src: &str) -> Result<Json, HostError> {
    let mut reader = Reader {
        src,
        at: if src.starts_with('\u{feff}') { 3 } else { 0 },
    };
    let value = reader.value(0)?;
    reader.skip_space()?;
    if reader.at < src.len() {
        return Err(err(reader.at, "text after the JSON value"));
    }
    Ok(value)
}

// ---------------------------------------------------------------------------------------
// ARM expressions, as far as names go

/// A piece of an evaluated string: known text, or an expression kept as written.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Lit(String),
    Expr(String),
}

#[derive(Clone, Debug)]
enum Ex {
    Str(String),
    Call(String, Vec<Ex>),
    /// Anything else (members, indexes, numbers), as written.
    Other(String),
}

struct ExParser<'a> {
    s: &'a str,
    at: usize,
}

impl ExParser<'_> {
    fn space(&mut self) {
        while self.s[self.at..].starts_with(char::is_whitespace) {
            self.at += self.s[self.at..].chars().next().map_or(1, char::len_utf8);
        }
    }

    fn expr(&mut self, depth: usize) -> Option<Ex> {
        if depth > 64 {
            return None;
        }
        self.space();
        let start = self.at;
        let b = self.s.as_bytes();
        let mut e = match b.get(self.at)? {
            b'\'' => {
                self.at += 1;
                let mut out = String::new();
                loop {
                    let rest = &self.s[self.at..];
                    let q = rest.find('\'')?;
                    out.push_str(&rest[..q]);
                    self.at += q + 1;
                    if self.s[self.at..].starts_with('\'') {
                        out.push('\'');
                        self.at += 1;
                    } else {
                        break Ex::Str(out);
                    }
                }
            }
            c if c.is_ascii_alphabetic() || *c == b'_' => {
                while b
                    .get(self.at)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.')
                {
                    self.at += 1;
                }
                let name = self.s[start..self.at].to_owned();
                self.space();
                if b.get(self.at) == Some(&b'(') {
                    self.at += 1;
                    let mut args = Vec::new();
                    loop {
                        self.space();
                        match b.get(self.at)? {
                            b')' => {
                                self.at += 1;
                                break;
                            }
                            b',' => self.at += 1,
                            _ => args.push(self.expr(depth + 1)?),
                        }
                    }
                    Ex::Call(name.to_ascii_lowercase(), args)
                } else {
                    Ex::Other(name)
                }
            }
            c if c.is_ascii_digit() || *c == b'-' => {
                self.at += 1;
                while b.get(self.at).is_some_and(u8::is_ascii_digit) {
                    self.at += 1;
                }
                Ex::Other(self.s[start..self.at].to_owned())
            }
            _ => return None,
        };
        // Member access and indexes: the value is no longer a name we can tell.
        loop {
            self.space();
            match b.get(self.at) {
                Some(b'.') => {
                    self.at += 1;
                    while b
                        .get(self.at)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    {
                        self.at += 1;
                    }
                }
                Some(b'[') => {
                    self.at += 1;
                    self.expr(depth + 1)?;
                    self.space();
                    if b.get(self.at) != Some(&b']') {
                        return None;
                    }
                    self.at += 1;
                }
                _ => break,
            }
            e = Ex::Other(self.s[start..self.at].trim().to_owned());
        }
        Some(e)
    }
}

/// The expression of an ARM string (`[...]`), or `None` for a literal.
fn expression(text: &str) -> Option<&str> {
    (text.starts_with('[') && !text.starts_with("[[") && text.ends_with(']'))
        .then(|| &text[1..text.len() - 1])
}

/// A literal string's value: `[[...]` unescaped.
fn literal(text: &str) -> &str {
    if text.starts_with("[[") && text.ends_with(']') {
        &text[1..]
    } else {
        text
    }
}

// ---------------------------------------------------------------------------------------
// Scan

/// The parameters and variables of one template, for names.
struct Template<'a> {
    src: &'a str,
    parameters: HashMap<String, &'a Json>,
    variables: HashMap<String, &'a Json>,
}

impl<'a> Template<'a> {
    fn new(src: &'a str, root: &'a Json) -> Template<'a> {
        let members = |key: &str| -> HashMap<String, &'a Json> {
            match root.get(key) {
                Some(Json::Object(members, _)) => members
                    .iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v))
                    .collect(),
                _ => HashMap::new(),
            }
        };
        Template {
            src,
            parameters: members("parameters"),
            variables: members("variables"),
        }
    }

    fn text(&self, value: &Json) -> Option<String> {
        match value {
            Json::Str { content, .. } => decode(Literal::JsonString, self.src, content.clone())
                .ok()
                .map(|d| d.text),
            _ => None,
        }
    }

    /// A JSON string value as parts: a literal, or an evaluated expression.
    fn parts(&self, value: &Json, depth: usize) -> Vec<Part> {
        let Some(text) = self.text(value) else {
            return vec![Part::Expr(self.src[value.span()].to_owned())];
        };
        match expression(&text) {
            None => vec![Part::Lit(literal(&text).to_owned())],
            Some(inner) => {
                let mut p = ExParser { s: inner, at: 0 };
                match p.expr(0) {
                    Some(e) if p.s[p.at..].trim().is_empty() => self.eval(&e, depth),
                    _ => vec![Part::Expr(inner.trim().to_owned())],
                }
            }
        }
    }

    fn eval(&self, e: &Ex, depth: usize) -> Vec<Part> {
        let written = |e: &Ex| Part::Expr(write(e));
        if depth > 16 {
            return vec![written(e)];
        }
        match e {
            Ex::Str(s) => vec![Part::Lit(s.clone())],
            Ex::Call(name, args) if name == "concat" => {
                args.iter().flat_map(|a| self.eval(a, depth + 1)).collect()
            }
            Ex::Call(name, args) if name == "format" => {
                let Some(Ex::Str(pattern)) = args.first() else {
                    return vec![written(e)];
                };
                let mut out = Vec::new();
                let mut rest = pattern.as_str();
                while let Some(open) = rest.find('{') {
                    out.push(Part::Lit(rest[..open].to_owned()));
                    let Some(close) = rest[open..].find('}') else {
                        return vec![written(e)];
                    };
                    let index: Option<usize> = rest[open + 1..open + close].trim().parse().ok();
                    match index.and_then(|i| args.get(i + 1)) {
                        Some(arg) => out.extend(self.eval(arg, depth + 1)),
                        None => return vec![written(e)],
                    }
                    rest = &rest[open + close + 1..];
                }
                out.push(Part::Lit(rest.to_owned()));
                out
            }
            Ex::Call(name, args) if name == "parameters" || name == "variables" => {
                let (Some(Ex::Str(key)), 1) = (args.first(), args.len()) else {
                    return vec![written(e)];
                };
                let key = key.to_ascii_lowercase();
                let value = if name == "parameters" {
                    self.parameters
                        .get(&key)
                        .and_then(|p| p.get("defaultValue"))
                } else {
                    self.variables.get(&key).copied()
                };
                match value {
                    Some(v @ Json::Str { .. }) => {
                        let parts = self.parts(v, depth + 1);
                        if parts.iter().all(|p| matches!(p, Part::Lit(_))) {
                            parts
                        } else {
                            vec![written(e)]
                        }
                    }
                    _ => vec![written(e)],
                }
            }
            _ => vec![written(e)],
        }
    }

    /// A resource name's segments, split on the `/` of its literal parts.
    fn name_segments(&self, name: Option<&Json>) -> Vec<String> {
        let Some(name) = name else {
            return vec![String::new()];
        };
        let mut segments = vec![String::new()];
        for part in self.parts(name, 0) {
            match part {
                Part::Lit(s) => {
                    let mut pieces = s.split('/');
                    if let Some(first) = pieces.next() {
                        segments.last_mut().expect("non-empty").push_str(first);
                    }
                    segments.extend(pieces.map(str::to_owned));
                }
                Part::Expr(s) => segments.last_mut().expect("non-empty").push_str(&s),
            }
        }
        segments
    }
}

fn write(e: &Ex) -> String {
    match e {
        Ex::Str(s) => format!("'{}'", s.replace('\'', "''")),
        Ex::Call(name, args) => format!(
            "{name}({})",
            args.iter().map(write).collect::<Vec<_>>().join(", ")
        ),
        Ex::Other(s) => s.clone(),
    }
}

/// A `resources` array (an object in `languageVersion` 2.0) at the top.
fn has_resources(root: &Json) -> bool {
    matches!(
        root.get("resources"),
        Some(Json::Array(..) | Json::Object(..))
    )
}

/// Reads the ARM template `path` holding `source`. JSON that is no deployment template gives
/// an empty scan; `load` is not used (linked templates are URLs).
pub fn scan(
    _path: &Path,
    source: &str,
    _load: &dyn Fn(&Path) -> Option<String>,
) -> Result<HostScan, HostError> {
    let root = match parse(source) {
        Ok(root) => root,
        Err(e) if source.contains("deploymentTemplate") => return Err(e),
        Err(_) => return Ok(HostScan::default()),
    };
    let mut out = HostScan::default();
    let schema_is_template = match root.get("$schema") {
        Some(Json::Str { content, .. }) => source[content.clone()]
            .to_ascii_lowercase()
            .contains("deploymenttemplate"),
        _ => false,
    };
    if !schema_is_template && !has_resources(&root) {
        return Ok(out);
    }
    template(source, &root, &mut out, 0);
    Ok(out)
}

fn template(src: &str, root: &Json, out: &mut HostScan, depth: usize) {
    let t = Template::new(src, root);
    let Some(resources) = root.get("resources") else {
        return;
    };
    for resource in items(resources) {
        self::resource(&t, resource, None, out, depth);
    }
}

/// The resources of a `resources` array, or of a `languageVersion` 2.0 object.
fn items(resources: &Json) -> Vec<&Json> {
    match resources {
        Json::Array(items, _) => items.iter().collect(),
        Json::Object(members, _) => members.iter().map(|(_, v)| v).collect(),
        _ => Vec::new(),
    }
}

/// A resource's type and names, from the service down.
struct Parent {
    ty: String,
    names: Vec<String>,
}

fn resource(t: &Template, res: &Json, parent: Option<&Parent>, out: &mut HostScan, depth: usize) {
    if depth > 16 {
        return;
    }
    let Some(ty) = res.get("type").and_then(|v| t.text(v)) else {
        return;
    };
    let own = t.name_segments(res.get("name"));
    let (ty, names) = match parent {
        Some(p) if !ty.contains('.') => {
            let mut names = p.names.clone();
            names.extend(own);
            (format!("{}/{ty}", p.ty), names)
        }
        _ => (ty, own),
    };
    // Nested deployments carry a template of their own.
    if ty.eq_ignore_ascii_case("Microsoft.Resources/deployments") {
        if let Some(inner) = res.get("properties").and_then(|p| p.get("template")) {
            template(t.src, inner, out, depth + 1);
        }
        return;
    }
    if let Some(segs) = apim_segments(&ty) {
        if let Some(d) = declared_of(&segs, &names) {
            if !out.declared.contains(&d) {
                out.declared.push(d);
            }
        }
        let label = res
            .get("name")
            .and_then(|n| t.text(n))
            .unwrap_or_else(|| ty.clone());
        if let Some(placement) = placement_of(&segs, &names, label) {
            policy(t, res, placement, out);
        }
    }
    if let Some(children) = res.get("resources") {
        let me = Parent { ty, names };
        for child in items(children) {
            resource(t, child, Some(&me), out, depth + 1);
        }
    }
}

fn policy(t: &Template, res: &Json, placement: Placement, out: &mut HostScan) {
    let Some(props) = res.get("properties") else {
        return;
    };
    let Some(value) = props.get("value").or_else(|| props.get("policyContent")) else {
        return;
    };
    let format = props
        .get("format")
        .or_else(|| props.get("contentFormat"))
        .map(|f| t.parts(f, 0))
        .and_then(|parts| match parts.as_slice() {
            [Part::Lit(s)] => Some(s.clone()),
            _ => None,
        });
    let Json::Str { content, span } = value else {
        return;
    };
    let site = span.clone();
    if let Some(fmt) = format.as_deref().filter(|f| f.ends_with("-link")) {
        let tail = match t.parts(value, 0).last() {
            Some(Part::Lit(s)) => format!(" (a URL ending in `{s}`)"),
            _ => String::new(),
        };
        out.notes.push(HostNote {
            site,
            message: format!("policy linked by URL{tail}, format `{fmt}`: not read"),
        });
        return;
    }
    let mut decoded = match decode(Literal::JsonString, t.src, content.clone()) {
        Ok(d) => d,
        Err(message) => {
            out.notes.push(HostNote {
                site,
                message: format!("policy string cannot be decoded: {message}"),
            });
            return;
        }
    };
    if expression(&decoded.text).is_some() {
        out.notes.push(HostNote {
            site,
            message: "policy value is an ARM expression, not analysable".to_owned(),
        });
        return;
    }
    unescape_brackets(&mut decoded, t.src, content);
    if !decoded
        .text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('<')
    {
        return;
    }
    out.policies.push(InlinePolicy {
        placement,
        literal: Literal::JsonString,
        content: content.clone(),
        text: decoded.text,
        breaks: decoded.breaks,
        opaque: decoded.opaque,
        format,
    });
}

/// A literal string written `[[...]`: the `[[` is one `[`, an escape of its own.
fn unescape_brackets(decoded: &mut Decoded, host: &str, content: &Range<usize>) {
    if !(expression(&decoded.text).is_none()
        && decoded.text.starts_with("[[")
        && decoded.text.ends_with(']')
        && host[content.clone()].starts_with("[["))
    {
        return;
    }
    decoded.text.remove(0);
    let mut breaks = vec![
        Break {
            text: 0,
            host: content.start,
        },
        Break {
            text: 1,
            host: content.start + 2,
        },
    ];
    breaks.extend(
        decoded
            .breaks
            .iter()
            .filter(|b| b.text >= 3)
            .map(|b| Break {
                text: b.text - 1,
                host: b.host,
            }),
    );
    decoded.breaks = breaks;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Scope;
    use proptest::prelude::*;

    use super::super::Declared;

    fn no_files(_: &Path) -> Option<String> {
        None
    }

    fn scan_str(src: &str) -> HostScan {
        scan(Path::new("t.json"), src, &no_files).unwrap()
    }

    fn policy_of(d: Decoded, content: Range<usize>) -> InlinePolicy {
        InlinePolicy {
            placement: Placement::unknown("t"),
            literal: Literal::JsonString,
            content,
            text: d.text,
            breaks: d.breaks,
            opaque: d.opaque,
            format: None,
        }
    }

    fn assert_maps_back(host: &str, p: &InlinePolicy) {
        for (at, c) in p.text.char_indices() {
            let from = p.host_offset(at);
            let to = p.host_offset(at + c.len_utf8());
            assert!(p.content.start <= from && to <= p.content.end);
            let mut buf = [0; 4];
            assert_eq!(
                encode(Literal::JsonString, c.encode_utf8(&mut buf)).unwrap(),
                &host[from..to],
                "char {c:?} at {at} of {host:?}"
            );
        }
    }

    #[test]
    fn json_escapes_decode_with_a_break_on_each_side() {
        let host = r#""a\"b\r\n\u00e9\ud83d\ude00\/c""#;
        let d = decode(Literal::JsonString, host, 1..host.len() - 1).unwrap();
        assert_eq!(d.text, "a\"b\r\né😀/c");
        assert_eq!(d.breaks[0], Break { text: 0, host: 1 });
        assert!(d.breaks.contains(&Break { text: 1, host: 2 }));
        assert!(d.breaks.contains(&Break { text: 2, host: 4 }));
        let p = policy_of(d, 1..host.len() - 1);
        let smile = p.text.find('😀').unwrap();
        assert_eq!(
            &host[p.host_offset(smile)..p.host_offset(smile + 4)],
            r"\ud83d\ude00"
        );
        assert!(decode(Literal::JsonString, r#""\ud83d""#, 1..7).is_err());
        assert!(decode(Literal::JsonString, r#""\x""#, 1..3).is_err());
    }

    #[test]
    fn encode_writes_json_escapes() {
        assert_eq!(
            encode(Literal::JsonString, "<a b=\"c\\d\">\r\n\t\u{1}/</a>").unwrap(),
            r#"<a b=\"c\\d\">\r\n\t\u0001/</a>"#
        );
        assert!(encode(Literal::BicepQuoted, "x").is_err());
    }

    #[test]
    fn json_that_is_no_template_gives_an_empty_scan() {
        let info = r#"{ "properties": { "type": "Microsoft.ApiManagement/service/apis/policies", "value": "<policies/>" } }"#;
        let found = scan_str(info);
        assert!(found.policies.is_empty() && found.notes.is_empty());
        // Not JSON at all, and not a template: nothing, no error.
        assert!(scan_str("{ not json").policies.is_empty());
        let broken = r#"{ "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "resources": [ "#;
        assert!(scan(Path::new("t.json"), broken, &no_files).is_err());
    }

    const TEMPLATE: &str = r#"{
  // comments and trailing commas are accepted, as ARM does
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "parameters": {
    "apimServiceName": { "type": "string" },
    "apiName": { "type": "string", "defaultValue": "orders" },
  },
  "variables": { "product": "starter" },
  "resources": [
    {
      "type": "Microsoft.ApiManagement/service/apis/policies",
      "name": "[concat(parameters('apimServiceName'), '/', parameters('apiName'), '/policy')]",
      "properties": { "value": "<policies>\r\n  <inbound><base /></inbound>\r\n</policies>", "format": "xml" }
    },
    {
      "type": "Microsoft.ApiManagement/service/products/policies",
      "name": "[format('{0}/{1}/policy', parameters('apimServiceName'), variables('product'))]",
      "properties": { "policyContent": "[concat('<policies>', '</policies>')]" }
    },
    {
      "type": "Microsoft.ApiManagement/service/products/policies",
      "name": "apim/unlimited/policy",
      "properties": { "policyContent": "[concat(parameters('repoBaseUrl'), '/products/unlimited.policy.xml')]", "contentFormat": "rawxml-link" }
    },
    {
      "type": "Microsoft.ApiManagement/service/products/apis",
      "name": "[concat(parameters('apimServiceName'), '/starter/orders')]"
    },
    {
      "type": "Microsoft.ApiManagement/service/apis",
      "name": "apim/billing",
      "resources": [
        {
          "type": "operations",
          "name": "pay",
          "resources": [
            { "type": "policies", "name": "policy", "properties": { "value": "<policies>\u003cinbound /></policies>" } }
          ]
        }
      ]
    },
    {
      "type": "Microsoft.Resources/deployments",
      "name": "inner",
      "properties": { "template": { "resources": [
        { "type": "Microsoft.ApiManagement/service/policyFragments", "name": "apim/limits",
          "properties": { "value": "<fragment />", "format": "rawxml" } }
      ] } }
    },
  ],
}"#;

    #[test]
    fn templates_place_inline_policies_and_note_what_they_cannot_read() {
        let scan = scan_str(TEMPLATE);
        let api = &scan.policies[0];
        assert_eq!(api.placement.scope, Scope::Api);
        assert_eq!(api.placement.api.as_deref(), Some("orders"));
        assert_eq!(api.format.as_deref(), Some("xml"));
        assert_eq!(
            api.text,
            "<policies>\r\n  <inbound><base /></inbound>\r\n</policies>"
        );
        assert_maps_back(TEMPLATE, api);
        let op = &scan.policies[1];
        assert_eq!(op.placement.scope, Scope::Operation);
        assert_eq!(op.placement.api.as_deref(), Some("billing"));
        assert_eq!(op.placement.operation.as_deref(), Some("pay"));
        assert_eq!(op.text, "<policies><inbound /></policies>");
        let fragment = &scan.policies[2];
        assert_eq!(fragment.placement.scope, Scope::Fragment);
        assert_eq!(fragment.placement.fragment.as_deref(), Some("limits"));
        assert_eq!(fragment.format.as_deref(), Some("rawxml"));
        assert_eq!(scan.policies.len(), 3);

        assert_eq!(scan.notes.len(), 2);
        assert!(scan.notes[0].message.contains("ARM expression"));
        assert!(TEMPLATE[scan.notes[0].site.clone()].starts_with("\"[concat('<policies>'"));
        assert!(
            scan.notes[1]
                .message
                .contains("/products/unlimited.policy.xml")
        );
        assert!(scan.notes[1].message.contains("rawxml-link"));

        assert!(scan.declared.contains(&Declared::ProductApi {
            workspace: None,
            product: "starter".into(),
            api: "orders".into()
        }));
        assert!(scan.declared.contains(&Declared::Operation {
            workspace: None,
            api: "billing".into(),
            operation: "pay".into()
        }));
        assert!(scan.declared.contains(&Declared::Fragment {
            workspace: None,
            fragment: "limits".into()
        }));
    }

    #[test]
    fn double_brackets_write_one_bracket_mapped_onto_both() {
        let host = r#""[[x\ny]""#;
        let content = 1..host.len() - 1;
        let mut d = decode(Literal::JsonString, host, content.clone()).unwrap();
        unescape_brackets(&mut d, host, &content);
        assert_eq!(d.text, "[x\ny]");
        let p = policy_of(d, content);
        assert_eq!(&host[p.host_offset(0)..p.host_offset(1)], "[[");
        assert_eq!(&host[p.host_offset(1)..p.host_offset(2)], "x");
        assert_eq!(&host[p.host_offset(2)..p.host_offset(3)], "\\n");
        assert_eq!(&host[p.host_offset(3)..p.host_offset(5)], "y]");
        // An expression, or `[[` without the closing `]`, is left alone.
        let host = r#""[[x""#;
        let mut d = decode(Literal::JsonString, host, 1..4).unwrap();
        unescape_brackets(&mut d, host, &(1..4));
        assert_eq!(d.text, "[[x");
    }

    #[test]
    fn names_the_reader_cannot_evaluate_are_kept_as_written() {
        let t = r#"{ "resources": {
          "p": { "type": "Microsoft.ApiManagement/service/apis/policies",
                 "name": "[format('{0}/{1}/policy', parameters('apim'), variables('api').name)]",
                 "properties": { "value": "<policies />" } } } }"#;
        let scan = scan_str(t);
        assert_eq!(
            scan.policies[0].placement.api.as_deref(),
            Some("variables('api').name")
        );
    }

    proptest! {
        #[test]
        fn scanning_any_text_never_panics(s in "[ a-z{}\\[\\]\"':,/*\\\\\n0-9\u{e9}]{0,80}") {
            let src = format!("{{\"resources\": [{{\"type\": \"Microsoft.ApiManagement/service/apis/policies\", \"name\": \"{s}\", \"properties\": {{\"value\": \"{s}\"}}}}, {s}]}}");
            let _ = scan(Path::new("a.json"), &src, &no_files);
            let _ = scan(Path::new("a.json"), &s, &no_files);
            let _ = decode(Literal::JsonString, &s, 0..s.len());
        }

        #[test]
        fn json_encode_then_decode_gives_the_text_back(s in "\\PC*|[\"\\\\/\\n\\r\\t\\x01\\x7f a-z]*") {
            let host = format!("\"{}\"", encode(Literal::JsonString, &s).unwrap());
            let d = decode(Literal::JsonString, &host, 1..host.len() - 1).unwrap();
            prop_assert_eq!(&d.text, &s);
            // serde_json reads the same string.
            prop_assert_eq!(serde_json::from_str::<String>(&host).unwrap(), s);
            let p = policy_of(d, 1..host.len() - 1);
            assert_maps_back(&host, &p);
        }
    }
}
