//! The heap snapshot engine: streams a V8 `.heapsnapshot` into compact columns and computes what
//! Chrome DevTools computes from it — class names, the Summary view, dominators and retained
//! sizes, distances and retainer paths — plus id helpers for comparing snapshots of one process.
//!
//! Conventions:
//! - A node is named by its *ordinal*, a `u32` in `0..node_count()` (its position in the
//!   snapshot's `nodes` array divided by the node field count); edges likewise by edge ordinal.
//! - The layout (`node_fields`, `node_types`, `edge_fields`, `edge_types`) is read from
//!   `snapshot.meta` at run time.
//! - Sizes are `u64`; no byte offset or count is 32-bit where a file over 4 GiB would overflow.
//!
//! ```no_run
//! use hunter::snapshot;
//! let snap = snapshot::read_file(std::path::Path::new("heap.heapsnapshot"))?;
//! let analysis = snapshot::Analysis::new(&snap);
//! for row in snapshot::summary(&snap, &analysis).iter().take(10) {
//!     println!("{} {} {} {}", row.name, row.count, row.self_bytes, row.retained_bytes);
//! }
//! # Ok::<(), snapshot::Error>(())
//! ```

mod analysis;
mod classes;
mod error;
mod graph;
mod ids;
mod meta;
mod parser;
mod paths;
mod read;
mod summary;

pub use analysis::{Analysis, BASE_SYSTEM_DISTANCE, NO_DISTANCE};
pub use error::Error;
pub use graph::{AllocationFrame, Edge, EdgeName, HeapSnapshot, Location, TraceNode};
pub use ids::{birth_bucket, new_objects, surviving_objects, IdIndex, IdSet};
pub use parser::Parser;
pub use paths::{edge_label, node_label, retainer_path, retainer_path_edges};
pub use read::read_file;
pub use summary::{class_retained_sizes, summary, ClassSummary};

#[cfg(test)]
mod tests;
