//! Finds where a policy expression `@(...)` or `@{...}` ends.
//!
//! Policy expressions hold C#, written raw inside attribute values and element text: `"`, `<`,
//! `>` and `&&` appear unescaped. To find the end, this scanner balances `()`, `{}` and `[]`
//! while skipping everything that may hold an unbalanced bracket: regular strings (with `\`
//! escapes), verbatim strings `@"..."` (with `""`), interpolated strings `$"..."`, `$@"..."`,
//! `@$"..."` (whose `{...}` holes are code again), char literals, `//` and `/* */` comments.
//!
//! The scanner is a loop over an explicit stack, so no input can overflow the call stack.
//!
//! The parser scans many expressions over one source, and a scan that fails (an unbalanced
//! expression read again as plain XML) may run far past the place where parsing resumes, so
//! the next expression would be scanned over the same bytes again: with one failing `@(` per
//! element, that is quadratic in the file size (a 50 KB file took minutes). A [`Scanner`]
//! therefore remembers the outcome of every bracket it has balanced or given up on. That
//! outcome depends only on the bytes after the bracket (the strict scan is context-free once
//! it stands in code at a bracket), so a later scan that meets the same bracket jumps over it.

use std::collections::HashMap;

/// Why an expression has no end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanError {
    /// The text ended inside the expression.
    Eof,
    /// A closing bracket that does not match the innermost open one, at this offset.
    Mismatch(usize),
}

#[derive(Clone, Copy)]
enum Frame {
    /// Code, opened by the bracket at `open` and closed by `closer`.
    Code { closer: u8, open: usize },
    /// Inside an interpolated string.
    Interpolated { verbatim: bool },
}

/// Whether an expression starts at `at`: `@(` or `@{`.
pub fn starts_expression(src: &[u8], at: usize) -> bool {
    src.get(at) == Some(&b'@') && matches!(src.get(at + 1), Some(b'(' | b'{'))
}

/// The end (exclusive) of the expression whose `@` is at `at`. `src[at..]` must start with
/// `@(` or `@{`.
pub fn scan_expression(src: &[u8], at: usize) -> Result<usize, ScanError> {
    Scanner::new(src).strict(at)
}

/// Like [`scan_expression`], but a closing bracket that matches an outer open bracket closes
/// every bracket inside it. This reads expressions whose C# is itself broken (seen in real
/// files: `Parse((string)x["a";}`), for callers that confirm the end another way.
pub fn scan_expression_tolerant(src: &[u8], at: usize) -> Result<usize, ScanError> {
    Scanner::new(src).tolerant(at, src.len()).0
}

fn closer_of(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    }
}

fn closer_index(closer: u8) -> usize {
    match closer {
        b')' => 0,
        b']' => 1,
        _ => 2,
    }
}

/// Scans the expressions of one source, remembering each bracket's outcome (see the module
/// documentation for why).
pub(crate) struct Scanner<'s> {
    src: &'s [u8],
    /// Strict outcome of the bracket at each offset: past its closer, or why it never closes.
    memo: HashMap<usize, Result<usize, ScanError>>,
    /// Bytes visited, so tests can check that scanning stays linear without timing it.
    #[cfg(test)]
    steps: usize,
}

impl<'s> Scanner<'s> {
    pub(crate) fn new(src: &'s [u8]) -> Self {
        Self {
            src,
            memo: HashMap::new(),
            #[cfg(test)]
            steps: 0,
        }
    }

    /// [`scan_expression`], sharing this scanner's memory of earlier scans.
    pub(crate) fn strict(&mut self, at: usize) -> Result<usize, ScanError> {
        self.run(at, false, self.src.len()).0
    }

    /// [`scan_expression_tolerant`], reading no byte at or past `limit` (which counts as the
    /// end of the text). Also returns how far the scan read, for the caller's budget.
    ///
    /// Tolerant outcomes depend on the brackets open around a bracket, so they are not
    /// remembered; only strict successes (which a tolerant scan repeats) are reused.
    pub(crate) fn tolerant(
        &mut self,
        at: usize,
        limit: usize,
    ) -> (Result<usize, ScanError>, usize) {
        self.run(at, true, limit.min(self.src.len()))
    }

