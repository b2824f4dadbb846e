//! Finds where a policy expression `@(...)` or `@{...}` ends.
//!
//! Policy expressions hold C#, written raw inside attribute values and element text: `"`, `<`,
//! `>` and `&&` appear unescaped. To find the end, this scanner balances `()`, `{}` and `[]`
//! while skipping everything that may hold an unbalanced bracket: regular strings (with `\`
//! escapes), verbatim strings `@"..."` (with `""`), interpolated strings `$"..."`, `$@"..."`,
//! `@$"..."` (whose `{...}` holes are code again), char literals, `//` and `/* */` comments.
//!
//! The scanner is a loop over an explicit stack, so no input can overflow the call stack.

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
    /// Code, closed by this bracket.
    Code(u8),
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
    scan(src, at, false)
}

/// Like [`scan_expression`], but a closing bracket that matches an outer open bracket closes
/// every bracket inside it. This reads expressions whose C# is itself broken (seen in real
/// files: `Parse((string)x["a";}`), for callers that confirm the end another way.
pub fn scan_expression_tolerant(src: &[u8], at: usize) -> Result<usize, ScanError> {
    scan(src, at, true)
}

fn scan(src: &[u8], at: usize, tolerant: bool) -> Result<usize, ScanError> {
    debug_assert!(starts_expression(src, at));
    let closer = if src[at + 1] == b'(' { b')' } else { b'}' };
    let mut stack = vec![Frame::Code(closer)];
    let mut i = at + 2;
    while let Some(&frame) = stack.last() {
        let Some(&c) = src.get(i) else {
            return Err(ScanError::Eof);
        };
        match frame {
            Frame::Code(closer) => match c {
                b'"' => i = skip_regular_string(src, i + 1)?,
                b'@' if src.get(i + 1) == Some(&b'"') => i = skip_verbatim_string(src, i + 2)?,
                b'$' if src.get(i + 1) == Some(&b'"') => {
                    stack.push(Frame::Interpolated { verbatim: false });
                    i += 2;
                }
                b'$' | b'@'
                    if matches!(src.get(i + 1), Some(b'@' | b'$'))
                        && src.get(i + 1) != Some(&c)
                        && src.get(i + 2) == Some(&b'"') =>
                {
                    stack.push(Frame::Interpolated { verbatim: true });
                    i += 3;
                }
                b'\'' => i = skip_char_literal(src, i + 1),
                b'/' if src.get(i + 1) == Some(&b'/') => {
                    i = memchr::memchr(b'\n', &src[i..]).map_or(src.len(), |n| i + n + 1);
                }
                b'/' if src.get(i + 1) == Some(&b'*') => {
                    i = memchr::memmem::find(&src[i + 2..], b"*/")
                        .map(|n| i + 2 + n + 2)
                        .ok_or(ScanError::Eof)?;
                }
                b'(' => {
                    stack.push(Frame::Code(b')'));
                    i += 1;
                }
                b'{' => {
                    stack.push(Frame::Code(b'}'));
                    i += 1;
                }
                b'[' => {
                    stack.push(Frame::Code(b']'));
                    i += 1;
                }
                b')' | b'}' | b']' => {
                    if c == closer {
                        stack.pop();
                    } else if !tolerant {
                        return Err(ScanError::Mismatch(i));
                    } else if let Some(depth) = stack
                        .iter()
                        .rposition(|f| matches!(f, Frame::Code(b) if *b == c))
                    {
                        stack.truncate(depth);
                    }
                    i += 1;
                }
                _ => i += 1,
            },
            Frame::Interpolated { verbatim } => match c {
                b'{' if src.get(i + 1) == Some(&b'{') => i += 2,
                b'{' => {
                    stack.push(Frame::Code(b'}'));
                    i += 1;
                }
                b'"' if verbatim && src.get(i + 1) == Some(&b'"') => i += 2,
                b'"' => {
                    stack.pop();
                    i += 1;
                }
                b'\\' if !verbatim => i += 2,
                _ => i += 1,
            },
        }
    }
    Ok(i)
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
    fn deep_nesting_does_not_overflow() {
        let s = format!("@{}{}", "(".repeat(200_000), ")".repeat(200_000));
        assert_eq!(scan_expression(s.as_bytes(), 0), Ok(s.len()));
    }
}
