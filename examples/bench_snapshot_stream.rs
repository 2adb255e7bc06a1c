//! Benchmark for BENCHMARKS.md (CDP section): streams heap snapshots of a Node process with a
//! heap of the given size through `cdp` into a file, and compares the wall time with the same
//! process writing the snapshot itself with `v8.writeHeapSnapshot()`. Runs alternate (stream,
//! write, stream, write, …) after an untimed warm-up snapshot, to cancel the machine's noise.
//!
//! ```text
//! cargo run --release --example bench_snapshot_stream -- [heap MB, default 200] [rounds, default 3]
//! ```

#[path = "support/launch.rs"]
mod launch;

use std::time::{Duration, Instant};

use cdp::TakeHeapSnapshot;

const TARGET: &str = r#"
globalThis.keep = [];
globalThis.grow = (mb) => {
  while (process.memoryUsage().heapUsed < mb * 1e6) {
    for (let i = 0; i < 10000; i++) {
      const n = keep.length;
      keep.push({ id: n, name: 'item-' + n, tags: [n & 7, n & 15] });
    }
  }
  return process.memoryUsage().heapUsed;
};
setInterval(() => {}, 1 << 30);
globalThis.ready = true;
"#;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let heap_mb: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    if let Err(error) = run(heap_mb, rounds).await {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

/// CPU seconds a process (`self` or a pid) has used so far, all threads, user + system.
fn cpu_seconds(process: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{process}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let after_name = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

async fn run(heap_mb: u64, rounds: usize) -> Result<(), Box<dyn std::error::Error>> {
    let (mut node, session) = launch::launch(TARGET).await?;
    let node_pid = node.id().ok_or("node has no pid")?.to_string();
    let used = session.evaluate(&format!("grow({heap_mb})")).await?;
    println!(
        "node heap used: {:.0} MB",
        used.as_f64().unwrap_or_default() / 1e6
    );
    let dir = tempfile::tempdir()?;
    // The process's first snapshot is slower (V8 sets up its snapshot machinery, the heap
    // grows): take one untimed so neither method pays for it.
    let warm_up = dir.path().join("warm-up.heapsnapshot");
    let mut file = tokio::fs::File::create(&warm_up).await?;
    session
        .heap_snapshot(TakeHeapSnapshot::default())
        .write_to(&mut file)
        .await?;
    drop(file);
    std::fs::remove_file(&warm_up)?;
    let mut stream_times = Vec::new();
    let mut write_times = Vec::new();
    for round in 0..rounds {
        let streamed = dir.path().join(format!("streamed-{round}.heapsnapshot"));
        let (client_before, node_before) = (cpu_seconds("self"), cpu_seconds(&node_pid));
        let start = Instant::now();
        let mut file = tokio::fs::File::create(&streamed).await?;
        let bytes = session
            .heap_snapshot(TakeHeapSnapshot::default())
            .write_to(&mut file)
            .await?;
        drop(file);
        let elapsed = start.elapsed();
        let client_cpu = cpu_seconds("self") - client_before;
        let node_cpu = cpu_seconds(&node_pid) - node_before;
        println!(
            "round {round}: stream through cdp  {:6.2} s  {:7.1} MB  {:5.1} MB/s  node CPU {node_cpu:6.2} s  client CPU {client_cpu:.2} s",
            elapsed.as_secs_f64(),
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / elapsed.as_secs_f64()
        );
        stream_times.push(elapsed);
        std::fs::remove_file(&streamed)?;

        let written = dir.path().join(format!("written-{round}.heapsnapshot"));
        let node_before = cpu_seconds(&node_pid);
        let start = Instant::now();
        session
            .evaluate(&format!(
                "require('v8').writeHeapSnapshot({})",
                serde_json::to_string(&written.to_string_lossy())?
            ))
            .await?;
        let elapsed = start.elapsed();
        let node_cpu = cpu_seconds(&node_pid) - node_before;
        let bytes = std::fs::metadata(&written)?.len();
        println!(
            "round {round}: v8.writeHeapSnapshot {:6.2} s  {:7.1} MB  {:5.1} MB/s  node CPU {node_cpu:6.2} s",
            elapsed.as_secs_f64(),
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / elapsed.as_secs_f64()
        );
        write_times.push(elapsed);
        std::fs::remove_file(&written)?;
    }
    let total = |times: &[Duration]| times.iter().map(Duration::as_secs_f64).sum::<f64>();
    println!(
        "ratio stream / write (total wall time over {rounds} rounds): {:.3}",
        total(&stream_times) / total(&write_times)
    );
    session.disconnect().await;
    node.kill().await?;
    Ok(())
}