    /// What is known about the bracket at `open`, as seen by a scan that stops at `limit`.
    fn recall(
        &self,
        open: usize,
        tolerant: bool,
        limit: usize,
    ) -> Option<Result<usize, ScanError>> {
        match *self.memo.get(&open)? {
            Ok(end) if end <= limit => Some(Ok(end)),
            // It closes, but only past the limit: this scan runs out first.
            Ok(_) => Some(Err(ScanError::Eof)),
            Err(e) if !tolerant => Some(Err(e)),
            Err(_) => None,
        }
    }

    fn run(
        &mut self,
        at: usize,
        tolerant: bool,
        limit: usize,
    ) -> (Result<usize, ScanError>, usize) {
        debug_assert!(starts_expression(self.src, at));
        let src: &'s [u8] = &self.src[..limit];
        let open = at + 1;
        if open >= limit {
            return (Err(ScanError::Eof), limit.max(at));
        }
        if let Some(known) = self.recall(open, tolerant, limit) {
            let reached = match known {
                Ok(end) => end,
                Err(ScanError::Mismatch(m)) => m,
                Err(ScanError::Eof) => limit,
            };
            return (known, reached);
        }
        let mut stack = vec![Frame::Code {
            closer: closer_of(src[open]),
            open,
        }];
        // Open code frames per closer, so a tolerant scan ignores a stray closer in O(1)
        // instead of searching the whole stack for it.
        let mut open_count = [0usize; 3];
        open_count[closer_index(closer_of(src[open]))] += 1;
        let mut i = at + 2;
        let failure = loop {
            let Some(&frame) = stack.last() else {
                return (Ok(i), i);
            };
            let Some(&c) = src.get(i) else {
                break ScanError::Eof;
            };
            #[cfg(test)]
            {
                self.steps += 1;
            }
            let opens_code = match frame {
                Frame::Code { closer, open } => match c {
                    b'"' => match skip_regular_string(src, i + 1) {
                        Ok(next) => {
                            i = next;
                            false
                        }
                        Err(e) => break e,
                    },
                    b'@' if src.get(i + 1) == Some(&b'"') => {
                        match skip_verbatim_string(src, i + 2) {
                            Ok(next) => {
                                i = next;
                                false
                            }
                            Err(e) => break e,
                        }
                    }
                    b'$' if src.get(i + 1) == Some(&b'"') => {
                        stack.push(Frame::Interpolated { verbatim: false });
                        i += 2;
                        false
                    }
                    b'$' | b'@'
                        if matches!(src.get(i + 1), Some(b'@' | b'$'))
                            && src.get(i + 1) != Some(&c)
                            && src.get(i + 2) == Some(&b'"') =>
                    {
                        stack.push(Frame::Interpolated { verbatim: true });
                        i += 3;
                        false
                    }
                    b'\'' => {
                        i = skip_char_literal(src, i + 1);
                        false
                    }
                    b'/' if src.get(i + 1) == Some(&b'/') => {
                        i = memchr::memchr(b'\n', &src[i..]).map_or(src.len(), |n| i + n + 1);
                        false
                    }
                    b'/' if src.get(i + 1) == Some(&b'*') => {
                        match memchr::memmem::find(&src[i + 2..], b"*/") {
                            Some(n) => {
                                i += 2 + n + 2;
                                false
                            }
                            None => break ScanError::Eof,
                        }
                    }
                    b'(' | b'{' | b'[' => true,
                    b')' | b'}' | b']' => {
                        if c == closer {
                            stack.pop();
                            open_count[closer_index(c)] -= 1;
                            if !tolerant {
                                self.memo.insert(open, Ok(i + 1));
                            }
                        } else if !tolerant {
                            break ScanError::Mismatch(i);
                        } else if open_count[closer_index(c)] > 0 {
                            // Close every bracket inside the outer one this closer matches.
                            while let Some(popped) = stack.pop() {
                                if let Frame::Code { closer, .. } = popped {
                                    open_count[closer_index(closer)] -= 1;
                                    if closer == c {
                                        break;
                                    }
                                }
                            }
                        }
                        i += 1;
                        false
                    }
                    _ => {
                        i += 1;
                        false
                    }
                },
                Frame::Interpolated { verbatim } => match c {
                    b'{' if src.get(i + 1) == Some(&b'{') => {
                        i += 2;
                        false
                    }
                    b'{' => true,
                    b'"' if verbatim && src.get(i + 1) == Some(&b'"') => {
                        i += 2;
                        false
                    }
                    b'"' => {
                        stack.pop();
                        i += 1;
                        false
                    }
                    b'\\' if !verbatim => {
                        i += 2;
                        false
                    }
                    _ => {
                        i += 1;
                        false
                    }
                },
            };
            if opens_code {
                // A bracket in code: skip it whole when an earlier scan balanced it.
                match self.recall(i, tolerant, limit) {
                    Some(Ok(end)) => i = end,
                    Some(Err(e)) => break e,
                    None => {
                        let closer = closer_of(c);
                        stack.push(Frame::Code { closer, open: i });
                        open_count[closer_index(closer)] += 1;
                        i += 1;
                    }
                }
            }
        };
        if !tolerant {
            // Every bracket still open fails the same way: its scan would meet the same end.
            for frame in &stack {
                if let Frame::Code { open, .. } = *frame {
                    self.memo.insert(open, Err(failure));
                }
            }
        }
        let reached = match failure {
            ScanError::Mismatch(m) => m,
            ScanError::Eof => limit,
        };
        (Err(failure), reached)
    }
}

