//! Collections that keep growing: Arrays, Maps and Sets whose number of entries grows in every
//! measured iteration, even when no new object shows up by count.
//!
//! Most sizes are read from the snapshot itself: a Map's or Set's hash table has an edge per
//! key and value, an array of objects an element edge per element. An array of small integers
//! or doubles has neither (its elements live unboxed in one backing store that V8 grows in
//! steps), so the hunt reads the lengths of those in the target (see `hunt::collections`).

use std::collections::HashMap;

use crate::snapshot::{EdgeName, HeapSnapshot};

/// Collections smaller than this are not followed: every leak worth reporting passes it within
/// a few iterations, and skipping the many tiny ones keeps the series small.
pub const MIN_ENTRIES: u64 = 8;

/// How a followed collection is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CollectionId {
    /// By its heap snapshot id (sizes read from snapshots).
    Heap(u64),
    /// By its index in the target's registry of arrays of numbers (lengths read in the target).
    NumberArray(u64),
}

/// A collection that grew in every measured iteration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrowingCollection {
    pub id: CollectionId,
    /// `Array`, `Map` or `Set`.
    pub kind: String,
    /// Entries at the baseline and after each measured iteration.
    pub sizes: Vec<u64>,
}

/// Collection sizes of one heap at each iteration boundary.
#[derive(Debug, Default)]
pub struct CollectionTracker {
    /// collection → (kind, entries at each boundary where it was seen)
    series: HashMap<CollectionId, (String, Vec<Option<u64>>)>,
    boundaries: usize,
}

impl CollectionTracker {
    pub fn new() -> CollectionTracker {
        CollectionTracker::default()
    }

    /// Records one boundary: the sizes the snapshot shows, and the lengths of the arrays of
    /// numbers read in the target (registry index, length). The first call is the baseline.
    pub fn observe(&mut self, snapshot: &HeapSnapshot, number_arrays: &[(u64, u64)]) {
        let boundary = self.boundaries;
        self.boundaries += 1;
        let mut record = |id: CollectionId, kind: &str, entries: u64| {
            if entries < MIN_ENTRIES {
                return;
            }
            let (_, sizes) = self
                .series
                .entry(id)
                .or_insert_with(|| (kind.to_owned(), Vec::new()));
            sizes.resize(boundary, None);
            sizes.push(Some(entries));
        };
        for node in 0..snapshot.node_count() {
            if snapshot.node_type_name(node) != "object" {
                continue;
            }
            let kind = snapshot.node_name(node);
            let entries = match kind {
                "Array" => snapshot
                    .edges(node)
                    .filter(|edge| edge.kind == "element")
                    .count() as u64,
                // A hash table has an edge per key and per value (Map) or per key (Set), plus
                // one to its own map; keys and values that are small integers have none.
                "Map" => table_edges(snapshot, node) / 2,
                "Set" => table_edges(snapshot, node).saturating_sub(1),
                _ => continue,
            };
            record(CollectionId::Heap(snapshot.node_id(node)), kind, entries);
        }
        for &(index, length) in number_arrays {
            record(CollectionId::NumberArray(index), "Array", length);
        }
    }

    /// Collections seen at every boundary whose size grew at each step, largest growth first.
    pub fn growing(&self) -> Vec<GrowingCollection> {
        if self.boundaries < 3 {
            return Vec::new();
        }
        let mut growing: Vec<GrowingCollection> = self
            .series
            .iter()
            .filter_map(|(&id, (kind, sizes))| {
                if sizes.len() != self.boundaries {
                    return None;
                }
                let sizes: Vec<u64> = sizes.iter().copied().collect::<Option<_>>()?;
                sizes
                    .windows(2)
                    .all(|pair| pair[1] > pair[0])
                    .then(|| GrowingCollection {
                        id,
                        kind: kind.clone(),
                        sizes,
                    })
            })
            .collect();
        growing.sort_by_key(|c| {
            (
                std::cmp::Reverse(c.sizes[c.sizes.len() - 1] - c.sizes[0]),
                c.id,
            )
        });
        growing
    }
}

fn table_edges(snapshot: &HeapSnapshot, node: u32) -> u64 {
    snapshot
        .edges(node)
        .find(|edge| edge.kind == "internal" && edge.name == EdgeName::Name("table"))
        .map(|table| snapshot.edge_count_of(table.target) as u64)
        .unwrap_or(0)
}
