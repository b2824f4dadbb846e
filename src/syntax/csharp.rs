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
//! # Linear time
//!
//! The parser scans many expressions over one source, and a scan that fails (an unbalanced
//! expression, then read as plain XML) may run far past the place where parsing resumes, so
//! the next expression would be scanned over the same bytes again. With one failing `@(` per
//! element that is quadratic: a 50 KB file took minutes. A [`Scanner`] therefore remembers:
//!
//! - for every offset where a strict scan stood in code, the first closing bracket at that
//!   depth (or the failure) it met. From there on the scan depends on nothing but the bytes
//!   (frames further out are never consulted), so a later scan standing in code at the same
//!   offset jumps straight to that closer. Two scans that once stand in code at the same
//!   offset go the same way ever after, so each offset is stepped through about once.
//! - where each string and comment ends, in tables built once, so a scan entering a string
//!   or comment that another scan skipped from a different start does not read it again.

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
    /// Code, closed by `closer`; the offsets it stood in code at are `trail[trail_start..]`.
    Code { closer: u8, trail_start: usize },
    /// Inside an interpolated string.
    Interpolated { verbatim: bool },
}

/// What a strict scan standing in code at some offset meets first at that depth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    /// A closing bracket at this offset: it closes the frame, or mismatches it.
    Closer(usize),
    /// A mismatched closer deeper in, at this offset: the scan fails whatever the frame.
    Fails(usize),
    /// The end of the text.
    Eof,
}

impl Event {
    fn encode(self) -> u32 {
        // 0 is "unknown"; offsets fit, as `Scanner::new` keeps memory off for huge inputs.
        match self {
            Event::Eof => 1,
            Event::Closer(m) => 2 + 2 * m as u32,
            Event::Fails(m) => 3 + 2 * m as u32,
        }
    }

    fn decode(code: u32) -> Option<Event> {
        let m = (code.saturating_sub(2) / 2) as usize;
        match code {
            0 => None,
            1 => Some(Event::Eof),
            c if c % 2 == 0 => Some(Event::Closer(m)),
            _ => Some(Event::Fails(m)),
        }
    }
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

/// "No end": the text ends first.
const NONE: u32 = u32::MAX;

/// For every offset `p`, the offset just past the string whose body starts at `p` (`NONE`
/// when it never closes), built from the end so each byte is read once.
fn string_ends(src: &[u8], verbatim: bool) -> Vec<u32> {
    let n = src.len();
    let mut ends = vec![NONE; n + 2];
    for p in (0..n).rev() {
        ends[p] = match src[p] {
            b'"' if verbatim && src.get(p + 1) == Some(&b'"') => ends[p + 2],
            b'"' => (p + 1) as u32,
            b'\\' if !verbatim => ends[p + 2],
            _ => ends[p + 1],
        };
    }
    ends
}

/// Every offset where `needle` starts.
fn occurrences(src: &[u8], needle: &[u8]) -> Vec<u32> {
    memchr::memmem::find_iter(src, needle)
        .map(|p| p as u32)
        .collect()
}

/// The first of the sorted `offsets` at or after `from`.
fn first_at_or_after(offsets: &[u32], from: usize) -> Option<usize> {
    let k = offsets.partition_point(|&p| (p as usize) < from);
    offsets.get(k).map(|&p| p as usize)
}

/// Scans the expressions of one source, remembering what it learns (see the module
/// documentation for why). Every table is built on first need.
pub(crate) struct Scanner<'s> {
    src: &'s [u8],
    /// Whether offsets fit the `u32` tables (always, below 2 GiB).
    remember: bool,
    /// Encoded [`Event`] per offset a strict scan stood in code at; 0 where unknown.
    events: Vec<u32>,
    regular_ends: Vec<u32>,
    verbatim_ends: Vec<u32>,
    block_comment_ends: Option<Vec<u32>>,
    newlines: Option<Vec<u32>>,
    /// Offsets the running scan stood in code at, whose events are not known yet.
    trail: Vec<u32>,
    /// Bytes the plain scanner has read for strict scans of this source so far.
    plain_spent: usize,
}