/// Past the closing quote of a regular string whose body starts at `i`.
fn skip_regular_string(src: &[u8], mut i: usize) -> Result<usize, ScanError> {
    loop {
        match src.get(i) {
            None => return Err(ScanError::Eof),
            Some(b'\\') => i += 2,
            Some(b'"') => return Ok(i + 1),
            Some(_) => i += 1,
        }
    }
}

/// Past the closing quote of a verbatim string whose body starts at `i`.
fn skip_verbatim_string(src: &[u8], mut i: usize) -> Result<usize, ScanError> {
    loop {
        match src.get(i) {
            None => return Err(ScanError::Eof),
            Some(b'"') if src.get(i + 1) == Some(&b'"') => i += 2,
            Some(b'"') => return Ok(i + 1),
            Some(_) => i += 1,
        }
    }
}

/// Past a char literal whose body starts at `i`: `'x'`, `'\''`, `'\u0041'`. A `'` that does
/// not close within a few bytes is taken as a stray quote and skipped alone.
fn skip_char_literal(src: &[u8], i: usize) -> usize {
    let body_end = if src.get(i) == Some(&b'\\') {
        // An escape: `\'`, `\\`, `\n`, `\u0041`, `\x41`.
        let rest = &src[(i + 2).min(src.len())..];
        memchr::memchr(b'\'', &rest[..rest.len().min(8)]).map(|n| i + 2 + n)
    } else {
        // One UTF-8 char, up to four bytes.
        let rest = &src[i.min(src.len())..];
        memchr::memchr(b'\'', &rest[..rest.len().min(5)])
            .filter(|&n| n > 0)
            .map(|n| i + n)
    };
    body_end.map_or(i, |end| end + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end_of(s: &str) -> Result<&str, ScanError> {
        let at = s.find('@').unwrap();
        scan_expression(s.as_bytes(), at).map(|end| &s[at..end])
    }

    #[test]
    fn balances_nested_parens() {
        assert_eq!(end_of("@(a(b(c)))\" rest").unwrap(), "@(a(b(c)))");
    }

    #[test]
    fn skips_brackets_and_quotes_inside_strings() {
        let e = r#"@(context.Request.Headers.GetValueOrDefault("X-)Tenant", "none"))" />"#;
        assert_eq!(
            end_of(e).unwrap(),
            r#"@(context.Request.Headers.GetValueOrDefault("X-)Tenant", "none"))"#
        );
        assert_eq!(end_of(r#"@("a\")b")x"#).unwrap(), r#"@("a\")b")"#);
    }

    #[test]
    fn verbatim_strings_use_doubled_quotes() {
        let e = r#"@(Regex.Match(x, @"max-age=(?<age>\d+)""?").Groups["age"]?.Value)" />"#;
        assert!(end_of(e).unwrap().ends_with("?.Value)"));
    }

    #[test]
    fn interpolated_strings_have_code_holes() {
        assert_eq!(
            end_of(r#"@($"{context.RequestId}-{f("}")}")!"#).unwrap(),
            r#"@($"{context.RequestId}-{f("}")}")"#
        );
        assert_eq!(
            end_of(r#"@($@"{{literal}} ""{x}"" )")!"#).unwrap(),
            r#"@($@"{{literal}} ""{x}"" )")"#
        );
        assert_eq!(end_of(r#"@(@$"{a})")!"#).unwrap(), r#"@(@$"{a})")"#);
    }

    #[test]
    fn char_literals_and_comments_hide_brackets() {
        assert_eq!(
            end_of("@(p.Trim('\"').Split(')').Last())\" />").unwrap(),
            "@(p.Trim('\"').Split(')').Last())"
        );
        assert_eq!(
            end_of("@{ /* } ) */ return \"x\"; // )\n}</value>").unwrap(),
            "@{ /* } ) */ return \"x\"; // )\n}"
        );
        assert_eq!(
            end_of(r"@(c == '\'' ? 1 : 2)x").unwrap(),
            r"@(c == '\'' ? 1 : 2)"
        );
    }

    #[test]
    fn generics_and_lambdas_do_not_count() {
        let e = "@{ var ok = b.Any(i => (int)i[\"q\"] > 0); return x.As<JObject>(); }<";
        assert!(end_of(e).unwrap().ends_with("; }"));
    }

    #[test]
    fn reports_eof_and_mismatch() {
        assert_eq!(end_of("@(a(b)"), Err(ScanError::Eof));
        assert_eq!(end_of("@(a]"), Err(ScanError::Mismatch(3)));
        assert_eq!(end_of("@(\"never closed)"), Err(ScanError::Eof));
    }

    #[test]
    fn tolerant_mode_closes_inner_brackets_at_an_outer_closer() {
        let s = r#"@{ var x = P((string)v["a"; return x;}"/>"#;
        let brace = s.find('}').unwrap();
        assert_eq!(
            scan_expression(s.as_bytes(), 0),
            Err(ScanError::Mismatch(brace))
        );
        assert_eq!(scan_expression_tolerant(s.as_bytes(), 0), Ok(brace + 1));
    }

    #[test]
    fn a_later_scan_reuses_brackets_an_earlier_scan_balanced() {
        let s = "@(x</a><a>@(ok)</a>]";
        let inner = s.rfind('@').unwrap();
        let mut scanner = Scanner::new(s.as_bytes());
        assert_eq!(scanner.strict(0), Err(ScanError::Mismatch(s.len() - 1)));
        let steps = scanner.steps;
        assert_eq!(scanner.strict(inner), Ok(inner + "@(ok)".len()));
        assert_eq!(scanner.steps, steps, "the inner bracket was scanned again");
    }

    /// Every `@(` of these sources is scanned once, as the parser does after each failed
    /// scan; a scanner without memory reads the whole rest of the source each time.
    #[test]
    fn scanning_every_expression_start_stays_linear() {
        let sources = [
            // Unclosed brackets nest, and a stray closer fails them all.
            format!("{}]", "<a>@(x</a>".repeat(2000)),
            // Strings flip between two phases: inside and outside a string.
            format!("{}]", "<a b=\"@(x\"/>".repeat(2000)),
            // Nothing closes: every scan runs into the end.
            "@(".repeat(4000),
            format!("{}]", "<a>@{ '(' /* ( */ @\"(\" $\"{(\" </a>".repeat(1000)),
        ];
        for s in sources {
            let mut scanner = Scanner::new(s.as_bytes());
            for at in memchr::memchr_iter(b'@', s.as_bytes()) {
                if starts_expression(s.as_bytes(), at) {
                    let _ = scanner.strict(at);
                }
            }
            assert!(
                scanner.steps <= 3 * s.len(),
                "{} steps for {} bytes of {:?}...",
                scanner.steps,
                s.len(),
                &s[..30]
            );
        }
    }

    #[test]
    fn tolerant_scan_stops_at_its_limit_and_says_how_far_it_read() {
        let s = "@(a] more text then ) and more";
        let close = s.find(')').unwrap();
        let mut scanner = Scanner::new(s.as_bytes());
        assert_eq!(scanner.tolerant(0, s.len()), (Ok(close + 1), close + 1));
        assert_eq!(scanner.tolerant(0, 10), (Err(ScanError::Eof), 10));
        assert_eq!(scanner.tolerant(0, 0).0, Err(ScanError::Eof));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let s = format!("@{}{}", "(".repeat(200_000), ")".repeat(200_000));
        assert_eq!(scan_expression(s.as_bytes(), 0), Ok(s.len()));
    }
}
