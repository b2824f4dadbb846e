//! The fuzz target's property on stable Rust, so it runs in CI: a few thousand deterministic
//! mutations of the fixtures never make the parser panic; whatever parses prints back byte
//! for byte and tiles; errors point inside the input. See `fuzz/README.md` for real fuzzing.

use crate::syntax_support::{check_lossless, fixtures};
use apimfix::syntax::{Limits, parse_bytes};

/// xorshift64*: tiny, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Tokens that change how the parser reads what follows them.
const TOKENS: &[&[u8]] = &[
    b"<",
    b">",
    b"/>",
    b"</",
    b"\"",
    b"'",
    b"=",
    b"@(",
    b"@{",
    b"(",
    b")",
    b"{",
    b"}",
    b"[",
    b"]",
    b"<!--",
    b"-->",
    b"<![CDATA[",
    b"]]>",
    b"<?",
    b"?>",
    b"<!DOCTYPE x>",
    b"&quot;",
    b"&lt;",
    b"&amp;",
    b"$\"",
    b"@\"",
    b"//",
    b"/*",
    b"*/",
    b"\\",
    b"\r\n",
    b"\n",
    b"\t",
    b" ",
    b"\0",
    b"\xFF",
    b"\xC3",
    b"\xEF\xBB\xBF",
    b"<policies>",
    b"</policies>",
    b"<a b=\"",
];

fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    let len = input.len();
    match rng.below(6) {
        0 if len > 0 => {
            let at = rng.below(len);
            input[at] = rng.next() as u8;
        }
        1 | 2 => {
            let at = rng.below(len + 1);
            let token = TOKENS[rng.below(TOKENS.len())];
            input.splice(at..at, token.iter().copied());
        }
        3 if len > 0 => {
            let at = rng.below(len);
            let end = (at + 1 + rng.below(16)).min(len);
            input.drain(at..end);
        }
        4 if len > 0 => {
            let at = rng.below(len);
            let end = (at + 1 + rng.below(64)).min(len);
            let copy = input[at..end].to_vec();
            let to = rng.below(len + 1);
            input.splice(to..to, copy);
        }
        _ => input.truncate(rng.below(len + 1)),
    }
}

/// The fuzz target's assertions (`fuzz/fuzz_targets/parse.rs`), plus those every parsed
/// document must pass in the other tests.
fn check(input: &[u8]) -> Result<bool, String> {
    match parse_bytes(input.to_vec(), &Limits::default()) {
        Ok(doc) => {
            check_lossless(&doc, input)?;
            Ok(true)
        }
        Err(e) => {
            if e.range.end() > input.len() {
                return Err(format!("error range {:?} out of bounds", e.range));
            }
            if let Some((related, _)) = &e.related
                && related.end() > input.len()
            {
                return Err(format!("related range {related:?} out of bounds"));
            }
            if e.message.is_empty() {
                return Err(format!("{:?} without a message", e.kind));
            }
            Ok(false)
        }
    }
}

#[test]
fn mutated_fixtures_never_panic_and_round_trip_when_they_parse() {
    let mut seeds = fixtures();
    seeds.push((
        "small".to_owned(),
        b"<policies><inbound><set-variable name=\"a\" value=\"@(f(\"x\"))\" /><value>@{ return 1; }</value></inbound></policies>".to_vec(),
    ));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut parsed, mut rejected) = (0, 0);
    let rounds = 4000 / seeds.len() + 1;
    for (name, seed) in &seeds {
        for round in 0..rounds {
            let mut input = seed.clone();
            for _ in 0..1 + rng.below(4) {
                mutate(&mut rng, &mut input);
            }
            let outcome = std::panic::catch_unwind(|| check(&input));
            match outcome {
                Ok(Ok(true)) => parsed += 1,
                Ok(Ok(false)) => rejected += 1,
                Ok(Err(e)) => panic!(
                    "{name}, round {round}: {e}\ninput: {:?}",
                    String::from_utf8_lossy(&input)
                ),
                Err(_) => panic!(
                    "{name}, round {round}: the parser panicked on {:?}",
                    String::from_utf8_lossy(&input)
                ),
            }
        }
    }
    println!("{parsed} mutants parsed, {rejected} rejected");
    // Both outcomes must be common, or the mutations test one path only.
    let total = parsed + rejected;
    assert!(total >= 4000, "{total} mutants");
    assert!(
        parsed * 10 >= total,
        "only {parsed} of {total} mutants parsed"
    );
    assert!(
        rejected * 10 >= total,
        "only {rejected} of {total} mutants were rejected"
    );
}
