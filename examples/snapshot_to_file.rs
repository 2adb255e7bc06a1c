//! Drives a real Node process over CDP with the `cdp` crate: evaluates an expression, prints
//! `Runtime.getHeapUsage`, and streams a heap snapshot to a file Chrome DevTools opens
//! (Memory tab → Load).
//!
//! ```text
//! cargo run --release --example snapshot_to_file -- [output.heapsnapshot]
//! ```

#[path = "support/launch.rs"]
mod launch;

use cdp::protocol::runtime::GetHeapUsage;
use cdp::{SnapshotEvent, TakeHeapSnapshot};
use futures::StreamExt;
use tokio::io::AsyncWriteExt;

/// A small program with something worth looking at in its heap.
const TARGET: &str = r#"
class Order {
  constructor(id) {
    this.id = id;
    this.customer = 'customer-' + (id % 100);
    this.lines = Array.from({ length: 5 }, (_, i) => ({ sku: 'sku-' + i, quantity: i + 1 }));
  }
}
globalThis.orders = Array.from({ length: 20000 }, (_, i) => new Order(i));
setInterval(() => {}, 1 << 30);
globalThis.ready = true;
"#;

#[tokio::main]
async fn main() {
    let output = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "example.heapsnapshot".to_string());
    // Ctrl-C still drops (and so kills) node.
    let outcome = tokio::select! {
        outcome = run(&output) => outcome,
        _ = tokio::signal::ctrl_c() => Err("interrupted".into()),
    };
    if let Err(error) = outcome {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

async fn run(output: &str) -> Result<(), Box<dyn std::error::Error>> {
    let (mut node, session) = launch::launch(TARGET).await?;

    let expression = "orders.length + ' orders, first customer ' + orders[0].customer";
    let value = session.evaluate(expression).await?;
    println!("evaluate `{expression}` = {value}");

    let usage = session.call(&GetHeapUsage {}).await?;
    println!(
        "heap usage: {:.1} MB used of {:.1} MB",
        usage.used_size / 1e6,
        usage.total_size / 1e6
    );

    let mut file = tokio::fs::File::create(output)
        .await
        .map_err(|e| format!("cannot create {output}: {e}"))?;
    let mut snapshot = session.heap_snapshot(TakeHeapSnapshot {
        report_progress: true,
        ..TakeHeapSnapshot::default()
    });
    let mut written = 0usize;
    let mut next_report = 0;
    while let Some(event) = snapshot.next().await {
        match event? {
            SnapshotEvent::Chunk(chunk) => {
                file.write_all(chunk.as_bytes())
                    .await
                    .map_err(|e| format!("cannot write {output}: {e}"))?;
                written += chunk.len();
            }
            SnapshotEvent::Progress { done, total, .. } if total > 0 => {
                let percent = done * 100 / total;
                if percent >= next_report {
                    println!("building snapshot: {percent}%");
                    next_report = percent + 25;
                }
            }
            SnapshotEvent::Progress { .. } => {}
        }
    }
    file.flush()
        .await
        .map_err(|e| format!("cannot write {output}: {e}"))?;
    println!(
        "wrote {output}: {:.1} MB (open it in Chrome DevTools: Memory → Load)",
        written as f64 / 1e6
    );

    session.disconnect().await;
    node.kill().await?;
    Ok(())
}