#[cfg(test)]
thread_local! {
    /// Scanner loop steps on this thread, so tests can check that scanning stays linear
    /// without timing it.
    pub(crate) static STEPS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Scanner loop steps taken on this thread so far.
#[cfg(test)]
pub(crate) fn steps() -> usize {
    STEPS.with(|s| s.get())
}

impl<'s> Scanner<'s> {
    pub(crate) fn new(src: &'s [u8]) -> Self {
        Self {
            src,
            remember: src.len() < (u32::MAX as usize - 4) / 2,
            events: Vec::new(),
            regular_ends: Vec::new(),
            verbatim_ends: Vec::new(),
            block_comment_ends: None,
            newlines: None,
            trail: Vec::new(),
            plain_spent: 0,
        }
    }

    /// A scanner that remembers from the first scan on, as it does once the plain
    /// scanner's budget is spent.
    #[cfg(test)]
    pub(crate) fn remembering(src: &'s [u8]) -> Self {
        Self {
            plain_spent: usize::MAX / 2,
            ..Self::new(src)
        }
    }

    /// [`scan_expression`], reusing what earlier scans of this source learnt.
    pub(crate) fn strict(&mut self, at: usize) -> Result<usize, ScanError> {
        // Real files scan each expression once: the plain scanner, with no table to build,
        // is fastest. Only when its reading passes twice the source (repeated failed scans
        // of hostile input) does the remembering scanner take over, keeping the total linear.
        if self.events.is_empty() {
            let result = plain::strict(self.src, at);
            self.plain_spent += match result {
                Ok(end) | Err(ScanError::Mismatch(end)) => end,
                Err(ScanError::Eof) => self.src.len(),
            }
            .saturating_sub(at);
            if !self.remember || self.plain_spent <= 2 * self.src.len() + 4096 {
                return result;
            }
        }
        if self.remember && self.events.is_empty() {
            self.events = vec![0; self.src.len() + 1];
        }
        self.run(at, false, self.src.len()).0
    }

    /// [`scan_expression_tolerant`], reading no byte at or past `limit` (which counts as the
    /// end of the text). Also returns how far the scan read, for the caller's budget.
    ///
    /// Tolerant scans learn nothing (their outcome depends on the brackets open around), but
    /// they reuse what strict scans learnt wherever no mismatch lies ahead.
    pub(crate) fn tolerant(
        &mut self,
        at: usize,
        limit: usize,
    ) -> (Result<usize, ScanError>, usize) {
        self.run(at, true, limit.min(self.src.len()))
    }

    fn event(&self, i: usize) -> Option<Event> {
        Event::decode(*self.events.get(i)?)
    }

    /// Records `event` for the offsets in `trail[from..]`, and forgets them.
    fn learn(&mut self, from: usize, event: Event) {
        if self.remember {
            let code = event.encode();
            for &p in &self.trail[from..] {
                self.events[p as usize] = code;
            }
        }
        self.trail.truncate(from);
    }

    /// Just past the string (regular or verbatim) whose body starts at `body`, if it closes
    /// before `limit`.
    fn string_end(&mut self, body: usize, verbatim: bool, limit: usize) -> Option<usize> {
        let table = if verbatim {
            &mut self.verbatim_ends
        } else {
            &mut self.regular_ends
        };
        if table.is_empty() {
            *table = string_ends(self.src, verbatim);
        }
        let end = *table.get(body)?;
        (end != NONE && end as usize <= limit).then_some(end as usize)
    }

    /// Just past the `*/` closing a comment whose body starts at `body`, if before `limit`.
    fn block_comment_end(&mut self, body: usize, limit: usize) -> Option<usize> {
        let src = self.src;
        let ends = self
            .block_comment_ends
            .get_or_insert_with(|| occurrences(src, b"*/"));
        first_at_or_after(ends, body)
            .map(|p| p + 2)
            .filter(|&end| end <= limit)
    }

    /// Just past the line break ending a `//` comment that starts at `at` (or `limit`).
    fn line_end(&mut self, at: usize, limit: usize) -> usize {
        let src = self.src;
        let newlines = self.newlines.get_or_insert_with(|| occurrences(src, b"\n"));
        first_at_or_after(newlines, at).map_or(limit, |p| (p + 1).min(limit))
    }

    fn run(
        &mut self,
        at: usize,
        tolerant: bool,
        limit: usize,
    ) -> (Result<usize, ScanError>, usize) {
        debug_assert!(starts_expression(self.src, at));
        let open = at + 1;
        if open >= limit {
            return (Err(ScanError::Eof), limit.max(at));
        }
        let src: &'s [u8] = &self.src[..limit];
        // Only strict scans learn; they start with an empty trail and leave one.
        let learn = !tolerant && self.remember;
        debug_assert!(self.trail.is_empty());
        let first_closer = closer_of(src[open]);
        let mut stack = vec![Frame::Code {
            closer: first_closer,
            trail_start: 0,
        }];
        // Open code frames per closer, so a tolerant scan ignores a stray closer in O(1)
        // instead of searching the whole stack for it.
        let mut open_count = [0usize; 3];
        open_count[closer_index(first_closer)] += 1;
        let mut i = at + 2;
        // The failure, and whether the innermost frame met it at its own depth.
        let (failure, own_depth) = loop {
            let Some(&frame) = stack.last() else {
                return (Ok(i), i);
            };
            let Some(&c) = src.get(i) else {
                break (ScanError::Eof, false);
            };
            #[cfg(test)]
            STEPS.with(|s| s.set(s.get() + 1));
            match frame {
                Frame::Code {
                    closer,
                    trail_start,
                } => {
                    match self.event(i) {
                        Some(Event::Closer(m)) if m < limit && src[m] == closer => {
                            // Nothing between here and `m` changes the frame: go there.
                            if learn {
                                self.learn(trail_start, Event::Closer(m));
                            }
                            stack.pop();
                            open_count[closer_index(closer)] -= 1;
                            i = m + 1;
                            continue;
                        }
                        // A tolerant scan gets to the mismatching closer the same way, and
                        // handles it itself (`m == i`: it stands there already).
                        Some(Event::Closer(m)) if m < limit && tolerant && m > i => {
                            i = m;
                            continue;
                        }
                        Some(Event::Closer(m)) if m < limit && !tolerant => {
                            break (ScanError::Mismatch(m), true);
                        }
                        Some(Event::Closer(m)) if m >= limit => break (ScanError::Eof, false),
                        Some(Event::Eof) => break (ScanError::Eof, false),
                        Some(Event::Fails(m)) if !tolerant => {
                            break (ScanError::Mismatch(m), false);
                        }
                        _ => {}
                    }
                    if learn {
                        self.trail.push(i as u32);
                    }
                    match c {
                        b'"' => match self.string_end(i + 1, false, limit) {
                            Some(end) => i = end,
                            None => break (ScanError::Eof, false),
                        },
                        b'@' if src.get(i + 1) == Some(&b'"') => {
                            match self.string_end(i + 2, true, limit) {
                                Some(end) => i = end,
                                None => break (ScanError::Eof, false),
                            }
                        }
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
                        b'/' if src.get(i + 1) == Some(&b'/') => i = self.line_end(i, limit),
                        b'/' if src.get(i + 1) == Some(&b'*') => {
                            match self.block_comment_end(i + 2, limit) {
                                Some(end) => i = end,
                                None => break (ScanError::Eof, false),
                            }
                        }
                        b'(' | b'{' | b'[' => {
                            let closer = closer_of(c);
                            stack.push(Frame::Code {
                                closer,
                                trail_start: self.trail.len(),
                            });
                            open_count[closer_index(closer)] += 1;
                            i += 1;
                        }
                        b')' | b'}' | b']' => {
                            if c == closer {
                                stack.pop();
                                open_count[closer_index(c)] -= 1;
                                if learn {
                                    self.learn(trail_start, Event::Closer(i));
                                }
                            } else if !tolerant {
                                break (ScanError::Mismatch(i), true);
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
                        }
                        _ => i += 1,
                    }
                }
                Frame::Interpolated { verbatim } => match c {
                    b'{' if src.get(i + 1) == Some(&b'{') => i += 2,
                    b'{' => {
                        stack.push(Frame::Code {
                            closer: b'}',
                            trail_start: self.trail.len(),
                        });
                        open_count[closer_index(b'}')] += 1;
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
        };
        if learn {
            // The innermost frame met a mismatch at its own depth as its closer; every frame
            // further out fails the same way whatever its closer.
            match failure {
                ScanError::Mismatch(m) => {
                    if own_depth && let Some(&Frame::Code { trail_start, .. }) = stack.last() {
                        self.learn(trail_start, Event::Closer(m));
                    }
                    self.learn(0, Event::Fails(m));
                }
                ScanError::Eof => self.learn(0, Event::Eof),
            }
        }
        self.trail.clear();
        let reached = match failure {
            ScanError::Mismatch(m) => m,
            ScanError::Eof => limit,
        };
        (Err(failure), reached)
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

/// The scanner as first written: no memory. It is the fast path for real files, where each
/// expression is scanned once; the remembering [`Scanner`] takes over when repeated failed
/// scans would make it quadratic. The tests keep it as the reference the remembering scanner
/// must agree with.
mod plain {
    use super::ScanError;

    #[derive(Clone, Copy)]
    enum Frame {
        /// Code, closed by this bracket.
        Code(u8),
        /// Inside an interpolated string.
        Interpolated { verbatim: bool },
    }

    /// Frames kept inline up to a depth real expressions never reach: a scan per expression
    /// used to allocate its stack, which was a good part of scanning.
    const INLINE: usize = 32;

    struct Frames {
        inline: [Frame; INLINE],
        len: usize,
        deeper: Vec<Frame>,
    }

    impl Frames {
        fn new(first: Frame) -> Self {
            Self {
                inline: [first; INLINE],
                len: 1,
                deeper: Vec::new(),
            }
        }

        fn get(&self, k: usize) -> Frame {
            if k < INLINE {
                self.inline[k]
            } else {
                self.deeper[k - INLINE]
            }
        }

        fn last(&self) -> Option<Frame> {
            self.len.checked_sub(1).map(|k| self.get(k))
        }

        fn push(&mut self, frame: Frame) {
            if self.len < INLINE {
                self.inline[self.len] = frame;
            } else {
                self.deeper.push(frame);
            }
            self.len += 1;
        }

        fn pop(&mut self) {
            self.truncate(self.len - 1);
        }

        fn truncate(&mut self, len: usize) {
            self.len = len;
            self.deeper.truncate(len.saturating_sub(INLINE));
        }
    }

    /// The bytes that may change the scan in code; runs of any other byte are stepped over
    /// at once, as most of an expression is identifiers, dots and spaces.
    static CODE_SPECIAL: [bool; 256] = {
        let mut table = [false; 256];
        let bytes = b"\"@$'/({[)}]";
        let mut k = 0;
        while k < bytes.len() {
            table[bytes[k] as usize] = true;
            k += 1;
        }
        table
    };

    fn scan(src: &[u8], at: usize, tolerant: bool) -> Result<usize, ScanError> {
        debug_assert!(super::starts_expression(src, at));
        let closer = if src[at + 1] == b'(' { b')' } else { b'}' };
        let mut stack = Frames::new(Frame::Code(closer));
        let mut i = at + 2;
        while let Some(frame) = stack.last() {
            #[cfg(test)]
            super::STEPS.with(|n| n.set(n.get() + 1));
            match frame {
                Frame::Code(closer) => {
                    while src.get(i).is_some_and(|&c| !CODE_SPECIAL[c as usize]) {
                        i += 1;
                    }
                    let Some(&c) = src.get(i) else {
                        return Err(ScanError::Eof);
                    };
                    match c {
                        b'"' => i = skip_regular_string(src, i + 1)?,
                        b'@' if src.get(i + 1) == Some(&b'"') => {
                            i = skip_verbatim_string(src, i + 2)?
                        }
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
                            } else if let Some(depth) = (0..stack.len)
                                .rev()
                                .find(|&k| matches!(stack.get(k), Frame::Code(b) if b == c))
                            {
                                stack.truncate(depth);
                            }
                            i += 1;
                        }
                        _ => i += 1,
                    }
                }
                Frame::Interpolated { verbatim } => {
                    // Only these three bytes do anything here (`\` only when not verbatim).
                    i = match src
                        .get(i..)
                        .and_then(|rest| memchr::memchr3(b'{', b'"', b'\\', rest))
                    {
                        Some(n) => i + n,
                        None => return Err(ScanError::Eof),
                    };
                    match src[i] {
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
                    }
                }
            }
        }
        Ok(i)
    }

    /// Past the closing quote of a regular string whose body starts at `i`.
    fn skip_regular_string(src: &[u8], mut i: usize) -> Result<usize, ScanError> {
        loop {
            let rest = src.get(i..).ok_or(ScanError::Eof)?;
            let n = memchr::memchr2(b'\\', b'"', rest).ok_or(ScanError::Eof)?;
            if rest[n] == b'"' {
                return Ok(i + n + 1);
            }
            i += n + 2;
        }
    }

    /// Past the closing quote of a verbatim string whose body starts at `i`.
    fn skip_verbatim_string(src: &[u8], mut i: usize) -> Result<usize, ScanError> {
        loop {
            let rest = src.get(i..).ok_or(ScanError::Eof)?;
            let n = memchr::memchr(b'"', rest).ok_or(ScanError::Eof)?;
            if rest.get(n + 1) != Some(&b'"') {
                return Ok(i + n + 1);
            }
            i += n + 2;
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
    pub fn strict(src: &[u8], at: usize) -> Result<usize, ScanError> {
        scan(src, at, false)
    }

    #[cfg(test)]
    pub fn tolerant(src: &[u8], at: usize) -> Result<usize, ScanError> {
        scan(src, at, true)
    }
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
        let mut scanner = Scanner::remembering(s.as_bytes());
        assert_eq!(scanner.strict(0), Err(ScanError::Mismatch(s.len() - 1)));
        let before = steps();
        assert_eq!(scanner.strict(inner), Ok(inner + "@(ok)".len()));
        assert_eq!(steps() - before, 1, "the inner bracket was scanned again");
        // A scan standing in code where the failed one did fails at once, the same way.
        let before = steps();
        assert_eq!(scanner.strict(0), Err(ScanError::Mismatch(s.len() - 1)));
        assert_eq!(steps() - before, 1);
    }

    /// Every `@(` of these sources is scanned once, with one scanner, as the parser does
    /// after each failed scan. A scanner without memory reads the rest of the source each
    /// time: quadratic.
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
            // Each scan opens a string whose quotes are all escaped: it runs to the end.
            "<a b='@(\\\"'/>".repeat(2000),
            // Each scan opens a comment that never closes, or ends at the one line break.
            "<a b=\"@(/*\"/>".repeat(2000),
            format!("{}\n)", "<a b=\"@(//\"/>".repeat(2000)),
            // Char literals swallow the next quote.
            "<a b=\"@(x'\"/>".repeat(2000),
            // Verbatim strings with doubled quotes.
            "<a b='@(@\"\"\"'/>".repeat(2000),
        ];
        for s in sources {
            let mut scanner = Scanner::new(s.as_bytes());
            let before = steps();
            for at in memchr::memchr_iter(b'@', s.as_bytes()) {
                if starts_expression(s.as_bytes(), at) {
                    let _ = scanner.strict(at);
                }
            }
            let taken = steps() - before;
            // The plain scanner may read about 3n before the remembering one takes over
            // (which then reads up to 3n): linear, where no memory at all is quadratic here.
            assert!(
                taken <= 8 * s.len(),
                "{taken} steps for {} bytes of {:?}...",
                s.len(),
                &s[..30]
            );
        }
    }

    /// What a scanner learns never changes an outcome: scanning every expression start with
    /// one scanner, in either order, agrees with a fresh scanner per start.
    #[test]
    fn memory_never_changes_an_outcome() {
        let sources = [
            r#"@(a(b)@(c]@{d}@(e"f)"@(g)@("h)@($"{i(}")@(j/*)*/)@(k//)"#.to_owned() + "\n)",
            "<a>@(x</a><a>@(ok)</a>]@{ [ ( ] }@(\"\\\")\")".to_owned(),
            "@(@(@(x]@{y)}@(z)".to_owned(),
        ];
        for s in sources {
            let b = s.as_bytes();
            let starts: Vec<usize> = (0..b.len()).filter(|&i| starts_expression(b, i)).collect();
            let fresh: Vec<_> = starts.iter().map(|&at| scan_expression(b, at)).collect();
            let mut scanner = Scanner::new(b);
            let forward: Vec<_> = starts.iter().map(|&at| scanner.strict(at)).collect();
            let mut scanner = Scanner::new(b);
            let mut backward: Vec<_> = starts.iter().rev().map(|&at| scanner.strict(at)).collect();
            backward.reverse();
            assert_eq!(forward, fresh, "{s}");
            assert_eq!(backward, fresh, "{s}");
            let tolerant: Vec<_> = starts
                .iter()
                .map(|&at| scanner.tolerant(at, b.len()).0)
                .collect();
            let fresh_tolerant: Vec<_> = starts
                .iter()
                .map(|&at| scan_expression_tolerant(b, at))
                .collect();
            assert_eq!(tolerant, fresh_tolerant, "{s}");
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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// On random C#-ish text, scanning every expression start with one remembering
        /// scanner, in any order, gives what the reference gives for each start alone.
        #[test]
        fn remembering_scanner_agrees_with_the_reference(
            text in proptest::collection::vec(
                proptest::sample::select(&[
                    "@(", "@{", "(", ")", "{", "}", "[", "]", "\"", "'", "\\", "$\"", "@\"",
                    "$@\"", "@$\"", "//", "/*", "*/", "\n", "x", " ", "{{", "\"\"",
                ][..]),
                0..40,
            ),
            order in proptest::collection::vec(proptest::prelude::any::<u16>(), 0..40),
        ) {
            let text = text.concat();
            let b = text.as_bytes();
            let mut starts: Vec<usize> = (0..b.len()).filter(|&i| starts_expression(b, i)).collect();
            // Scan in a shuffled order: what one scan learns must hold for every other.
            for (k, o) in order.iter().enumerate() {
                let n = starts.len();
                if n > 1 {
                    starts.swap(k % n, *o as usize % n);
                }
            }
            // Both the scanner as the parser starts it and one past its plain budget.
            for mut scanner in [Scanner::new(b), Scanner::remembering(b)] {
                for &at in &starts {
                    proptest::prop_assert_eq!(scanner.strict(at), plain::strict(b, at), "strict at {} of {:?}", at, text);
                }
                for &at in &starts {
                    proptest::prop_assert_eq!(scanner.tolerant(at, b.len()).0, plain::tolerant(b, at), "tolerant at {} of {:?}", at, text);
                }
            }
        }
    }
}
