//! Feeds arbitrary bytes to the snapshot parser, split into chunks at positions the input itself
//! chooses, then runs every analysis on whatever parses. Any panic, hang or abort is a bug: bad
//! input must end in an `Error` with a byte offset.
#![no_main]

use hunter::snapshot::{retainer_path, summary, Analysis, Parser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the chunk size, so that splits land everywhere.
    let (split, body) = match data.split_first() {
        Some((&b, rest)) => (1 + b as usize, rest),
        None => (1, data),
    };
    let mut parser = Parser::new();
    for chunk in body.chunks(split) {
        if let Err(error) = parser.feed(chunk) {
            assert!(error.offset().is_some());
            return;
        }
    }
    match parser.finish() {
        Ok(snapshot) => {
            let analysis = Analysis::new(&snapshot);
            let _ = summary(&snapshot, &analysis);
            for n in 0..snapshot.node_count().min(64) {
                let _ = retainer_path(&snapshot, &analysis, n);
            }
        }
        Err(error) => assert!(error.offset().is_some()),
    }
});
