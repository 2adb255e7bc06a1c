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
mod dominators;
mod error;
mod graph;
mod ids;
mod meta;
mod parser;
mod paths;
mod read;
mod sizes;
mod summary;

pub use analysis::{Analysis, BASE_SYSTEM_DISTANCE, NO_DISTANCE};
pub use error::Error;
pub use graph::{AllocationFrame, Edge, EdgeName, HeapSnapshot, Location, TraceNode};
pub use ids::{birth_bucket, new_objects, surviving_objects, IdIndex, IdSet};
pub use parser::Parser;
pub use paths::{edge_label, node_label, retainer_path, retainer_path_edges};
pub use read::read_file;
pub use summary::{class_retained_sizes, summary, ClassSummary};

/// Bit `i` of a bit vector kept in words.
#[inline]
pub(crate) fn bit(bits: &[u64], i: usize) -> bool {
    bits[i >> 6] & (1 << (i & 63)) != 0
}

#[inline]
pub(crate) fn set_bit(bits: &mut [u64], i: usize) {
    bits[i >> 6] |= 1 << (i & 63);
}

#[cfg(test)]
mod tests;

/// Columns a step is done with, kept for a later step that needs one. Memory the process
/// already has is written without page faults; fresh memory costs one per 4 KiB, and on a VM
/// like the one BENCHMARKS.md was measured on, faulting in a column of a few million nodes
/// takes about as long as a pass over it.
#[derive(Default)]
pub(crate) struct SpareColumns(Vec<Vec<u32>>);

impl SpareColumns {
    /// Keeps `column`'s memory for a later `take`.
    pub(crate) fn put(&mut self, column: Vec<u32>) {
        self.0.push(column);
    }
    /// An empty column with room for `n` values: a spare one that has the room, else a new one.
    pub(crate) fn take_empty(&mut self, n: usize) -> Vec<u32> {
        match self.0.iter().position(|c| c.capacity() >= n) {
            Some(i) => {
                let mut column = self.0.swap_remove(i);
                column.clear();
                column
            }
            None => Vec::with_capacity(n),
        }
    }
    /// A column of `n` copies of `value`.
    pub(crate) fn take(&mut self, n: usize, value: u32) -> Vec<u32> {
        let mut column = self.take_empty(n);
        column.resize(n, value);
        column
    }
}

/// FxHash: the engine hashes small integer keys by the million; SipHash's DoS resistance buys
/// nothing here.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(i as u64);
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub(crate) type FastMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;

/// When the first [`Timings`] started: each lap also says when it ended, counted from there.
static FIRST_TIMING: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Phase timings on stderr when `HUNTER_TIMINGS` is set (for benchmarks; costs nothing otherwise).
pub(crate) struct Timings {
    last: Option<std::time::Instant>,
}

impl Timings {
    pub(crate) fn start() -> Self {
        let on = std::env::var_os("HUNTER_TIMINGS").is_some();
        if on {
            FIRST_TIMING.get_or_init(std::time::Instant::now);
        }
        Self {
            last: on.then(std::time::Instant::now),
        }
    }
    pub(crate) fn lap(&mut self, what: &str) {
        if let Some(last) = self.last {
            let now = std::time::Instant::now();
            // Resident and peak memory so far (Linux), to see which phase sets the peak.
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            let field = |name: &str| {
                status
                    .lines()
                    .find(|l| l.starts_with(name))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<u64>().ok())
                    .map_or(0, |kb| kb / 1024)
            };
            eprintln!(
                "hunter: {:>7.1} ms at {:>6.1} ms  {what} (RSS {} MB, peak {} MB)",
                (now - last).as_secs_f64() * 1e3,
                (now - *FIRST_TIMING.get_or_init(|| now)).as_secs_f64() * 1e3,
                field("VmRSS:"),
                field("VmHWM:")
            );
            self.last = Some(now);
        }
    }
}
