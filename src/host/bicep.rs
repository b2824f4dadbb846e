//! Bicep hosts (`*.bicep`): the APIM policy resources a Bicep file declares, the policies
//! it writes inline and the policy files it loads with `loadTextContent(...)`.
//!
//! There is no maintained Rust parser for Bicep (the language's only full implementation is
//! the C# compiler, `Bicep.Core`), so this module has its own lexer and a tolerant parser of
//! the part of the language that places a policy: `param`, `var`, `resource` (nested, with
//! `parent:`, `existing`, `if (...)` and `[for ...]` bodies) and `module` declarations, and
//! expressions as far as strings, `loadTextContent`, `replace`, `?:`, symbols and `.name`
//! go. Everything else (types, functions, imports, operators) is skipped by its brackets
//! and kept only as the text it spans.
//!
//! A policy resource's `properties.value` is followed through `var`s, `param`s (their
//! defaults, and the arguments a caller passes when the file is used as a module),
//! `replace(...)` chains and both branches of `cond ? a : b`. A `module` whose file is local
//! is read with the `load` callback, so a `loadTextContent('policy.xml')` passed as a module
//! argument is placed by the resource inside the module that receives it. Each policy is
//! reported by the file that writes it: a reference or an inline literal that sits in a
//! module's own file is left to that file's scan.
//!
//! What a scan reports, for the engine:
//! - [`PolicyReference::path`] is resolved against the folder of the file that writes the
//!   `loadTextContent` (as Bicep does), lexically normalised; [`PolicyReference::site`] is
//!   the call in the scanned file, also when a module's resource places it. Such a
//!   reference's [`Placement::resource`] is `moduleSymbol.resourceSymbol` (nested modules
//!   chain: `a.b.res`), and its names are those the caller's arguments give.
//! - [`PolicyReference::replaced`] lists the `replace()` tokens in the order they apply (the
//!   innermost first, a module's after its caller's). In an inline policy the tokens'
//!   occurrences are [`InlinePolicy::opaque`], as are `${...}` interpolations.
//! - An inline literal is reported once, with the first resource that receives it; another
//!   resource receiving it too is a note. Only strings whose text starts with `<` are
//!   policies (an empty `param policyXml string = ''` is not).
//! - A `'''` literal's [`InlinePolicy::content`] starts after the line break Bicep drops.
//! - Names the file does not tell (a `param` without default, a loop variable) are kept as
//!   written (`apiName`, `${productName}`).
//! - Notes: a `-link` format; a policy value that is neither a string nor a load (a loop
//!   item's `api.policyXml`); a local module that cannot be read while a `.xml` load or an
//!   XML string is passed to it; a literal placed twice; a string that does not decode.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::{
    Break, Declared, HostError, HostNote, HostScan, InlinePolicy, Literal, ModulePlacement,
    Placement, PolicyReference,
};
use crate::layout::Scope;
use crate::paths::normalize;

/// A literal's content decoded: the text, the map back to host offsets and the ranges of
/// the text no edit may touch. See [`InlinePolicy`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub breaks: Vec<Break>,
    pub opaque: Vec<Range<usize>>,
}

/// Decodes the Bicep literal whose content is `host[content]`: `'...'` escapes, `${...}`
/// interpolations kept as written and opaque; a `'''...'''` string verbatim (a `$'''`
/// string's `${...}` opaque).
pub fn decode(literal: Literal, host: &str, content: Range<usize>) -> Result<Decoded, String> {
    match literal {
        Literal::BicepQuoted => decode_quoted(host, content),
        Literal::BicepMultiline => {
            let dollars = multiline_dollars(host, content.start);
            Ok(decode_multiline(host, content, dollars))
        }
        other => Err(format!("{other:?} is not a Bicep literal")),
    }
}

/// The host text for `replacement` inside a Bicep literal of kind `literal`. Char by char:
/// the encoding of a text is the encodings of its characters, so an edit can be encoded on
/// its own. In `'...'`, `$` is always written `\$` (so that no `${` can form with the text
/// around it). In `'''...'''` nothing is escaped, and a text holding `'''` (or `${`, which a
/// `$'''` string would read as interpolation) is refused. An edit that ends in `'` right
/// before the closing `'''`, or starts a `'''` string's content with a newline, changes what
/// the literal reads; re-decode after writing.
pub fn encode(literal: Literal, replacement: &str) -> Result<String, String> {
    match literal {
        Literal::BicepMultiline => {
            if replacement.contains("'''") {
                Err("a Bicep multi-line string cannot hold `'''`".to_owned())
            } else if replacement.contains("${") {
                Err("`${` in a Bicep multi-line string would be read as interpolation".to_owned())
            } else {
                Ok(replacement.to_owned())
            }
        }
        Literal::BicepQuoted => {
            let mut out = String::with_capacity(replacement.len() + 8);
            for c in replacement.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\'' => out.push_str("\\'"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '$' => out.push_str("\\$"),
                    c if (c as u32) < 0x20 => out.push_str(&format!("\\u{{{:X}}}", c as u32)),
                    c => out.push(c),
                }
            }
            Ok(out)
        }
        other => Err(format!("{other:?} is not a Bicep literal")),
    }
}

fn decode_quoted(host: &str, content: Range<usize>) -> Result<Decoded, String> {
    // Nothing past the content is read: an escape cut by its end does not decode.
    let host = &host[..content.end];
    let b = host.as_bytes();
    let mut text = String::with_capacity(content.len());
    let mut breaks = vec![Break {
        text: 0,
        host: content.start,
    }];
    let mut opaque = Vec::new();
    let push_break = |breaks: &mut Vec<Break>, text: usize, host: usize| {
        if breaks.last().is_some_and(|b| b.text == text) {
            let last = breaks.last_mut().expect("non-empty");
            last.host = host;
        } else {
            breaks.push(Break { text, host });
        }
    };
    let mut i = content.start;
    let mut run = i;
    while i < content.end {
        match b[i] {
            b'\\' => {
                text.push_str(&host[run..i]);
                let (c, len) = match b.get(i + 1) {
                    Some(b'\\') => ('\\', 2),
                    Some(b'\'') => ('\'', 2),
                    Some(b'n') => ('\n', 2),
                    Some(b'r') => ('\r', 2),
                    Some(b't') => ('\t', 2),
                    Some(b'$') => ('$', 2),
                    Some(b'u') if b.get(i + 2) == Some(&b'{') => {
                        let close = host[i + 3..content.end]
                            .find('}')
                            .ok_or_else(|| format!("unterminated `\\u{{` escape at {i}"))?;
                        let hex = &host[i + 3..i + 3 + close];
                        let c = u32::from_str_radix(hex, 16)
                            .ok()
                            .filter(|_| !hex.is_empty())
                            .and_then(char::from_u32)
                            .ok_or_else(|| format!("invalid `\\u{{{hex}}}` escape at {i}"))?;
                        (c, close + 4)
                    }
                    _ => return Err(format!("unknown escape at {i}")),
                };
                push_break(&mut breaks, text.len(), i);
                text.push(c);
                i += len;
                push_break(&mut breaks, text.len(), i);
                run = i;
            }
            b'$' if b.get(i + 1) == Some(&b'{') => {
                let end = interpolation_end(host, i + 2, content.end)
                    .map_err(|at| format!("unterminated `${{` at {at}"))?;
                text.push_str(&host[run..i]);
                let start = text.len();
                text.push_str(&host[i..=end]);
                opaque.push(start..text.len());
                i = end + 1;
                run = i;
            }
            _ => i += 1,
        }
    }
    text.push_str(&host[run..content.end]);
    Ok(Decoded {
        text,
        breaks,
        opaque,
    })
}

fn decode_multiline(host: &str, content: Range<usize>, dollars: usize) -> Decoded {
    let raw = &host[content.clone()];
    let mut opaque = Vec::new();
    if dollars > 0 {
        let marker = format!("{}{{", "$".repeat(dollars));
        let mut from = 0;
        while let Some(at) = raw[from..].find(&marker) {
            let start = from + at;
            let Ok(end) =
                interpolation_end(host, content.start + start + marker.len(), content.end)
            else {
                break;
            };
            let end = end - content.start + 1;
            opaque.push(start..end);
            from = end;
        }
    }
    Decoded {
        text: raw.to_owned(),
        breaks: vec![Break {
            text: 0,
            host: content.start,
        }],
        opaque,
    }
}

/// How many `$` open the `'''` string whose content starts at `start` (0 for a plain one).
fn multiline_dollars(host: &str, start: usize) -> usize {
    let before = &host[..start];
    let before = before
        .strip_suffix("\r\n")
        .or_else(|| before.strip_suffix('\n'))
        .filter(|b| b.ends_with("'''"))
        .unwrap_or(before);
    let Some(before) = before.strip_suffix("'''") else {
        return 0;
    };
    before.len() - before.trim_end_matches('$').len()
}

