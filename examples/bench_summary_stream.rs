//! Benchmark for BENCHMARKS.md (snapshot engine section): feeds a snapshot file to the parser in
//! 100 KB chunks at the pace V8 writes them over CDP (default 15 MB/s), as a hunt does, and
//! reports how long after the last chunk the summary is ready (parse finish, class names,
//! dominators, retained sizes, summary) — the latency a hunt pays per snapshot — and whether the
//! parser kept up with the stream.
//!
//! ```text
//! cargo run --release --example bench_summary_stream -- FILE [MB/s, default 15] [chunk KB, default 100]
//! ```

use std::time::{Duration, Instant};

use hunter::snapshot::{summary, Analysis, Parser};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(file) = args.next() else {
        eprintln!("usage: bench_summary_stream FILE [MB/s] [chunk KB]");
        std::process::exit(2);
    };
    let rate: f64 = args
        .next()
        .map(|a| a.parse().expect("MB/s"))
        .unwrap_or(15.0);
    let chunk: usize = args
        .next()
        .map(|a| a.parse().expect("chunk KB"))
        .unwrap_or(100)
        * 1000;
    let bytes = std::fs::read(&file).expect("read the snapshot");
    let mut parser = Parser::new();
    let start = Instant::now();
    let mut behind = Duration::ZERO;
    for (k, piece) in bytes.chunks(chunk).enumerate() {
        // Chunk k arrives once (k + 1) chunks' worth of bytes have been "written" by V8.
        let due = Duration::from_secs_f64(((k * chunk + piece.len()) as f64) / (rate * 1e6));
        let now = start.elapsed();
        if now < due {
            std::thread::sleep(due - now);
        } else {
            behind = behind.max(now - due);
        }
        parser.feed(piece).expect("valid snapshot");
    }
    let last_chunk = Instant::now();
    let snapshot = parser.finish().expect("valid snapshot");
    let finished = last_chunk.elapsed();
    let analysis = Analysis::new(&snapshot);
    let rows = summary(&snapshot, &analysis);
    let done = last_chunk.elapsed();
    println!(
        "{file}: {:.1} MB at {rate} MB/s in {} KB chunks: stream {:.1} s, parser at most {:.0} ms behind; \
         after the last chunk: snapshot {:.0} ms, summary ready {:.0} ms ({} nodes, {} classes)",
        bytes.len() as f64 / 1e6,
        chunk / 1000,
        start.elapsed().as_secs_f64() - done.as_secs_f64(),
        behind.as_secs_f64() * 1e3,
        finished.as_secs_f64() * 1e3,
        done.as_secs_f64() * 1e3,
        snapshot.node_count(),
        rows.len()
    );
}
