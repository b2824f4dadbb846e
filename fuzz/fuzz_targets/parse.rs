//! Arbitrary bytes never make the parser panic, and whatever it accepts it prints back byte
//! for byte, with a tree that tiles the source. Errors point inside the input.
#![no_main]

use apimfix::syntax::{Limits, parse_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_bytes(data.to_vec(), &Limits::default()) {
        Ok(doc) => {
            assert_eq!(doc.print().as_bytes(), data, "print() differs from the input");
            if let Err(e) = doc.check_tiling() {
                panic!("tiling: {e}");
            }
            for e in doc.expressions() {
                assert!(e.range.end() <= data.len(), "expression {:?} out of bounds", e.range);
            }
        }
        Err(e) => {
            assert!(e.range.end() <= data.len(), "error {:?} out of bounds", e.range);
            if let Some((related, _)) = e.related {
                assert!(related.end() <= data.len(), "related {related:?} out of bounds");
            }
        }
    }
});