/// The offset of the `}` closing an interpolation whose expression starts at `from`;
/// nested braces and strings are skipped. `Err` holds where scanning stopped.
fn interpolation_end(host: &str, from: usize, end: usize) -> Result<usize, usize> {
    let b = host.as_bytes();
    let mut depth = 0usize;
    let mut i = from;
    while i < end {
        match b[i] {
            b'{' => depth += 1,
            b'}' if depth == 0 => return Ok(i),
            b'}' => depth -= 1,
            b'\'' => {
                let (_, next) = lex_string(host, i, end).map_err(|e| e.at)?;
                i = next;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    Err(i)
}

// ---------------------------------------------------------------------------------------
// Lexer

#[derive(Clone, Debug, PartialEq, Eq)]
struct StrTok {
    multiline: bool,
    dollars: usize,
    /// Host bytes of the content (after the opening newline a `'''` string drops).
    content: Range<usize>,
    /// Host ranges of the expressions inside each `${` `}`.
    interps: Vec<Range<usize>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Ident,
    Num,
    Str(StrTok),
    Punct(&'static str),
}

#[derive(Clone, Debug)]
struct Token {
    kind: Kind,
    span: Range<usize>,
    /// A line break (or the start of the input) comes before the token.
    nl_before: bool,
}

const PUNCTS: [&str; 35] = [
    "...", "??", "?.", "?[", "!=", "!~", "==", "=~", "=>", "<=", ">=", "&&", "||", "::", "{", "}",
    "[", "]", "(", ")", ",", ":", ".", "?", "!", "=", "<", ">", "+", "-", "*", "/", "%", "@", "|",
];

const BINARY: [&str; 16] = [
    "??", "||", "&&", "==", "!=", "=~", "!~", "<", "<=", ">", ">=", "+", "-", "*", "/", "%",
];

fn err(at: usize, message: impl Into<String>) -> HostError {
    HostError {
        at,
        message: message.into(),
    }
}

/// Reads a string starting at `at` (`'`, `'''` or `$'''`), returning it and the offset
/// after it.
fn lex_string(src: &str, at: usize, end: usize) -> Result<(StrTok, usize), HostError> {
    let b = &src.as_bytes()[..end];
    let mut i = at;
    let mut dollars = 0;
    while b.get(i) == Some(&b'$') {
        dollars += 1;
        i += 1;
    }
    if b[i..].starts_with(b"'''") {
        i += 3;
        if b[i..].starts_with(b"\r\n") {
            i += 2;
        } else if b.get(i) == Some(&b'\n') {
            i += 1;
        }
        let start = i;
        let mut interps = Vec::new();
        loop {
            if i >= b.len() {
                return Err(err(at, "unterminated multi-line string"));
            }
            if b[i..].starts_with(b"'''") {
                let tok = StrTok {
                    multiline: true,
                    dollars,
                    content: start..i,
                    interps,
                };
                return Ok((tok, i + 3));
            }
            if dollars > 0 && b[i] == b'$' {
                let run = b[i..].iter().take_while(|&&c| c == b'$').count();
                if run >= dollars && b.get(i + run) == Some(&b'{') {
                    let inner = i + run + 1;
                    let close = interpolation_end(src, inner, end)
                        .map_err(|_| err(i, "unterminated interpolation"))?;
                    interps.push(inner..close);
                    i = close + 1;
                    continue;
                }
                i += run;
                continue;
            }
            i += 1;
        }
    } else if dollars == 0 && b.get(i) == Some(&b'\'') {
        i += 1;
        let start = i;
        let mut interps = Vec::new();
        loop {
            match b.get(i) {
                None | Some(b'\n') => return Err(err(at, "unterminated string")),
                Some(b'\\') => i += 2,
                Some(b'\'') => {
                    let tok = StrTok {
                        multiline: false,
                        dollars: 0,
                        content: start..i,
                        interps,
                    };
                    return Ok((tok, i + 1));
                }
                Some(b'$') if b.get(i + 1) == Some(&b'{') => {
                    let inner = i + 2;
                    let close = interpolation_end(src, inner, end)
                        .map_err(|_| err(i, "unterminated interpolation"))?;
                    interps.push(inner..close);
                    i = close + 1;
                }
                _ => i += 1,
            }
        }
    } else {
        Err(err(at, "`$` outside a string"))
    }
}

fn lex(src: &str, range: Range<usize>) -> Result<Vec<Token>, HostError> {
    let b = src.as_bytes();
    let end = range.end;
    let mut i = range.start;
    if src[i..].starts_with('\u{feff}') {
        i += 3;
    }
    let mut out = Vec::new();
    let mut nl = true;
    while i < end {
        let c = b[i];
        let start = i;
        let kind = match c {
            b'\n' => {
                nl = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = src[i..end].find('\n').map_or(end, |n| i + n);
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let close = src[i + 2..end]
                    .find("*/")
                    .ok_or_else(|| err(i, "unterminated comment"))?;
                nl |= src[i..i + 2 + close].contains('\n');
                i = i + 2 + close + 2;
                continue;
            }
            // `#disable-next-line` and other pragmas run to the end of the line.
            b'#' => {
                i = src[i..end].find('\n').map_or(end, |n| i + n);
                continue;
            }
            b'\'' | b'$' => {
                let (tok, next) = lex_string(src, i, end)?;
                i = next;
                Kind::Str(tok)
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < end && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                Kind::Ident
            }
            c if c.is_ascii_digit() => {
                while i < end && (b[i].is_ascii_digit() || b[i] == b'.') {
                    i += 1;
                }
                Kind::Num
            }
            _ => {
                let p = PUNCTS
                    .iter()
                    .find(|p| src[i..end].starts_with(**p))
                    .ok_or_else(|| {
                        let ch = src[i..].chars().next().unwrap_or(' ');
                        err(i, format!("unexpected character `{ch}`"))
                    })?;
                i += p.len();
                Kind::Punct(p)
            }
        };
        out.push(Token {
            kind,
            span: start..i,
            nl_before: std::mem::take(&mut nl),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Parser

#[derive(Clone, Debug)]
enum Expr {
    Str(StrTok, Range<usize>),
    Ident(String, Range<usize>),
    /// A function call; `sys.f(...)` and `az.f(...)` are named `f`.
    Call(String, Vec<Expr>, Range<usize>),
    Member(Box<Expr>, String, Range<usize>),
    Object(Vec<Member>, Range<usize>),
    /// `[for ... : body]`
    Loop(Box<Expr>, Range<usize>),
    /// `if (cond) body`
    If(Box<Expr>, Range<usize>),
    /// `cond ? a : b`
    Ternary(Box<Expr>, Box<Expr>, Range<usize>),
    /// Anything else, kept as the text it spans.
    Other(Range<usize>),
}

impl Expr {
    fn span(&self) -> Range<usize> {
        match self {
            Expr::Str(_, s)
            | Expr::Ident(_, s)
            | Expr::Call(_, _, s)
            | Expr::Member(_, _, s)
            | Expr::Object(_, s)
            | Expr::Loop(_, s)
            | Expr::If(_, s)
            | Expr::Ternary(_, _, s)
            | Expr::Other(s) => s.clone(),
        }
    }

    /// The object a resource or module body declares, through `if` and `for`.
    fn body(&self) -> Option<&[Member]> {
        match self {
            Expr::Object(members, _) => Some(members),
            Expr::If(e, _) | Expr::Loop(e, _) => e.body(),
            _ => None,
        }
    }

    fn prop(&self, key: &str) -> Option<&Expr> {
        self.body()?.iter().find_map(|m| match m {
            Member::Prop(k, v) if k == key => Some(v),
            _ => None,
        })
    }
}

#[derive(Clone, Debug)]
enum Member {
    Prop(String, Expr),
    Resource(Box<ResourceDecl>),
}

#[derive(Clone, Debug)]
struct ResourceDecl {
    symbol: String,
    /// The type as written, without `@version`.
    ty: String,
    body: Expr,
}

#[derive(Clone, Debug)]
enum Stmt {
    Param(String, Option<Expr>),
    Var(String, Expr),
    Resource(ResourceDecl),
    Module {
        symbol: String,
        path: Option<String>,
        path_span: Range<usize>,
        body: Expr,
    },
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
}

type PResult<T> = Result<T, HostError>;

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn peek_at(&self, n: usize) -> Option<&Token> {
        self.toks.get(self.pos + n)
    }

    fn at_end(&self) -> usize {
        self.peek().map_or(self.src.len(), |t| t.span.start)
    }

    fn prev_end(&self) -> usize {
        self.pos.checked_sub(1).map_or(0, |p| self.toks[p].span.end)
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: Kind::Punct(q), .. }) if *q == p)
    }

    fn is_ident(&self, word: &str) -> bool {
        self.peek()
            .is_some_and(|t| t.kind == Kind::Ident && &self.src[t.span.clone()] == word)
    }

    fn eat(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, p: &str) -> PResult<()> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(err(self.at_end(), format!("expected `{p}`")))
        }
    }

    fn ident(&mut self) -> PResult<String> {
        match self.peek() {
            Some(t) if t.kind == Kind::Ident => {
                let s = self.src[t.span.clone()].to_owned();
                self.pos += 1;
                Ok(s)
            }
            _ => Err(err(self.at_end(), "expected a name")),
        }
    }

    fn string(&mut self) -> PResult<(StrTok, Range<usize>)> {
        match self.peek() {
            Some(Token {
                kind: Kind::Str(s),
                span,
                ..
            }) => {
                let out = (s.clone(), span.clone());
                self.pos += 1;
                Ok(out)
            }
            _ => Err(err(self.at_end(), "expected a string")),
        }
    }

    /// Skips one token, or a whole bracketed group when it opens one.
    fn skip_one(&mut self) -> PResult<()> {
        let start = self.at_end();
        let mut depth = 0usize;
        loop {
            let Some(t) = self.peek() else {
                return Err(err(start, "unbalanced brackets"));
            };
            match t.kind {
                Kind::Punct("{" | "[" | "(" | "?[") => depth += 1,
                Kind::Punct("}" | "]" | ")") => {
                    depth = depth
                        .checked_sub(1)
                        .ok_or_else(|| err(t.span.start, "unbalanced brackets"))?;
                }
                _ => {}
            }
            self.pos += 1;
            if depth == 0 {
                return Ok(());
            }
        }
    }

    /// Skips to the next `=` or to the end of the declaration (a token on a new line).
    fn skip_type(&mut self) -> PResult<()> {
        while let Some(t) = self.peek() {
            if t.nl_before || t.kind == Kind::Punct("=") {
                break;
            }
            self.skip_one()?;
        }
        Ok(())
    }

    fn skip_statement(&mut self) -> PResult<()> {
        self.skip_one()?;
        while self.peek().is_some_and(|t| !t.nl_before) {
            self.skip_one()?;
        }
        Ok(())
    }

    fn decorator(&mut self) -> PResult<()> {
        self.expect("@")?;
        self.ident()?;
        while self.eat(".") {
            self.ident()?;
        }
        if self.is_punct("(") {
            self.skip_one()?;
        }
        Ok(())
    }

    fn file(&mut self) -> PResult<Vec<Stmt>> {
        let mut out = Vec::new();
        while let Some(t) = self.peek() {
            if t.kind == Kind::Punct("@") {
                self.decorator()?;
                continue;
            }
            let word = if t.kind == Kind::Ident {
                &self.src[t.span.clone()]
            } else {
                ""
            };
            match word {
                "param" => {
                    self.pos += 1;
                    let name = self.ident()?;
                    self.skip_type()?;
                    let default = if self.eat("=") {
                        Some(self.expr()?)
                    } else {
                        None
                    };
                    out.push(Stmt::Param(name, default));
                }
                "var" => {
                    self.pos += 1;
                    let name = self.ident()?;
                    self.skip_type()?;
                    self.expect("=")?;
                    out.push(Stmt::Var(name, self.expr()?));
                }
                "resource" => {
                    self.pos += 1;
                    out.push(Stmt::Resource(self.resource()?));
                }
                "module" => {
                    self.pos += 1;
                    let symbol = self.ident()?;
                    let (tok, span) = self.string()?;
                    let path = literal_text(self.src, &tok);
                    self.expect("=")?;
                    let body = self.expr()?;
                    out.push(Stmt::Module {
                        symbol,
                        path,
                        path_span: span,
                        body,
                    });
                }
                _ => self.skip_statement()?,
            }
        }
        Ok(out)
    }

    /// After `resource`: `sym 'type@version' [existing] = body`.
    fn resource(&mut self) -> PResult<ResourceDecl> {
        let symbol = self.ident()?;
        let (tok, _) = self.string()?;
        let ty = literal_text(self.src, &tok).unwrap_or_default();
        let ty = ty.split('@').next().unwrap_or_default().to_owned();
        if self.is_ident("existing") {
            self.pos += 1;
        }
        self.expect("=")?;
        let body = self.expr()?;
        Ok(ResourceDecl { symbol, ty, body })
    }

    fn expr(&mut self) -> PResult<Expr> {
        let start = self.at_end();
        let cond = self.binary()?;
        if self.eat("?") {
            let a = self.expr()?;
            self.expect(":")?;
            let b = self.expr()?;
            return Ok(Expr::Ternary(
                Box::new(a),
                Box::new(b),
                start..self.prev_end(),
            ));
        }
        Ok(cond)
    }

    fn binary(&mut self) -> PResult<Expr> {
        let start = self.at_end();
        let first = self.unary()?;
        let mut any = false;
        while let Some(Token {
            kind: Kind::Punct(p),
            nl_before,
            ..
        }) = self.peek()
        {
            if !BINARY.contains(p) || (*p == "-" && *nl_before) {
                break;
            }
            self.pos += 1;
            self.unary()?;
            any = true;
        }
        Ok(if any {
            Expr::Other(start..self.prev_end())
        } else {
            first
        })
    }

    fn unary(&mut self) -> PResult<Expr> {
        let start = self.at_end();
        if self.eat("!") || self.eat("-") {
            self.unary()?;
            return Ok(Expr::Other(start..self.prev_end()));
        }
        let mut e = self.primary()?;
        while let Some(t) = self.peek() {
            match t.kind {
                Kind::Punct("." | "?." | "::") => {
                    self.pos += 1;
                    // `.?name`: safe access.
                    self.eat("?");
                    let name = self.ident()?;
                    if self.is_punct("(") && !self.peek().is_some_and(|t| t.nl_before) {
                        let args = self.args()?;
                        e = match e {
                            Expr::Ident(..) => Expr::Call(name, args, start..self.prev_end()),
                            _ => Expr::Other(start..self.prev_end()),
                        };
                    } else {
                        e = Expr::Member(Box::new(e), name, start..self.prev_end());
                    }
                }
                Kind::Punct("[" | "?[") if !t.nl_before => {
                    self.skip_one()?;
                    e = Expr::Other(start..self.prev_end());
                }
                Kind::Punct("!") if !t.nl_before => self.pos += 1,
                _ => break,
            }
        }
        Ok(e)
    }

    fn args(&mut self) -> PResult<Vec<Expr>> {
        self.expect("(")?;
        let mut args = Vec::new();
        loop {
            if self.eat(")") {
                return Ok(args);
            }
            if self.eat(",") {
                continue;
            }
            args.push(self.expr()?);
        }
    }

    fn primary(&mut self) -> PResult<Expr> {
        let Some(t) = self.peek().cloned() else {
            return Err(err(self.src.len(), "expected an expression"));
        };
        let start = t.span.start;
        match &t.kind {
            Kind::Str(s) => {
                self.pos += 1;
                Ok(Expr::Str(s.clone(), t.span.clone()))
            }
            Kind::Num => {
                self.pos += 1;
                Ok(Expr::Other(t.span.clone()))
            }
            Kind::Ident => {
                let name = self.src[t.span.clone()].to_owned();
                self.pos += 1;
                if name == "if" && self.is_punct("(") {
                    self.skip_one()?;
                    let body = self.expr()?;
                    return Ok(Expr::If(Box::new(body), start..self.prev_end()));
                }
                if self.eat("=>") {
                    self.expr()?;
                    return Ok(Expr::Other(start..self.prev_end()));
                }
                if self.is_punct("(") && !self.peek().is_some_and(|t| t.nl_before) {
                    let args = self.args()?;
                    return Ok(Expr::Call(name, args, start..self.prev_end()));
                }
                Ok(Expr::Ident(name, t.span.clone()))
            }
            Kind::Punct("(") => {
                let args = self.args()?;
                if self.eat("=>") {
                    self.expr()?;
                    return Ok(Expr::Other(start..self.prev_end()));
                }
                match <[Expr; 1]>::try_from(args) {
                    Ok([inner]) => Ok(inner),
                    Err(_) => Ok(Expr::Other(start..self.prev_end())),
                }
            }
            Kind::Punct("{") => self.object(),
            Kind::Punct("[") => self.array(),
            _ => Err(err(start, "expected an expression")),
        }
    }

    fn object(&mut self) -> PResult<Expr> {
        let start = self.at_end();
        self.expect("{")?;
        let mut members = Vec::new();
        loop {
            if self.eat("}") {
                return Ok(Expr::Object(members, start..self.prev_end()));
            }
            if self.eat(",") {
                continue;
            }
            if self.is_punct("@") {
                self.decorator()?;
                continue;
            }
            if self.eat("...") {
                self.expr()?;
                continue;
            }
            let nested = self.is_ident("resource")
                && self.peek_at(1).is_some_and(|t| t.kind == Kind::Ident)
                && self
                    .peek_at(2)
                    .is_some_and(|t| matches!(t.kind, Kind::Str(_)));
            if nested {
                self.pos += 1;
                members.push(Member::Resource(Box::new(self.resource()?)));
                continue;
            }
            let key = match self.peek().cloned() {
                Some(Token {
                    kind: Kind::Ident, ..
                }) => self.ident()?,
                Some(Token {
                    kind: Kind::Str(s),
                    span,
                    ..
                }) => {
                    self.pos += 1;
                    literal_text(self.src, &s).unwrap_or_else(|| self.src[span].to_owned())
                }
                _ => return Err(err(self.at_end(), "expected a property name")),
            };
            self.expect(":")?;
            let value = self.expr()?;
            members.push(Member::Prop(key, value));
        }
    }

    fn array(&mut self) -> PResult<Expr> {
        let start = self.at_end();
        self.expect("[")?;
        if self.is_ident("for") {
            self.pos += 1;
            while !self.is_punct(":") {
                if self.peek().is_none() {
                    return Err(err(start, "unterminated `for`"));
                }
                self.skip_one()?;
            }
            self.expect(":")?;
            let body = self.expr()?;
            self.expect("]")?;
            return Ok(Expr::Loop(Box::new(body), start..self.prev_end()));
        }
        loop {
            if self.eat("]") {
                return Ok(Expr::Other(start..self.prev_end()));
            }
            if self.eat(",") || self.eat("...") {
                continue;
            }
            self.expr()?;
        }
    }
}

/// The value of a string without interpolation; `None` when it has one or cannot be
/// decoded.
fn literal_text(src: &str, tok: &StrTok) -> Option<String> {
    if !tok.interps.is_empty() {
        return None;
    }
    let literal = if tok.multiline {
        Literal::BicepMultiline
    } else {
        Literal::BicepQuoted
    };
    decode(literal, src, tok.content.clone())
        .ok()
        .map(|d| d.text)
}

// ---------------------------------------------------------------------------------------
// Resources and scopes (shared with the ARM reader)

/// The segments of an APIM resource type after `Microsoft.ApiManagement/`, lower-cased:
/// `["service", "apis", "policies"]`. `None` for other providers.
pub(super) fn apim_segments(ty: &str) -> Option<Vec<String>> {
    let ty = ty.split('@').next()?.trim();
    let (provider, rest) = ty.split_once('/')?;
    provider
        .eq_ignore_ascii_case("Microsoft.ApiManagement")
        .then(|| rest.split('/').map(|s| s.to_ascii_lowercase()).collect())
}

/// The names of a resource aligned to its type segments (from the right; missing ones are
/// `None`), as `(workspace, api, operation, product, fragment)`.
struct Names {
    workspace: Option<String>,
    api: Option<String>,
    operation: Option<String>,
    product: Option<String>,
    fragment: Option<String>,
}

fn names_of(segs: &[String], names: &[String]) -> Names {
    let mut out = Names {
        workspace: None,
        api: None,
        operation: None,
        product: None,
        fragment: None,
    };
    let skip = names.len().saturating_sub(segs.len());
    let pad = segs.len().saturating_sub(names.len());
    for (i, seg) in segs.iter().enumerate() {
        let Some(name) = i
            .checked_sub(pad)
            .and_then(|j| names.get(skip + j))
            .filter(|n| !n.is_empty())
            .cloned()
        else {
            continue;
        };
        match seg.as_str() {
            "workspaces" => out.workspace = Some(name),
            "apis" => out.api = Some(name),
            "operations" => out.operation = Some(name),
            "products" => out.product = Some(name),
            "policyfragments" => out.fragment = Some(name),
            _ => {}
        }
    }
    out
}

/// The placement of a policy resource of type `segs` named `names` (service first), or
/// `None` when the type is not a policy resource.
pub(super) fn placement_of(
    segs: &[String],
    names: &[String],
    resource: String,
) -> Option<Placement> {
    let last = segs.last()?.as_str();
    let scope = match (segs.len().checked_sub(2).map(|i| segs[i].as_str()), last) {
        (_, "policyfragments") => Scope::Fragment,
        (Some("service"), "policies") => Scope::Global,
        (Some("workspaces"), "policies") => Scope::Workspace,
        (Some("products"), "policies") => Scope::Product,
        (Some("apis"), "policies") => Scope::Api,
        (Some("operations"), "policies") => Scope::Operation,
        _ => return None,
    };
    if segs.first().map(String::as_str) != Some("service") {
        return None;
    }
    let n = names_of(segs, names);
    Some(Placement {
        scope,
        workspace: n.workspace,
        api: n.api,
        operation: n.operation,
        product: n.product,
        fragment: n.fragment,
        resource,
    })
}

/// What a resource of type `segs` named `names` declares for the repo model.
pub(super) fn declared_of(segs: &[String], names: &[String]) -> Option<Declared> {
    if segs.first().map(String::as_str) != Some("service") {
        return None;
    }
    let n = names_of(segs, names);
    let parent = segs.len().checked_sub(2).map(|i| segs[i].as_str());
    match (parent, segs.last()?.as_str()) {
        (Some("service" | "workspaces"), "apis") => Some(Declared::Api {
            workspace: n.workspace,
            api: n.api?,
        }),
        (Some("apis"), "operations") => Some(Declared::Operation {
            workspace: n.workspace,
            api: n.api?,
            operation: n.operation?,
        }),
        (Some("service" | "workspaces"), "products") => Some(Declared::Product {
            workspace: n.workspace,
            product: n.product?,
        }),
        (Some("products"), "apis") => Some(Declared::ProductApi {
            workspace: n.workspace,
            product: n.product?,
            // The link's own name is the API's name.
            api: names.last().filter(|a| !a.is_empty())?.clone(),
        }),
        (Some("service" | "workspaces"), "policyfragments") => Some(Declared::Fragment {
            workspace: n.workspace,
            fragment: n.fragment?,
        }),
        _ => None,
    }
}

/// Splits a resource name on `/`, outside `${...}` and `[...]`.
pub(super) fn split_name(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in name.char_indices() {
        match c {
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth = depth.saturating_sub(1),
            '/' if depth == 0 => {
                out.push(name[start..i].to_owned());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(name[start..].to_owned());
    out
}

// ---------------------------------------------------------------------------------------
// Scan

struct Unit {
    path: PathBuf,
    src: String,
    params: HashMap<String, Option<Expr>>,
    vars: HashMap<String, Expr>,
    resources: Vec<Res>,
    modules: Vec<Module>,
}

struct Res {
    symbol: String,
    /// The full type, without version.
    ty: String,
    body: Expr,
    /// The resource this one is nested in.
    nested_in: Option<usize>,
}

struct Module {
    symbol: String,
    path: Option<String>,
    path_span: Range<usize>,
    body: Expr,
}

fn add_resource(resources: &mut Vec<Res>, decl: ResourceDecl, nested_in: Option<usize>) {
    let ty = match nested_in {
        Some(p) if !decl.ty.contains('/') => format!("{}/{}", resources[p].ty, decl.ty),
        _ => decl.ty,
    };
    let index = resources.len();
    let children: Vec<ResourceDecl> = decl
        .body
        .body()
        .into_iter()
        .flatten()
        .filter_map(|m| match m {
            Member::Resource(r) => Some((**r).clone()),
            Member::Prop(..) => None,
        })
        .collect();
    resources.push(Res {
        symbol: decl.symbol,
        ty,
        body: decl.body,
        nested_in,
    });
    for child in children {
        add_resource(resources, child, Some(index));
    }
}

fn parse_unit(path: &Path, src: String) -> Result<Unit, HostError> {
    let toks = lex(&src, 0..src.len())?;
    let stmts = Parser {
        src: &src,
        toks,
        pos: 0,
    }
    .file()?;
    let mut unit = Unit {
        path: path.to_owned(),
        src: String::new(),
        params: HashMap::new(),
        vars: HashMap::new(),
        resources: Vec::new(),
        modules: Vec::new(),
    };
    for stmt in stmts {
        match stmt {
            Stmt::Param(name, default) => {
                unit.params.insert(name, default);
            }
            Stmt::Var(name, value) => {
                unit.vars.insert(name, value);
            }
            Stmt::Resource(decl) => add_resource(&mut unit.resources, decl, None),
            Stmt::Module {
                symbol,
                path,
                path_span,
                body,
            } => unit.modules.push(Module {
                symbol,
                path,
                path_span,
                body,
            }),
        }
    }
    unit.src = src;
    Ok(unit)
}

/// One use of a file: the root file, or a module with the arguments its caller passes.
struct Frame {
    unit: usize,
    caller: Option<usize>,
    args: HashMap<String, Expr>,
    /// `caller.module.` prefixes for resource names in messages.
    prefix: String,
}

enum Source {
    Inline {
        unit: usize,
        tok: StrTok,
        replaced: Vec<String>,
    },
    Load {
        unit: usize,
        rel: String,
        site: Range<usize>,
        replaced: Vec<String>,
    },
    Unresolved {
        unit: usize,
        span: Range<usize>,
    },
}

struct Scanner<'l> {
    units: Vec<Unit>,
    by_path: HashMap<PathBuf, usize>,
    frames: Vec<Frame>,
    load: &'l dyn Fn(&Path) -> Option<String>,
    out: HostScan,
}

const MAX_DEPTH: usize = 32;
const MAX_MODULE_DEPTH: usize = 6;

/// Reads the Bicep file `path` holding `source`. `load` reads a module's file (its path is
/// resolved against `path`'s folder); `None` when it cannot be read.
pub fn scan(
    path: &Path,
    source: &str,
    load: &dyn Fn(&Path) -> Option<String>,
) -> Result<HostScan, HostError> {
    let root = parse_unit(path, source.to_owned())?;
    let mut scanner = Scanner {
        units: vec![root],
        by_path: HashMap::from([(normalize(path), 0)]),
        frames: vec![Frame {
            unit: 0,
            caller: None,
            args: HashMap::new(),
            prefix: String::new(),
        }],
        load,
        out: HostScan::default(),
    };
    scanner.frame(0, &mut vec![normalize(path)]);
    Ok(scanner.out)
}

impl Scanner<'_> {
    fn src(&self, unit: usize, span: Range<usize>) -> &str {
        &self.units[unit].src[span]
    }

    fn frame(&mut self, f: usize, stack: &mut Vec<PathBuf>) {
        let u = self.frames[f].unit;
        for r in 0..self.units[u].resources.len() {
            self.resource(f, r);
        }
        for m in 0..self.units[u].modules.len() {
            self.module(f, m, stack);
        }
    }

    fn module(&mut self, f: usize, m: usize, stack: &mut Vec<PathBuf>) {
        let u = self.frames[f].unit;
        let module = &self.units[u].modules[m];
        let Some(rel) = module.path.clone() else {
            return;
        };
        // Registry (`br:`, `br/alias:`) and template-spec (`ts:`) modules are not local.
        if rel.starts_with("br:") || rel.starts_with("br/") || rel.starts_with("ts:") {
            return;
        }
        let path_span = module.path_span.clone();
        let symbol = module.symbol.clone();
        let args: HashMap<String, Expr> = module
            .body
            .prop("params")
            .and_then(Expr::body)
            .into_iter()
            .flatten()
            .filter_map(|m| match m {
                Member::Prop(k, v) => Some((k.clone(), v.clone())),
                Member::Resource(_) => None,
            })
            .collect();
        let dir = self.units[u].path.parent().unwrap_or(Path::new(""));
        let path = normalize(&dir.join(&rel));
        if stack.contains(&path) || stack.len() > MAX_MODULE_DEPTH {
            return;
        }
        let unit = match self.by_path.get(&path) {
            Some(&unit) => unit,
            None => {
                let Some(text) = (self.load)(&path) else {
                    if u == 0 && self.passes_policy(f, &args) {
                        self.out.notes.push(HostNote {
                            site: path_span,
                            message: format!(
                                "module file `{rel}` not found: the policies passed to it get no scope"
                            ),
                        });
                    }
                    return;
                };
                match parse_unit(&path, text) {
                    Ok(unit) => {
                        self.units.push(unit);
                        self.by_path.insert(path.clone(), self.units.len() - 1);
                        self.units.len() - 1
                    }
                    Err(e) => {
                        if u == 0 && self.passes_policy(f, &args) {
                            self.out.notes.push(HostNote {
                                site: path_span,
                                message: format!(
                                    "module file `{rel}` cannot be read as Bicep (at byte {}: {})",
                                    e.at, e.message
                                ),
                            });
                        }
                        return;
                    }
                }
            }
        };
        let prefix = format!("{}{}.", self.frames[f].prefix, symbol);
        self.frames.push(Frame {
            unit,
            caller: Some(f),
            args,
            prefix,
        });
        let frame = self.frames.len() - 1;
        stack.push(path);
        self.frame(frame, stack);
        stack.pop();
    }

    /// Whether a module call passes a loaded `.xml` file or an XML string literal written in
    /// the root file: what a missing module would have placed.
    fn passes_policy(&self, f: usize, args: &HashMap<String, Expr>) -> bool {
        let mut sources = Vec::new();
        for arg in args.values() {
            self.sources(f, arg, &[], 0, &mut sources);
        }
        sources.iter().any(|s| match s {
            Source::Load { unit: 0, rel, .. } => rel.to_ascii_lowercase().ends_with(".xml"),
            Source::Inline { unit: 0, tok, .. } => self.units[0].src[tok.content.clone()]
                .trim_start()
                .starts_with('<'),
            _ => false,
        })
    }

    fn resource(&mut self, f: usize, r: usize) {
        let u = self.frames[f].unit;
        let res = &self.units[u].resources[r];
        let Some(segs) = apim_segments(&res.ty) else {
            return;
        };
        let names = self.names(f, r, 0);
        let link = self.api_link(f, r, &segs, &names);
        if let Some(d) = declared_of(&segs, &names).or(link) {
            if !self.out.declared.contains(&d) {
                self.out.declared.push(d);
            }
        }
        let res = &self.units[u].resources[r];
        let resource = format!("{}{}", self.frames[f].prefix, res.symbol);
        let Some(placement) = placement_of(&segs, &names, resource) else {
            return;
        };
        let res = &self.units[u].resources[r];
        let Some(props) = res.body.prop("properties") else {
            return;
        };
        let Some(value) = props.prop("value").cloned() else {
            return;
        };
        let format = props
            .prop("format")
            .cloned()
            .and_then(|e| self.name_of(f, &e, 0).ok());
        if let Some(fmt) = format.as_deref().filter(|f| f.ends_with("-link")) {
            if u == 0 {
                self.out.notes.push(HostNote {
                    site: value.span(),
                    message: format!("policy linked by URL (format `{fmt}`): not read"),
                });
            }
            return;
        }
        let mut sources = Vec::new();
        self.sources(f, &value, &[], 0, &mut sources);
        for source in sources {
            match source {
                Source::Inline {
                    unit: 0,
                    tok,
                    replaced,
                } => self.inline(tok, replaced, placement.clone(), format.clone()),
                Source::Load {
                    unit: 0,
                    rel,
                    site,
                    replaced,
                } => {
                    let dir = self.units[0].path.parent().unwrap_or(Path::new(""));
                    let reference = PolicyReference {
                        path: normalize(&dir.join(rel)),
                        placement: placement.clone(),
                        site,
                        via: "loadTextContent",
                        replaced,
                    };
                    if !self.out.references.contains(&reference) {
                        self.out.references.push(reference);
                    }
                }
                Source::Unresolved { unit: 0, span } => {
                    let note = HostNote {
                        message: format!(
                            "policy value `{}` is not a string or loadTextContent(...): not analysed",
                            self.src(0, span.clone())
                        ),
                        site: span,
                    };
                    if !self.out.notes.contains(&note) {
                        self.out.notes.push(note);
                    }
                }
                // Written in a module file: that file's own scan reports the literal; the
                // caller's names for it are recorded, so the engine places it in the
                // caller's model.
                Source::Inline { unit, tok, .. } => {
                    let placed = ModulePlacement {
                        host: self.units[unit].path.clone(),
                        content: tok.content,
                        placement: placement.clone(),
                    };
                    if !self.out.placed_in_modules.contains(&placed) {
                        self.out.placed_in_modules.push(placed);
                    }
                }
                // A module's own loads are placed by that file's scan.
                _ => {}
            }
        }
    }

    fn inline(
        &mut self,
        tok: StrTok,
        replaced: Vec<String>,
        placement: Placement,
        format: Option<String>,
    ) {
        if let Some(first) = self.out.policies.iter().find(|p| p.content == tok.content) {
            if first.placement != placement {
                let message = format!(
                    "this policy is also the value of `{}` ({}); it is checked as `{}`'s ({})",
                    placement.resource,
                    placement.scope.as_str(),
                    first.placement.resource,
                    first.placement.scope.as_str()
                );
                self.out.notes.push(HostNote {
                    site: tok.content,
                    message,
                });
            }
            return;
        }
        let src = &self.units[0].src;
        let (literal, decoded) = if tok.multiline {
            let d = decode_multiline(src, tok.content.clone(), tok.dollars);
            (Literal::BicepMultiline, Ok(d))
        } else {
            (
                Literal::BicepQuoted,
                decode_quoted(src, tok.content.clone()),
            )
        };
        let mut d = match decoded {
            // An empty default or any other text that is no XML document is not a policy.
            Ok(d)
                if !d
                    .text
                    .trim_start_matches('\u{feff}')
                    .trim_start()
                    .starts_with('<') =>
            {
                return;
            }
            Ok(d) => d,
            Err(message) => {
                self.out.notes.push(HostNote {
                    site: tok.content,
                    message: format!("policy string cannot be decoded: {message}"),
                });
                return;
            }
        };
        for token in replaced.iter().filter(|t| !t.is_empty()) {
            for (at, _) in d.text.match_indices(token.as_str()) {
                d.opaque.push(at..at + token.len());
            }
        }
        d.opaque.sort_by_key(|r| (r.start, r.end));
        self.out.policies.push(InlinePolicy {
            placement,
            literal,
            content: tok.content,
            text: d.text,
            breaks: d.breaks,
            opaque: d.opaque,
            format,
        });
    }

    /// A `service/products/apiLinks` resource (API versions from 2023 on): its name is free,
    /// and `properties.apiId: api.id` names the API.
    fn api_link(&self, f: usize, r: usize, segs: &[String], names: &[String]) -> Option<Declared> {
        let [.., products, links] = segs else {
            return None;
        };
        if products != "products" || links != "apilinks" {
            return None;
        }
        let u = self.frames[f].unit;
        let api_id = self.units[u].resources[r]
            .body
            .prop("properties")?
            .prop("apiId")?;
        let Expr::Member(obj, field, _) = api_id else {
            return None;
        };
        let Expr::Ident(sym, _) = &**obj else {
            return None;
        };
        let api = self.symbol(u, sym).filter(|_| field == "id")?;
        let api = self.names(f, api, 0).pop().filter(|a| !a.is_empty())?;
        let mut product_names = names.to_vec();
        product_names.pop();
        let Some(Declared::Product { workspace, product }) =
            declared_of(&segs[..segs.len() - 1], &product_names)
        else {
            return None;
        };
        Some(Declared::ProductApi {
            workspace,
            product,
            api,
        })
    }

    /// The strings and loads an expression's value may come from.
    fn sources(
        &self,
        f: usize,
        e: &Expr,
        replaced: &[String],
        depth: usize,
        out: &mut Vec<Source>,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        let u = self.frames[f].unit;
        match e {
            Expr::Str(tok, _) => out.push(Source::Inline {
                unit: u,
                tok: tok.clone(),
                replaced: replaced.to_vec(),
            }),
            Expr::Call(name, args, span) if name == "loadTextContent" => match args.first() {
                Some(Expr::Str(tok, _)) if tok.interps.is_empty() => {
                    if let Some(rel) = literal_text(&self.units[u].src, tok) {
                        out.push(Source::Load {
                            unit: u,
                            rel,
                            site: span.clone(),
                            replaced: replaced.to_vec(),
                        });
                    }
                }
                _ => out.push(Source::Unresolved {
                    unit: u,
                    span: span.clone(),
                }),
            },
            Expr::Call(name, args, _) if name == "replace" && args.len() == 3 => {
                let token = match self.name_of(f, &args[1], 0) {
                    Ok(t) | Err(t) => t,
                };
                // In the order they apply: the innermost `replace` first.
                let replaced: Vec<String> = std::iter::once(token)
                    .chain(replaced.iter().cloned())
                    .collect();
                self.sources(f, &args[0], &replaced, depth + 1, out);
            }
            Expr::Ternary(a, b, _) => {
                self.sources(f, a, replaced, depth + 1, out);
                self.sources(f, b, replaced, depth + 1, out);
            }
            Expr::Ident(name, span) => {
                let unit = &self.units[u];
                if let Some(value) = unit.vars.get(name) {
                    self.sources(f, value, replaced, depth + 1, out);
                } else if let Some(default) = unit.params.get(name) {
                    let frame = &self.frames[f];
                    if let (Some(arg), Some(caller)) = (frame.args.get(name), frame.caller) {
                        self.sources(caller, arg, replaced, depth + 1, out);
                    } else if let Some(default) = default {
                        self.sources(f, default, replaced, depth + 1, out);
                    }
                    // A param without a value here gets one from a caller's scan.
                } else {
                    out.push(Source::Unresolved {
                        unit: u,
                        span: span.clone(),
                    });
                }
            }
            other => out.push(Source::Unresolved {
                unit: u,
                span: other.span(),
            }),
        }
    }

    /// A resource's names, from the service down: its own `name`, after its parent's.
    fn names(&self, f: usize, r: usize, depth: usize) -> Vec<String> {
        let u = self.frames[f].unit;
        let res = &self.units[u].resources[r];
        let own = match res.body.prop("name") {
            Some(e) => match self.name_of(f, e, 0) {
                Ok(s) | Err(s) => s,
            },
            None => String::new(),
        };
        if depth > MAX_DEPTH {
            return vec![own];
        }
        let parent = res.nested_in.or_else(|| match res.body.prop("parent") {
            Some(Expr::Ident(sym, _)) => self.symbol(u, sym),
            _ => None,
        });
        match (parent, res.body.prop("parent")) {
            (Some(p), _) => {
                let mut names = self.names(f, p, depth + 1);
                names.push(own);
                names
            }
            (None, Some(e)) => vec![self.src(u, e.span()).to_owned(), own],
            (None, None) => split_name(&own),
        }
    }

    fn symbol(&self, u: usize, sym: &str) -> Option<usize> {
        self.units[u]
            .resources
            .iter()
            .position(|r| r.symbol == sym && r.nested_in.is_none())
    }

    /// A name's value when the file tells it (`Ok`), else its text as written (`Err`).
    fn name_of(&self, f: usize, e: &Expr, depth: usize) -> Result<String, String> {
        let u = self.frames[f].unit;
        let written = || self.src(u, e.span()).to_owned();
        if depth > MAX_DEPTH {
            return Err(written());
        }
        match e {
            Expr::Str(tok, _) if tok.interps.is_empty() => {
                literal_text(&self.units[u].src, tok).ok_or_else(written)
            }
            Expr::Str(tok, _) => {
                let src = &self.units[u].src;
                let mut out = String::new();
                let mut known = true;
                let mut at = tok.content.start;
                for inner in &tok.interps {
                    let marker = if tok.multiline { tok.dollars } else { 1 } + 1;
                    let lit = &src[at..inner.start - marker];
                    out.push_str(
                        &decode_quoted(lit, 0..lit.len()).map_or(lit.to_owned(), |d| d.text),
                    );
                    let value = lex(src, inner.clone()).ok().and_then(|toks| {
                        let mut p = Parser { src, toks, pos: 0 };
                        p.expr().ok().filter(|_| p.peek().is_none())
                    });
                    match value.map(|v| self.name_of(f, &v, depth + 1)) {
                        Some(Ok(s)) => out.push_str(&s),
                        _ => {
                            known = false;
                            out.push_str(&src[inner.start - marker..inner.end + 1]);
                        }
                    }
                    at = inner.end + 1;
                }
                let lit = &src[at..tok.content.end];
                out.push_str(&decode_quoted(lit, 0..lit.len()).map_or(lit.to_owned(), |d| d.text));
                if known { Ok(out) } else { Err(out) }
            }
            Expr::Ident(name, _) => {
                let unit = &self.units[u];
                if let Some(value) = unit.vars.get(name) {
                    return self.name_of(f, value, depth + 1).map_err(|_| written());
                }
                if let Some(default) = unit.params.get(name) {
                    let frame = &self.frames[f];
                    if let (Some(arg), Some(caller)) = (frame.args.get(name), frame.caller) {
                        return self.name_of(caller, arg, depth + 1).map_err(|_| written());
                    }
                    if let Some(default) = default {
                        return self.name_of(f, default, depth + 1).map_err(|_| written());
                    }
                }
                Err(written())
            }
            Expr::Member(obj, field, _) if field == "name" => match &**obj {
                Expr::Ident(sym, _) => match self.symbol(u, sym) {
                    Some(r) => {
                        let res = &self.units[u].resources[r];
                        // A full name (`'apim/orders'`) ends with the resource's own.
                        match res.body.prop("name") {
                            Some(n) => self
                                .name_of(f, n, depth + 1)
                                .map(|n| split_name(&n).pop().unwrap_or_default())
                                .map_err(|_| written()),
                            None => Err(written()),
                        }
                    }
                    None => Err(written()),
                },
                _ => Err(written()),
            },
            _ => Err(written()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn no_files(_: &Path) -> Option<String> {
        None
    }

    fn scan_str(src: &str) -> HostScan {
        scan(Path::new("/repo/infra/main.bicep"), src, &no_files).unwrap()
    }

    fn policy_of(d: Decoded, content: Range<usize>, literal: Literal) -> InlinePolicy {
        InlinePolicy {
            placement: Placement::unknown("t"),
            literal,
            content,
            text: d.text,
            breaks: d.breaks,
            opaque: d.opaque,
            format: None,
        }
    }

    /// Each decoded character maps to host bytes inside the content that encode back to it.
    fn assert_maps_back(host: &str, p: &InlinePolicy) {
        for (at, c) in p.text.char_indices() {
            let from = p.host_offset(at);
            let to = p.host_offset(at + c.len_utf8());
            assert!(
                p.content.start <= from && to <= p.content.end,
                "{at} in {host:?}"
            );
            let mut buf = [0; 4];
            assert_eq!(
                encode(p.literal, c.encode_utf8(&mut buf)).unwrap(),
                &host[from..to],
                "char {c:?} at {at} of {host:?}"
            );
        }
    }

    #[test]
    fn quoted_strings_decode_escapes_with_a_break_on_each_side() {
        let host = r"x = 'a\'b\r\nc\u{41}\$d'";
        let content = 5..host.len() - 1;
        let d = decode(Literal::BicepQuoted, host, content.clone()).unwrap();
        assert_eq!(d.text, "a'b\r\ncA$d");
        assert_eq!(d.breaks[0], Break { text: 0, host: 5 });
        assert!(d.breaks.contains(&Break { text: 1, host: 6 }));
        assert!(d.breaks.contains(&Break { text: 2, host: 8 }));
        let p = policy_of(d, content, Literal::BicepQuoted);
        // `\u{41}` is one decoded byte for six host bytes.
        let a = p.text.find('A').unwrap();
        assert_eq!(&host[p.host_offset(a)..p.host_offset(a + 1)], r"\u{41}");
        assert_eq!(p.host_offset(p.text.len()), p.content.end);
    }

    #[test]
    fn interpolations_stay_as_written_and_opaque() {
        let host = "'<set-header name=\"${name}\" />'";
        let d = decode(Literal::BicepQuoted, host, 1..host.len() - 1).unwrap();
        assert_eq!(d.text, "<set-header name=\"${name}\" />");
        assert_eq!(&d.text[d.opaque[0].clone()], "${name}");
    }

    #[test]
    fn unknown_escapes_do_not_decode() {
        assert!(decode(Literal::BicepQuoted, r"'\q'", 1..3).is_err());
        // An escape cut by the end of the content.
        assert!(decode(Literal::BicepQuoted, r"'a\'", 1..3).is_err());
        assert!(decode(Literal::BicepQuoted, r"'\u{41}'", 1..4).is_err());
        assert!(decode(Literal::BicepQuoted, r"'\u{110000}'", 1..11).is_err());
    }

    #[test]
    fn multiline_strings_are_verbatim_without_their_first_newline() {
        let scan = scan_str(
            "resource p 'Microsoft.ApiManagement/service/policies@2023-05-01-preview' = {\n  name: 'x/policy'\n  properties: {\n    value: '''\n<policies>\\n</policies>'''\n    format: 'rawxml'\n  }\n}\n",
        );
        let p = &scan.policies[0];
        assert_eq!(p.literal, Literal::BicepMultiline);
        assert_eq!(p.text, "<policies>\\n</policies>");
        assert_eq!(p.format.as_deref(), Some("rawxml"));
        assert_eq!(p.placement.scope, Scope::Global);
    }

    #[test]
    fn interpolated_multiline_strings_keep_their_placeholders_opaque() {
        let host = "$'''\n<a b=\"${x}\"/>'''";
        let (tok, _) = lex_string(host, 0, host.len()).unwrap();
        let d = decode(Literal::BicepMultiline, host, tok.content).unwrap();
        assert_eq!(d.text, "<a b=\"${x}\"/>");
        assert_eq!(&d.text[d.opaque[0].clone()], "${x}");
    }

    #[test]
    fn encode_escapes_quoted_text_and_refuses_what_multiline_cannot_hold() {
        assert_eq!(
            encode(Literal::BicepQuoted, "it's\n\\ $x\t").unwrap(),
            r"it\'s\n\\ \$x\t"
        );
        assert!(encode(Literal::BicepMultiline, "a'''b").is_err());
        assert!(encode(Literal::BicepMultiline, "a${b}").is_err());
        assert_eq!(encode(Literal::BicepMultiline, "it's\n").unwrap(), "it's\n");
        assert!(encode(Literal::JsonString, "x").is_err());
    }

    const NESTED: &str = r"
param apimName string = 'apim-contoso'
resource apim 'Microsoft.ApiManagement/service@2023-05-01-preview' existing = {
  name: apimName
}
resource api 'Microsoft.ApiManagement/service/apis@2023-05-01-preview' = {
  parent: apim
  name: 'orders'
  properties: { path: 'orders' }
  resource policy 'policies@2023-05-01-preview' = {
    name: 'policy'
    properties: {
      format: 'rawxml'
      value: '<policies><inbound><base /></inbound></policies>'
    }
  }
  resource op 'operations' = {
    name: 'get-order'
    resource opPolicy 'policies' = {
      name: 'policy'
      properties: {
        value: loadTextContent('../policies/get-order.xml')
      }
    }
  }
}
";

    #[test]
    fn nested_resources_take_type_and_names_from_their_parents() {
        let scan = scan_str(NESTED);
        let p = &scan.policies[0];
        assert_eq!(p.placement.scope, Scope::Api);
        assert_eq!(p.placement.api.as_deref(), Some("orders"));
        assert_eq!(p.placement.resource, "policy");
        assert_eq!(&NESTED[p.content.clone()], p.text);
        let r = &scan.references[0];
        assert_eq!(r.placement.scope, Scope::Operation);
        assert_eq!(r.placement.api.as_deref(), Some("orders"));
        assert_eq!(r.placement.operation.as_deref(), Some("get-order"));
        assert_eq!(r.path, PathBuf::from("/repo/policies/get-order.xml"));
        assert_eq!(
            &NESTED[r.site.clone()],
            "loadTextContent('../policies/get-order.xml')"
        );
        assert_eq!(r.via, "loadTextContent");
        assert!(scan.declared.contains(&Declared::Api {
            workspace: None,
            api: "orders".into()
        }));
        assert!(scan.declared.contains(&Declared::Operation {
            workspace: None,
            api: "orders".into(),
            operation: "get-order".into()
        }));
    }

    #[test]
    fn every_policy_resource_type_gives_its_scope() {
        let src = r"
resource a 'Microsoft.ApiManagement/service/policies@2021-08-01' = {
  name: '${apimName}/policy'
  properties: { value: loadTextContent('global.xml') }
}
resource b 'Microsoft.ApiManagement/service/workspaces/policies@2023-09-01-preview' = {
  name: 'apim/team-a/policy'
  properties: { value: loadTextContent('workspace.xml') }
}
resource c 'Microsoft.ApiManagement/service/products/policies@2021-08-01' = {
  name: 'apim/starter/policy'
  properties: { value: loadTextContent('product.xml') }
}
resource d 'Microsoft.ApiManagement/service/policyFragments@2023-05-01-preview' = {
  name: 'apim/rate-limits'
  properties: { value: loadTextContent('fragment.xml'), format: 'rawxml' }
}
resource e 'Microsoft.ApiManagement/service/workspaces/apis/policies@2023-09-01-preview' = {
  name: 'apim/team-a/orders/policy'
  properties: { value: loadTextContent('ws-api.xml') }
}
";
        let scan = scan_str(src);
        let by_file = |f: &str| {
            scan.references
                .iter()
                .find(|r| r.path.ends_with(f))
                .unwrap_or_else(|| panic!("{f}"))
                .placement
                .clone()
        };
        assert_eq!(by_file("global.xml").scope, Scope::Global);
        let ws = by_file("workspace.xml");
        assert_eq!(
            (ws.scope, ws.workspace.as_deref()),
            (Scope::Workspace, Some("team-a"))
        );
        let product = by_file("product.xml");
        assert_eq!(
            (product.scope, product.product.as_deref()),
            (Scope::Product, Some("starter"))
        );
        let fragment = by_file("fragment.xml");
        assert_eq!(
            (fragment.scope, fragment.fragment.as_deref()),
            (Scope::Fragment, Some("rate-limits"))
        );
        let ws_api = by_file("ws-api.xml");
        assert_eq!(
            (
                ws_api.scope,
                ws_api.workspace.as_deref(),
                ws_api.api.as_deref()
            ),
            (Scope::Api, Some("team-a"), Some("orders"))
        );
        assert!(scan.declared.contains(&Declared::Fragment {
            workspace: None,
            fragment: "rate-limits".into()
        }));
    }

    #[test]
    fn values_are_followed_through_vars_params_replace_and_both_branches() {
        let src = r"
param useStrict bool = false
param fallback string = '<policies><inbound /></policies>'
var strict = replace(replace(loadTextContent('strict.xml'), '{origin}', origin), '{tenant}', tenant)
var chosen = useStrict ? strict : loadTextContent('loose.xml')
resource api 'Microsoft.ApiManagement/service/apis@2023-05-01-preview' = {
  name: 'apim/orders'
}
resource p1 'Microsoft.ApiManagement/service/apis/policies@2023-05-01-preview' = {
  parent: api
  name: 'policy'
  properties: { value: chosen }
}
resource p2 'Microsoft.ApiManagement/service/products/policies@2023-05-01-preview' = {
  name: 'apim/starter/policy'
  properties: { value: replace(fallback, '{x}', 'y'), format: 'xml' }
}
";
        let scan = scan_str(src);
        let strict = scan
            .references
            .iter()
            .find(|r| r.path.ends_with("strict.xml"))
            .unwrap();
        assert_eq!(strict.replaced, ["{origin}", "{tenant}"]);
        assert_eq!(strict.placement.api.as_deref(), Some("orders"));
        assert_eq!(strict.placement.scope, Scope::Api);
        let loose = scan
            .references
            .iter()
            .find(|r| r.path.ends_with("loose.xml"))
            .unwrap();
        assert!(loose.replaced.is_empty());
        assert_eq!(scan.policies.len(), 1);
        assert_eq!(scan.policies[0].text, "<policies><inbound /></policies>");
        assert_eq!(scan.policies[0].placement.scope, Scope::Product);
        assert_eq!(scan.policies[0].format.as_deref(), Some("xml"));
    }

    #[test]
    fn replace_tokens_are_opaque_in_inline_policies() {
        let src = r"
var xml = '<policies><inbound><cors><allowed-origins><origin>{origin}</origin></allowed-origins></cors></inbound></policies>'
resource p 'Microsoft.ApiManagement/service/apis/policies@2023-05-01-preview' = {
  name: 'apim/orders/policy'
  properties: { value: replace(xml, '{origin}', origin) }
}
";
        let p = &scan_str(src).policies[0];
        let at = p.text.find("{origin}").unwrap();
        assert_eq!(p.opaque, vec![at..at + "{origin}".len()]);
    }

    #[test]
    fn commented_out_loads_are_not_references() {
        let src = r"
resource p 'Microsoft.ApiManagement/service/apis/policies@2023-05-01-preview' = {
  name: 'apim/orders/policy'
  properties: {
    // value: loadTextContent('old.xml')
    /* value: loadTextContent('older.xml') */
    value: loadTextContent('new.xml') // loadTextContent('trailing.xml')
  }
}
";
        let scan = scan_str(src);
        let files: Vec<_> = scan.references.iter().map(|r| r.path.clone()).collect();
        assert_eq!(files, [PathBuf::from("/repo/infra/new.xml")]);
    }

    #[test]
    fn link_formats_and_untraceable_values_are_notes() {
        let src = r"
resource p 'Microsoft.ApiManagement/service/apis/policies@2023-05-01-preview' = {
  name: 'apim/orders/policy'
  properties: { value: 'https://example.org/p.xml', format: 'rawxml-link' }
}
resource q 'Microsoft.ApiManagement/service/apis/policies@2023-05-01-preview' = [for api in apis: {
  name: 'apim/${api.name}/policy'
  properties: { value: api.policyXml }
}]
";
        let scan = scan_str(src);
        assert!(scan.policies.is_empty() && scan.references.is_empty());
        assert_eq!(scan.notes.len(), 2);
        assert!(scan.notes[0].message.contains("rawxml-link"));
        assert_eq!(&src[scan.notes[1].site.clone()], "api.policyXml");
    }

    #[test]
    fn names_resolve_through_params_symbols_and_interpolation() {
        let src = r"
param apiName string = 'orders'
param productName string
resource apim 'Microsoft.ApiManagement/service@2023-05-01-preview' existing = { name: 'apim' }
resource api 'Microsoft.ApiManagement/service/apis@2023-05-01-preview' = {
  parent: apim
  name: apiName
}
resource p 'Microsoft.ApiManagement/service/apis/policies@2023-05-01-preview' = {
  name: '${apim.name}/${api.name}/policy'
  properties: { value: loadTextContent('a.xml') }
}
resource link 'Microsoft.ApiManagement/service/products/apis@2023-05-01-preview' = {
  name: '${apim.name}/${productName}/${api.name}'
}
";
        let scan = scan_str(src);
        assert_eq!(scan.references[0].placement.api.as_deref(), Some("orders"));
        assert!(scan.declared.contains(&Declared::ProductApi {
            workspace: None,
            product: "${productName}".into(),
            api: "orders".into()
        }));
    }

    #[test]
    fn api_links_and_literals_placed_twice() {
        let src = r"
resource apim 'Microsoft.ApiManagement/service@2023-05-01-preview' existing = { name: 'apim' }
resource api 'Microsoft.ApiManagement/service/apis@2023-05-01-preview' = { name: 'apim/orders' }
resource product 'Microsoft.ApiManagement/service/products@2023-05-01-preview' = {
  parent: apim
  name: 'starter'
}
resource link 'Microsoft.ApiManagement/service/products/apiLinks@2023-05-01-preview' = {
  parent: product
  name: 'any-link-name'
  properties: { apiId: api.id }
}
var shared = '<policies />'
resource p1 'Microsoft.ApiManagement/service/apis/policies@2023-05-01-preview' = {
  parent: api
  name: 'policy'
  properties: { value: shared }
}
resource p2 'Microsoft.ApiManagement/service/products/policies@2023-05-01-preview' = {
  parent: product
  name: 'policy'
  properties: { value: shared }
}
";
        let scan = scan_str(src);
        assert!(scan.declared.contains(&Declared::ProductApi {
            workspace: None,
            product: "starter".into(),
            api: "orders".into()
        }));
        assert_eq!(scan.policies.len(), 1);
        assert_eq!(scan.policies[0].placement.resource, "p1");
        assert_eq!(scan.notes.len(), 1);
        assert!(scan.notes[0].message.contains("`p2` (product)"));
    }

    const MODULE: &str = r"
param policyXml string
param apiName string = 'inference-api'
param unusedXml string = '<policies />'
var updated = replace(policyXml, '{backend-id}', backend)
resource apim 'Microsoft.ApiManagement/service@2023-05-01-preview' existing = { name: 'apim' }
resource api 'Microsoft.ApiManagement/service/apis@2023-05-01-preview' = {
  parent: apim
  name: apiName
}
resource apiPolicy 'Microsoft.ApiManagement/service/apis/policies@2023-05-01-preview' = {
  parent: api
  name: 'policy'
  properties: { value: updated, format: 'rawxml' }
}
";

    #[test]
    fn module_parameters_are_placed_by_the_resource_that_receives_them() {
        let src = r"
module inference '../modules/api.bicep' = {
  name: 'inference'
  params: {
    apiName: 'openai'
    policyXml: loadTextContent('policy.xml')
  }
}
module other '../modules/missing.bicep' = {
  params: { policyXml: loadTextContent('other.xml') }
}
module unrelated '../modules/gone.bicep' = {
  params: { sku: 'Basic' }
}
";
        let load =
            |p: &Path| (p == Path::new("/repo/modules/api.bicep")).then(|| MODULE.to_owned());
        let scan = scan(Path::new("/repo/infra/main.bicep"), src, &load).unwrap();
        assert_eq!(scan.references.len(), 1);
        let r = &scan.references[0];
        assert_eq!(r.path, PathBuf::from("/repo/infra/policy.xml"));
        assert_eq!(r.placement.scope, Scope::Api);
        assert_eq!(r.placement.api.as_deref(), Some("openai"));
        assert_eq!(r.placement.resource, "inference.apiPolicy");
        assert_eq!(r.replaced, ["{backend-id}"]);
        assert_eq!(&src[r.site.clone()], "loadTextContent('policy.xml')");
        // The module's own default is the module file's to report, not the caller's.
        assert!(scan.policies.is_empty());
        assert!(scan.declared.contains(&Declared::Api {
            workspace: None,
            api: "openai".into()
        }));
        assert_eq!(scan.notes.len(), 1);
        assert_eq!(
            &src[scan.notes[0].site.clone()],
            "'../modules/missing.bicep'"
        );
    }

    #[test]
    fn a_module_file_alone_places_only_what_it_writes() {
        let scan = scan(Path::new("/repo/modules/api.bicep"), MODULE, &no_files).unwrap();
        assert!(scan.references.is_empty());
        assert!(scan.policies.is_empty());
        assert!(scan.notes.is_empty());
        assert!(scan.declared.contains(&Declared::Api {
            workspace: None,
            api: "inference-api".into()
        }));
    }

    #[test]
    fn syntax_bicep_uses_elsewhere_does_not_stop_the_reader() {
        let src = r"
targetScope = 'resourceGroup'
import { foo } from 'types.bicep'
@description('''multi
line''')
@allowed([
  'a'
  'b'
])
param mode string = 'a'
type pair = { a: string, b: int? }
func twice(x int) int => x * 2
var items = filter(list, x => x.enabled && !empty(x.name))
var first = items[?0].?name ?? 'none'
var safe = mcp!.outputs.id
#disable-next-line BCP037
output n string = '${mode}-${length(items)}'
resource p 'Microsoft.ApiManagement/service/apis/policies@2023-05-01-preview' = if (mode == 'a') {
  name: 'apim/orders/policy'
  properties: {
    value: loadTextContent('a.xml')
    ...extra
  }
}
";
        let scan = scan_str(src);
        assert_eq!(scan.references.len(), 1);
    }

    #[test]
    fn unreadable_bicep_is_an_error_with_its_position() {
        let e = scan(
            Path::new("a.bicep"),
            "var x = 'open\nvar y = 1\n",
            &no_files,
        )
        .unwrap_err();
        assert_eq!(e.at, 8);
        let e = scan(Path::new("a.bicep"), "var x = 1 /* open", &no_files).unwrap_err();
        assert_eq!(e.at, 10);
    }

    proptest! {
        #[test]
        fn scanning_any_text_never_panics(s in "[ a-z{}\\[\\]()'$:=.?!@/*#\n\\\\\u{e9}]{0,80}") {
            let src = format!("resource p 'Microsoft.ApiManagement/service/policies@1' = {{\n name: 'x'\n properties: {{ value: {s} }}\n}}\n{s}");
            let _ = scan(Path::new("a.bicep"), &src, &|_| Some(s.clone()));
            let _ = scan(Path::new("a.bicep"), &s, &no_files);
        }

        #[test]
        fn quoted_encode_then_decode_gives_the_text_back(s in "\\PC*|[\\\\'$\\{\\}\\n\\r\\t\\x01a-z]*") {
            let host = format!("'{}'", encode(Literal::BicepQuoted, &s).unwrap());
            let d = decode(Literal::BicepQuoted, &host, 1..host.len() - 1).unwrap();
            prop_assert_eq!(&d.text, &s);
            prop_assert!(d.opaque.is_empty());
            let p = policy_of(d, 1..host.len() - 1, Literal::BicepQuoted);
            assert_maps_back(&host, &p);
        }

        #[test]
        fn multiline_encode_then_decode_gives_the_text_back(s in "[^']*('[^']+)*") {
            prop_assume!(!s.contains("${"));
            let host = format!("'''\n{}'''", encode(Literal::BicepMultiline, &s).unwrap());
            let (tok, end) = lex_string(&host, 0, host.len()).unwrap();
            prop_assert_eq!(end, host.len());
            let d = decode(Literal::BicepMultiline, &host, tok.content.clone()).unwrap();
            prop_assert_eq!(&d.text, &s);
            let p = policy_of(d, tok.content, Literal::BicepMultiline);
            assert_maps_back(&host, &p);
        }
    }
}
